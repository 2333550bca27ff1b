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
- a no-op `dvc repro`, a change to the stories only and a change to the test stories only;
- the same full repro against the hand-run on a realistic bot, tests/bots/helpdesk (brought into a
  second bake as the README's "Bring your own bot" steps do), unless --skip-helpdesk.

Each hand-run's figures must equal the pipeline's (benchmarks/equal.py): the benchmark stops with
an error when one differs.

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
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import equal
import report
from bring_in import bring_in
from samples import STAGE_END, STAGE_START, Run, stages

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

# The hand-run: what a user types without the pipeline, on the same split, config, domain, rules
# and stories files (in the pipeline's order) and test stories as the pipeline (written or read
# untimed in a scratch copy), so both do the same training and testing work.
HAND_INPUTS = (
    "from pipeline import params, paths; from pipeline.train import core_files; "
    "print(paths.domain()); print(params.load(paths.PARAMS).test_stories()); "
    "print(*core_files(), paths.NLU_TRAIN, sep='\\n')"
)


def hand_commands(domain, stories, training_files):
    train = [RASA, "train", "--data", *training_files, "--config", "models/config.yml"]
    train += ["--domain", domain, "--out", "models", "--fixed-model-name", "model"]
    test = [RASA, "test", "--model", "models/model.tar.gz", "--stories", stories]
    test += ["--nlu", "split/test.yml", "--out", "results", "--successes"]
    return train, test


# The pipeline's stages fix Python's string hash seed (Rasa orders labels and rules through sets):
# the hand-run gets the same, or the last digit of an average could differ by chance.
HAND_ENV = {"PYTHONHASHSEED": "0"}
# The realistic bot, brought into a second bake by bring_in.py (the README's steps).
HELPDESK = TEMPLATE / "tests" / "bots" / "helpdesk"

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


class BenchError(Exception):
    pass


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


class Bench:
    def __init__(self, options, workdir):
        self.o = options
        self.work = workdir
        self.project = None
        self.runs = {}  # name -> [Run]
        self.alone = {}  # stage -> Run of its commands without DVC (--breakdown)
        self.hand_figures = {}  # project -> [figures of each hand-run]

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
        self.set_epochs(self.project)

    def set_epochs(self, project):
        if self.o.epochs:
            params = project / "params.yaml"
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

    def reset_pipeline(self, project):
        """Back to the state right after the bake: no dvc.lock, outputs, DVC cache or .rasa.
        (No trailing slash: the environments of a second bot are links, not folders.)"""
        output(["git", "clean", "-fdxq", "-e", f"/{BOT_ENV}", "-e", f"/{DVC_ENV}"], project)

    def pipeline_full(self, i, project, prefix=""):
        self.reset_pipeline(project)
        result = run([DVC, "repro"], project, f"{prefix}repro-full-{i}")
        self.record(f"{prefix.replace('-', '_')}repro_full", result)

    def scratch_copy(self, name, project=None):
        """The project's tracked files in a new folder, sharing the bot environment."""
        project = project or self.project
        copy = self.work / name
        shutil.rmtree(copy, ignore_errors=True)
        for rel in output(["git", "ls-files"], project).splitlines():
            (copy / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(project / rel, copy / rel)
        (copy / BOT_ENV).symlink_to((project / BOT_ENV).resolve())
        # The split and the merged config, as the pipeline writes them (not timed).
        run([f"{BOT_ENV}/bin/python", "-m", "pipeline.split"], copy, f"{name}-split")
        run(
            [f"{BOT_ENV}/bin/python", "-m", "pipeline.rasa_config", "merge"], copy, f"{name}-config"
        )
        return copy

    def hand(self, i, project, prefix=""):
        copy = self.scratch_copy(f"{prefix}hand-{i}", project)
        domain, stories, *training_files = output(
            [f"{BOT_ENV}/bin/python", "-c", HAND_INPUTS], copy
        ).splitlines()
        train_command, test_command = hand_commands(domain, stories, training_files)
        env = clean_env(**HAND_ENV)
        train = run(train_command, copy, f"{prefix}hand-train-{i}", env)
        test = run(test_command, copy, f"{prefix}hand-test-{i}", env)
        key = prefix.replace("-", "_")
        self.runs.setdefault(f"{key}hand_train", []).append(train)
        self.runs.setdefault(f"{key}hand_test", []).append(test)
        self.record(f"{key}hand", Run(train.wall + test.wall, train.cpu + test.cpu))
        # Rasa's reports into the pipeline's files, as the test stage does (not timed).
        run(
            [f"{BOT_ENV}/bin/python", "-m", "pipeline.metrics", "results"],
            copy,
            f"{prefix}hand-metrics-{i}",
        )
        self.hand_figures.setdefault(project, []).append(equal.figures(copy))
        shutil.rmtree(copy)

    def full_vs_hand(self, project=None, prefix=""):
        project = project or self.project
        print(f"{prefix}full dvc repro vs by hand, {self.o.rounds} interleaved rounds", flush=True)
        for i in range(self.o.rounds):
            order = (
                (self.pipeline_full, self.hand) if i % 2 == 0 else (self.hand, self.pipeline_full)
            )
            for step in order:
                step(i, project, prefix)
        if not self.runs.get(f"{prefix.replace('-', '_')}repro_full"):
            # --rounds 0: the later steps need a trained project
            self.pipeline_full("setup", project, prefix)
            self.runs.pop(f"{prefix.replace('-', '_')}repro_full")
        self.check_equal(project)

    def check_equal(self, project):
        """Every hand-run's figures equal the pipeline's (its last full repro), or stop."""
        ours = equal.figures(project)
        if not ours["metrics/nlu.json"] or not ours["metrics/core.json"]:
            raise BenchError(f"{project}: the pipeline wrote no metrics/nlu.json or core.json")
        for n, theirs in enumerate(self.hand_figures.get(project, [])):
            found = equal.differences(ours, theirs)
            if found:
                raise BenchError(
                    f"{project}: the pipeline's figures differ from hand-run {n}'s:\n"
                    + "\n".join(found)
                )
        print(f"  figures equal to the hand-run's: {', '.join(k for k, v in ours.items() if v)}")

    def adopt_helpdesk(self):
        """A second bake with tests/bots/helpdesk brought in by the README's steps (not timed)."""
        print("helpdesk bot: bake and bring it in", flush=True)
        out = self.work / "helpdesk"
        run(["cookiecutter", "--no-input", TEMPLATE, "-o", out], self.work, "helpdesk-bake")
        project = out / SLUG
        for env in (BOT_ENV, DVC_ENV):
            (project / env).symlink_to(self.project / env)
        bring_in(HELPDESK, project)
        run(["make", "--no-print-directory", "adopt-config"], project, "helpdesk-adopt-config")
        self.set_epochs(project)
        # the environments are links, which a folder's ignore rule (`.venv/`) does not cover
        output(["git", "add", "--all", "--", ".", f":!{BOT_ENV}", f":!{DVC_ENV}"], project)
        output(["git", "commit", "--quiet", "-m", "Bring in the helpdesk bot"], project)
        return project

    def helpdesk(self):
        self.full_vs_hand(self.adopt_helpdesk(), "helpdesk-")

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

    def settings(self):
        o = self.o
        return (
            f"bake x{o.bake_repeats}, install x{o.install_repeats}, rounds {o.rounds}, "
            f"no-op x{o.noop_repeats}, changes x{o.change_repeats}, "
            f"epochs {o.epochs or 'as in params.yaml'} (both sides)"
        )


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
    parser.add_argument(
        "--skip-helpdesk", action="store_true", help="skip the realistic bot's repro vs hand-run"
    )
    parser.add_argument(
        "--skip-default",
        action="store_true",
        help="measure only the bake, installs and the helpdesk bot (not the default bot's runs)",
    )
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
        if not options.skip_default:
            bench.full_vs_hand()
            bench.noop()
            bench.incremental()
        if options.breakdown and not options.skip_default:
            bench.breakdown()
        if not options.skip_helpdesk:
            bench.helpdesk()
        machine = bench.machine()
    except BenchError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    finally:
        if options.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    table = report.write(
        bench.runs,
        bench.alone,
        machine,
        bench.settings(),
        load_start,
        os.getloadavg()[0],
        time.perf_counter() - started,
    )
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
