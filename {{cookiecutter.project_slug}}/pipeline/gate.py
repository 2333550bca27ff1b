"""Quality gate: fail when a gated metric fell too far below a baseline revision.

    python -m pipeline.gate --baseline main        (what `make gate` and CI run)

The gate reads `gate` from params.yaml:

    gate:
      max_drop: 0.02                        # largest allowed fall, in the metric's own units
      stale_lock: fail                      # or warn: what a stale dvc.lock does (make check-lock)
      metrics:
        - metrics/nlu.json:weighted_f1      # <JSON file>:<key>, nested keys joined with dots
        - metrics/core.json:action_f1
        - metrics/entities.json:DIETClassifier.weighted_f1?   # `?`: optional, see below
        - evaluation/intents.json:ask.weather.f1   # F1 of the intent `ask.weather`

A key is matched against the names in the file, never split blindly: `ask.weather.f1` finds the
intent `ask.weather` (or `ask` then `weather`, when only that exists). An entry ending in `?` is
skipped when neither this change nor the baseline has the key; when only the baseline has it, it
fails (e.g. an extractor that no longer predicts any entity). A label that itself ends in `?`
needs one more: `evaluation/intents.json:why?.f1?` is fine, `...:why?` is the optional `why`.

The settings come from the baseline revision's params.yaml when it has a `gate` section, so a
change cannot loosen its own gate: edits to `gate` take effect once merged. Each gated metric in
the workspace is compared with the same file at the baseline (`git show <baseline>:<file>`). One
line per metric; exit 1 when any fell more than max_drop, or is missing or not a finite number.
A baseline without the metric passes and says so: `ok` when the baseline has no such file (the
first run) or the file lacks the key (a new metric or label); `warn` when the baseline's value is
NaN or infinite (a broken baseline cannot be compared with, and failing would also block the
change that repairs it), and the verdict counts the metrics it could not compare.

Two environment variables, set by the CI workflow, make the gate (and the report's copy of its
verdict) stricter:
  GATE_REQUIRE_BASELINE=true   a baseline revision that does not resolve fails the gate;
  GATE_LOCK_CHECK=<file>       the result of `python -m pipeline.check_lock --result <file>`,
                               run before the pipeline: a stale dvc.lock fails the gate (or warns).

With --result FILE the verdict is also written to FILE as JSON, which `make report` reads
(GATE_RESULT) instead of judging again.
"""

import argparse
import json
import math
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from pipeline import compare, params, paths
from pipeline.fixes import STALE_LOCK

TOLERANCE = 1e-9  # metrics are rounded to 4 digits: a drop exactly at max_drop passes
# Every gated figure is a fraction (accuracy, F1, precision, recall): a larger allowed fall than
# the whole scale would switch the gate off without saying so.
MAX_DROP_RANGE = (0.0, 1.0)
STALE_LOCK_CHOICES = ("fail", "warn")
# What each kind of line is: a gated metric, a skipped optional one, or a check of the run;
# and what a failed check means in the verdict.
METRIC, SKIPPED, BASELINE, LOCK, NOTE = "metric", "skipped", "baseline", "dvc.lock", "note"
UNCOMPARED = "uncompared"  # a gated metric with a value now and none to compare with
FAILURE_REASONS = {
    BASELINE: "no baseline to compare with",
    LOCK: "dvc.lock does not match this commit's inputs",
}


class GateError(Exception):
    pass


@dataclass
class Result:
    metric: str
    old: float | None
    new: float | None
    failed: bool
    line: str
    kind: str = METRIC


@dataclass
class Settings:
    max_drop: float
    metrics: list[str]
    stale_lock: str = "fail"
    source: str = "params.yaml"


def parse_gate(params: dict | None, where: str) -> Settings:
    """The `gate` section of a params.yaml's content, checked; `where` names it in errors."""
    gate = (params or {}).get("gate") if isinstance(params, dict) else None
    if not isinstance(gate, dict):
        raise GateError(f"{where} has no 'gate' section (max_drop and metrics)")
    max_drop = gate.get("max_drop")
    low, high = MAX_DROP_RANGE
    if (
        isinstance(max_drop, bool)
        or not isinstance(max_drop, int | float)
        or not math.isfinite(max_drop)  # NaN compares false with everything: no drop would fail
        or not low <= max_drop <= high
    ):
        raise GateError(
            f"gate.max_drop in {where} must be a number from {low:g} to {high:g} (the largest "
            f"allowed fall of a fraction such as weighted F1), got {max_drop!r}"
        )
    metrics = gate.get("metrics")
    if not isinstance(metrics, list) or not metrics:
        raise GateError(
            f"gate.metrics in {where} must be a list of entries like "
            f"'metrics/nlu.json:weighted_f1', got {metrics!r}"
        )
    for entry in metrics:
        metric_entry(entry, where)
    stale_lock = gate.get("stale_lock", "fail")
    if not isinstance(stale_lock, str) or stale_lock not in STALE_LOCK_CHOICES:
        raise GateError(f"gate.stale_lock in {where} must be 'fail' or 'warn', got {stale_lock!r}")
    return Settings(float(max_drop), list(metrics), stale_lock, where)


def metric_entry(entry, where: str = "params.yaml") -> tuple[str, str, bool]:
    """(file, key, optional) of a gate.metrics entry: `<JSON file in the project>:<key>[?]`."""
    example = "e.g. 'metrics/nlu.json:weighted_f1'"
    if not isinstance(entry, str) or ":" not in entry:
        raise GateError(f"gate.metrics in {where}: {entry!r} is not '<file>:<key>' ({example})")
    optional = entry.endswith("?")
    path, key = entry.removesuffix("?").split(":", 1)
    relative = Path(path)
    if (
        not key
        or relative.suffix != ".json"
        or relative.is_absolute()
        or ".." in relative.parts
        or relative.as_posix() != path
    ):
        raise GateError(
            f"gate.metrics in {where}: {entry!r} must name a JSON file of the project by its "
            f"relative path, then a key ({example})"
        )
    return path, key, optional


def load_gate(params_path: Path = paths.PARAMS) -> Settings:
    return parse_gate(params.read_yaml(params_path, GateError), str(params_path))


def baseline_gate(base: compare.Revision, baseline: str) -> Settings | None:
    """The baseline's own gate settings, or None when its params.yaml has no `gate` section."""
    text = base.text("params.yaml")
    if text is None:
        return None
    try:
        params = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if not isinstance(params, dict) or "gate" not in params:
        return None
    return parse_gate(params, f"params.yaml at {baseline}")


def lookup(data, key: str):
    """The number `key` names in data: 'a.b' is data['a']['b'], but a name that holds dots
    itself (an intent `ask.weather`) is matched whole, so no label is out of reach. The longest
    name that leads to a number wins. None when nothing matches or the value is not a number;
    NaN and infinities are returned as they are: the caller decides what they mean."""
    if not isinstance(data, dict):
        return None
    if key in data:
        value = data[key]
        if not isinstance(value, bool) and isinstance(value, int | float):
            return float(value)
    heads = [name for name in data if isinstance(name, str) and key.startswith(name + ".")]
    for head in sorted(heads, key=len, reverse=True):
        found = lookup(data[head], key[len(head) + 1 :])
        if found is not None:
            return found
    return None


def compare_metric(
    entry: str, base: compare.Revision, now: compare.Revision, baseline: str, max_drop: float
) -> Result:
    """One gated metric: the workspace's value against the baseline's."""
    path, key, optional = metric_entry(entry)
    metric = f"{path}:{key}"
    new = lookup(now.data(path), key)
    old = lookup(base.data(path), key)
    if new is None and optional and old is None:
        line = f"skip {metric}: not in {path} here or at {baseline} (optional)"
        return Result(metric, old, new, False, line, SKIPPED)
    if new is None and optional:  # e.g. an extractor that now predicts no entity at all
        line = f"FAIL {metric}: {old:.4f} at {baseline}, missing from {path} now"
        return Result(metric, old, new, True, line)
    if new is None:
        line = f"FAIL {metric}: missing from {path} in the workspace (run `make repro`)"
        return Result(metric, old, new, True, line)
    if not math.isfinite(new):
        line = f"FAIL {metric} = {new}: not a finite number (check the pipeline's test stage)"
        return Result(metric, old, new, True, line)
    if old is None:
        line = f"ok   {metric} = {new:.4f}: no baseline value at {baseline}"
        if base.data(path) is not None:
            line += f" (a new key of {path})"
        return Result(metric, None, new, False, line, UNCOMPARED)
    if not math.isfinite(old):
        line = (
            f"warn {metric} = {new:.4f}: not compared, its value at {baseline} is {old} "
            "(not a finite number)"
        )
        return Result(metric, old, new, False, line, UNCOMPARED)
    change = new - old
    failed = -change > max_drop + TOLERANCE
    numbers = f"{old:.4f} -> {new:.4f} ({change:+.4f})"
    if failed:
        line = f"FAIL {metric} fell {numbers}, more than gate.max_drop {max_drop:g} "
        line += f"below {baseline}"
    else:
        line = f"ok   {metric} {numbers}"
    return Result(metric, old, new, failed, line)


def lock_result(path: Path, stale_lock: str) -> Result:
    """The stale-lock check's verdict (pipeline/check_lock.py --result), as one gate line."""
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError):
        found = None
    if not isinstance(found, dict) or not isinstance(found.get("stale"), bool):
        line = (
            f"FAIL dvc.lock: no lock check result at {path} "
            "(run `python -m pipeline.check_lock` first)"
        )
        return Result("dvc.lock", None, None, True, line, LOCK)
    if not found.get("stale"):
        line = "ok   dvc.lock matches this commit's inputs"
        return Result("dvc.lock", None, None, False, line, LOCK)
    failed = stale_lock == "fail"
    word = "FAIL" if failed else "warn"
    line = f"{word} dvc.lock is stale (gate.stale_lock: {stale_lock}): {STALE_LOCK}"
    return Result("dvc.lock", None, None, failed, line, LOCK)


def settings_note(settings: Settings, workspace: Settings) -> Result | None:
    """Says so when this change edits a gate that, for now, the baseline's settings decide."""
    if settings is workspace:
        return None
    ours = (workspace.max_drop, workspace.metrics, workspace.stale_lock)
    if ours == (settings.max_drop, settings.metrics, settings.stale_lock):
        return None
    line = (
        f"note this change edits `gate` in params.yaml; the gate uses {settings.source} "
        "until the change is merged"
    )
    return Result("gate", None, None, False, line, NOTE)


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes")


def check(
    baseline: str,
    base: compare.Revision,
    now: compare.Revision,
    params_path: Path = paths.PARAMS,
    lock_check: Path | None = None,
    require_baseline: bool | None = None,
) -> tuple[list[Result], str]:
    """Compare every gated metric of `now` (the workspace) with `base`, the files committed at
    the revision `baseline` names: the results and a one-line verdict.
    lock_check and require_baseline default to GATE_LOCK_CHECK and GATE_REQUIRE_BASELINE."""
    if lock_check is None and os.environ.get("GATE_LOCK_CHECK"):
        lock_check = Path(os.environ["GATE_LOCK_CHECK"])
    if require_baseline is None:
        require_baseline = env_flag("GATE_REQUIRE_BASELINE")
    workspace = load_gate(params_path)  # checked even when the baseline's settings apply
    settings = baseline_gate(base, baseline) or workspace

    results = []
    if base.commit is None and require_baseline:
        line = (
            f"FAIL baseline {baseline} is not a revision here: check out with `fetch-depth: 0` "
            "so the base branch's history is there"
        )
        results.append(Result("baseline", None, None, True, line, BASELINE))
    results += [
        compare_metric(entry, base, now, baseline, settings.max_drop) for entry in settings.metrics
    ]
    if lock_check is not None:
        results.append(lock_result(lock_check, settings.stale_lock))
    note = settings_note(settings, workspace)
    if note:
        results.append(note)
    return results, verdict(results, settings, base.commit, baseline)


def is_metric(result: Result) -> bool:
    return result.kind in (METRIC, UNCOMPARED)


def has_value(result: Result) -> bool:
    return result.new is not None and math.isfinite(result.new)


def verdict(results: list[Result], settings: Settings, commit: str | None, baseline: str) -> str:
    gated = [r for r in results if is_metric(r)]
    invalid = [r for r in gated if r.failed and not has_value(r)]
    fell = [r for r in gated if r.failed and has_value(r)]
    reasons = []
    if fell:
        reasons.append(
            f"{len(fell)} of {len(gated)} gated metrics fell more than "
            f"{settings.max_drop:g} below {baseline}"
        )
    if invalid:
        reasons.append(f"{len(invalid)} of {len(gated)} gated metrics missing or not finite")
    reasons += [FAILURE_REASONS[r.kind] for r in results if r.failed and r.kind in FAILURE_REASONS]
    if reasons:
        return f"Quality gate failed: {'; '.join(reasons)}."
    if commit is None:
        return f"Quality gate passed: no baseline ({baseline} is not a revision here)."
    if all(r.old is None for r in gated):
        return f"Quality gate passed: {baseline} has no metrics yet (first run)."
    passed = f"Quality gate passed: no gated metric fell more than {settings.max_drop:g}"
    uncompared = [r for r in gated if r.kind == UNCOMPARED]
    if uncompared:
        passed += (
            f"; {len(uncompared)} of {len(gated)} not compared (no finite value at {baseline})"
        )
    return passed + "."


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="main", help="revision to compare with")
    parser.add_argument("--params", type=Path, default=paths.PARAMS)
    parser.add_argument(
        "--lock-check", type=Path, help="result file of pipeline/check_lock.py (GATE_LOCK_CHECK)"
    )
    parser.add_argument("--result", type=Path, help="also write the verdict here as JSON")
    parser.add_argument(
        "--require-baseline",
        action="store_true",
        default=None,
        help="fail when the baseline is not a revision here (GATE_REQUIRE_BASELINE)",
    )
    args = parser.parse_args(argv)
    if not args.baseline or args.baseline.startswith("-"):
        return params.fail(f"--baseline {args.baseline!r} is not a revision name: e.g. main")
    try:
        results, outcome = check(
            args.baseline,
            compare.committed(args.baseline),
            compare.Workspace(),
            args.params,
            args.lock_check,
            args.require_baseline,
        )
    except GateError as error:
        return params.fail(error)
    for result in results:
        print(result.line)
    print(outcome)
    if args.result:
        write_result(args.result, results, outcome)
    return 1 if any(r.failed for r in results) else 0


def write_result(path: Path, results: list[Result], outcome: str) -> None:
    """The gate's lines and verdict as JSON, for the report (read_result)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"results": [asdict(r) for r in results], "verdict": outcome}
    path.write_text(json.dumps(data, indent=2) + "\n")


def read_result(path: Path) -> tuple[list[Result], str]:
    """What write_result wrote; GateError when the file is missing or not a gate result."""
    try:
        data = json.loads(path.read_text())
        return [Result(**r) for r in data["results"]], data["verdict"]
    except (OSError, ValueError, KeyError, TypeError) as problem:
        raise GateError(f"{path} is not a result of `make gate` ({problem})") from problem


if __name__ == "__main__":
    sys.exit(main())
