"""The baked Dockerfile, docker-compose.yml, .dockerignore and image workflow, read statically.

There is no Docker daemon on the machines that run these tests; the image workflow builds and
starts the image on GitHub. These checks hold the files to what that build relies on.
"""

import re
import shlex
import subprocess

import dockerfile as buildkit  # the Go parser BuildKit uses, through its Python binding
import pytest
import yaml

from support import assert_actions_pinned, bake, shellcheck_run_steps, tool

BUILD_TOOLS = re.compile(r"\b(apt-get|apt|apk|gcc|g\+\+|make|build-essential|uv|pip)\b")


# --- a small Dockerfile reader ---------------------------------------------------------------


def instructions(text):
    """[(KEYWORD, arguments)]: comments dropped, continuation lines joined."""
    found, pending = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, arguments = (pending + stripped).partition(" ")
        found.append((keyword.upper(), arguments.strip()))
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return found


def stages(text):
    """The build stages: [{"image", "name", "steps": [(KEYWORD, arguments)]}]."""
    global_args, result = {}, []
    for keyword, arguments in instructions(text):
        if keyword == "FROM":
            words = arguments.split()
            image = re.sub(r"\$\{(\w+)\}", lambda m: global_args[m[1]], words[0])
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            result.append({"image": image, "name": name, "steps": []})
        elif not result:
            assert keyword == "ARG", f"{keyword} before the first FROM"
            key, _, value = arguments.partition("=")
            global_args[key] = value
        else:
            result[-1]["steps"].append((keyword, arguments))
    return result


def step_args(stage, keyword):
    return [arguments for kw, arguments in stage["steps"] if kw == keyword]


def copy_parts(arguments):
    """(flags, sources, destination) of a COPY."""
    words = shlex.split(arguments)
    flags = [w for w in words if w.startswith("--")]
    paths = [w for w in words if not w.startswith("--")]
    return flags, paths[:-1], paths[-1]


def exec_form(arguments):
    return yaml.safe_load(arguments)  # a JSON array is YAML


# --- .dockerignore, matched the way Docker does: the last matching rule wins -----------------


def dockerignore_rules(project):
    rules = []
    for line in (project / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            negate = line.startswith("!")
            rules.append((negate, line.lstrip("!").strip("/")))
    return rules


def _pattern(rule):
    out, i = "", 0
    while i < len(rule):
        if rule.startswith("**/", i):
            out, i = out + "(.*/)?", i + 3
        elif rule.startswith("**", i):
            out, i = out + ".*", i + 2
        elif rule[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif rule[i] == "?":
            out, i = out + "[^/]", i + 1
        elif rule[i] == "[":
            end = rule.index("]", i)
            out, i = out + rule[i : end + 1], end + 1
        else:
            out, i = out + re.escape(rule[i]), i + 1
    return re.compile(out)


def ignored(rules, path):
    """True when Docker leaves `path` (relative, POSIX) out of the build context."""
    parts = path.strip("/").split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    excluded = False
    for negate, rule in rules:
        if any(_pattern(rule).fullmatch(prefix) for prefix in prefixes):
            excluded = not negate
    return excluded


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def project(cookies_session):
    return bake(cookies_session)


@pytest.fixture(scope="module")
def dockerfile(project):
    return stages((project / "Dockerfile").read_text())


@pytest.fixture(scope="module")
def compose(project):
    return yaml.safe_load((project / "docker-compose.yml").read_text())


def rasa_port(dockerfile):
    command = exec_form(step_args(dockerfile[-1], "CMD")[-1])
    return int(command[command.index("--port") + 1])


# --- Dockerfile --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["Rasa Assistant", "escape=x", "syntax=x", "ESCAPE = x", "check=skip=all", "# escape=x"]
)
def test_buildkit_parses_the_dockerfile_whatever_the_project_is_called(cookies, name):
    """A name that reads as a parser directive (`# escape=...` right after `# syntax=...`) must
    land in a comment, not change how Docker reads the file."""
    project = bake(cookies, project_name=name, project_slug="bot")
    commands = buildkit.parse_file(str(project / "Dockerfile"))
    assert [c.cmd for c in commands if c.cmd in ("FROM", "ENTRYPOINT")] == [
        "FROM",
        "FROM",
        "ENTRYPOINT",
    ]
    assert f"# {name}: one image" in (project / "Dockerfile").read_text()


def test_two_stages_on_the_python_rasa_needs(dockerfile):
    assert [s["name"] for s in dockerfile] == ["builder", None]
    for stage in dockerfile:
        assert re.fullmatch(r"python:3\.10-slim(-\w+)?", stage["image"]), stage["image"]
    assert dockerfile[0]["image"] == dockerfile[1]["image"], (
        "the venv links to the builder's Python"
    )


def test_builder_installs_exactly_the_lock_with_uv(dockerfile):
    builder = dockerfile[0]
    copied = {}
    for arguments in step_args(builder, "COPY"):
        _, sources, destination = copy_parts(arguments)
        copied.update({source: destination for source in sources})
    assert set(copied) == {"requirements/bot.txt"}, "the builder sees the lock and nothing else"
    runs = " ".join(step_args(builder, "RUN"))
    assert re.search(
        rf"uv pip sync --python /opt/venv/bin/python {re.escape(copied['requirements/bot.txt'])}",
        runs,
    )
    assert re.search(r"pip install [^&]*\"uv==\$\{UV_VERSION\}\"", runs)
    assert any(
        a.startswith("UV_VERSION=") and re.fullmatch(r"UV_VERSION=\d+\.\d+\.\d+", a)
        for a in step_args(builder, "ARG")
    ), "uv is pinned"


def test_final_stage_has_the_venv_the_app_and_the_model_but_no_build_tools(dockerfile, project):
    final = dockerfile[-1]
    copies = [copy_parts(a) for a in step_args(final, "COPY")]
    assert (["--from=builder"], ["/opt/venv"], "/opt/venv") in copies
    sources = {s for flags, srcs, _ in copies if not flags for s in srcs}
    assert sources == {"actions/", "endpoints.yml", "credentials.yml", "models/model.tar.gz"}
    for run_step in step_args(final, "RUN"):
        assert not BUILD_TOOLS.search(run_step), f"build tooling in the final stage: {run_step}"
    assert any("/opt/venv/bin" in env for env in step_args(final, "ENV"))
    assert any("RASA_TELEMETRY_ENABLED=false" in env for env in step_args(final, "ENV"))
    dvc = yaml.safe_load((project / "dvc.yaml").read_text())
    assert "models/model.tar.gz" in dvc["stages"]["train"]["outs"], (
        "the model DVC tracks is the one copied"
    )


def test_final_stage_runs_as_the_non_root_user_it_creates(dockerfile):
    final = dockerfile[-1]
    users = step_args(final, "USER")
    assert users, "no USER: the container would run as root"
    user, _, group = users[-1].partition(":")
    assert user not in {"root", "0"} and group not in {"root", "0"}
    created = " ".join(step_args(final, "RUN"))
    assert f"--uid {user}" in created and f"--gid {group}" in created
    keywords = [kw for kw, _ in final["steps"]]
    after_user = keywords[keywords.index("USER") :]
    assert "RUN" not in after_user and "COPY" not in after_user


def test_health_check_and_command_agree_on_the_port(dockerfile):
    final = dockerfile[-1]
    port = rasa_port(dockerfile)
    (health,) = step_args(final, "HEALTHCHECK")
    assert re.search(r"--start-period=\d+s", health), "Rasa loads the model before it answers"
    assert f"http://127.0.0.1:{port}/" in health
    assert str(port) in step_args(final, "EXPOSE")[0].split()
    (entrypoint,) = step_args(final, "ENTRYPOINT")
    command = exec_form(entrypoint) + exec_form(step_args(final, "CMD")[-1])
    assert command[:2] == ["rasa", "run"]
    assert command[command.index("--model") + 1] == "models/model.tar.gz"
    assert "--cors" not in command
    assert "--enable-api" not in command or "--auth-token" in command or "--jwt-secret" in command


# --- .dockerignore -----------------------------------------------------------------------------


def test_dockerignore_keeps_caches_results_envs_and_secrets_out(project):
    rules = dockerignore_rules(project)
    for path in [
        ".git/config",
        ".venv/bin/python",
        ".venv-dvc/bin/dvc",
        ".dvc/cache/files/md5/ab/cd",
        ".dvc/tmp/lock",
        ".dvc/config.local",
        ".rasa/cache/x",
        "results/intent_report.json",
        "split/train.yml",
        "actions/__pycache__/actions.cpython-310.pyc",
        ".pytest_cache/v",
        ".env",
        "models/20240101-old.tar.gz",
    ]:
        assert ignored(rules, path), f"{path} would be sent to the Docker daemon"


def test_everything_the_dockerfile_copies_is_in_the_build_context(project, dockerfile):
    rules = dockerignore_rules(project)
    for stage in dockerfile:
        for arguments in step_args(stage, "COPY"):
            flags, sources, _ = copy_parts(arguments)
            if flags:
                continue
            for source in sources:
                assert not ignored(rules, source), f".dockerignore hides {source}"
                if source != "models/model.tar.gz":  # a DVC output: `make repro` / `make pull`
                    assert (project / source).exists(), source
    for path in (project / "actions").rglob("*.py"):
        assert not ignored(rules, str(path.relative_to(project)))


# --- docker-compose.yml ------------------------------------------------------------------------


def test_compose_runs_rasa_and_the_action_server_from_one_image(compose):
    services = compose["services"]
    assert set(services) == {"rasa", "actions"}
    for service in services.values():
        assert service["build"] == "."
        assert "ALL" in service["cap_drop"]
    assert services["rasa"]["image"] == services["actions"]["image"]
    assert services["actions"]["entrypoint"] == ["python", "-m", "rasa_sdk"]


def test_compose_health_checks_gate_the_start(compose, dockerfile):
    services = compose["services"]
    action_command = services["actions"]["command"]
    action_port = int(action_command[action_command.index("--port") + 1])
    probes = {
        "rasa": f"http://127.0.0.1:{rasa_port(dockerfile)}/",
        "actions": f"http://127.0.0.1:{action_port}/health",
    }
    for name, url in probes.items():
        check = services[name]["healthcheck"]
        assert check["test"][0] == "CMD" and url in " ".join(check["test"]), name
        assert {"interval", "timeout", "retries", "start_period"} <= set(check), name
    assert services["rasa"]["depends_on"]["actions"]["condition"] == "service_healthy"


def test_compose_points_rasa_at_the_action_service(compose, dockerfile):
    services = compose["services"]
    action_command = services["actions"]["command"]
    action_port = action_command[action_command.index("--port") + 1]
    assert action_port in services["actions"]["expose"]
    assert "ports" not in services["actions"], "the action server is for Rasa only"

    command = exec_form(step_args(dockerfile[-1], "CMD")[-1])
    workdir = step_args(dockerfile[-1], "WORKDIR")[-1]
    endpoints_in_container = f"{workdir}/{command[command.index('--endpoints') + 1]}"
    (mount,) = services["rasa"]["configs"]
    assert mount["target"] == endpoints_in_container
    endpoints = yaml.safe_load(compose["configs"][mount["source"]]["content"])
    assert endpoints["action_endpoint"]["url"] == f"http://actions:{action_port}/webhook"

    (published,) = services["rasa"]["ports"]
    host, _, container = published.rpartition(":")
    assert host.startswith("127.0.0.1:"), "published on loopback only"
    assert int(container) == rasa_port(dockerfile)


# --- the image workflow -------------------------------------------------------------------------


def test_image_workflow_only_with_github(cookies):
    assert not (bake(cookies, ci_provider="none") / ".github").exists()


def test_image_workflow_is_hardened_and_builds_what_compose_serves(project, compose):
    path = project / ".github/workflows/image.yml"
    workflow = yaml.safe_load(path.read_text())
    assert workflow["permissions"] == {}
    assert workflow["concurrency"]["cancel-in-progress"] is True
    assert {"pull_request", "push", "workflow_dispatch"} == set(workflow[True])  # YAML 1.1: on
    assert workflow["env"] == {
        "DVC_NO_ANALYTICS": "1",
        "ITERATIVE_DO_NOT_TRACK": "true",
        "RASA_TELEMETRY_ENABLED": "false",
    }
    (job,) = workflow["jobs"].values()
    assert job["permissions"] == {"contents": "read"}
    assert job["timeout-minutes"] <= 60
    used = assert_actions_pinned(path.read_text())  # each at its commit, tag in a comment
    assert used <= {
        "actions/checkout",
        "actions/setup-python",
        "astral-sh/setup-uv",
        "iterative/setup-cml",
    }
    runs = []
    for step in job["steps"]:
        if "uses" in step:
            if step["uses"].startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False
        else:
            assert "${{" not in step["run"], step["run"]
            runs.append(step["run"])
    script = "\n".join(runs)
    assert "make install repro" in script
    assert "docker compose build" in script and "docker compose up --detach --wait" in script
    published = compose["services"]["rasa"]["ports"][0].split(":")[-1]
    assert f"http://127.0.0.1:{published}/webhooks/rest/webhook" in script
    assert "It is [0-9]{2}:[0-9]{2} UTC" in script, "the smoke test reaches the action server"


def test_image_workflow_passes_the_schema_and_zizmor(project):
    path = project / ".github/workflows/image.yml"
    for args in (
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(path)],
        [tool("zizmor"), "--offline", "--persona", "pedantic", str(path)],
    ):
        result = subprocess.run(args, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr


def test_shellcheck_finds_nothing_in_the_image_workflow_run_scripts(project, tmp_path):
    workflow = yaml.safe_load((project / ".github/workflows/image.yml").read_text())
    result, scripts = shellcheck_run_steps([workflow], tmp_path)
    assert scripts >= 2
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_file_passes_the_compose_schema(project):
    args = [
        tool("check-jsonschema"),
        "--builtin-schema",
        "vendor.compose-spec",
        str(project / "docker-compose.yml"),
    ]
    result = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
