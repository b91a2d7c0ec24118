#!/usr/bin/env bash
# Benchmark: whole-process `runbook checklist` on the shipped runbooks, every example profile
# and format; median of many runs (hyperfine, from Debian's packages).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }
cargo build --release --quiet
out=$(mktemp)
trap 'rm -f "$out"' EXIT
hyperfine -N --warmup 10 --runs "${RUNS:-200}" --export-json "$out" \
  './target/release/runbook checklist --profile examples/contoso-1tier-us-install.toml' \
  './target/release/runbook checklist --profile examples/fabrikam-2tier-eu-upgrade.toml --format html' \
  './target/release/runbook checklist --profile examples/northwind-1tier-eu-appuser.toml --format json' \
  './target/release/runbook checklist --format txt' >/dev/null
python3 - "$out" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(f"{r['median'] * 1000:6.2f} ms median  {r['min'] * 1000:6.2f} ms min  {r['command'].split('release/')[1]}")
PY
