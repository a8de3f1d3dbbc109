#!/usr/bin/env bash
# Benchmark: scoring must not make the fitness import more than 1.5x slower than the vision import
# of the same row count.
#
# Generates a 1,000,000-row fitness file in the national 2014 template and a 1,000,000-row vision file,
# then imports each into a fresh database, alternately, RUNS times; prints median wall times, the ratio
# fitness/vision (target <= 1.5) and the peak RSS of each.
#
# Usage: Benchmarks/import-fitness.sh [ROWS] [RUNS]     (defaults: 1000000 rows, 3 runs)
# Needs GNU time and sqlite3; installs them with apt-get when missing and run as root.
set -euo pipefail
rows=${1:-1000000}
runs=${2:-3}
cd "$(dirname "$0")/.."
. Benchmarks/common.sh

bench_setup

"$bin" generate --out "$work/gen" --students "$rows" --years 1 --seed 1 --only vision --only fitness >/dev/null
vision="$work/gen/vision-2022.csv"
fitness="$work/gen/fitness-2022.csv"
echo "vision file:  $(($(wc -l <"$vision") - 1)) rows, $(du -m "$vision" | cut -f1) MB"
echo "fitness file: $(($(wc -l <"$fitness") - 1)) rows, $(du -m "$fitness" | cut -f1) MB (national template, 21 columns, scored by the 2014 standard)"

v_times=(); f_times=(); v_rss=(); f_rss=()
for i in $(seq "$runs"); do
    rm -f "$work"/v.sqlite* "$work"/f.sqlite*
    sync
    read -r t m < <(measure "$bin" import vision --db "$work/v.sqlite" --rejects "$work/rejects.csv" "$vision")
    v_times+=("$t"); v_rss+=("$m")
    sync
    read -r t m < <(measure "$bin" import fitness --db "$work/f.sqlite" --school SH-X01 --school-year 2022 --rejects "$work/rejects.csv" "$fitness")
    f_times+=("$t"); f_rss+=("$m")
    echo "run $i: vision ${v_times[-1]} s, fitness ${f_times[-1]} s"
done
tv=$(median "${v_times[@]}"); tf=$(median "${f_times[@]}")
rv=$(median "${v_rss[@]}"); rf=$(median "${f_rss[@]}")
awk -v tv="$tv" -v tf="$tf" -v rv="$rv" -v rf="$rf" -v n="$rows" -v runs="$runs" 'BEGIN {
    printf "\nmedian of %d runs, %d rows:\n", runs, n
    printf "  import vision    %6.2f s  %8.0f rows/s  peak RSS %5.1f MB\n", tv, n/tv, rv/1024
    printf "  import fitness   %6.2f s  %8.0f rows/s  peak RSS %5.1f MB\n", tf, n/tf, rf/1024
    printf "  ratio fitness / vision  %5.2f   (target <= 1.50)\n", tf/tv
}'
