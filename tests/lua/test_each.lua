-- test_each.lua: slb.each runs calls concurrently with the same retry,
-- dry-run, audit and limit behaviour as one at a time. Run under
-- tests/with_fake.py.
package.path = "lua/?.lua;" .. package.path
local T = require "testlib"
local F = require "fake"
local slb = require "slb"

local function ids(n, prefix)
  local list = {}
  for i = 1, n do list[i] = (prefix or "missing-") .. i end
  return list
end

-- Every item runs, each call gets its own answer, order of items kept.
do
  F.clear()
  local c = F.client()
  local got = {}
  local n = slb.each(ids(30), function(id, i)
    local res, err = c:delete_cert(id)
    got[i] = err and err.code
  end, {concurrency = 8})
  T.eq(n, 30, "each: count")
  local all = true
  for i = 1, 30 do
    all = all and got[i] == "ServerCertificateId.NotFound"
  end
  T.check(all, "each: every call answered with its own result")
  T.eq(F.count("DeleteServerCertificate"), 30, "each: 30 requests")
  c:close()
end

-- Throttling is retried inside the coroutines too.
do
  F.clear()
  F.faults('[{"kind":"throttle","count":5}]')
  local c, seen = F.client()
  local codes = {}
  slb.each(ids(10), function(id, i)
    local _, err = c:delete_cert(id)
    codes[i] = err and err.code
  end, {concurrency = 4})
  local throttled = 0
  for _, a in ipairs(seen) do
    if a.code == "Throttling.User" then throttled = throttled + 1 end
  end
  T.eq(throttled, 5, "each: five throttled attempts seen")
  T.eq(#seen, 15, "each: ten calls plus five retries")
  T.eq(codes[10], "ServerCertificateId.NotFound", "each: retried to the end")
  c:close()
end

-- Dry run sends no mutating request, however many run at once.
do
  F.clear()
  local c = F.client{dry_run = true}
  local dry = 0
  slb.each(ids(12), function(id)
    local res = assert(c:delete_cert(id))
    if res.dry_run then dry = dry + 1 end
  end, {concurrency = 6})
  T.eq(dry, 12, "each dry run: all marked")
  T.eq(#F.log(), 0, "each dry run: nothing sent")
  c:close()
end

-- The delete limit counts calls in flight, so concurrency cannot overrun.
do
  F.clear()
  local c = F.client{max_deletes = 3}
  local refused = 0
  slb.each(ids(10), function(id)
    local _, err = c:delete_cert(id)
    if err and err.code == "DeleteLimitReached" then
      refused = refused + 1
    end
  end, {concurrency = 10})
  T.eq(F.count("DeleteServerCertificate"), 3, "each limit: three sent")
  T.eq(refused, 7, "each limit: seven refused")
  c:close()
end

-- The audit trail has one line per mutating call.
do
  F.clear()
  local path = os.tmpname()
  local c = F.client{audit = path}
  slb.each(ids(9), function(id) c:delete_cert(id) end, {concurrency = 3})
  c:close()
  local lines = 0
  for line in io.lines(path) do
    local entry = slb.json_decode(line)
    if entry and entry.action == "DeleteServerCertificate" then
      lines = lines + 1
    end
  end
  os.remove(path)
  T.eq(lines, 9, "each audit: nine lines")
end

-- A rate cap spaces out request starts: 6 at 10 per second take at least
-- half a second (a lower bound only, so a slow machine cannot fail it).
do
  F.clear()
  local c = F.client()
  local function now_ms()
    local pipe = io.popen("date +%s%N")
    local ns = tonumber(pipe:read("a"))
    pipe:close()
    return ns / 1e6
  end
  local started = now_ms()
  slb.each(ids(6), function(id) c:delete_cert(id) end,
           {concurrency = 6, rate = 10})
  local elapsed_ms = now_ms() - started
  T.check(elapsed_ms >= 450, ("each rate: %.0f ms >= 450"):format(
          elapsed_ms))
  c:close()
end

-- Errors: one failing function does not abandon calls in flight, and the
-- first error is raised with its traceback afterwards.
do
  F.clear()
  local c = F.client()
  local finished = 0
  local ok, err = pcall(slb.each, ids(6), function(id, i)
    c:delete_cert(id)
    if i == 2 then error("boom in item two") end
    finished = finished + 1
  end, {concurrency = 3})
  T.eq(ok, false, "each error: raised")
  T.check(tostring(err):find("boom in item two", 1, true),
          "each error: message kept: " .. tostring(err))
  T.check(finished >= 2, "each error: others finished")
  T.raises(function()
    slb.each({1, 2}, function() coroutine.yield() end, {concurrency = 2})
  end, "each: foreign yield", "yielded outside an slb call")
  T.raises(function()
    slb.each({1}, function()
      slb.each({1}, function() end, {concurrency = 2})
    end, {concurrency = 2})
  end, "each: nested", "cannot be nested")
  T.raises(function() slb.each({}, print, {concurrency = 0}) end,
           "each: zero concurrency", "from 1 to 10000")
  T.raises(function() slb.each({}, print, {concurrency = 1.5}) end,
           "each: fractional concurrency", "whole number")
  c:close()
end

T.done()
