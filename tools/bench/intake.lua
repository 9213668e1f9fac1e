-- wrk script: POST /v1/triggers with a unique idempotency key per request
-- (tools/bench/intake.sh measures with it, tools/bench/sends.sh loads the
-- store with it). Everything is set through the environment:
--
--   BENCH_TOKEN        bearer token with the trigger role
--   BENCH_OCCURRED_AT  occurred_at of every trigger (ISO-8601 with offset)
--   BENCH_MILESTONE    milestone id (material_inspection)
--   BENCH_UNIQUE       1: a new customer (id and mobile) per trigger, so no
--                      two messages share a customer; else 5,000 customers
--                      and 1,000 projects are reused (upserts)
--   BENCH_LIMIT        stop each thread after this many trigger answers;
--                      the thread then writes BENCH_DONE_DIR/done-<n> (wrk
--                      itself runs until -d or SIGINT, so the caller waits
--                      for the files and interrupts it). Requests a thread
--                      makes beyond its limit are GET /healthz, never
--                      triggers, so the number stored is exact.
--   BENCH_RATE         total requests/s over all threads: requests are
--                      scheduled on a fixed timetable (wrk has no rate
--                      option and Debian has no wrk2). Latency is measured
--                      from the actual send, as wrk always does, so a
--                      server that falls behind shows as a lower rate.
--   BENCH_THREADS      the -t given to wrk (to split BENCH_RATE)
--   BENCH_RUN          makes this run's keys unique (default: the time in s)
--
-- done() prints one line: requests, non-2xx/errors, p50/p99 in ms and rps.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } hf_bench_timespec;
  int clock_gettime(int clk, hf_bench_timespec *ts);
]]

local counter = 0
local thread_id = 0
local answered = 0
local bad = 0
local ts = ffi.new("hf_bench_timespec")

local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

-- setup() runs in the main Lua state; thread:set() defines a global in
-- that thread's own state, read below as `prefix` and `tid`.
function setup(thread)
  thread_id = thread_id + 1
  thread:set("prefix", string.format("%s-%d", os.getenv("BENCH_RUN") or tostring(os.time()), thread_id))
  thread:set("tid", thread_id)
end

local body_tpl = '{"idempotency_key":"bench-%s-%d","milestone":"%s",' ..
  '"occurred_at":"%s","project":{"id":"P-%d","address":"上海市浦东新区锦绣路88弄6号"},' ..
  '"customer":{"id":"C-%s","name":"张伟","title":"先生","mobile":"%s"}}'

local occurred = os.getenv("BENCH_OCCURRED_AT") or "2026-11-24T14:00:00+08:00"
local token = os.getenv("BENCH_TOKEN") or "bench-trigger-token-0123456789"
local milestone = os.getenv("BENCH_MILESTONE") or "material_inspection"
local unique = os.getenv("BENCH_UNIQUE") == "1"
local limit = tonumber(os.getenv("BENCH_LIMIT") or "")
local done_dir = os.getenv("BENCH_DONE_DIR") or "."
local rate = tonumber(os.getenv("BENCH_RATE") or "")
local threads = tonumber(os.getenv("BENCH_THREADS") or "2")
local headers = {
  ["Content-Type"] = "application/json",
  ["Authorization"] = "Bearer " .. token,
}

local verified = false

function request()
  if limit and counter >= limit then
    return wrk.format("GET", "/healthz")
  end
  -- wrk calls request() once in the first thread's state before it runs
  -- (script_verify_request, to count pipelined requests) and never sends
  -- that one: it must not count, or BENCH_LIMIT would be off by one.
  local n = counter + 1
  if tid == 1 and not verified then
    verified = true
  else
    counter = n
  end
  local cust, mobile
  if unique then
    -- 13 + 9 digits: the thread in the first digit, the counter after it.
    cust = string.format("%d-%d", tid, n)
    mobile = string.format("13%d%08d", tid, n)
  else
    cust = tostring(n % 5000)
    mobile = "13812345678"
  end
  local body = string.format(body_tpl, prefix, n, milestone, occurred, n % 1000, cust, mobile)
  return wrk.format("POST", "/v1/triggers", headers, body)
end

if limit then
  -- Counting answers needs response(), which makes wrk parse each one:
  -- only in the loading mode.
  function response(status, hdrs, body)
    if answered >= limit or body:sub(1, 10) == '{"status"' then
      return -- a /healthz answer
    end
    answered = answered + 1
    if status < 200 or status > 299 then
      bad = bad + 1
    end
    if answered == limit then
      local f = io.open(string.format("%s/done-%d", done_dir, tid), "w")
      f:write(string.format("answered=%d bad=%d\n", answered, bad))
      f:close()
      wrk.thread:stop()
    end
  end
end

if rate then
  local interval = 1000.0 * threads / rate -- ms between two requests of this thread
  local next_at = nil
  function delay()
    local now = now_ms()
    if next_at == nil or next_at < now - 1000 then
      next_at = now -- start, or a server more than 1 s behind: no burst
    end
    local d = next_at - now
    next_at = next_at + interval
    return d > 0 and math.floor(d) or 0
  end
end

function done(summary, latency, requests)
  io.write(string.format("requests=%d non_2xx_or_errors=%d p50_ms=%.2f p99_ms=%.2f rps=%.0f\n",
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6)))
end
