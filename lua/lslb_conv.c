/* lslb_conv.c: Lua tables to flattened SLB parameters, JSON answers to Lua
 * tables, and the error values scripts branch on. */
#include "lslb.h"

#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#define MAX_DEPTH 8
#define MAX_NAME 256

static int params_gc(lua_State *L)
{
  slb_params *p = luaL_checkudata(L, 1, LSLB_PARAMS);
  slb_params_free(p);
  return 0;
}

static int buf_gc(lua_State *L)
{
  slb_buf *b = luaL_checkudata(L, 1, LSLB_BUF);
  slb_buf_wipe(b);
  return 0;
}

slb_buf *lslb_newbuf(lua_State *L)
{
  slb_buf *b = lua_newuserdatauv(L, sizeof(*b), 0);
  slb_buf_init(b);
  luaL_setmetatable(L, LSLB_BUF);
  return b;
}

static int json_gc(lua_State *L)
{
  cJSON **box = luaL_checkudata(L, 1, LSLB_JSON);
  cJSON_Delete(*box);
  *box = NULL;
  return 0;
}

void lslb_boxjson(lua_State *L, cJSON *json)
{
  cJSON **box = lua_newuserdatauv(L, sizeof(*box), 0);
  *box = json;
  luaL_setmetatable(L, LSLB_JSON);
}

slb_params *lslb_newparams(lua_State *L)
{
  slb_params *p = lua_newuserdatauv(L, sizeof(*p), 0);
  slb_params_init(p);
  luaL_setmetatable(L, LSLB_PARAMS);
  return p;
}

static void add_value(lua_State *L, int arg, slb_params *p,
                      const char *name, size_t name_len);

static void join_name(lua_State *L, int arg, char *out, const char *prefix,
                      size_t prefix_len, int key_idx)
{
  char key[64];
  const char *k;
  size_t klen;

  if(!prefix_len && lua_type(L, key_idx) != LUA_TSTRING) {
    luaL_argerror(L, arg, "parameter names must be strings");
    return;
  }
  if(lua_isinteger(L, key_idx)) {
    snprintf(key, sizeof(key), "%lld", (long long)lua_tointeger(L, key_idx));
    k = key;
    klen = strlen(key);
  }
  else if(lua_type(L, key_idx) == LUA_TSTRING) {
    k = lua_tolstring(L, key_idx, &klen);
    if(memchr(k, '\0', klen))
      luaL_argerror(L, arg, "a parameter name contains a zero byte");
  }
  else {
    luaL_argerror(L, arg, lua_pushfstring(L, "key of type %s under '%s' is "
                  "neither a string nor an integer",
                  luaL_typename(L, key_idx), prefix_len ? prefix : "(top)"));
    return;
  }
  if(prefix_len + klen + 2 > MAX_NAME)
    luaL_argerror(L, arg, "parameter name too long");
  memcpy(out, prefix, prefix_len);
  if(prefix_len)
    out[prefix_len++] = '.';
  memcpy(out + prefix_len, k, klen);
  out[prefix_len + klen] = '\0';
}

/* The table at -1 under name; arrays count from 1 as the API expects.
 * Order does not matter: the signer sorts. */
static void add_table(lua_State *L, int arg, slb_params *p,
                      const char *name, size_t name_len, int depth)
{
  int t = lua_gettop(L);
  char child[MAX_NAME];

  if(depth > MAX_DEPTH)
    luaL_argerror(L, arg, lua_pushfstring(L, "parameter '%s' nests deeper "
                  "than %d levels (a cycle?)", name, MAX_DEPTH));
  luaL_checkstack(L, 4, "parameters");
  lua_pushnil(L);
  while(lua_next(L, t)) {
    join_name(L, arg, child, name, name_len, -2);
    if(lua_istable(L, -1))
      add_table(L, arg, p, child, strlen(child), depth + 1);
    else
      add_value(L, arg, p, child, strlen(child));
    lua_pop(L, 1);
  }
}

static void add_value(lua_State *L, int arg, slb_params *p,
                      const char *name, size_t name_len)
{
  const char *value;
  size_t len;

  switch(lua_type(L, -1)) {
  case LUA_TNUMBER:
    if(!lua_isinteger(L, -1) && lua_tonumber(L, -1) != lua_tonumber(L, -1))
      goto no_string_form;
    if(!lua_isinteger(L, -1) && (lua_tonumber(L, -1) > 1e300 ||
                                 lua_tonumber(L, -1) < -1e300))
      goto no_string_form;
    /* fall through */
  case LUA_TSTRING:
    /* Integers print without a fraction; floats as Lua prints them. */
    lua_pushvalue(L, -1);
    value = lua_tolstring(L, -1, &len);
    break;
  case LUA_TBOOLEAN:
    lua_pushstring(L, lua_toboolean(L, -1) ? "true" : "false");
    value = lua_tolstring(L, -1, &len);
    break;
  default:
  no_string_form:
    luaL_argerror(L, arg, lua_pushfstring(L, "parameter '%s' is a %s, "
                  "which has no string form", name, luaL_typename(L, -1)));
    return;
  }
  if(slb_params_add(p, name, name_len, value, len))
    luaL_error(L, "out of memory");
  lua_pop(L, 1);
}

void lslb_flatten(lua_State *L, int idx, int arg, slb_params *p)
{
  idx = lua_absindex(L, idx);
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_pushvalue(L, idx);
  add_table(L, arg, p, "", 0, 0);
  lua_pop(L, 1);
}

/* 2^53: past it a double no longer holds every integer. */
#define EXACT_LIMIT 9007199254740992.0

void lslb_pushjson(lua_State *L, const cJSON *json)
{
  const cJSON *item;
  lua_Integer i = 0;

  luaL_checkstack(L, 3, "JSON nesting");
  if(cJSON_IsObject(json)) {
    lua_createtable(L, 0, cJSON_GetArraySize(json));
    /* The first of duplicate keys wins, as in cJSON's own look-ups, so
     * what C checked is what Lua sees. */
    cJSON_ArrayForEach(item, json) {
      if(lua_getfield(L, -1, item->string) != LUA_TNIL) {
        lua_pop(L, 1);
        continue;
      }
      lua_pop(L, 1);
      lslb_pushjson(L, item);
      lua_setfield(L, -2, item->string);
    }
  }
  else if(cJSON_IsArray(json)) {
    lua_createtable(L, cJSON_GetArraySize(json), 0);
    cJSON_ArrayForEach(item, json) {
      lslb_pushjson(L, item);
      lua_rawseti(L, -2, ++i);
    }
  }
  else if(cJSON_IsString(json))
    lua_pushstring(L, json->valuestring);
  else if(cJSON_IsNumber(json)) {
    double d = json->valuedouble;
    /* Range first: casting a double past long long's range is undefined. */
    if(d > -EXACT_LIMIT && d < EXACT_LIMIT && d == (double)(long long)d)
      lua_pushinteger(L, (lua_Integer)d);
    else
      lua_pushnumber(L, d);
  }
  else if(cJSON_IsBool(json))
    lua_pushboolean(L, cJSON_IsTrue(json));
  else
    lua_pushlightuserdata(L, NULL);        /* JSON null: slb.null */
}

static int error_tostring(lua_State *L)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getfield(L, 1, "code");
  lua_getfield(L, 1, "message");
  lua_getfield(L, 1, "request_id");
  if(lua_toboolean(L, -1) && *lua_tostring(L, -1))
    lua_pushfstring(L, "%s: %s (request id %s)", luaL_optstring(L, 2, "?"),
                    luaL_optstring(L, 3, ""), lua_tostring(L, 4));
  else
    lua_pushfstring(L, "%s: %s", luaL_optstring(L, 2, "?"),
                    luaL_optstring(L, 3, ""));
  return 1;
}

void lslb_setstring(lua_State *L, const char *name, const char *value)
{
  lua_pushstring(L, value);
  lua_setfield(L, -2, name);
}

void lslb_setinteger(lua_State *L, const char *name, lua_Integer value)
{
  lua_pushinteger(L, value);
  lua_setfield(L, -2, name);
}

void lslb_setboolean(lua_State *L, const char *name, int value)
{
  lua_pushboolean(L, value);
  lua_setfield(L, -2, name);
}

int lslb_pusherror(lua_State *L, const slb_error *err)
{
  lua_pushnil(L);
  lua_createtable(L, 0, 9);
  lslb_setstring(L, "code", err->code);
  lslb_setstring(L, "message", err->message);
  lslb_setstring(L, "request_id", err->request_id);
  lslb_setstring(L, "host_id", err->host_id);
  lslb_setstring(L, "recommend", err->recommend);
  lslb_setinteger(L, "status", err->status);
  lslb_setboolean(L, "retryable", err->retryable);
  lslb_setinteger(L, "attempts", err->attempts);
  luaL_setmetatable(L, LSLB_ERROR);
  return 2;
}

void lslb_gc_metatable(lua_State *L, const char *name, lua_CFunction gc)
{
  luaL_newmetatable(L, name);
  lua_pushcfunction(L, gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
}

void lslb_open_conv(lua_State *L)
{
  lslb_gc_metatable(L, LSLB_BUF, buf_gc);
  lslb_gc_metatable(L, LSLB_JSON, json_gc);
  lslb_gc_metatable(L, LSLB_PARAMS, params_gc);
  luaL_newmetatable(L, LSLB_ERROR);
  lua_pushcfunction(L, error_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushstring(L, LSLB_ERROR);
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);
}
