"""Shared fixtures: bake the template with pytest-cookies, run commands in a baked bot.

The slow fixtures (`installed_bot`, `trained_bot`) bake, install and run the pipeline once per
session; every end-to-end check shares them. `-m "not e2e"` skips those checks locally; CI runs all.
"""

import os
import socket
import subprocess
from pathlib import Path

import pytest

TEMPLATE = Path(__file__).resolve().parents[1]
DEFAULT_SLUG = "rasa-assistant"


def run(args, cwd, check=True, env=None, timeout=1800):
    """Run a program (argument list, no shell) and return the CompletedProcess."""
    result = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, args))} exited {result.returncode} in {cwd}\n"
            f"--- stdout ---\n{result.stdout[-4000:]}\n--- stderr ---\n{result.stderr[-4000:]}"
        )
    return result


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def git(cwd, *args, check=True):
    return run(["git", *args], cwd, check=check).stdout.strip()


def ran_stages(output):
    """The stages `dvc repro` ran (or, with --dry, would run), in order."""
    return [line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage")]


def bake(cookies, **context):
    result = cookies.bake(extra_context=context)
    assert result.exception is None, f"bake failed: {result.exception!r}"
    assert result.exit_code == 0
    return result.project_path


@pytest.fixture(scope="session", autouse=True)
def _quiet_offline_tools():
    """No telemetry, no surprise Python downloads: a missing interpreter must be an error."""
    os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")
    os.environ.setdefault("DVC_NO_ANALYTICS", "1")
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("ITERATIVE_DO_NOT_TRACK", "true")
    # `make test` must not turn the bots' own `make` into sub-makes: they would print
    # "make[1]: Entering/Leaving directory" around what the tests read.
    for name in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS"):
        os.environ.pop(name, None)
    # Tests commit in baked projects; a fresh CI machine has no git identity.
    for role in ("AUTHOR", "COMMITTER"):
        os.environ.setdefault(f"GIT_{role}_NAME", "rasa-dvc-cml tests")
        os.environ.setdefault(f"GIT_{role}_EMAIL", "tests@rasa-dvc-cml.invalid")


@pytest.fixture(scope="session")
def installed_bot(cookies_session):
    """The default bake with `make install` done: bot and DVC environments ready."""
    project = bake(cookies_session)
    run(["make", "install"], project)
    return project


@pytest.fixture(scope="session")
def trained_bot(installed_bot):
    """The default bake after `make repro`: a real model, real test reports, real metrics."""
    run(["make", "repro"], installed_bot)
    return installed_bot
