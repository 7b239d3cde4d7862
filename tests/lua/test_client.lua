-- test_client.lua: the client against the fake endpoint, one row per way
-- the service or the network can answer. Run under tests/with_fake.py.
package.path = "lua/?.lua;" .. package.path
local T = require "testlib"
local F = require "fake"

local function describe(c) return c:describe_certs() end
local function call_describe(c)
  return c:call("DescribeServerCertificates", {})
end

-- Each row: faults queued before the call, the call, then what must hold:
-- ok (success or not), attempts, code of the final error, codes seen per
-- attempt, and optional message text and HTTP status.
local rows = {
  {name = "throttled twice, then served",
   faults = '[{"kind":"throttle","count":2}]', call = describe,
   ok = true, attempts = 3,
   seen = {"Throttling.User", "Throttling.User", ""}},
  {name = "throttled with x-acs-retry-after",
   faults = '[{"kind":"throttle","retry_after_ms":300}]', call = describe,
   ok = true, attempts = 2, min_wait_ms = 300},
  {name = "500 once", faults = '[{"kind":"http500"}]', call = describe,
   ok = true, attempts = 2, seen = {"InternalError", ""}},
  {name = "503 past the retries", faults = '[{"kind":"http503","count":9}]',
   call = describe, ok = false, attempts = 4, code = "ServiceUnavailable",
   status = 503, retryable = true},
  {name = "connection reset once", faults = '[{"kind":"reset"}]',
   call = describe, ok = true, attempts = 2, seen = {"NetworkError", ""}},
  {name = "HTML 502 from a gateway",
   faults = '[{"kind":"html502","count":9}]', call = describe, ok = false,
   attempts = 4, code = "BadResponse", status = 502,
   message = {"HTTP 502", "not JSON", "<"}},
  {name = "empty body", faults = '[{"kind":"empty","count":9}]',
   call = describe, ok = false, attempts = 4, code = "BadResponse",
   message = {"empty body"}},
  {name = "truncated JSON", faults = '[{"kind":"truncated","count":9}]',
   call = describe, ok = false, attempts = 4, code = "BadResponse",
   message = {"not JSON"}},
  {name = "body shorter than announced",
   faults = '[{"kind":"short","count":9}]', call = describe, ok = false,
   attempts = 4, code = "NetworkError"},
  {name = "JSON array", faults = '[{"kind":"json_array","count":9}]',
   call = describe, ok = false, code = "BadResponse",
   message = {"not an object"}},
  {name = "wrong JSON types", faults = '[{"kind":"wrong_types"}]',
   call = describe, ok = false, attempts = 1, code = "BadResponse",
   message = {"ServerCertificates"}},
  {name = "XML body", faults = '[{"kind":"xml","count":9}]',
   call = describe, ok = false, code = "BadResponse"},
  {name = "5 MB body", faults = '[{"kind":"big"}]', call = call_describe,
   ok = true, attempts = 1},
  {name = "certificate in use",
   call = function(c)
     return c:delete_cert("1231579085529123_18c3a1b2c00_1700000000_000000102")
   end,
   ok = false, attempts = 1, code = "CertificateAndPrivateKeyIsRefered",
   retryable = false, status = 400},
  {name = "unknown certificate",
   call = function(c) return c:delete_cert("no-such-cert") end,
   ok = false, attempts = 1, code = "ServerCertificateId.NotFound"},
  {name = "parameter error is final",
   faults = '[{"kind":"error","status":400,"code":"InvalidParameter",' ..
            '"message":"bad"}]',
   call = describe, ok = false, attempts = 1, code = "InvalidParameter",
   retryable = false},
}

local function check_row(row)
  F.clear()
  if row.faults then F.faults(row.faults) end
  local c, seen = F.client(row.client)
  local res, err = row.call(c)
  local what = row.name
  T.eq(res ~= nil, row.ok, what .. ": success")
  if row.attempts then T.eq(#seen, row.attempts, what .. ": attempts") end
  if row.code then T.eq(err and err.code, row.code, what .. ": code") end
  if row.status then
    T.eq(err and err.status, row.status, what .. ": status")
  end
  if row.retryable ~= nil then
    T.eq(err and err.retryable, row.retryable, what .. ": retryable")
  end
  for i, code in ipairs(row.seen or {}) do
    T.eq(seen[i] and seen[i].code, code, what .. ": code of attempt " .. i)
  end
  for _, part in ipairs(row.message or {}) do
    T.check(err and err.message:find(part, 1, true),
            what .. ": message has " .. part .. ": " .. tostring(err))
  end
  if row.min_wait_ms then
    T.check(seen[1] and seen[1].retry_in_ms >= row.min_wait_ms,
            what .. ": waited at least the retry-after")
  end
  -- Every attempt reached the fake with its own nonce.
  local nonces, log = {}, F.log()
  for _, entry in ipairs(log) do
    if entry.nonce then
      T.check(not nonces[entry.nonce], what .. ": nonce reused")
      nonces[entry.nonce] = true
    end
  end
  c:close()
end

for _, row in ipairs(rows) do check_row(row) end

-- A slow answer past the per-attempt timeout: bounded total time.
do
  F.clear()
  F.faults('[{"kind":"slow","delay_ms":1500,"count":9}]')
  local c, seen = F.client{timeout = 0.3, retries = 1}
  local started = os.time()
  local res, err = c:describe_certs()
  T.eq(res, nil, "slow: fails")
  T.eq(err.code, "Timeout", "slow: timeout code")
  T.eq(#seen, 2, "slow: attempts")
  T.check(os.time() - started <= 2, "slow: bounded time")
  c:close()
end

-- The client's time limit cuts an attempt short, stops retries, and
-- refuses calls once passed, without sending them.
do
  F.clear()
  F.faults('[{"kind":"slow","delay_ms":3000,"count":9}]')
  local c, seen = F.client{max_time = 0.4, timeout = 10, retries = 5}
  local started = os.time()
  local _, err = c:describe_certs()
  T.eq(err and err.code, "Timeout", "max_time: attempt cut short")
  T.check(os.time() - started <= 2, "max_time: bounded")
  local sent = #F.log()
  _, err = c:describe_certs()
  T.eq(err and err.code, "TimeLimitReached", "max_time: later call refused")
  T.eq(#F.log(), sent, "max_time: refused call not sent")
  c:close()
end

-- A delete whose first attempt landed but whose answer was lost.
do
  F.clear()
  F.faults('[{"kind":"reset_after_apply",' ..
           '"action":"DeleteServerCertificate"}]')
  local c, seen = F.client()
  local id = "1231579085529123_18c3a1b2c00_1700000000_000000104"
  local res, err = c:delete_cert(id)
  T.check(res, "lost answer: reported as success: " .. tostring(err))
  T.eq(res and res.already_deleted, true, "lost answer: already deleted")
  T.eq(#seen, 2, "lost answer: attempts")
  T.eq(F.count("DeleteServerCertificate"), 2, "lost answer: requests")
  -- Without an uncertain attempt before it, not-found stays an error.
  res, err = c:delete_cert(id)
  T.eq(err and err.code, "ServerCertificateId.NotFound",
       "plain not-found is an error")
  c:close()
end

-- A wrong secret is never retried and says so.
do
  F.clear()
  local c, seen = F.client{access_key_secret = "wrong-secret-value"}
  local _, err = c:describe_certs()
  T.eq(err.code, "SignatureDoesNotMatch", "wrong secret: code")
  T.eq(#seen, 1, "wrong secret: one attempt")
  T.check(not tostring(err):find("wrong-secret-value", 1, true),
          "wrong secret: secret not shown")
  c:close()
end

-- STS credentials: the token is signed and sent, under both versions.
for _, version in ipairs{"v1", "v3"} do
  F.clear()
  local c = F.client{access_key_id = "STS.testid",
                     access_key_secret = "stssecret",
                     security_token = "CAIS+sts/token==",
                     signature = version}
  local certs, err = c:describe_certs()
  T.check(certs, "sts " .. version .. ": accepted: " .. tostring(err))
  c:close()
  c = F.client{access_key_id = "STS.testid", access_key_secret = "stssecret",
               security_token = "CAIS+other", signature = version}
  certs, err = c:describe_certs()
  T.eq(err and err.code, "InvalidSecurityToken.Mismatch",
       "sts " .. version .. ": wrong token refused")
  c:close()
end

-- V3 signatures, GET and POST (a large body goes as a form).
do
  F.clear()
  local c = F.client{signature = "v3"}
  T.check(c:describe_certs(), "v3: describe")
  local res, err = c:call("UploadServerCertificate", {
    ServerCertificate = ("A"):rep(6000), PrivateKey = "k",
    ServerCertificateName = "v3 upload"})
  T.check(res and res.ServerCertificateId, "v3: POST upload: " ..
          tostring(err))
  local log = F.log()
  T.eq(log[#log].method, "POST", "v3: large call is a POST")
  T.eq(log[#log].sig, "v3", "v3: signed with v3")
  c:close()
end

-- Dry run: mutating calls never leave the process; reads still do.
do
  F.clear()
  local c = F.client{dry_run = true}
  local certs = assert(c:describe_certs())
  for _, cert in ipairs(certs) do
    local res = assert(c:delete_cert(cert.ServerCertificateId))
    T.eq(res.dry_run, true, "dry run: marked")
  end
  local res = assert(c:call("SetServerCertificateName",
    {ServerCertificateId = certs[1].ServerCertificateId,
     ServerCertificateName = "x"}))
  T.eq(res.dry_run, true, "dry run: generic call marked")
  T.eq(F.count("DeleteServerCertificate"), 0, "dry run: no delete sent")
  T.eq(F.count("SetServerCertificateName"), 0, "dry run: no rename sent")
  T.eq(F.count("DescribeServerCertificates"), 1, "dry run: reads sent")
  c:close()
end

-- The safety limit refuses mutating calls past N without sending them.
do
  F.clear()
  local c = F.client{max_deletes = 1}
  local certs = assert(c:describe_certs())
  local first = c:delete_cert(
    "1231579085529123_18c3a1b2c00_1700000000_000000105")
  T.check(first, "limit: first delete allowed")
  local res, err = c:delete_cert(certs[#certs].ServerCertificateId)
  T.eq(res, nil, "limit: second refused")
  T.eq(err and err.code, "DeleteLimitReached", "limit: code")
  T.eq(F.count("DeleteServerCertificate"), 1, "limit: one delete sent")
  c:close()
end

-- TLS: the self-signed endpoint is refused without its CA, as a TLS
-- failure and not an API error, and accepted with it.
if F.ca then
  F.clear()
  local c, seen = F.client{ca_file = false}
  local res, err = c:describe_certs()
  T.eq(res, nil, "tls: refused without the CA")
  T.eq(err and err.code, "TLSError", "tls: code")
  T.eq(err and err.status, 0, "tls: no HTTP status")
  T.eq(#seen, 1, "tls: not retried")
  T.eq(#F.log(), 0, "tls: nothing reached the service")
  c:close()
  c = F.client()
  T.check(c:describe_certs(), "tls: accepted with the CA")
  c:close()
end

-- Misuse raises and sends nothing.
do
  F.clear()
  local c = F.client()
  T.raises(function() c:delete_cert("") end, "empty id", "1 to 256")
  T.raises(function() c:delete_cert(("x"):rep(1024 * 1024)) end, "1 MB id",
           "1 to 256")
  T.raises(function() c:delete_cert("a\0b") end, "zero byte", "zero byte")
  T.raises(function() c:delete_cert(42) end, "number id",
           "must be a string")
  T.raises(function() c:delete_cert("x", {region = "no such/region"}) end,
           "bad region", "invalid region id")
  T.raises(function() c:call("not an action", {}) end, "bad action",
           "is not an SLB action")
  T.raises(function() c:call("DescribeRegions", {Signature = "x"}) end,
           "reserved parameter", "'Signature' is set by the client")
  T.raises(function()
    c:call("DescribeRegions", {RegionId = "cn-hangzhou"},
           {region = "eu-central-1"})
  end, "conflicting region", "differs")
  T.eq(#F.log(), 0, "misuse: nothing sent")
  c:close()
  T.raises(function() c:describe_certs() end, "closed client", "closed")
end

T.done()
