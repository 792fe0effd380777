#!/usr/bin/env bash
# GET /health on a release build of triggerbase, side by side with nginx answering a static {},
# at 1, 16 and 64 keep-alive connections (wrk -t min(C,2) -c C -d 10s --latency), then
# triggerbase's memory after the run. Target: triggerbase >= 70% of nginx's requests/s at 16 and 64.
#
# Usage (from the repo root):  bash bench/health.sh
#   BENCH_DURATION=10         seconds per wrk run
#   BENCH_CONNECTIONS="1 16 64"
#   BENCH_LOG_LEVEL=warning   triggerbase --log-level (info logs every request)
#   NGINX_ACCESS_LOG=off      on: nginx writes an access log too
#   TRIGGERBASE_BIN=path      a prebuilt binary instead of `swift build -c release`
#   BENCH_SCRATCH_PATH=dir    --scratch-path for that build
# Exits non-zero only when setup fails (tools, build, a server that does not start).
source "$(dirname "$0")/lib.sh"

TARGET_PERCENT=70

need wrk nginx curl awk
BIN=$(release_binary)

# Both servers listen on loopback only, each on its own free port; triggerbase with its default
# event loops (one per core), nginx with worker_processes auto (one per core).
TB_PORT=$(free_port)
start_triggerbase "$BIN" "$TB_PORT" "$WORK/data"
NGINX_PORT=$(free_port)
while [ "$NGINX_PORT" = "$TB_PORT" ]; do NGINX_PORT=$(free_port); done
start_nginx "$NGINX_PORT"
TB_URL="http://127.0.0.1:$TB_PORT/health"
NGINX_URL="http://127.0.0.1:$NGINX_PORT/health"

# print_header — versions, the exact commands, and what differs between the two servers.
print_header() {
    echo "== GET /health: triggerbase vs nginx, ${BENCH_DURATION}s per run, $(nproc) cores, wrk and both servers on this machine"
    echo "wrk:         $(wrk --version 2>&1 | head -1 | awk '{print $1, $2, $3}')"
    echo "nginx:       $(nginx -v 2>&1 | sed 's/^nginx version: //')"
    echo "triggerbase: $BIN ($(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo 'no git')$(cd "$ROOT" && git diff --quiet HEAD -- Sources Package.swift 2>/dev/null || echo ', uncommitted changes'))"
    echo "servers:"
    echo "  $TB_COMMAND"
    local access="no access log"
    case "${BENCH_LOG_LEVEL:-warning}" in info|debug) access="access log on";; esac
    echo "      event loops: default (one per core); --log-level ${BENCH_LOG_LEVEL:-warning} ($access)"
    echo "  $NGINX_COMMAND"
    echo "      worker_processes auto; access_log ${NGINX_ACCESS_LOG:-off}; location = /health { default_type application/json; return 200 '{}'; }"
    echo "  answers: triggerbase $(curl -s "$TB_URL")   nginx $(curl -s "$NGINX_URL")"
    echo "load, for each C in $BENCH_CONNECTIONS (triggerbase first, then nginx):"
    local c
    for c in $BENCH_CONNECTIONS; do
        echo "  $(wrk_command "$c" "$TB_URL")"
        echo "  $(wrk_command "$c" "$NGINX_URL")"
    done
    echo
}

# row C — one table line: both servers at C connections, p99 in ms, ratio of requests/s.
row() {
    local c=$1 tb_rps tb_p50 tb_p99 tb_non2xx tb_err ng_rps ng_p50 ng_p99 ng_non2xx ng_err ratio note=""
    read -r tb_rps tb_p50 tb_p99 tb_non2xx tb_err < <(wrk_latency "$c" "$TB_URL")
    read -r ng_rps ng_p50 ng_p99 ng_non2xx ng_err < <(wrk_latency "$c" "$NGINX_URL")
    ratio=$(awk -v a="$tb_rps" -v b="$ng_rps" 'BEGIN { if (a == "-" || b == "-" || b <= 0) print "-"; else printf "%.0f%%", 100 * a / b }')
    [ "$tb_rps" = - ] && note+="  triggerbase: wrk gave no figures"
    [ "$ng_rps" = - ] && note+="  nginx: wrk gave no figures"
    [ "${tb_non2xx:-0}" != - ] && [ "${tb_non2xx:-0}" -gt 0 ] && note+="  triggerbase non-2xx: $tb_non2xx"
    [ "${tb_err:-0}" != - ] && [ "${tb_err:-0}" -gt 0 ] && note+="  triggerbase socket errors: $tb_err"
    [ "${ng_non2xx:-0}" != - ] && [ "${ng_non2xx:-0}" -gt 0 ] && note+="  nginx non-2xx: $ng_non2xx"
    [ "${ng_err:-0}" != - ] && [ "${ng_err:-0}" -gt 0 ] && note+="  nginx socket errors: $ng_err"
    [ "$tb_p99" = - ] || tb_p99+=" ms"
    [ "$ng_p99" = - ] || ng_p99+=" ms"
    printf "%11s | %17s | %15s | %11s | %9s | %5s%s\n" "$c" "$tb_rps" "$tb_p99" "$ng_rps" "$ng_p99" "$ratio" "$note"
    RATIOS+=("$c=$ratio")
}

print_header
RATIOS=()
printf "%11s | %17s | %15s | %11s | %9s | %5s\n" connections "triggerbase req/s" "triggerbase p99" "nginx req/s" "nginx p99" ratio
printf "%11s-+-%17s-+-%15s-+-%11s-+-%9s-+-%5s\n" "" "" "" "" "" "" | tr ' ' '-'
for c in $BENCH_CONNECTIONS; do row "$c"; done
echo

# The issue's target: at least TARGET_PERCENT% of nginx's requests/s at 16 and 64 connections.
for entry in "${RATIOS[@]}"; do
    c=${entry%%=*} ratio=${entry#*=}
    case "$c" in 16|64) ;; *) continue;; esac
    verdict=$(awk -v r="${ratio%\%}" -v t="$TARGET_PERCENT" 'BEGIN { if (r == "-") print "no figures"; else print (r + 0 >= t ? "met" : "NOT met") }')
    echo "target >= ${TARGET_PERCENT}% of nginx at $c connections: $verdict ($ratio)"
done

if kill -0 "$TB_PID" 2>/dev/null; then
    echo "triggerbase memory after the run (pid $TB_PID): $(rss_of "$TB_PID")"
else
    echo "triggerbase exited during the run; its log:"; tail -20 "$WORK/server.log"
fi
