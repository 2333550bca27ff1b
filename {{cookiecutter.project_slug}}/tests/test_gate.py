"""scripts/gate.py in real git repositories: a baseline commit on main, then a changed workspace."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scripts import gate, metrics

ROOT = Path(__file__).resolve().parents[1]
GATE = {
    "max_drop": 0.02,
    "metrics": ["metrics/nlu.json:weighted_f1", "metrics/core.json:action_f1"],
}
NLU = {
    "accuracy": 0.9,
    "weighted_f1": 0.9,
    "macro_f1": 0.88,
    "intent_f1": {"greet": 0.95, "deny": 0.8},
}
CORE = {"action_accuracy": 1.0, "action_f1": 1.0, "conversation_accuracy": 1.0}


def git(repo: Path, *args: str) -> str:
    identity = ["-c", "user.name=Tests", "-c", "user.email=tests@example.com"]
    return subprocess.run(
        ["git", *identity, *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()


def write(repo: Path, nlu: dict | None = None, core: dict | None = None, gate_params=GATE) -> None:
    (repo / "params.yaml").write_text(yaml.safe_dump({"gate": gate_params}))
    for name, data in (("nlu", nlu), ("core", core)):
        if data is not None:
            (repo / "metrics").mkdir(exist_ok=True)
            (repo / f"metrics/{name}.json").write_text(json.dumps(data))


def run_gate(repo: Path, baseline: str = "main") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts/gate.py"), "--baseline", baseline],
        cwd=repo,
        capture_output=True,
        text=True,
    )


@pytest.fixture
def repo(tmp_path):
    """A repository whose main branch has committed metrics."""
    git(tmp_path, "init", "--quiet", "--initial-branch=main")
    write(tmp_path, NLU, CORE)
    git(tmp_path, "add", "--all")
    git(tmp_path, "commit", "--quiet", "-m", "baseline")
    return tmp_path


def test_a_drop_beyond_max_drop_fails_with_one_line_per_metric(repo):
    write(repo, {**NLU, "weighted_f1": 0.85}, {**CORE, "action_f1": 0.9})
    result = run_gate(repo)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "FAIL metrics/nlu.json:weighted_f1 fell 0.9000 -> 0.8500 (-0.0500), "
        "more than gate.max_drop 0.02 below main"
    )
    assert lines[1].startswith("FAIL metrics/core.json:action_f1 fell 1.0000 -> 0.9000")
    assert lines[-1] == "Quality gate failed: 2 of 2 gated metrics fell more than 0.02 below main."


def test_a_drop_within_max_drop_or_a_gain_passes(repo):
    write(repo, {**NLU, "weighted_f1": 0.88}, {**CORE, "action_f1": 1.0})
    result = run_gate(repo)
    assert result.returncode == 0, result.stdout
    assert "ok   metrics/nlu.json:weighted_f1 0.9000 -> 0.8800 (-0.0200)" in result.stdout
    write(repo, {**NLU, "weighted_f1": 0.95}, CORE)
    result = run_gate(repo)
    assert result.returncode == 0
    assert "(+0.0500)" in result.stdout
    assert result.stdout.splitlines()[-1] == (
        "Quality gate passed: no gated metric fell more than 0.02."
    )


def test_first_run_without_baseline_metrics_passes_and_says_so(tmp_path):
    git(tmp_path, "init", "--quiet", "--initial-branch=main")
    write(tmp_path)
    git(tmp_path, "add", "--all")
    git(tmp_path, "commit", "--quiet", "-m", "no metrics yet")
    write(tmp_path, NLU, CORE)
    result = run_gate(tmp_path)
    assert result.returncode == 0
    assert "ok   metrics/nlu.json:weighted_f1 = 0.9000: no baseline value at main" in result.stdout
    assert result.stdout.splitlines()[-1] == (
        "Quality gate passed: main has no metrics yet (first run)."
    )


def test_unknown_baseline_revision_passes_and_says_so(repo):
    result = run_gate(repo, baseline="origin/main")
    assert result.returncode == 0
    assert "no baseline (origin/main is not a revision here)" in result.stdout


def test_a_gated_metric_missing_from_the_workspace_fails(repo):
    (repo / "metrics/core.json").unlink()
    result = run_gate(repo)
    assert result.returncode == 1
    assert "FAIL metrics/core.json:action_f1: missing from metrics/core.json" in result.stdout


def test_nested_keys_are_gated(repo):
    write(
        repo,
        {**NLU, "intent_f1": {"greet": 0.5, "deny": 0.8}},
        CORE,
        {"max_drop": 0.1, "metrics": ["metrics/nlu.json:intent_f1.greet"]},
    )
    result = run_gate(repo)
    assert result.returncode == 1
    assert "FAIL metrics/nlu.json:intent_f1.greet fell 0.9500 -> 0.5000" in result.stdout


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"max_drop": -1, "metrics": GATE["metrics"]}, "gate.max_drop"),
        ({"max_drop": 0.02, "metrics": ["weighted_f1"]}, "gate.metrics"),
        (None, "no 'gate' section"),
    ],
)
def test_a_broken_gate_section_is_an_error(repo, bad, message):
    write(repo, NLU, CORE, bad)
    result = run_gate(repo)
    assert result.returncode == 2
    assert result.stderr.startswith("ERROR: ") and message in result.stderr


def test_shipped_gate_names_metrics_that_metrics_py_writes():
    max_drop, gated = gate.load_gate(ROOT / "params.yaml")
    assert 0 < max_drop < 1
    sample = {"f1-score": 0.5, "precision": 0.5, "recall": 0.5, "support": 2}
    written = {
        "metrics/nlu.json": metrics.nlu_metrics(
            {"greet": sample, "accuracy": 0.5, "macro avg": sample, "weighted avg": sample}
        ),
        "metrics/core.json": metrics.core_metrics(
            {
                "conversation_accuracy": {"accuracy": 1.0, "correct": 1, "total": 1},
                "accuracy": 1.0,
                "weighted avg": sample,
            }
        ),
        "metrics/entities.json": {
            "DIETClassifier": metrics.entity_metrics({"city": sample, "weighted avg": sample})
        },
    }
    for entry in gated:
        path, key = entry.removesuffix("?").split(":", 1)
        assert gate.lookup(written[path], key) is not None, entry
