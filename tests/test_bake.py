"""Fast checks on baked projects: every option bakes, files parse, no Jinja left, git and DVC ready."""

import ast
import configparser
import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

from conftest import TEMPLATE, bake, git
from remote_facts import REMOTES

OPTIONS = {
    key: value
    for key, value in json.loads((TEMPLATE / "cookiecutter.json").read_text()).items()
    if isinstance(value, list) and not key.startswith("_")
}
# Every choice of every option once (the rest default), plus combinations that meet in one file.
CONFIGS = [{key: choice} for key, choices in OPTIONS.items() for choice in choices] + [
    {"dvc_remote": "s3", "cml_runner": "aws", "cml_publish_images": "yes"},
    {"dvc_remote": "gs", "cml_runner": "gcp"},
    {"dvc_remote": "azure", "cml_runner": "azure"},
    {"dvc_remote": "none", "ci_provider": "none"},
]
# remote type -> the DVC plugin its lock holds (none for the base lock)
DVC_EXTRA = {r: f"dvc-{f['dvc_extra']}" for r, f in REMOTES.items() if f["dvc_extra"] != "base"}
# How DVC's config names the default remote's section (configparser keeps the quotes).
STORAGE_SECTION = "'remote \"storage\"'"
LEFTOVER_JINJA = re.compile(r"(?<!\$)\{\{|\{%|%\}|\{#|#\}")


def config_id(config):
    return "-".join(f"{k}={v}" for k, v in config.items())


def text_files(project):
    for path in sorted(project.rglob("*")):
        if path.is_file() and ".git" not in path.parts and path.suffix not in {".png", ".gz"}:
            yield path


def parse(path):
    text = path.read_text()
    if path.suffix in {".yml", ".yaml"}:
        return list(yaml.safe_load_all(text))
    if path.suffix == ".toml":
        return tomllib.loads(text)
    if path.suffix == ".json":
        return json.loads(text)
    if path.suffix == ".py":
        return ast.parse(text, filename=str(path))
    return None


def dvc_config(project):
    parser = configparser.ConfigParser()
    parser.read(project / ".dvc/config")
    return parser


@pytest.fixture(scope="module")
def default_project(cookies_session):
    return bake(cookies_session)


@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_every_option_bakes_a_clean_project(cookies, config):
    project = bake(cookies, **config)
    answers = {key: choices[0] for key, choices in OPTIONS.items()} | config

    for path in text_files(project):
        text = path.read_text()
        assert not LEFTOVER_JINJA.search(text), f"Jinja left in {path.relative_to(project)}"
        parse(path)

    has_ci = answers["ci_provider"] == "github"
    assert (project / ".github/workflows/cml.yml").exists() == has_ci
    assert sorted(p.name for p in (project / "requirements").iterdir()) == [
        "bot.in", "bot.txt", "dvc.in", "dvc.txt",
    ]
    extra = DVC_EXTRA.get(answers["dvc_remote"])
    lock = (project / "requirements/dvc.txt").read_text()
    if extra:
        assert f"\n{extra}==" in lock
    assert not any(f"\n{name}==" in lock for name in DVC_EXTRA.values() if name != extra)

    assert git(project, "branch", "--show-current") == "main"
    assert git(project, "rev-list", "--count", "HEAD") == "1"
    assert git(project, "status", "--porcelain") == ""
    remotes = {s for s in dvc_config(project).sections() if s.startswith("'remote")}
    if answers["dvc_remote"] == "none":
        assert remotes == set()
    else:
        assert remotes == {STORAGE_SECTION}
        assert dvc_config(project)["core"]["remote"] == "storage"


def test_default_bake_is_a_rasa_project(default_project):
    project = default_project
    for rel in [
        "config.yml", "domain.yml", "endpoints.yml", "credentials.yml", "data/nlu.yml",
        "data/rules.yml", "data/stories.yml", "tests/test_stories.yml", "actions/actions.py",
        "dvc.yaml", "params.yaml", ".python-version", "Makefile", "README.md",
    ]:
        assert (project / rel).is_file(), rel
    assert (project / ".python-version").read_text().strip() == "3.10"
    config = yaml.safe_load((project / "config.yml").read_text())
    assert config["assistant_id"] == project.name
    train = yaml.safe_load((project / "params.yaml").read_text())["train"]
    seeded = [options for options in train.values() if "epochs" in options]
    assert seeded and all(options["random_seed"] == 42 for options in seeded)
    assert "action_tell_time" in yaml.safe_load((project / "domain.yml").read_text())["actions"]


def test_default_remote_is_a_local_folder_outside_the_project(default_project):
    url = dvc_config(default_project)[STORAGE_SECTION]["url"]
    storage = (default_project / ".dvc" / url).resolve()
    assert storage == default_project.parent / f"{default_project.name}-dvc-storage"
    assert default_project not in storage.parents


def test_git_ignores_what_dvc_and_environments_own(default_project):
    ignored = git(default_project, "check-ignore", ".venv/x", ".venv-dvc/x", ".rasa/cache",
                  ".dvc/config.local", ".dvc/cache/x", "report.md")
    assert len(ignored.splitlines()) == 6


APACHE_SECTIONS = [
    "1. Definitions.", "2. Grant of Copyright License.", "3. Grant of Patent License.",
    "4. Redistribution.", "5. Submission of Contributions.", "6. Trademarks.",
    "7. Disclaimer of Warranty.", "8. Limitation of Liability.",
    "9. Accepting Warranty or Additional Liability.", "END OF TERMS AND CONDITIONS",
]


def test_apache_license_is_the_full_text(cookies):
    text = (bake(cookies, license="Apache-2.0", author_name="Jo Dev") / "LICENSE").read_text()
    assert text.startswith("                                 Apache License\n")
    assert [section in text for section in APACHE_SECTIONS] == [True] * len(APACHE_SECTIONS)
    assert re.search(r"\n   Copyright \d{4} Jo Dev\n", text)
    assert "[yyyy]" not in text and len(text.splitlines()) > 190


def test_git_ignores_secrets_and_stray_models(default_project):
    paths = [".env", ".env.production", "models/20240101-120000-old.tar.gz", ".rasa/x", ".env.example"]
    ignored = git(default_project, "check-ignore", *paths, check=False).splitlines()
    assert ignored == paths[:-1]


def test_shipped_config_and_params_merge_into_the_config_rasa_trains_with(default_project, tmp_path):
    """The train stage lays params.yaml's `train` values over config.yml without a conflict."""
    import sys

    from conftest import run

    out = tmp_path / "config.yml"
    script = default_project / "scripts/rasa_config.py"
    run([sys.executable, str(script), "merge", "--out", str(out)], default_project)
    merged = yaml.safe_load(out.read_text())
    assert merged["assistant_id"] == "rasa-assistant"
    diet = next(c for c in merged["pipeline"] if c["name"] == "DIETClassifier")
    assert diet["epochs"] == yaml.safe_load((default_project / "params.yaml").read_text())["train"][
        "DIETClassifier"
    ]["epochs"]


def test_makefile_help_lists_the_targets(default_project):
    from conftest import run

    output = run(["make", "help"], default_project).stdout
    for target in ["install", "repro", "push", "pull", "report", "test", "help"]:
        assert re.search(rf"^\s+{target}\s", output, re.M), target
