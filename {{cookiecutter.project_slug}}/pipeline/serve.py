"""The Python that scripts/serve.sh (make serve, shell, actions) runs, one subcommand each.

    python -m pipeline.serve answers URL               exit 0 when URL answers within 2 s
    python -m pipeline.serve ports NAME=PORT...        exit 0 when each port is free on 127.0.0.1
    python -m pipeline.serve endpoints PORT OUT        endpoints.yml pointed at this run's actions
    python -m pipeline.serve token OUT                 a fresh API token, readable by the owner only
    python -m pipeline.serve rasa ARGS...              `rasa ARGS...` with the API token

Rasa 3.6 takes the API token only as --auth-token, and every local user can read a process's
arguments (`ps`): `rasa` adds it to Rasa's own sys.argv once Python runs, from RASA_AUTH_TOKEN or
the token file, so no command line ever holds it.
"""

import errno
import os
import secrets
import socket
import sys
import urllib.request
from pathlib import Path

import yaml

TOKEN_FILE = Path(".rasa/api-token")


def answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2)
    except OSError:
        return False
    return True


def port_problem(name: str, value: str, taken: dict[int, str]) -> str | None:
    """Why the server named `name` cannot listen on port `value` of 127.0.0.1, or None."""
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= 65535:
        return f"{name} {value!r} is not a port number: give one from 1 to 65535"
    port = int(value)
    if port in taken:
        return f"{taken[port]} and {name} are both {port}: give them different ports"
    taken[port] = name
    with socket.socket() as probe:
        # as the servers bind (Sanic sets SO_REUSEADDR): closed connections do not count
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                other = port + 1 if port < 65535 else port - 1
                return (
                    f"port {port} ({name}) is in use on 127.0.0.1: stop what listens there, "
                    f"or choose another, e.g. make serve {name}={other}"
                )
            return f"cannot listen on port {port} ({name}): {error.strerror}"
    return None


def check_ports(assignments: list[str]) -> int:
    """One `ERROR:` line for the first port (NAME=PORT) a server could not listen on; exit 1."""
    taken: dict[int, str] = {}
    for assignment in assignments:
        name, _, value = assignment.partition("=")
        problem = port_problem(name, value, taken)
        if problem:
            print(f"ERROR: {problem}", file=sys.stderr)
            return 1
    return 0


def write_endpoints(port: str, out: Path, source: Path = Path("endpoints.yml")) -> None:
    """endpoints.yml with the action endpoint at 127.0.0.1:PORT; every other setting (tracker
    store, event broker, ...) kept as it is."""
    config = yaml.safe_load(source.read_text()) or {}
    action = {**(config.get("action_endpoint") or {}), "url": f"http://127.0.0.1:{port}/webhook"}
    config["action_endpoint"] = action
    out.write_text(yaml.safe_dump(config, sort_keys=False))


def write_token(out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_urlsafe(32) + "\n")


def run_rasa(args: list[str]) -> None:
    from rasa.__main__ import main

    token = os.environ.get("RASA_AUTH_TOKEN") or TOKEN_FILE.read_text().strip()
    # One argument, so a token that starts with "-" is never read as an option.
    sys.argv = ["rasa", *args, f"--auth-token={token}"]
    main()


def main(argv: list[str]) -> int:
    command, *args = argv or [""]
    if command == "answers" and len(args) == 1:
        return 0 if answers(args[0]) else 1
    if command == "ports" and args:
        return check_ports(args)
    if command == "endpoints" and len(args) == 2:
        write_endpoints(args[0], Path(args[1]))
        return 0
    if command == "token" and len(args) == 1:
        write_token(Path(args[0]))
        return 0
    if command == "rasa":
        run_rasa(args)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
