/* lslb.c: the `slb` Lua module: signing, clients, and the certificate
 * calls, with logging and an audit trail of every mutating call.
 * Misuse raises; an operational failure returns nil and an error table. */
#include "lslb.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <lauxlib.h>

#include "slb_sim.h"

#define DEFAULTS_KEY "slb.defaults"
#define DEFAULT_CLIENT_KEY "slb.default_client"
#define SIMS_KEY "slb.simulations"
#define SIM_BOX "slb.simulation"
#define SCHEDULER_KEY "slb.scheduler"
#define ENFORCED_KEY "slb.enforced"
#define BUDGET "slb.budget"
#define SCHEDULER "slb.each"

enum { LOG_QUIET, LOG_NORMAL, LOG_VERBOSE };

typedef struct lclient {
  slb_client *client;          /* NULL once closed */
  lua_State *L;                /* set while a call runs, for the observer */
  int log_level;
  FILE *audit;
  int on_attempt;              /* registry reference, or LUA_NOREF */
  int calls;                   /* calls begun and not yet completed */
} lclient;

typedef struct sim_box {
  slb_sim *sim;
} sim_box;

/* What slb.each keeps while its coroutines' calls are in flight. */
typedef struct scheduler {
  slb_multi *multi;
  lua_State *L;                /* the thread running slb.each */
} scheduler;

/*
** {======================================================
** Helpers
** =======================================================
*/

static lclient *check_open(lua_State *L)
{
  lclient *lc = luaL_checkudata(L, 1, LSLB_CLIENT);
  if(!lc->client)
    luaL_error(L, "attempt to use a closed slb client");
  return lc;
}

static const char *opt_region(lua_State *L, int idx)
{
  const char *region = NULL;

  if(lua_isnoneornil(L, idx))
    return NULL;
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_getfield(L, idx, "region");
  if(!lua_isnil(L, -1)) {
    if(lua_type(L, -1) != LUA_TSTRING)
      luaL_argerror(L, idx, "option 'region' must be a string");
    region = lua_tostring(L, -1);
    if(!slb_region_valid(region))
      luaL_argerror(L, idx, lua_pushfstring(L, "invalid region id '%s'",
                                            region));
  }
  lua_pop(L, 1);          /* the string stays alive in the options table */
  return region;
}

static void iso_now(char out[32])
{
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Parameters no log or audit line may show. */
static int secret_param(const char *name)
{
  return strstr(name, "PrivateKey") || strstr(name, "Password") ||
         strstr(name, "Secret") || strstr(name, "Token");
}

/* The parameter that says what a call acts on, for the log line. */
static int subject_param(const slb_params *p)
{
  size_t i;

  for(i = 0; i < p->count; i++) {
    const char *name, *value;
    size_t nl, vl;
    slb_params_get(p, i, &name, &nl, &value, &vl);
    if(nl > 2 && !memcmp(name + nl - 2, "Id", 2) &&
       !(nl == 8 && !memcmp(name, "RegionId", 8)))
      return (int)i;
  }
  return -1;
}

/* }====================================================== */

/*
** {======================================================
** Logging and audit
** =======================================================
*/

/* Text from outside (ids, names, the service's words) goes into a log
 * line with control bytes escaped, so that it cannot forge lines or move
 * the terminal's cursor. */
static void put_clean(FILE *out, const char *text, size_t len)
{
  size_t i;

  for(i = 0; i < len; i++) {
    unsigned char c = (unsigned char)text[i];
    if(c < 32 || c == 127)
      fprintf(out, "\\x%02x", c);
    else
      fputc(c, out);
  }
}

static void puts_clean(FILE *out, const char *text)
{
  put_clean(out, text, strlen(text));
}

static void observer(const slb_attempt *a, void *ud)
{
  lclient *lc = ud;
  lua_State *L = lc->L;

  if(lc->log_level >= LOG_VERBOSE) {
    fprintf(stderr, "slb: attempt %d %s region=%s status=%d code=",
            a->attempt, a->action, a->region, a->status);
    puts_clean(stderr, *a->code ? a->code : "-");
    fputs(" request=", stderr);
    puts_clean(stderr, *a->request_id ? a->request_id : "-");
    fprintf(stderr, " %.1f ms", a->elapsed_ms);
    if(a->will_retry)
      fprintf(stderr, ", retrying in %ld ms", a->retry_in_ms);
    fputc('\n', stderr);
  }
  if(!L || lc->on_attempt == LUA_NOREF)
    return;
  lua_rawgeti(L, LUA_REGISTRYINDEX, lc->on_attempt);
  lua_createtable(L, 0, 9);
  lslb_setstring(L, "action", a->action);
  lslb_setstring(L, "region", a->region);
  lslb_setinteger(L, "attempt", a->attempt);
  lslb_setinteger(L, "status", a->status);
  lslb_setstring(L, "code", a->code);
  lslb_setstring(L, "request_id", a->request_id);
  lua_pushnumber(L, a->elapsed_ms);
  lua_setfield(L, -2, "elapsed_ms");
  lslb_setboolean(L, "will_retry", a->will_retry);
  lslb_setinteger(L, "retry_in_ms", a->retry_in_ms);
  /* The hook may not unwind through the C call in progress. */
  if(lua_pcall(L, 1, 0, 0) != LUA_OK) {
    char message[512];
    snprintf(message, sizeof(message), "%s",
             luaL_tolstring(L, -1, NULL));
    slb_client_scrub(lc->client, message);
    fprintf(stderr, "slb: on_attempt hook failed: %s\n", message);
    lua_pop(L, 2);
  }
}

static const char *outcome_word(int rc, const slb_result *res,
                                const slb_error *err)
{
  if(rc)
    return err->code;
  if(res->dry_run)
    return "dry-run";
  return res->already_deleted ? "already-deleted" : "ok";
}

static void log_mutation(lclient *lc, const char *action, const char *region,
                         const slb_params *p, int rc, const slb_result *res,
                         const slb_error *err)
{
  const char *name = "", *value = "";
  size_t nl = 0, vl = 0;
  int at = subject_param(p);

  if(lc->log_level < LOG_NORMAL)
    return;
  if(at >= 0)
    slb_params_get(p, (size_t)at, &name, &nl, &value, &vl);
  fprintf(stderr, "slb: %s %.*s%s", action, (int)nl, name, nl ? "=" : "");
  put_clean(stderr, value, vl > 200 ? 200 : vl);
  fprintf(stderr, " region=%s: ", region);
  puts_clean(stderr, outcome_word(rc, res, err));
  if(!strcmp(slb_client_cred_source(lc->client), "simulation"))
    fputs(" (simulated)", stderr);
  if(rc) {
    fputs(" (", stderr);
    puts_clean(stderr, err->message);
    fputc(')', stderr);
  }
  if(rc ? *err->request_id : *res->request_id) {
    fputs(" request=", stderr);
    puts_clean(stderr, rc ? err->request_id : res->request_id);
  }
  fputc('\n', stderr);
}

static cJSON *audit_params(const slb_params *p)
{
  cJSON *obj = cJSON_CreateObject();
  size_t i;

  for(i = 0; i < p->count; i++) {
    const char *name, *value;
    size_t nl, vl;
    char key[160], *text;
    slb_params_get(p, i, &name, &nl, &value, &vl);
    snprintf(key, sizeof(key), "%.*s", (int)nl, name);
    if(secret_param(key)) {
      cJSON_AddStringToObject(obj, key, "[redacted]");
      continue;
    }
    text = malloc(vl + 1);
    if(!text)
      continue;
    memcpy(text, value, vl);
    text[vl] = '\0';
    cJSON_AddStringToObject(obj, key, text);
    free(text);
  }
  return obj;
}

static void audit_mutation(lclient *lc, const char *action,
                           const char *region, const slb_params *p, int rc,
                           const slb_result *res, const slb_error *err)
{
  cJSON *line;
  char when[32], *text;

  if(!lc->audit)
    return;
  iso_now(when);
  line = cJSON_CreateObject();
  cJSON_AddStringToObject(line, "time", when);
  cJSON_AddStringToObject(line, "profile", slb_client_profile(lc->client));
  cJSON_AddStringToObject(line, "region", region);
  cJSON_AddStringToObject(line, "action", action);
  cJSON_AddItemToObject(line, "params", audit_params(p));
  cJSON_AddStringToObject(line, "request_id",
                          rc ? err->request_id : res->request_id);
  cJSON_AddStringToObject(line, "outcome", outcome_word(rc, res, err));
  cJSON_AddBoolToObject(line, "dry_run", !rc && res->dry_run);
  cJSON_AddBoolToObject(line, "simulated",
                        !strcmp(slb_client_cred_source(lc->client),
                                "simulation"));
  if(rc)
    cJSON_AddStringToObject(line, "message", err->message);
  text = cJSON_PrintUnformatted(line);
  cJSON_Delete(line);
  if(text) {
    /* One write per line, flushed, so a crash loses at most this line. A
     * trail that cannot be written must not fail quietly. */
    if(fprintf(lc->audit, "%s\n", text) < 0 || fflush(lc->audit))
      fprintf(stderr, "slb: AUDIT WRITE FAILED (%s) for %s %s\n",
              strerror(errno), action, outcome_word(rc, res, err));
    free(text);
  }
}

/* }====================================================== */

/* A core refusal of the arguments is the caller's mistake: raise it. */
static int fail(lua_State *L, const slb_error *err)
{
  if(!strcmp(err->code, SLB_E_INVALID))
    return luaL_error(L, "%s", err->message);
  return lslb_pusherror(L, err);
}

static void check_id(lua_State *L, int arg, const char *what)
{
  size_t len;
  const char *id;

  if(lua_type(L, arg) != LUA_TSTRING)
    luaL_argerror(L, arg, lua_pushfstring(L, "%s must be a string, got %s",
                                          what, luaL_typename(L, arg)));
  id = lua_tolstring(L, arg, &len);
  if(!len || len > 256)
    luaL_argerror(L, arg, lua_pushfstring(L, "%s must be 1 to 256 bytes, "
                                          "got %d", what, (int)len));
  if(memchr(id, '\0', len))
    luaL_argerror(L, arg, lua_pushfstring(L, "%s contains a zero byte",
                                          what));
}

/*
** {======================================================
** Calls: run now, or yield to slb.each while in flight
** =======================================================
*/

enum call_kind { CALL_DELETE, CALL_DESCRIBE, CALL_GENERIC };

/* Where a call's pieces sit on the stack. Methods have the client at 1
 * and arguments from 2; module functions have arguments from 1 and the
 * default client after them, so argument errors count the same way the
 * caller does. Packed into the continuation context across a yield. */
#define FRAME(kind, self, base) ((kind) | (self) << 4 | (base) << 12)
#define FRAME_KIND(f) ((int)((f) & 15))
#define FRAME_SELF(f) ((int)(((f) >> 4) & 255))
#define FRAME_BASE(f) ((int)((f) >> 12))

static int op_gc(lua_State *L)
{
  slb_op **box = luaL_checkudata(L, 1, LSLB_OP);
  slb_op_free(*box);
  *box = NULL;
  return 0;
}

/* The scheduler of the slb.each running L as one of its coroutines, or
 * NULL: only its own coroutines may yield to it. */
static scheduler *active_scheduler(lua_State *L)
{
  scheduler *s;

  if(!lua_isyieldable(L))
    return NULL;
  if(lua_getfield(L, LUA_REGISTRYINDEX, SCHEDULER_KEY) != LUA_TUSERDATA) {
    lua_pop(L, 1);
    return NULL;
  }
  s = lua_touserdata(L, -1);
  lua_getiuservalue(L, -1, 1);                  /* its threads */
  lua_pushthread(L);
  if(lua_rawget(L, -2) == LUA_TNIL)
    s = NULL;
  lua_pop(L, 3);
  return s;
}

static void push_delete_result(lua_State *L, const slb_result *res,
                               const char *region, int id_at)
{
  lua_createtable(L, 0, 6);
  lslb_setstring(L, "request_id", res->request_id);
  lua_pushvalue(L, id_at);
  lua_setfield(L, -2, "id");
  lslb_setstring(L, "region", region);
  lslb_setboolean(L, "already_deleted", res->already_deleted);
  lslb_setboolean(L, "dry_run", res->dry_run);
  lslb_setinteger(L, "attempts", res->attempts);
}

/* The certificate list must be where the API puts it, or the answer is
 * not what we think it is. */
static int cert_list(const cJSON *json, const cJSON **out, slb_error *err)
{
  const cJSON *wrap = cJSON_GetObjectItemCaseSensitive(json,
                                                       "ServerCertificates");
  const cJSON *list = cJSON_GetObjectItemCaseSensitive(wrap,
                                                       "ServerCertificate");
  const cJSON *item;

  if(!cJSON_IsObject(wrap) || (list && !cJSON_IsArray(list)))
    goto bad;
  cJSON_ArrayForEach(item, list)
    if(!cJSON_IsObject(item) || !cJSON_IsString(
         cJSON_GetObjectItemCaseSensitive(item, "ServerCertificateId")))
      goto bad;
  *out = list;
  return 0;
bad:
  memset(err, 0, sizeof(*err));
  snprintf(err->code, sizeof(err->code), "%s", SLB_E_BAD_RESPONSE);
  snprintf(err->message, sizeof(err->message), "DescribeServerCertificates"
           " answer has no ServerCertificates.ServerCertificate list of "
           "certificates");
  return -1;
}

static int push_certs(lua_State *L, slb_result *res)
{
  const cJSON *list = NULL;
  slb_error err;

  if(cert_list(res->json, &list, &err)) {
    err.status = res->status;
    snprintf(err.request_id, sizeof(err.request_id), "%s", res->request_id);
    return lslb_pusherror(L, &err);
  }
  if(list)
    lslb_pushjson(L, list);
  else
    lua_newtable(L);
  return 1;
}

/* The op's box is on top of the stack and the op is done: log and audit
 * it if it changed something, then push what the method returns. */
static int complete(lua_State *L, lua_KContext frame)
{
  lclient *lc = lua_touserdata(L, FRAME_SELF(frame));
  slb_op **box = lua_touserdata(L, -1);
  slb_op *op = *box;
  slb_result res;
  slb_error err;
  char region[64];
  int rc;

  lc->calls--;
  rc = slb_op_result(op, &res, &err);
  snprintf(region, sizeof(region), "%s", slb_op_region(op));
  if(slb_action_is_mutating(slb_op_action(op))) {
    log_mutation(lc, slb_op_action(op), slb_op_region(op),
                 slb_op_params(op), rc, &res, &err);
    audit_mutation(lc, slb_op_action(op), slb_op_region(op),
                   slb_op_params(op), rc, &res, &err);
  }
  /* Done with the op: free it now rather than at the next collection, so
   * a long run does not pile up C memory the collector cannot see. */
  slb_op_free(op);
  *box = NULL;
  lslb_boxjson(L, res.json);                /* freed however we leave */
  if(rc)
    return lslb_pusherror(L, &err);
  switch(FRAME_KIND(frame)) {
  case CALL_DELETE:
    push_delete_result(L, &res, region, FRAME_BASE(frame));
    return 1;
  case CALL_DESCRIBE:
    return push_certs(L, &res);
  default:
    lslb_pushjson(L, res.json);
    if(res.dry_run)
      lslb_setboolean(L, "dry_run", 1);
    return 1;
  }
}

static int resume_call(lua_State *L, int status, lua_KContext frame)
{
  slb_op **box;

  (void)status;
  lua_pop(L, 1);                            /* the yielded marker */
  box = lua_touserdata(L, -1);
  /* Only slb.each may resume us, and only once the answer is in. */
  if(!*box || !slb_op_done(*box))
    return luaL_error(L, "an slb call was resumed before its answer "
                      "arrived (only slb.each may resume its coroutines)");
  return complete(L, frame);
}

/* Starts the call; inside slb.each it yields until the answer is in,
 * elsewhere it runs to the end here. */
static int push_default(lua_State *L);

static int dispatch(lua_State *L, int self, const char *action,
                    const char *region, const slb_params *p, int kind,
                    int base)
{
  lua_KContext frame;
  slb_op **box;
  slb_error err;
  scheduler *s;
  lclient *lc;

  /* Module functions check their arguments before the default client is
   * built, so misuse raises even when no client can be had. */
  if(!self) {
    if(push_default(L) == 2)
      return 2;
    self = lua_gettop(L);
  }
  lc = lua_touserdata(L, self);
  if(!lc->client)
    return luaL_error(L, "attempt to use a closed slb client");
  frame = FRAME(kind, self, base);
  lc->calls++;                      /* until complete(): no closing */
  box = lua_newuserdatauv(L, sizeof(*box), 0);
  *box = NULL;
  luaL_setmetatable(L, LSLB_OP);
  *box = slb_op_new(lc->client, action, region, p, &err);
  if(!*box) {
    lc->calls--;
    return fail(L, &err);
  }
  if(!slb_op_done(*box)) {
    s = active_scheduler(L);
    if(s) {
      slb_op_set_userdata(*box, L);
      lc->L = s->L;              /* hooks run on the scheduler's thread */
      slb_multi_add(s->multi, *box);
      lua_pushlightuserdata(L, (void *)&active_scheduler);
      return lua_yieldk(L, 1, frame, resume_call);
    }
    lc->L = L;
    slb_client_run(lc->client, *box);
    lc->L = NULL;
  }
  return complete(L, frame);
}

/* }====================================================== */

/*
** {======================================================
** Client methods
** =======================================================
*/

static int delete_cert(lua_State *L, int self, int base)
{
  const char *region, *id;
  slb_params *p;

  check_id(L, base, "certificate id");
  region = opt_region(L, base + 1);
  id = lua_tostring(L, base);
  p = lslb_newparams(L);
  if(slb_params_adds(p, "ServerCertificateId", id))
    return luaL_error(L, "out of memory");
  return dispatch(L, self, "DeleteServerCertificate", region, p,
                  CALL_DELETE, base);
}

static int describe_certs(lua_State *L, int self, int base)
{
  const char *region = opt_region(L, base);

  return dispatch(L, self, "DescribeServerCertificates", region,
                  lslb_newparams(L), CALL_DESCRIBE, base);
}

static int call(lua_State *L, int self, int base)
{
  const char *action = luaL_checkstring(L, base);
  const char *region = opt_region(L, base + 2);
  slb_params *p = lslb_newparams(L);

  if(!lua_isnoneornil(L, base + 1))
    lslb_flatten(L, base + 1, base + 1, p);
  if(!region && slb_params_find(p, "RegionId") >= 0) {
    lua_getfield(L, base + 1, "RegionId");
    region = lua_tostring(L, -1);     /* anchored in the params table */
    lua_pop(L, 1);
  }
  return dispatch(L, self, action, region, p, CALL_GENERIC, base);
}

static int l_delete_cert(lua_State *L)
{
  check_open(L);
  lua_settop(L, 3);
  return delete_cert(L, 1, 2);
}

static int l_describe_certs(lua_State *L)
{
  check_open(L);
  lua_settop(L, 2);
  return describe_certs(L, 1, 2);
}

static int l_call(lua_State *L)
{
  check_open(L);
  luaL_checkstring(L, 2);           /* before settop turns none into nil */
  lua_settop(L, 4);
  return call(L, 1, 2);
}

static int l_client_region(lua_State *L)
{
  lua_pushstring(L, slb_client_region(check_open(L)->client));
  return 1;
}

static int l_client_info(lua_State *L)
{
  lclient *lc = check_open(L);
  lua_createtable(L, 0, 4);
  lslb_setstring(L, "region", slb_client_region(lc->client));
  lslb_setstring(L, "profile", slb_client_profile(lc->client));
  lslb_setstring(L, "credentials", slb_client_cred_source(lc->client));
  lslb_setboolean(L, "dry_run", slb_client_dry_run(lc->client));
  lslb_setinteger(L, "mutations", slb_client_mutations(lc->client));
  return 1;
}

static void release_client(lua_State *L, lclient *lc)
{
  /* A client whose ops a multi still holds is left alone (a leak, not a
   * use after free); that only happens when a run is torn down. */
  if(lc->client && !slb_client_busy(lc->client))
    slb_client_free(lc->client);
  lc->client = NULL;
  if(lc->audit)
    fclose(lc->audit);
  lc->audit = NULL;
  if(lc->on_attempt != LUA_NOREF)
    luaL_unref(L, LUA_REGISTRYINDEX, lc->on_attempt);
  lc->on_attempt = LUA_NOREF;
}

static int l_client_gc(lua_State *L)
{
  release_client(L, luaL_checkudata(L, 1, LSLB_CLIENT));
  return 0;
}

/* Idempotent: serves close and __close. */
static int l_client_close(lua_State *L)
{
  lclient *lc = luaL_checkudata(L, 1, LSLB_CLIENT);

  if(lc->calls)
    return luaL_error(L, "cannot close an slb client while %d of its "
                      "calls are in flight", lc->calls);
  release_client(L, lc);
  return 0;
}

static int l_client_tostring(lua_State *L)
{
  lclient *lc = luaL_checkudata(L, 1, LSLB_CLIENT);
  if(lc->client)
    lua_pushfstring(L, "slb client (%s%s)", slb_client_region(lc->client),
                    slb_client_dry_run(lc->client) ? ", dry run" : "");
  else
    lua_pushliteral(L, "slb client (closed)");
  return 1;
}

/* }====================================================== */

/*
** {======================================================
** Client construction
** =======================================================
*/

/* Every option a client takes; anything else is a typo worth raising. */
static const char *const client_options[] = {
  "region", "profile", "endpoint", "access_key_id", "access_key_secret",
  "security_token", "signature", "timeout", "connect_timeout", "retries",
  "backoff", "ca_file", "dry_run", "max_deletes", "max_time", "simulate",
  "audit",
  "log", "on_attempt", NULL
};

static void check_option_names(lua_State *L, int idx)
{
  lua_pushnil(L);
  while(lua_next(L, idx)) {
    int i;
    lua_pop(L, 1);
    if(lua_type(L, -1) != LUA_TSTRING)
      luaL_argerror(L, 1, "option names must be strings");
    for(i = 0; client_options[i]; i++)
      if(!strcmp(lua_tostring(L, -1), client_options[i]))
        break;
    if(!client_options[i])
      luaL_argerror(L, 1, lua_pushfstring(L, "unknown option '%s'",
                                          lua_tostring(L, -1)));
  }
}

/* Pushes the option from the given table, else from the defaults. */
static int get_option(lua_State *L, int given, int defaults,
                      const char *name)
{
  if(given && lua_getfield(L, given, name) != LUA_TNIL)
    return lua_type(L, -1);
  if(given)
    lua_pop(L, 1);
  return lua_getfield(L, defaults, name);
}

static const char *string_option(lua_State *L, int given, int defaults,
                                 const char *name)
{
  int t = get_option(L, given, defaults, name);
  const char *s = NULL;

  if(t == LUA_TSTRING)
    s = lua_tostring(L, -1);
  else if(t != LUA_TNIL)
    luaL_argerror(L, 1, lua_pushfstring(L, "option '%s' must be a string",
                                        name));
  lua_pop(L, 1);             /* still anchored in its table */
  return s;
}

static double number_option(lua_State *L, int given, int defaults,
                            const char *name, double fallback, double min,
                            double max)
{
  int t = get_option(L, given, defaults, name);
  double v = fallback;

  if(t != LUA_TNIL) {
    if(t != LUA_TNUMBER)
      luaL_argerror(L, 1, lua_pushfstring(L, "option '%s' must be a "
                                          "number", name));
    v = lua_tonumber(L, -1);
    if(!(v >= min && v <= max))
      luaL_argerror(L, 1, lua_pushfstring(L, "option '%s' must be from "
                                          "%f to %f", name, min, max));
  }
  lua_pop(L, 1);
  return v;
}

static double whole_option(lua_State *L, int given, int defaults,
                           const char *name, double fallback, double min,
                           double max)
{
  double v = number_option(L, given, defaults, name, fallback, min, max);

  if(v != (double)(long long)v)
    luaL_argerror(L, 1, lua_pushfstring(L, "option '%s' must be a whole "
                                        "number", name));
  return v;
}

static int bool_option(lua_State *L, int given, int defaults,
                       const char *name)
{
  int t = get_option(L, given, defaults, name), v;

  if(t != LUA_TNIL && t != LUA_TBOOLEAN)
    luaL_argerror(L, 1, lua_pushfstring(L, "option '%s' must be a boolean",
                                        name));
  v = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return v;
}

static int sim_gc(lua_State *L)
{
  sim_box *box = luaL_checkudata(L, 1, SIM_BOX);
  slb_sim_free(box->sim);
  box->sim = NULL;
  return 0;
}

/* One simulation per inventory file per Lua state, shared by every client
 * so a deletion made through one is seen by the others. Leaves the box on
 * the stack; returns NULL (and pushes an error message) on failure. */
static slb_sim *simulation(lua_State *L, const char *path)
{
  sim_box *box;
  char err[512];

  lua_getfield(L, LUA_REGISTRYINDEX, SIMS_KEY);
  if(lua_getfield(L, -1, path) == LUA_TUSERDATA) {
    lua_remove(L, -2);
    return ((sim_box *)lua_touserdata(L, -1))->sim;
  }
  lua_pop(L, 1);
  box = lua_newuserdatauv(L, sizeof(*box), 0);
  box->sim = NULL;
  luaL_setmetatable(L, SIM_BOX);
  box->sim = slb_sim_load(path, (long long)time(NULL) * 1000, err,
                          sizeof(err));
  if(!box->sim) {
    lua_pop(L, 2);
    lua_pushstring(L, err);
    return NULL;
  }
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, path);
  lua_remove(L, -2);
  return box->sim;
}

static int log_level(lua_State *L, const char *name)
{
  static const char *const levels[] = {"quiet", "normal", "verbose", NULL};
  int i;

  for(i = 0; levels[i]; i++)
    if(!strcmp(name, levels[i]))
      return i;
  return luaL_argerror(L, 1, lua_pushfstring(L, "option 'log' must be "
                       "quiet, normal or verbose, not '%s'", name));
}

static int signature_version(lua_State *L, const char *name)
{
  if(!name || !strcmp(name, "v1"))
    return 1;
  if(!strcmp(name, "v3"))
    return 3;
  return luaL_argerror(L, 1, lua_pushfstring(L, "option 'signature' must "
                       "be v1 or v3, not '%s'", name));
}

static void read_config(lua_State *L, int given, int defaults,
                        slb_config *cfg)
{
  cfg->region = string_option(L, given, defaults, "region");
  if(cfg->region && !slb_region_valid(cfg->region))
    luaL_argerror(L, 1, lua_pushfstring(L, "invalid region id '%s'",
                                        cfg->region));
  cfg->profile = string_option(L, given, defaults, "profile");
  cfg->endpoint = string_option(L, given, defaults, "endpoint");
  cfg->access_key_id = string_option(L, given, defaults, "access_key_id");
  cfg->access_key_secret = string_option(L, given, defaults,
                                         "access_key_secret");
  cfg->security_token = string_option(L, given, defaults,
                                      "security_token");
  cfg->ca_file = string_option(L, given, defaults, "ca_file");
  cfg->signature_version =
    signature_version(L, string_option(L, given, defaults, "signature"));
  cfg->timeout_ms = (long)(1000 * number_option(L, given, defaults,
                           "timeout", 30, 0.001, 86400));
  cfg->connect_timeout_ms = (long)(1000 * number_option(L, given,
                                   defaults, "connect_timeout", 5, 0.001,
                                   3600));
  cfg->retries = (int)whole_option(L, given, defaults, "retries", 3, 0,
                                   100);
  cfg->backoff_ms = (long)(1000 * number_option(L, given, defaults,
                           "backoff", 0.2, 0.001, 60));
  cfg->max_time_ms = (long)(1000 * number_option(L, given, defaults,
                            "max_time", 0, 0, 1e7));
  cfg->max_deletes = (long)whole_option(L, given, defaults, "max_deletes",
                                        -1, -1, 1e9);
  cfg->dry_run = bool_option(L, given, defaults, "dry_run");
}

/* Appends to a regular file (or a device such as /dev/null); never blocks
 * on a FIFO. */
static FILE *open_audit(const char *path)
{
  struct stat st;
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK |
                O_CLOEXEC, 0600);
  FILE *f;

  if(fd < 0)
    return NULL;
  if(fstat(fd, &st) || !(S_ISREG(st.st_mode) || S_ISCHR(st.st_mode))) {
    close(fd);
    errno = 0;
    return NULL;
  }
  f = fdopen(fd, "a");
  if(!f)
    close(fd);
  return f;
}

/* Everything from the options that is not the core's own configuration:
 * log level, audit file, hook. Returns 0, or pushes a message and -1. */
static int read_extras(lua_State *L, int given, int defaults, lclient *lc,
                       const char *audit)
{
  const char *level = string_option(L, given, defaults, "log");

  lc->log_level = level ? log_level(L, level) : LOG_QUIET;
  if(get_option(L, given, defaults, "on_attempt") == LUA_TFUNCTION)
    lc->on_attempt = luaL_ref(L, LUA_REGISTRYINDEX);
  else if(!lua_isnil(L, -1))
    luaL_argerror(L, 1, "option 'on_attempt' must be a function");
  else
    lua_pop(L, 1);
  if(audit && !(lc->audit = open_audit(audit))) {
    lua_pushfstring(L, "cannot open audit file %s: %s", audit,
                    errno ? strerror(errno) : "not a regular file");
    return -1;
  }
  return 0;
}

/* Builds a client from options over the defaults; pushes it, or nil and
 * an error. given is 0 when there are no options. */
/* The host's safety settings hold for every client of the run, whatever
 * a script asks: a dry run stays dry, a simulation stays simulated, the
 * audit trail and time limit stay, and the delete limit is one budget
 * shared by all clients. The enforced table is at index enforced. */
static void apply_enforced(lua_State *L, int enforced, slb_config *cfg,
                           const char **sim_path, const char **audit)
{
  double limit;

  if(lua_getfield(L, enforced, "dry_run") == LUA_TBOOLEAN &&
     lua_toboolean(L, -1))
    cfg->dry_run = 1;
  if(lua_getfield(L, enforced, "simulate") == LUA_TSTRING)
    *sim_path = lua_tostring(L, -1);
  if(lua_getfield(L, enforced, "audit") == LUA_TSTRING)
    *audit = lua_tostring(L, -1);
  if(lua_getfield(L, enforced, "max_time") == LUA_TNUMBER) {
    limit = 1000 * lua_tonumber(L, -1);
    if(!cfg->max_time_ms || limit < (double)cfg->max_time_ms)
      cfg->max_time_ms = (long)limit;
  }
  if(lua_getfield(L, enforced, "budget") == LUA_TUSERDATA)
    cfg->budget = lua_touserdata(L, -1);
  lua_pop(L, 5);                /* all anchored in the enforced table */
}

static int new_client(lua_State *L, int given)
{
  int defaults, enforced;
  lclient *lc;
  slb_config cfg;
  slb_error err;
  const char *sim_path, *audit;

  lua_getfield(L, LUA_REGISTRYINDEX, DEFAULTS_KEY);
  defaults = lua_gettop(L);
  slb_config_init(&cfg);
  read_config(L, given, defaults, &cfg);
  sim_path = string_option(L, given, defaults, "simulate");
  audit = string_option(L, given, defaults, "audit");
  lua_getfield(L, LUA_REGISTRYINDEX, ENFORCED_KEY);
  enforced = lua_gettop(L);
  if(lua_istable(L, enforced))
    apply_enforced(L, enforced, &cfg, &sim_path, &audit);
  lc = lua_newuserdatauv(L, sizeof(*lc), 2);
  if(cfg.budget) {
    lua_getfield(L, enforced, "budget");
    lua_setiuservalue(L, -2, 2);        /* keeps the shared budget alive */
  }
  memset(lc, 0, sizeof(*lc));
  lc->on_attempt = LUA_NOREF;
  luaL_setmetatable(L, LSLB_CLIENT);
  if(sim_path) {
    if(!(cfg.simulate = simulation(L, sim_path))) {
      memset(&err, 0, sizeof(err));
      snprintf(err.code, sizeof(err.code), "%s", SLB_E_INVALID);
      snprintf(err.message, sizeof(err.message), "%s",
               lua_tostring(L, -1));
      return lslb_pusherror(L, &err);
    }
    lua_setiuservalue(L, -2, 1);        /* the client keeps it alive */
  }
  if(read_extras(L, given, defaults, lc, audit)) {
    memset(&err, 0, sizeof(err));
    snprintf(err.code, sizeof(err.code), "%s", SLB_E_INVALID);
    snprintf(err.message, sizeof(err.message), "%s", lua_tostring(L, -1));
    return lslb_pusherror(L, &err);
  }
  cfg.observer = observer;
  cfg.observer_ud = lc;
  lc->client = slb_client_new(&cfg, &err);
  if(!lc->client)
    return lslb_pusherror(L, &err);
  return 1;
}

static int l_client(lua_State *L)
{
  int given = 0;

  if(!lua_isnoneornil(L, 1)) {
    luaL_checktype(L, 1, LUA_TTABLE);
    check_option_names(L, 1);
    given = 1;
  }
  lua_settop(L, given);
  return new_client(L, given);
}

/* }====================================================== */

/*
** {======================================================
** Module functions
** =======================================================
*/

int lslb_pending(lua_State *L)
{
  scheduler *s;
  int n = 0;

  if(lua_getfield(L, LUA_REGISTRYINDEX, SCHEDULER_KEY) == LUA_TUSERDATA) {
    s = lua_touserdata(L, -1);
    n = s->multi ? slb_multi_pending(s->multi) : 0;
  }
  lua_pop(L, 1);
  return n;
}

void lslb_enforce(lua_State *L, int idx)
{
  static const char *const keys[] = {"dry_run", "simulate", "audit",
                                     "max_time", NULL};
  int i;

  idx = lua_absindex(L, idx);
  lua_newtable(L);
  for(i = 0; keys[i]; i++) {
    lua_getfield(L, idx, keys[i]);
    lua_setfield(L, -2, keys[i]);
  }
  if(lua_getfield(L, idx, "max_deletes") == LUA_TNUMBER) {
    slb_budget *b = lua_newuserdatauv(L, sizeof(*b), 0);
    b->max = (long)lua_tonumber(L, -2);
    b->used = b->in_flight = 0;
    lua_setfield(L, -3, "budget");
  }
  lua_pop(L, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, ENFORCED_KEY);
}

/* Updates the default options (given fields replace those set before);
 * the next module call builds a new default client from them. */
static int l_configure(lua_State *L)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  check_option_names(L, 1);
  lua_getfield(L, LUA_REGISTRYINDEX, DEFAULTS_KEY);
  lua_pushnil(L);
  while(lua_next(L, 1)) {
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_settable(L, -4);
  }
  lua_pop(L, 1);
  if(lua_getfield(L, LUA_REGISTRYINDEX, DEFAULT_CLIENT_KEY) ==
     LUA_TUSERDATA) {
    lua_pushcfunction(L, l_client_close);
    lua_insert(L, -2);
    lua_call(L, 1, 0);
  }
  lua_pushnil(L);
  lua_setfield(L, LUA_REGISTRYINDEX, DEFAULT_CLIENT_KEY);
  return 0;
}

/* Pushes the default client, building it from the defaults on first use.
 * Returns 1, or 2 after pushing nil and an error. */
static int push_default(lua_State *L)
{
  int top = lua_gettop(L);

  if(lua_getfield(L, LUA_REGISTRYINDEX, DEFAULT_CLIENT_KEY) ==
     LUA_TUSERDATA)
    return 1;
  lua_pop(L, 1);
  if(new_client(L, 0) != 1)
    return 2;
  lua_replace(L, top + 1);      /* drop the defaults table under it */
  lua_settop(L, top + 1);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, DEFAULT_CLIENT_KEY);
  return 1;
}

/* Runs a call on the default client, built once the arguments pass. */
static int with_default(lua_State *L, int nargs,
                        int (*fn)(lua_State *, int, int))
{
  lua_settop(L, nargs);
  return fn(L, 0, 1);
}

static int m_delete_cert(lua_State *L)
{
  return with_default(L, 2, delete_cert);
}

static int m_describe_certs(lua_State *L)
{
  return with_default(L, 1, describe_certs);
}

static int m_call(lua_State *L)
{
  luaL_checkstring(L, 1);           /* before settop turns none into nil */
  return with_default(L, 3, call);
}

static int m_default_client(lua_State *L)
{
  lua_settop(L, 0);
  return push_default(L);
}

static const char *check_method(lua_State *L, int arg)
{
  const char *method = luaL_optstring(L, arg, "GET");
  if(strcmp(method, "GET") && strcmp(method, "POST"))
    luaL_argerror(L, arg, lua_pushfstring(L, "method must be GET or POST, "
                                          "not '%s'", method));
  return method;
}

static const char *check_secret(lua_State *L, int arg, size_t *len)
{
  if(lua_type(L, arg) != LUA_TSTRING)
    luaL_argerror(L, arg, lua_pushfstring(L, "secret must be a string, got "
                                          "%s", luaL_typename(L, arg)));
  return lua_tolstring(L, arg, len);
}

/* slb.sign(params, secret [, method]): the V1 signature of exactly the
 * given parameters, and the string that was signed. */
static int l_sign(lua_State *L)
{
  slb_params *p;
  const char *secret, *method;
  size_t secret_len;
  char signature[SLB_V1_SIGNATURE_SIZE];
  slb_buf *sts;

  if(lua_type(L, 1) != LUA_TTABLE)
    luaL_argerror(L, 1, lua_pushfstring(L, "params must be a table, got %s",
                                        luaL_typename(L, 1)));
  secret = check_secret(L, 2, &secret_len);
  method = check_method(L, 3);
  p = lslb_newparams(L);
  lslb_flatten(L, 1, 1, p);
  sts = lslb_newbuf(L);
  if(slb_sign_v1(p, method, secret, secret_len, sts, signature))
    return luaL_error(L, "out of memory");
  lua_pushstring(L, signature);
  lua_pushlstring(L, sts->data, sts->len);
  return 2;
}

static void fill_pairs(lua_State *L, int opts, const char *field,
                       slb_params *p)
{
  if(lua_getfield(L, opts, field) != LUA_TNIL) {
    if(!lua_istable(L, -1))
      luaL_argerror(L, 1, lua_pushfstring(L, "field '%s' must be a table",
                                          field));
    lslb_flatten(L, -1, 1, p);
  }
  lua_pop(L, 1);
}

static const char *field_string(lua_State *L, int opts, const char *field,
                                size_t *len)
{
  const char *s;

  if(lua_getfield(L, opts, field) != LUA_TSTRING)
    luaL_argerror(L, 1, lua_pushfstring(L, "field '%s' must be a string, "
                                        "got %s", field,
                                        luaL_typename(L, -1)));
  s = lua_tolstring(L, -1, len);
  lua_pop(L, 1);            /* anchored in the options table */
  return s;
}

/* slb.sign_v3{method=, query=, headers=, secret=, access_key_id=}: the
 * ACS3-HMAC-SHA256 signature of exactly those headers and query, the
 * canonical request, and the Authorization value. */
static int l_sign_v3(lua_State *L)
{
  slb_params *query, *headers;
  slb_v3_request req;
  slb_v3_result *out;

  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getfield(L, 1, "method");
  req.method = check_method(L, -1);
  lua_pop(L, 1);
  req.secret = field_string(L, 1, "secret", &req.secret_len);
  req.access_key_id = field_string(L, 1, "access_key_id", NULL);
  query = lslb_newparams(L);
  headers = lslb_newparams(L);
  fill_pairs(L, 1, "query", query);
  fill_pairs(L, 1, "headers", headers);
  if(slb_params_find(headers, "x-acs-content-sha256") < 0)
    luaL_argerror(L, 1, "headers must include x-acs-content-sha256");
  req.query = query;
  req.headers = headers;
  out = lua_newuserdatauv(L, sizeof(*out), 0);
  slb_v3_result_init(out);
  luaL_setmetatable(L, LSLB_V3);
  if(slb_sign_v3(&req, out))
    return luaL_error(L, "header names must be printable ASCII without "
                      "spaces, ':' or ';'");
  lua_pushstring(L, out->signature);
  lua_pushlstring(L, out->canonical_request.data,
                  out->canonical_request.len);
  lua_pushlstring(L, out->authorization.data, out->authorization.len);
  lua_pushstring(L, out->hashed_canonical_request);
  return 4;
}

static int v3_gc(lua_State *L)
{
  slb_v3_result_free(luaL_checkudata(L, 1, LSLB_V3));
  return 0;
}

/* slb.json_decode(text): a JSON text as Lua values (null is slb.null);
 * nil and a message when it is not JSON. */
static int l_json_decode(lua_State *L)
{
  size_t len;
  const char *text = luaL_checklstring(L, 1, &len);
  cJSON *json = cJSON_ParseWithLength(text, len);

  if(!json) {
    luaL_pushfail(L);
    lua_pushfstring(L, "not valid JSON near byte %d",
                    (int)(cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() - text
                          : 0));
    return 2;
  }
  lslb_boxjson(L, json);
  lslb_pushjson(L, json);
  return 1;
}

static int l_is_mutating(lua_State *L)
{
  lua_pushboolean(L, slb_action_is_mutating(luaL_checkstring(L, 1)));
  return 1;
}

static int scheduler_gc(lua_State *L)
{
  scheduler *s = luaL_checkudata(L, 1, SCHEDULER);
  slb_multi_free(s->multi);
  s->multi = NULL;
  return 0;
}

/* Runs fn(item, i) in a new coroutine of the scheduler at index sched.
 * Returns 1 if it is now waiting on a call, 0 if it has finished; an
 * error leaves a message on the stack and returns -1. */
static int resume(lua_State *L, int sched, lua_State *co, int nargs)
{
  int nres, status = lua_resume(co, L, nargs, &nres);

  /* Only dispatch yields this marker; any other yield is the script's. */
  if(status == LUA_YIELD && nres == 1 &&
     lua_touserdata(co, -1) == (void *)&active_scheduler)
    return 1;
  lua_getiuservalue(L, sched, 1);
  lua_pushthread(co);
  lua_xmove(co, L, 1);
  lua_pushnil(L);
  lua_rawset(L, -3);                        /* forget the coroutine */
  lua_pop(L, 1);
  if(status == LUA_OK) {
    lua_pop(co, nres);
    return 0;
  }
  if(status == LUA_YIELD)
    lua_pushliteral(L, "slb.each: the function yielded outside an slb "
                    "call");
  else
    luaL_traceback(L, co, luaL_tolstring(co, -1, NULL), 0);
  return -1;
}

static int start_item(lua_State *L, int sched, lua_Integer i)
{
  lua_State *co = lua_newthread(L);

  lua_getiuservalue(L, sched, 1);
  lua_pushvalue(L, -2);
  lua_pushboolean(L, 1);
  lua_rawset(L, -3);                        /* threads[co] = true */
  lua_pop(L, 2);
  lua_pushvalue(L, 2);
  lua_geti(L, 1, i);
  lua_pushinteger(L, i);
  lua_xmove(L, co, 3);
  return resume(L, sched, co, 2);
}

/* Keeps up to concurrency coroutines going until every item is done or
 * one failed (then lets the calls in flight finish). Returns the error
 * count; the first message stays on the stack. */
static int drive(lua_State *L, int sched, scheduler *s, lua_Integer n,
                 lua_Integer concurrency)
{
  lua_Integer next = 1, alive = 0;
  int errors = 0, rc;
  lua_State *co;
  slb_op *op;

  for(;;) {
    while(!errors && alive < concurrency && next <= n) {
      rc = start_item(L, sched, next++);
      alive += rc > 0;
      if(rc < 0 && !errors++)
        lua_insert(L, sched + 1);
      else if(rc < 0)
        lua_pop(L, 1);
    }
    if(!alive)
      return errors;
    op = slb_multi_next(s->multi);
    if(!op)                 /* the rest were closed by someone else */
      return errors;
    co = slb_op_userdata(op);
    /* Someone else resumed or closed it: it no longer waits for us. */
    if(lua_status(co) != LUA_YIELD || !lua_gettop(co)) {
      alive--;
      continue;
    }
    rc = resume(L, sched, co, 0);
    alive -= rc <= 0;
    if(rc < 0 && !errors++)
      lua_insert(L, sched + 1);
    else if(rc < 0)
      lua_pop(L, 1);
  }
}

/* drive() under lua_pcall: items, fn, nil, scheduler, n, concurrency. */
static int each_protected(lua_State *L)
{
  scheduler *s = lua_touserdata(L, 4);
  lua_Integer n = lua_tointeger(L, 5), concurrency = lua_tointeger(L, 6);

  lua_settop(L, 4);
  if(drive(L, 4, s, n, concurrency))
    return lua_error(L);
  return 0;
}

static lua_Integer each_option(lua_State *L, const char *name,
                               lua_Integer fallback, lua_Integer min)
{
  lua_Integer v = fallback;

  if(lua_isnoneornil(L, 3))
    return v;
  if(lua_getfield(L, 3, name) != LUA_TNIL) {
    if(!lua_isinteger(L, -1) || lua_tointeger(L, -1) < min ||
       lua_tointeger(L, -1) > 10000)
      luaL_argerror(L, 3, lua_pushfstring(L, "option '%s' must be a whole "
                                          "number from %d to 10000", name,
                                          (int)min));
    v = lua_tointeger(L, -1);
  }
  lua_pop(L, 1);
  return v;
}

/* slb.each(items, fn [, {concurrency=, rate=}]): fn(item, i) for every
 * item. With concurrency above 1 (or a rate), each fn runs in a coroutine
 * whose slb calls yield while in flight, so up to concurrency requests
 * run at once on shared connections; rate caps requests per second. */
static int l_each(lua_State *L)
{
  lua_Integer i, n, concurrency, rate;
  scheduler *s;
  int sched;

  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  if(!lua_isnoneornil(L, 3))
    luaL_checktype(L, 3, LUA_TTABLE);
  concurrency = each_option(L, "concurrency", 1, 1);
  rate = each_option(L, "rate", 0, 0);
  lua_settop(L, 3);
  n = luaL_len(L, 1);
  if(concurrency == 1 && !rate) {
    for(i = 1; i <= n; i++) {
      lua_pushvalue(L, 2);
      lua_geti(L, 1, i);
      lua_pushinteger(L, i);
      lua_call(L, 2, 0);
    }
    lua_pushinteger(L, n);
    return 1;
  }
  if(lua_getfield(L, LUA_REGISTRYINDEX, SCHEDULER_KEY) != LUA_TNIL)
    return luaL_error(L, "slb.each with concurrency cannot be nested");
  lua_pop(L, 1);
  s = lua_newuserdatauv(L, sizeof(*s), 1);
  s->multi = NULL;
  luaL_setmetatable(L, SCHEDULER);
  sched = lua_gettop(L);
  lua_newtable(L);
  lua_setiuservalue(L, sched, 1);
  s->L = L;
  s->multi = slb_multi_new((double)rate);
  if(!s->multi)
    return luaL_error(L, "out of memory");
  lua_pushvalue(L, sched);
  lua_setfield(L, LUA_REGISTRYINDEX, SCHEDULER_KEY);
  /* Whatever happens in there, the scheduler is unregistered after. */
  lua_pushcfunction(L, each_protected);
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_pushnil(L);
  lua_pushvalue(L, sched);
  lua_pushinteger(L, n);
  lua_pushinteger(L, concurrency);
  i = lua_pcall(L, 6, 0, 0);
  lua_pushnil(L);
  lua_setfield(L, LUA_REGISTRYINDEX, SCHEDULER_KEY);
  if(i != LUA_OK)
    return lua_error(L);          /* the first error, with its traceback */
  lua_pushinteger(L, n);
  return 1;
}

/* }====================================================== */

static const luaL_Reg module_functions[] = {
  {"sign", l_sign},
  {"sign_v3", l_sign_v3},
  {"client", l_client},
  {"configure", l_configure},
  {"default_client", m_default_client},
  {"delete_cert", m_delete_cert},
  {"describe_certs", m_describe_certs},
  {"call", m_call},
  {"each", l_each},
  {"is_mutating", l_is_mutating},
  {"json_decode", l_json_decode},
  {NULL, NULL}
};

static const luaL_Reg client_methods[] = {
  {"delete_cert", l_delete_cert},
  {"describe_certs", l_describe_certs},
  {"call", l_call},
  {"region", l_client_region},
  {"info", l_client_info},
  {"close", l_client_close},
  {NULL, NULL}
};

static const luaL_Reg client_metamethods[] = {
  {"__index", NULL},            /* filled with the methods */
  {"__gc", l_client_gc},
  {"__close", l_client_close},
  {"__tostring", l_client_tostring},
  {NULL, NULL}
};

static void create_metatables(lua_State *L)
{
  luaL_newmetatable(L, LSLB_CLIENT);
  luaL_setfuncs(L, client_metamethods, 0);
  luaL_newlibtable(L, client_methods);
  luaL_setfuncs(L, client_methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  lslb_gc_metatable(L, SIM_BOX, sim_gc);
  lslb_gc_metatable(L, LSLB_OP, op_gc);
  lslb_gc_metatable(L, SCHEDULER, scheduler_gc);
  lslb_gc_metatable(L, LSLB_V3, v3_gc);
  lslb_open_conv(L);
}

int luaopen_slb(lua_State *L)
{
  create_metatables(L);
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, SIMS_KEY);
  if(lua_getfield(L, LUA_REGISTRYINDEX, DEFAULTS_KEY) != LUA_TTABLE) {
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, DEFAULTS_KEY);
  }
  lua_pop(L, 1);
  luaL_newlib(L, module_functions);
  lua_pushlightuserdata(L, NULL);
  lua_setfield(L, -2, "null");
  lua_pushliteral(L, SLB_VERSION);
  lua_setfield(L, -2, "version");
  return 1;
}
