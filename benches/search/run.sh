#!/usr/bin/env bash
# Search benchmark: builds the release binary, generates a synthetic project in the real format
# (10,000 runbooks, 100,000 steps, plus facts.toml and shared steps), then measures
#
#   1. building the index from scratch (wall time and peak memory, /usr/bin/time -v);
#   2. the refresh after one runbook file changed (`runbook index`, median of 5 edits);
#   3. whole-process `runbook search` latency, staleness check included (median over every
#      query of queries.txt, several runs each), against `rg -i` over the same sources.
#
# Usage: benches/search/run.sh [RUNBOOKS]      (default 10000; WORK=dir keeps the project)
# RUNBOOK_TRACE=1 runbook search ... prints where one search's time goes.
# Goals on a 2-core machine: build <= 10 s and <= 400 MB, refresh <= 0.5 s, search median
# <= 30 ms.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
runbooks="${1:-10000}"
work="${WORK:-$(mktemp -d)}"
runs="${RUNS:-7}"

need() {
    if ! command -v "$1" >/dev/null 2>&1 && ! [ -x "$1" ]; then
        echo "installing $2 ..." >&2
        if [ "$(id -u)" = 0 ]; then
            apt-get update -qq >/dev/null && apt-get install -y -qq "$2" >/dev/null
        else
            sudo apt-get update -qq >/dev/null && sudo apt-get install -y -qq "$2" >/dev/null
        fi
    fi
}
need /usr/bin/time time
need rg ripgrep
need python3 python3

echo "building the release binary ..." >&2
(cd "$repo" && cargo build --release --quiet)
bin="${CARGO_TARGET_DIR:-$repo/target}/release/runbook"

project="$work/project"
if [ ! -f "$project/runbooks/facts.toml" ]; then
    echo "generating $runbooks runbooks in $project ..." >&2
    python3 "$here/gen.py" "$project" --runbooks "$runbooks"
fi
cd "$project"
files=$(find runbooks -name '*.toml' | wc -l)
bytes=$(cat runbooks/*.toml runbooks/shared/*.toml | wc -c)
steps=$("$bin" check | sed -E 's/.* ([0-9]+) steps.*/\1/')

# 1. Full build.
rm -rf .runbook
/usr/bin/time -v "$bin" index --force >/dev/null 2>"$work/build.time"
build_s=$(grep 'Elapsed (wall clock)' "$work/build.time" | awk '{print $NF}' |
    awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }')
build_mb=$(grep 'Maximum resident set size' "$work/build.time" | awk '{printf "%.0f", $NF / 1024}')
index_mb=$(du -sm .runbook/index | cut -f1)

# 2. Refresh after one file changed (a word added to a step title), then restored.
refresh_times=()
for n in 01234 03456 05678 07890 09012; do
    f="runbooks/rb-$n.toml"
    [ -f "$f" ] || f=$(ls runbooks/rb-*.toml | head -1)
    cp "$f" "$work/saved.toml"
    sed -i '0,/^title = "/s//title = "Benchmark /' "$f"
    /usr/bin/time -f '%e' "$bin" index >/dev/null 2>"$work/refresh.time"
    refresh_times+=("$(tail -1 "$work/refresh.time")")
    cp "$work/saved.toml" "$f"
    "$bin" index >/dev/null
done
refresh_s=$(printf '%s\n' "${refresh_times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')

# Files just written are checked by content until they are 2 s old: let that pass, and let
# one search save the fresher stamps, so the latency below is the steady state.
sleep 2.5
"$bin" search warmup >/dev/null

# 3. Latency, whole process, staleness check included; rg over the same sources.
python3 - "$bin" "$here/queries.txt" "$runs" "$work" "$build_s" "$build_mb" "$index_mb" \
    "$refresh_s" "$files" "$bytes" "$steps" <<'EOF'
import resource, statistics, subprocess, sys, time

(bin_, queries_file, runs, work, build_s, build_mb, index_mb, refresh_s, files, size,
 steps) = sys.argv[1:]
runs = int(runs)
queries = [q for q in open(queries_file).read().splitlines() if q.strip()]

def timed(cmd):
    """Wall time, and CPU time (user + system, all threads), in ms."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = (time.perf_counter() - start) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    return wall, cpu

search, grep, search_cpu, grep_cpu = [], [], [], []
for q in queries:
    words = q.replace('"', "").replace("*", "")
    for _ in range(runs):
        wall, cpu = timed([bin_, "search", q, "--limit", "10"])
        search.append(wall)
        search_cpu.append(cpu)
        wall, cpu = timed(["rg", "-i", "-F", "--", words, "runbooks"])
        grep.append(wall)
        grep_cpu.append(cpu)

# A search right after one file changed (it refreshes the index first).
edited = []
for n in ["01234", "03456", "05678", "07890", "09012"]:
    path = f"runbooks/rb-{n}.toml"
    try:
        text = open(path).read()
    except FileNotFoundError:
        continue
    open(path, "w").write(text.replace('title = "', f'title = "Zebra{n} ', 1))
    edited.append(timed([bin_, "search", f"zebra{n}", "--limit", "10"])[0])
    open(path, "w").write(text)

s, g = statistics.median(search), statistics.median(grep)
sc, gc = statistics.median(search_cpu), statistics.median(grep_cpu)
print(f"project: {files} files, {int(size) / 1e6:.1f} MB of TOML, {steps} steps")
print(f"index build:   {float(build_s):6.2f} s   peak memory {build_mb} MB   index {index_mb} MB"
      f"   (goals: <= 10 s, <= 400 MB)")
print(f"refresh:       {float(refresh_s):6.2f} s   after one runbook file changed (goal: <= 0.5 s)")
print(f"search median: {s:6.1f} ms  ({len(search)} runs of {len(queries)} queries;"
      f" p90 {statistics.quantiles(search, n=10)[-1]:.1f} ms; goal: <= 30 ms)")
print(f"rg -i median:  {g:6.1f} ms")
print(f"rg / search:   {g / s:6.1f} x")
print(f"CPU time (user + system, median): search {sc:.1f} ms, rg {gc:.1f} ms ({gc / sc:.1f} x)")
if edited:
    print(f"search right after one file changed: {statistics.median(edited):.0f} ms median"
          f" of {len(edited)} (it refreshes the index first)")
load = open("/proc/loadavg").read().split()[0] if sys.platform.startswith("linux") else "?"
print(f"load average at the end: {load} (other work on the machine slows every figure)")
EOF
if [ -z "${WORK:-}" ]; then
    rm -rf "$work"
fi
