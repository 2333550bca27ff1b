"""DVC's `metrics diff` and `params diff` as Markdown tables for the report: laid out and
rounded as DVC's own `--md` tables, with every cell escaped (parameter values and label names
come from the pull request) and long tables capped (pipeline/markdown.py)."""

import functools
import json
import subprocess

from pipeline import markdown


def dvc_diff(dvc: str, kind: str, baseline: str, limit: int | None) -> str:
    """`dvc metrics|params diff` as a Markdown table ('' when nothing changed), laid out and
    rounded as DVC's own `--md` table, with every cell escaped and long tables capped."""
    diff = _dvc_json(dvc, kind, baseline)
    metrics = kind == "metrics"
    rows = []
    for path, changes in diff.items():
        for key, change in sorted(changes.items()):
            values = [change.get("old"), change.get("new")]
            if metrics:
                values.append(change.get("diff"))
            rows.append([markdown.text(path), markdown.text(key), *map(_dvc_value, values)])
    if not rows:
        return ""
    header = ["Path", "Metric" if metrics else "Param", markdown.text(baseline), "workspace"]
    return markdown.table(header + (["Change"] if metrics else []), rows, limit)


@functools.cache
def _dvc_json(dvc: str, kind: str, baseline: str) -> dict:
    """`dvc metrics|params diff --json`, run once for the report's two versions."""
    result = subprocess.run([dvc, kind, "diff", baseline, "--json"], capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()
        raise SystemExit(f"ERROR: dvc {kind} diff {baseline} failed: {detail}")
    return json.loads(result.stdout or "{}")


def _dvc_value(value) -> str:
    """A value as DVC's diff tables show it (metrics: floats rounded to 5 digits)."""
    if value is None:
        return "-"
    if isinstance(value, float):
        value = round(value, 5)
    if isinstance(value, (bool, int, float)):
        return str(value)
    return markdown.code(value if isinstance(value, str) else json.dumps(value))


def metrics_table(dvc: str) -> str:
    """This change's metrics, one per row (`dvc metrics show --md` puts them all in one row)."""
    result = subprocess.run([dvc, "metrics", "show", "--json"], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"ERROR: dvc metrics show failed: {result.stderr.strip()}")
    rows = []
    for revision in json.loads(result.stdout or "{}").values():
        for path, entry in sorted(revision.get("data", {}).items()):
            for key, value in flatten(entry.get("data", {})):
                rows.append([markdown.text(path), markdown.text(key), _dvc_value(value)])
    return markdown.table(["Path", "Metric", "Value"], rows, limit=None)


def flatten(data: dict, prefix: str = ""):
    for key, value in sorted(data.items()):
        if isinstance(value, dict):
            yield from flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value
