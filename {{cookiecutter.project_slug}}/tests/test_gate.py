"""pipeline/gate.py in real git repositories: a baseline on main, then a changed workspace."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, git

from pipeline import gate, metrics

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


def write(repo: Path, nlu: dict | None = None, core: dict | None = None, gate_params=GATE) -> None:
    (repo / "params.yaml").write_text(yaml.safe_dump({"gate": gate_params}))
    for name, data in (("nlu", nlu), ("core", core)):
        if data is not None:
            (repo / "metrics").mkdir(exist_ok=True)
            (repo / f"metrics/{name}.json").write_text(json.dumps(data))


def run_gate(
    repo: Path, baseline: str = "main", *args: str, env=None
) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GATE_")}
    return subprocess.run(
        [sys.executable, "-m", "pipeline.gate", "--baseline", baseline, *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**clean, **(env or {})},
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


def test_unknown_baseline_revision_passes_and_says_so_outside_ci(repo):
    result = run_gate(repo, baseline="origin/main")
    assert result.returncode == 0
    assert "no baseline (origin/main is not a revision here)" in result.stdout


def test_a_gated_metric_missing_from_the_workspace_fails(repo):
    (repo / "metrics/core.json").unlink()
    result = run_gate(repo)
    assert result.returncode == 1
    assert "FAIL metrics/core.json:action_f1: missing from metrics/core.json" in result.stdout


def test_nested_keys_are_gated(repo):
    nested = {"max_drop": 0.1, "metrics": ["metrics/nlu.json:intent_f1.greet"]}
    write(repo, NLU, CORE, nested)
    git(repo, "commit", "--quiet", "-am", "gate greet")
    write(repo, {**NLU, "intent_f1": {"greet": 0.5, "deny": 0.8}}, CORE, nested)
    result = run_gate(repo)
    assert result.returncode == 1
    assert "FAIL metrics/nlu.json:intent_f1.greet fell 0.9500 -> 0.5000" in result.stdout


# evaluation/*.json: the per-label figures, keyed by the bot's own names, which may hold dots.
INTENTS = {
    "ask.weather": {"f1": 0.9, "precision": 0.9, "recall": 0.9, "support": 10},
    "ask": {"f1": 0.8, "precision": 0.8, "recall": 0.8, "support": 10},
    "greet": {"f1": 1.0, "precision": 1.0, "recall": 1.0, "support": 10},
}
ENTITIES = {"DIETClassifier": {"city.name": {"f1": 0.7, "precision": 0.7, "recall": 0.7}}}


def write_labels(repo: Path, intents: dict, entities: dict = ENTITIES) -> None:
    (repo / "evaluation").mkdir(exist_ok=True)
    (repo / "evaluation/intents.json").write_text(json.dumps(intents))
    (repo / "evaluation/entities.json").write_text(json.dumps(entities))


def test_labels_with_dots_in_their_names_are_gated(repo):
    by_label = {
        "max_drop": 0.02,
        "metrics": [
            "evaluation/intents.json:ask.weather.f1",
            "evaluation/intents.json:ask.f1",
            "evaluation/entities.json:DIETClassifier.city.name.f1",
        ],
    }
    write(repo, NLU, CORE, by_label)
    write_labels(repo, INTENTS)
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "gate labels")
    result = run_gate(repo)
    assert result.returncode == 0, result.stdout
    assert "ok   evaluation/intents.json:ask.weather.f1 0.9000 -> 0.9000" in result.stdout
    assert "ok   evaluation/intents.json:ask.f1 0.8000 -> 0.8000" in result.stdout

    fell = {**INTENTS, "ask.weather": {**INTENTS["ask.weather"], "f1": 0.5}}
    write_labels(repo, fell, {"DIETClassifier": {"city.name": {"f1": 0.1}}})
    result = run_gate(repo)
    assert result.returncode == 1, result.stdout
    lines = result.stdout.splitlines()
    assert lines[0].startswith("FAIL evaluation/intents.json:ask.weather.f1 fell 0.9000 -> 0.5000")
    assert lines[1] == "ok   evaluation/intents.json:ask.f1 0.8000 -> 0.8000 (+0.0000)"
    assert lines[2].startswith(
        "FAIL evaluation/entities.json:DIETClassifier.city.name.f1 fell 0.7000 -> 0.1000"
    )


def test_lookup_matches_names_not_dot_separated_parts():
    data = {"a.b": {"c": 1}, "a": {"b": {"c": 2}, "b.c": 3}, "x": {"y?": {"f1": 0.5}}}
    assert gate.lookup(data, "a.b.c") in (1.0, 3.0)  # ambiguous by construction: a number
    assert gate.lookup({"a.b": {"c": 1}}, "a.b.c") == 1.0
    assert gate.lookup({"a": {"b": {"c": 2}}}, "a.b.c") == 2.0
    assert gate.lookup({"a.b": {"c": "text"}, "a": {"b": {"c": 2}}}, "a.b.c") == 2.0
    assert gate.lookup(data, "x.y?.f1") == 0.5
    assert gate.lookup(data, "a.b") is None  # a mapping, not a number
    assert gate.lookup({"ok": True}, "ok") is None
    assert gate.metric_entry("evaluation/intents.json:why?.f1?") == (
        "evaluation/intents.json",
        "why?.f1",
        True,
    )


def test_a_baseline_value_that_is_missing_or_not_finite_passes_and_says_so(repo):
    gated = {**GATE, "metrics": [*GATE["metrics"], "metrics/nlu.json:macro_f1"]}
    baseline_nlu = {k: v for k, v in NLU.items() if k != "macro_f1"} | {"weighted_f1": "NaN"}
    write(repo, baseline_nlu, CORE, gated)
    text = (repo / "metrics/nlu.json").read_text().replace('"NaN"', "NaN")
    (repo / "metrics/nlu.json").write_text(text)
    git(repo, "commit", "--quiet", "-am", "a broken baseline, and no macro_f1 yet")
    write(repo, NLU, CORE, gated)
    result = run_gate(repo)
    assert result.returncode == 0, result.stdout
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "warn metrics/nlu.json:weighted_f1 = 0.9000: not compared, its value at main is nan "
        "(not a finite number)"
    )
    assert lines[2] == (
        "ok   metrics/nlu.json:macro_f1 = 0.8800: no baseline value at main "
        "(a new key of metrics/nlu.json)"
    )
    assert lines[-1] == (
        "Quality gate passed: no gated metric fell more than 0.02; "
        "2 of 3 not compared (no finite value at main)."
    )


def test_a_baseline_that_looks_like_an_option_is_refused(repo):
    """`make gate` passes --baseline=VALUE: a value starting with `-` never becomes an option."""
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.gate", "--baseline=--output=x"],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr == "ERROR: --baseline '--output=x' is not a revision name: e.g. main\n"


@pytest.mark.parametrize(
    "bad, message",
    [
        ({**GATE, "max_drop": -1}, "gate.max_drop"),
        # NaN passes every comparison as false: it would switch the gate off
        ({**GATE, "max_drop": float("nan")}, "gate.max_drop in params.yaml must be a number"),
        ({**GATE, "max_drop": float("inf")}, "gate.max_drop"),
        ({**GATE, "max_drop": 2}, "from 0 to 1"),
        ({**GATE, "max_drop": "0.02"}, "gate.max_drop"),
        ({**GATE, "max_drop": [0.02]}, "gate.max_drop"),
        ({**GATE, "max_drop": True}, "gate.max_drop"),
        ({"max_drop": 0.02, "metrics": ["weighted_f1"]}, "gate.metrics"),
        ({"max_drop": 0.02, "metrics": "::::"}, "gate.metrics"),
        ({"max_drop": 0.02, "metrics": {"metrics/nlu.json": "weighted_f1"}}, "gate.metrics"),
        ({"max_drop": 0.02, "metrics": ["../outside.json:f1"]}, "relative path"),
        ({"max_drop": 0.02, "metrics": ["/etc/x.json:f1"]}, "relative path"),
        ({"max_drop": 0.02, "metrics": ["metrics/nlu.json:"]}, "gate.metrics"),
        ({**GATE, "stale_lock": "ignore"}, "gate.stale_lock"),
        ({**GATE, "stale_lock": ["warn"]}, "gate.stale_lock"),
        (None, "no 'gate' section"),
    ],
)
def test_a_broken_gate_section_is_an_error(repo, bad, message):
    """Also when the baseline's settings apply: the change would break the gate once merged."""
    write(repo, NLU, CORE, bad)
    result = run_gate(repo)
    assert result.returncode == 2, result.stdout
    assert result.stderr.startswith("ERROR: ") and message in result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr


def test_a_change_cannot_loosen_its_own_gate(repo):
    write(repo, {**NLU, "weighted_f1": 0.0}, CORE, {"max_drop": 1, "metrics": GATE["metrics"]})
    result = run_gate(repo)
    assert result.returncode == 1, result.stdout
    assert "FAIL metrics/nlu.json:weighted_f1 fell 0.9000 -> 0.0000" in result.stdout
    assert "more than gate.max_drop 0.02 below main" in result.stdout
    assert (
        "note this change edits `gate` in params.yaml; the gate uses params.yaml at main "
        "until the change is merged"
    ) in result.stdout


def test_a_change_cannot_drop_a_metric_from_its_own_gate(repo):
    loosened = {"max_drop": 0.02, "metrics": ["metrics/core.json:action_f1"]}
    write(repo, {**NLU, "weighted_f1": 0.5}, CORE, loosened)
    result = run_gate(repo)
    assert result.returncode == 1
    assert "FAIL metrics/nlu.json:weighted_f1 fell" in result.stdout


def test_a_baseline_without_a_gate_section_leaves_the_workspace_settings(tmp_path):
    git(tmp_path, "init", "--quiet", "--initial-branch=main")
    (tmp_path / "params.yaml").write_text("train: {}\n")
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics/nlu.json").write_text(json.dumps(NLU))
    (tmp_path / "metrics/core.json").write_text(json.dumps(CORE))
    git(tmp_path, "add", "--all")
    git(tmp_path, "commit", "--quiet", "-m", "no gate yet")
    write(tmp_path, {**NLU, "weighted_f1": 0.8}, CORE, {**GATE, "max_drop": 0.2})
    result = run_gate(tmp_path)
    assert result.returncode == 0, result.stdout
    assert "note " not in result.stdout


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_a_non_finite_metric_fails(repo, value):
    (repo / "metrics/nlu.json").write_text(json.dumps(NLU).replace("0.9,", f"{value},", 2))
    assert value in (repo / "metrics/nlu.json").read_text()
    result = run_gate(repo)
    assert result.returncode == 1, result.stdout
    assert "not a finite number" in result.stdout
    assert "gated metrics missing or not finite" in result.stdout.splitlines()[-1]


def test_an_optional_metric_is_gated_when_the_workspace_or_the_baseline_has_it(repo):
    gate_params = {**GATE, "metrics": [*GATE["metrics"], "metrics/entities.json:weighted_f1?"]}
    write(repo, NLU, CORE, gate_params)
    git(repo, "commit", "--quiet", "-am", "gate entities when there are some")
    result = run_gate(repo)
    assert result.returncode == 0, result.stdout
    assert (
        "skip metrics/entities.json:weighted_f1: not in metrics/entities.json here or at main"
    ) in result.stdout
    (repo / "metrics/entities.json").write_text(json.dumps({"weighted_f1": 0.7}))
    git(repo, "add", "metrics/entities.json")
    git(repo, "commit", "--quiet", "-m", "the bot learns entities")
    (repo / "metrics/entities.json").write_text(json.dumps({"weighted_f1": 0.5}))
    result = run_gate(repo)
    assert result.returncode == 1
    assert "FAIL metrics/entities.json:weighted_f1 fell 0.7000 -> 0.5000" in result.stdout
    (repo / "metrics/entities.json").write_text(json.dumps({"weighted_f1": float("nan")}))
    assert run_gate(repo).returncode == 1
    (repo / "metrics/entities.json").unlink()  # Rasa writes no report for a silent extractor
    result = run_gate(repo)
    assert result.returncode == 1
    assert "FAIL metrics/entities.json:weighted_f1: 0.7000 at main, missing from" in result.stdout


def test_an_unresolvable_baseline_fails_when_required(repo):
    for how in (["--require-baseline"], []):
        env = {} if how else {"GATE_REQUIRE_BASELINE": "true"}
        result = run_gate(repo, "origin/main", *how, env=env)
        assert result.returncode == 1, result.stdout
        assert "FAIL baseline origin/main is not a revision here" in result.stdout
        assert result.stdout.splitlines()[-1] == (
            "Quality gate failed: no baseline to compare with."
        )


def test_a_base_branch_without_metrics_passes_even_when_a_baseline_is_required(tmp_path):
    git(tmp_path, "init", "--quiet", "--initial-branch=main")
    write(tmp_path)
    git(tmp_path, "add", "--all")
    git(tmp_path, "commit", "--quiet", "-m", "no metrics yet")
    write(tmp_path, NLU, CORE)
    result = run_gate(tmp_path, "main", "--require-baseline")
    assert result.returncode == 0, result.stdout
    assert "main has no metrics yet (first run)" in result.stdout


@pytest.mark.parametrize(
    "found, stale_lock, code, line",
    [
        ({"stale": False, "problems": []}, "fail", 0, "ok   dvc.lock matches"),
        ({"stale": True, "problems": ["x"]}, "fail", 1, "FAIL dvc.lock is stale"),
        ({"stale": True, "problems": ["x"]}, "warn", 0, "warn dvc.lock is stale"),
        (None, "fail", 1, "FAIL dvc.lock: no lock check result"),
        (["stale"], "fail", 1, "FAIL dvc.lock: no lock check result"),
        ({"stale": "no"}, "fail", 1, "FAIL dvc.lock: no lock check result"),
    ],
    ids=["fresh", "stale", "stale-warn", "not-checked", "not-a-mapping", "not-a-verdict"],
)
def test_the_lock_check_result_is_gated(repo, found, stale_lock, code, line):
    write(repo, NLU, CORE, {**GATE, "stale_lock": stale_lock})
    git(repo, "commit", "--quiet", "-am", f"stale_lock: {stale_lock}")
    result_file = repo / "lock-check.json"
    if found is not None:
        result_file.write_text(json.dumps(found))
    for how, env in [
        (["--lock-check", str(result_file)], {}),
        ([], {"GATE_LOCK_CHECK": str(result_file)}),
    ]:
        result = run_gate(repo, "main", *how, env=env)
        assert result.returncode == code, result.stdout
        assert line in result.stdout
    if code:
        assert "make repro" in result.stdout or "check_lock" in result.stdout
        assert "dvc.lock does not match this commit's inputs" in result.stdout.splitlines()[-1]
    if "is stale" in line:  # the same fix as `make check-lock` prints (tests/test_check_lock.py)
        fix = (
            "run `make repro`, commit `dvc.lock` and `metrics/`, then `make push` "
            "(`make sync` when main has moved: it merges main first)"
        )
        assert f"dvc.lock is stale (gate.stale_lock: {stale_lock}): {fix}" in result.stdout


def test_shipped_gate_names_metrics_that_metrics_py_writes():
    settings = gate.load_gate(ROOT / "params.yaml")
    assert 0 < settings.max_drop < 1 and settings.stale_lock in gate.STALE_LOCK_CHOICES
    gated = [entry for entry in settings.metrics if not entry.endswith("?")]
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
