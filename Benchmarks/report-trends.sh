#!/usr/bin/env bash
# Benchmark: the full trend report over a database of vision screenings imported from shuffled files.
#
# Builds the database once: `schoolhealth generate` (STUDENTS students, YEARS school years; defaults 200000 × 5,
# about 1,000,000 screenings), each year's file rewritten by Benchmarks/foreign-export.py (English headers,
# decimal acuity, rows in random order; SHAPE=generated keeps the generator's sorted files), imported.
# Then times `report trends`:
#   - the first report after the imports, which counts every screening (a full pass along the covering key
#     indexes) and keeps the counts in the database;
#   - RUNS more reports in each format, which read the kept counts;
#   - after a small correction file (one school's 500 rows, re-imported with other values), the next report: the
#     import carried the kept counts, so this report reads them too.
# Targets: under 0.5 s at 1,000,000 screenings; memory <= 64 MB.
# Usage: Benchmarks/report-trends.sh [STUDENTS] [YEARS] [RUNS]     (defaults: 200000 5 3)
set -euo pipefail
students=${1:-200000}
years=${2:-5}
runs=${3:-3}
shape=${SHAPE:-foreign}
cd "$(dirname "$0")/.."
. Benchmarks/common.sh
bench_setup

"$bin" generate --out "$work/gen" --students "$students" --years "$years" --only vision >/dev/null
files=("$work"/gen/vision-*.csv)
if [ "$shape" = foreign ]; then
    for f in "${files[@]}"; do python3 Benchmarks/foreign-export.py "$f" "${f%.csv}.foreign.csv" 1 >/dev/null; rm "$f"; done
    files=("$work"/gen/vision-*.foreign.csv)
fi
start=$(date +%s.%N)
"$bin" import vision --db "$work/db.sqlite" --rejects "$work/rejects.csv" "${files[@]}" >/dev/null
took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {print b - a}')
rows=$(sqlite3 "$work/db.sqlite" "SELECT COUNT(*) FROM vision_screening")
printf 'database: %s vision screenings (%s files, %s), imported in %.1f s; %s MB\n' "$rows" "${#files[@]}" "$shape" "$took" "$(( $(stat -c %s "$work/db.sqlite") >> 20 ))"

read -r t m < <(measure "$bin" report trends --db "$work/db.sqlite" -o "$work/first.json")
awk -v t="$t" -v m="$m" 'BEGIN { printf "  first report (counts every screening, keeps the counts)  %5.2f s  peak RSS %5.1f MB\n", t, m/1024 }'
for format in html json csv md; do
    times=(); rss=()
    for i in $(seq "$runs"); do
        read -r t m < <(measure "$bin" report trends --db "$work/db.sqlite" -o "$work/report.$format")
        times+=("$t"); rss+=("$m")
    done
    awk -v f="$format" -v t="$(median "${times[@]}")" -v m="$(median "${rss[@]}")" -v runs="$runs" \
        'BEGIN { printf "  kept counts, --format %-4s median of %d                %5.2f s  peak RSS %5.1f MB  %s\n", f, runs, t, m/1024, (t < 0.5 && m/1024 <= 64 ? "(targets met)" : "(target NOT MET)") }'
done
# A school's correction: 500 of its rows with another right-eye acuity.
python3 - "${files[-1]}" "$work/correction.csv" <<'PY'
import sys
src, dst = sys.argv[1], sys.argv[2]
with open(src, encoding="utf-8-sig") as f:
    lines = f.read().splitlines()
head = lines[0].split(",")
school, ucva = head.index("school_code") if "school_code" in head else head.index("学校代码"), None
ucva = head.index("ucva_right") if "ucva_right" in head else head.index("右眼裸眼视力")
first = lines[1].split(",")[school]
out = []
for line in lines[1:]:
    f = line.split(",")
    if f[school] == first and len(out) < 500:
        f[ucva] = "0.3" if "." in f[ucva] and float(f[ucva] or 0) <= 2 else "4.5"
        out.append(",".join(f))
with open(dst, "w", encoding="utf-8-sig") as g:
    g.write(lines[0] + "\n" + "\n".join(out) + "\n")
PY
read -r t m < <(measure "$bin" import vision --db "$work/db.sqlite" --rejects "$work/rejects.csv" "$work/correction.csv")
awk -v t="$t" 'BEGIN { printf "  a 500-row correction import (carries the kept counts)     %5.2f s\n", t }'
read -r t m < <(measure "$bin" report trends --db "$work/db.sqlite" -o "$work/after.json")
awk -v t="$t" -v m="$m" 'BEGIN { printf "  the next report (reads the carried counts)               %5.2f s  peak RSS %5.1f MB\n", t, m/1024 }'
