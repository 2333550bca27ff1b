"""The bot's pipeline.metrics and pipeline.compare on what real `rasa test` runs wrote (3.6.21).

tests/data/rasa-reports/helpdesk: the helpdesk bot (entities, regexes, lookups, retrieval
intents, a form, failing test stories). tests/data/rasa-reports/default: the default bot (no
entities, no retrieval intents). These modules need only the standard library, so the package
is imported straight from the template folder.
"""

import json
import os
import shutil
import sys

import pytest

from support import TEMPLATE, run, template_modules

REPORTS = TEMPLATE / "tests/data/rasa-reports"
compare, metrics = template_modules("compare", "metrics")


def written(tmp_path, bot):
    results = tmp_path / "results"
    shutil.copytree(REPORTS / bot, results)
    return metrics.write_all(results, root=tmp_path)


def rasa(bot, name):
    return json.loads((REPORTS / bot / name).read_text())


def test_helpdesk_reports_give_intent_entity_response_and_story_metrics(tmp_path):
    found = written(tmp_path, "helpdesk")

    assert sorted(p.name for p in (tmp_path / "metrics").iterdir()) == [
        "core.json",
        "entities.json",
        "nlu.json",
        "responses.json",
    ]
    assert sorted(p.name for p in (tmp_path / "evaluation").iterdir()) == [
        "entities.json",
        "failed_stories.json",
        "intents.json",
        "responses.json",
    ]
    intents = rasa("helpdesk", "intent_report.json")
    assert found["nlu"]["weighted_f1"] == round(intents["weighted avg"]["f1-score"], 4)
    assert found["nlu"]["examples"] == intents["weighted avg"]["support"]
    labels = {k for k, v in intents.items() if isinstance(v, dict) and k not in metrics.AVERAGES}
    per_intent = json.loads((tmp_path / "evaluation/intents.json").read_text())
    assert set(per_intent) == labels and "faq" in labels
    assert per_intent["faq"] == {
        "f1": round(intents["faq"]["f1-score"], 4),
        "precision": round(intents["faq"]["precision"], 4),
        "recall": round(intents["faq"]["recall"], 4),
        "support": intents["faq"]["support"],
    }
    # TEDPolicy_report.json is the story test's entity check, not an NLU extractor
    assert sorted(found["entities"]) == ["DIETClassifier", "RegexEntityExtractor"]
    diet = rasa("helpdesk", "DIETClassifier_report.json")
    assert found["entities"]["DIETClassifier"] == {
        "weighted_f1": round(diet["weighted avg"]["f1-score"], 4),
        "precision": round(diet["weighted avg"]["precision"], 4),
        "recall": round(diet["weighted avg"]["recall"], 4),
    }
    per_entity = json.loads((tmp_path / "evaluation/entities.json").read_text())
    assert sorted(per_entity) == ["DIETClassifier", "RegexEntityExtractor"]
    assert per_entity["DIETClassifier"]["city"]["recall"] == round(diet["city"]["recall"], 4)
    assert per_entity["DIETClassifier"]["city"]["support"] == diet["city"]["support"]
    per_response = json.loads((tmp_path / "evaluation/responses.json").read_text())
    assert {key.split("/")[0] for key in per_response} == {"faq"}
    responses = rasa("helpdesk", "response_selection_report.json")
    assert found["responses"]["weighted_f1"] == round(responses["weighted avg"]["f1-score"], 4)
    stories = rasa("helpdesk", "story_report.json")["conversation_accuracy"]
    assert (found["core"]["conversations_correct"], found["core"]["conversations_total"]) == (
        stories["correct"],
        stories["total"],
    )
    every = [found["nlu"]["accuracy"], found["responses"]["accuracy"], found["core"]["action_f1"]]
    every += [e["weighted_f1"] for e in found["entities"].values()]
    assert all(0 <= figure <= 1 for figure in every)


def test_helpdesk_failed_stories_name_their_first_wrong_turn(tmp_path):
    written(tmp_path, "helpdesk")

    failed = json.loads((tmp_path / "evaluation/failed_stories.json").read_text())

    by_name = {story["story"]: story for story in failed}
    human = by_name["Ask for a human, which the bot does not handle (hard)"]
    assert human["file"] == "tests/test_stories.yml"
    assert human["first_wrong"] == {
        "kind": "action",
        "expected": "utter_handover",
        "predicted": "utter_goodbye",
    }
    yaml_names = (REPORTS / "helpdesk/failed_test_stories.yml").read_text().count("- story: ")
    assert len(failed) == yaml_names


def test_default_bot_reports_give_no_entity_or_response_files(tmp_path):
    found = written(tmp_path, "default")

    assert sorted(found) == ["core", "intents", "nlu"]
    assert sorted(p.name for p in (tmp_path / "metrics").iterdir()) == ["core.json", "nlu.json"]
    assert sorted(p.name for p in (tmp_path / "evaluation").iterdir()) == [
        "failed_stories.json",
        "intents.json",
    ]
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == [
        "intent_confusion.csv",
        "intent_f1.csv",
    ]
    assert metrics.summary(found)[0].startswith("intents      accuracy ")


@pytest.fixture
def two_runs(tmp_path):
    """The helpdesk reports as the baseline; a copy with one entity and one example worse."""
    base = written(tmp_path / "base", "helpdesk")
    now = tmp_path / "now"
    shutil.copytree(REPORTS / "helpdesk", now / "results")
    diet = json.loads((now / "results/DIETClassifier_report.json").read_text())
    diet["city"]["f1-score"] = diet["city"]["f1-score"] / 2
    (now / "results/DIETClassifier_report.json").write_text(json.dumps(diet))
    successes = json.loads((now / "results/intent_successes.json").read_text())
    flipped = successes.pop(0)
    flipped["intent_prediction"]["name"] = "goodbye" if flipped["intent"] != "goodbye" else "greet"
    (now / "results/intent_successes.json").write_text(json.dumps(successes))
    errors = json.loads((now / "results/intent_errors.json").read_text()) + [flipped]
    (now / "results/intent_errors.json").write_text(json.dumps(errors))
    return base, metrics.write_all(now / "results", root=now), now, flipped


def test_compare_names_the_entity_and_the_example_that_got_worse(two_runs, tmp_path):
    base, now, now_root, flipped = two_runs

    fell = [
        (extractor, entity)
        for extractor, labels in now["entity_labels"].items()
        for entity, _, _ in compare.scores_that_fell(
            compare.f1_scores(base["entity_labels"][extractor]), compare.f1_scores(labels)
        )
    ]
    assert fell == [("DIETClassifier", "city")]

    def rows(root):
        return compare._parse("x.csv", (root / "plots/intent_confusion.csv").read_text())

    better, worse = compare.changed_predictions(rows(tmp_path / "base"), rows(now_root))
    assert better == []
    assert [(c.text, c.actual, c.before) for c in worse] == [
        (flipped["text"], flipped["intent"], flipped["intent"])
    ]


def test_the_weak_run_against_the_real_baseline(tmp_path):
    """helpdesk-weak is the same bot after 2 epochs: predictions, stories and scores got worse."""
    base, weak = written(tmp_path / "base", "helpdesk"), written(tmp_path / "weak", "helpdesk-weak")

    def rows(root):
        return compare._parse("x.csv", (root / "plots/intent_confusion.csv").read_text())

    better, worse = compare.changed_predictions(rows(tmp_path / "base"), rows(tmp_path / "weak"))
    assert len(worse) > len(better) >= 0 and worse
    assert all(c.before == c.actual != c.now for c in worse)
    fell = compare.scores_that_fell(
        compare.f1_scores(base["intents"]), compare.f1_scores(weak["intents"])
    )
    assert fell and all(now < before for _, before, now in fell)

    def failed(root):
        return json.loads((root / "evaluation/failed_stories.json").read_text())

    statuses = compare.story_status(failed(tmp_path / "weak"), failed(tmp_path / "base"))
    assert {status for _, status in statuses} == {"passed", "failed"}
    assert (
        len(statuses) == weak["core"]["conversations_total"] - weak["core"]["conversations_correct"]
    )


def test_importing_the_template_s_modules_leaves_no_bytecode_in_the_template(tmp_path):
    """Even from a process that writes bytecode (no PYTHONDONTWRITEBYTECODE): a __pycache__ left
    in the template folder would be copied into every bake."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(TEMPLATE / "tests")
    program = "from support import template_modules; template_modules('paths')"
    run([sys.executable, "-c", program], tmp_path, env=env)
    assert not list((TEMPLATE / "{{cookiecutter.project_slug}}").rglob("__pycache__"))
