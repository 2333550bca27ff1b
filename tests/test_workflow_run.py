"""The generated CML workflow, run: its steps execute in order in a baked bot, as on GitHub.

workflow_runner.run_job reads the workflow and runs each `run:` step with GitHub's environment;
`uses:` steps get their local equivalent (the repository is already checked out, uv and Python
are on PATH, setup-cml puts the CML recorder on PATH as `cml`). Everything else is real: make,
DVC, Rasa, the report and the gate. The recorder refuses what CML 0.20.6 would refuse.

The end-to-end scenario shares the session's trained default bot (100 epochs) as `main`:
  1. a push to main, the first trained commit: pulls the model instead of training, reports
     "no baseline", pushes, passes the gate;
  2. a pull request that halves the NLU data and cuts the epochs: trains in CI, comments once,
     fails the gate;
  3. that change merged anyway, then a pull request restoring the data and epochs: pulls the
     earlier model from the DVC remote instead of training, comments once, passes the gate.
"""

import re
import shutil
import time
from pathlib import Path

import pytest
import yaml

import cml_recorder
from conftest import git, run
from test_workflow_static import rendered  # noqa: F401  (session fixture: every rendered workflow)
from workflow_runner import Event, run_job

REPOSITORY = "acme/support-bot"
CLOUD_SECRETS = {
    "aws": {"AWS_ACCESS_KEY_ID": "AKIATEST", "AWS_SECRET_ACCESS_KEY": "test-secret"},
    "gcp": {"GOOGLE_APPLICATION_CREDENTIALS_DATA": '{"type": "service_account"}'},
    "azure": {
        "AZURE_CLIENT_ID": "id",
        "AZURE_CLIENT_SECRET": "secret",
        "AZURE_SUBSCRIPTION_ID": "subscription",
        "AZURE_TENANT_ID": "tenant",
    },
}
WATERMARK = "Model report"


def pull_request_event(number, branch, sha, head_repo=REPOSITORY):
    payload = {
        "number": number,
        "pull_request": {
            "number": number,
            "head": {"ref": branch, "sha": sha, "repo": {"full_name": head_repo}},
            "base": {"ref": "main", "repo": {"full_name": REPOSITORY}},
        },
    }
    return Event(
        "pull_request", f"refs/pull/{number}/merge", sha, payload, base_ref="main", head_ref=branch
    )


def local_actions(workspace, bin_dir, log):
    """What each pinned action does on GitHub, done here (or checked to be done already)."""

    def checkout(step, env):
        assert step["with"] == {"fetch-depth": 0, "persist-credentials": False}
        base = env.get("GITHUB_BASE_REF")
        if base:  # the report diffs against the base branch: full history must be there
            git(workspace, "rev-parse", "--verify", f"origin/{base}")

    def setup_python(step, env):
        assert str(step["with"]["python-version"]) == "3.10"

    def setup_uv(step, env):
        assert shutil.which("uv", path=env["PATH"]), "uv must be on PATH (setup-uv)"

    def setup_cml(step, env):
        cml_recorder.install(bin_dir, log)
        return [bin_dir]

    return {
        "actions/checkout": checkout,
        "actions/setup-python": setup_python,
        "astral-sh/setup-uv": setup_uv,
        "iterative/setup-cml": setup_cml,
    }


# --- the launch-runner job, for every cloud (fast: only the recorder runs) -------------------


def launch_runner(workflow, tmp_path, log, secrets, variables=None):
    """Run the `launch-runner` job of a pull request with the given secrets and variables."""
    return run_job(
        workflow,
        "launch-runner",
        tmp_path / "work",
        pull_request_event(1, "feature", "0" * 40),
        tmp_path / "runner",
        local_actions(tmp_path, tmp_path / "bin", log),
        secrets=secrets,
        variables=variables or {},
    )


@pytest.mark.parametrize("cloud", ["aws", "gcp", "azure"])
@pytest.mark.parametrize(
    "variables",
    [{}, {"CML_CLOUD_GPU": "v100", "CML_CLOUD_SPOT": "true", "CML_CLOUD_TYPE": "xl"}],
    ids=["defaults", "gpu-spot"],
)
def test_launch_runner_job_calls_cml_runner_launch_correctly(rendered, tmp_path, cloud, variables):  # noqa: F811
    workflow = yaml.safe_load(rendered[f"s3-{cloud}-no"].read_text())
    log = tmp_path / "cml.jsonl"
    secrets = {"REPO_TOKEN": "ghp_test", **CLOUD_SECRETS[cloud]}
    job = launch_runner(workflow, tmp_path, log, secrets, variables)
    assert job.succeeded, [(s.name, s.output) for s in job.steps]
    [call] = cml_recorder.calls(log)
    options = call["options"]
    assert call["command"] == "runner launch"
    assert options["cloud"] == cloud
    assert options["labels"] == workflow["jobs"]["train-report-gate"]["runs-on"][1]
    assert options["single"] is True and options["idle-timeout"] == "10min"
    assert options["repo"] == f"https://github.com/{REPOSITORY}"
    assert options["cloud-region"] == "us-west"
    assert options["cloud-type"] == variables.get("CML_CLOUD_TYPE", "m")
    assert options.get("cloud-gpu") == variables.get("CML_CLOUD_GPU")
    assert options.get("cloud-spot", False) is bool(variables.get("CML_CLOUD_SPOT"))
    assert set(call["credentials"]) == set(secrets)
    assert call["telemetry_off"]


def test_launch_runner_without_cloud_credentials_fails(rendered, tmp_path):  # noqa: F811
    """The recorder refuses a launch CML could not do: the secrets must reach the step."""
    workflow = yaml.safe_load(rendered["s3-aws-no"].read_text())
    job = launch_runner(workflow, tmp_path, tmp_path / "cml.jsonl", {"REPO_TOKEN": "ghp_test"})
    assert not job.succeeded
    assert "no credentials for aws" in job.steps[-1].output


@pytest.mark.parametrize(
    "argv, error",
    [
        (["comment", "create", "--watermark", "x", "r.md"], "Unknown argument: watermark"),
        (["comment", "update", "--publish=yes", "r.md"], "is not a boolean"),
        (["comment", "create", "--publish-native", "r.md"], "not available on GitHub"),
        (["send-comment", "r.md"], "Unknown command"),
        (["runner", "launch", "--cloud=ibm"], "Choices"),
        (["runner", "launch", "--cloud-hdd-size=big"], "is not a number"),
        (["comment", "create", "missing.md"], "ENOENT"),
    ],
)
def test_recorder_refuses_what_cml_refuses(tmp_path, argv, error, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "r.md").write_text("report\n")
    env = {"REPO_TOKEN": "t", "GITHUB_ACTIONS": "true", "CML_RECORDER_LOG": str(tmp_path / "log")}
    assert cml_recorder.main(argv, env) == 1
    assert error in capsys.readouterr().err
    assert not (tmp_path / "log").exists()


def test_recorder_accepts_and_records_a_valid_comment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "r.md").write_text("report\n")
    env = {"REPO_TOKEN": "t", "CML_RECORDER_LOG": str(tmp_path / "log")}
    argv = ["comment", "update", "--watermark-title=Model report", "--no-publish", "r.md"]
    assert cml_recorder.main(argv, env) == 0
    [call] = cml_recorder.calls(tmp_path / "log")
    assert call["options"] == {"watermark-title": "Model report", "publish": False}
    assert call["markdown"] == "report\n"
    assert cml_recorder.main(argv, {"CML_RECORDER_LOG": env["CML_RECORDER_LOG"]}) == 1  # no token


# --- end to end: the train-report-gate job on a real bot --------------------------------------


class GitHub:
    """`origin` plays the GitHub repository; each run checks out a fresh clone beside it, so the
    bot's local DVC remote (../rasa-assistant-dvc-storage) is the same folder for all of them."""

    def __init__(self, root, origin):
        self.root, self.origin = root, origin
        self.workflow = yaml.safe_load((origin / ".github/workflows/cml.yml").read_text())
        self.runs = {}

    def run(self, name, event, branch):
        workspace = self.root / name
        run(["git", "clone", "--quiet", str(self.origin), str(workspace)], self.root)
        git(workspace, "checkout", "--quiet", "--detach", f"origin/{branch}")
        log = self.root / f"{name}-cml.jsonl"
        start = time.monotonic()
        job = run_job(
            self.workflow,
            "train-report-gate",
            workspace,
            event,
            self.root / f"{name}-runner",
            local_actions(workspace, self.root / f"{name}-bin", log),
        )
        job.seconds = time.monotonic() - start
        job.workspace, job.calls = workspace, cml_recorder.calls(log)
        timings = ", ".join(f"{s.name[:30]}: {s.seconds:.0f}s" for s in job.steps if s.seconds > 1)
        print(f"\n{name}: {job.seconds:.0f}s ({timings})")
        return job


def degrade(project):
    """Keep half of each intent's examples and cut both policies' epochs to 5."""
    lines, kept, count = (project / "data/nlu.yml").read_text().splitlines(), [], 0
    for line in lines:
        if line.startswith("  - intent:"):
            count = 0
        if line.startswith("      - "):
            count += 1
            if count > 2 and count % 2 == 0:
                continue
        kept.append(line)
    (project / "data/nlu.yml").write_text("\n".join(kept) + "\n")
    params = (project / "params.yaml").read_text()
    (project / "params.yaml").write_text(re.sub(r"(?m)^    epochs: \d+$", "    epochs: 5", params))


@pytest.fixture(scope="module")
def github(trained_bot, tmp_path_factory):
    """main = the bake commit, then the trained bot (100 epochs) committed and pushed to DVC."""
    root = tmp_path_factory.mktemp("github")
    origin = root / "origin"
    local_only = {
        ".venv",
        ".venv-dvc",
        ".rasa",
        ".pytest_cache",
        ".ruff_cache",
        "report",
        "report.md",
    }
    shutil.copytree(
        trained_bot,
        origin,
        symlinks=True,
        ignore=lambda folder, names: local_only & set(names) if Path(folder) == trained_bot else [],
    )
    bake_commit = git(origin, "rev-list", "--max-parents=0", "HEAD")
    git(origin, "reset", "--quiet", "--soft", bake_commit)
    git(origin, "add", "--all")
    git(origin, "commit", "--quiet", "-m", "Train the first model")
    run(["make", "install"], origin)
    run([".venv-dvc/bin/dvc", "push", "--run-cache"], origin)
    return GitHub(root, origin)


@pytest.mark.e2e
def test_push_to_main_first_run_pulls_reports_no_baseline_and_passes(github):
    sha = git(github.origin, "rev-parse", "main")
    job = github.run("push-main", Event("push", "refs/heads/main", sha), "main")

    assert job.succeeded, [
        (s.name, s.outcome, s.output[-2000:]) for s in job.steps if s.outcome == "failure"
    ]
    repro = job.step("Run the pipeline").output
    assert "Running stage 'train'" not in repro, "the model is in the DVC remote: pull, not train"
    assert job.step("Post the report").outcome == "skipped"
    assert job.step("Push the model").outcome == "success"
    assert job.calls == []
    report = (job.workspace / "report.md").read_text()
    assert "No baseline: `HEAD~1`" in report and "has no metrics yet (first run)" in report
    assert "| metrics/nlu.json | weighted_f1 |" in report
    assert (
        "Quality gate passed: HEAD~1 has no metrics yet (first run)."
        in job.step("Quality gate").output
    )
    assert "## Metrics" in job.summary


def open_pr(github, number, branch, change, message, name):
    """Commit `change(origin)` on a new branch off main and run the workflow for its pull request."""
    git(github.origin, "checkout", "--quiet", "-b", branch, "main")
    change(github.origin)
    git(github.origin, "commit", "--quiet", "-am", message)
    git(github.origin, "checkout", "--quiet", "main")
    sha = git(github.origin, "rev-parse", branch)
    return github.run(name, pull_request_event(number, branch, sha), branch)


@pytest.fixture(scope="module")
def degraded_pr(github):
    return open_pr(github, 1, "less-data", degrade, "Fewer NLU examples, 5 epochs", "pr-degrade")


@pytest.mark.e2e
def test_degraded_pr_trains_comments_once_and_fails_the_gate(degraded_pr):
    job = degraded_pr
    outcomes = {s.name: s.outcome for s in job.steps}
    assert [s.name for s in job.steps if s.outcome == "failure"] == [job.steps[-1].name], outcomes
    assert "Quality gate" in job.steps[-1].name
    assert "Running stage 'train'" in job.step("Run the pipeline").output
    assert job.step("Post the report").outcome == "success"
    assert job.step("Push the model").outcome == "skipped"

    [call] = job.calls
    assert call["command"] == "comment update"
    assert call["options"] == {"watermark-title": WATERMARK, "publish": False}
    assert call["positionals"] == ["report/without-images.md"]
    assert call["telemetry_off"] and call["credentials"] == ["REPO_TOKEN"]

    report = (job.workspace / "report.md").read_text()
    assert re.search(r"\| Path +\| Metric +\| origin/main +\| workspace +\| Change +\|", report)
    assert re.search(
        r"\| metrics/nlu.json +\| weighted_f1 +\| [\d.]+ +\| [\d.]+ +\| -[\d.]+ +\|", report
    )
    assert re.search(r"\| params.yaml +\| train.DIETClassifier.epochs +\| 100 +\| 5 +\|", report)
    for image in ("report/intent_confusion_matrix.png", "report/intent_f1.png"):
        assert f"]({image})" in report
        assert (job.workspace / image).read_bytes().startswith(b"\x89PNG")
    worse = report.split("## Intents that got worse")[1].split("##")[0]
    assert re.search(r"\| `\w+` \| [\d.]+ \| [\d.]+ \| -[\d.]+ \|", worse)
    assert "Quality gate failed" in report

    comment = call["markdown"]
    assert "![" not in comment and "## Metrics" in comment and "origin/main" in comment
    assert comment == (job.workspace / "report/without-images.md").read_text()
    assert job.summary == comment

    gate = job.steps[-1].output
    assert re.search(r"^FAIL metrics/nlu.json:weighted_f1 fell [\d.]+ -> [\d.]+", gate, re.M)
    assert "Quality gate failed" in gate


@pytest.mark.e2e
def test_fork_pr_keeps_the_report_in_the_summary_without_commenting(github, degraded_pr, tmp_path):
    """A fork's read-only token cannot comment: the step is skipped, the report stays visible."""
    workflow = github.workflow
    job = run_job(
        {**workflow, "jobs": {"j": {**workflow["jobs"]["train-report-gate"]}}},
        "j",
        degraded_pr.workspace,
        pull_request_event(3, "less-data", "0" * 40, head_repo="someone/support-bot"),
        tmp_path / "runner",
        local_actions(degraded_pr.workspace, tmp_path / "bin", tmp_path / "cml.jsonl"),
    )
    assert job.step("Post the report").outcome == "skipped"
    assert cml_recorder.calls(tmp_path / "cml.jsonl") == []
    assert "## Metrics" in job.summary
    assert "Quality gate failed" in job.steps[-1].output


@pytest.fixture(scope="module")
def improving_pr(github, degraded_pr):
    """The degraded change merged anyway (with its outputs pushed); a PR then restores it."""
    trained = git(github.origin, "rev-parse", "main")
    run([".venv-dvc/bin/dvc", "push", "--run-cache"], degraded_pr.workspace)
    git(degraded_pr.workspace, "add", "--all")
    git(degraded_pr.workspace, "commit", "--quiet", "-m", "Retrain on less data")
    git(github.origin, "pull", "--quiet", "--ff-only", str(degraded_pr.workspace), "HEAD")
    return open_pr(
        github,
        2,
        "restore",
        lambda origin: git(origin, "checkout", trained, "--", "."),
        "Back to all NLU examples and 100 epochs",
        "pr-restore",
    )


@pytest.mark.e2e
def test_improving_pr_pulls_instead_of_training_comments_once_and_passes(improving_pr):
    job = improving_pr
    assert job.succeeded, [
        (s.name, s.outcome, s.output[-2000:]) for s in job.steps if s.outcome == "failure"
    ]
    assert "Running stage" not in job.step("Run the pipeline").output
    [call] = job.calls
    assert call["options"]["watermark-title"] == WATERMARK
    report = (job.workspace / "report.md").read_text()
    assert re.search(
        r"\| metrics/nlu.json +\| weighted_f1 +\| [\d.]+ +\| [\d.]+ +\| [\d.]+ +\|", report
    )
    assert re.search(r"\| params.yaml +\| train.DIETClassifier.epochs +\| 5 +\| 100 +\|", report)
    assert "Quality gate passed" in report
    assert re.search(
        r"^ok   metrics/nlu.json:weighted_f1 [\d.]+ -> [\d.]+ \(\+", job.steps[-1].output, re.M
    )
