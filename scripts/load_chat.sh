#!/usr/bin/env bash
# Runs the chat load tool (examples/load_chat) against fresh `switchboard serve --demo`
# instances on loopback, then stops them. Every shopper comes from one address here, so the
# per-address rate limits are off and the per-address stream cap is raised to 20,000.
# Arguments go to load_chat after the URLs, e.g.
#   scripts/load_chat.sh 16 20 --idle-streams 10000
# Options (environment):
#   DATABASE   sqlite:///tmp/switchboard-load/demo.db (default) or postgres://...; a PostgreSQL
#              database whose name starts with switchboard_load is dropped and created afresh,
#              any other is used as it is
#   INSTANCES  1 (default) or 2, which share one PostgreSQL database: ports 18181 and 18182
#   BIN_DIR    the folder with switchboard and examples/load_chat (default target/release)
# Server logs: /tmp/switchboard-load/server-N.log.
set -euo pipefail

cd "$(dirname "$0")/.."
DATABASE="${DATABASE:-sqlite:///tmp/switchboard-load/demo.db}"
INSTANCES="${INSTANCES:-1}"
BIN_DIR="${BIN_DIR:-target/release}"
WORK=/tmp/switchboard-load

if [[ "$INSTANCES" != 1 && "$INSTANCES" != 2 ]]; then
    echo "INSTANCES must be 1 or 2" >&2
    exit 2
fi
if [[ "$INSTANCES" == 2 && "$DATABASE" != postgres* ]]; then
    echo "two instances share one PostgreSQL database: set DATABASE=postgres://..." >&2
    exit 2
fi
for bin in "$BIN_DIR/switchboard" "$BIN_DIR/examples/load_chat"; do
    [[ -x "$bin" ]] || { echo "no $bin; build it with: cargo build --release --locked --bin switchboard --example load_chat" >&2; exit 1; }
done

rm -rf "$WORK" && mkdir -p "$WORK"
if [[ "$DATABASE" == postgres* ]]; then
    name="${DATABASE##*/}"
    name="${name%%\?*}"
    if [[ "$name" == switchboard_load* ]]; then
        admin="${DATABASE%/*}/postgres"
        PGOPTIONS="--client-min-messages=warning" psql -q -v ON_ERROR_STOP=1 "$admin" -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" -c "CREATE DATABASE \"$name\""
        echo "created a fresh PostgreSQL database $name"
    fi
fi

source scripts/bench_common.sh
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do stop_server "$pid"; done
}
trap cleanup EXIT INT TERM

URLS=()
# One after the other: the first creates and seeds the database, the next finds it ready.
for i in $(seq 1 "$INSTANCES"); do
    port=$((18180 + i))
    url="http://127.0.0.1:$port"
    ensure_port_free "$url"
    start_server "$WORK/server-$i.log" "$BIN_DIR/switchboard" serve --demo --listen "127.0.0.1:$port" \
        --database "$DATABASE" \
        --rate-limit-per-address off --rate-limit-new-conversations off --rate-limit-per-conversation off \
        --max-streams-per-address 20000
    PIDS+=("$STARTED_PID")
    wait_healthy "instance $i at $url" "$url" "$STARTED_PID" "$WORK/server-$i.log" 60
    URLS+=("$url")
done

status=0
"$BIN_DIR/examples/load_chat" "$(IFS=,; echo "${URLS[*]}")" "$@" || status=$?
# Peak memory of each server over the whole run (the capacity table's memory column).
for i in "${!PIDS[@]}"; do
    peak=$(awk '/^VmHWM/ {printf "%.0f MiB", $2 / 1024}' "/proc/${PIDS[$i]}/status" 2>/dev/null || true)
    echo "instance $((i + 1)) peak memory (VmHWM): ${peak:-unknown}"
done
exit "$status"
