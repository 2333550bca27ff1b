"""The benchmark's report (benchmarks/report.py) judges each headline measurement against its
goal in benchmarks/goals.py, on samples made here (the benchmark itself takes ~15 minutes); the
benchmark stops when a hand-run's figures differ from the pipeline's (benchmarks/equal.py)."""

import json
import sys
from types import SimpleNamespace

import pytest

from support import TEMPLATE

sys.path.insert(0, str(TEMPLATE / "benchmarks"))
import equal  # noqa: E402
import goals  # noqa: E402
import report  # noqa: E402
import run as bench  # noqa: E402
from samples import Run  # noqa: E402


def runs(full_cpu, hand_cpu):
    lines = [(0.0, "Running stage 'train':"), (5.0, "Updating lock file 'dvc.lock'")]
    return {
        "bake": [Run(2.0, 1.5)],
        "install_warm": [Run(20.0, 10.0)],
        "install_noop": [Run(0.1, 0.1)],
        "first_import": [Run(5.0, 4.0)],
        "repro_full": [Run(60.0, full_cpu, lines)],
        "hand": [Run(70.0, hand_cpu)],
        "hand_train": [Run(40.0, hand_cpu / 2)],
        "hand_test": [Run(30.0, hand_cpu / 2)],
        "repro_noop": [Run(1.0, 0.9)],
    }


def row(text, measurement):
    return next(line for line in text.splitlines() if line.startswith(f"| {measurement}"))


@pytest.mark.parametrize(("full_cpu", "met"), [(80.0, "yes"), (90.0, "**no**")])
def test_the_cpu_ratio_is_judged_against_its_goal(full_cpu, met):
    text = report.write(runs(full_cpu, 100.0), {}, {"nproc": 2}, "test", 0.1, 0.2, 60)
    line = row(text, "full repro / by hand")
    assert f"(CPU {full_cpu / 100:.2f}x)" in line
    assert goals.GOALS["full_vs_hand_cpu"].text in line and line.endswith(f"| {met} |")


def test_a_goal_is_data(monkeypatch):
    """Changing a goal in goals.py changes the verdict; the writer holds no limit of its own."""
    monkeypatch.setitem(goals.GOALS, "noop", goals.Goal("<= 0.5 s", 0.5))
    text = report.write(runs(80.0, 100.0), {}, {}, "test", 0.1, 0.2, 60)
    assert row(text, "no-op `dvc repro`").endswith("| <= 0.5 s | **no** |")


def with_helpdesk(full_cpu, hand_cpu):
    lines = [(0.0, "Running stage 'train':"), (9.0, "Updating lock file 'dvc.lock'")]
    found = runs(80.0, 100.0)
    found |= {
        "helpdesk_repro_full": [Run(150.0, full_cpu, lines)],
        "helpdesk_hand": [Run(170.0, hand_cpu)],
        "helpdesk_hand_train": [Run(120.0, hand_cpu * 0.7)],
        "helpdesk_hand_test": [Run(50.0, hand_cpu * 0.3)],
    }
    return found


@pytest.mark.parametrize(("full_cpu", "met"), [(160.0, "yes"), (180.0, "**no**")])
def test_the_helpdesk_bot_is_judged_against_the_same_goal(full_cpu, met):
    text = report.write(with_helpdesk(full_cpu, 200.0), {}, {}, "test", 0.1, 0.2, 60)
    line = row(text, "helpdesk bot (`tests/bots/helpdesk`): full repro / by hand")
    assert f"(CPU {full_cpu / 200:.2f}x)" in line and line.endswith(f"| {met} |")
    assert "Helpdesk bot, per stage of the last full repro: train 9.0 s" in text


def write_figures(project, **changes):
    files = {
        "metrics/nlu.json": {"accuracy": 0.9, "weighted_f1": 0.88, "macro_f1": 0.8, "examples": 60},
        "metrics/core.json": {"action_f1": 0.9532, "conversations_correct": 18},
        "evaluation/intents.json": {"greet": {"f1": 1.0, "support": 4}},
        "evaluation/failed_stories.json": [{"story": "happy path", "file": "tests/t.yml"}],
    }
    for name, value in {**files, **changes}.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(json.dumps(value))
    return project


def test_equal_figures_give_no_difference_and_absent_files_count(tmp_path):
    ours = equal.figures(write_figures(tmp_path / "pipeline"))
    assert ours["metrics/entities.json"] is None  # a bot without entities
    assert equal.differences(ours, equal.figures(write_figures(tmp_path / "hand"))) == []
    extra = write_figures(tmp_path / "extra", **{"metrics/entities.json": {"DIET": {}}})
    assert equal.differences(ours, equal.figures(extra)) == [
        "metrics/entities.json: None vs {'DIET': {}} by hand"
    ]


def test_the_bench_stops_when_a_hand_run_figure_differs(tmp_path):
    project = write_figures(tmp_path / "pipeline")
    hand = write_figures(
        tmp_path / "hand",
        **{"metrics/core.json": {"action_f1": 0.9572, "conversations_correct": 19}},
    )
    runner = bench.Bench(SimpleNamespace(), tmp_path)
    runner.hand_figures[project] = [equal.figures(project)]
    runner.check_equal(project)  # equal: goes on
    runner.hand_figures[project].append(equal.figures(hand))
    with pytest.raises(bench.BenchError) as stopped:
        runner.check_equal(project)
    assert "differ from hand-run 1's" in str(stopped.value)
    assert "metrics/core.json action_f1: 0.9532 vs 0.9572 by hand" in str(stopped.value)
    assert "metrics/core.json conversations_correct: 18 vs 19 by hand" in str(stopped.value)


def test_the_hand_run_trains_on_the_pipeline_s_files_in_its_order():
    train, test = bench.hand_commands(
        "domain", "tests/stories", ["data/rules/a.yml", "data/stories.yml", "split/train.yml"]
    )
    data = train[train.index("--data") + 1 : train.index("--config")]
    assert data == ["data/rules/a.yml", "data/stories.yml", "split/train.yml"]
    assert train[train.index("--domain") + 1] == "domain"
    assert test[test.index("--stories") + 1] == "tests/stories"
    assert test[test.index("--nlu") + 1] == "split/test.yml"
    dvc_yaml = (TEMPLATE / "{{cookiecutter.project_slug}}/dvc.yaml").read_text()
    seed = f"PYTHONHASHSEED={bench.HAND_ENV['PYTHONHASHSEED']} "
    assert dvc_yaml.count(f"cmd: {seed}") == 2  # train and test: the same seed as the hand-run


def test_a_helpdesk_only_run_reports_without_the_default_bot_s_rows():
    """`run.py --skip-default`: bake, installs and the helpdesk bot only."""
    found = with_helpdesk(160.0, 200.0)
    for key in ("repro_full", "hand", "hand_train", "hand_test", "repro_noop"):
        del found[key]
    text = report.write(found, {}, {}, "test", 0.1, 0.2, 60)
    assert row(text, "helpdesk bot (`tests/bots/helpdesk`): full repro / by hand")
    assert "| full repro / by hand" not in text and "no-op `dvc repro`" not in text
    assert "| stage |" not in text and "Helpdesk bot, per stage of the last full repro" in text
