#!/usr/bin/env bash
# Hostile clients against a release build on loopback: the server must survive them, keep
# answering a normal client, keep its memory bounded, and recover at once when they leave.
#
#   0. baseline   a normal client alone: sequential GET /health over keep-alive (5 ms apart)
#   1. slowloris  HOSTILE_SLOW_CONNS (1000) connections each sending a request head 1 byte/s for
#                 HOSTILE_SLOW_SECONDS (20 s); the server answers 408 and closes a head that took
#                 longer than --head-timeout (10 s): each closed one is reopened at once, so the
#                 population stays at 1000. Target: /health p99 < HOSTILE_P99_MS (50 ms) meanwhile.
#   2. flood      HOSTILE_FLOOD_CONNS (200) concurrent clients for HOSTILE_FLOOD_SECONDS (10 s), in
#                 turn: endless header lines, one ~20 KiB head, 150 header fields (each -> 431 and
#                 close), Content-Length 2 MiB (-> 413), a chunked body past 1 MiB (-> 413).
#   3. idle       HOSTILE_IDLE_CONNS (9990) keep-alive connections, each after one GET /health
#                 answered, held HOSTILE_IDLE_SECONDS (10 s) while the normal client measures; then
#                 more connections one by one until the server answers 503 (expected: #10001 with
#                 the default --max-connections 10000).
#   4. signin     HOSTILE_SIGNIN_CONNS (16) clients signing in with made-up accounts as fast as they are
#                 answered, HOSTILE_SIGNIN_SECONDS (10 s), beside a normal writer (sequential member
#                 creates, 5 ms apart). Target: the flood gets 429, every create 200 with p99 <
#                 HOSTILE_CREATE_P99_MS (50 ms): no create waits behind a password hash.
#   5. overload   HOSTILE_OVERLOAD_CONNS (500) connections each keeping HOSTILE_OVERLOAD_DEPTH (8)
#                 pipelined creates outstanding for HOSTILE_OVERLOAD_SECONDS (10 s): more writers than
#                 the writer can commit. Target: writes past --max-write-backlog get 503 OVERLOADED,
#                 reads keep being served, every acknowledged create exists afterwards. A client on the
#                 same 2 cores cannot outrun the writer by much, so the server runs with
#                 --max-write-backlog HOSTILE_MAX_WRITE_BACKLOG (256; the default is 2000).
# The baseline also runs the normal writer, so its create p50/p99 is the reference.
# Every phase records the server's VmRSS before, at its peak, and after the clients left (once its
# descriptors are back to the baseline); right after they leave, 20 fresh GET /health must answer
# 200 within HOSTILE_RECOVERY_MS (500 ms) each. One table at the end.
#
# Usage (from the repo root):  bash bench/hostile.sh            (about 2 minutes after the build)
#   TRIGGERBASE_BIN=path      a prebuilt binary instead of `swift build -c release`
#   BENCH_SCRATCH_PATH=dir    --scratch-path for that build
#   HOSTILE_RSS_LIMIT_MIB=512 a phase whose peak VmRSS reaches this fails
#   HOSTILE_PHASES="signin overload"  only these phases (after the baseline)
# Exits non-zero when a check fails: the server died, /health p99 >= 50 ms during the slowloris,
# a wrong or missing status, a connection limit other than 10000, a failed recovery, RSS over the limit,
# a create waiting behind sign-ins, writes not shed under overload, an acknowledged record missing.
source "$(dirname "$0")/lib.sh"

need curl python3 awk

SLOW_CONNS=${HOSTILE_SLOW_CONNS:-1000}
SLOW_SECONDS=${HOSTILE_SLOW_SECONDS:-20}
FLOOD_CONNS=${HOSTILE_FLOOD_CONNS:-200}
FLOOD_SECONDS=${HOSTILE_FLOOD_SECONDS:-10}
IDLE_CONNS=${HOSTILE_IDLE_CONNS:-9990}
IDLE_SECONDS=${HOSTILE_IDLE_SECONDS:-10}
SIGNIN_CONNS=${HOSTILE_SIGNIN_CONNS:-16}
SIGNIN_SECONDS=${HOSTILE_SIGNIN_SECONDS:-10}
OVERLOAD_CONNS=${HOSTILE_OVERLOAD_CONNS:-500}
OVERLOAD_DEPTH=${HOSTILE_OVERLOAD_DEPTH:-8}
OVERLOAD_SECONDS=${HOSTILE_OVERLOAD_SECONDS:-10}
CREATE_P99_MS=${HOSTILE_CREATE_P99_MS:-50}
MAX_WRITE_BACKLOG=${HOSTILE_MAX_WRITE_BACKLOG:-256}
PHASES=${HOSTILE_PHASES:-slowloris flood idle signin overload}   # the baseline always runs first
P99_MS=${HOSTILE_P99_MS:-50}
RECOVERY_MS=${HOSTILE_RECOVERY_MS:-500}
RSS_LIMIT_MIB=${HOSTILE_RSS_LIMIT_MIB:-512}
MAX_CONNECTIONS=10000   # the server's default --max-connections, which this script does not change

# Descriptors: the server raises its own soft limit to max-connections + 256; the idle phase needs
# as many in the client. Raise the soft limit to 65536 (or the hard limit, if lower) for both.
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -ge 65536 ]; then ulimit -n 65536; else ulimit -n "$hard"; fi
if [ "$(ulimit -n)" -lt $((IDLE_CONNS + 300)) ]; then
    die "ulimit -n is $(ulimit -n) (hard limit $hard): too low for $IDLE_CONNS idle connections; raise it or set HOSTILE_IDLE_CONNS"
fi

BIN=$(release_binary)
PORT=$(free_port)
start_triggerbase "$BIN" "$PORT" "$WORK/data" --seed "$ROOT/bench/bench.seed.json" --max-write-backlog "$MAX_WRITE_BACKLOG"
RESULTS=$WORK/results.jsonl
HOSTILE=(python3 "$ROOT/bench/hostile.py")
COMMON=(--port "$PORT" --pid "$TB_PID" --results "$RESULTS")

echo "== hostile clients: $(nproc) cores, server and clients on this machine (loopback)"
echo "triggerbase: $BIN ($(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo 'no git')$(cd "$ROOT" && git diff --quiet HEAD -- Sources Package.swift 2>/dev/null || echo ', uncommitted changes'))"
echo "server:      $TB_COMMAND   (defaults: --head-timeout 10 --max-head 16384 --max-headers 100 --max-body 1048576 --max-connections $MAX_CONNECTIONS)"
echo "ulimit -n:   $(ulimit -n) (hard $hard) for the server and the clients; server soft limit now $(awk '/Max open files/ { print $4 }' "/proc/$TB_PID/limits")"
echo "normal client: python3 bench/hostile.py probe — sequential GET /health on one keep-alive connection, 5 ms pause, own process"
echo

# phase NAME ARGS... — one phase of hostile.py; stops the run when the server is gone afterwards.
phase() {
    local name=$1; shift
    echo "-- $name: ${HOSTILE[*]} $name ${COMMON[*]} $*"
    "${HOSTILE[@]}" "$name" "${COMMON[@]}" "$@" || echo "  $name: hostile.py exited $?" >&2
    if ! kill -0 "$TB_PID" 2>/dev/null; then
        echo "  the server is gone after $name; its last lines:" >&2
        tail -20 "$WORK/server.log" >&2
        return 1
    fi
}

status=0
for name in baseline $PHASES; do
    case $name in
        baseline) phase baseline --seconds 5 ;;
        slowloris) phase slowloris --conns "$SLOW_CONNS" --seconds "$SLOW_SECONDS" ;;
        flood) phase flood --conns "$FLOOD_CONNS" --seconds "$FLOOD_SECONDS" ;;
        idle) phase idle --conns "$IDLE_CONNS" --seconds "$IDLE_SECONDS" ;;
        signin) phase signin --conns "$SIGNIN_CONNS" --seconds "$SIGNIN_SECONDS" ;;
        overload) phase overload --conns "$OVERLOAD_CONNS" --depth "$OVERLOAD_DEPTH" --seconds "$OVERLOAD_SECONDS" ;;
        *) die "unknown phase '$name' in HOSTILE_PHASES" ;;
    esac || { status=1; break; }
done

"${HOSTILE[@]}" report --pid "$TB_PID" --results "$RESULTS" --p99-ms "$P99_MS" --recovery-ms "$RECOVERY_MS" \
    --rss-limit-mib "$RSS_LIMIT_MIB" --idle-conns "$IDLE_CONNS" --max-connections "$MAX_CONNECTIONS" \
    --create-p99-ms "$CREATE_P99_MS" --phases "baseline $PHASES" || status=1
if [ -s "$WORK/server.log" ]; then
    echo
    echo "server log (warnings and errors, last 10 lines of $(wc -l < "$WORK/server.log")):"
    tail -10 "$WORK/server.log"
fi
exit "$status"
