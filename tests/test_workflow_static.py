"""The generated CML workflow, read statically, for every option combination that renders one.

Renders the template without hooks (fast; test_bake bakes real projects) for every dvc_remote x
cml_runner x cml_publish_images, then: GitHub's workflow schema and zizmor find nothing, shellcheck
finds nothing in the `run:` scripts, and the hardening rules hold on the parsed YAML.
"""

import itertools
import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from cookiecutter.main import cookiecutter

import cml_recorder
from conftest import TEMPLATE
from workflow_runner import Evaluator, condition

OPTIONS = json.loads((TEMPLATE / "cookiecutter.json").read_text())
COMBINATIONS = [
    dict(zip(("dvc_remote", "cml_runner", "cml_publish_images"), combo, strict=True))
    for combo in itertools.product(
        OPTIONS["dvc_remote"], OPTIONS["cml_runner"], OPTIONS["cml_publish_images"]
    )
]
# ../shared/pinned-actions.md: action -> (commit, tag). Nothing else may be used.
PINNED = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "astral-sh/setup-uv": ("20cfd1bf945f4377ade1205e4dbc17946fc9a30d", "v10.0.1"),
    "iterative/setup-cml": ("f12ea7685438c1fc438d50f77519b3860cf5fa98", "v2.0.1"),
}
REMOTE_SECRETS = {
    "local": set(),
    "none": set(),
    "s3": {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"},
    "gs": {"GOOGLE_APPLICATION_CREDENTIALS_DATA"},
    "azure": {"AZURE_STORAGE_CONNECTION_STRING"},
    "ssh": {"DVC_SSH_KEY", "DVC_SSH_KNOWN_HOSTS"},
}
RUNNER_SECRETS = {
    "github-hosted": set(),
    "aws": {"REPO_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"},
    "gcp": {"REPO_TOKEN", "GOOGLE_APPLICATION_CREDENTIALS_DATA"},
    "azure": {
        "REPO_TOKEN",
        "AZURE_CLIENT_ID",
        "AZURE_CLIENT_SECRET",
        "AZURE_SUBSCRIPTION_ID",
        "AZURE_TENANT_ID",
    },
}
TELEMETRY_OFF = {
    "DVC_NO_ANALYTICS": "1",
    "ITERATIVE_DO_NOT_TRACK": "true",
    "RASA_TELEMETRY_ENABLED": "false",
}
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}")
LEFTOVER_JINJA = re.compile(r"(?<!\$)\{\{|\{%|%\}|\{#|#\}")


def combo_id(combo):
    return "-".join(combo.values())


@pytest.fixture(scope="session")
def rendered(tmp_path_factory):
    """combo id -> the rendered .github/workflows/cml.yml (a copy, outside its project)."""
    root = tmp_path_factory.mktemp("workflows")
    files = {}
    for combo in COMBINATIONS:
        name = combo_id(combo)
        project = cookiecutter(
            str(TEMPLATE),
            no_input=True,
            accept_hooks=False,
            output_dir=str(root / name),
            extra_context={**combo, "ci_provider": "github"},
        )
        files[name] = shutil.copy(f"{project}/.github/workflows/cml.yml", root / f"{name}.yml")
        shutil.rmtree(root / name)
    return {name: Path(path) for name, path in files.items()}


def tool(name):
    path = shutil.which(name)
    assert path, f"{name} not found on PATH: `make install` puts it in .venv (requirements-dev.txt)"
    return path


def steps(workflow, job="train-report-gate"):
    return workflow["jobs"][job]["steps"]


def find_step(workflow, fragment, job="train-report-gate"):
    [found] = [s for s in steps(workflow, job) if fragment in s.get("name", "")]
    return found


def all_steps(workflow):
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def secrets_in(value) -> set:
    return set(re.findall(r"secrets\.([A-Za-z0-9_]+)", json.dumps(value)))


# --- external checkers, all combinations in one call each -----------------------------------


def test_every_workflow_matches_githubs_schema(rendered):
    result = subprocess.run(
        [
            tool("check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, rendered.values()),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing_in_any_workflow(rendered):
    result = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", *map(str, rendered.values())],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout + result.stderr


def test_shellcheck_finds_nothing_in_the_run_scripts(rendered, tmp_path):
    scripts = {}
    for workflow in map(lambda p: yaml.safe_load(p.read_text()), rendered.values()):
        for step in all_steps(workflow):
            if "run" in step:
                scripts.setdefault(step["run"], tmp_path / f"step-{len(scripts)}.sh")
    for text, path in scripts.items():
        path.write_text("#!/usr/bin/env bash\nset -eo pipefail\n" + text)
    result = subprocess.run(
        [tool("shellcheck"), "--severity=style", *map(str, scripts.values())],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- hardening and behaviour, per combination -----------------------------------------------


@pytest.mark.parametrize("combo", COMBINATIONS, ids=combo_id)
def test_workflow_is_hardened(rendered, combo):
    text = rendered[combo_id(combo)].read_text()
    assert not LEFTOVER_JINJA.search(text)
    assert "\n\n\n" not in text and not text.startswith("\n")
    workflow = yaml.safe_load(text)
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as True
    assert set(triggers) == {"pull_request", "push", "workflow_dispatch"}
    assert triggers["push"] == {"branches": ["main"]}
    assert "pull_request_target" not in text and "workflow_run" not in text
    assert workflow["permissions"] == {}
    assert workflow["concurrency"]["cancel-in-progress"] is True
    assert "github.ref" in workflow["concurrency"]["group"]
    assert workflow["env"] == TELEMETRY_OFF

    for job_id, job in workflow["jobs"].items():
        assert 0 < job["timeout-minutes"] <= 120, job_id
        granted = job["permissions"]
        writes = {scope for scope, level in granted.items() if level != "read"}
        if job_id == "train-report-gate":
            assert granted == {"contents": "read", "pull-requests": "write"}
        else:
            assert granted == {}, job_id
        assert writes <= {"pull-requests"}

    uses = re.findall(r"uses: (\S+)@(\S+)(.*)", text)
    assert uses
    for action, ref, comment in uses:
        assert action in PINNED, f"{action} is not in pinned-actions.md"
        commit, tag = PINNED[action]
        assert (ref, comment.strip()) == (commit, f"# {tag}"), action

    for step in all_steps(workflow):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step["with"] == {"fetch-depth": 0, "persist-credentials": False}
        assert "${{" not in step.get("run", ""), f"expression inside run: {step.get('name')}"
        for value in list((step.get("env") or {}).values()) + list(
            (step.get("with") or {}).values()
        ):
            for expression in EXPRESSION.findall(str(value)):
                names = re.findall(r"[A-Za-z_][\w.\-]*", expression.split("||")[0])
                assert all(
                    n.startswith(("secrets.", "vars.")) or n == "github.token" for n in names
                ), f"untrusted or unexpected expression in env/with: {expression}"
    for scope in [workflow, *workflow["jobs"].values()]:
        assert not secrets_in(scope.get("env")), (
            "secrets belong in the env of the steps that use them"
        )


@pytest.mark.parametrize("combo", COMBINATIONS, ids=combo_id)
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
                assert ".venv-dvc/bin/dvc " in step["run"], step["name"]


@pytest.mark.parametrize("combo", COMBINATIONS, ids=combo_id)
def test_train_job_pulls_reports_comments_then_gates(rendered, combo):
    workflow = yaml.safe_load(rendered[combo_id(combo)].read_text())
    runs = [s.get("run", s.get("uses", "")).strip() for s in steps(workflow)]
    order = [
        "make install",
        "dvc repro",
        "make report",
        "GITHUB_STEP_SUMMARY",
        "cml comment",
        "make gate",
    ]
    positions = [next(i for i, r in enumerate(runs) if key in r) for key in order]
    assert positions == sorted(positions), runs
    assert runs[-1] == "make gate", "the gate is the last step, after the report is out"

    repro = find_step(workflow, "pipeline")["run"]
    push = [s for s in steps(workflow) if "dvc push" in s.get("run", "")]
    if combo["dvc_remote"] == "none":
        assert repro == ".venv-dvc/bin/dvc repro" and not push
    else:
        assert repro == ".venv-dvc/bin/dvc repro --pull"
        [push] = push
        assert push["run"] == ".venv-dvc/bin/dvc push --run-cache"
        assert push["if"] == "github.event_name == 'push'"

    comment = find_step(workflow, "Post the report")
    call = cml_recorder.parse(shlex.split(comment["run"])[1:])
    assert call["command"] == "comment update"
    assert call["options"]["watermark-title"] == "Model report"
    publish = combo["cml_publish_images"] == "yes"
    assert call["options"]["publish"] is publish
    assert call["positionals"] == (["report.md"] if publish else ["report/without-images.md"])
    assert comment["env"] == {"REPO_TOKEN": "${{ github.token }}"}


@pytest.mark.parametrize("combo", COMBINATIONS, ids=combo_id)
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
    assert train["runs-on"] == ["self-hosted", f"cml-{runner}"]
    launch = workflow["jobs"]["launch-runner"]
    assert launch["runs-on"] == "ubuntu-latest"
    script = launch["steps"][-1]["run"]
    assert f"--cloud={runner} " in script and f"--labels=cml-{runner}\n" in script


def test_comment_is_skipped_for_forks_and_pushes_and_push_only_on_main(rendered):
    workflow = yaml.safe_load(rendered["local-github-hosted-no"].read_text())
    comment, push = find_step(workflow, "Post the report"), find_step(workflow, "Push the model")

    def contexts(event_name, head_repo="acme/support-bot"):
        event = (
            {"pull_request": {"head": {"repo": {"full_name": head_repo}}}}
            if event_name == "pull_request"
            else {}
        )
        return {
            "github": {"event_name": event_name, "event": event, "repository": "acme/support-bot"}
        }

    assert condition(comment["if"], contexts("pull_request"), "success")
    assert not condition(
        comment["if"], contexts("pull_request", head_repo="someone/fork"), "success"
    )
    assert not condition(comment["if"], contexts("push"), "success")
    assert not condition(comment["if"], contexts("pull_request"), "failure")
    assert condition(push["if"], contexts("push"), "success")
    assert not condition(push["if"], contexts("pull_request"), "success")
    assert not condition(push["if"], contexts("workflow_dispatch"), "success")


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
