/* test_sign.c: the signer against every vector file, byte for byte, plus
 * the encoding rules, timestamps and nonces on their own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "slb_sign.h"

static cJSON *load_json(const char *path)
{
  FILE *f = fopen(path, "rb");
  char *text;
  long size;
  cJSON *json;

  if(!f) {
    CHECK(0, "cannot open %s", path);
    return NULL;
  }
  fseek(f, 0, SEEK_END);
  size = ftell(f);
  rewind(f);
  text = malloc((size_t)size + 1);
  if(fread(text, 1, (size_t)size, f) != (size_t)size)
    size = 0;
  text[size] = '\0';
  fclose(f);
  json = cJSON_Parse(text);
  free(text);
  CHECK(json != NULL, "%s is not JSON", path);
  return json;
}

static void params_from_object(const cJSON *object, slb_params *p)
{
  const cJSON *item;
  cJSON_ArrayForEach(item, object)
    slb_params_adds(p, item->string, item->valuestring);
}

/* Runs check on every case of a vector file; returns how many ran. */
static int each_case(const char *path,
                     void (*check)(const cJSON *c, const char *name,
                                   const char *secret))
{
  cJSON *doc = load_json(path);
  const cJSON *c;
  int cases = 0;

  if(!doc)
    return 0;
  cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases")) {
    check(c, cJSON_GetObjectItem(c, "name")->valuestring,
          cJSON_GetObjectItem(c, "secret")->valuestring);
    cases++;
  }
  cJSON_Delete(doc);
  return cases;
}

static void check_v1(const cJSON *c, const char *name, const char *secret)
{
  const char *method = cJSON_GetObjectItem(c, "method")->valuestring;
  slb_params p;
  slb_buf sts;
  char sig[SLB_V1_SIGNATURE_SIZE] = "";

  slb_params_init(&p);
  slb_buf_init(&sts);
  params_from_object(cJSON_GetObjectItem(c, "params"), &p);
  CHECK(slb_sign_v1(&p, method, secret, strlen(secret), &sts, sig) == 0,
        "%s: sign failed", name);
  CHECK_STR(slb_buf_cstr(&sts),
            cJSON_GetObjectItem(c, "string_to_sign")->valuestring, name);
  CHECK_STR(sig, cJSON_GetObjectItem(c, "signature")->valuestring, name);
  slb_buf_free(&sts);
  slb_params_free(&p);
}

static void check_v3(const cJSON *c, const char *name, const char *secret)
{
  slb_params query, headers;
  slb_v3_request req;
  slb_v3_result out;

  slb_params_init(&query);
  slb_params_init(&headers);
  slb_v3_result_init(&out);
  params_from_object(cJSON_GetObjectItem(c, "query"), &query);
  params_from_object(cJSON_GetObjectItem(c, "headers"), &headers);
  req.method = cJSON_GetObjectItem(c, "method")->valuestring;
  req.query = &query;
  req.headers = &headers;
  req.access_key_id = cJSON_GetObjectItem(c, "access_key_id")->valuestring;
  req.secret = secret;
  req.secret_len = strlen(secret);
  CHECK(slb_sign_v3(&req, &out) == 0, "%s: sign failed", name);
  CHECK_STR(slb_buf_cstr(&out.canonical_request),
            cJSON_GetObjectItem(c, "canonical_request")->valuestring, name);
  CHECK_STR(out.hashed_canonical_request,
            cJSON_GetObjectItem(c, "hashed_canonical_request")->valuestring,
            name);
  CHECK_STR(out.signature, cJSON_GetObjectItem(c, "signature")->valuestring,
            name);
  CHECK_STR(slb_buf_cstr(&out.authorization),
            cJSON_GetObjectItem(c, "authorization")->valuestring, name);
  slb_v3_result_free(&out);
  slb_params_free(&query);
  slb_params_free(&headers);
}

static const struct {
  const char *in;
  size_t len;
  const char *want;
} encodings[] = {
  {"AZaz09-_.~", 10, "AZaz09-_.~"},
  {"a b", 3, "a%20b"},
  {"*", 1, "%2A"},
  {"+/=", 3, "%2B%2F%3D"},
  {"!$&'()*+,;=", 11, "%21%24%26%27%28%29%2A%2B%2C%3B%3D"},
  {":@/?#[]", 7, "%3A%40%2F%3F%23%5B%5D"},
  {"%", 1, "%25"},
  {"\xc3\xbc", 2, "%C3%BC"},
  {"\xe8\xaf\x81", 3, "%E8%AF%81"},
  {"a\0b", 3, "a%00b"},
  {"\xff", 1, "%FF"},                   /* passed through, not transcoded */
  {"", 0, ""},
};

static void test_percent_encode(void)
{
  size_t i;
  slb_buf out;

  slb_buf_init(&out);
  for(i = 0; i < sizeof(encodings) / sizeof(encodings[0]); i++) {
    slb_buf_reset(&out);
    slb_percent_encode(&out, encodings[i].in, encodings[i].len);
    CHECK_STR(slb_buf_cstr(&out), encodings[i].want, encodings[i].want);
  }
  slb_buf_free(&out);
}

static void test_canonical_query(void)
{
  slb_params p;
  slb_buf out;
  char name[32];
  int i;

  slb_params_init(&p);
  slb_buf_init(&out);
  for(i = 12; i >= 1; i--) {
    snprintf(name, sizeof(name), "Id.%d", i);
    slb_params_adds(&p, name, i == 3 ? "" : "x");
  }
  slb_params_adds(&p, "B", "0");
  slb_params_adds(&p, "A", "false");
  slb_params_adds(&p, "a", "lower sorts after upper");
  CHECK(slb_canonical_query(&p, &out) == 0, "canonical query");
  CHECK_STR(slb_buf_cstr(&out),
            "A=false&B=0&Id.1=x&Id.10=x&Id.11=x&Id.12=x&Id.2=x&Id.3=&"
            "Id.4=x&Id.5=x&Id.6=x&Id.7=x&Id.8=x&Id.9=x&"
            "a=lower%20sorts%20after%20upper", "byte order, empty value");
  slb_buf_free(&out);
  slb_params_free(&p);
}

static const struct {
  const char *tz;
} zones[] = {{"Asia/Shanghai"}, {"America/Los_Angeles"}, {"UTC"},
             {"Pacific/Kiritimati"}};

static void test_timestamps(void)
{
  char fixed[SLB_TIMESTAMP_SIZE], now[SLB_TIMESTAMP_SIZE];
  size_t i;

  slb_timestamp(1704067200LL, fixed);
  CHECK_STR(fixed, "2024-01-01T00:00:00Z", "epoch 1704067200");
  slb_timestamp(951825599LL, fixed);
  CHECK_STR(fixed, "2000-02-29T11:59:59Z", "leap day");
  for(i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
    time_t t;
    setenv("TZ", zones[i].tz, 1);
    tzset();
    t = time(NULL);
    slb_timestamp((long long)t, now);
    slb_timestamp(1704067200LL, fixed);
    CHECK_STR(fixed, "2024-01-01T00:00:00Z", zones[i].tz);
    CHECK(strlen(now) == 20 && now[10] == 'T' && now[19] == 'Z',
          "%s: format of %s", zones[i].tz, now);
  }
}

static int nonce_order(const void *a, const void *b)
{
  return memcmp(a, b, SLB_NONCE_SIZE);
}

static void test_nonces(void)
{
  enum { COUNT = 100000 };
  char (*nonces)[SLB_NONCE_SIZE] = calloc(COUNT, SLB_NONCE_SIZE);
  int i, failed = 0, repeats = 0;

  for(i = 0; i < COUNT; i++)
    failed |= slb_nonce(nonces[i]);
  CHECK(!failed, "nonce generation");
  CHECK(strlen(nonces[0]) == 32 && strspn(nonces[0], "0123456789abcdef")
        == 32, "nonce is 32 hex digits: %s", nonces[0]);
  qsort(nonces, COUNT, SLB_NONCE_SIZE, nonce_order);
  for(i = 1; i < COUNT; i++)
    repeats += !memcmp(nonces[i - 1], nonces[i], SLB_NONCE_SIZE);
  CHECK(repeats == 0, "%d repeated nonces in %d", repeats, COUNT);
  free(nonces);
}

static void test_v3_misuse(void)
{
  slb_params query, headers;
  slb_v3_request req = {"GET", NULL, NULL, "id", "s", 1};
  slb_v3_result out;

  slb_params_init(&query);
  slb_params_init(&headers);
  slb_v3_result_init(&out);
  req.query = &query;
  req.headers = &headers;
  slb_params_adds(&headers, "host", "example");
  CHECK(slb_sign_v3(&req, &out) == -1, "no content hash header refused");
  slb_params_adds(&headers, "x-acs-content-sha256", "e3b0");
  slb_params_adds(&headers, "bad name", "x");
  CHECK(slb_sign_v3(&req, &out) == -1, "header name with space refused");
  slb_v3_result_free(&out);
  slb_params_free(&query);
  slb_params_free(&headers);
}

int main(void)
{
  CHECK(each_case("vectors/rpc-v1.json", check_v1) == 10,
        "rpc-v1 case count");
  CHECK(each_case("vectors/rpc-v1-extra.json", check_v1) == 8,
        "extra case count");
  CHECK(each_case("vectors/acs3-hmac-sha256.json", check_v3) == 1,
        "v3 case count");
  test_percent_encode();
  test_canonical_query();
  test_timestamps();
  test_nonces();
  test_v3_misuse();
  return check_summary();
}
