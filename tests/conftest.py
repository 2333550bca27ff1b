"""Fixtures shared by the test modules (helpers and tables are in tests/support/; the map of which
file covers what is tests/README.md).

The slow fixtures (`installed_bot`, `trained_bot`) bake, install and run the pipeline once per
session; every end-to-end check shares them. `-m "not e2e"` skips those checks locally; with `CI`
set, a session that deselected or skipped any e2e test fails (see the hooks at the end).
"""

import os
import shutil

import pytest

from support import (
    TEMPLATE,
    WORKFLOW_COMBINATIONS,
    bake,
    bake_without_hooks,
    combo_id,
    git,
    install_once_per_run,
    run,
    run_wide,
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
def installed_bot(cookies_session, tmp_path_factory):
    """The default bake with `make install` done: bot and DVC environments ready (built once per
    run: the other worker's installed bot links them)."""
    project = bake(cookies_session)
    install_once_per_run(project, tmp_path_factory)
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
def supportdesk_bot(cookies_session, installed_bot, tmp_path_factory):
    """(project, first `make adopt` output, second one, first `make repro`): tests/bots/supportdesk
    brought into a fresh bake by `make adopt` (with stray files added to a copy of it), trained by
    `make repro` untouched and committed. Its own bake and its own bot environment: adopting
    re-locks and re-syncs it, and the new lock may select other versions (uv's universal lock
    can split a package by platform markers differently), which would change a shared
    environment under the tests using it. The DVC environment is shared (adopting leaves its lock
    alone: checked below)."""
    project = bake(cookies_session)
    share_environments(installed_bot, project, envs=[".venv-dvc"])
    run(["make", "install"], project)
    bot = tmp_path_factory.mktemp("their") / "supportdesk"
    shutil.copytree(TEMPLATE / "tests/bots/supportdesk", bot)
    for folder in ("data", "data/nlu", "domain"):  # what Finder leaves behind; Rasa ignores it
        (bot / folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1\x00\xff\xfe")
    dvc_lock_before = (project / "requirements/dvc.txt").read_text()

    adopted = run(["make", "adopt", f"BOT={bot}"], project).stdout
    assert not (project / "data/.DS_Store").exists()
    assert (project / "requirements/dvc.txt").read_text() == dvc_lock_before
    repro = run(["make", "repro"], project)
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "Bring the supportdesk bot")
    again = run(["make", "adopt", f"BOT={bot}"], project).stdout
    return project, adopted, again, repro


@pytest.fixture(scope="session")
def rendered(tmp_path_factory):
    """combo id -> the rendered .github/workflows/cml.yml (a copy, outside its project), for
    every combination of WORKFLOW_COMBINATIONS; `<id>-sweep.yml`, `<id>-dependabot.yml` and
    `<id>-README.md` lie beside each. Rendered once per run; tests only read them."""
    names = [combo_id(combo) for combo in WORKFLOW_COMBINATIONS]
    with run_wide(tmp_path_factory, "workflows") as root:
        if not (root / "rendered").exists():
            root.mkdir(exist_ok=True)
            for name, combo in zip(names, WORKFLOW_COMBINATIONS, strict=True):
                shutil.rmtree(root / name, ignore_errors=True)
                project = bake_without_hooks(root / name, {**combo, "ci_provider": "github"})
                shutil.copy(project / ".github/workflows/cml.yml", root / f"{name}.yml")
                shutil.copy(project / ".github/workflows/sweep.yml", root / f"{name}-sweep.yml")
                shutil.copy(project / ".github/dependabot.yml", root / f"{name}-dependabot.yml")
                shutil.copy(project / "README.md", root / f"{name}-README.md")
                shutil.rmtree(root / name)
            (root / "rendered").touch()
    return {name: root / f"{name}.yml" for name in names}


# --- two workers (pytest-xdist, `make test`) ---------------------------------------------------
# Each worker builds the session fixtures it needs itself. So the tests that share a session bot
# run on one worker (the bot is built once), and each other e2e module runs whole on one worker
# (its module fixtures are built once); fast tests fill in wherever a worker is free. The e2e
# groups are queued first, the shared bots' (the longest) before the rest, so no worker is left
# training alone at the end.
SHARED_BOTS = ("trained_bot", "few_epochs_bot", "supportdesk_bot", "installed_bot")


def xdist_group(item):
    """The worker group of a test: its shared bot, its module if e2e, else none."""
    marked = item.get_closest_marker("xdist_group")
    if marked:
        return marked.args[0]
    for bot in SHARED_BOTS:
        if bot in item.fixturenames:
            return bot
    return item.module.__name__ if _is_e2e(item) else None


@pytest.hookimpl(tryfirst=True)  # before xdist reads the marks
def pytest_collection_modifyitems(config, items):
    groups = {item: xdist_group(item) for item in items}
    for item, group in groups.items():
        if group and not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group(group))
    rank = {name: position for position, name in enumerate(SHARED_BOTS)}

    def queue_position(item):
        group = groups[item]
        return (not _is_e2e(item), group is None, rank.get(group, len(rank)))

    items.sort(key=queue_position)


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


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """xdist: what a worker left out reaches the controller, whose exit status is the run's."""
    _E2E_LEFT_OUT.extend(getattr(node, "workeroutput", {}).get("e2e_left_out", []))


def pytest_sessionfinish(session, exitstatus):
    # Every worker deselects the same tests, and a skip is logged by a worker and its controller.
    left_out = list(dict.fromkeys(_E2E_LEFT_OUT))
    if hasattr(session.config, "workeroutput"):  # an xdist worker
        session.config.workeroutput["e2e_left_out"] = left_out
        return
    if os.environ.get("CI") and left_out:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = f"ERROR: CI is set and {len(left_out)} e2e test(s) did not run; CI runs them all:"
        for line in [message, *left_out[:20]]:
            if reporter:
                reporter.write_line(line)
            else:
                print(line)
