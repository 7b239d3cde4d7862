-- test_install.lua: `cmake --install` puts slbscript and the slb module
-- where they work: a stock lua5.4 pointed at the installed tree (and at
-- nothing in the build tree) can require "slb" and use it.
package.path = "lua/?.lua;" .. package.path
local T = require "testlib"

local build = assert(os.getenv("SLB_BUILD_DIR"))
local lua = assert(os.getenv("LUA_INTERPRETER"))
local prefix = os.tmpname()
os.remove(prefix)

local status, out = T.run("cmake --install " .. T.shell_quote(build) ..
                          " --prefix " .. prefix)
T.eq(status, 0, "install: status\n" .. out)

local module = prefix .. "/lib/lua/5.4/slb.so"
T.check(io.open(module) ~= nil, "install: module at " .. module)

local script = [[
  local slb = require "slb"
  local c = assert(slb.client{simulate = "inventory-test.json",
                              region = "eu-central-1"})
  print(package.searchpath("slb", package.cpath), #c:describe_certs(),
        slb.version)
]]
status, out = T.run("env -u LUA_CPATH LUA_CPATH_5_4=" .. prefix ..
                    "/lib/lua/5.4/?.so " .. T.shell_quote(lua) .. " -e " ..
                    T.shell_quote(script))
T.eq(status, 0, "require from the installed tree: status\n" .. out)
T.check(out:find(module .. "\t2\t", 1, true),
        "require found the installed module and used it: " .. out)

status, out = T.run(prefix .. "/bin/slbscript --version")
T.eq(status, 0, "installed slbscript runs")
T.check(out:find("slbscript", 1, true), "installed slbscript: " .. out)

T.run("rm -rf " .. T.shell_quote(prefix))
T.done()
