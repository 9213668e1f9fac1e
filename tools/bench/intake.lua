-- wrk script: POST /v1/triggers with a unique idempotency key per request.
-- Each wrk thread gets its own prefix so keys never collide across threads.
local counter = 0
local thread_id = 0

-- setup() runs in the main Lua state; thread:set() defines a global in
-- that thread's own state, read below as `prefix`.
function setup(thread)
  thread_id = thread_id + 1
  thread:set("prefix", string.format("%d-%d", thread_id, os.time()))
end

local body_tpl = '{"idempotency_key":"bench-%s-%d","milestone":"material_inspection",' ..
  '"occurred_at":"%s","project":{"id":"P-%d","address":"上海市浦东新区锦绣路88弄6号"},' ..
  '"customer":{"id":"C-%d","name":"张伟","title":"先生","mobile":"13812345678"}}'

local occurred = os.getenv("BENCH_OCCURRED_AT") or "2026-11-24T14:00:00+08:00"
local token = os.getenv("BENCH_TOKEN") or "bench-trigger-token-0123456789"

function request()
  counter = counter + 1
  local body = string.format(body_tpl, prefix, counter, occurred, counter % 1000, counter % 5000)
  return wrk.format("POST", "/v1/triggers", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }, body)
end

function done(summary, latency, requests)
  io.write(string.format("requests=%d non_2xx_or_errors=%d p50_ms=%.2f p99_ms=%.2f rps=%.0f\n",
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6)))
end
