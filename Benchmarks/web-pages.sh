#!/usr/bin/env bash
# Page timings at county size: `schoolhealth demo` with STUDENTS (default 30,000) students over YEARS (default 5)
# school years, then `schoolhealth serve` on loopback; each role signs in with curl and every page it uses is
# fetched N times (default 40), one request at a time. Prints p50, p95 and max of curl's time_total per page, and
# the server's peak RSS; before them, one ~100 MB upload through the API and the peak RSS around it. The demo runs the
# screening loop too (lists, notices, clinic results), so the report pages carry coverage and follow-up.
# (Concurrent load and uploads under load are not measured here.)
set -euo pipefail
cd "$(dirname "$0")/.."
source Benchmarks/common.sh
bench_setup
students=${STUDENTS:-30000}; years=${YEARS:-5}; n=${N:-40}
db="$work/county.sqlite"
start=$(date +%s.%N)
(cd "$work" && "$bin" demo --db "$db" --students "$students" --years "$years" >"$work/demo.txt")
printf 'demo: %s students, %s years: %.0f s; database %s MB\n' "$students" "$years" "$(awk -v a="$start" -v b="$(date +%s.%N)" "BEGIN {print b - a}")" "$(( $(stat -c %s "$db") >> 20 ))"
"$bin" serve --db "$db" --host 127.0.0.1 --port 0 >"$work/serve.txt" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q '^LISTENING' "$work/serve.txt" && break; sleep 0.1; done
base="http://127.0.0.1:$(awk '/^LISTENING/ {print $2; exit}' "$work/serve.txt")"

# signin LOGIN: a cookie jar with a session of LOGIN (the demo's synthetic password).
signin() {
    local jar="$work/$1.jar"
    local csrf
    csrf=$(curl -s -c "$jar" "$base/login" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1)
    curl -s -b "$jar" -c "$jar" -o /dev/null -d "csrf=$csrf&login=$1&password=demo-password" "$base/login"
    echo "$jar"
}

# page JAR PATH LABEL: N sequential GETs; p50 / p95 / max in ms.
page() {
    local jar=$1 path=$2 label=$3 times=() status
    status=$(curl -s -b "$jar" -o /dev/null -w '%{http_code}' "$base$path")
    [ "$status" = 200 ] || { echo "$label: HTTP $status for $path" >&2; exit 1; }
    for _ in $(seq "$n"); do times+=("$(curl -s -b "$jar" -o /dev/null -w '%{time_total}' "$base$path")"); done
    printf '%s\n' "${times[@]}" | sort -g | awk -v label="$label" -v n="$n" '{a[NR]=$1*1000}
        END {i95=int(NR*0.95); if (i95 < 1) i95 = 1; printf "%-40s p50 %7.1f ms  p95 %7.1f ms  max %7.1f ms  (%d requests)\n", label, a[int((NR+1)/2)], a[i95], a[NR], n}'
}

# A large upload through the API first (the peak RSS is the process's since it started): the file is streamed to
# the spool, never held whole; UPLOAD_STUDENTS students give about 100 bytes a row.
"$bin" generate --out "$work/big" --students "${UPLOAD_STUDENTS:-1000000}" --years 1 --only vision >/dev/null
big=$(ls -S "$work"/big/*.csv | head -1)
token=$(sed -n 's/^nurse-SH-P01 //p' "$db.demo-tokens")
rss_before=$(awk '/VmHWM/ {print $2}' /proc/$server/status)
result=$(curl -s -o "$work/upload.json" -w '%{http_code} %{time_total}' -H "Authorization: Bearer $token" -H 'Content-Type: text/csv' \
    --data-binary @"$big" "$base/api/uploads?kind=vision&name=big.csv")
rss_after=$(awk '/VmHWM/ {print $2}' /proc/$server/status)
printf 'upload of %s MB (%s rows) as SH-P01'"'"'s nurse: HTTP %s in %s s; server peak RSS %s MB before, %s MB after\n' \
    "$(( $(stat -c %s "$big") >> 20 ))" "$(( $(wc -l < "$big") - 1 ))" "${result%% *}" "${result##* }" "$(( rss_before / 1024 ))" "$(( rss_after / 1024 ))"

office=$(signin health-office)
nurse=$(signin nurse-SH-P01)
counsellor=$(signin counsellor-SH-J01)
centre=$(signin centre)
first_case=$(curl -s -b "$counsellor" "$base/queue" | sed -n 's/.*href="\/cases\/\([0-9]*\)".*/\1/p' | head -1)
page "$office" "/dashboard" "office: dashboard (all years)"
page "$office" "/dashboard?by=sex" "office: dashboard by sex"
page "$office" "/reports/trends.csv" "office: trends CSV download"
page "$office" "/api/report" "office: /api/report (JSON)"
page "$nurse" "/upload" "nurse: upload form"
page "$nurse" "/batches" "nurse: her school's batches"
last=$(( 2022 + years - 1 ))
page "$nurse" "/coverage?year=$last" "nurse: coverage of her school's list"
page "$nurse" "/notices?year=$last" "nurse: notice board"
print_query=$(curl -s -b "$nurse" "$base/notices?year=$last" | sed -n 's/.*href="\/notices\/print?\([^"]*\)".*/\1/p' | head -1 | sed 's/&amp;/\&/g')
[ -n "$print_query" ] && page "$nurse" "/notices/print?$print_query" "nurse: one class's notices to print"
page "$counsellor" "/queue" "counsellor: queue"
[ -n "$first_case" ] && page "$counsellor" "/cases/$first_case" "counsellor: a case page"
page "$centre" "/queue" "centre: county queue"
printf 'server peak RSS: %s MB\n' "$(( $(awk '/VmHWM/ {print $2}' /proc/$server/status) / 1024 ))"
