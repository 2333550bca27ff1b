"""Turn Rasa's test reports into compact metrics and plot data that DVC tracks.

    python scripts/metrics.py nlu results/nlu   -> metrics/nlu.json, plots/intent_*.csv
    python scripts/metrics.py core results/core -> metrics/core.json

Rasa's reports key averages as "weighted avg" (shown by DVC as `weighted avg.f1-score`);
the files written here use short snake_case names instead.
"""

import csv
import json
import sys
from pathlib import Path

AVERAGES = {"accuracy", "macro avg", "weighted avg", "micro avg"}


def _read(path: Path):
    return json.loads(path.read_text()) if path.exists() else []


def _round(value: float) -> float:
    return round(float(value), 4)


def nlu_metrics(report: dict) -> dict:
    intents = sorted(k for k, v in report.items() if k not in AVERAGES and isinstance(v, dict))
    return {
        "accuracy": _round(report["accuracy"]),
        "weighted_f1": _round(report["weighted avg"]["f1-score"]),
        "macro_f1": _round(report["macro avg"]["f1-score"]),
        "intent_f1": {name: _round(report[name]["f1-score"]) for name in intents},
    }


def confusion_rows(results_dir: Path) -> list:
    """One (actual, predicted) row per test example, for DVC's confusion template."""
    predictions = _read(results_dir / "intent_successes.json") + _read(
        results_dir / "intent_errors.json"
    )
    rows = [
        {
            "actual": p["intent"],
            "predicted": (p.get("intent_prediction") or {}).get("name") or "None",
        }
        for p in predictions
    ]
    return sorted(rows, key=lambda r: (r["actual"], r["predicted"]))


def core_metrics(report: dict) -> dict:
    conversations = report["conversation_accuracy"]
    return {
        "conversation_accuracy": _round(conversations["accuracy"]),
        "conversations_correct": conversations["correct"],
        "conversations_total": conversations["total"],
        "action_accuracy": _round(report["accuracy"]),
        "action_f1": _round(report["weighted avg"]["f1-score"]),
    }


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def _write_csv(path: Path, fields: list, rows: list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def write_nlu(results_dir: Path, root: Path = Path(".")) -> dict:
    metrics = nlu_metrics(json.loads((results_dir / "intent_report.json").read_text()))
    _write_json(root / "metrics/nlu.json", metrics)
    _write_csv(
        root / "plots/intent_confusion.csv", ["actual", "predicted"], confusion_rows(results_dir)
    )
    f1_rows = [{"intent": k, "f1": v} for k, v in metrics["intent_f1"].items()]
    _write_csv(root / "plots/intent_f1.csv", ["intent", "f1"], f1_rows)
    return metrics


def write_core(results_dir: Path, root: Path = Path(".")) -> dict:
    metrics = core_metrics(json.loads((results_dir / "story_report.json").read_text()))
    _write_json(root / "metrics/core.json", metrics)
    return metrics


if __name__ == "__main__":
    kind, results = sys.argv[1], Path(sys.argv[2])
    {"nlu": write_nlu, "core": write_core}[kind](results)
