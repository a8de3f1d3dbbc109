#!/usr/bin/env bash
# Province scale: 10,000,000 vision screenings (1,000,000 students × 10 school years) imported file by file into
# one database, then the trend report over all of it. Prints, per file, the import rate and peak RSS (target: peak
# under 200 MB; the rate should stay within 20 % of the rate into the empty database) and the report's time and
# peak RSS. Needs ~6 GB of disk and ~15 minutes on 2 cores.
#
# Usage: Benchmarks/province-scale.sh [STUDENTS] [YEARS]     (defaults: 1000000 10)
set -euo pipefail
students=${1:-1000000}
years=${2:-10}
cd "$(dirname "$0")/.."
. Benchmarks/common.sh
bench_setup

# School years ending with the last one (screenings dated in the future are rejected).
"$bin" generate --out "$work/gen" --students "$students" --years "$years" --first-year $(( $(date +%Y) - years )) --only vision >/dev/null
first=""
for f in "$work"/gen/vision-*.csv; do
    rows=$(($(wc -l <"$f") - 1))
    sync
    read -r t m < <(measure "$bin" import vision --db "$work/db.sqlite" --rejects "$work/rejects.csv" "$f")
    rate=$(awk -v r="$rows" -v t="$t" 'BEGIN { printf "%.0f", r / t }')
    first=${first:-$rate}
    total=$(sqlite3 "$work/db.sqlite" "SELECT COUNT(*) FROM vision_screening" 2>/dev/null || echo "?")
    awk -v f="$(basename "$f")" -v r="$rows" -v t="$t" -v m="$m" -v rate="$rate" -v first="$first" -v total="$total" \
        'BEGIN { printf "%s: %d rows in %.2f s = %d rows/s (%.0f %% of the first file), peak RSS %.1f MB; database now %s screenings\n", f, r, t, rate, 100 * rate / first, m / 1024, total }'
done
du -m "$work/db.sqlite" | awk '{ printf "database file: %d MB\n", $1 }'
read -r t m < <(measure "$bin" report trends --db "$work/db.sqlite" -o "$work/report.html")
awk -v t="$t" -v m="$m" 'BEGIN { printf "report trends over everything: %.2f s, peak RSS %.1f MB\n", t, m / 1024 }'
