-- fake.lua: drives the fake SLB endpoint that with_fake.py started (its
-- addresses are in SLB_TEST_* variables) from Lua tests.
local T = require "testlib"
local slb = require "slb"

local F = {
  endpoint = os.getenv("SLB_TEST_ENDPOINT"),
  scheme = os.getenv("SLB_TEST_SCHEME"),
  ca = os.getenv("SLB_TEST_CA"),
  key_id = os.getenv("SLB_TEST_KEY_ID"),
  key_secret = os.getenv("SLB_TEST_KEY_SECRET"),
}
assert(F.endpoint, "run under tests/with_fake.py")
if F.ca == "" then F.ca = nil end
F.url = F.scheme .. "://" .. F.endpoint

local function ctl(args)
  local status, out = T.run("python3 fakectl.py " .. args)
  assert(status == 0, "fakectl " .. args .. ": " .. out)
  return out
end

function F.faults(json)
  ctl("faults " .. T.shell_quote(json))
end

function F.clear()
  ctl("clear-faults")
  ctl("clear-log")
end

function F.log()
  return assert(slb.json_decode(ctl("log")))
end

function F.count(action, status)
  return tonumber(ctl("count " .. action .. (status and " " .. status or
                                                        "")))
end

-- A client for the fake with quick retries; opts may override anything.
function F.client(opts)
  local o = {endpoint = F.url, ca_file = F.ca, region = "cn-hangzhou",
             access_key_id = F.key_id, access_key_secret = F.key_secret,
             backoff = 0.01, timeout = 5, log = "quiet"}
  -- false removes a setting: {ca_file = false} means no CA file.
  for k, v in pairs(opts or {}) do
    if v == false and k ~= "dry_run" then o[k] = nil else o[k] = v end
  end
  local seen = {}
  o.on_attempt = function(a) seen[#seen + 1] = a end
  local c, err = slb.client(o)
  assert(c, tostring(err))
  return c, seen
end

return F
