"""Parameter sweeps with DVC experiments: queue a grid, run it, compare the results.

    python -m pipeline.sweep run --dvc DVC --jobs 1 "train.TEDPolicy.epochs=choice(20,50)" ...
    python -m pipeline.sweep show --dvc DVC [--metric metrics/core.json:action_f1]
    python -m pipeline.sweep plan --max 8 [--check-keys] "train.TEDPolicy.epochs=choice(20,50)" ...

A sweep is one or more `key=value` overrides of params.yaml, as `dvc exp run -S` takes them;
a value may be `choice(a,b,...)` or `range(start,stop[,step])` (stop excluded), and the grid is
every combination. `run` queues the grid, runs it with `dvc queue start -j JOBS`, waits, and
prints the comparison; `show` prints it for the experiments of the current commit: the swept
values and the headline metrics per experiment, best first, failed and unfinished ones last and
never with another run's numbers. It also writes experiments/sweep.md and a chart of each swept
parameter against the ranking metric (experiments/sweep.png). `plan` prints the grid as JSON, one
list of `-S` overrides per experiment (the CI sweep's job matrix), and refuses a grid over --max;
it needs nothing but Python's standard library, except with --check-keys (PyYAML).
"""

import argparse
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

OUT = Path("experiments")
TABLE = OUT / "sweep.md"
CHART = OUT / "sweep.png"

# file:key, the column's title; the first is the default ranking.
HEADLINE = (
    ("metrics/nlu.json:weighted_f1", "intent F1"),
    ("metrics/core.json:action_f1", "action F1"),
    ("metrics/core.json:conversation_accuracy", "stories"),
)

KEY = re.compile(r"^[A-Za-z_][\w#-]*(\.[A-Za-z_][\w#-]*|\[\d+\])*$")
PLAIN = re.compile(r"^[\w.+-]+$")
NUMBER = re.compile(r"^-?\d+$")
SWEEP = re.compile(r"^(choice|range)\((.*)\)$")
METRIC = re.compile(r"^[\w./-]+:[\w.-]+$")


class SweepError(Exception):
    pass


def values(override: str) -> tuple[str, list[str]]:
    """`key=value` -> (key, the values it takes): one for a plain value, several for a sweep."""
    key, sep, value = override.partition("=")
    if not sep or not KEY.match(key):
        raise SweepError(
            f"'{override}' is not key=value with a params.yaml key: "
            "write e.g. train.TEDPolicy.epochs=choice(20,50)"
        )
    sweep = SWEEP.match(value)
    if not sweep:
        if not PLAIN.match(value):
            raise SweepError(
                f"'{override}': the value must be a plain number or word, "
                "choice(a,b,...) or range(start,stop[,step])"
            )
        return key, [value]
    kind, args = sweep.group(1), [a.strip() for a in sweep.group(2).split(",")]
    if kind == "choice":
        if not all(PLAIN.match(a) for a in args):
            raise SweepError(f"'{override}': choice() takes plain values, e.g. choice(20,50)")
        return key, args
    if not 2 <= len(args) <= 3 or not all(NUMBER.match(a) for a in args):
        raise SweepError(f"'{override}': range() takes 2 or 3 integers, e.g. range(1,4)")
    numbers = range(*map(int, args))
    if not numbers:
        raise SweepError(f"'{override}': the range is empty")
    return key, [str(n) for n in numbers]


def grid(overrides: list[str]) -> list[list[str]]:
    """Every experiment of the sweep, as the `key=value` overrides that make it."""
    if not overrides:
        raise SweepError('nothing to sweep: give SET="key=choice(a,b) ..." (see README)')
    swept = [values(o) for o in overrides]
    keys = [k for k, _ in swept]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise SweepError(f"{', '.join(repeated)} given twice: give each key once")
    combos = itertools.product(*(vals for _, vals in swept))
    return [[f"{k}={v}" for k, v in zip(keys, combo, strict=True)] for combo in combos]


def check_keys(overrides: list[str], params_file: Path) -> None:
    """Every key names a value params.yaml holds: DVC would add a misspelt key silently."""
    from pipeline import params

    data = params.read_mapping(params_file)
    for override in overrides:
        key = override.partition("=")[0]
        node = data
        for part in re.findall(r"[^.\[\]]+|\[\d+\]", key):
            if part.startswith("["):
                index = int(part[1:-1])
                found = isinstance(node, list) and index < len(node)
                node = node[index] if found else None
            else:
                found = isinstance(node, dict) and part in node
                node = node.get(part) if found else None
            if not found:
                raise SweepError(f"{key} is not in {params_file}: sweep a key it holds")


# --- running -----------------------------------------------------------------------------------


def dvc_env(dvc: str) -> dict:
    """DVC's queue workers run `dvc` by name: its environment goes first on PATH."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(dvc).resolve().parent), env.get("PATH", "")])
    return env


def call(dvc: str, *args: str, timeout: float | None = None) -> str:
    try:
        result = subprocess.run(
            [dvc, *args],
            capture_output=True,
            text=True,
            env=dvc_env(dvc),
            check=False,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise SweepError(f"dvc {' '.join(args)} did not answer in {timeout:.0f} s") from None
    if result.returncode != 0:
        raise SweepError(f"dvc {' '.join(args)} failed: {result.stderr.strip()[-400:]}")
    return result.stdout


def patient_call(
    dvc: str, *args: str, tries: int = 3, pause: float = 2.0, timeout: float = 120.0
) -> str:
    """`dvc <args>` while queue workers run. As a worker finishes an experiment, DVC can fail to
    read the run file the worker is removing ("unexpected error - [Errno 2] No such file or
    directory: '.dvc/tmp/exps/run/...'"), or hang (seen: `exp show` for 12 minutes, in a sweep
    of 4 experiments); a moment later the same call succeeds. So a failure, or no answer within
    `timeout`, is tried again before it counts."""
    for _ in range(tries - 1):
        try:
            return call(dvc, *args, timeout=timeout)
        except SweepError:
            time.sleep(pause)
    return call(dvc, *args, timeout=timeout)


def exp_show(dvc: str, **patience) -> str:
    return patient_call(dvc, "exp", "show", "--json", **patience)


def queue(dvc: str, overrides: list[str]) -> list[str]:
    """Queue the grid; the names DVC gave the experiments."""
    output = call(dvc, "exp", "run", "--queue", *itertools.chain(*(("-S", o) for o in overrides)))
    return re.findall(r"Queued experiment '([^']+)'", output)


def start(dvc: str, jobs: int) -> None:
    """Start JOBS queue workers. DVC leaves them in the background holding the output streams it
    was given: a pipe would make us wait for the last worker to exit, which one that DVC forgets
    to shut down never does. A file does not."""
    with tempfile.TemporaryFile("w+") as output:
        result = subprocess.run(
            [dvc, "queue", "start", "--jobs", str(jobs)],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=dvc_env(dvc),
            check=False,
        )
        if result.returncode != 0:
            output.seek(0)
            raise SweepError(f"dvc queue start failed: {output.read().strip()[-400:]}")


PENDING = ("Queued", "Running")


def queue_states(dvc: str) -> tuple[dict[str, str], int]:
    """Each queued experiment's state as `dvc queue status` shows it (Queued, Running, Success,
    Failed), and how many workers DVC sees. One call, about 1 s of CPU; `exp show` costs as much
    and grows with the repository's experiments, so the waiting uses this one only."""
    output = patient_call(dvc, "queue", "status")
    states = {}
    for line in output.splitlines():
        fields = line.split()
        if len(fields) >= 4 and re.fullmatch(r"[0-9a-f]{7,40}", fields[0]):
            states[fields[1]] = fields[-1]
    status = re.search(r"Worker status: (\d+) active, (\d+) idle", output)
    return states, int(status.group(1)) + int(status.group(2)) if status else 0


def pauses(first: float, last: float) -> Iterator[float]:
    """first, twice that, four times... up to last, then last for ever."""
    pause = min(first, last)
    while True:
        yield pause
        pause = min(pause * 2, last)


class Watch:
    """Polls of `dvc queue status` until the sweep's experiments are done. With no worker left
    while some are still queued (DVC's workers sometimes stop early), it starts them again; with
    none left while some still run, their worker died: that is an error, not an endless wait.
    The polls come 1, 2, 4 and 8 s apart, then every 10 s: a sweep of short experiments ends as
    soon as they do, and a long one costs a poll (about 1 s of CPU) per 10 s."""

    def __init__(
        self,
        poll: float = 10.0,
        first_poll: float = 1.0,
        restart_after: float = 30.0,
        dead_after: float = 120.0,
    ):
        self.poll, self.first_poll = poll, first_poll
        self.restart_after, self.dead_after = restart_after, dead_after
        self.restarts = 0

    def wait(self, dvc: str, names: list[str], jobs: int) -> None:
        idle_since = None
        waits = pauses(self.first_poll, self.poll)
        while True:
            states, workers = queue_states(dvc)
            pending = [n for n in names if states.get(n) in PENDING]
            if not pending:
                return
            if workers:
                idle_since = None
            else:
                idle_since = idle_since or time.monotonic()
                idle = time.monotonic() - idle_since
                queued = [n for n in pending if states[n] == "Queued"]
                if queued and idle >= self.restart_after and self.restarts < 3:
                    print(f"no DVC queue worker left for {', '.join(queued)}: starting again")
                    start(dvc, jobs)
                    self.restarts += 1
                    idle_since = None
                elif idle >= self.dead_after:
                    raise SweepError(
                        f"{', '.join(pending)} did not finish and no DVC queue worker is left: "
                        "read 'dvc queue logs <name>', then 'dvc queue kill <name>' and sweep again"
                    )
            time.sleep(next(waits))


def stop_idle_workers(dvc: str) -> None:
    """Once nothing is queued or running, stop the workers still waiting for work."""
    states, workers = queue_states(dvc)
    if workers and not any(state in PENDING for state in states.values()):
        call(dvc, "queue", "stop")


# --- comparing ---------------------------------------------------------------------------------


def flatten(tree: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def figures(data: dict, section: str) -> dict:
    """'file:key' -> value for metrics, 'key' -> value for params.yaml's params."""
    found = {}
    for file, content in (data.get(section) or {}).items():
        flat = flatten((content or {}).get("data") or {})
        if section == "params":
            found.update(flat if file == "params.yaml" else {})
        else:
            found.update({f"{file}:{k}": v for k, v in flat.items()})
    return found


def rows(shown: str, prefix: str = "") -> list[dict]:
    """The experiments of the current commit in `dvc exp show --json`: name, status, params,
    metrics. Only a finished experiment has numbers: DVC reports a queued, running or failed
    one with the workspace's data, which is not its result."""
    baselines = [b for b in json.loads(shown) if b.get("rev") != "workspace"]
    found = []
    for baseline in baselines[:1]:
        for exp in baseline.get("experiments") or []:
            rev = (exp.get("revs") or [{}])[0]
            state = (exp.get("executor") or {}).get("state") or "success"
            data = rev.get("data") or {}
            ok = state == "success" and not rev.get("error") and data.get("rev") != "workspace"
            name = exp.get("name") or rev.get("name") or rev.get("rev", "")[:7]
            if not name.startswith(prefix):
                continue
            status = "done" if ok else state
            if state in ("failed", "success") and not ok:
                status = f"failed: dvc queue logs {name}"
            found.append(
                {
                    "name": name,
                    "status": status,
                    "params": figures(data, "params") if ok else {},
                    "metrics": figures(data, "metrics") if ok else {},
                }
            )
        found.append(
            {
                "name": f"{baseline.get('name') or baseline['rev'][:7]} (baseline)",
                "status": "done",
                "params": figures(baseline.get("data") or {}, "params"),
                "metrics": figures(baseline.get("data") or {}, "metrics"),
            }
        )
    return found


def swept_keys(found: list[dict]) -> list[str]:
    """The params whose value differs between the finished experiments and the baseline."""
    done = [r for r in found if r["status"] == "done"]
    keys = sorted({k for r in done for k in r["params"]})
    return [k for k in keys if len({json.dumps(r["params"].get(k)) for r in done}) > 1]


def ranked(found: list[dict], metric: str) -> list[dict]:
    def order(row):
        value = row["metrics"].get(metric)
        return (row["status"] != "done", value is None, -(value or 0), row["name"])

    return sorted(found, key=order)


def cell(value) -> str:
    if value is None:
        return "-"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def table(found: list[dict], metric: str) -> str:
    keys = swept_keys(found)
    metrics = [metric] + [m for m, _ in HEADLINE if m != metric]
    titles = dict(HEADLINE)
    header = ["experiment", "status", *keys, *(titles.get(m, m) for m in metrics)]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for row in ranked(found, metric):
        values = [row["params"].get(k) for k in keys] + [row["metrics"].get(m) for m in metrics]
        lines.append("| " + " | ".join([row["name"], row["status"], *map(cell, values)]) + " |")
    return "\n".join(lines) + "\n"


def chart(found: list[dict], metric: str, out: Path) -> bool:
    """One scatter per swept parameter: its value against the ranking metric."""
    keys = swept_keys(found)
    done = [r for r in found if r["status"] == "done" and r["metrics"].get(metric) is not None]
    if not keys or not done:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(keys), figsize=(4 * len(keys), 3.5), squeeze=False)
    for ax, key in zip(axes[0], keys, strict=True):
        points = [(str(r["params"].get(key)), r["metrics"][metric]) for r in done]
        ax.scatter([x for x, _ in points], [y for _, y in points], color="#1f77b4")
        ax.set_xlabel(key)
        ax.set_ylabel(dict(HEADLINE).get(metric, metric))
    fig.suptitle(f"Sweep: {metric}")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return True


def show(dvc: str, metric: str, prefix: str = "") -> str:
    found = rows(exp_show(dvc), prefix)
    text = table(found, metric)
    TABLE.parent.mkdir(parents=True, exist_ok=True)
    TABLE.write_text(text)
    drawn = chart(found, metric, CHART)
    return text + f"\nwrote {TABLE}" + (f" and {CHART}" if drawn else "") + "\n"


# --- command line ------------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["run", "show", "plan"])
    parser.add_argument("overrides", nargs="*", help="key=value, key=choice(a,b), key=range(a,b)")
    parser.add_argument("--dvc", default="dvc")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--metric", default=HEADLINE[0][0], help="file:key to rank by")
    parser.add_argument("--max", type=int, default=0, help="plan: refuse a larger grid")
    parser.add_argument("--check-keys", action="store_true", help="plan: keys must be in --params")
    parser.add_argument("--prefix", default="", help="show: only experiments named so")
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    args = parser.parse_intermixed_args(argv)
    try:
        if not METRIC.match(args.metric):
            raise SweepError(f"--metric '{args.metric}' is not file:key, e.g. {HEADLINE[0][0]}")
        if args.command == "show":
            print(show(args.dvc, args.metric, args.prefix), end="")
            return 0
        experiments = grid(args.overrides)
        if args.command == "plan":
            if args.check_keys:
                check_keys(args.overrides, args.params)
            if args.max and len(experiments) > args.max:
                raise SweepError(
                    f"the sweep has {len(experiments)} experiments, more than {args.max}: "
                    "sweep fewer values"
                )
            print(json.dumps(experiments))
            return 0
        check_keys(args.overrides, args.params)
        if args.jobs < 1:
            raise SweepError(f"JOBS={args.jobs}: run at least 1 experiment at a time")
        names = queue(args.dvc, args.overrides)
        print(f"queued {len(names)} experiments: {' '.join(names)}; running {args.jobs} at a time")
        start(args.dvc, args.jobs)
        Watch().wait(args.dvc, names, args.jobs)
        stop_idle_workers(args.dvc)
        print(show(args.dvc, args.metric), end="")
        return 0
    except SweepError as error:
        print(f"ERROR: {error}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
