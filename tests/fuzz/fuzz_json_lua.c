/* fuzz_json_lua.c: slb.json_decode on any text, and a decoded table handed
 * on to slb.sign and slb.sign_v3. Errors raised by the signers are fine;
 * crashes, leaks and errors that are not messages are not. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "lslb.h"

#include "fuzz.h"

/* A cap on the Lua heap, so that a huge document ends in a memory error,
 * which the binding must survive, instead of in libFuzzer's RSS limit. */
#define HEAP_LIMIT ((size_t)64 * 1024 * 1024)

struct input {
  const char *text;
  size_t len;
};

static void *limited_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
  size_t *used = ud;
  void *grown;

  if(!ptr)
    osize = 0;
  if(!nsize) {
    free(ptr);
    *used -= osize;
    return NULL;
  }
  if(nsize > osize && *used + (nsize - osize) > HEAP_LIMIT)
    return NULL;
  grown = realloc(ptr, nsize);
  if(grown)
    *used = *used - osize + nsize;
  return grown;
}

/* Calls slb[name] with the nargs values on top of the stack, protected.
 * A raised error must be a message. Leaves the results (or nothing) and
 * returns whether the call succeeded. */
static int try_call(lua_State *L, const char *name, int nargs, int nresults)
{
  int status;

  lua_getfield(L, 1, name);
  lua_insert(L, -nargs - 1);
  status = lua_pcall(L, nargs, nresults, 0);
  if(status == LUA_OK)
    return 1;
  FUZZ_CHECK(status == LUA_ERRRUN || status == LUA_ERRMEM);
  FUZZ_CHECK(lua_type(L, -1) == LUA_TSTRING);
  lua_pop(L, 1);
  return 0;
}

/* slb.sign(t, secret [, method]) gives a 28-character signature and the
 * string it signed, which starts with the method. */
static void sign_v1(lua_State *L, int table, const char *method)
{
  size_t len;
  const char *sts;

  lua_pushvalue(L, table);
  lua_pushliteral(L, "fuzz-secret");
  lua_pushstring(L, method);
  if(!try_call(L, "sign", 3, 2))
    return;
  FUZZ_CHECK(lua_type(L, -2) == LUA_TSTRING && luaL_len(L, -2) == 28);
  sts = lua_tolstring(L, -1, &len);
  FUZZ_CHECK(sts && len >= strlen(method) + 5);
  FUZZ_CHECK(!strncmp(sts, method, strlen(method)));
  FUZZ_CHECK(!memcmp(sts + strlen(method), "&%2F&", 5));
  lua_pop(L, 2);
}

/* slb.sign_v3 twice: the table as the whole options (so the document
 * picks method, secret, query and headers), then as the query alone. */
static void sign_v3(lua_State *L, int table)
{
  lua_pushvalue(L, table);
  if(try_call(L, "sign_v3", 1, 4))
    lua_pop(L, 4);

  lua_createtable(L, 0, 5);
  lua_pushliteral(L, "POST");
  lua_setfield(L, -2, "method");
  lua_pushliteral(L, "fuzz-secret");
  lua_setfield(L, -2, "secret");
  lua_pushliteral(L, "fuzz-key-id");
  lua_setfield(L, -2, "access_key_id");
  lua_pushvalue(L, table);
  lua_setfield(L, -2, "query");
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "e3b0c44298fc1c149afbf4c8996fb924"
                  "27ae41e4649b934ca495991b7852b855");
  lua_setfield(L, -2, "x-acs-content-sha256");
  lua_setfield(L, -2, "headers");
  if(try_call(L, "sign_v3", 1, 4)) {
    FUZZ_CHECK(lua_type(L, -4) == LUA_TSTRING && luaL_len(L, -4) == 64);
    lua_pop(L, 4);
  }
}

/* Runs protected: slb module at 1. json_decode takes any string without
 * raising (short of memory) and returns a value, or nil and a message. */
static int run(lua_State *L)
{
  const struct input *in = lua_touserdata(L, 1);

  lua_settop(L, 0);
  luaL_requiref(L, "slb", luaopen_slb, 0);
  lua_getfield(L, 1, "json_decode");
  lua_pushlstring(L, in->text, in->len);
  lua_call(L, 1, 2);
  if(lua_isnil(L, 2)) {
    FUZZ_CHECK(lua_type(L, 3) == LUA_TSTRING);
    return 0;
  }
  FUZZ_CHECK(lua_isnil(L, 3));
  lua_settop(L, 2);
  if(lua_type(L, 2) == LUA_TTABLE) {
    sign_v1(L, 2, "GET");
    sign_v1(L, 2, "POST");
    sign_v3(L, 2);
  }
  FUZZ_CHECK(lua_gettop(L) == 2);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct input in;
  size_t used = 0;
  lua_State *L = lua_newstate(limited_alloc, &used);
  int status;

  if(!L)
    return 0;
  in.text = (const char *)data;
  in.len = size;
  lua_pushcfunction(L, run);
  lua_pushlightuserdata(L, &in);
  status = lua_pcall(L, 1, 0, 0);
  if(status != LUA_OK) {
    /* Only running out of the capped heap may stop a decode. */
    if(status != LUA_ERRMEM)
      fprintf(stderr, "json_decode raised: %s\n", lua_tostring(L, -1));
    FUZZ_CHECK(status == LUA_ERRMEM);
  }
  lua_close(L);
  FUZZ_CHECK(used == 0);
  return 0;
}
