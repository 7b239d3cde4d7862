/* lslb.h: what the binding's files share. Only lua/ knows both Lua and
 * the core. */
#ifndef LSLB_H
#define LSLB_H

#include <lua.h>

#include <cjson/cJSON.h>

#include "slb_client.h"
#include "slb_sign.h"

#define LSLB_PARAMS "slb.params"
#define LSLB_CLIENT "slb.client"
#define LSLB_ERROR "slb.error"
#define LSLB_BUF "slb.buffer"
#define LSLB_JSON "slb.json"
#define LSLB_V3 "slb.v3_result"
#define LSLB_OP "slb.op"

/* A slb_params in a userdata, so that raising an error never leaks it. */
slb_params *lslb_newparams(lua_State *L);
/* A slb_buf in a userdata; wiped when collected. */
slb_buf *lslb_newbuf(lua_State *L);
/* Hands json to a userdata that deletes it when collected, so converting
 * it may raise safely. */
void lslb_boxjson(lua_State *L, cJSON *json);
/* Flattens the table at idx into p: nested tables and arrays become
 * Name.1.Key style names. Raises, naming argument arg, on misuse. */
void lslb_flatten(lua_State *L, int idx, int arg, slb_params *p);
/* Pushes a JSON value as Lua values; numbers that are whole and exact
 * become integers. */
void lslb_pushjson(lua_State *L, const cJSON *json);
/* t[name] = value for the table on top of the stack. */
void lslb_setstring(lua_State *L, const char *name, const char *value);
void lslb_setinteger(lua_State *L, const char *name, lua_Integer value);
void lslb_setboolean(lua_State *L, const char *name, int value);
/* Pushes nil and an error table; returns 2, for `return nil, err`. */
int lslb_pusherror(lua_State *L, const slb_error *err);
/* A metatable named name whose __gc is gc (for userdata owning C memory). */
void lslb_gc_metatable(lua_State *L, const char *name, lua_CFunction gc);
void lslb_open_conv(lua_State *L);

/* Makes the safety settings of the options table at idx (dry_run,
 * simulate, audit, max_time, max_deletes) hold for every client the state
 * builds from now on, whatever a script asks. For hosts. */
void lslb_enforce(lua_State *L, int idx);

/* Calls of a running slb.each still queued or in flight. */
int lslb_pending(lua_State *L);

int luaopen_slb(lua_State *L);

#endif
