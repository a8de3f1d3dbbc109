#!/usr/bin/env bash
# Benchmark: importing a 1,000,000-row vision CSV.
#
# Times, on the same generated file, in one run:
#   A. sqlite3 CLI `.import --csv` into a fresh database (raw text, no validation, no index);
#   B. `schoolhealth import vision` into a fresh database (decoding, validation, classification,
#      batch record, unique key index, one transaction).
# Prints both wall times, the ratio B/A (target <= 1.0) and both peak RSS (target for B < 100 MB).
#
# With BASELINE=/path/to/an/earlier/schoolhealth set, that binary imports the same file too, alternating
# with this one, and the ratio this/earlier is printed (e.g. to show what a change costs); it reads
# BASELINE_CONFIG (default: the Config/ of the checkout it was built in).
#
# Usage: Benchmarks/import-vision.sh [ROWS] [RUNS]     (defaults: 1000000 rows, 3 runs; medians are printed)
# Needs: sqlite3 and GNU time (/usr/bin/time); installs them with apt-get when missing and run as root.
set -euo pipefail
rows=${1:-1000000}
runs=${2:-3}
cd "$(dirname "$0")/.."
. Benchmarks/common.sh


bench_setup

"$bin" generate --out "$work/gen" --students "$rows" --years 1 --seed 1 >/dev/null
csv="$work/gen/vision-2022.csv"
echo "file: $(wc -l <"$csv") lines, $(du -m "$csv" | cut -f1) MB (UTF-8 with BOM, Chinese headers)"


a_times=(); b_times=(); a_rss=(); b_rss=(); c_times=(); c_rss=()
baseline=${BASELINE:-}
# The earlier binary reads the Config/ of its own checkout (…/.build/release/schoolhealth → …/Config).
baseline_config=${BASELINE_CONFIG:-$(cd "$(dirname "${baseline:-.}")/../.." 2>/dev/null && pwd)/Config}
for i in $(seq "$runs"); do
    rm -f "$work"/a.db "$work"/b.sqlite*
    sync   # start each measurement with no dirty pages left by the previous one
    read -r t m < <(measure sqlite3 "$work/a.db" ".import --csv $csv screening")
    a_times+=("$t"); a_rss+=("$m")
    sync
    read -r t m < <(measure "$bin" import vision --db "$work/b.sqlite" --rejects "$work/rejects.csv" "$csv")
    b_times+=("$t"); b_rss+=("$m")
    if [ -n "$baseline" ]; then
        rm -f "$work"/c.sqlite*
        sync
        read -r t m < <(measure "$baseline" import vision --config "$baseline_config" --db "$work/c.sqlite" --rejects "$work/rejects-c.csv" "$csv")
        c_times+=("$t"); c_rss+=("$m")
    fi
    echo "run $i: sqlite3 .import ${a_times[-1]} s, schoolhealth ${b_times[-1]} s${baseline:+, baseline ${c_times[-1]} s}"
done
stored=$(sqlite3 "$work/b.sqlite" "SELECT COUNT(*) FROM vision_screening")
[ "$stored" = "$rows" ] || { echo "expected $rows stored rows, found $stored"; exit 1; }

ta=$(median "${a_times[@]}"); tb=$(median "${b_times[@]}")
ra=$(median "${a_rss[@]}"); rb=$(median "${b_rss[@]}")
awk -v ta="$ta" -v tb="$tb" -v ra="$ra" -v rb="$rb" -v n="$rows" -v runs="$runs" 'BEGIN {
    printf "\nmedian of %d runs, %d rows:\n", runs, n
    printf "  sqlite3 .import (raw text, no index)   %6.2f s  %8.0f rows/s  peak RSS %5.1f MB\n", ta, n/ta, ra/1024
    printf "  schoolhealth import vision             %6.2f s  %8.0f rows/s  peak RSS %5.1f MB\n", tb, n/tb, rb/1024
    printf "  ratio schoolhealth / sqlite3           %6.2f   (target <= 1.00)\n", tb/ta
    printf "  peak RSS target < 100 MB               %s\n", (rb/1024 < 100 ? "met" : "NOT MET")
}'
if [ -n "$baseline" ]; then
    tc=$(median "${c_times[@]}"); rc=$(median "${c_rss[@]}")
    awk -v tb="$tb" -v tc="$tc" -v rc="$rc" -v n="$rows" 'BEGIN {
        printf "  baseline binary                        %6.2f s  %8.0f rows/s  peak RSS %5.1f MB\n", tc, n/tc, rc/1024
        printf "  ratio schoolhealth / baseline          %6.2f\n", tb/tc
    }'
fi
