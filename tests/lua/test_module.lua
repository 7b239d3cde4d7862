-- test_module.lua: the slb module with no network: signing against every
-- vector, flattening, JSON numbers, and misuse raising with a message
-- that names the argument. Runs under slbscript and under lua5.4.
package.path = "lua/?.lua;" .. package.path
local T = require "testlib"
local slb = require "slb"

local function vectors(name)
  return assert(slb.json_decode(T.read("vectors/" .. name))).cases
end

local function without_common(params, nested)
  local p = {}
  for k, v in pairs(params) do
    if not k:find("%.") then p[k] = v end
  end
  for k, v in pairs(nested) do p[k] = v end
  return p
end

for _, file in ipairs{"rpc-v1.json", "rpc-v1-extra.json"} do
  for _, case in ipairs(vectors(file)) do
    local sig, sts = slb.sign(case.params, case.secret, case.method)
    T.eq(sts, case.string_to_sign, case.name .. " string to sign")
    T.eq(sig, case.signature, case.name .. " signature")
    if case.lua_params then
      sig = slb.sign(without_common(case.params, case.lua_params),
                     case.secret, case.method)
      T.eq(sig, case.signature, case.name .. " from nested Lua tables")
    end
  end
end

for _, case in ipairs(vectors("acs3-hmac-sha256.json")) do
  local sig, canonical, auth, hashed = slb.sign_v3{
    method = case.method, query = case.query, headers = case.headers,
    secret = case.secret, access_key_id = case.access_key_id}
  T.eq(canonical, case.canonical_request, case.name .. " canonical")
  T.eq(hashed, case.hashed_canonical_request, case.name .. " hashed")
  T.eq(sig, case.signature, case.name .. " signature")
  T.eq(auth, case.authorization, case.name .. " authorization")
end

-- Values with no quoted form in the vectors: integers, booleans, floats.
local _, sts = slb.sign({N = 10, F = 1.5, B = false, Z = 0}, "k")
T.eq(sts, "GET&%2F&B%3Dfalse%26F%3D1.5%26N%3D10%26Z%3D0", "scalar forms")
_, sts = slb.sign({Tag = {{Key = "a", Value = ""}}, Id = {"x", "y"}}, "k",
                  "POST")
T.eq(sts, "POST&%2F&Id.1%3Dx%26Id.2%3Dy%26Tag.1.Key%3Da%26Tag.1.Value%3D",
     "nested flattening, POST")

-- Misuse raises, naming what was wrong.
T.raises(function() slb.sign("x", "s") end, "params not a table",
         "#1", "params must be a table, got string")
T.raises(function() slb.sign({A = "1"}) end, "nil secret",
         "#2", "secret must be a string, got no value")
T.raises(function() slb.sign({A = "1"}, nil) end, "explicit nil secret",
         "secret must be a string, got nil")
T.raises(function() slb.sign({A = print}, "s") end, "function value",
         "parameter 'A' is a function")
T.raises(function() slb.sign({A = {B = io.stdout}}, "s") end,
         "userdata deep inside", "parameter 'A.B' is a userdata")
T.raises(function() slb.sign({A = 0/0}, "s") end, "NaN value",
         "parameter 'A'")
T.raises(function() slb.sign({"positional"}, "s") end, "array params",
         "parameter names must be strings")
T.raises(function() slb.sign({A = "1"}, "s", "PUT") end, "bad method",
         "method must be GET or POST")
local loop = {}
loop.self = loop
T.raises(function() slb.sign({L = loop}, "s") end, "cyclic table",
         "nests deeper")
T.raises(function() slb.sign_v3{secret = "s", access_key_id = "i"} end,
         "v3 without content hash", "x-acs-content-sha256")

-- JSON numbers: 13-digit millisecond times stay exact integers.
local doc = slb.json_decode('{"t":1714763408000,"f":1.25,"n":null,' ..
                            '"a":[1,2,3],"big":9007199254740993}')
T.eq(doc.t, 1714763408000, "13-digit timestamp")
T.eq(math.type(doc.t), "integer", "timestamp is an integer")
T.eq(doc.f, 1.25, "float stays float")
T.eq(doc.n, slb.null, "null is slb.null")
T.eq(#doc.a, 3, "array length")
T.eq(math.type(doc.big), "float", "past 2^53 is not claimed exact")
T.eq(select(2, slb.json_decode("<html>")) ~= nil, true, "bad JSON fails")

-- Actions that only read are told from those that change things.
T.eq(slb.is_mutating("DescribeServerCertificates"), false, "Describe")
T.eq(slb.is_mutating("DeleteServerCertificate"), true, "Delete")
T.eq(slb.is_mutating("Describer"), true, "unknown verb counts as mutating")
T.eq(slb.is_mutating("ListTagResources"), false, "List")

-- Client options are checked by name and type.
T.raises(function() slb.client{dryrun = true} end, "typo in option",
         "unknown option 'dryrun'")
T.raises(function() slb.client{retries = "3"} end, "retries type",
         "option 'retries' must be a number")
T.raises(function() slb.client{retries = -1} end, "retries range",
         "option 'retries' must be from")
T.raises(function() slb.client{signature = "v2"} end, "signature",
         "must be v1 or v3")
T.raises(function() slb.client{log = "loud"} end, "log level",
         "quiet, normal or verbose")
T.raises(function() slb.client{on_attempt = 1} end, "hook type",
         "must be a function")

-- A region given in the options is checked like any argument; a client
-- that cannot be built for want of credentials is an operational
-- failure: nil, err.
T.raises(function()
  slb.client{region = "bad region!", access_key_id = "id",
             access_key_secret = "s"}
end, "invalid region", "invalid region id 'bad region!'")
local c, err = slb.client{region = "cn-hangzhou", access_key_id = "id"}
T.eq(c, nil, "half a key refused")
T.eq(err.code, "NoCredentials", "half a key code")
T.eq(getmetatable(err).__name, "slb.error", "error metatable")

T.done()
