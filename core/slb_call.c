/* slb_call.c: one logical call (an op): dry-run and safety-limit checks,
 * then attempts over HTTP (or the simulator) with bounded, jittered
 * retries. The synchronous call and the multi driver share every step. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "slb_internal.h"
#include "slb_sim.h"

double slb_monotonic_ms(void)
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
  slb_op *op = ud;

  if(op->response.len + n > (size_t)MAX_BODY)
    return 0;                           /* curl reports a write error */
  slb_buf_add(&op->response, data, n);
  return op->response.failed ? 0 : n * size;
}

static size_t on_header(char *line, size_t size, size_t n, void *ud)
{
  static const char name[] = "x-acs-retry-after:";
  slb_op *op = ud;
  size_t len = n * size;
  long value;

  if(len > sizeof(name) && !strncasecmp(line, name, sizeof(name) - 1)) {
    char digits[24];
    size_t k = len - (sizeof(name) - 1);
    if(k >= sizeof(digits))
      k = sizeof(digits) - 1;
    memcpy(digits, line + sizeof(name) - 1, k);
    digits[k] = '\0';
    /* The largest of repeated headers wins; a huge value is capped, not
     * dropped, so we never come back sooner than asked within the cap. */
    value = strtol(digits, NULL, 10);
    if(value > MAX_BACKOFF_MS * 3)
      value = MAX_BACKOFF_MS * 3;
    if(value > op->retry_after_ms)
      op->retry_after_ms = value;
  }
  return len;
}

/* An attempt never runs past the client's time limit. */
static long attempt_timeout_ms(const slb_client *c)
{
  double left;

  if(!c->deadline)
    return c->timeout_ms;
  left = c->deadline - slb_monotonic_ms();
  if(left < 1)
    return 1;
  return left < (double)c->timeout_ms ? (long)left : c->timeout_ms;
}

static void setup_easy(slb_op *op)
{
  const slb_client *c = op->c;
  struct request *req = &op->req;
  CURL *e = op->easy;

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
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, attempt_timeout_ms(c));
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
  if(c->ca_file)
    curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
  curl_easy_setopt(e, CURLOPT_USERAGENT, c->user_agent);
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, op);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, op);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, op->curl_error);
  curl_easy_setopt(e, CURLOPT_PRIVATE, op);
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
static void transport_error(slb_op *op, CURLcode rc)
{
  const char *detail = *op->curl_error ? op->curl_error :
                       curl_easy_strerror(rc);
  slb_error *err = &op->err;

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
    op->was_uncertain = 1;
    break;
  default:
    break;
  }
}

/* The simulator answers at once; no transfer is involved. */
static void simulate(slb_op *op, long *status)
{
  if(slb_sim_handle(op->c->sim, op->region, op->action, &op->params,
                    status, &op->response))
    slb_set_error(&op->err, SLB_E_INTERNAL, "out of memory in simulation");
}

int slb_op_start_attempt(slb_op *op)
{
  op->attempt++;
  op->attempt_started = slb_monotonic_ms();
  slb_buf_reset(&op->response);
  op->retry_after_ms = 0;
  op->curl_error[0] = '\0';
  memset(&op->err, 0, sizeof(op->err));
  if(op->c->sim)
    return 0;
  if(slb_request_build(op->c, op->action, op->region, &op->params,
                       &op->req, &op->err)) {
    slb_request_free(&op->req);
    return -1;
  }
  op->transfer = 1;
  setup_easy(op);
  return 0;
}

/* The answer of an attempt that got one: JSON, or a structured error. */
static void read_answer(slb_op *op, long status)
{
  op->res.status = (int)status;
  op->res.json = slb_parse_response(status, op->response.data,
                                    op->response.len, &op->err);
  /* The service may have acted on a request whose answer was lost. */
  if(!op->res.json && (status >= 500 || (status >= 200 && status < 300)))
    op->was_uncertain = 1;
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
static long backoff_ms(const slb_op *op)
{
  long step = op->c->backoff_ms;
  int attempt_no = op->attempt;
  int i;

  for(i = 1; i < attempt_no && step < MAX_BACKOFF_MS; i++)
    step *= 2;
  if(step > MAX_BACKOFF_MS)
    step = MAX_BACKOFF_MS;
  step = step / 2 + (long)(random_u32() % (unsigned)(step / 2 + 1));
  return step > op->retry_after_ms ? step : op->retry_after_ms;
}

static void notify(const slb_op *op, long retry_in)
{
  const slb_client *c = op->c;
  slb_attempt a;

  if(!c->observer)
    return;
  a.action = op->action;
  a.region = op->region;
  a.attempt = op->attempt;
  a.status = op->res.json ? op->res.status : op->err.status;
  a.code = op->res.json ? "" : op->err.code;
  a.request_id = op->res.json ? op->res.request_id : op->err.request_id;
  a.elapsed_ms = slb_monotonic_ms() - op->attempt_started;
  a.will_retry = retry_in >= 0;
  a.retry_in_ms = retry_in >= 0 ? retry_in : 0;
  c->observer(&a, c->observer_ud);
}

/* A delete whose earlier attempt may have landed and that now finds the
 * certificate gone did what was asked. */
static int already_deleted(const slb_op *op)
{
  return op->was_uncertain &&
         !strcmp(op->action, "DeleteServerCertificate") &&
         !strcmp(op->err.code, "ServerCertificateId.NotFound");
}

static void request_id_of(slb_op *op)
{
  const cJSON *rid = cJSON_GetObjectItemCaseSensitive(op->res.json,
                                                      "RequestId");
  if(cJSON_IsString(rid))
    snprintf(op->res.request_id, sizeof(op->res.request_id), "%s",
             rid->valuestring);
  slb_client_scrub(op->c, op->res.request_id);
}

/* The budgets a client answers to: its own, and the run's if any. */
static int over_budget(const slb_client *c)
{
  const slb_budget *b[2] = {&c->own, c->shared};
  int i;

  for(i = 0; i < 2; i++)
    if(b[i] && b[i]->max >= 0 && b[i]->used + b[i]->in_flight >= b[i]->max)
      return 1;
  return 0;
}

/* Moves a call out of flight; counts it as used if it may have acted. */
static void spend(slb_client *c, int used)
{
  slb_budget *b[2] = {&c->own, c->shared};
  int i;

  for(i = 0; i < 2; i++)
    if(b[i]) {
      b[i]->in_flight--;
      b[i]->used += used;
    }
}

static void reserve(slb_client *c)
{
  c->own.in_flight++;
  if(c->shared)
    c->shared->in_flight++;
}

static void finish(slb_op *op, int rc)
{
  slb_client *c = op->c;

  op->done = 1;
  op->rc = rc;
  op->res.attempts = op->err.attempts = op->attempt;
  c->ops--;
  if(op->mutating)
    /* A call that may have landed counts against the limit too: the
     * limit is about what could have changed. */
    spend(c, !rc || op->was_uncertain);
}

void slb_op_cancel(slb_op *op)
{
  slb_set_error(&op->err, SLB_E_CANCELLED, "%s was cancelled before it "
                "finished", op->action);
  /* A request that was on the wire may have landed. */
  op->was_uncertain |= op->attempt > 0;
  finish(op, -1);
}

int slb_op_finish_attempt(slb_op *op, CURLcode rc)
{
  long status = 0, delay = -1;
  int was_uncertain = op->was_uncertain;

  if(op->transfer) {
    if(rc == CURLE_OK)
      curl_easy_getinfo(op->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_setopt(op->easy, CURLOPT_HTTPHEADER, NULL);
    slb_request_free(&op->req);
    op->transfer = 0;
  }
  else if(op->c->sim && !*op->err.code)
    simulate(op, &status);
  if(*op->err.code)
    ;                                   /* failed before sending */
  else if(rc != CURLE_OK)
    transport_error(op, rc);
  else
    read_answer(op, status);
  slb_scrub_error(op->c, &op->err);

  if(op->res.json) {
    request_id_of(op);
    finish(op, 0);
    notify(op, -1);
    return 1;
  }
  if(was_uncertain && already_deleted(op)) {
    op->res.json = cJSON_CreateObject();
    cJSON_AddStringToObject(op->res.json, "RequestId", op->err.request_id);
    request_id_of(op);
    op->res.already_deleted = 1;
    finish(op, 0);
    notify(op, -1);
    return 1;
  }
  if(op->err.retryable && op->attempt <= op->c->retries)
    delay = backoff_ms(op);
  if(delay >= 0 && op->c->deadline &&
     slb_monotonic_ms() + (double)delay >= op->c->deadline)
    delay = -1;                         /* no time left to try again */
  if(delay < 0) {
    finish(op, -1);
    notify(op, delay);
    return 1;
  }
  notify(op, delay);
  op->not_before = slb_monotonic_ms() + (double)delay;
  return 0;
}

/* The time limit, dry run and the mutation limit decide before anything
 * is sent. */
static void admit(slb_op *op)
{
  slb_client *c = op->c;

  if(c->deadline && slb_monotonic_ms() >= c->deadline) {
    slb_set_error(&op->err, SLB_E_TIME_LIMIT, "%s refused: the client's "
                  "time limit is reached", op->action);
    op->done = 1;
    op->rc = -1;
    return;
  }
  if(!op->mutating)
    return;
  if(over_budget(c)) {
    slb_set_error(&op->err, SLB_E_DELETE_LIMIT, "%s refused: the limit on "
                  "mutating calls (--max-deletes, max_deletes) is reached",
                  op->action);
    op->done = 1;
    op->rc = -1;
    return;
  }
  if(c->dry_run) {
    reserve(c);
    spend(c, 1);
    op->res.json = cJSON_CreateObject();
    op->res.dry_run = 1;
    op->done = 1;
    op->rc = op->res.json ? 0 : -1;
    if(!op->res.json)
      slb_set_error(&op->err, SLB_E_INTERNAL, "out of memory");
    return;
  }
  reserve(c);
}

slb_op *slb_op_new(slb_client *c, const char *action, const char *region,
                   const slb_params *params, slb_error *err)
{
  slb_params none;
  slb_op *op;

  if(!region || !*region)
    region = c->region;
  if(!params) {
    slb_params_init(&none);
    params = &none;
  }
  if(slb_check_call(action, region, params, err))
    return NULL;
  op = calloc(1, sizeof(*op));
  if(!op) {
    slb_set_error(err, SLB_E_INTERNAL, "out of memory");
    return NULL;
  }
  op->c = c;
  snprintf(op->action, sizeof(op->action), "%s", action);
  snprintf(op->region, sizeof(op->region), "%s", region);
  slb_params_init(&op->params);
  slb_buf_init(&op->response);
  if(slb_params_append(&op->params, params)) {
    slb_op_free(op);
    slb_set_error(err, SLB_E_INTERNAL, "out of memory");
    return NULL;
  }
  op->mutating = slb_action_is_mutating(action);
  admit(op);
  if(!op->done)
    c->ops++;
  return op;
}

int slb_op_done(const slb_op *op)
{
  return op->done;
}

void slb_op_set_userdata(slb_op *op, void *ud)
{
  op->ud = ud;
}

void *slb_op_userdata(const slb_op *op)
{
  return op->ud;
}

int slb_op_result(slb_op *op, slb_result *res, slb_error *err)
{
  *res = op->res;
  *err = op->err;
  op->res.json = NULL;
  return op->rc;
}

void slb_op_free(slb_op *op)
{
  if(!op)
    return;
  if(op->in_multi) {
    op->abandoned = 1;                  /* the multi frees it */
    return;
  }
  if(op->transfer)
    slb_request_free(&op->req);
  /* A done op no longer needs its client, which may be gone by now. */
  if(!op->done) {
    if(op->mutating)
      spend(op->c, op->was_uncertain || op->transfer);
    op->c->ops--;
  }
  cJSON_Delete(op->res.json);
  slb_params_free(&op->params);
  slb_buf_wipe(&op->response);
  free(op);
}

/* Runs op's attempts one after another, sleeping between them. */
void slb_op_run(slb_op *op, CURL *easy)
{
  while(!op->done) {
    double wait = op->not_before - slb_monotonic_ms();
    CURLcode rc = CURLE_OK;
    if(wait > 0)
      sleep_ms((long)wait);
    op->easy = easy;
    if(!slb_op_start_attempt(op) && op->transfer)
      rc = curl_easy_perform(easy);
    slb_op_finish_attempt(op, rc);
  }
}

const char *slb_op_action(const slb_op *op)
{
  return op->action;
}

const char *slb_op_region(const slb_op *op)
{
  return op->region;
}

const slb_params *slb_op_params(const slb_op *op)
{
  return &op->params;
}

void slb_client_run(slb_client *c, slb_op *op)
{
  slb_op_run(op, c->easy);
}
