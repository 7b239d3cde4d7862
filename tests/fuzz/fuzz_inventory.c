/* fuzz_inventory.c: slb_sim_parse on any text and, when it takes it, the
 * simulator's answers to the calls a cleanup makes. Every answer must be
 * one the client accepts: a JSON object with a RequestId, an error code
 * exactly when the status is not 200. */
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "slb_client.h"
#include "slb_sim.h"

#include "fuzz.h"

/* Inventories give times relative to now; a fixed now keeps runs
 * reproducible. */
#define NOW_MS 1700000000000LL

/* The tail of the input, up to this long, doubles as a certificate id. */
#define INPUT_ID_MAX 64
/* Ids listed longer than this are cut, and then simply not found. */
#define LISTED_ID_MAX 512

#define UNKNOWN_REGION "zz-fuzz-1"

static cJSON *call(slb_sim *sim, const char *region, const char *action,
                   const slb_params *p, long *status)
{
  slb_buf body;
  slb_error err;
  cJSON *json, *parsed;
  const cJSON *code;

  slb_buf_init(&body);
  FUZZ_CHECK(!slb_sim_handle(sim, region, action, p, status, &body));
  FUZZ_CHECK(*status == 200 || *status == 400 || *status == 404);
  json = cJSON_ParseWithLength(body.data, body.len);
  FUZZ_CHECK(cJSON_IsObject(json));
  FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(json,
                                                             "RequestId")));
  code = cJSON_GetObjectItemCaseSensitive(json, "Code");
  FUZZ_CHECK(*status == 200 ? !code : cJSON_IsString(code));

  /* The client reads the same bytes the same way. */
  memset(&err, 0, sizeof(err));
  parsed = slb_parse_response(*status, body.data, body.len, &err);
  FUZZ_CHECK(*status == 200 ? parsed != NULL :
             !parsed && !strcmp(err.code, code->valuestring));
  cJSON_Delete(parsed);
  slb_buf_free(&body);
  return json;
}

static void call_once(slb_sim *sim, const char *region, const char *action,
                      const slb_params *p, long *status)
{
  cJSON_Delete(call(sim, region, action, p, status));
}

/* The certificates a Describe lists; *first receives a copy of the first
 * one's id, or "" when there is none. */
static int describe(slb_sim *sim, const char *region, char *first,
                    size_t first_size)
{
  slb_params none;
  long status;
  cJSON *json;
  const cJSON *list, *id;
  int count;

  slb_params_init(&none);
  json = call(sim, region, "DescribeServerCertificates", &none, &status);
  FUZZ_CHECK(status == 200);
  list = cJSON_GetObjectItemCaseSensitive(
    cJSON_GetObjectItemCaseSensitive(json, "ServerCertificates"),
    "ServerCertificate");
  FUZZ_CHECK(cJSON_IsArray(list));
  count = cJSON_GetArraySize(list);
  id = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(list, 0),
                                        "ServerCertificateId");
  FUZZ_CHECK(!count || cJSON_IsString(id));
  snprintf(first, first_size, "%s", count ? id->valuestring : "");
  cJSON_Delete(json);
  return count;
}

/* Deletes one id; the list shrinks by one exactly when the answer is
 * 200. */
static void delete_id(slb_sim *sim, const char *region, const char *id,
                      size_t id_len)
{
  slb_params p;
  char first[LISTED_ID_MAX];
  long status;
  int before = describe(sim, region, first, sizeof(first));

  slb_params_init(&p);
  FUZZ_CHECK(!slb_params_add(&p, "ServerCertificateId", 19, id, id_len));
  call_once(sim, region, "DeleteServerCertificate", &p, &status);
  FUZZ_CHECK(describe(sim, region, first, sizeof(first)) ==
             before - (status == 200));
  slb_params_free(&p);
}

/* Uploads one certificate, then renames and deletes it. */
static void upload(slb_sim *sim, const char *region, const char *name,
                   size_t name_len)
{
  slb_params p;
  char first[LISTED_ID_MAX];
  long status;
  cJSON *json;
  const cJSON *id;
  int before = describe(sim, region, first, sizeof(first));

  slb_params_init(&p);
  FUZZ_CHECK(!slb_params_adds(&p, "ServerCertificate", "-----BEGIN..."));
  FUZZ_CHECK(!slb_params_adds(&p, "PrivateKey", "-----BEGIN..."));
  FUZZ_CHECK(!slb_params_add(&p, "ServerCertificateName", 21, name,
                             name_len));
  json = call(sim, region, "UploadServerCertificate", &p, &status);
  FUZZ_CHECK(status == 200);
  FUZZ_CHECK(describe(sim, region, first, sizeof(first)) == before + 1);
  id = cJSON_GetObjectItemCaseSensitive(json, "ServerCertificateId");
  FUZZ_CHECK(cJSON_IsString(id));

  slb_params_clear(&p);
  FUZZ_CHECK(!slb_params_adds(&p, "ServerCertificateId", id->valuestring));
  FUZZ_CHECK(!slb_params_adds(&p, "ServerCertificateName", "renamed"));
  call_once(sim, region, "SetServerCertificateName", &p, &status);
  FUZZ_CHECK(status == 200);
  delete_id(sim, region, id->valuestring, strlen(id->valuestring));
  cJSON_Delete(json);
  slb_params_free(&p);
}

static void exercise(slb_sim *sim, const char *tail, size_t tail_len)
{
  const char *region = slb_sim_first_region(sim);
  char first[LISTED_ID_MAX];
  slb_params none;
  long status;

  slb_params_init(&none);
  if(!region)
    region = UNKNOWN_REGION;
  call_once(sim, region, "DescribeRegions", &none, &status);
  FUZZ_CHECK(status == 200);
  call_once(sim, UNKNOWN_REGION, "DescribeServerCertificates", &none,
            &status);
  call_once(sim, region, "DescribeLoadBalancers", &none, &status);
  call_once(sim, region, "DeleteServerCertificate", &none, &status);
  if(!strcmp(region, UNKNOWN_REGION))
    return;

  if(describe(sim, region, first, sizeof(first)))
    delete_id(sim, region, first, strlen(first));
  delete_id(sim, region, tail, tail_len);
  upload(sim, region, tail, tail_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *text = (const char *)data;
  const char *tail = text + (size > INPUT_ID_MAX ? size - INPUT_ID_MAX : 0);
  char err[512];
  slb_sim *sim;

  memset(err, 0xA5, sizeof(err));
  sim = slb_sim_parse(text, size, NOW_MS, err, sizeof(err));
  if(!sim) {
    FUZZ_CHECK(FUZZ_TERMINATED(err) && err[0]);
    return 0;
  }
  /* The client never sends a value holding a zero byte. */
  exercise(sim, tail, strnlen(tail, (size_t)(text + size - tail)));
  slb_sim_free(sim);
  return 0;
}
