"""Fixtures shared by the test modules (helpers and tables are in tests/support/; the map of which
file covers what is tests/README.md).

The slow fixtures (`installed_bot`, `trained_bot`) bake, install and run the pipeline once per
session; every end-to-end check shares them. `-m "not e2e"` skips those checks locally; with `CI`
set, a session that deselected or skipped any e2e test fails (see the hooks at the end).
"""

import os
import shutil
from pathlib import Path

import pytest

from support import (
    WORKFLOW_COMBINATIONS,
    bake,
    bake_without_hooks,
    combo_id,
    run,
    share_environments,
)


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


@pytest.fixture(scope="session")
def few_epochs_bot(installed_bot, tmp_path_factory):
    """A clone of the default bake trained and committed with 5 epochs per component: for the
    checks whose assertions do not depend on the model's quality (experiments, Rasa's modes).
    It uses the installed bot's environments, linked."""
    project = tmp_path_factory.mktemp("few-epochs") / installed_bot.name
    run(["git", "clone", "--quiet", str(installed_bot), str(project)], installed_bot.parent)
    share_environments(installed_bot, project)
    run(["make", "install"], project)
    params = project / "params.yaml"
    params.write_text(params.read_text().replace("epochs: 100", "epochs: 5"))
    run(["make", "repro"], project)
    run(["git", "add", "--all"], project)
    run(["git", "commit", "--quiet", "-m", "Train with 5 epochs"], project)
    return project


@pytest.fixture(scope="session")
def rendered(tmp_path_factory):
    """combo id -> the rendered .github/workflows/cml.yml (a copy, outside its project), for
    every combination of WORKFLOW_COMBINATIONS; `<id>-sweep.yml`, `<id>-dependabot.yml` and
    `<id>-README.md` lie beside each."""
    root = tmp_path_factory.mktemp("workflows")
    files = {}
    for combo in WORKFLOW_COMBINATIONS:
        name = combo_id(combo)
        project = bake_without_hooks(root / name, {**combo, "ci_provider": "github"})
        files[name] = shutil.copy(project / ".github/workflows/cml.yml", root / f"{name}.yml")
        shutil.copy(project / ".github/workflows/sweep.yml", root / f"{name}-sweep.yml")
        shutil.copy(project / ".github/dependabot.yml", root / f"{name}-dependabot.yml")
        shutil.copy(project / "README.md", root / f"{name}-README.md")
        shutil.rmtree(root / name)
    return {name: Path(path) for name, path in files.items()}


# --- CI never runs without the e2e tests -------------------------------------------------------
# `PYTEST_ADDOPTS='-m "not e2e"'` (or -k, --deselect, a skip) could otherwise turn CI green
# without them. `make test-fast` leaves them out on purpose, so it runs with CI cleared.

_E2E_LEFT_OUT = []


def _is_e2e(item_or_report):
    return "e2e" in item_or_report.keywords


def pytest_deselected(items):
    _E2E_LEFT_OUT.extend(f"deselected: {item.nodeid}" for item in items if _is_e2e(item))


def pytest_runtest_logreport(report):
    if report.skipped and _is_e2e(report):
        _E2E_LEFT_OUT.append(f"skipped: {report.nodeid}")


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("CI") and _E2E_LEFT_OUT:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = (
            f"ERROR: CI is set and {len(_E2E_LEFT_OUT)} e2e test(s) did not run; CI runs them all:"
        )
        for line in [message, *_E2E_LEFT_OUT[:20]]:
            if reporter:
                reporter.write_line(line)
            else:
                print(line)
