"""What changed between a baseline revision's evaluation and the workspace's.

A Revision reads the files the pipeline commits (metrics/, plots/, evaluation/) once each: the
baseline's from git, the workspace's from disk. pipeline/report.py makes the two once and shares
them among its sections, the quality gate (pipeline/gate.py) and its charts; then plain functions
over the parsed files say what changed.
"""

import csv
import io
import json
import subprocess
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from pipeline import paths

FILES = {
    "nlu": paths.NLU_METRICS.as_posix(),
    "config": paths.MERGED_CONFIG.as_posix(),  # the text itself
    "entities": paths.ENTITY_METRICS.as_posix(),
    "responses": paths.RESPONSE_METRICS.as_posix(),
    "core": paths.CORE_METRICS.as_posix(),
    "validation": paths.VALIDATION.as_posix(),
    "failed_stories": paths.FAILED_STORIES.as_posix(),
    "predictions": paths.INTENT_CONFUSION.as_posix(),
    "intents": paths.INTENT_LABELS.as_posix(),
    "entity_labels": paths.ENTITY_LABELS.as_posix(),
    "response_labels": paths.RESPONSE_LABELS.as_posix(),
}


@dataclass
class Evaluation:
    """One revision's evaluation files, parsed; None where a file is missing."""

    nlu: dict | None = None
    config: str | None = None  # models/config.yml as trained
    entities: dict | None = None
    responses: dict | None = None
    core: dict | None = None
    validation: dict | None = None
    failed_stories: list | None = None
    predictions: list | None = None
    intents: dict | None = None  # {intent: {f1, precision, recall, support}}
    entity_labels: dict | None = None  # {extractor: {entity: {f1, precision, recall, support}}}
    response_labels: dict | None = None  # {retrieval intent/key: {f1, ...}}


def _parse(path: str, text: str | None):
    if text is None:
        return None
    if path.endswith(".yml"):
        return text
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


def resolve(rev: str) -> str | None:
    """The commit a revision names, or None when the repository has no such revision."""
    result = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", rev + "^{commit}"],
        capture_output=True,
        text=True,
    )
    return result.stdout.strip() if result.returncode == 0 else None


class Revision:
    """The files as committed at `commit`, each read at most once; a baseline that is not a
    revision here (commit None) has none."""

    def __init__(self, commit: str | None) -> None:
        self.commit = commit
        self._texts: dict[str, str | None] = {}

    def _load(self, path: str) -> str | None:
        return _show(self.commit, path) if self.commit else None

    def text(self, path: str) -> str | None:
        """The file's text, or None when this revision has no such file."""
        if path not in self._texts:
            self._texts[path] = self._load(path)
        return self._texts[path]

    def data(self, path: str):
        """The file parsed (JSON, or a list of rows for .csv); None when missing or invalid."""
        return _parse(path, self.text(path))

    @cached_property
    def evaluation(self) -> Evaluation:
        """The evaluation files (FILES), parsed once."""
        return Evaluation(**{key: self.data(path) for key, path in FILES.items()})


class Workspace(Revision):
    """The files as they are on disk, each read at most once."""

    def __init__(self) -> None:
        super().__init__(commit=None)

    def _load(self, path: str) -> str | None:
        return _read(path)


def committed(rev: str) -> Revision:
    """The files committed at the revision `rev` names (none when it is not a revision here)."""
    return Revision(resolve(rev))


def scores_that_fell(old: dict | None, new: dict | None) -> list[tuple[str, float, float]]:
    """(name, before, now) of every score in both mappings that is lower now, worst first."""
    old, new = old or {}, new or {}
    fell = [(name, old[name], new[name]) for name in old if name in new and new[name] < old[name]]
    return sorted(fell, key=lambda row: (row[2] - row[1], row[0]))


def f1_scores(labels: dict | None) -> dict:
    """{label: f1} of per-label figures (evaluation/intents.json, responses.json, ...)."""
    return {name: figures["f1"] for name, figures in (labels or {}).items()}


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


def new_warnings(now: dict, before: dict) -> tuple[list[str], list[str]]:
    """(new since the baseline, already there) among the validation warnings now."""
    current = now.get("warnings") or []
    known = set(before.get("warnings") or [])
    return [w for w in current if w not in known], [w for w in current if w in known]


# Per-label figures with their support from evaluation/; a baseline committed before those
# files existed gives its F1 from metrics/ (no support).


def intent_scores(evaluation: Evaluation) -> dict:
    """{intent: {"f1", "support", ...}}."""
    if evaluation.intents is not None:
        return evaluation.intents
    return _f1_only((evaluation.nlu or {}).get("intent_f1"))


def entity_scores(evaluation: Evaluation) -> dict:
    """{extractor: {entity: {"f1", "support", ...}}}."""
    if evaluation.entity_labels is not None:
        return evaluation.entity_labels
    old = evaluation.entities or {}
    return {ex: _f1_only(m.get("entity_f1")) for ex, m in old.items() if m.get("entity_f1")}


def response_scores(evaluation: Evaluation) -> dict:
    """{response key: {"f1", "support", ...}}."""
    if evaluation.response_labels is not None:
        return evaluation.response_labels
    return _f1_only((evaluation.responses or {}).get("response_f1"))


def _f1_only(scores: dict | None) -> dict:
    return {name: {"f1": f1} for name, f1 in (scores or {}).items()}
