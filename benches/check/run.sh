#!/usr/bin/env bash
# Benchmark: whole-process `runbook check` on 1,000 generated runbooks x 50 steps (each in two
# revisions), wall time and peak memory. Goal: under 2 s and 200 MB on a 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
cargo build --release --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 benches/check/generate.py "$work/project" "${1:-1000}" "${2:-50}"
echo "runbooks: $(ls "$work/project/runbooks" | grep -c '^rb-'), files: $(du -sh "$work/project/runbooks" | cut -f1)"
./target/release/runbook -C "$work/project" check >/dev/null 2>&1 || true   # warm the page cache
for i in 1 2 3; do
  /usr/bin/time -f "run $i: %e s wall, %M KB peak" ./target/release/runbook -C "$work/project" check >/dev/null 2>"$work/err" || { tail -5 "$work/err"; exit 1; }
  tail -1 "$work/err"
done
