#!/usr/bin/env bash
# The posts / categories scenario of the NocoBase document, against a running server:
#   swift run triggerbase serve --seed examples/posts.seed.json     (in one terminal)
#   bash examples/posts.sh                                          (in another)
set -euo pipefail
BASE=${BASE:-http://127.0.0.1:13000/api}
# The root token that the first start wrote (override with TOKEN=...).
TOKEN=${TOKEN:-$(cat "${DATA:-data}/root.token")}
run() { echo "\$ curl $*" >&2; curl -sS -H "Authorization: Bearer $TOKEN" "$@"; echo; echo; }

# Create a post with a new category in one request (nested create, one transaction).
run -X POST -d '{"title":"Hello","content":"Hi there","category":{"title":"Releases"}}' "$BASE/posts:create"
# Link to an existing category by id, and add comments in the same request.
run -X POST -d '{"title":"Second","category":1,"comments":[{"body":"Nice"},{"body":"+1"}]}' "$BASE/posts:create"
# Bulk create: an array makes several records, all or nothing.
run -X POST -d '[{"title":"Bulk A","category":2},{"title":"Bulk B"}]' "$BASE/posts:create"
# List with a relation filter, sort, paging and embedded relations.
run -G --data-urlencode 'filter={"category.title":"News"}' --data-urlencode 'appends=category,comments' \
    --data-urlencode 'sort=-id' --data-urlencode 'pageSize=5' "$BASE/posts:list"
# NocoBase's operators: case-insensitive $includes, and dates compared at the granularity written
# (this year's posts), NULLs last when sorting.
run -G --data-urlencode 'filter={"title":{"$includes":"BULK"},"createdAt":{"$dateOn":"'"$(date -u +%Y)"'"}}' \
    --data-urlencode 'sort=-categoryId' "$BASE/posts:list"
# One record, REST style, and the comments of post 1.
run "$BASE/posts/1?appends=category"
run "$BASE/posts/1/comments:list"
# Update by id and by filter; destroy.
run -X POST -d '{"content":"edited"}' "$BASE/posts:update?filterByTk=1"
run -X POST -d '{"content":"bulk edit"}' "$BASE/posts:update?filter=%7B%22title%22%3A%7B%22%24startsWith%22%3A%22Bulk%22%7D%7D"
run -X POST "$BASE/posts:destroy?filterByTk=3"
# NocoBase's clients: the action comes from the URL, not the method, so a GET with a body creates.
run -X GET -H 'Content-Type: application/json' -d '{"title":"Sent as GET","category":1}' "$BASE/posts:create"
# Find-or-create by a key, and link records through a relation.
run -X POST -d '{"title":"Hello"}' "$BASE/posts:firstOrCreate?filterKeys=title"
run -X POST "$BASE/posts/2/category:set?filterByTk=1"
# Errors are JSON and name the field; nothing is written.
run -X POST -d '{"title":42,"nope":1,"category":999}' "$BASE/posts:create"
run "$BASE/nothing:list"
