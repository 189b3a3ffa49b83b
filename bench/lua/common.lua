-- Shared by every wrk script: line files, per-thread random seeds, and a done() printing JSON.
local M = {}

function M.lines(path)
  local items = {}
  for line in io.lines(path) do
    if line ~= "" then items[#items + 1] = line end
  end
  return items
end

local counter = 0
function M.setup(thread)
  counter = counter + 1
  thread:set("thread_no", counter)
end

function M.seed(args)
  math.randomseed(os.time() * 1000 + (thread_no or 0) * 7919 + math.floor(os.clock() * 1e6))
end

function M.done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\nBENCH_JSON {"requests": %d, "duration_us": %d, "rps": %.2f, "p50_ms": %.3f, "p95_ms": %.3f, ' ..
    '"p99_ms": %.3f, "max_ms": %.3f, "errors_connect": %d, "errors_read": %d, "errors_write": %d, ' ..
    '"errors_status": %d, "errors_timeout": %d}\n',
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e.connect, e.read, e.write, e.status, e.timeout))
end

return M
