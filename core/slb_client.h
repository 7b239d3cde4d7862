/* slb_client.h: signed SLB API calls over HTTPS with retries, structured
 * errors and an observer that sees every attempt (never a secret). */
#ifndef SLB_CLIENT_H
#define SLB_CLIENT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "slb_cred.h"
#include "slb_sign.h"

#define SLB_API_VERSION "2014-05-15"

/* Codes of our own, for failures that are not the service's answer. */
#define SLB_E_NETWORK "NetworkError"
#define SLB_E_TIMEOUT "Timeout"
#define SLB_E_TLS "TLSError"
#define SLB_E_BAD_RESPONSE "BadResponse"
#define SLB_E_CREDENTIALS "NoCredentials"
#define SLB_E_INVALID "InvalidArgument"
#define SLB_E_DELETE_LIMIT "DeleteLimitReached"
#define SLB_E_TIME_LIMIT "TimeLimitReached"
#define SLB_E_INTERNAL "ClientError"
#define SLB_E_CANCELLED "Cancelled"

typedef struct slb_error {
  int status;               /* HTTP status, 0 when none was received */
  int retryable;            /* the failure was of a transient kind */
  int attempts;
  char code[128];
  char message[512];
  char request_id[128];
  char host_id[256];
  char recommend[512];
} slb_error;

/* What the observer hears after each attempt. */
typedef struct slb_attempt {
  const char *action;
  const char *region;
  int attempt;              /* 1-based */
  int status;               /* 0: no HTTP answer */
  const char *code;         /* "" on success */
  const char *request_id;   /* "" when none */
  double elapsed_ms;
  int will_retry;
  long retry_in_ms;
} slb_attempt;

typedef void (*slb_observer_fn)(const slb_attempt *attempt, void *ud);

struct slb_sim;

/* A limit on mutating calls that several clients can share, so that a
 * run's limit holds however many clients a script makes. */
typedef struct slb_budget {
  long max;                 /* <0: no limit */
  long used;                /* calls that did, or may have, changed
                               something (dry-run ones included) */
  long in_flight;           /* sent and not yet answered */
} slb_budget;

typedef struct slb_config {
  const char *region;               /* NULL: environment, then profile */
  const char *endpoint;             /* host[:port] or scheme://host[:port] */
  const char *access_key_id;        /* explicit credentials, or NULL */
  const char *access_key_secret;
  const char *security_token;
  const char *profile;
  int signature_version;            /* 1 (default) or 3 */
  long connect_timeout_ms;          /* per attempt; default 5,000 */
  long timeout_ms;                  /* per attempt; default 30,000 */
  int retries;                      /* after the first attempt; default 3;
                                       -1 means the default */
  long backoff_ms;                  /* first backoff step; default 200 */
  const char *ca_file;
  int dry_run;
  long max_deletes;                 /* mutating calls allowed; <0: any */
  slb_budget *budget;               /* a shared limit too; not owned */
  long max_time_ms;                 /* no call starts (or retries) after
                                       this long; 0: no limit */
  struct slb_sim *simulate;         /* answer in-process; not owned */
  slb_observer_fn observer;
  void *observer_ud;
  slb_getenv_fn getenv_fn;          /* NULL: the process environment */
  void *getenv_ud;
} slb_config;

/* Fills cfg with the defaults. */
void slb_config_init(slb_config *cfg);

typedef struct slb_client slb_client;

/* Validates the configuration and finds credentials (unless simulating).
 * Returns NULL with err filled on failure. */
slb_client *slb_client_new(const slb_config *cfg, slb_error *err);
/* Wipes key material and frees everything; NULL is fine. A client with
 * unfinished ops (see slb_client_busy) must not be freed. */
void slb_client_free(slb_client *c);
/* How many ops of this client are unfinished: while any is, the client
 * must not be freed. A finished op no longer refers to its client. */
long slb_client_busy(const slb_client *c);

const char *slb_client_region(const slb_client *c);
const char *slb_client_profile(const slb_client *c);
const char *slb_client_cred_source(const slb_client *c);
int slb_client_dry_run(const slb_client *c);
long slb_client_mutations(const slb_client *c);
/* Masks, in place, every form of the client's secret and token in a
 * NUL-terminated text (raw, percent-encoded once or twice, or cut off at
 * the end), for anything about to be shown. */
void slb_client_scrub(const slb_client *c, char *text);

typedef struct slb_result {
  cJSON *json;              /* the decoded answer; caller frees */
  int status;
  int attempts;
  int dry_run;              /* not sent: dry-run mode, mutating action */
  int already_deleted;      /* a retried delete found it gone */
  char request_id[128];
} slb_result;

/* One SLB action is an op. slb_op_new checks the arguments (params holds
 * the action's own parameters, not the common ones; region NULL means the
 * client's) and applies the time limit, dry run and the mutation limit,
 * so an op can be done at once. slb_client_run then runs it here and now,
 * or an slb_multi runs many ops' attempts at the same time. */
typedef struct slb_op slb_op;
typedef struct slb_multi slb_multi;

/* NULL with err when the arguments are malformed (nothing is sent). */
slb_op *slb_op_new(slb_client *c, const char *action, const char *region,
                   const slb_params *params, slb_error *err);
int slb_op_done(const slb_op *op);
void slb_op_set_userdata(slb_op *op, void *ud);
void *slb_op_userdata(const slb_op *op);
/* The outcome of a done op: 0 with res filled, or -1 with err filled;
 * res->json passes to the caller. */
int slb_op_result(slb_op *op, slb_result *res, slb_error *err);
/* Frees op; one still queued in a multi is only let go of, and the multi
 * frees it once its transfer ends. */
void slb_op_free(slb_op *op);
const char *slb_op_action(const slb_op *op);
const char *slb_op_region(const slb_op *op);
const slb_params *slb_op_params(const slb_op *op);
/* Runs op to the end on the client's own connection, here and now. */
void slb_client_run(slb_client *c, slb_op *op);

/* rate: attempts started per second at most; 0 for no cap. */
slb_multi *slb_multi_new(double rate);
/* Stops every transfer; ops still queued end as Cancelled (or are freed,
 * if their owner let go of them). */
void slb_multi_free(slb_multi *m);
/* Queues op (which must not be done) to run. Returns 0 or -1. */
int slb_multi_add(slb_multi *m, slb_op *op);
/* Runs transfers until some op is done and returns it; NULL when none is
 * queued or running. */
slb_op *slb_multi_next(slb_multi *m);
/* Ops queued or running. */
int slb_multi_pending(const slb_multi *m);

/* True unless the action only reads (Describe*, List*, Get*, Query*,
 * Check*): unknown verbs count as mutating, to be safe in dry runs. */
int slb_action_is_mutating(const char *action);
int slb_region_valid(const char *region);
/* The public endpoint host serving region. */
void slb_region_endpoint(const char *region, char *out, size_t outlen);

/* Turns an HTTP answer into JSON or a structured error; exposed for the
 * fuzzers. Returns the parsed object, or NULL with err filled. */
cJSON *slb_parse_response(long status, const char *body, size_t len,
                          slb_error *err);
/* Whether a service error code is worth retrying. */
int slb_code_retryable(const char *code, long status);

#endif
