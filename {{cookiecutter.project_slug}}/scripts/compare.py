"""What changed between a baseline revision's evaluation and the workspace's.

Plain functions over the files the pipeline commits (metrics/, plots/, evaluation/), read once
by scripts/report.py: the baseline's from git, the workspace's from disk.
"""

import csv
import io
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

FILES = {
    "nlu": "metrics/nlu.json",
    "entities": "metrics/entities.json",
    "responses": "metrics/responses.json",
    "core": "metrics/core.json",
    "validation": "evaluation/validation.json",
    "failed_stories": "evaluation/failed_stories.json",
    "predictions": "plots/intent_confusion.csv",
}


@dataclass
class Evaluation:
    """One revision's committed evaluation files, parsed; None where a file is missing."""

    nlu: dict | None = None
    entities: dict | None = None
    responses: dict | None = None
    core: dict | None = None
    validation: dict | None = None
    failed_stories: list | None = None
    predictions: list | None = None


def _parse(path: str, text: str | None):
    if text is None:
        return None
    if path.endswith(".csv"):
        return list(csv.DictReader(io.StringIO(text)))
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


def _show(commit: str, path: str) -> str | None:
    result = subprocess.run(["git", "show", f"{commit}:{path}"], capture_output=True, text=True)
    return result.stdout if result.returncode == 0 else None


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text()
    except OSError:
        return None


def at_commit(commit: str) -> Evaluation:
    return Evaluation(**{key: _parse(path, _show(commit, path)) for key, path in FILES.items()})


def in_workspace() -> Evaluation:
    return Evaluation(**{key: _parse(path, _read(path)) for key, path in FILES.items()})


def scores_that_fell(old: dict | None, new: dict | None) -> list[tuple[str, float, float]]:
    """(name, before, now) of every score in both mappings that is lower now, worst first."""
    old, new = old or {}, new or {}
    fell = [(name, old[name], new[name]) for name in old if name in new and new[name] < old[name]]
    return sorted(fell, key=lambda row: (row[2] - row[1], row[0]))


def entities_that_fell(old: dict | None, new: dict | None) -> list[tuple[str, str, float, float]]:
    """(extractor, entity, before, now) for each entity whose F1 fell, per extractor."""
    rows = []
    for extractor, metrics in (new or {}).items():
        before = ((old or {}).get(extractor) or {}).get("entity_f1")
        for name, was, now in scores_that_fell(before, metrics.get("entity_f1")):
            rows.append((extractor, name, was, now))
    return rows


@dataclass
class Change:
    text: str
    actual: str
    before: str
    now: str


def changed_predictions(old: list | None, new: list | None) -> tuple[list[Change], list[Change]]:
    """Held-out examples whose predicted intent changed: (now right, now wrong).

    An example is matched by its text and intent; one that is only in one revision's test
    set is not a change of prediction.
    """
    before = {(r["text"], r["actual"]): r["predicted"] for r in old or [] if "text" in r}
    better, worse = [], []
    for row in new or []:
        key = (row.get("text"), row["actual"])
        if key not in before or before[key] == row["predicted"]:
            continue
        change = Change(row["text"], row["actual"], before[key], row["predicted"])
        if row["predicted"] == row["actual"]:
            better.append(change)
        elif before[key] == row["actual"]:
            worse.append(change)
    return better, worse


def story_status(failed: list | None, baseline_failed: list | None) -> list[tuple[dict, str]]:
    """Each failed story now, with how it did at the baseline: passed, failed, or unknown."""
    if baseline_failed is None:
        return [(story, "unknown") for story in failed or []]
    failed_before = {story["story"] for story in baseline_failed}
    return [
        (story, "failed" if story["story"] in failed_before else "passed") for story in failed or []
    ]


def new_warnings(now: dict | None, before: dict | None) -> tuple[list[str], list[str]]:
    """(new since the baseline, already there) among the validation warnings now."""
    current = (now or {}).get("warnings") or []
    if before is None:
        return [], current
    known = set(before.get("warnings") or [])
    return [w for w in current if w not in known], [w for w in current if w in known]
