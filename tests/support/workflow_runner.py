"""Run a GitHub Actions job's steps locally, the way a runner would, for tests.

`run_job` reads a parsed workflow and executes one job's `run:` steps in order, in a checked-out
repository, with GitHub's environment: the default GITHUB_* variables, the event payload, the
step files (GITHUB_ENV, GITHUB_OUTPUT, GITHUB_PATH, GITHUB_STEP_SUMMARY), `env:` at workflow,
job and step level, `if:` conditions and `continue-on-error`. `${{ }}` expressions are evaluated
with the contexts GitHub provides (github, env, secrets, vars, steps) by a small evaluator of
the expression language (literals, property access, ! == != < > && ||, the status functions,
format, contains, fromJSON and hashFiles), enough for the workflows this template generates;
anything else is an error.

`uses:` steps run their local equivalent from `local_actions` (a function per action, given the
step with its `with:` values evaluated and the step's environment; like a real action it adds to
PATH and the job's environment through the GITHUB_PATH and GITHUB_ENV files); an action without
one fails the job, so a new action in the workflow cannot go untested by accident.

Each step sees what a fresh GitHub runner gives it and nothing of the test process: a system
PATH, a HOME of its own, the GITHUB_* variables, then what the workflow and earlier steps add
(`minimal_env`). `concurrency_outcome` replays GitHub's concurrency rules over a list of runs.

GitHub rules the runner enforces, so a workflow cannot pass here by relying on their absence:
the job's `timeout-minutes` (a step still running at the limit is killed and the job ends there,
without running later steps, `always()` ones included: a workflow must not count on them), and
a name written to GITHUB_ENV that the workflow's or job's `env:` also sets is refused (which of
the two a step then sees is not something a workflow should depend on).
"""

import contextlib
import hashlib
import json
import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

# --- expressions ---------------------------------------------------------------------------

TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>\d+(?:\.\d+)?)"
    r"|(?P<op>==|!=|<=|>=|&&|\|\||[!<>().\[\],])|(?P<name>[A-Za-z_][\w-]*))"
)
STATUS_FUNCTIONS = {"success", "failure", "always", "cancelled"}


class ExpressionError(Exception):
    pass


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise ExpressionError(f"cannot read {text[pos:]!r} in {text!r}")
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    return tokens


class Evaluator:
    """Recursive descent over GitHub's expression grammar (JavaScript-like && and ||)."""

    def __init__(self, contexts: dict, status: str = "success"):
        self.contexts, self.status = contexts, status
        self.cancelled = status == "cancelled"

    def evaluate(self, text: str):
        self.tokens, self.pos = tokenize(text), 0
        value = self.or_()
        if self.pos != len(self.tokens):
            raise ExpressionError(f"unexpected {self.tokens[self.pos][1]!r} in {text!r}")
        return value

    def peek(self, *values):
        return self.pos < len(self.tokens) and self.tokens[self.pos][1] in values

    def take(self):
        self.pos += 1
        return self.tokens[self.pos - 1]

    def or_(self):
        value = self.and_()
        while self.peek("||"):
            self.take()
            right = self.and_()
            value = value if truthy(value) else right
        return value

    def and_(self):
        value = self.compare()
        while self.peek("&&"):
            self.take()
            right = self.compare()
            value = right if truthy(value) else value
        return value

    def compare(self):
        value = self.unary()
        while self.peek("==", "!=", "<", ">", "<=", ">="):
            op = self.take()[1]
            right = self.unary()
            value = compare(op, value, right)
        return value

    def unary(self):
        if self.peek("!"):
            self.take()
            return not truthy(self.unary())
        return self.primary()

    def primary(self):
        if self.pos >= len(self.tokens):
            raise ExpressionError("expression ends too early")
        kind, text = self.take()
        if text == "(":
            value = self.or_()
            self.expect(")")
            return value
        if kind == "string":
            return text[1:-1].replace("''", "'")
        if kind == "number":
            return float(text)
        if kind != "name":
            raise ExpressionError(f"unexpected {text!r}")
        if text in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[text]
        if self.peek("("):
            return self.call(text)
        if text not in self.contexts:
            raise ExpressionError(f"unknown context {text!r}")
        value = self.contexts[text]
        while self.peek(".", "["):
            if self.take()[1] == ".":
                key = self.take()[1]
            else:
                key = self.or_()
                self.expect("]")
            value = value.get(key) if isinstance(value, dict) else None
        return value

    def call(self, name):
        self.expect("(")
        args = []
        while not self.peek(")"):
            args.append(self.or_())
            if self.peek(","):
                self.take()
        self.expect(")")
        if name in STATUS_FUNCTIONS and not args:
            return {
                "success": self.status == "success",
                "failure": self.status == "failure",
                "always": True,
                "cancelled": self.cancelled,
            }[name]
        if name == "format":
            template, *values = args
            return re.sub(r"\{(\d+)\}", lambda m: to_string(values[int(m[1])]), template)
        if name == "fromJSON":
            [text] = args
            return json.loads(to_string(text))
        if name == "toJSON":
            return json.dumps(args[0], indent=2)
        if name == "hashFiles":
            return hash_files(Path(self.contexts["github"]["workspace"]), args)
        if name == "contains":
            haystack, needle = args
            if isinstance(haystack, list):
                return needle in haystack
            return to_string(needle).lower() in to_string(haystack).lower()
        raise ExpressionError(f"function {name}() is not supported here")

    def expect(self, text):
        if not self.peek(text):
            raise ExpressionError(f"expected {text!r}")
        self.take()


def hash_files(workspace: Path, patterns: list[str]) -> str:
    """GitHub's hashFiles(): the SHA-256 of the SHA-256 of every file the patterns match,
    in path order; '' when none matches."""
    # GitHub's `**` matches files at any depth; pathlib's matches folders only.
    patterns = [p + "/*" if p.endswith("**") else p for p in patterns]
    files = sorted(
        {p for pattern in patterns for p in workspace.glob(pattern) if p.is_file()},
        key=lambda p: str(p.relative_to(workspace)),
    )
    if not files:
        return ""
    total = hashlib.sha256()
    for path in files:
        total.update(hashlib.sha256(path.read_bytes()).digest())
    return total.hexdigest()


def truthy(value) -> bool:
    return value not in (None, False, 0, 0.0, "")


def to_string(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else json.dumps(value)


def compare(op, left, right):
    if op in ("==", "!="):
        if isinstance(left, str) and isinstance(right, str):
            equal = left.lower() == right.lower()  # GitHub compares strings ignoring case
        else:
            equal = left == right
        return equal if op == "==" else not equal
    return {
        "<": left < right,
        ">": left > right,
        "<=": left <= right,
        ">=": left >= right,
    }[op]


def interpolate(text, contexts: dict, status: str = "success") -> str:
    """Replace every ${{ expression }} in a string value."""
    if not isinstance(text, str):
        return to_string(text)
    evaluator = Evaluator(contexts, status)
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: to_string(evaluator.evaluate(m[1])), text)


def condition(text, contexts: dict, status: str) -> bool:
    """An `if:` value: an expression with or without ${{ }}; success() when there is none."""
    if text is None:
        return status == "success"
    if isinstance(text, bool):
        return text and status == "success"
    text = text.strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    if not any(fn + "(" in text for fn in STATUS_FUNCTIONS):
        text = f"success() && ({text})"
    return truthy(Evaluator(contexts, status).evaluate(text))


# --- jobs ----------------------------------------------------------------------------------


@dataclass
class StepResult:
    name: str
    outcome: str  # success, failure or skipped
    output: str = ""
    seconds: float = 0.0
    tolerated: bool = False  # failed with continue-on-error: the job goes on as if it passed
    outputs: dict = field(default_factory=dict)  # what it wrote to GITHUB_OUTPUT


@dataclass
class JobResult:
    steps: list[StepResult] = field(default_factory=list)
    summary: str = ""
    outputs: dict = field(default_factory=dict)  # the job's `outputs:`, for jobs that need it
    runs_on: object = None  # `runs-on`, evaluated
    timeout_minutes: float = 360  # `timeout-minutes`, evaluated (GitHub's default: 360)
    timed_out: bool = False  # GitHub stopped the job at its time limit

    @property
    def succeeded(self) -> bool:
        return all(s.outcome != "failure" or s.tolerated for s in self.steps)

    def step(self, fragment: str) -> StepResult:
        [found] = [s for s in self.steps if fragment in s.name]
        return found

    def ran(self) -> list[str]:
        return [s.name for s in self.steps if s.outcome != "skipped"]


@dataclass
class Event:
    """What triggered the run: event name, refs and the payload behind github.event."""

    name: str
    ref: str
    sha: str
    payload: dict = field(default_factory=dict)
    base_ref: str = ""
    head_ref: str = ""
    repository: str = "acme/support-bot"
    run_id: str = "4242"
    run_attempt: str = "1"  # "Re-run jobs" runs the same run id again with the next attempt


def step_name(step: dict) -> str:
    return step.get("name") or (
        f"uses {step['uses']}" if "uses" in step else step["run"].split("\n")[0]
    )


def github_context(event: Event, workspace: Path, workflow: dict, token: str) -> dict:
    return {
        "event_name": event.name,
        "event": event.payload,
        "ref": event.ref,
        "ref_name": event.ref.rsplit("/", 1)[-1],
        "sha": event.sha,
        "base_ref": event.base_ref,
        "head_ref": event.head_ref,
        "repository": event.repository,
        "repository_owner": event.repository.split("/")[0],
        "workflow": workflow.get("name", ""),
        "workspace": str(workspace),
        "run_id": event.run_id,
        "run_number": "7",
        "run_attempt": event.run_attempt,
        "actor": "octocat",
        "server_url": "https://github.com",
        "token": token,
    }


SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


# A runner reaches the internet directly; this machine may need a proxy and its CA bundle.
NETWORK_SETTING = re.compile(r"(?i)proxy|_CA_|CA_BUNDLE|CAINFO|^SSL_CERT_|^PIP_CERT$")


def network_env() -> dict:
    """The machine's proxy and CA settings: what lets a step reach PyPI as a runner would."""
    return {key: value for key, value in os.environ.items() if NETWORK_SETTING.search(key)}


def minimal_env(temp: Path) -> dict:
    """What a fresh runner's shell has before the workflow adds anything: no tools venv on PATH,
    no telemetry switches, no git identity, a HOME of its own (plus this machine's network
    settings)."""
    home = temp / "home"
    home.mkdir(parents=True, exist_ok=True)
    system = {"PATH": SYSTEM_PATH, "HOME": str(home), "LANG": "C.UTF-8", "USER": "runner"}
    return {**network_env(), **system}


def default_env(github: dict, temp: Path) -> dict:
    return {
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": github["event_name"],
        "GITHUB_REF": github["ref"],
        "GITHUB_REF_NAME": github["ref_name"],
        "GITHUB_SHA": github["sha"],
        "GITHUB_BASE_REF": github["base_ref"],
        "GITHUB_HEAD_REF": github["head_ref"],
        "GITHUB_REPOSITORY": github["repository"],
        "GITHUB_REPOSITORY_OWNER": github["repository_owner"],
        "GITHUB_WORKFLOW": github["workflow"],
        "GITHUB_WORKSPACE": github["workspace"],
        "GITHUB_RUN_ID": github["run_id"],
        "GITHUB_RUN_NUMBER": github["run_number"],
        "GITHUB_RUN_ATTEMPT": github["run_attempt"],
        "GITHUB_ACTOR": github["actor"],
        "GITHUB_SERVER_URL": github["server_url"],
        "GITHUB_EVENT_PATH": str(temp / "event.json"),
        "RUNNER_TEMP": str(temp),
        "RUNNER_OS": "Linux",
    }


def shell_command(step: dict, job: dict, workflow: dict, script: Path) -> list[str]:
    shell = (
        step.get("shell")
        or job.get("defaults", {}).get("run", {}).get("shell")
        or workflow.get("defaults", {}).get("run", {}).get("shell")
        or "bash-default"
    )
    if shell == "bash":
        return ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)]
    if shell == "bash-default":
        return ["bash", "-e", str(script)]
    if shell == "sh":
        return ["sh", "-e", str(script)]
    raise ValueError(f"shell {shell!r} is not supported by this runner")


def read_env_file(path: Path) -> dict:
    """KEY=value lines and KEY<<DELIMITER blocks, as GitHub reads GITHUB_ENV and GITHUB_OUTPUT."""
    values, lines = {}, path.read_text().splitlines() if path.exists() else []
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, i + 1)
            values[key] = "\n".join(lines[i + 1 : end])
            i = end + 1
            continue
        if line:
            key, _, value = line.partition("=")
            values[key] = value
        i += 1
    return values


def kill_session(session: int) -> None:
    """SIGKILL every process of a session, those that made process groups of their own too
    (as `timeout` does): what a runner does to a step when the job's time is up."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session:  # after the name: state, ppid, pgrp, session
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(stat.parent.name), signal.SIGKILL)


def run_job(
    workflow: dict,
    job_id: str,
    workspace: Path,
    event: Event,
    temp: Path,
    local_actions: dict,
    secrets: dict | None = None,
    variables: dict | None = None,
    base_env: dict | None = None,
    timeout: float = 3600,
    needs: dict | None = None,
    stop_before: str | None = None,
    start_at: str | None = None,
    inputs: dict | None = None,
    matrix: dict | None = None,
) -> JobResult:
    """Run one job's steps in `workspace`. `local_actions` maps an action (owner/name[/path],
    no ref) to a function(step, env) standing in for it. `needs` holds the results of the jobs
    this one needs ({job: {"result": ..., "outputs": {...}}}); `stop_before` ends the job at
    the first step whose name contains it, `start_at` skips the steps before the first one whose
    name contains it and takes them as succeeded (for checks that need only part of a job).
    `inputs` are a workflow_dispatch's inputs, `matrix` this job's entry of its matrix (the caller
    expands `strategy.matrix`)."""
    job = workflow["jobs"][job_id]
    temp.mkdir(parents=True, exist_ok=True)
    workspace.mkdir(parents=True, exist_ok=True)  # GitHub starts every job in an existing folder
    (temp / "event.json").write_text(json.dumps(event.payload))
    github = github_context(event, workspace, workflow, token="ghs_recorded-test-token")
    contexts = {
        "github": github,
        "secrets": {"GITHUB_TOKEN": github["token"], **(secrets or {})},
        "vars": dict(variables or {}),
        "env": {},
        "steps": {},
        "runner": {"os": "Linux", "temp": str(temp)},
        "needs": dict(needs or {}),
        "inputs": dict(inputs or {}),
        "matrix": dict(matrix or {}),
    }
    env = {
        **(base_env if base_env is not None else minimal_env(temp)),
        **default_env(github, temp),
    }
    for scope in (workflow, job):
        for key, value in (scope.get("env") or {}).items():
            contexts["env"][key] = interpolate(value, contexts)
    declared_env = set(contexts["env"])
    added_env, added_path = {}, []
    result, status = JobResult(), "success"
    limit = job.get("timeout-minutes", 360)
    result.timeout_minutes = float(
        interpolate(limit, contexts) if isinstance(limit, str) else limit
    )
    deadline = time.monotonic() + result.timeout_minutes * 60

    for index, step in enumerate(job["steps"]):
        name = step_name(step)
        if stop_before and stop_before in name:
            break
        if start_at and start_at in name:
            start_at = None
        if start_at:  # taken as done: later steps see it succeeded
            if "id" in step:
                contexts["steps"][step["id"]] = {"outcome": "success", "outputs": {}}
            result.steps.append(StepResult(name, "skipped"))
            continue
        step_contexts = {**contexts, "env": {**contexts["env"], **added_env}}
        if not condition(step.get("if"), step_contexts, status):
            result.steps.append(StepResult(name, "skipped"))
            continue
        step_env = {**step_contexts["env"]}
        for key, value in (step.get("env") or {}).items():
            step_env[key] = interpolate(value, {**step_contexts, "env": step_env})
        files = {
            kind: temp / f"{kind.lower()}-{index}"
            for kind in ("ENV", "OUTPUT", "PATH", "STEP_SUMMARY")
        }
        for path in files.values():
            path.write_text("")
        run_env = {
            **env,
            **step_env,
            **{f"GITHUB_{kind}": str(path) for kind, path in files.items()},
        }
        run_env["PATH"] = os.pathsep.join([*reversed(added_path), env["PATH"]])
        start = time.monotonic()
        if "uses" in step:
            action = step["uses"].split("@")[0]
            inputs = {
                key: interpolate(value, {**step_contexts, "env": step_env})
                if isinstance(value, str)
                else value
                for key, value in (step.get("with") or {}).items()
            }
            if action not in local_actions:
                outcome, output = "failure", f"no local equivalent for {step['uses']}"
            else:
                try:
                    output = local_actions[action]({**step, "with": inputs}, run_env) or ""
                    outcome = "success"
                except AssertionError as error:
                    outcome, output = "failure", f"{action}: {error}"
        else:
            script = temp / f"step-{index}.sh"
            script.write_text(interpolate(step["run"], {**step_contexts, "env": step_env}))
            cwd = workspace / step.get("working-directory", ".")
            left = deadline - time.monotonic()
            process = subprocess.Popen(
                shell_command(step, job, workflow, script),
                cwd=cwd,
                env=run_env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,  # the step's processes, to stop them all at the limit
            )
            try:
                output, _ = process.communicate(timeout=min(timeout, max(left, 0.1)))
            except subprocess.TimeoutExpired:
                kill_session(process.pid)
                output, _ = process.communicate()
                if left > timeout:
                    raise
                message = (
                    "The job has exceeded the maximum execution time of "
                    f"{result.timeout_minutes:g} minutes."
                )
                result.steps.append(StepResult(name, "failure", output + message, left))
                result.timed_out = True
                break
            outcome = "success" if process.returncode == 0 else "failure"
        seconds = time.monotonic() - start
        written = read_env_file(files["ENV"])
        clashes = sorted(declared_env & set(written))
        if clashes:
            outcome = "failure"
            output += f"\nGITHUB_ENV sets {clashes}, which the workflow's or job's env: also sets"
        added_env.update(written)
        added_path.extend(p for p in files["PATH"].read_text().splitlines() if p)
        outputs = read_env_file(files["OUTPUT"])
        if "id" in step:
            contexts["steps"][step["id"]] = {"outcome": outcome, "outputs": outputs}
        result.summary += files["STEP_SUMMARY"].read_text()
        tolerated = outcome == "failure" and truthy(
            interpolate(step.get("continue-on-error", False), contexts) == "true"
        )
        result.steps.append(StepResult(name, outcome, output, seconds, tolerated, outputs))
        if outcome == "failure" and not tolerated:
            status = "failure"
    result.outputs = {
        key: interpolate(value, contexts) for key, value in (job.get("outputs") or {}).items()
    }
    result.runs_on = (
        interpolate(job["runs-on"], contexts) if isinstance(job["runs-on"], str) else job["runs-on"]
    )
    return result


def concurrency_outcome(workflow: dict, runs: list[tuple[Event, str]]) -> list[str]:
    """Replay GitHub's concurrency rules for runs started one after another while the earlier
    ones still run: per run, "completed" or "cancelled". `runs` holds (event, run id) pairs.
    In one group a new run cancels the running one when cancel-in-progress is true, and
    otherwise waits; a waiting run is cancelled by the next one that arrives."""
    concurrency = workflow.get("concurrency") or {}
    running, pending, outcome = {}, {}, ["completed"] * len(runs)
    for index, (event, run_id) in enumerate(runs):
        github = {
            "workflow": workflow.get("name", ""),
            "event_name": event.name,
            "ref": event.ref,
            "run_id": run_id,
        }
        contexts = {"github": github, "vars": {}, "inputs": {}}
        group = interpolate(concurrency.get("group", ""), contexts)
        if not group:
            continue
        cancel = concurrency.get("cancel-in-progress", False)
        cancel = (
            truthy(cancel)
            if not isinstance(cancel, str)
            else (interpolate(cancel, contexts) == "true")
        )
        if group in pending:
            outcome[pending.pop(group)] = "cancelled"
        if group in running and cancel:
            outcome[running[group]] = "cancelled"
            running[group] = index
        elif group in running:
            pending[group] = index
        else:
            running[group] = index
    return outcome
