"""The baked project's Python passes its own linters, for every option, and its pre-commit hooks
run what they claim to run.

ruff runs on the *baked* project (template files hold Jinja). Bakes here skip the hooks: the
post-gen hook only removes files of unchosen options and sets up git and DVC, so a hook-less bake
holds every Python file any option can produce, rendered for that option.
"""

import re
import subprocess
import sys

import pytest
import yaml

from support import OPTIONS, TEMPLATE, bake_without_hooks, run

VARIANTS = [{key: choice} for key, choices in OPTIONS.items() for choice in choices[1:]]
VARIANTS = [{}] + VARIANTS + [{"ci_provider": "none", "dvc_remote": "none"}]
RUFF = [sys.executable, "-m", "ruff"]


def variant_id(config):
    return "-".join(f"{k}={v}" for k, v in config.items()) or "defaults"


@pytest.mark.parametrize("config", VARIANTS, ids=variant_id)
def test_ruff_passes_on_the_baked_project(tmp_path, config):
    project = bake_without_hooks(tmp_path, config)
    check = subprocess.run([*RUFF, "check", "."], cwd=project, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    form = subprocess.run(
        [*RUFF, "format", "--check", "--diff", "."], cwd=project, capture_output=True, text=True
    )
    assert form.returncode == 0, form.stdout + form.stderr


def test_the_template_tests_with_the_ruff_the_project_pins():
    pinned = {
        line.split("==")[0]: line
        for line in (TEMPLATE / "{{cookiecutter.project_slug}}/requirements/bot.txt")
        .read_text()
        .splitlines()
        if line.startswith("ruff==")
    }
    dev = (TEMPLATE / "requirements-dev.txt").read_text().splitlines()
    assert pinned["ruff"] in dev


def test_ruff_settings_target_the_bots_python(tmp_path):
    project = bake_without_hooks(tmp_path, {})
    shown = run([*RUFF, "check", "--show-settings", "actions/actions.py"], project).stdout
    settings = dict(
        line.split(" = ", 1) for line in shown.splitlines() if re.match(r"[a-z_.]+ = ", line)
    )
    assert shown.splitlines()[1] == f'Settings path: "{project / "pyproject.toml"}"'
    for tool in ("linter", "formatter"):
        assert settings[f"{tool}.unresolved_target_version"] == "3.10", tool
    assert settings["linter.line_length"] == settings["formatter.line_width"] == "100"


def precommit_hooks(project):
    config = yaml.safe_load((project / ".pre-commit-config.yaml").read_text())
    return {hook["id"]: (repo["repo"], hook) for repo in config["repos"] for hook in repo["hooks"]}


def test_precommit_config_has_the_checks(tmp_path):
    hooks = precommit_hooks(bake_without_hooks(tmp_path, {}))
    for hook_id in ["ruff", "ruff-format", "check-yaml", "end-of-file-fixer", "rasa-data-validate"]:
        assert hook_id in hooks, hook_id
    for hook_id in ["ruff", "ruff-format", "rasa-data-validate"]:
        repo, hook = hooks[hook_id]
        assert repo == "local" and hook["entry"].startswith(".venv/bin/"), hook_id
    assert hooks["rasa-data-validate"][1]["pass_filenames"] is False


@pytest.mark.e2e
def test_local_precommit_hooks_run_in_the_installed_bot(installed_bot):
    """Run each local hook's command the way pre-commit does, in a bot after `make install`."""
    python_files = [str(p.relative_to(installed_bot)) for p in installed_bot.glob("*/*.py")]
    for repo, hook in precommit_hooks(installed_bot).values():
        if repo != "local":
            continue
        args = hook["entry"].split()
        if hook.get("pass_filenames", True):
            args += python_files
        if hook["id"] == "ruff":  # check only: a pre-commit run may fix, this test must not
            args.remove("--fix")
        if hook["id"] == "ruff-format":
            args.insert(2, "--check")
        run(args, installed_bot)
