-- calls.lua: the slbscript side of the benchmark. The default client
-- comes from slbscript's options (--endpoint, --region, --ca-file) and
-- the ALIBABA_CLOUD_* variables.
--
--   slbscript [options] calls.lua none
--   slbscript [options] calls.lua describe N
--   slbscript [options] calls.lua delete IDS_FILE CONCURRENCY
--
-- none builds the client and stops (the start-up cost to subtract);
-- describe makes N DescribeServerCertificates calls one after another;
-- delete deletes every id in IDS_FILE through slb.each. Any failed call
-- ends the run with status 1.
local slb = require "slb"

local MAX_CALLS = 1000000

local function fail(message)
  io.stderr:write("calls.lua: ", message, "\n")
  os.exit(1)
end

local function read_ids(path)
  local ids = {}
  for line in assert(io.lines(path)) do
    if line ~= "" then ids[#ids + 1] = line end
  end
  return ids
end

local function describe(n)
  for _ = 1, n do
    local certs, err = slb.describe_certs()
    if not certs then fail(tostring(err)) end
  end
end

local function delete(ids, concurrency)
  local failed, first = 0, nil
  slb.each(ids, function(id)
    local res, err = slb.delete_cert(id)
    if not res then
      failed = failed + 1
      first = first or tostring(err)
    end
  end, {concurrency = concurrency})
  if failed > 0 then fail(("%d deletes failed; first: %s"):format(failed,
                                                                 first)) end
end

local mode = arg[1]
local client, err = slb.default_client()
if not client then fail(tostring(err)) end
if mode == "describe" then
  local n = math.tointeger(tonumber(arg[2]))
  if not n or n < 0 or n > MAX_CALLS then fail("describe needs N") end
  describe(n)
elseif mode == "delete" then
  local concurrency = math.tointeger(tonumber(arg[3]))
  if not arg[2] or not concurrency or concurrency < 1 then
    fail("delete needs IDS_FILE CONCURRENCY")
  end
  delete(read_ids(arg[2]), concurrency)
elseif mode ~= "none" then
  fail("usage: calls.lua none | describe N | delete IDS_FILE CONCURRENCY")
end
