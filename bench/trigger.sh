#!/usr/bin/env bash
# The workload of issue 5: POST /api/posts:create?triggerWorkflows=logPost as a member (bearer
# token, X-Role: member), where logPost is an async workflow with one create node writing a logs
# row. Release build, synchronous=FULL, a fresh database per run, at 1, 16 and 64 connections:
# creates/s, p50, p99; the unfinished executions at the end of the load and the most seen during
# it (sampled every 0.5 s: the queue must not grow without bound); the drain time from the end of
# the load until every execution has resolved; and a check that posts, resolved executions and
# logs all equal the 2xx count. Usage: bash bench/trigger.sh (BENCH_DURATION, BENCH_CONNECTIONS,
# TRIGGERBASE_BIN, BENCH_SYNCHRONOUS=normal).
source "$(dirname "$0")/lib.sh"
need wrk curl python3
BIN=$(release_binary)
BODY='{"title":"Benchmark post","content":"A post written by wrk to measure triggered creates.","category":1}'
MEMBER_TOKEN=tb_bench_member_0123456789abcdef

# unfinished DB — executions still queued or started (read-only, never blocks the writer).
unfinished() {
    python3 -c "import sqlite3,sys; c=sqlite3.connect('file:'+sys.argv[1]+'?mode=ro', uri=True); print(c.execute('select count(*) from executions where status is null or status = 0').fetchone()[0])" "$1"
}

echo "wrk: $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2); cores: $(nproc); ${BENCH_DURATION}s per run; synchronous=${BENCH_SYNCHRONOUS:-full}"
printf "%-6s | %9s %8s %8s | %13s %12s %9s | %s\n" conns "creates/s" "p50 ms" "p99 ms" "peak unfinished" "at load end" "drain s" "posts = executions = logs = 2xx"
for c in $BENCH_CONNECTIONS; do
    data="$WORK/data-$c"
    port=$(free_port)
    start_triggerbase "$BIN" "$port" "$data" --seed "$ROOT/bench/trigger.seed.json" --synchronous "${BENCH_SYNCHRONOUS:-full}"
    db="$data/triggerbase.db"
    peak=0
    ( while sleep 0.5; do unfinished "$db"; done ) > "$WORK/samples-$c" 2>/dev/null &
    sampler=$!
    read -r rps p50 p99 ok bad < <(WRK_TOKEN="$MEMBER_TOKEN" WRK_ROLE=member WRK_BODY="$BODY" \
        run_wrk "$c" "http://127.0.0.1:$port/api/posts:create?triggerWorkflows=logPost")
    kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
    peak=$(sort -n "$WORK/samples-$c" | tail -1); peak=${peak:-0}
    at_end=$(unfinished "$db")
    drain=0.00
    if [ "$at_end" -gt 0 ]; then
        start=$(date +%s.%N)
        while [ "$(unfinished "$db")" -gt 0 ]; do sleep 0.02; done
        drain=$(python3 -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$start" "$(date +%s.%N)")
    fi
    kill -TERM "$TB_PID"; wait "$TB_PID" 2>/dev/null || true
    read -r posts executions resolved logs < <(python3 -c "
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
q = lambda s: c.execute(s).fetchone()[0]
print(q('select count(*) from posts'), q('select count(*) from executions'), q('select count(*) from executions where status = 1'), q('select count(*) from logs'))" "$db")
    # Rows may exceed the 2xx count by the requests in flight when wrk stopped (at most one per connection).
    extra=$((posts - ok))
    if [ "$posts" -eq "$executions" ] && [ "$executions" -eq "$resolved" ] && [ "$resolved" -eq "$logs" ] && [ "$extra" -ge 0 ] && [ "$extra" -le "$c" ]; then
        check="yes: $ok 2xx, $posts posts (+$extra in flight at stop), all resolved, $logs logs"
    else
        check="NO: $ok 2xx ($bad other), $posts posts, $executions executions ($resolved resolved), $logs logs"
    fi
    printf "%-6s | %9s %8s %8s | %15s %12s %9s | %s\n" "$c" "$rps" "$p50" "$p99" "$peak" "$at_end" "$drain" "$check"
done
