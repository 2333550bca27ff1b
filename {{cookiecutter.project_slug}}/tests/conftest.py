"""Shared by the bot's unit tests (pytest's settings are in pyproject.toml): the project's folders,
a `git` that commits as a test identity, and the fixture that lets `python -m pipeline.<name>` run
from a test's temporary repository. Tests import the plain helpers with `from conftest import ...`
(pytest puts this folder on sys.path; it is the same module pytest loaded)."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DVC = ROOT / ".venv-dvc/bin/dvc"  # the project's own DVC, from `make install`
# Given to git and to the pipeline's programs that commit (make sync), so no test needs a global
# git identity on the machine.
GIT_IDENTITY = {
    f"GIT_{role}_{part}": value
    for role in ("AUTHOR", "COMMITTER")
    for part, value in (("NAME", "Tests"), ("EMAIL", "tests@example.com"))
}


def git(repo: Path, *args: str, check: bool = True) -> str:
    """`git <args>` in `repo`, its output stripped; a failure fails the test with git's message."""
    result = subprocess.run(
        ["git", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_IDENTITY},
    )
    assert not check or result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout.strip()


@pytest.fixture(scope="session", autouse=True)
def _pipeline_importable_from_any_folder():
    """`python -m pipeline.<name>` in a test's temporary repository imports this project's
    package, as it does from the project root."""
    paths = [str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
