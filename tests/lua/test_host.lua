-- test_host.lua: the slbscript host from the outside: options, script
-- sources, arguments, exit statuses, --max-time, logs and the audit file.
-- Needs no network: calls go to the simulator.
package.path = "lua/?.lua;" .. package.path
local T = require "testlib"
local slb = require "slb"

local HOST = T.shell_quote(assert(os.getenv("SLBSCRIPT")))
local INV = "inventory-test.json"

local function host(args, stdin)
  local command = HOST .. " " .. args
  if stdin then
    command = "printf '%s' " .. T.shell_quote(stdin) .. " | " .. command
  end
  return T.run(command)
end

-- Each row: arguments, the exit status, and text the output must hold.
local rows = {
  {"--version", 0, {"slbscript " .. slb.version}},
  {"--help", 0, {"usage: slbscript", "--dry-run", "slb.delete_cert"}},
  {"", 2, {"no script given"}},
  {"--bogus x.lua", 2, {"unknown option '--bogus'"}},
  {"--region", 2, {"--region needs a value"}},
  {"--region 'bad/region' -e ''", 2, {"'bad/region' is not a region id"}},
  {"--timeout abc -e ''", 2, {"--timeout: 'abc' is not a number"}},
  {"--retries -1 -e ''", 2, {"--retries"}},
  {"--max-deletes x -e ''", 2, {"--max-deletes"}},
  {"--signature v2 -e ''", 2, {"v1 or v3, not 'v2'"}},
  {"--max-time 0 -e ''", 2, {"--max-time needs seconds"}},
  {"-e", 2, {"-e needs a chunk"}},
  {"no-such-script.lua", 2, {"cannot open no-such-script.lua"}},
  {"-e 'x = = 1'", 1, {"unexpected symbol"}},
  {"-e 'local function f() error(\"deep failure\") end f()'", 1,
   {"deep failure", "stack traceback", "in local 'f'"}},
  {"-e 'error(setmetatable({}, {__tostring = function() " ..
   "return \"custom object\" end}))'", 1, {"custom object"}},
  {"-e 'os.exit(7)'", 7, {}},
  {"-e 'os.exit(true)'", 0, {}},
  {"-e 'os.exit(false)'", 1, {}},
  {"-e 'print(arg[0], arg[1], arg[2], select(\"#\", ...))' a 'b c'", 0,
   {"-e\ta\tb c\t2"}},
  {"--simulate " .. INV .. " -e 'print(slb.default_client():region())'",
   0, {"cn-hangzhou"}},
  {"--simulate " .. INV .. " --region eu-central-1 -e " ..
   "'print(#slb.describe_certs())'", 0, {"2"}},
  {"--simulate missing.json -e ''", 2,
   {"--simulate: cannot read the inventory file 'missing.json'"}},
  {"--audit /nonexistent/dir/audit.jsonl -e ''", 2,
   {"--audit: cannot open '/nonexistent/dir/audit.jsonl'"}},
  {"-q -e " ..
   "'local c, e = slb.client{simulate = \"missing.json\"} " ..
   "print(c, e.code, e.message)'", 0,
   {"missing.json", "cannot open"}},
}

for _, row in ipairs(rows) do
  local status, out = host(row[1])
  T.eq(status, row[2], "slbscript " .. row[1] .. ": exit status")
  for _, part in ipairs(row[3]) do
    T.check(out:find(part, 1, true), ("slbscript %s: output has %q:\n%s")
            :format(row[1], part, out))
  end
end

-- A script from standard input, with arguments after the dash.
local status, out = host("- one two", 'print("stdin", arg[0], ...)')
T.eq(status, 0, "stdin script: status")
T.check(out:find("stdin\t-\tone\ttwo", 1, true), "stdin script: " .. out)

-- Options after the script belong to the script.
local script = os.tmpname()
local f = assert(io.open(script, "w"))
f:write('print(table.concat(arg, ","))\n')
f:close()
status, out = host(script .. " --region x --dry-run")
T.eq(status, 0, "script options: status")
T.check(out:find("--region,x,--dry-run", 1, true), "script options: " ..
        out)
os.remove(script)

-- --max-time stops a runaway script, even one that swallows errors.
for _, chunk in ipairs{"while true do end",
                       "while true do pcall(function() " ..
                       "while true do end end) end"} do
  status, out = host("--max-time 0.3 -e " .. T.shell_quote(chunk))
  T.eq(status, 3, "max-time: exit status for " .. chunk)
  T.check(out:find("--max-time", 1, true), "max-time: message: " .. out)
end

-- Dry run in simulation: the plan is logged, the inventory untouched.
local count_after = [[
  local before = #slb.describe_certs()
  local r = assert(slb.delete_cert(
    "1231579085529123_18c3a1b2c00_1700000000_000000101"))
  print("dry", r.dry_run, before, #slb.describe_certs())
]]
status, out = host("--simulate " .. INV .. " --dry-run -e " ..
                   T.shell_quote(count_after))
T.eq(status, 0, "dry run: status")
T.check(out:find("dry\ttrue\t6\t6", 1, true), "dry run: nothing deleted: "
        .. out)
T.check(out:find("DeleteServerCertificate ServerCertificateId=" ..
                 "1231579085529123_18c3a1b2c00_1700000000_000000101 " ..
                 "region=cn-hangzhou: dry-run", 1, true),
        "dry run: logged: " .. out)

-- The host's safety settings hold for every client of the run: a script
-- cannot turn off --dry-run, leave --simulate, or get a fresh delete
-- budget by making new clients or reconfiguring.
local escape = [[
  slb.configure{log = "quiet", dry_run = false}
  local c = slb.client{dry_run = false, max_deletes = -1}
  local d = slb.client{}
  print("dry", slb.default_client():info().dry_run, c:info().dry_run,
        c:info().credentials)
  print("first", select(2, c:delete_cert("a")) == nil)
  print("second", select(2, c:delete_cert("b")).code)
  print("third", select(2, d:delete_cert("c")).code)
]]
status, out = host("-q --simulate " .. INV .. " --dry-run --max-deletes 1 " ..
                   "-e " .. T.shell_quote(escape))
T.eq(status, 0, "enforced: status")
T.check(out:find("dry\ttrue\ttrue\tsimulation", 1, true),
        "enforced: dry run and simulation stick: " .. out)
T.check(out:find("first\ttrue", 1, true), "enforced: first allowed: " .. out)
T.check(out:find("second\tDeleteLimitReached", 1, true),
        "enforced: budget holds for a client asking for none: " .. out)
T.check(out:find("third\tDeleteLimitReached", 1, true),
        "enforced: budget shared with a new client: " .. out)

-- cleanup.lua leaves alone a certificate whose expiry makes no sense, and
-- prints hostile names escaped, never as lines of their own.
local odd = os.tmpname()
local f2 = assert(io.open(odd, "w"))
f2:write([[{"regions": {"cn-hangzhou": {"certificates": [
  {"ServerCertificateId": "epoch-cert", "ExpireTimeStamp": 1000,
   "ServerCertificateName": "evil\n  keep    forged"},
  {"ServerCertificateId": "seconds-cert", "ExpireTimeStamp": 1900000000,
   "CreateTimeStamp": 1000},
  {"ServerCertificateId": "good-old", "expires_in_days": -30}]}}}]])
f2:close()
status, out = host("-q --simulate " .. odd .. " ../scripts/cleanup.lua")
os.remove(odd)
T.eq(status, 1, "odd expiry: the run reports a failure")
T.check(out:find("epoch-cert  'evil\\x0a  keep    forged'  " ..
                 "ExpireTimeStamp 1000 is before 2000; left alone", 1, true),
        "odd expiry: left alone, name escaped: " .. out)
T.check(not out:find("\n  keep    forged", 1, true),
        "odd expiry: no forged plan line: " .. out)
T.check(out:find("summary: deleted 1, skipped in use 0, kept by pattern " ..
                 "0, still valid 0, failed 2", 1, true),
        "odd expiry: only the plausible one deleted: " .. out)

-- Logging levels: -q is silent on success, -v shows every attempt.
local delete = "slb.delete_cert('1231579085529123_18c3a1b2c00_" ..
               "1700000000_000000101')"
status, out = host("-q --simulate " .. INV .. " -e " ..
                   T.shell_quote(delete))
T.eq(out, "", "quiet: no output")
status, out = host("-v --simulate " .. INV .. " -e " ..
                   T.shell_quote(delete))
T.check(out:find("attempt 1 DeleteServerCertificate", 1, true),
        "verbose: attempt logged: " .. out)

-- The audit file gets one JSON line per mutating call, none for reads.
local audit = os.tmpname()
status, out = host("-q --simulate " .. INV .. " --audit " .. audit ..
                   " -e " .. T.shell_quote(delete ..
                   " slb.delete_cert('nope') slb.describe_certs()"))
T.eq(status, 0, "audit: status")
local entries = {}
for line in io.lines(audit) do
  entries[#entries + 1] = slb.json_decode(line)
end
os.remove(audit)
T.eq(#entries, 2, "audit: two mutating calls")
T.eq(entries[1].action, "DeleteServerCertificate", "audit: action")
T.eq(entries[1].outcome, "ok", "audit: first outcome")
T.eq(entries[1].region, "cn-hangzhou", "audit: region")
T.eq(entries[1].params.ServerCertificateId,
     "1231579085529123_18c3a1b2c00_1700000000_000000101", "audit: params")
T.check(entries[1].request_id ~= "", "audit: request id")
T.check(entries[1].time:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$"),
        "audit: UTC time")
T.eq(entries[2].outcome, "ServerCertificateId.NotFound",
     "audit: failure outcome")

T.done()
