# Shared by scripts/load_classify.sh, compare_classify.sh and load_chat.sh (sourced, not run): wrk from
# apt, servers in their own process group, readiness, and one probe request before any load.

# Rotates a few realistic shopper messages through POST /api/v1/classify.
CLASSIFY_LUA="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/classify.lua"

ensure_wrk() {
    if ! command -v wrk >/dev/null 2>&1; then
        echo "wrk is missing; installing it with apt-get" >&2
        if [[ $(id -u) -eq 0 ]]; then apt-get install -y wrk >/dev/null; else sudo apt-get install -y wrk >/dev/null; fi
    fi
}

# ensure_port_free BASE_URL: a server left over from an earlier run would be measured instead.
ensure_port_free() {
    if curl -fsS "$1/healthz" >/dev/null 2>&1; then
        echo "something is already listening on $1; choose another port" >&2
        exit 1
    fi
}

# start_server LOG CMD...: runs CMD in a new process group, so that stopping the group also stops
# any workers it forks (uvicorn does); the group id is left in STARTED_PID.
start_server() {
    local log=$1
    shift
    setsid "$@" >"$log" 2>&1 &
    STARTED_PID=$!
}

# stop_server PID: SIGTERM to the group (a graceful drain), SIGKILL after 5 s.
stop_server() {
    local pid=$1
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
}

# wait_healthy NAME BASE_URL PID LOG SECONDS: exits with the server's log if it dies or is slow.
wait_healthy() {
    local name=$1 base=$2 pid=$3 log=$4 seconds=$5
    for _ in $(seq 1 $((seconds * 10))); do
        if curl -fsS "$base/healthz" >/dev/null 2>&1; then return 0; fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "$name exited before it was ready:" >&2
            cat "$log" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "$name did not become healthy within $seconds s" >&2
    cat "$log" >&2
    exit 1
}

# probe_classify NAME BASE_URL OUT: one request by hand first, so a broken endpoint fails loudly
# instead of as a fast 4xx flood that looks like high throughput.
probe_classify() {
    local name=$1 base=$2 out=$3 status
    status=$(curl -s -o "$out" -w '%{http_code}' -H 'Content-Type: application/json' \
        -d '{"text":"where is my order 1042?"}' "$base/api/v1/classify")
    if [[ "$status" != 200 ]]; then
        echo "$name: probe request failed with HTTP $status: $(cat "$out")" >&2
        exit 1
    fi
}
