#!/usr/bin/env bash
# `runbook build` against mdBook, on the same machine, in one run of this script:
#   - the mdBook user guide (../shared/corpora/mdbook-guide),
#   - books made by replicating it (651, 1,581 and 3,162 chapters),
# each book built RUNS times (default 3) by each tool in turn, the run with the median wall time
# kept, reporting wall time, CPU time (user + system), the ratio of the wall times, peak memory
# (max RSS), output size, and the bytes a reader downloads for one search
# (measured in headless Chromium when it and tests/browser's packages are there). mdBook is
# installed with `cargo install mdbook`. Then, for each book, the addresses: every HTML page
# mdBook writes for a chapter must be at the same path in runbook's output, or the script
# fails once the table is printed.
#
#   bash benches/site/bench.sh            results as a Markdown table on stdout
#   BENCH_DIR=/tmp/b bash benches/site/bench.sh    keep the books and sites there
#   COPIES="21 102" bash benches/site/bench.sh     choose the replicated sizes
#   COPIES= bash benches/site/bench.sh             the guide only
#   RUNS=5 bash benches/site/bench.sh              builds of each book by each tool
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
guide="${GUIDE:-$root/../shared/corpora/mdbook-guide}"
work="${BENCH_DIR:-$(mktemp -d)}"
mkdir -p "$work"
copies="${COPIES-21 51 102}"
runs="${RUNS:-3}"
if ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
  echo "RUNS must be a whole number of builds, 1 or more (got '$runs')" >&2
  exit 2
fi
mdbook_version="${MDBOOK_VERSION:-0.5.4}"
query="${QUERY:-preprocessor}"

if [[ ! -f "$guide/src/SUMMARY.md" ]]; then
  echo "no mdBook guide at $guide (set GUIDE)" >&2
  exit 1
fi

mdbook="$work/cargo/bin/mdbook"
if [[ ! -x "$mdbook" ]]; then
  echo "installing mdbook $mdbook_version with cargo install…" >&2
  cargo install mdbook --version "$mdbook_version" --locked --root "$work/cargo" >&2
fi
echo "building runbook (release)…" >&2
cargo build --release --locked --quiet
target="${CARGO_TARGET_DIR:-$root/target}"
[[ "$target" = /* ]] || target="$root/$target"
runbook="$target/release/runbook"

# The books.
books=("guide")
rm -rf "$work/books"
mkdir -p "$work/books"
cp -r "$guide" "$work/books/guide"
for n in $copies; do
  chapters="$(python3 "$root/benches/site/make_book.py" "$guide" "$n" "$work/books/x$n")"
  books+=("x$n")
  echo "made x$n: $chapters chapters" >&2
done

chapters_of() {
  grep -cE '\]\([^)]+\)' "$work/books/$1/src/SUMMARY.md" || true
}

# Serves a folder on a free loopback port for the duration of one measurement.
search_bytes() { # kind dir page
  local kind="$1" dir="$2" page="$3"
  if [[ ! -x /usr/bin/chromium || ! -d "$root/tests/browser/node_modules/playwright-core" ]]; then
    echo "n/a"
    return
  fi
  local port log pid bytes
  log="$(mktemp)"
  python3 -m http.server --bind 127.0.0.1 0 --directory "$dir" >"$log" 2>&1 &
  pid=$!
  port=""
  for _ in $(seq 1 100); do
    port="$(grep -oE 'port [0-9]+' "$log" | head -n1 | cut -d' ' -f2 || true)"
    [[ -n "$port" ]] && break
    sleep 0.1
  done
  bytes="$(node "$root/benches/site/search-bytes.mjs" "$kind" "http://127.0.0.1:$port/$page" "$query" 2>/dev/null || echo "failed")"
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -f "$log"
  echo "$bytes"
}

measure() { # tool book -> "seconds cpu_seconds peak_kb output_bytes"
  local tool="$1" book="$2" out="$work/out/$1-$2" t
  rm -rf "$out"
  mkdir -p "$work/out"
  t="$(mktemp)"
  if [[ "$tool" == runbook ]]; then
    /usr/bin/time -f "%e %U %S %M" -o "$t" "$runbook" --color never -C "$work/books/$book" build --dest "$out" >/dev/null 2>&1
  else
    /usr/bin/time -f "%e %U %S %M" -o "$t" "$mdbook" build -d "$out" "$work/books/$book" >/dev/null 2>&1
  fi
  read -r secs user sys kb <"$t"
  echo "$secs $(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }') $kb $(du -sb "$out" | cut -f1)"
  rm -f "$t"
}

# Of several measurements (one a line), the one with the median wall time.
median() {
  sort -n | awk '{ line[NR] = $0 } END { print line[int((NR + 1) / 2)] }'
}

# Every build first, then the searches: a search's browser profile, deleted when it is done,
# does not come just before a build (on some file systems creating files soon after deleting
# many is slower). The tools take turns, so that both see the machine in the same state.
declare -A result
for book in "${books[@]}"; do
  declare -A runs_of=([mdbook]="" [runbook]="")
  for _ in $(seq 1 "$runs"); do
    for tool in mdbook runbook; do
      runs_of[$tool]+="$(measure "$tool" "$book")"$'\n'
    done
  done
  for tool in mdbook runbook; do
    result["$tool-$book"]="$(printf '%s' "${runs_of[$tool]}" | median)"
  done
done

mb() { awk -v b="$1" -v d="$2" 'BEGIN { printf "%.1f", b / d }'; }
echo "| chapters | mdBook wall (CPU) | runbook wall (CPU) | wall ratio | peak memory mdBook → runbook | output mdBook → runbook | search download mdBook → runbook |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
for book in "${books[@]}"; do
  n="$(chapters_of "$book")"
  read -r m_secs m_cpu m_kb m_bytes <<<"${result["mdbook-$book"]}"
  read -r r_secs r_cpu r_kb r_bytes <<<"${result["runbook-$book"]}"
  downloads=()
  for tool in mdbook runbook; do
    sb="$(search_bytes "$tool" "$work/out/$tool-$book" index.html)"
    [[ "$sb" =~ ^[0-9]+$ ]] && sb="$(awk -v b="$sb" 'BEGIN { printf "%.0f", b / 1024 }')"
    downloads+=("$sb")
  done
  printf '| %s | %s s (%s s) | %s s (%s s) | %s× | %.0f → %.0f MB | %s → %s MB | %s → %s KB |\n' \
    "$n" "$m_secs" "$m_cpu" "$r_secs" "$r_cpu" "$(awk -v m="$m_secs" -v r="$r_secs" 'BEGIN { printf "%.1f", m / r }')" \
    "$(mb "$m_kb" 1024)" "$(mb "$r_kb" 1024)" "$(mb "$m_bytes" 1048576)" "$(mb "$r_bytes" 1048576)" \
    "${downloads[0]}" "${downloads[1]}"
done

# The same addresses: every HTML page mdBook wrote, but its own toc.html (the sidebar for
# readers without JavaScript; runbook's is toc.js), is at the same path in runbook's output.
echo
echo "| chapters | HTML pages mdBook writes | at the same path in runbook's output |"
echo "|---:|---:|---:|"
addresses_differ=0
for book in "${books[@]}"; do
  n="$(chapters_of "$book")"
  if [[ ! -f "$work/out/mdbook-$book/index.html" || ! -f "$work/out/runbook-$book/index.html" ]]; then
    echo "| $n | (a build of $book failed) | |"
    addresses_differ=1
    continue
  fi
  pages="$(cd "$work/out/mdbook-$book" && find . -name '*.html' ! -path ./toc.html | sed 's|^\./||' | sort)"
  total="$(printf '%s\n' "$pages" | grep -c . || true)"
  missing="$(printf '%s\n' "$pages" | while IFS= read -r page; do
    [[ -z "$page" || -f "$work/out/runbook-$book/$page" ]] || printf '%s\n' "$page"
  done)"
  same=$((total - $(printf '%s\n' "$missing" | grep -c . || true)))
  echo "| $n | $total | $same |"
  if [[ -n "$missing" ]]; then
    addresses_differ=1
    printf 'not in runbook'"'"'s output for %s:\n%s\n' "$book" "$missing" >&2
  fi
done

echo >&2
echo "books and sites are in $work ($runs builds of each book by each tool; the median shown)" >&2
if [[ "$addresses_differ" == 1 ]]; then
  echo "runbook build wrote some of mdBook's pages elsewhere (listed above)" >&2
  exit 1
fi
