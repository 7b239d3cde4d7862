-- test_cleanup.lua: scripts/cleanup.lua end to end through slbscript
-- against the fake endpoint (run under tests/with_fake.py --tls): the
-- right certificates go, the in-use ones stay, the summary and exit
-- status are right, live, dry-run, concurrent and simulated alike.
package.path = "lua/?.lua;" .. package.path
local T = require "testlib"
local F = require "fake"
local slb = require "slb"

local HOST = T.shell_quote(assert(os.getenv("SLBSCRIPT")))
local SCRIPT = "../scripts/cleanup.lua"
local KEEP = " --keep 'keep-*'"
local BOTH = " --region cn-hangzhou --region eu-central-1"

local function id(n)
  return "1231579085529123_18c3a1b2c00_1700000000_000000" .. n
end

local function reset()
  F.clear()
  local status, out = T.run("python3 fakectl.py inventory-set " ..
                            "inventory-test.json")
  assert(status == 0, "cannot reset the fake's inventory: " .. out)
end

local function live(host_args, script_args)
  local env = "ALIBABA_CLOUD_ACCESS_KEY_ID=" .. F.key_id ..
              " ALIBABA_CLOUD_ACCESS_KEY_SECRET=" .. F.key_secret .. " "
  return T.run(env .. HOST .. " --endpoint " .. F.url .. " --ca-file " ..
               T.shell_quote(F.ca or "") .. " --region cn-hangzhou " ..
               host_args .. " " .. SCRIPT .. " " .. script_args)
end

local function remaining()
  local _, out = T.run("python3 fakectl.py inventory")
  local inv = assert(slb.json_decode(out))
  local left = {}
  for region, r in pairs(inv.regions) do
    for _, c in ipairs(r.certificates) do
      left[#left + 1] = region .. ":" .. c.ServerCertificateId:sub(-3)
    end
  end
  table.sort(left)
  return table.concat(left, " ")
end

local SUMMARY = "summary: deleted 4, skipped in use 2, kept by pattern 1, " ..
                "still valid 1, failed 0"
local LEFT = "cn-hangzhou:102 cn-hangzhou:103 cn-hangzhou:105 " ..
             "cn-hangzhou:106"

-- Each row: options for the host, for the script, the exit status, the
-- summary line, and what the fake holds afterwards.
local rows = {
  {"live", "", BOTH .. KEEP .. " --expired-for 1", 0, SUMMARY, LEFT},
  {"live, 4 at once", "", BOTH .. KEEP .. " --concurrency 4", 0, SUMMARY,
   LEFT},
  -- A dry run cannot know what the service would refuse as in use.
  {"dry run", "--dry-run", BOTH .. KEEP, 0,
   "summary: would delete 6, skipped in use 0, kept by pattern 1, " ..
   "still valid 1, failed 0", nil},
  {"recent expiry kept", "", " --expired-for 10" .. KEEP, 0,
   "summary: deleted 1, skipped in use 2, kept by pattern 1, " ..
   "still valid 2, failed 0",
   "cn-hangzhou:102 cn-hangzhou:103 cn-hangzhou:104 cn-hangzhou:105 " ..
   "cn-hangzhou:106 eu-central-1:201 eu-central-1:202"},
  {"no keep pattern", "", BOTH, 0,
   "summary: deleted 5, skipped in use 2, kept by pattern 0, " ..
   "still valid 1, failed 0",
   "cn-hangzhou:102 cn-hangzhou:103 cn-hangzhou:105"},
  {"throttled deletes", "", BOTH .. KEEP, 0, SUMMARY, LEFT,
   '[{"kind":"throttle","count":3,"action":"DeleteServerCertificate"}]'},
  {"a delete that keeps failing", "--retries 1", BOTH .. KEEP, 1,
   "summary: deleted 3, skipped in use 2, kept by pattern 1, " ..
   "still valid 1, failed 1",
   "cn-hangzhou:101 cn-hangzhou:102 cn-hangzhou:103 cn-hangzhou:105 " ..
   "cn-hangzhou:106",
   '[{"kind":"http500","count":2,"action":"DeleteServerCertificate"}]'},
  {"bad script option", "", "--expired-for -3", 2, "--expired-for", nil},
}

for _, row in ipairs(rows) do
  local name, host_args, script_args, want_status, want, left, faults =
    table.unpack(row)
  reset()
  local before = remaining()
  if faults then F.faults(faults) end
  local status, out = live(host_args, script_args)
  T.eq(status, want_status, name .. ": exit status\n" .. out)
  T.check(out:find(want, 1, true), name .. ": output has " .. want ..
          "\n" .. out)
  T.eq(remaining(), left or before, name .. ": what the fake holds")
end

-- The dry run sent no delete at all.
reset()
live("--dry-run", BOTH)
T.eq(F.count("DeleteServerCertificate"), 0, "dry run: no delete sent")

-- Simulation gives the same summary as the live run, from the same data.
local status, out = T.run(HOST .. " --simulate inventory-test.json " ..
                          SCRIPT .. BOTH .. KEEP)
T.eq(status, 0, "simulate: status")
T.check(out:find(SUMMARY, 1, true), "simulate: same summary\n" .. out)

T.done()
