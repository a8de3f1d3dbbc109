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
