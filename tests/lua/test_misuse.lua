-- test_misuse.lua: misuse of the slb module and of the slbscript host
-- raises (or is a usage error), names what is wrong, and sends nothing.
-- Run under tests/with_fake.py: the fake's log proves nothing was sent.
package.path = "lua/?.lua;" .. package.path
local T = require "testlib"
local F = require "fake"
local slb = require "slb"

local SLBSCRIPT = assert(os.getenv("SLBSCRIPT"), "SLBSCRIPT is not set")
local EXIT_SCRIPT, EXIT_USAGE = 1, 2

-- Runs slbscript with the fake's key, no region and no profile of the
-- caller's; returns the exit status and stdout and stderr together.
local function slbscript(args)
  local words = {"env -u ALIBABA_CLOUD_SECURITY_TOKEN",
                 "-u ALIBABA_CLOUD_REGION_ID HOME=/nonexistent",
                 "ALIBABA_CLOUD_ACCESS_KEY_ID=" .. F.key_id,
                 "ALIBABA_CLOUD_ACCESS_KEY_SECRET=" .. F.key_secret,
                 T.shell_quote(SLBSCRIPT)}
  for _, word in ipairs(args) do words[#words + 1] = T.shell_quote(word) end
  return T.run(table.concat(words, " "))
end

-- Each group of rows starts with an empty log and ends here: an empty
-- log proves no row of the group sent a request; else it shows which.
local function nothing_sent(group)
  local log = F.log()
  T.eq(#log, 0, group .. ": requests sent")
  for _, entry in ipairs(log) do
    local params = {}
    for name, value in pairs(entry.params) do
      params[#params + 1] = name .. "=" .. value:sub(1, 40)
    end
    table.sort(params)
    io.stderr:write("  sent: ", entry.action, " ",
                    table.concat(params, " "), "\n")
  end
  F.clear()
end

local function has_all(text, parts, what)
  for _, part in ipairs(parts) do
    T.check(text:find(part, 1, true), ("%s: message %q lacks %q"):format(
      what, text, part))
  end
end

-- Misuse of the module. Each row: a chunk, and the substrings its error
-- must hold. Argument numbers are as the caller counts them: the id of
-- slb.delete_cert(id) is argument #1, as it is for c:delete_cert(id).
local module_rows = {
  {lua = [[slb.delete_cert(nil)]],
   msg = {"bad argument #1 to 'delete_cert'",
          "certificate id must be a string, got nil"}},
  {lua = [[slb.delete_cert({})]],
   msg = {"bad argument #1 to 'delete_cert'",
          "certificate id must be a string, got table"}},
  {lua = [[slb.delete_cert(42)]],
   msg = {"bad argument #1 to 'delete_cert'",
          "certificate id must be a string, got number"}},
  {lua = [[slb.delete_cert("")]],
   msg = {"bad argument #1 to 'delete_cert'",
          "certificate id must be 1 to 256 bytes, got 0"}},
  {lua = [[slb.delete_cert(("x"):rep(1024 * 1024))]],
   msg = {"bad argument #1 to 'delete_cert'",
          "certificate id must be 1 to 256 bytes, got 1048576"}},
  {lua = [[slb.delete_cert("a\0b")]],
   msg = {"bad argument #1 to 'delete_cert'",
          "certificate id contains a zero byte"}},
  {lua = [[slb.delete_cert("x", 5)]],
   msg = {"bad argument #2 to 'delete_cert'", "table expected, got number"}},
  {lua = [[slb.delete_cert("x", {region = "no such/region"})]],
   msg = {"bad argument #2 to 'delete_cert'",
          "invalid region id 'no such/region'"}},
  {lua = [[slb.delete_cert("x", {region = 5})]],
   msg = {"bad argument #2 to 'delete_cert'",
          "option 'region' must be a string"}},
  {lua = [[slb.describe_certs(5)]],
   msg = {"bad argument #1 to 'describe_certs'",
          "table expected, got number"}},
  {lua = [[slb.describe_certs({region = "cn hangzhou"})]],
   msg = {"bad argument #1 to 'describe_certs'",
          "invalid region id 'cn hangzhou'"}},
  {lua = [[slb.call()]],
   msg = {"bad argument #1 to 'call'", "string expected, got no value"}},
  {lua = [[slb.call({})]],
   msg = {"bad argument #1 to 'call'", "string expected, got table"}},
  {lua = [[slb.call(1)]], msg = {"action '1' is not an SLB action"}},
  {lua = [[slb.call("not an action", {})]],
   msg = {"action 'not an action' is not an SLB action"}},
  {lua = [[slb.call("DescribeRegions", "x")]],
   msg = {"bad argument #2 to 'call'", "table expected, got string"}},
  {lua = [[slb.call("DescribeRegions", {Bad = function() end})]],
   msg = {"bad argument #2 to 'call'",
          "parameter 'Bad' is a function, which has no string form"}},
  {lua = [[slb.call("DescribeRegions", {Signature = "x"})]],
   msg = {"'Signature' is set by the client"}},
  {lua = [[slb.call("DescribeRegions", {}, "x")]],
   msg = {"bad argument #3 to 'call'", "table expected, got string"}},
  {lua = [[slb.call("DescribeRegions", {}, {region = "no such/region"})]],
   msg = {"bad argument #3 to 'call'", "invalid region id 'no such/region'"}},
  {lua = [[slb.call("DescribeRegions", {RegionId = "cn-hangzhou"},
                    {region = "eu-central-1"})]],
   msg = {"RegionId 'cn-hangzhou' differs from the call's region " ..
          "'eu-central-1'"}},
  {lua = [[slb.client("x")]],
   msg = {"bad argument #1 to 'client'", "table expected, got string"}},
  {lua = [[slb.client{timeout = "x"}]],
   msg = {"bad argument #1 to 'client'", "option 'timeout' must be a number"}},
  {lua = [[slb.client{timeout = 0}]],
   msg = {"bad argument #1 to 'client'", "option 'timeout' must be from"}},
  {lua = [[slb.client{retries = 101}]],
   msg = {"bad argument #1 to 'client'", "option 'retries' must be from"}},
  {lua = [[slb.client{bogus = 1}]],
   msg = {"bad argument #1 to 'client'", "unknown option 'bogus'"}},
  {lua = [[slb.client{signature = "v2"}]],
   msg = {"bad argument #1 to 'client'",
          "option 'signature' must be v1 or v3, not 'v2'"}},
  {lua = [[slb.client{dry_run = "yes"}]],
   msg = {"bad argument #1 to 'client'",
          "option 'dry_run' must be a boolean"}},
  {lua = [[slb.client{on_attempt = 5}]],
   msg = {"bad argument #1 to 'client'",
          "option 'on_attempt' must be a function"}},
  {lua = [[slb.client{region = "no such/region"}]],
   msg = {"bad argument #1 to 'client'",
          "invalid region id 'no such/region'"}},
  {lua = [[slb.configure(5)]],
   msg = {"bad argument #1 to 'configure'", "table expected, got number"}},
  {lua = [[slb.configure{bogus = 1}]],
   msg = {"bad argument #1 to 'configure'", "unknown option 'bogus'"}},
  {lua = [[slb.sign(nil, "secret")]],
   msg = {"bad argument #1 to 'sign'", "params must be a table, got nil"}},
  {lua = [[slb.sign({}, nil)]],
   msg = {"bad argument #2 to 'sign'", "secret must be a string, got nil"}},
  {lua = [[slb.sign({}, "secret", "PUT")]],
   msg = {"bad argument #3 to 'sign'",
          "method must be GET or POST, not 'PUT'"}},
  {lua = [[slb.sign_v3(nil)]],
   msg = {"bad argument #1 to 'sign_v3'", "table expected, got nil"}},
  {lua = [[slb.sign_v3{}]],
   msg = {"bad argument #1 to 'sign_v3'",
          "field 'secret' must be a string, got nil"}},
  {lua = [[slb.each(nil, print)]],
   msg = {"bad argument #1 to 'each'", "table expected, got nil"}},
  {lua = [[slb.each({}, 5)]],
   msg = {"bad argument #2 to 'each'", "function expected, got number"}},
  {lua = [[slb.each({}, print, {concurrency = 0})]],
   msg = {"bad argument #3 to 'each'",
          "option 'concurrency' must be a whole number from 1 to 10000"}},
  {lua = [[slb.each({}, print, {concurrency = "x"})]],
   msg = {"bad argument #3 to 'each'",
          "option 'concurrency' must be a whole number"}},
  {lua = [[slb.each({""}, function(id) slb.delete_cert(id) end,
                    {concurrency = 2})]],
   msg = {"bad argument #1 to 'delete_cert'",
          "certificate id must be 1 to 256 bytes, got 0"}},
  {lua = [[slb.json_decode(nil)]],
   msg = {"bad argument #1 to 'json_decode'", "string expected, got nil"}},
  {lua = [[slb.is_mutating(nil)]],
   msg = {"bad argument #1 to 'is_mutating'", "string expected, got nil"}},
  {lua = [[slb.default_client():delete_cert("")]],
   msg = {"bad argument #1 to 'delete_cert'",
          "certificate id must be 1 to 256 bytes, got 0"}},
  {lua = [[slb.default_client().describe_certs("x")]],
   msg = {"bad argument #1 to 'describe_certs'",
          "slb.client expected, got string"}},
  {lua = [[local c = assert(slb.client{}); c:close(); c:delete_cert("x")]],
   msg = {"attempt to use a closed slb client"}},
}

-- The same rows through the module in this process, against the fake.
local function configure_for_fake()
  slb.configure{endpoint = F.url, region = "cn-hangzhou",
                access_key_id = F.key_id, access_key_secret = F.key_secret,
                retries = 0, log = "quiet"}
end

F.clear()
for _, row in ipairs(module_rows) do
  local what = "module: " .. row.lua
  configure_for_fake()
  local chunk = assert(load(row.lua, "=(row)"))
  local ok, err = pcall(chunk)
  if T.check(not ok, what .. ": did not raise") then
    has_all(tostring(err), row.msg, what)
  end
end
configure_for_fake()
nothing_sent("module")

-- And through the host, as a script would meet them: exit status 1 and
-- the message on stderr, short even when the argument was 1 MB.
for _, row in ipairs(module_rows) do
  local what = "slbscript -e: " .. row.lua
  local status, out = slbscript{"--endpoint", F.url, "--region",
                                "cn-hangzhou", "--retries", "0",
                                "-e", row.lua}
  T.eq(status, EXIT_SCRIPT, what .. ": exit status")
  has_all(out, row.msg, what)
  T.check(#out < 4096, what .. ": error output of " .. #out .. " bytes")
end
nothing_sent("slbscript -e")

-- Misuse of the host. Each row: the arguments after the fake's endpoint
-- and region (all = true: the whole command line), the script (default:
-- one that sends a request), the exit status and the substrings of the
-- message; a usage error points to --help.
local CALL = {"-e", "assert(slb.describe_certs())"}
local broken_script = os.tmpname()
do
  local f = assert(io.open(broken_script, "w"))
  f:write("local x = = 1\nassert(slb.describe_certs())\n")
  f:close()
end

local host_rows = {
  {name = "unknown option", args = {"--bogus"},
   status = EXIT_USAGE, msg = {"unknown option '--bogus'"}},
  {name = "option without its value", args = {"--region"}, script = {},
   status = EXIT_USAGE, msg = {"option --region needs a value"}},
  {name = "numeric option without its value", args = {"--timeout"},
   script = {}, status = EXIT_USAGE, msg = {"option --timeout needs a value"}},
  {name = "-e without a chunk", args = {"-e"}, script = {},
   status = EXIT_USAGE, msg = {"-e needs a chunk of Lua"}},
  {name = "no script", args = {}, script = {},
   status = EXIT_USAGE, msg = {"no script given"}},
  {name = "non-numeric --timeout", args = {"--timeout", "abc"},
   status = EXIT_USAGE, msg = {"--timeout: 'abc' is not a number"}},
  {name = "zero --timeout", args = {"--timeout=0"},
   status = EXIT_USAGE,
   msg = {"--timeout: '0' is not a number from 0.001 to 86400"}},
  {name = "non-numeric --retries", args = {"--retries", "x"},
   status = EXIT_USAGE,
   msg = {"--retries: 'x' is not a whole number from 0 to 100"}},
  {name = "negative --retries", args = {"--retries", "-1"},
   status = EXIT_USAGE, msg = {"--retries: '-1' is not a whole number"}},
  {name = "non-numeric --max-deletes", args = {"--max-deletes", "x"},
   status = EXIT_USAGE, msg = {"--max-deletes: 'x' is not a whole number"}},
  {name = "non-numeric --max-time", args = {"--max-time", "soon"},
   status = EXIT_USAGE, msg = {"--max-time needs seconds, got 'soon'"}},
  {name = "--signature v2", args = {"--signature", "v2"},
   status = EXIT_USAGE, msg = {"--signature takes v1 or v3, not 'v2'"}},
  {name = "invalid --region", args = {"--region", "no such/region"},
   status = EXIT_USAGE, msg = {"--region", "'no such/region'"}},
  {name = "missing script file", args = {}, script = {"/nonexistent/x.lua"},
   status = EXIT_USAGE, msg = {"cannot open /nonexistent/x.lua"}},
  {name = "syntax error in the script file", args = {},
   script = {broken_script}, status = EXIT_SCRIPT,
   msg = {broken_script .. ":1: unexpected symbol near '='"}},
  {name = "syntax error in -e", args = {},
   script = {"-e", "x = = 1 assert(slb.describe_certs())"},
   status = EXIT_SCRIPT, msg = {"(command line):1: unexpected symbol"}},
  -- Misuse is the caller's mistake whether or not a client can be built:
  -- with no region anywhere, a bad id still raises.
  {name = "misuse before any client exists", all = true,
   args = {"--endpoint", F.url}, script = {"-e", "slb.delete_cert(nil)"},
   status = EXIT_SCRIPT, msg = {"bad argument #1 to 'delete_cert'"}},
}

for _, row in ipairs(host_rows) do
  local what = "slbscript: " .. row.name
  local args = row.all and {} or {"--endpoint", F.url, "--region",
                                  "cn-hangzhou"}
  for _, a in ipairs(row.args) do args[#args + 1] = a end
  for _, a in ipairs(row.script or CALL) do args[#args + 1] = a end
  local status, out = slbscript(args)
  T.eq(status, row.status, what .. ": exit status")
  has_all(out, row.msg, what)
  if row.status == EXIT_USAGE and row.hint ~= false then
    T.check(out:find("Try 'slbscript --help'.", 1, true),
            what .. ": points to --help")
  end
end
os.remove(broken_script)
nothing_sent("slbscript options")

T.done()
