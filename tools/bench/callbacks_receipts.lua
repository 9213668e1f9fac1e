-- wrk script: POST Aliyun SmsReport batches (PROTOCOLS.md C8) to
-- /callbacks/<token>/aliyun/report. Every batch is a JSON array of
-- RECEIPTS_PER_BATCH receipts for messages huifangd never sent (out_id
-- "hf-<huge id>", a unique biz_id), so each receipt is new: it is looked up,
-- stored once as a receipt for an unknown message and the batch is
-- committed before the answer. Each thread uses its own id range.
--   CALLBACK_TOKEN=... RECEIPTS_PER_BATCH=100 wrk -t1 -c32 -d10s -s callbacks_receipts.lua URL
local nsetup = 0

function setup(thread)
  nsetup = nsetup + 1
  thread:set("tid", nsetup)
end

function init(args)
  per = tonumber(os.getenv("RECEIPTS_PER_BATCH") or "100")
  path = "/callbacks/" .. (os.getenv("CALLBACK_TOKEN") or error("CALLBACK_TOKEN is not set")) ..
         "/aliyun/report"
  headers = {["Content-Type"] = "application/json"}
  seq = 0
  base = tid * 1000000000000 + os.time() % 100000 * 10000000
end

local ok_tpl = '{"phone_number":"138%08d","send_time":"2026-11-24 10:00:00",' ..
  '"report_time":"2026-11-24 10:00:05","success":true,"err_code":"DELIVERED",' ..
  '"err_msg":"用户接收成功","sms_size":"1","biz_id":"9%018d^0","out_id":"hf-9%017d"}'
local fail_tpl = '{"phone_number":"138%08d","send_time":"2026-11-24 10:00:00",' ..
  '"report_time":"2026-11-24 10:00:05","success":false,"err_code":"MK:0001",' ..
  '"err_msg":"用户关机","sms_size":"1","biz_id":"9%018d^0","out_id":"hf-9%017d"}'

function request()
  local parts = {}
  for i = 1, per do
    seq = seq + 1
    local id = base + seq
    parts[i] = string.format(seq % 10 == 0 and fail_tpl or ok_tpl, seq % 100000000, id, id)
  end
  return wrk.format("POST", path, headers, "[" .. table.concat(parts, ",") .. "]")
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK requests=%d errors=%d non2xx=%d p50_ms=%.3f p99_ms=%.3f rps=%.0f duration_s=%.3f\n",
    summary.requests, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6), summary.duration / 1e6))
end
