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
source scripts/bench_common.sh
ensure_wrk
ensure_port_free "$BASE"

WORK="$(mktemp -d /tmp/switchboard-load.XXXXXX)"
SERVER_PID=""
cleanup() {
    stop_server "$SERVER_PID"
    rm -rf "$WORK"
}
trap cleanup EXIT
# A signal only exits; the EXIT trap then cleans up once (a cleanup here would let the run go on).
trap 'exit 130' INT
trap 'exit 143' TERM

echo "encoder: ${SWITCHBOARD_CLASSIFIER_SESSIONS:-2 (default)} session(s) x ${SWITCHBOARD_CLASSIFIER_THREADS:-1 (default)} thread(s); wrk ${THREADS} threads, ${CONNECTIONS} connections, ${DURATION}"
start_server "$WORK/server.log" "$BIN" serve --demo --listen "127.0.0.1:${PORT}"
SERVER_PID=$STARTED_PID
wait_healthy "the server" "$BASE" "$SERVER_PID" "$WORK/server.log" 30
probe_classify "the server" "$BASE" "$WORK/probe.json"

timeout 120 wrk --latency -t "$THREADS" -c "$CONNECTIONS" -d "$DURATION" --timeout 10s \
    -s "$CLASSIFY_LUA" "$BASE/api/v1/classify" | tee "$WORK/wrk.txt"

if grep -q "Non-2xx" "$WORK/wrk.txt"; then
    echo "some requests did not get HTTP 200" >&2
    exit 1
fi
