-- test_docs.lua: the README's quick start is exactly what CI runs, and
-- every option the host accepts is documented in --help and the README.
package.path = "lua/?.lua;" .. package.path
local T = require "testlib"

local root = os.getenv("SLB_SOURCE_DIR") or ".."
local readme = T.read(root .. "/README.md")
local ci = T.read(root .. "/.ci/run")

local block = readme:match("## Quick start.-```sh\n(.-)```")
T.check(block, "README has a quick start sh block")
local lines = {}
for line in (block or ""):gmatch("[^\n]+") do lines[#lines + 1] = line end
T.eq(#lines, 2, "quick start has exactly two command lines")
for i, line in ipairs(lines) do
  local found = false
  for ci_line in ci:gmatch("[^\n]+") do
    if ci_line == line then found = true end
  end
  T.check(found, "quick start line " .. i .. " is in .ci/run verbatim")
end

local slbscript = os.getenv("SLBSCRIPT")
local status, help = T.run(T.shell_quote(slbscript) .. " --help")
T.eq(status, 0, "--help exits 0")
for flag in help:gmatch("\n  (%-%-[%w-]+)") do
  T.check(readme:find(flag, 1, true), "README documents " .. flag)
end
T.done()
