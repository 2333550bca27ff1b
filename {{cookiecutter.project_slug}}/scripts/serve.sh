#!/usr/bin/env bash
# Run the assistant on the model DVC tracks for this commit (models/model.tar.gz), with the
# custom action server beside it. The Makefile calls this:
#   make serve     Rasa's HTTP server on 127.0.0.1:$RASA_PORT (REST channel + token-protected API)
#   make shell     talk to the bot in this terminal
#   make actions   the action server alone on 127.0.0.1:$ACTION_PORT
# Ctrl-C or SIGTERM stops every process this script started, and waits until they are gone.
set -euo pipefail

mode=${1:-serve}
RASA_PORT=${RASA_PORT:-5005}
ACTION_PORT=${ACTION_PORT:-5055}
BOT_ENV=${BOT_ENV:-.venv}
MODEL=models/model.tar.gz
PYTHON=$BOT_ENV/bin/python
RASA=$BOT_ENV/bin/rasa
STARTUP_TIMEOUT=${STARTUP_TIMEOUT:-120}

action_pid=""
rasa_pid=""
endpoints=""

die() {
    echo "ERROR: $*" >&2
    exit 1
}

# Ask each process to stop, give it 20 s, then kill it; wait so its port is free on return.
stop_all() {
    trap - EXIT INT TERM
    local pid alive
    for pid in $rasa_pid $action_pid; do kill -TERM "$pid" 2>/dev/null || true; done
    for _ in $(seq 100); do
        alive=""
        for pid in $rasa_pid $action_pid; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ -n "$alive" ] || break
        sleep 0.2
    done
    for pid in $rasa_pid $action_pid; do kill -KILL "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ -n "$endpoints" ]; then rm -f "$endpoints"; fi
}

# Poll a URL until it answers; give up when the process dies or STARTUP_TIMEOUT passes.
wait_until_up() {
    local url=$1 pid=$2 what=$3
    local deadline=$((SECONDS + STARTUP_TIMEOUT))
    until "$PYTHON" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$url" 2>/dev/null; do
        kill -0 "$pid" 2>/dev/null || die "$what exited during start-up (see its log above)"
        [ "$SECONDS" -lt "$deadline" ] || die "$what did not answer on $url within ${STARTUP_TIMEOUT}s"
        sleep 0.3
    done
}

start_actions() {
    # `rasa run actions` runs the same server after importing all of Rasa; this starts in ~1 s.
    SANIC_HOST=127.0.0.1 "$PYTHON" -m rasa_sdk --actions actions --port "$ACTION_PORT" &
    action_pid=$!
    wait_until_up "http://127.0.0.1:$ACTION_PORT/health" "$action_pid" "the action server"
}

# endpoints.yml with the action endpoint pointed at this run's action server; every other
# setting (tracker store, event broker, ...) is kept as it is.
write_endpoints() {
    mkdir -p .rasa
    endpoints=.rasa/endpoints.$$.yml
    "$PYTHON" - "$ACTION_PORT" "$endpoints" <<'PY'
import sys

import yaml

port, out = sys.argv[1:]
with open("endpoints.yml") as f:
    config = yaml.safe_load(f) or {}
config["action_endpoint"] = {**(config.get("action_endpoint") or {}), "url": f"http://127.0.0.1:{port}/webhook"}
with open(out, "w") as f:
    yaml.safe_dump(config, f, sort_keys=False)
PY
}

# The HTTP API (/status, /conversations, /model, ...) always needs a token: RASA_AUTH_TOKEN,
# or a fresh one per run kept in .rasa/api-token. The REST channel needs none.
api_token() {
    if [ -n "${RASA_AUTH_TOKEN:-}" ]; then
        printf '%s' "$RASA_AUTH_TOKEN"
        return
    fi
    mkdir -p .rasa
    (umask 077 && "$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(32))' > .rasa/api-token)
    cat .rasa/api-token
}

case $mode in
    serve | shell | actions) ;;
    *) die "usage: $0 serve|shell|actions" ;;
esac
if [ "$mode" != actions ] && [ ! -f "$MODEL" ]; then
    die "$MODEL is missing: run 'make repro' to train it, or 'make pull' to fetch this commit's model"
fi
[ -x "$RASA" ] || die "the bot environment is missing: run 'make install' first"
export RASA_TELEMETRY_ENABLED=${RASA_TELEMETRY_ENABLED:-false}

trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_actions
if [ "$mode" = actions ]; then
    echo "Action server on http://127.0.0.1:$ACTION_PORT/webhook (Ctrl-C stops it)"
    while kill -0 "$action_pid" 2>/dev/null; do sleep 1; done
    wait "$action_pid"
    exit
fi

write_endpoints
if [ "$mode" = shell ]; then
    "$RASA" shell --model "$MODEL" --endpoints "$endpoints" -i 127.0.0.1 -p "$RASA_PORT"
    exit
fi

token=$(api_token)
"$RASA" run --enable-api --auth-token "$token" -i 127.0.0.1 -p "$RASA_PORT" \
    --model "$MODEL" --endpoints "$endpoints" --credentials credentials.yml &
rasa_pid=$!
if [ -z "${RASA_AUTH_TOKEN:-}" ]; then
    echo "The HTTP API wants ?token=<.rasa/api-token> (or set RASA_AUTH_TOKEN); the REST channel does not."
fi
# Wait for either server to end (bash 3.2 on macOS has no `wait -n`), then stop the other.
while kill -0 "$rasa_pid" 2>/dev/null && kill -0 "$action_pid" 2>/dev/null; do sleep 1; done
kill -0 "$action_pid" 2>/dev/null || die "the action server stopped: stopping Rasa"
wait "$rasa_pid"
