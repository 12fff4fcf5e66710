#!/usr/bin/env bash
# Side-by-side load test of POST /api/v1/classify: Switchboard against a plain Python service
# (FastAPI + uvicorn with 2 workers + onnxruntime + a scikit-learn head, the same int8 encoder
# and intents; scripts/compare_classify/service.py), in one run on one machine. Each service gets
# wrk at 1 connection and at 16 connections, one service at a time and each after a short
# warm-up; the result is a markdown table and the 16-connection ratios.
#
# Needs Python 3.11 + pip (the Python side is installed from PyPI into .cache/compare-venv, again
# whenever its requirements change), curl, wrk (installed with apt-get when missing) and a built
# Switchboard. It builds nothing. Switchboard's encoder settings come from the usual environment:
#   SWITCHBOARD_CLASSIFIER_SESSIONS=1 SWITCHBOARD_CLASSIFIER_THREADS=2 scripts/compare_classify.sh
# Options (environment): BIN (./target/release/switchboard), PORT (18080), PY_PORT (18090),
# DURATION of the 16-connection runs (20s), DURATION_1 of the 1-connection runs (10s),
# WARMUP before each run (3s), PYTHON (python3).
set -euo pipefail
# run_wrk runs inside $(...), which would otherwise drop -e and carry on after a failed wrk.
shopt -s inherit_errexit

cd "$(dirname "$0")/.."
BIN="${BIN:-./target/release/switchboard}"
PORT="${PORT:-18080}"
PY_PORT="${PY_PORT:-18090}"
DURATION="${DURATION:-20s}"
DURATION_1="${DURATION_1:-10s}"
WARMUP="${WARMUP:-3s}"
PYTHON="${PYTHON:-python3}"
SB_BASE="http://127.0.0.1:${PORT}"
PY_BASE="http://127.0.0.1:${PY_PORT}"
PY_DIR=scripts/compare_classify
VENV=.cache/compare-venv

if [[ ! -x "$BIN" ]]; then
    echo "no $BIN; build it first with: make onnxruntime && cargo build --release --locked (or set BIN=...)" >&2
    exit 1
fi
source scripts/bench_common.sh
ensure_wrk
ensure_port_free "$SB_BASE"
ensure_port_free "$PY_BASE"

# The venv is rebuilt from scratch when requirements.txt changes, so no stale package survives.
want=$(sha256sum "$PY_DIR/requirements.txt" | cut -d' ' -f1)
if [[ ! -x "$VENV/bin/python" || "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" != "$want" ]]; then
    echo "[python] installing $PY_DIR/requirements.txt into $VENV" >&2
    "$PYTHON" -m venv --clear "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: \
        -r "$PY_DIR/requirements.txt"
    echo "$want" >"$VENV/.requirements.sha256"
fi

# The head is trained once per version of the service, the intents and the encoder, before the
# server starts: training in each uvicorn worker would race and slow the start-up by minutes.
head_key=$(cat "$PY_DIR/service.py" intents/*.yaml models/encoder.onnx models/tokenizer.json | sha256sum | cut -c1-16)
HEAD_FILE="$VENV/head-$head_key.joblib"
if [[ ! -f "$HEAD_FILE" ]]; then
    echo "[python] training the scikit-learn head (a minute or two)" >&2
    rm -f "$VENV"/head-*.joblib
    "$VENV/bin/python" "$PY_DIR/service.py" train "$HEAD_FILE.tmp" >&2
    mv "$HEAD_FILE.tmp" "$HEAD_FILE"
fi

WORK="$(mktemp -d /tmp/switchboard-compare.XXXXXX)"
SB_PID=""
PY_PID=""
cleanup() {
    stop_server "$SB_PID"
    stop_server "$PY_PID"
    rm -rf "$WORK"
}
trap cleanup EXIT
# A signal only exits; the EXIT trap then cleans up once (a cleanup here would let the run go on).
trap 'exit 130' INT
trap 'exit 143' TERM

start_server "$WORK/switchboard.log" "$BIN" serve --demo --listen "127.0.0.1:${PORT}"
SB_PID=$STARTED_PID
# Access logs off: a per-request log line would cost the Python side time Switchboard doesn't spend.
start_server "$WORK/python.log" env HEAD="$HEAD_FILE" "$VENV/bin/python" -m uvicorn --app-dir "$PY_DIR" \
    service:app --http service:NoDelayH11Protocol --host 127.0.0.1 --port "$PY_PORT" --workers 2 \
    --no-access-log --log-level warning
PY_PID=$STARTED_PID
wait_healthy Switchboard "$SB_BASE" "$SB_PID" "$WORK/switchboard.log" 30
wait_healthy "the Python service" "$PY_BASE" "$PY_PID" "$WORK/python.log" 120
probe_classify Switchboard "$SB_BASE" "$WORK/probe-sb.json"
probe_classify "the Python service" "$PY_BASE" "$WORK/probe-py.json"

# run_wrk NAME BASE CONNECTIONS THREADS DURATION: a warm-up, then the measured run; prints
# "req/s p50_ms p99_ms". Any non-2xx answer fails the whole comparison.
run_wrk() {
    local name=$1 base=$2 connections=$3 threads=$4 duration=$5 out phase d
    for phase in warmup measure; do
        out="$WORK/$name-$connections-$phase.txt"
        [[ $phase == warmup ]] && d=$WARMUP || d=$duration
        timeout 300 wrk --latency -t "$threads" -c "$connections" -d "$d" --timeout 10s \
            -s "$CLASSIFY_LUA" "$base/api/v1/classify" >"$out"
        if grep -q "Non-2xx" "$out"; then
            echo "$name at $connections connection(s): some requests did not get HTTP 200:" >&2
            cat "$out" >&2
            exit 1
        fi
        if grep -q "Socket errors" "$out"; then
            echo "warning: $name at $connections connection(s) $phase: $(grep "Socket errors" "$out")" >&2
        fi
    done
    # wrk prints latencies as 512.00us, 2.95ms, 1.02s or 1.00m; all are turned into ms.
    awk 'function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0
                          if (v ~ /m$/) return v * 60000; return v * 1000 }
         /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) } /^Requests\/sec:/ { rps = $2 }
         END { if (rps == "" || p50 == "" || p99 == "") exit 1; printf "%.0f %.2f %.2f\n", rps, p50, p99 }' "$out" \
        || { echo "could not parse wrk output for $name:" >&2; cat "$out" >&2; exit 1; }
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "Switchboard: $BIN; encoder ${SWITCHBOARD_CLASSIFIER_SESSIONS:-2 (default)} session(s) x ${SWITCHBOARD_CLASSIFIER_THREADS:-1 (default)} thread(s)"
echo "Python: FastAPI + uvicorn, 2 workers x 1 onnxruntime thread, $("$VENV/bin/python" --version)"
echo "wrk: 1 connection / 1 thread for $DURATION_1, 16 connections / 2 threads for $DURATION, ${WARMUP} warm-up before each"

# Alternating the services at each load level spreads slow drift in the machine's background load
# over both sides rather than onto one.
declare -A result
for level in "1 1 $DURATION_1" "16 2 $DURATION"; do
    read -r connections threads duration <<<"$level"
    for side in Switchboard Python; do
        [[ $side == Switchboard ]] && base=$SB_BASE || base=$PY_BASE
        result[$side-$connections]=$(run_wrk "$side" "$base" "$connections" "$threads" "$duration")
        echo "  $side, $connections connection(s): ${result[$side-$connections]} (req/s p50 p99 ms)" >&2
    done
done

echo
echo "| service | connections | req/s | p50 | p99 |"
echo "|---|---|---|---|---|"
for connections in 1 16; do
    for side in Switchboard Python; do
        read -r rps p50 p99 <<<"${result[$side-$connections]}"
        echo "| $side | $connections | $rps | $p50 ms | $p99 ms |"
    done
done
read -r sb_rps _ sb_p99 <<<"${result[Switchboard-16]}"
read -r py_rps _ py_p99 <<<"${result[Python-16]}"
echo
awk -v a="$sb_rps" -v b="$py_rps" -v c="$sb_p99" -v d="$py_p99" 'BEGIN {
    printf "16 connections: throughput x%.2f (Switchboard / Python; target >= 2), p99 ratio %.2f (Switchboard / Python; target <= 0.5)\n", a / b, c / d }'
