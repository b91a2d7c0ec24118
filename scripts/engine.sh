#!/usr/bin/env bash
# Builds the checklist builder's engine (crates/runbook-wasm, the core crate compiled to
# WebAssembly) into crates/runbook-wasm/engine.wasm, which the site embeds. The file is
# committed, so that building or installing the tool needs no WebAssembly target; the build is
# reproducible (paths remapped, one codegen unit), and `--check` (which the test command runs)
# fails when the committed file is not what the sources make.
#
# Usage: scripts/engine.sh [--check]
set -euo pipefail
cd "$(dirname "$0")/.."

target=wasm32-unknown-unknown
if ! rustup target list --installed | grep -qx "$target"; then
    rustup target add "$target"
fi
root="$(pwd)"
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
# Remapped so that the file does not depend on where the clone or the cargo cache is. SHA-256
# (a run's step hashes) in its compact form: a few kilobytes less for every reader.
RUSTFLAGS="--remap-path-prefix=$root=/runbook --remap-path-prefix=$cargo_home=/cargo --cfg sha2_backend_soft=\"compact\"" \
    cargo build --quiet --locked -p runbook-wasm --profile wasm --target "$target"
dir="${CARGO_TARGET_DIR:-target}"
built="$dir/$target/wasm/runbook_wasm.wasm"
committed=crates/runbook-wasm/engine.wasm

if [[ "${1:-}" == --check ]]; then
    if ! cmp -s "$built" "$committed"; then
        echo "$committed is not what the sources build ($(rustc --version)):" \
            "run scripts/engine.sh and commit it" >&2
        exit 1
    fi
    echo "$committed is up to date ($(wc -c <"$committed") bytes, $(gzip -9c "$committed" | wc -c) gzipped)" >&2
else
    cp "$built" "$committed"
    echo "wrote $committed ($(wc -c <"$committed") bytes, $(gzip -9c "$committed" | wc -c) gzipped)" >&2
fi
