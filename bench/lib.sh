#!/usr/bin/env bash
# Shared helpers for the benchmarks (sourced by health.sh, create.sh): install tools, build and
# start a release server on a free loopback port with a temporary data folder, run wrk and read
# its figures, read a process's memory, and clean everything up on exit.
#
# Environment: BENCH_DURATION (seconds per wrk run, default 10), BENCH_CONNECTIONS (default
# "1 16 64"), BENCH_LOG_LEVEL (server log level, default warning), TRIGGERBASE_BIN (a prebuilt
# binary; otherwise `swift build -c release`), BENCH_SCRATCH_PATH (optional --scratch-path for
# that build).
set -euo pipefail

BENCH_DURATION=${BENCH_DURATION:-10}
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-"1 16 64"}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d /tmp/triggerbase-bench.XXXXXX)
PIDS=()    # every server we start; cleanup() stops them

case "$BENCH_DURATION" in ''|*[!0-9]*) echo "BENCH_DURATION must be whole seconds, not '$BENCH_DURATION'" >&2; exit 2;; esac

# ---- cleanup ---------------------------------------------------------------------------------

cleanup() {
    local pid
    for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

die() { echo "bench: $*" >&2; exit 1; }

# ---- tools -----------------------------------------------------------------------------------

# need TOOL... — installs the missing ones with apt-get (as root), or says what to install.
# The nginx tool comes from the nginx-light package (falling back to nginx).
need() {
    local tool missing=() packages=()
    for tool in "$@"; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
    ((${#missing[@]})) || return 0
    for tool in "${missing[@]}"; do
        case "$tool" in nginx) packages+=(nginx-light);; awk) packages+=(mawk);; *) packages+=("$tool");; esac
    done
    if [ "$(id -u)" -ne 0 ]; then
        die "missing: ${missing[*]}; install the Debian packages as root: apt-get install -y ${packages[*]}"
    fi
    echo "installing ${packages[*]} with apt-get ..." >&2
    apt-get update -qq >&2 || die "apt-get update failed"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >&2; then
        # nginx-light is gone in newer Debian releases; plain nginx has the same binary.
        packages=("${packages[@]/#nginx-light/nginx}")
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >&2 || die "apt-get install ${packages[*]} failed"
    fi
    for tool in "${missing[@]}"; do command -v "$tool" >/dev/null 2>&1 || die "$tool still missing after apt-get"; done
}

# ---- servers ---------------------------------------------------------------------------------

# The release binary: $TRIGGERBASE_BIN, or a fresh `swift build -c release` (its log on stderr).
release_binary() {
    local bin
    if [ -n "${TRIGGERBASE_BIN:-}" ]; then
        bin=$TRIGGERBASE_BIN
    else
        local scratch=()
        [ -n "${BENCH_SCRATCH_PATH:-}" ] && scratch=(--scratch-path "$BENCH_SCRATCH_PATH")
        (cd "$ROOT" && swift build -c release "${scratch[@]}" --product triggerbase >&2) || die "swift build -c release failed"
        bin="$(cd "$ROOT" && swift build -c release "${scratch[@]}" --show-bin-path)/triggerbase"
    fi
    [ -x "$bin" ] || die "no executable triggerbase at $bin"
    echo "$bin"
}

# free_port — a TCP port nobody listens on (no socket on it in /proc/net/tcp{,6}), picked at random.
free_port() {
    local port
    for _ in $(seq 1 100); do
        port=$(( 20000 + RANDOM % 40000 ))
        # Column 2 is local_address ADDR:PORT, the port in 4 upper-case hex digits.
        if ! awk -v p="$(printf '%04X' "$port")" 'FNR > 1 { n = split($2, a, ":"); if (a[n] == p) found = 1 } END { exit !found }' \
            $(ls /proc/net/tcp /proc/net/tcp6 2>/dev/null); then
            echo "$port"; return 0
        fi
    done
    die "no free port found"
}

# wait_for URL — until it answers 2xx (10 s at most).
wait_for() {
    for _ in $(seq 1 200); do curl -sf -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.05; done
    echo "not answering: $1" >&2; return 1
}

# start_triggerbase BIN PORT DATA [extra args...] — sets TB_PID and TB_COMMAND, logs to $WORK/server.log
start_triggerbase() {
    local bin=$1 port=$2 data=$3; shift 3
    TB_COMMAND="$bin serve --port $port --data $data --log-level ${BENCH_LOG_LEVEL:-warning}${*:+ $*}"
    "$bin" serve --port "$port" --data "$data" --log-level "${BENCH_LOG_LEVEL:-warning}" "$@" 2>>"$WORK/server.log" &
    TB_PID=$!
    PIDS+=("$TB_PID")
    wait_for "http://127.0.0.1:$port/health" || { tail -20 "$WORK/server.log" >&2; die "triggerbase did not start"; }
}

# start_nginx PORT — nginx in the foreground (no daemon) with its own config, pid, logs and temp
# folders under $WORK/nginx, answering `GET /health` with a static {}. Sets NGINX_PID, NGINX_COMMAND.
# NGINX_ACCESS_LOG=on logs every request to $WORK/nginx/access.log (default off).
start_nginx() {
    local port=$1 dir=$WORK/nginx access_log="access_log off;"
    [ "${NGINX_ACCESS_LOG:-off}" = on ] && access_log="access_log $dir/access.log;"
    mkdir -p "$dir"
    cat > "$dir/nginx.conf" <<CONF
worker_processes auto;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
    $access_log
    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    keepalive_requests 1000000;   # never close a keep-alive connection during a run
    server {
        listen 127.0.0.1:$port;
        location = /health { default_type application/json; return 200 '{}'; }
    }
}
CONF
    NGINX_COMMAND="nginx -p $dir -e $dir/error.log -c $dir/nginx.conf"
    nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" 2>>"$dir/error.log" &
    NGINX_PID=$!
    PIDS+=("$NGINX_PID")
    wait_for "http://127.0.0.1:$port/health" || { tail -20 "$dir/error.log" >&2; die "nginx did not start"; }
}

# ---- wrk -------------------------------------------------------------------------------------

# wrk_command CONNECTIONS URL — the plain wrk command line: T = min(C, 2) threads, keep-alive.
wrk_command() {
    local c=$1 url=$2
    echo "wrk -t $(( c < 2 ? c : 2 )) -c $c -d ${BENCH_DURATION}s --latency $url"
}

# wrk_latency CONNECTIONS URL — runs wrk_command (no Lua script) and prints
# "rps p50_ms p99_ms non2xx socket_errors" read from wrk's --latency output, or "- - - - -" when
# wrk printed no figures. The raw output stays in $WORK/wrk-latest.out.
wrk_latency() {
    local out=$WORK/wrk-latest.out
    $(wrk_command "$1" "$2") > "$out" 2>&1 || true
    awk '
        # "123.45us", "1.23ms", "1.02s", "2.00m" -> milliseconds
        function ms(v) {
            if (v ~ /us$/) return v / 1000
            if (v ~ /ms$/) return v + 0
            if (v ~ /m$/)  return v * 60000
            if (v ~ /s$/)  return v * 1000
            return v + 0
        }
        /^Requests\/sec:/                    { rps = $2 }
        $1 == "50%" && lat                   { p50 = ms($2) }
        $1 == "99%" && lat                   { p99 = ms($2) }
        /Latency Distribution/               { lat = 1 }
        /Non-2xx or 3xx responses:/          { non2xx = $NF }
        /Socket errors:/ { gsub(/,/, ""); errors = $4 + $6 + $8 + $10 }
        END {
            if (rps == "") { print "- - - - -"; exit }
            printf "%.0f %.3f %.3f %d %d\n", rps, p50, p99, non2xx, errors
        }' "$out"
}

# run_wrk CONNECTIONS URL [lua script] — wrk with bench/count.lua, which counts 2xx answers (and,
# with WRK_BODY set, POSTs it); prints "rps p50_ms p99_ms ok bad". Used by create.sh. The Lua
# response() hook costs wrk CPU, so health.sh uses wrk_latency instead.
run_wrk() {
    local c=$1 url=$2 script=${3:-$ROOT/bench/count.lua}
    local threads=$(( c < 2 ? c : 2 ))
    wrk -t "$threads" -c "$c" -d "${BENCH_DURATION}s" --latency -s "$script" "$url" > "$WORK/wrk.out" 2>&1 || true
    local line
    line=$(grep '^RESULT' "$WORK/wrk.out" || true)
    if [ -z "$line" ]; then cat "$WORK/wrk.out" >&2; echo "0 0 0 0 0"; return; fi
    echo "$line" | awk '{for(i=2;i<=NF;i++){split($i,kv,"="); v[kv[1]]=kv[2]}; printf "%s %s %s %s %s\n", v["rps"], v["p50"], v["p99"], v["ok"], v["bad"]}'
}

# ---- memory ----------------------------------------------------------------------------------

# rss_of PID — "VmRSS: N kB  VmHWM: N kB" (resident now, and its peak), or a note if it is gone.
rss_of() {
    [ -r "/proc/$1/status" ] || { echo "(process $1 is gone)"; return 0; }
    awk '/^VmRSS|^VmHWM/ { kb[$1] = $2 }
         END { printf "VmRSS: %d kB (%.1f MiB)  VmHWM: %d kB (%.1f MiB)\n", kb["VmRSS:"], kb["VmRSS:"] / 1024, kb["VmHWM:"], kb["VmHWM:"] / 1024 }' "/proc/$1/status"
}
