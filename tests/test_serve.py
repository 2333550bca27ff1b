"""`make serve` in a baked bot: the DVC-tracked model answers over REST, custom actions included.

Everything runs for real on loopback: the Rasa server, the action server, the shutdown.
"""

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from support import bake, free_port, run, tool

# Stand-ins for Rasa and the action server, so the supervision in scripts/serve.sh can be driven
# many times in a row (real Rasa takes about a minute to start). Like the real ones, each answers
# HTTP on loopback and stops on SIGINT or SIGTERM; the action server stops faster than Rasa.
STUB_SERVER = """
import os, signal, threading, time
from http.server import BaseHTTPRequestHandler, HTTPServer

def serve(port, path, linger):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path.startswith(path) else 404)
            self.end_headers()
            self.wfile.write(b'{"status": "ok"}')

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", port), Handler)

    def stop(*_):
        if not linger:
            os._exit(0)
        threading.Thread(target=lambda: (time.sleep(linger), server.shutdown())).start()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGUSR1, lambda *_: os._exit(3))  # a crash
    server.serve_forever()
"""
STUB_RASA = """
import json, os, sys
from stub_server import serve

def main():
    with open(os.environ["STUB_ARGV"], "w") as f:
        json.dump(sys.argv, f)
    if "STUB_RASA_EXIT" in os.environ:  # like Rasa when its port is taken: a log line, then exit
        print("stand-in Rasa: [Errno 98] address already in use", file=sys.stderr)
        sys.exit(int(os.environ["STUB_RASA_EXIT"]))
    serve(int(sys.argv[sys.argv.index("-p") + 1]), "/status", linger=0.3)

if __name__ == "__main__":
    main()
"""
STUB_ACTIONS = """
import sys
from stub_server import serve

serve(int(sys.argv[sys.argv.index("--port") + 1]), "/health", linger=0)
"""

STARTUP_TIMEOUT = 300
STOP_TIMEOUT = 60


def port_is_free(port):
    """True when nothing listens on the port (SO_REUSEADDR ignores leftover TIME_WAIT sockets)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def processes_in_group(pgid):
    """{pid: command line} of the live processes in a process group (Linux /proc)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            if fields[0] != "Z" and int(fields[2]) == pgid:
                found[int(entry.name)] = (
                    (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                )
        except (OSError, ValueError):
            continue
    return found


def command_lines():
    """The command line of every process on the machine, as `ps` shows them to any user."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, ValueError):
            continue
    return found


def http(method, url, body=None, timeout=30):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def say(port, sender, text):
    status, body = http(
        "POST",
        f"http://127.0.0.1:{port}/webhooks/rest/webhook",
        {"sender": sender, "message": text},
    )
    assert status == 200, body
    return [message["text"] for message in json.loads(body) if "text" in message]


def wait_for_status(port, token, server, log):
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        assert server.poll() is None, (
            f"make serve exited {server.returncode}\n{log.read_text()[-4000:]}"
        )
        try:
            status, body = http("GET", f"http://127.0.0.1:{port}/status?token={token}", timeout=5)
            if status == 200:
                return json.loads(body)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"no /status within {STARTUP_TIMEOUT}s\n{log.read_text()[-4000:]}")


def response_texts(project):
    domain = yaml.safe_load((project / "domain.yml").read_text())
    return {
        name: {variant["text"] for variant in variants if "text" in variant}
        for name, variants in domain["responses"].items()
    }


def test_serve_without_a_model_says_how_to_get_one(cookies):
    project = bake(cookies)
    result = run(["make", "serve"], project, check=False, timeout=60)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "models/model.tar.gz is missing" in output
    assert "make repro" in output and "make pull" in output


def test_serve_script_passes_shellcheck(cookies):
    script = bake(cookies) / "scripts/serve.sh"
    result = subprocess.run([tool("shellcheck"), str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


@pytest.mark.e2e
def test_serve_answers_over_rest_with_the_action_server(trained_bot, tmp_path):
    project = trained_bot
    rasa_port, action_port = free_port(), free_port()
    while action_port == rasa_port:
        action_port = free_port()
    token = secrets.token_urlsafe(16)
    env = os.environ | {
        "RASA_PORT": str(rasa_port),
        "ACTION_PORT": str(action_port),
        "RASA_AUTH_TOKEN": token,
    }
    log = tmp_path / "serve.log"
    started = time.monotonic()
    with log.open("w") as out:
        server = subprocess.Popen(
            ["make", "serve"],
            cwd=project,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        status = wait_for_status(rasa_port, token, server, log)
        assert status["model_file"] == "model.tar.gz"

        greeting = say(rasa_port, "tester", "hello")
        first_answer = time.monotonic() - started
        print(f"\nmake serve -> first answer over REST: {first_answer:.1f} s")
        texts = response_texts(project)
        assert greeting and set(greeting) <= set().union(*texts.values()), greeting
        assert greeting[0] in texts["utter_greet"]

        before = datetime.now(UTC)
        answer = say(rasa_port, "tester", "what time is it?")
        after = datetime.now(UTC)
        assert len(answer) == 1, answer
        match = re.fullmatch(r"It is (\d\d:\d\d) UTC\.", answer[0])
        assert match, f"expected the action server's answer, got {answer}"
        assert match[1] in {f"{t:%H:%M}" for t in (before, after, before + timedelta(minutes=1))}

        # The HTTP API is not open without the token; the action server only listens on loopback.
        assert http("GET", f"http://127.0.0.1:{rasa_port}/status")[0] == 401
        assert http("GET", f"http://127.0.0.1:{action_port}/health") == (200, '{"status":"ok"}')
        group = processes_in_group(server.pid)
        rasa = [pid for pid, cmd in group.items() if " run --enable-api " in cmd]
        actions = [pid for pid, cmd in group.items() if "rasa_sdk" in cmd]
        assert len(rasa) == 1 and len(actions) == 1, group
        assert f"-p {rasa_port} " in group[rasa[0]] and "-i 127.0.0.1 " in group[rasa[0]]
        assert "--cors" not in group[rasa[0]]
        assert [cmd for cmd in command_lines() if token in cmd] == [], "the token shows in `ps`"

        stopping = time.monotonic()
        os.killpg(server.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        server.wait(timeout=STOP_TIMEOUT)
        print(f"Ctrl-C -> everything stopped: {time.monotonic() - stopping:.1f} s")
        outlived = processes_in_group(server.pid)
    finally:
        if processes_in_group(server.pid):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait()

    assert outlived == {}, f"processes of make serve outlived Ctrl-C: {outlived}"
    assert port_is_free(rasa_port) and port_is_free(action_port)
    assert not list((project / ".rasa").glob("endpoints.*.yml")), "temporary endpoints file left"
    assert "the action server stopped" not in log.read_text()


def stub_bot_env(root):
    """A BOT_ENV whose python runs stand-ins: `-m rasa_sdk`, `from rasa.__main__ import main`."""
    modules = root / "modules"
    for rel, text in {
        "stub_server.py": STUB_SERVER,
        "rasa/__init__.py": "",
        "rasa/__main__.py": STUB_RASA,
        "rasa_sdk/__init__.py": "",
        "rasa_sdk/__main__.py": STUB_ACTIONS,
    }.items():
        (modules / rel).parent.mkdir(parents=True, exist_ok=True)
        (modules / rel).write_text(text)
    (root / "bin").mkdir()
    python = root / "bin/python"
    python.write_text(f'#!/bin/sh\nPYTHONPATH="{modules}" exec "{sys.executable}" "$@"\n')
    (root / "bin/rasa").write_text(f'#!/bin/sh\nexec "{python}" -m rasa "$@"\n')
    for program in (python, root / "bin/rasa"):
        program.chmod(0o755)
    return root


@pytest.fixture(scope="module")
def stubbed_bot(cookies_session, tmp_path_factory):
    """One bake for the stand-in tests: each leaves it as it found it (no process, no file)."""
    project = bake(cookies_session)
    (project / "models").mkdir(exist_ok=True)
    (project / "models/model.tar.gz").write_bytes(b"stand-in")
    return project, stub_bot_env(tmp_path_factory.mktemp("stub-env"))


def start_serve(project, bot_env, log, **env):
    rasa_port, action_port = free_port(), free_port()
    while action_port == rasa_port:
        action_port = free_port()
    env = os.environ | {"RASA_PORT": str(rasa_port), "ACTION_PORT": str(action_port)} | env
    with log.open("w") as out:
        server = subprocess.Popen(
            ["make", "serve", f"BOT_ENV={bot_env}"],
            cwd=project,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return server, rasa_port, action_port


def kill_leftovers(server):
    if processes_in_group(server.pid):
        os.killpg(server.pid, signal.SIGKILL)
    server.wait()


def stop_like_a_terminal(server):
    """Ctrl-C: SIGINT to the whole foreground process group; returns what outlived it."""
    try:
        os.killpg(server.pid, signal.SIGINT)
        server.wait(timeout=STOP_TIMEOUT)
        return processes_in_group(server.pid)
    finally:
        kill_leftovers(server)


STOPS = 25


def test_ctrl_c_stops_make_serve_cleanly_every_time(stubbed_bot, tmp_path):
    project, bot_env = stubbed_bot
    token = secrets.token_urlsafe(16)
    for attempt in range(STOPS):
        log = tmp_path / f"serve-{attempt}.log"
        server, rasa_port, action_port = start_serve(
            project, bot_env, log, RASA_AUTH_TOKEN=token, STUB_ARGV=str(tmp_path / "argv.json")
        )
        wait_for_status(rasa_port, token, server, log)
        outlived = stop_like_a_terminal(server)
        output = log.read_text()
        assert outlived == {}, f"attempt {attempt}: {outlived}"
        assert "ERROR" not in output, f"attempt {attempt}:\n{output}"
        assert port_is_free(rasa_port) and port_is_free(action_port)
    assert not list((project / ".rasa").glob("endpoints.*.yml"))


def test_the_api_token_is_in_no_process_arguments(stubbed_bot, tmp_path):
    """Rasa gets the token (here: the stand-in's sys.argv), `ps` never shows it."""
    project, bot_env = stubbed_bot
    log, argv = tmp_path / "serve.log", tmp_path / "argv.json"
    server, rasa_port, _ = start_serve(project, bot_env, log, STUB_ARGV=str(argv))
    try:
        deadline = time.monotonic() + 60
        while not (project / ".rasa/api-token").exists() or not argv.exists():
            assert time.monotonic() < deadline and server.poll() is None, log.read_text()
            time.sleep(0.1)
        token = (project / ".rasa/api-token").read_text().strip()
        assert (project / ".rasa/api-token").stat().st_mode & 0o077 == 0
        wait_for_status(rasa_port, token, server, log)
        everyone = command_lines()
        received = json.loads(argv.read_text())
    finally:
        stop_like_a_terminal(server)
    # One argument: a token starting with "-" can never be read as an option.
    assert f"--auth-token={token}" in received
    assert [cmd for cmd in everyone if token in cmd] == []


def action_server_pid(server):
    (pid,) = [pid for pid, cmd in processes_in_group(server.pid).items() if "rasa_sdk" in cmd]
    return pid


@pytest.mark.parametrize(
    ("sent", "code"),
    [(signal.SIGINT, 0), (signal.SIGTERM, 0), (signal.SIGUSR1, 3)],
    ids=["sigint-to-it-alone", "sigterm-to-it-alone", "crashed"],
)
def test_action_server_ending_on_its_own_stops_rasa_and_is_an_error(
    stubbed_bot, tmp_path, sent, code
):
    """Only the user's Ctrl-C or SIGTERM to make serve is a normal stop: a server that ends
    while make serve was not told to stop is an error, whatever its exit code."""
    project, bot_env = stubbed_bot
    log, token = tmp_path / "serve.log", secrets.token_urlsafe(16)
    server, rasa_port, _ = start_serve(
        project, bot_env, log, RASA_AUTH_TOKEN=token, STUB_ARGV=str(tmp_path / "argv.json")
    )
    try:
        wait_for_status(rasa_port, token, server, log)
        os.kill(action_server_pid(server), sent)
        server.wait(timeout=STOP_TIMEOUT)
        outlived = processes_in_group(server.pid)
    finally:
        kill_leftovers(server)
    output = log.read_text()
    assert outlived == {}
    assert port_is_free(rasa_port)
    assert server.returncode != 0, output
    assert f"ERROR: the action server stopped on its own (exit {code})" in output, output


@pytest.mark.parametrize("code", [0, 1])
def test_rasa_exiting_at_start_up_is_an_error_even_with_exit_0(stubbed_bot, tmp_path, code):
    """Rasa logs a port it cannot take and exits 0: make serve must not look like a clean stop."""
    project, bot_env = stubbed_bot
    log = tmp_path / "serve.log"
    server, _, action_port = start_serve(
        project,
        bot_env,
        log,
        RASA_AUTH_TOKEN="t",
        STUB_ARGV=str(tmp_path / "argv.json"),
        STUB_RASA_EXIT=str(code),
    )
    try:
        server.wait(timeout=STOP_TIMEOUT)
        outlived = processes_in_group(server.pid)
    finally:
        kill_leftovers(server)
    output = log.read_text()
    assert outlived == {} and port_is_free(action_port)
    assert server.returncode != 0, output
    assert f"ERROR: Rasa stopped on its own (exit {code})" in output, output


@pytest.mark.parametrize("busy", ["RASA_PORT", "ACTION_PORT"])
def test_a_busy_port_stops_make_serve_before_anything_starts(stubbed_bot, tmp_path, busy):
    project, bot_env = stubbed_bot
    argv = tmp_path / "argv.json"
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        other = free_port()
        while other == port:
            other = free_port()
        ports = {"RASA_PORT": str(other), "ACTION_PORT": str(other)} | {busy: str(port)}
        result = subprocess.run(
            ["make", "serve", f"BOT_ENV={bot_env}"],
            cwd=project,
            env=os.environ | ports | {"STUB_ARGV": str(argv), "RASA_AUTH_TOKEN": "t"},
            capture_output=True,
            text=True,
            timeout=STOP_TIMEOUT,
        )
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
    assert result.returncode != 0
    assert errors == [
        f"ERROR: port {port} ({busy}) is in use on 127.0.0.1: stop what listens there, "
        f"or choose another, e.g. make serve {busy}={port + 1}"
    ], result.stdout + result.stderr
    assert not argv.exists(), "Rasa started"
    assert "Action server on" not in result.stdout


@pytest.mark.parametrize(
    ("ports", "message"),
    [
        ({"RASA_PORT": "5005;touch pwned"}, "RASA_PORT '5005;touch pwned' is not a port number"),
        ({"ACTION_PORT": "70000"}, "ACTION_PORT '70000' is not a port number"),
        ({"RASA_PORT": "-1"}, "RASA_PORT '-1' is not a port number"),
        ({"RASA_PORT": "5099", "ACTION_PORT": "5099"}, "RASA_PORT and ACTION_PORT are both 5099"),
    ],
    ids=["shell-text", "too-high", "negative", "same-port"],
)
def test_ports_that_cannot_work_are_one_error_line(stubbed_bot, tmp_path, ports, message):
    project, bot_env = stubbed_bot
    assignments = [f"{name}={value}" for name, value in ports.items()]
    result = subprocess.run(
        ["make", "serve", f"BOT_ENV={bot_env}", *assignments],
        cwd=project,
        env=os.environ | {"STUB_ARGV": str(tmp_path / "argv.json"), "RASA_AUTH_TOKEN": "t"},
        capture_output=True,
        text=True,
        timeout=STOP_TIMEOUT,
    )
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
    assert result.returncode != 0
    assert len(errors) == 1 and errors[0].startswith(f"ERROR: {message}"), result.stderr
    assert not (tmp_path / "argv.json").exists()
    assert not list(project.rglob("pwned"))
