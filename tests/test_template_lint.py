"""Lint of the template's own Python: ruff.toml, `make lint` and .pre-commit-config.yaml.

The template folder is not linted here: it is Jinja until baked, and the baked project lints itself
(test_generated_quality.py). The pre-commit check follows pre-commit's documented config schema
(https://pre-commit.com/#plugins, pre_commit/clientlib.py), since pre-commit is not installed.
"""

import re
import shlex
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from support import TEMPLATE as ROOT

TEMPLATE_DIR = "{{cookiecutter.project_slug}}"
PRE_COMMIT = ROOT / ".pre-commit-config.yaml"
# pre-commit's config schema: the keys it knows at the top level, on a repo and on a local hook
# (a local hook needs id, name, entry and language); anything else is a typo it only warns about.
TOP_LEVEL_KEYS = {
    "repos",
    "default_install_hook_types",
    "default_language_version",
    "default_stages",
    "files",
    "exclude",
    "fail_fast",
    "minimum_pre_commit_version",
    "ci",
}
REPO_KEYS = {"repo", "rev", "hooks"}
REQUIRED_HOOK_KEYS = {"id", "name", "entry", "language"}
HOOK_KEYS = REQUIRED_HOOK_KEYS | {
    "alias",
    "files",
    "exclude",
    "types",
    "types_or",
    "exclude_types",
    "additional_dependencies",
    "args",
    "always_run",
    "fail_fast",
    "pass_filenames",
    "description",
    "language_version",
    "log_file",
    "minimum_pre_commit_version",
    "require_serial",
    "stages",
    "verbose",
}
# Languages that run the entry as it is, installing nothing (`unsupported` is 4.4+'s name).
NOTHING_INSTALLED = {"system", "unsupported"}


def run(args):
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True)


@pytest.fixture(scope="module")
def pre_commit():
    return yaml.safe_load(PRE_COMMIT.read_text())


@pytest.fixture(scope="module")
def hooks(pre_commit):
    return [hook for repo in pre_commit["repos"] for hook in repo["hooks"]]


def tracked_files():
    return run(["git", "ls-files", "-z"]).stdout.strip("\0").split("\0")


# --- ruff.toml and make lint ----------------------------------------------------------------


def test_ruff_config_has_the_baked_projects_rules_and_the_toolings_python():
    ours = tomllib.loads((ROOT / "ruff.toml").read_text())
    baked = tomllib.loads((ROOT / TEMPLATE_DIR / "pyproject.toml").read_text())["tool"]["ruff"]
    assert ours["line-length"] == baked["line-length"]
    assert ours["lint"]["select"] == baked["lint"]["select"]
    assert ours["target-version"] == "py311"
    # The hooks run in cookiecutter's Python, 3.10 at the oldest: no fix may bring 3.11 into them.
    assert ours["per-file-target-version"] == {"hooks/*.py": "py310"}


def test_ruff_walks_the_templates_own_python_and_never_the_template_folder():
    result = run([ROOT / ".venv/bin/ruff", "check", "--show-files"])
    files = {Path(line).relative_to(ROOT) for line in result.stdout.split()}
    python = {f for f in files if f.suffix == ".py"}
    assert {"hooks", "tests", "benchmarks"} <= {f.parts[0] for f in python}
    assert not [f for f in files if f.parts[0] in {TEMPLATE_DIR, "demo"}]
    # Everything ruff would lint, `make lint` lints.
    assert {f.parts[0] for f in python} <= set(make_lint_paths())


def make_lint_paths():
    # -o: do not bring .venv up to date, only print what `make lint` runs.
    dry = run(["make", "--no-print-directory", "-n", "-o", ".venv/.synced", "lint"])
    assert dry.returncode == 0, dry.stderr
    commands = [shlex.split(line) for line in dry.stdout.splitlines()]
    [check, fmt] = commands
    assert check[:2] == [".venv/bin/ruff", "check"]
    assert fmt[:3] == [".venv/bin/ruff", "format", "--check"]
    assert check[2:] == fmt[3:]
    return check[2:]


def test_make_lint_covers_hooks_tests_and_benchmarks_and_is_in_help():
    assert make_lint_paths() == ["hooks", "tests", "benchmarks"]
    help_text = run(["make", "--no-print-directory", "help"]).stdout
    assert re.search(r"(?m)^  lint +\S", help_text)


def test_ci_lints_before_the_suite():
    commands = [
        line for line in (ROOT / ".ci/run").read_text().splitlines() if line.startswith("make ")
    ]
    assert commands == ["make lint", 'make test PYTEST_ARGS="-v --durations=25"']


# --- .pre-commit-config.yaml ----------------------------------------------------------------


def test_pre_commit_config_follows_pre_commits_schema(pre_commit, hooks):
    assert set(pre_commit) <= TOP_LEVEL_KEYS and pre_commit["repos"]
    for key in ("files", "exclude"):
        re.compile(pre_commit.get(key, ""))
    for repo in pre_commit["repos"]:
        assert set(repo) <= REPO_KEYS
        # Local hooks only: pre-commit downloads nothing, the hooks run .venv's pinned tools.
        assert repo["repo"] == "local" and "rev" not in repo
    ids = [hook["id"] for hook in hooks]
    assert ids == ["ruff", "ruff-format"]
    for hook in hooks:
        assert REQUIRED_HOOK_KEYS <= set(hook) <= HOOK_KEYS, hook["id"]
        assert hook["language"] in NOTHING_INSTALLED
        assert all(isinstance(hook[key], str) for key in REQUIRED_HOOK_KEYS)
        assert set(hook.get("types_or", [])) <= {"python", "pyi"}


def test_every_hook_runs_a_program_from_the_venv(hooks):
    for hook in hooks:
        program = ROOT / shlex.split(hook["entry"])[0]
        assert program.parent == ROOT / ".venv" / "bin", hook["entry"]
        assert program.is_file(), f"{program} missing: `make install` puts it in .venv"


@pytest.mark.parametrize("hook_id", ["ruff", "ruff-format"])
def test_hook_entry_runs_on_a_clean_file(hooks, hook_id):
    """The entry's flags are ones this ruff knows; --diff keeps it from writing anything."""
    [hook] = [h for h in hooks if h["id"] == hook_id]
    result = run([*shlex.split(hook["entry"]), "--diff", "benchmarks/run.py"])
    assert result.returncode == 0, result.stdout + result.stderr


def test_pre_commit_skips_exactly_the_template_folder(pre_commit):
    exclude = re.compile(pre_commit["exclude"])
    files = tracked_files()
    template = [f for f in files if f.startswith(TEMPLATE_DIR + "/")]
    assert any(f.endswith(".py") for f in template)
    assert all(exclude.search(f) for f in template)
    assert not [f for f in files if f not in template and exclude.search(f)]
