-- wrk script: replay the signed WeChat secure-mode callbacks written by
-- build/wxgen (one request a line: "<query>\t<body>") as
-- POST /wechat/callback?<query>. Each wrk thread keeps every Nth line
-- (N = WX_THREADS, the -t given to wrk) so threads never send the same
-- MsgId; a thread that runs out of lines starts again from its first one,
-- and those repeats are WeChat retries the gateway answers as duplicates
-- ("wraps" in the summary counts them).
--   WX_REQUESTS=file WX_THREADS=1 wrk -t1 -c32 -d10s -s callbacks_wechat.lua URL
local threads = {}
local nsetup = 0

function setup(thread)
  thread:set("tid", nsetup)
  nsetup = nsetup + 1
  table.insert(threads, thread)
end

function init(args)
  local file = os.getenv("WX_REQUESTS") or error("WX_REQUESTS is not set")
  local n = tonumber(os.getenv("WX_THREADS") or "1")
  queries, bodies = {}, {}
  local i = 0
  for line in io.lines(file) do
    if i % n == tid then
      local tab = line:find("\t", 1, true)
      queries[#queries + 1] = "/wechat/callback?" .. line:sub(1, tab - 1)
      bodies[#bodies + 1] = line:sub(tab + 1)
    end
    i = i + 1
  end
  nlines = #queries
  idx, wraps = 0, 0
  headers = {["Content-Type"] = "text/xml"}
end

function request()
  idx = idx + 1
  if idx > #queries then
    idx, wraps = 1, wraps + 1
  end
  return wrk.format("POST", queries[idx], headers, bodies[idx])
end

function done(summary, latency, requests)
  local wraps, lines = 0, 0
  for _, t in ipairs(threads) do
    wraps = wraps + (t:get("wraps") or 0)
    lines = lines + (t:get("nlines") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    "WRK requests=%d errors=%d non2xx=%d p50_ms=%.3f p99_ms=%.3f rps=%.0f duration_s=%.3f " ..
    "wraps=%d lines=%d\n",
    summary.requests, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6), summary.duration / 1e6, wraps, lines))
end
