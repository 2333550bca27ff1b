"""Check that dvc.lock belongs to this commit: its stages ran on the code, data, params and
commands that are here, so the metrics committed with it are this commit's own.

    python -m pipeline.check_lock --dvc .venv-dvc/bin/dvc       (what `make check-lock` runs)

Asks `dvc status` which stages changed and keeps what makes a lock stale: a changed command,
a changed dependency that no stage produces (code, data, params), a stage missing from the lock,
and a file kept in git as a stage's output (`cache: false`, e.g. metrics/) that differs from what
the lock recorded. The hashes of a stage's own outputs and of dependencies produced by another
stage are left out: outputs may not be here yet (before `dvc pull`) and may differ in their
bytes across machines.

Exit 1 when the lock is stale. With --result FILE (CI), the verdict is written to FILE as JSON
for the quality gate (pipeline/gate.py, GATE_LOCK_CHECK) and the exit is 0; --notes FILE appends
a Markdown section for the report.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

from pipeline import params, paths
from pipeline.fixes import STALE_LOCK
from pipeline.markdown import code, text


class CheckError(Exception):
    pass


def dvc_status(dvc: str) -> dict:
    """`dvc status --json`: stage -> list of changes (dicts of changed deps/outs, or strings)."""
    try:
        result = subprocess.run([dvc, "status", "--json"], capture_output=True, text=True)
    except OSError as error:
        raise CheckError(f"cannot run {dvc}: {error.strerror} (run `make install`)") from error
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise CheckError(f"dvc status failed: {detail[-1] if detail else result.returncode}")
    lines = result.stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines else {}


def out_paths(entries) -> set[str]:
    """Paths of a dvc.yaml `outs`/`metrics`/`plots` list (strings or one-key mappings)."""
    paths = set()
    for entry in entries or []:
        path = next(iter(entry)) if isinstance(entry, dict) else entry
        if isinstance(path, str) and "${" not in path:
            paths.add(path.rstrip("/"))
    return paths


def stage_definitions(dvc_yaml: dict) -> dict:
    stages = {}
    for name, stage in (dvc_yaml.get("stages") or {}).items():
        stages[name] = stage.get("do", stage) if isinstance(stage, dict) else {}
    return stages


def outputs(dvc_yaml: dict, lock: dict) -> set[str]:
    """Every path a stage produces, from dvc.yaml and (resolved) from dvc.lock."""
    paths = set()
    for stage in stage_definitions(dvc_yaml).values():
        for kind in ("outs", "metrics", "plots"):
            paths |= out_paths(stage.get(kind))
    for stage in (lock.get("stages") or {}).values():
        paths |= {out["path"].rstrip("/") for out in stage.get("outs") or [] if "path" in out}
    return paths


def git_tracked(paths: set[str]) -> set[str]:
    if not paths:
        return set()
    result = subprocess.run(
        ["git", "ls-files", "--", *sorted(paths)], capture_output=True, text=True
    )
    return set(result.stdout.split()) if result.returncode == 0 else set()


def produced(path: str, outs: set[str]) -> bool:
    return any(path == out or path.startswith(out + "/") for out in outs)


def stage_problems(stage: str, changes: list, outs: set[str], tracked: set[str]) -> list[str]:
    problems = []
    for change in changes:
        if change == "changed command":
            problems.append(f"{code(stage)}: its command changed")
        if not isinstance(change, dict):
            continue
        for path, status in (change.get("changed deps") or {}).items():
            if isinstance(status, dict):  # params: {key: status}
                keys = ", ".join(code(key) for key in sorted(status))
                problems.append(f"{code(stage)}: {keys} in {code(path)} changed")
            elif not produced(path, outs):
                problems.append(f"{code(stage)}: {code(path)} changed ({text(status)})")
        for path, status in (change.get("changed outs") or {}).items():
            if status == "modified" and path in tracked:
                problems.append(
                    f"{code(stage)}: {code(path)} differs from the output dvc.lock recorded"
                )
    return problems


def read_stages(path: Path) -> dict:
    """dvc.yaml or dvc.lock; {} when the file is empty. Its `stages` must map names to stage
    mappings (DVC refuses anything else too; here it would end in a traceback)."""
    data = params.read_yaml(path, CheckError)
    if data is not None and not isinstance(data, dict):
        raise CheckError(f"{path} must be a mapping of stages")
    stages = (data or {}).get("stages")
    if stages is not None and not (
        isinstance(stages, dict) and all(isinstance(s, dict) for s in stages.values())
    ):
        raise CheckError(f"{path}: `stages` must map each stage name to its settings")
    return data or {}


def check(dvc: str) -> list[str]:
    """What makes dvc.lock stale here, one line each; [] when it matches."""
    dvc_yaml = read_stages(paths.DVC_YAML)
    if not stage_definitions(dvc_yaml):
        return []
    lock_path = paths.DVC_LOCK
    if not lock_path.exists():
        return ["`dvc.lock` is missing: no stage's results are committed"]
    lock = read_stages(lock_path)
    locked = set(lock.get("stages") or {})
    outs = outputs(dvc_yaml, lock)
    tracked = git_tracked(outs)
    problems = []
    for stage, changes in dvc_status(dvc).items():
        name = stage.rsplit(":", 1)[-1]  # `dvc.yaml:train` outside the project root
        if name not in locked:
            problems.append(f"{code(name)}: not in dvc.lock (it never ran for this commit)")
            continue
        problems += stage_problems(name, changes, outs, tracked)
    return problems


def markdown(problems: list[str]) -> str:
    if not problems:
        return "`dvc.lock` matches this commit's code, data, params and commands."
    lines = "\n".join(f"- {problem}" for problem in problems)
    return (
        "**`dvc.lock` is stale**: the results committed with this change did not come from its "
        "inputs, so the comparison with the baseline (and, once merged, every later change's "
        f"baseline) uses old numbers. To fix it, {STALE_LOCK}.\n\n{lines}"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dvc", default="dvc", help="the dvc executable")
    parser.add_argument("--result", type=Path, help="write the verdict here as JSON; exit 0")
    parser.add_argument("--notes", type=Path, help="append a Markdown note for the report")
    args = parser.parse_args(argv)
    try:
        problems = check(args.dvc)
    except CheckError as error:
        return params.fail(error)
    for problem in problems:
        print(f"stale: {problem}")
    fresh = "dvc.lock matches this commit's inputs."
    print(f"dvc.lock is stale: {STALE_LOCK}." if problems else fresh)
    if args.result:
        args.result.parent.mkdir(parents=True, exist_ok=True)
        args.result.write_text(json.dumps({"stale": bool(problems), "problems": problems}))
    if args.notes:
        args.notes.parent.mkdir(parents=True, exist_ok=True)
        with args.notes.open("a") as notes:
            notes.write(markdown(problems) + "\n\n")
    return 1 if problems and not args.result else 0


if __name__ == "__main__":
    sys.exit(main())
