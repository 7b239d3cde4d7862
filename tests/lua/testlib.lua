-- testlib.lua: the few assertions the Lua tests share. Each test file
-- ends with T.done(), which prints "N passed, N failed" and exits non-zero
-- on any failure (or when nothing was checked).
local T = {passed = 0, failed = 0}

local function show(v)
  if type(v) == "string" then return ("%q"):format(v) end
  return tostring(v)
end

function T.check(ok, what)
  if ok then
    T.passed = T.passed + 1
  else
    T.failed = T.failed + 1
    io.stderr:write("FAIL ", what, "\n", debug.traceback("", 2), "\n")
  end
  return ok
end

function T.eq(got, want, what)
  return T.check(got == want, ("%s: got %s, want %s"):format(what,
    show(got), show(want)))
end

-- fn must raise, and the message must contain every plain substring.
function T.raises(fn, what, ...)
  local ok, err = pcall(fn)
  if not T.check(not ok, what .. ": did not raise") then return end
  err = tostring(err)
  for _, part in ipairs({...}) do
    T.check(err:find(part, 1, true), ("%s: error %q lacks %q"):format(what,
      err, part))
  end
end

function T.read(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("a")
  f:close()
  return text
end

-- Runs a shell command; returns its exit status and combined output.
function T.run(command)
  local out = os.tmpname()
  local ok, how, code = os.execute(command .. " >" .. out .. " 2>&1")
  local text = T.read(out)
  os.remove(out)
  if how == "signal" then code = 128 + code end
  return ok and 0 or code, text
end

function T.shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

function T.done()
  print(("%d passed, %d failed"):format(T.passed, T.failed))
  os.exit(T.failed == 0 and T.passed > 0 and 0 or 1)
end

return T
