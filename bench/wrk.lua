-- One request shape for wrk, from the environment:
--   BENCH_TOKEN   bearer token (optional)
--   BENCH_IDS     file with one id per line; `__ID__` in the URL path becomes a random one
--   BENCH_BODY    JSON body: the request is a POST with a fresh Idempotency-Key each time
-- `done` prints one machine-readable line: RESULT requests duration_us p50_us p99_us errors.

local token = os.getenv("BENCH_TOKEN")
local body = os.getenv("BENCH_BODY")
local ids_file = os.getenv("BENCH_IDS")
local ids = {}
local counter = 0
local prefix = "bench"
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

function init(args)
  prefix = string.format("bench-%d-%d-%d", os.time(), math.floor(os.clock() * 1000000), thread_number or 0)
  math.randomseed(os.time() * 100 + (thread_number or 0))
  if ids_file then
    for line in io.lines(ids_file) do
      ids[#ids + 1] = line
    end
  end
end

function request()
  local path = wrk.path
  if #ids > 0 then
    path = string.gsub(path, "__ID__", ids[math.random(#ids)])
  end
  local headers = {}
  if token then
    headers["Authorization"] = "Bearer " .. token
  end
  if body then
    counter = counter + 1
    headers["Content-Type"] = "application/json"
    headers["Idempotency-Key"] = prefix .. "-" .. counter
    return wrk.format("POST", path, headers, body)
  end
  return wrk.format("GET", path, headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), e.connect + e.read + e.write + e.timeout + e.status))
end
