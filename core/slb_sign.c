/* slb_sign.c: the two Alibaba Cloud signature versions. The facts behind
 * every rule here are in the SLB API reference; the tests hold the
 * provider's own worked examples. */
#include "slb_sign.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>

#include <mbedtls/base64.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha1.h>
#include <mbedtls/sha256.h>

/* Offsets, not pointers: the byte store moves when it grows. */
struct slb_param {
  size_t name_at, name_len;
  size_t value_at, value_len;
};

static const char hex_upper[] = "0123456789ABCDEF";
static const char hex_lower[] = "0123456789abcdef";

void slb_params_init(slb_params *p)
{
  p->items = NULL;
  p->count = p->cap = 0;
  slb_buf_init(&p->bytes);
}

int slb_params_add(slb_params *p, const char *name, size_t name_len,
                   const char *value, size_t value_len)
{
  struct slb_param *item;

  if(p->count == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 16;
    struct slb_param *grown = realloc(p->items, cap * sizeof(*grown));
    if(!grown)
      return -1;
    p->items = grown;
    p->cap = cap;
  }
  item = &p->items[p->count];
  item->name_at = p->bytes.len;
  item->name_len = name_len;
  slb_buf_add(&p->bytes, name, name_len);
  item->value_at = p->bytes.len;
  item->value_len = value_len;
  slb_buf_add(&p->bytes, value, value_len);
  if(p->bytes.failed)
    return -1;
  p->count++;
  return 0;
}

int slb_params_append(slb_params *to, const slb_params *from)
{
  size_t i;

  for(i = 0; i < from->count; i++) {
    const struct slb_param *item = &from->items[i];
    if(slb_params_add(to, from->bytes.data + item->name_at, item->name_len,
                      from->bytes.data + item->value_at, item->value_len))
      return -1;
  }
  return 0;
}

int slb_params_adds(slb_params *p, const char *name, const char *value)
{
  return slb_params_add(p, name, strlen(name), value, strlen(value));
}

void slb_params_get(const slb_params *p, size_t i,
                    const char **name, size_t *name_len,
                    const char **value, size_t *value_len)
{
  const struct slb_param *item = &p->items[i];
  *name = p->bytes.data + item->name_at;
  *name_len = item->name_len;
  *value = p->bytes.data + item->value_at;
  *value_len = item->value_len;
}

int slb_params_find(const slb_params *p, const char *name)
{
  size_t len = strlen(name), i;

  for(i = 0; i < p->count; i++) {
    const struct slb_param *item = &p->items[i];
    if(item->name_len == len &&
       !memcmp(p->bytes.data + item->name_at, name, len))
      return (int)i;
  }
  return -1;
}

void slb_params_clear(slb_params *p)
{
  if(p->bytes.data)
    mbedtls_platform_zeroize(p->bytes.data, p->bytes.len);
  p->count = 0;
  slb_buf_reset(&p->bytes);
}

void slb_params_free(slb_params *p)
{
  free(p->items);
  slb_buf_wipe(&p->bytes);
  slb_params_init(p);
}

/* 1 for the bytes that stay literal: A-Z a-z 0-9 - _ . ~ */
static const unsigned char literal[256] = {
  ['-'] = 1, ['.'] = 1, ['_'] = 1, ['~'] = 1,
  ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
  ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
  ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
  ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
  ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
  ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
  ['Y'] = 1, ['Z'] = 1,
  ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
  ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
  ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
  ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
  ['y'] = 1, ['z'] = 1,
};

/* Writes s percent-encoded at out; with twice set, encoded a second time
 * as well (an escape becomes %25XY), which is what the V1 string to sign
 * needs. Returns the end of what was written: at most 3 (or 5) bytes per
 * input byte. */
static char *encode_into(char *out, const char *s, size_t len, int twice)
{
  size_t i;

  for(i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if(literal[c]) {
      *out++ = (char)c;
      continue;
    }
    *out++ = '%';
    if(twice) {
      *out++ = '2';
      *out++ = '5';
    }
    *out++ = hex_upper[c >> 4];
    *out++ = hex_upper[c & 15];
  }
  return out;
}

void slb_percent_encode(slb_buf *out, const char *s, size_t len)
{
  char *at = slb_buf_room(out, 3 * len);

  if(at)
    slb_buf_commit(out, (size_t)(encode_into(at, s, len, 0) - at));
}

static int bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
  int c = memcmp(a, b, alen < blen ? alen : blen);
  if(c)
    return c;
  return alen < blen ? -1 : alen > blen;
}

/* qsort has no context argument; the byte store travels in the key. */
struct sort_key {
  const char *base;
  const struct slb_param *item;
};

static int param_order(const void *x, const void *y)
{
  const struct sort_key *a = x, *b = y;
  int c = bytes_cmp(a->base + a->item->name_at, a->item->name_len,
                    b->base + b->item->name_at, b->item->name_len);
  if(c)
    return c;
  return bytes_cmp(a->base + a->item->value_at, a->item->value_len,
                   b->base + b->item->value_at, b->item->value_len);
}

/* A request has a dozen or two pairs: insertion sort beats qsort's setup
 * and indirect calls there; qsort takes the rare long list. */
static void sort_keys(struct sort_key *keys, size_t n)
{
  size_t i, j;

  if(n > 32) {
    qsort(keys, n, sizeof(*keys), param_order);
    return;
  }
  for(i = 1; i < n; i++) {
    struct sort_key k = keys[i];
    for(j = i; j > 0 && param_order(&keys[j - 1], &k) > 0; j--)
      keys[j] = keys[j - 1];
    keys[j] = k;
  }
}

/* Pairs in signing order, skipping any named skip. */
static struct sort_key *sorted_pairs(const slb_params *p, const char *skip,
                                     size_t *n)
{
  struct sort_key *keys = malloc((p->count ? p->count : 1) * sizeof(*keys));
  size_t i, skip_len = skip ? strlen(skip) : 0;

  if(!keys)
    return NULL;
  *n = 0;
  for(i = 0; i < p->count; i++) {
    const struct slb_param *item = &p->items[i];
    if(skip && item->name_len == skip_len &&
       !memcmp(p->bytes.data + item->name_at, skip, skip_len))
      continue;
    keys[*n].base = p->bytes.data;
    keys[(*n)++].item = item;
  }
  sort_keys(keys, *n);
  return keys;
}

/* The sorted pairs as name=value&..., encoded once (the canonical query)
 * or, with twice set, encoded again with the separators escaped as well
 * (the tail of the V1 string to sign), in one pass either way. */
static int write_pairs(const slb_params *p, const struct sort_key *keys,
                       size_t n, int twice, slb_buf *out)
{
  size_t i, room = 0, grow = twice ? 5 : 3;
  char *start, *at;

  for(i = 0; i < n; i++)
    room += grow * (keys[i].item->name_len + keys[i].item->value_len) + 6;
  start = at = slb_buf_room(out, room);
  if(!at)
    return -1;
  for(i = 0; i < n; i++) {
    const struct slb_param *item = keys[i].item;
    if(i) {
      memcpy(at, twice ? "%26" : "&", twice ? 3 : 1);
      at += twice ? 3 : 1;
    }
    at = encode_into(at, p->bytes.data + item->name_at, item->name_len,
                     twice);
    memcpy(at, twice ? "%3D" : "=", twice ? 3 : 1);
    at += twice ? 3 : 1;
    at = encode_into(at, p->bytes.data + item->value_at, item->value_len,
                     twice);
  }
  slb_buf_commit(out, (size_t)(at - start));
  return 0;
}

static int canonical_query_skipping(const slb_params *p, const char *skip,
                                    slb_buf *out)
{
  size_t n;
  struct sort_key *keys = sorted_pairs(p, skip, &n);
  int rc;

  if(!keys)
    return -1;
  rc = write_pairs(p, keys, n, 0, out);
  free(keys);
  return rc;
}

int slb_canonical_query(const slb_params *p, slb_buf *out)
{
  return canonical_query_skipping(p, NULL, out);
}

static int hmac(mbedtls_md_type_t type, const void *key, size_t key_len,
                const void *data, size_t len, unsigned char *digest)
{
  const mbedtls_md_info_t *md = mbedtls_md_info_from_type(type);
  return md && !mbedtls_md_hmac(md, key, key_len, data, len, digest) ?
         0 : -1;
}

/* HMAC-SHA1 by hand: the keyed inner and outer states are computed once
 * per key, and the V1 key (the secret with "&" added) is fed without
 * being built. mbedtls_md_hmac would redo both and allocate every time. */
int slb_v1_key_init(slb_v1_key *key, const char *secret, size_t secret_len)
{
  unsigned char block[64];
  size_t i;
  int rc = -1;

  memset(block, 0, sizeof(block));
  mbedtls_sha1_init(&key->inner);
  mbedtls_sha1_init(&key->outer);
  if(secret_len + 1 > sizeof(block)) {        /* long keys are hashed */
    if(mbedtls_sha1_starts_ret(&key->inner) ||
       mbedtls_sha1_update_ret(&key->inner, (const unsigned char *)secret,
                               secret_len) ||
       mbedtls_sha1_update_ret(&key->inner, (const unsigned char *)"&", 1) ||
       mbedtls_sha1_finish_ret(&key->inner, block))
      goto fail;
  }
  else {
    memcpy(block, secret, secret_len);
    block[secret_len] = '&';
  }
  for(i = 0; i < sizeof(block); i++)
    block[i] ^= 0x36;
  if(mbedtls_sha1_starts_ret(&key->inner) ||
     mbedtls_sha1_update_ret(&key->inner, block, sizeof(block)))
    goto fail;
  for(i = 0; i < sizeof(block); i++)
    block[i] ^= 0x36 ^ 0x5c;
  if(mbedtls_sha1_starts_ret(&key->outer) ||
     mbedtls_sha1_update_ret(&key->outer, block, sizeof(block)))
    goto fail;
  rc = 0;
fail:
  mbedtls_platform_zeroize(block, sizeof(block));
  return rc;
}

void slb_v1_key_wipe(slb_v1_key *key)
{
  mbedtls_sha1_free(&key->inner);
  mbedtls_sha1_free(&key->outer);
  mbedtls_platform_zeroize(key, sizeof(*key));
}

static int hmac_sha1_keyed(const slb_v1_key *key, const slb_buf *msg,
                           unsigned char digest[20])
{
  mbedtls_sha1_context ctx;
  unsigned char inner[20];
  int rc = -1;

  mbedtls_sha1_init(&ctx);
  mbedtls_sha1_clone(&ctx, &key->inner);
  if(mbedtls_sha1_update_ret(&ctx, (const unsigned char *)msg->data,
                             msg->len) ||
     mbedtls_sha1_finish_ret(&ctx, inner))
    goto fail;
  mbedtls_sha1_clone(&ctx, &key->outer);
  if(mbedtls_sha1_update_ret(&ctx, inner, sizeof(inner)) ||
     mbedtls_sha1_finish_ret(&ctx, digest))
    goto fail;
  rc = 0;
fail:
  mbedtls_platform_zeroize(inner, sizeof(inner));
  mbedtls_sha1_free(&ctx);
  return rc;
}

int slb_sign_v1_keyed(const slb_params *p, const char *method,
                      const slb_v1_key *key, slb_buf *string_to_sign,
                      char signature[SLB_V1_SIGNATURE_SIZE])
{
  slb_buf own;
  slb_buf *sts = string_to_sign ? string_to_sign : &own;
  unsigned char digest[20];
  struct sort_key *keys;
  size_t n, written = 0;
  int rc = -1;

  slb_buf_init(&own);
  keys = sorted_pairs(p, "Signature", &n);
  if(!keys)
    goto fail;
  slb_buf_reset(sts);
  slb_buf_adds(sts, method);
  slb_buf_add(sts, "&%2F&", 5);
  if(write_pairs(p, keys, n, 1, sts) || sts->failed ||
     hmac_sha1_keyed(key, sts, digest))
    goto fail;
  if(mbedtls_base64_encode((unsigned char *)signature,
                           SLB_V1_SIGNATURE_SIZE, &written, digest,
                           sizeof(digest)))
    goto fail;
  rc = 0;
fail:
  mbedtls_platform_zeroize(digest, sizeof(digest));
  free(keys);
  slb_buf_free(&own);
  return rc;
}

int slb_sign_v1(const slb_params *p, const char *method,
                const char *secret, size_t secret_len,
                slb_buf *string_to_sign,
                char signature[SLB_V1_SIGNATURE_SIZE])
{
  slb_v1_key key;
  int rc = slb_v1_key_init(&key, secret, secret_len);

  if(!rc)
    rc = slb_sign_v1_keyed(p, method, &key, string_to_sign, signature);
  slb_v1_key_wipe(&key);
  return rc;
}

static void hex_encode(const unsigned char *bytes, size_t n, char *out)
{
  size_t i;
  for(i = 0; i < n; i++) {
    out[2 * i] = hex_lower[bytes[i] >> 4];
    out[2 * i + 1] = hex_lower[bytes[i] & 15];
  }
  out[2 * n] = '\0';
}

void slb_sha256_hex(const void *data, size_t len,
                    char hex[SLB_HEX_SHA256_SIZE])
{
  unsigned char digest[32];
  mbedtls_sha256_ret(data, len, digest, 0);
  hex_encode(digest, sizeof(digest), hex);
}

void slb_v3_result_init(slb_v3_result *r)
{
  slb_buf_init(&r->canonical_request);
  slb_buf_init(&r->authorization);
  r->hashed_canonical_request[0] = r->signature[0] = '\0';
}

void slb_v3_result_free(slb_v3_result *r)
{
  slb_buf_free(&r->canonical_request);
  slb_buf_free(&r->authorization);
}

static void trimmed(const char **s, size_t *len)
{
  while(*len && (**s == ' ' || **s == '\t')) {
    (*s)++;
    (*len)--;
  }
  while(*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
    (*len)--;
}

/* Header names are signed lower-cased; the copy keeps the caller's list
 * untouched and makes the sort see the same bytes the signature does. */
static int lowered_headers(const slb_params *in, slb_params *out)
{
  size_t i, j;

  for(i = 0; i < in->count; i++) {
    const char *name, *value;
    size_t name_len, value_len;
    char lower[128];
    slb_params_get(in, i, &name, &name_len, &value, &value_len);
    if(!name_len || name_len >= sizeof(lower))
      return -1;
    for(j = 0; j < name_len; j++) {
      unsigned char c = (unsigned char)name[j];
      if(c <= ' ' || c == ':' || c == ';' || c >= 127)
        return -1;
      lower[j] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    trimmed(&value, &value_len);
    if(slb_params_add(out, lower, name_len, value, value_len))
      return -1;
  }
  return 0;
}

static void canonical_request(const slb_v3_request *req,
                              const slb_params *headers,
                              const struct sort_key *sorted, size_t n,
                              const char *payload_hash, size_t hash_len,
                              slb_buf *out, slb_buf *signed_names)
{
  size_t i;

  slb_buf_adds(out, req->method);
  slb_buf_add(out, "\n/\n", 3);
  canonical_query_skipping(req->query, NULL, out);
  slb_buf_addc(out, '\n');
  for(i = 0; i < n; i++) {
    const struct slb_param *h = sorted[i].item;
    slb_buf_add(out, headers->bytes.data + h->name_at, h->name_len);
    slb_buf_addc(out, ':');
    slb_buf_add(out, headers->bytes.data + h->value_at, h->value_len);
    slb_buf_addc(out, '\n');
    if(i)
      slb_buf_addc(signed_names, ';');
    slb_buf_add(signed_names, headers->bytes.data + h->name_at,
                h->name_len);
  }
  slb_buf_addc(out, '\n');
  slb_buf_add(out, signed_names->data, signed_names->len);
  slb_buf_addc(out, '\n');
  slb_buf_add(out, payload_hash, hash_len);
}

int slb_sign_v3(const slb_v3_request *req, slb_v3_result *out)
{
  slb_params headers;
  slb_buf names, sts;
  struct sort_key *sorted = NULL;
  unsigned char digest[32];
  const char *name, *hash;
  size_t n, name_len, hash_len;
  int at, rc = -1;

  slb_params_init(&headers);
  slb_buf_init(&names);
  slb_buf_init(&sts);
  if(lowered_headers(req->headers, &headers))
    goto fail;
  at = slb_params_find(&headers, "x-acs-content-sha256");
  if(at < 0)
    goto fail;
  slb_params_get(&headers, (size_t)at, &name, &name_len, &hash, &hash_len);
  sorted = sorted_pairs(&headers, NULL, &n);
  if(!sorted)
    goto fail;

  slb_buf_reset(&out->canonical_request);
  canonical_request(req, &headers, sorted, n, hash, hash_len,
                    &out->canonical_request, &names);
  if(out->canonical_request.failed || names.failed)
    goto fail;
  slb_sha256_hex(out->canonical_request.data, out->canonical_request.len,
                 out->hashed_canonical_request);

  slb_buf_adds(&sts, "ACS3-HMAC-SHA256\n");
  slb_buf_adds(&sts, out->hashed_canonical_request);
  if(sts.failed || hmac(MBEDTLS_MD_SHA256, req->secret, req->secret_len,
                        sts.data, sts.len, digest))
    goto fail;
  hex_encode(digest, sizeof(digest), out->signature);

  slb_buf_reset(&out->authorization);
  slb_buf_adds(&out->authorization, "ACS3-HMAC-SHA256 Credential=");
  slb_buf_adds(&out->authorization, req->access_key_id);
  slb_buf_adds(&out->authorization, ",SignedHeaders=");
  slb_buf_add(&out->authorization, names.data, names.len);
  slb_buf_adds(&out->authorization, ",Signature=");
  slb_buf_adds(&out->authorization, out->signature);
  rc = out->authorization.failed ? -1 : 0;
fail:
  mbedtls_platform_zeroize(digest, sizeof(digest));
  free(sorted);
  slb_params_free(&headers);
  slb_buf_free(&names);
  slb_buf_free(&sts);
  return rc;
}

static char *put_digits(char *at, int value, int width)
{
  int i;
  for(i = width - 1; i >= 0; i--) {
    at[i] = (char)('0' + value % 10);
    value /= 10;
  }
  return at + width;
}

void slb_timestamp(long long unix_seconds, char out[SLB_TIMESTAMP_SIZE])
{
  time_t t = (time_t)unix_seconds;
  struct tm tm;
  char *at = out;

  /* gmtime_r ignores TZ, and the digits are written by hand so that no
   * locale can touch them. Years outside 0..9999 cannot be signed anyway. */
  if(!gmtime_r(&t, &tm) || tm.tm_year < -1900 || tm.tm_year > 8099)
    memset(&tm, 0, sizeof(tm));
  at = put_digits(at, tm.tm_year + 1900, 4);
  *at++ = '-';
  at = put_digits(at, tm.tm_mon + 1, 2);
  *at++ = '-';
  at = put_digits(at, tm.tm_mday, 2);
  *at++ = 'T';
  at = put_digits(at, tm.tm_hour, 2);
  *at++ = ':';
  at = put_digits(at, tm.tm_min, 2);
  *at++ = ':';
  at = put_digits(at, tm.tm_sec, 2);
  *at++ = 'Z';
  *at = '\0';
}

void slb_timestamp_now(char out[SLB_TIMESTAMP_SIZE])
{
  slb_timestamp((long long)time(NULL), out);
}

int slb_nonce(char out[SLB_NONCE_SIZE])
{
  unsigned char bytes[16];
  size_t got = 0;

  while(got < sizeof(bytes)) {
    ssize_t n = getrandom(bytes + got, sizeof(bytes) - got, 0);
    if(n < 0 && errno == EINTR)
      continue;
    if(n < 0)
      return -1;
    got += (size_t)n;
  }
  hex_encode(bytes, sizeof(bytes), out);
  return 0;
}
