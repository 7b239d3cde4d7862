/* slb_internal.h: what the client's own files share and nobody else
 * sees. */
#ifndef SLB_INTERNAL_H
#define SLB_INTERNAL_H

#include <curl/curl.h>

#include "slb_client.h"

#ifndef SLB_VERSION
#define SLB_VERSION "0"
#endif

/* Past this many encoded bytes, parameters travel in a POST form body. */
#define POST_THRESHOLD 2048
#define MAX_BODY (32L * 1024 * 1024)
#define MAX_BACKOFF_MS 20000L

struct slb_client {
  slb_cred cred;
  slb_v1_key v1_key;           /* the secret, made ready for V1 signing */
  int v1_key_ready;
  char region[64];
  char base_url[512];          /* scheme://host[:port], "" = by region */
  int signature_version;
  long connect_timeout_ms;
  long timeout_ms;
  int retries;
  long backoff_ms;
  char *ca_file;
  int dry_run;
  slb_budget own;              /* this client's max_deletes */
  slb_budget *shared;          /* the run's, or NULL */
  double deadline;             /* monotonic ms; 0 = none */
  struct slb_sim *sim;
  slb_observer_fn observer;
  void *observer_ud;
  long ops;                    /* ops not yet finished: the client must
                                  outlive them */
  CURL *easy;                  /* one handle, so connections stay alive */
  char user_agent[64];
};

/* One attempt's request, built from scratch each time. */
struct request {
  slb_params all;
  slb_buf query;
  slb_buf body;
  slb_buf url;
  struct curl_slist *headers;
  int post;
  char host[300];
};

/* Fills err from scratch: code, then a printf-style message. */
void slb_set_error(slb_error *err, const char *code, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

/* Builds and signs one attempt's request; returns 0 or -1 with err. */
int slb_request_build(slb_client *c, const char *action, const char *region,
                      const slb_params *params, struct request *req,
                      slb_error *err);
void slb_request_free(struct request *req);

/* Everything about a call that can be wrong before any I/O. */
int slb_check_call(const char *action, const char *region,
                   const slb_params *params, slb_error *err);

void slb_scrub_error(const slb_client *c, slb_error *err);

/* One logical call: its parameters, its attempts so far, its outcome. */
struct slb_op {
  slb_client *c;
  char action[72];
  char region[64];
  slb_params params;
  int mutating;
  CURL *easy;                  /* borrowed for the current attempt */
  struct request req;          /* lives while a transfer runs */
  int transfer;                /* req is built and in use */
  slb_buf response;
  long retry_after_ms;
  char curl_error[CURL_ERROR_SIZE];
  int attempt;
  int was_uncertain;
  double attempt_started;
  double not_before;           /* monotonic ms; earliest next attempt */
  int done;
  int rc;
  int in_multi;                /* queued in or run by an slb_multi */
  int abandoned;               /* freed by its owner while in a multi */
  slb_result res;
  slb_error err;
  void *ud;
  struct slb_op *next;         /* in the driver's queues */
};

double slb_monotonic_ms(void);
/* Builds and signs the next attempt and points op->easy at it. */
int slb_op_start_attempt(slb_op *op);
/* Takes an attempt's transfer result; either finishes op or sets
 * op->not_before for the next attempt. Returns 1 when op is done. */
int slb_op_finish_attempt(slb_op *op, CURLcode rc);
/* Ends op as Cancelled, without telling the observer (the multi that held
 * it is going away, perhaps during garbage collection). */
void slb_op_cancel(slb_op *op);
/* Runs op's attempts to the end on one easy handle, sleeping between. */
void slb_op_run(slb_op *op, CURL *easy);

#endif
