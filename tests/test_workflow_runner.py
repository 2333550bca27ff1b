"""The workflow runner (tests/support/workflow_runner.py) itself: its expression evaluator, its
replay of GitHub's concurrency rules and the runner environment each step gets, so what the
workflow tests see through it can be trusted."""

from support.workflow_runner import (
    Evaluator,
    Event,
    concurrency_outcome,
    minimal_env,
    run_job,
)


def test_expression_evaluator_follows_githubs_rules():
    """The step runner's evaluator on the cases the workflows use, so its answers can be trusted."""
    contexts = {"vars": {"GPU": "", "SPOT": "true"}, "github": {"event_name": "Push"}}
    evaluate = Evaluator(contexts).evaluate
    assert evaluate("vars.GPU || 'nogpu'") == "nogpu"
    assert evaluate("vars.SPOT || 'false'") == "true"
    assert evaluate("vars.MISSING") is None
    assert evaluate("github.event_name == 'push'") is True  # case-insensitive, like GitHub
    assert evaluate("!(github.event_name == 'push') && true") is False
    assert evaluate("format('origin/{0}', 'main')") == "origin/main"


def test_concurrency_replay_follows_githubs_rules():
    """One fixed group without cancel-in-progress: the second run waits, the third replaces it."""
    workflow = {"name": "w", "concurrency": {"group": "one", "cancel-in-progress": False}}
    runs = [(Event("push", "refs/heads/main", str(n)), str(n)) for n in range(3)]
    assert concurrency_outcome(workflow, runs) == ["completed", "cancelled", "completed"]
    workflow["concurrency"]["cancel-in-progress"] = True
    assert concurrency_outcome(workflow, runs) == ["cancelled", "cancelled", "completed"]


def test_each_step_gets_a_runners_environment_not_the_test_process(tmp_path):
    """Nothing of the test process leaks into a step: PATH, telemetry switches, HOME."""
    workflow = {
        "jobs": {
            "j": {
                "runs-on": "ubuntu-latest",
                "steps": [{"run": "env > env.txt"}, {"uses": "acme/tool@v1"}],
            }
        },
    }

    def tool(step, env):
        with open(env["GITHUB_PATH"], "a") as path_file:
            path_file.write("/opt/acme\n")

    job = run_job(
        workflow,
        "j",
        tmp_path / "work",
        Event("push", "refs/heads/main", "0" * 40),
        tmp_path / "runner",
        {"acme/tool": tool},
    )
    assert job.succeeded
    seen = dict(
        line.split("=", 1)
        for line in (tmp_path / "work/env.txt").read_text().splitlines()
        if "=" in line
    )
    assert seen["PATH"] == minimal_env(tmp_path / "runner")["PATH"]
    assert seen["HOME"] == str(tmp_path / "runner/home")
    for leaked in (
        "DVC_NO_ANALYTICS",
        "RASA_TELEMETRY_ENABLED",
        "ITERATIVE_DO_NOT_TRACK",
        "VIRTUAL_ENV",
    ):
        assert leaked not in seen, leaked


def one_job(steps, **job):
    return {"jobs": {"j": {"runs-on": "ubuntu-latest", "steps": steps, **job}}}


def test_fromjson_and_hashfiles_follow_githubs_rules(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data/a.yml").write_text("a")
    contexts = {"vars": {"LIMIT": "90"}, "github": {"workspace": str(tmp_path)}}
    evaluate = Evaluator(contexts).evaluate
    assert evaluate("fromJSON(vars.LIMIT || '60')") == 90
    assert evaluate("fromJSON(vars.MISSING || '60')") == 60
    before = evaluate("hashFiles('config.yml', 'data/**')")
    assert len(before) == 64 and evaluate("hashFiles('nothing/**')") == ""
    (tmp_path / "config.yml").write_text("c")
    assert evaluate("hashFiles('config.yml', 'data/**')") not in ("", before)


def test_the_jobs_time_limit_stops_it_and_later_steps_do_not_run(tmp_path):
    """GitHub kills a job at timeout-minutes (evaluated from a variable here); a step that
    would have run afterwards, always() or not, is not counted on."""
    workflow = one_job(
        [
            {"name": "slow", "run": "sleep 30 & wait"},
            {"name": "after", "if": "always()", "run": "touch after"},
        ],
        **{"timeout-minutes": "${{ fromJSON(vars.LIMIT || '60') }}"},
    )
    job = run_job(
        workflow,
        "j",
        tmp_path / "work",
        Event("push", "refs/heads/main", "0" * 40),
        tmp_path / "runner",
        {},
        variables={"LIMIT": "0.02"},
    )
    assert job.timeout_minutes == 0.02 and job.timed_out and not job.succeeded
    assert "exceeded the maximum execution time of 0.02 minutes" in job.steps[-1].output
    assert job.ran() == ["slow"] and job.steps[-1].seconds < 5
    assert not (tmp_path / "work/after").exists()


def test_github_env_may_not_set_a_name_the_job_env_sets(tmp_path):
    workflow = one_job(
        [{"run": 'echo "MODE=late" >> "$GITHUB_ENV"'}, {"run": 'echo "$MODE" > mode'}],
        env={"MODE": "job"},
    )
    job = run_job(
        workflow,
        "j",
        tmp_path / "work",
        Event("push", "refs/heads/main", "0" * 40),
        tmp_path / "runner",
        {},
    )
    assert not job.succeeded and "GITHUB_ENV sets ['MODE']" in job.steps[0].output
