#!/usr/bin/env bash
# Runs every test: formatting, lints, unit and integration tests, the committed WebAssembly
# engine against its sources, the browser tests of the help site (which install Debian's
# chromium and the npm packages they need), then a short run of every fuzz target (which
# installs cargo-fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
# The builder's engine, committed as WebAssembly, is what the sources build.
bash scripts/engine.sh --check
if [[ -f tests/browser/run.sh ]]; then
  bash tests/browser/run.sh
fi
bash scripts/fuzz.sh
