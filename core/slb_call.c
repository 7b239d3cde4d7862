/* slb_call.c: one logical call: dry-run and safety-limit checks, then
 * attempts over HTTP (or the simulator) with bounded, jittered retries. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "slb_internal.h"
#include "slb_sim.h"

/* What one attempt left behind for the retry decision. */
struct outcome {
  long status;
  int uncertain;            /* the service may have acted on it */
  cJSON *json;
};

static double monotonic_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while(nanosleep(&ts, &ts) && errno == EINTR)
    ;
}

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
  slb_client *c = ud;

  if(c->response.len + n > (size_t)MAX_BODY)
    return 0;                           /* curl reports a write error */
  slb_buf_add(&c->response, data, n);
  return c->response.failed ? 0 : n * size;
}

static size_t on_header(char *line, size_t size, size_t n, void *ud)
{
  static const char name[] = "x-acs-retry-after:";
  slb_client *c = ud;
  size_t len = n * size;

  if(len > sizeof(name) && !strncasecmp(line, name, sizeof(name) - 1)) {
    char digits[24];
    size_t k = len - (sizeof(name) - 1);
    if(k >= sizeof(digits))
      k = sizeof(digits) - 1;
    memcpy(digits, line + sizeof(name) - 1, k);
    digits[k] = '\0';
    c->retry_after_ms = strtol(digits, NULL, 10);
    if(c->retry_after_ms < 0 || c->retry_after_ms > MAX_BACKOFF_MS * 3)
      c->retry_after_ms = 0;
  }
  return len;
}

static void setup_easy(slb_client *c, struct request *req)
{
  CURL *e = c->easy;

  curl_easy_setopt(e, CURLOPT_URL, req->url.data);
  if(req->post) {
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body.data);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                     (curl_off_t)req->body.len);
  }
  else
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, req->headers);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
  if(c->ca_file)
    curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
  curl_easy_setopt(e, CURLOPT_USERAGENT, c->user_agent);
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->curl_error);
}

static int tls_failure(CURLcode rc)
{
  switch(rc) {
  case CURLE_SSL_CONNECT_ERROR: case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM: case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE: case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_CRL_BADFILE: case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS: case CURLE_SSL_ENGINE_INITFAILED:
  case CURLE_SSL_SHUTDOWN_FAILED:
    return 1;
  default:
    return 0;
  }
}

/* A transfer that got no usable HTTP answer. */
static void transport_error(slb_client *c, CURLcode rc, struct outcome *o,
                            slb_error *err)
{
  const char *detail = *c->curl_error ? c->curl_error :
                       curl_easy_strerror(rc);

  if(rc == CURLE_WRITE_ERROR) {
    slb_set_error(err, SLB_E_BAD_RESPONSE, "response body larger than "
                  "%ld MB", MAX_BODY / (1024 * 1024));
    return;
  }
  if(tls_failure(rc)) {
    slb_set_error(err, SLB_E_TLS, "TLS: %s", detail);
    return;
  }
  slb_set_error(err, rc == CURLE_OPERATION_TIMEDOUT ? SLB_E_TIMEOUT :
                SLB_E_NETWORK, "%s", detail);
  switch(rc) {
  case CURLE_COULDNT_RESOLVE_PROXY: case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_CONNECT:
    err->retryable = 1;                 /* nothing reached the service */
    break;
  case CURLE_OPERATION_TIMEDOUT: case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR: case CURLE_GOT_NOTHING: case CURLE_PARTIAL_FILE:
  case CURLE_HTTP2: case CURLE_HTTP2_STREAM:
    err->retryable = 1;
    o->uncertain = 1;
    break;
  default:
    break;
  }
}

static int perform_http(slb_client *c, const char *action,
                        const char *region, const slb_params *params,
                        struct outcome *o, slb_error *err)
{
  struct request req;
  CURLcode rc;

  if(slb_request_build(c, action, region, params, &req, err)) {
    slb_request_free(&req);
    return -1;
  }
  slb_buf_reset(&c->response);
  c->retry_after_ms = 0;
  c->curl_error[0] = '\0';
  setup_easy(c, &req);
  rc = curl_easy_perform(c->easy);
  curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, NULL);
  slb_request_free(&req);
  if(rc != CURLE_OK) {
    transport_error(c, rc, o, err);
    return -1;
  }
  curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &o->status);
  return 0;
}

static int perform_sim(slb_client *c, const char *action,
                       const char *region, const slb_params *params,
                       struct outcome *o, slb_error *err)
{
  slb_buf_reset(&c->response);
  c->retry_after_ms = 0;
  if(slb_sim_handle(c->sim, region, action, params, &o->status,
                    &c->response)) {
    slb_set_error(err, SLB_E_INTERNAL, "out of memory in simulation");
    return -1;
  }
  return 0;
}

/* One attempt: an answer in o->json, or err. */
static int attempt(slb_client *c, const char *action, const char *region,
                   const slb_params *params, struct outcome *o,
                   slb_error *err)
{
  int rc;

  memset(o, 0, sizeof(*o));
  memset(err, 0, sizeof(*err));
  rc = c->sim ? perform_sim(c, action, region, params, o, err) :
       perform_http(c, action, region, params, o, err);
  if(!rc) {
    o->json = slb_parse_response(o->status, c->response.data,
                                 c->response.len, err);
    if(!o->json && o->status >= 500)
      o->uncertain = 1;
    if(!o->json && o->status >= 200 && o->status < 300)
      o->uncertain = 1;
  }
  slb_scrub_error(c, err);
  return o->json ? 0 : -1;
}

static unsigned random_u32(void)
{
  unsigned value = 0;
  if(getrandom(&value, sizeof(value), 0) != sizeof(value))
    value = (unsigned)clock();
  return value;
}

/* Exponential steps with "equal jitter" (half fixed, half random), never
 * shorter than what the service asked for. */
static long backoff_ms(const slb_client *c, int attempt_no)
{
  long step = c->backoff_ms;
  int i;

  for(i = 1; i < attempt_no && step < MAX_BACKOFF_MS; i++)
    step *= 2;
  if(step > MAX_BACKOFF_MS)
    step = MAX_BACKOFF_MS;
  step = step / 2 + (long)(random_u32() % (unsigned)(step / 2 + 1));
  return step > c->retry_after_ms ? step : c->retry_after_ms;
}

static void notify(slb_client *c, const char *action, const char *region,
                   int attempt_no, const struct outcome *o,
                   const slb_error *err, double elapsed, long retry_in)
{
  slb_attempt a;
  const cJSON *rid = o->json ?
    cJSON_GetObjectItemCaseSensitive(o->json, "RequestId") : NULL;

  if(!c->observer)
    return;
  a.action = action;
  a.region = region;
  a.attempt = attempt_no;
  a.status = (int)o->status;
  a.code = o->json ? "" : err->code;
  a.request_id = o->json ? (cJSON_IsString(rid) ? rid->valuestring : "") :
                 err->request_id;
  a.elapsed_ms = elapsed;
  a.will_retry = retry_in >= 0;
  a.retry_in_ms = retry_in >= 0 ? retry_in : 0;
  c->observer(&a, c->observer_ud);
}

/* A delete whose earlier attempt may have landed and that now finds the
 * certificate gone did what was asked. */
static int already_deleted(const char *action, int was_uncertain,
                           const slb_error *err)
{
  return was_uncertain && !strcmp(action, "DeleteServerCertificate") &&
         !strcmp(err->code, "ServerCertificateId.NotFound");
}

static void fill_result(slb_result *res, struct outcome *o, int attempts)
{
  const cJSON *rid = cJSON_GetObjectItemCaseSensitive(o->json, "RequestId");

  memset(res, 0, sizeof(*res));
  res->json = o->json;
  res->status = (int)o->status;
  res->attempts = attempts;
  if(cJSON_IsString(rid))
    snprintf(res->request_id, sizeof(res->request_id), "%s",
             rid->valuestring);
}

static int dry_run_result(slb_result *res)
{
  memset(res, 0, sizeof(*res));
  res->json = cJSON_CreateObject();
  res->dry_run = 1;
  return res->json ? 0 : -1;
}

static int retry_loop(slb_client *c, const char *action, const char *region,
                      const slb_params *params, slb_result *res,
                      slb_error *err)
{
  struct outcome o;
  int n, was_uncertain = 0;

  for(n = 1;; n++) {
    double started = monotonic_ms();
    long delay = -1;
    int rc = attempt(c, action, region, params, &o, err);
    if(rc && already_deleted(action, was_uncertain, err)) {
      o.json = cJSON_CreateObject();
      cJSON_AddStringToObject(o.json, "RequestId", err->request_id);
      fill_result(res, &o, n);
      res->already_deleted = 1;
      notify(c, action, region, n, &o, err, monotonic_ms() - started, -1);
      return 0;
    }
    if(rc && err->retryable && n <= c->retries)
      delay = backoff_ms(c, n);
    notify(c, action, region, n, &o, err, monotonic_ms() - started, delay);
    if(!rc) {
      fill_result(res, &o, n);
      return 0;
    }
    was_uncertain |= o.uncertain;
    err->attempts = n;
    if(delay < 0)
      return -1;
    sleep_ms(delay);
  }
}

int slb_client_call(slb_client *c, const char *action, const char *region,
                    const slb_params *params, slb_result *res,
                    slb_error *err)
{
  slb_params none;
  int mutating, rc;

  memset(res, 0, sizeof(*res));
  if(!region || !*region)
    region = c->region;
  if(!params) {
    slb_params_init(&none);
    params = &none;
  }
  if(slb_check_call(action, region, params, err))
    return -1;
  mutating = slb_action_is_mutating(action);
  if(mutating && c->max_deletes >= 0 && c->mutations >= c->max_deletes) {
    slb_set_error(err, SLB_E_DELETE_LIMIT, "%s refused: the limit of %ld "
                  "mutating calls is reached", action, c->max_deletes);
    return -1;
  }
  if(mutating && c->dry_run) {
    c->mutations++;
    if(dry_run_result(res))
      goto nomem;
    return 0;
  }
  rc = retry_loop(c, action, region, params, res, err);
  if(!rc && mutating)
    c->mutations++;
  return rc;
nomem:
  slb_set_error(err, SLB_E_INTERNAL, "out of memory");
  return -1;
}
