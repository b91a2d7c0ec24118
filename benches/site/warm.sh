#!/usr/bin/env bash
# A repeated `runbook build` after one edit (its search shards reused from the last build,
# see .runbook/site-search.json) against `mdbook build` after the same edit, on the same book:
#   bash benches/site/warm.sh RUNBOOK MDBOOK BOOK [RUNS]
# Each tool builds a copy of BOOK once, then RUNS times (default 3): one chapter edited, the
# book built again, timed; prints the median wall time of each.
set -euo pipefail
runbook="$1" mdbook="$2" book="$3" runs="${4:-3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$book" "$work/book"
# The chapter in the middle of SUMMARY.md.
chapter="$work/book/src/$(grep -oE '\]\([^)]+\.md\)' "$work/book/src/SUMMARY.md" | grep -v README.md |
  sed -E 's/^\]\((.*)\)$/\1/' | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }')"

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
timed() { # command... -> wall seconds
  local t
  t="$(mktemp)"
  /usr/bin/time -f "%e" -o "$t" "$@" >/dev/null 2>&1
  cat "$t"
  rm -f "$t"
}

for tool in mdbook runbook; do
  if [[ "$tool" == runbook ]]; then
    build=("$runbook" --color never -C "$work/book" build --dest "$work/out-runbook")
  else
    build=("$mdbook" build -d "$work/out-mdbook" "$work/book")
  fi
  "${build[@]}" >/dev/null 2>&1
  times=""
  for n in $(seq 1 "$runs"); do
    printf '\nEdited, %s %s.\n' "$tool" "$n" >>"$chapter"
    times+="$(timed "${build[@]}")"$'\n'
  done
  echo "$tool: median $(printf '%s' "$times" | median) s (builds: $(printf '%s' "$times" | tr '\n' ' '))"
done
