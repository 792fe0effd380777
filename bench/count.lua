-- Counts 2xx and other responses across wrk threads and prints one RESULT line.
-- With WRK_BODY set, every request is a POST of that JSON body (bench/create.sh);
-- WRK_TOKEN and WRK_ROLE add Authorization and X-Role headers.
local token = os.getenv("WRK_TOKEN")
if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
local role = os.getenv("WRK_ROLE")
if role and role ~= "" then wrk.headers["X-Role"] = role end
local body = os.getenv("WRK_BODY")
if body then
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = body
end
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok = 0; bad = 0 end
function response(status, headers, body)
  if status >= 200 and status < 300 then ok = ok + 1 else bad = bad + 1 end
end
function done(summary, latency, requests)
  local total_ok, total_bad = 0, 0
  for _, t in ipairs(threads) do total_ok = total_ok + t:get("ok"); total_bad = total_bad + t:get("bad") end
  io.write(string.format("RESULT rps=%.0f p50=%.3f p99=%.3f ok=%d bad=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000, total_ok, total_bad))
end
