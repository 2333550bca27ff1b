"""Turn the reports of `rasa test` into headline metrics, per-label figures and plot data.

    python -m pipeline.metrics results      (the test stage, after `rasa test --out results`)

Writes, from what Rasa reported (a bot without entities or retrieval intents gets no file for
them, rather than zeros):
    metrics/nlu.json        intents: accuracy, weighted_f1, macro_f1, examples
    metrics/entities.json   per entity extractor: weighted_f1, precision, recall
    metrics/responses.json  retrieval intents: accuracy, weighted_f1, macro_f1
    metrics/core.json       stories: conversation_accuracy, action_accuracy, action_f1, ...
    evaluation/intents.json, entities.json (per extractor), responses.json: per label f1,
                            precision, recall and support (held-out examples)
    plots/intent_confusion.csv, plots/intent_f1.csv, plots/entity_f1.csv
    evaluation/failed_stories.json   each failed test story and its first wrong turn
metrics/ holds headline figures only, so `dvc metrics show` and `dvc exp show` stay a few columns
wide whatever the number of intents; the per-label figures live in evaluation/ for the report.
Rasa's reports key averages as "weighted avg" (DVC would show `weighted avg.f1-score`); the
files written here use short snake_case names instead.
"""

import argparse
import csv
import json
import re
import sys
from pathlib import Path

import yaml

from pipeline import paths

AVERAGES = {"accuracy", "macro avg", "weighted avg", "micro avg"}
# <Extractor>_report.json files that are not entity extractors' reports.
NOT_ENTITY_REPORTS = {"intent", "response_selection", "story", "TEDPolicy"}
STORY_LINE = re.compile(r"^- story:")  # Rasa writes each failed story at column 0
# Rasa names a failed story "<name> (<test stories file>)".
SOURCE = re.compile(r"^(?P<name>.*) \((?P<file>[^()]*)\)$", re.DOTALL)
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


def label_figures(report: dict) -> dict:
    """{label: {f1, precision, recall, support}} of one Rasa report, labels sorted."""
    return {
        name: {
            "f1": _round(report[name]["f1-score"]),
            "precision": _round(report[name]["precision"]),
            "recall": _round(report[name]["recall"]),
            "support": int(report[name]["support"]),
        }
        for name in _labels(report)
    }


def nlu_metrics(report: dict) -> dict:
    return {
        "accuracy": _round(_accuracy(report)),
        "weighted_f1": _round(report["weighted avg"]["f1-score"]),
        "macro_f1": _round(report["macro avg"]["f1-score"]),
        "examples": int(report["weighted avg"]["support"]),
    }


def entity_metrics(report: dict) -> dict | None:
    """One extractor's headline figures, or None when it had no entity to evaluate."""
    if not _labels(report) or "weighted avg" not in report:
        return None
    weighted = report["weighted avg"]
    return {
        "weighted_f1": _round(weighted["f1-score"]),
        "precision": _round(weighted["precision"]),
        "recall": _round(weighted["recall"]),
    }


def entity_reports(results: Path) -> dict:
    """{extractor: its Rasa report} for every extractor that evaluated an entity."""
    found = {}
    for path in sorted(results.glob("*_report.json")):
        extractor = path.name[: -len("_report.json")]
        if extractor in NOT_ENTITY_REPORTS:
            continue
        report = json.loads(path.read_text())
        if entity_metrics(report):
            found[extractor] = report
    return found


def response_metrics(report: dict | None) -> dict | None:
    if not report or not _labels(report):
        return None
    return {
        "accuracy": _round(_accuracy(report)),
        "weighted_f1": _round(report["weighted avg"]["f1-score"]),
        "macro_f1": _round(report["macro avg"]["f1-score"]),
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

    Names come from a YAML parser (Rasa quotes a name holding `: `, ` #` or quotes); the
    `# predicted: ...` comments that mark a wrong turn are dropped by any parser, so they are
    read line by line, each story's lines starting at its `- story:` line.
    """
    if not path.exists():
        return []
    text = path.read_text()
    parsed = (yaml.safe_load(text) or {}).get("stories") or []
    blocks: list[list[str]] = []
    for line in text.splitlines():
        if STORY_LINE.match(line):
            blocks.append([])
        elif blocks:
            blocks[-1].append(line)
    stories = []
    for story, lines in zip(parsed, blocks, strict=True):
        source = SOURCE.match(str(story["story"]))
        name, file = (source["name"], source["file"]) if source else (str(story["story"]), None)
        stories.append({"story": name, "file": file, "first_wrong": _first_wrong(lines)})
    return stories


def _first_wrong(lines: list[str]) -> dict | None:
    for line in lines:
        wrong = WRONG_TURN.match(line)
        if wrong:
            return {
                "kind": wrong["kind"],
                "expected": wrong["expected"],
                "predicted": wrong["predicted"],
            }
    return None


def _write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def _write_csv(path: Path, fields: list, rows: list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def entity_f1_rows(entity_labels: dict) -> list[dict]:
    several = len(entity_labels) > 1
    return [
        {"entity": f"{name} ({extractor})" if several else name, "f1": figures["f1"]}
        for extractor, labels in entity_labels.items()
        for name, figures in labels.items()
    ]


def _write_or_remove(path: Path, data) -> None:
    """Writes data, or removes what an earlier run wrote when there is none now."""
    if data:
        _write_json(path, data)
    else:
        path.unlink(missing_ok=True)


def write_all(results: Path, root: Path = Path(".")) -> dict:
    """Every metrics, per-label, plot and details file from one `rasa test` output folder."""
    intent_report = json.loads((results / "intent_report.json").read_text())
    entities = entity_reports(results)
    response_report = _read(results / "response_selection_report.json")
    written = {
        "nlu": nlu_metrics(intent_report),
        "entities": {name: entity_metrics(report) for name, report in entities.items()},
        "responses": response_metrics(response_report),
        "core": core_metrics(json.loads((results / "story_report.json").read_text())),
        "intents": label_figures(intent_report),
        "entity_labels": {name: label_figures(report) for name, report in entities.items()},
        "response_labels": label_figures(response_report) if response_report else {},
    }
    for name in ("nlu", "entities", "responses", "core"):
        _write_or_remove(root / paths.METRICS / f"{name}.json", written[name])
    _write_or_remove(root / paths.INTENT_LABELS, written["intents"])
    _write_or_remove(root / paths.ENTITY_LABELS, written["entity_labels"])
    _write_or_remove(root / paths.RESPONSE_LABELS, written["response_labels"])

    _write_csv(
        root / paths.INTENT_CONFUSION,
        ["actual", "predicted", "text"],
        confusion_rows(results),
    )
    f1_rows = [{"intent": k, "f1": v["f1"]} for k, v in written["intents"].items()]
    _write_csv(root / paths.INTENT_F1, ["intent", "f1"], f1_rows)
    if entities:
        rows = entity_f1_rows(written["entity_labels"])
        _write_csv(root / paths.ENTITY_F1, ["entity", "f1"], rows)
    else:
        (root / paths.ENTITY_F1).unlink(missing_ok=True)
    _write_json(root / paths.FAILED_STORIES, failed_stories(results / "failed_test_stories.yml"))
    return {key: value for key, value in written.items() if value}


def summary(written: dict) -> list[str]:
    """The headline figures, one per line, for a person reading the end of `make repro`."""
    nlu, core = written["nlu"], written["core"]
    lines = [
        f"intents      accuracy {nlu['accuracy']:.4f}  weighted F1 {nlu['weighted_f1']:.4f}"
        f"  ({len(written.get('intents') or {})} intents, {nlu['examples']} examples)",
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
            f"{responses['weighted_f1']:.4f}  ({len(written.get('response_labels') or {})}"
            " responses)"
        )
    lines.append(
        f"stories      {core['conversations_correct']}/{core['conversations_total']} correct"
        f" (conversation accuracy {core['conversation_accuracy']:.4f}), action F1 "
        f"{core['action_f1']:.4f}"
    )
    return lines


def read_all(root: Path = Path(".")) -> dict:
    """What write_all() wrote, read back from metrics/ and evaluation/."""
    found = {name: _read(root / paths.METRICS / f"{name}.json") for name in ("nlu", "entities")}
    found |= {name: _read(root / paths.METRICS / f"{name}.json") for name in ("responses", "core")}
    found["intents"] = _read(root / paths.INTENT_LABELS)
    found["entity_labels"] = _read(root / paths.ENTITY_LABELS)
    found["response_labels"] = _read(root / paths.RESPONSE_LABELS)
    return {key: value for key, value in found.items() if value}


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
