/* slb_cred.h: find Alibaba Cloud credentials the way the provider's CLI and
 * SDKs do: explicit, environment, CLI profile file, SDK credentials file. */
#ifndef SLB_CRED_H
#define SLB_CRED_H

#include <stddef.h>

typedef struct slb_cred {
  char *access_key_id;
  char *access_key_secret;
  char *security_token;     /* NULL unless temporary (STS) credentials */
  char *region_id;          /* region named by the profile, or NULL */
  char *profile;            /* profile name used, or NULL */
  char source[256];         /* where the key came from, for logs */
} slb_cred;

/* Looks up an environment variable; tests pass their own. The string
 * returned must stay valid until slb_cred_resolve returns. */
typedef const char *(*slb_getenv_fn)(const char *name, void *ud);

typedef struct slb_cred_opts {
  const char *access_key_id;      /* explicit pair, or NULL */
  const char *access_key_secret;
  const char *security_token;
  const char *profile;            /* explicit profile name, or NULL */
  slb_getenv_fn getenv_fn;        /* NULL: the process environment */
  void *getenv_ud;
} slb_cred_opts;

/* Resolves credentials in the documented order. Returns 0 and fills out, or
 * -1 with a message in err (never containing a secret). out need not be
 * initialised (earlier contents are overwritten, not freed) and is always
 * left safe to pass to slb_cred_clear. opts may be NULL. */
int slb_cred_resolve(const slb_cred_opts *opts, slb_cred *out,
                     char *err, size_t errlen);

/* The two file readers on their own, for tests and fuzzing. profile NULL
 * means the file's own default ("current" / "default"). Return 0 when a key
 * was found, 1 when the file names no usable key for that profile (err says
 * why; this includes an unsupported mode or type, or half a key), -1 when
 * the text is malformed or the named profile is missing. text need not be
 * NUL-terminated; a NUL byte inside it is malformed. */
int slb_cred_parse_cli_config(const char *text, size_t len,
                              const char *profile, slb_cred *out,
                              char *err, size_t errlen);
int slb_cred_parse_ini(const char *text, size_t len, const char *profile,
                       slb_cred *out, char *err, size_t errlen);

/* Wipes the secret bytes from memory and frees everything. Idempotent. */
void slb_cred_clear(slb_cred *c);

#endif
