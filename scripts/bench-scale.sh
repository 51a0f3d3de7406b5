#!/usr/bin/env bash
# Reproduces docs/performance.md: the criterion benchmark of each stage
# (cargo bench --bench scale), then, with the release binary, the whole
# `optimize` run against HiGHS alone on the exported first-stage LP, wall
# time and peak memory (/usr/bin/time -v), for a range of generated
# territories and both kinds of objective (the default lexicographic
# `externalities`, solved in two stages, and the one-stage `social`).
#
# Usage: bash scripts/bench-scale.sh            # everything (about 1 hour on 2 cores)
#        SKIP_CRITERION=1 bash scripts/bench-scale.sh   # the table only
#        FIRMS="200 2000" REPEAT=1 bash scripts/bench-scale.sh
# Results: the criterion report in $CARGO_TARGET_DIR/criterion (or
# target/criterion), and the table on standard output and in
# $WORK/scale-table.md.
set -euo pipefail
cd "$(dirname "$0")/.."

FIRMS=${FIRMS:-"200 1000 2000 5000 10000 20000"}
REPEAT=${REPEAT:-3}
TARGET=${CARGO_TARGET_DIR:-target}
WORK=${WORK:-$TARGET/bench-scale}
mkdir -p "$WORK"

if [ -z "${SKIP_CRITERION:-}" ]; then
    cargo bench --bench scale
fi
cargo build --release --quiet
cargo build --release --quiet --example highs_alone
BIN=$TARGET/release/symbiose
HIGHS=$TARGET/release/examples/highs_alone

# median of the numbers on standard input
median() { sort -g | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
# wall seconds and peak RSS (MB) of a command, from /usr/bin/time -v
measure() {
    /usr/bin/time -v "$@" >"$WORK/out.txt" 2>"$WORK/time.txt" || true
    local wall rss
    wall=$(grep "Elapsed (wall clock)" "$WORK/time.txt" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
    rss=$(grep "Maximum resident set size" "$WORK/time.txt" | awk '{print $NF/1024}')
    echo "$wall $rss"
}

TABLE=$WORK/scale-table.md
{
    echo "| objective | firms | flows | candidate links | optimize (s) | HiGHS alone, run (s) | ratio | optimize peak RSS (MB) | HiGHS alone peak RSS (MB) | ratio |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
} >"$TABLE"
for n in $FIRMS; do
    dir=$WORK/territory-$n
    rm -rf "$dir"
    "$BIN" generate --firms "$n" --seed 1 --out "$dir" >/dev/null
    counts=$("$BIN" validate "$dir" | head -1)
    flows=$(echo "$counts" | sed -E 's/.* ([0-9]+) flows.*/\1/')
    links=$(echo "$counts" | sed -E 's/.* ([0-9]+) candidate links.*/\1/')
    for objective in externalities social; do
        mps=$WORK/first-stage-$n-$objective.mps
        # --time-limit 0 stops right after the LP file is written.
        "$BIN" optimize "$dir" --objective "$objective" --write-mps "$mps" --time-limit 0 --out "$WORK/unused" >/dev/null 2>&1 || true
        opt_times=(); opt_rss=(); hi_times=(); hi_rss=()
        for _ in $(seq "$REPEAT"); do
            read -r wall rss < <(measure "$BIN" optimize "$dir" --objective "$objective" --out "$WORK/results-$n")
            opt_times+=("$wall"); opt_rss+=("$rss")
            read -r _ rss < <(measure "$HIGHS" "$mps" choose 1)
            hi_times+=("$(sed -E 's/.*run ([0-9.]+) s.*/\1/' "$WORK/out.txt")"); hi_rss+=("$rss")
        done
        ot=$(printf '%s\n' "${opt_times[@]}" | median); orss=$(printf '%s\n' "${opt_rss[@]}" | median)
        ht=$(printf '%s\n' "${hi_times[@]}" | median); hrss=$(printf '%s\n' "${hi_rss[@]}" | median)
        printf "| %s | %s | %s | %s | %.2f | %.2f | %.2f | %.0f | %.0f | %.2f |\n" \
            "$objective" "$n" "$flows" "$links" "$ot" "$ht" "$(echo "$ot / $ht" | bc -l)" \
            "$orss" "$hrss" "$(echo "$orss / $hrss" | bc -l)" | tee -a "$TABLE"
    done
done
echo
cat "$TABLE"
