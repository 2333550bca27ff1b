"""End-to-end: a team's own bot (tests/bots/supportdesk) brought into a fresh bake with one command.

The supportdesk bot is the helpdesk bot laid out as another team keeps it: a `domain/` folder,
the retrieval intent's responses in a data file, files written for Rasa 3.0, a hand-written NLU
test set, a component that needs a Duckling server, the actions' own requirements; besides data
in sub-folders, entities with synonyms, a lookup table, regexes, a form, custom actions,
validation warnings and a config without `assistant_id`. conftest's `supportdesk_bot` runs `make
adopt BOT=...` on a copy of it with stray files added, then `make repro` untouched, and commits the
result as the baseline; the checks after it change that project.
"""

import json
import re

import pytest
import yaml

from support import git_status, ran_stages, run

pytestmark = pytest.mark.e2e

DVC = ".venv-dvc/bin/dvc"
EPOCHS = 20  # the bot's own config: enough for the figures to mean something, short for CI


def test_adopt_says_what_it_did_and_what_to_check(supportdesk_bot):
    project, adopted, _, _ = supportdesk_bot
    for line in [
        "copied domain/ (4 files)",
        "dvc.yaml: the train stage now depends on domain/",
        "params.yaml split.nlu_test_set: tests/nlu/nlu_test.yml (the bot's NLU test set)",
        "config.yml: removed DucklingEntityExtractor (needs a Duckling server at "
        "http://localhost:8000, which does not answer;",
        f"params.yaml train.DIETClassifier: {{'epochs': {EPOCHS}, 'random_seed': 7}}",
        "requirements/bot.in: left out rasa-sdk (the pinned Rasa brings its own)",
        "requirements/bot.in: added python-dateutil\n",
        "Check before committing:",
    ]:
        assert line in adopted, line
    assert not (project / "domain.yml").exists() and (project / "domain").is_dir()
    config = (project / "config.yml").read_text()
    assert "epochs" not in config and "Duckling" not in config
    lock = (project / "requirements/bot.txt").read_text()
    dateutil = re.search(r"^python-dateutil==.*\n((?:\s+#.*\n)+)", lock, re.M)[1]
    assert "-r requirements/bot.in" in dateutil, "the bot's lock was re-resolved with bot.in"


def test_adopting_again_changes_nothing(supportdesk_bot):
    project, _, again, _ = supportdesk_bot
    assert "adopted " in again
    assert git_status(project) == "", "a second `make adopt` of the same bot changed files"


def test_first_repro_passes_with_the_bot_s_warnings_and_reports_every_kind_of_result(
    supportdesk_bot,
):
    project, _, _, repro = supportdesk_bot
    assert ran_stages(repro.stdout + repro.stderr) == ["split", "train", "test"]
    assert "(tests/nlu/nlu_test.yml)" in repro.stdout, "the split uses the hand-written test set"
    warnings = json.loads((project / "evaluation/validation.json").read_text())["warnings"]
    assert any("is not used in any story or rule" in w for w in warnings), warnings

    metrics = {p.stem: json.loads(p.read_text()) for p in (project / "metrics").glob("*.json")}
    assert sorted(metrics) == ["core", "entities", "nlu", "responses"]
    labels = {p.stem: json.loads(p.read_text()) for p in (project / "evaluation").glob("*.json")}
    assert set(labels["intents"]) >= {"faq", "inform", "open_ticket"}
    assert "DIETClassifier" in metrics["entities"]
    assert set(labels["entities"]["DIETClassifier"]) >= {"product", "city"}
    assert {key.split("/")[0] for key in labels["responses"]} == {"faq"}
    figures = [
        metrics["nlu"]["weighted_f1"],
        metrics["responses"]["weighted_f1"],
        metrics["core"]["action_f1"],
        *(extractor["weighted_f1"] for extractor in metrics["entities"].values()),
    ]
    assert all(0.0 <= figure <= 1.0 for figure in figures), figures
    assert metrics["nlu"]["weighted_f1"] >= 0.6, "20 epochs learn the helpdesk intents"

    trained_with = yaml.safe_load((project / "models/config.yml").read_text())
    assert trained_with["assistant_id"] == project.name
    diet = next(c for c in trained_with["pipeline"] if c["name"] == "DIETClassifier")
    assert (diet["epochs"], diet["random_seed"]) == (EPOCHS, 7)
    summary = [line.split()[0] for line in repro.stdout.strip().splitlines()[-5:]]
    assert summary[-1] == "stories" and {"intents", "entities", "responses"} <= set(summary)


def test_data_validation_passes_with_warnings(supportdesk_bot):
    project, *_ = supportdesk_bot
    result = run([".venv/bin/python", "-m", "pipeline.train", "--validate-only"], project)
    assert "validation: no errors," in result.stdout


def test_adding_a_data_file_reruns_split_and_train(supportdesk_bot):
    project, *_ = supportdesk_bot
    (project / "data/nlu/more").mkdir()
    (project / "data/nlu/more/greetings.yml").write_text(
        'version: "3.1"\nnlu:\n  - intent: greet\n    examples: |\n      - good morning team\n'
        "      - hello helpdesk\n"
    )
    dry = run([DVC, "repro", "--dry"], project)
    # a dry run lists the stages whose own inputs changed; `test` follows once the model does
    assert ran_stages(dry.stdout) == ["split", "train"]


def test_a_component_option_in_config_yml_reruns_training(supportdesk_bot):
    project, *_ = supportdesk_bot
    config = project / "config.yml"
    original = config.read_text()
    config.write_text(original.replace("case_sensitive: false", "case_sensitive: true"))
    try:
        dry = run([DVC, "repro", "--dry", "--single-item", "train"], project)
        assert ran_stages(dry.stdout) == ["train"]
    finally:
        config.write_text(original)


def test_an_experiment_retrains_and_dvc_s_diffs_and_the_report_show_what_got_worse(
    supportdesk_bot, tmp_path
):
    """`dvc exp run -S` retrains with the value set (model and trained config change); DVC's own
    params, metrics and plots diffs and the report compare the workspace with the commit."""
    project, *_ = supportdesk_bot
    model, key = project / "models/model.tar.gz", "train.DIETClassifier.epochs"
    committed_model = model.read_bytes()
    committed_f1 = json.loads((project / "metrics/nlu.json").read_text())["weighted_f1"]
    run([DVC, "exp", "run", "--name", "short-diet", "-S", f"{key}=2"], project)
    shown = run([DVC, "exp", "show", "--csv"], project).stdout
    assert "short-diet" in shown and key in shown
    run([DVC, "exp", "apply", "short-diet"], project)
    assert model.read_bytes() != committed_model
    trained_with = yaml.safe_load((project / "models/config.yml").read_text())
    diet = next(c for c in trained_with["pipeline"] if c["name"] == "DIETClassifier")
    assert diet["epochs"] == 2

    params = json.loads(run([DVC, "params", "diff", "--json"], project).stdout)
    change = params["params.yaml"][key]
    assert (change["old"], change["new"]) == (EPOCHS, 2)
    diff = json.loads(run([DVC, "metrics", "diff", "--json", "--all"], project).stdout)
    assert diff["metrics/nlu.json"]["weighted_f1"]["old"] == committed_f1
    run([DVC, "plots", "diff", "HEAD", "--out", str(tmp_path / "plots")], project)
    page = (tmp_path / "plots/index.html").read_text()
    assert "Intent confusion" in page and "F1 per intent" in page
    assert '"rev": "HEAD"' in page and '"rev": "workspace"' in page

    run(["make", "report"], project)
    report = (project / "report.md").read_text()
    for section in [
        "## Entities",
        "## Response selection",
        "## Test stories",
        "## Intents that got worse",
        "## Data validation",
    ]:
        assert section in report, section
    assert "| failed story | first wrong turn | at `main` |" in report
    stories = report.split("## Test stories")[1]
    assert "Ask for a human, which the bot does not handle (hard)" in stories
    assert "### Held-out examples whose prediction changed" in report
    assert "Now wrong (" in report
    assert "No new warning since `main`." in report
