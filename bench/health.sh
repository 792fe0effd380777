#!/usr/bin/env bash
# GET /health on a release build vs nginx returning a static {} — 1, 16, 64 keep-alive connections.
# Usage: bash bench/health.sh   (BENCH_DURATION=10, TRIGGERBASE_BIN=path to skip the build)
source "$(dirname "$0")/lib.sh"
need wrk nginx curl python3
BIN=$(release_binary)

TB_PORT=$(free_port)
start_triggerbase "$BIN" "$TB_PORT" "$WORK/data"

NGINX_PORT=$(free_port)
mkdir -p "$WORK/nginx"
cat > "$WORK/nginx/nginx.conf" <<CONF
worker_processes auto;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx; proxy_temp_path $WORK/nginx; fastcgi_temp_path $WORK/nginx;
    uwsgi_temp_path $WORK/nginx; scgi_temp_path $WORK/nginx;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location = /health { default_type application/json; return 200 '{}'; }
    }
}
CONF
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" &
PIDS+=($!)
wait_for "http://127.0.0.1:$NGINX_PORT/health"

echo "wrk: $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2); $(nginx -v 2>&1); cores: $(nproc); ${BENCH_DURATION}s per run"
echo "triggerbase: --log-level ${BENCH_LOG_LEVEL:-warning} (no access log); nginx: access_log off, worker_processes auto"
printf "%-6s | %14s %10s | %14s %10s | %6s\n" conns "triggerbase/s" "p99 ms" "nginx/s" "p99 ms" ratio
for c in $BENCH_CONNECTIONS; do
    read -r tb_rps _ tb_p99 _ _ < <(run_wrk "$c" "http://127.0.0.1:$TB_PORT/health")
    read -r ng_rps _ ng_p99 _ _ < <(run_wrk "$c" "http://127.0.0.1:$NGINX_PORT/health")
    ratio=$(awk -v a="$tb_rps" -v b="$ng_rps" 'BEGIN { r = (b > 0) ? 100 * a / b : 0; printf "%.0f%%", r }')
    printf "%-6s | %14s %10s | %14s %10s | %6s\n" "$c" "$tb_rps" "$tb_p99" "$ng_rps" "$ng_p99" "$ratio"
done
echo "triggerbase memory after the run: $(rss_of "$TB_PID")"
