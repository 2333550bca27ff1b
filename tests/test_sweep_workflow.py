"""The generated sweep workflow (.github/workflows/sweep.yml): read statically for every DVC
remote and CML runner, and run job by job in the step runner.

GitHub's schema, zizmor and shellcheck read it in test_workflow_static.py, with cml.yml. The plan
job runs on a rendered project (no training): the matrix is built from the input, and a malformed
or oversized sweep is refused before any experiment job exists. With a cloud runner, the
launch-runners job runs with the CML recorder: one single-use runner per experiment under a label
of the run, or GitHub-hosted runners when REPO_TOKEN is missing. The e2e scenario runs the two
experiment jobs of a sweep on clones of the few-epochs bot, each restoring the Rasa cache main's
CML run saved and pushing its experiment to a bare "GitHub" repository with `dvc exp push`, then
the compare job pulls them back and writes the comparison to the job summary and the artifact.
"""

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from support import (
    LEFTOVER_JINJA,
    WORKFLOW_COMBINATIONS,
    assert_actions_pinned,
    bake_without_hooks,
    cml_recorder,
    combo_id,
    git,
    run,
    share_environments,
)
from support.actions_cache import CacheService
from support.remote_facts import REMOTES, RUNNERS
from support.workflow_runner import Event, run_job

REPOSITORY = "acme/support-bot"
TELEMETRY_OFF = {
    "DVC_NO_ANALYTICS": "1",
    "ITERATIVE_DO_NOT_TRACK": "true",
    "RASA_TELEMETRY_ENABLED": "false",
}
PERMISSIONS = {"plan": {"contents": "read"}, "experiment": {"contents": "write"}}
PERMISSIONS |= {"compare": {"contents": "read"}, "launch-runners": {}}
CLOUDS = [runner for runner, facts in RUNNERS.items() if facts["secrets"]]
CLOUD_SECRETS = {
    "aws": {"AWS_ACCESS_KEY_ID": "AKIA-test", "AWS_SECRET_ACCESS_KEY": "secret-test"},
    "gcp": {"GOOGLE_APPLICATION_CREDENTIALS_DATA": '{"type": "service_account"}'},
    "azure": {
        name: "azure-test"
        for name in (
            "AZURE_CLIENT_ID",
            "AZURE_CLIENT_SECRET",
            "AZURE_SUBSCRIPTION_ID",
            "AZURE_TENANT_ID",
        )
    },
}
# The only expressions env/with/matrix may hold, each whole: the dispatch's inputs go through
# env: and are checked by the plan job before anything else reads them; a repository variable
# (with a literal default) chooses the cloud machine.
TRUSTED_EXPRESSION = re.compile(
    r" (?:secrets\.[A-Z][A-Z0-9_]*|inputs\.(?:sweep|metric)"
    r"|vars\.CML_CLOUD_[A-Z]+(?: \|\| '[\w-]+')?"
    r"|steps\.[a-z][\w-]*\.outputs\.[a-z][\w-]*|needs\.plan\.outputs\.[a-z]+"
    r"|toJSON\(matrix\.overrides\)|fromJSON\(needs\.plan\.outputs\.experiments\)"
    r"|runner\.os|github\.sha|github\.token|github\.workflow|github\.ref) "
)
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}")


@pytest.fixture(scope="module")
def sweeps(rendered):
    """ "<dvc_remote>-<cml_runner>" -> the rendered sweep.yml of every such pair (the copies the
    `rendered` fixture keeps); cml_publish_images does not change it."""
    files = {}
    for combo in WORKFLOW_COMBINATIONS:
        path = rendered[combo_id(combo)].with_name(f"{combo_id(combo)}-sweep.yml")
        key = f"{combo['dvc_remote']}-{combo['cml_runner']}"
        if key in files:
            assert path.read_text() == files[key].read_text(), combo_id(combo)
        files[key] = path
    return files


def load(path):
    return yaml.safe_load(path.read_text())


def secrets_of(job) -> set:
    return set(re.findall(r"secrets\.([A-Z_]+)", json.dumps(job)))


# --- static ------------------------------------------------------------------------------------


def test_sweep_workflow_is_hardened(sweeps):
    for variant, path in sweeps.items():
        text = path.read_text()
        assert not LEFTOVER_JINJA.search(text), variant
        assert "\n\n\n" not in text and not text.startswith("\n"), variant
        workflow = yaml.safe_load(text)
        assert list(workflow[True]) == ["workflow_dispatch"]  # YAML 1.1 reads `on` as True
        assert workflow["permissions"] == {} and workflow["env"] == TELEMETRY_OFF
        assert_actions_pinned(text)
        for job_id, job in workflow["jobs"].items():
            assert job["permissions"] == PERMISSIONS[job_id], (variant, job_id)
            assert 0 < job["timeout-minutes"] <= 60
            for step in job["steps"]:
                assert "${{" not in step.get("run", ""), step.get("name")
                if "actions/checkout" in step.get("uses", ""):
                    assert step["with"]["persist-credentials"] is False
                values = [*(step.get("env") or {}).values(), *(step.get("with") or {}).values()]
                for value in values:
                    for expression in EXPRESSION.findall(str(value)):
                        assert TRUSTED_EXPRESSION.fullmatch(expression), (variant, expression)
        experiment = workflow["jobs"]["experiment"]
        assert ("environment" in experiment) == bool(secrets_of(experiment)), variant
        assert experiment["strategy"]["fail-fast"] is False
        assert "--max 8" in workflow["jobs"]["plan"]["steps"][-1]["run"]


def test_experiments_run_on_one_cloud_runner_each_when_the_bake_chose_one(sweeps):
    for variant, path in sweeps.items():
        workflow = load(path)
        jobs = workflow["jobs"]
        runner = variant.split("-", 1)[1]
        experiment = jobs["experiment"]
        readme = path.with_name(path.name.replace("-sweep.yml", "-README.md")).read_text()
        sweep_paragraph = readme.split("**Sweeps across machines**", 1)[1].split("\n\n", 1)[0]
        cloud_note = f"Each experiment runs on a cloud runner on {RUNNERS[runner]['cloud_name']},"
        assert (cloud_note in sweep_paragraph) == (runner != "github-hosted"), variant
        if runner == "github-hosted":
            assert list(jobs) == ["plan", "experiment", "compare"], variant
            assert experiment["runs-on"] == "ubuntu-latest" and experiment["needs"] == "plan"
            continue
        assert list(jobs) == ["plan", "launch-runners", "experiment", "compare"], variant
        launch = jobs["launch-runners"]
        # One launch per experiment: the same matrix, so never fewer runners than jobs.
        assert launch["strategy"]["matrix"] == experiment["strategy"]["matrix"]
        assert launch["needs"] == "plan" and launch["runs-on"] == "ubuntu-latest"
        assert launch["environment"] == "cml-runner"
        assert secrets_of(launch) == set(RUNNERS[runner]["secrets"])
        assert experiment["needs"] == ["plan", "launch-runners"]
        assert experiment["runs-on"] == "${{ needs.launch-runners.outputs.runs-on }}"
        # The runner's secrets stay in the launch job: an experiment gets the DVC remote's only.
        assert secrets_of(experiment) == set(REMOTES[variant.split("-")[0]]["secrets"])
        # The comparison trains nothing: it stays on GitHub's runner.
        assert jobs["compare"]["runs-on"] == "ubuntu-latest" and jobs["plan"]["runs-on"] == (
            "ubuntu-latest"
        )


# --- the launch-runners job, run with the CML recorder -----------------------------------------


def launch_runners(workflow, tmp_path, secrets, variables=None):
    log = tmp_path / "cml.jsonl"

    def setup_cml(step, env):
        assert step["with"] == {"version": cml_recorder.CML_VERSION, "vega": False}
        cml_recorder.install(tmp_path / "bin", log)
        with open(env["GITHUB_PATH"], "a") as path_file:
            path_file.write(f"{tmp_path / 'bin'}\n")

    needs = {"plan": {"result": "success", "outputs": {"experiments": "[]", "prefix": "p-"}}}
    job = run_job(
        workflow,
        "launch-runners",
        tmp_path / "work",
        dispatch(),
        tmp_path / "runner",
        {"iterative/setup-cml": setup_cml},
        secrets=secrets,
        variables=variables or {},
        needs=needs,
        matrix={"overrides": ["split.seed=1"]},
    )
    return job, cml_recorder.calls(log)


@pytest.mark.parametrize("cloud", CLOUDS)
def test_launch_runners_starts_a_single_use_runner_under_the_run_s_own_label(
    sweeps, tmp_path, cloud
):
    workflow = load(sweeps[f"s3-{cloud}"])
    secrets = {"REPO_TOKEN": "ghp_test", **CLOUD_SECRETS[cloud]}
    variables = {"CML_CLOUD_SPOT": "true", "CML_CLOUD_TYPE": "xl"}
    job, calls = launch_runners(workflow, tmp_path, secrets, variables)
    assert job.succeeded, [(s.name, s.output) for s in job.steps]
    [call] = calls
    options = call["options"]
    assert call["command"] == "runner launch" and options["cloud"] == cloud
    assert options["labels"] == "cml-sweep-4242" == job.outputs["runs-on"]
    assert options["single"] is True and options["idle-timeout"] == "10min"
    assert options["repo"] == f"https://github.com/{REPOSITORY}"
    assert options["cloud-type"] == "xl" and options["cloud-spot"] is True
    assert options["cloud-region"] == "us-west" and "cloud-gpu" not in options
    assert set(call["credentials"]) == set(secrets) and call["telemetry_off"]
    experiment = run_job(
        workflow,
        "experiment",
        tmp_path / "exp",
        dispatch(),
        tmp_path / "exp-runner",
        {},
        needs={
            "plan": {"result": "success", "outputs": {}},
            "launch-runners": {"result": "success", "outputs": job.outputs},
        },
        stop_before="uses actions/checkout",
    )
    assert experiment.runs_on == "cml-sweep-4242"


@pytest.mark.parametrize("cloud", CLOUDS)
def test_without_repo_token_the_experiments_run_on_github_hosted_runners(sweeps, tmp_path, cloud):
    workflow = load(sweeps[f"local-{cloud}"])
    job, calls = launch_runners(workflow, tmp_path, secrets=CLOUD_SECRETS[cloud])
    assert job.succeeded, [(s.name, s.output) for s in job.steps]
    assert calls == [] and job.outputs["runs-on"] == "ubuntu-latest"
    assert "no `REPO_TOKEN`" in job.summary and "GitHub-hosted runners" in job.summary


# --- the plan job, run ---------------------------------------------------------------------------


def dispatch(sha="0" * 40):
    return Event("workflow_dispatch", "refs/heads/main", sha, {"inputs": {}})


def local_actions(bin_dir=None, artifacts=None, uv_cache=None, cache=None):
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
        if cache is None:
            return f"Cache not found for input keys: {step['with']['key']}"
        return cache.restore(Path(env["GITHUB_WORKSPACE"]), step, env)

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
    # What CML's run on main saved (cml.yml's "Save Rasa" step): the bot's Rasa component cache.
    cache = CacheService(tmp_path / "actions-cache")
    saved = {"with": {"key": "rasa-cache-Linux-main", "path": ".rasa/cache"}}
    cache.save(few_epochs_bot, saved, {"GITHUB_REF": "refs/heads/main"})
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
            local_actions(tmp_path / "bin", uv_cache=uv_cache, cache=cache),
            inputs=inputs,
            needs=needs,
            matrix={"overrides": overrides},
        )
        assert job.succeeded, "\n".join(s.output[-3000:] for s in job.steps)
        assert "Cache restored from key: rasa-cache-Linux-main" in job.step("Restore Rasa").output
        experiment = job.step("Run this experiment")
        # TED may come from the cache too: an earlier experiment on the bot tried max_history=2.
        output = experiment.output
        assert "Restored component 'DIETClassifier' from cache." in output, output[-3000:]
        assert "Starting to train component 'DIETClassifier'" not in output
        names.append(experiment.outputs["name"])
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
