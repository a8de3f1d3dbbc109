#!/usr/bin/env bash
# Benchmark: the full trend report over a database holding 1,000,000 vision screenings
# (200,000 students × 5 school years) must take under 2 seconds.
#
# Builds the database once (generate + import), then times `report trends` in each format RUNS times.
# Usage: Benchmarks/report-trends.sh [STUDENTS] [YEARS] [RUNS]     (defaults: 200000 5 3)
set -euo pipefail
students=${1:-200000}
years=${2:-5}
runs=${3:-3}
cd "$(dirname "$0")/.."
. Benchmarks/common.sh
bench_setup

"$bin" generate --out "$work/gen" --students "$students" --years "$years" --only vision >/dev/null
"$bin" import vision --db "$work/db.sqlite" --rejects "$work/rejects.csv" "$work"/gen/vision-*.csv >/dev/null
rows=$(sqlite3 "$work/db.sqlite" "SELECT COUNT(*) FROM vision_screening" 2>/dev/null || echo "?")
echo "database: $rows vision screenings, $students students in the first year, $years school years"
for format in html json csv md; do
    times=(); rss=()
    for i in $(seq "$runs"); do
        read -r t m < <(measure "$bin" report trends --db "$work/db.sqlite" -o "$work/report.$format")
        times+=("$t"); rss+=("$m")
    done
    awk -v f="$format" -v t="$(median "${times[@]}")" -v m="$(median "${rss[@]}")" -v runs="$runs" \
        'BEGIN { printf "  report trends --format %-4s  median of %d: %5.2f s  peak RSS %5.1f MB  %s\n", f, runs, t, m/1024, (t < 2 ? "(target < 2 s: met)" : "(target < 2 s: NOT MET)") }'
done
