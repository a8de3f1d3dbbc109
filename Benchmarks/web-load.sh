#!/usr/bin/env bash
# The web pages under concurrent load, on a county database: `schoolhealth demo` with STUDENTS (default 30,000)
# students over YEARS (default 5) school years (vision, spine, fitness, psych with its cases, the screening loop),
# then `schoolhealth serve` on loopback. Benchmarks/web-load.py runs CLIENTS (default 16) concurrent clients for
# SECONDS (default 20), each signed in once, fetching the office's dashboard and report, a counsellor's queue and
# the centre's queue in turn; then the same load again while SH-P01's nurse uploads a UPLOAD_STUDENTS-row
# (default 100,000) vision file through the API, for as long as the upload takes. Prints p50 / p95 / max per page for both runs.
# Targets: every page's p95 < 100 ms under load; < 250 ms during the upload.
set -euo pipefail
cd "$(dirname "$0")/.."
source Benchmarks/common.sh
bench_setup
students=${STUDENTS:-30000}; years=${YEARS:-5}; clients=${CLIENTS:-16}; seconds=${SECONDS_EACH:-20}
db="$work/county.sqlite"
start=$(date +%s.%N)
(cd "$work" && "$bin" demo --db "$db" --students "$students" --years "$years" >"$work/demo.txt")
printf 'demo: %s students, %s years: %.0f s; database %s MB; %s cases\n' "$students" "$years" \
    "$(awk -v a="$start" -v b="$(date +%s.%N)" "BEGIN {print b - a}")" "$(( $(stat -c %s "$db") >> 20 ))" \
    "$(sqlite3 "$db" "SELECT COUNT(*) FROM psych_case")"
"$bin" serve --db "$db" --host 127.0.0.1 --port 0 >"$work/serve.txt" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q '^LISTENING' "$work/serve.txt" && break; sleep 0.1; done
base="http://127.0.0.1:$(awk '/^LISTENING/ {print $2; exit}' "$work/serve.txt")"
pages=(health-office:/dashboard health-office:/api/report counsellor-SH-J01:/queue centre:/queue)

# Warm up once (the first view after the demo counts the report).
python3 Benchmarks/web-load.py "$base" 1 2 "warm-up" "${pages[@]}" >/dev/null
python3 Benchmarks/web-load.py "$base" "$clients" "$seconds" "under load" "${pages[@]}"

"$bin" generate --out "$work/up" --students "${UPLOAD_STUDENTS:-100000}" --years 1 --seed 9 --only vision >/dev/null
up=$(ls -S "$work"/up/*.csv | head -1)
token=$(sed -n 's/^nurse-SH-P01 //p' "$db.demo-tokens")
(curl -s -o "$work/upload.json" -w '%{http_code} %{time_total}\n' -H "Authorization: Bearer $token" -H 'Content-Type: text/csv' \
    --data-binary @"$up" "$base/api/uploads?kind=vision&name=up.csv" >"$work/upload.txt"; touch "$work/upload.done") &
uploader=$!
# Only while the upload is under way (sending, parsing, writing, committing): the clients stop when it is done.
STOP_FILE="$work/upload.done" python3 Benchmarks/web-load.py "$base" "$clients" 600 "during a $(( $(wc -l <"$up") - 1 ))-row upload" "${pages[@]}"
wait $uploader
read -r code took <"$work/upload.txt"
printf 'the upload: HTTP %s in %s s (it began with the second run)\n' "$code" "$took"
printf 'server peak RSS: %s MB\n' "$(( $(awk '/VmHWM/ {print $2}' /proc/$server/status) / 1024 ))"
