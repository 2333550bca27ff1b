"""pipeline/sweep.py and the experiment plumbing (scripts/bot-python.sh, pipeline/rasa_cache.py).

The grid and its refusals are plain functions. The rest runs real DVC experiments (queued, in
parallel, --temp) on a made-up pipeline of shell and Python one-liners, so each case takes
seconds: the stage finds the bot environment and Rasa's cache through scripts/bot-python.sh
exactly as the real stages do.
"""

import fcntl
import itertools
import json
import re
import shutil
import subprocess
import sys
import time

import pytest
import yaml
from conftest import DVC, ROOT

from pipeline import sweep

SCORE = (
    "import json, os, sys, yaml; p = yaml.safe_load(open('params.yaml'))['model']; "
    "os.makedirs('metrics', exist_ok=True); "
    "assert p['epochs'] > 0, 'epochs must be positive'; "
    "json.dump({'weighted_f1': p['epochs'] / 10, 'python': sys.executable, "
    "'cache': os.environ['RASA_CACHE_DIRECTORY']}, open('metrics/nlu.json', 'w'))"
)
DVC_YAML = {
    "stages": {
        "score": {
            "cmd": f'sh scripts/bot-python.sh -c "{SCORE}"',
            "params": ["model"],
            "metrics": [{"metrics/nlu.json": {"cache": False}}],
        }
    },
}


# --- the grid ----------------------------------------------------------------------------------


def test_grid_is_every_combination_in_dvc_override_syntax():
    assert sweep.grid(["a.b=choice(1,2)", "c=range(3,9,3)", "d=x"]) == [
        ["a.b=1", "c=3", "d=x"],
        ["a.b=1", "c=6", "d=x"],
        ["a.b=2", "c=3", "d=x"],
        ["a.b=2", "c=6", "d=x"],
    ]


def test_keys_may_name_a_second_component_and_list_items():
    assert sweep.grid(["train.DIETClassifier#2.epochs=5", "gate.metrics[0]=x"]) == [
        ["train.DIETClassifier#2.epochs=5", "gate.metrics[0]=x"]
    ]


@pytest.mark.parametrize(
    "override, message",
    [
        ("epochs", "is not key=value"),
        ("a b=1", "is not key=value"),
        ("a=$(touch x)", "plain number or word"),
        ("a=choice(1,$HOME)", "choice() takes plain values"),
        ("a=range(1)", "range() takes 2 or 3 integers"),
        ("a=range(5,1)", "the range is empty"),
        ("a=interval(0,1)", "plain number or word"),
    ],
)
def test_malformed_overrides_are_refused(override, message):
    with pytest.raises(sweep.SweepError, match=re.escape(message)):
        sweep.grid([override])


def test_a_key_given_twice_and_an_empty_sweep_are_refused():
    with pytest.raises(sweep.SweepError, match="a given twice"):
        sweep.grid(["a=1", "a=choice(2,3)"])
    with pytest.raises(sweep.SweepError, match="nothing to sweep"):
        sweep.grid([])


def test_plan_prints_the_matrix_and_refuses_more_than_max(capsys):
    assert sweep.main(["plan", "--max", "4", "a=choice(1,2)", "b=choice(3,4)"]) == 0
    assert json.loads(capsys.readouterr().out) == [
        ["a=1", "b=3"],
        ["a=1", "b=4"],
        ["a=2", "b=3"],
        ["a=2", "b=4"],
    ]
    assert sweep.main(["plan", "--max", "3", "a=choice(1,2)", "b=choice(3,4)"]) == 2
    out = capsys.readouterr().out
    assert out.startswith("ERROR: the sweep has 4 experiments, more than 3")
    assert out.count("\n") == 1 and out.endswith("\n")


def test_a_key_params_yaml_lacks_is_refused(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("train:\n  TEDPolicy:\n    epochs: 5\nlist: [1, 2]\n")
    sweep.check_keys(["train.TEDPolicy.epochs=choice(1,2)", "list[1]=3"], params)
    for key in ("train.TEDPolicy.epoch", "list[2]", "train.TEDPolicy.epochs.x"):
        with pytest.raises(sweep.SweepError, match=re.escape(f"{key} is not in {params}")):
            sweep.check_keys([f"{key}=1"], params)


def test_plan_checks_keys_and_metric_on_request(tmp_path, capsys):
    params = tmp_path / "params.yaml"
    params.write_text("split:\n  seed: 1\n")
    args = ["plan", "--check-keys", "--params", str(params)]
    assert sweep.main([*args, "split.seed=choice(1,2)"]) == 0
    assert sweep.main([*args, "split.sede=choice(1,2)"]) == 2
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"ERROR: split.sede is not in {params}: sweep a key it holds"
    )
    assert sweep.main(["plan", "--metric", "nlu.json:f1 x", "split.seed=1"]) == 2
    assert "is not file:key" in capsys.readouterr().out


def test_show_keeps_only_the_experiments_named_with_the_prefix():
    shown = [
        {"rev": "workspace"},
        {
            "rev": "abc1234",
            "name": "main",
            "data": {},
            "experiments": [
                {"name": name, "executor": None, "revs": [{"rev": rev, "data": {"rev": rev}}]}
                for name, rev in (("sweep-1-a", "r1"), ("other", "r2"))
            ],
        },
    ]
    names = [r["name"] for r in sweep.rows(json.dumps(shown), prefix="sweep-1-")]
    assert names == ["sweep-1-a", "main (baseline)"]


# --- real experiments on a made-up pipeline ------------------------------------------------------


def dvc(project, *args):
    done = subprocess.run(
        [str(DVC), *args], cwd=project, capture_output=True, text=True, env=sweep.dvc_env(str(DVC))
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture
def project(tmp_path):
    """A git + DVC repository with one stage that scores params.yaml's model.epochs, and this
    project's bot environment as its .venv."""
    root = tmp_path / "bot"
    (root / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts/bot-python.sh", root / "scripts")
    (root / ".venv").symlink_to(ROOT / ".venv")
    (root / "dvc.yaml").write_text(yaml.safe_dump(DVC_YAML, sort_keys=False))
    (root / "params.yaml").write_text("model:\n  epochs: 5\n")
    (root / ".gitignore").write_text(".venv\nexperiments/\n")
    subprocess.run(["git", "init", "--quiet", "-b", "main"], cwd=root, check=True)
    dvc(root, "init", "--quiet")
    dvc(root, "repro")
    subprocess.run(["git", "add", "--all"], cwd=root, check=True)
    subprocess.run(["git", "commit", "--quiet", "-m", "score"], cwd=root, check=True)
    return root


def run_sweep(project, *args):
    return subprocess.run(
        [sys.executable, "-m", "pipeline.sweep", *args, "--dvc", str(DVC)],
        cwd=project,
        capture_output=True,
        text=True,
    )


def test_experiments_find_the_project_environment_and_a_sweep_ranks_them_failures_last(project):
    """One --temp experiment, one failing queued one, then a sweep of two run in parallel."""
    dvc(project, "exp", "run", "--temp", "--name", "in-temp", "-S", "model.epochs=3")
    dvc(project, "exp", "run", "--queue", "--name", "broken", "-S", "model.epochs=-1")
    done = run_sweep(project, "run", "--jobs", "2", "model.epochs=choice(2,8)")
    assert done.returncode == 0, done.stdout + done.stderr
    rows = [line.split(" | ") for line in done.stdout.splitlines() if line.startswith("| ")]
    header = ["| experiment", "status", "model.epochs", "intent F1", "action F1", "stories |"]
    assert rows[0] == header
    body = [(r[1], r[2], r[3]) for r in rows[2:]]
    assert [b for b in body if b[0] == "done"] == [
        ("done", "8", "0.8000"),
        ("done", "5", "0.5000"),  # the baseline, the commit the sweep started from
        ("done", "3", "0.3000"),
        ("done", "2", "0.2000"),
    ]
    assert body[-1] == ("failed: dvc queue logs broken", "-", "-"), "never the workspace's 0.5"
    assert (project / "experiments/sweep.md").read_text() in done.stdout
    assert (project / "experiments/sweep.png").stat().st_size > 0

    shown = sweep.rows(dvc(project, "exp", "show", "--json"))
    done_rows = [r for r in shown if r["status"] == "done"]
    finished = [r["metrics"] for r in done_rows if "baseline" not in r["name"]]
    assert len(finished) == 3
    for metrics in finished:  # run in DVC's copies under .dvc/tmp/exps/, with the project's own
        assert metrics["metrics/nlu.json:python"] == str(project / ".venv/bin/python")
        assert metrics["metrics/nlu.json:cache"] == str(project / ".rasa/cache")


def test_without_a_bot_environment_the_stage_says_what_to_do(tmp_path):
    shutil.copytree(ROOT / "scripts", tmp_path / "scripts")
    done = subprocess.run(
        ["sh", "scripts/bot-python.sh", "-c", "pass"], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 127
    expected = f"ERROR: no bot environment in {tmp_path}/.venv: run 'make install' there\n"
    assert done.stderr == expected


def test_trainings_take_turns_on_rasa_cache(tmp_path):
    cache = tmp_path / "cache"
    env = {"RASA_CACHE_DIRECTORY": str(cache), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    with open(tmp_path / "cache.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        waiting = subprocess.Popen(
            [sys.executable, "-m", "pipeline.rasa_cache", "pipeline.paths"],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(3)
        assert waiting.poll() is None, "it ran while another training held the cache"
    out, _ = waiting.communicate(timeout=30)
    assert waiting.returncode == 0
    assert out == f"Waiting for Rasa's cache: another training holds {tmp_path}/cache.lock\n"


def test_rasa_cache_needs_a_pipeline_module(capsys):
    from pipeline import rasa_cache

    assert rasa_cache.main(["os"]) == 2
    assert capsys.readouterr().out.startswith("ERROR: no module given")


# --- waiting on DVC's queue workers --------------------------------------------------------------

FAKE_DVC = '''#!PYTHON
"""Answers what pipeline.sweep asks DVC, from state.json; a worker is a child process that keeps
the streams it was given, as DVC's daemonized workers do."""
import json, subprocess, sys, time
from pathlib import Path

here = Path(__file__).parent
state = json.loads((here / "state.json").read_text())
args = sys.argv[1:]
with open(here / "calls.log", "a") as log:
    log.write(" ".join(args) + "\\n")
if args[:2] == ["queue", "start"]:
    subprocess.Popen(["sleep", str(state["worker_lives"])])
    state["workers"] = int(args[-1])
    state["state"] = state.get("after_start", state["state"])
    (here / "state.json").write_text(json.dumps(state))
    print("Started workers.")
elif args[:2] == ["queue", "status"]:
    if state.get("succeed_after") is not None:
        state["succeed_after"] -= 1
        state["state"] = "success" if state["succeed_after"] < 0 else state["state"]
        (here / "state.json").write_text(json.dumps(state))
    print("Task     Name   Created    Status")
    print(f"0a1b2c3  tuned  03:16 AM   {state['state'].capitalize()}")
    print()
    print(f"Worker status: {state['workers']} active, 0 idle")
elif args[:2] == ["exp", "show"] and state.get("show_hangs", 0) > 0:
    state["show_hangs"] -= 1
    (here / "state.json").write_text(json.dumps(state))
    time.sleep(60)
elif args[:2] == ["exp", "show"] and state.get("show_fails", 0) > 0:
    state["show_fails"] -= 1
    (here / "state.json").write_text(json.dumps(state))
    sys.exit("ERROR: unexpected error - [Errno 2] No such file or directory: 'x.run'")
elif args[:2] == ["exp", "show"]:
    exp = {"name": "tuned", "executor": {"state": state["state"]}, "revs": [{"rev": "r1"}]}
    print(json.dumps([{"rev": "workspace"}, {"rev": "abc", "experiments": [exp]}]))
'''


def fake_dvc(tmp_path, **state):
    program = tmp_path / "dvc"
    program.write_text(FAKE_DVC.replace("PYTHON", sys.executable, 1))
    program.chmod(0o755)
    (tmp_path / "state.json").write_text(json.dumps({"worker_lives": 30, "workers": 0, **state}))
    return str(program)


def calls(tmp_path):
    return (tmp_path / "calls.log").read_text().splitlines()


def test_starting_workers_does_not_wait_for_them_to_exit(tmp_path):
    dvc = fake_dvc(tmp_path, state="queued")
    began = time.monotonic()
    sweep.start(dvc, 2)
    assert time.monotonic() - began < 10, "waited for a worker that keeps DVC's output stream"


def test_queued_experiments_without_a_worker_get_one_again(tmp_path, capsys):
    dvc = fake_dvc(tmp_path, state="queued", after_start="success")
    sweep.Watch(poll=0.01, restart_after=0.05).wait(dvc, ["tuned"], 2)
    assert calls(tmp_path).count("queue start --jobs 2") == 1
    assert capsys.readouterr().out == "no DVC queue worker left for tuned: starting again\n"


def test_polls_come_sooner_at_first_then_every_poll_seconds(tmp_path):
    """A sweep of short experiments is not kept waiting a whole poll interval for nothing."""
    assert list(itertools.islice(sweep.pauses(1, 10), 7)) == [1, 2, 4, 8, 10, 10, 10]
    assert list(itertools.islice(sweep.pauses(5, 3), 2)) == [3, 3]
    dvc = fake_dvc(tmp_path, state="running", workers=1, succeed_after=5)
    began = time.monotonic()
    sweep.Watch(poll=30, first_poll=0.01).wait(dvc, ["tuned"], 1)
    assert calls(tmp_path).count("queue status") == 6
    assert time.monotonic() - began < 20, "five pauses of 0.01 to 0.16 s, not of 30 s"


def test_a_running_experiment_whose_worker_died_is_an_error_not_an_endless_wait(tmp_path):
    dvc = fake_dvc(tmp_path, state="running")
    with pytest.raises(sweep.SweepError, match=r"tuned did not finish .* 'dvc queue logs <name>'"):
        sweep.Watch(poll=0.01, restart_after=0.05, dead_after=0.1).wait(dvc, ["tuned"], 1)
    assert not [c for c in calls(tmp_path) if c.startswith("queue start")]


@pytest.mark.parametrize(("state", "stopped"), [("success", True), ("running", False)])
def test_idle_workers_are_stopped_once_nothing_is_pending(tmp_path, state, stopped):
    dvc = fake_dvc(tmp_path, state=state, workers=1)
    sweep.stop_idle_workers(dvc)
    assert ("queue stop" in calls(tmp_path)) is stopped


def test_a_failed_exp_show_is_tried_again_before_it_counts(tmp_path):
    """DVC's race with a worker removing a finished experiment's run file (seen in a sweep)."""
    dvc = fake_dvc(tmp_path, state="success", show_fails=2)
    assert "tuned" in sweep.exp_show(dvc, pause=0.01)
    assert calls(tmp_path).count("exp show --json") == 3

    (tmp_path / "worse").mkdir()
    dvc = fake_dvc(tmp_path / "worse", state="success", show_fails=3)
    with pytest.raises(sweep.SweepError, match=r"dvc exp show --json failed: .*No such file"):
        sweep.exp_show(dvc, pause=0.01)


def test_an_exp_show_that_hangs_is_stopped_and_tried_again(tmp_path):
    """DVC's `exp show` once hung for 12 minutes during a sweep; a sweep must not wait forever."""
    dvc = fake_dvc(tmp_path, state="success", show_hangs=1)
    began = time.monotonic()
    assert "tuned" in sweep.exp_show(dvc, pause=0.01, timeout=2)
    assert time.monotonic() - began < 30
    assert calls(tmp_path).count("exp show --json") == 2
