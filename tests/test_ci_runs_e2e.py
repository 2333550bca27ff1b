"""The conftest guard: with `CI` set, a run that leaves out e2e tests fails, however they were left
out (`-m`, `-k`, PYTEST_ADDOPTS); without `CI`, `make test-fast` leaves them out on purpose."""

import os
import shutil
import sys

import pytest

from support import TEMPLATE, run

MODULE = "tests/test_serve.py"  # one e2e test among fast ones


@pytest.mark.parametrize(
    ("args", "addopts"),
    [(["-m", "not e2e"], ""), (["-k", "ctrl_c"], ""), ([], "-m 'not e2e'")],
    ids=["marker", "keyword", "PYTEST_ADDOPTS"],
)
def test_ci_fails_a_run_that_deselects_e2e_tests(args, addopts):
    env = {k: v for k, v in os.environ.items() if k != "CI"} | {"PYTEST_ADDOPTS": addopts}
    command = [
        sys.executable,
        "-m",
        "pytest",
        "--collect-only",
        "-q",
        "-p",
        "no:cacheprovider",
        *args,
        MODULE,
    ]
    local = run(command, TEMPLATE, check=False, env=env, timeout=120)
    assert local.returncode == 0, local.stdout + local.stderr
    assert "ERROR: CI is set" not in local.stdout
    ci = run(command, TEMPLATE, check=False, env=env | {"CI": "true"}, timeout=120)
    assert ci.returncode == pytest.ExitCode.TESTS_FAILED, ci.stdout + ci.stderr
    assert "ERROR: CI is set and " in ci.stdout and "e2e test(s) did not run" in ci.stdout
    assert f"deselected: {MODULE}::test_serve_answers_over_rest_with_the_action_server" in ci.stdout


def test_ci_fails_a_run_on_two_workers_that_deselects_e2e_tests(tmp_path):
    """`make test` runs on two xdist workers: what a worker leaves out must reach the controller,
    whose exit status is the run's. A copy of the guard, with one fast and one e2e test."""
    tests = tmp_path / "tests"
    shutil.copytree(TEMPLATE / "tests/support", tests / "support")
    shutil.copy(TEMPLATE / "tests/conftest.py", tests)
    shutil.copy(TEMPLATE / "pytest.ini", tmp_path)
    shutil.copy(TEMPLATE / "cookiecutter.json", tmp_path)  # support reads the options from it
    (tests / "test_two.py").write_text(
        "import pytest\n\n\ndef test_fast():\n    pass\n\n\n"
        "@pytest.mark.e2e\ndef test_slow():\n    pass\n"
    )
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "2", "-m", "not e2e"]
    env = {k: v for k, v in os.environ.items() if k != "CI"} | {"PYTEST_ADDOPTS": ""}
    local = run(command, tmp_path, check=False, env=env, timeout=120)
    assert local.returncode == 0, local.stdout + local.stderr
    ci = run(command, tmp_path, check=False, env=env | {"CI": "true"}, timeout=120)
    assert ci.returncode == pytest.ExitCode.TESTS_FAILED, ci.stdout + ci.stderr
    assert "ERROR: CI is set and 1 e2e test(s) did not run" in ci.stdout, ci.stdout
    assert "deselected: tests/test_two.py::test_slow" in ci.stdout
