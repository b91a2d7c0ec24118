#!/usr/bin/env bash
# Browser tests of the help site. On a fresh Debian machine this installs what it needs
# (Debian's chromium, the npm packages in package-lock.json), builds the site, serves it with
# `runbook serve` on a free loopback port, runs the tests, and stops the server.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

if [[ ! -x /usr/bin/chromium ]]; then
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
fi
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)

cargo build --locked --quiet
target="${CARGO_TARGET_DIR:-$root/target}"
[[ "$target" = /* ]] || target="$root/$target"
bin="$target/debug/runbook"

work="$(mktemp -d)"
server=""
cleanup() {
  if [[ -n "$server" ]]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

site="$work/book"
"$bin" -C "$root" --color never build --dest "$site"

# Port 0: the server takes a free port and prints its address.
"$bin" -C "$root" --color never serve --port 0 --dest "$site" --no-watch >"$work/serve.log" 2>&1 &
server=$!
url=""
for _ in $(seq 1 300); do
  url="$(grep -o 'http://127\.0\.0\.1:[0-9]*/' "$work/serve.log" | head -n1 || true)"
  [[ -n "$url" ]] && break
  if ! kill -0 "$server" 2>/dev/null; then
    cat "$work/serve.log" >&2
    echo "runbook serve stopped before it was ready" >&2
    exit 1
  fi
  sleep 0.2
done
if [[ -z "$url" ]]; then
  cat "$work/serve.log" >&2
  echo "runbook serve did not start" >&2
  exit 1
fi
echo "serving $site at $url"

cd "$here"
BASE_URL="$url" SITE="$site" RUNBOOK="$bin" PROJECT="$root" \
  node --test --test-concurrency=1 checklist.test.mjs site.test.mjs
