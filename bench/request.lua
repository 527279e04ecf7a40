-- wrk script for the wardsafe benchmark: one request shape from the environment,
-- a fresh Idempotency-Key per request when BENCH_IDEM=1, non-2xx counted per
-- thread, and one JSON line (prefixed BENCH_JSON) with the figures at the end.
local method = os.getenv("BENCH_METHOD") or "GET"
local path = os.getenv("BENCH_PATH") or "/"
local body = os.getenv("BENCH_BODY")
local token = os.getenv("BENCH_TOKEN")
local idem = os.getenv("BENCH_IDEM") == "1"
local run_id = os.getenv("BENCH_RUN") or "0"
local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("tid", next_id)
  table.insert(threads, thread)
end

function init(args)
  non2xx = 0
  counter = 0
  headers = {}
  if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end
  if body and body ~= "" then headers["Content-Type"] = "application/json" else body = nil end
  if not idem then fixed = wrk.format(method, path, headers, body) end
end

function request()
  if fixed then return fixed end
  counter = counter + 1
  headers["Idempotency-Key"] = string.format("bench-%s-%d-%d", run_id, tid, counter)
  return wrk.format(method, path, headers, body)
end

function response(status, hdrs, resp)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if non2xx == 1 then io.stderr:write("first non-2xx: " .. status .. " " .. resp:sub(1, 300) .. "\n") end
  end
end

function done(summary, latency, requests)
  local n = 0
  for _, thread in ipairs(threads) do n = n + (thread:get("non2xx") or 0) end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, '
      .. '"status": %d, "timeout": %d, "p50_us": %d, "p99_us": %d, "non2xx": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), n))
end
