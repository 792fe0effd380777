#!/usr/bin/env bash
# Shared helpers for the benchmarks: build, start and stop servers, run wrk, read RSS.
set -euo pipefail

BENCH_DURATION=${BENCH_DURATION:-10}
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-"1 16 64"}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d /tmp/triggerbase-bench.XXXXXX)
PIDS=()

cleanup() {
    for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

need() {
    local missing=()
    for tool in "$@"; do command -v "$tool" >/dev/null || missing+=("$tool"); done
    if ((${#missing[@]})); then
        if [ "$(id -u)" -eq 0 ]; then
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]/nginx/nginx-light}" >/dev/null
        else
            echo "please install: ${missing[*]} (Debian packages)" >&2; exit 1
        fi
    fi
}

# The release binary: $TRIGGERBASE_BIN, or a fresh `swift build -c release`.
release_binary() {
    if [ -n "${TRIGGERBASE_BIN:-}" ]; then echo "$TRIGGERBASE_BIN"; return; fi
    (cd "$ROOT" && swift build -c release --product triggerbase >&2)
    echo "$(cd "$ROOT" && swift build -c release --show-bin-path)/triggerbase"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_for() {
    for _ in $(seq 1 200); do curl -sf "$1" >/dev/null 2>&1 && return 0; sleep 0.05; done
    echo "not answering: $1" >&2; return 1
}

# start_triggerbase BIN PORT DATA [extra args...] — sets TB_PID, logs to $WORK/server.log
start_triggerbase() {
    local bin=$1 port=$2 data=$3; shift 3
    "$bin" serve --port "$port" --data "$data" --log-level "${BENCH_LOG_LEVEL:-warning}" "$@" 2>>"$WORK/server.log" &
    TB_PID=$!
    PIDS+=("$TB_PID")
    wait_for "http://127.0.0.1:$port/health"
}

# run_wrk CONNECTIONS URL [lua script] — prints "rps p50_ms p99_ms ok bad"
run_wrk() {
    local c=$1 url=$2 script=${3:-$ROOT/bench/count.lua}
    local threads=$(( c < 2 ? c : 2 ))
    wrk -t "$threads" -c "$c" -d "${BENCH_DURATION}s" --latency -s "$script" "$url" > "$WORK/wrk.out" 2>&1
    local line
    line=$(grep '^RESULT' "$WORK/wrk.out" || true)
    if [ -z "$line" ]; then cat "$WORK/wrk.out" >&2; echo "0 0 0 0 0"; return; fi
    echo "$line" | awk '{for(i=2;i<=NF;i++){split($i,kv,"="); v[kv[1]]=kv[2]}; printf "%s %s %s %s %s\n", v["rps"], v["p50"], v["p99"], v["ok"], v["bad"]}'
}

rss_of() { awk '/VmRSS|VmHWM/ {printf "%s %s %s  ", $1, $2, $3}' "/proc/$1/status"; echo; }
