-- LuaRocks package: builds the slb module (and the slbscript host) with
-- the project's own CMake build.
package = "slbscript"
version = "0.1.0-1"
source = {
  url = "git+https://example.invalid/slbscript.git",
  tag = "v0.1.0",
}
description = {
  summary = "Alibaba Cloud SLB certificate housekeeping as Lua scripts",
  detailed = [[
The slb module signs Alibaba Cloud SLB API requests (V1 and V3), calls
them over HTTPS with retries, and returns answers and structured errors
to Lua: delete_cert, describe_certs, call, and concurrent slb.each.]],
  license = "MIT",
}
dependencies = {
  "lua >= 5.4, < 5.5",
}
-- libcurl, mbedTLS and cJSON are found by CMake itself (Debian keeps
-- curl's headers in a multiarch directory LuaRocks does not search).
build = {
  type = "cmake",
  variables = {
    CMAKE_BUILD_TYPE = "Release",
    CMAKE_INSTALL_PREFIX = "$(PREFIX)",
    SLB_LUA_CMOD_DIR = "$(LIBDIR)",
    SLB_TESTS = "OFF",
  },
}
