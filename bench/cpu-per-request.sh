#!/usr/bin/env bash
# Server CPU time per acknowledged create (µs): the server process's utime+stime over one wrk load
# and the drain of the executions it queued, divided by its 2xx count. Steadier than req/s on a
# shared VM, so use it for A/B comparisons of two binaries, alternating runs.
# Usage: bash bench/cpu-per-request.sh create|trigger [connections] (BENCH_DURATION, TRIGGERBASE_BIN)
source "$(dirname "$0")/lib.sh"
need wrk python3
BIN=$(release_binary)
MODE=${1:-create}; CONNECTIONS=${2:-64}
BODY='{"title":"Benchmark post","content":"A post written by wrk.","category":1}'
port=$(free_port); data=$WORK/data
if [ "$MODE" = trigger ]; then
    seed=$ROOT/bench/trigger.seed.json; url="http://127.0.0.1:$port/api/posts:create?triggerWorkflows=logPost"
else
    seed=$ROOT/bench/bench.seed.json; url="http://127.0.0.1:$port/api/posts:create"
fi
start_triggerbase "$BIN" "$port" "$data" --seed "$seed" --synchronous full
ticks() { awk '{print $14+$15}' "/proc/$TB_PID/stat"; }
before=$(ticks)
read -r rps _ p99 ok _ < <(WRK_TOKEN=tb_bench_member_0123456789abcdef WRK_ROLE=member WRK_BODY="$BODY" run_wrk "$CONNECTIONS" "$url")
if [ "$MODE" = trigger ]; then
    for _ in $(seq 1 400); do
        left=$(python3 -c "import sqlite3,sys; print(sqlite3.connect('file:'+sys.argv[1]+'?mode=ro',uri=True).execute('select count(*) from executions where status is null or status=0').fetchone()[0])" "$data/triggerbase.db")
        [ "$left" = 0 ] && break; sleep 0.05
    done
fi
after=$(ticks)
python3 -c "import sys; t=(int(sys.argv[2])-int(sys.argv[1]))/int(sys.argv[3]); ok=int(sys.argv[4]); print(f'{sys.argv[5]} at {sys.argv[6]} connections: {t*1e6/ok:.1f} µs of server CPU per 2xx ({ok} 2xx, {sys.argv[7]} req/s, p99 {sys.argv[8]} ms)')" \
    "$before" "$after" "$(getconf CLK_TCK)" "$ok" "$MODE" "$CONNECTIONS" "$rps" "$p99"
