#!/usr/bin/env bash
# Crash safety (issue 7): the trigger workload of bench/trigger.sh, killed with SIGKILL at a random
# instant, restarted on the same data, CRASH_ROUNDS times (default 20). After each restart, once the
# dispatcher has drained, it checks that
#   - every create that got a 2xx exists,
#   - every post has exactly one execution of logPost (the write and its execution commit together),
#   - no execution is left queued or started,
#   - the create node's logs rows are not duplicated (one per post).
# Then, when run as root, the disk-full case on a small tmpfs: writes answer 503 with a clear code,
# reads keep working, nothing crashes, and writes resume once space returns.
#   bash bench/crash.sh            (CRASH_ROUNDS, CRASH_CLIENTS, TRIGGERBASE_BIN)
source "$(dirname "$0")/lib.sh"
need curl python3
BIN=$(release_binary)
ROUNDS=${CRASH_ROUNDS:-20}
CLIENTS=${CRASH_CLIENTS:-16}
DATA="$WORK/data"
PORT=$(free_port)

python3 - "$BIN" "$PORT" "$DATA" "$ROOT/bench/trigger.seed.json" "$ROUNDS" "$CLIENTS" <<'PY'
import http.client, json, os, random, signal, sqlite3, subprocess, sys, threading, time
binary, port, data, seed, rounds, clients = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
TOKEN = "tb_bench_member_0123456789abcdef"
BODY = json.dumps({"title": "", "content": "crash test", "category": 1})

def start(extra=()):
    log = open(os.path.join(os.path.dirname(data), "server.log"), "ab")
    process = subprocess.Popen([binary, "serve", "--port", str(port), "--data", data, "--log-level", "warning", *extra],
                               stdout=subprocess.DEVNULL, stderr=log)
    for _ in range(200):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1); c.request("GET", "/health")
            if c.getresponse().status == 200: return process
        except OSError: pass
        time.sleep(0.05)
    sys.exit("server did not start")

def unfinished(db):
    return db.execute("select count(*) from executions where status is null or status = 0").fetchone()[0]

acked_total, failures = [], 0
last_post = last_execution = 0
process = start(["--seed", seed])
for round_number in range(1, rounds + 1):
    acked, stop = [], threading.Event()
    lock = threading.Lock()
    def client(index):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        sequence = 0
        while not stop.is_set():
            title = f"r{round_number}-c{index}-{sequence}"; sequence += 1
            try:
                connection.request("POST", "/api/posts:create?triggerWorkflows=logPost", BODY.replace('"title": ""', f'"title": "{title}"'),
                                   {"Authorization": f"Bearer {TOKEN}", "X-Role": "member", "Content-Type": "application/json"})
                response = connection.getresponse(); response.read()
                if 200 <= response.status < 300:
                    with lock: acked.append(title)
            except (OSError, http.client.HTTPException):
                return
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads: t.start()
    time.sleep(random.uniform(0.3, 2.0))
    process.send_signal(signal.SIGKILL); process.wait()
    stop.set()
    for t in threads: t.join()
    process = start()
    db = sqlite3.connect(f"file:{data}/triggerbase.db?mode=ro", uri=True)
    deadline = time.time() + 60
    while unfinished(db) and time.time() < deadline: time.sleep(0.05)
    titles = {row[0] for row in db.execute("select title from posts where id > ?", (last_post,))}
    missing = [t for t in acked if t not in titles]
    # Posts of this round (ids above the last round's); earlier ones were checked already.
    no_execution = db.execute("""select count(*) from posts p left join
                                 (select json_extract(context, '$.data.id') as post, count(*) as n from executions
                                  where key = 'logPost' and id > ? group by post) e
                                 on e.post = p.id where p.id > ? and coalesce(e.n, 0) <> 1""", (last_execution, last_post)).fetchone()[0]
    last_post = db.execute("select coalesce(max(id), 0) from posts").fetchone()[0]
    last_execution = db.execute("select coalesce(max(id), 0) from executions").fetchone()[0]
    left = unfinished(db)
    duplicated = db.execute("select count(*) from (select postId from logs group by postId having count(*) > 1)").fetchone()[0]
    posts, logs = db.execute("select count(*) from posts").fetchone()[0], db.execute("select count(*) from logs").fetchone()[0]
    db.close()
    ok = not missing and not no_execution and not left and not duplicated and posts == logs
    failures += 0 if ok else 1
    acked_total += acked
    print(f"round {round_number:2}: {len(acked):5} acked creates, {posts:6} posts, {logs:6} logs | missing {len(missing)}, "
          f"posts without exactly one execution {no_execution}, unfinished {left}, duplicated logs {duplicated} | {'ok' if ok else 'FAILED'}", flush=True)
process.send_signal(signal.SIGTERM); process.wait()
print(f"total: {rounds} SIGKILL rounds, {len(acked_total)} acknowledged creates, {failures} failed rounds")
sys.exit(1 if failures else 0)
PY

# Disk full: the database on an 8 MiB tmpfs, filled up while the server runs.
if [ "$(id -u)" -ne 0 ]; then echo "disk-full case skipped (needs root to mount a tmpfs)"; exit 0; fi
SMALL="$WORK/small"; mkdir -p "$SMALL"
mount -t tmpfs -o size=8m tmpfs "$SMALL" || { echo "disk-full case skipped (cannot mount a tmpfs here)"; exit 0; }
trap 'kill "${TB_PID:-0}" 2>/dev/null; wait 2>/dev/null; umount "$SMALL" 2>/dev/null; cleanup' EXIT
start_triggerbase "$BIN" "$PORT" "$SMALL/data" --seed "$ROOT/bench/trigger.seed.json"
URL="http://127.0.0.1:$PORT/api"
AUTH=(-H "Authorization: Bearer tb_bench_member_0123456789abcdef" -H "X-Role: member")
create() { curl -s -o "$WORK/answer" -w '%{http_code}' "${AUTH[@]}" -X POST -d '{"title":"disk","category":1}' "$URL/posts:create?triggerWorkflows=logPost"; }
[ "$(create)" = 200 ] || { echo "disk-full: the first create failed"; exit 1; }
dd if=/dev/zero of="$SMALL/filler" bs=64k 2>/dev/null || true      # fills the tmpfs
full=0; for _ in $(seq 200); do status=$(create); [ "$status" = 503 ] && { full=1; break; }; done
code=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["errors"][0]["code"])' "$WORK/answer" 2>/dev/null || echo "?")
read_status=$(curl -s -o /dev/null -w '%{http_code}' "${AUTH[@]}" "$URL/posts:list?pageSize=1")
alive=$(kill -0 "$TB_PID" 2>/dev/null && echo yes || echo no)
rm -f "$SMALL/filler"
resumed=0; for _ in $(seq 50); do [ "$(create)" = 200 ] && { resumed=1; break; }; sleep 0.1; done
echo "disk full: writes answered 503 $code: $([ $full = 1 ] && echo yes || echo NO); reads answered $read_status; server alive: $alive; writes resumed after freeing space: $([ $resumed = 1 ] && echo yes || echo NO)"
[ $full = 1 ] && [ "$code" = STORAGE_UNAVAILABLE ] && [ "$read_status" = 200 ] && [ "$alive" = yes ] && [ $resumed = 1 ]
