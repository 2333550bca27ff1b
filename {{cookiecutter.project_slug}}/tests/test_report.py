"""pipeline/report.py in a real git + DVC repository: a baseline on main, then a changed workspace.

Runs the project's own DVC (.venv-dvc, from `make install`) for the metrics and params diffs.
"""

import csv
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import DVC, git

PNG = b"\x89PNG\r\n\x1a\n"
NLU = {
    "accuracy": 0.9,
    "weighted_f1": 0.9,
    "macro_f1": 0.88,
    "intent_f1": {"greet": 0.95, "deny": 0.8, "goodbye": 0.9},
}
CORE = {
    "action_accuracy": 1.0,
    "action_f1": 1.0,
    "conversation_accuracy": 1.0,
    "conversations_correct": 2,
    "conversations_total": 2,
}
ENTITIES = {
    "DIETClassifier": {
        "weighted_f1": 0.9,
        "precision": 0.9,
        "recall": 0.9,
        "entity_f1": {"city": 0.9, "product": 0.95},
    }
}
PREDICTIONS = [
    {"actual": "greet", "predicted": "greet", "text": "hi there"},
    {"actual": "greet", "predicted": "deny", "text": "yo"},
    {"actual": "deny", "predicted": "deny", "text": "no way"},
]
PARAMS = {
    "train": {"DIETClassifier": {"epochs": 100}},
    "gate": {"max_drop": 0.02, "metrics": ["metrics/nlu.json:weighted_f1"]},
}
DVC_YAML = {"metrics": ["metrics"], "params": ["params.yaml"]}


def write_results(
    repo: Path,
    nlu: dict,
    params: dict = PARAMS,
    warnings: tuple = (),
    entities: dict | None = None,
    predictions: list = PREDICTIONS,
    failed: list = (),
) -> None:
    """What `dvc repro` leaves in the workspace: metrics, plot data, details, Rasa's matrix."""
    (repo / "params.yaml").write_text(yaml.safe_dump(params))
    shutil.rmtree(repo / "metrics", ignore_errors=True)
    (repo / "metrics").mkdir()
    (repo / "metrics/nlu.json").write_text(json.dumps(nlu))
    (repo / "metrics/core.json").write_text(json.dumps(CORE))
    if entities:
        (repo / "metrics/entities.json").write_text(json.dumps(entities))
    (repo / "plots").mkdir(exist_ok=True)
    with (repo / "plots/intent_f1.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["intent", "f1"])
        writer.writerows(sorted(nlu["intent_f1"].items()))
    with (repo / "plots/intent_confusion.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, ["actual", "predicted", "text"])
        writer.writeheader()
        writer.writerows(predictions)
    (repo / "evaluation").mkdir(exist_ok=True)
    (repo / "evaluation/validation.json").write_text(json.dumps({"warnings": list(warnings)}))
    (repo / "evaluation/failed_stories.json").write_text(json.dumps(list(failed)))
    (repo / "results").mkdir(exist_ok=True)
    (repo / "results/intent_confusion_matrix.png").write_bytes(PNG + b"matrix")


def report(repo: Path, baseline: str = "main") -> tuple[str, str]:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline.report",
            "--dvc",
            str(DVC),
            "--baseline",
            baseline,
            "--out",
            "report.md",
        ],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return (repo / "report.md").read_text(), (repo / "report/without-images.md").read_text()


@pytest.fixture(scope="module")
def baseline_repo(tmp_path_factory):
    """git + DVC repository with metrics committed on main (made once: `dvc init` is slow)."""
    assert DVC.exists(), "the DVC environment is missing: run `make install`"
    repo = tmp_path_factory.mktemp("bot") / "repo"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch=main")
    subprocess.run([str(DVC), "init", "--quiet"], cwd=repo, check=True)
    (repo / "dvc.yaml").write_text(yaml.safe_dump(DVC_YAML))
    (repo / ".gitignore").write_text("/report.md\n/report/\n/results/\n")
    write_results(
        repo,
        NLU,
        warnings=["The intent 'thanks' is not used in any story or rule."],
        entities=ENTITIES,
        failed=[{"story": "old failure", "file": "tests/a.yml", "first_wrong": None}],
    )
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "baseline")
    return repo


@pytest.fixture
def repo(baseline_repo, tmp_path):
    copy = tmp_path / "repo"
    shutil.copytree(baseline_repo, copy, symlinks=True)
    return copy


def section(markdown: str, title: str) -> str:
    return markdown.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_report_compares_with_the_baseline(repo):
    worse = {**NLU, "weighted_f1": 0.8, "intent_f1": {"greet": 0.7, "deny": 0.85, "goodbye": 0.6}}
    write_results(repo, worse, {**PARAMS, "train": {"DIETClassifier": {"epochs": 5}}})
    full, _ = report(repo)
    head, base = (
        git(repo, "rev-parse", "--short=7", "HEAD"),
        git(repo, "rev-parse", "--short=7", "main"),
    )
    assert full.startswith(f"# Model report: this change (`{head}`) vs `main` (`{base}`)\n")

    metrics = section(full, "Metrics")
    assert "| Path " in metrics and "| main " in metrics and "| workspace " in metrics
    weighted = next(line for line in metrics.splitlines() if "| weighted_f1 " in line)
    assert [cell.strip() for cell in weighted.split("|")[3:6]] == ["0.9", "0.8", "-0.1"]
    params = section(full, "Parameters")
    assert "train.DIETClassifier.epochs" in params and "100" in params and "| 5 " in params

    worse_rows = section(full, "Intents that got worse").strip().splitlines()[2:]
    assert worse_rows == [
        "| `goodbye` | 0.9000 | 0.6000 | -0.3000 | - |",
        "| `greet` | 0.9500 | 0.7000 | -0.2500 | - |",
    ]
    gate = section(full, "Quality gate")
    assert "FAIL metrics/nlu.json:weighted_f1 fell 0.9000 -> 0.8000" in gate
    assert "**Quality gate failed: 1 of 1 gated metrics fell more than 0.02 below main.**" in gate


def test_report_embeds_both_plots_and_keeps_a_version_without_them(repo):
    write_results(repo, NLU)
    full, without = report(repo)
    plots = section(full, "Plots")
    assert "![Intent confusion matrix](report/intent_confusion_matrix.png)" in plots
    assert "![F1 per intent](report/intent_f1.png)" in plots
    assert (repo / "report/intent_confusion_matrix.png").read_bytes() == PNG + b"matrix"
    assert (repo / "report/intent_f1.png").read_bytes().startswith(PNG)
    assert "![" not in without and "make report" in section(without, "Plots")
    assert section(without, "Metrics") == section(full, "Metrics")
    assert "No intent's F1 fell" in section(full, "Intents that got worse")
    assert "No parameter and no part of the configuration changed since `main`." in section(
        full, "Parameters"
    )
    assert "No validation warnings." in section(full, "Data validation")


def test_first_run_says_there_is_no_baseline(tmp_path):
    assert DVC.exists(), "the DVC environment is missing: run `make install`"
    git(tmp_path, "init", "--quiet", "--initial-branch=main")
    subprocess.run([str(DVC), "init", "--quiet"], cwd=tmp_path, check=True)
    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump(DVC_YAML))
    git(tmp_path, "add", "--all")
    git(tmp_path, "commit", "--quiet", "-m", "bake, nothing trained yet")
    write_results(tmp_path, NLU)
    full, _ = report(tmp_path)
    metrics = section(full, "Metrics")
    assert "No baseline: `main` (`" in metrics and "has no metrics yet (first run)" in metrics
    assert "| metrics/nlu.json | weighted_f1 | 0.9 |" in metrics
    assert "**Quality gate passed: main has no metrics yet (first run).**" in full
    assert "## Intents that got worse" not in full and "## Parameters" not in full


def test_new_validation_warnings_are_listed_apart_from_the_baseline_s(repo):
    known = "The intent 'thanks' is not used in any story or rule."
    new = "The utterance 'utter_ticket_done' is not used in any story or rule."
    write_results(repo, NLU, warnings=[known, new])

    validation = section(report(repo)[0], "Data validation")

    new_part, known_part = validation.split("<details>")
    assert f"**1 new** since `main`:\n\n- {new}" in new_part and known not in new_part
    assert "1 already there at `main`" in known_part and f"- {known}" in known_part


def test_entities_that_got_worse_are_named(repo):
    worse = {"DIETClassifier": {**ENTITIES["DIETClassifier"], "weighted_f1": 0.7}}
    worse["DIETClassifier"]["entity_f1"] = {"city": 0.5, "product": 0.95}
    write_results(repo, NLU, entities=worse)

    full, _ = report(repo)

    entities = section(full, "Entities")
    assert "| `DIETClassifier` | 0.9000 | 0.7000 | 0.9000 | 0.9000 | 2 |" in entities
    assert "| `city` | `DIETClassifier` | 0.9000 | 0.5000 | -0.4000 |" in entities
    assert "`product`" not in entities.split("Entities that got worse:")[1]
    assert "![F1 per entity (1)](report/entity_f1_1.png)" in full


def test_a_bot_without_entities_gets_no_entity_section(tmp_path):
    git(tmp_path, "init", "--quiet", "--initial-branch=main")
    subprocess.run([str(DVC), "init", "--quiet"], cwd=tmp_path, check=True)
    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump(DVC_YAML))
    write_results(tmp_path, NLU)
    git(tmp_path, "add", "--all")
    git(tmp_path, "commit", "--quiet", "-m", "baseline without entities")

    full, _ = report(tmp_path)

    assert "## Entities" not in full and "## Response selection" not in full
    assert "entity" not in section(full, "Plots")


def test_changed_predictions_and_failed_stories_against_the_baseline(repo):
    changed = [
        {"actual": "greet", "predicted": "greet", "text": "hi there"},
        {"actual": "greet", "predicted": "greet", "text": "yo"},
        {"actual": "deny", "predicted": "greet", "text": "no way"},
    ]
    failed = [
        {"story": "old failure", "file": "tests/a.yml", "first_wrong": None},
        {
            "story": "ticket form",
            "file": "tests/a.yml",
            "first_wrong": {"kind": "action", "expected": "ticket_form", "predicted": "utter_x"},
        },
    ]
    write_results(repo, NLU, entities=ENTITIES, predictions=changed, failed=failed)

    full, _ = report(repo)

    intents = section(full, "Intents that got worse")
    now_wrong, now_right = intents.split("Now wrong (1):")[1].split("Now right (1):")
    assert "| `no way` | `deny` | `deny` | `greet` |" in now_wrong
    assert "| `yo` | `greet` | `deny` | `greet` |" in now_right
    stories = section(full, "Test stories")
    assert "| old failure | - | failed too |" in stories
    assert "| ticket form | action `ticket_form`, predicted `utter_x` | passed |" in stories


def test_notes_from_the_command_line_and_a_file_come_first(repo):
    write_results(repo, NLU)
    (repo / "notes.md").write_text("**`dvc.lock` is stale**: run `make repro`.\n\n")
    command = [sys.executable, "-m", "pipeline.report", "--dvc", str(DVC)]
    notes = ["--note", "Fork pull request: nothing pulled.", "--notes-file", "notes.md"]
    subprocess.run([*command, *notes], cwd=repo, check=True, capture_output=True)
    for text in [(repo / "report.md").read_text(), (repo / "report/without-images.md").read_text()]:
        assert text.split("\n## ")[1].startswith("Notes\n")
        assert section(text, "Notes").strip() == (
            "Fork pull request: nothing pulled.\n\n**`dvc.lock` is stale**: run `make repro`."
        )
    subprocess.run(command, cwd=repo, check=True, capture_output=True)
    assert "## Notes" not in (repo / "report.md").read_text()


def test_the_baseline_is_resolved_once_and_each_file_read_once(repo, monkeypatch):
    from pipeline import compare, report

    calls = []
    for name in ("resolve", "_show", "_read"):
        real = getattr(compare, name)
        monkeypatch.setattr(
            compare,
            name,
            lambda *args, real=real, name=name: calls.append((name, *args)) or real(*args),
        )
    write_results(repo, NLU, entities=ENTITIES)
    monkeypatch.chdir(repo)

    assert report.main(["--dvc", str(DVC)]) == 0

    assert [args for name, *args in calls if name == "resolve"] == [["main"], ["HEAD"]]
    reads = [tuple(call) for call in calls if call[0] != "resolve"]
    assert len(reads) == len(set(reads)), reads
    assert ("_read", "metrics/nlu.json") in reads  # the workspace's, from disk
    assert any(call[0] == "_show" and call[-1] == "metrics/nlu.json" for call in reads)  # main's


def test_a_config_yml_edit_shows_and_the_full_report_is_kept_apart(repo):
    (repo / "models").mkdir()
    config = "recipe: default.v1\npipeline:\n- name: DIETClassifier\n  epochs: 100\n"
    (repo / "models/config.yml").write_text(config)
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "baseline with its trained config")
    (repo / "models/config.yml").write_text(config.replace("100", "5"))
    write_results(repo, NLU)

    full, without = report(repo)

    parameters = section(full, "Parameters")
    assert "No parameter" not in parameters  # params.yaml did not change, config.yml did
    assert "```diff\n--- baseline\n+++ this change\n" in parameters
    assert "\n-  epochs: 100\n+  epochs: 5\n" in parameters
    kept = (repo / "report/full.md").read_text()
    assert kept.startswith("# Model report") and section(kept, "Parameters") == parameters


def test_labels_that_look_like_math_or_markup_are_drawn_and_shown_as_written(repo):
    names = {"$x$ price": 0.9, "a | b": 0.8, "<img src=x>": 0.7}
    write_results(repo, {**NLU, "intent_f1": {**NLU["intent_f1"], **names}})

    full, _ = report(repo)  # matplotlib read `$x$` as math and no report was written

    assert (repo / "report/intent_f1.png").read_bytes().startswith(PNG)
    outside_code = re.sub(r"(`+)[^`].*?\1", "", full)
    assert not re.search(r"(?<!\\)<img", outside_code) and "`<img src=x>`" in full
    assert "**New intent `a | b`**: F1 0.8000." in full
    assert "| metrics/nlu.json | intent_f1.a \\| b | - | 0.8 | - |" in section(full, "Metrics")


def test_the_metrics_and_params_tables_hold_dvc_s_own_figures(repo):
    worse = {**NLU, "weighted_f1": 0.812345678, "intent_f1": {**NLU["intent_f1"], "deny": 0.1}}
    write_results(repo, worse, {**PARAMS, "train": {"DIETClassifier": {"epochs": 7}}})

    full, _ = report(repo)

    for kind, title in [("metrics", "Metrics"), ("params", "Parameters")]:
        dvc = subprocess.run(
            [str(DVC), kind, "diff", "main", "--md"], cwd=repo, capture_output=True, text=True
        )
        theirs = {tuple(cells(line)) for line in dvc.stdout.splitlines()[2:] if line}
        ours = {
            tuple(c.strip("`").replace("\\|", "|") for c in cells(line))
            for line in section(full, title).splitlines()[2:]
            if line.startswith("| ") and not line.startswith(("| Path", "| ---"))
        }
        assert ours == theirs and len(ours) > 0, kind


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split(" | ")]
