#!/usr/bin/env bash
# Benchmarks of dragnet's hot paths on one machine, in one run (ratios are what matter):
#   - `stats` (parse only: the physical limit for the input) vs `hunt` with 100 / 1,000 / all
#     SigmaHQ rules (rules/ + rules-threat-hunting/ + rules-emerging-threats/): records, MB,
#     wall and CPU seconds, events/s, MB/s, peak RSS, and hunt/stats;
#   - 1 thread vs 2 threads;
#   - rule set load + compile time (as a hunt loads, and `rules validate`);
#   - rsigma (crates.io, MIT), when installed, on the same JSON lines with the same rules.
#
# usage: scripts/bench.sh [CORPUS_DIR]
#   CORPUS_DIR  EVTX evidence; default: ../shared/data/evtx repeated until BENCH_MB (1024) MB
#   DRAGNET_SHARED  the shared data (default ../shared)
#   BENCH_ROUNDS    runs per figure (default 3): each figure is their median
# Timing belongs here, not in the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${DRAGNET_SHARED:-../shared}"
SIGMA="$SHARED/data/sigma/sigmahq"
BENCH_MB="${BENCH_MB:-1024}"
ROUNDS="${BENCH_ROUNDS:-3}"   # each figure is the median of this many runs
WORK="${BENCH_WORK:-/tmp/dragnet-bench}"
mkdir -p "$WORK"
[ -d "$SIGMA/rules" ] || { echo "bench: no SigmaHQ rules under $SIGMA (set DRAGNET_SHARED)" >&2; exit 2; }

cargo build --release -p dragnet-cli >&2
BIN="$PWD/target/release/dragnet"

# CPU time the host took from this (virtual) machine, in clock ticks: the `steal` column of
# /proc/stat. Printed at the end, so that a noisy run can be told from a slow build.
steal_ticks() { awk '/^cpu /{print $9; exit}' /proc/stat 2>/dev/null || echo 0; }
STEAL_START=$(steal_ticks)

CORPUS="${1:-}"
if [ -z "$CORPUS" ]; then
    CORPUS="$WORK/evtx-corpus"
    if [ ! -f "$CORPUS/.complete-$BENCH_MB" ]; then
        rm -rf "$CORPUS"; mkdir -p "$CORPUS"
        i=0
        while [ "$(du -sm "$CORPUS" | cut -f1)" -lt "$BENCH_MB" ]; do
            i=$((i + 1))
            mkdir -p "$CORPUS/copy$i"
            # Only the EVTX files (the sets also hold notes and pictures).
            (cd "$SHARED/data/evtx" && find . -name '*.evtx' -print0 | cpio -0pdm --quiet "$CORPUS/copy$i")
        done
        touch "$CORPUS/.complete-$BENCH_MB"
    fi
fi

# Rule subsets: every k-th file of the sorted SigmaHQ list (deterministic).
ALL_LIST="$WORK/rules-all.txt"
find "$SIGMA/rules" "$SIGMA/rules-threat-hunting" "$SIGMA/rules-emerging-threats" -name '*.yml' | sort > "$ALL_LIST"
TOTAL=$(wc -l < "$ALL_LIST")
subset() { # N -> dir with N rule files
    local n=$1 dir="$WORK/rules-$1"
    if [ ! -d "$dir" ]; then
        mkdir -p "$dir"
        awk -v n="$n" -v t="$TOTAL" 'BEGIN{step=t/n} { if (NR-1 >= c*step && c < n) { print; c++ } }' "$ALL_LIST" |
            while read -r f; do cp "$f" "$dir/$(echo "$f" | md5sum | cut -c1-12)-$(basename "$f")"; done
    fi
    echo "$dir"
}
R100=$(subset 100); R1000=$(subset 1000)
RALL=("$SIGMA/rules" "$SIGMA/rules-threat-hunting" "$SIGMA/rules-emerging-threats")

# One measured run: LABEL CMD... -> a table row; the run's stderr goes to $WORK/LABEL.log.
STATS_JSON="$WORK/stats.json"
"$BIN" stats "$CORPUS" --format json -q > "$STATS_JSON" 2>/dev/null
RECORDS=$(python3 -c "import json;print(json.load(open('$STATS_JSON'))['records'])")
BYTES=$(python3 -c "import json;print(json.load(open('$STATS_JSON'))['bytes'])")
printf '%-28s %10s %8s %8s %8s %11s %8s %9s %10s\n' run records MB wall_s cpu_s events/s MB/s rss_MiB vs_stats
BASE_RATE=""
row() { # the median of ROUNDS runs by wall time (a shared VM's timings wander)
    local label=$1; shift
    local t="$WORK/$label.time"
    : > "$t.all"
    for _ in $(seq "$ROUNDS"); do
        /usr/bin/time -f '%e %U %S %M' -o "$t" "$@" > /dev/null 2> "$WORK/$label.log"
        cat "$t" >> "$t.all"
    done
    sort -n "$t.all" | sed -n "$(( (ROUNDS + 1) / 2 ))p" > "$t"
    read -r wall user sys rss < "$t"
    python3 - "$label" "$wall" "$user" "$sys" "$rss" "$RECORDS" "$BYTES" "${BASE_RATE:-0}" <<'PY'
import sys
label, wall, user, sys_, rss, rec, byt, base = sys.argv[1:]
wall, cpu = float(wall), float(user) + float(sys_)
rate = int(rec) / max(wall, 1e-9)
ratio = f"{rate / float(base):.2f}" if float(base) > 0 else "1.00"
print(f"{label:<28} {int(rec):>10} {int(byt)/1e6:>8.0f} {wall:>8.2f} {cpu:>8.2f} {rate:>11.0f} {int(byt)/1e6/max(wall,1e-9):>8.1f} {int(rss)/1024:>9.0f} {ratio:>10}")
PY
    if [ -z "$BASE_RATE" ]; then BASE_RATE=$(python3 -c "print($RECORDS / max(float('$wall'), 1e-9))"); fi
}

row "stats-2t" "$BIN" stats "$CORPUS" --format json -q -j 2
row "hunt-100-rules-2t" "$BIN" hunt "$CORPUS" --rules "$R100" --format jsonl -q -j 2
row "hunt-1000-rules-2t" "$BIN" hunt "$CORPUS" --rules "$R1000" --format jsonl -q -j 2
ALLARGS=(); for d in "${RALL[@]}"; do ALLARGS+=(--rules "$d"); done
row "hunt-all-rules-2t" "$BIN" hunt "$CORPUS" "${ALLARGS[@]}" --format jsonl -q -j 2
row "stats-1t" "$BIN" stats "$CORPUS" --format json -q -j 1
row "hunt-all-rules-1t" "$BIN" hunt "$CORPUS" "${ALLARGS[@]}" --format jsonl -q -j 1

echo
echo "rule set load + compile, $TOTAL files (a hunt over one small EVTX file, 2 threads; median of 3):"
# What a hunt spends before its first event: discovery, YAML, compile, prefilter automata
# (regular expressions are compiled when an event first reaches them).
SMALL=$(find "$SHARED/data/evtx" -name '*.evtx' -size -200k | sort | head -1)
for _ in 1 2 3; do
    { /usr/bin/time -f '%e %U %S %M' "$BIN" hunt "$SMALL" "${ALLARGS[@]}" --format jsonl -q -j 2 2>&1 >/dev/null || true; } | tail -1
done | sort -n | sed -n 2p | awk '{printf "  wall %s s, cpu %s+%s s, rss %s KiB\n", $1, $2, $3, $4}'
echo "rules validate (every rule compiled, every regular expression included):"
# (validate exits 1: two SigmaHQ rules need placeholder values; the timing is what counts here)
{ /usr/bin/time -f '  wall %e s, cpu %U+%S s, rss %M KiB' "$BIN" rules validate "${RALL[@]}" 2>&1 >/dev/null || true; } | tail -1

# One large file: the Mordor captures decompressed into one JSON lines file.
JL="$WORK/mordor.jsonl"
[ -s "$JL" ] || zcat "$SHARED"/data/json/mordor/*.jsonl.gz 2>/dev/null | grep -a '^{' > "$JL" || true
echo
echo "one large file ($(du -m "$JL" | cut -f1) MB of JSON lines), all rules, 1 vs 2 threads (wall s):"
one_file() { # THREADS -> wall seconds
    /usr/bin/time -f '%e' -o "$WORK/one-file-$1.time" "$BIN" hunt "$JL" "${ALLARGS[@]}" --format jsonl -q -j "$1" > /dev/null 2>&1 || true
    cat "$WORK/one-file-$1.time"
}
# Two cores' worth of perfectly independent work: two 1-thread runs at once (no shared state
# at all), against one alone. Two vCPUs of a VM may share a physical core's caches or be
# overcommitted: this is the ceiling the 2-thread speed-up is measured against.
pair() { # -> wall seconds of two 1-thread runs side by side
    local start end
    start=$(date +%s.%N)
    ( "$BIN" hunt "$JL" "${ALLARGS[@]}" --format jsonl -q -j 1 > /dev/null 2>&1 || true ) &
    "$BIN" hunt "$JL" "${ALLARGS[@]}" --format jsonl -q -j 1 > /dev/null 2>&1 || true
    wait
    end=$(date +%s.%N)
    python3 -c "print(f'{$end - $start:.2f}')"
}
# Alternated rounds, medians.
W1S=(); W2S=(); PS=()
for _ in $(seq "$ROUNDS"); do
    W1S+=("$(one_file 1)"); W2S+=("$(one_file 2)"); PS+=("$(pair)")
done
python3 - "${W1S[*]}" "${W2S[*]}" "${PS[*]}" <<'PY'
import statistics, sys
w1, w2, p = (statistics.median(float(x) for x in a.split()) for a in sys.argv[1:4])
print(f"  1 thread {w1:.2f} s, 2 threads {w2:.2f} s: {w1 / max(w2, 1e-9):.2f}x (medians of {len(sys.argv[1].split())} alternated rounds)")
print(f"  two independent 1-thread runs at once: {p:.2f} s = {2 * w1 / max(p, 1e-9):.2f}x one run (this machine's ceiling for 2 cores);")
print(f"  2 threads reach {(w1 / max(w2, 1e-9)) / max(2 * w1 / max(p, 1e-9), 1e-9):.0%} of it")
PY

# The peer: rsigma evaluates JSON lines; both tools get the same decompressed Mordor capture.
if command -v rsigma >/dev/null 2>&1; then
    echo
    echo "peer comparison on $(wc -l < "$JL") JSON lines ($(du -m "$JL" | cut -f1) MB), all rules, CPU seconds:"
    /usr/bin/time -f '  dragnet hunt: wall %e s, cpu %U+%S s, rss %M KiB' "$BIN" hunt "$JL" "${ALLARGS[@]}" --format jsonl -q -j 2 > "$WORK/dragnet-mordor.jsonl" 2> "$WORK/dragnet-mordor.log" || true
    tail -1 "$WORK/dragnet-mordor.log"
    # rsigma takes one rules directory: the three SigmaHQ folders side by side in one.
    RDIR="$WORK/rules-all-dir"
    if [ ! -d "$RDIR" ]; then
        mkdir -p "$RDIR"
        for d in "${RALL[@]}"; do ln -s "$(cd "$d" && pwd)" "$RDIR/$(basename "$d")"; done
    fi
    /usr/bin/time -f '  rsigma engine eval: wall %e s, cpu %U+%S s, rss %M KiB' rsigma engine eval -r "$RDIR" -e "@$JL" > "$WORK/rsigma-mordor.out" 2> "$WORK/rsigma-mordor.log" || true
    tail -1 "$WORK/rsigma-mordor.log"
    echo "  findings: dragnet $(wc -l < "$WORK/dragnet-mordor.jsonl"), rsigma $(wc -l < "$WORK/rsigma-mordor.out") lines"
else
    echo "(rsigma not installed: cargo install rsigma --version 0.23.0 to compare)"
fi

STEAL_END=$(steal_ticks)
HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)
python3 -c "t = ($STEAL_END - $STEAL_START) / $HZ; print(f'\nhost steal during this run: {t:.1f} s of CPU (a noisy neighbour when well above zero: compare figures across runs with care)')"
