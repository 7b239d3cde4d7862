-- test_fault_matrix.lua: every fault the fake can play, end to end
-- through the slbscript host: attempts, the code the script saw, the exit
-- status and the wall time. Run under tests/with_fake.py --tls.
package.path = "lua/?.lua;" .. package.path
local T = require "testlib"
local F = require "fake"
local slb = require "slb"

local SLBSCRIPT = assert(os.getenv("SLBSCRIPT"), "SLBSCRIPT is not set")
assert(F.ca, "run under tests/with_fake.py --tls")
local EXPIRED_3_DAYS = "1231579085529123_18c3a1b2c00_1700000000_000000104"

-- Seconds on a clock that never steps back (CLOCK_BOOTTIME, 10 ms steps).
local function now_s()
  local f = io.open("/proc/uptime")
  if not f then return os.time() end
  local uptime = f:read("n")
  f:close()
  return uptime
end

-- Requests to the fake's control port, {method, path, body} each, sent
-- from one python3 (a start costs a quarter second on a busy machine);
-- returns the last answer's body.
local CONTROL = [[
import http.client, os, sys, urllib.parse
ctl = urllib.parse.urlsplit(os.environ['SLB_TEST_CTL'])
conn = http.client.HTTPConnection(ctl.hostname, ctl.port, timeout=30)
args = sys.argv[1:]
for method, path, body in zip(args[0::3], args[1::3], args[2::3]):
    conn.request(method, path,
                 body.encode('utf-8', 'surrogateescape') if body else None)
    answer = conn.getresponse()
    text = answer.read()
    if answer.status != 200:
        sys.exit('%s %s: %d %r' % (method, path, answer.status, text))
sys.stdout.buffer.write(text)
]]

local function control(requests)
  local words = {"python3 -c", T.shell_quote(CONTROL)}
  for _, r in ipairs(requests) do
    for i = 1, 3 do words[#words + 1] = T.shell_quote(r[i] or "") end
  end
  local status, out = T.run(table.concat(words, " "))
  assert(status == 0, "fake control: " .. out)
  return out
end

-- No faults and an empty log, then the row's faults; rows that delete
-- also get the test inventory back.
local function prepare(faults, restore_inventory)
  local requests = {{"DELETE", "/faults"}, {"DELETE", "/log"},
                    {"POST", "/faults", faults}}
  if restore_inventory then
    table.insert(requests, 1, {"POST", "/inventory",
                               T.read("inventory-test.json")})
  end
  control(requests)
end

local function requests_seen(action)
  local n = 0
  for _, entry in ipairs(assert(slb.json_decode(control{{"GET", "/log"}})))
  do
    if entry.action == action then n = n + 1 end
  end
  return n
end

-- Runs slbscript with the fake's key in its environment only; returns
-- the exit status, stdout and stderr together, and the seconds it took.
local function slbscript(options, args)
  local words = {"env -u ALIBABA_CLOUD_SECURITY_TOKEN",
                 "ALIBABA_CLOUD_ACCESS_KEY_ID=" .. F.key_id,
                 "ALIBABA_CLOUD_ACCESS_KEY_SECRET=" .. F.key_secret,
                 T.shell_quote(SLBSCRIPT),
                 "--endpoint", T.shell_quote(F.url),
                 "--ca-file", T.shell_quote(F.ca),
                 "--region cn-hangzhou"}
  for _, word in ipairs(options) do words[#words + 1] = T.shell_quote(word) end
  for _, word in ipairs(args) do words[#words + 1] = T.shell_quote(word) end
  local started = now_s()
  local status, out = T.run(table.concat(words, " "))
  return status, out, now_s() - started
end

local function count_lines(text, pattern)
  local n = 0
  for line in text:gmatch("[^\n]+") do
    if line:find(pattern) then n = n + 1 end
  end
  return n
end

-- The script every row runs: one call; a failure is raised as the
-- error's string, which the host prints as "slbscript: (command line):3:
-- CODE: message".
local SCRIPT = [[
local res, err = %s
if not res then
  error(tostring(err))
end
print("ok")
]]

-- Each row: the faults queued, the call (default: describe_certs), the
-- per-attempt timeout and retries (default 5 s and 2), then what must
-- hold: attempts (log lines and requests the fake saw), the code of the
-- error the script raised (nil: it succeeded), the exit status, the wall
-- time bounds in seconds, and text the host's log must show. A row that
-- deletes starts from the test inventory (mutates = true). The bounds are
-- loose for slow machines yet tight enough to catch a broken limit: two
-- retries back off at most 0.6 s in all, and three 0.5 s attempts at the
-- slow fake end by 2.1 s where waiting it out would take 9 s.
local rows = {
  {name = "throttled twice, then served",
   faults = '{"kind":"throttle","count":2}',
   attempts = 3, status = 0, max_s = 5},
  {name = "throttled past the retries",
   faults = '{"kind":"throttle","count":9}',
   attempts = 3, code = "Throttling.User", status = 1, max_s = 5},
  {name = "throttled with x-acs-retry-after 400 ms",
   faults = '{"kind":"throttle","retry_after_ms":400}',
   attempts = 2, status = 0, min_s = 0.4, max_s = 5,
   log = {"status=400 code=Throttling.User", "retrying in 400 ms"}},
  {name = "HTTP 500 once", faults = '{"kind":"http500"}',
   attempts = 2, status = 0, max_s = 5},
  {name = "HTTP 503 past the retries",
   faults = '{"kind":"http503","count":9}',
   attempts = 3, code = "ServiceUnavailable", status = 1, max_s = 5},
  {name = "connection reset every time",
   faults = '{"kind":"reset","count":9}',
   attempts = 3, code = "NetworkError", status = 1, max_s = 5},
  {name = "HTML 502 from a gateway",
   faults = '{"kind":"html502","count":9}',
   attempts = 3, code = "BadResponse", status = 1, max_s = 5,
   log = {"HTTP 502 with a body that is not JSON"}},
  {name = "empty body", faults = '{"kind":"empty","count":9}',
   attempts = 3, code = "BadResponse", status = 1, max_s = 5,
   log = {"HTTP 200 with an empty body"}},
  {name = "truncated JSON", faults = '{"kind":"truncated","count":9}',
   attempts = 3, code = "BadResponse", status = 1, max_s = 5},
  {name = "body shorter than its Content-Length",
   faults = '{"kind":"short","count":9}',
   attempts = 3, code = "NetworkError", status = 1, max_s = 5},
  {name = "slow past the 0.5 s timeout",
   faults = '{"kind":"slow","delay_ms":3000,"count":9}', timeout = 0.5,
   attempts = 3, code = "Timeout", status = 1, min_s = 1.5, max_s = 6},
  {name = "JSON array is final", faults = '{"kind":"json_array","count":9}',
   attempts = 1, code = "BadResponse", status = 1, max_s = 5,
   log = {"JSON that is not an object"}},
  {name = "wrong JSON types are final",
   faults = '{"kind":"wrong_types","count":9}',
   attempts = 1, code = "BadResponse", status = 1, max_s = 5,
   log = {"no ServerCertificates.ServerCertificate list"}},
  {name = "XML body", faults = '{"kind":"xml","count":9}',
   attempts = 3, code = "BadResponse", status = 1, max_s = 5},
  {name = "5 MB body", faults = '{"kind":"big"}',
   call = 'slb.call("DescribeServerCertificates", {})',
   attempts = 1, status = 0, max_s = 5},
  {name = "delete applied, then the answer lost",
   faults = '{"kind":"reset_after_apply",' ..
            '"action":"DeleteServerCertificate"}',
   call = ('slb.delete_cert(%q)'):format(EXPIRED_3_DAYS),
   action = "DeleteServerCertificate", mutates = true,
   attempts = 2, status = 0, max_s = 5,
   log = {"ServerCertificateId=" .. EXPIRED_3_DAYS ..
          " region=cn-hangzhou: already-deleted request="}},
}

local function check_row(row)
  local what = row.name
  prepare(row.faults, row.mutates)
  local status, out, elapsed = slbscript(
    {"--retries", tostring(row.retries or 2),
     "--timeout", tostring(row.timeout or 5), "-v"},
    {"-e", SCRIPT:format(row.call or "slb.describe_certs()")})
  local action = row.action or "DescribeServerCertificates"
  T.eq(status, row.status, what .. ": exit status")
  T.eq(count_lines(out, "^slb: attempt %d+ " .. action .. " "),
       row.attempts, what .. ": attempts logged")
  T.eq(requests_seen(action), row.attempts,
       what .. ": requests the fake saw")
  if row.code then
    T.check(out:find("slbscript: (command line):3: " .. row.code .. ": ",
                     1, true), what .. ": script raised " .. row.code ..
            ":\n" .. out)
    T.eq(count_lines(out, "^ok$"), 0, what .. ": script did not go on")
  else
    T.eq(count_lines(out, "^ok$"), 1, what .. ": script succeeded:\n" ..
         out)
  end
  for _, part in ipairs(row.log or {}) do
    T.check(out:find(part, 1, true), what .. ": output has " .. part ..
            ":\n" .. out)
  end
  T.check(elapsed <= row.max_s, ("%s: took %.2f s, limit %g s"):format(
    what, elapsed, row.max_s))
  if row.min_s then
    T.check(elapsed >= row.min_s, ("%s: took %.2f s, at least %g s"):format(
      what, elapsed, row.min_s))
  end
end

for _, row in ipairs(rows) do check_row(row) end

-- scripts/cleanup.lua with the service throttling its deletes. The test
-- inventory's cn-hangzhou holds, by id: 101 expired and unused, 102 bound
-- to a listener, 103 used by a domain extension, 104 expired and unused,
-- 105 valid, 106 expired but named keep-*.
local cleanups = {
  {name = "cleanup, deletes throttled past the retries",
   faults = '{"kind":"throttle","count":99,' ..
            '"action":"DeleteServerCertificate"}',
   retries = 1, status = 1, deletes_sent = 8, failed_lines = 4,
   summary = "summary: deleted 0, skipped in use 0, kept by pattern 1, " ..
             "still valid 1, failed 4", max_s = 6},
  {name = "cleanup, first delete throttled twice",
   faults = '{"kind":"throttle","count":2,' ..
            '"action":"DeleteServerCertificate"}',
   retries = 2, status = 0, deletes_sent = 6, failed_lines = 0,
   summary = "summary: deleted 2, skipped in use 2, kept by pattern 1, " ..
             "still valid 1, failed 0", max_s = 6},
}

for _, row in ipairs(cleanups) do
  local what = row.name
  prepare(row.faults, true)
  local status, out, elapsed = slbscript(
    {"--retries", tostring(row.retries), "--timeout", "5"},
    {"../scripts/cleanup.lua", "--keep", "keep-*"})
  T.eq(status, row.status, what .. ": exit status")
  T.eq(count_lines(out, "^summary: "), 1, what .. ": one summary line")
  T.eq(out:match("\n(summary: [^\n]*)"), row.summary, what .. ": summary")
  T.eq(count_lines(out, "^  FAILED [%w_]+: Throttling%.User: "),
       row.failed_lines, what .. ": FAILED lines")
  T.eq(requests_seen("DeleteServerCertificate"), row.deletes_sent,
       what .. ": delete requests the fake saw")
  T.check(elapsed <= row.max_s, ("%s: took %.2f s, limit %g s"):format(
    what, elapsed, row.max_s))
end

T.done()
