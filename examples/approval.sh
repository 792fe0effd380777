#!/usr/bin/env bash
# Record workflows end to end: a server on examples/approval.seed.json (Contensis's
# approvalWorkflow, unchanged, bound to `articles`), then ann (member) and eve (editor) move an
# article draft → submit → decline (the reason is required) → re-submit → approve → published,
# with the history and the global workflow that logs every event. Exits non-zero if anything is off.
#   bash examples/approval.sh             (TRIGGERBASE_BIN=path/to/triggerbase to skip the build)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/triggerbase-approval.XXXXXX)
trap 'kill "${SERVER:-0}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
if [ -z "${TRIGGERBASE_BIN:-}" ]; then
    (cd "$ROOT" && swift build --product triggerbase >&2)
    TRIGGERBASE_BIN="$(cd "$ROOT" && swift build --show-bin-path)/triggerbase"
fi
PORT=${PORT:-13081}
"$TRIGGERBASE_BIN" serve --port "$PORT" --data "$WORK/data" --seed "$ROOT/examples/approval.seed.json" --log-level warning 2>/dev/null &
SERVER=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break; sleep 0.1; done

BASE="http://127.0.0.1:$PORT/api"
ANN=(-H 'Authorization: Bearer tb_example_ann_0123456789abcdef')
EVE=(-H 'Authorization: Bearer tb_example_eve_0123456789abcdef')
say() { printf '\n== %s\n' "$*" >&2; }
fail() { echo "FAILED: $*" >&2; exit 1; }
# call EXPECTED_STATUS curl-args... — prints the body, checks the status.
call() {
    local expected=$1; shift
    local out status
    out=$(curl -sS -w '\n%{http_code}' "$@")
    status=${out##*$'\n'}
    echo "${out%$'\n'*}" >&2
    [ "$status" = "$expected" ] || fail "expected $expected, got $status"
}
state() { python3 -c 'import json,sys; d=json.load(sys.stdin)["data"]; print(d["workflowState"], d["workflowVersion"], d["published"])'; }

say "The definition, as seeded and published (version 1.0)"
curl -sS -H "Authorization: Bearer $(cat "$WORK/data/root.token")" "$BASE/management/workflow/definitions/approvalWorkflow" \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); print("  ", d["id"], d["version"], [s["id"] for s in d["states"]])' >&2

say "ann writes a draft"
call 200 "${ANN[@]}" -X POST -d '{"title":"Hello, workflows","body":"First version"}' "$BASE/articles:create"

say "approving a draft is not allowed (422 EVENT_NOT_ALLOWED)"
call 422 "${ANN[@]}" -X POST -d '{"event":"approve"}' "$BASE/articles/1/workflow/events"

say "ann submits, with the version she saw (1)"
call 200 "${ANN[@]}" -X POST -d '{"event":"draft.submit","version":1,"data":{"message":"Ready for review"}}' "$BASE/articles/1/workflow/events"

say "eve acts on the version she loaded before the submit (1): stale, 409 NotLatestVersion"
call 409 "${EVE[@]}" -X POST -d '{"event":"decline","version":1,"data":{"message":"old view"}}' "$BASE/articles/1/workflow/events"

say "eve declines without a reason (422: the definition's message), then with one"
call 422 "${EVE[@]}" -X POST -d '{"event":"decline"}' "$BASE/articles:invokeWorkflow?filterByTk=1"
call 200 "${EVE[@]}" -X POST -d '{"event":"decline","data":{"message":"Needs a summary"}}' "$BASE/articles:invokeWorkflow?filterByTk=1"

say "ann edits and re-submits; eve approves: publishEntry marks it published"
call 200 "${ANN[@]}" -X POST -d '{"body":"Second version, with a summary"}' "$BASE/articles:update?filterByTk=1"
call 200 "${ANN[@]}" -X POST -d '{"event":"submit","data":{"message":"Summary added"}}' "$BASE/articles/1/workflow/events"
final=$(curl -sS "${EVE[@]}" -X POST -d '{"event":"approve"}' "$BASE/articles/1/workflow/events" | state)
echo "   state, version, published: $final" >&2
[[ "$final" == "versionComplete "*" True" ]] || fail "expected versionComplete and published"

say "The history, oldest first"
curl -sS "${ANN[@]}" "$BASE/articles/1/workflow/history" | python3 -c '
import json, sys
rows = json.load(sys.stdin)["data"]
for r in rows: print("   %-8s %-16s -> %-16s %s" % (r["event"], r["from"], r["to"], r["data"]))
assert [r["event"] for r in rows] == ["submit", "decline", "submit", "approve"], rows' >&2

say "The global workflow on workflowEvent logged every event"
for _ in $(seq 50); do
    n=$(curl -sS -H "Authorization: Bearer $(cat "$WORK/data/root.token")" "$BASE/reviews:list" | python3 -c 'import json,sys; print(json.load(sys.stdin)["meta"]["count"])')
    [ "$n" = 4 ] && break; sleep 0.1
done
curl -sS -H "Authorization: Bearer $(cat "$WORK/data/root.token")" "$BASE/reviews:list?fields=event,note" >&2; echo >&2
[ "$n" = 4 ] || fail "four review rows expected"
echo "ok: the article went draft → awaitingApproval → declined → awaitingApproval → versionComplete (published)" >&2
