#!/usr/bin/env bash
# Load test of POST /api/v1/classify: starts `switchboard serve --demo` on loopback, waits for
# /healthz, drives the endpoint with wrk (16 connections, 2 threads, 20 s by default, rotating a
# few realistic shopper messages) and prints requests/s and latency percentiles, then stops the
# server. Encoder settings come from the usual environment variables, e.g.
#   SWITCHBOARD_CLASSIFIER_SESSIONS=1 SWITCHBOARD_CLASSIFIER_THREADS=2 scripts/load_classify.sh
# Options (environment): PORT (default 18080), DURATION (20s), CONNECTIONS (16), THREADS (2),
# BIN (./target/release/switchboard).
set -euo pipefail

cd "$(dirname "$0")/.."
PORT="${PORT:-18080}"
DURATION="${DURATION:-20s}"
CONNECTIONS="${CONNECTIONS:-16}"
THREADS="${THREADS:-2}"
BIN="${BIN:-./target/release/switchboard}"
BASE="http://127.0.0.1:${PORT}"

if [[ ! -x "$BIN" ]]; then
    echo "no $BIN; build it first with: cargo build --release --locked" >&2
    exit 1
fi
if ! command -v wrk >/dev/null 2>&1; then
    echo "wrk is missing; installing it with apt-get" >&2
    if [[ $(id -u) -eq 0 ]]; then apt-get install -y wrk >/dev/null; else sudo apt-get install -y wrk >/dev/null; fi
fi
if curl -fsS "$BASE/healthz" >/dev/null 2>&1; then
    echo "something is already listening on $BASE; choose another PORT" >&2
    exit 1
fi

WORK="$(mktemp -d /tmp/switchboard-load.XXXXXX)"
SERVER_PID=""
cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

cat >"$WORK/classify.lua" <<'LUA'
-- POSTs a rotating set of shopper messages to /api/v1/classify.
local messages = {
  "where is my order 1042?",
  "do you accept PayPal?",
  "the mug I ordered arrived broken",
  "I want to talk to a real person",
  "how long do I have to return a jacket?",
  "can I change the delivery address for my order",
  "I was charged twice for the same order",
  "hi there",
}
local bodies = {}
for i, m in ipairs(messages) do bodies[i] = '{"text":"' .. m .. '"}' end
local counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  return wrk.format(nil, "/api/v1/classify", nil, bodies[(counter % #bodies) + 1])
end
LUA

echo "encoder: ${SWITCHBOARD_CLASSIFIER_SESSIONS:-2 (default)} session(s) x ${SWITCHBOARD_CLASSIFIER_THREADS:-1 (default)} thread(s); wrk ${THREADS} threads, ${CONNECTIONS} connections, ${DURATION}"
"$BIN" serve --demo --listen "127.0.0.1:${PORT}" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

for _ in $(seq 1 300); do
    if curl -fsS "$BASE/healthz" >/dev/null 2>&1; then break; fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "the server exited before it was ready:" >&2
        cat "$WORK/server.log" >&2
        exit 1
    fi
    sleep 0.1
done
if ! curl -fsS "$BASE/healthz" >/dev/null 2>&1; then
    echo "the server did not become healthy within 30 s" >&2
    cat "$WORK/server.log" >&2
    exit 1
fi

# One request by hand first, so a broken endpoint fails loudly instead of as a fast 4xx flood.
status=$(curl -s -o "$WORK/probe.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    -d '{"text":"where is my order 1042?"}' "$BASE/api/v1/classify")
if [[ "$status" != 200 ]]; then
    echo "probe request failed with HTTP $status: $(cat "$WORK/probe.json")" >&2
    exit 1
fi

timeout 120 wrk --latency -t "$THREADS" -c "$CONNECTIONS" -d "$DURATION" --timeout 10s \
    -s "$WORK/classify.lua" "$BASE/api/v1/classify" | tee "$WORK/wrk.txt"

if grep -q "Non-2xx" "$WORK/wrk.txt"; then
    echo "some requests did not get HTTP 200" >&2
    exit 1
fi
