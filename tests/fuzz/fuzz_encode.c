/* fuzz_encode.c: percent-encoding, the canonical query and both signature
 * versions over arbitrary name/value pairs, held to what the signing rules
 * promise rather than to fixed answers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slb_sign.h"

#include "fuzz.h"

/* The input is one control byte, then lines "name=value" (split at the
 * first '=') separated by '\n'. Control bit 0 picks POST; bits 1-3 say
 * how many leading lines are V3 headers rather than query pairs; bit 4
 * leaves out the x-acs-content-sha256 header the harness adds otherwise.
 * The whole input is also the secret and one string to percent-encode,
 * so that every byte value, '\n' and '=' included, reaches the encoder. */
#define POST_BIT 0x01
#define HEADERS_SHIFT 1
#define HEADERS_MASK 0x07
#define NO_HASH_BIT 0x10

#define ACCESS_KEY_ID "fuzz-key-id"
#define HASH_HEADER "x-acs-content-sha256"

struct pair {
  const char *name, *value;
  size_t name_len, value_len;
};

static int unreserved(unsigned char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
         c == '~';
}

static int upper_hex(char c)
{
  if(c >= '0' && c <= '9')
    return c - '0';
  if(c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Undoes slb_percent_encode and refuses anything it would not write: a
 * bare reserved byte, lower-case or short escapes, or an escape of a byte
 * that needed none. Returns 0 or -1. */
static int percent_decode(const char *s, size_t len, slb_buf *out)
{
  size_t i;

  for(i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    int hi, lo;
    if(c != '%') {
      if(!unreserved(c))
        return -1;
      slb_buf_addc(out, (char)c);
      continue;
    }
    if(len - i < 3 || (hi = upper_hex(s[i + 1])) < 0 ||
       (lo = upper_hex(s[i + 2])) < 0)
      return -1;
    c = (unsigned char)(hi << 4 | lo);
    if(unreserved(c))
      return -1;
    slb_buf_addc(out, (char)c);
    i += 2;
  }
  return out->failed ? -1 : 0;
}

static int bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
  int c = memcmp(a, b, alen < blen ? alen : blen);
  if(c)
    return c;
  return alen < blen ? -1 : alen > blen;
}

static int pair_order(const void *x, const void *y)
{
  const struct pair *a = x, *b = y;
  int c = bytes_cmp(a->name, a->name_len, b->name, b->name_len);
  return c ? c : bytes_cmp(a->value, a->value_len, b->value, b->value_len);
}

static struct pair get_pair(const slb_params *p, size_t i)
{
  struct pair out;
  slb_params_get(p, i, &out.name, &out.name_len, &out.value,
                 &out.value_len);
  return out;
}

static void split_lines(const char *text, size_t len, size_t header_lines,
                        slb_params *headers, slb_params *query)
{
  const char *end = text + len, *line_end, *eq, *value;
  size_t line;

  for(line = 0; text < end; line++) {
    line_end = memchr(text, '\n', (size_t)(end - text));
    if(!line_end)
      line_end = end;
    eq = memchr(text, '=', (size_t)(line_end - text));
    value = eq ? eq + 1 : line_end;
    FUZZ_CHECK(!slb_params_add(line < header_lines ? headers : query,
                               text, (size_t)((eq ? eq : line_end) - text),
                               value, (size_t)(line_end - value)));
    text = line_end < end ? line_end + 1 : end;
  }
}

static void check_round_trip(const uint8_t *data, size_t size)
{
  slb_buf encoded, decoded;

  slb_buf_init(&encoded);
  slb_buf_init(&decoded);
  slb_percent_encode(&encoded, (const char *)data, size);
  FUZZ_CHECK(!encoded.failed && encoded.data);
  FUZZ_CHECK(!percent_decode(encoded.data, encoded.len, &decoded));
  FUZZ_CHECK(decoded.len == size);
  FUZZ_CHECK(!size || !memcmp(decoded.data, data, size));
  slb_buf_free(&encoded);
  slb_buf_free(&decoded);
}

/* The canonical query is every pair, encoded, in byte order of name then
 * value, joined by '&': decoding it segment by segment must give the
 * pairs sorted here independently. */
static void check_canonical(const slb_params *p, const slb_buf *query)
{
  struct pair *sorted = malloc((p->count + 1) * sizeof(*sorted));
  const char *at = query->data, *end = query->data + query->len;
  slb_buf name, value;
  size_t i;

  FUZZ_CHECK(sorted);
  for(i = 0; i < p->count; i++)
    sorted[i] = get_pair(p, i);
  qsort(sorted, p->count, sizeof(*sorted), pair_order);
  FUZZ_CHECK(strspn(query->data, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                    "abcdefghijklmnopqrstuvwxyz0123456789-_.~%=&") ==
             query->len);
  FUZZ_CHECK(p->count || !query->len);

  slb_buf_init(&name);
  slb_buf_init(&value);
  for(i = 0; i < p->count; i++) {
    const char *amp = memchr(at, '&', (size_t)(end - at));
    const char *seg_end = amp ? amp : end;
    const char *eq = memchr(at, '=', (size_t)(seg_end - at));
    FUZZ_CHECK(eq);
    slb_buf_reset(&name);
    slb_buf_reset(&value);
    FUZZ_CHECK(!percent_decode(at, (size_t)(eq - at), &name));
    FUZZ_CHECK(!percent_decode(eq + 1, (size_t)(seg_end - eq - 1), &value));
    FUZZ_CHECK(!bytes_cmp(name.data ? name.data : "", name.len,
                          sorted[i].name, sorted[i].name_len));
    FUZZ_CHECK(!bytes_cmp(value.data ? value.data : "", value.len,
                          sorted[i].value, sorted[i].value_len));
    FUZZ_CHECK(i + 1 < p->count ? amp != NULL : amp == NULL);
    at = amp ? amp + 1 : end;
  }
  FUZZ_CHECK(at == end);
  slb_buf_free(&name);
  slb_buf_free(&value);
  free(sorted);
}

static void copy_params(const slb_params *from, slb_params *to,
                        const char *skip, int reverse)
{
  size_t i;

  for(i = 0; i < from->count; i++) {
    struct pair q = get_pair(from, reverse ? from->count - 1 - i : i);
    if(skip && !bytes_cmp(q.name, q.name_len, skip, strlen(skip)))
      continue;
    FUZZ_CHECK(!slb_params_add(to, q.name, q.name_len, q.value,
                               q.value_len));
  }
}

/* V1 signs "METHOD&%2F&" and the encoded canonical query of every pair but
 * Signature; the signature is base64 of 20 bytes and does not depend on
 * the order the pairs were given in. */
static void check_v1(const slb_params *p, const char *method,
                     const char *secret, size_t secret_len)
{
  char signature[SLB_V1_SIGNATURE_SIZE], again[SLB_V1_SIGNATURE_SIZE];
  slb_params unsigned_pairs, reversed;
  slb_buf string_to_sign, canonical, tail;
  size_t prefix = strlen(method) + 5;

  slb_params_init(&unsigned_pairs);
  slb_params_init(&reversed);
  slb_buf_init(&string_to_sign);
  slb_buf_init(&canonical);
  slb_buf_init(&tail);
  FUZZ_CHECK(!slb_sign_v1(p, method, secret, secret_len, &string_to_sign,
                          signature));
  FUZZ_CHECK(strlen(signature) == 28 && signature[27] == '=');

  copy_params(p, &unsigned_pairs, "Signature", 0);
  FUZZ_CHECK(!slb_canonical_query(&unsigned_pairs, &canonical));
  FUZZ_CHECK(string_to_sign.len >= prefix);
  FUZZ_CHECK(!memcmp(string_to_sign.data, method, prefix - 5));
  FUZZ_CHECK(!memcmp(string_to_sign.data + prefix - 5, "&%2F&", 5));
  FUZZ_CHECK(!percent_decode(string_to_sign.data + prefix,
                             string_to_sign.len - prefix, &tail));
  FUZZ_CHECK(tail.len == canonical.len);
  FUZZ_CHECK(!tail.len || !memcmp(tail.data, canonical.data, tail.len));

  copy_params(p, &reversed, NULL, 1);
  FUZZ_CHECK(!slb_sign_v1(&reversed, method, secret, secret_len, NULL,
                          again));
  FUZZ_CHECK(!strcmp(signature, again));

  slb_params_free(&unsigned_pairs);
  slb_params_free(&reversed);
  slb_buf_free(&string_to_sign);
  slb_buf_free(&canonical);
  slb_buf_free(&tail);
}

static int lower_hex(const char *s, size_t n)
{
  return strlen(s) == n && strspn(s, "0123456789abcdef") == n;
}

static int header_name_ok(const char *name, size_t len)
{
  size_t i;

  if(!len || len >= 128)
    return 0;
  for(i = 0; i < len; i++) {
    unsigned char c = (unsigned char)name[i];
    if(c <= ' ' || c == ':' || c == ';' || c >= 127)
      return 0;
  }
  return 1;
}

static int is_hash_header(const char *name, size_t len)
{
  size_t i;

  if(len != strlen(HASH_HEADER))
    return 0;
  for(i = 0; i < len; i++) {
    char c = name[i] >= 'A' && name[i] <= 'Z' ? (char)(name[i] + 32) :
             name[i];
    if(c != HASH_HEADER[i])
      return 0;
  }
  return 1;
}

/* Signing succeeds exactly when every header name is usable and one of
 * them is the payload hash, which then ends the canonical request. */
static void check_v3(const slb_params *query, const slb_params *headers,
                     const char *method, const char *secret,
                     size_t secret_len)
{
  slb_v3_request req;
  slb_v3_result res;
  slb_buf canonical, expected;
  const char *hash = NULL;
  size_t hash_len = 0, i;
  char hashed[SLB_HEX_SHA256_SIZE];
  int usable = 1;

  for(i = 0; i < headers->count; i++) {
    struct pair h = get_pair(headers, i);
    usable &= header_name_ok(h.name, h.name_len);
    if(!hash && is_hash_header(h.name, h.name_len)) {
      hash = h.value;
      hash_len = h.value_len;
      while(hash_len && (*hash == ' ' || *hash == '\t')) {
        hash++;
        hash_len--;
      }
      while(hash_len && (hash[hash_len - 1] == ' ' ||
                         hash[hash_len - 1] == '\t'))
        hash_len--;
    }
  }

  req.method = method;
  req.query = query;
  req.headers = headers;
  req.access_key_id = ACCESS_KEY_ID;
  req.secret = secret;
  req.secret_len = secret_len;
  slb_v3_result_init(&res);
  slb_buf_init(&canonical);
  slb_buf_init(&expected);
  FUZZ_CHECK(!slb_sign_v3(&req, &res) == (usable && hash));
  if(usable && hash) {
    FUZZ_CHECK(lower_hex(res.signature, 64));
    slb_sha256_hex(res.canonical_request.data, res.canonical_request.len,
                   hashed);
    FUZZ_CHECK(!strcmp(hashed, res.hashed_canonical_request));

    slb_buf_adds(&expected, method);
    slb_buf_add(&expected, "\n/\n", 3);
    FUZZ_CHECK(!slb_canonical_query(query, &canonical));
    slb_buf_add(&expected, canonical.data, canonical.len);
    slb_buf_addc(&expected, '\n');
    FUZZ_CHECK(!expected.failed);
    FUZZ_CHECK(res.canonical_request.len > expected.len + hash_len);
    FUZZ_CHECK(!memcmp(res.canonical_request.data, expected.data,
                       expected.len));
    FUZZ_CHECK(res.canonical_request.data[res.canonical_request.len -
                                          hash_len - 1] == '\n');
    FUZZ_CHECK(!hash_len || !memcmp(res.canonical_request.data +
                                    res.canonical_request.len - hash_len,
                                    hash, hash_len));

    slb_buf_reset(&expected);
    slb_buf_adds(&expected, "ACS3-HMAC-SHA256 Credential=" ACCESS_KEY_ID
                 ",SignedHeaders=");
    FUZZ_CHECK(!strncmp(res.authorization.data, expected.data,
                        expected.len));
    slb_buf_reset(&expected);
    slb_buf_adds(&expected, ",Signature=");
    slb_buf_adds(&expected, res.signature);
    FUZZ_CHECK(res.authorization.len > expected.len);
    FUZZ_CHECK(!strcmp(res.authorization.data + res.authorization.len -
                       expected.len, expected.data));
  }
  slb_v3_result_free(&res);
  slb_buf_free(&canonical);
  slb_buf_free(&expected);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *secret = (const char *)data;
  const char *method;
  slb_params query, headers;
  slb_buf canonical;
  char payload_hash[SLB_HEX_SHA256_SIZE];
  unsigned control;

  check_round_trip(data, size);
  if(!size)
    return 0;
  control = data[0];
  method = control & POST_BIT ? "POST" : "GET";

  slb_params_init(&query);
  slb_params_init(&headers);
  slb_buf_init(&canonical);
  split_lines((const char *)data + 1, size - 1,
              (control >> HEADERS_SHIFT) & HEADERS_MASK, &headers, &query);
  FUZZ_CHECK(!slb_canonical_query(&query, &canonical));
  check_canonical(&query, &canonical);
  check_v1(&query, method, secret, size);

  if(!(control & NO_HASH_BIT)) {
    slb_sha256_hex(data, size, payload_hash);
    FUZZ_CHECK(!slb_params_adds(&headers, HASH_HEADER, payload_hash));
  }
  check_v3(&query, &headers, method, secret, size);

  slb_params_free(&query);
  slb_params_free(&headers);
  slb_buf_free(&canonical);
  return 0;
}
