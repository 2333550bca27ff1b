"""Unit tests for the pipeline's modules: rasa_config, split, train and metrics."""

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT
from rasa.shared.nlu.training_data.loading import load_data

from pipeline import evaluate, metrics, params, rasa_config, rasa_start
from pipeline import split as split_nlu

# --- rasa_config.py -----------------------------------------------------------------------

CONFIG = {
    "recipe": "default.v1",
    "language": "en",
    "pipeline": [
        {"name": "WhitespaceTokenizer"},
        {"name": "CountVectorsFeaturizer"},
        {"name": "CountVectorsFeaturizer", "analyzer": "char_wb"},
        {"name": "DIETClassifier", "constrain_similarities": True},
        {"name": "FallbackClassifier"},
    ],
    "policies": [{"name": "RulePolicy"}, {"name": "TEDPolicy", "max_history": 5}],
}


def component(config: dict, name: str) -> dict:
    [found] = [c for c in config["pipeline"] + config["policies"] if c["name"] == name]
    return found


def test_merge_lays_params_over_the_named_components():
    train = {"DIETClassifier": {"epochs": 11, "random_seed": 7}, "TEDPolicy": {"epochs": 3}}

    merged = rasa_config.merge(CONFIG, train, assistant_id="my-bot")

    assert component(merged, "DIETClassifier") == {
        "name": "DIETClassifier",
        "constrain_similarities": True,
        "epochs": 11,
        "random_seed": 7,
    }
    assert component(merged, "TEDPolicy") == {"name": "TEDPolicy", "max_history": 5, "epochs": 3}
    assert merged["assistant_id"] == "my-bot"
    assert "epochs" not in component(CONFIG, "DIETClassifier"), "the input is left alone"


def test_merge_keeps_the_config_s_own_assistant_id():
    merged = rasa_config.merge(dict(CONFIG, assistant_id="team-bot"), {}, assistant_id="x")
    assert merged["assistant_id"] == "team-bot"


def test_merge_replaces_rasa_s_placeholder_id_which_rasa_would_rewrite_randomly():
    config = dict(CONFIG, assistant_id=rasa_config.RASA_PLACEHOLDER_ID)
    assert rasa_config.merge(config, {}, assistant_id="my-bot")["assistant_id"] == "my-bot"


def test_merge_names_the_second_of_two_components_with_one_name():
    merged = rasa_config.merge(CONFIG, {"CountVectorsFeaturizer#2": {"max_ngram": 4}})

    second = merged["pipeline"][2]
    assert second == {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "max_ngram": 4}
    assert merged["pipeline"][1] == {"name": "CountVectorsFeaturizer"}


def test_the_first_of_components_with_one_name_keeps_the_name_the_next_ones_are_numbered():
    config = {
        "pipeline": [{"name": "ResponseSelector", "retrieval_intent": i} for i in "abc"],
        "policies": [{"name": "RulePolicy"}],
    }
    keys = rasa_config.knob_names(config)
    assert {k: c.get("retrieval_intent") for k, c in keys.items()} == {
        "ResponseSelector": "a",
        "ResponseSelector#2": "b",
        "ResponseSelector#3": "c",
        "RulePolicy": None,
    }
    merged = rasa_config.merge(CONFIG, {"CountVectorsFeaturizer": {"max_ngram": 4}})
    assert merged["pipeline"][1] == {"name": "CountVectorsFeaturizer", "max_ngram": 4}


@pytest.mark.parametrize(
    ("train", "message"),
    [
        (
            {"ResponseSelector": {"epochs": 5}},
            "params.yaml train.ResponseSelector: config.yml has no component named "
            "ResponseSelector",
        ),
        (
            {"CountVectorsFeaturizer#3": {"max_ngram": 4}},
            "params.yaml train.CountVectorsFeaturizer#3: config.yml has no component named "
            "CountVectorsFeaturizer#3",
        ),
        (
            {"TEDPolicy": {"max_history": 8}},
            "TEDPolicy.max_history is 5 in config.yml and 8 in params.yaml",
        ),
        ({"TEDPolicy": 8}, "params.yaml train.TEDPolicy must map options to values"),
    ],
)
def test_merge_refuses_knobs_that_do_not_fit_the_config(train, message):
    with pytest.raises(rasa_config.ConfigError, match="^" + re.escape(message)):
        rasa_config.merge(CONFIG, train)


def test_merge_accepts_a_value_set_the_same_in_both_files():
    merged = rasa_config.merge(CONFIG, {"TEDPolicy": {"max_history": 5}})
    assert component(merged, "TEDPolicy")["max_history"] == 5


def test_adopt_moves_tuned_values_into_params_and_seeds_random_components():
    config = {
        "pipeline": [
            {"name": "DIETClassifier", "epochs": 200, "constrain_similarities": True},
            {"name": "FallbackClassifier", "threshold": 0.4},
        ],
        "policies": [{"name": "TEDPolicy", "epochs": 50, "random_seed": 1}],
    }
    # the template's knobs, written for another bot: none of them may reach this one
    stale = {
        "ResponseSelector": {"epochs": 3},
        "TEDPolicy": {"max_history": 4},
        "FallbackClassifier": {"ambiguity_threshold": 0.05},
    }

    new_config, train = rasa_config.adopt(config, stale)

    assert train == {
        "DIETClassifier": {"epochs": 200, "random_seed": 42},
        "FallbackClassifier": {"threshold": 0.4},
        "TEDPolicy": {"epochs": 50, "random_seed": 1},
    }
    assert new_config["pipeline"][0] == {"name": "DIETClassifier", "constrain_similarities": True}
    assert rasa_config.merge(new_config, train)["pipeline"][0]["epochs"] == 200
    assert rasa_config.adopt(new_config, train) == (new_config, train), "adopting twice is a no-op"


def test_adopt_files_keeps_comments_and_gives_a_config_that_merges(tmp_path):
    config, params = tmp_path / "config.yml", tmp_path / "params.yaml"
    config.write_text(
        "# our bot\nlanguage: en\npipeline:\n  - name: DIETClassifier  # intents\n"
        "    epochs: 300\npolicies:\n  - name: RulePolicy\n"
    )
    params.write_text("# knobs\ntrain:\n  TEDPolicy:\n    epochs: 5\n\ngate:\n  max_drop: 0.02\n")

    rasa_config.adopt_files(config, params)

    assert "# our bot" in config.read_text() and "# intents" in config.read_text()
    assert "# knobs" in params.read_text()
    assert "\n\ngate:\n" in params.read_text(), "the blank line before the next section stays"
    loaded = yaml.safe_load(params.read_text())
    assert loaded == {
        "train": {"DIETClassifier": {"epochs": 300, "random_seed": 42}},
        "gate": {"max_drop": 0.02},
    }
    merged = rasa_config.merge(yaml.safe_load(config.read_text()), loaded["train"])
    assert merged["pipeline"][0]["epochs"] == 300
    assert yaml.safe_load(config.read_text())["assistant_id"] == rasa_config.ASSISTANT_ID


def test_shipped_config_and_params_merge_into_what_rasa_trains_with():
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    params = yaml.safe_load((ROOT / "params.yaml").read_text())

    merged = rasa_config.merge(config, params["train"])

    for key, options in params["train"].items():
        assert options.items() <= component(merged, key).items()
    assert merged["assistant_id"] == config["assistant_id"] == rasa_config.ASSISTANT_ID


def test_write_merged_writes_a_header_then_the_config(tmp_path):
    out = tmp_path / "models/config.yml"

    rasa_config.write_merged(ROOT / "config.yml", params.load(ROOT / "params.yaml").train(), out)

    text = out.read_text()
    assert text.startswith(rasa_config.HEADER)
    assert yaml.safe_load(text)["pipeline"]


# --- split_nlu.py -------------------------------------------------------------------------

INTENTS = {
    "greet": [f"hello number {i}" for i in range(10)],
    "goodbye": [f"bye number {i}" for i in range(10)],
    "ask_time": [f"what time is it {i}" for i in range(20)],
}


def nlu_yaml(intents: dict, extra: str = "") -> str:
    blocks = []
    for intent, examples in intents.items():
        lines = "".join(f"      - {text}\n" for text in examples)
        blocks.append(f"  - intent: {intent}\n    examples: |\n{lines}")
    return 'version: "3.1"\nnlu:\n' + "".join(blocks) + extra


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A folder laid out like a team's bot: NLU spread over data/ sub-folders, tests/nlu/."""
    (tmp_path / "data/nlu/small").mkdir(parents=True)
    (tmp_path / "data/nlu/greetings.yml").write_text(nlu_yaml({"greet": INTENTS["greet"]}))
    (tmp_path / "data/nlu/small/bye.yml").write_text(nlu_yaml({"goodbye": INTENTS["goodbye"]}))
    (tmp_path / "data/time.yaml").write_text(nlu_yaml({"ask_time": INTENTS["ask_time"]}))
    (tmp_path / "data/stories.yml").write_text(
        'version: "3.1"\nstories:\n  - story: s\n    steps:\n      - intent: greet\n'
    )
    (tmp_path / "tests/nlu").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


SPLIT_FILES = ("train.yml", "test.yml")


def holdout(fraction: float = 0.2, seed: int = 42) -> params.Split:
    return params.Split("holdout", fraction, seed)


def examples(path: Path) -> dict:
    """intent (full retrieval name included) -> set of texts in a Rasa NLU file."""
    found = {}
    for message in load_data(str(path)).intent_examples:
        found.setdefault(message.get_full_intent(), set()).add(message.get("text"))
    return found


def test_holdout_covers_every_nlu_file_and_is_stratified_and_disjoint(project):
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


def test_holdout_splits_retrieval_intents_per_full_name_and_keeps_lookups_in_training(project):
    faq = {
        "faq/ask_hours": [f"when are you open {i}" for i in range(5)],
        "faq/ask_price": [f"how much is it {i}" for i in range(5)],
        "thank": ["thanks a lot", "thank you"],
        "rare": ["only once"],
    }
    extra = (
        "  - synonym: laptop\n    examples: |\n      - notebook\n"
        "  - regex: order_id\n    examples: |\n      - ORD-[0-9]{6}\n"
        "  - lookup: city\n    examples: |\n      - Berlin\n      - Paris\n"
    )
    (project / "data/nlu/faq.yml").write_text(nlu_yaml(faq, extra))

    split_nlu.split(holdout(0.2), project / "split")

    train, test = examples(project / "split/train.yml"), examples(project / "split/test.yml")
    for name in ("faq/ask_hours", "faq/ask_price", "thank"):
        assert len(test[name]) == 1 and len(train[name]) == len(faq[name]) - 1, name
    assert "rare" not in test and train["rare"] == {"only once"}
    trained = load_data(str(project / "split/train.yml"))
    assert trained.entity_synonyms == {"notebook": "laptop"}
    assert [r["name"] for r in trained.regex_features] == ["order_id"]
    assert [t["name"] for t in trained.lookup_tables] == ["city"]
    tested = load_data(str(project / "split/test.yml"))
    assert not tested.regex_features and not tested.lookup_tables


def test_holdout_never_tests_a_text_that_also_trains(project):
    """Repeated texts stay on one side; a text labelled with two intents only trains."""
    twice = {"greet": ["hello number 3", "hello number 3 "], "goodbye": ["hello number 5"]}
    (project / "data/nlu/dupes.yml").write_text(nlu_yaml(twice))

    for seed in range(5):
        split_nlu.split(holdout(0.5, seed), project / "split")
        train = set().union(*examples(project / "split/train.yml").values())
        test = set().union(*examples(project / "split/test.yml").values())
        assert not {t.strip().lower() for t in train} & {t.strip().lower() for t in test}
        assert "hello number 5" in train


def test_holdout_is_deterministic_for_a_seed(project):
    split_nlu.split(holdout(seed=42), project / "first")
    split_nlu.split(holdout(seed=42), project / "second")
    split_nlu.split(holdout(seed=3), project / "other")

    for name in SPLIT_FILES:
        assert (project / "first" / name).read_bytes() == (project / "second" / name).read_bytes()
    assert examples(project / "other/test.yml") != examples(project / "first/test.yml")


def test_holdout_is_the_same_in_every_process(project):
    """DVC reruns the split in fresh processes: other hash seeds must not change a byte."""
    settings = {"nlu_test_set": "holdout", "test_fraction": 0.2, "seed": 42}
    (project / "params.yaml").write_text(yaml.safe_dump({"split": settings}))
    outputs = []
    for hash_seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        out = f"out{hash_seed}"
        command = [sys.executable, "-m", "pipeline.split", "--out", out]
        subprocess.run(command, env=env, check=True)
        outputs.append([(project / out / n).read_bytes() for n in SPLIT_FILES])

    assert outputs[0] == outputs[1]


def test_the_training_split_keeps_responses_of_data_files_and_stray_files_are_ignored(project):
    (project / "data/responses").mkdir()
    (project / "data/responses/faq.yml").write_text(
        'version: "3.0"\nresponses:\n  utter_faq/ask_hours:\n    - text: "Nine to five."\n'
    )
    (project / "data/.DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1\xff\xfe")

    split_nlu.split(holdout(0.2), project / "split")

    train = load_data(str(project / "split/train.yml"))
    assert train.responses == {"utter_faq/ask_hours": [{"text": "Nine to five."}]}
    assert set(examples(project / "split/train.yml")) == set(INTENTS)


def hand_written(path: str) -> params.Split:
    return params.Split(path, 0.2, 42)


def test_hand_written_test_set_is_used_as_is(project):
    written = {"greet": ["hey there friend"], "goodbye": ["so long"]}
    (project / "tests/nlu/nlu_test.yml").write_text(nlu_yaml(written))

    split_nlu.split(hand_written("tests/nlu/nlu_test.yml"), project / "split")

    assert examples(project / "split/train.yml") == {k: set(v) for k, v in INTENTS.items()}
    assert examples(project / "split/test.yml") == {k: set(v) for k, v in written.items()}


def test_hand_written_test_set_may_be_a_folder(project):
    (project / "tests/nlu/more").mkdir()
    (project / "tests/nlu/a.yml").write_text(nlu_yaml({"greet": ["hey there friend"]}))
    (project / "tests/nlu/more/b.yml").write_text(nlu_yaml({"goodbye": ["so long"]}))

    split_nlu.split(hand_written("tests/nlu"), project / "split")

    assert examples(project / "split/test.yml") == {
        "greet": {"hey there friend"},
        "goodbye": {"so long"},
    }


def test_hand_written_test_set_may_not_overlap_training_data(project):
    leaked = {"greet": ["Hello number 3", "brand new hello"], "goodbye": ["bye number 0"]}
    (project / "tests/nlu/nlu_test.yml").write_text(nlu_yaml(leaked))

    with pytest.raises(SystemExit) as refused:
        split_nlu.split(hand_written("tests/nlu/nlu_test.yml"), project / "split")

    assert str(refused.value).startswith(
        "ERROR: 2 examples of tests/nlu/nlu_test.yml are also training examples under data/"
    )
    assert not (project / "split").exists()


def test_hand_written_test_set_must_be_under_tests_nlu(project):
    (project / "elsewhere.yml").write_text(nlu_yaml({"greet": ["hey there friend"]}))

    with pytest.raises(SystemExit, match="put the hand-written test set under tests/nlu/"):
        split_nlu.split(hand_written("elsewhere.yml"), project / "split")


def test_hand_written_test_sets_here_share_no_text_with_the_training_data(monkeypatch):
    monkeypatch.chdir(ROOT)
    files = split_nlu.nlu_files(ROOT / "tests/nlu")
    if not files:
        pytest.skip("no hand-written NLU test set under tests/nlu/")
    train = split_nlu.load(split_nlu.nlu_files(ROOT / "data")).intent_examples

    assert split_nlu.overlap(train, split_nlu.load(files).intent_examples) == []


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


def test_nlu_metrics_are_headline_figures_only():
    assert metrics.nlu_metrics(INTENT_REPORT) == {
        "accuracy": 0.9,
        "weighted_f1": 0.8967,
        "macro_f1": 0.8901,
        "examples": 10,
    }


def test_label_figures_hold_f1_precision_recall_and_support_per_label():
    assert metrics.label_figures(INTENT_REPORT) == {
        "goodbye": {"f1": 0.9231, "precision": 0.8571, "recall": 1.0, "support": 6},
        "greet": {"f1": 0.8571, "precision": 1.0, "recall": 0.75, "support": 4},
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
        {"actual": "goodbye", "predicted": "goodbye", "text": "bye"},
        {"actual": "greet", "predicted": "None", "text": "hmm"},
        {"actual": "greet", "predicted": "goodbye", "text": "hey you"},
        {"actual": "greet", "predicted": "greet", "text": "hi"},
    ]


def test_confusion_rows_without_errors_file(tmp_path):
    """`rasa test` writes intent_errors.json only when the model made a mistake."""
    successes = [prediction("hi", "greet", "greet"), prediction("bye", "goodbye", "goodbye")]
    (tmp_path / "intent_successes.json").write_text(json.dumps(successes))

    assert [r["text"] for r in metrics.confusion_rows(tmp_path)] == ["bye", "hi"]


FAILED_STORIES = """version: "3.1"
stories:
- story: sad path 1 (./tests/test_stories.yml)
  steps:
  - intent: greet
  - action: utter_greet
  - intent: mood_unhappy  # predicted: nlu_fallback: not good
  - action: utter_cheer_up  # predicted: action_default_fallback
- story: time (tests/stories/time.yml)
  steps:
  - intent: ask_time
  - action: action_tell_time  # predicted: utter_goodbye
"""


# What Rasa 3.6.21 writes (YAMLStoryWriter) for test stories whose names hold `: `, ` #`,
# quotes or parentheses: quoted names, the test stories file appended in parentheses.
QUOTED_FAILED_STORIES = """version: "3.1"
stories:
- story: 'booking: a table for two (tests/test_stories.yml)'
  steps:
  - intent: book_table  # predicted: greet: I want to book a table
  - action: booking_form
- story: 'delivery #1, with an FAQ (tests/test_stories.yml)'
  steps:
  - intent: order_delivery
  - action: delivery_form  # predicted: utter_default
- story: the user says "stop" (politely) (tests/stories/stop.yml)
  steps:
  - intent: stop
  - action: action_deactivate_loop  # predicted: action_listen
- story: "wrong on purpose: 'hello' answered with goodbye #2 (tests/test_stories.yml)"
  steps:
  - intent: greet
  - action: utter_goodbye  # predicted: utter_greet
"""


def test_failed_story_names_that_rasa_quotes_are_read_without_quotes_or_file(tmp_path):
    (tmp_path / "failed_test_stories.yml").write_text(QUOTED_FAILED_STORIES)

    failed = metrics.failed_stories(tmp_path / "failed_test_stories.yml")

    assert [(story["story"], story["file"]) for story in failed] == [
        ("booking: a table for two", "tests/test_stories.yml"),
        ("delivery #1, with an FAQ", "tests/test_stories.yml"),
        ('the user says "stop" (politely)', "tests/stories/stop.yml"),
        ("wrong on purpose: 'hello' answered with goodbye #2", "tests/test_stories.yml"),
    ]
    assert [story["first_wrong"]["predicted"] for story in failed] == [
        "greet: I want to book a table",
        "utter_default",
        "action_listen",
        "utter_greet",
    ]


def test_failed_stories_name_the_first_wrong_turn(tmp_path):
    (tmp_path / "failed_test_stories.yml").write_text(FAILED_STORIES)

    assert metrics.failed_stories(tmp_path / "failed_test_stories.yml") == [
        {
            "story": "sad path 1",
            "file": "./tests/test_stories.yml",
            "first_wrong": {
                "kind": "intent",
                "expected": "mood_unhappy",
                "predicted": "nlu_fallback: not good",
            },
        },
        {
            "story": "time",
            "file": "tests/stories/time.yml",
            "first_wrong": {
                "kind": "action",
                "expected": "action_tell_time",
                "predicted": "utter_goodbye",
            },
        },
    ]
    assert metrics.failed_stories(tmp_path / "missing.yml") == []


ENTITY_REPORT = {
    "city": {"precision": 1.0, "recall": 0.5, "f1-score": 0.666666667, "support": 4},
    "product": {"precision": 0.8, "recall": 1.0, "f1-score": 0.888888889, "support": 4},
    "micro avg": {"precision": 0.857, "recall": 0.75, "f1-score": 0.8, "support": 8},
    "macro avg": {"precision": 0.9, "recall": 0.75, "f1-score": 0.777777778, "support": 8},
    "weighted avg": {"precision": 0.9, "recall": 0.75, "f1-score": 0.777777778, "support": 8},
}


def test_entity_metrics_per_extractor_and_none_without_entities():
    assert metrics.entity_metrics(ENTITY_REPORT) == {
        "weighted_f1": 0.7778,
        "precision": 0.9,
        "recall": 0.75,
    }
    assert metrics.label_figures(ENTITY_REPORT)["city"] == {
        "f1": 0.6667,
        "precision": 1.0,
        "recall": 0.5,
        "support": 4,
    }
    assert metrics.entity_metrics({}) is None


def results_folder(tmp_path: Path, entities: bool) -> Path:
    results = tmp_path / "results"
    results.mkdir()
    (results / "intent_report.json").write_text(json.dumps(INTENT_REPORT))
    (results / "intent_successes.json").write_text(json.dumps([prediction("hi", "greet", "greet")]))
    (results / "story_report.json").write_text(json.dumps(STORY_REPORT))
    (results / "TEDPolicy_report.json").write_text("{}")
    (results / "failed_test_stories.yml").write_text(FAILED_STORIES)
    if entities:
        (results / "DIETClassifier_report.json").write_text(json.dumps(ENTITY_REPORT))
    return results


def test_write_all_writes_metrics_plot_data_and_failed_stories(tmp_path):
    results = results_folder(tmp_path, entities=True)

    metrics.write_all(results, root=tmp_path)

    assert json.loads((tmp_path / "metrics/nlu.json").read_text()) == metrics.nlu_metrics(
        INTENT_REPORT
    )
    assert json.loads((tmp_path / "metrics/core.json").read_text()) == metrics.core_metrics(
        STORY_REPORT
    )
    entities = json.loads((tmp_path / "metrics/entities.json").read_text())
    assert entities == {"DIETClassifier": metrics.entity_metrics(ENTITY_REPORT)}
    assert json.loads((tmp_path / "evaluation/intents.json").read_text()) == (
        metrics.label_figures(INTENT_REPORT)
    )
    entity_labels = json.loads((tmp_path / "evaluation/entities.json").read_text())
    assert entity_labels == {"DIETClassifier": metrics.label_figures(ENTITY_REPORT)}
    assert not (tmp_path / "evaluation/responses.json").exists()
    with (tmp_path / "plots/intent_f1.csv").open() as handle:
        assert list(csv.DictReader(handle)) == [
            {"intent": "goodbye", "f1": "0.9231"},
            {"intent": "greet", "f1": "0.8571"},
        ]
    assert (
        tmp_path / "plots/entity_f1.csv"
    ).read_text() == "entity,f1\ncity,0.6667\nproduct,0.8889\n"
    failed = json.loads((tmp_path / "evaluation/failed_stories.json").read_text())
    assert [story["story"] for story in failed] == ["sad path 1", "time"]


def test_a_bot_without_entities_or_retrieval_intents_gets_no_file_for_them(tmp_path):
    metrics.write_all(results_folder(tmp_path, entities=True), root=tmp_path)
    # the bot loses its entities: what the earlier run wrote for them goes
    shutil.rmtree(tmp_path / "results")
    metrics.write_all(results_folder(tmp_path, entities=False), root=tmp_path)

    assert sorted(p.name for p in (tmp_path / "metrics").iterdir()) == ["core.json", "nlu.json"]
    assert sorted(p.name for p in (tmp_path / "evaluation").iterdir()) == [
        "failed_stories.json",
        "intents.json",
    ]
    assert not (tmp_path / "plots/entity_f1.csv").exists()


def test_metrics_files_hold_no_per_label_figure(tmp_path):
    """dvc metrics show / exp show get a column per number in metrics/: headline figures only."""
    metrics.write_all(results_folder(tmp_path, entities=True), root=tmp_path)

    for path in (tmp_path / "metrics").iterdir():
        for figures in json.loads(path.read_text()).values():
            flat = figures.values() if isinstance(figures, dict) else [figures]
            assert all(isinstance(value, (int, float)) for value in flat), path.name
    assert len(json.loads((tmp_path / "metrics/nlu.json").read_text())) == 4


def test_summary_prints_one_headline_per_line(tmp_path):
    metrics.write_all(results_folder(tmp_path, entities=True), root=tmp_path)

    lines = metrics.summary(metrics.read_all(tmp_path))

    assert lines == [
        "intents      accuracy 0.9000  weighted F1 0.8967  (2 intents, 10 examples)",
        "entities     weighted F1 0.7778  precision 0.9000  recall 0.7500  (DIETClassifier)",
        "stories      5/6 correct (conversation accuracy 0.8333), action F1 0.9662",
    ]


# --- evaluate.py --------------------------------------------------------------------------


def test_rasa_s_json_reports_are_rewritten_with_sorted_keys(tmp_path):
    """Rasa writes report keys in varying order: identical runs must give identical bytes."""
    unsorted = {"greet": {"support": 2, "f1-score": 1.0}, "b": 1}
    (tmp_path / "intent_report.json").write_text(json.dumps(unsorted))
    (tmp_path / "failed_test_stories.yml").write_text("stories: []\n")

    evaluate.sort_report_keys(tmp_path)

    assert (tmp_path / "intent_report.json").read_text() == (
        '{\n  "b": 1,\n  "greet": {\n    "f1-score": 1.0,\n    "support": 2\n  }\n}\n'
    )
    assert (tmp_path / "failed_test_stories.yml").read_text() == "stories: []\n"


# --- rasa_start.py ------------------------------------------------------------------------

QUIET_START = """
import warnings
from pipeline.rasa_start import start_like_the_rasa_command
start_like_the_rasa_command()
from rasa.core.agent import Agent  # SQLAlchemy warns while imported
import matplotlib.pyplot as plt  # pyparsing too
from rasa.shared.utils.io import raise_warning
from tqdm import tqdm
raise_warning("Issue found in 'data/stories.yml': intent 'good_bye' is not in the domain.")
warnings.warn("a deprecation in a library", DeprecationWarning)
for _ in tqdm(range(3), desc="Epochs", disable=False):
    pass
"""


def test_a_run_shows_rasa_s_warnings_about_the_bot_but_not_the_libraries_noise():
    result = subprocess.run(
        [sys.executable, "-c", QUIET_START],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
    )

    assert result.returncode == 0, result.stderr
    assert "intent 'good_bye' is not in the domain" in result.stderr
    for noise in ("MovedIn20Warning", "PyparsingDeprecationWarning", "a deprecation in a library"):
        assert noise not in result.stderr, noise
    assert "Epochs" not in result.stderr, "progress bars are for terminals, not logs"


@pytest.mark.parametrize(
    "category, filename, library",
    [
        (DeprecationWarning, ".venv/lib/python3.10/site-packages/sqlalchemy/orm/x.py", True),
        (UserWarning, ".venv/lib/python3.10/site-packages/sklearn/metrics/x.py", True),
        (UserWarning, ".venv/lib/python3.10/site-packages/rasa/shared/utils/io.py", False),
        (FutureWarning, ".venv/lib/python3.10/site-packages/rasa/shared/utils/io.py", False),
        (DeprecationWarning, ".venv/lib/python3.10/site-packages/rasa/core/x.py", True),
        (UserWarning, "actions/actions.py", False),
        (DeprecationWarning, "/usr/lib/python3.10/random.py", True),
        (DeprecationWarning, "<frozen importlib._bootstrap>", True),
    ],
)
def test_which_warnings_are_a_library_s_business(category, filename, library):
    path = filename if filename.startswith(("/", "<")) else str(Path.cwd() / filename)
    assert rasa_start._from_a_library("message", category, path) is library


# --- train.py (validation; training itself is the end-to-end tests' job) ------------------

DOMAIN = """version: "3.1"
intents: [greet, goodbye]
responses:
  utter_greet: [{text: "Hi!"}]
  utter_goodbye: [{text: "Bye!"}]
  utter_only_an_action_uses_me: [{text: "..."}]
"""
STORIES = """version: "3.1"
stories:
  - story: hello
    steps:
      - intent: greet
      - action: utter_greet
      - intent: {intent}
      - action: utter_goodbye
"""


@pytest.fixture
def bot(tmp_path, monkeypatch):
    """The smallest valid bot; its one validation warning is a response no story uses."""
    (tmp_path / "data/stories").mkdir(parents=True)
    (tmp_path / "domain.yml").write_text(DOMAIN)
    (tmp_path / "config.yml").write_text(
        "language: en\npipeline:\n  - name: WhitespaceTokenizer\npolicies:\n  - name: RulePolicy\n"
    )
    (tmp_path / "data/nlu.yml").write_text(
        nlu_yaml({"greet": ["hi", "hello"], "goodbye": ["bye", "see you"]})
    )
    (tmp_path / "data/stories/hello.yml").write_text(STORIES.format(intent="goodbye"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def validate(bot: Path, fail_on_warnings: bool = False) -> int:
    from pipeline import train

    params = {"validate": {"fail_on_warnings": fail_on_warnings}, "train": {}}
    (bot / "params.yaml").write_text(yaml.safe_dump(params))
    return train.main(["--validate-only"])


def test_validation_warnings_do_not_stop_the_pipeline_unless_params_say_so(bot, capsys):
    assert validate(bot) == 0
    out = capsys.readouterr().out
    assert "utter_only_an_action_uses_me" in out and "validation: no errors, 1 warnings" in out

    assert validate(bot, fail_on_warnings=True) == 1
    assert "1 validation warnings and params.yaml sets validate.fail_on_warnings" in (
        capsys.readouterr().err
    )


def test_a_story_with_an_intent_the_domain_lacks_stops_with_rasa_s_message(bot, capsys):
    (bot / "data/stories/hello.yml").write_text(STORIES.format(intent="good_bye"))

    assert validate(bot) == 1

    err = capsys.readouterr().err
    assert "ERROR: the training data is not valid:" in err
    assert (
        "The intent 'good_bye' is used in your stories, but it is not listed in the domain" in err
    )


def test_training_reads_rules_and_stories_anywhere_under_data_but_never_nlu(bot):
    from pipeline import train

    (bot / "data/rules").mkdir()
    (bot / "data/rules/r.yaml").write_text(
        'version: "3.1"\nrules:\n  - rule: r\n    steps:\n      - intent: greet\n'
        "      - action: utter_greet\n"
    )
    assert train.core_files() == ["data/rules/r.yaml", "data/stories/hello.yml"]

    (bot / "data/mixed.yml").write_text(
        nlu_yaml({"greet": ["hey"]}) + STORIES.format(intent="goodbye").split("\n", 1)[1]
    )
    with pytest.raises(SystemExit, match="data/mixed.yml holds NLU examples and stories"):
        train.core_files()


def test_a_domain_folder_and_responses_in_a_data_file_are_read_as_rasa_reads_them(bot, capsys):
    from pipeline import train

    (bot / "domain.yml").unlink()
    (bot / "domain/responses").mkdir(parents=True)
    (bot / "domain/intents.yml").write_text('version: "3.0"\nintents: [greet, goodbye]\n')
    (bot / "domain/responses/greet.yml").write_text(
        'version: "3.1"\nresponses:\n  utter_greet: [{text: "Hi!"}]\n'
    )
    (bot / "domain/.DS_Store").write_bytes(b"\x00\x01Bud1\xff")
    # responses beside stories, as Rasa allows: not an NLU file mixed with stories
    (bot / "data/stories/hello.yml").write_text(
        STORIES.format(intent="goodbye") + 'responses:\n  utter_goodbye: [{text: "Bye!"}]\n'
    )

    assert validate(bot) == 0, capsys.readouterr().err
    assert "validation: no errors, 0 warnings" in capsys.readouterr().out
    assert train.core_files() == ["data/stories/hello.yml"]
