"""pipeline/check_lock.py in a real git + DVC repository with a small two-stage pipeline.

The pipeline is made up (shell commands, not Rasa) so that each case runs in seconds; the check
reads stage names and paths from dvc.yaml and dvc.lock, so it does not care what the stages are.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import DVC, git

DVC_YAML = {
    "vars": [{"shell": "bash"}],
    "stages": {
        "prepare": {
            "cmd": "mkdir -p prepared && cat data/*.txt > prepared/all.txt",
            "deps": ["data", "scripts/prepare.sh"],
            "params": ["prepare"],
            "outs": ["prepared/all.txt"],
        },
        "evaluate": {
            "cmd": "${shell} scripts/evaluate.sh",
            "deps": ["prepared/all.txt", "scripts/evaluate.sh"],
            "params": ["evaluate.epochs"],
            "outs": ["model.txt"],
            "metrics": [{"metrics/scores.json": {"cache": False}}],
        },
    },
}
EVALUATE = (
    "mkdir -p metrics && cp prepared/all.txt model.txt\n"
    "echo '{\"f1\": 0.9}' > metrics/scores.json\n"
)


def check_lock(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.check_lock", "--dvc", str(DVC), *args],
        cwd=repo,
        capture_output=True,
        text=True,
    )


@pytest.fixture(scope="module")
def committed_repo(tmp_path_factory):
    """The pipeline run once, its dvc.lock and metrics committed (`dvc init` and repro are slow)."""
    assert DVC.exists(), "the DVC environment is missing: run `make install`"
    repo = tmp_path_factory.mktemp("lock") / "repo"
    (repo / "data").mkdir(parents=True)
    (repo / "scripts").mkdir()
    (repo / "data/greet.txt").write_text("hello\n")
    (repo / "scripts/prepare.sh").write_text("# nothing yet\n")
    (repo / "scripts/evaluate.sh").write_text(EVALUATE)
    (repo / "params.yaml").write_text(
        yaml.safe_dump({"prepare": {"n": 1}, "evaluate": {"epochs": 5}})
    )
    (repo / "dvc.yaml").write_text(yaml.safe_dump(DVC_YAML, sort_keys=False))
    git(repo, "init", "--quiet", "--initial-branch=main")
    subprocess.run([str(DVC), "init", "--quiet"], cwd=repo, check=True)
    subprocess.run([str(DVC), "repro", "--quiet"], cwd=repo, check=True)
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "results of this commit")
    return repo


@pytest.fixture
def repo(committed_repo, tmp_path):
    """A fresh clone: the committed files only, no outputs from the DVC cache (as in CI)."""
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", str(committed_repo), str(clone))
    return clone


def test_a_lock_that_matches_passes_without_its_cached_outputs(repo):
    assert not (repo / "model.txt").exists()
    result = check_lock(repo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "dvc.lock matches this commit's inputs."


@pytest.mark.parametrize(
    "change, problem",
    [
        (
            lambda r: (r / "data/bye.txt").write_text("bye\n"),
            "`prepare`: `data` changed (modified)",
        ),
        (
            lambda r: (r / "scripts/evaluate.sh").write_text(EVALUATE + "# tweak\n"),
            "`evaluate`: `scripts/evaluate.sh` changed (modified)",
        ),
        (
            lambda r: (r / "params.yaml").write_text(
                yaml.safe_dump({"prepare": {"n": 1}, "evaluate": {"epochs": 50}})
            ),
            "`evaluate`: `evaluate.epochs` in `params.yaml` changed",
        ),
        (
            lambda r: (r / "dvc.yaml").write_text(
                (r / "dvc.yaml").read_text().replace("cat data", "cat -s data")
            ),
            "`prepare`: its command changed",
        ),
        (
            lambda r: (r / "metrics/scores.json").write_text('{"f1": 0.99}\n'),
            "`evaluate`: `metrics/scores.json` differs from the output dvc.lock recorded",
        ),
        (
            lambda r: (r / "dvc.yaml").write_text(
                (r / "dvc.yaml").read_text()
                + "  extra:\n    cmd: cp model.txt extra.txt\n    deps: [model.txt]\n"
                "    outs: [extra.txt]\n"
            ),
            "`extra`: not in dvc.lock",
        ),
        (lambda r: (r / "dvc.lock").unlink(), "`dvc.lock` is missing"),
    ],
    ids=["data", "code", "params", "command", "committed-metrics", "new-stage", "no-lock"],
)
def test_a_stale_lock_is_found_and_the_fix_given(repo, change, problem):
    change(repo)
    result = check_lock(repo)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"stale: {problem}" in result.stdout
    assert result.stdout.splitlines()[-1] == (
        "dvc.lock is stale: run `make repro`, commit `dvc.lock` and `metrics/`, then `make push` "
        "(`make sync` when main has moved: it merges main first)."
    )


def test_an_upstream_output_that_changed_is_not_a_stale_input(repo):
    """prepared/all.txt is produced by `prepare`: its hash is that stage's business."""
    (repo / "prepared").mkdir(exist_ok=True)  # holds DVC's .gitignore
    (repo / "prepared/all.txt").write_text("built differently on this machine\n")
    assert check_lock(repo).returncode == 0


def test_ci_mode_writes_the_verdict_and_a_note_and_exits_0(repo, tmp_path):
    (repo / "data/bye.txt").write_text("bye\n")
    result_file, notes = tmp_path / "out/lock.json", tmp_path / "out/notes.md"
    result = check_lock(repo, "--result", str(result_file), "--notes", str(notes))
    assert result.returncode == 0, result.stderr
    verdict = json.loads(result_file.read_text())
    assert verdict == {"stale": True, "problems": ["`prepare`: `data` changed (modified)"]}
    assert notes.read_text().startswith("**`dvc.lock` is stale**")
    assert "- `prepare`: `data` changed (modified)" in notes.read_text()


def test_a_broken_dvc_yaml_is_an_error(repo):
    (repo / "dvc.yaml").write_text("stages: [unclosed\n")
    result = check_lock(repo)
    assert result.returncode == 2
    assert result.stderr.startswith("ERROR: dvc.yaml is not valid YAML")


@pytest.mark.parametrize(
    "text",
    ["stages: [prepare, evaluate]\n", "stages:\n  prepare: mkdir x\n"],
    ids=["list", "stage-not-a-mapping"],
)
def test_a_dvc_yaml_of_the_wrong_shape_is_one_error_line(repo, text):
    (repo / "dvc.yaml").write_text(text)
    result = check_lock(repo)
    assert result.returncode == 2, result.stdout
    assert result.stderr == "ERROR: dvc.yaml: `stages` must map each stage name to its settings\n"
