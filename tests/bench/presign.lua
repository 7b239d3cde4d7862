-- presign.lua: a curl config file of pre-signed DeleteServerCertificate
-- requests, one per id, each with its own nonce, signed by slb.sign: the
-- requests the curl floor sends.
--
--   slbscript presign.lua BASE_URL REGION IDS_FILE OUT_FILE
--
-- The key comes from ALIBABA_CLOUD_ACCESS_KEY_ID and _SECRET.
local slb = require "slb"

local base, region, ids_path, out_path = arg[1], arg[2], arg[3], arg[4]
assert(out_path, "usage: presign.lua BASE_URL REGION IDS_FILE OUT_FILE")
local key_id = assert(os.getenv("ALIBABA_CLOUD_ACCESS_KEY_ID"))
local secret = assert(os.getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET"))

local function encode(s)
  return (s:gsub("[^A-Za-z0-9%-_%.~]", function(c)
    return ("%%%02X"):format(c:byte())
  end))
end

local function query(params)
  local names = {}
  for name in pairs(params) do names[#names + 1] = name end
  table.sort(names)
  for i, name in ipairs(names) do
    names[i] = encode(name) .. "=" .. encode(params[name])
  end
  return table.concat(names, "&")
end

-- Unique across runs too: the fake refuses a nonce it has seen.
local run_tag = ("%08x%08x"):format(math.random(0, 0x7fffffff),
                                    math.random(0, 0x7fffffff))
local timestamp = os.date("!%Y-%m-%dT%H:%M:%SZ")
local out = assert(io.open(out_path, "w"))
local n = 0
for id in assert(io.lines(ids_path)) do
  if id ~= "" then
    n = n + 1
    local params = {
      Action = "DeleteServerCertificate", Version = "2014-05-15",
      Format = "JSON", AccessKeyId = key_id, SignatureMethod = "HMAC-SHA1",
      SignatureVersion = "1.0", Timestamp = timestamp,
      SignatureNonce = ("%s-%d"):format(run_tag, n),
      RegionId = region, ServerCertificateId = id,
    }
    params.Signature = slb.sign(params, secret)
    out:write('url = "', base, "?", query(params), '"\n',
              'output = "/dev/null"\n')
  end
end
assert(out:close())
print(n)
