-- wrk script: POST the benchmark invoice as JSON, and print a machine-readable summary line.
-- The body comes from $BENCH_BODY (default: invoice.json in the current directory).
local path = os.getenv("BENCH_BODY") or "invoice.json"
local f = assert(io.open(path, "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
-- A webhook's secret, when the server wants one (Capsmith's webhooks do).
local auth = os.getenv("BENCH_AUTH")
if auth and auth ~= "" then
  wrk.headers["Authorization"] = auth
end

-- Called once at the end with the aggregated results. Latencies are in microseconds.
-- errors = socket errors (connect, read, write, timeout) + HTTP statuses >= 400.
function done(summary, latency, requests)
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.timeout + e.status
  io.write(string.format(
    "BENCH requests=%d duration_us=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d errors=%d status_errors=%d socket_errors=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    errors, e.status, e.connect + e.read + e.write + e.timeout))
end
