#!/usr/bin/env bash
# Renders the demo county's HTML trend report to a PNG with headless Chromium (Debian's package),
# so the README can show what the health office sees. Writes Fixtures/report/demo-report.png.
#
# Usage: Tests/Scripts/render-report.sh [OUT.png]     (installs chromium and CJK fonts with apt-get when missing; run as root)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-Fixtures/report/demo-report.png}
if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi "cjk"; then
    apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
swift build --product schoolhealth >/dev/null
bin=$(swift build --show-bin-path)/schoolhealth
(cd "$work" && "$bin" demo >/dev/null && "$bin" report trends -o report.html)
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1240,2200 \
    --screenshot="$work/report.png" "file://$work/report.html" 2>/dev/null
mkdir -p "$(dirname "$out")"
cp "$work/report.png" "$out"
echo "wrote $out"
