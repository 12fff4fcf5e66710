#!/usr/bin/env bash
# Browser tests: headless Debian chromium driven by npm's playwright-core (which never downloads
# a browser) against the real server with the demo store.
#
#   tests/browser/run.sh                 # uses ./target/release/switchboard (built if missing)
#   SWITCHBOARD_BIN=path tests/browser/run.sh
#   tests/browser/run.sh --test-name-pattern reorder    # extra args go to `node --test`
#
# Screenshots land in tests/browser/artifacts/.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  echo "== installing Debian's chromium"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
command -v node >/dev/null || { echo "node (>= 18) is needed for the browser tests" >&2; exit 1; }

echo "== npm dependencies (playwright-core, axe-core)"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
(cd "$here" && { npm ci --no-audit --no-fund --loglevel=error || npm install --no-audit --no-fund --loglevel=error; })

bin="${SWITCHBOARD_BIN:-$root/target/release/switchboard}"
if [ ! -x "$bin" ]; then
  echo "== building $bin"
  cargo build --release --locked
fi

work="$(mktemp -d -t switchboard-browser.XXXXXX)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
port="$(free_port)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# A store on another origin (a page the widget test serves on this port) loads the widget.
export STOREFRONT_ORIGIN="http://127.0.0.1:$(free_port)"
echo "== starting the demo server on 127.0.0.1:$port"
SWITCHBOARD_ALLOWED_ORIGINS="$STOREFRONT_ORIGIN" \
  "$bin" serve --demo --listen "127.0.0.1:$port" --database "sqlite://$work/browser.db" --web "$root/web" \
  >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 300); do
  if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "the server exited:" >&2; cat "$work/server.log" >&2; exit 1
  fi
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || { echo "the server is not ready:" >&2; cat "$work/server.log" >&2; exit 1; }

export SWITCHBOARD_URL="http://127.0.0.1:$port"
mkdir -p "$here/artifacts"
status=0
(cd "$here" && node --test --test-concurrency=1 "$@" ./*.test.mjs) || status=$?
if [ "$status" -ne 0 ]; then
  echo "== server log (tail)"; tail -n 60 "$work/server.log"
fi
echo "== screenshots in $here/artifacts/"
exit "$status"
