#!/usr/bin/env bash
# Browser tests of the help site. On a fresh Debian machine this installs what it needs
# (Debian's chromium, the npm packages in package-lock.json), builds the site (and a copy with
# its search index in small shards), serves each with `runbook serve` on a free loopback port,
# serves a copy of the project while watching it (for the live reload test, which edits it),
# runs the tests, and stops the servers.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

if [[ ! -x /usr/bin/chromium ]]; then
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
fi
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)

cargo build --locked --quiet
target="${CARGO_TARGET_DIR:-$root/target}"
[[ "$target" = /* ]] || target="$root/$target"
bin="$target/debug/runbook"

work="$(mktemp -d)"
servers=()
cleanup() {
  for pid in "${servers[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

# Serves a built site with `runbook serve` on a free port; sets `url` to its address. More
# arguments (--no-watch) go to `runbook serve`.
serve() { # project site log [serve args..]
  local project="$1" dest="$2" log="$3"
  shift 3
  # Port 0: the server takes a free port and prints its address.
  "$bin" -C "$project" --color never serve --port 0 --dest "$dest" "$@" >"$log" 2>&1 &
  local pid=$!
  servers+=("$pid")
  url=""
  for _ in $(seq 1 300); do
    url="$(grep -o 'http://127\.0\.0\.1:[0-9]*/' "$log" | head -n1 || true)"
    [[ -n "$url" ]] && break
    if ! kill -0 "$pid" 2>/dev/null; then
      cat "$log" >&2
      echo "runbook serve stopped before it was ready" >&2
      exit 1
    fi
    sleep 0.2
  done
  if [[ -z "$url" ]]; then
    cat "$log" >&2
    echo "runbook serve did not start" >&2
    exit 1
  fi
}

site="$work/book"
"$bin" -C "$root" --color never build --dest "$site"
serve "$root" "$site" "$work/serve.log" --no-watch
base_url="$url"
echo "serving $site at $base_url"

# The same project with its search index in shards of a few pages each, as a large book's.
sharded="$work/sharded"
mkdir -p "$sharded"
cp -r "$root/book.toml" "$root/guide" "$root/runbooks" "$sharded/"
if grep -q '^\[output\.html\.search\]' "$sharded/book.toml"; then
  sed -i 's/^\[output\.html\.search\]$/&\nshard-size = 8/' "$sharded/book.toml"
else
  printf '\n[output.html.search]\nshard-size = 8\n' >>"$sharded/book.toml"
fi
"$bin" -C "$sharded" --color never build --dest "$work/sharded-book"
serve "$sharded" "$work/sharded-book" "$work/serve-sharded.log" --no-watch
sharded_url="$url"
echo "serving the sharded site at $sharded_url"

# A copy of the project served while watching, for the live reload test to edit.
live="$work/live"
mkdir -p "$live"
cp -r "$root/book.toml" "$root/guide" "$root/runbooks" "$live/"
serve "$live" "$work/live-book" "$work/serve-live.log"
echo "serving the watched copy at $url"
live_url="$url"

# A plain mdBook book published under a sub-path, with redirects of whole pages and of parts.
published="$work/published"
cp -r "$root/tests/fixtures/site/published" "$published"
"$bin" -C "$published" --color never build --dest "$work/published-book"
serve "$published" "$work/published-book" "$work/serve-published.log" --no-watch
published_url="$url"

# A project that uses every fact type and operator, for the builder's parity test.
engine="$root/tests/fixtures/engine"
"$bin" -C "$engine" --color never build --dest "$work/engine-book"
serve "$engine" "$work/engine-book" "$work/serve-engine.log" --no-watch
engine_url="$url"

cd "$here"
ENGINE_PROJECT="$engine" ENGINE_URL="$engine_url" BASE_URL="$base_url" SHARDED_URL="$sharded_url" SITE="$site" RUNBOOK="$bin" PROJECT="$root" \
  LIVE_URL="$live_url" LIVE_PROJECT="$live" PUBLISHED_URL="$published_url" \
  node --test --test-concurrency=1 checklist.test.mjs site.test.mjs layout.test.mjs live.test.mjs \
  redirect.test.mjs run.test.mjs || {
  status=$?
  echo "--- runbook serve of the watched copy said:" >&2
  tail -n 40 "$work/serve-live.log" >&2
  exit "$status"
}
