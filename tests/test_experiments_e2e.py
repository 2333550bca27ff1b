"""End-to-end: DVC experiments and Rasa's own modes on a real bot trained with few epochs.

`few_epochs_bot` (conftest) is a committed clone of the default bake trained with 5 epochs per
component. Experiments run the way a user runs them: queued and in parallel through `make
sweep`, in DVC's copies of the project under .dvc/tmp/exps/.
"""

import json
import os
import re
import signal
import subprocess
import time

import pytest
import yaml

from support import git, git_status, run

pytestmark = pytest.mark.e2e

DVC = ".venv-dvc/bin/dvc"
NLU_TRAINED = ("RegexFeaturizer", "LexicalSyntacticFeaturizer", "CountVectorsFeaturizer")


def nlu_metrics(project, rev=None):
    if rev is None:
        return json.loads((project / "metrics/nlu.json").read_text())
    return json.loads(git(project, "show", f"{rev}:metrics/nlu.json"))


def experiments(project):
    """name -> commit of each finished experiment of HEAD, from `dvc exp show --json`."""
    baseline = json.loads(run([DVC, "exp", "show", "--json"], project).stdout)[1]  # [0]: workspace
    found = {}
    for exp in baseline.get("experiments") or []:
        state = (exp.get("executor") or {}).get("state", "success")
        if state == "success":
            found[exp["name"]] = exp["revs"][0]["rev"]
    return found


def test_a_queued_sweep_trains_only_the_policy_and_an_experiment_branches_cleanly(few_epochs_bot):
    """Two experiments run in parallel in DVC's copies of the project: a policy-only change, so
    the NLU components come from the project's Rasa cache and only TED trains (pipeline.rasa_cache
    finds it from the copy; `dvc exp run --temp` takes the same path: the bot's test_sweep.py)."""
    project = few_epochs_bot
    workspace = nlu_metrics(project)

    sweep = run(["make", "sweep", "SET=train.TEDPolicy.max_history=choice(2,3)", "JOBS=2"], project)
    table = [line for line in sweep.stdout.splitlines() if line.startswith("| ")]
    assert len(table) == 2 + 3, sweep.stdout  # header, rule, the two experiments and the baseline
    assert all(" | done | " in line for line in table[2:]), sweep.stdout
    queued = experiments(project)
    assert len(queued) == 2, queued
    for name, rev in queued.items():
        config = yaml.safe_load(git(project, "show", f"{rev}:models/config.yml"))
        ted = next(c for c in config["policies"] if c["name"] == "TEDPolicy")
        assert ted["max_history"] in (2, 3)
        log = run([DVC, "queue", "logs", name], project).stdout
        for component in (*NLU_TRAINED, "DIETClassifier"):
            assert f"Restored component '{component}' from cache." in log, (name, component)
        assert "Starting to train component 'DIETClassifier'" not in log, name
        assert "Starting to train component 'TEDPolicy'" in log, name
        assert nlu_metrics(project, rev) == workspace, "the same NLU model, the same NLU metrics"

    # Promote one experiment to a branch: its committed results match its inputs.
    name = next(iter(queued))
    run([DVC, "exp", "branch", name, "tuned"], project)
    git(project, "checkout", "--quiet", "tuned")
    run([DVC, "checkout"], project)
    run(["make", "check-lock"], project)
    git(project, "checkout", "--quiet", "main")
    run([DVC, "checkout"], project)
    assert git_status(project) == ""


def test_cross_validation_uses_the_pipeline_config_and_writes_outside_tracked_files(
    few_epochs_bot,
):
    result = run(["make", "cross-validation", "FOLDS=2"], few_epochs_bot)
    output = result.stdout + result.stderr
    epochs = set(re.findall(r"Epochs: 100%\|[^|]*\| (\d+)/\1", output))
    assert epochs == {"5"}, f"params.yaml says 5 epochs, Rasa's default is 300: {epochs}"
    report = few_epochs_bot / "experiments/cross-validation/intent_report.json"
    assert "weighted avg" in json.loads(report.read_text())
    assert git_status(few_epochs_bot) == ""


def test_compare_configs_merges_each_config_with_params(few_epochs_bot):
    project = few_epochs_bot
    other = project / "experiments/wider-ngrams.yml"
    other.parent.mkdir(exist_ok=True)
    other.write_text((project / "config.yml").read_text().replace("max_ngram: 4", "max_ngram: 5"))
    # One training per config (Rasa trains each config once per percentage of data left out).
    run(["make", "compare-configs", f"CONFIGS=config.yml {other}", "PERCENTAGES=50"], project)
    compare = project / "experiments/compare"
    for name in ("config.yml", "wider-ngrams.yml"):
        merged = yaml.safe_load((compare / "configs" / name).read_text())
        diet = next(c for c in merged["pipeline"] if c["name"] == "DIETClassifier")
        assert diet["epochs"] == 5
    assert (compare / "nlu_model_comparison_graph.pdf").stat().st_size > 0
    assert git_status(project) == ""


def test_interactive_starts_from_the_up_to_date_model_and_reaches_its_prompt(few_epochs_bot):
    """The committed model is what the pipeline would train now: Rasa starts from it, without
    training (test_interactive_model.py: without one, Rasa trains first). Rasa's interactive mode
    keeps its server up after EOF at the first prompt: stop it then."""
    process = subprocess.Popen(
        ["make", "interactive"],
        cwd=few_epochs_bot,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines, deadline = [], time.monotonic() + 900
    try:
        for line in process.stdout:
            lines.append(line)
            if "EOFError" in line or time.monotonic() > deadline:
                break
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
    output = "".join(lines)
    assert "models/model.tar.gz is up to date: interactive learning starts from it" in output
    assert "rasa interactive --model models/model.tar.gz --config experiments/config.yml" in output
    assert "Epochs:" not in output and "Starting to train" not in output, output[-2000:]
    assert "_enter_user_message" in output and "EOFError" in output, output[-2000:]
    assert git_status(few_epochs_bot) == ""
