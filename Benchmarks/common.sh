# Helpers shared by the benchmark scripts (sourced, not run).

# measure CMD...: runs CMD with GNU time, output discarded; prints "seconds peak-KB". Needs $work.
measure() {
    /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" >/dev/null 2>"$work/stderr.txt" || { cat "$work/stderr.txt"; exit 1; }
    cat "$work/time.txt"
}

# median N...: the median of the numbers.
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# release_binary: builds schoolhealth in release mode and prints its path.
release_binary() {
    swift build -c release --product schoolhealth >/dev/null
    echo "$(swift build -c release --show-bin-path)/schoolhealth"
}

# bench_setup: installs GNU time and the sqlite3 CLI when missing (apt-get, as root), builds the release binary
# into $bin and makes a scratch folder $work that is removed on exit.
bench_setup() {
    local need=()
    command -v sqlite3 >/dev/null || need+=(sqlite3)
    [ -x /usr/bin/time ] || need+=(time)
    if [ ${#need[@]} -gt 0 ]; then apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null; fi
    bin=$(release_binary)
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
}

# duckdb_setup: a Python venv at .venv-bench with DuckDB from PyPI (made once); prints its python.
duckdb_setup() {
    local venv=.venv-bench
    if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import duckdb" 2>/dev/null; then
        python3 -m venv "$venv" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null && python3 -m venv "$venv"; }
        "$venv/bin/pip" install -q duckdb >/dev/null
    fi
    echo "$PWD/$venv/bin/python"
}
