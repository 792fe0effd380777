#!/usr/bin/env bash
# Workflows end to end: starts a server on the workflows seed and a small webhook receiver on
# 127.0.0.1:9099, sends the NocoBase document's two requests (as the member ann), and shows what
# fired: X-Workflow-Executions, the executions with their jobs, the audit rows and what the webhook
# received. Exits non-zero if anything is missing.
#   bash examples/workflows.sh            (TRIGGERBASE_BIN=path/to/triggerbase to skip the build)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/triggerbase-example.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT
if [ -z "${TRIGGERBASE_BIN:-}" ]; then
    (cd "$ROOT" && swift build --product triggerbase >&2)
    TRIGGERBASE_BIN="$(cd "$ROOT" && swift build --show-bin-path)/triggerbase"
fi
PORT=${PORT:-13080}

# The webhook receiver: logs each POST (Idempotency-Key and body) as one JSON line.
cat > "$WORK/receiver.py" <<'PY'
import http.server, json, sys
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(sys.argv[1], "a") as log:
            log.write(json.dumps({"path": self.path, "idempotencyKey": self.headers.get("Idempotency-Key"),
                                  "source": self.headers.get("X-Source"), "body": json.loads(body or b"null")}) + "\n")
        self.send_response(200); self.send_header("Content-Type", "application/json"); self.end_headers()
        self.wfile.write(b'{"received":true}')
    def log_message(self, *args): pass
http.server.HTTPServer(("127.0.0.1", 9099), Hook).serve_forever()
PY
python3 "$WORK/receiver.py" "$WORK/hook.log" & PIDS+=($!)
"$TRIGGERBASE_BIN" serve --port "$PORT" --data "$WORK/data" --seed "$ROOT/examples/workflows.seed.json" --log-level warning & PIDS+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break; sleep 0.1; done

BASE="http://127.0.0.1:$PORT/api"
ANN=(-H 'Authorization: Bearer tb_example_ann_0123456789abcdef' -H 'X-Role: member')
ROOT_AUTH=(-H "Authorization: Bearer $(cat "$WORK/data/root.token")")
say() { printf '\n== %s\n' "$*" >&2; }
fail() { echo "FAILED: $*" >&2; exit 1; }

say "1. The document's first request: workflowKey fires on the new post (and the global audit too)"
curl -sS -i "${ANN[@]}" -X POST -d '{"title":"Hello, world!","content":"This is a test post."}' \
    "$BASE/posts:create?triggerWorkflows=workflowKey" | tee "$WORK/first" | grep -iE '^(HTTP|x-workflow)' >&2
grep -qi '^x-workflow-executions: [0-9]*,[0-9]*' "$WORK/first" || fail "two executions expected (workflowKey, audit)"

say "2. The document's second request names workflowKey!category: the key's workflow must be on categories."
echo "   As seeded it is on posts, so it is ignored, and the answer says why:" >&2
curl -sS -i "${ANN[@]}" -X POST -d '{"title":"Hello, world!","content":"This is a test post.","category":{"title":"Test category"}}' \
    "$BASE/posts:create?triggerWorkflows=workflowKey!category" | tee "$WORK/second" | grep -iE '^(HTTP|x-workflow)' >&2
grep -qi '^x-workflows-ignored: workflowKey=collection' "$WORK/second" || fail "expected workflowKey=collection in X-Workflows-Ignored"

say "   Make version 2 of workflowKey on categories (workflows:revision, then update and enable it as root)"
current=$(curl -sS "${ROOT_AUTH[@]}" -G --data-urlencode 'filter={"key":"workflowKey","current":true}' "$BASE/workflows:list" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])')
v2=$(curl -sS "${ROOT_AUTH[@]}" -X POST "$BASE/workflows:revision?filterByTk=$current" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["id"])')
curl -sS "${ROOT_AUTH[@]}" -X POST "$BASE/workflows:update?filterByTk=$v2" -d '{"enabled":true,"config":{"collection":"categories"},
  "nodes":[{"id":"hook","type":"request","config":{"url":"http://127.0.0.1:9099/hook","body":{"event":"category created","title":"{{$context.data.title}}"}}}]}' \
    | python3 -c 'import json,sys; d=json.load(sys.stdin)["data"]; print("   version", d["versionNumber"], "enabled:", d["enabled"], "on", d["config"]["collection"])' >&2
curl -sS -i "${ANN[@]}" -X POST -d '{"title":"Hello, world!","content":"This is a test post.","category":{"title":"Test category 2"}}' \
    "$BASE/posts:create?triggerWorkflows=workflowKey!category" | tee "$WORK/third" | grep -iE '^(HTTP|x-workflow)' >&2
grep -qi '^x-workflows-ignored' "$WORK/third" && fail "workflowKey!category should fire now"

say "3. A wrong path is refused before anything is written"
curl -sS "${ANN[@]}" -X POST -d '{"title":"Never"}' "$BASE/posts:create?triggerWorkflows=workflowKey!nope" >&2; echo >&2

say "4. The executions (async: the dispatcher ran them right after each commit)"
for _ in $(seq 50); do
    left=$(curl -sS "${ROOT_AUTH[@]}" -G --data-urlencode 'filter={"statusName":{"$in":["queued","started"]}}' "$BASE/executions:list" \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["meta"]["count"])')
    [ "$left" = 0 ] && break; sleep 0.1
done
curl -sS "${ROOT_AUTH[@]}" "$BASE/executions:list?appends=jobs&sort=id&fields=id,key,statusName,jobs" | python3 -c '
import json, sys
for e in json.load(sys.stdin)["data"]:
    print("   execution %d %-12s %-9s jobs: %s" % (e["id"], e["key"], e["statusName"], [(j["nodeKey"], j["statusName"]) for j in e["jobs"]]))
    assert e["statusName"] == "resolved", e' >&2

say "5. The audit rows the global workflow wrote, and what the webhook received"
curl -sS "${ROOT_AUTH[@]}" "$BASE/audits:list?fields=message,actor" >&2; echo >&2
cat "$WORK/hook.log" >&2
[ "$(curl -sS "${ROOT_AUTH[@]}" "$BASE/audits:list" | python3 -c 'import json,sys; print(json.load(sys.stdin)["meta"]["count"])')" = 3 ] || fail "three audit rows expected"
[ "$(grep -c '"post created"' "$WORK/hook.log")" = 1 ] && [ "$(grep -c '"category created"' "$WORK/hook.log")" = 1 ] || fail "the webhook should have one post and one category event"
echo "ok: every workflow fired and ran" >&2
