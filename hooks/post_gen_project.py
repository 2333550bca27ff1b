"""Finish the baked project: drop files of unchosen options, then git init, dvc init,
set the DVC remote and make the first commit.

Each step skips what already exists, so `cruft update` can run it again.
Programs run with argument lists, never through a shell. Standard library only.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

DVC_VERSION = "3.67.1"
REMOTE_NAME = "storage"
UV_DVC_STEP = f"dvc init (DVC {DVC_VERSION} via 'uv tool run')"
DVC_EXTRA = {"local": "base", "none": "base", "s3": "s3", "gs": "gs", "azure": "azure", "ssh": "ssh"}

# Option -> {choice: paths that exist only for that choice}. Paths of every other choice are removed.
OWNED_PATHS = {
    "ci_provider": {"github": [".github"]},
    "dvc_remote": {
        choice: [f"requirements/dvc-{extra}.txt"] for choice, extra in DVC_EXTRA.items()
    },
}

# Runs inside DVC's own Python: `dvc init` and `dvc remote add` in one process (~2 s each start).
DVC_SETUP = """
import sys
from dvc.cli import main
code = 0 if sys.argv[1] == "skip" else main(["init", "--quiet"])
if code == 0 and sys.argv[2]:
    code = main(["remote", "add", "--default", "--force", sys.argv[3], sys.argv[2]])
sys.exit(code)
"""


class HookError(Exception):
    pass


def paths_to_remove(answers):
    keep, owned = set(), set()
    for option, choices in OWNED_PATHS.items():
        for choice, paths in choices.items():
            owned.update(paths)
            if answers[option] == choice:
                keep.update(paths)
    return sorted(owned - keep)


def remove_paths(root, paths):
    for rel in paths:
        path = root / rel
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def place_dvc_lock(root, remote):
    chosen = root / f"requirements/dvc-{DVC_EXTRA[remote]}.txt"
    if chosen.exists():
        chosen.replace(root / "requirements/dvc.txt")


def run(args, cwd, what):
    try:
        result = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    except OSError as error:
        raise HookError(f"{what}: could not start '{args[0]}': {error}") from error
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise HookError(f"{what} failed: {detail[-1] if detail else 'exit ' + str(result.returncode)}")
    return result.stdout


def init_git(root):
    if (root / ".git").exists():
        return
    run(["git", "init", "--quiet"], root, "git init")
    run(["git", "symbolic-ref", "HEAD", "refs/heads/main"], root, "git init")


def init_dvc(root, remote_url):
    """`dvc init` and the default remote: pinned DVC through uv (one cached process), or a dvc on PATH."""
    skip_init = (root / ".dvc").exists()
    if shutil.which("uv"):
        uv_dvc = ["uv", "tool", "run", "--quiet", "--from", f"dvc=={DVC_VERSION}", "python"]
        try:
            flag = "skip" if skip_init else "init"
            run([*uv_dvc, "-c", DVC_SETUP, flag, remote_url, REMOTE_NAME], root, UV_DVC_STEP)
            return
        except HookError:
            if not shutil.which("dvc"):
                raise
    elif not shutil.which("dvc"):
        raise HookError("neither uv nor dvc found on PATH: install uv (https://docs.astral.sh/uv/)")
    if not skip_init:
        run(["dvc", "init", "--quiet"], root, "dvc init")
    if remote_url:
        run(["dvc", "remote", "add", "-d", "-f", REMOTE_NAME, remote_url], root, "dvc remote add")


def first_commit(root, project_name, author_name, author_email):
    if _git_query(root, "rev-parse", "--verify", "--quiet", "HEAD").returncode == 0:
        return
    identity = []
    if not _git_query(root, "config", "user.email").stdout.strip():
        identity = ["-c", f"user.name={author_name}", "-c", f"user.email={author_email}"]
    run(["git", "add", "--all"], root, "git add")
    message = f"Bake {project_name} from the rasa-dvc-cml template"
    run(["git", *identity, "commit", "--quiet", "--no-verify", "-m", message], root, "git commit")


def _git_query(root, *args):
    """A git command whose failure is an answer (no HEAD yet, no such setting), not an error."""
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)


def main(answers, root=Path.cwd()):
    remove_paths(root, paths_to_remove(answers))
    place_dvc_lock(root, answers["dvc_remote"])
    remote_url = "" if answers["dvc_remote"] == "none" else answers["dvc_remote_url"]
    init_git(root)
    init_dvc(root, remote_url)
    first_commit(root, answers["project_name"], answers["author_name"], answers["author_email"])


if __name__ == "__main__":
    os.environ.setdefault("DVC_NO_ANALYTICS", "1")
    try:
        main(json.loads(r"""{{ cookiecutter | tojson }}"""))
    except HookError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        sys.exit(1)
