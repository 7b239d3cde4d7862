-- test_secrets.lua: with a recognisable secret and STS token in the
-- environment, no path of slbscript that prints or writes shows either,
-- raw or percent-encoded. Run under tests/with_fake.py with
-- --key STS.keyid4411:SECRET-CANARY-7f3a91:TOKEN-CANARY-c04e2b.
package.path = "lua/?.lua;" .. package.path
local T = require "testlib"
local F = require "fake"

local SLBSCRIPT = assert(os.getenv("SLBSCRIPT"), "SLBSCRIPT is not set")
local KEY_ID = "STS.keyid4411"
local SECRET = "SECRET-CANARY-7f3a91"
local TOKEN = "TOKEN-CANARY-c04e2b"
-- STS tokens are base64, with '+', '/' and '=' that percent-encoding
-- changes; real ones run to a thousand characters or more.
local B64_TOKEN = TOKEN .. "+c3Rz/dG9r=="
local LONG_TOKEN = TOKEN .. ("+Q2FuYXJ5/dG9rZW4"):rep(60) .. "=="
local IN_USE = "1231579085529123_18c3a1b2c00_1700000000_000000102"
local EXPIRED = "1231579085529123_18c3a1b2c00_1700000000_000000104"

local function percent(s)
  return (s:gsub("[^%w%-_.~]", function(c)
    return ("%%%02X"):format(c:byte())
  end))
end

-- Every form a planted value could leak in, the most telling first:
-- raw, then percent-encoded once and twice where that differs (it does
-- only for the base64 tokens). "CANARY" alone catches a value cut short,
-- which no scrubber of whole values recognises.
local forbidden = {}
for _, planted in ipairs{{"long token", LONG_TOKEN},
                         {"base64 token", B64_TOKEN}, {"token", TOKEN},
                         {"secret", SECRET}} do
  local name, value = planted[1], planted[2]
  local once = percent(value)
  local twice = percent(once)
  forbidden[#forbidden + 1] = {name, value}
  if once ~= value then
    forbidden[#forbidden + 1] = {name .. ", encoded once", once}
    forbidden[#forbidden + 1] = {name .. ", encoded twice", twice}
  end
end
forbidden[#forbidden + 1] = {"part of a planted value", "CANARY"}

-- One check per text: the first form found fails it, with the context.
local function check_clean(text, what)
  for _, form in ipairs(forbidden) do
    local at = text:find(form[2], 1, true)
    if at then
      return T.check(false, ("%s shows the %s at byte %d: %q"):format(
        what, form[1], at, text:sub(math.max(1, at - 60), at + 60)))
    end
  end
  return T.check(true, what)
end

-- The environments of the commands; every one holds the secret and a
-- token. "sts" is the key the fake knows; "wrong" signs with the secret
-- for a key whose secret differs, so the service answers
-- SignatureDoesNotMatch quoting its string to sign, token and all.
local ENV = {
  sts = {id = KEY_ID, token = TOKEN},
  wrong = {id = F.key_id, token = TOKEN},
  wrong_b64 = {id = F.key_id, token = B64_TOKEN},
  wrong_long = {id = F.key_id, token = LONG_TOKEN},
  no_id = {token = TOKEN},
}

local function slbscript(env, args)
  local words = {"env -u ALIBABA_CLOUD_REGION_ID",
                 env.id and "ALIBABA_CLOUD_ACCESS_KEY_ID=" .. env.id or
                   "-u ALIBABA_CLOUD_ACCESS_KEY_ID",
                 "HOME=/nonexistent",
                 "ALIBABA_CLOUD_ACCESS_KEY_SECRET=" .. SECRET,
                 "ALIBABA_CLOUD_SECURITY_TOKEN=" .. T.shell_quote(env.token),
                 T.shell_quote(SLBSCRIPT)}
  for _, word in ipairs(args) do words[#words + 1] = T.shell_quote(word) end
  return T.run(table.concat(words, " "))
end

local FAKE = {"--endpoint", F.url, "--region", "cn-hangzhou",
              "--retries", "1"}

local function with(base, ...)
  local args = {}
  for _, a in ipairs(base) do args[#args + 1] = a end
  for _, a in ipairs{...} do args[#args + 1] = a end
  return args
end

-- A script that prints two failed calls, then raises the first.
local FAILING_CALLS = [[
local _, err = slb.describe_certs()
print("describe: " .. tostring(err))
print("message: " .. err.message)
local _, err2 = slb.delete_cert("]] .. EXPIRED .. [[")
print("delete: " .. tostring(err2))
error(tostring(err))
]]

-- Each row: the environment, the arguments, faults to queue first, the
-- exit status, and text that shows the path was taken (in the output,
-- and in the audit file when the row writes one with --audit).
local rows = {
  {name = "verbose successful calls", env = "sts", audit = true,
   args = with(FAKE, "-v", "-e", [[
     assert(slb.describe_certs())
     assert(slb.delete_cert("]] .. EXPIRED .. [["))]]),
   status = 0,
   shows = {"slb: attempt 1 DescribeServerCertificates", ": ok request="},
   audit_shows = {'"outcome":"ok"'}},
  {name = "verbose successful calls, V3", env = "sts",
   args = with(FAKE, "--signature", "v3", "-v", "-e",
               "assert(slb.describe_certs())"),
   status = 0, shows = {"slb: attempt 1 DescribeServerCertificates"}},
  {name = "verbose failing calls", env = "sts", audit = true,
   faults = '{"kind":"throttle","action":"DescribeServerCertificates"}',
   args = with(FAKE, "-v", "-e", [[
     assert(slb.describe_certs())
     print(select(2, slb.delete_cert("no-such-cert")))
     print(select(2, slb.delete_cert("]] .. IN_USE .. [[")))]]),
   status = 0,
   shows = {"code=Throttling.User", "retrying in",
            "ServerCertificateId.NotFound",
            "CertificateAndPrivateKeyIsRefered"},
   audit_shows = {"ServerCertificateId.NotFound"}},
  {name = "signature mismatch, V1", env = "wrong", audit = true,
   args = with(FAKE, "-v", "-e", FAILING_CALLS), status = 1,
   shows = {"SignatureDoesNotMatch", "SecurityToken%3D***%26"},
   audit_shows = {"SignatureDoesNotMatch"}},
  {name = "signature mismatch, V3", env = "wrong", audit = true,
   args = with(FAKE, "--signature", "v3", "-v", "-e", FAILING_CALLS),
   status = 1, shows = {"SignatureDoesNotMatch", "x-acs-security-token:***"},
   audit_shows = {"SignatureDoesNotMatch"}},
  {name = "signature mismatch, V1, base64 STS token", env = "wrong_b64",
   audit = true, args = with(FAKE, "-v", "-e", FAILING_CALLS), status = 1,
   shows = {"SignatureDoesNotMatch", "SecurityToken%3D***%26"},
   audit_shows = {"SignatureDoesNotMatch"}},
  {name = "signature mismatch, V3, base64 STS token", env = "wrong_b64",
   audit = true, args = with(FAKE, "--signature", "v3", "-v", "-e",
                             FAILING_CALLS), status = 1,
   shows = {"SignatureDoesNotMatch", "x-acs-security-token:***"},
   audit_shows = {"SignatureDoesNotMatch"}},
  {name = "signature mismatch, V1, long STS token", env = "wrong_long",
   audit = true, args = with(FAKE, "-v", "-e", FAILING_CALLS), status = 1,
   shows = {"SignatureDoesNotMatch"},
   audit_shows = {"SignatureDoesNotMatch"}},
  {name = "signature mismatch, V3, long STS token", env = "wrong_long",
   audit = true, args = with(FAKE, "--signature", "v3", "-v", "-e",
                             FAILING_CALLS), status = 1,
   shows = {"SignatureDoesNotMatch"},
   audit_shows = {"SignatureDoesNotMatch"}},
  {name = "a service message quoting the token", env = "sts",
   faults = ('{"kind":"error","code":"Echo","message":"token %s here"}')
            :format(TOKEN),
   args = with(FAKE, "-v", "-e", FAILING_CALLS), status = 1,
   shows = {"Echo: token *** here"}},
  {name = "a service message quoting the token from a URL",
   env = "wrong_b64",
   faults = ('{"kind":"error","code":"Echo","message":"at ?T=%s&X=1"}')
            :format(percent(B64_TOKEN)),
   args = with(FAKE, "-v", "-e", FAILING_CALLS), status = 1,
   shows = {"Echo: at ?T=***&X=1"}},
  {name = "a service message cut off inside the long token",
   env = "wrong_long",
   faults = ('{"kind":"error","code":"Echo","message":"%s%s"}')
            :format(("x"):rep(450), LONG_TOKEN),
   args = with(FAKE, "-v", "-e", FAILING_CALLS), status = 1,
   shows = {"Echo: xxxxx"}},
  {name = "failed calls inside slb.each with concurrency", env = "wrong",
   args = with(FAKE, "-e", [[
     slb.each({"a", "b", "c"}, function(id)
       local _, err = slb.delete_cert(id)
       error(tostring(err))
     end, {concurrency = 3})]]),
   status = 1, shows = {"SignatureDoesNotMatch", "in function 'slb.each'"}},
  {name = "cleanup.lua, signature mismatch", env = "wrong",
   args = with(FAKE, "../scripts/cleanup.lua"), status = 1,
   shows = {"cannot list certificates: SignatureDoesNotMatch"}},
  {name = "cleanup.lua --dry-run", env = "sts", audit = true,
   args = with(FAKE, "--dry-run", "-v", "../scripts/cleanup.lua"),
   status = 0, shows = {"would delete (dry run)", ": dry-run"},
   audit_shows = {'"dry_run":true'}},
  {name = "cleanup.lua --simulate", env = "sts", audit = true,
   args = {"--simulate", "../scripts/demo-inventory.json", "-v",
           "../scripts/cleanup.lua"},
   status = 0, shows = {"summary: deleted"}, audit_shows = {'"outcome"'}},
  {name = "error in a function, with traceback", env = "sts",
   args = {"-e", [[
     local function give_up(why) error("giving up: " .. why) end
     give_up(os.getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET") .. " / " ..
             os.getenv("ALIBABA_CLOUD_SECURITY_TOKEN"))]]},
   status = 1, shows = {"giving up: *** / ***", "in local 'give_up'"}},
  {name = "error(the secret)", env = "sts",
   args = {"-e", [[error(os.getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET"))]]},
   status = 1, shows = {"slbscript: (command line):1: ***"}},
  {name = "error(the long token)", env = "wrong_long",
   args = {"-e", [[error(os.getenv("ALIBABA_CLOUD_SECURITY_TOKEN"), 0)]]},
   status = 1, shows = {"slbscript: ***"}},
  {name = "error object whose __tostring is the secret", env = "sts",
   args = {"-e", [[error(setmetatable({}, {__tostring = function()
     return os.getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET") end}))]]},
   status = 1, shows = {"slbscript: ***"}},
  {name = "on_attempt hook that raises the secret", env = "sts",
   args = with(FAKE, "-e", [[
     local c = assert(slb.client{on_attempt = function()
       error(os.getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET"), 0)
     end})
     assert(c:describe_certs())]]),
   status = 0, shows = {"on_attempt hook failed"}},
  {name = "no answer from the endpoint", env = "sts",
   args = {"--endpoint", "http://127.0.0.1:1", "--region", "cn-hangzhou",
           "--retries", "0", "-v", "-e",
           "error(tostring(select(2, slb.describe_certs())))"},
   status = 1, shows = {"NetworkError"}},
  {name = "no access key id", env = "no_id",
   args = with(FAKE, "-e", "assert(slb.describe_certs())"), status = 1,
   shows = {"NoCredentials"}},
  {name = "--max-time", env = "sts",
   args = {"--max-time", "0.2", "-e", "while true do end"}, status = 3,
   shows = {"--max-time limit reached"}},
  {name = "--help", env = "sts", args = {"--help"}, status = 0,
   shows = {"usage: slbscript"}},
  {name = "--version", env = "sts", args = {"--version"}, status = 0,
   shows = {"slbscript "}},
  {name = "a client, its tostring and info", env = "sts",
   args = with(FAKE, "-e", [[
     local c = assert(slb.client{})
     print(tostring(c))
     local info = c:info()
     for _, k in ipairs{"region", "profile", "credentials", "dry_run",
                        "mutations"} do
       print(k, tostring(info[k]))
     end
     print(tostring(slb.default_client()))]]),
   status = 0, shows = {"slb client (cn-hangzhou)", "credentials\t"}},
}

-- The fake must know the planted key, or the "sts" rows test nothing.
do
  local status, out = slbscript(ENV.sts, with(FAKE, "-e",
                                "assert(slb.describe_certs())"))
  assert(status == 0, "the fake does not accept " .. KEY_ID .. "; run " ..
         "with --key " .. KEY_ID .. ":" .. SECRET .. ":" .. TOKEN .. "\n" ..
         out)
end

local function check_row(row)
  local what = row.name
  local audit = row.audit and os.tmpname()
  local args = row.args
  if audit then args = with({"--audit", audit}, table.unpack(args)) end
  if row.faults then
    F.clear()
    F.faults(row.faults)
  end
  local status, out = slbscript(ENV[row.env], args)
  T.eq(status, row.status, what .. ": exit status")
  for _, part in ipairs(row.shows) do
    T.check(out:find(part, 1, true), what .. ": output has " .. part ..
            ":\n" .. out)
  end
  check_clean(out, what .. ": output")
  if audit then
    local text = T.read(audit)
    os.remove(audit)
    for _, part in ipairs(row.audit_shows) do
      T.check(text:find(part, 1, true), what .. ": audit file has " ..
              part .. ":\n" .. text)
    end
    check_clean(text, what .. ": audit file")
  end
end

for _, row in ipairs(rows) do check_row(row) end

-- A gateway that answers 502 with the request's URL, as some proxies do:
-- the answer is not JSON, so the client quotes its start, and a V1 GET
-- carries the token in its URL. It serves one request (or gives up after
-- 10 s) and exits.
local ECHO_GATEWAY = [[
import http.server, os, sys
class Gateway(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = self.path.encode()
        self.send_response(502)
        self.send_header('Content-Type', 'text/plain')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(('127.0.0.1', 0), Gateway)
server.timeout = 10
with open(sys.argv[1] + '.tmp', 'w') as ready:
    ready.write(str(server.server_address[1]))
os.replace(sys.argv[1] + '.tmp', sys.argv[1])
server.handle_request()
]]

local function start_echo_gateway()
  local ready = os.tmpname()
  os.remove(ready)
  assert(os.execute("python3 -c " .. T.shell_quote(ECHO_GATEWAY) .. " " ..
                    T.shell_quote(ready) .. " </dev/null >/dev/null 2>&1 &"))
  for _ = 1, 200 do
    local f = io.open(ready)
    if f then
      local port = f:read("a")
      f:close()
      os.remove(ready)
      return port
    end
    os.execute("sleep 0.05")
  end
  error("the echo gateway did not start")
end

check_row{name = "a gateway's page quoting the request URL",
          env = "wrong_long",
          args = {"--endpoint", "http://127.0.0.1:" .. start_echo_gateway(),
                  "--region", "cn-hangzhou", "--retries", "0", "-e",
                  "error(tostring(select(2, slb.describe_certs())))"},
          status = 1, shows = {"BadResponse: HTTP 502", "SecurityToken="}}

T.done()
