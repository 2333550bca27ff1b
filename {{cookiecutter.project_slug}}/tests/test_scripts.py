"""Unit tests for the pipeline's scripts: write_config.py, split_nlu.py and metrics.py."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from rasa.shared.nlu.training_data.loading import load_data

from scripts import metrics, split_nlu, write_config

ROOT = Path(__file__).resolve().parents[1]

# --- write_config.py ----------------------------------------------------------------------

PARAMS = {
    "train": {
        "random_seed": 7,
        "diet_epochs": 11,
        "ted_epochs": 13,
        "ted_max_history": 3,
        "fallback_threshold": 0.45,
        "ambiguity_threshold": 0.05,
    }
}


def component(components: list, name: str) -> dict:
    [found] = [c for c in components if c["name"] == name]
    return found


def test_rasa_config_puts_each_param_in_its_component():
    config = write_config.rasa_config(PARAMS, assistant_id="my-bot")

    assert config["assistant_id"] == "my-bot"
    assert config["language"] == "en"
    diet = component(config["pipeline"], "DIETClassifier")
    assert (diet["epochs"], diet["random_seed"]) == (11, 7)
    fallback = component(config["pipeline"], "FallbackClassifier")
    assert (fallback["threshold"], fallback["ambiguity_threshold"]) == (0.45, 0.05)
    ted = component(config["policies"], "TEDPolicy")
    assert (ted["epochs"], ted["random_seed"], ted["max_history"]) == (13, 7, 3)
    assert [p["name"] for p in config["policies"]] == [
        "MemoizationPolicy",
        "RulePolicy",
        "TEDPolicy",
    ]


def test_rasa_config_changes_with_params():
    changed = {"train": dict(PARAMS["train"], diet_epochs=50, random_seed=1)}

    diet = component(write_config.rasa_config(changed, "my-bot")["pipeline"], "DIETClassifier")

    assert (diet["epochs"], diet["random_seed"]) == (50, 1)


def test_main_writes_header_then_the_config(tmp_path):
    params_file, out = tmp_path / "params.yaml", tmp_path / "config.yml"
    params_file.write_text(yaml.safe_dump(PARAMS))

    write_config.main(str(params_file), str(out))

    text = out.read_text()
    assert text.startswith(write_config.HEADER)
    assert all(line.startswith("# ") for line in write_config.HEADER.splitlines())
    assert yaml.safe_load(text) == write_config.rasa_config(PARAMS, write_config.ASSISTANT_ID)


def test_shipped_config_is_what_params_yaml_gives():
    """config.yml is written by the `config` stage; `dvc repro` brings it back in line."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    expected = write_config.rasa_config(params, write_config.ASSISTANT_ID)

    shipped = yaml.safe_load((ROOT / "config.yml").read_text())

    assert shipped == expected, "config.yml is out of date with params.yaml: run `make repro`"


# --- split_nlu.py -------------------------------------------------------------------------

INTENTS = {
    "greet": [f"hello number {i}" for i in range(10)],
    "goodbye": [f"bye number {i}" for i in range(10)],
    "ask_time": [f"what time is it {i}" for i in range(20)],
}


def nlu_yaml(intents: dict) -> str:
    blocks = []
    for intent, examples in intents.items():
        lines = "".join(f"      - {text}\n" for text in examples)
        blocks.append(f"  - intent: {intent}\n    examples: |\n{lines}")
    return 'version: "3.1"\nnlu:\n' + "".join(blocks)


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A folder laid out like the bot: data/nlu.yml, tests/nlu/; the scripts run from its root."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data/nlu.yml").write_text(nlu_yaml(INTENTS))
    (tmp_path / "tests/nlu").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


SPLIT_FILES = ("train.yml", "test.yml")


def holdout(fraction: float = 0.2, seed: int = 42) -> dict:
    return {"split": {"nlu_test_set": "holdout", "test_fraction": fraction, "seed": seed}}


def examples(path: Path) -> dict:
    """intent -> set of texts in a Rasa NLU file."""
    found = {}
    for message in load_data(str(path)).intent_examples:
        found.setdefault(message.get("intent"), set()).add(message.get("text"))
    return found


def test_holdout_is_stratified_and_disjoint(project):
    split_nlu.split(holdout(0.2), project / "split")

    train, test = examples(project / "split/train.yml"), examples(project / "split/test.yml")
    assert {k: len(v) for k, v in test.items()} == {"greet": 2, "goodbye": 2, "ask_time": 4}
    for intent, texts in INTENTS.items():
        assert not train[intent] & test[intent]
        assert train[intent] | test[intent] == set(texts)


def test_holdout_follows_the_fraction(project):
    split_nlu.split(holdout(0.5), project / "split")

    test = examples(project / "split/test.yml")
    assert {k: len(v) for k, v in test.items()} == {"greet": 5, "goodbye": 5, "ask_time": 10}


def test_holdout_is_deterministic_for_a_seed(project):
    split_nlu.split(holdout(seed=42), project / "first")
    split_nlu.split(holdout(seed=42), project / "second")
    split_nlu.split(holdout(seed=3), project / "other")

    for name in SPLIT_FILES:
        assert (project / "first" / name).read_bytes() == (project / "second" / name).read_bytes()
    assert examples(project / "other/test.yml") != examples(project / "first/test.yml")


def test_holdout_is_the_same_in_every_process(project):
    """DVC reruns the split in fresh processes: other hash seeds must not change a byte."""
    (project / "params.yaml").write_text(yaml.safe_dump(holdout()))
    script = ROOT / "scripts/split_nlu.py"
    outputs = []
    for hash_seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        subprocess.run([sys.executable, str(script), f"out{hash_seed}"], env=env, check=True)
        outputs.append([(project / f"out{hash_seed}" / n).read_bytes() for n in SPLIT_FILES])

    assert outputs[0] == outputs[1]


def test_hand_written_test_set_is_used_as_is(project):
    hand_written = {"greet": ["hey there friend"], "goodbye": ["so long"]}
    (project / "tests/nlu/nlu_test.yml").write_text(nlu_yaml(hand_written))
    params = {"split": {"nlu_test_set": "tests/nlu/nlu_test.yml", "test_fraction": 0.2, "seed": 42}}

    split_nlu.split(params, project / "split")

    assert examples(project / "split/train.yml") == {k: set(v) for k, v in INTENTS.items()}
    assert examples(project / "split/test.yml") == {k: set(v) for k, v in hand_written.items()}


def test_hand_written_test_set_may_not_overlap_training_data(project):
    leaked = {"greet": ["hello number 3", "brand new hello"], "goodbye": ["bye number 0"]}
    (project / "tests/nlu/nlu_test.yml").write_text(nlu_yaml(leaked))
    params = {"split": {"nlu_test_set": "tests/nlu/nlu_test.yml", "test_fraction": 0.2, "seed": 42}}

    with pytest.raises(SystemExit) as refused:
        split_nlu.split(params, project / "split")

    assert "tests/nlu/nlu_test.yml: 2 test examples are also in data/nlu.yml" in str(refused.value)
    assert not (project / "split").exists()


def test_shipped_test_set_shares_no_text_with_training_data():
    train, test = examples(ROOT / "data/nlu.yml"), examples(ROOT / "tests/nlu/nlu_test.yml")

    assert set(test) == set(train), "the hand-written test set covers every intent"
    for intent, texts in test.items():
        assert not texts & set().union(*train.values()), intent


# --- metrics.py ---------------------------------------------------------------------------

# Trimmed copies of what `rasa test` writes: sklearn's classification_report plus Rasa's extras.
INTENT_REPORT = {
    "greet": {
        "precision": 1.0,
        "recall": 0.75,
        "f1-score": 0.857142857,
        "support": 4,
        "confused_with": {"goodbye": 1},
    },
    "goodbye": {
        "precision": 0.857142857,
        "recall": 1.0,
        "f1-score": 0.923076923,
        "support": 6,
        "confused_with": {},
    },
    "accuracy": 0.9,
    "macro avg": {"precision": 0.928571429, "recall": 0.875, "f1-score": 0.89010989, "support": 10},
    "weighted avg": {
        "precision": 0.914285714,
        "recall": 0.9,
        "f1-score": 0.896703297,
        "support": 10,
    },
    "micro avg": {"precision": 0.9, "recall": 0.9, "f1-score": 0.9, "support": 10},
}

STORY_REPORT = {
    "utter_greet": {"precision": 1.0, "recall": 1.0, "f1-score": 1.0, "support": 5},
    "action_listen": {"precision": 0.9, "recall": 1.0, "f1-score": 0.947368421, "support": 9},
    "accuracy": 0.928571429,
    "macro avg": {"precision": 0.95, "recall": 1.0, "f1-score": 0.973684211, "support": 14},
    "weighted avg": {
        "precision": 0.935714286,
        "recall": 1.0,
        "f1-score": 0.966165414,
        "support": 14,
    },
    "conversation_accuracy": {
        "accuracy": 0.833333333,
        "correct": 5,
        "with_warnings": 0,
        "total": 6,
    },
}


def prediction(text: str, intent: str, predicted, confidence: float = 0.9) -> dict:
    return {
        "text": text,
        "intent": intent,
        "intent_prediction": {"name": predicted, "confidence": confidence},
    }


def test_nlu_metrics_are_compact_and_rounded():
    assert metrics.nlu_metrics(INTENT_REPORT) == {
        "accuracy": 0.9,
        "weighted_f1": 0.8967,
        "macro_f1": 0.8901,
        "intent_f1": {"goodbye": 0.9231, "greet": 0.8571},
    }


def test_core_metrics_are_compact_and_rounded():
    assert metrics.core_metrics(STORY_REPORT) == {
        "conversation_accuracy": 0.8333,
        "conversations_correct": 5,
        "conversations_total": 6,
        "action_accuracy": 0.9286,
        "action_f1": 0.9662,
    }


def test_confusion_rows_join_successes_and_errors(tmp_path):
    successes = [prediction("hi", "greet", "greet"), prediction("bye", "goodbye", "goodbye")]
    errors = [prediction("hey you", "greet", "goodbye"), prediction("hmm", "greet", None)]
    (tmp_path / "intent_successes.json").write_text(json.dumps(successes))
    (tmp_path / "intent_errors.json").write_text(json.dumps(errors))

    assert metrics.confusion_rows(tmp_path) == [
        {"actual": "goodbye", "predicted": "goodbye"},
        {"actual": "greet", "predicted": "None"},
        {"actual": "greet", "predicted": "goodbye"},
        {"actual": "greet", "predicted": "greet"},
    ]


def test_confusion_rows_without_errors_file(tmp_path):
    """`rasa test` writes intent_errors.json only when the model made a mistake."""
    successes = [prediction("hi", "greet", "greet"), prediction("bye", "goodbye", "goodbye")]
    (tmp_path / "intent_successes.json").write_text(json.dumps(successes))

    assert metrics.confusion_rows(tmp_path) == [
        {"actual": "goodbye", "predicted": "goodbye"},
        {"actual": "greet", "predicted": "greet"},
    ]


def test_write_nlu_writes_metrics_and_plot_data(tmp_path):
    results = tmp_path / "results/nlu"
    results.mkdir(parents=True)
    (results / "intent_report.json").write_text(json.dumps(INTENT_REPORT))
    (results / "intent_successes.json").write_text(json.dumps([prediction("hi", "greet", "greet")]))

    metrics.write_nlu(results, root=tmp_path)

    written = json.loads((tmp_path / "metrics/nlu.json").read_text())
    assert written == metrics.nlu_metrics(INTENT_REPORT)
    with (tmp_path / "plots/intent_f1.csv").open() as handle:
        assert list(csv.DictReader(handle)) == [
            {"intent": "goodbye", "f1": "0.9231"},
            {"intent": "greet", "f1": "0.8571"},
        ]
    assert (
        tmp_path / "plots/intent_confusion.csv"
    ).read_text() == "actual,predicted\ngreet,greet\n"


def test_write_core_writes_metrics(tmp_path):
    results = tmp_path / "results/core"
    results.mkdir(parents=True)
    (results / "story_report.json").write_text(json.dumps(STORY_REPORT))

    metrics.write_core(results, root=tmp_path)

    written = json.loads((tmp_path / "metrics/core.json").read_text())
    assert written == metrics.core_metrics(STORY_REPORT)
