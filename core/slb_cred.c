/* slb_cred.c: find an access key where the provider's CLI and SDKs look:
 * explicit options, the environment, the CLI's profile file and the SDKs'
 * credentials file, in that order. */
#include "slb_cred.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <mbedtls/platform_util.h>

#include "slb_buf.h"

/* Credential files are a few hundred bytes; anything this big is not one. */
#define MAX_FILE_SIZE (1024 * 1024)

/* Longest name (profile, mode, type) quoted in a message. */
#define NAME_SHOWN 64

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* How one source turned out. The public parsers fold these into 0, 1 and
 * -1. slb_cred_resolve moves on to the next source only after NO_KEY or
 * NO_PROFILE: anything else means the user set up something that does not
 * work, and quietly using some other key would hide that. */
enum lookup {
  FOUND,        /* out holds a key */
  NO_KEY,       /* nothing usable here; err says why */
  NO_PROFILE,   /* the profile asked for is not in this file */
  UNUSABLE,     /* the profile exists but cannot give slbscript a key */
  MALFORMED,    /* the text does not parse */
  FAILED        /* unreadable file, out of memory */
};

/* A slice of someone else's text, usually trimmed. */
struct span {
  const char *ptr;
  size_t len;
};

/* The parts of a key as found, before anything is copied. */
struct key {
  struct span id;
  struct span secret;
  struct span token;
  struct span region;
};

/* A name made safe to quote in a message. */
struct shown {
  char text[NAME_SHOWN + 4];
};

static const struct span empty_span = { "", 0 };

static void set_err(char *err, size_t errlen, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
  va_list ap;

  if(!err || !errlen)
    return;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

static enum lookup out_of_memory(char *err, size_t errlen)
{
  set_err(err, errlen, "out of memory");
  return FAILED;
}

static int is_blank(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static struct span trim(const char *ptr, size_t len)
{
  struct span s;

  while(len && is_blank(*ptr)) {
    ptr++;
    len--;
  }
  while(len && is_blank(ptr[len - 1]))
    len--;
  s.ptr = ptr;
  s.len = len;
  return s;
}

static struct span trim_str(const char *str)
{
  return str ? trim(str, strlen(str)) : empty_span;
}

static int span_eq(struct span a, struct span b)
{
  return a.len == b.len && (!a.len || !memcmp(a.ptr, b.ptr, a.len));
}

static int span_is(struct span s, const char *str)
{
  return s.len == strlen(str) && !memcmp(s.ptr, str, s.len);
}

static char *span_dup(struct span s)
{
  char *copy = malloc(s.len + 1);

  if(copy) {
    if(s.len)
      memcpy(copy, s.ptr, s.len);
    copy[s.len] = '\0';
  }
  return copy;
}

/* Names from files and the environment end up in messages: keep them short
 * and free of control bytes that could upset a terminal. */
static const char *show(struct shown *out, struct span name)
{
  size_t i, n = name.len > NAME_SHOWN ? NAME_SHOWN : name.len;

  for(i = 0; i < n; i++) {
    unsigned char c = (unsigned char)name.ptr[i];
    out->text[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
  }
  strcpy(out->text + n, name.len > n ? "..." : "");
  return out->text;
}

/* A mode or type is quoted only if it looks like one (letters and '_');
 * anything else may be a key pasted into the wrong field. */
static const char *show_kind(struct shown *out, struct span kind)
{
  size_t i;

  for(i = 0; i < kind.len && i < 40; i++)
    if(!isalpha((unsigned char)kind.ptr[i]) && kind.ptr[i] != '_')
      break;
  if(i == kind.len && i < 40)
    return show(out, kind);
  strcpy(out->text, "(not a mode name)");
  return out->text;
}

static void wipe_free(char *s)
{
  if(s) {
    mbedtls_platform_zeroize(s, strlen(s));
    free(s);
  }
}

void slb_cred_clear(slb_cred *c)
{
  if(!c)
    return;
  wipe_free(c->access_key_secret);
  wipe_free(c->security_token);
  free(c->access_key_id);
  free(c->region_id);
  free(c->profile);
  memset(c, 0, sizeof(*c));
}

/* Copies a key into out, which must be empty. Token and region may be
 * empty, and then stay NULL. */
static enum lookup fill(slb_cred *out, const struct key *k,
                        char *err, size_t errlen)
{
  out->access_key_id = span_dup(k->id);
  out->access_key_secret = span_dup(k->secret);
  if(k->token.len)
    out->security_token = span_dup(k->token);
  if(k->region.len)
    out->region_id = span_dup(k->region);
  if(!out->access_key_id || !out->access_key_secret ||
     (k->token.len && !out->security_token) ||
     (k->region.len && !out->region_id)) {
    slb_cred_clear(out);
    return out_of_memory(err, errlen);
  }
  return FOUND;
}

/* A key needs both halves; one without the other is a mistake worth
 * reporting rather than quietly looking elsewhere. Returns 1 when both are
 * there, 0 when neither is, -1 (with err) when only one is. */
static int check_pair(const struct key *k, const char *who,
                      const char *id_name, const char *secret_name,
                      char *err, size_t errlen)
{
  if(k->id.len && k->secret.len)
    return 1;
  if(!k->id.len && !k->secret.len)
    return 0;
  set_err(err, errlen, "%s: %s is set but %s is not", who,
          k->id.len ? id_name : secret_name,
          k->id.len ? secret_name : id_name);
  return -1;
}

/* The last step for both files, once the chosen profile is known to
 * exist. temporary says the profile's mode or type promises a token;
 * needs names that mode or type for the message when it has none. */
static enum lookup use_profile(struct key *k, int temporary,
                               const char *needs, const char *token_name,
                               struct span name, slb_cred *out,
                               char *err, size_t errlen)
{
  char who[NAME_SHOWN + 16];
  struct shown p;
  enum lookup r;
  int pair;

  snprintf(who, sizeof(who), "profile '%s'", show(&p, name));
  pair = check_pair(k, who, "access_key_id", "access_key_secret",
                    err, errlen);
  if(pair < 0)
    return UNUSABLE;
  if(!pair) {
    set_err(err, errlen, "%s has no access key", who);
    return NO_KEY;
  }
  if(!temporary)
    k->token = empty_span;
  else if(!k->token.len) {
    set_err(err, errlen, "%s has %s but no %s", who, needs, token_name);
    return UNUSABLE;
  }

  r = fill(out, k, err, errlen);
  if(r != FOUND)
    return r;
  out->profile = span_dup(name);
  if(!out->profile) {
    slb_cred_clear(out);
    return out_of_memory(err, errlen);
  }
  snprintf(out->source, sizeof(out->source), "%s", who);
  return FOUND;
}

/* Both files are text. A NUL byte means something else was handed to us,
 * and C strings made from it would silently lose their tail. A UTF-8 byte
 * order mark, as some Windows editors write, is skipped. */
static enum lookup check_text(const char **text, size_t *len,
                              char *err, size_t errlen)
{
  const char *nul;

  if(!*text)
    *len = 0;
  if(!*len) {
    *text = "";
    return FOUND;
  }
  nul = memchr(*text, '\0', *len);
  if(nul) {
    set_err(err, errlen, "contains a NUL byte at offset %zu",
            (size_t)(nul - *text));
    return MALFORMED;
  }
  if(*len >= 3 && !memcmp(*text, "\xEF\xBB\xBF", 3)) {
    *text += 3;
    *len -= 3;
  }
  return FOUND;
}

/* cJSON frees without clearing, and the tree holds every profile's
 * secret, not only the chosen one's. */
static void wipe_json(cJSON *item)
{
  for(; item; item = item->next) {
    if(item->valuestring)
      mbedtls_platform_zeroize(item->valuestring,
                               strlen(item->valuestring));
    wipe_json(item->child);
  }
}

static void json_error(const char *text, size_t len, size_t at,
                       char *err, size_t errlen)
{
  size_t i, line = 1, column = 1;

  if(at >= len) {
    set_err(err, errlen, "malformed JSON: unexpected end of text");
    return;
  }
  for(i = 0; i < at; i++) {
    if(text[i] == '\n') {
      line++;
      column = 1;
    }
    else
      column++;
  }
  set_err(err, errlen, "malformed JSON at line %zu, column %zu",
          line, column);
}

/* A string member, trimmed; absent or null reads as empty. Returns -1 when
 * the member has some other type. */
static int json_field(const cJSON *obj, const char *name, struct span *val)
{
  const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

  *val = empty_span;
  if(!item || cJSON_IsNull(item))
    return 0;
  if(!cJSON_IsString(item) || !item->valuestring)
    return -1;
  *val = trim_str(item->valuestring);
  return 0;
}

/* Sets *entry to the first profile called name, or NULL. Entries before
 * it must be well-formed; returns -1 (with err) when one is not. */
static int cli_find(const cJSON *profiles, struct span name,
                    const cJSON **entry, char *err, size_t errlen)
{
  const cJSON *item;
  struct span item_name;
  int i = 0;

  *entry = NULL;
  cJSON_ArrayForEach(item, profiles) {
    if(!cJSON_IsObject(item)) {
      set_err(err, errlen, "profiles[%d] is not an object", i);
      return -1;
    }
    if(json_field(item, "name", &item_name)) {
      set_err(err, errlen, "profiles[%d]: \"name\" is not a string", i);
      return -1;
    }
    if(span_eq(item_name, name)) {
      *entry = item;
      return 0;
    }
    i++;
  }
  return 0;
}

static enum lookup cli_profile(const cJSON *entry, struct span name,
                               slb_cred *out, char *err, size_t errlen)
{
  struct span mode;
  struct key k;
  struct shown p, m;
  size_t i;
  const struct {
    const char *name;
    struct span *val;
  } fields[] = {
    { "mode", &mode },
    { "access_key_id", &k.id },
    { "access_key_secret", &k.secret },
    { "sts_token", &k.token },
    { "region_id", &k.region }
  };

  for(i = 0; i < COUNT(fields); i++) {
    if(json_field(entry, fields[i].name, fields[i].val)) {
      set_err(err, errlen, "profile '%s': \"%s\" is not a string",
              show(&p, name), fields[i].name);
      return MALFORMED;
    }
  }

  /* The CLI's other modes fetch a key at run time (from STS, instance
   * metadata or a helper program), which slbscript does not do. */
  if(mode.len && !span_is(mode, "AK") && !span_is(mode, "StsToken")) {
    set_err(err, errlen, "profile '%s' has mode '%s', which slbscript "
            "does not support (use AK or StsToken)", show(&p, name),
            show_kind(&m, mode));
    return UNUSABLE;
  }
  return use_profile(&k, span_is(mode, "StsToken"), "mode StsToken",
                     "sts_token", name, out, err, errlen);
}

/* The profile comes from the caller, else the file's "current", else is
 * "default". Only a missing "default" is unremarkable. */
static enum lookup cli_choose(const cJSON *root, const char *profile,
                              slb_cred *out, char *err, size_t errlen)
{
  const cJSON *profiles, *entry;
  struct span name, current;
  struct shown p;
  int asked;

  if(!cJSON_IsObject(root)) {
    set_err(err, errlen, "not a JSON object");
    return MALFORMED;
  }
  profiles = cJSON_GetObjectItemCaseSensitive(root, "profiles");
  if(profiles && !cJSON_IsArray(profiles) && !cJSON_IsNull(profiles)) {
    set_err(err, errlen, "\"profiles\" is not an array");
    return MALFORMED;
  }
  if(json_field(root, "current", &current)) {
    set_err(err, errlen, "\"current\" is not a string");
    return MALFORMED;
  }

  name = trim_str(profile);
  asked = name.len > 0;
  if(!asked)
    name = current.len ? current : trim_str("default");
  if(cli_find(profiles, name, &entry, err, errlen))
    return MALFORMED;
  if(entry)
    return cli_profile(entry, name, out, err, errlen);

  if(!asked && current.len) {
    set_err(err, errlen, "\"current\" names profile '%s', which does not "
            "exist", show(&p, name));
    return NO_PROFILE;
  }
  set_err(err, errlen, "no profile '%s'", show(&p, name));
  return asked ? NO_PROFILE : NO_KEY;
}

static enum lookup cli_config(const char *text, size_t len,
                              const char *profile, slb_cred *out,
                              char *err, size_t errlen)
{
  const char *end = NULL;
  cJSON *root;
  char *copy;
  enum lookup r;

  memset(out, 0, sizeof(*out));
  r = check_text(&text, &len, err, errlen);
  if(r != FOUND)
    return r;

  /* cJSON gets its own NUL-terminated copy: then it can reject trailing
   * junk, and no slip of its own can read past the caller's len. */
  copy = malloc(len + 1);
  if(!copy)
    return out_of_memory(err, errlen);
  if(len)
    memcpy(copy, text, len);
  copy[len] = '\0';

  root = cJSON_ParseWithLengthOpts(copy, len + 1, &end, 1);
  if(root) {
    r = cli_choose(root, profile, out, err, errlen);
    wipe_json(root);
    cJSON_Delete(root);
  }
  else {
    json_error(text, len, end ? (size_t)(end - copy) : len, err, errlen);
    r = MALFORMED;
  }
  mbedtls_platform_zeroize(copy, len + 1);
  free(copy);
  return r;
}

/* What the INI reader keeps of the chosen section: slices of the text, so
 * that no secret is copied until the section turns out to be usable. */
struct ini_state {
  struct span want;       /* section to use */
  unsigned line;          /* current line number, from 1 */
  int in_section;         /* a [section] header has been seen */
  int in_want;            /* and it is the wanted one */
  int found;              /* the wanted section exists */
  struct span type;
  struct span sts_token;  /* older name for security_token */
  struct key k;
};

static void ini_assign(struct ini_state *st, struct span name,
                       struct span val)
{
  size_t i;
  const struct {
    const char *name;
    struct span *slot;
  } slots[] = {
    { "type", &st->type },
    { "access_key_id", &st->k.id },
    { "access_key_secret", &st->k.secret },
    { "security_token", &st->k.token },
    { "sts_token", &st->sts_token },
    { "region_id", &st->k.region }
  };

  for(i = 0; i < COUNT(slots); i++)
    if(span_is(name, slots[i].name))
      *slots[i].slot = val;
}

static enum lookup ini_header(struct ini_state *st, struct span s,
                              char *err, size_t errlen)
{
  struct span name;

  if(s.len < 2 || s.ptr[s.len - 1] != ']') {
    set_err(err, errlen, "line %u: '[' without a closing ']'", st->line);
    return MALFORMED;
  }
  name = trim(s.ptr + 1, s.len - 2);
  if(!name.len) {
    set_err(err, errlen, "line %u: empty section name", st->line);
    return MALFORMED;
  }
  st->in_section = 1;
  st->in_want = span_eq(name, st->want);
  if(st->in_want)
    st->found = 1;
  return FOUND;
}

/* One trimmed line. Messages give only the line number: the line itself
 * may hold a secret. */
static enum lookup ini_line(struct ini_state *st, struct span s,
                            char *err, size_t errlen)
{
  const char *eq;
  struct span name;

  if(!s.len || s.ptr[0] == '#' || s.ptr[0] == ';')
    return FOUND;
  if(s.ptr[0] == '[')
    return ini_header(st, s, err, errlen);

  eq = memchr(s.ptr, '=', s.len);
  if(!eq) {
    set_err(err, errlen, "line %u: expected 'key = value' or '[section]'",
            st->line);
    return MALFORMED;
  }
  name = trim(s.ptr, (size_t)(eq - s.ptr));
  if(!name.len) {
    set_err(err, errlen, "line %u: no key before '='", st->line);
    return MALFORMED;
  }
  if(!st->in_section) {
    set_err(err, errlen, "line %u: key outside any [section]", st->line);
    return MALFORMED;
  }
  if(st->in_want)
    ini_assign(st, name, trim(eq + 1, (size_t)(s.ptr + s.len - eq - 1)));
  return FOUND;
}

static enum lookup ini_use(struct ini_state *st, int named, slb_cred *out,
                           char *err, size_t errlen)
{
  struct shown p, t;
  int sts = span_is(st->type, "sts");

  if(!st->found) {
    set_err(err, errlen, "no profile '%s'", show(&p, st->want));
    return named ? NO_PROFILE : NO_KEY;
  }
  if(st->type.len && !sts && !span_is(st->type, "access_key")) {
    set_err(err, errlen, "profile '%s' has type '%s', which slbscript "
            "does not support (use access_key or sts)",
            show(&p, st->want), show_kind(&t, st->type));
    return UNUSABLE;
  }
  if(!st->k.token.len)
    st->k.token = st->sts_token;
  return use_profile(&st->k, sts, "type sts", "security_token", st->want,
                     out, err, errlen);
}

static enum lookup ini_file(const char *text, size_t len,
                            const char *profile, slb_cred *out,
                            char *err, size_t errlen)
{
  struct ini_state st;
  const char *end, *nl;
  enum lookup r;
  int named;

  memset(out, 0, sizeof(*out));
  memset(&st, 0, sizeof(st));
  r = check_text(&text, &len, err, errlen);
  if(r != FOUND)
    return r;
  st.want = trim_str(profile);
  named = st.want.len > 0;
  if(!named)
    st.want = trim_str("default");

  for(end = text + len; text < end; text = nl ? nl + 1 : end) {
    nl = memchr(text, '\n', (size_t)(end - text));
    st.line++;
    r = ini_line(&st, trim(text, (size_t)((nl ? nl : end) - text)),
                 err, errlen);
    if(r != FOUND)
      return r;
  }
  return ini_use(&st, named, out, err, errlen);
}

static int public_result(enum lookup r)
{
  switch(r) {
  case FOUND:
    return 0;
  case NO_KEY:
  case UNUSABLE:
    return 1;
  default:
    return -1;
  }
}

int slb_cred_parse_cli_config(const char *text, size_t len,
                              const char *profile, slb_cred *out,
                              char *err, size_t errlen)
{
  set_err(err, errlen, "%s", "");
  return public_result(cli_config(text, len, profile, out, err, errlen));
}

int slb_cred_parse_ini(const char *text, size_t len, const char *profile,
                       slb_cred *out, char *err, size_t errlen)
{
  set_err(err, errlen, "%s", "");
  return public_result(ini_file(text, len, profile, out, err, errlen));
}

/* What slb_cred_resolve has learned so far. */
struct search {
  const slb_cred_opts *opts;
  char *profile;          /* by option or ALIBABA_CLOUD_PROFILE, or NULL */
  int profile_by_option;  /* then the environment's key is skipped */
  int profile_seen;       /* some file has that profile */
  slb_buf places;         /* "where (why)" for the final message */
  slb_buf files;          /* the same, for the files alone */
};

static struct span env(const slb_cred_opts *o, const char *name)
{
  return trim_str(o->getenv_fn ? o->getenv_fn(name, o->getenv_ud)
                  : getenv(name));
}

static void note(slb_buf *list, const char *where, const char *why)
{
  if(list->len)
    slb_buf_adds(list, ", ");
  slb_buf_adds(list, where);
  if(why) {
    slb_buf_adds(list, " (");
    slb_buf_adds(list, why);
    slb_buf_addc(list, ')');
  }
}

static enum lookup from_explicit(struct search *s, slb_cred *out,
                                 char *err, size_t errlen)
{
  const slb_cred_opts *o = s->opts;
  struct key k;
  enum lookup r;
  int pair;

  k.id = trim_str(o->access_key_id);
  k.secret = trim_str(o->access_key_secret);
  k.token = trim_str(o->security_token);
  k.region = empty_span;
  pair = check_pair(&k, "explicit options", "access_key_id",
                    "access_key_secret", err, errlen);
  if(pair < 0)
    return UNUSABLE;
  if(!pair && k.token.len) {
    set_err(err, errlen, "explicit options: security_token is set but "
            "access_key_id and access_key_secret are not");
    return UNUSABLE;
  }
  if(!pair) {
    note(&s->places, "explicit options", NULL);
    return NO_KEY;
  }
  r = fill(out, &k, err, errlen);
  if(r == FOUND)
    strcpy(out->source, "explicit");
  return r;
}

/* Each pair comes with its own token; the first pair wins, never a mix. */
static const struct env_key {
  const char *id;
  const char *secret;
  const char *token;
} env_keys[] = {
  { "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "ALIBABA_CLOUD_SECURITY_TOKEN" },
  { "ALICLOUD_ACCESS_KEY", "ALICLOUD_SECRET_KEY", "ALICLOUD_SECURITY_TOKEN" }
};

static void note_env(struct search *s)
{
  size_t i;

  if(s->places.len)
    slb_buf_adds(&s->places, ", ");
  slb_buf_adds(&s->places, "environment (");
  for(i = 0; i < COUNT(env_keys); i++) {
    if(i)
      slb_buf_adds(&s->places, ", ");
    slb_buf_adds(&s->places, env_keys[i].id);
    slb_buf_addc(&s->places, '/');
    slb_buf_adds(&s->places, env_keys[i].secret);
  }
  slb_buf_addc(&s->places, ')');
}

static enum lookup from_env(struct search *s, slb_cred *out,
                            char *err, size_t errlen)
{
  enum lookup r;
  struct key k;
  size_t i;
  int pair;

  /* A profile named on the command line is a request for that profile,
   * which a key left in the environment must not override. */
  if(s->profile_by_option) {
    note(&s->places, "environment", "skipped: a profile was named");
    return NO_KEY;
  }
  for(i = 0; i < COUNT(env_keys); i++) {
    k.id = env(s->opts, env_keys[i].id);
    k.secret = env(s->opts, env_keys[i].secret);
    k.token = env(s->opts, env_keys[i].token);
    k.region = empty_span;
    pair = check_pair(&k, "environment", env_keys[i].id,
                      env_keys[i].secret, err, errlen);
    if(pair < 0)
      return UNUSABLE;
    if(pair) {
      r = fill(out, &k, err, errlen);
      if(r == FOUND)
        snprintf(out->source, sizeof(out->source), "environment (%s)",
                 env_keys[i].id);
      return r;
    }
  }
  note_env(s);
  return NO_KEY;
}

static const struct cred_file {
  const char *override;   /* variable naming the file */
  const char *home_path;  /* else this, "~/" standing for HOME */
  enum lookup (*parse)(const char *, size_t, const char *, slb_cred *,
                       char *, size_t);
} cred_files[] = {
  { "ALIBABA_CLOUD_CONFIG_FILE", "~/.aliyun/config.json", cli_config },
  { "ALIBABA_CLOUD_CREDENTIALS_FILE", "~/.alibabacloud/credentials",
    ini_file }
};

/* Puts the file's path in path. Returns 1 when there is none because
 * HOME is not set. */
static int file_path(const slb_cred_opts *o, const struct cred_file *f,
                     slb_buf *path)
{
  struct span named = env(o, f->override), dir;

  if(named.len) {
    slb_buf_add(path, named.ptr, named.len);
    return 0;
  }
  dir = env(o, "HOME");
  if(!dir.len)
    return 1;
  while(dir.len > 1 && dir.ptr[dir.len - 1] == '/')
    dir.len--;
  slb_buf_add(path, dir.ptr, dir.len);
  if(dir.ptr[dir.len - 1] != '/')
    slb_buf_addc(path, '/');
  slb_buf_adds(path, f->home_path + 2);
  return 0;
}

/* Reads a whole regular file into *text, NUL-terminated. Returns 0, 1 when
 * there is no such file, or -1 with the reason in why. Other kinds of file
 * are refused, so that a FIFO cannot block and a directory gets a plain
 * message. */
static int read_file(const char *path, char **text, size_t *len,
                     char *why, size_t whylen)
{
  struct stat st;
  char *data = NULL;
  size_t size = 0, got = 0;
  ssize_t n;
  int rc = -1;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

  if(fd < 0) {
    if(errno == ENOENT || errno == ENOTDIR)
      return 1;
    set_err(why, whylen, "cannot open: %s", strerror(errno));
    return -1;
  }
  if(fstat(fd, &st)) {
    set_err(why, whylen, "cannot stat: %s", strerror(errno));
    goto fail;
  }
  if(!S_ISREG(st.st_mode)) {
    set_err(why, whylen, "cannot read: %s", S_ISDIR(st.st_mode) ?
            "it is a directory" : "not a regular file");
    goto fail;
  }
  if(st.st_size > MAX_FILE_SIZE) {
    set_err(why, whylen, "larger than %d bytes", MAX_FILE_SIZE);
    goto fail;
  }

  size = (size_t)st.st_size;
  data = malloc(size + 1);
  if(!data) {
    set_err(why, whylen, "out of memory");
    goto fail;
  }
  while(got < size) {
    n = read(fd, data + got, size - got);
    if(n < 0 && errno == EINTR)
      continue;
    if(n < 0) {
      set_err(why, whylen, "cannot read: %s", strerror(errno));
      goto fail;
    }
    if(!n)
      break;
    got += (size_t)n;
  }
  data[got] = '\0';
  *text = data;
  *len = got;
  data = NULL;
  rc = 0;

fail:
  if(data) {
    mbedtls_platform_zeroize(data, size + 1);
    free(data);
  }
  close(fd);
  return rc;
}

static enum lookup from_file(struct search *s, const struct cred_file *f,
                             slb_cred *out, char *err, size_t errlen)
{
  char why[256];
  char *text = NULL;
  const char *path;
  struct shown p;
  slb_buf buf;
  size_t len = 0;
  enum lookup r = NO_KEY;
  int rc;

  slb_buf_init(&buf);
  if(file_path(s->opts, f, &buf)) {
    note(&s->files, f->home_path, "HOME not set");
    goto done;
  }
  path = slb_buf_cstr(&buf);
  if(!path) {
    r = out_of_memory(err, errlen);
    goto done;
  }

  rc = read_file(path, &text, &len, why, sizeof(why));
  if(rc > 0) {
    note(&s->files, path, "not found");
    goto done;
  }
  if(rc < 0) {
    set_err(err, errlen, "%s: %s", path, why);
    r = FAILED;
    goto done;
  }

  r = f->parse(text, len, s->profile, out, why, sizeof(why));
  /* With a profile asked for, only NO_PROFILE says it is absent */
  if(r == FOUND || r == NO_KEY)
    s->profile_seen = 1;
  if(r == FOUND)
    snprintf(out->source, sizeof(out->source), "profile '%s' in %s",
             show(&p, trim_str(out->profile)), path);
  else if(r == NO_KEY || r == NO_PROFILE) {
    note(&s->files, path, why);
    r = NO_KEY;
  }
  else
    set_err(err, errlen, "%s: %s", path, why);

done:
  if(text) {
    mbedtls_platform_zeroize(text, len);
    free(text);
  }
  slb_buf_free(&buf);
  return r;
}

static enum lookup from_cli_file(struct search *s, slb_cred *out,
                                 char *err, size_t errlen)
{
  return from_file(s, &cred_files[0], out, err, errlen);
}

static enum lookup from_ini_file(struct search *s, slb_cred *out,
                                 char *err, size_t errlen)
{
  return from_file(s, &cred_files[1], out, err, errlen);
}

static void nothing_found(struct search *s, char *err, size_t errlen)
{
  const char *places = slb_buf_cstr(&s->places);
  const char *files = slb_buf_cstr(&s->files);
  struct shown p;

  if(!places || !files)
    out_of_memory(err, errlen);
  else if(s->profile && !s->profile_seen)
    set_err(err, errlen, "profile '%s' not found; looked in: %s",
            show(&p, trim_str(s->profile)), files);
  else
    set_err(err, errlen, "no credentials found; looked in: %s, %s",
            places, files);
}

/* The environment's region only fills a gap; the caller decides whether
 * its own region option beats the one found here. */
static enum lookup add_region(struct search *s, slb_cred *out,
                              char *err, size_t errlen)
{
  struct span region;

  if(out->region_id)
    return FOUND;
  region = env(s->opts, "ALIBABA_CLOUD_REGION_ID");
  if(!region.len)
    return FOUND;
  out->region_id = span_dup(region);
  return out->region_id ? FOUND : out_of_memory(err, errlen);
}

static int search_init(struct search *s, const slb_cred_opts *opts)
{
  struct span profile = trim_str(opts->profile);

  memset(s, 0, sizeof(*s));
  s->opts = opts;
  slb_buf_init(&s->places);
  slb_buf_init(&s->files);
  s->profile_by_option = profile.len > 0;
  if(!profile.len)
    profile = env(opts, "ALIBABA_CLOUD_PROFILE");
  if(!profile.len)
    return 0;
  s->profile = span_dup(profile);
  return s->profile ? 0 : -1;
}

static void search_free(struct search *s)
{
  free(s->profile);
  slb_buf_free(&s->places);
  slb_buf_free(&s->files);
}

int slb_cred_resolve(const slb_cred_opts *opts, slb_cred *out,
                     char *err, size_t errlen)
{
  static const slb_cred_opts defaults;
  static enum lookup (*const sources[])(struct search *, slb_cred *,
                                        char *, size_t) = {
    from_explicit, from_env, from_cli_file, from_ini_file
  };
  struct search s;
  enum lookup r = NO_KEY;
  size_t i;

  memset(out, 0, sizeof(*out));
  set_err(err, errlen, "%s", "");
  if(search_init(&s, opts ? opts : &defaults))
    r = out_of_memory(err, errlen);
  for(i = 0; r == NO_KEY && i < COUNT(sources); i++)
    r = sources[i](&s, out, err, errlen);

  if(r == NO_KEY)
    nothing_found(&s, err, errlen);
  if(r == FOUND)
    r = add_region(&s, out, err, errlen);
  if(r != FOUND)
    slb_cred_clear(out);
  search_free(&s);
  return r == FOUND ? 0 : -1;
}
