/* slb_client.c: one SLB action, attempted until it succeeds, fails for
 * good, or runs out of retries. Every attempt is signed afresh. */
#define _GNU_SOURCE /* memmem */
#include "slb_client.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <mbedtls/platform_util.h>

#include "slb_internal.h"
#include "slb_sim.h"

void slb_config_init(slb_config *cfg)
{
  memset(cfg, 0, sizeof(*cfg));
  cfg->signature_version = 1;
  cfg->connect_timeout_ms = 5000;
  cfg->timeout_ms = 30000;
  cfg->retries = 3;
  cfg->backoff_ms = 200;
  cfg->max_deletes = -1;
}

void slb_set_error(slb_error *err, const char *code, const char *fmt, ...)
{
  va_list ap;

  memset(err, 0, sizeof(*err));
  snprintf(err->code, sizeof(err->code), "%s", code);
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof(err->message), fmt, ap);
  va_end(ap);
}

int slb_region_valid(const char *region)
{
  size_t i, n = region ? strlen(region) : 0;

  if(!n || n > 63)
    return 0;
  for(i = 0; i < n; i++)
    if(!isalnum((unsigned char)region[i]) && region[i] != '-' &&
       region[i] != '_')
      return 0;
  return 1;
}

/* Regions the central endpoint serves, per the reference table. */
static const char *const central_regions[] = {
  "cn-hangzhou", "cn-qingdao", "cn-beijing", "cn-shanghai", "cn-shenzhen",
  "cn-hongkong", "ap-southeast-1", "us-east-1", "us-west-1", NULL
};

void slb_region_endpoint(const char *region, char *out, size_t outlen)
{
  size_t i;

  for(i = 0; central_regions[i]; i++)
    if(!strcmp(region, central_regions[i])) {
      snprintf(out, outlen, "slb.aliyuncs.com");
      return;
    }
  snprintf(out, outlen, "slb.%s.aliyuncs.com", region);
}

static const char *const read_only_verbs[] = {
  "Describe", "List", "Get", "Query", "Check", NULL
};

int slb_action_is_mutating(const char *action)
{
  size_t i;

  for(i = 0; read_only_verbs[i]; i++) {
    size_t n = strlen(read_only_verbs[i]);
    if(!strncmp(action, read_only_verbs[i], n) &&
       isupper((unsigned char)action[n]))
      return 0;
  }
  return 1;
}

static int endpoint_url(const char *endpoint, char *out, size_t outlen,
                        slb_error *err)
{
  const char *host = strstr(endpoint, "://");
  size_t i, n;

  if(host && strncmp(endpoint, "https://", 8) &&
     strncmp(endpoint, "http://", 7)) {
    slb_set_error(err, SLB_E_INVALID, "endpoint '%.200s': only http:// and "
              "https:// are supported", endpoint);
    return -1;
  }
  host = host ? host + 3 : endpoint;
  n = strlen(host);
  if(n && host[n - 1] == '/')
    n--;
  for(i = 0; i < n; i++)
    if(!isalnum((unsigned char)host[i]) && !strchr("-._:[]", host[i]))
      break;
  if(!n || i < n || n > 255) {
    slb_set_error(err, SLB_E_INVALID, "endpoint '%.200s' is not host[:port]",
              endpoint);
    return -1;
  }
  snprintf(out, outlen, "%s%.*s", host == endpoint ? "https://" : "",
           (int)(host - endpoint + n), endpoint);
  return 0;
}

static int getenv_region(const slb_config *cfg, char *out, size_t outlen)
{
  const char *v = cfg->getenv_fn ?
    cfg->getenv_fn("ALIBABA_CLOUD_REGION_ID", cfg->getenv_ud) :
    getenv("ALIBABA_CLOUD_REGION_ID");

  if(!v || !*v)
    return 0;
  snprintf(out, outlen, "%s", v);
  return 1;
}

/* Region: explicit, else the environment, else the chosen profile's. */
static int choose_region(slb_client *c, const slb_config *cfg,
                         slb_error *err)
{
  if(cfg->region && *cfg->region)
    snprintf(c->region, sizeof(c->region), "%s", cfg->region);
  else if(!getenv_region(cfg, c->region, sizeof(c->region)) &&
          c->cred.region_id)
    snprintf(c->region, sizeof(c->region), "%s", c->cred.region_id);
  if(!*c->region && c->sim && slb_sim_first_region(c->sim))
    snprintf(c->region, sizeof(c->region), "%s",
             slb_sim_first_region(c->sim));
  if(!*c->region) {
    slb_set_error(err, SLB_E_INVALID, "no region: give one (--region, "
              "region = ...) or set ALIBABA_CLOUD_REGION_ID");
    return -1;
  }
  if(!slb_region_valid(c->region) ||
     (cfg->region && strlen(cfg->region) >= sizeof(c->region))) {
    slb_set_error(err, SLB_E_INVALID, "invalid region id '%.64s': letters, "
              "digits, '-' and '_' only", c->region);
    return -1;
  }
  return 0;
}

static int check_config(const slb_config *cfg, slb_error *err)
{
  if(cfg->signature_version != 1 && cfg->signature_version != 3) {
    slb_set_error(err, SLB_E_INVALID, "signature version %d: use 1 or 3",
              cfg->signature_version);
    return -1;
  }
  if(cfg->timeout_ms <= 0 || cfg->connect_timeout_ms <= 0) {
    slb_set_error(err, SLB_E_INVALID, "timeouts must be positive");
    return -1;
  }
  if(cfg->retries < -1 || cfg->retries > 100) {
    slb_set_error(err, SLB_E_INVALID, "retries %d: use 0 to 100",
              cfg->retries);
    return -1;
  }
  return 0;
}

static int find_credentials(slb_client *c, const slb_config *cfg,
                            slb_error *err)
{
  slb_cred_opts opts;

  memset(&opts, 0, sizeof(opts));
  opts.access_key_id = cfg->access_key_id;
  opts.access_key_secret = cfg->access_key_secret;
  opts.security_token = cfg->security_token;
  opts.profile = cfg->profile;
  opts.getenv_fn = cfg->getenv_fn;
  opts.getenv_ud = cfg->getenv_ud;
  memset(err, 0, sizeof(*err));
  if(!slb_cred_resolve(&opts, &c->cred, err->message, sizeof(err->message))) {
    c->v1_key_ready = !slb_v1_key_init(&c->v1_key,
                                       c->cred.access_key_secret,
                                       strlen(c->cred.access_key_secret));
    return 0;
  }
  snprintf(err->code, sizeof(err->code), "%s", SLB_E_CREDENTIALS);
  return -1;
}

static int setup_transport(slb_client *c, const slb_config *cfg,
                           slb_error *err)
{
  if(cfg->endpoint && *cfg->endpoint &&
     endpoint_url(cfg->endpoint, c->base_url, sizeof(c->base_url), err))
    return -1;
  if(cfg->ca_file && !(c->ca_file = strdup(cfg->ca_file)))
    goto nomem;
  if(c->sim)
    return 0;
  c->easy = curl_easy_init();
  if(!c->easy)
    goto nomem;
  return 0;
nomem:
  slb_set_error(err, SLB_E_INTERNAL, "out of memory");
  return -1;
}

slb_client *slb_client_new(const slb_config *cfg, slb_error *err)
{
  slb_client *c;

  if(check_config(cfg, err))
    return NULL;
  c = calloc(1, sizeof(*c));
  if(!c) {
    slb_set_error(err, SLB_E_INTERNAL, "out of memory");
    return NULL;
  }
  c->sim = cfg->simulate;
  c->signature_version = cfg->signature_version;
  c->connect_timeout_ms = cfg->connect_timeout_ms;
  c->timeout_ms = cfg->timeout_ms;
  c->retries = cfg->retries < 0 ? 3 : cfg->retries;
  c->backoff_ms = cfg->backoff_ms > 0 ? cfg->backoff_ms : 200;
  c->dry_run = cfg->dry_run;
  c->own.max = cfg->max_deletes;
  c->shared = cfg->budget;
  if(cfg->max_time_ms > 0)
    c->deadline = slb_monotonic_ms() + (double)cfg->max_time_ms;
  c->observer = cfg->observer;
  c->observer_ud = cfg->observer_ud;
  snprintf(c->user_agent, sizeof(c->user_agent), "slbscript/%s",
           SLB_VERSION);

  if((!c->sim && find_credentials(c, cfg, err)) ||
     choose_region(c, cfg, err) || setup_transport(c, cfg, err)) {
    slb_client_free(c);
    return NULL;
  }
  return c;
}

void slb_client_free(slb_client *c)
{
  if(!c)
    return;
  if(c->easy)
    curl_easy_cleanup(c->easy);
  slb_cred_clear(&c->cred);
  if(c->v1_key_ready)
    slb_v1_key_wipe(&c->v1_key);
  free(c->ca_file);
  mbedtls_platform_zeroize(c, sizeof(*c));
  free(c);
}

const char *slb_client_region(const slb_client *c)
{
  return c->region;
}

const char *slb_client_profile(const slb_client *c)
{
  return c->cred.profile ? c->cred.profile : "";
}

const char *slb_client_cred_source(const slb_client *c)
{
  return c->sim ? "simulation" : c->cred.source;
}

int slb_client_dry_run(const slb_client *c)
{
  return c->dry_run;
}

long slb_client_busy(const slb_client *c)
{
  return c->ops;
}

long slb_client_mutations(const slb_client *c)
{
  return c->own.used;
}

static const char *const reserved_params[] = {
  "Action", "Version", "Format", "AccessKeyId", "Signature",
  "SignatureMethod", "SignatureVersion", "SignatureNonce", "SignatureType",
  "Timestamp", "SecurityToken", NULL
};

static int valid_action(const char *action)
{
  size_t i, n = strlen(action);

  if(!n || n > 64 || !isupper((unsigned char)action[0]))
    return 0;
  for(i = 0; i < n; i++)
    if(!isalnum((unsigned char)action[i]))
      return 0;
  return 1;
}

static int check_param(const char *name, size_t name_len, const char *value,
                       size_t value_len, slb_error *err)
{
  size_t i;

  if(!name_len || name_len > 128) {
    slb_set_error(err, SLB_E_INVALID, "parameter name of %zu bytes",
                  name_len);
    return -1;
  }
  for(i = 0; i < name_len; i++)
    if(!isalnum((unsigned char)name[i]) && !strchr("._-", name[i])) {
      slb_set_error(err, SLB_E_INVALID, "parameter name '%.*s' has a "
                    "character other than letters, digits, '.', '_', '-'",
                    (int)(name_len > 64 ? 64 : name_len), name);
      return -1;
    }
  /* Any case: the service may not care, and "signature" must not slip
   * past as an ordinary parameter. */
  for(i = 0; reserved_params[i]; i++)
    if(strlen(reserved_params[i]) == name_len &&
       !strncasecmp(reserved_params[i], name, name_len)) {
      slb_set_error(err, SLB_E_INVALID, "parameter '%s' is set by the "
                    "client and cannot be given", reserved_params[i]);
      return -1;
    }
  if(memchr(value, '\0', value_len)) {
    slb_set_error(err, SLB_E_INVALID, "parameter '%.*s' contains a zero "
                  "byte", (int)name_len, name);
    return -1;
  }
  return 0;
}

/* Everything about a call that can be wrong before any I/O. */
int slb_check_call(const char *action, const char *region,
                      const slb_params *params, slb_error *err)
{
  size_t i;
  int at;

  if(!action || !valid_action(action)) {
    slb_set_error(err, SLB_E_INVALID, "action '%.64s' is not an SLB action "
                  "name (like DescribeServerCertificates)",
                  action ? action : "");
    return -1;
  }
  if(!slb_region_valid(region)) {
    slb_set_error(err, SLB_E_INVALID, "invalid region id '%.64s': letters, "
                  "digits, '-' and '_' only", region);
    return -1;
  }
  for(i = 0; i < params->count; i++) {
    const char *name, *value;
    size_t name_len, value_len;
    slb_params_get(params, i, &name, &name_len, &value, &value_len);
    if(check_param(name, name_len, value, value_len, err))
      return -1;
  }
  at = slb_params_find(params, "RegionId");
  if(at >= 0) {
    const char *name, *value;
    size_t name_len, value_len;
    slb_params_get(params, (size_t)at, &name, &name_len, &value,
                   &value_len);
    if(value_len != strlen(region) || memcmp(value, region, value_len)) {
      slb_set_error(err, SLB_E_INVALID, "parameter RegionId '%.64s' "
                    "differs from the call's region '%s'", value, region);
      return -1;
    }
  }
  return 0;
}

/* Masks the end of text[0..end) when it is the start of secret: a text
 * cut to fit a buffer, or an excerpt cut before "...", may stop inside
 * one. */
static void mask_cut(char *text, size_t end, const char *secret, size_t n)
{
  size_t k;

  for(k = n - 1 < end ? n - 1 : end; k >= 4; k--)
    if(!memcmp(text + end - k, secret, k)) {
      memcpy(text + end - k, "***", 3);
      memmove(text + end - k + 3, text + end, strlen(text + end) + 1);
      return;
    }
}

/* Masks every occurrence of secret in text, and any cut-off start of it
 * at the end of the text or of an excerpt. */
static void replace_all(char *text, const char *secret, size_t n)
{
  size_t from = 0;
  char *at;

  if(n < 4)
    return;
  while((at = memmem(text, strlen(text), secret, n)) != NULL) {
    memcpy(at, "***", 3);
    memmove(at + 3, at + n, strlen(at + n) + 1);
  }
  while((at = strstr(text + from, "...")) != NULL) {
    size_t end = (size_t)(at - text), before = strlen(text);
    mask_cut(text, end, secret, n);
    from = end - (before - strlen(text)) + 3;   /* it may have shrunk */
  }
  mask_cut(text, strlen(text), secret, n);
}

/* A secret may come back raw, or encoded once or twice inside a string to
 * sign that the service quotes in its message. */
/* The same escapes with lower-case hex digits, as some encoders write. */
static void lower_hex(slb_buf *b)
{
  size_t i;

  for(i = 0; i + 3 <= b->len; i++)
    if(b->data[i] == '%') {
      b->data[i + 1] = (char)tolower((unsigned char)b->data[i + 1]);
      b->data[i + 2] = (char)tolower((unsigned char)b->data[i + 2]);
    }
}

static void scrub_one(char *text, const char *secret)
{
  slb_buf once, twice;
  int pass;

  if(!secret || !*secret)
    return;
  slb_buf_init(&once);
  slb_buf_init(&twice);
  slb_percent_encode(&once, secret, strlen(secret));
  slb_percent_encode(&twice, once.data, once.len);
  replace_all(text, secret, strlen(secret));
  for(pass = 0; pass < 2 && !once.failed && !twice.failed; pass++) {
    replace_all(text, once.data, once.len);
    replace_all(text, twice.data, twice.len);
    lower_hex(&once);
    lower_hex(&twice);
  }
  slb_buf_wipe(&once);
  slb_buf_wipe(&twice);
}

void slb_client_scrub(const slb_client *c, char *text)
{
  scrub_one(text, c->cred.access_key_secret);
  scrub_one(text, c->cred.security_token);
}

void slb_scrub_error(const slb_client *c, slb_error *err)
{
  slb_client_scrub(c, err->code);
  slb_client_scrub(c, err->message);
  slb_client_scrub(c, err->request_id);
  slb_client_scrub(c, err->recommend);
  slb_client_scrub(c, err->host_id);
}
