"""Unit tests for pipeline/adopt*.py (`make adopt BOT=...`): what it copies where, the requirements
it merges, the components it removes, and that a second run changes nothing."""

import shutil
import socket
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from pipeline import adopt, adopt_components, adopt_layout, adopt_requirements
from pipeline.adopt_report import Report

# The files of this project that adopt reads or replaces.
PROJECT_FILES = [
    "dvc.yaml",
    "params.yaml",
    "config.yml",
    "domain.yml",
    "endpoints.yml",
    "data",
    "actions",
    "tests/nlu",
    "tests/test_stories.yml",
    "tests/test_actions.py",
    "tests/conftest.py",
    "requirements/bot.in",
    "requirements/bot.txt",
]
CONFIG = """# their bot
language: en

pipeline:
  - name: WhitespaceTokenizer
  - name: CountVectorsFeaturizer
  - name: DIETClassifier
    epochs: 30
  # dates; needs Duckling
  - name: DucklingEntityExtractor
    url: http://127.0.0.1:{port}
    dimensions: [time]
  - name: FallbackClassifier
    threshold: 0.5

policies:
  - name: RulePolicy
"""


NLU = 'version: "3.1"\nnlu:\n  - intent: greet\n    examples: |\n'
THEIR_FILES = {
    "domain/intents.yml": 'version: "3.0"\nintents: [greet, faq]\n',
    "domain/responses/greet.yml": 'version: "3.1"\nresponses:\n  utter_greet: [{text: Hi}]\n',
    "data/nlu/greet.yml": NLU + "      - hi\n      - hello\n",
    "data/responses.yml": 'version: "3.0"\nresponses:\n  utter_faq/hours: [{text: "9-5"}]\n',
    "data/.DS_Store": "\x00Bud1",
    "actions/actions.py": "import dateutil\n",
    "actions/requirements-actions.txt": "rasa-sdk==3.6.2\n# dates\npython-dateutil>=2.8  # due\n",
    "requirements.txt": "rasa[spacy]==3.1.0\n-r actions/requirements.txt\npytablewriter>=1.2\n",
    "requirements-dev.txt": "black\n",
    "tests/test_stories.yml": """version: "3.1"
stories:
  - story: hello
    steps:
      - user: hey
        intent: greet
      - action: utter_greet
""",
    "tests/nlu/held_out.yml": NLU + "      - hey there\n",
    "tests/conftest.py": "# theirs\n",
    "tests/test_their_actions.py": "from tests.conftest import TRACKER\n",
}


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once it is closed


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A copy of this project's files, and an existing bot beside it; relocking is recorded."""
    here = tmp_path / "project"
    for name in PROJECT_FILES:
        source, target = ROOT / name, here / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copyfile(source, target)
    bot = tmp_path / "their-bot"
    write(bot / "config.yml", CONFIG.format(port=closed_port()))
    for name, text in THEIR_FILES.items():
        write(bot / name, text)
    relocked = []
    monkeypatch.setattr(adopt_requirements, "relock", lambda: relocked.append(True))
    monkeypatch.chdir(here)
    return here, bot, relocked


def snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_adopt_brings_the_bot_in_place_of_the_example_and_a_second_run_changes_nothing(project):
    here, bot, relocked = project

    report = adopt.adopt(bot, keep=set())

    assert sorted(str(p.relative_to(here)) for p in (here / "data").rglob("*")) == [
        "data/nlu",
        "data/nlu/greet.yml",
        "data/responses.yml",
    ], "stray files stay behind"
    assert not (here / "domain.yml").exists()
    assert (here / "domain/responses/greet.yml").read_text() == (
        bot / "domain/responses/greet.yml"
    ).read_text()
    train_deps = yaml.safe_load((here / "dvc.yaml").read_text())["stages"]["train"]["deps"]
    assert "domain" in train_deps and "domain.yml" not in train_deps
    assert not (here / "tests/test_actions.py").exists(), "it tested the example's action"
    assert not (here / "tests/nlu/nlu_test.yml").exists()
    assert (here / "tests/nlu/held_out.yml").exists() and (here / "tests/test_stories.yml").exists()
    assert (here / "tests/conftest.py").read_text() == (ROOT / "tests/conftest.py").read_text()
    assert not (here / "tests/test_their_actions.py").exists(), "it needs their conftest.py"
    settings = yaml.safe_load((here / "params.yaml").read_text())
    assert settings["split"]["nlu_test_set"] == "tests/nlu/held_out.yml"
    assert settings["train"] == {
        "DIETClassifier": {"epochs": 30, "random_seed": 42},
        "FallbackClassifier": {"threshold": 0.5},
    }
    config = (here / "config.yml").read_text()
    assert "Duckling" not in config and "# dates; needs" not in config
    assert "# their bot" in config and "\n\npolicies:" in config
    bot_in = (here / "requirements/bot.in").read_text()
    assert "pytablewriter>=1.2  # requirements.txt\n" in bot_in
    # a package Rasa pins keeps Rasa's version: the bot's own would only conflict with it
    assert (
        "python-dateutil  # actions/requirements-actions.txt, which asks for >=2.8; "
        "Rasa's pinned version stays\n"
    ) in bot_in
    assert "black" not in bot_in
    assert [line for line in bot_in.splitlines() if line.startswith("rasa")] == ["rasa==3.6.21"]
    assert relocked == [True]
    assert any("removed DucklingEntityExtractor" in line for line in report.did)
    assert any("merge the two conftest.py files" in line for line in report.check)

    before = snapshot(here)
    adopt.adopt(bot, keep=set())
    assert snapshot(here) == before
    assert relocked == [True], "nothing new to lock"


def test_a_debian_pip_freeze_s_pkg_resources_line_is_left_out(project):
    """A bot whose requirements.txt is a `pip freeze` from Debian or Ubuntu: pkg-resources==0.0.0
    is on no package index, so locking would fail on it."""
    here, bot, relocked = project
    write(
        bot / "requirements.txt",
        "pkg-resources==0.0.0\npkg_resources==0.0.0\npytablewriter==1.2.0\n",
    )
    report = adopt.adopt(bot, keep=set())
    bot_in = (here / "requirements/bot.in").read_text()
    assert "pytablewriter==1.2.0  # requirements.txt" in bot_in
    assert "pkg" not in bot_in.lower()
    assert any("left out pkg-resources==0.0.0" in line for line in report.did)
    assert relocked == [True]


def test_a_domain_file_replaces_a_domain_folder_and_dvc_yaml_follows(project):
    here, bot, _ = project
    adopt.adopt(bot, keep=set())
    shutil.rmtree(bot / "domain")
    write(bot / "domain.yml", 'version: "3.1"\nintents: [greet, faq]\n')

    adopt.adopt(bot, keep=set())

    assert (here / "domain.yml").exists() and not (here / "domain").exists()
    train_deps = yaml.safe_load((here / "dvc.yaml").read_text())["stages"]["train"]["deps"]
    assert "domain.yml" in train_deps and "domain" not in train_deps


def test_python_tests_come_along_when_they_do_not_need_their_own_conftest(project):
    here, bot, _ = project
    (bot / "tests/conftest.py").unlink()
    adopt.adopt(bot, keep=set())
    assert (here / "tests/test_their_actions.py").exists()
    assert (here / "tests/conftest.py").read_text() == (ROOT / "tests/conftest.py").read_text()


def test_every_pipeline_test_is_kept_from_a_bot_s_file_of_the_same_name():
    ours = {path.name for path in (ROOT / "tests").glob("*.py")} - {"test_actions.py"}
    assert ours == adopt_layout.OUR_TESTS, "a bot's test_<name>.py would replace the pipeline's"


def test_a_bot_without_an_nlu_test_set_is_tested_on_a_held_out_split(project):
    here, bot, _ = project
    shutil.rmtree(bot / "tests/nlu")
    adopt.adopt(bot, keep=set())
    assert yaml.safe_load((here / "params.yaml").read_text())["split"]["nlu_test_set"] == "holdout"


def test_a_kept_component_stays_and_is_listed_to_check(project):
    here, bot, _ = project
    report = adopt.adopt(bot, keep={"DucklingEntityExtractor"})
    assert "DucklingEntityExtractor" in (here / "config.yml").read_text()
    assert any("kept (KEEP)" in line for line in report.check)


def test_a_service_that_answers_is_not_reported_missing():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        url = f"http://127.0.0.1:{server.getsockname()[1]}"
        duckling = {"name": "DucklingEntityExtractor", "url": url}
        assert adopt_components.missing_here(duckling) is None
    assert "does not answer" in adopt_components.missing_here(duckling)


def test_a_component_family_falls_with_its_model_and_a_tokenizer_takes_its_place(monkeypatch):
    monkeypatch.setattr(adopt_components, "installed", lambda module: False)
    config = {
        "pipeline": [
            {"name": "SpacyNLP", "model": "en_core_web_md"},
            {"name": "SpacyTokenizer"},
            {"name": "SpacyFeaturizer"},
            {"name": "DIETClassifier"},
        ],
        "policies": [{"name": "RulePolicy"}],
    }
    report = Report()

    adopt_components.drop_unavailable(config, set(), Path("bot"), report)

    assert [c["name"] for c in config["pipeline"]] == ["WhitespaceTokenizer", "DIETClassifier"]
    assert "needs the spaCy package and its model en_core_web_md" in report.did[0]


@pytest.mark.parametrize(
    ("bot", "message"),
    [
        ("", "ERROR: no bot given: make adopt BOT=../our-bot"),
        ("no-such-folder", "ERROR: BOT 'no-such-folder' is not a folder"),
        (
            "data",
            "ERROR: BOT 'data' is not a Rasa 3 project: it has no config.yml, domain.yml "
            "or domain/, data/",
        ),
        (".", "ERROR: BOT '.' is this project"),
    ],
)
def test_bad_input_is_one_error_line_and_changes_nothing(project, capsys, bot, message):
    here, _, _ = project
    before = snapshot(here)

    assert adopt.main([bot]) == 2

    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1, err
    assert snapshot(here) == before


def test_a_custom_component_s_module_comes_along_and_a_missing_one_is_listed(project):
    here, bot, _ = project
    config = (bot / "config.yml").read_text()
    (bot / "config.yml").write_text(
        config + "  - name: addons.policies.MyPolicy\n  - name: elsewhere.Missing\n"
    )
    write(bot / "addons/policies.py", "class MyPolicy: ...\n")

    report = adopt.adopt(bot, keep=set())

    assert (here / "addons/policies.py").read_text() == "class MyPolicy: ...\n"
    assert "copied addons (custom component addons.policies.MyPolicy)" in report.did
    assert any("elsewhere.Missing: copy its module" in line for line in report.check)
