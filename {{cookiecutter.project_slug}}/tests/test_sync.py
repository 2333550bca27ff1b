"""pipeline/sync.py (`make sync`) in real git + DVC repositories: two branches that both change
data, one merged, then the other synced and merged, with no generated file edited by hand.

The pipeline is made up (shell commands, not Rasa) so that each case runs in seconds; like the
real one it commits dvc.lock and a metrics file, and keeps a model in DVC's cache.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import DVC, GIT_IDENTITY, ROOT, git

DVC_YAML = {
    "stages": {
        "train": {
            "cmd": "cat data/*.txt > model.txt",
            "deps": ["data"],
            "outs": ["model.txt"],
        },
        "evaluate": {
            "cmd": "mkdir -p metrics && printf '{\"examples\": %d}\\n' $(wc -l < model.txt)"
            " > metrics/scores.json",
            "deps": ["model.txt"],
            "metrics": [{"metrics/scores.json": {"cache": False}}],
        },
    },
}


def dvc(repo: Path, *args: str) -> str:
    result = subprocess.run([str(DVC), *args], cwd=repo, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def sync(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.sync", "--dvc", str(DVC), "--base", "main", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_IDENTITY},
    )


def add_examples(repo: Path, name: str, *examples: str) -> None:
    path = repo / "data" / name
    path.write_text(path.read_text() + "".join(f"{e}\n" for e in examples))


def commit_results(repo: Path, message: str) -> None:
    """What a developer does on a branch: run the pipeline, commit inputs and results."""
    dvc(repo, "repro", "--quiet")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", message)


def scores(repo: Path) -> dict:
    return json.loads((repo / "metrics/scores.json").read_text())


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """main with its results committed (`dvc init` and the first repro are the slow part)."""
    assert DVC.exists(), "the DVC environment is missing: run `make install`"
    repo = tmp_path_factory.mktemp("sync") / "repo"
    (repo / "data").mkdir(parents=True)
    (repo / "data/greet.txt").write_text("hello\nhi\n")
    (repo / "data/goodbye.txt").write_text("bye\n")
    (repo / "dvc.yaml").write_text(yaml.safe_dump(DVC_YAML, sort_keys=False))
    (repo / ".gitattributes").write_text((ROOT / ".gitattributes").read_text())
    git(repo, "init", "--quiet", "--initial-branch=main")
    dvc(repo, "init", "--quiet")
    commit_results(repo, "main's results")
    return repo


@pytest.fixture
def clone(template, tmp_path):
    """A fresh clone: the committed files, no outputs on disk."""
    path = tmp_path / "repo"
    git(tmp_path, "clone", "--quiet", str(template), str(path))
    return path


@pytest.fixture
def repo(clone):
    """A developer's clone, with the outputs on disk that a run left there."""
    dvc(clone, "repro", "--quiet")
    return clone


def two_pull_requests(repo: Path) -> None:
    """Branch `first` adds greetings, `second` goodbyes; each commits its own results; `first`
    is merged into main."""
    for branch, name, examples in (
        ("first", "greet.txt", ["hey", "good morning"]),
        ("second", "goodbye.txt", ["see you"]),
    ):
        git(repo, "checkout", "--quiet", "-b", branch, "main")
        add_examples(repo, name, *examples)
        commit_results(repo, f"More examples in {name}")
    git(repo, "checkout", "--quiet", "main")
    git(repo, "merge", "--quiet", "--no-ff", "--no-edit", "first")
    dvc(repo, "checkout", "--quiet")


def test_second_pull_request_merges_after_sync_with_results_of_the_merged_inputs(repo, tmp_path):
    two_pull_requests(repo)
    main_after_first = git(repo, "rev-parse", "main")
    git(repo, "checkout", "--quiet", "second")
    dvc(repo, "checkout", "--quiet")
    # Without sync: the generated files conflict.
    merge = subprocess.run(["git", "merge", "--no-commit", "main"], cwd=repo, capture_output=True)
    assert merge.returncode != 0
    conflicts = git(repo, "diff", "--name-only", "--diff-filter=U").split()
    assert "dvc.lock" in conflicts and "metrics/scores.json" in conflicts
    git(repo, "merge", "--abort")

    result = sync(repo)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Committed: Merge main; results regenerated" in result.stdout
    assert "Running stage 'train'" in result.stdout + result.stderr
    assert git(repo, "status", "--porcelain", "--untracked-files=no") == ""
    parents = git(repo, "rev-list", "--parents", "-n", "1", "HEAD").split()[1:]
    assert parents[1] == main_after_first
    # 3 on main + 2 from the first pull request + 1 from this one
    assert scores(repo) == {"examples": 6}
    assert dvc(repo, "status", "--quiet") == ""
    # Compared with main as it is after the first merge.
    diff = json.loads(dvc(repo, "metrics", "diff", "main", "--json"))
    assert diff["metrics/scores.json"]["examples"] == {"old": 5, "new": 6, "diff": 1}

    git(repo, "checkout", "--quiet", "main")
    git(repo, "merge", "--quiet", "--ff-only", "second")
    fresh = tmp_path / "fresh"
    git(tmp_path, "clone", "--quiet", str(repo), str(fresh))
    dvc(fresh, "repro", "--quiet")
    assert git(fresh, "status", "--porcelain") == "", "a fresh repro changed main's results"
    assert scores(fresh) == scores(repo)


def test_a_conflict_in_data_stops_then_sync_carries_on_after_it_is_resolved(repo):
    two_pull_requests(repo)
    git(repo, "checkout", "--quiet", "second")
    add_examples(repo, "greet.txt", "howdy")  # the same place `first` added to
    commit_results(repo, "Another greeting")

    stopped = sync(repo)

    assert stopped.returncode == 1
    assert stopped.stderr.strip().splitlines() == [
        "ERROR: merge conflicts in files you write: data/greet.txt: resolve them, `git add` "
        "them, then run `make sync` again"
    ]
    (repo / "data/greet.txt").write_text("hello\nhi\nhey\ngood morning\nhowdy\n")
    git(repo, "add", "data/greet.txt")

    result = sync(repo)

    assert result.returncode == 0, result.stdout + result.stderr
    assert scores(repo) == {"examples": 7}
    assert git(repo, "status", "--porcelain", "--untracked-files=no") == ""
    assert dvc(repo, "status", "--quiet") == ""


def test_a_branch_up_to_date_with_fresh_results_has_nothing_to_commit(clone):
    head = git(clone, "rev-parse", "HEAD")
    result = sync(clone)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Already in sync with main: nothing to commit." in result.stdout
    assert git(clone, "rev-parse", "HEAD") == head


def test_a_stale_lock_on_an_up_to_date_branch_is_regenerated_and_committed(clone):
    add_examples(clone, "goodbye.txt", "farewell")
    git(clone, "commit", "--quiet", "-am", "A new example, results not rerun")
    result = sync(clone)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Regenerate results from this commit's inputs" in result.stdout
    assert scores(clone) == {"examples": 4}
    assert git(clone, "status", "--porcelain", "--untracked-files=no") == ""


@pytest.mark.parametrize(
    "prepare, error",
    [
        (
            lambda repo: add_examples(repo, "greet.txt", "unsaved"),
            "ERROR: this branch has uncommitted changes: commit or stash them first",
        ),
        (
            lambda repo: git(repo, "branch", "--quiet", "-D", "main"),
            "ERROR: main is not a branch here: name one, e.g. `make sync SYNC_BASE=main`",
        ),
    ],
    ids=["uncommitted-changes", "unknown-base"],
)
def test_sync_refuses_with_one_error_line(clone, prepare, error):
    git(clone, "checkout", "--quiet", "-b", "work")
    prepare(clone)
    result = sync(clone)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [error]
