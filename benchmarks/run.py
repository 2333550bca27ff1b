"""Benchmark the template: bake, install, run the pipeline, and do the same work by hand.

    make bench                      # from the template repo root
    python benchmarks/run.py --help # the knobs (repeats, rounds, epochs)

One run bakes the default bot into a temporary folder and measures:

- the bake (`cookiecutter --no-input`, hooks included), median of --bake-repeats;
- `make install` cold (empty uv cache: downloads from PyPI), warm (uv cache, new environments)
  and no-op;
- `dvc repro` from a clean state (no dvc.lock, no DVC cache, no `.rasa` cache), and the same
  work by hand (`rasa train` + `rasa test` in a copy of the project with its own empty `.rasa`),
  interleaved A-B-B-A over --rounds so drifting load on a shared machine hits both sides alike;
- a no-op `dvc repro`, a change to the stories only and a change to the test stories only.

Wall time is what the goals are judged on; CPU time (user + sys of the whole process tree)
is shown next to it because it hardly moves when other jobs share the cores.
The table goes to stdout and benchmarks/results/latest.md; raw samples to latest.json;
every command's output to benchmarks/results/logs/. Standard library only.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]
RESULTS = TEMPLATE / "benchmarks" / "results"
SLUG = "rasa-assistant"
BOT_ENV, DVC_ENV = ".venv", ".venv-dvc"
RASA, DVC = f"{BOT_ENV}/bin/rasa", f"{DVC_ENV}/bin/dvc"

QUIET_ENV = {
    "RASA_TELEMETRY_ENABLED": "false",
    "DVC_NO_ANALYTICS": "1",
    "ITERATIVE_DO_NOT_TRACK": "true",
    "UV_PYTHON_DOWNLOADS": "never",
    # DVC prints "Running stage" through a pipe: unbuffered, so each line is timed when it happens.
    "PYTHONUNBUFFERED": "1",
}
# A parent `make bench` must not leak its job server or flags into the bot's own `make install`.
DROPPED_ENV = (
    "MAKEFLAGS",
    "MFLAGS",
    "MAKELEVEL",
    "VIRTUAL_ENV",
    "RASA_CACHE_DIRECTORY",
    "UV_CACHE_DIR",
)

# The hand-run: what a user types without the pipeline, on the same split and config the pipeline
# uses (written untimed into a scratch copy), so both do the same training and testing work.
HAND_TRAIN = [
    RASA,
    "train",
    "--data",
    "split/train.yml",
    "data/rules.yml",
    "data/stories.yml",
    "--config",
    "models/config.yml",
    "--domain",
    "domain.yml",
    "--out",
    "models",
    "--fixed-model-name",
    "model",
]
HAND_TEST = [
    RASA,
    "test",
    "--model",
    "models/model.tar.gz",
    "--stories",
    "tests",
    "--nlu",
    "split/test.yml",
    "--out",
    "results",
    "--successes",
]

# Appended for the incremental runs; the n-th copy differs from the others so Rasa sees new data.
STORY = """
  - story: benchmark story {n}
    steps:
      - intent: greet
      - action: utter_greet
{repeats}      - intent: goodbye
      - action: utter_goodbye
"""
STORY_REPEAT = "      - intent: mood_great\n      - action: utter_happy\n"
TEST_STORY = """
  - story: benchmark test story {n}
    steps:
      - user: |
          hello
        intent: greet
      - action: utter_greet
      - user: |
          bye
        intent: goodbye
      - action: utter_goodbye
"""

STAGE_START = re.compile(r"^Running stage '([^']+)'")
STAGE_END = re.compile(r"^(Updating|Generating) lock file")
RASA_COMPONENT = re.compile(r"(Restored|Finished training) component '([^']+)'")


class BenchError(Exception):
    pass


@dataclass
class Run:
    wall: float
    cpu: float
    lines: list = field(default_factory=list)  # (seconds since start, text)


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
    env.update(QUIET_ENV)
    env.update(extra)
    return env


def run(args, cwd, log, env=None):
    """Run a program, stream and time its merged output; wall and CPU time of its whole tree."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [str(a) for a in args],
        cwd=cwd,
        env=env or clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    )
    lines = [(time.perf_counter() - start, line.rstrip("\n")) for line in proc.stdout]
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stdout.close()
    log_path = RESULTS / "logs" / f"{log}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_text(
        f"$ {' '.join(map(str, args))}\n# cwd {cwd}\n"
        + "".join(f"[{t:8.2f}] {text}\n" for t, text in lines)
        + f"# exit {proc.returncode}, wall {wall:.2f} s\n"
    )
    if proc.returncode != 0:
        tail = "\n".join(text for _, text in lines[-25:])
        raise BenchError(
            f"{' '.join(map(str, args))} exited {proc.returncode} in {cwd} "
            f"(full output: {log_path})\n{tail}"
        )
    return Run(wall, usage.ru_utime + usage.ru_stime, lines)


def output(args, cwd=None):
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=clean_env(), capture_output=True, text=True, check=True
    ).stdout.strip()


def stages(result):
    """Per-stage wall time of a `dvc repro`, from 'Running stage' to DVC's lock-file update."""
    times, current = {}, None
    for t, text in result.lines:
        if match := STAGE_START.match(text):
            current = (match.group(1), t)
        elif current and STAGE_END.match(text):
            times[current[0]] = t - current[1]
            current = None
    if current:
        times[current[0]] = result.wall - current[1]
    return times


def components(result):
    restored = [
        m.group(2)
        for _, text in result.lines
        if (m := RASA_COMPONENT.search(text)) and m.group(1) == "Restored"
    ]
    trained = [
        m.group(2)
        for _, text in result.lines
        if (m := RASA_COMPONENT.search(text)) and m.group(1) != "Restored"
    ]
    return restored, trained


def median(values):
    return statistics.median(values) if values else float("nan")


def seconds(value):
    if value < 1:
        return f"{value:.2f} s"
    return f"{value:.1f} s" if value < 100 else f"{value:.0f} s"


def spread(runs, cpu=True):
    """'12.3 s (CPU 10.1 s; 11.9-13.0, n=3)' for a list of Runs."""
    walls = [r.wall for r in runs]
    text = seconds(median(walls))
    details = []
    if cpu:
        details.append(f"CPU {seconds(median([r.cpu for r in runs]))}")
    if len(runs) > 1:
        details.append(f"{min(walls):.1f}-{max(walls):.1f}, n={len(runs)}")
    return f"{text} ({'; '.join(details)})" if details else text


class Bench:
    def __init__(self, options, workdir):
        self.o = options
        self.work = workdir
        self.project = None
        self.runs = {}  # name -> [Run]
        self.alone = {}  # stage -> Run of its commands without DVC (--breakdown)

    def record(self, name, result):
        self.runs.setdefault(name, []).append(result)
        print(f"  {name}: {result.wall:.1f} s wall, {result.cpu:.1f} s CPU", flush=True)
        return result

    # --- phases -------------------------------------------------------------------------------

    def bake(self):
        print(f"bake x{self.o.bake_repeats}", flush=True)
        for i in range(self.o.bake_repeats):
            out = self.work / f"bake-{i}"
            result = run(
                ["cookiecutter", "--no-input", TEMPLATE, "-o", out], self.work, f"bake-{i}"
            )
            self.record("bake", result)
            if i == 0:
                self.project = out / SLUG
            else:
                shutil.rmtree(out)
        if self.o.epochs:
            params = self.project / "params.yaml"
            text = re.sub(r"(?m)^(\s*epochs:) \d+", rf"\g<1> {self.o.epochs}", params.read_text())
            params.write_text(text)

    def install(self):
        def remove_envs():
            for name in (BOT_ENV, DVC_ENV):
                shutil.rmtree(self.project / name, ignore_errors=True)

        make = ["make", "--no-print-directory", "install"]
        if not self.o.skip_cold:
            print("make install, cold uv cache", flush=True)
            cold_cache = self.work / "uv-cache-cold"
            remove_envs()
            self.record(
                "install_cold",
                run(make, self.project, "install-cold", clean_env(UV_CACHE_DIR=str(cold_cache))),
            )
            remove_envs()  # its files are links into the cold cache
            shutil.rmtree(cold_cache)
        print(f"make install, warm uv cache x{self.o.install_repeats}", flush=True)
        for i in range(self.o.install_repeats):
            remove_envs()
            self.record("install_warm", run(make, self.project, f"install-warm-{i}"))
        print(f"make install, no-op x{self.o.install_repeats}", flush=True)
        for i in range(self.o.install_repeats):
            self.record("install_noop", run(make, self.project, f"install-noop-{i}"))

    def first_import(self):
        """The first Rasa start after `make install` (which compiles the .pyc files itself)."""
        print("first Rasa import after install", flush=True)
        code = "import rasa.model_training, rasa.model_testing, rasa.nlu.test, rasa.core.test"
        self.record(
            "first_import", run([f"{BOT_ENV}/bin/python", "-c", code], self.project, "first-import")
        )

    def reset_pipeline(self):
        """Back to the state right after the bake: no dvc.lock, outputs, DVC cache or .rasa."""
        output(["git", "clean", "-fdxq", "-e", f"/{BOT_ENV}/", "-e", f"/{DVC_ENV}/"], self.project)

    def pipeline_full(self, i):
        self.reset_pipeline()
        result = run([DVC, "repro"], self.project, f"repro-full-{i}")
        self.record("repro_full", result)

    def scratch_copy(self, name):
        """The project's tracked files in a new folder, sharing the bot environment."""
        copy = self.work / name
        shutil.rmtree(copy, ignore_errors=True)
        for rel in output(["git", "ls-files"], self.project).splitlines():
            (copy / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(self.project / rel, copy / rel)
        (copy / BOT_ENV).symlink_to(self.project / BOT_ENV)
        # The split and the merged config, as the pipeline writes them (not timed).
        run([f"{BOT_ENV}/bin/python", "-m", "pipeline.split"], copy, "hand-split")
        run([f"{BOT_ENV}/bin/python", "-m", "pipeline.rasa_config", "merge"], copy, "hand-config")
        return copy

    def hand(self, i):
        copy = self.scratch_copy(f"hand-{i}")
        train = run(HAND_TRAIN, copy, f"hand-train-{i}")
        test = run(HAND_TEST, copy, f"hand-test-{i}")
        self.runs.setdefault("hand_train", []).append(train)
        self.runs.setdefault("hand_test", []).append(test)
        self.record("hand", Run(train.wall + test.wall, train.cpu + test.cpu))
        shutil.rmtree(copy)

    def full_vs_hand(self):
        print(f"full dvc repro vs by hand, {self.o.rounds} interleaved rounds", flush=True)
        for i in range(self.o.rounds):
            order = (
                (self.pipeline_full, self.hand) if i % 2 == 0 else (self.hand, self.pipeline_full)
            )
            for step in order:
                step(i)
        if not self.runs.get("repro_full"):  # --rounds 0: the later steps need a trained project
            self.pipeline_full("setup")
            self.runs.pop("repro_full")

    def noop(self):
        print(f"no-op dvc repro x{self.o.noop_repeats}", flush=True)
        for i in range(self.o.noop_repeats):
            self.record("repro_noop", run([DVC, "repro"], self.project, f"repro-noop-{i}"))

    def incremental(self):
        print(f"stories-only change x{self.o.change_repeats}", flush=True)
        for i in range(self.o.change_repeats):
            with open(self.project / "data" / "stories.yml", "a") as stories:
                stories.write(STORY.format(n=i + 1, repeats=STORY_REPEAT * (i + 1)))
            self.record("repro_stories", run([DVC, "repro"], self.project, f"repro-stories-{i}"))
        print(f"test-stories-only change x{self.o.change_repeats}", flush=True)
        for i in range(self.o.change_repeats):
            with open(self.project / "tests" / "test_stories.yml", "a") as stories:
                stories.write(TEST_STORY.format(n=i + 1))
            self.record(
                "repro_test_stories", run([DVC, "repro"], self.project, f"repro-test-stories-{i}")
            )

    def breakdown(self):
        """Runs the commands of the last full repro without DVC, in a copy with an empty .rasa."""
        print("pipeline commands without DVC", flush=True)
        commands, current = [], None
        for _, text in self.runs["repro_full"][-1].lines:
            if match := STAGE_START.match(text):
                current = match.group(1)
            elif STAGE_END.match(text):
                current = None
            elif current and text.startswith("> "):
                commands.append((current, text[2:]))
        copy = self.scratch_copy("breakdown")
        shell = os.environ.get("SHELL", "/bin/sh")  # what DVC runs stage commands with
        for n, (stage, command) in enumerate(commands):
            result = run([shell, "-c", command], copy, f"alone-{n}-{stage}")
            previous = self.alone.get(stage)
            if previous:
                result = Run(previous.wall + result.wall, previous.cpu + result.cpu)
            self.alone[stage] = result
        for stage, result in self.alone.items():
            print(f"  {stage}: {result.wall:.1f} s wall, {result.cpu:.1f} s CPU", flush=True)
        shutil.rmtree(copy)

    def machine(self):
        project = self.project
        cpu_model = ""
        if Path("/proc/cpuinfo").exists():
            found = re.search(r"(?m)^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text())
            cpu_model = found.group(1) if found else ""
        commit = output(["git", "rev-parse", "--short", "HEAD"], TEMPLATE)
        dirty = output(["git", "status", "--porcelain", "--untracked-files=no"], TEMPLATE)
        return {
            "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "template": commit + (" (with uncommitted changes)" if dirty else ""),
            "nproc": len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity")
            else os.cpu_count(),
            "cpu": cpu_model,
            "os": platform.platform(),
            "python (tools)": platform.python_version(),
            "python (bot env)": output([f"{BOT_ENV}/bin/python", "--version"], project).split()[-1],
            "rasa": output(
                [
                    f"{BOT_ENV}/bin/python",
                    "-c",
                    "import importlib.metadata as m; print(m.version('rasa'))",
                ],
                project,
            ),
            "dvc": output([DVC, "--version"], project),
            "uv": output(["uv", "--version"]).split()[1],
            "cookiecutter": output(["cookiecutter", "--version"]).split()[1],
        }

    # --- report -------------------------------------------------------------------------------

    def report(self, machine, load_start, load_end, total):
        r = self.runs
        lines = []

        def row(measurement, value, goal="", ok=""):
            lines.append(f"| {measurement} | {value} | {goal} | {ok} |")

        def verdict(passed):
            return "yes" if passed else "**no**"

        lines += ["| measurement | value | goal | ok? |", "| --- | --- | --- | --- |"]
        bake = median([x.wall for x in r["bake"]])
        row(
            "bake: `cookiecutter --no-input` (hooks: git init, dvc init, first commit)",
            spread(r["bake"]),
            "< 5 s",
            verdict(bake < 5),
        )
        if "install_cold" in r:
            row(
                "`make install`, cold (empty uv cache, downloads from PyPI)",
                spread(r["install_cold"]),
            )
        row("`make install`, warm (uv cache, both environments new)", spread(r["install_warm"]))
        row("`make install`, no-op", spread(r["install_noop"]))
        row(
            "first Rasa import after `make install` (.pyc compiled by the install)",
            spread(r["first_import"]),
        )
        if r.get("repro_full"):
            full = median([x.wall for x in r["repro_full"]])
            hand = median([x.wall for x in r["hand"]])
            ratio = full / hand
            cpu_ratio = median([x.cpu for x in r["repro_full"]]) / median(
                [x.cpu for x in r["hand"]]
            )
            row(
                "full `dvc repro` (no dvc.lock, empty DVC cache and `.rasa`)",
                spread(r["repro_full"]),
            )
            row("same work by hand: `rasa train` + `rasa test` (empty `.rasa`)", spread(r["hand"]))
            row(
                "full repro / by hand",
                f"{ratio:.2f}x (CPU {cpu_ratio:.2f}x)",
                "<= 1.03x",
                verdict(ratio <= 1.03 and cpu_ratio <= 1.03),
            )
            fresh = median([x.wall for x in r["install_warm"]]) + full
            row(
                "fresh clone to metrics: warm `make install` + full `make repro`",
                f"{fresh / 60:.2f} min",
                "<= 2.5 min",
                verdict(fresh <= 150),
            )
        noop = median([x.wall for x in r["repro_noop"]])
        row("no-op `dvc repro`", spread(r["repro_noop"]), "<= 1.5 s", verdict(noop <= 1.5))
        if r.get("repro_stories"):
            changed = median([x.wall for x in r["repro_stories"]])
            restored, trained = components(r["repro_stories"][-1])
            value = spread(r["repro_stories"])
            speedup = full / changed if r.get("repro_full") else float("nan")
            value += (
                f"; {speedup:.2f}x faster than full; Rasa restored {len(restored)} "
                f"components from `.rasa`, trained {len(trained)}"
            )
            row(
                "stories-only change (`data/stories.yml`), `dvc repro`",
                value,
                ">= 2x faster than full",
                verdict(speedup >= 2),
            )
        if r.get("repro_test_stories"):
            ran = sorted(stages(r["repro_test_stories"][-1]))
            changed = median([x.wall for x in r["repro_test_stories"]])
            by_hand = median([x.wall for x in r["hand_test"]]) if r.get("hand_test") else None
            value = f"{spread(r['repro_test_stories'])}; stages run: {', '.join(ran) or 'none'}"
            ok = ran == ["test"]
            if by_hand:
                value += f"; {changed / by_hand:.2f}x a hand-run `rasa test`"
                ok = ok and changed <= 1.05 * by_hand
            row(
                "test-stories-only change (`tests/test_stories.yml`), `dvc repro`",
                value,
                "only `test` reruns, <= 1.05x `rasa test` by hand",
                verdict(ok),
            )

        lines += [
            "",
            (
                "Per stage (wall seconds from DVC's `Running stage` to its lock-file update; "
                "median over runs):"
            ),
            "",
        ]
        columns = [
            ("full repro", "repro_full"),
            ("stories-only", "repro_stories"),
            ("test-stories-only", "repro_test_stories"),
        ]
        columns = [(title, key) for title, key in columns if r.get(key)]
        per_stage = {key: [stages(x) for x in r[key]] for _, key in columns}
        names = []
        for runs in per_stage.values():
            for stage_times in runs:
                names += [n for n in stage_times if n not in names]
        if self.alone:
            columns.append(("command alone, no DVC (wall / CPU)", "alone"))
        lines += [
            "| stage | " + " | ".join(t for t, _ in columns) + " |",
            "| --- |" + " --- |" * len(columns),
        ]
        for name in names:
            cells = []
            for _, key in columns:
                if key == "alone":
                    alone = self.alone.get(name)
                    cells.append(f"{seconds(alone.wall)} / {seconds(alone.cpu)}" if alone else "")
                    continue
                values = [s[name] for s in per_stage[key] if name in s]
                cells.append(seconds(median(values)) if values else "skipped")
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        if r.get("repro_full"):
            sums = [sum(stages(x).values()) for x in r["repro_full"]]
            outside = median([x.wall - s for x, s in zip(r["repro_full"], sums, strict=True)])
            totals = [spread(r["repro_full"])] + [""] * (len(columns) - 1)
            if self.alone:
                totals[-1] = (
                    f"{seconds(sum(x.wall for x in self.alone.values()))} / "
                    f"{seconds(sum(x.cpu for x in self.alone.values()))}"
                )
            lines.append(
                "| DVC outside stages (start, hashing deps, exit) | "
                + seconds(outside)
                + " |" * len(columns)
            )
            lines.append("| **total** | " + " | ".join(totals) + " |")
            lines += [
                "",
                (
                    f"By hand: `rasa train` {spread(r['hand_train'])}, "
                    f"`rasa test` {spread(r['hand_test'])}."
                ),
            ]

        lines += ["", "Machine and versions:", "", "| | |", "| --- | --- |"]
        for key, value in machine.items():
            lines.append(f"| {key} | {value} |")
        lines.append(f"| load average (1 min) at start / end | {load_start:.2f} / {load_end:.2f} |")
        settings = (
            f"bake x{self.o.bake_repeats}, install x{self.o.install_repeats}, "
            f"rounds {self.o.rounds}, no-op x{self.o.noop_repeats}, "
            f"changes x{self.o.change_repeats}, epochs "
            f"{self.o.epochs or 'as in params.yaml'}"
        )
        lines.append(f"| settings | {settings} |")
        lines.append(f"| benchmark wall time | {total / 60:.1f} min |")
        lines += [
            "",
            (
                "Wall times on a machine whose cores may be shared with other jobs are noisy; "
                "CPU time (user + sys of the process tree) is steadier. Full repro and hand-run "
                "alternate (A-B-B-A) so drifting load hits both."
            ),
        ]
        return "\n".join(lines) + "\n"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bake-repeats", type=int, default=5)
    parser.add_argument("--install-repeats", type=int, default=3, help="warm and no-op installs")
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="full repro / hand-run pairs, interleaved A-B-B-A (default 2)",
    )
    parser.add_argument("--noop-repeats", type=int, default=5)
    parser.add_argument(
        "--change-repeats", type=int, default=1, help="stories-only and test-stories-only runs"
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=0,
        help="override DIET and TED epochs (default: params.yaml's)",
    )
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="also run the pipeline's commands without DVC (one more training)",
    )
    parser.add_argument("--skip-cold", action="store_true", help="skip the cold-cache install")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--workdir", type=Path, default=None, help="where to bake (default: a new temporary folder)"
    )
    return parser.parse_args(argv)


def main(argv=None):
    options = parse_args(argv)
    missing = [tool for tool in ("cookiecutter", "uv", "git", "make") if not shutil.which(tool)]
    if missing:
        sys.exit(
            f"ERROR: {', '.join(missing)} not on PATH: run 'make install' and use 'make bench'"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(RESULTS / "logs", ignore_errors=True)
    if options.workdir:
        options.workdir.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="rasa-dvc-cml-bench-", dir=options.workdir))
    bench = Bench(options, workdir)
    load_start, started = os.getloadavg()[0], time.perf_counter()
    print(f"benchmark in {workdir} (logs in {RESULTS / 'logs'})", flush=True)
    try:
        bench.bake()
        bench.install()
        bench.first_import()
        bench.full_vs_hand()
        bench.noop()
        bench.incremental()
        if options.breakdown:
            bench.breakdown()
        machine = bench.machine()
    except BenchError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    finally:
        if options.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    table = bench.report(machine, load_start, os.getloadavg()[0], time.perf_counter() - started)
    (RESULTS / "latest.md").write_text(table)
    raw = {
        name: [{"wall": x.wall, "cpu": x.cpu, "stages": stages(x)} for x in runs]
        for name, runs in bench.runs.items()
    }
    (RESULTS / "latest.json").write_text(json.dumps({"machine": machine, "runs": raw}, indent=2))
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    shutil.copy(RESULTS / "latest.md", RESULTS / f"{stamp}.md")
    print("\n" + table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
