"""The baked bot's own unit tests (gate, report, compare, split, metrics, lock check, actions) and
lint, in the fast suite: a change that breaks the pipeline's logic fails pull-request CI, not only
the nightly end-to-end run. Nothing here trains a model: `installed_bot` has the two environments
(uv installs them from its cache in seconds) and no results yet.
"""

import re
import shutil

from support import git, run


def test_every_bot_unit_test_passes_and_the_data_validates(installed_bot):
    """Every one of the bot's own tests ran and passed, and its data validated without a warning.
    pytest's summary names anything else first ("1 failed, ..."), or after the passed count
    ("180 passed, 1 skipped", "1 deselected", "1 error"): then it does not match below."""
    output = run(["make", "test"], installed_bot).stdout
    # "86 passed, 85 warnings in 21.05s" (Python warnings from Rasa's dependencies are allowed)
    summary = re.search(r"^(\d+) passed(, \d+ warnings?)? in [\d.]+s", output, re.M)
    assert summary and int(summary[1]) > 50, output
    assert "validation: no errors, 0 warnings" in output.splitlines(), output


def test_lint_passes_before_any_run(installed_bot):
    run(["make", "lint"], installed_bot)


def test_the_bot_s_pytest_settings_are_its_own_inside_another_checkout(installed_bot, tmp_path):
    """A bot kept inside another project (a monorepo, this template's checkout) must not pick up
    that project's pytest settings."""
    outer = tmp_path / "monorepo"
    outer.mkdir()
    (outer / "pytest.ini").write_text("[pytest]\naddopts = --option-only-the-outer-project-has\n")
    bot = outer / "bots" / "assistant"
    git(tmp_path, "clone", "--quiet", str(installed_bot), str(bot))
    (bot / ".venv").symlink_to(installed_bot / ".venv")
    result = run([".venv/bin/python", "-m", "pytest", "-q", "tests/test_gate.py"], bot, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^\d+ passed", result.stdout, re.M), result.stdout
    shutil.rmtree(outer)
