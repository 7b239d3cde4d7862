/* fuzz_response.c: slb_parse_response on any status and body. It must
 * give an object for a 2xx JSON object and otherwise a complete error,
 * whatever err held before. */
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "slb_client.h"

#include "fuzz.h"

/* The first three bytes are the status's decimal digits (each byte less
 * '0', modulo 10, so "404" reads as 404 and any byte counts); the rest is
 * the body. */
#define STATUS_DIGITS 3

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  slb_error err;
  cJSON *json;
  long status = 0;
  size_t i;

  if(size < STATUS_DIGITS)
    return 0;
  for(i = 0; i < STATUS_DIGITS; i++)
    status = status * 10 + (unsigned char)(data[i] - '0') % 10;

  /* Stale bytes from some earlier call, with no NUL anywhere. */
  memset(&err, 0xA5, sizeof(err));
  json = slb_parse_response(status, (const char *)data + STATUS_DIGITS,
                            size - STATUS_DIGITS, &err);
  if(json) {
    FUZZ_CHECK(cJSON_IsObject(json));
    FUZZ_CHECK(status >= 200 && status <= 299);
    cJSON_Delete(json);
    return 0;
  }
  FUZZ_CHECK(FUZZ_TERMINATED(err.code) && err.code[0]);
  FUZZ_CHECK(FUZZ_TERMINATED(err.message));
  FUZZ_CHECK(FUZZ_TERMINATED(err.request_id));
  FUZZ_CHECK(FUZZ_TERMINATED(err.host_id));
  FUZZ_CHECK(FUZZ_TERMINATED(err.recommend));
  FUZZ_CHECK(err.status == (int)status);
  FUZZ_CHECK(err.retryable == 0 || err.retryable == 1);
  FUZZ_CHECK(slb_code_retryable(err.code, status) == 0 ||
             slb_code_retryable(err.code, status) == 1);
  return 0;
}
