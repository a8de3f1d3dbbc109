#!/usr/bin/env bash
# The heavy suite, on demand (not in CI): ten minutes of mutation fuzzing, the province-scale run, and the import,
# report and queue benchmarks. About 40 minutes on 2 cores; needs ~6 GB of free disk.
#
# Usage: Benchmarks/heavy-suite.sh [FUZZ_SECONDS]     (default 600)
set -euo pipefail
cd "$(dirname "$0")/.."
fuzz=${1:-600}
echo "== fuzzing for ${fuzz} s"
SCHOOLHEALTH_FUZZ_SECONDS="$fuzz" swift test --filter HostileInputTests 2>&1 | grep -E "✔ Test run|✘|passed after|failed"
echo "== province scale"
Benchmarks/province-scale.sh
echo "== province scale, rows in random order"
Benchmarks/province-scale.sh 1000000 10 shuffled
echo "== vision import vs sqlite3 .import"
Benchmarks/import-vision.sh 1000000 5
echo "== fitness import vs vision import"
Benchmarks/import-fitness.sh 1000000 3
echo "== trend report over 1,000,000 screenings"
Benchmarks/report-trends.sh
echo "== referral queue"
swift run -c release schoolhealth-bench
