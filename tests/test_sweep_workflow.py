"""The generated sweep workflow (.github/workflows/sweep.yml): read statically for every DVC
remote, and run job by job in the step runner.

The plan job runs on a rendered project (no training): the matrix is built from the input, and a
malformed or oversized sweep is refused before any experiment job exists. The e2e scenario runs
the two experiment jobs of a sweep on clones of the few-epochs bot, each pushing its experiment
to a bare "GitHub" repository with `dvc exp push`, then the compare job pulls them back and
writes the comparison to the job summary and the artifact.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from support import (
    LEFTOVER_JINJA,
    OPTIONS,
    assert_actions_pinned,
    bake_without_hooks,
    git,
    run,
    share_environments,
    shellcheck_run_steps,
    tool,
)
from support.workflow_runner import Event, run_job

REPOSITORY = "acme/support-bot"
TELEMETRY_OFF = {
    "DVC_NO_ANALYTICS": "1",
    "ITERATIVE_DO_NOT_TRACK": "true",
    "RASA_TELEMETRY_ENABLED": "false",
}
PERMISSIONS = {"plan": {"contents": "read"}, "experiment": {"contents": "write"}}
PERMISSIONS["compare"] = {"contents": "read"}
# The only expressions env/with/matrix may hold, each whole: the dispatch's inputs go through
# env: and are checked by the plan job before anything else reads them.
TRUSTED_EXPRESSION = re.compile(
    r" (?:secrets\.[A-Z][A-Z0-9_]*|inputs\.(?:sweep|metric)"
    r"|steps\.[a-z][\w-]*\.outputs\.[a-z][\w-]*|needs\.plan\.outputs\.[a-z]+"
    r"|toJSON\(matrix\.overrides\)|fromJSON\(needs\.plan\.outputs\.experiments\)"
    r"|runner\.os|github\.sha|github\.token|github\.workflow|github\.ref) "
)
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}")


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory):
    """dvc_remote -> the rendered sweep.yml (a copy), one per remote; the workflow does not
    depend on the runner or image options (checked on one remote)."""
    root = tmp_path_factory.mktemp("sweeps")
    files = {}
    for remote in OPTIONS["dvc_remote"]:
        project = bake_without_hooks(root / remote, {"dvc_remote": remote, "ci_provider": "github"})
        files[remote] = shutil.copy(project / ".github/workflows/sweep.yml", root / f"{remote}.yml")
    for runner in OPTIONS["cml_runner"]:
        config = {"cml_runner": runner, "cml_publish_images": "yes", "ci_provider": "github"}
        project = bake_without_hooks(root / f"runner-{runner}", config)
        text = (project / ".github/workflows/sweep.yml").read_text()
        assert text == (root / "local.yml").read_text(), runner
    return {remote: root / f"{remote}.yml" for remote in files}


def load(path):
    return yaml.safe_load(path.read_text())


# --- static ------------------------------------------------------------------------------------


def test_sweep_workflows_match_githubs_schema(sweeps):
    result = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows"]
        + [str(p) for p in sweeps.values()],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("persona", ["regular", "auditor"])
def test_zizmor_finds_nothing(sweeps, persona):
    result = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", f"--persona={persona}", "--format=json"]
        + [str(p) for p in sweeps.values()],
        capture_output=True,
        text=True,
    )
    findings = sorted({f"{f['ident']}: {f['desc']}" for f in json.loads(result.stdout)})
    assert findings == [], findings


def test_shellcheck_finds_nothing_in_the_run_scripts(sweeps, tmp_path):
    result, scripts = shellcheck_run_steps([load(p) for p in sweeps.values()], tmp_path)
    assert scripts >= 6
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("remote", OPTIONS["dvc_remote"])
def test_sweep_workflow_is_hardened(sweeps, remote):
    text = sweeps[remote].read_text()
    assert not LEFTOVER_JINJA.search(text)
    assert "\n\n\n" not in text and not text.startswith("\n")
    workflow = yaml.safe_load(text)
    assert list(workflow[True]) == ["workflow_dispatch"]  # YAML 1.1 reads `on` as True
    assert workflow["permissions"] == {} and workflow["env"] == TELEMETRY_OFF
    assert_actions_pinned(text)
    for job_id, job in workflow["jobs"].items():
        assert job["permissions"] == PERMISSIONS[job_id]
        assert 0 < job["timeout-minutes"] <= 60
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), step.get("name")
            if "actions/checkout" in step.get("uses", ""):
                assert step["with"]["persist-credentials"] is False
            for value in [*(step.get("env") or {}).values(), *(step.get("with") or {}).values()]:
                for expression in EXPRESSION.findall(str(value)):
                    assert TRUSTED_EXPRESSION.fullmatch(expression), expression
    secrets = set(re.findall(r"secrets\.([A-Z_]+)", text))
    assert ("environment" in workflow["jobs"]["experiment"]) == bool(secrets)
    matrix = workflow["jobs"]["experiment"]["strategy"]
    assert matrix["fail-fast"] is False
    assert "--max 8" in workflow["jobs"]["plan"]["steps"][-1]["run"]


# --- the plan job, run ---------------------------------------------------------------------------


def dispatch(sha="0" * 40):
    return Event("workflow_dispatch", "refs/heads/main", sha, {"inputs": {}})


def local_actions(bin_dir=None, artifacts=None, uv_cache=None):
    def checkout(step, env):
        assert step["with"] == {"persist-credentials": False}

    def setup_python(step, env):
        assert str(step["with"]["python-version"]) == "3.10"
        found = sorted(Path.home().glob(".pyenv/versions/3.10*/bin"))
        with open(env["GITHUB_PATH"], "a") as path_file:
            path_file.write(f"{found[-1]}\n")

    def setup_uv(step, env):
        folder = bin_dir / "uv"
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / "uv").exists():
            (folder / "uv").symlink_to(shutil.which("uv"))
        with open(env["GITHUB_PATH"], "a") as path_file:
            path_file.write(f"{folder}\n")
        with open(env["GITHUB_ENV"], "a") as env_file:
            env_file.write(f"UV_CACHE_DIR={uv_cache}\n")

    def cache_restore(step, env):
        return f"Cache not found for input keys: {step['with']['key']}"

    def upload_artifact(step, env):
        assert step["with"]["overwrite"] is True
        source = Path(env["GITHUB_WORKSPACE"]) / step["with"]["path"]
        assert source.is_dir() or step["with"]["if-no-files-found"] == "warn"
        if source.is_dir():
            shutil.copytree(source, artifacts / step["with"]["name"])

    return {
        "actions/checkout": checkout,
        "actions/setup-python": setup_python,
        "astral-sh/setup-uv": setup_uv,
        "actions/cache/restore": cache_restore,
        "actions/upload-artifact": upload_artifact,
    }


@pytest.fixture(scope="module")
def rendered_project(tmp_path_factory):
    return bake_without_hooks(tmp_path_factory.mktemp("plan"), {"ci_provider": "github"})


def plan(project, tmp_path, sweep, metric="metrics/nlu.json:weighted_f1"):
    workflow = load(project / ".github/workflows/sweep.yml")
    return run_job(
        workflow,
        "plan",
        project,
        dispatch(),
        tmp_path / "runner",
        local_actions(),
        inputs={"sweep": sweep, "metric": metric},
    )


def test_plan_builds_the_matrix_from_the_input(rendered_project, tmp_path):
    result = plan(rendered_project, tmp_path, "train.TEDPolicy.epochs=choice(2,3) split.seed=7")
    assert result.succeeded, result.steps[-1].output
    assert json.loads(result.outputs["experiments"]) == [
        ["train.TEDPolicy.epochs=2", "split.seed=7"],
        ["train.TEDPolicy.epochs=3", "split.seed=7"],
    ]
    assert result.outputs["prefix"] == "sweep-4242-"


@pytest.mark.parametrize(
    "sweep, metric, error",
    [
        ("train.TEDPolicy.epochs=choice(1,2,3) split.seed=range(0,3)", None, "9 experiments"),
        ("train.TEDPolicy.epochs=$(curl evil)", None, "plain number or word"),
        ("train.TEDPolicy.epochs", None, "is not key=value"),
        ("", None, "nothing to sweep"),
        ("split.seed=1", "metrics/nlu.json:x;rm", "is not file:key"),
    ],
)
def test_plan_refuses_a_malformed_or_oversized_sweep(
    rendered_project, tmp_path, sweep, metric, error
):
    result = plan(rendered_project, tmp_path, sweep, metric or "metrics/nlu.json:weighted_f1")
    step = result.steps[-1]
    assert step.outcome == "failure"
    errors = [line for line in step.output.splitlines() if line.startswith("ERROR: ")]
    assert len(errors) == 1 and error in errors[0], step.output
    assert "experiments" not in result.outputs or not result.outputs["experiments"]


# --- the experiment and compare jobs, run (real DVC, real Rasa, few epochs) --------------------


@pytest.mark.e2e
def test_each_experiment_is_pushed_and_the_compare_job_summarizes_them(few_epochs_bot, tmp_path):
    origin = tmp_path / "origin.git"
    run(["git", "clone", "--quiet", "--bare", str(few_epochs_bot), str(origin)], tmp_path)
    workflow = load(few_epochs_bot / ".github/workflows/sweep.yml")
    uv_cache = run(["uv", "cache", "dir"], tmp_path).stdout.strip()
    event = dispatch(git(few_epochs_bot, "rev-parse", "HEAD"))  # the commit the sweep starts from
    inputs = {
        "sweep": "train.TEDPolicy.max_history=choice(2,3)",
        "metric": "metrics/core.json:action_f1",
    }

    def workspace(name):
        """A runner's checkout, with the bot's environments linked: `make install` checks them."""
        folder = tmp_path / name
        run(["git", "clone", "--quiet", str(origin), str(folder)], tmp_path)
        share_environments(few_epochs_bot, folder)
        return folder

    planned = run_job(
        workflow,
        "plan",
        workspace("plan"),
        event,
        tmp_path / "r-plan",
        local_actions(),
        inputs=inputs,
    )
    assert planned.succeeded
    needs = {"plan": {"result": "success", "outputs": planned.outputs}}
    matrix = json.loads(planned.outputs["experiments"])
    assert len(matrix) == 2
    names = []
    for index, overrides in enumerate(matrix):
        job = run_job(
            workflow,
            "experiment",
            workspace(f"exp-{index}"),
            event,
            tmp_path / f"r-{index}",
            local_actions(tmp_path / "bin", uv_cache=uv_cache),
            inputs=inputs,
            needs=needs,
            matrix={"overrides": overrides},
        )
        assert job.succeeded, "\n".join(s.output[-3000:] for s in job.steps)
        names.append(job.step("Run this experiment").outputs["name"])
    pushed = git(origin, "for-each-ref", "--format=%(refname)", "refs/exps")
    assert sorted(ref.rsplit("/", 1)[-1] for ref in pushed.splitlines()) == sorted(names)
    assert all(name.startswith("sweep-4242-") for name in names)

    needs["experiment"] = {"result": "success", "outputs": {}}
    compare = run_job(
        workflow,
        "compare",
        workspace("compare"),
        event,
        tmp_path / "r-compare",
        local_actions(tmp_path / "bin", tmp_path / "artifacts", uv_cache),
        inputs=inputs,
        needs=needs,
    )
    assert compare.succeeded, "\n".join(s.output[-3000:] for s in compare.steps)
    rows = [line for line in compare.summary.splitlines() if line.startswith("| sweep-4242-")]
    assert sorted(r.split(" | ")[0][2:] for r in rows) == sorted(names)
    assert all(" | done | " in r for r in rows)
    header = compare.summary.splitlines()[2]
    assert header.startswith("| experiment | status | train.TEDPolicy.max_history | action F1")
    assert (tmp_path / "artifacts/sweep/sweep.md").read_text() in compare.summary
