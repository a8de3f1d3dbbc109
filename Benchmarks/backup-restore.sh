#!/usr/bin/env bash
# Backups on a county database: `schoolhealth demo` with STUDENTS (default 30,000) students over YEARS (default 5)
# school years, then: `backup` (the copy, its digests and manifest, the verification) and `backup verify` alone,
# `restore` into a new path and the trend report compared; then a 100,000-row vision import timed alone and again
# while a backup is taken beside it (the backup must hold the import's file entirely or not at all, and the
# import must not wait for it). Prints wall time and peak RSS of each, and the sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
source Benchmarks/common.sh
bench_setup
students=${STUDENTS:-30000}; years=${YEARS:-5}
db="$work/county.sqlite"
start=$(date +%s.%N)
(cd "$work" && "$bin" demo --db "$db" --students "$students" --years "$years" >/dev/null)
printf 'demo county: %s students x %s years in %.0f s; database %s MB, %s screenings\n' "$students" "$years" \
    "$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {print b - a}')" "$(( $(stat -c %s "$db") >> 20 ))" \
    "$(sqlite3 "$db" "SELECT (SELECT COUNT(*) FROM vision_screening) + (SELECT COUNT(*) FROM spine_screening) + (SELECT COUNT(*) FROM fitness_test)")"

read -r took rss < <(measure "$bin" backup --db "$db" --to "$work/backups")
folder=$(ls -d "$work"/backups/schoolhealth-* | head -1)
printf 'backup (copy + manifest + verify):   %6.2f s  %4d MB peak; copy %s MB\n' "$took" "$((rss / 1024))" "$(( $(stat -c %s "$folder/database.sqlite") >> 20 ))"
read -r took rss < <(measure "$bin" backup verify "$folder")
printf 'backup verify alone:                 %6.2f s  %4d MB peak\n' "$took" "$((rss / 1024))"
read -r took rss < <(measure "$bin" restore --from "$folder" --db "$work/restored.sqlite")
printf 'restore (verify + copy + audit):     %6.2f s  %4d MB peak\n' "$took" "$((rss / 1024))"
"$bin" report trends --db "$db" --format json | sed 's/"generated" *: *"[^"]*"//' >"$work/a.json"
"$bin" report trends --db "$work/restored.sqlite" --format json | sed 's/"generated" *: *"[^"]*"//' >"$work/b.json"
cmp -s "$work/a.json" "$work/b.json" && echo "the restored database's trend report: identical" || { echo "REPORTS DIFFER"; exit 1; }

# An import alone, and with a backup taken while it runs (each on a fresh copy of the county).
"$bin" generate --out "$work/up" --students 100000 --years 1 --first-year 2030 --seed 4 --only vision >/dev/null
up=$(ls -S "$work"/up/*.csv | head -1)
rows=$(( $(wc -l <"$up") - 1 ))
cp "$db" "$work/alone.sqlite"; cp "$db.auditkey" "$work/alone.sqlite.auditkey"
read -r alone _ < <(measure "$bin" import vision --db "$work/alone.sqlite" "$up")
cp "$db" "$work/both.sqlite"; cp "$db.auditkey" "$work/both.sqlite.auditkey"
/usr/bin/time -f "%e" -o "$work/import.txt" "$bin" import vision --db "$work/both.sqlite" "$up" >/dev/null 2>&1 &
importer=$!
sleep 0.2
/usr/bin/time -f "%e" -o "$work/backup.txt" "$bin" backup --db "$work/both.sqlite" --to "$work/during" >/dev/null 2>&1
wait $importer
during=$(ls -d "$work"/during/schoolhealth-* | head -1)
in_copy=$(sqlite3 "$during/database.sqlite" "SELECT COUNT(*) FROM vision_screening WHERE school_year = 2030")
printf 'import of %s rows alone:          %6.2f s\n' "$rows" "$alone"
printf 'the same import beside a backup:     %6.2f s; the backup took %s s and holds %s of its rows (all or none: %s)\n' \
    "$(cat "$work/import.txt")" "$(cat "$work/backup.txt")" "$in_copy" \
    "$([ "$in_copy" = 0 ] || [ "$in_copy" = "$(sqlite3 "$work/both.sqlite" "SELECT COUNT(*) FROM vision_screening WHERE school_year = 2030")" ] && echo yes || echo NO)"
"$bin" backup verify "$during" >/dev/null && echo "the backup taken during the import verifies"
