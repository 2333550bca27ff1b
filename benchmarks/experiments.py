"""Benchmark DVC experiments on the default bot: a TED-only sweep against one full `dvc repro`,
and `dvc queue start -j 2` against `-j 1`.

    make bench-experiments            # from the template repo root
    python benchmarks/experiments.py --help

One run bakes the default bot, installs it, and measures, side by side:

- one full `dvc repro --force` with no Rasa cache (every component trains), then a sweep of
  --experiments experiments that change only TEDPolicy parameters (`make sweep`, JOBS=1): the
  NLU components come from Rasa's cache, so the goal is a sweep CPU of at most 2x the repro's;
- the same number of queued TED-only experiments run with `dvc queue start -j 1`, then `-j 2`
  (each round with the cache the repro left), wall and CPU.

DVC's queue workers are detached from the process that starts them, so their CPU time is not
a child's: CPU here is the machine's (user + system from /proc/stat) over each measurement,
exact on a quiet machine only. The load average before and after is printed with the table.
Results go to benchmarks/results/experiments.md and .json. Standard library only.
"""

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import run as bench

RESULTS = bench.RESULTS
TICKS = os.sysconf("SC_CLK_TCK")


def machine_cpu() -> float:
    """CPU seconds the whole machine spent (user, nice, system) since boot."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    return sum(int(v) for v in fields[:3]) / TICKS


def measured(args, cwd, log, env=None) -> dict:
    cpu_start, start = machine_cpu(), time.perf_counter()
    result = bench.run(args, cwd, log, env)
    return {
        "wall": time.perf_counter() - start,
        "cpu": machine_cpu() - cpu_start,
        "own_cpu": result.cpu,
        "lines": [text for _, text in result.lines],
    }


# Run by the bot's Python in the project: what `make sweep` does once the grid is queued
# (pipeline/sweep.py: DVC's workers sometimes stop with experiments still queued, and are started
# again).
WAIT = """import sys
from pipeline import sweep
dvc, jobs, names = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
sweep.start(dvc, jobs)
sweep.Watch().wait(dvc, names, jobs)
"""
STOP = "import sys\nfrom pipeline import sweep\nsweep.stop_idle_workers(sys.argv[1])\n"


def queued(project, sets, jobs, log) -> dict:
    """Queue the experiments, then time `dvc queue start -j jobs` until they are done, waiting as
    `make sweep` does."""
    names = []
    for overrides in sets:
        args = [bench.DVC, "exp", "run", "--queue"]
        for override in overrides:
            args += ["-S", override]
        lines = bench.run(args, project, f"{log}-queue").lines
        names += re.findall(r"Queued experiment '([^']+)'", "\n".join(text for _, text in lines))
    python = f"{bench.BOT_ENV}/bin/python"
    result = measured([python, "-c", WAIT, bench.DVC, jobs, *names], project, log)
    bench.run([python, "-c", STOP, bench.DVC], project, f"{log}-stop")
    return result


def ted_sets(count: int, offset: int) -> list[list[str]]:
    return [
        [f"train.TEDPolicy.max_history={3 + (i % 2)}", f"train.TEDPolicy.epochs={40 + offset + i}"]
        for i in range(count)
    ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiments", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=0, help="all epochs (0: the bot's own)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    options = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-experiments-"))
    load_start = os.getloadavg()
    try:
        bench.run(["cookiecutter", "--no-input", bench.TEMPLATE, "-o", work], work, "exp-bake")
        project = work / bench.SLUG
        if options.epochs:
            params = project / "params.yaml"
            text = re.sub(r"(?m)^(\s*epochs:) \d+", rf"\g<1> {options.epochs}", params.read_text())
            params.write_text(text)
            bench.run(["git", "commit", "--quiet", "-am", "epochs"], project, "exp-epochs")
        bench.run(["make", "--no-print-directory", "install"], project, "exp-install")

        shutil.rmtree(project / ".rasa", ignore_errors=True)
        repro = measured([bench.DVC, "repro", "--force"], project, "exp-repro")
        bench.run(["git", "add", "--all"], project, "exp-add")
        bench.run(["git", "commit", "--quiet", "-m", "trained"], project, "exp-commit")
        count = options.experiments
        epochs = ",".join(str(40 + i) for i in range(count // 2))
        sweep_set = (
            f"SET=train.TEDPolicy.max_history=choice(3,4) train.TEDPolicy.epochs=choice({epochs})"
        )
        env = bench.clean_env(PATH=f"{project / bench.DVC_ENV / 'bin'}:{os.environ['PATH']}")
        cpu_start, start = machine_cpu(), time.perf_counter()
        bench.run(
            ["make", "--no-print-directory", "sweep", sweep_set, "JOBS=1"],
            project,
            "exp-sweep",
            env,
        )
        sweep = {"wall": time.perf_counter() - start, "cpu": machine_cpu() - cpu_start}
        logs = project.glob(".dvc/tmp/exps/run/*/*.out")
        restored = sum("Restored component 'DIETClassifier'" in p.read_text() for p in logs)

        one = queued(project, ted_sets(count, 100), 1, "exp-queue-j1")
        two = queued(project, ted_sets(count, 200), 2, "exp-queue-j2")
    finally:
        load_end = os.getloadavg()
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)

    ratio = sweep["cpu"] / repro["cpu"]
    rows = [
        ("one full `dvc repro --force`, no Rasa cache", repro),
        (f"`make sweep` of {count} TED-only experiments (JOBS=1)", sweep),
        (f"{count} queued TED-only experiments, `dvc queue start -j 1`", one),
        (f"{count} queued TED-only experiments, `dvc queue start -j 2`", two),
    ]
    table = ["| measurement | wall s | CPU s |", "| --- | ---: | ---: |"]
    table += [f"| {name} | {r['wall']:.1f} | {r['cpu']:.1f} |" for name, r in rows]
    verdict = "met" if ratio <= 2 else "NOT met"
    text = "\n".join(
        [
            *table,
            "",
            f"sweep CPU / repro CPU = {ratio:.2f} (goal <= 2: {verdict}); "
            f"{restored} of {count} sweep experiments restored DIET from Rasa's cache; "
            f"-j 2 / -j 1: wall {two['wall'] / one['wall']:.2f}, CPU {two['cpu'] / one['cpu']:.2f}",
            f"load average before {load_start[0]:.2f}, after {load_end[0]:.2f}; "
            f"{os.cpu_count()} cores; epochs: {options.epochs or 'the bot own'}",
            "",
        ]
    )
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "experiments.md").write_text(text)
    (RESULTS / "experiments.json").write_text(
        json.dumps(
            {name: {k: v for k, v in r.items() if k != "lines"} for name, r in rows}, indent=2
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
