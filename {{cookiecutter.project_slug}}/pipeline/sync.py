"""Bring the base branch into this branch and regenerate the results from the merged inputs.

    python -m pipeline.sync --dvc .venv-dvc/bin/dvc --base origin/main    (what `make sync` runs)

Two pull requests that both change data both commit `dvc.lock` and `metrics/`: once one is merged,
the other conflicts in files nobody should edit by hand, and its results are not those of the
merged inputs. This command:

1. fetches the base when it is a remote's branch (`origin/main`);
2. merges it without committing. The generated files (`dvc.lock` and every stage output kept in
   git: `metrics/`, `plots/`, `evaluation/`, `models/config.yml`) keep this branch's side: the
   merge driver `dvc-generated` of `.gitattributes`, given to git for this merge only, and a
   checkout of this side for what it cannot merge. This side's outputs are also the ones on disk,
   so the lock matches them and `dvc repro` reruns exactly the stages whose merged inputs changed.
   A conflict in a file people write (data, config, code) stops here with the list to resolve;
   after `git add`, run it again and it carries on with the merge;
3. runs `dvc repro` (`--pull` when a DVC remote is set: what the remote has is downloaded);
4. commits the merge with the regenerated results (or, already up to date, the results alone).

Nothing is pushed: push the branch (and `make push`) yourself. Exit 0 when synced, 1 when a file
needs you, 2 on errors.
"""

import argparse
import subprocess
import sys
from pathlib import Path

from pipeline import check_lock, params, paths

DRIVER = "dvc-generated"
# `true` leaves this branch's version in place: the driver's "merge" keeps our side.
DRIVER_CONFIG = ["-c", f"merge.{DRIVER}.name=keep this side (make sync regenerates it)"]
DRIVER_CONFIG += ["-c", f"merge.{DRIVER}.driver=true"]


class SyncError(Exception):
    pass


class NeedsYou(Exception):
    pass


def git(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    try:
        result = subprocess.run(["git", *args], capture_output=True, text=True)
    except OSError as error:
        raise SyncError(f"cannot run git: {error.strerror}") from error
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise SyncError(f"git {args[0]} failed: {detail[-1] if detail else result.returncode}")
    return result


def lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stdout.splitlines() if line]


def merging() -> bool:
    return git("rev-parse", "--verify", "--quiet", "MERGE_HEAD", check=False).returncode == 0


def generated_paths() -> set[str]:
    """dvc.lock and every path a stage of dvc.yaml produces."""
    dvc_yaml = check_lock.read_stages(paths.DVC_YAML)
    return check_lock.outputs(dvc_yaml, {}) | {paths.DVC_LOCK.as_posix()}


def is_generated(path: str, generated: set[str]) -> bool:
    return check_lock.produced(path, generated)


def fetch(base: str) -> None:
    remote, _, branch = base.partition("/")
    if not branch or remote not in lines(git("remote")):
        if git("rev-parse", "--verify", "--quiet", base, check=False).returncode != 0:
            raise SyncError(
                f"{base} is not a branch here: name one, e.g. `make sync SYNC_BASE=main`"
            )
        return
    if git("fetch", "--quiet", remote, branch, check=False).returncode != 0:
        raise SyncError(
            f"cannot fetch {branch} from {remote}: check the network, or merge a local branch "
            "with `make sync SYNC_BASE=main`"
        )


def start_merge(base: str) -> None:
    """Merge `base` without committing; generated files keep this side (see the docstring)."""
    if lines(git("status", "--porcelain", "--untracked-files=no")):
        raise SyncError("this branch has uncommitted changes: commit or stash them first")
    merge = git(*DRIVER_CONFIG, "merge", "--no-commit", "--no-edit", base, check=False)
    if merge.returncode != 0 and not merging():
        detail = (merge.stderr or merge.stdout).strip().splitlines()
        raise SyncError(f"git merge {base} failed: {detail[-1] if detail else merge.returncode}")
    print(merge.stdout.strip())


def resolve_generated(generated: set[str]) -> list[str]:
    """Keep this side of every conflicted generated file; the files left for a person."""
    left = []
    for path in lines(git("diff", "--name-only", "--diff-filter=U")):
        if not is_generated(path, generated):
            left.append(path)
        elif git("cat-file", "-e", f"HEAD:{path}", check=False).returncode == 0:
            git("checkout", "--ours", "--", path)
            git("add", "--", path)
        else:  # new on the base only: the regenerated one (if any) is added after `dvc repro`
            git("rm", "--quiet", "--cached", "--force", "--", path)
            Path(path).unlink(missing_ok=True)
    return left


def repro(dvc: str) -> None:
    has_remote = subprocess.run([dvc, "remote", "default"], capture_output=True).returncode == 0
    command = [dvc, "repro", *(["--pull"] if has_remote else [])]
    print("$ " + " ".join(command), flush=True)
    try:
        code = subprocess.run(command).returncode
    except OSError as error:
        raise SyncError(f"cannot run {dvc}: {error.strerror} (run `make install`)") from error
    if code != 0:
        raise SyncError(
            "dvc repro failed (its output is above): fix the cause, then run `make sync` again"
        )


def commit(base: str, generated: set[str]) -> str:
    present = sorted(path for path in generated if Path(path).exists())
    ignored = set(lines(git("check-ignore", "--", *present, check=False))) if present else set()
    kept_in_git = [path for path in present if path not in ignored]  # not DVC's cached outputs
    git("add", "--all", "--", *kept_in_git)
    git("add", "--update")
    if merging():
        message = f"Merge {base}; results regenerated from the merged inputs (make sync)"
    elif git("diff", "--cached", "--quiet", check=False).returncode != 0:
        message = "Regenerate results from this commit's inputs (make sync)"
    else:
        return f"Already in sync with {base}: nothing to commit."
    # No commit hooks: the commit holds what `dvc repro` wrote and files already committed on
    # either side; a hook that rewrote one (end-of-file fixers) would leave dvc.lock stale.
    git("commit", "--quiet", "--no-verify", "-m", message)
    return f"Committed: {message}. Push the branch (and `make push` to share the results)."


def sync(base: str, dvc: str, do_fetch: bool = True) -> str:
    generated = generated_paths()
    if not merging():
        if do_fetch:
            fetch(base)
        start_merge(base)
    left = resolve_generated(generated)
    if left:
        files = ", ".join(left)
        raise NeedsYou(
            f"merge conflicts in files you write: {files}: resolve them, `git add` them, then "
            "run `make sync` again"
        )
    repro(dvc)
    return commit(base, generated)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="origin/main", help="the branch to bring in")
    parser.add_argument("--dvc", default="dvc", help="the dvc executable")
    parser.add_argument("--no-fetch", action="store_true", help="merge the base as it is here")
    args = parser.parse_args(argv)
    try:
        print(sync(args.base, args.dvc, not args.no_fetch))
    except NeedsYou as error:
        return params.fail(error, 1)
    except (SyncError, check_lock.CheckError) as error:
        return params.fail(error)
    return 0


if __name__ == "__main__":
    sys.exit(main())
