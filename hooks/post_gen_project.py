"""Finish the baked project: drop files of unchosen options, then git init, dvc init,
set the DVC remote and make the first commit.

Each step skips what already exists, so `cruft update` can run it again.
Programs run with argument lists, never through a shell. Standard library only.
The DVC version and each remote type's DVC extra come from cookiecutter.json (`_dvc_version`,
`_remotes`) through the answers; the pre-gen hook has checked both.

A re-bake (--overwrite-if-exists) runs in the user's folder: the hook removes only files the
template wrote, and the first commit holds only the template's files, whatever else is there.
Git runs without the user's hooks, signing and fsmonitor, which could fail or change the commit.
"""

import configparser
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

REMOTE_NAME = "storage"
WORKFLOW_FILES = [
    ".github/workflows/cml.yml",
    ".github/workflows/image.yml",
    ".github/workflows/sweep.yml",
    ".github/dependabot.yml",
    ".github/CODEOWNERS",
]

# The template's own folder, written in pieces: this file is rendered by Jinja.
TEMPLATE_FOLDER = "{" + "{cookiecutter.project_slug}" + "}"
# Files the hook itself makes: the chosen DVC lock and what `dvc init` writes.
HOOK_FILES = ["requirements/dvc.txt", ".dvc/config", ".dvc/.gitignore"]
# For every git command: no hooks (prepare-commit-msg, reference-transaction, ...), no signing
# (a missing key would fail the bake), no fsmonitor program.
GIT = [
    "git",
    "-c",
    f"core.hooksPath={os.devnull}",
    "-c",
    "commit.gpgsign=false",
    "-c",
    "core.fsmonitor=false",
]


class HookError(Exception):
    pass


def dvc_setup(url, name, old):
    """`dvc init` and the default remote in one process of DVC's own Python (~2 s each start):
    init_dvc runs this function's source there. url: the remote's URL (empty: none); name: the
    remote's name; old: remove|keep (the remote an earlier bake added). It can run twice (see
    init_dvc): each step before the last is skipped or repeatable."""
    import os

    from dvc.cli import main

    code = 0 if os.path.isdir(".dvc") else main(["init", "--quiet"])
    if code == 0 and url:
        code = main(["remote", "add", "--default", "--force", name, url])
    elif code == 0 and old == "remove":
        code = main(["remote", "remove", name])
    return code


def dvc_setup_program():
    """dvc_setup's source and a call of it with the command line's arguments."""
    return inspect.getsource(dvc_setup) + "\nimport sys\nsys.exit(dvc_setup(*sys.argv[1:]))\n"


def owned_paths(remotes):
    """Option -> {choice: files that exist only for that choice}. Files of every other choice are
    removed, then their folders if nothing else is left in them (a user's own workflow stays)."""
    return {
        "ci_provider": {"github": WORKFLOW_FILES},
        "dvc_remote": {choice: [dvc_lock(facts["dvc_extra"])] for choice, facts in remotes.items()},
    }


def dvc_lock(extra):
    return f"requirements/dvc-{extra}.txt"


def paths_to_remove(answers):
    keep, owned = set(), set()
    for option, choices in owned_paths(answers["_remotes"]).items():
        for choice, paths in choices.items():
            owned.update(paths)
            if answers[option] == choice:
                keep.update(paths)
    return sorted(owned - keep)


def remove_paths(root, paths):
    """Remove these files, then each folder they leave empty (never one holding anything else)."""
    for rel in paths:
        path = root / rel
        if path.is_file() or path.is_symlink():
            path.unlink()
        for folder in path.parents:
            if folder == root or not folder.is_dir() or any(folder.iterdir()):
                break
            folder.rmdir()


def place_dvc_lock(root, extra):
    chosen = root / dvc_lock(extra)
    if chosen.exists():
        chosen.replace(root / "requirements/dvc.txt")


def run(args, cwd, what):
    try:
        result = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    except OSError as error:
        raise HookError(f"{what}: could not start '{args[0]}': {error}") from error
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise HookError(
            f"{what} failed: {detail[-1] if detail else 'exit ' + str(result.returncode)}"
        )
    return result.stdout


def init_git(root):
    if (root / ".git").exists():
        return
    run([*GIT, "init", "--quiet"], root, "git init")
    run([*GIT, "symbolic-ref", "HEAD", "refs/heads/main"], root, "git init")


def has_template_remote(root):
    """True when .dvc/config names the remote this hook adds (a bake with another dvc_remote)."""
    config = configparser.ConfigParser()
    try:
        config.read(root / ".dvc/config")
    except configparser.Error:
        return False
    section = f'remote "{REMOTE_NAME}"'
    # DVC writes the section name in single quotes
    return config.has_section(section) or config.has_section(f"'{section}'")


def init_dvc(root, remote_url, dvc_version):
    """`dvc init` and the default remote, by the pinned DVC through uv (one cached process; the
    pre-gen hook has checked that uv exists). With no remote URL, the remote an earlier bake
    added is removed."""
    old = "remove" if not remote_url and has_template_remote(root) else "keep"
    step = f"dvc init (DVC {dvc_version} via 'uv tool run')"
    uv_tool_run = ["uv", "tool", "run", "--quiet", "--compile-bytecode"]
    setup = [
        "--from",
        f"dvc=={dvc_version}",
        "python",
        "-c",
        dvc_setup_program(),
        remote_url,
        REMOTE_NAME,
        old,
    ]
    # A DVC that uv has cached starts without a round of index requests (~3 s); the
    # first bake on a machine, or one after the cache was cleared, goes online.
    try:
        run([*uv_tool_run, "--offline", *setup], root, step)
    except HookError:
        run([*uv_tool_run, *setup], root, step)


def template_files(root, repo_dir):
    """The files this bake wrote: the template's files that are still here, and the hook's own.
    cruft renders into a fresh temporary folder without telling where the template is; there
    every file not ignored by the project's own .gitignore files is the template's (DVC has
    staged its own files already, hence --cached)."""
    template = Path(repo_dir or "", TEMPLATE_FOLDER)
    if not repo_dir or not template.is_dir():
        listed = run(
            [*GIT, "ls-files", "-z", "--cached", "--others", "--exclude-per-directory=.gitignore"],
            root,
            "git ls-files",
        )
        return sorted(filter(None, listed.split("\0")))
    written = [str(p.relative_to(template)) for p in template.rglob("*") if p.is_file()]
    return sorted(rel for rel in {*written, *HOOK_FILES} if (root / rel).is_file())


def commit_identity(root, author_name, author_email):
    """The user's git identity when it is complete, else the answers: never half of each."""
    name = _git_query(root, "config", "user.name").stdout.strip()
    email = _git_query(root, "config", "user.email").stdout.strip()
    return (name, email) if name and email else (author_name, author_email)


def first_commit(root, project_name, identity, files):
    """Commit exactly `files`: --force adds them even when the user's excludes ignore them."""
    if _git_query(root, "rev-parse", "--verify", "--quiet", "HEAD").returncode == 0:
        return
    run([*GIT, "add", "--force", "--", *files], root, "git add")
    name, email = identity
    message = f"Bake {project_name} from the rasa-dvc-cml template"
    run(
        [
            *GIT,
            "-c",
            f"user.name={name}",
            "-c",
            f"user.email={email}",
            "commit",
            "--quiet",
            "--no-verify",
            "-m",
            message,
        ],
        root,
        "git commit",
    )


def _git_query(root, *args):
    """A git command whose failure is an answer (no HEAD yet, no such setting), not an error."""
    return subprocess.run([*GIT, *args], cwd=root, capture_output=True, text=True)


def main(answers, root=None):
    root = root or Path.cwd()
    remove_paths(root, paths_to_remove(answers))
    place_dvc_lock(root, answers["_remotes"][answers["dvc_remote"]]["dvc_extra"])
    remote_url = "" if answers["dvc_remote"] == "none" else answers["dvc_remote_url"]
    init_git(root)
    init_dvc(root, remote_url, answers["_dvc_version"])
    identity = commit_identity(root, answers["author_name"], answers["author_email"])
    files = template_files(root, answers.get("_repo_dir"))
    first_commit(root, answers["project_name"], identity, files)


if __name__ == "__main__":
    os.environ.setdefault("DVC_NO_ANALYTICS", "1")
    try:
        main(json.loads(r"""{{ cookiecutter | tojson }}"""))
    except HookError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        sys.exit(1)
