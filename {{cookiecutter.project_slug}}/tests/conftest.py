"""Shared by the bot's unit tests (pytest's settings are in pyproject.toml)."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session", autouse=True)
def _pipeline_importable_from_any_folder():
    """`python -m pipeline.<name>` in a test's temporary repository imports this project's
    package, as it does from the project root."""
    paths = [str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
