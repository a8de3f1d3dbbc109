#!/usr/bin/env bash
# Province scale on PostgreSQL beside SQLite: 10,000,000 vision screenings (1,000,000 students × 10 school years)
# imported file by file into a growing PostgreSQL database and into a growing SQLite database, then the trend report
# over everything on each; then eight schools' files imported at once (eight processes) into each.
#
# PostgreSQL is a throwaway cluster from Debian's packages on loopback (Tests/postgres/cluster, DURABLE=1: fsync on,
# as SQLite's commits are), default settings but shared_buffers 256 MB and max_wal_size 4 GB. Prints per file: rows/s
# into each and the ratio; database sizes; report time and peak RSS of SchoolHealth; the concurrent importers' wall
# time and aggregate rows/s.
#
# Usage: Benchmarks/province-postgres.sh [STUDENTS] [YEARS]     (defaults: 1000000 10; ~6 GB of disk)
# Needs: postgresql (Debian), sqlite3, GNU time.
set -euo pipefail
students=${1:-1000000}
years=${2:-10}
cd "$(dirname "$0")/.."
. Benchmarks/common.sh
bench_setup
chmod 755 "$work"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
server=$(DURABLE=1 Tests/postgres/cluster start "$work/cluster" "$port")
trap 'Tests/postgres/cluster stop "$work/cluster"; rm -rf "$work"' EXIT
pg=${server%/postgres}/province
psql -q "$server" -c "CREATE DATABASE province" -c "CREATE DATABASE concurrent"

"$bin" generate --out "$work/gen" --students "$students" --years "$years" --first-year $(( $(date +%Y) - years )) --only vision >/dev/null
echo "files: $(ls "$work"/gen/vision-*.csv | wc -l) × ~$(( $(wc -l <"$(ls "$work"/gen/vision-*.csv | head -1)") - 1 )) rows"
total_rows=0; total_pg=0; total_sq=0
for f in "$work"/gen/vision-*.csv; do
    rows=$(($(wc -l <"$f") - 1)); total_rows=$((total_rows + rows))
    sync
    read -r tp mp < <(measure "$bin" import vision --db "$pg" --rejects "$work/rejects.csv" "$f")
    sync
    read -r ts ms < <(measure "$bin" import vision --db "$work/db.sqlite" --rejects "$work/rejects.csv" "$f")
    total_pg=$(awk -v a="$total_pg" -v b="$tp" 'BEGIN { print a + b }'); total_sq=$(awk -v a="$total_sq" -v b="$ts" 'BEGIN { print a + b }')
    awk -v f="$(basename "$f")" -v r="$rows" -v tp="$tp" -v mp="$mp" -v ts="$ts" -v ms="$ms" \
        'BEGIN { printf "%s: %d rows — PostgreSQL %.2f s = %d rows/s (peak RSS %.0f MB); SQLite %.2f s = %d rows/s (%.0f MB); PostgreSQL/SQLite rate %.2f\n", f, r, tp, r / tp, mp / 1024, ts, r / ts, ms / 1024, ts / tp }'
done
awk -v r="$total_rows" -v tp="$total_pg" -v ts="$total_sq" 'BEGIN { printf "all %d rows: PostgreSQL %.1f s = %d rows/s; SQLite %.1f s = %d rows/s\n", r, tp, r / tp, ts, r / ts }'
echo "database size: PostgreSQL $(psql -qAt "$server" -c "SELECT pg_database_size('province') / 1048576") MB; SQLite $(du -m "$work/db.sqlite" | cut -f1) MB"
read -r t m < <(measure "$bin" report trends --db "$pg" --format json -o "$work/report-pg.json")
awk -v t="$t" -v m="$m" 'BEGIN { printf "report trends over everything, PostgreSQL: %.2f s, peak RSS %.0f MB\n", t, m / 1024 }'
read -r t m < <(measure "$bin" report trends --db "$work/db.sqlite" --format json -o "$work/report-sqlite.json")
awk -v t="$t" -v m="$m" 'BEGIN { printf "report trends over everything, SQLite: %.2f s, peak RSS %.0f MB\n", t, m / 1024 }'
if diff <(grep -v '"generated"' "$work/report-pg.json") <(grep -v '"generated"' "$work/report-sqlite.json") >/dev/null; then
    echo "the two reports are the same (but for their generation time)"
else
    echo "the two reports DIFFER"
fi

# Eight schools upload at once: eight processes, one school's file each, into a fresh database of each kind.
python3 - "$work/gen/$(ls "$work/gen" | grep vision- | tail -1)" "$work/schools" <<'PY'
import csv, os, sys
src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
with open(src, encoding="utf-8-sig", newline="") as f:
    rows = list(csv.reader(f))
header, body = rows[0], rows[1:]
col = header.index("学校代码")
by = {}
for r in body:
    by.setdefault(r[col], []).append(r)
for school, rs in sorted(by.items(), key=lambda kv: -len(kv[1]))[:8]:
    with open(f"{out}/{school}.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f); w.writerow(header); w.writerows(rs)
PY
concurrent_rows=$(( $(cat "$work"/schools/*.csv | wc -l) - 8 ))
for target in "${server%/postgres}/concurrent" "$work/concurrent.sqlite"; do
    start=$(date +%s.%N)
    pids=()
    for f in "$work"/schools/*.csv; do
        "$bin" import vision --db "$target" --rejects "$f.rejects" "$f" >"$f.out" 2>&1 & pids+=($!)
    done
    failed=0
    for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
    end=$(date +%s.%N)
    name=$([ "${target#postgresql}" != "$target" ] && echo PostgreSQL || echo SQLite)
    awk -v n="$name" -v r="$concurrent_rows" -v s="$start" -v e="$end" -v failed="$failed" \
        'BEGIN { printf "8 importers at once, %s: %d rows in %.2f s = %d rows/s; %d of 8 refused\n", n, r, e - s, r / (e - s), failed }'
    grep -h "rows read\|error" "$work"/schools/*.out | sort | uniq -c | sed 's/^/    /'
done
