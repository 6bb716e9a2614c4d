-- wrk script for bench/intake-cpu.sh: POST /api/v1/complaints, every
-- registration different (complainant, order number, respondent), the same
-- shape as `redress-bench intake`. Prints one line the script parses:
--   wrk requests=N rps=R p50_ms=.. p99_ms=.. max_ms=.. non_2xx=B
-- WRK_OFFSET (default 5000000) is the number of the first registration: runs
-- against one server must not overlap.
local subjects = {
  "申请退款被拒绝", "快递一直未送达", "商品与描述不符",
  "Counterfeit headphones", "账号被盗用", "虚假宣传",
}
local threads = {}
local offset = tonumber(os.getenv("WRK_OFFSET") or "5000000")

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  n = 0
  bad = 0
end

function request()
  n = n + 1
  local i = offset + tid * 10000000 + n
  local body = string.format(
    '{"complainant":{"name":"用户%d","email":"user%d@example.com","phone":"138%08d"},'
      .. '"respondent":{"kind":"merchant","id":"shop-%d","name":"商家%d"},'
      .. '"subject":"%s",'
      .. '"description":"订单%d已取消，但商家拒绝退款，快递也没有退回。The merchant refuses a refund for order %d.",'
      .. '"demands":"全额退款"}',
    i, i, i % 100000000, i % 5000, i % 5000, subjects[(i % #subjects) + 1], i, i)
  return wrk.format("POST", "/api/v1/complaints",
    { ["Content-Type"] = "application/json" }, body)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local non2xx = 0
  for _, t in ipairs(threads) do
    non2xx = non2xx + t:get("bad")
  end
  io.write(string.format(
    "wrk requests=%d rps=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f non_2xx=%d socket_errors=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    non2xx,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
