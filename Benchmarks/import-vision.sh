#!/usr/bin/env bash
# Benchmark: importing a ~1,000,000-row vision export that SchoolHealth did not write.
#
# The file: `schoolhealth generate` rows rewritten by Benchmarks/foreign-export.py as another system exports
# them — UTF-8 with BOM, English headers, 19 columns (a name column the importer ignores), decimal acuity, rows
# in random order (exports come by class, not by student). SHAPE=generated times the generator's own file
# instead (Chinese headers, 5-point acuity, rows sorted by student).
#
# Times, on the same file, alternating, RUNS times:
#   A. sqlite3 CLI `.import --csv` into a fresh database (raw text, no validation, no index);
#   B. DuckDB's read_csv into a fresh DuckDB file (`CREATE TABLE … AS SELECT * FROM read_csv(…)`; DuckDB from
#      PyPI, installed into .venv-bench on first use);
#   C. `schoolhealth import vision` into a fresh database (decoding, validation, classification, batch record,
#      covering key index, one transaction).
# Prints the medians side by side, the ratios C/A and C/B (target <= 1.0 for both), and peak RSS (target for C
# <= 64 MB), then the phases of one traced import (SCHOOLHEALTH_TRACE).
#
# With BASELINE=/path/to/an/earlier/schoolhealth set, that binary imports the same file too (reading
# BASELINE_CONFIG, default: the Config/ of the checkout it was built in) and the ratio this/earlier is printed.
#
# Usage: Benchmarks/import-vision.sh [STUDENTS] [RUNS]     (defaults: 1000000 students, 5 runs; medians are printed)
# Needs: sqlite3, GNU time, python3 with venv (installed with apt-get when missing and run as root).
set -euo pipefail
students=${1:-1000000}
runs=${2:-5}
shape=${SHAPE:-foreign}
cd "$(dirname "$0")/.."
. Benchmarks/common.sh
bench_setup
duckdb_python=$(duckdb_setup)

"$bin" generate --out "$work/gen" --students "$students" --years 1 --seed 1 --only vision >/dev/null
csv="$work/gen/vision-2022.csv"
if [ "$shape" = foreign ]; then
    python3 Benchmarks/foreign-export.py "$csv" "$work/foreign.csv" 1 >/dev/null
    csv="$work/foreign.csv"
    what="UTF-8 with BOM, English headers, 19 columns, decimal acuity, rows shuffled"
else
    what="UTF-8 with BOM, Chinese headers, 5-point acuity, rows sorted by student"
fi
rows=$(( $(wc -l <"$csv") - 1 ))
echo "file: $rows rows, $(du -m "$csv" | cut -f1) MB, $(( $(stat -c %s "$csv") / rows )) bytes a row ($what)"

a_t=(); a_m=(); b_t=(); b_m=(); c_t=(); c_m=(); d_t=(); d_m=()
baseline=${BASELINE:-}
baseline_config=${BASELINE_CONFIG:-$(cd "$(dirname "${baseline:-.}")/../.." 2>/dev/null && pwd)/Config}
for i in $(seq "$runs"); do
    rm -f "$work"/a.db "$work"/b.duckdb* "$work"/c.sqlite* "$work"/d.sqlite*
    sync   # start each measurement with no dirty pages left by the previous one
    read -r t m < <(measure sqlite3 "$work/a.db" ".import --csv $csv screening"); a_t+=("$t"); a_m+=("$m")
    sync
    read -r t m < <(measure "$duckdb_python" -c "import duckdb; c = duckdb.connect('$work/b.duckdb'); c.execute(\"CREATE TABLE screening AS SELECT * FROM read_csv('$csv')\"); c.close()")
    b_t+=("$t"); b_m+=("$m")
    sync
    read -r t m < <(measure "$bin" import vision --db "$work/c.sqlite" --rejects "$work/rejects.csv" "$csv"); c_t+=("$t"); c_m+=("$m")
    if [ -n "$baseline" ]; then
        sync
        read -r t m < <(measure "$baseline" import vision --config "$baseline_config" --db "$work/d.sqlite" --rejects "$work/rejects-d.csv" "$csv")
        d_t+=("$t"); d_m+=("$m")
    fi
    echo "run $i: sqlite3 .import ${a_t[-1]} s · duckdb read_csv ${b_t[-1]} s · schoolhealth ${c_t[-1]} s${baseline:+ · baseline ${d_t[-1]} s}"
done
stored=$(sqlite3 "$work/c.sqlite" "SELECT COUNT(*) FROM vision_screening")
[ "$stored" = "$rows" ] || { echo "expected $rows stored rows, found $stored"; exit 1; }

ta=$(median "${a_t[@]}"); tb=$(median "${b_t[@]}"); tc=$(median "${c_t[@]}")
ma=$(median "${a_m[@]}"); mb=$(median "${b_m[@]}"); mc=$(median "${c_m[@]}")
awk -v ta="$ta" -v tb="$tb" -v tc="$tc" -v ma="$ma" -v mb="$mb" -v mc="$mc" -v n="$rows" -v runs="$runs" 'BEGIN {
    printf "\nmedian of %d alternating runs, %d rows:\n", runs, n
    printf "  sqlite3 .import (raw text, no index)      %6.2f s  %8.0f rows/s  peak RSS %6.1f MB\n", ta, n/ta, ma/1024
    printf "  duckdb read_csv into a DuckDB file        %6.2f s  %8.0f rows/s  peak RSS %6.1f MB\n", tb, n/tb, mb/1024
    printf "  schoolhealth import vision                %6.2f s  %8.0f rows/s  peak RSS %6.1f MB\n", tc, n/tc, mc/1024
    printf "  ratio schoolhealth / sqlite3              %6.2f   (target <= 1.00: %s)\n", tc/ta, (tc <= ta ? "met" : "NOT MET")
    printf "  ratio schoolhealth / duckdb               %6.2f   (target <= 1.00: %s)\n", tc/tb, (tc <= tb ? "met" : "NOT MET")
    printf "  schoolhealth peak RSS <= 64 MB            %s\n", (mc/1024 <= 64 ? "met" : "NOT MET")
}'
if [ -n "$baseline" ]; then
    td=$(median "${d_t[@]}"); md=$(median "${d_m[@]}")
    awk -v tc="$tc" -v td="$td" -v md="$md" -v n="$rows" 'BEGIN {
        printf "  baseline binary                           %6.2f s  %8.0f rows/s  peak RSS %6.1f MB\n", td, n/td, md/1024
        printf "  ratio schoolhealth / baseline             %6.2f\n", tc/td
    }'
fi
rm -f "$work"/c.sqlite*
sync
echo; echo "phases of one more import (SCHOOLHEALTH_TRACE):"
SCHOOLHEALTH_TRACE=1 "$bin" import vision --db "$work/c.sqlite" --rejects "$work/rejects.csv" "$csv" 2>&1 >/dev/null | sed 's/^/  /'
