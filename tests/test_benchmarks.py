"""The benchmark's report (benchmarks/report.py) judges each headline measurement against its
goal in benchmarks/goals.py, on samples made here (the benchmark itself takes ~15 minutes)."""

import sys

import pytest

from support import TEMPLATE

sys.path.insert(0, str(TEMPLATE / "benchmarks"))
import goals  # noqa: E402
import report  # noqa: E402
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
