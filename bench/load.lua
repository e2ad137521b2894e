-- wrk script for bench/earn.ts: one scenario, exact accounting of acknowledged earns.
--
--   wrk -t T -c C -d <upper bound> --timeout 120s -s bench/load.lua http://127.0.0.1:PORT -- \
--       MODE TOKENS_FILE DURATION_S AMOUNT THREADS
--
-- MODE: earn   POST /earn for a random user of TOKENS_FILE (one user = the hot-user scenario)
--       mix    90% GET /balance + 10% POST /earn, random users
--       health GET /health (TOKENS_FILE is ignored)
--       notfound  GET /bench-not-found, a 404 that touches no database (TOKENS_FILE is ignored)
--       once   POST /earn once for every user of TOKENS_FILE (thread k takes lines k, k+T, ...)
--
-- Clean stop: wrk's own -d cuts connections with requests in flight, whose earns the server may
-- commit without us seeing the 200. So after DURATION_S, delay() holds every connection back
-- (no new request) and a thread stops itself only once every request it sent has been answered
-- (-d is only an upper bound, for requests lost to a socket error). The counts below are then exact: earn_ok * AMOUNT is the sum of
-- the acknowledged (2xx) credits.
--
-- done() prints one line "BENCH_JSON {...}" that bench/earn.ts parses.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
]]
local tsbuf = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, tsbuf) -- CLOCK_MONOTONIC, shared by all threads
  return tonumber(tsbuf.tv_sec) * 1000 + tonumber(tsbuf.tv_nsec) / 1e6
end

local FOREVER_MS = 1e9

-- main state: keep the thread objects to read their counters in done()
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

-- per-thread counters (globals, read by the main state with thread:get)
sent, received, earn_ok, other_ok, bad_2xx, non2xx, unknown = 0, 0, 0, 0, 0, 0, 0
first_ms, last_ms, codes = 0, 0, ""

local mode, tokens, ntokens, quota, deadline, next_index
local status_counts = {}
local earn_prefix, earn_suffix, balance_prefix, balance_suffix, health_req

function init(args)
  mode = args[1]
  local file, duration_s, amount, nthreads = args[2], tonumber(args[3]), args[4], tonumber(args[5])
  local host = wrk.host .. ":" .. wrk.port
  local body = '{"amount":' .. amount .. '}'
  earn_prefix = "POST /earn HTTP/1.1\r\nHost: " .. host ..
      "\r\nContent-Type: application/json\r\nContent-Length: " .. #body .. "\r\nAuthorization: Bearer "
  earn_suffix = "\r\n\r\n" .. body
  balance_prefix = "GET /balance HTTP/1.1\r\nHost: " .. host .. "\r\nAuthorization: Bearer "
  balance_suffix = "\r\n\r\n"
  local get_path = (mode == "notfound") and "/bench-not-found" or "/health"
  health_req = "GET " .. get_path .. " HTTP/1.1\r\nHost: " .. host .. "\r\n\r\n"

  tokens, ntokens = {}, 0
  if mode ~= "health" and mode ~= "notfound" then
    local line_no = 0
    for line in io.lines(file) do
      if mode ~= "once" or line_no % nthreads == tid then
        ntokens = ntokens + 1
        tokens[ntokens] = line
      end
      line_no = line_no + 1
    end
  end
  quota = (mode == "once") and ntokens or math.huge
  next_index = 1
  math.randomseed(12345 + tid * 7919)
  deadline = (mode == "once") and math.huge or now_ms() + duration_s * 1000
end

-- wrk's main thread sleeps the whole -d even when every thread has stopped, so a stopped
-- thread says so on stdout and bench/earn.ts sends wrk a SIGINT once all of them have.
local stopped = false
local function finish()
  if stopped then return end
  stopped = true
  io.write("BENCH_THREAD_DONE " .. tid .. "\n")
  io.flush()
  wrk.thread:stop()
end

-- called before every request; a huge delay parks the connection for good. A 0 delay promises a
-- request() call a moment later, so `scheduled` (not `sent`) is what the quota is checked on.
local scheduled = 0
function delay()
  if scheduled >= quota or now_ms() >= deadline then
    if sent == received then finish() end
    return FOREVER_MS
  end
  scheduled = scheduled + 1
  return 0
end

-- wrk calls request() once on thread 0, before its event loop, only to inspect the request
-- (script_verify_request): that call sends nothing, so it is not counted and takes no token.
local verified = false

function request()
  if tid == 0 and not verified then
    verified = true
    return health_req
  end
  if sent == 0 then first_ms = now_ms() end
  sent = sent + 1
  if mode == "health" or mode == "notfound" then return health_req end
  if mode == "once" then
    local token = tokens[next_index]
    next_index = next_index + 1
    return earn_prefix .. token .. earn_suffix
  end
  local token = tokens[math.random(ntokens)]
  if mode == "mix" and math.random() >= 0.1 then
    return balance_prefix .. token .. balance_suffix
  end
  return earn_prefix .. token .. earn_suffix
end

function response(status, headers, body)
  received = received + 1
  if status >= 200 and status < 300 then
    if mode == "health" then
      other_ok = other_ok + 1
    elseif body:find('"txId"', 1, true) then
      earn_ok = earn_ok + 1 -- only an earn answers with a txId
    elseif mode == "mix" and body:find('"userId"', 1, true) then
      other_ok = other_ok + 1 -- a balance
    else
      bad_2xx = bad_2xx + 1
    end
  else
    non2xx = non2xx + 1
    -- the only error answer whose request may have been applied: counted so the invariant can bound it
    if status == 503 and body:find("outcome_unknown", 1, true) then unknown = unknown + 1 end
    status_counts[status] = (status_counts[status] or 0) + 1
    local parts = {}
    for code, n in pairs(status_counts) do parts[#parts + 1] = code .. ":" .. n end
    codes = table.concat(parts, ",")
  end
  last_ms = now_ms()
  if received == sent and (received >= quota or last_ms >= deadline) then finish() end
end

function done(summary, latency, requests)
  local t = { sent = 0, received = 0, earn_ok = 0, other_ok = 0, bad_2xx = 0, non2xx = 0, unknown = 0 }
  local first, last, code_list = math.huge, 0, {}
  for _, thread in ipairs(threads) do
    for key, _ in pairs(t) do t[key] = t[key] + thread:get(key) end
    local f, l = thread:get("first_ms"), thread:get("last_ms")
    if f > 0 and f < first then first = f end
    if l > last then last = l end
    local c = thread:get("codes")
    if c ~= "" then code_list[#code_list + 1] = c end
  end
  local e = summary.errors
  local out = {}
  for key, value in pairs(t) do out[#out + 1] = string.format('"%s":%d', key, value) end
  out[#out + 1] = string.format('"elapsed_ms":%.1f', (first < math.huge and last > first) and (last - first) or 0)
  out[#out + 1] = string.format('"wrk_duration_ms":%.1f', summary.duration / 1000)
  out[#out + 1] = string.format('"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d}',
    e.connect, e.read, e.write, e.timeout)
  out[#out + 1] = string.format('"codes":"%s"', table.concat(code_list, ","))
  out[#out + 1] = string.format('"p50_ms":%.3f,"p95_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,"mean_ms":%.3f',
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, latency.mean / 1000)
  io.write("BENCH_JSON {" .. table.concat(out, ",") .. "}\n")
end
