/* slb_sign.h: Alibaba Cloud request signing, RPC V1 (HMAC-SHA1) and
 * ACS3-HMAC-SHA256 (V3), exact to the byte. */
#ifndef SLB_SIGN_H
#define SLB_SIGN_H

#include <stddef.h>

#include <mbedtls/sha1.h>

#include "slb_buf.h"

/* A list of name/value pairs. Names and values are byte strings with
 * explicit lengths (a value may hold any byte); the list owns copies. */
typedef struct slb_params {
  struct slb_param *items;
  size_t count;
  size_t cap;
  slb_buf bytes;              /* every name and value, back to back */
} slb_params;

void slb_params_init(slb_params *p);
/* Appends a pair; returns 0, or -1 when out of memory. */
int slb_params_add(slb_params *p, const char *name, size_t name_len,
                   const char *value, size_t value_len);
int slb_params_adds(slb_params *p, const char *name, const char *value);
/* Appends every pair of from to to; returns 0, or -1 when out of memory. */
int slb_params_append(slb_params *to, const slb_params *from);
/* Index of the first pair named name, or -1. */
int slb_params_find(const slb_params *p, const char *name);
void slb_params_get(const slb_params *p, size_t i,
                    const char **name, size_t *name_len,
                    const char **value, size_t *value_len);
void slb_params_clear(slb_params *p);      /* keeps memory for reuse */
void slb_params_free(slb_params *p);       /* wipes values, frees */

/* Percent-encodes bytes: A-Z a-z 0-9 - _ . ~ stay, the rest is %XY. */
void slb_percent_encode(slb_buf *out, const char *s, size_t len);

/* name=value pairs, encoded, sorted by the raw name bytes (as the service
 * and its SDKs sort; then by value, so equal names always sort the same
 * way), joined by &.
 * Returns 0, or -1 when out of memory. */
int slb_canonical_query(const slb_params *p, slb_buf *out);

/* V1: signs every pair of p except one named Signature. string_to_sign may
 * be NULL. signature receives base64 text, NUL-terminated. */
#define SLB_V1_SIGNATURE_SIZE 29
int slb_sign_v1(const slb_params *p, const char *method,
                const char *secret, size_t secret_len,
                slb_buf *string_to_sign,
                char signature[SLB_V1_SIGNATURE_SIZE]);

/* A V1 key made ready once (the HMAC's keyed hash states), for a client
 * that signs many requests with one secret. Wipe it when done. */
typedef struct slb_v1_key {
  mbedtls_sha1_context inner;
  mbedtls_sha1_context outer;
} slb_v1_key;

int slb_v1_key_init(slb_v1_key *key, const char *secret, size_t secret_len);
void slb_v1_key_wipe(slb_v1_key *key);
int slb_sign_v1_keyed(const slb_params *p, const char *method,
                      const slb_v1_key *key, slb_buf *string_to_sign,
                      char signature[SLB_V1_SIGNATURE_SIZE]);

/* V3 input: the headers given are exactly the signed headers; names are
 * lower-cased and values trimmed for signing. */
typedef struct slb_v3_request {
  const char *method;
  const slb_params *query;
  const slb_params *headers;
  const char *access_key_id;
  const char *secret;
  size_t secret_len;
} slb_v3_request;

#define SLB_HEX_SHA256_SIZE 65
typedef struct slb_v3_result {
  slb_buf canonical_request;
  slb_buf authorization;
  char hashed_canonical_request[SLB_HEX_SHA256_SIZE];
  char signature[SLB_HEX_SHA256_SIZE];
} slb_v3_result;

void slb_v3_result_init(slb_v3_result *r);
void slb_v3_result_free(slb_v3_result *r);
/* Returns 0, or -1 when out of memory or a header name is unusable. */
int slb_sign_v3(const slb_v3_request *req, slb_v3_result *out);

/* Lower-hex SHA-256 of bytes, for x-acs-content-sha256. */
void slb_sha256_hex(const void *data, size_t len,
                    char hex[SLB_HEX_SHA256_SIZE]);

/* UTC time as YYYY-MM-DDThh:mm:ssZ, whatever TZ and locale say. */
#define SLB_TIMESTAMP_SIZE 21
void slb_timestamp(long long unix_seconds, char out[SLB_TIMESTAMP_SIZE]);
void slb_timestamp_now(char out[SLB_TIMESTAMP_SIZE]);

/* 128 random bits from the kernel CSPRNG as 32 lower-hex characters.
 * Returns 0, or -1 when no randomness could be had (never falls back). */
#define SLB_NONCE_SIZE 33
int slb_nonce(char out[SLB_NONCE_SIZE]);

#endif
