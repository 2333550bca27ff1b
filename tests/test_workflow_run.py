"""The generated CML workflow, run: its steps execute in order in a baked bot, as on GitHub.

workflow_runner.run_job reads the workflow and runs each `run:` step with GitHub's environment;
`uses:` steps get their local equivalent (the repository is already checked out, uv and Python
are on PATH, setup-cml puts the CML recorder on PATH as `cml`). Everything else is real: make,
DVC, Rasa, the report and the gate. The recorder refuses what CML 0.20.6 would refuse.

GitHub's side is modelled where the workflow relies on it: a pull request runs on its merge
commit (refs/pull/N/merge; none runs for a conflicted one), a push carries `before`, a merge
queue sends `merge_group` with its base, an artifact name cannot be uploaded twice in one run
without `overwrite`, a comment is refused over 65,536 characters (cml_recorder), and the job
stops at its time limit (workflow_runner).

The end-to-end scenario shares the session's trained default bot (100 epochs) as `main`:
  1. the first push to main (bake commit + trained results): pulls the model instead of
     training, says it is the first run, pushes, passes the gate;
  2. a pull request that halves the NLU data and cuts the epochs: trains in CI, comments once,
     fails the gate;
  3. that change merged anyway, then a pull request restoring the data and epochs: pulls the
     earlier model from the DVC remote instead of training, comments once, passes the gate.
"""

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from support import cml_recorder, git, ran_stages, run, share_environments
from support.github_repository import GitHub, merge_ref
from support.local_actions import local_actions
from support.remote_facts import REMOTES
from support.workflow_runner import Event, concurrency_outcome, minimal_env, run_job

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
FORK = "someone/support-bot"


ZEROS = "0" * 40


def push_event(sha, before, **options):
    """A push to main: `before` is what main pointed to before it (ZEROS when it created main)."""
    payload = {"before": before, "after": sha, "ref": "refs/heads/main"}
    return Event("push", "refs/heads/main", sha, payload, **options)


def merge_group_event(number, base_sha, head_sha):
    """A merge queue's group: GitHub runs it on the group's temporary branch."""
    ref = f"refs/heads/gh-readonly-queue/main/pr-{number}-{base_sha}"
    payload = {
        "merge_group": {
            "head_sha": head_sha,
            "head_ref": ref,
            "base_sha": base_sha,
            "base_ref": "refs/heads/main",
        }
    }
    return Event("merge_group", ref, head_sha, payload)


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


# --- the launch-runner job, for every cloud (fast: only the recorder runs) -------------------


def launch_runner(workflow, tmp_path, log, secrets, variables=None, head_repo=REPOSITORY):
    """Run the `launch-runner` job of a pull request with the given secrets and variables."""
    return run_job(
        workflow,
        "launch-runner",
        tmp_path / "work",
        pull_request_event(1, "feature", "0" * 40, head_repo=head_repo),
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
def test_launch_runner_job_calls_cml_runner_launch_correctly(rendered, tmp_path, cloud, variables):
    workflow = yaml.safe_load(rendered[f"s3-{cloud}-no"].read_text())
    log = tmp_path / "cml.jsonl"
    secrets = {"REPO_TOKEN": "ghp_test", **CLOUD_SECRETS[cloud]}
    job = launch_runner(workflow, tmp_path, log, secrets, variables)
    assert job.succeeded, [(s.name, s.output) for s in job.steps]
    [call] = cml_recorder.calls(log)
    options = call["options"]
    assert call["command"] == "runner launch"
    assert options["cloud"] == cloud
    assert options["labels"] == f"cml-{cloud}" == job.outputs["runs-on"]
    assert job.outputs["note"] == ""
    assert options["single"] is True and options["idle-timeout"] == "10min"
    assert options["repo"] == f"https://github.com/{REPOSITORY}"
    assert options["cloud-region"] == "us-west"
    assert options["cloud-type"] == variables.get("CML_CLOUD_TYPE", "m")
    assert options.get("cloud-gpu") == variables.get("CML_CLOUD_GPU")
    assert options.get("cloud-spot", False) is bool(variables.get("CML_CLOUD_SPOT"))
    assert set(call["credentials"]) == set(secrets)
    assert call["telemetry_off"]


def test_launch_runner_without_cloud_credentials_fails(rendered, tmp_path):
    """The recorder refuses a launch CML could not do: the secrets must reach the step."""
    workflow = yaml.safe_load(rendered["s3-aws-no"].read_text())
    job = launch_runner(workflow, tmp_path, tmp_path / "cml.jsonl", {"REPO_TOKEN": "ghp_test"})
    assert not job.succeeded
    assert "no credentials for aws" in job.steps[-1].output


@pytest.mark.parametrize("cloud", ["aws", "gcp", "azure"])
def test_fork_pr_trains_on_a_github_hosted_runner_instead_of_failing(rendered, tmp_path, cloud):
    """A fork's run gets no secrets: no launch, the train job goes to ubuntu-latest and says why."""
    workflow = yaml.safe_load(rendered[f"s3-{cloud}-no"].read_text())
    log = tmp_path / "cml.jsonl"
    job = launch_runner(workflow, tmp_path, log, secrets={}, head_repo=FORK)
    assert job.succeeded, [(s.name, s.output) for s in job.steps]
    assert cml_recorder.calls(log) == []
    assert job.outputs["runs-on"] == "ubuntu-latest"
    assert (
        "no `REPO_TOKEN`" in job.outputs["note"] and "GitHub-hosted runner" in job.outputs["note"]
    )
    assert job.outputs["note"] in job.summary
    train = run_job(
        workflow,
        "train-report-gate",
        tmp_path / "work",
        pull_request_event(1, "feature", "0" * 40, head_repo=FORK),
        tmp_path / "train-runner",
        {},
        needs={"launch-runner": {"result": "success", "outputs": job.outputs}},
        stop_before="Check out",
    )
    assert train.runs_on == "ubuntu-latest"


def test_runs_on_main_are_never_cancelled_and_superseded_pr_runs_are(rendered):
    for workflow in (yaml.safe_load(path.read_text()) for path in rendered.values()):
        pushes = [
            (Event("push", "refs/heads/main", sha), run)
            for sha, run in [("a", "1"), ("b", "2"), ("c", "3")]
        ]
        assert concurrency_outcome(workflow, pushes) == ["completed"] * 3
        pr = [(pull_request_event(4, "feature", sha), run) for sha, run in [("a", "5"), ("b", "6")]]
        assert concurrency_outcome(workflow, pr) == ["cancelled", "completed"]
        mixed = [pushes[0], pr[0], pushes[1]]
        assert concurrency_outcome(workflow, mixed) == ["completed"] * 3
        queue = [(merge_group_event(n, "a", "b"), str(20 + n)) for n in (1, 2)]
        assert concurrency_outcome(workflow, queue) == ["completed"] * 2


# --- the baseline each event is compared with (fast: a small repository, git only) ---------


@pytest.fixture
def small_origin(tmp_path):
    """main: c1 <- c2 <- c3, and a branch `feature` off c3 with one commit."""
    origin = tmp_path / "origin"
    origin.mkdir()
    git(origin, "init", "--quiet", "-b", "main")
    for name in ("c1", "c2", "c3"):
        (origin / f"{name}.txt").write_text(name)
        git(origin, "add", ".")
        git(origin, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", name)
    git(origin, "checkout", "--quiet", "-b", "feature")
    (origin / "feature.txt").write_text("f")
    git(origin, "add", ".")
    git(origin, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", "f")
    git(origin, "checkout", "--quiet", "main")
    return {
        name: git(origin, "rev-parse", ref)
        for name, ref in [
            ("c1", "main~2"),
            ("c2", "main~1"),
            ("c3", "main"),
            ("feature", "feature"),
        ]
    } | {"origin": origin}


def choose_baseline(rendered, tmp_path, origin, event, commit=None):
    """Run the job up to the environments' set-up: (baseline output, the notes, GITHUB_ENV)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    workflow = yaml.safe_load(rendered["local-github-hosted-no"].read_text())
    work = tmp_path / "work"
    run(["git", "clone", "--quiet", str(origin), str(work)], tmp_path)
    if event.name == "pull_request":
        merge_ref(work, event, event.head_ref)
    else:
        git(work, "checkout", "--quiet", "--detach", commit or event.sha)
    runner = tmp_path / "runner"
    job = run_job(
        workflow,
        "train-report-gate",
        work,
        event,
        runner,
        local_actions(work, tmp_path / "bin", tmp_path / "cml.jsonl"),
        stop_before="setup-python",
    )
    assert job.succeeded, failures(job)
    step = job.step("Choose the baseline")
    index = [s.name for s in job.steps].index(step.name)
    env = dict(line.split("=", 1) for line in (runner / f"env-{index}").read_text().splitlines())
    return step.outputs["baseline"], (runner / "report-notes.md").read_text(), env


def test_a_push_of_several_commits_is_compared_with_main_before_the_push(
    rendered, tmp_path, small_origin
):
    c = small_origin
    baseline, notes_, env = choose_baseline(
        rendered, tmp_path, c["origin"], push_event(c["c3"], c["c1"])
    )
    assert baseline == env["BASELINE"] == c["c1"], "c2 and c3 were pushed together"
    assert env["GATE_REQUIRE_BASELINE"] == "true"
    assert f"Baseline: `{c['c1'][:7]}`, what `main` pointed to before this push." in notes_


@pytest.mark.parametrize(
    "case, before, at, expected, note",
    [
        ("new branch", ZEROS, "c3", None, "this push created `main`, so there is nothing"),
        ("force push, before gone", "f" * 40, "c3", "c2", "before this push is gone (a force"),
        ("force push onto a root commit", "f" * 40, "c1", None, "this commit has no parent"),
        ("before is this commit", "c3", "c3", "c2", "is this commit itself"),
        ("not a commit id", "main", "c3", "c2", "is gone"),
    ],
)
def test_pushes_without_a_usable_before(
    rendered, tmp_path, small_origin, case, before, at, expected, note
):
    c = small_origin
    event = push_event(c[at], c.get(before, before))
    baseline, notes_, env = choose_baseline(rendered, tmp_path, c["origin"], event)
    assert note in notes_, case
    if expected is None:  # nothing to compare with by design: the gate must not require it
        assert baseline == "none" and env["BASELINE"] == ZEROS
        assert env["GATE_REQUIRE_BASELINE"] == "false" and "**First run**" in notes_
    else:
        assert baseline == env["BASELINE"] == c[expected]
        assert env["GATE_REQUIRE_BASELINE"] == "true"


@pytest.mark.parametrize("at, expected", [("c3", "c2"), ("feature", "origin/main")])
def test_a_manual_run_says_what_it_compares_with_and_never_compares_a_commit_with_itself(
    rendered, tmp_path, small_origin, at, expected
):
    c = small_origin
    ref = "refs/heads/main" if at == "c3" else "refs/heads/feature"
    event = Event("workflow_dispatch", ref, c[at], {"ref": ref})
    baseline, notes_, _ = choose_baseline(rendered, tmp_path, c["origin"], event)
    assert baseline == c.get(expected, expected)
    assert ("not compared with itself" if at == "c3" else "a manual run on another") in notes_


def test_pull_requests_compare_with_the_base_branch_and_merge_queues_with_their_base(
    rendered, tmp_path, small_origin
):
    c = small_origin
    event = pull_request_event(3, "feature", c["feature"])
    baseline, notes_, _ = choose_baseline(rendered, tmp_path, c["origin"], event)
    assert baseline == "origin/main" and "the pull request's base branch" in notes_
    assert event.sha not in (c["feature"], c["c3"]), "the run is on the merge commit"

    queue = merge_group_event(3, c["c3"], c["feature"])
    baseline, notes_, env = choose_baseline(rendered, tmp_path / "queue", c["origin"], queue)
    assert baseline == env["BASELINE"] == c["c3"] and "the merge queue's base" in notes_


# --- the comment: GitHub's size limit and API errors (fast: the comment steps alone) --------


def post_comment(rendered, tmp_path, report_chars, api_error=None):
    """The comment steps of a same-repository pull request whose report has `report_chars`
    characters (the steps before taken as done)."""
    workflow = yaml.safe_load(rendered["local-github-hosted-no"].read_text())
    work = tmp_path / "work"
    (work / "report").mkdir(parents=True)
    (work / "report/without-images.md").write_text("# Model report\n" + "é" * report_chars)
    env = minimal_env(tmp_path)
    if api_error:
        env["CML_RECORDER_API_ERROR"] = api_error
    comments = tmp_path / "comments.json"
    job = run_job(
        workflow,
        "train-report-gate",
        work,
        pull_request_event(4, "feature", "ab" * 20),
        tmp_path / "runner",
        local_actions(work, tmp_path / "bin", tmp_path / "cml.jsonl", None, None, comments),
        base_env=env,
        start_at="Install CML",
    )
    return job, cml_recorder.comments(comments, "pr/4")


@pytest.mark.parametrize("chars, whole", [(60_000, True), (65_400, False), (300_000, False)])
def test_a_report_too_long_for_a_comment_posts_a_link_to_the_run(rendered, tmp_path, chars, whole):
    """65,400 characters fit GitHub's 65,536 only without CML's watermark line: the workflow
    leaves room for it, and a longer report's comment points to the run's summary."""
    job, comments = post_comment(rendered, tmp_path, chars)
    assert job.succeeded and job.step("Post the report").outcome == "success", failures(job)
    [comment] = comments
    assert ("é" * chars in comment["body"]) is whole
    if not whole:
        assert "longer than a pull request comment may be" in comment["body"]
        assert f"[this run](https://github.com/{REPOSITORY}/actions/runs/4242)" in comment["body"]


def test_a_comment_github_refuses_does_not_fail_the_run(rendered, tmp_path):
    job, comments = post_comment(rendered, tmp_path, 100, api_error="Service Unavailable")
    assert comments == []
    comment = job.step("Post the report")
    assert comment.outcome == "failure" and comment.tolerated and job.succeeded
    assert "HttpError: Service Unavailable" in comment.output
    assert "could not be posted as a comment" in job.summary
    assert "The quality gate decides this run." in job.summary


# --- end to end: the train-report-gate job on a real bot --------------------------------------


def failures(job):
    return [(s.name, s.outcome, s.output[-3000:]) for s in job.steps if s.outcome == "failure"]


def assert_pipeline_left_a_clean_workspace(job):
    """A pipeline step is judged by what it left: the model, and nothing for DVC to rerun."""
    assert job.step("Run the pipeline").outcome == "success", failures(job)
    assert (job.workspace / "models/model.tar.gz").is_file()
    status = run([".venv-dvc/bin/dvc", "status", "--json"], job.workspace).stdout.strip()
    assert json.loads(status.splitlines()[-1] if status else "{}") == {}, status


def assert_report_uploaded(job):
    report = job.artifacts / "model-report"
    assert (report / "report.md").read_text() == (job.workspace / "report.md").read_text()
    assert (report / "report/without-images.md").is_file()
    run_url = f"https://github.com/{REPOSITORY}/actions/runs/{job.run_id}"
    assert f"`model-report` artifact of [this run]({run_url})" in notes(job)


def notes(job):
    """The report's Notes section ('' without one)."""
    text = (job.workspace / "report/without-images.md").read_text()
    return text.split("## Notes\n", 1)[1].split("\n## ", 1)[0] if "## Notes\n" in text else ""


def degrade(project):
    """Keep half of each intent's examples, cut both policies' epochs to 5, and loosen the gate
    in the same change (max_drop 1 would let any fall pass, were it read from this change)."""
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
    params = re.sub(r"(?m)^    epochs: \d+$", "    epochs: 5", params)
    (project / "params.yaml").write_text(re.sub(r"max_drop: [\d.]+", "max_drop: 1", params))


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
    share_environments(trained_bot, origin)
    run(["make", "install"], origin)
    run([".venv-dvc/bin/dvc", "push", "--run-cache"], origin)
    return GitHub(root, origin)


@pytest.mark.e2e
def test_first_push_to_main_pulls_says_it_is_the_first_run_and_passes(github):
    """The bake commit and the trained results pushed together, creating main (README, Quick
    start): `before` is all zeros, so nothing is compared and the report says why."""
    sha = git(github.origin, "rev-parse", "main")
    job = github.run("push-main", push_event(sha, ZEROS), "main")

    assert job.succeeded, failures(job)
    repro = job.step("Run the pipeline").output
    assert "Running stage 'train'" not in repro, "the model is in the DVC remote: pull, not train"
    assert_pipeline_left_a_clean_workspace(job)
    assert job.step("Install CML").outcome == "skipped"
    assert job.step("Post the report").outcome == "skipped"
    assert job.step("Push the model").outcome == "success"
    assert job.calls == []
    assert "**First run**: this push created `main`, so there is nothing to compare with." in notes(
        job
    )
    report = (job.workspace / "report.md").read_text()
    assert "| metrics/nlu.json | weighted_f1 |" in report
    gate = job.step("Quality gate").output
    assert "ok   dvc.lock matches this commit's inputs" in gate
    assert f"Quality gate passed: no baseline ({ZEROS} is not a revision here)." in gate
    assert "## Metrics" in job.summary and "stopped early" not in job.summary
    assert_report_uploaded(job)
    assert job.step("Save Rasa").outcome == "success"  # on main (nothing trained here to save)


def open_pr(github, number, branch, change, message, name, **options):
    """Commit `change(origin)` on a new branch off main; run the workflow for its pull request
    (on the merge commit GitHub makes of it)."""
    git(github.origin, "checkout", "--quiet", "-b", branch, "main")
    change(github.origin)
    git(github.origin, "commit", "--quiet", "-am", message)
    git(github.origin, "checkout", "--quiet", "main")
    sha = git(github.origin, "rev-parse", branch)
    return github.run(name, pull_request_event(number, branch, sha), branch, **options)


@pytest.fixture(scope="module")
def degraded_pr(github):
    return open_pr(
        github, 1, "less-data", degrade, "Fewer NLU examples, 5 epochs, looser gate", "pr-degrade"
    )


@pytest.mark.e2e
def test_degraded_pr_with_a_stale_lock_and_a_looser_gate_trains_comments_once_and_fails(
    degraded_pr,
):
    job = degraded_pr
    assert [s.name for s in job.steps if s.outcome == "failure"] == [
        job.step("Quality gate").name
    ], failures(job)
    # The gate failed; the report, the summary, the artifact and the comment still came out.
    assert job.ran()[-1] == job.step("Post the report").name
    assert "Running stage 'train'" in job.step("Run the pipeline").output
    assert_pipeline_left_a_clean_workspace(job)
    assert job.step("Post the report").outcome == "success"
    assert job.step("Push the model").outcome == "skipped"
    assert_report_uploaded(job)
    assert job.step("Save Rasa").outcome == "skipped", "pull requests add no cache entry"

    [call] = job.calls
    assert call["command"] == "comment update"
    assert call["options"] == {"watermark-title": WATERMARK, "publish": False}
    assert call["positionals"] == ["report/without-images.md"]
    assert call["telemetry_off"] and call["credentials"] == ["REPO_TOKEN"]
    assert call["github"].startswith("created comment")

    report = (job.workspace / "report.md").read_text()
    assert re.search(r"\| Path +\| Metric +\| origin/main +\| workspace +\| Change +\|", report)
    assert re.search(
        r"\| metrics/nlu.json +\| weighted_f1 +\| [\d.]+ +\| [\d.]+ +\| -[\d.]+ +\|", report
    )
    assert re.search(r"\| params.yaml +\| train.DIETClassifier.epochs +\| 100 +\| 5 +\|", report)
    for image in ("report/intent_confusion_matrix.png", "report/intent_f1.png"):
        assert f"]({image})" in report
        assert (job.workspace / image).read_bytes().startswith(b"\x89PNG")
        assert (job.artifacts / "model-report" / image).read_bytes().startswith(b"\x89PNG")
    worse = report.split("## Intents that got worse")[1].split("##")[0]
    assert re.search(r"\| `\w+` \| [\d.]+ \| [\d.]+ \| -[\d.]+ \|", worse)
    assert "Quality gate failed" in report
    assert "Baseline: `" in notes(job) and "the pull request's base branch" in notes(job)
    # The change's data and params are not what its committed dvc.lock ran on.
    assert "**`dvc.lock` is stale**" in notes(job) and "make repro" in notes(job)
    assert re.search(r"`[\w.]+` in `params.yaml` changed", notes(job))

    comment = call["markdown"]
    assert "![" not in comment and "## Metrics" in comment and "origin/main" in comment
    assert comment == (job.workspace / "report/without-images.md").read_text()
    assert job.summary == comment

    gate = job.step("Quality gate").output
    # max_drop: 1 in this change's params.yaml does not apply: main's 0.02 does.
    assert re.search(
        r"^FAIL metrics/nlu.json:weighted_f1 fell [\d.]+ -> [\d.]+ .*gate.max_drop 0.02 ",
        gate,
        re.M,
    )
    assert re.search(r"^FAIL dvc.lock is stale \(gate.stale_lock: fail\)", gate, re.M)
    assert "note this change edits `gate` in params.yaml" in gate
    assert "Quality gate failed" in gate


@pytest.mark.e2e
def test_a_non_finite_metric_fails_the_gate_step(github, degraded_pr, tmp_path):
    """The report and gate steps of a run whose test stage wrote NaN (from a fork: no comment)."""
    metrics = degraded_pr.workspace / "metrics/nlu.json"
    written = metrics.read_text()
    metrics.write_text(json.dumps({**json.loads(written), "weighted_f1": float("nan")}))
    env = {
        **minimal_env(tmp_path),
        "BASELINE": "origin/main",
        "GATE_REQUIRE_BASELINE": "true",
        "GATE_RESULT": str(tmp_path / "gate-result.json"),
        "RUN_LOGS": str(tmp_path),
    }
    job = run_job(
        github.workflow,
        "train-report-gate",
        degraded_pr.workspace,
        pull_request_event(3, "less-data", "0" * 40, head_repo=FORK),
        tmp_path / "runner",
        local_actions(
            degraded_pr.workspace, tmp_path / "bin", tmp_path / "cml.jsonl", None, tmp_path
        ),
        base_env=env,
        start_at="Quality gate",
    )
    assert job.step("Write the report").outcome == "success", failures(job)
    metrics.write_text(written)  # the improving pull request below merges this workspace
    gate = job.step("Quality gate")
    assert "FAIL metrics/nlu.json:weighted_f1 = nan: not a finite number" in gate.output
    assert gate.outcome == "failure"
    assert "weighted_f1 = nan: not a finite number" in job.summary


# A pull request's own copies of the gate and the lock check, edited to pass whatever happens.
OWN_GATE = 'import sys\n\nprint("Quality gate passed: this change says so.")\nsys.exit(0)\n'
OWN_CHECK_LOCK = """import json
import sys

if "--result" in sys.argv:
    with open(sys.argv[sys.argv.index("--result") + 1], "w") as result:
        json.dump({"stale": False, "problems": []}, result)
print("dvc.lock matches this commit's inputs.")
"""
RESULTS = ["dvc.lock", "metrics", "plots", "evaluation", "models/config.yml"]


def pass_own_gate(trained):
    """A change to `origin`: the degraded pull request's results (a real fall of weighted F1)
    committed with its fresh dvc.lock, then gate.py and check_lock.py that always pass, `gate:`
    loosened (max_drop 1, from degrade()) and the split seed changed without rerunning."""

    def change(origin):
        for name in RESULTS:
            target = origin / name
            if target.is_dir():
                shutil.rmtree(target)
            copy = shutil.copytree if (trained / name).is_dir() else shutil.copyfile
            copy(trained / name, target)
        (origin / "pipeline/gate.py").write_text(OWN_GATE)
        (origin / "pipeline/check_lock.py").write_text(OWN_CHECK_LOCK)
        params = (origin / "params.yaml").read_text()
        (origin / "params.yaml").write_text(params.replace("seed: 42", "seed: 7", 1))
        git(origin, "add", "--all")

    return change


def run_own_code(workspace, *module):
    python = str(workspace / ".venv/bin/python")
    return run([python, "-m", *module], workspace, check=False)


@pytest.mark.e2e
def test_a_change_to_its_own_gate_code_and_settings_still_fails_on_a_real_drop(
    github, degraded_pr, tmp_path
):
    git(github.origin, "checkout", "--quiet", "-b", "old-template", "main")
    git(github.origin, "rm", "--quiet", "pipeline/gate.py")
    git(github.origin, "commit", "--quiet", "-m", "A base from before pipeline/gate.py")
    git(github.origin, "checkout", "--quiet", "main")
    git(github.origin, "checkout", "--quiet", "-b", "own-gate", "less-data")
    pass_own_gate(degraded_pr.workspace)(github.origin)
    git(github.origin, "commit", "--quiet", "-m", "Pass my own gate")
    git(github.origin, "checkout", "--quiet", "main")
    sha = git(github.origin, "rev-parse", "own-gate")

    def gate_step(name, baseline):
        return github.run(
            name,
            pull_request_event(4, "own-gate", sha),
            "own-gate",
            base_env={**minimal_env(tmp_path / name), "BASELINE": baseline},
            start_at="Quality gate",
        )

    job = gate_step("pr-own-gate", "origin/main")
    workspace = job.workspace
    # The change's own code passes it: what the workflow must not run.
    own_lock = run_own_code(workspace, "pipeline.check_lock", "--result", "own.json")
    own_gate = run_own_code(workspace, "pipeline.gate", "--lock-check", "own.json")
    assert own_lock.returncode == own_gate.returncode == 0, own_gate.stdout
    assert "Quality gate passed: this change says so." in own_gate.stdout

    step = job.step("Quality gate")  # the report steps after it run too
    assert step.outcome == "failure", step.output
    assert re.search(
        r"^FAIL metrics/nlu.json:weighted_f1 fell [\d.]+ -> [\d.]+ .*gate.max_drop 0.02 ",
        step.output,
        re.M,
    ), step.output
    assert "stale: `split`: `split` in `params.yaml` changed" in step.output
    assert re.search(r"^FAIL dvc.lock is stale", step.output, re.M)
    assert "Quality gate failed" in step.output
    assert "this change says so" not in step.output

    # A base without the gate code (a first run): this change's own code decides, visibly.
    job = gate_step("pr-own-gate-old-base", "origin/old-template")
    step = job.step("Quality gate")  # the report steps after it run too
    assert "::warning::origin/old-template has no pipeline/gate.py" in step.output
    assert "Quality gate passed: this change says so." in step.output


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
def test_improving_pr_with_a_fresh_lock_pulls_instead_of_training_and_passes(improving_pr):
    job = improving_pr
    assert job.succeeded, failures(job)
    assert "Running stage" not in job.step("Run the pipeline").output
    assert_pipeline_left_a_clean_workspace(job)
    [call] = job.calls
    assert call["options"]["watermark-title"] == WATERMARK
    report = (job.workspace / "report.md").read_text()
    assert re.search(
        r"\| metrics/nlu.json +\| weighted_f1 +\| [\d.]+ +\| [\d.]+ +\| [\d.]+ +\|", report
    )
    assert re.search(r"\| params.yaml +\| train.DIETClassifier.epochs +\| 5 +\| 100 +\|", report)
    assert "Quality gate passed" in report
    assert "stale" not in notes(job)
    gate = job.step("Quality gate").output
    assert re.search(r"^ok   metrics/nlu.json:weighted_f1 [\d.]+ -> [\d.]+ \(\+", gate, re.M)
    assert "ok   dvc.lock matches this commit's inputs" in gate


@pytest.mark.e2e
def test_rerunning_a_job_uploads_its_report_again(github, degraded_pr, tmp_path):
    """ "Re-run jobs": the same run id, attempt 2, finds attempt 1's `model-report`; the upload
    replaces it (overwrite), which GitHub refuses without `overwrite: true`."""
    workflow = yaml.safe_load(yaml.safe_dump(github.workflow))
    event = pull_request_event(1, "less-data", "0" * 40, head_repo=FORK)
    event.run_id, event.run_attempt = degraded_pr.run_id, "2"
    env = {**minimal_env(tmp_path), "RUN_LOGS": str(tmp_path), "REPORT_NOTES": "/dev/null"}

    def rerun(name):
        return run_job(
            workflow,
            "train-report-gate",
            degraded_pr.workspace,
            event,
            tmp_path / name,
            local_actions(
                degraded_pr.workspace, tmp_path / "bin", tmp_path / "x", None, degraded_pr.artifacts
            ),
            base_env=env,
            start_at="Upload the report",
            stop_before="Install CML",
        )

    assert rerun("attempt-2").succeeded
    [upload] = [
        s for s in workflow["jobs"]["train-report-gate"]["steps"] if "upload" in s.get("uses", "")
    ]
    upload["with"]["overwrite"] = False
    refused = rerun("attempt-3")
    assert "an artifact with this name already exists" in refused.step("Upload").output
    uploaded = degraded_pr.artifacts / "model-report/report.md"
    assert uploaded.read_text() == (degraded_pr.workspace / "report.md").read_text()


@pytest.mark.e2e
def test_a_merge_queue_group_runs_the_pipeline_and_the_gate_against_the_queues_base(
    github, improving_pr
):
    """A group of one pull request (a README edit) queued on main: the queue's base is the
    baseline, nothing is commented, pushed or cached."""
    base = git(github.origin, "rev-parse", "main")
    queue = f"gh-readonly-queue/main/pr-6-{base}"
    git(github.origin, "checkout", "--quiet", "-b", queue, "main")
    with open(github.origin / "README.md", "a") as readme:
        readme.write("\nA line from a queued pull request.\n")
    git(github.origin, "commit", "--quiet", "-am", "Queued: a README line")
    git(github.origin, "checkout", "--quiet", "main")
    head = git(github.origin, "rev-parse", queue)
    job = github.run("queue", merge_group_event(6, base, head), queue)
    assert job.succeeded, failures(job)
    assert "Running stage" not in job.step("Run the pipeline").output
    assert f"Baseline: `{base[:7]}`, the merge queue's base" in notes(job)
    gate = job.step("Quality gate").output
    assert re.search(
        r"^ok   metrics/nlu.json:weighted_f1 [\d.]+ -> [\d.]+ \(\+0.0000\)", gate, re.M
    )
    for step in ("Install CML", "Post the report", "Push the model", "Save Rasa"):
        assert job.step(step).outcome == "skipped", step
    assert job.calls == []
    assert_report_uploaded(job)


def break_nlu_data(project):
    with open(project / "data/nlu.yml", "a") as nlu:
        nlu.write("  - intent: broken\n    examples: [unclosed\n")


@pytest.mark.e2e
def test_a_failed_step_leaves_a_report_of_where_the_run_stopped(github):
    """The pipeline fails on data it cannot read: no metrics, no gate, no comment, but the
    summary and the artifact say which step stopped the run and end with its log."""
    job = open_pr(github, 7, "broken-data", break_nlu_data, "Broken NLU data", "pr-broken")
    assert not job.succeeded
    assert [s.name for s in job.steps if s.outcome == "failure"] == [
        job.step("Run the pipeline").name
    ]
    for step in ("Quality gate", "Write the report", "Install CML", "Post the report"):
        assert job.step(step).outcome == "skipped", step
    assert job.calls == []
    assert "# This run stopped early" in job.summary
    assert "| pipeline | failure |" in job.summary and "| install | success |" in job.summary
    assert "It stopped at the **pipeline** step." in job.summary
    log = (job.runner_temp / "logs/pipeline.log").read_text().splitlines()
    assert log and job.summary.endswith(f"\n{log[-1][:300]}\n```\n")
    uploaded = job.artifacts / "model-report/report"
    assert (uploaded / "run.md").read_text() in job.summary
    assert (uploaded / "pipeline.log").read_text() == (
        job.runner_temp / "logs/pipeline.log"
    ).read_text()


def more_epochs(project):
    params = (project / "params.yaml").read_text()
    (project / "params.yaml").write_text(
        re.sub(r"(?m)^    epochs: \d+$", "    epochs: 3000", params)
    )


@pytest.mark.e2e
def test_a_run_that_reaches_its_time_limit_leaves_a_report_that_says_so(github):
    """CML_TIMEOUT_MINUTES=2: the pipeline is stopped a minute before the limit (a sixth of it,
    a minute at least), in time for the report to say why (the runner would kill the job at 2
    minutes, later steps and all)."""
    job = open_pr(
        github,
        8,
        "many-epochs",
        more_epochs,
        "3000 epochs",
        "pr-slow",
        variables={"CML_TIMEOUT_MINUTES": "2"},
    )
    assert job.timeout_minutes == 2 and not job.timed_out, failures(job)
    pipeline = job.step("Run the pipeline")
    assert pipeline.outcome == "failure" and pipeline.outputs == {"timed-out": "true"}
    assert pipeline.seconds < 60 + 5, "stopped a minute before the limit (DVC gets 5 s to stop)"
    assert "**The pipeline hit its time limit**" in job.summary
    assert "of the job's 2 minutes (repository variable `CML_TIMEOUT_MINUTES`)" in job.summary
    assert "It stopped at the **pipeline** step." in job.summary
    assert "hit its time limit" in (job.artifacts / "model-report/report/run.md").read_text()
    assert job.step("Quality gate").outcome == "skipped"
    print(f"\ntime-limited run: {job.seconds:.0f}s of 120")


# --- every remote type and runner choice, on the trained main commit ------------------------

# A test value for each secret of a remote type (which secrets: cookiecutter.json `_remotes`).
SECRET_VALUES = {
    "AWS_ACCESS_KEY_ID": "AKIATEST",
    "AWS_SECRET_ACCESS_KEY": "test-secret",
    "GOOGLE_APPLICATION_CREDENTIALS_DATA": '{"type": "service_account"}',
    "AZURE_STORAGE_CONNECTION_STRING": "DefaultEndpointsProtocol=https;AccountName=x",
    "DVC_SSH_KEY": "-----BEGIN OPENSSH PRIVATE KEY-----\nkey\n",
    "DVC_SSH_KNOWN_HOSTS": "host ssh-ed25519 AAAA",
}
PRIVATE_REMOTE_SECRETS = {
    remote: {name: SECRET_VALUES[name] for name in facts["secrets"]}
    for remote, facts in REMOTES.items()
    if facts["secrets"]
}
REMOTE_URLS = {
    "s3": "s3://acme-bot/storage",
    "gs": "gs://acme-bot/storage",
    "azure": "azure://acme-bot/storage",
    "ssh": "ssh://dvc.example.com/srv/dvc/bot",
}


def with_remote(remote, warm=False):
    """Point the clone's DVC remote where the variant's would be (unreachable from here); `warm`
    fills the workspace from the shared local remote first, as a runner with a warm DVC cache."""

    def prepare(workspace):
        dvc = str(workspace.parent / "origin/.venv-dvc/bin/dvc")
        if warm:
            run([dvc, "pull", "--quiet"], workspace)
        run([dvc, "remote", "modify", "--local", "storage", "url", REMOTE_URLS[remote]], workspace)

    return prepare


@pytest.mark.e2e
@pytest.mark.parametrize(
    "remote, runner",
    [("s3", "aws"), ("gs", "gcp"), ("azure", "azure"), ("ssh", "github-hosted")],
)
def test_fork_pr_gets_a_report_without_secrets(github, rendered, remote, runner):
    """No secrets: GitHub's runner instead of the cloud's, no key files, nothing pulled, the
    report says why, no comment; the pipeline (warm here) and the gate still run."""
    workflow = yaml.safe_load(rendered[f"{remote}-{runner}-no"].read_text())
    needs = {}
    if runner != "github-hosted":
        launch = run_job(
            workflow,
            "launch-runner",
            github.root / f"fork-{remote}-launch",
            pull_request_event(9, "main", "0" * 40, head_repo=FORK),
            github.root / f"fork-{remote}-launch-runner",
            local_actions(
                github.root, github.root / f"fork-{remote}-launch-bin", github.root / "x.jsonl"
            ),
            secrets={},
        )
        assert launch.succeeded and launch.outputs["runs-on"] == "ubuntu-latest"
        needs = {"launch-runner": {"result": "success", "outputs": launch.outputs}}
    sha = git(github.origin, "rev-parse", "main")
    job = github.run(
        f"fork-{remote}",
        pull_request_event(9, "main", sha, head_repo=FORK),
        "main",
        workflow=workflow,
        prepare=with_remote(remote, warm=True),
        secrets={},
        needs=needs,
    )
    assert job.succeeded, failures(job)
    assert job.runs_on == "ubuntu-latest"
    credentials = job.step("Give DVC the remote's credentials")
    assert credentials.outcome == "success" and credentials.outputs == {}
    assert not (job.workspace / ".dvc/config.local").read_text().count("keyfile")
    assert "credentialpath" not in (job.workspace / ".dvc/config.local").read_text()
    assert not list(job.runner_temp.glob("dvc-*key*"))
    assert_pipeline_left_a_clean_workspace(job)
    first_secret = next(iter(PRIVATE_REMOTE_SECRETS[remote]))
    assert f"no `{first_secret}`" in notes(job) and "nothing was pulled" in notes(job)
    if runner != "github-hosted":
        assert "no `REPO_TOKEN`" in notes(job)
    assert job.step("Post the report").outcome == "skipped" and job.calls == []
    assert "## Notes" in job.summary
    assert_report_uploaded(job)
    assert "Quality gate passed" in job.step("Quality gate").output


@pytest.mark.e2e
@pytest.mark.parametrize("remote", list(PRIVATE_REMOTE_SECRETS))
def test_credential_steps_give_dvc_the_secrets(github, rendered, remote):
    """A same-repository run: the credential step writes what DVC needs, privately, and lets the
    pipeline pull (the steps from the pipeline on need the real remote: not run here)."""
    workflow = yaml.safe_load(rendered[f"{remote}-github-hosted-no"].read_text())
    sha = git(github.origin, "rev-parse", "main")
    secrets = PRIVATE_REMOTE_SECRETS[remote]
    job = github.run(
        f"secrets-{remote}",
        pull_request_event(10, "main", sha),
        "main",
        workflow=workflow,
        prepare=with_remote(remote),
        secrets=secrets,
        stop_before="Run the pipeline",
    )
    assert job.succeeded, failures(job)
    credentials = job.step("Give DVC the remote's credentials")
    assert credentials.outputs == {"pull": "true"}
    config = (job.workspace / ".dvc/config.local").read_text()
    if remote == "gs":
        key = job.runner_temp / "dvc-gcp-key.json"
        assert key.read_text() == secrets["GOOGLE_APPLICATION_CREDENTIALS_DATA"]
        assert key.stat().st_mode & 0o777 == 0o600
        assert f"credentialpath = {key}" in config
    elif remote == "ssh":
        key = job.runner_temp / "dvc-ssh-key"
        assert key.read_text() == secrets["DVC_SSH_KEY"] + "\n"
        assert key.stat().st_mode & 0o777 == 0o600
        assert f"keyfile = {key}" in config
        known_hosts = job.runner_temp / "home/.ssh/known_hosts"
        assert known_hosts.read_text() == secrets["DVC_SSH_KNOWN_HOSTS"] + "\n"
    else:
        assert "credentialpath" not in config and "keyfile" not in config
    assert "nothing was pulled" not in (job.runner_temp / "report-notes.md").read_text()


@pytest.mark.e2e
def test_publish_path_posts_the_report_with_its_images(github, rendered):
    """cml_publish_images=yes: the comment is report.md, whose local images CML uploads."""
    workflow = yaml.safe_load(rendered["local-github-hosted-yes"].read_text())
    sha = git(github.origin, "rev-parse", "main")
    job = github.run(
        "publish",
        pull_request_event(11, "main", sha),
        "main",
        workflow=workflow,
        prepare=lambda workspace: run(
            [str(workspace.parent / "origin/.venv-dvc/bin/dvc"), "pull", "--quiet"], workspace
        ),
    )
    assert job.succeeded, failures(job)
    [call] = job.calls
    assert call["positionals"] == ["report.md"] and call["options"]["publish"] is True
    published = set(call["published"])
    assert {"report/intent_confusion_matrix.png", "report/intent_f1.png"} <= published
    # The "Over time" chart comes once main has results in its history (earlier tests add them).
    assert published - {"report/intent_confusion_matrix.png", "report/intent_f1.png"} <= {
        "report/history.png"
    }
    assert call["markdown"] == (job.workspace / "report.md").read_text()


# --- Rasa's component cache across runs -------------------------------------------------------


def add_story(project):
    """A stories-only change: one more story made of intents and actions the bot already has."""
    stories = yaml.safe_load((project / "data/stories.yml").read_text())
    first = stories["stories"][0]
    stories["stories"].append({**first, "story": f"{first['story']} (once more)"})
    (project / "data/stories.yml").write_text(yaml.safe_dump(stories, sort_keys=False))


def cached(workspace, component_file):
    """How many trained copies of a component Rasa's cache holds (one folder per fingerprint)."""
    return len(list((workspace / ".rasa/cache").glob(f"*/{component_file}")))


@pytest.mark.e2e
def test_stories_only_pr_restores_diet_from_main_s_cache(github, improving_pr):
    """main trains (new seeds, few epochs: this is about what trains, not how well) and saves
    .rasa/cache in main's scope; a pull request that only adds a story restores it: DVC reruns
    split, train and test, and in training DIET comes from the cache, only the dialogue policy
    trains (a local `dvc repro` after a stories edit works the same way, on the project's own
    .rasa/cache)."""
    git(github.origin, "checkout", "--quiet", "main")
    params = (github.origin / "params.yaml").read_text()
    params = re.sub(r"random_seed: \d+", "random_seed: 7", params)
    (github.origin / "params.yaml").write_text(
        re.sub(r"(?m)^    epochs: \d+$", "    epochs: 5", params)
    )
    git(github.origin, "commit", "--quiet", "-am", "Other seeds, 5 epochs")
    sha = git(github.origin, "rev-parse", "main")
    before = git(github.origin, "rev-parse", "main~1")
    on_main = github.run("push-main-seed", push_event(sha, before), "main")
    trained = on_main.step("Run the pipeline")
    assert trained.outcome == "success", failures(on_main)
    assert "Cache not found" in on_main.step("Restore Rasa").output
    assert "(refs/heads/main)" in on_main.step("Save Rasa").output
    assert cached(on_main.workspace, "DIETClassifier.tf_model.index") == 1
    assert cached(on_main.workspace, "ted_policy.tf_model.index") == 1

    job = open_pr(github, 5, "one-more-story", add_story, "One more story", "pr-stories")
    assert "(refs/heads/main)" in job.step("Restore Rasa").output
    pipeline = job.step("Run the pipeline")
    assert pipeline.outcome == "success", failures(job)
    assert ran_stages(pipeline.output) == ["split", "train", "test"], pipeline.output
    assert "Restored component 'DIETClassifier' from cache." in pipeline.output
    assert "Starting to train component 'TEDPolicy'" in pipeline.output
    assert (job.workspace / "models/model.tar.gz").is_file()
    assert cached(job.workspace, "DIETClassifier.tf_model.index") == 1, "DIET was retrained"
    assert cached(job.workspace, "ted_policy.tf_model.index") == 2, "TED was not retrained"
    print(
        f"\npipeline with an empty Rasa cache (main): {trained.seconds:.0f}s; stories-only pull "
        f"request with main's cache: {pipeline.seconds:.0f}s"
    )
