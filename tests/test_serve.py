"""`make serve` in a baked bot: the DVC-tracked model answers over REST, custom actions included.

Everything runs for real on loopback: the Rasa server, the action server, the shutdown.
"""

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from conftest import bake, free_port, run

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
            fields = stat[stat.rindex(")") + 2:].split()
            if fields[0] != "Z" and int(fields[2]) == pgid:
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
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
        "POST", f"http://127.0.0.1:{port}/webhooks/rest/webhook", {"sender": sender, "message": text}
    )
    assert status == 200, body
    return [message["text"] for message in json.loads(body) if "text" in message]


def wait_for_status(port, token, server, log):
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        assert server.poll() is None, f"make serve exited {server.returncode}\n{log.read_text()[-4000:]}"
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


def test_makefile_lists_the_serving_targets(cookies):
    output = run(["make", "help"], bake(cookies)).stdout
    for target in ["shell", "serve", "actions"]:
        assert re.search(rf"^\s+{target}\s+\S", output, re.M), target


def test_serve_without_a_model_says_how_to_get_one(cookies):
    project = bake(cookies)
    result = run(["make", "serve"], project, check=False, timeout=60)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "models/model.tar.gz is missing" in output
    assert "make repro" in output and "make pull" in output


def test_serve_script_passes_shellcheck(cookies):
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    shellcheck = shutil.which("shellcheck", path=search)
    if shellcheck is None:
        pytest.fail("shellcheck not found: `make install` installs requirements-dev.txt")
    script = bake(cookies) / "scripts/serve.sh"
    result = subprocess.run([shellcheck, str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


@pytest.mark.e2e
def test_serve_answers_over_rest_with_the_action_server(trained_bot, tmp_path):
    project = trained_bot
    rasa_port, action_port = free_port(), free_port()
    while action_port == rasa_port:
        action_port = free_port()
    token = secrets.token_urlsafe(16)
    env = os.environ | {
        "RASA_PORT": str(rasa_port), "ACTION_PORT": str(action_port), "RASA_AUTH_TOKEN": token,
    }
    log = tmp_path / "serve.log"
    started = time.monotonic()
    with log.open("w") as out:
        server = subprocess.Popen(
            ["make", "serve"], cwd=project, env=env, stdout=out, stderr=subprocess.STDOUT,
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

        before = datetime.now(timezone.utc)
        answer = say(rasa_port, "tester", "what time is it?")
        after = datetime.now(timezone.utc)
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
