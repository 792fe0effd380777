#!/usr/bin/env bash
# Contract test: runs schemathesis (PyPI) against a release server seeded from examples/, driven by
# the server's own /api/openapi.json, as root, with every check of schemathesis except those that
# need several users or data the run cannot make (listed in --exclude-checks below). Exits non-zero
# on any failure but the one the spec asks for (see the end), on an error, or if the server dies.
#
#   bash bench/schemathesis.sh                    # about 3 minutes (ST_MAX_TIME=150)
#   ST_MAX_TIME=600 bash bench/schemathesis.sh    # longer
#
# Two operations are left out, because they revoke the very token the run uses:
# auth:signOut, and apiKeys:destroy (whose ids include root's own key).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

if ! command -v st >/dev/null 2>&1; then
    echo "installing schemathesis from PyPI ..." >&2
    python3 -m pip install --quiet schemathesis >&2 || die "pip install schemathesis failed"
fi
bin=$(release_binary)
data="$WORK/data"
"$bin" seed "$ROOT/examples/workflows.seed.json" --data "$data" >/dev/null 2>&1 || die "seeding workflows.seed.json failed"
"$bin" seed "$ROOT/examples/approval.seed.json" --data "$data" >/dev/null 2>&1 || die "seeding approval.seed.json failed"
port=$(free_port)
start_triggerbase "$bin" "$port" "$data"
token=$(cat "$data/root.token")

echo "schemathesis $(st --version | awk '{print $NF}') against http://127.0.0.1:$port/api/openapi.json for ${ST_MAX_TIME:-150} s"
st run "http://127.0.0.1:$port/api/openapi.json" \
    --header "Authorization: Bearer $token" \
    --max-time "${ST_MAX_TIME:-150}" --workers 1 --seed "${ST_SEED:-1}" \
    --exclude-operation-id auth.signOut.post --exclude-operation-id apiKeys.destroy.post \
    --checks all --exclude-checks positive_data_acceptance,ignored_auth,use_after_free,ensure_resource_availability,object_level_authorization \
    > "$WORK/st.txt" 2>&1 || true
cat "$WORK/st.txt"

# Three kinds of "schema-violating request accepted" are the specified behaviour, counted apart:
# a request that only adds unknown query parameters (or renames filterByTk into one), since spec 02
# says unknown parameters are ignored; an integral number such as -1.0 for an integer field, since
# JSON has one number type and the server takes 1.0 as 1; and a PUT or PATCH /api/<c>/<id> without a
# field that create requires, since spec 02 makes those the update action, a partial change.
# Every other failure, and any error, fails this script.
failures=$(grep -c '^[0-9]*\. Test Case ID' "$WORK/st.txt" || true)
accepted=$(awk '
    /^_+ [A-Z]+ \/.* _+$/ { method = $2 }
    /Invalid component: parameter `filterByTk` in query - violates `(additionalProperties|required)`/ { n++; next }
    /Invalid component: in body - violates `type` at .*\(was null, became number\)/ { n++; next }
    /Invalid component: Missing required property/ && (method == "PUT" || method == "PATCH") { n++ }
    END { print n + 0 }' "$WORK/st.txt")
errors=$(grep -c 'Runtime Error\|Server Unavailable\|Network Error' "$WORK/st.txt" || true)
echo
echo "schemathesis: $failures failing test cases, $accepted of them specified behaviour (see the script); error lines: $errors"
status=0
[ "$failures" -eq "$accepted" ] || status=1
[ "$errors" -eq 0 ] || status=1
kill -0 "$TB_PID" 2>/dev/null || { echo "the server died during the run" >&2; tail -30 "$WORK/server.log" >&2; exit 1; }
if grep -q '"level":"error"\|Fatal\|crashed' "$WORK/server.log"; then
    echo "the server logged errors:" >&2; grep '"level":"error"\|Fatal\|crashed' "$WORK/server.log" | head -20 >&2; status=1
fi
exit $status
