/* test_cred.c: where credentials come from and in what order, with a fake
 * environment and files in a temporary HOME; and that no error or source
 * line ever carries a secret. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "slb_cred.h"
#include "check.h"

/* Every secret planted below contains SECRET_MARK and every token
 * TOKEN_MARK, so one search of a message finds any leak. */
#define SECRET_MARK "S3CR3T"
#define TOKEN_MARK "T0K3N"

#define CLI ".aliyun/config.json"
#define INI ".alibabacloud/credentials"

#define ENV_PLACES "environment (ALIBABA_CLOUD_ACCESS_KEY_ID/" \
  "ALIBABA_CLOUD_ACCESS_KEY_SECRET, ALICLOUD_ACCESS_KEY/ALICLOUD_SECRET_KEY)"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_VARS 12
#define MAX_FILES 3

/* The profiles of the CLI file used by most rows; the rows choose
 * "current". */
#define CLI_PROFILES                                                    \
  "[\n"                                                                 \
  "  {\"name\": \"default\", \"mode\": \"AK\",\n"                       \
  "   \"access_key_id\": \"cfg-default-id\",\n"                         \
  "   \"access_key_secret\": \"cfg-default-S3CR3T\",\n"                 \
  "   \"sts_token\": \"cfg-unused-T0K3N\",\n"                           \
  "   \"region_id\": \"cn-hangzhou\"},\n"                               \
  "  {\"name\": \"prod\", \"mode\": \"AK\",\n"                          \
  "   \"access_key_id\": \" cfg-prod-id\\t\",\n"                        \
  "   \"access_key_secret\": \"\\r\\ncfg-prod-S3CR3T  \",\n"            \
  "   \"region_id\": \" eu-central-1 \"},\n"                            \
  "  {\"name\": \"sts\", \"mode\": \"StsToken\",\n"                     \
  "   \"access_key_id\": \"cfg-sts-id\",\n"                             \
  "   \"access_key_secret\": \"cfg-sts-S3CR3T\",\n"                     \
  "   \"sts_token\": \" cfg-sts-T0K3N \"},\n"                           \
  "  {\"name\": \"ram\", \"mode\": \"RamRoleArn\",\n"                   \
  "   \"access_key_id\": \"cfg-ram-id\",\n"                             \
  "   \"access_key_secret\": \"cfg-ram-S3CR3T\",\n"                     \
  "   \"ram_role_arn\": \"acs:ram::1:role/x\"},\n"                      \
  "  {\"name\": \"ecs\", \"mode\": \"EcsRamRole\",\n"                   \
  "   \"ram_role_name\": \"slb\"},\n"                                   \
  "  {\"name\": \"half\", \"mode\": \"AK\",\n"                          \
  "   \"access_key_id\": \"cfg-half-id\", \"access_key_secret\": \"\"},\n" \
  "  {\"name\": \"sts-no-token\", \"mode\": \"StsToken\",\n"            \
  "   \"access_key_id\": \"cfg-nt-id\",\n"                              \
  "   \"access_key_secret\": \"cfg-nt-S3CR3T\"},\n"                     \
  "  {\"name\": \"empty\", \"mode\": \"AK\",\n"                         \
  "   \"access_key_id\": \"\", \"access_key_secret\": \" \"}\n"         \
  "]"

#define CLI_CURRENT(name) \
  "{\"current\": \"" name "\", \"profiles\": " CLI_PROFILES "}\n"

#define INI_ALL                                                         \
  "# written by hand\r\n"                                               \
  "[default]\r\n"                                                       \
  "type = access_key\r\n"                                               \
  "access_key_id = ini-default-id\r\n"                                  \
  "access_key_secret = ini-default-S3CR3T\r\n"                          \
  "\r\n"                                                                \
  "  [ prod ]  \n"                                                      \
  "\t access_key_id\t=   ini-prod-id  \n"                               \
  "access_key_secret=ini-prod-S3CR3T\n"                                 \
  "; security_token = ini-comment-T0K3N\n"                              \
  "[sts]\n"                                                             \
  "type = sts\n"                                                        \
  "access_key_id = ini-sts-id\n"                                        \
  "access_key_secret = ini-sts-S3CR3T\n"                                \
  "security_token = ini-sts-T0K3N\n"                                    \
  "[only-ini]\n"                                                        \
  "access_key_id = ini-only-id\n"                                       \
  "access_key_secret = ini-only-S3CR3T\n"                               \
  "[role]\n"                                                            \
  "type = ram_role_arn\n"                                               \
  "access_key_id = ini-role-id\n"                                       \
  "access_key_secret = ini-role-S3CR3T\n"

/* Environment variables that hold a key, for rows that plant everything */
#define ENV_ALIBABA                                             \
  "ALIBABA_CLOUD_ACCESS_KEY_ID=env-id",                         \
  "ALIBABA_CLOUD_ACCESS_KEY_SECRET=env-S3CR3T",                 \
  "ALIBABA_CLOUD_SECURITY_TOKEN=env-T0K3N"
#define ENV_ALICLOUD                                            \
  "ALICLOUD_ACCESS_KEY=old-id",                                 \
  "ALICLOUD_SECRET_KEY=old-S3CR3T",                             \
  "ALICLOUD_SECURITY_TOKEN=old-T0K3N"

#define FILES_BOTH { { CLI, CLI_CURRENT("default") }, { INI, INI_ALL } }

/* ---- a fake environment and a throwaway HOME ---- */

/* '@' in a row stands for the temporary HOME. */
static char *expand(const char *text, const char *home)
{
  size_t n = 1, hl = strlen(home);
  const char *p;
  char *out, *o;

  for(p = text; *p; p++)
    n += *p == '@' ? hl : 1;
  out = o = malloc(n);
  if(!out)
    abort();
  for(p = text; *p; p++) {
    if(*p == '@') {
      memcpy(o, home, hl);
      o += hl;
    }
    else
      *o++ = *p;
  }
  *o = '\0';
  return out;
}

struct fake_env {
  char *vars[MAX_VARS + 1];   /* "NAME=value", then HOME=home */
};

static void fake_env_init(struct fake_env *fe, const char *const *vars,
                          const char *home)
{
  size_t i, n = 0;
  char *home_var = expand("HOME=@", home);

  memset(fe, 0, sizeof(*fe));
  for(i = 0; i < MAX_VARS && vars[i]; i++)
    fe->vars[n++] = expand(vars[i], home);
  fe->vars[n] = home_var;   /* last, so a row's own HOME wins */
}

static void fake_env_free(struct fake_env *fe)
{
  size_t i;

  for(i = 0; i <= MAX_VARS; i++)
    free(fe->vars[i]);
}

static const char *fake_getenv(const char *name, void *ud)
{
  const struct fake_env *fe = ud;
  size_t i, n = strlen(name);

  for(i = 0; i <= MAX_VARS && fe->vars[i]; i++)
    if(!strncmp(fe->vars[i], name, n) && fe->vars[i][n] == '=')
      return fe->vars[i] + n + 1;
  return NULL;
}

static void make_parents(const char *home, const char *rel)
{
  char *path = expand("@/", home);
  size_t base = strlen(path);
  char *full = malloc(base + strlen(rel) + 1);
  char *slash;

  if(!full)
    abort();
  memcpy(full, path, base);
  strcpy(full + base, rel);
  for(slash = strchr(full + base, '/'); slash; slash = strchr(slash + 1,
                                                               '/')) {
    *slash = '\0';
    mkdir(full, 0700);
    *slash = '/';
  }
  free(full);
  free(path);
}

static char *home_path(const char *home, const char *rel)
{
  char *at = malloc(strlen(rel) + 3);
  char *path;

  if(!at)
    abort();
  sprintf(at, "@/%s", rel);
  path = expand(at, home);
  free(at);
  return path;
}

static void write_file(const char *home, const char *rel, const char *text,
                       size_t len)
{
  char *path = home_path(home, rel);
  FILE *f;

  make_parents(home, rel);
  f = fopen(path, "wb");
  CHECK(f && fwrite(text, 1, len, f) == len && !fclose(f),
        "writing %s: %s", path, strerror(errno));
  free(path);
}

static void make_dir(const char *home, const char *rel)
{
  char *path = home_path(home, rel);

  make_parents(home, rel);
  CHECK(!mkdir(path, 0700), "mkdir %s: %s", path, strerror(errno));
  free(path);
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static void remove_home(const char *home)
{
  CHECK(!nftw(home, remove_entry, 8, FTW_DEPTH | FTW_PHYS),
        "removing %s: %s", home, strerror(errno));
}

/* ---- shared checks ---- */

static void check_no_secret(const char *text, const char *what)
{
  CHECK(!strstr(text, SECRET_MARK) && !strstr(text, TOKEN_MARK),
        "%s leaks a secret: %s", what, text);
}

/* A field of the result: want NULL means the field must be NULL. */
static void check_field(const char *got, const char *want, const char *home,
                        const char *row, const char *field)
{
  char what[160];
  char *expected;

  snprintf(what, sizeof(what), "%s: %s", row, field);
  if(!want) {
    CHECK(!got, "%s: got %s, want NULL", what, got);
    return;
  }
  expected = expand(want, home);
  CHECK_STR(got, expected, what);
  free(expected);
}

struct want {
  const char *id;
  const char *secret;
  const char *token;
  const char *region;
  const char *profile;
  const char *source;
};

static void check_cred(const slb_cred *c, const struct want *w,
                       const char *home, const char *row)
{
  check_field(c->access_key_id, w->id, home, row, "access_key_id");
  check_field(c->access_key_secret, w->secret, home, row,
              "access_key_secret");
  check_field(c->security_token, w->token, home, row, "security_token");
  check_field(c->region_id, w->region, home, row, "region_id");
  check_field(c->profile, w->profile, home, row, "profile");
  check_field(c->source, w->source ? w->source : "", home, row, "source");
  check_no_secret(c->source, row);
}

/* ---- slb_cred_resolve, one row per situation ---- */

struct file {
  const char *path;   /* relative to HOME */
  const char *text;
};

struct resolve_case {
  const char *what;
  const char *id, *secret, *token, *profile;   /* explicit options */
  const char *env[MAX_VARS];
  struct file files[MAX_FILES];
  const char *dir;      /* made a directory, to be unreadable as a file */
  int rc;
  struct want want;
  const char *err;
};

static const struct resolve_case resolve_cases[] = {
  /* explicit */
  { .what = "explicit pair and token",
    .id = "opt-id", .secret = "opt-S3CR3T", .token = "opt-T0K3N",
    .rc = 0,
    .want = { "opt-id", "opt-S3CR3T", "opt-T0K3N", NULL, NULL,
              "explicit" } },
  { .what = "explicit values are trimmed",
    .id = " opt-id\n", .secret = "\topt-S3CR3T \r\n", .token = "  ",
    .rc = 0,
    .want = { "opt-id", "opt-S3CR3T", NULL, NULL, NULL, "explicit" } },
  { .what = "explicit beats everything",
    .id = "opt-id", .secret = "opt-S3CR3T", .profile = "prod",
    .env = { ENV_ALIBABA, ENV_ALICLOUD, "ALIBABA_CLOUD_REGION_ID=cn-x" },
    .files = FILES_BOTH,
    .rc = 0,
    .want = { "opt-id", "opt-S3CR3T", NULL, "cn-x", NULL, "explicit" } },
  { .what = "explicit id alone",
    .id = "opt-id", .env = { ENV_ALIBABA }, .files = FILES_BOTH,
    .rc = -1,
    .err = "explicit options: access_key_id is set but access_key_secret "
           "is not" },
  { .what = "explicit secret alone",
    .secret = "opt-S3CR3T", .env = { ENV_ALIBABA }, .files = FILES_BOTH,
    .rc = -1,
    .err = "explicit options: access_key_secret is set but access_key_id "
           "is not" },
  { .what = "explicit token alone",
    .token = "opt-T0K3N", .env = { ENV_ALIBABA }, .files = FILES_BOTH,
    .rc = -1,
    .err = "explicit options: security_token is set but access_key_id "
           "and access_key_secret are not" },

  /* environment */
  { .what = "ALIBABA_CLOUD_* alone, trimmed",
    .env = { "ALIBABA_CLOUD_ACCESS_KEY_ID= \tenv-id\r\n",
             "ALIBABA_CLOUD_ACCESS_KEY_SECRET=\nenv-S3CR3T ",
             "ALIBABA_CLOUD_SECURITY_TOKEN= env-T0K3N\t" },
    .rc = 0,
    .want = { "env-id", "env-S3CR3T", "env-T0K3N", NULL, NULL,
              "environment (ALIBABA_CLOUD_ACCESS_KEY_ID)" } },
  { .what = "ALICLOUD_* alone",
    .env = { ENV_ALICLOUD },
    .rc = 0,
    .want = { "old-id", "old-S3CR3T", "old-T0K3N", NULL, NULL,
              "environment (ALICLOUD_ACCESS_KEY)" } },
  { .what = "ALIBABA_CLOUD_* beats ALICLOUD_*, tokens never mixed",
    .env = { "ALIBABA_CLOUD_ACCESS_KEY_ID=env-id",
             "ALIBABA_CLOUD_ACCESS_KEY_SECRET=env-S3CR3T", ENV_ALICLOUD },
    .rc = 0,
    .want = { "env-id", "env-S3CR3T", NULL, NULL, NULL,
              "environment (ALIBABA_CLOUD_ACCESS_KEY_ID)" } },
  { .what = "environment beats both files",
    .env = { ENV_ALICLOUD }, .files = FILES_BOTH,
    .rc = 0,
    .want = { "old-id", "old-S3CR3T", "old-T0K3N", NULL, NULL,
              "environment (ALICLOUD_ACCESS_KEY)" } },
  { .what = "blank variables count as unset",
    .env = { "ALIBABA_CLOUD_ACCESS_KEY_ID= \t\r\n",
             "ALIBABA_CLOUD_ACCESS_KEY_SECRET=",
             "ALICLOUD_ACCESS_KEY=  ", "ALICLOUD_SECRET_KEY=\n" },
    .files = FILES_BOTH,
    .rc = 0,
    .want = { "cfg-default-id", "cfg-default-S3CR3T", NULL, "cn-hangzhou",
              "default", "profile 'default' in @/" CLI } },
  { .what = "ALIBABA_CLOUD id without secret",
    .env = { "ALIBABA_CLOUD_ACCESS_KEY_ID=env-id", ENV_ALICLOUD },
    .files = FILES_BOTH,
    .rc = -1,
    .err = "environment: ALIBABA_CLOUD_ACCESS_KEY_ID is set but "
           "ALIBABA_CLOUD_ACCESS_KEY_SECRET is not" },
  { .what = "ALIBABA_CLOUD secret without id",
    .env = { "ALIBABA_CLOUD_ACCESS_KEY_SECRET=env-S3CR3T",
             "ALIBABA_CLOUD_SECURITY_TOKEN=env-T0K3N", ENV_ALICLOUD },
    .files = FILES_BOTH,
    .rc = -1,
    .err = "environment: ALIBABA_CLOUD_ACCESS_KEY_SECRET is set but "
           "ALIBABA_CLOUD_ACCESS_KEY_ID is not" },
  { .what = "ALICLOUD id without secret",
    .env = { "ALICLOUD_ACCESS_KEY=old-id" }, .files = FILES_BOTH,
    .rc = -1,
    .err = "environment: ALICLOUD_ACCESS_KEY is set but "
           "ALICLOUD_SECRET_KEY is not" },
  { .what = "ALICLOUD secret without id",
    .env = { "ALICLOUD_SECRET_KEY=old-S3CR3T" }, .files = FILES_BOTH,
    .rc = -1,
    .err = "environment: ALICLOUD_SECRET_KEY is set but "
           "ALICLOUD_ACCESS_KEY is not" },
  { .what = "environment region fills the gap",
    .env = { ENV_ALIBABA, "ALIBABA_CLOUD_REGION_ID= cn-shanghai\n" },
    .rc = 0,
    .want = { "env-id", "env-S3CR3T", "env-T0K3N", "cn-shanghai", NULL,
              "environment (ALIBABA_CLOUD_ACCESS_KEY_ID)" } },
  { .what = "profile region is kept over the environment's",
    .env = { "ALIBABA_CLOUD_REGION_ID=cn-shanghai" }, .files = FILES_BOTH,
    .rc = 0,
    .want = { "cfg-default-id", "cfg-default-S3CR3T", NULL, "cn-hangzhou",
              "default", "profile 'default' in @/" CLI } },

  /* the CLI's config.json */
  { .what = "config.json alone, current",
    .files = { { CLI, CLI_CURRENT("default") } },
    .rc = 0,
    .want = { "cfg-default-id", "cfg-default-S3CR3T", NULL, "cn-hangzhou",
              "default", "profile 'default' in @/" CLI } },
  { .what = "current picks the profile",
    .files = { { CLI, CLI_CURRENT("prod") }, { INI, INI_ALL } },
    .rc = 0,
    .want = { "cfg-prod-id", "cfg-prod-S3CR3T", NULL, "eu-central-1",
              "prod", "profile 'prod' in @/" CLI } },
  { .what = "no current: default",
    .files = { { CLI, "{\"profiles\": " CLI_PROFILES "}" } },
    .rc = 0,
    .want = { "cfg-default-id", "cfg-default-S3CR3T", NULL, "cn-hangzhou",
              "default", "profile 'default' in @/" CLI } },
  { .what = "explicit profile skips the environment",
    .profile = " prod ",
    .env = { ENV_ALIBABA, ENV_ALICLOUD }, .files = FILES_BOTH,
    .rc = 0,
    .want = { "cfg-prod-id", "cfg-prod-S3CR3T", NULL, "eu-central-1",
              "prod", "profile 'prod' in @/" CLI } },
  { .what = "ALIBABA_CLOUD_PROFILE picks the profile",
    .env = { "ALIBABA_CLOUD_PROFILE=prod" }, .files = FILES_BOTH,
    .rc = 0,
    .want = { "cfg-prod-id", "cfg-prod-S3CR3T", NULL, "eu-central-1",
              "prod", "profile 'prod' in @/" CLI } },
  { .what = "explicit profile beats ALIBABA_CLOUD_PROFILE",
    .profile = "sts",
    .env = { "ALIBABA_CLOUD_PROFILE=prod" }, .files = FILES_BOTH,
    .rc = 0,
    .want = { "cfg-sts-id", "cfg-sts-S3CR3T", "cfg-sts-T0K3N", NULL,
              "sts", "profile 'sts' in @/" CLI } },
  { .what = "ALIBABA_CLOUD_PROFILE does not skip the environment",
    .env = { "ALIBABA_CLOUD_PROFILE=prod", ENV_ALIBABA },
    .files = FILES_BOTH,
    .rc = 0,
    .want = { "env-id", "env-S3CR3T", "env-T0K3N", NULL, NULL,
              "environment (ALIBABA_CLOUD_ACCESS_KEY_ID)" } },
  { .what = "StsToken gives the token",
    .files = { { CLI, CLI_CURRENT("sts") } },
    .rc = 0,
    .want = { "cfg-sts-id", "cfg-sts-S3CR3T", "cfg-sts-T0K3N", NULL,
              "sts", "profile 'sts' in @/" CLI } },
  { .what = "config.json beats the INI file",
    .files = FILES_BOTH,
    .rc = 0,
    .want = { "cfg-default-id", "cfg-default-S3CR3T", NULL, "cn-hangzhou",
              "default", "profile 'default' in @/" CLI } },
  { .what = "current names a missing profile: on to the INI file",
    .files = { { CLI, CLI_CURRENT("gone") }, { INI, INI_ALL } },
    .rc = 0,
    .want = { "ini-default-id", "ini-default-S3CR3T", NULL, NULL,
              "default", "profile 'default' in @/" INI } },
  { .what = "profile missing from config.json, found in the INI file",
    .profile = "only-ini", .files = FILES_BOTH,
    .rc = 0,
    .want = { "ini-only-id", "ini-only-S3CR3T", NULL, NULL,
              "only-ini", "profile 'only-ini' in @/" INI } },
  { .what = "explicit profile missing everywhere",
    .profile = "nope", .env = { ENV_ALIBABA }, .files = FILES_BOTH,
    .rc = -1,
    .err = "profile 'nope' not found; looked in: @/" CLI " (no profile "
           "'nope'), @/" INI " (no profile 'nope')" },
  { .what = "ALIBABA_CLOUD_PROFILE missing everywhere",
    .env = { "ALIBABA_CLOUD_PROFILE=nope" }, .files = { { INI, INI_ALL } },
    .rc = -1,
    .err = "profile 'nope' not found; looked in: @/" CLI " (not found), "
           "@/" INI " (no profile 'nope')" },
  { .what = "unsupported mode, named",
    .profile = "ram", .files = FILES_BOTH,
    .rc = -1,
    .err = "@/" CLI ": profile 'ram' has mode 'RamRoleArn', which "
           "slbscript does not support (use AK or StsToken)" },
  { .what = "unsupported mode, current",
    .files = { { CLI, CLI_CURRENT("ecs") }, { INI, INI_ALL } },
    .rc = -1,
    .err = "@/" CLI ": profile 'ecs' has mode 'EcsRamRole', which "
           "slbscript does not support (use AK or StsToken)" },
  { .what = "half a key in config.json",
    .profile = "half", .files = FILES_BOTH,
    .rc = -1,
    .err = "@/" CLI ": profile 'half': access_key_id is set but "
           "access_key_secret is not" },
  { .what = "StsToken without a token",
    .profile = "sts-no-token", .files = FILES_BOTH,
    .rc = -1,
    .err = "@/" CLI ": profile 'sts-no-token' has mode StsToken but no "
           "sts_token" },
  { .what = "empty profile, nowhere else",
    .profile = "empty", .env = { ENV_ALIBABA }, .files = FILES_BOTH,
    .rc = -1,
    .err = "no credentials found; looked in: explicit options, "
           "environment (skipped: a profile was named), @/" CLI
           " (profile 'empty' has no access key), @/" INI
           " (no profile 'empty')" },
  { .what = "config.json is a directory",
    .dir = CLI, .files = { { INI, INI_ALL } },
    .rc = -1,
    .err = "@/" CLI ": cannot read: it is a directory" },
  { .what = "malformed config.json",
    .files = { { CLI, "{\n  \"current\": \"default\",\n"
                      "  \"profiles\": [,]\n}" },
               { INI, INI_ALL } },
    .rc = -1,
    .err = "@/" CLI ": malformed JSON at line 3, column 16" },
  { .what = "config.json with trailing junk",
    .files = { { CLI, CLI_CURRENT("default") "\n}" }, { INI, INI_ALL } },
    .rc = -1,
    .err = "@/" CLI ": malformed JSON at line 30, column 1" },
  { .what = "config.json not an object",
    .files = { { CLI, "[]" }, { INI, INI_ALL } },
    .rc = -1,
    .err = "@/" CLI ": not a JSON object" },
  { .what = "override paths",
    .env = { "ALIBABA_CLOUD_CONFIG_FILE= @/elsewhere/cli.json ",
             "ALIBABA_CLOUD_CREDENTIALS_FILE=@/elsewhere/ini" },
    .files = { { CLI, CLI_CURRENT("default") },
               { "elsewhere/cli.json", CLI_CURRENT("prod") } },
    .rc = 0,
    .want = { "cfg-prod-id", "cfg-prod-S3CR3T", NULL, "eu-central-1",
              "prod", "profile 'prod' in @/elsewhere/cli.json" } },
  { .what = "override to the INI file",
    .env = { "ALIBABA_CLOUD_CREDENTIALS_FILE=@/elsewhere/ini" },
    .files = { { "elsewhere/ini", INI_ALL } },
    .rc = 0,
    .want = { "ini-default-id", "ini-default-S3CR3T", NULL, NULL,
              "default", "profile 'default' in @/elsewhere/ini" } },
  { .what = "overrides replace the home paths",
    .env = { "ALIBABA_CLOUD_CONFIG_FILE=@/nothing.json",
             "ALIBABA_CLOUD_CREDENTIALS_FILE=@/nothing.ini" },
    .files = FILES_BOTH,
    .rc = -1,
    .err = "no credentials found; looked in: explicit options, "
           ENV_PLACES ", @/nothing.json (not found), @/nothing.ini "
           "(not found)" },
  { .what = "trailing slash on HOME",
    .env = { "HOME=@//" }, .files = { { INI, INI_ALL } },
    .rc = 0,
    .want = { "ini-default-id", "ini-default-S3CR3T", NULL, NULL,
              "default", "profile 'default' in @/" INI } },

  /* the SDKs' INI file */
  { .what = "INI alone, default",
    .files = { { INI, INI_ALL } },
    .rc = 0,
    .want = { "ini-default-id", "ini-default-S3CR3T", NULL, NULL,
              "default", "profile 'default' in @/" INI } },
  { .what = "INI section with white space and CRLF",
    .profile = "prod", .files = { { INI, INI_ALL } },
    .rc = 0,
    .want = { "ini-prod-id", "ini-prod-S3CR3T", NULL, NULL,
              "prod", "profile 'prod' in @/" INI } },
  { .what = "INI sts",
    .env = { "ALIBABA_CLOUD_PROFILE=sts",
             "ALIBABA_CLOUD_REGION_ID=cn-beijing" },
    .files = { { INI, INI_ALL } },
    .rc = 0,
    .want = { "ini-sts-id", "ini-sts-S3CR3T", "ini-sts-T0K3N",
              "cn-beijing", "sts", "profile 'sts' in @/" INI } },
  { .what = "INI unsupported type",
    .profile = "role", .files = { { INI, INI_ALL } },
    .rc = -1,
    .err = "@/" INI ": profile 'role' has type 'ram_role_arn', which "
           "slbscript does not support (use access_key or sts)" },
  { .what = "INI malformed line",
    .files = { { INI, "[default]\naccess_key_id = ini-id\n"
                      "ini-bad-S3CR3T\n" } },
    .rc = -1,
    .err = "@/" INI ": line 3: expected 'key = value' or '[section]'" },
  { .what = "INI with no default section",
    .files = { { INI, "[other]\naccess_key_id = x\n"
                      "access_key_secret = ini-other-S3CR3T\n" } },
    .rc = -1,
    .err = "no credentials found; looked in: explicit options, "
           ENV_PLACES ", @/" CLI " (not found), @/" INI
           " (no profile 'default')" },

  /* nothing anywhere */
  { .what = "nothing found",
    .rc = -1,
    .err = "no credentials found; looked in: explicit options, "
           ENV_PLACES ", @/" CLI " (not found), @/" INI " (not found)" },
  { .what = "nothing found, HOME unset",
    .env = { "HOME= " },
    .rc = -1,
    .err = "no credentials found; looked in: explicit options, "
           ENV_PLACES ", ~/" CLI " (HOME not set), ~/" INI
           " (HOME not set)" },
  { .what = "current names a missing profile, nothing else",
    .files = { { CLI, CLI_CURRENT("gone") } },
    .rc = -1,
    .err = "no credentials found; looked in: explicit options, "
           ENV_PLACES ", @/" CLI " (\"current\" names profile 'gone', "
           "which does not exist), @/" INI " (not found)" },
};

static void run_resolve_case(const struct resolve_case *c)
{
  char home_template[] = "/tmp/test_cred.XXXXXX";
  char *home = mkdtemp(home_template);
  struct fake_env fe;
  slb_cred_opts opts;
  slb_cred cred;
  char err[1024];
  char *want_err;
  size_t i;
  int rc;

  if(!home) {
    CHECK(0, "%s: mkdtemp: %s", c->what, strerror(errno));
    return;
  }
  fake_env_init(&fe, c->env, home);
  for(i = 0; i < MAX_FILES && c->files[i].path; i++)
    write_file(home, c->files[i].path, c->files[i].text,
               strlen(c->files[i].text));
  if(c->dir)
    make_dir(home, c->dir);

  memset(&opts, 0, sizeof(opts));
  opts.access_key_id = c->id;
  opts.access_key_secret = c->secret;
  opts.security_token = c->token;
  opts.profile = c->profile;
  opts.getenv_fn = fake_getenv;
  opts.getenv_ud = &fe;
  /* out need not be initialised: garbage must not be freed */
  memset(&cred, 0xa5, sizeof(cred));
  strcpy(err, "stale");

  rc = slb_cred_resolve(&opts, &cred, err, sizeof(err));
  CHECK(rc == c->rc, "%s: rc %d, want %d (%s)", c->what, rc, c->rc, err);
  check_cred(&cred, &c->want, home, c->what);
  want_err = expand(c->err ? c->err : "", home);
  CHECK_STR(err, want_err, c->what);
  check_no_secret(err, c->what);

  slb_cred_clear(&cred);
  slb_cred_clear(&cred);
  free(want_err);
  fake_env_free(&fe);
  remove_home(home);
}

/* ---- the two parsers on their own ---- */

struct parse_case {
  const char *what;
  const char *text;
  size_t len;           /* 0: strlen(text) */
  const char *profile;
  int rc;
  struct want want;     /* source is checked too */
  const char *err;
};

#define CLI_SMALL "{\"profiles\": [{\"name\": \"default\", "     \
  "\"access_key_id\": \"i\", \"access_key_secret\": \"s-S3CR3T\"}]}"
#define CLI_NUL "{\"profiles\": [{\"name\": \"default\", "        \
  "\"access_key_id\": \"i\0\", \"access_key_secret\": \"s-S3CR3T\"}]}"
#define DIGITS32 "01234567890123456789012345678901"
#define INI_SMALL "[default]\naccess_key_id=i\naccess_key_secret=s-S3CR3T"

static const struct parse_case cli_cases[] = {
  { "current", CLI_CURRENT("prod"), 0, NULL, 0,
    { "cfg-prod-id", "cfg-prod-S3CR3T", NULL, "eu-central-1", "prod",
      "profile 'prod'" }, NULL },
  { "profile beats current", CLI_CURRENT("prod"), 0, "default", 0,
    { "cfg-default-id", "cfg-default-S3CR3T", NULL, "cn-hangzhou",
      "default", "profile 'default'" }, NULL },
  { "AK ignores sts_token", CLI_CURRENT("default"), 0, NULL, 0,
    { "cfg-default-id", "cfg-default-S3CR3T", NULL, "cn-hangzhou",
      "default", "profile 'default'" }, NULL },
  { "StsToken", CLI_CURRENT("default"), 0, "sts", 0,
    { "cfg-sts-id", "cfg-sts-S3CR3T", "cfg-sts-T0K3N", NULL, "sts",
      "profile 'sts'" }, NULL },
  { "no mode means AK",
    "{\"profiles\": [{\"name\": \"default\", \"access_key_id\": \"i\","
    " \"access_key_secret\": \"s-S3CR3T\", \"region_id\": null}]}",
    0, NULL, 0, { "i", "s-S3CR3T", NULL, NULL, "default",
                  "profile 'default'" }, NULL },
  { "empty current means default",
    "{\"current\": \" \", \"profiles\": [{\"name\": \"default\","
    " \"access_key_id\": \"i\", \"access_key_secret\": \"s-S3CR3T\"}]}",
    0, NULL, 0, { "i", "s-S3CR3T", NULL, NULL, "default",
                  "profile 'default'" }, NULL },
  { "first of two with one name",
    "{\"profiles\": [{\"name\": \"a\", \"access_key_id\": \"1\","
    " \"access_key_secret\": \"1-S3CR3T\"}, {\"name\": \"a\","
    " \"access_key_id\": \"2\", \"access_key_secret\": \"2-S3CR3T\"}]}",
    0, "a", 0, { "1", "1-S3CR3T", NULL, NULL, "a", "profile 'a'" }, NULL },
  { "byte order mark",
    "\xEF\xBB\xBF{\"profiles\": [{\"name\": \"default\","
    " \"access_key_id\": \"i\", \"access_key_secret\": \"s-S3CR3T\"}]}",
    0, NULL, 0, { "i", "s-S3CR3T", NULL, NULL, "default",
                  "profile 'default'" }, NULL },
  { "len stops before junk", CLI_SMALL "junk-S3CR3T",
    sizeof(CLI_SMALL) - 1, NULL, 0,
    { "i", "s-S3CR3T", NULL, NULL, "default", "profile 'default'" },
    NULL },

  { "empty profile", CLI_CURRENT("empty"), 0, NULL, 1,
    { NULL }, "profile 'empty' has no access key" },
  { "no default, no current", "{\"profiles\": []}", 0, NULL, 1,
    { NULL }, "no profile 'default'" },
  { "null profiles", "{\"profiles\": null}", 0, NULL, 1,
    { NULL }, "no profile 'default'" },
  { "unsupported mode", CLI_CURRENT("ram"), 0, NULL, 1,
    { NULL }, "profile 'ram' has mode 'RamRoleArn', which slbscript does "
              "not support (use AK or StsToken)" },
  { "half a key", CLI_CURRENT("x"), 0, "half", 1,
    { NULL }, "profile 'half': access_key_id is set but access_key_secret "
              "is not" },
  { "secret without id",
    "{\"profiles\": [{\"name\": \"default\","
    " \"access_key_secret\": \"s-S3CR3T\"}]}", 0, NULL, 1,
    { NULL }, "profile 'default': access_key_secret is set but "
              "access_key_id is not" },
  { "StsToken without token", CLI_CURRENT("x"), 0, "sts-no-token", 1,
    { NULL }, "profile 'sts-no-token' has mode StsToken but no sts_token" },
  { "control bytes in a quoted mode",
    "{\"profiles\": [{\"name\": \"default\", \"mode\": \"\\u001b[31m\","
    " \"access_key_secret\": \"s-S3CR3T\"}]}", 0, NULL, 1,
    { NULL }, "profile 'default' has mode '(not a mode name)', which "
              "slbscript does "
              "not support (use AK or StsToken)" },
  /* A key pasted into the mode field must not be echoed back. */
  { "mode that is not a mode name",
    "{\"profiles\": [{\"name\": \"default\", \"mode\": \""
    DIGITS32 DIGITS32 "extra\"}]}", 0, NULL, 1,
    { NULL }, "profile 'default' has mode '(not a mode name)', "
              "which slbscript does not support (use AK or StsToken)" },
  { "unsupported mode named",
    "{\"profiles\": [{\"name\": \"default\", \"mode\": "
    "\"RamRoleArn\"}]}", 0, NULL, 1,
    { NULL }, "profile 'default' has mode 'RamRoleArn', "
              "which slbscript does not support (use AK or StsToken)" },

  { "named profile missing", CLI_CURRENT("default"), 0, "nope", -1,
    { NULL }, "no profile 'nope'" },
  { "current missing", CLI_CURRENT("gone"), 0, NULL, -1,
    { NULL }, "\"current\" names profile 'gone', which does not exist" },
  { "empty text", "", 0, NULL, -1,
    { NULL }, "malformed JSON: unexpected end of text" },
  { "only white space", " \n\t", 0, NULL, -1,
    { NULL }, "malformed JSON: unexpected end of text" },
  { "cut short", "{\"profiles\": [{\"name\": \"default\"", 0, NULL, -1,
    { NULL }, "malformed JSON: unexpected end of text" },
  { "syntax error", "{\n\"profiles\": [\n  {\"name\" \"x\"}]}", 0, NULL, -1,
    { NULL }, "malformed JSON at line 3, column 11" },
  { "trailing junk", "{\"profiles\": []} {}", 0, NULL, -1,
    { NULL }, "malformed JSON at line 1, column 18" },
  { "NUL byte", CLI_NUL, sizeof(CLI_NUL) - 1, NULL, -1,
    { NULL }, "contains a NUL byte at offset 53" },
  { "not an object", "\"S3CR3T\"", 0, NULL, -1,
    { NULL }, "not a JSON object" },
  { "profiles not an array", "{\"profiles\": {}}", 0, NULL, -1,
    { NULL }, "\"profiles\" is not an array" },
  { "current not a string", "{\"current\": 1}", 0, NULL, -1,
    { NULL }, "\"current\" is not a string" },
  { "profile not an object", "{\"profiles\": [{\"name\": \"a\"}, 2]}", 0,
    NULL, -1, { NULL }, "profiles[1] is not an object" },
  { "name not a string", "{\"profiles\": [{\"name\": true}]}", 0,
    NULL, -1, { NULL }, "profiles[0]: \"name\" is not a string" },
  { "secret not a string",
    "{\"profiles\": [{\"name\": \"default\", \"access_key_id\": \"i\","
    " \"access_key_secret\": [\"s-S3CR3T\"]}]}", 0, NULL, -1,
    { NULL }, "profile 'default': \"access_key_secret\" is not a string" },
};

static const struct parse_case ini_cases[] = {
  { "default section", INI_ALL, 0, NULL, 0,
    { "ini-default-id", "ini-default-S3CR3T", NULL, NULL, "default",
      "profile 'default'" }, NULL },
  { "named section, white space, comment", INI_ALL, 0, "prod", 0,
    { "ini-prod-id", "ini-prod-S3CR3T", NULL, NULL, "prod",
      "profile 'prod'" }, NULL },
  { "sts with security_token", INI_ALL, 0, "sts", 0,
    { "ini-sts-id", "ini-sts-S3CR3T", "ini-sts-T0K3N", NULL, "sts",
      "profile 'sts'" }, NULL },
  { "sts with sts_token",
    "[default]\ntype=sts\naccess_key_id=i\naccess_key_secret=s-S3CR3T\n"
    "sts_token=t-T0K3N\nregion_id = cn-qingdao", 0, NULL, 0,
    { "i", "s-S3CR3T", "t-T0K3N", "cn-qingdao", "default",
      "profile 'default'" }, NULL },
  { "security_token beats sts_token",
    "[default]\ntype=sts\naccess_key_id=i\naccess_key_secret=s-S3CR3T\n"
    "security_token=a-T0K3N\nsts_token=b-T0K3N\n", 0, NULL, 0,
    { "i", "s-S3CR3T", "a-T0K3N", NULL, "default", "profile 'default'" },
    NULL },
  { "access_key ignores a token",
    "[default]\naccess_key_id=i\naccess_key_secret=s-S3CR3T\n"
    "security_token=t-T0K3N\n", 0, NULL, 0,
    { "i", "s-S3CR3T", NULL, NULL, "default", "profile 'default'" },
    NULL },
  { "'=' inside a value, later keys win, sections merge",
    "[default]\naccess_key_id = old\n[other]\nx=y\n[default]\n"
    "access_key_id = i==\naccess_key_secret = s=S3CR3T=\n", 0, NULL, 0,
    { "i==", "s=S3CR3T=", NULL, NULL, "default", "profile 'default'" },
    NULL },
  { "comments and blank lines anywhere",
    "\n# a=b\n; [x\n\n[default]\n  # c\naccess_key_id=i\r\n\r\n"
    "access_key_secret=s-S3CR3T", 0, NULL, 0,
    { "i", "s-S3CR3T", NULL, NULL, "default", "profile 'default'" },
    NULL },
  { "byte order mark",
    "\xEF\xBB\xBF[default]\naccess_key_id=i\naccess_key_secret=s-S3CR3T",
    0, NULL, 0,
    { "i", "s-S3CR3T", NULL, NULL, "default", "profile 'default'" },
    NULL },
  { "len stops early", INI_SMALL "\nbroken", sizeof(INI_SMALL) - 1,
    NULL, 0,
    { "i", "s-S3CR3T", NULL, NULL, "default", "profile 'default'" },
    NULL },

  { "unsupported type", INI_ALL, 0, "role", 1,
    { NULL }, "profile 'role' has type 'ram_role_arn', which slbscript "
              "does not support (use access_key or sts)" },
  { "sts without a token",
    "[default]\ntype = sts\naccess_key_id=i\naccess_key_secret=s-S3CR3T\n",
    0, NULL, 1,
    { NULL }, "profile 'default' has type sts but no security_token" },
  { "half a key", "[default]\naccess_key_secret=s-S3CR3T\n", 0, NULL, 1,
    { NULL }, "profile 'default': access_key_secret is set but "
              "access_key_id is not" },
  { "empty section", "[default]\n[x]\naccess_key_id=i\n", 0, NULL, 1,
    { NULL }, "profile 'default' has no access key" },
  { "no default section", "[x]\naccess_key_id=i\n", 0, NULL, 1,
    { NULL }, "no profile 'default'" },
  { "empty text", "", 0, NULL, 1, { NULL }, "no profile 'default'" },

  { "named section missing", INI_ALL, 0, "nope", -1,
    { NULL }, "no profile 'nope'" },
  { "line without '='", "[default]\naccess_key_id\n", 0, NULL, -1,
    { NULL }, "line 2: expected 'key = value' or '[section]'" },
  { "bad line in another section",
    "[default]\naccess_key_id=i\naccess_key_secret=s-S3CR3T\n[x]\n"
    "s-S3CR3T\n", 0, NULL, -1,
    { NULL }, "line 5: expected 'key = value' or '[section]'" },
  { "key before any section", "access_key_secret = s-S3CR3T\n", 0,
    NULL, -1, { NULL }, "line 1: key outside any [section]" },
  { "no key before '='", "[default]\n = s-S3CR3T\n", 0, NULL, -1,
    { NULL }, "line 2: no key before '='" },
  { "empty section name", "\r\n[ \t]\r\n", 0, NULL, -1,
    { NULL }, "line 2: empty section name" },
  { "unclosed section", "[default\naccess_key_id=i\n", 0, NULL, -1,
    { NULL }, "line 1: '[' without a closing ']'" },
  { "lone '['", "[", 0, NULL, -1,
    { NULL }, "line 1: '[' without a closing ']'" },
  { "NUL byte", INI_SMALL "\0more", sizeof(INI_SMALL "\0more") - 1,
    NULL, -1, { NULL }, "contains a NUL byte at offset 52" },
};

typedef int (*parse_fn)(const char *, size_t, const char *, slb_cred *,
                        char *, size_t);

static void run_parse_case(parse_fn parse, const char *kind,
                           const struct parse_case *c)
{
  size_t len = c->len ? c->len : strlen(c->text);
  char *exact = malloc(len ? len : 1);
  char row[160];
  char err[512];
  slb_cred cred;
  int rc;

  if(!exact)
    abort();
  /* exactly len bytes and no terminator, so valgrind sees any over-read */
  memcpy(exact, c->text, len);
  snprintf(row, sizeof(row), "%s: %s", kind, c->what);
  memset(&cred, 0xa5, sizeof(cred));

  rc = parse(exact, len, c->profile, &cred, err, sizeof(err));
  CHECK(rc == c->rc, "%s: rc %d, want %d (%s)", row, rc, c->rc, err);
  check_cred(&cred, &c->want, "", row);
  CHECK_STR(err, c->err ? c->err : "", row);
  check_no_secret(err, row);

  slb_cred_clear(&cred);
  free(exact);
}

/* ---- the rest ---- */

static void test_clear(void)
{
  static const char text[] = INI_SMALL "\ntype=sts\nsecurity_token=t\n"
    "region_id=r";
  slb_cred cred;

  memset(&cred, 0, sizeof(cred));
  slb_cred_clear(&cred);
  slb_cred_clear(NULL);
  CHECK(slb_cred_parse_ini(text, sizeof(text) - 1, NULL, &cred, NULL, 0)
        == 0, "clear: parse");
  CHECK(cred.access_key_id && cred.security_token && cred.region_id &&
        cred.profile && cred.source[0], "clear: all fields set");
  slb_cred_clear(&cred);
  CHECK(!cred.access_key_id && !cred.access_key_secret &&
        !cred.security_token && !cred.region_id && !cred.profile &&
        !cred.source[0], "clear: all fields reset");
  slb_cred_clear(&cred);
}

/* Messages are cut to errlen, always terminated; no room is no message. */
static void test_truncation(void)
{
  static const char *const no_home[] = { "HOME=", NULL };
  static const size_t sizes[] = { 1, 2, 16, 80 };
  static const char full[] = "no credentials found; looked in: explicit "
    "options, " ENV_PLACES ", ~/" CLI " (HOME not set), ~/" INI
    " (HOME not set)";
  struct fake_env fe;
  slb_cred_opts opts;
  slb_cred cred;
  char err[128];
  size_t i;

  memset(&opts, 0, sizeof(opts));
  fake_env_init(&fe, no_home, "/nonexistent");
  opts.getenv_fn = fake_getenv;
  opts.getenv_ud = &fe;
  for(i = 0; i < COUNT(sizes); i++) {
    memset(err, 'x', sizeof(err));
    CHECK(slb_cred_resolve(&opts, &cred, err, sizes[i]) == -1,
          "truncation %zu: rc", sizes[i]);
    CHECK(strlen(err) == sizes[i] - 1 &&
          !strncmp(err, full, sizes[i] - 1) && err[sizes[i]] == 'x',
          "truncation %zu: got '%s'", sizes[i], err);
    slb_cred_clear(&cred);
  }
  CHECK(slb_cred_resolve(&opts, &cred, NULL, 0) == -1, "no err buffer");
  slb_cred_clear(&cred);
  fake_env_free(&fe);
}

/* Only a non-root user can be refused a file; root reads anything. */
static void test_unreadable(void)
{
  static const char *const none[] = { NULL };
  char home_template[] = "/tmp/test_cred.XXXXXX";
  char *home, *path, *want;
  struct fake_env fe;
  slb_cred_opts opts;
  slb_cred cred;
  char err[512];

  if(geteuid() == 0)
    return;
  home = mkdtemp(home_template);
  if(!home) {
    CHECK(0, "unreadable: mkdtemp: %s", strerror(errno));
    return;
  }
  write_file(home, CLI, CLI_CURRENT("default"),
             strlen(CLI_CURRENT("default")));
  path = home_path(home, CLI);
  chmod(path, 0);
  fake_env_init(&fe, none, home);
  memset(&opts, 0, sizeof(opts));
  opts.getenv_fn = fake_getenv;
  opts.getenv_ud = &fe;

  CHECK(slb_cred_resolve(&opts, &cred, err, sizeof(err)) == -1,
        "unreadable: rc");
  want = expand("@/" CLI ": cannot open: Permission denied", home);
  CHECK_STR(err, want, "unreadable");
  check_no_secret(err, "unreadable");

  slb_cred_clear(&cred);
  free(want);
  free(path);
  fake_env_free(&fe);
  remove_home(home);
}

/* Without getenv_fn the process environment is read. Only variables are
 * set here, and the key is found before any file would be looked at. */
static void test_process_environment(void)
{
  static const char *const names[] = {
    "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "ALIBABA_CLOUD_SECURITY_TOKEN", "ALIBABA_CLOUD_REGION_ID",
    "ALIBABA_CLOUD_PROFILE"
  };
  slb_cred cred;
  char err[256];
  size_t i;

  for(i = 0; i < COUNT(names); i++)
    unsetenv(names[i]);
  setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "proc-id", 1);
  setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", " proc-S3CR3T ", 1);
  setenv("ALIBABA_CLOUD_REGION_ID", "cn-wulanchabu", 1);

  CHECK(slb_cred_resolve(NULL, &cred, err, sizeof(err)) == 0,
        "process environment: %s", err);
  CHECK_STR(cred.access_key_id, "proc-id", "process environment: id");
  CHECK_STR(cred.access_key_secret, "proc-S3CR3T",
            "process environment: secret");
  CHECK_STR(cred.region_id, "cn-wulanchabu", "process environment: region");
  CHECK(!cred.security_token, "process environment: no token");
  CHECK_STR(cred.source, "environment (ALIBABA_CLOUD_ACCESS_KEY_ID)",
            "process environment: source");
  slb_cred_clear(&cred);
  for(i = 0; i < COUNT(names); i++)
    unsetenv(names[i]);
}

int main(void)
{
  size_t i;

  for(i = 0; i < COUNT(resolve_cases); i++)
    run_resolve_case(&resolve_cases[i]);
  for(i = 0; i < COUNT(cli_cases); i++)
    run_parse_case(slb_cred_parse_cli_config, "config.json", &cli_cases[i]);
  for(i = 0; i < COUNT(ini_cases); i++)
    run_parse_case(slb_cred_parse_ini, "INI", &ini_cases[i]);
  test_clear();
  test_truncation();
  test_unreadable();
  test_process_environment();
  return check_summary();
}
