"""End-to-end: a team's own bot (tests/bots/helpdesk) put on a fresh bake the way its README says.

The helpdesk bot has data in sub-folders, entities with synonyms, a lookup table, regexes, a
retrieval intent, a form, custom actions, validation warnings and a config without
`assistant_id`. `adopted_bot` follows the generated README's "Bring your own bot" steps, runs
`make repro` and commits the result as the baseline; the checks after it change that project.
"""

import json
import shutil

import pytest
import yaml

from support import TEMPLATE, bake, git, ran_stages, run

pytestmark = pytest.mark.e2e

HELPDESK = TEMPLATE / "tests/bots/helpdesk"
DVC = ".venv-dvc/bin/dvc"
OURS = [
    "data",
    "domain.yml",
    "config.yml",
    "actions",
    "tests/test_stories.yml",
    "tests/test_actions.py",
    "tests/nlu/nlu_test.yml",
]
THEIRS = ["data", "domain.yml", "config.yml", "actions", "endpoints.yml"]
FEW_EPOCHS = 20  # enough for the figures to mean something, short enough for CI


def bring(project, bot):
    """Step 1 of the README: delete our bot, copy in theirs."""
    for rel in OURS:
        path = project / rel
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    for rel in THEIRS:
        source = bot / rel
        copy = shutil.copytree if source.is_dir() else shutil.copyfile
        copy(source, project / rel)
    for stories in (bot / "tests").glob("*.yml"):
        shutil.copyfile(stories, project / "tests" / stories.name)


@pytest.fixture(scope="module")
def adopted_bot(cookies_session):
    project = bake(cookies_session)
    run(["make", "install"], project)
    bring(project, HELPDESK)
    config_before = (project / "config.yml").read_text()
    adopted = run(["make", "adopt-config"], project).stdout
    assert "params.yaml train.DIETClassifier: {'epochs': 100, 'random_seed': 7}" in adopted
    config_adopted = (project / "config.yml").read_text()
    assert config_adopted != config_before and "epochs" not in config_adopted
    params = yaml.safe_load((project / "params.yaml").read_text())
    for options in params["train"].values():
        if "epochs" in options:
            options["epochs"] = FEW_EPOCHS
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))

    repro = run(["make", "repro"], project)
    assert (project / "config.yml").read_text() == config_adopted, "Rasa rewrote config.yml"
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "Bring the helpdesk bot")
    return project, repro


def test_first_repro_passes_with_the_bot_s_warnings_and_reports_every_kind_of_result(adopted_bot):
    project, repro = adopted_bot
    assert ran_stages(repro.stdout + repro.stderr) == ["split", "train", "test"]
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
    assert (diet["epochs"], diet["random_seed"]) == (FEW_EPOCHS, 7)
    summary = [line.split()[0] for line in repro.stdout.strip().splitlines()[-5:]]
    assert summary[-1] == "stories" and {"intents", "entities", "responses"} <= set(summary)


def test_data_validation_passes_with_warnings(adopted_bot):
    project, _ = adopted_bot
    result = run([".venv/bin/python", "-m", "pipeline.train", "--validate-only"], project)
    assert "validation: no errors," in result.stdout


def test_adding_a_data_file_reruns_split_and_train(adopted_bot):
    project, _ = adopted_bot
    (project / "data/nlu/more").mkdir()
    (project / "data/nlu/more/greetings.yml").write_text(
        'version: "3.1"\nnlu:\n  - intent: greet\n    examples: |\n      - good morning team\n'
        "      - hello helpdesk\n"
    )
    dry = run([DVC, "repro", "--dry"], project)
    # a dry run lists the stages whose own inputs changed; `test` follows once the model does
    assert ran_stages(dry.stdout) == ["split", "train"]


def test_a_component_option_in_config_yml_reruns_training(adopted_bot):
    project, _ = adopted_bot
    config = project / "config.yml"
    original = config.read_text()
    config.write_text(original.replace("case_sensitive: false", "case_sensitive: true"))
    try:
        dry = run([DVC, "repro", "--dry", "--single-item", "train"], project)
        assert ran_stages(dry.stdout) == ["train"]
    finally:
        config.write_text(original)


def test_an_experiment_changes_the_trained_config_and_the_report_shows_what_got_worse(adopted_bot):
    project, _ = adopted_bot
    run([DVC, "exp", "run", "-S", "train.DIETClassifier.epochs=2"], project)
    trained_with = yaml.safe_load((project / "models/config.yml").read_text())
    diet = next(c for c in trained_with["pipeline"] if c["name"] == "DIETClassifier")
    assert diet["epochs"] == 2

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
