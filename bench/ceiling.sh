#!/usr/bin/env bash
# The storage ceiling of a create and of a triggered create (issue 17): bench/ceiling.c, SQLite
# alone running the statements the writer runs for one posts:create, and for one
# posts:create?triggerWorkflows=logPost whose workflow runs in the same write, on a database the
# release server created from bench/trigger.seed.json, in transactions of 1 and of 64 requests
# (synchronous=FULL, WAL). No server runs while it measures. Prints "workload batch | requests/s"
# (median of 3 runs each). Usage: bash bench/ceiling.sh (TRIGGERBASE_BIN as in lib.sh).
source "$(dirname "$0")/lib.sh"
need gcc curl python3
[ -e /usr/include/sqlite3.h ] || die "sqlite3.h missing: apt-get install -y libsqlite3-dev"
BIN=$(release_binary)
gcc -O2 -o "$WORK/ceiling" "$ROOT/bench/ceiling.c" -lsqlite3 || die "cannot build bench/ceiling.c"

port=$(free_port)
start_triggerbase "$BIN" "$port" "$WORK/data" --seed "$ROOT/bench/trigger.seed.json"
kill "$TB_PID"; wait "$TB_PID" 2>/dev/null || true

echo "SQLite $(python3 -c 'import sqlite3; print(sqlite3.sqlite_version)'), cores: $(nproc); the statements of one create, synchronous=FULL"
echo "workload batch | requests/s"
for workload in create trigger; do
for batch in 1 64; do
    requests=$(( batch == 1 ? 3000 : 64000 ))
    results=()
    for run in 1 2 3; do
        # A clean copy of the server's database for every run (the online backup API).
        python3 -c 'import sqlite3, sys; s = sqlite3.connect(sys.argv[1]); d = sqlite3.connect(sys.argv[2]); s.backup(d); d.close(); s.close()' \
            "$WORK/data/triggerbase.db" "$WORK/ceiling.db"
        results+=("$("$WORK/ceiling" "$WORK/ceiling.db" "$requests" "$batch" "$workload")")
        rm -f "$WORK"/ceiling.db*
    done
    printf "%s %d | %s\n" "$workload" "$batch" "$(printf '%s\n' "${results[@]}" | sort -n | sed -n 2p)"
done
done
