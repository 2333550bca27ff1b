"""Fast checks on baked projects: every option bakes, files parse, no Jinja left, git and DVC ready,
and each option variant holds exactly its files."""

import re
import sys

import pytest
import yaml

from support import (
    LEFTOVER_JINJA,
    OPTIONS,
    STORAGE_SECTION,
    bake,
    dvc_config,
    git,
    parse,
    project_files,
    run,
)
from support.remote_facts import REMOTES

# Every choice of every option once (the rest default), plus combinations that meet in one file.
CONFIGS = [{key: choice} for key, choices in OPTIONS.items() for choice in choices] + [
    {"dvc_remote": "s3", "cml_runner": "aws", "cml_publish_images": "yes"},
    {"dvc_remote": "gs", "cml_runner": "gcp"},
    {"dvc_remote": "azure", "cml_runner": "azure"},
    {"dvc_remote": "none", "ci_provider": "none"},
]
# remote type -> the DVC plugin its lock holds (none for the base lock)
DVC_EXTRA = {r: f"dvc-{f['dvc_extra']}" for r, f in REMOTES.items() if f["dvc_extra"] != "base"}
# What a default bake commits (`git ls-files`), written out so a file that appears or goes is seen.
DEFAULT_TREE = {
    ".dockerignore",
    ".dvc/.gitignore",
    ".dvc/config",
    ".dvcignore",
    ".gitattributes",
    ".github/CODEOWNERS",
    ".github/dependabot.yml",
    ".github/workflows/cml.yml",
    ".github/workflows/image.yml",
    ".github/workflows/sweep.yml",
    ".gitignore",
    ".pre-commit-config.yaml",
    ".python-version",
    "Dockerfile",
    "LICENSE",
    "Makefile",
    "README.md",
    "actions/__init__.py",
    "actions/actions.py",
    "config.yml",
    "credentials.yml",
    "data/nlu.yml",
    "data/rules.yml",
    "data/stories.yml",
    "docker-compose.yml",
    "domain.yml",
    "dvc.yaml",
    "endpoints.yml",
    "params.yaml",
    "pyproject.toml",
    "requirements/bot.in",
    "requirements/bot.txt",
    "requirements/dvc.in",
    "requirements/dvc.txt",
    "pipeline/__init__.py",
    "pipeline/adopt.py",
    "pipeline/adopt_components.py",
    "pipeline/adopt_layout.py",
    "pipeline/adopt_report.py",
    "pipeline/adopt_requirements.py",
    "pipeline/charts.py",
    "pipeline/check_lock.py",
    "pipeline/compare.py",
    "pipeline/evaluate.py",
    "pipeline/fixes.py",
    "pipeline/gate.py",
    "pipeline/bot_data.py",  # the report's: what the bot's files say
    "pipeline/dvc_tables.py",
    "pipeline/history.py",
    "pipeline/markdown.py",
    "pipeline/report_sections.py",
    "pipeline/metrics.py",
    "pipeline/model_archive.py",
    "pipeline/model_load.py",
    "pipeline/params.py",
    "pipeline/paths.py",
    "pipeline/rasa_cache.py",
    "pipeline/rasa_config.py",
    "pipeline/rasa_start.py",
    "pipeline/report.py",
    "pipeline/serve.py",
    "pipeline/split.py",
    "pipeline/sync.py",
    "pipeline/sweep.py",
    "pipeline/train.py",
    "scripts/bot-python.sh",
    "scripts/serve.sh",
    "tests/conftest.py",
    "tests/nlu/README.md",
    "tests/nlu/nlu_test.yml",
    "tests/test_actions.py",
    "tests/test_adopt.py",
    "tests/test_check_lock.py",
    "tests/test_gate.py",
    "tests/test_history.py",
    "tests/test_model_archive.py",
    "tests/test_report.py",
    "tests/test_scripts.py",
    "tests/test_sweep.py",
    "tests/test_stories.yml",
    "tests/test_sync.py",
}
# (option, choice) -> the default files that choice leaves out. Every other choice keeps the
# default tree: remotes, runners, image publishing and licenses change contents, not files.
LEAVES_OUT = {
    ("ci_provider", "none"): {
        ".github/CODEOWNERS",
        ".github/dependabot.yml",
        ".github/workflows/cml.yml",
        ".github/workflows/image.yml",
        ".github/workflows/sweep.yml",
    },
}


def config_id(config):
    return "-".join(f"{k}={v}" for k, v in config.items())


def text_files(project):
    for path in sorted(project.rglob("*")):
        if path.is_file() and ".git" not in path.parts and path.suffix not in {".png", ".gz"}:
            yield path


@pytest.fixture(scope="module")
def baked(cookies_session):
    """config id -> its bake, made once for the module's tests (they only read it)."""
    bakes = {}

    def get(config):
        key = config_id(config)
        if key not in bakes:
            bakes[key] = bake(cookies_session, **config)
        return bakes[key]

    return get


@pytest.fixture(scope="module")
def default_project(baked):
    return baked({})


@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_every_option_bakes_a_clean_project(baked, config):
    project = baked(config)
    answers = {key: choices[0] for key, choices in OPTIONS.items()} | config

    for path in text_files(project):
        text = path.read_text()
        assert not LEFTOVER_JINJA.search(text), f"Jinja left in {path.relative_to(project)}"
        parse(path)

    has_ci = answers["ci_provider"] == "github"
    assert (project / ".github/workflows/cml.yml").exists() == has_ci
    assert sorted(p.name for p in (project / "requirements").iterdir()) == [
        "bot.in",
        "bot.txt",
        "dvc.in",
        "dvc.txt",
    ]
    extra = DVC_EXTRA.get(answers["dvc_remote"])
    lock = (project / "requirements/dvc.txt").read_text()
    if extra:
        assert f"\n{extra}==" in lock
    assert not any(f"\n{name}==" in lock for name in DVC_EXTRA.values() if name != extra)

    assert git(project, "branch", "--show-current") == "main"
    assert git(project, "rev-list", "--count", "HEAD") == "1"
    assert git(project, "status", "--porcelain") == ""
    remotes = {s for s in dvc_config(project) if s.startswith("'remote")}
    if answers["dvc_remote"] == "none":
        assert remotes == set()
    else:
        assert remotes == {STORAGE_SECTION}
        assert dvc_config(project)["core"]["remote"] == "storage"


@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_every_option_bakes_exactly_its_files(baked, config):
    """Like cookiecutter-data-science: the exact file set of each bake, committed and on disk."""
    expected = DEFAULT_TREE.difference(*(LEAVES_OUT.get(item, set()) for item in config.items()))
    project = baked(config)
    assert sorted(git(project, "ls-files").splitlines()) == sorted(expected)
    # On disk, beside them: only what DVC keeps for itself (.dvc/tmp, ignored by .dvc/.gitignore).
    on_disk = set(project_files(project))
    assert {path for path in on_disk - expected if not path.startswith(".dvc/tmp/")} == set()


def test_default_bake_is_a_rasa_project(default_project):
    project = default_project
    for rel in [
        "config.yml",
        "domain.yml",
        "endpoints.yml",
        "credentials.yml",
        "data/nlu.yml",
        "data/rules.yml",
        "data/stories.yml",
        "tests/test_stories.yml",
        "actions/actions.py",
        "dvc.yaml",
        "params.yaml",
        ".python-version",
        "Makefile",
        "README.md",
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
    ignored = git(
        default_project,
        "check-ignore",
        ".venv/x",
        ".venv-dvc/x",
        ".rasa/cache",
        ".dvc/config.local",
        ".dvc/cache/x",
        "report.md",
        "results/intent_report.json",
        "dvc_plots/index.html",
    )
    assert len(ignored.splitlines()) == 8


APACHE_SECTIONS = [
    "1. Definitions.",
    "2. Grant of Copyright License.",
    "3. Grant of Patent License.",
    "4. Redistribution.",
    "5. Submission of Contributions.",
    "6. Trademarks.",
    "7. Disclaimer of Warranty.",
    "8. Limitation of Liability.",
    "9. Accepting Warranty or Additional Liability.",
    "END OF TERMS AND CONDITIONS",
]


def test_apache_license_is_the_full_text(cookies):
    text = (bake(cookies, license="Apache-2.0", author_name="Jo Dev") / "LICENSE").read_text()
    assert text.startswith("                                 Apache License\n")
    assert [section in text for section in APACHE_SECTIONS] == [True] * len(APACHE_SECTIONS)
    assert re.search(r"\n   Copyright \d{4} Jo Dev\n", text)
    assert "[yyyy]" not in text and len(text.splitlines()) > 190


def test_git_ignores_secrets_and_stray_models(default_project):
    paths = [
        ".env",
        ".env.production",
        "models/20240101-120000-old.tar.gz",
        ".rasa/x",
        ".env.example",
    ]
    ignored = git(default_project, "check-ignore", *paths, check=False).splitlines()
    assert ignored == paths[:-1]


def test_shipped_config_and_params_merge_into_the_config_rasa_trains_with(
    default_project, tmp_path
):
    """The train stage lays params.yaml's `train` values over config.yml without a conflict."""
    out = tmp_path / "config.yml"
    command = [sys.executable, "-m", "pipeline.rasa_config", "merge", "--out", str(out)]
    run(command, default_project)
    merged = yaml.safe_load(out.read_text())
    assert merged["assistant_id"] == "rasa-assistant"
    diet = next(c for c in merged["pipeline"] if c["name"] == "DIETClassifier")
    assert (
        diet["epochs"]
        == yaml.safe_load((default_project / "params.yaml").read_text())["train"]["DIETClassifier"][
            "epochs"
        ]
    )


def test_makefile_help_lists_the_targets(default_project):
    """Each target with its `## text`: the pipeline's and the serving ones."""
    output = run(["make", "help"], default_project).stdout
    targets = [
        "install",
        "repro",
        "adopt",
        "lock-bot",
        "push",
        "pull",
        "report",
        "test",
        "help",
        "shell",
        "serve",
        "actions",
    ]
    for target in targets:
        assert re.search(rf"^\s+{target}\s+\S", output, re.M), target
