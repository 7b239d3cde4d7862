/* slbscript.c: the host. Runs a Lua policy script with the `slb` module
 * preloaded and a default client configured from the command line. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "lslb.h"

#define EXIT_SCRIPT 1
#define EXIT_USAGE 2
#define EXIT_TIME_LIMIT 3

static const char usage_text[] =
"usage: slbscript [options] script.lua [args...]\n"
"       slbscript [options] -e 'lua chunk' [args...]\n"
"       slbscript [options] - [args...]      (script on standard input)\n"
"\n"
"Runs a Lua 5.4 script with the `slb` module loaded and a default client\n"
"configured from these options. Options after the script belong to it\n"
"(in the global `arg`, as with lua).\n"
"\n"
"Options:\n"
"  --region ID        region of the default client (else\n"
"                     ALIBABA_CLOUD_REGION_ID, else the profile's; when\n"
"                     simulating, the inventory's first region)\n"
"  --profile NAME     credentials profile (~/.aliyun/config.json, then\n"
"                     ~/.alibabacloud/credentials)\n"
"  --endpoint HOST    API endpoint override (host[:port] or URL)\n"
"  --dry-run          do not send mutating calls; log and report them\n"
"  --simulate FILE    answer every call from an inventory JSON file, in\n"
"                     process; no cloud account needed\n"
"  --audit FILE       append one JSON line per mutating call\n"
"  --ca-file FILE     trust this CA bundle for HTTPS\n"
"  --timeout SEC      per-attempt timeout (default 30)\n"
"  --retries N        retries of transient failures (default 3)\n"
"  --signature v1|v3  signature version (default v1)\n"
"  --max-deletes N    refuse mutating calls once N of them have (or may\n"
"                     have) changed something (DeleteLimitReached)\n"
"  --max-time SEC     stop the script after SEC seconds (exit status 3)\n"
"  -e CHUNK           run CHUNK instead of a script file\n"
"  -v, --verbose      log every attempt, not just mutating calls\n"
"  -q, --quiet        log nothing but errors (the last of -v, -q wins)\n"
"  --version          print the version\n"
"  -h, --help         print this help\n"
"\n"
"Credentials: ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET\n"
"(ALIBABA_CLOUD_SECURITY_TOKEN for STS), the older ALICLOUD_* names, then\n"
"the profile files. Never pass a secret on the command line.\n"
"\n"
"The slb module (misuse raises; a failed call returns nil, err where err\n"
"has code, message, request_id, status, retryable; tostring(err) prints\n"
"them):\n"
"  slb.describe_certs([{region=}])     -> array of certificate tables\n"
"       (ServerCertificateId, ServerCertificateName, ExpireTimeStamp ms...)\n"
"  slb.delete_cert(id [, {region=}])   -> {request_id, already_deleted,\n"
"                                          dry_run, ...}\n"
"  slb.call(action, params [, {region=}]) -> decoded response\n"
"  slb.client{region=, profile=, dry_run=, ...} -> client with the same\n"
"       methods (c:delete_cert(id) ...)\n"
"  slb.each(items, fn [, {concurrency=}]), slb.sign(params, secret)\n"
"  slb.configure{...} sets the defaults every client starts from; the\n"
"  options are listed in the README (region, retries, log, ...).\n"
"\n"
"Example:\n"
"  local now = os.time() * 1000\n"
"  for _, c in ipairs(assert(slb.describe_certs())) do\n"
"    if c.ExpireTimeStamp < now then\n"
"      local ok, err = slb.delete_cert(c.ServerCertificateId)\n"
"      if not ok and err.code ~= 'CertificateAndPrivateKeyIsRefered' then\n"
"        error(tostring(err))\n"
"      end\n"
"    end\n"
"  end\n"
"\n"
"Exit status: 0 success, 1 script error or failed run, 2 usage error,\n"
"3 --max-time.\n";

struct options {
  const char *chunk;           /* -e */
  const char *script;          /* path, "-" or NULL */
  int script_at;               /* argv index of the script (or of -e) */
  double max_time;
  const char *log;
};

static double deadline;        /* monotonic seconds; 0 = none */
static int time_limit_hit;

static double monotonic_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Once the limit is passed, every later hook raises again, so a script's
 * own pcall cannot swallow the stop and carry on. */
static void time_hook(lua_State *L, lua_Debug *ar)
{
  (void)ar;
  if(monotonic_s() < deadline)
    return;
  time_limit_hit = 1;
  lua_sethook(L, time_hook, LUA_MASKCOUNT, 1);
  luaL_error(L, "stopped: --max-time limit reached");
}

static int usage_error(const char *fmt, const char *what)
{
  fprintf(stderr, "slbscript: ");
  fprintf(stderr, fmt, what);
  fprintf(stderr, "\nTry 'slbscript --help'.\n");
  return EXIT_USAGE;
}

/* Secrets the environment holds; any error text is cleaned of them. */
static const char *const secret_vars[] = {
  "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN",
  "ALICLOUD_SECRET_KEY", "ALICLOUD_SECURITY_TOKEN", NULL
};

static void print_clean(const char *text)
{
  char *copy = strdup(text ? text : "(error object is not a string)");
  int i;

  if(!copy)
    return;
  for(i = 0; secret_vars[i]; i++) {
    const char *secret = getenv(secret_vars[i]);
    size_t n = secret ? strlen(secret) : 0;
    char *at;
    if(n < 4)
      continue;
    while((at = strstr(copy, secret)) != NULL) {
      memcpy(at, "***", 3);
      memmove(at + 3, at + n, strlen(at + n) + 1);
    }
  }
  fprintf(stderr, "slbscript: %s\n", copy);
  free(copy);
}

static int parse_number(const char *text, double min, double max,
                        double *out)
{
  char *end;
  errno = 0;
  *out = strtod(text, &end);
  return !errno && end != text && !*end && *out >= min && *out <= max;
}

/* Checked before any script runs, so that a typo in a path is a usage
 * error and not a failure at the first call. */
static int can_open(const char *path, int flags)
{
  int fd = open(path, flags | O_NONBLOCK | O_CLOEXEC, 0600);
  if(fd >= 0)
    close(fd);
  return fd >= 0;
}

/* Options that take a value and become a default client setting. */
static const struct {
  const char *flag;
  const char *setting;
  int numeric;                 /* 0 string, 1 number, 2 whole number */
  double min, max;
} value_options[] = {
  {"--region", "region", 0, 0, 0},
  {"--profile", "profile", 0, 0, 0},
  {"--endpoint", "endpoint", 0, 0, 0},
  {"--simulate", "simulate", 0, 0, 0},
  {"--audit", "audit", 0, 0, 0},
  {"--ca-file", "ca_file", 0, 0, 0},
  {"--signature", "signature", 0, 0, 0},
  {"--timeout", "timeout", 1, 0.001, 86400},
  {"--retries", "retries", 2, 0, 100},
  {"--max-deletes", "max_deletes", 2, 0, 1e9},
  {NULL, NULL, 0, 0, 0}
};

/* Splits "--name=value" or takes the next argument, unless that is
 * another option: "--region -e x" is a missing region, not region "-e". */
static const char *option_value(int argc, char **argv, int *i,
                                const char *flag)
{
  size_t n = strlen(flag);
  if(argv[*i][n] == '=')
    return argv[*i] + n + 1;
  if(*i + 1 >= argc || (argv[*i + 1][0] == '-' && argv[*i + 1][1] &&
                        !isdigit((unsigned char)argv[*i + 1][1])))
    return NULL;
  return argv[++*i];
}

static int matches(const char *arg, const char *flag)
{
  size_t n = strlen(flag);
  return !strncmp(arg, flag, n) && (arg[n] == '\0' || arg[n] == '=');
}

/* Sets defaults[setting] from a value option. */
static int value_option(lua_State *L, int k, const char *value)
{
  double number;

  if(!value)
    return usage_error("option %s needs a value", value_options[k].flag);
  if(value_options[k].numeric) {
    if(!parse_number(value, value_options[k].min, value_options[k].max,
                     &number) ||
       (value_options[k].numeric == 2 && number != (double)(long)number)) {
      fprintf(stderr, "slbscript: %s: '%s' is not a %snumber from %g to "
              "%g\nTry 'slbscript --help'.\n", value_options[k].flag, value,
              value_options[k].numeric == 2 ? "whole " : "",
              value_options[k].min, value_options[k].max);
      return EXIT_USAGE;
    }
    lua_pushnumber(L, number);
  }
  else if(!strcmp(value_options[k].setting, "signature") &&
          strcmp(value, "v1") && strcmp(value, "v3"))
    return usage_error("--signature takes v1 or v3, not '%s'", value);
  else if(!strcmp(value_options[k].setting, "region") &&
          !slb_region_valid(value))
    return usage_error("--region '%s' is not a region id (letters, "
                       "digits, '-' and '_')", value);
  else if(!strcmp(value_options[k].setting, "simulate") &&
          !can_open(value, O_RDONLY))
    return usage_error("--simulate: cannot read the inventory file '%s'",
                       value);
  else if(!strcmp(value_options[k].setting, "audit") &&
          !can_open(value, O_WRONLY | O_APPEND | O_CREAT))
    return usage_error("--audit: cannot open '%s' for appending", value);
  else
    lua_pushstring(L, value);
  lua_setfield(L, -2, value_options[k].setting);
  return 0;
}

static int flag_option(lua_State *L, const char *arg, struct options *o)
{
  if(!strcmp(arg, "--dry-run")) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "dry_run");
  }
  else if(!strcmp(arg, "-v") || !strcmp(arg, "--verbose"))
    o->log = "verbose";
  else if(!strcmp(arg, "-q") || !strcmp(arg, "--quiet"))
    o->log = "quiet";
  else
    return usage_error("unknown option '%s'", arg);
  return 0;
}

/* Reads interpreter options into the defaults table at the top of the
 * stack. Returns -1 when the run is over (help, version) with exit code 0,
 * an exit code > 0 on a usage error, or 0 to go on. */
static int parse_args(lua_State *L, int argc, char **argv,
                      struct options *o)
{
  int i, k, rc;

  for(i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if(!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
      fputs(usage_text, stdout);
      return -1;
    }
    if(!strcmp(arg, "--version")) {
      printf("slbscript %s (%s)\n", SLB_VERSION, LUA_RELEASE);
      return -1;
    }
    if(!strcmp(arg, "--")) {
      i++;
      break;
    }
    if(arg[0] != '-' || !strcmp(arg, "-"))
      break;
    if(!strcmp(arg, "-e")) {
      if(i + 1 >= argc)
        return usage_error("%s needs a chunk of Lua", arg);
      o->chunk = argv[++i];
      o->script_at = i;
      return 0;
    }
    if(matches(arg, "--max-time")) {
      const char *v = option_value(argc, argv, &i, "--max-time");
      if(!v || !parse_number(v, 0.001, 1e7, &o->max_time))
        return usage_error("--max-time needs seconds, got '%s'",
                           v ? v : "");
      /* Clients get the limit too, so a call in flight cannot outlast
       * it by more than the time to notice. */
      lua_pushnumber(L, o->max_time);
      lua_setfield(L, -2, "max_time");
      continue;
    }
    for(k = 0; value_options[k].flag; k++)
      if(matches(arg, value_options[k].flag))
        break;
    rc = value_options[k].flag ?
         value_option(L, k, option_value(argc, argv, &i,
                                         value_options[k].flag)) :
         flag_option(L, arg, o);
    if(rc)
      return rc;
  }
  if(i >= argc)
    return usage_error("%s", "no script given");
  o->script = argv[i];
  o->script_at = i;
  return 0;
}

/* Like lua's own: the error message, or its __tostring, with a
 * traceback. */
static int message_handler(lua_State *L)
{
  const char *msg = lua_tostring(L, 1);

  if(!msg) {
    if(luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      msg = lua_tostring(L, -1);
    else
      msg = lua_pushfstring(L, "(error object is a %s value)",
                            luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

/* os.exit that always closes the state, so clients wipe their keys and
 * audit files are closed however a script ends. */
static int host_exit(lua_State *L)
{
  int status;

  if(lua_isboolean(L, 1))
    status = lua_toboolean(L, 1) ? EXIT_SUCCESS : EXIT_FAILURE;
  else
    status = (int)luaL_optinteger(L, 1, EXIT_SUCCESS);
  /* Their answers will never be read, so their log and audit lines will
   * never be written: say so rather than leave a silent gap. */
  if(lslb_pending(L))
    fprintf(stderr, "slbscript: os.exit with %d calls of slb.each in "
            "flight; their outcomes are not logged or audited\n",
            lslb_pending(L));
  lua_close(L);
  exit(status);
}

static void open_host(lua_State *L)
{
  luaL_openlibs(L);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_slb);
  lua_setfield(L, -2, "slb");
  lua_pop(L, 1);
  luaL_requiref(L, "slb", luaopen_slb, 1);
  lua_pop(L, 1);
  lua_getglobal(L, "os");
  lua_pushcfunction(L, host_exit);
  lua_setfield(L, -2, "exit");
  lua_pop(L, 1);
}

/* arg[0] is the script ("-e" for a chunk), arg[1..] its arguments, as
 * lua does it. */
static int push_args(lua_State *L, int argc, char **argv, int script_at,
                     int chunk)
{
  int i, n = argc - script_at - 1;

  lua_createtable(L, n, script_at + 1);
  for(i = 0; i < argc; i++) {
    lua_pushstring(L, chunk && i == script_at ? "-e" : argv[i]);
    lua_rawseti(L, -2, i - script_at);
  }
  lua_setglobal(L, "arg");
  luaL_checkstack(L, n + 3, "too many arguments to script");
  for(i = script_at + 1; i < argc; i++)
    lua_pushstring(L, argv[i]);
  return n;
}

static int configure(lua_State *L, const struct options *o)
{
  lua_pushstring(L, o->log ? o->log : "normal");
  lua_setfield(L, -2, "log");
  lslb_enforce(L, -1);
  lua_getglobal(L, "slb");
  lua_getfield(L, -1, "configure");
  lua_pushvalue(L, -3);
  if(lua_pcall(L, 1, 0, 0) != LUA_OK) {
    fprintf(stderr, "slbscript: %s\nTry 'slbscript --help'.\n",
            lua_tostring(L, -1));
    return EXIT_USAGE;
  }
  lua_pop(L, 2);
  return 0;
}

static int load_script(lua_State *L, const struct options *o)
{
  int rc;

  if(o->chunk)
    rc = luaL_loadbuffer(L, o->chunk, strlen(o->chunk), "=(command line)");
  else
    rc = luaL_loadfile(L, strcmp(o->script, "-") ? o->script : NULL);
  if(rc != LUA_OK) {
    print_clean(lua_tostring(L, -1));
    if(rc != LUA_ERRFILE)
      return EXIT_SCRIPT;
    fprintf(stderr, "Try 'slbscript --help'.\n");
    return EXIT_USAGE;
  }
  return 0;
}

static int run(lua_State *L, int argc, char **argv)
{
  struct options o;
  int rc, nargs, base;

  memset(&o, 0, sizeof(o));
  open_host(L);
  lua_newtable(L);                                 /* the defaults */
  rc = parse_args(L, argc, argv, &o);
  if(rc)
    return rc < 0 ? EXIT_SUCCESS : rc;
  if((rc = configure(L, &o)) != 0)
    return rc;
  lua_settop(L, 0);
  lua_pushcfunction(L, message_handler);
  base = lua_gettop(L);
  if((rc = load_script(L, &o)) != 0)
    return rc;
  nargs = push_args(L, argc, argv, o.script_at, o.chunk != NULL);
  if(o.max_time > 0) {
    deadline = monotonic_s() + o.max_time;
    lua_sethook(L, time_hook, LUA_MASKCOUNT, 1000);
  }
  rc = lua_pcall(L, nargs, 0, base);
  if(rc == LUA_OK)
    return EXIT_SUCCESS;
  if(time_limit_hit) {
    fprintf(stderr, "slbscript: stopped after %g s: --max-time limit "
            "reached\n", o.max_time);
    return EXIT_TIME_LIMIT;
  }
  print_clean(lua_tostring(L, -1));
  return EXIT_SCRIPT;
}

int main(int argc, char **argv)
{
  lua_State *L = luaL_newstate();
  int status;

  if(!L) {
    fprintf(stderr, "slbscript: cannot create the Lua state\n");
    return EXIT_SCRIPT;
  }
  status = run(L, argc, argv);
  lua_close(L);
  return status;
}
