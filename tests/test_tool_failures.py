"""Tools that are missing, too old or failing, a folder that cannot be written, a re-bake over an
existing folder: each gives a clear message and leaves a complete project or nothing.

Tools are swapped through PATH: a folder of symlinks to the real ones plus small fake
executables that print an old version or fail. The bake itself runs the real cookiecutter CLI.
"""

import os
import shutil
from pathlib import Path

import pytest

from cli import REAL, cookiecutter, fake_tool, first_error, tool_dir, tree
from conftest import git, run

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
        ({"git": ("git version 2.20.1", 0)}, "ERROR: 'git' 2.20.1 ("),
        ({"uv": ("uv 0.3.5 (1d2a2b3 2024-08-20)", 0)}, "ERROR: 'uv' 0.3.5 ("),
        ({"git": ("something else entirely", 0)}, "ERROR: 'git' ("),
    ],
    ids=["old-git", "old-uv", "unreadable-git-version"],
)
def test_too_old_tool_refuses_the_bake(tmp_path, fakes, message):
    out = tmp_path / "out"
    result = cookiecutter(out, path=path_with(tmp_path, **fakes))
    assert result.returncode != 0
    line = first_error(result)
    assert line.startswith(message)
    assert "expected 2.28 or newer" in line or "expected 0.4 or newer" in line or "version" in line
    assert tree(out) == []


@pytest.mark.parametrize(
    ("fakes", "message"),
    [
        ({"uv": ("uv 0.13.8", 1)}, "ERROR: dvc init (DVC 3.67.1 via 'uv tool run') failed: uv: simulated failure"),
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
    line = first_error(result)
    assert line.startswith("ERROR: dvc init (DVC 3.67.1 via 'uv tool run') failed: ")
    assert "network" in line or "dvc" in line
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


def status(project):
    return run(["git", "status", "--porcelain", "--untracked-files=all"], project).stdout


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
    assert status(baked) == ""


def test_rebake_with_new_answers_leaves_reviewable_changes(baked):
    (baked / "notes.md").write_text("mine\n")
    head = git(baked, "rev-parse", "HEAD")
    result = cookiecutter(
        baked.parent, "--overwrite-if-exists", "description=A new description.", "dvc_remote=s3"
    )
    assert result.returncode == 0, result.stderr
    assert git(baked, "rev-parse", "HEAD") == head
    assert (baked / "notes.md").read_text() == "mine\n"
    changed = {line[3:] for line in status(baked).splitlines()}
    assert {"README.md", "requirements/dvc.txt", "notes.md"} <= changed
    assert "s3://rasa-assistant-dvc/storage" in (baked / ".dvc/config").read_text()


def test_failed_rebake_never_deletes_the_existing_project(baked, tmp_path):
    (baked / "notes.md").write_text("mine\n")
    head = git(baked, "rev-parse", "HEAD")
    path = path_with(tmp_path, uv=("uv 0.13.8", 1))
    result = cookiecutter(baked.parent, "--overwrite-if-exists", path=path)
    assert result.returncode != 0
    assert first_error(result) == "ERROR: dvc init (DVC 3.67.1 via 'uv tool run') failed: uv: simulated failure"
    assert (baked / "notes.md").read_text() == "mine\n"
    assert git(baked, "rev-parse", "HEAD") == head


@pytest.mark.e2e
def test_make_install_without_python_310_says_so(baked, tmp_path):
    """No Python 3.10 on PATH and downloads off: `make install` stops with one clear line."""
    bin_dir = tool_dir(
        tmp_path / "no310",
        uv=REAL["uv"],
        make=shutil.which("make"),
        bash=shutil.which("bash"),
        sh=shutil.which("sh"),
        test=shutil.which("test"),
    )
    env = dict(os.environ, PATH=str(bin_dir), UV_PYTHON_DOWNLOADS="never")
    env["UV_PYTHON_INSTALL_DIR"] = str(tmp_path / "no-managed-pythons")
    result = run(["make", "install"], baked, check=False, env=env)
    assert result.returncode != 0
    assert "ERROR: Python 3.10 not found" in result.stdout + result.stderr
    assert not (baked / ".venv").exists()
