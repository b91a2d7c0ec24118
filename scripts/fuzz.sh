#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ for a while (FUZZ_SECONDS each, default 30), seeded with the
# shipped runbooks and the invalid-input fixtures. A crash fails the run and leaves
# its input in fuzz/artifacts/<target>/; turn it into a regression test.
#
# Usage: scripts/fuzz.sh [TARGET...]        FUZZ_SECONDS=600 scripts/fuzz.sh condition
# FUZZ_SECONDS=0 skips it (the test command calls it).
# cargo-fuzz needs a nightly compiler; on a stable one, RUSTC_BOOTSTRAP=1 unlocks the flags.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-30}"
if [[ "$seconds" == 0 ]]; then
    echo "fuzzing skipped (FUZZ_SECONDS=0)" >&2
    exit 0
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz ..." >&2
    cargo install cargo-fuzz --locked --quiet
fi
if ! rustc --version | grep -q nightly; then
    export RUSTC_BOOTSTRAP=1
fi

targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    targets=(condition runbook_file)
fi

# Seeds: a fresh corpus folder per target, outside the repository's tracked files.
corpus="fuzz/corpus"
seed() {
    mkdir -p "$corpus/$1"
    local f
    while IFS= read -r f; do
        cp "$f" "$corpus/$1/seed-$(echo "$f" | tr '/ ' '--')"
    done
}
shopt -s nullglob
printf '%s\n' runbooks/*.toml runbooks/shared/*.toml tests/fixtures/invalid/*.toml | seed runbook_file
mkdir -p "$corpus/condition"
sed -n "s/^when = '\\(.*\\)'$/\\1/p" runbooks/*.toml runbooks/shared/*.toml | sort -u |
    split -a 4 -l 1 - "$corpus/condition/seed-"

echo "building the fuzz targets (instrumented; slow the first time) ..." >&2
cargo fuzz build -O -a
# cargo-fuzz has no --locked: a build that had to change the committed lock file fails, so
# that the run changes no tracked file and every build uses the same dependencies.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1 && ! git diff --quiet -- fuzz/Cargo.lock; then
    echo "fuzz/Cargo.lock is out of date: commit the version the build wrote" >&2
    exit 1
fi
log="fuzz/last-run.log"
for t in "${targets[@]}"; do
    echo "fuzzing $t for ${seconds}s ..." >&2
    if ! cargo fuzz run -O -a "$t" "$corpus/$t" -- -max_total_time="$seconds" \
        -print_final_stats=1 >"$log" 2>&1; then
        cat "$log" >&2
        echo "fuzz target $t failed: the input is in fuzz/artifacts/$t/" >&2
        exit 1
    fi
    grep -E '^(Done|stat::number_of_executed_units)' "$log" >&2 || true
done
