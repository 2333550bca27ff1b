"""The generated CML workflow, read statically, for every option combination that renders one.

Renders the template without hooks (fast; test_bake bakes real projects) for every dvc_remote x
cml_runner x cml_publish_images, then, in cml.yml and sweep.yml: GitHub's workflow schema and
zizmor (regular and auditor) find nothing, and shellcheck finds nothing in the `run:` scripts;
cml.yml's hardening rules hold on the parsed YAML (sweep.yml's: test_sweep_workflow.py).
"""

import json
import re
import shlex
import shutil
import subprocess

import pytest
import yaml

from support import (
    LEFTOVER_JINJA,
    PINNED_ACTIONS,
    WORKFLOW_COMBINATIONS,
    assert_actions_pinned,
    cml_recorder,
    combo_id,
    shellcheck_run_steps,
    tool,
)
from support.remote_facts import REMOTES, RUNNERS
from support.workflow_runner import Evaluator, condition

REMOTE_SECRETS = {remote: set(facts["secrets"]) for remote, facts in REMOTES.items()}
PRIVATE_REMOTES = {remote for remote, secrets in REMOTE_SECRETS.items() if secrets}
# zizmor --persona=auditor findings accepted on purpose: {audit id: reason}. None today: secrets
# live in GitHub environments (dvc-remote, cml-runner), and the self-hosted runner's label comes
# from launch-runner's output (a single-use runner, `cml runner launch --single`).
ACCEPTED_AUDITOR_FINDINGS: dict[str, str] = {}
# The only expressions env/with may hold, each read whole: a secret, a variable (with a literal
# default), a step's outcome or output, a needed job's output, the runner's OS, the commit, the
# workflow's token, a hash of files, and the two commits GitHub names for an event (main before
# a push, a merge queue's base). The rest of github.event and github.head_ref are set by
# whoever opens the pull request and never reach a step's environment.
TRUSTED_EXPRESSION = re.compile(
    r" (?:secrets\.[A-Z][A-Z0-9_]*"
    r"|vars\.[A-Z][A-Z0-9_]*(?: \|\| '[\w-]*')?"
    r"|steps\.[a-z][\w-]*\.(?:outcome|outputs\.[a-z][\w-]*)"
    r"|needs\.[a-z][\w-]*\.outputs\.[a-z][\w-]*"
    r"|hashFiles\('[\w./*-]+'(?:, '[\w./*-]+')*\)"
    r"|github\.event\.before|github\.event\.merge_group\.base_sha"
    r"|runner\.os|github\.sha|github\.token) "
)
RUNNER_SECRETS = {runner: set(facts["secrets"]) for runner, facts in RUNNERS.items()}
TELEMETRY_OFF = {
    "DVC_NO_ANALYTICS": "1",
    "ITERATIVE_DO_NOT_TRACK": "true",
    "RASA_TELEMETRY_ENABLED": "false",
}
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}")


def steps(workflow, job="train-report-gate"):
    return workflow["jobs"][job]["steps"]


def find_step(workflow, fragment, job="train-report-gate"):
    [found] = [s for s in steps(workflow, job) if fragment in s.get("name", "")]
    return found


def all_steps(workflow):
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def workflows(rendered):
    """Every rendered cml.yml and sweep.yml, as paths for the external checkers."""
    return [p for path in rendered.values() for p in (path, sweep_of(path))]


def sweep_of(path):
    return path.with_name(f"{path.stem}-sweep.yml")


def secrets_in(value) -> set:
    return set(re.findall(r"secrets\.([A-Za-z0-9_]+)", json.dumps(value)))


# --- external checkers, all combinations in one call each -----------------------------------


def test_every_workflow_matches_githubs_schema(rendered):
    result = subprocess.run(
        [
            tool("check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, workflows(rendered)),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dependabot_config_matches_its_schema_and_updates_the_actions(rendered):
    configs = sorted(next(iter(rendered.values())).parent.glob("*-dependabot.yml"))
    assert len(configs) == len(rendered) and len({c.read_text() for c in configs}) == 1
    result = subprocess.run(
        [
            tool("check-jsonschema"),
            "--builtin-schema",
            "vendor.dependabot",
            str(configs[0]),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    [update] = yaml.safe_load(configs[0].read_text())["updates"]
    assert update["package-ecosystem"] == "github-actions" and update["directory"] == "/"


def test_zizmor_auditor_findings_are_only_the_accepted_ones(rendered, tmp_path):
    dependabot = tmp_path / "dependabot.yml"  # zizmor knows the file by its name
    shutil.copy(
        next(iter(rendered.values())).parent / "local-github-hosted-no-dependabot.yml", dependabot
    )
    result = subprocess.run(
        [
            tool("zizmor"),
            "--offline",
            "--no-progress",
            "--persona=auditor",
            "--format=json",
            *map(str, workflows(rendered)),
            str(dependabot),
        ],
        capture_output=True,
        text=True,
    )
    findings = json.loads(result.stdout)
    unexplained = sorted(
        {
            f"{f['ident']}: {f['desc']}"
            for f in findings
            if f["ident"] not in ACCEPTED_AUDITOR_FINDINGS
        }
    )
    assert not unexplained, unexplained


def test_zizmor_finds_nothing_in_any_workflow(rendered):
    result = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", *map(str, workflows(rendered))],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout + result.stderr


def test_shellcheck_finds_nothing_in_the_run_scripts(rendered, tmp_path):
    parsed = [yaml.safe_load(path.read_text()) for path in workflows(rendered)]
    result, scripts = shellcheck_run_steps(parsed, tmp_path)
    assert scripts > 10
    assert result.returncode == 0, result.stdout + result.stderr


# --- hardening and behaviour, per combination -----------------------------------------------


@pytest.mark.parametrize("combo", WORKFLOW_COMBINATIONS, ids=combo_id)
def test_workflow_is_hardened(rendered, combo):
    text = rendered[combo_id(combo)].read_text()
    assert not LEFTOVER_JINJA.search(text)
    assert "\n\n\n" not in text and not text.startswith("\n")
    workflow = yaml.safe_load(text)
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as True
    assert set(triggers) == {"pull_request", "push", "merge_group", "workflow_dispatch"}
    assert triggers["push"] == {"branches": ["main"]}
    assert "pull_request_target" not in text and "workflow_run" not in text
    assert workflow["permissions"] == {}
    assert workflow["env"] == TELEMETRY_OFF

    for job_id, job in workflow["jobs"].items():
        limit = job["timeout-minutes"]
        if job_id == "train-report-gate":  # a repository variable, 60 minutes without it
            evaluate = Evaluator({"vars": {}}).evaluate
            assert limit == "${{ fromJSON(vars.CML_TIMEOUT_MINUTES || '60') }}"
            assert evaluate(limit[3:-2]) == 60
            limit = Evaluator({"vars": {"CML_TIMEOUT_MINUTES": "150"}}).evaluate(limit[3:-2])
            assert limit == 150
        else:
            assert 0 < limit <= 120, job_id
        granted = job["permissions"]
        writes = {scope for scope, level in granted.items() if level != "read"}
        if job_id == "train-report-gate":
            assert granted == {"contents": "read", "pull-requests": "write"}
        else:
            assert granted == {}, job_id
        assert writes <= {"pull-requests"}
        # Secrets come from a GitHub environment, where protection rules can guard them.
        if secrets_in(job):
            assert job["environment"] == (
                "dvc-remote" if job_id == "train-report-gate" else "cml-runner"
            )
        else:
            assert "environment" not in job, job_id

    assert_actions_pinned(text)

    for step in all_steps(workflow):
        if step.get("uses", "").startswith("iterative/setup-cml@"):
            assert step["with"] == {"version": cml_recorder.CML_VERSION, "vega": False}

    for step in all_steps(workflow):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step["with"] == {"fetch-depth": 0, "persist-credentials": False}
        assert "${{" not in step.get("run", ""), f"expression inside run: {step.get('name')}"
        for value in list((step.get("env") or {}).values()) + list(
            (step.get("with") or {}).values()
        ):
            for expression in EXPRESSION.findall(str(value)):
                assert TRUSTED_EXPRESSION.fullmatch(expression), (
                    f"untrusted or unexpected expression in env/with: {expression}"
                )
    for scope in [workflow, *workflow["jobs"].values()]:
        assert not secrets_in(scope.get("env")), (
            "secrets belong in the env of the steps that use them"
        )


@pytest.mark.parametrize("combo", WORKFLOW_COMBINATIONS, ids=combo_id)
def test_secrets_are_exactly_those_of_the_chosen_remote_and_runner(rendered, combo):
    workflow = yaml.safe_load(rendered[combo_id(combo)].read_text())
    expected = REMOTE_SECRETS[combo["dvc_remote"]] | RUNNER_SECRETS[combo["cml_runner"]]
    assert secrets_in(workflow) == expected
    # A secret reaches only a step whose command needs it: CML to launch the runner, DVC to
    # reach the remote. The comment step gets the workflow's own token, nothing else.
    for job_id, job in workflow["jobs"].items():
        for step in job["steps"]:
            if not secrets_in(step.get("env")):
                continue
            if job_id == "launch-runner":
                assert "cml runner launch" in step["run"]
            else:
                assert secrets_in(step["env"]) <= REMOTE_SECRETS[combo["dvc_remote"]]
                assert ".venv-dvc/bin/dvc " in step["run"] or step["id"] == "credentials"


@pytest.mark.parametrize("combo", WORKFLOW_COMBINATIONS, ids=combo_id)
def test_train_job_checks_the_lock_pulls_gates_reports_uploads_then_comments(rendered, combo):
    workflow = yaml.safe_load(rendered[combo_id(combo)].read_text())
    runs = [s.get("run", s.get("uses", "")).strip() for s in steps(workflow)]
    order = [
        "GITHUB_ENV",
        "make install",
        "make check-lock",
        "actions/cache/restore@",
        "dvc repro",
        "actions/cache/save@",
        "make gate",
        "make report",
        "GITHUB_STEP_SUMMARY",
        "actions/upload-artifact@",
        "iterative/setup-cml@",
        "cml comment",
    ]
    positions = [next(i for i, r in enumerate(runs) if key in r) for key in order]
    assert positions == sorted(positions), runs
    # The gate decides before the report, which shows its verdict (GATE_RESULT); every step
    # after the pipeline runs when one before it failed, unless the run was cancelled.
    gate, report = find_step(workflow, "Quality gate"), find_step(workflow, "Write the report")
    for step in (gate, report):
        assert step["if"] == "${{ !cancelled() && steps.pipeline.outcome == 'success' }}"
    assert "GATE_RESULT=" in find_step(workflow, "Start the run")["run"]
    # The baseline's gate code judges (test_workflow_run runs it against a change's own copy).
    assert 'git archive "$BASELINE" pipeline' in gate["run"]
    assert "baseline_module pipeline.gate" in gate["run"]
    assert '--result "$GATE_RESULT"' in gate["run"]
    assert "baseline_module pipeline.check_lock" in gate["run"]

    repro = find_step(workflow, "Run the pipeline")
    assert repro["id"] == "pipeline"
    push = [s for s in steps(workflow) if "dvc push" in s.get("run", "")]
    if combo["dvc_remote"] == "none":
        assert "pull_option=()\n" in repro["run"] and not push
    else:
        [push] = push
        assert push["run"].startswith(".venv-dvc/bin/dvc push --run-cache 2>&1 | tee ")
        assert push["if"] == "github.event_name == 'push'"
    assert 'dvc repro "${pull_option[@]}"' in repro["run"]
    if combo["dvc_remote"] == "local":
        assert "pull_option=(--pull)\n" in repro["run"]
    if combo["dvc_remote"] in PRIVATE_REMOTES:
        # Without the remote's secrets (forks, Dependabot) nothing is pulled; the report says why.
        assert repro["env"]["PULL"] == "${{ steps.credentials.outputs.pull }}"
        assert 'if [ "$PULL" = true ]; then pull_option=(--pull); fi' in repro["run"]
        credentials = find_step(workflow, "credentials")
        assert credentials["id"] == "credentials"
        assert '>> "$REPORT_NOTES"' in credentials["run"] and "exit 0" in credentials["run"]

    comment = find_step(workflow, "Post the report")
    [line] = [line for line in comment["run"].splitlines() if line.strip().startswith("cml ")]
    publish = combo["cml_publish_images"] == "yes"
    report = "report.md" if publish else "report/without-images.md"
    assert f"report={report}\n" in comment["run"]
    chosen = {"$publish": "--publish" if publish else "--publish=false", "$report": report}
    call = cml_recorder.parse([chosen.get(arg, arg) for arg in shlex.split(line)[1:]])
    assert call["command"] == "comment update"
    assert call["options"]["watermark-title"] == "Model report"
    assert call["options"]["publish"] is publish
    assert call["positionals"] == [report]
    assert comment["env"] == {"REPO_TOKEN": "${{ github.token }}"}
    # A comment GitHub refuses does not decide the run: the gate does.
    assert comment["continue-on-error"] is True


@pytest.mark.parametrize("combo", WORKFLOW_COMBINATIONS, ids=combo_id)
def test_every_run_uploads_the_report_and_its_plots(rendered, combo):
    workflow = yaml.safe_load(rendered[combo_id(combo)].read_text())
    [upload] = [s for s in steps(workflow) if "upload-artifact" in s.get("uses", "")]
    assert (
        upload["uses"] == "actions/upload-artifact@" + PINNED_ACTIONS["actions/upload-artifact"][0]
    )
    assert upload["if"] == "always()"
    assert upload["with"]["name"] == "model-report"
    assert upload["with"]["overwrite"] is True, "a re-run uploads the same name again"
    assert upload["with"]["path"].split() == ["report.md", "report/"]
    assert 1 <= upload["with"]["retention-days"] <= 90
    # The comment and the summary say where the plots are: the run's artifacts.
    start = find_step(workflow, "Start the run")["run"]
    assert "/actions/runs/$GITHUB_RUN_ID" in start and "model-report" in start


@pytest.mark.parametrize("combo", WORKFLOW_COMBINATIONS, ids=combo_id)
def test_rasa_cache_is_restored_before_training_and_saved_on_main_per_training_inputs(
    rendered, combo
):
    workflow = yaml.safe_load(rendered[combo_id(combo)].read_text())
    restore = next(s for s in steps(workflow) if "cache/restore" in s.get("uses", ""))
    save = next(s for s in steps(workflow) if "cache/save" in s.get("uses", ""))
    assert restore["with"]["path"] == save["with"]["path"] == ".rasa/cache"
    # One key per set of training inputs, saved by pushes to main only: commits that change no
    # input add no entry, and pull requests add none (they restore main's newest).
    assert restore["with"]["key"] == save["with"]["key"]
    assert "github.sha" not in save["with"]["key"]
    assert re.fullmatch(
        r"rasa-cache-\$\{\{ runner.os \}\}-\$\{\{ hashFiles\(.*\) \}\}", save["with"]["key"]
    )
    for inputs in ("'config.yml'", "'params.yaml'", "'data/**'", "'requirements/bot.txt'"):
        assert inputs in save["with"]["key"]
    assert save["if"] == "github.event_name == 'push'"
    assert restore["with"]["key"].startswith(restore["with"]["restore-keys"])


def test_superseded_runs_are_cancelled_on_pull_requests_only(rendered):
    concurrency = yaml.safe_load(rendered["local-github-hosted-no"].read_text())["concurrency"]

    def evaluate(value, event_name, ref, run_id):
        contexts = {
            "github": {
                "workflow": "CML",
                "event_name": event_name,
                "ref": ref,
                "run_id": run_id,
            }
        }
        return [Evaluator(contexts).evaluate(e) for e in EXPRESSION.findall(str(value))]

    pr = [("pull_request", "refs/pull/7/merge", run) for run in ("101", "102")]
    main = [("push", "refs/heads/main", run) for run in ("201", "202")]
    assert [evaluate(concurrency["cancel-in-progress"], *run) for run in pr] == [
        [True],
        [True],
    ]
    assert [evaluate(concurrency["cancel-in-progress"], *run) for run in main] == [
        [False],
        [False],
    ]
    groups = {run: evaluate(concurrency["group"], *run) for run in pr + main}
    assert groups[pr[0]] == groups[pr[1]], "a new push to a pull request replaces its run"
    assert groups[main[0]] != groups[main[1]], "two pushes to main both run to the end"


@pytest.mark.parametrize("combo", WORKFLOW_COMBINATIONS, ids=combo_id)
def test_runner_choice(rendered, combo):
    workflow = yaml.safe_load(rendered[combo_id(combo)].read_text())
    train = workflow["jobs"]["train-report-gate"]
    runner = combo["cml_runner"]
    if runner == "github-hosted":
        assert set(workflow["jobs"]) == {"train-report-gate"}
        assert train["runs-on"] == "ubuntu-latest" and "needs" not in train
        return
    assert set(workflow["jobs"]) == {"launch-runner", "train-report-gate"}
    assert train["needs"] == "launch-runner"
    # launch-runner names the runner: its own label, or GitHub's for runs without the secrets.
    assert train["runs-on"] == "${{ needs.launch-runner.outputs.runs-on }}"
    launch = workflow["jobs"]["launch-runner"]
    assert launch["runs-on"] == "ubuntu-latest"
    assert launch["outputs"]["runs-on"] == "${{ steps.launch.outputs.runs-on }}"
    script = launch["steps"][-1]["run"]
    assert f"--cloud={runner} " in script and f"--labels=cml-{runner}\n" in script
    assert f'echo "runs-on=cml-{runner}"' in script and "runs-on=ubuntu-latest" in script


def test_comment_is_skipped_for_forks_and_pushes_and_push_only_on_main(rendered):
    workflow = yaml.safe_load(rendered["local-github-hosted-no"].read_text())
    # CML is installed only for the comment, and the comment only when CML is there.
    comment, push = (
        find_step(workflow, "Install CML for the comment"),
        find_step(workflow, "Push the model"),
    )
    for contexts_ in ({"setup-cml": {"outcome": "success"}}, {"setup-cml": {"outcome": "failure"}}):
        posted = condition(
            find_step(workflow, "Post the report")["if"], {"steps": contexts_}, "success"
        )
        assert posted is (contexts_["setup-cml"]["outcome"] == "success")

    def contexts(event_name, head_repo="acme/support-bot"):
        event = (
            {"pull_request": {"head": {"repo": {"full_name": head_repo}}}}
            if event_name == "pull_request"
            else {}
        )
        return {
            "github": {
                "event_name": event_name,
                "event": event,
                "repository": "acme/support-bot",
            },
            "steps": {"report": {"outcome": "success"}},
        }

    assert condition(comment["if"], contexts("pull_request"), "success")
    assert not condition(
        comment["if"], contexts("pull_request", head_repo="someone/fork"), "success"
    )
    dependabot = contexts("pull_request")
    dependabot["github"]["event"]["pull_request"]["user"] = {"login": "dependabot[bot]"}
    assert not condition(comment["if"], dependabot, "success")
    assert not condition(comment["if"], contexts("push"), "success")
    # A failed gate does not stop the comment; a report that was not written does.
    assert condition(comment["if"], contexts("pull_request"), "failure")
    unwritten = contexts("pull_request")
    unwritten["steps"]["report"]["outcome"] = "skipped"
    assert not condition(comment["if"], unwritten, "failure")
    assert condition(push["if"], contexts("push"), "success")
    assert not condition(push["if"], contexts("pull_request"), "success")
    assert not condition(push["if"], contexts("workflow_dispatch"), "success")


@pytest.mark.parametrize("combo", WORKFLOW_COMBINATIONS, ids=combo_id)
def test_readme_lists_exactly_the_secrets_the_workflow_reads(rendered, combo):
    """The README's "Secrets to create" table and the workflow name the same secrets."""
    workflow = yaml.safe_load(rendered[combo_id(combo)].read_text())
    readme = rendered[combo_id(combo)].with_name(f"{combo_id(combo)}-README.md").read_text()
    section = readme.split("### Secrets to create", 1)[1]
    table = re.search(r"^\| secret \|.*?(?=\n\n)", section, re.M | re.S)
    rows = [line.split(" | ")[0] for line in table[0].splitlines()] if table else []
    assert set(re.findall(r"`([A-Z0-9_]+)`", " ".join(rows))) == secrets_in(workflow)


@pytest.mark.parametrize("remote", ["gs", "ssh"])
def test_credential_files_are_removed_once_the_steps_that_read_them_end(rendered, remote):
    """The key file the credentials step writes is deleted right after the last DVC step that
    talks to the remote (the pipeline's pull, the push), whatever happened before."""
    workflow = yaml.safe_load(rendered[f"{remote}-github-hosted-no"].read_text())
    names = [s.get("name", s.get("uses", "")) for s in steps(workflow)]
    [key_file] = re.findall(
        r'> "\$RUNNER_TEMP/(dvc-[\w.-]+)"', find_step(workflow, "credentials")["run"]
    )
    remove = find_step(workflow, "Remove the credential file")
    assert remove["if"] == "always()"
    assert remove["run"] == f'rm -f "$RUNNER_TEMP/{key_file}"'
    readers = [
        names.index(s["name"])
        for s in steps(workflow)
        if "dvc repro" in s.get("run", "") or "dvc push" in s.get("run", "")
    ]
    assert names.index(remove["name"]) == max(readers) + 1


@pytest.mark.parametrize("combo", WORKFLOW_COMBINATIONS, ids=combo_id)
def test_readme_documents_every_repository_variable_the_workflow_reads(rendered, combo):
    text = rendered[combo_id(combo)].read_text()
    readme = rendered[combo_id(combo)].with_name(f"{combo_id(combo)}-README.md").read_text()
    variables = set(re.findall(r"vars\.([A-Z][A-Z0-9_]*)", text))
    assert "CML_TIMEOUT_MINUTES" in variables
    assert {v for v in variables if f"`{v}`" not in readme} == set()
