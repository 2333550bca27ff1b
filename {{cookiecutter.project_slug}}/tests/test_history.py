"""pipeline/history.py on a git repository with several results commits (no training): the
headline metrics per commit on main, oldest first, this change marked, a trend chart."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import git

from pipeline import compare, history

PNG = b"\x89PNG\r\n\x1a\n"


def commit_results(repo: Path, subject: str, f1: float, entities: bool = True) -> str:
    (repo / "metrics").mkdir(exist_ok=True)
    (repo / "metrics/nlu.json").write_text(json.dumps({"weighted_f1": f1, "accuracy": f1}))
    (repo / "metrics/core.json").write_text(json.dumps({"conversation_accuracy": f1 / 2}))
    if entities:
        extractors = {"RegexEntityExtractor": {"weighted_f1": 0.1}, "DIETClassifier": {}}
        extractors["DIETClassifier"]["weighted_f1"] = round(f1 - 0.1, 4)
        (repo / "metrics/entities.json").write_text(json.dumps(extractors))
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", subject)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """main: three results commits, a commit that changes no result, a side branch merged in
    (its own results commit is not one of main's)."""
    git(tmp_path, "init", "--quiet", "--initial-branch=main")
    (tmp_path / "README.md").write_text("bot\n")
    git(tmp_path, "add", "--all")
    git(tmp_path, "commit", "--quiet", "-m", "bake")
    commits = [commit_results(tmp_path, f"results {n}", f1) for n, f1 in [(1, 0.7), (2, 0.8)]]
    git(tmp_path, "checkout", "--quiet", "-b", "side")
    commit_results(tmp_path, "side experiment | @team <b>", 0.1)
    git(tmp_path, "checkout", "--quiet", "main")
    commits.append(commit_results(tmp_path, "results 3", 0.9))
    git(tmp_path, "merge", "--quiet", "--no-ff", "-m", "merge side", "-X", "ours", "side")
    (tmp_path / "README.md").write_text("docs only\n")
    git(tmp_path, "commit", "--quiet", "-am", "docs")
    monkeypatch.chdir(tmp_path)
    return tmp_path, commits


def test_points_are_main_s_results_commits_oldest_first(repo):
    _, commits = repo
    series = history.points("main")
    # `side`'s own results commit is not on main's line, and the merge kept main's results
    assert [p.commit for p in series] == commits
    assert [p.subject for p in series] == ["results 1", "results 2", "results 3"]
    assert series[0].figures == {
        "weighted_f1": 0.7,
        "entity_f1": 0.6,  # DIETClassifier's, not RegexEntityExtractor's
        "conversation_accuracy": 0.35,
    }
    assert [p.commit for p in history.points("main", last=2)] == commits[1:]


def test_the_report_section_marks_where_this_change_puts_the_line(repo):
    now = compare.Evaluation(nlu={"weighted_f1": 0.5}, core={"conversation_accuracy": 0.25})
    title, intro, table = history.report_section("main", now)
    assert title == "## Over time" and "committed on `main` (the last 10 at most" in intro
    rows = table.splitlines()
    assert rows[0] == (
        "| commit | date | subject | intent weighted F1 | entity F1 | conversation accuracy |"
    )
    assert rows[-1] == "| **this change** | - | (not merged yet) | 0.5000 | - | 0.2500 |"
    assert rows[2].startswith(f"| `{repo[1][0][:7]}` | 20")
    assert history.report_section("no-such-branch", now) == []


def test_make_history_prints_the_table_and_draws_the_chart(repo):
    path, _ = repo
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.history", "--rev", "main", "--chart", "out/h.png"],
        cwd=path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n| `") == 3 and "| results 3 | 0.9000 | 0.8000 | 0.4500 |" in (
        result.stdout
    )
    assert (path / "out/h.png").read_bytes().startswith(PNG)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rev", "nothing-here"], "ERROR: no results committed on 'nothing-here'"),
        (["--last", "ten"], "ERROR: LAST must be a whole number of commits"),
        (["--rev=--output=stolen"], "ERROR: no results committed on '--output=stolen'"),
    ],
)
def test_bad_input_gets_one_error_line(repo, args, message):
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.history", *args],
        cwd=repo[0],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (repo[0] / "stolen").exists()
