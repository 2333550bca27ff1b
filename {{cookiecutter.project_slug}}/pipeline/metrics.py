"""Turn the reports of `rasa test` into compact metrics, plot data and details DVC tracks.

    python -m pipeline.metrics results      (the test stage, after `rasa test --out results`)

Writes, from what Rasa reported (a bot without entities or retrieval intents gets no file for
them, rather than zeros):
    metrics/nlu.json        intents: accuracy, weighted_f1, macro_f1, intent_f1.<intent>
    metrics/entities.json   per entity extractor: weighted_f1, precision, recall and, per
                            entity, entity_f1, entity_precision, entity_recall
    metrics/responses.json  retrieval intents: accuracy, weighted_f1, macro_f1, response_f1.<key>
    metrics/core.json       stories: conversation_accuracy, action_accuracy, action_f1, ...
    plots/intent_confusion.csv, plots/intent_f1.csv, plots/entity_f1.csv
    evaluation/failed_stories.json   each failed test story and its first wrong turn
Rasa's reports key averages as "weighted avg" (DVC would show `weighted avg.f1-score`); the
files written here use short snake_case names instead.
"""

import argparse
import csv
import json
import re
import sys
from pathlib import Path

from pipeline import paths

AVERAGES = {"accuracy", "macro avg", "weighted avg", "micro avg"}
# <Extractor>_report.json files that are not entity extractors' reports.
NOT_ENTITY_REPORTS = {"intent", "response_selection", "story", "TEDPolicy"}
STORY = re.compile(r"^- story: (?P<name>.+?)(?: \((?P<file>[^()]*)\))?$")
WRONG_TURN = re.compile(r"^\s*- (?P<kind>\w+): (?P<expected>.*?)\s+# predicted: (?P<predicted>.+)$")


def _read(path: Path):
    return json.loads(path.read_text()) if path.exists() else None


def _round(value: float) -> float:
    return round(float(value), 4)


def _labels(report: dict) -> list[str]:
    return sorted(k for k, v in report.items() if k not in AVERAGES and isinstance(v, dict))


def _accuracy(report: dict) -> float:
    # sklearn reports micro avg instead of accuracy when some labels were never predicted
    if isinstance(report.get("accuracy"), (int, float)):
        return report["accuracy"]
    return report["micro avg"]["f1-score"]


def nlu_metrics(report: dict) -> dict:
    return {
        "accuracy": _round(_accuracy(report)),
        "weighted_f1": _round(report["weighted avg"]["f1-score"]),
        "macro_f1": _round(report["macro avg"]["f1-score"]),
        "intent_f1": {name: _round(report[name]["f1-score"]) for name in _labels(report)},
    }


def entity_metrics(report: dict) -> dict | None:
    """One extractor's report, or None when it had no entity to evaluate."""
    entities = _labels(report)
    if not entities or "weighted avg" not in report:
        return None
    weighted = report["weighted avg"]
    return {
        "weighted_f1": _round(weighted["f1-score"]),
        "precision": _round(weighted["precision"]),
        "recall": _round(weighted["recall"]),
        "entity_f1": {name: _round(report[name]["f1-score"]) for name in entities},
        "entity_precision": {name: _round(report[name]["precision"]) for name in entities},
        "entity_recall": {name: _round(report[name]["recall"]) for name in entities},
    }


def all_entity_metrics(results: Path) -> dict:
    found = {}
    for path in sorted(results.glob("*_report.json")):
        extractor = path.name[: -len("_report.json")]
        if extractor in NOT_ENTITY_REPORTS:
            continue
        metrics = entity_metrics(json.loads(path.read_text()))
        if metrics:
            found[extractor] = metrics
    return found


def response_metrics(report: dict | None) -> dict | None:
    if not report or not _labels(report):
        return None
    return {
        "accuracy": _round(_accuracy(report)),
        "weighted_f1": _round(report["weighted avg"]["f1-score"]),
        "macro_f1": _round(report["macro avg"]["f1-score"]),
        "response_f1": {name: _round(report[name]["f1-score"]) for name in _labels(report)},
    }


def core_metrics(report: dict) -> dict:
    conversations = report["conversation_accuracy"]
    return {
        "conversation_accuracy": _round(conversations["accuracy"]),
        "conversations_correct": conversations["correct"],
        "conversations_total": conversations["total"],
        "action_accuracy": _round(_accuracy(report)),
        "action_f1": _round(report["weighted avg"]["f1-score"]),
    }


def confusion_rows(results: Path) -> list[dict]:
    """One row per held-out example: its text, the intent it has, the intent predicted."""
    predictions = (_read(results / "intent_successes.json") or []) + (
        _read(results / "intent_errors.json") or []
    )
    rows = [
        {
            "actual": p["intent"],
            "predicted": (p.get("intent_prediction") or {}).get("name") or "None",
            "text": p["text"],
        }
        for p in predictions
    ]
    return sorted(rows, key=lambda r: (r["actual"], r["predicted"], r["text"]))


def failed_stories(path: Path) -> list[dict]:
    """Each story of Rasa's failed_test_stories.yml with its first wrong turn.

    Rasa marks a wrong turn with a `# predicted: ...` comment, which a YAML parser drops,
    so the file is read line by line.
    """
    if not path.exists():
        return []
    stories = []
    for line in path.read_text().splitlines():
        story = STORY.match(line)
        if story:
            stories.append({"story": story["name"], "file": story["file"], "first_wrong": None})
            continue
        wrong = WRONG_TURN.match(line)
        if wrong and stories and stories[-1]["first_wrong"] is None:
            stories[-1]["first_wrong"] = {
                "kind": wrong["kind"],
                "expected": wrong["expected"],
                "predicted": wrong["predicted"],
            }
    return stories


def _write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def _write_csv(path: Path, fields: list, rows: list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def entity_f1_rows(entities: dict) -> list[dict]:
    several = len(entities) > 1
    return [
        {"entity": f"{name} ({extractor})" if several else name, "f1": f1}
        for extractor, metrics in entities.items()
        for name, f1 in metrics["entity_f1"].items()
    ]


def write_all(results: Path, root: Path = Path(".")) -> dict:
    """Every metrics, plot and details file from one `rasa test` output folder."""
    written = {}
    nlu = nlu_metrics(json.loads((results / "intent_report.json").read_text()))
    _write_json(root / paths.NLU_METRICS, nlu)
    written["nlu"] = nlu
    _write_csv(
        root / paths.INTENT_CONFUSION,
        ["actual", "predicted", "text"],
        confusion_rows(results),
    )
    f1_rows = [{"intent": k, "f1": v} for k, v in nlu["intent_f1"].items()]
    _write_csv(root / paths.INTENT_F1, ["intent", "f1"], f1_rows)

    entities = all_entity_metrics(results)
    if entities:
        _write_json(root / paths.ENTITY_METRICS, entities)
        _write_csv(root / paths.ENTITY_F1, ["entity", "f1"], entity_f1_rows(entities))
        written["entities"] = entities
    responses = response_metrics(_read(results / "response_selection_report.json"))
    if responses:
        _write_json(root / paths.RESPONSE_METRICS, responses)
        written["responses"] = responses

    core = core_metrics(json.loads((results / "story_report.json").read_text()))
    _write_json(root / paths.CORE_METRICS, core)
    written["core"] = core
    _write_json(root / paths.FAILED_STORIES, failed_stories(results / "failed_test_stories.yml"))
    return written


def summary(written: dict) -> list[str]:
    """The headline figures, one per line, for a person reading the end of `make repro`."""
    nlu, core = written["nlu"], written["core"]
    lines = [
        f"intents      accuracy {nlu['accuracy']:.4f}  weighted F1 {nlu['weighted_f1']:.4f}"
        f"  ({len(nlu['intent_f1'])} intents)",
    ]
    for extractor, metrics in written.get("entities", {}).items():
        lines.append(
            f"entities     weighted F1 {metrics['weighted_f1']:.4f}  precision "
            f"{metrics['precision']:.4f}  recall {metrics['recall']:.4f}  ({extractor})"
        )
    if "responses" in written:
        responses = written["responses"]
        lines.append(
            f"responses    accuracy {responses['accuracy']:.4f}  weighted F1 "
            f"{responses['weighted_f1']:.4f}  ({len(responses['response_f1'])} responses)"
        )
    lines.append(
        f"stories      {core['conversations_correct']}/{core['conversations_total']} correct"
        f" (conversation accuracy {core['conversation_accuracy']:.4f}), action F1 "
        f"{core['action_f1']:.4f}"
    )
    return lines


def read_all(root: Path = Path(".")) -> dict:
    """What write_all() wrote, read back from metrics/."""
    names = ["nlu", "entities", "responses", "core"]
    found = {name: _read(root / paths.METRICS / f"{name}.json") for name in names}
    return {key: value for key, value in found.items() if value is not None}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, nargs="?", default=paths.RESULTS)
    parser.add_argument(
        "--summary", action="store_true", help="only print the headline metrics of metrics/"
    )
    args = parser.parse_args(argv)
    written = read_all() if args.summary else write_all(args.results)
    if not {"nlu", "core"} <= written.keys():
        print("ERROR: metrics/ is incomplete: run `make repro`", file=sys.stderr)
        return 1
    print("\n".join(summary(written)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
