"""Helpers and tables the test modules share, each defined once (fixtures live in conftest.py).

`cli` bakes through the real cookiecutter command line, `cml_recorder` stands in for the `cml`
CLI, `workflow_runner` runs a GitHub Actions job locally; this module holds the rest.
"""

import ast
import configparser
import contextlib
import fcntl
import importlib.util
import itertools
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[2]
DEFAULT_SLUG = "rasa-assistant"
COOKIECUTTER_JSON = json.loads((TEMPLATE / "cookiecutter.json").read_text())
# The choice options, each with its choices (the first is the default).
OPTIONS = {
    key: value
    for key, value in COOKIECUTTER_JSON.items()
    if isinstance(value, list) and not key.startswith("_")
}
# The answers of a default bake, as the hooks see them (cookiecutter.json rendered).
DEFAULTS = {
    key: value[0] if key in OPTIONS else value
    for key, value in COOKIECUTTER_JSON.items()
    if key != "__prompts__"
} | {"project_slug": DEFAULT_SLUG, "dvc_remote_url": f"../{DEFAULT_SLUG}-dvc-storage"}
# `{{ }}`, `{% %}` or `{# #}` left by the renderer; `${{ }}` is GitHub's own syntax.
LEFTOVER_JINJA = re.compile(r"(?<!\$)\{\{|\{%|%\}|\{#|#\}")
# ../shared/pinned-actions.md: action -> (commit, tag). No workflow may use anything else.
PINNED_ACTIONS = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "astral-sh/setup-uv": ("20cfd1bf945f4377ade1205e4dbc17946fc9a30d", "v10.0.1"),
    "iterative/setup-cml": ("f12ea7685438c1fc438d50f77519b3860cf5fa98", "v2.0.1"),
    "actions/upload-artifact": ("bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"),
    "actions/cache": ("27d5ce7f107fe9357f9df03efb73ab90386fccae", "v5.0.5"),
}
# Every dvc_remote x cml_runner x cml_publish_images: each renders its own CML workflow.
WORKFLOW_COMBINATIONS = [
    dict(zip(("dvc_remote", "cml_runner", "cml_publish_images"), combo, strict=True))
    for combo in itertools.product(
        OPTIONS["dvc_remote"], OPTIONS["cml_runner"], OPTIONS["cml_publish_images"]
    )
]
# How DVC's config names the default remote's section (configparser keeps the quotes).
STORAGE_SECTION = "'remote \"storage\"'"


# --- running programs --------------------------------------------------------------------------


def run(args, cwd, check=True, env=None, timeout=1800):
    """Run a program (argument list, no shell) and return the CompletedProcess."""
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, args))} exited {result.returncode} in {cwd}\n"
            f"--- stdout ---\n{result.stdout[-4000:]}\n--- stderr ---\n{result.stderr[-4000:]}"
        )
    return result


def git(cwd, *args, check=True):
    return run(["git", *args], cwd, check=check).stdout.strip()


ENVIRONMENTS = {".venv": "requirements/bot.txt", ".venv-dvc": "requirements/dvc.txt"}


def share_environments(source, project, envs=tuple(ENVIRONMENTS)):
    """Link `source`'s installed environments into `project` (a clone of it), instead of a `make
    install` that would build the same 2.7 GB again; `make install` there then only checks them
    against the locks. Git is told to ignore the links (`.venv/` in .gitignore matches no
    symlink). Both must have the same locks: a `make install` of another lock would change
    `source`'s environments under every test that shares them. `envs` names the ones to link
    (a bake with another DVC remote has the same bot lock, not the same DVC lock)."""
    with (project / ".git/info/exclude").open("a") as exclude:
        for env in envs:
            lock = ENVIRONMENTS[env]
            same = (project / lock).read_bytes() == (source / lock).read_bytes()
            assert same, f"{project.name}'s {lock} is not {source}'s: it needs its own make install"
            (project / env).symlink_to(source / env)
            exclude.write(f"/{env}\n")


@contextlib.contextmanager
def run_wide(tmp_path_factory, name):
    """A path shared by the pytest-xdist workers of one test run (a session's own without xdist),
    held by one worker at a time: the first to get it builds what `name` holds, the others wait
    and find it built."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if "PYTEST_XDIST_WORKER" in os.environ else base  # the run's folder
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield root / name


def install_once_per_run(project, tmp_path_factory):
    """`make install` in a default bake, the environments built once per test run: the first
    worker here installs, the others wait, then link its environments (`share_environments`
    checks the locks are the same). Two installs at once would each compile the same bytecode
    on the same two cores, as slowly as one after the other."""
    with run_wide(tmp_path_factory, "installed-bot") as installed:
        if installed.exists():
            share_environments(Path(installed.read_text()), project)
        run(["make", "install"], project)
        if not installed.exists():
            installed.write_text(str(project))


def git_status(project):
    """`git status --porcelain`, untracked files listed one by one: "" when nothing is unsaved."""
    return run(["git", "status", "--porcelain", "--untracked-files=all"], project).stdout


def tool(name):
    """A tool from requirements-dev.txt: the .venv's bin first, then PATH."""
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    path = shutil.which(name, path=search)
    if path is None:
        pytest.fail(f"{name} not found: `make install` installs requirements-dev.txt into .venv")
    return path


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ran_stages(output):
    """The stages `dvc repro` ran (or, with --dry, would run), in order."""
    return [line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage")]


def tracked_outputs(project):
    """path -> bytes of every file dvc.lock records as a stage's output."""
    lock = yaml.safe_load((project / "dvc.lock").read_text())
    found = {}
    for stage in lock["stages"].values():
        for out in stage.get("outs", []):
            path = project / out["path"]
            files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
            found.update({str(f.relative_to(project)): f.read_bytes() for f in files})
    return found


def template_modules(*names):
    """`pipeline.<name>` of the template folder itself, for tests that call the bot's code
    directly; imported with bytecode writing off, as every bake would copy a __pycache__ left
    there. Import them all here, not later inside a test."""
    folder = str(TEMPLATE / "{{cookiecutter.project_slug}}")
    if folder not in sys.path:
        sys.path.insert(0, folder)
    writes_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        return [importlib.import_module(f"pipeline.{name}") for name in names]
    finally:
        sys.dont_write_bytecode = writes_bytecode


def load_hook(name):
    """hooks/<name>.py imported as it is in the template (its Jinja sits under `__main__`)."""
    spec = importlib.util.spec_from_file_location(name, TEMPLATE / f"hooks/{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- baked projects ----------------------------------------------------------------------------


def bake(cookies, **context):
    result = cookies.bake(extra_context=context)
    assert result.exception is None, f"bake failed: {result.exception!r}"
    assert result.exit_code == 0
    return result.project_path


def bake_without_hooks(out, config):
    """Render the template with `config` and no hooks (no git, no DVC): fast, for static checks."""
    return Path(
        cookiecutter(
            str(TEMPLATE),
            no_input=True,
            extra_context=config,
            output_dir=str(out),
            accept_hooks=False,
        )
    )


def combo_id(combo):
    return "-".join(combo.values())


def project_files(project):
    """Every file of a project, relative and sorted, without .git."""
    project = Path(project)
    return sorted(
        str(p.relative_to(project))
        for p in project.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(project).parts
    )


def parse(path):
    """Parse a YAML (every document), TOML, JSON or Python file; None for other kinds."""
    text = Path(path).read_text(encoding="utf-8")
    if path.suffix in {".yml", ".yaml"}:
        return list(yaml.safe_load_all(text))
    if path.suffix == ".toml":
        return tomllib.loads(text)
    if path.suffix == ".json":
        return json.loads(text)
    if path.suffix == ".py":
        tree = ast.parse(text, filename=str(path))
        compile(tree, str(path), "exec", dont_inherit=True)  # what parsing alone lets through
        return tree
    return None


def dvc_config(project):
    """The project's .dvc/config as {section: {key: value}}."""
    parser = configparser.ConfigParser()
    parser.read(Path(project) / ".dvc/config")
    return {section: dict(parser[section]) for section in parser.sections()}


# --- workflows ---------------------------------------------------------------------------------


def assert_actions_pinned(text):
    """Every `uses:` is an action of PINNED_ACTIONS at its commit, with its tag in a comment."""
    uses = re.findall(r"uses: (\S+)@(\S+)(.*)", text)
    assert uses
    for path, ref, comment in uses:
        action = "/".join(path.split("/")[:2])  # actions/cache/restore is in actions/cache
        assert action in PINNED_ACTIONS, f"{action} is not in pinned-actions.md"
        commit, tag = PINNED_ACTIONS[action]
        assert (ref, comment.strip()) == (commit, f"# {tag}"), action
    return {"/".join(path.split("/")[:2]) for path, _, _ in uses}


def shellcheck_run_steps(workflows, folder):
    """shellcheck (style and up) on every distinct `run:` script of the parsed workflows, as
    GitHub runs it (bash -e -o pipefail); returns the CompletedProcess and the script count."""
    scripts = {}
    for workflow in workflows:
        for job in workflow["jobs"].values():
            for step in job["steps"]:
                if "run" in step:
                    scripts.setdefault(step["run"], Path(folder) / f"step-{len(scripts)}.sh")
    for text, path in scripts.items():
        path.write_text("#!/usr/bin/env bash\nset -eo pipefail\n" + text)
    result = subprocess.run(
        [tool("shellcheck"), "--severity=style", *map(str, scripts.values())],
        capture_output=True,
        text=True,
    )
    return result, len(scripts)
