#!/usr/bin/env bash
# POST /api/posts:create on a release build over a seeded temporary database (synchronous=FULL),
# at 1, 16 and 64 connections: creates/s, p50, p99, average write batch, and a check that the
# row count equals the 2xx count. Usage: bash bench/create.sh (BENCH_DURATION, TRIGGERBASE_BIN)
# BENCH_AUTH=member (default: a member's bearer token and X-Role: member) or anonymous (no token;
# the bench seed grants anonymous create on posts) — the difference is the cost of auth.
source "$(dirname "$0")/lib.sh"
need wrk curl python3
BIN=$(release_binary)
BODY='{"title":"Benchmark post","content":"A post written by wrk to measure creates per second.","category":1}'
BENCH_AUTH=${BENCH_AUTH:-member}
MEMBER_TOKEN=tb_bench_member_0123456789abcdef

echo "wrk: $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2); cores: $(nproc); ${BENCH_DURATION}s per run; synchronous=FULL; auth: $BENCH_AUTH"
printf "%-6s | %10s %8s %8s | %9s | %s\n" conns "creates/s" "p50 ms" "p99 ms" "avg batch" "every 2xx has its row"
for c in $BENCH_CONNECTIONS; do
    data="$WORK/data-$c"
    port=$(free_port)
    : > "$WORK/server.log"
    BENCH_LOG_LEVEL=${BENCH_LOG_LEVEL:-info} start_triggerbase "$BIN" "$port" "$data" --seed "$ROOT/bench/bench.seed.json" --synchronous ${BENCH_SYNCHRONOUS:-full}
    before=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from posts').fetchone()[0])" "$data/triggerbase.db")
    if [ "$BENCH_AUTH" = member ]; then token=$MEMBER_TOKEN; role=member; else token=""; role=""; fi
    read -r rps p50 p99 ok bad < <(WRK_TOKEN="$token" WRK_ROLE="$role" WRK_BODY="$BODY" run_wrk "$c" "http://127.0.0.1:$port/api/posts:create")
    batch=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^triggerbase_write_batches_total/ {b=$2} /^triggerbase_write_jobs_total/ {j=$2} END {r = (b > 0) ? j / b : 0; printf "%.1f", r}')
    kill -TERM "$TB_PID"; wait "$TB_PID" 2>/dev/null || true
    after=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from posts').fetchone()[0])" "$data/triggerbase.db")
    rows=$((after - before))
    # Rows may exceed the 2xx count by the requests still in flight when wrk stopped (committed,
    # answer not read): at most one per connection. Fewer rows than 2xx would be a lost write.
    extra=$((rows - ok))
    check=$([ "$extra" -ge 0 ] && [ "$extra" -le "$c" ] && echo "yes: $ok 2xx, $rows rows (+$extra in flight at stop)" || echo "NO: $rows rows, $ok 2xx, $bad other")
    printf "%-6s | %10s %8s %8s | %9s | %s\n" "$c" "$rps" "$p50" "$p99" "${batch:-0}" "$check"
done
