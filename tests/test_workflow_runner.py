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
