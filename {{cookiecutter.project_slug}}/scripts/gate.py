"""Quality gate: fail when a gated metric fell too far below a baseline revision.

    python scripts/gate.py --baseline main        (what `make gate` and CI run)

The gate reads `gate` from params.yaml:

    gate:
      max_drop: 0.02                        # largest allowed fall, in the metric's own units
      metrics:
        - metrics/nlu.json:weighted_f1      # <metrics file>:<key>, nested keys with dots
        - metrics/core.json:action_f1

Each gated metric in the workspace is compared with the same file at the baseline revision
(`git show <baseline>:<file>`). One line per metric; exit 1 when any fell more than max_drop.
A baseline without the metrics (the first run, or a new metric) passes and says so.
"""

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

TOLERANCE = 1e-9  # metrics are rounded to 4 digits: a drop exactly at max_drop passes


class GateError(Exception):
    pass


@dataclass
class Result:
    metric: str
    old: float | None
    new: float | None
    failed: bool
    line: str


def load_gate(params_path: Path = Path("params.yaml")) -> tuple[float, list[str]]:
    try:
        gate = (yaml.safe_load(params_path.read_text()) or {}).get("gate")
    except OSError as error:
        raise GateError(f"cannot read {params_path}: {error.strerror}") from error
    if not isinstance(gate, dict):
        raise GateError(f"{params_path} has no 'gate' section (max_drop and metrics)")
    max_drop, metrics = gate.get("max_drop"), gate.get("metrics")
    if isinstance(max_drop, bool) or not isinstance(max_drop, int | float) or max_drop < 0:
        raise GateError(f"gate.max_drop in {params_path} must be a number >= 0, got {max_drop!r}")
    if not metrics or not all(isinstance(m, str) and ":" in m for m in metrics):
        raise GateError(
            f"gate.metrics in {params_path} must list entries like "
            f"'metrics/nlu.json:weighted_f1', got {metrics!r}"
        )
    return float(max_drop), list(metrics)


def lookup(data, key: str):
    """data['a']['b'] for key 'a.b'; None when a part is missing or the value is not a number."""
    for part in key.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return None if isinstance(data, bool) or not isinstance(data, int | float) else float(data)


def resolve(rev: str) -> str | None:
    """The commit a revision names, or None when the repository has no such revision."""
    result = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", rev + "^{commit}"],
        capture_output=True,
        text=True,
    )
    return result.stdout.strip() if result.returncode == 0 else None


def read_at(rev: str, path: str) -> dict | None:
    """A JSON file as committed at a revision, or None when it is not there."""
    result = subprocess.run(["git", "show", f"{rev}:{path}"], capture_output=True, text=True)
    if result.returncode != 0:
        return None
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError:
        return None


def read_workspace(path: str) -> dict | None:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError):
        return None


def check(baseline: str, params_path: Path = Path("params.yaml")) -> tuple[list[Result], str]:
    """Compare every gated metric with the baseline: the results and a one-line verdict."""
    max_drop, metrics = load_gate(params_path)
    commit = resolve(baseline)
    results = []
    for metric in metrics:
        path, key = metric.split(":", 1)
        new = lookup(read_workspace(path), key)
        old = lookup(read_at(commit, path), key) if commit else None
        if new is None:
            line = f"FAIL {metric}: missing from {path} in the workspace (run `make repro`)"
            results.append(Result(metric, old, new, True, line))
        elif old is None:
            line = f"ok   {metric} = {new:.4f}: no baseline value at {baseline}"
            results.append(Result(metric, old, new, False, line))
        else:
            change = new - old
            failed = -change > max_drop + TOLERANCE
            line = f"{old:.4f} -> {new:.4f} ({change:+.4f})"
            if failed:
                line = (
                    f"FAIL {metric} fell {line}, more than gate.max_drop {max_drop:g} "
                    f"below {baseline}"
                )
            else:
                line = f"ok   {metric} {line}"
            results.append(Result(metric, old, new, failed, line))

    failed = [r for r in results if r.failed]
    if failed:
        verdict = (
            f"Quality gate failed: {len(failed)} of {len(results)} gated metrics "
            f"fell more than {max_drop:g} below {baseline}."
        )
    elif commit is None:
        verdict = f"Quality gate passed: no baseline ({baseline} is not a revision here)."
    elif all(r.old is None for r in results):
        verdict = f"Quality gate passed: {baseline} has no metrics yet (first run)."
    else:
        verdict = f"Quality gate passed: no gated metric fell more than {max_drop:g}."
    return results, verdict


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="main", help="revision to compare with")
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    args = parser.parse_args(argv)
    try:
        results, verdict = check(args.baseline, args.params)
    except GateError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 2
    for result in results:
        print(result.line)
    print(verdict)
    return 1 if any(r.failed for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
