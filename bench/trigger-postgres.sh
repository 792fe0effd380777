#!/usr/bin/env bash
# The trigger workload of trigger.sh (member creates with ?triggerWorkflows=logPost over
# trigger.seed.json) on PostgreSQL (issue 16): 1 process, then 3 processes on one database, each
# process loaded by a wrk of its own with a third of the connections (no proxy in between; the
# figures are summed, p99 is the worst of the three). A fresh schema per run. After the load it
# waits for every execution to finish, then checks posts = executions (all resolved) = logs >= 2xx.
#
# The database: BENCH_POSTGRES (a libpq URL the script may create schemas in), or else a
# throw-away cluster it starts itself (as root, via the postgres user; Debian's postgresql package,
# installed if missing), fsync and synchronous_commit on, as in production.
# Usage: bash bench/trigger-postgres.sh (BENCH_DURATION, BENCH_CONNECTIONS (default "16 64"),
# BENCH_PROCESSES (default "1 3"), TRIGGERBASE_BIN, BENCH_SCRATCH_PATH).
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-16 64}
source "$(dirname "$0")/lib.sh"
need wrk curl python3
if ! command -v psql >/dev/null 2>&1; then
    [ "$(id -u)" -eq 0 ] || die "missing: psql; install the Debian package postgresql-client"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client >/dev/null || die "apt-get failed"
fi
BIN=$(release_binary)
BODY='{"title":"Benchmark post","content":"A post written by wrk to measure triggered creates.","category":1}'
MEMBER_TOKEN=tb_bench_member_0123456789abcdef

server_url=${BENCH_POSTGRES:-}
if [ -z "$server_url" ]; then
    [ "$(id -u)" -eq 0 ] || die "set BENCH_POSTGRES, or run as root to start a throw-away PostgreSQL"
    command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
        || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }
    pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    pgdir=$WORK/pg
    mkdir -p "$pgdir" && chown postgres "$pgdir" && chmod 0777 "$WORK"
    runuser -u postgres -- "$pgbin/initdb" -D "$pgdir/data" -U triggerbase --auth=trust -E UTF8 >/dev/null
    runuser -u postgres -- "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w \
        -o "-k $pgdir -c listen_addresses='' -c max_connections=200" start >/dev/null
    trap 'runuser -u postgres -- "$pgbin/pg_ctl" -D "$pgdir/data" -m fast stop >/dev/null; cleanup' EXIT
    server_url="postgresql:///postgres?host=$pgdir&user=triggerbase"
fi
sql() { psql -X -q -At -d "$server_url" -c "SET client_min_messages = warning; $1"; }
echo "wrk: $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2); cores: $(nproc); $(psql -X -At -d "$server_url" -c 'select version()' | cut -d' ' -f1-2); ${BENCH_DURATION}s per run"
printf "%-9s %-6s | %9s %8s | %8s | %s\n" processes conns "creates/s" "p99 ms" "drain s" "posts = executions (resolved) = logs >= 2xx"
run=0
for processes in ${BENCH_PROCESSES:-1 3}; do
    for c in $BENCH_CONNECTIONS; do
        run=$((run + 1))
        schema="bench_$run"
        sql "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema"
        url="$server_url&options=-csearch_path%3D$schema"
        [[ $server_url == *\?* ]] || url="$server_url?options=-csearch_path%3D$schema"
        ports=() servers=()
        for p in $(seq 1 "$processes"); do
            port=$(free_port)
            seed=(); [ "$p" -eq 1 ] && seed=(--seed "$ROOT/bench/trigger.seed.json")
            start_triggerbase "$BIN" "$port" "$WORK/data-$run-$p" --database "$url" "${seed[@]}"
            ports+=("$port") servers+=("$TB_PID")
        done
        per=$(( (c + processes - 1) / processes ))
        wrks=()
        for i in "${!ports[@]}"; do
            WRK_TOKEN="$MEMBER_TOKEN" WRK_ROLE=member WRK_BODY="$BODY" wrk -t $(( per < 2 ? per : 2 )) -c "$per" \
                -d "${BENCH_DURATION}s" --latency -s "$ROOT/bench/count.lua" \
                "http://127.0.0.1:${ports[$i]}/api/posts:create?triggerWorkflows=logPost" > "$WORK/wrk-$i.out" 2>&1 &
            wrks+=("$!")
        done
        wait "${wrks[@]}" || true
        loaded=$(date +%s%N)
        read -r rps p99 ok < <(cat "$WORK"/wrk-*.out | awk '/^RESULT/ {for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
            rps += v["rps"]; ok += v["ok"]; if (v["p99"] + 0 > p99) p99 = v["p99"] + 0 }
            END { printf "%d %.3f %d\n", rps, p99, ok }')
        rm -f "$WORK"/wrk-*.out
        drain=stuck
        for _ in $(seq 1 2400); do
            if [ "$(sql "SELECT count(*) FROM $schema.executions WHERE status IS NULL OR status = 0")" = 0 ]; then
                drain=$(python3 -c "import sys; print('%.2f' % ((int(sys.argv[1]) - int(sys.argv[2])) / 1e9))" "$(date +%s%N)" "$loaded"); break
            fi
            sleep 0.05
        done
        for pid in "${servers[@]}"; do kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; done
        read -r posts executions resolved logs < <(sql "SELECT (SELECT count(*) FROM $schema.posts), (SELECT count(*) FROM $schema.executions),
            (SELECT count(*) FROM $schema.executions WHERE status = 1), (SELECT count(*) FROM $schema.logs)" | tr '|' ' ')
        if [ "$ok" -gt 0 ] && [ "$posts" -eq "$executions" ] && [ "$executions" -eq "$resolved" ] && [ "$resolved" -eq "$logs" ] \
            && [ "$posts" -ge "$ok" ]; then
            check="yes: $ok 2xx, $posts posts, all resolved, $logs logs"
        else
            check="NO: $ok 2xx, $posts posts, $executions executions ($resolved resolved), $logs logs"
            grep -v '"level":"info"' "$WORK/server.log" | tail -5 >&2 || true
        fi
        printf "%-9s %-6s | %9s %8s | %8s | %s\n" "$processes" "$c" "$rps" "$p99" "$drain" "$check"
        sql "DROP SCHEMA $schema CASCADE"
    done
done
