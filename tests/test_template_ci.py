"""The template's own CI workflow, .github/workflows/ci.yml, read statically.

The same checks as the generated workflow gets in test_workflow_static.py: GitHub's workflow schema,
zizmor (also --persona=auditor), shellcheck on the `run:` scripts, then its triggers, hardening and
what it runs on each event.
"""

import re
import subprocess

import pytest
import yaml

from support import TEMPLATE as ROOT
from support import assert_actions_pinned, shellcheck_run_steps, tool

WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
ON_PULL_REQUESTS = "github.event_name == 'pull_request'"
OTHERWISE = "github.event_name != 'pull_request'"


@pytest.fixture(scope="module")
def workflow():
    return yaml.safe_load(WORKFLOW.read_text())


@pytest.fixture(scope="module")
def steps(workflow):
    [job] = workflow["jobs"].values()
    return job["steps"]


def checked(args):
    result = subprocess.run(args, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def test_workflow_matches_githubs_schema():
    checked([tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", WORKFLOW])


@pytest.mark.parametrize("persona", ["regular", "auditor"])
def test_zizmor_finds_nothing(persona):
    out = checked([tool("zizmor"), "--offline", "--no-progress", f"--persona={persona}", WORKFLOW])
    assert "No findings to report" in out


def test_shellcheck_finds_nothing_in_the_run_scripts(workflow, tmp_path):
    result, count = shellcheck_run_steps([workflow], tmp_path)
    assert count and result.returncode == 0, result.stdout + result.stderr


def test_triggers_pull_requests_main_weekly_and_by_hand(workflow):
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as True
    assert set(triggers) == {"pull_request", "push", "schedule", "workflow_dispatch"}
    assert triggers["push"] == {"branches": ["main"]}
    [schedule] = triggers["schedule"]
    minute, hour, day, month, weekday = schedule["cron"].split()
    assert minute.isdigit() and hour.isdigit() and (day, month) == ("*", "*")
    assert weekday.isdigit(), "once a week"
    text = WORKFLOW.read_text()
    assert "pull_request_target" not in text and "workflow_run" not in text


def test_workflow_is_hardened(workflow):
    text = WORKFLOW.read_text()
    assert workflow["permissions"] == {}
    [job] = workflow["jobs"].values()
    assert job["permissions"] == {"contents": "read"}
    assert 0 < job["timeout-minutes"] <= 120
    assert "secrets." not in text

    used = assert_actions_pinned(text)
    assert used == {"actions/checkout", "actions/setup-python", "astral-sh/setup-uv"}

    for step in job["steps"]:
        assert "${{" not in step.get("run", ""), f"expression inside run: {step.get('name')}"
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False


def test_superseded_runs_are_cancelled_on_pull_requests_only(workflow):
    concurrency = workflow["concurrency"]
    assert concurrency["cancel-in-progress"] == "${{ " + ON_PULL_REQUESTS + " }}"
    # One group per pull request; every other run has a group of its own.
    assert concurrency["group"] == (
        "${{ github.workflow }}-${{ " + ON_PULL_REQUESTS + " && github.ref || github.run_id }}"
    )


def test_pythons_for_the_tooling_and_the_bots_and_the_pinned_uv(steps):
    [python] = [s for s in steps if s.get("uses", "").startswith("actions/setup-python@")]
    # The last version is the default python3, the one `make install` builds .venv with.
    assert python["with"]["python-version"].split() == ["3.10", "3.11"]
    [uv] = [s for s in steps if s.get("uses", "").startswith("astral-sh/setup-uv@")]
    pinned = re.search(r"(?m)^uv==(\S+)", (ROOT / "requirements-dev.txt").read_text())[1]
    assert uv["with"]["version"] == pinned


def test_git_has_an_identity_before_anything_commits(steps):
    runs = [s.get("run", "") for s in steps]
    identity = next(i for i, r in enumerate(runs) if "git config --global user.email" in r)
    assert "git config --global user.name" in runs[identity]
    assert identity < next(i for i, r in enumerate(runs) if r.startswith("make "))


def test_pull_requests_lint_and_run_the_fast_tests_other_events_the_whole_suite(steps):
    commands = [(s.get("if"), s["run"]) for s in steps if "run" in s]
    conditional = [(condition, run) for condition, run in commands if condition]
    assert conditional == [
        (ON_PULL_REQUESTS, "make lint"),
        (ON_PULL_REQUESTS, 'make test-fast PYTEST_ARGS="-v --durations=25"'),
        (OTHERWISE, "bash .ci/run"),
    ]
    # What .ci/run runs (lint, then the whole suite): test_template_lint.py.


def test_uv_cache_follows_every_lock_the_suite_installs(steps):
    [uv] = [s for s in steps if s.get("uses", "").startswith("astral-sh/setup-uv@")]
    globs = uv["with"]["cache-dependency-glob"].split()
    assert globs == ["requirements-dev.txt", "**/requirements/*.txt"]
    locks = [ROOT / "requirements-dev.txt", *ROOT.glob("*/requirements/*.txt")]
    assert len(locks) > 1 and all(p.is_file() for p in locks)
