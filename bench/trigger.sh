#!/usr/bin/env bash
# The workload of issue 5: POST /api/posts:create?triggerWorkflows=logPost as a member (bearer
# token, X-Role: member), where logPost is an async workflow with one create node writing a logs
# row. Release build, synchronous=FULL, a fresh database per run, at 1, 16 and 64 connections:
# creates/s, p50, p99; during the load, the most unfinished (queued or started) executions in the
# database, and the dispatcher's largest in-memory queue and running count (/metrics, when it
# exposes triggerbase_dispatcher_queue_depth / _running), sampled every 0.25 s: none may grow
# without bound; how many executions were unfinished when the load ended and how long they took
# to resolve (the drain, timed from the end of the load); and a check that posts, resolved
# executions and logs all equal the 2xx count. Usage: bash bench/trigger.sh (BENCH_DURATION, BENCH_CONNECTIONS,
# TRIGGERBASE_BIN, BENCH_SCRATCH_PATH, BENCH_SYNCHRONOUS=normal to compare).
source "$(dirname "$0")/lib.sh"
need wrk curl python3
BIN=$(release_binary)
BODY='{"title":"Benchmark post","content":"A post written by wrk to measure triggered creates.","category":1}'
MEMBER_TOKEN=tb_bench_member_0123456789abcdef
DRAIN_LIMIT=${BENCH_DRAIN_LIMIT:-120}   # seconds to wait for the drain before calling it stuck

# The monitor: one python3 process per run (no process start per sample). Until SIGUSR1 (the end
# of the load) it samples every 0.25 s the unfinished executions (read-only connection to the
# database file: never blocks the writer) and the dispatcher gauges from /metrics. On SIGUSR1 it
# notes the time, polls the database every 5 ms until nothing is unfinished, and prints
# "peak_unfinished peak_queue peak_running unfinished_at_load_end drain_seconds"
# ("-" for a gauge /metrics does not expose; drain "stuck" after DRAIN_LIMIT seconds).
cat > "$WORK/monitor.py" <<'PY'
import signal, sqlite3, sys, time, urllib.request
db, metrics_url, limit = sys.argv[1], sys.argv[2], float(sys.argv[3])
load_end = None
def on_load_end(signum, frame):
    global load_end
    load_end = time.monotonic()
signal.signal(signal.SIGUSR1, on_load_end)
conn = sqlite3.connect("file:" + db + "?mode=ro", uri=True, timeout=5)
def unfinished():
    return conn.execute("select count(*) from executions where status is null or status = 0").fetchone()[0]
def gauges():
    try:
        text = urllib.request.urlopen(metrics_url, timeout=1).read().decode()
    except Exception:
        return {}
    found = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in ("triggerbase_dispatcher_queue_depth", "triggerbase_dispatcher_running"):
            found[parts[0]] = float(parts[1])
    return found
peak_db, peak_queue, peak_running = 0, None, None
next_sample = time.monotonic()
while load_end is None:
    if time.monotonic() >= next_sample:
        peak_db = max(peak_db, unfinished())
        g = gauges()
        if "triggerbase_dispatcher_queue_depth" in g:
            peak_queue = max(peak_queue or 0, int(g["triggerbase_dispatcher_queue_depth"]))
        if "triggerbase_dispatcher_running" in g:
            peak_running = max(peak_running or 0, int(g["triggerbase_dispatcher_running"]))
        next_sample += 0.25
    time.sleep(0.02)
at_end = left = unfinished()
while left > 0 and time.monotonic() - load_end < limit:
    time.sleep(0.005)
    left = unfinished()
drain = "stuck" if left > 0 else "%.2f" % (time.monotonic() - load_end if at_end > 0 else 0)
show = lambda v: "-" if v is None else str(v)
print(max(peak_db, at_end), show(peak_queue), show(peak_running), at_end, drain)
PY

echo "wrk: $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2); cores: $(nproc); ${BENCH_DURATION}s per run; synchronous=${BENCH_SYNCHRONOUS:-full}"
echo "unfinished = executions queued or started (database); queue, run = triggerbase_dispatcher_queue_depth, _running (/metrics); drain = end of load -> none unfinished"
printf "%-6s | %9s %8s %8s | %10s %10s %8s %11s %8s | %s\n" conns "creates/s" "p50 ms" "p99 ms" \
    "peak unfin" "peak queue" "peak run" "at load end" "drain s" "posts = executions (resolved) = logs = 2xx"
for c in $BENCH_CONNECTIONS; do
    data="$WORK/data-$c"
    port=$(free_port)
    : > "$WORK/server.log"
    start_triggerbase "$BIN" "$port" "$data" --seed "$ROOT/bench/trigger.seed.json" --synchronous "${BENCH_SYNCHRONOUS:-full}"
    db="$data/triggerbase.db"
    python3 "$WORK/monitor.py" "$db" "http://127.0.0.1:$port/metrics" "$DRAIN_LIMIT" > "$WORK/monitor-$c.out" &
    monitor=$!
    PIDS+=("$monitor")
    read -r rps p50 p99 ok bad < <(WRK_TOKEN="$MEMBER_TOKEN" WRK_ROLE=member WRK_BODY="$BODY" \
        run_wrk "$c" "http://127.0.0.1:$port/api/posts:create?triggerWorkflows=logPost")
    kill -USR1 "$monitor"   # the load has ended: the monitor times the drain from here
    wait "$monitor" || true
    read -r peak peak_queue peak_running at_end drain < "$WORK/monitor-$c.out" || { peak=? peak_queue=? peak_running=? at_end=? drain=?; }
    kill -TERM "$TB_PID"; wait "$TB_PID" 2>/dev/null || true
    read -r posts executions resolved logs < <(python3 -c "
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
q = lambda s: c.execute(s).fetchone()[0]
print(q('select count(*) from posts'), q('select count(*) from executions'), q('select count(*) from executions where status = 1'), q('select count(*) from logs'))" "$db")
    # Rows may exceed the 2xx count by the requests in flight when wrk stopped (committed, answer
    # not read): at most one per connection. Fewer would be a lost write.
    extra=$((posts - ok))
    if [ "$ok" -gt 0 ] && [ "$posts" -eq "$executions" ] && [ "$executions" -eq "$resolved" ] && [ "$resolved" -eq "$logs" ] \
        && [ "$extra" -ge 0 ] && [ "$extra" -le "$c" ]; then
        check="yes: $ok 2xx, $posts posts (+$extra in flight at stop), all resolved, $logs logs"
    else
        check="NO: $ok 2xx ($bad other), $posts posts, $executions executions ($resolved resolved), $logs logs"
        grep -v '"level":"info"' "$WORK/server.log" | tail -5 >&2 || true
    fi
    printf "%-6s | %9s %8s %8s | %10s %10s %8s %11s %8s | %s\n" "$c" "$rps" "$p50" "$p99" "$peak" "$peak_queue" "$peak_running" "$at_end" "$drain" "$check"
done
