#!/usr/bin/env bash
# Province scale: 10,000,000 vision screenings (1,000,000 students × 10 school years) imported file by file into
# one database, then the trend report over all of it. For every file it prints the import rate into the growing
# database and the rate of the same file into an empty database, and their ratio (target: at least 80 %), with
# peak RSS (target: under 200 MB); then the report's time and peak RSS. Needs ~4 GB of disk and ~15 minutes.
#
# Usage: Benchmarks/province-scale.sh [STUDENTS] [YEARS] [shuffled]     (defaults: 1000000 10)
#   shuffled: put each file's rows in random order first (real exports are by class, not by student id).
set -euo pipefail
students=${1:-1000000}
years=${2:-10}
order=${3:-sorted}
cd "$(dirname "$0")/.."
. Benchmarks/common.sh
bench_setup

# School years ending with the last one (screenings dated in the future are rejected).
"$bin" generate --out "$work/gen" --students "$students" --years "$years" --first-year $(( $(date +%Y) - years )) --only vision >/dev/null
ratios=()
for f in "$work"/gen/vision-*.csv; do
    if [ "$order" = shuffled ]; then
        { head -n 1 "$f"; tail -n +2 "$f" | shuf --random-source=<(yes); } >"$work/shuffled.csv" && mv "$work/shuffled.csv" "$f"
    fi
    rows=$(($(wc -l <"$f") - 1))
    sync
    read -r t m < <(measure "$bin" import vision --db "$work/db.sqlite" --rejects "$work/rejects.csv" "$f")
    rm -f "$work"/empty.sqlite*
    sync
    read -r te me < <(measure "$bin" import vision --db "$work/empty.sqlite" --rejects "$work/rejects.csv" "$f")
    ratio=$(awk -v t="$t" -v te="$te" 'BEGIN { printf "%.0f", 100 * te / t }')
    ratios+=("$ratio")
    total=$(sqlite3 "$work/db.sqlite" "SELECT COUNT(*) FROM vision_screening" 2>/dev/null || echo "?")
    awk -v f="$(basename "$f")" -v r="$rows" -v t="$t" -v m="$m" -v te="$te" -v me="$me" -v ratio="$ratio" -v total="$total" \
        'BEGIN { printf "%s: %d rows in %.2f s = %d rows/s, peak RSS %.1f MB; into an empty database %.2f s = %d rows/s, %.1f MB; ratio %d %%; database now %s screenings\n", f, r, t, r / t, m / 1024, te, r / te, me / 1024, ratio, total }'
done
echo "rate into the growing database as a share of the empty-database rate: min $(printf '%s\n' "${ratios[@]}" | sort -n | head -1) %, median $(median "${ratios[@]}") %"
du -m "$work/db.sqlite" | awk '{ printf "database file: %d MB\n", $1 }'
read -r t m < <(measure "$bin" report trends --db "$work/db.sqlite" -o "$work/report.html")
awk -v t="$t" -v m="$m" 'BEGIN { printf "report trends over everything: %.2f s, peak RSS %.1f MB\n", t, m / 1024 }'
