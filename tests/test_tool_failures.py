"""Tools that are missing, too old or failing, a folder that cannot be written, a re-bake over an
existing folder: each gives a clear message and leaves a complete project or nothing.

Tools are swapped through PATH: a folder of symlinks to the real ones plus small fake
executables that print an old version or fail. The bake itself runs the real cookiecutter CLI.
"""

import os
import shutil
from pathlib import Path

import pytest

from support import git, git_status, run
from support.cli import REAL, cookiecutter, fake_tool, first_error, tool_dir, tree
from support.remote_facts import DVC_VERSION

PYTHON = shutil.which("python3")


def path_with(tmp_path, **fakes):
    """A PATH holding the real git, uv and python3, with `fakes` (name -> version line) on top."""
    real = tool_dir(tmp_path / "real", git=REAL["git"], uv=REAL["uv"], python3=PYTHON)
    fake_dir = tmp_path / "fake"
    for name, (line, code) in fakes.items():
        fake_tool(fake_dir, name, line, code)
    return [fake_dir, real]


@pytest.mark.parametrize(
    ("fakes", "message"),
    [
        (
            {"git": ("git version 2.20.1", 0)},
            "ERROR: 'git' 2.20.1 ({fake}/git): expected 2.28 or newer; upgrade git",
        ),
        (
            {"uv": ("uv 0.3.5 (1d2a2b3 2024-08-20)", 0)},
            "ERROR: 'uv' 0.3.5 ({fake}/uv): expected 0.4 or newer; upgrade uv",
        ),
        (
            {"git": ("something else entirely", 0)},
            "ERROR: 'git' ({fake}/git): could not read its version from 'git --version'; "
            "install git",
        ),
    ],
    ids=["old-git", "old-uv", "unreadable-git-version"],
)
def test_too_old_tool_refuses_the_bake(tmp_path, fakes, message):
    """The line names the tool, the version found, where it was found, and what to do."""
    out = tmp_path / "out"
    result = cookiecutter(out, path=path_with(tmp_path, **fakes))
    assert result.returncode != 0
    assert first_error(result).startswith(message.format(fake=tmp_path / "fake"))
    assert tree(out) == []


@pytest.mark.parametrize(
    ("fakes", "message"),
    [
        (
            {"uv": ("uv 0.13.8", 1)},
            f"ERROR: dvc init (DVC {DVC_VERSION} via 'uv tool run') failed: uv: simulated failure",
        ),
        ({"git": ("git version 2.39.5", 128)}, "ERROR: git init failed: git: simulated failure"),
    ],
    ids=["uv-fails", "git-fails"],
)
def test_failing_tool_in_post_gen_leaves_nothing(tmp_path, fakes, message):
    out = tmp_path / "out"
    result = cookiecutter(out, path=path_with(tmp_path, **fakes))
    assert result.returncode != 0
    assert first_error(result) == message
    assert tree(out) == []


def test_dvc_init_failing_for_real_leaves_nothing(tmp_path):
    """The real uv with no network and an empty cache cannot provide DVC."""
    out = tmp_path / "out"
    result = cookiecutter(
        out,
        path=path_with(tmp_path),
        extra_env={"UV_CACHE_DIR": str(tmp_path / "empty-cache"), "UV_OFFLINE": "1"},
    )
    assert result.returncode != 0
    step, _, reason = first_error(result).partition(" failed: ")
    assert step == f"ERROR: dvc init (DVC {DVC_VERSION} via 'uv tool run')"
    assert "network" in reason, "uv's own reason follows"
    assert tree(out) == []


def unwritable_folder(tmp_path):
    """A folder in which creating a subfolder fails, for root too."""
    if os.geteuid() == 0:  # root writes through permission bits; /sys refuses new entries
        return Path("/sys/rasa-dvc-cml-test")
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    return folder


def test_read_only_output_folder(tmp_path):
    out = unwritable_folder(tmp_path)
    result = cookiecutter(out)
    assert result.returncode != 0
    assert "Unable to create directory at " in result.stdout + result.stderr
    assert not (out / "rasa-assistant").exists()
    if out.parent == tmp_path:
        assert list(out.iterdir()) == []


@pytest.fixture
def baked(tmp_path):
    out = tmp_path / "out"
    result = cookiecutter(out)
    assert result.returncode == 0, result.stderr
    return out / "rasa-assistant"


def test_rebake_without_overwrite_is_refused(baked):
    before = {p: p.stat().st_mtime_ns for p in baked.rglob("*") if ".git" not in p.parts}
    result = cookiecutter(baked.parent)
    assert result.returncode != 0
    assert "directory already exists" in result.stdout + result.stderr
    assert {p: p.stat().st_mtime_ns for p in baked.rglob("*") if ".git" not in p.parts} == before


def test_rebake_with_same_answers_changes_nothing(baked):
    head = git(baked, "rev-parse", "HEAD")
    result = cookiecutter(baked.parent, "--overwrite-if-exists")
    assert result.returncode == 0, result.stderr
    assert f"NOTE: {baked} exists" in result.stderr
    assert git(baked, "rev-parse", "HEAD") == head
    assert git_status(baked) == ""


def test_rebake_with_new_answers_leaves_reviewable_changes(baked):
    (baked / "notes.md").write_text("mine\n")
    head = git(baked, "rev-parse", "HEAD")
    result = cookiecutter(
        baked.parent, "--overwrite-if-exists", "description=A new description.", "dvc_remote=s3"
    )
    assert result.returncode == 0, result.stderr
    assert git(baked, "rev-parse", "HEAD") == head
    assert (baked / "notes.md").read_text() == "mine\n"
    changed = {line[3:] for line in git_status(baked).splitlines()}
    assert {"README.md", "requirements/dvc.txt", "notes.md"} <= changed
    assert "s3://rasa-assistant-dvc/storage" in (baked / ".dvc/config").read_text()


def test_failed_rebake_never_deletes_the_existing_project(baked, tmp_path):
    (baked / "notes.md").write_text("mine\n")
    head = git(baked, "rev-parse", "HEAD")
    path = path_with(tmp_path, uv=("uv 0.13.8", 1))
    result = cookiecutter(baked.parent, "--overwrite-if-exists", path=path)
    assert result.returncode != 0
    assert (
        first_error(result)
        == f"ERROR: dvc init (DVC {DVC_VERSION} via 'uv tool run') failed: uv: simulated failure"
    )
    assert (baked / "notes.md").read_text() == "mine\n"
    assert git(baked, "rev-parse", "HEAD") == head


def test_rebake_without_ci_keeps_the_users_own_files_under_github(baked):
    """Only the workflows the template wrote go; the folder stays for what the user put there."""
    workflows = baked / ".github/workflows"
    (workflows / "other.yml").write_text("name: mine\n")
    (baked / ".github/FUNDING.yml").write_text("github: [me]\n")
    result = cookiecutter(baked.parent, "--overwrite-if-exists", "ci_provider=none")
    assert result.returncode == 0, result.stderr
    # CODEOWNERS is the template's example (ci_provider=github): it goes with the workflows.
    assert sorted(p.name for p in (baked / ".github").rglob("*")) == [
        "FUNDING.yml",
        "other.yml",
        "workflows",
    ]


def test_rebake_without_ci_removes_the_folders_the_template_alone_used(baked):
    result = cookiecutter(baked.parent, "--overwrite-if-exists", "ci_provider=none")
    assert result.returncode == 0, result.stderr
    assert not (baked / ".github").exists()


def test_bake_into_a_folder_commits_only_the_template_files(tmp_path):
    """The user's secrets and notes in the folder stay on disk and out of the first commit."""
    out = tmp_path / "out"
    mine = {
        ".env": "API_KEY=secret\n",
        "notes/todo.txt": "mine\n",
        "models/old.tar.gz": "x",
        "data/private.yml": "secret: 1\n",
        "credentials.local.yml": "token: 2\n",
    }
    for rel, text in mine.items():
        (out / "rasa-assistant" / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / "rasa-assistant" / rel).write_text(text)
    result = cookiecutter(out, "--overwrite-if-exists")
    assert result.returncode == 0, result.stderr
    project = out / "rasa-assistant"
    committed = set(git(project, "ls-files").splitlines())
    assert committed.isdisjoint(mine)
    assert {
        "README.md",
        "Makefile",
        ".gitignore",
        ".dvc/config",
        "requirements/dvc.txt",
    } <= committed
    assert all((project / rel).read_text() == text for rel, text in mine.items())
    fresh = cookiecutter(tmp_path / "fresh")
    assert fresh.returncode == 0, fresh.stderr
    assert committed == set(git(tmp_path / "fresh/rasa-assistant", "ls-files").splitlines())


def test_rebake_with_no_remote_removes_the_remote_it_had_added(baked):
    result = cookiecutter(
        baked.parent, "--overwrite-if-exists", "dvc_remote=none", "dvc_remote_url="
    )
    assert result.returncode == 0, result.stderr
    config = (baked / ".dvc/config").read_text()
    assert "storage" not in config and "url" not in config, config


def failing_hooks(folder):
    """A hooks folder whose every hook that runs during a commit fails."""
    folder.mkdir()
    for name in (
        "pre-commit",
        "prepare-commit-msg",
        "commit-msg",
        "post-commit",
        "reference-transaction",
        "post-index-change",
        "post-checkout",
    ):
        (folder / name).write_text("#!/bin/sh\necho hook $0 refused >&2\nexit 1\n")
        (folder / name).chmod(0o755)
    return folder


# (id, global git config, expected author of the first commit: None = the answers' author)
HOSTILE_GIT = [
    ("hooks", lambda tmp: f"[core]\n\thooksPath = {failing_hooks(tmp / 'hooks')}\n", None),
    (
        "signing-without-a-key",
        lambda tmp: "[commit]\n\tgpgsign = true\n[gpg]\n\tprogram = false\n",
        None,
    ),
    ("global-excludes", lambda tmp: f"[core]\n\texcludesFile = {tmp / 'ignore'}\n", None),
    ("name-only", lambda tmp: "[user]\n\tname = Only A Name\n", None),
    ("email-only", lambda tmp: "[user]\n\temail = only@example.org\n", None),
    (
        "complete-identity",
        lambda tmp: "[user]\n\tname = Jo Dev\n\temail = jo@example.org\n",
        "Jo Dev <jo@example.org>",
    ),
]


@pytest.mark.parametrize(
    ("config", "author"), [c[1:] for c in HOSTILE_GIT], ids=[c[0] for c in HOSTILE_GIT]
)
def test_first_commit_holds_every_template_file_whatever_the_users_git_setup(
    tmp_path, config, author
):
    (tmp_path / "ignore").write_text("*.yml\nMakefile\nscripts/\n.github/\n")
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text(config(tmp_path))
    env = {"GIT_CONFIG_GLOBAL": str(gitconfig), "GIT_CONFIG_NOSYSTEM": "1"}
    env |= {
        f"GIT_{who}_{what}": None for who in ("AUTHOR", "COMMITTER") for what in ("NAME", "EMAIL")
    }
    out = tmp_path / "out"
    result = cookiecutter(out, extra_env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    project = out / "rasa-assistant"
    assert git(project, "log", "--format=%an <%ae>|%cn <%ce>") == "|".join(
        [author or "Rasa Team <rasa-team@example.com>"] * 2
    )
    unsaved = run(
        [
            "git",
            "-c",
            f"core.excludesFile={os.devnull}",
            "status",
            "--porcelain",
            "--untracked-files=all",
        ],
        project,
    ).stdout
    assert unsaved == ""
    assert {"Makefile", "config.yml", "scripts/serve.sh", ".github/workflows/cml.yml"} <= set(
        git(project, "ls-files").splitlines()
    )
