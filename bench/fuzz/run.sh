#!/usr/bin/env bash
# Builds the libFuzzer targets with `swiftc -sanitize=fuzzer,address` straight from the package's
# sources and runs each for FUZZ_SECONDS (default 600). Crashes, hangs (-timeout) and leaks land
# in $FUZZ_WORK/<target>/ as crash-*/timeout-*/leak-* files; the script exits non-zero if any does.
#
#   bash bench/fuzz/run.sh                      # both targets, 10 minutes each, one after the other
#   FUZZ_SECONDS=30 bash bench/fuzz/run.sh http # one target, briefly
#   FUZZ_PARALLEL=1 bash bench/fuzz/run.sh      # both at once (one core each)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
seconds="${FUZZ_SECONDS:-600}"
work="${FUZZ_WORK:-/tmp/triggerbase-fuzz}"
if [ $# -gt 0 ]; then targets=("$@"); else targets=(http query); fi
mkdir -p "$work"

sources_http=("$root/Sources/HTTPServer/HTTPRequestParser.swift" "$root/Sources/HTTPServer/HTTPRequest.swift"
              "$root/Sources/HTTPServer/HTTPError.swift" "$here/HTTPParserFuzz.swift")
sources_query=("$root"/Sources/JSON/*.swift "$root/Sources/Workflows/TriggerList.swift" "$here/QueryFuzz.swift")

build() {
    local name="$1"; shift
    echo "== building $name"
    swiftc -sanitize=fuzzer,address -parse-as-library -O -g -package-name triggerbase -module-name "Fuzz_$name" "$@" -o "$work/$name/fuzz-$name" 2>&1 \
        | grep -v "ld.gold: warning: Cannot export local symbol" || true
    test -x "$work/$name/fuzz-$name"
}

run() {
    local name="$1"
    local dir="$work/$name"
    mkdir -p "$dir/corpus"
    local began=$SECONDS
    # The seed corpus stays read-only in the repo; new inputs go to the work folder.
    # Swift's own backtracer would hang on a fatal error under the fuzzer: let libFuzzer report it.
    (cd "$dir" && SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=1 "./fuzz-$name" \
        -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
        "$dir/corpus" "$here/corpus/$name" > "$dir/log.txt" 2>&1) || true
    local found
    found=$(find "$dir" -maxdepth 1 \( -name 'crash-*' -o -name 'timeout-*' -o -name 'leak-*' -o -name 'oom-*' \) | wc -l)
    local runs
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$dir/log.txt" | grep -o '[0-9]*$' || echo "?")
    local cov
    cov=$(grep -o 'cov: [0-9]*' "$dir/log.txt" | tail -1 || true)
    echo "$name: $((SECONDS - began))s, $runs inputs, $cov, corpus $(ls "$dir/corpus" | wc -l) files, findings $found"
    [ "$found" -eq 0 ] || { tail -40 "$dir/log.txt"; return 1; }
}

status=0
for t in "${targets[@]}"; do
    rm -rf "$work/$t/crash-"* "$work/$t/timeout-"* "$work/$t/leak-"* "$work/$t/oom-"* 2>/dev/null || true
    mkdir -p "$work/$t"
    case "$t" in
        http) build http "${sources_http[@]}" ;;
        query) build query "${sources_query[@]}" ;;
        *) echo "unknown target '$t' (http, query)" >&2; exit 2 ;;
    esac
done
if [ "${FUZZ_PARALLEL:-0}" = 1 ]; then
    pids=()
    for t in "${targets[@]}"; do run "$t" & pids+=($!); done
    for p in "${pids[@]}"; do wait "$p" || status=1; done
else
    for t in "${targets[@]}"; do run "$t" || status=1; done
fi
exit $status
