#!/usr/bin/env bash
# Workflows end to end, by itself: starts a server on examples/workflows.seed.json (a free port, a
# temporary data folder) and the webhook receiver examples/webhook-receiver.py on 127.0.0.1:9099,
# then, as the member ann: fires the named workflow notify, sends the NocoBase document's two
# requests (triggerWorkflows=workflowKey and workflowKey!category), moves workflowKey to categories
# with a new version, updates a post, and shows what fired: X-Workflow-Executions, the executions
# with their jobs, the audits rows the global workflow wrote and what the webhook received.
# Exits non-zero if anything is missing.
#   bash examples/workflows.sh
#   TRIGGERBASE_BIN=/path/to/triggerbase bash examples/workflows.sh     (skips the swift build)
#   PORT=13080 bash examples/workflows.sh                               (a fixed port)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/triggerbase-example.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
fail() { echo "FAILED: $*" >&2; exit 1; }
say() { printf '\n== %s\n' "$*"; }

if [ -z "${TRIGGERBASE_BIN:-}" ]; then
    (cd "$ROOT" && swift build --product triggerbase >&2) || fail "swift build"
    TRIGGERBASE_BIN="$(cd "$ROOT" && swift build --show-bin-path)/triggerbase"
fi
[ -x "$TRIGGERBASE_BIN" ] || fail "no executable at $TRIGGERBASE_BIN"
PORT=${PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
HOOK=http://127.0.0.1:9099   # the seed's request nodes post here

# The webhook receiver (one JSON line per POST in $WORK/hook.log).
python3 -c 'import socket; socket.create_server(("127.0.0.1", 9099)).close()' 2>/dev/null \
    || fail "port 9099 is in use: the seed's request nodes post to $HOOK, so the receiver must listen there"
python3 "$ROOT/examples/webhook-receiver.py" "$WORK/hook.log" 9099 & PIDS+=($!)
# The server, on the seed.
"$TRIGGERBASE_BIN" serve --port "$PORT" --data "$WORK/data" --seed "$ROOT/examples/workflows.seed.json" \
    --log-level warning 2>"$WORK/server.log" & PIDS+=($!)
for url in "$HOOK/" "http://127.0.0.1:$PORT/health"; do
    for _ in $(seq 100); do curl -sf -o /dev/null "$url" 2>/dev/null && continue 2; sleep 0.1; done
    cat "$WORK/server.log" >&2; fail "$url does not answer"
done
echo "server on port $PORT (data in $WORK/data), webhook receiver on $HOOK"

BASE="http://127.0.0.1:$PORT/api"
ROOT_TOKEN=$(cat "$WORK/data/root.token")
json() { python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"; }
count() { curl -sS -H "Authorization: Bearer $ROOT_TOKEN" "$BASE/$1:list?pageSize=1" | json 'd["meta"]["count"]'; }
# post NAME ARGS... — runs the curl command (shown as run), keeps the whole answer in $WORK/NAME,
# and prints its status line, the workflow headers and the body.
post() {
    local name=$1; shift
    printf '$ curl'; for a in "$@"; do [[ $a =~ ^[A-Za-z0-9_./:=-]+$ ]] && printf ' %s' "$a" || printf " '%s'" "$a"; done; echo
    curl -sS -i "$@" > "$WORK/$name"
    tr -d '\r' < "$WORK/$name" | grep -iE '^(HTTP/|x-workflow)' | sed 's/^/  /'
    tr -d '\r' < "$WORK/$name" | sed -n '/^$/,$p' | sed '1d; s/^/  /'; echo
}
header() { tr -d '\r' < "$WORK/$1" | awk -v h="$(echo "$2" | tr 'A-Z' 'a-z')" 'tolower($0) ~ "^"h": " { sub(/^[^:]*: /, ""); print }'; }
executions() { header "$1" X-Workflow-Executions | tr ',' '\n' | grep -c . || true; }

say "1. The named workflow notify: its request node POSTs the new post to the webhook; the global audit fires too"
post notify -X POST -H 'Authorization: Bearer tb_example_ann_0123456789abcdef' -H 'X-Role: member' \
    -d '{"title": "Notify me", "content": "A post for the webhook."}' "$BASE/posts:create?triggerWorkflows=notify"
[ "$(executions notify)" = 2 ] || fail "notify and audit should each have fired once"
FIRST_POST=$(tr -d '\r' < "$WORK/notify" | sed -n '/^$/,$p' | json 'd["data"]["id"]')

say "2. The NocoBase document's first request (its URL on our port): workflowKey, on posts, fires"
post doc1 -X POST -H 'Authorization: Bearer tb_example_ann_0123456789abcdef' -H 'X-Role: member' -d \
  '{
    "title": "Hello, world!",
    "content": "This is a test post."
  }' \
  "http://localhost:$PORT/api/posts:create?triggerWorkflows=workflowKey"
[ "$(executions doc1)" = 2 ] || fail "workflowKey and audit should each have fired once"

say "3. The document's second request: workflowKey!category makes the post's category the subject, so"
echo "   workflowKey must be a workflow on categories. Version 1 is on posts: it is ignored, and the answer says why."
DOC2=(-X POST -H 'Authorization: Bearer tb_example_ann_0123456789abcdef' -H 'X-Role: member' -d \
  '{
    "title": "Hello, world!",
    "content": "This is a test post.",
    "category": {
      "title": "Test category"
    }
  }'
  "http://localhost:$PORT/api/posts:create?triggerWorkflows=workflowKey!category")
post doc2 "${DOC2[@]}"
[ "$(header doc2 X-Workflows-Ignored)" = "workflowKey=collection" ] || fail "expected X-Workflows-Ignored: workflowKey=collection"
[ "$(executions doc2)" = 1 ] || fail "only the global audit should have fired"

say "   As root, version 2 of workflowKey on categories: workflows:revision copies the current version, update moves and enables it"
V1=$(curl -sS -H "Authorization: Bearer $ROOT_TOKEN" -G --data-urlencode 'filter={"key":"workflowKey","current":true}' \
    "$BASE/workflows:list" | json 'd["data"][0]["id"]')
post revision -X POST -H "Authorization: Bearer $ROOT_TOKEN" "$BASE/workflows:revision?filterByTk=$V1" >/dev/null
V2=$(tr -d '\r' < "$WORK/revision" | sed -n '/^$/,$p' | json 'd["data"]["id"]')
echo "\$ curl -X POST -H 'Authorization: Bearer <root>' '$BASE/workflows:revision?filterByTk=$V1'   -> version id $V2 (disabled copy)"
post update -X POST -H "Authorization: Bearer $ROOT_TOKEN" -d '{"enabled": true, "config": {"collection": "categories"}}' \
    "$BASE/workflows:update?filterByTk=$V2" >/dev/null
tr -d '\r' < "$WORK/update" | sed -n '/^$/,$p' | json '"   version %s of %s: enabled %s, current %s, on %s" % (d["data"]["versionNumber"], d["data"]["key"], d["data"]["enabled"], d["data"]["current"], d["data"]["config"]["collection"])'
echo "   The same second request again:"
post doc2again "${DOC2[@]}"
[ -z "$(header doc2again X-Workflows-Ignored)" ] || fail "workflowKey!category should fire now"
[ "$(executions doc2again)" = 2 ] || fail "workflowKey (on the category) and audit should each have fired once"

say "4. A path that is not a relation is refused before anything is written"
before=$(count posts)
post badpath -X POST -H 'Authorization: Bearer tb_example_ann_0123456789abcdef' -H 'X-Role: member' \
    -d '{"title": "Never"}' "$BASE/posts:create?triggerWorkflows=workflowKey!nope"
grep -q 'INVALID_TRIGGER_PATH' "$WORK/badpath" || fail "expected 400 INVALID_TRIGGER_PATH"
[ "$(count posts)" = "$before" ] || fail "the refused request wrote a post"

say "5. The global audit also fires on update, without being named"
post upd -X POST -H 'Authorization: Bearer tb_example_ann_0123456789abcdef' -H 'X-Role: member' \
    -d '{"content": "Edited."}' "$BASE/posts:update?filterByTk=$FIRST_POST"
[ "$(executions upd)" = 1 ] || fail "audit should have fired once on the update"

say "6. The executions (async: the dispatcher ran each right after its commit)"
for _ in $(seq 100); do
    left=$(curl -sS -H "Authorization: Bearer $ROOT_TOKEN" -G --data-urlencode 'filter={"status":null}' "$BASE/executions:list" | json 'd["meta"]["count"]')
    started=$(curl -sS -H "Authorization: Bearer $ROOT_TOKEN" -G --data-urlencode 'filter={"status":0}' "$BASE/executions:list" | json 'd["meta"]["count"]')
    [ "$left" = 0 ] && [ "$started" = 0 ] && break; sleep 0.1
done
echo "\$ curl -H 'Authorization: Bearer <root>' '$BASE/executions:list?appends=jobs&sort=id'"
curl -sS -H "Authorization: Bearer $ROOT_TOKEN" "$BASE/executions:list?appends=jobs&sort=id" > "$WORK/executions.json"
python3 - "$WORK/executions.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for e in d["data"]:
    subject = e["context"]["data"]
    print("  execution %d  %-11s %-8s subject %-10s %-16r jobs: %s" % (e["id"], e["key"], e["statusName"],
          "post %s" % subject["id"] if "content" in subject else "category %s" % subject["id"], subject["title"],
          ", ".join("%s %s %s" % (j["nodeKey"], j["statusName"], json.dumps(j["result"])[:70]) for j in e["jobs"])))
bad = [e["id"] for e in d["data"] if e["statusName"] != "resolved" or len(e["jobs"]) != 1]
if d["meta"]["count"] != 8 or bad:
    sys.exit("FAILED: expected 8 executions, each resolved with one job (%d; not: %s)" % (d["meta"]["count"], bad))
PY

say "7. The audits rows the global workflow wrote"
echo "\$ curl -H 'Authorization: Bearer <root>' '$BASE/audits:list?sort=id'"
curl -sS -H "Authorization: Bearer $ROOT_TOKEN" "$BASE/audits:list?sort=id" | json '"\n".join("  %(id)s  %(message)s  postId=%(postId)s  actor=%(actor)r" % a for a in d["data"])'
[ "$(count audits)" = 5 ] || fail "five audits rows expected (four creates, one update)"

say "8. What the webhook received"
python3 - "$WORK/hook.log" <<'PY'
import json, sys
hooks = [json.loads(line) for line in open(sys.argv[1])]
for h in hooks:
    print("  POST %s  Idempotency-Key: %s  X-Source: %s  Content-Type: %s\n    %s" % (h["path"], h["headers"].get("Idempotency-Key"),
          h["headers"].get("X-Source"), h["headers"].get("Content-Type"), json.dumps(h["body"])))
def one(path, title):
    found = [h for h in hooks if h["path"] == path and h["body"].get("title") == title]
    if len(found) != 1 or not (found[0]["headers"].get("Idempotency-Key") or "").endswith("-hook"):
        sys.exit("FAILED: expected one POST %s about %r with an Idempotency-Key <executionId>-hook" % (path, title))
one("/hook", "Notify me")
one("/workflowKey", "Hello, world!")
one("/workflowKey", "Test category")
if len(hooks) != 3:
    sys.exit("FAILED: expected 3 webhook calls, got %d" % len(hooks))
PY
echo
echo "ok: every workflow fired, ran and wrote what it should"
