-- cleanup.lua: delete server certificates that expired more than N days
-- ago, in one or more regions, sparing names that match --keep patterns
-- and any certificate the service says is still in use.
--
--   slbscript [slbscript options] cleanup.lua [--expired-for DAYS]
--       [--region R]... [--all-regions] [--keep GLOB]...
--       [--concurrency N]
--
-- Works the same live, with --dry-run and with --simulate FILE.

local slb = require "slb"

local USAGE = [[
usage: slbscript [options] cleanup.lua [--expired-for DAYS] [--region R]...
                 [--all-regions] [--keep GLOB]... [--concurrency N]
  --expired-for DAYS  only certificates expired more than DAYS ago (0)
  --region R          region to clean (repeatable; default: the client's)
  --all-regions       every region the service lists (DescribeRegions)
  --keep GLOB         never delete names matching GLOB (* and ?; repeatable)
  --concurrency N     deletions in flight at once (default 1)]]

local IN_USE = {
  CertificateAndPrivateKeyIsRefered = "bound to a listener",
  CertificateRelatedDomainExtensionExist = "used by a domain extension",
}

local function usage_error(message)
  io.stderr:write("cleanup.lua: ", message, "\n", USAGE, "\n")
  os.exit(2)
end

local function glob_to_pattern(glob)
  local escaped = glob:gsub("[%^%$%(%)%%%.%[%]%+%-]", "%%%0")
  return "^" .. escaped:gsub("%*", ".*"):gsub("%?", ".") .. "$"
end

local function parse_args(args)
  local o = {expired_for = 0, regions = {}, keep = {}, concurrency = 1}
  local i = 1
  local function value(flag)
    i = i + 1
    if args[i] == nil then usage_error(flag .. " needs a value") end
    return args[i]
  end
  while i <= #args do
    local a = args[i]
    if a == "--expired-for" then
      o.expired_for = tonumber(value(a))
      if not o.expired_for or o.expired_for < 0 then
        usage_error("--expired-for takes a number of days >= 0")
      end
    elseif a == "--region" then
      o.regions[#o.regions + 1] = value(a)
    elseif a == "--all-regions" then
      o.all_regions = true
    elseif a == "--keep" then
      local glob = value(a)
      o.keep[#o.keep + 1] = {glob = glob, pattern = glob_to_pattern(glob)}
    elseif a == "--concurrency" then
      o.concurrency = math.tointeger(tonumber(value(a)))
      if not o.concurrency or o.concurrency < 1 then
        usage_error("--concurrency takes a whole number >= 1")
      end
    elseif a == "-h" or a == "--help" then
      print(USAGE)
      os.exit(0)
    else
      usage_error("unknown argument '" .. a .. "'")
    end
    i = i + 1
  end
  return o
end

local function kept_by(name, keep)
  for _, k in ipairs(keep) do
    if name:find(k.pattern) then return k.glob end
  end
end

local function day(ms)
  return os.date("!%Y-%m-%d", ms // 1000)
end

-- Names and ids come from outside: escape control bytes before printing,
-- so a name cannot forge a line of the plan.
local function printable(s)
  return (tostring(s):gsub("%c", function(c)
    return ("\\x%02x"):format(c:byte())
  end))
end

local YEAR_2000_MS = 946684800000

-- The expiry in milliseconds, or nil and why it cannot be trusted: a
-- certificate is only deleted on an expiry that makes sense.
local function expiry_of(c)
  local expires = c.ExpireTimeStamp
  if math.type(expires) ~= "integer" then
    return nil, "no readable ExpireTimeStamp"
  end
  if expires < YEAR_2000_MS then
    return nil, "ExpireTimeStamp " .. expires .. " is before 2000"
  end
  local created = c.CreateTimeStamp
  if math.type(created) == "integer" and created > expires then
    return nil, "ExpireTimeStamp is before CreateTimeStamp"
  end
  local stated = type(c.ExpireTime) == "string" and
                 c.ExpireTime:match("^(%d%d%d%d%-%d%d%-%d%d)")
  if stated and stated ~= day(expires) and
     stated ~= day(expires - 86400000) and
     stated ~= day(expires + 86400000) then
    return nil, ("ExpireTime %s disagrees with ExpireTimeStamp (%s)")
      :format(stated, day(expires))
  end
  return expires
end

-- Sorts one region's certificates into what to delete and why the rest
-- stay; prints the plan line for each.
local function plan_region(region, certs, o, now_ms, counts)
  local cutoff = now_ms - math.floor(o.expired_for * 86400000)
  local doomed = {}
  table.sort(certs, function(a, b)
    return a.ServerCertificateId < b.ServerCertificateId
  end)
  for _, c in ipairs(certs) do
    local name = c.ServerCertificateName
    if type(name) ~= "string" then name = "" end
    local expires, why = expiry_of(c)
    local glob = kept_by(name, o.keep)
    local id = printable(c.ServerCertificateId)
    name = "'" .. printable(name) .. "'"   -- quoted: spaces show
    if not expires then
      counts.failed = counts.failed + 1
      print(("  error   %s  %s  %s; left alone"):format(id, name,
        printable(why)))
    elseif glob then
      counts.kept = counts.kept + 1
      print(("  keep    %s  %s  matches --keep %s"):format(id, name, glob))
    elseif expires >= cutoff then
      counts.valid = counts.valid + 1
      if expires < now_ms then
        print(("  recent  %s  %s  expired %s, under --expired-for %g days")
          :format(id, name, day(expires), o.expired_for))
      else
        print(("  valid   %s  %s  expires %s"):format(id, name,
          day(expires)))
      end
    else
      doomed[#doomed + 1] = c
      print(("  delete  %s  %s  expired %s"):format(id, name, day(expires)))
    end
  end
  return doomed
end

local function delete_one(c, region, counts)
  local res, err = slb.delete_cert(c.ServerCertificateId, {region = region})
  local id = printable(c.ServerCertificateId)
  if res then
    counts.deleted = counts.deleted + 1
    local how = res.dry_run and "would delete (dry run)" or
      res.already_deleted and "already deleted" or "deleted"
    print(("  %-22s %s  request %s"):format(how, id,
      res.request_id ~= "" and printable(res.request_id) or "-"))
  elseif IN_USE[err.code] then
    counts.in_use = counts.in_use + 1
    print(("  skipped, %s: %s"):format(IN_USE[err.code], id))
  else
    counts.failed = counts.failed + 1
    print(("  FAILED %s: %s"):format(id, printable(err)))
  end
end

local function clean_region(region, o, now_ms, counts)
  local certs, err = slb.describe_certs({region = region})
  if not certs then
    counts.failed = counts.failed + 1
    print(("region %s: cannot list certificates: %s"):format(region,
      printable(err)))
    return
  end
  print(("region %s: %d certificates"):format(region, #certs))
  local doomed = plan_region(region, certs, o, now_ms, counts)
  slb.each(doomed, function(c) delete_one(c, region, counts) end,
           {concurrency = o.concurrency})
end

-- Every region the service lists, for --all-regions.
local function all_regions()
  local answer, err = slb.call("DescribeRegions", {})
  if not answer then
    io.stderr:write("cleanup.lua: cannot list regions: ", printable(err),
                    "\n")
    os.exit(1)
  end
  local regions = {}
  for _, r in ipairs(answer.Regions and answer.Regions.Region or {}) do
    if type(r.RegionId) == "string" then
      regions[#regions + 1] = r.RegionId
    end
  end
  return regions
end

local function main(args)
  local o = parse_args(args)
  local client, err = slb.default_client()
  if not client then
    io.stderr:write("cleanup.lua: ", tostring(err), "\n")
    os.exit(1)
  end
  if o.all_regions then
    for _, r in ipairs(all_regions()) do o.regions[#o.regions + 1] = r end
  end
  if #o.regions == 0 then o.regions[1] = client:region() end
  local counts = {deleted = 0, in_use = 0, kept = 0, valid = 0, failed = 0}
  local now_ms = os.time() * 1000
  local dry = client:info().dry_run
  for _, region in ipairs(o.regions) do
    clean_region(region, o, now_ms, counts)
  end
  print(("summary: %s %d, skipped in use %d, kept by pattern %d, " ..
         "still valid %d, failed %d"):format(
    dry and "would delete" or "deleted", counts.deleted, counts.in_use,
    counts.kept, counts.valid, counts.failed))
  return counts.failed == 0
end

if not main(arg or {...}) then os.exit(1) end
