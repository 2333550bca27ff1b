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

# A server has ended by itself: an error whatever its exit code (Rasa and the action server
# log a port they cannot take and exit 0). When the user stops make serve (Ctrl-C, SIGTERM) the
# INT/TERM trap exits first; Ctrl-C signals every process in the terminal's group, so a server
# may end a moment before this script's trap runs: the pause gives the trap that moment.
server_ended() {
    local pid=$1 what=$2 status=0
    wait "$pid" || status=$?
    sleep 1
    die "$what stopped on its own (exit $status): see its log above"
}

# Ask each process to stop, give it 20 s, then kill it; wait so its port is free on return.
# shellcheck disable=SC2329  # called by the EXIT trap
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
    until "$PYTHON" -m pipeline.serve answers "$url" 2>/dev/null; do
        kill -0 "$pid" 2>/dev/null || server_ended "$pid" "$what (starting on $url)"
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
    "$PYTHON" -m pipeline.serve endpoints "$ACTION_PORT" "$endpoints"
}

# The HTTP API (/status, /conversations, /model, ...) always needs a token: RASA_AUTH_TOKEN,
# or a fresh one per run kept in .rasa/api-token (mode 0600). The REST channel needs none.
write_api_token() {
    mkdir -p .rasa
    "$PYTHON" -m pipeline.serve token .rasa/api-token
}


case $mode in
    serve | shell | actions) ;;
    *) die "usage: $0 serve|shell|actions" ;;
esac
if [ "$mode" != actions ] && [ ! -f "$MODEL" ]; then
    die "$MODEL is missing: run 'make repro' to train it, or 'make pull' to fetch this commit's model"
fi
[ -x "$RASA" ] || die "the bot environment is missing: run 'make install' first"
# Both ports free before anything starts: a server that cannot take its port exits 0 after
# logging, and requests would reach whatever else listens there.
if [ "$mode" = actions ]; then
    "$PYTHON" -m pipeline.serve ports "ACTION_PORT=$ACTION_PORT" || exit 1
else
    "$PYTHON" -m pipeline.serve ports "RASA_PORT=$RASA_PORT" "ACTION_PORT=$ACTION_PORT" || exit 1
fi
export RASA_TELEMETRY_ENABLED=${RASA_TELEMETRY_ENABLED:-false}

# Set before any server starts, so a signal at any point stops what has started.
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_actions
if [ "$mode" = actions ]; then
    echo "Action server on http://127.0.0.1:$ACTION_PORT/webhook (Ctrl-C stops it)"
    while kill -0 "$action_pid" 2>/dev/null; do sleep 1; done
    server_ended "$action_pid" "the action server"
fi

write_endpoints
if [ "$mode" = shell ]; then
    "$RASA" shell --model "$MODEL" --endpoints "$endpoints" -i 127.0.0.1 -p "$RASA_PORT"
    exit
fi

if [ -z "${RASA_AUTH_TOKEN:-}" ]; then
    write_api_token
    echo "The HTTP API wants ?token=<.rasa/api-token> (or set RASA_AUTH_TOKEN); the REST channel does not."
fi
# The token reaches Rasa inside its own process, never on a command line (pipeline/serve.py).
"$PYTHON" -m pipeline.serve rasa run --enable-api -i 127.0.0.1 -p "$RASA_PORT" \
    --model "$MODEL" --endpoints "$endpoints" --credentials credentials.yml &
rasa_pid=$!
# Wait for either server to end (bash 3.2 on macOS has no `wait -n`); the EXIT trap stops the other.
while kill -0 "$rasa_pid" 2>/dev/null && kill -0 "$action_pid" 2>/dev/null; do sleep 1; done
if kill -0 "$rasa_pid" 2>/dev/null; then
    server_ended "$action_pid" "the action server"
fi
server_ended "$rasa_pid" "Rasa"
