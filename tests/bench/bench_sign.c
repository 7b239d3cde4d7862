/* bench_sign.c: nanoseconds per V1 and V3 signature of a typical
 * DeleteServerCertificate request, as the client builds it for each
 * attempt. Prints one line per version: the median of several batches.
 * Time is this thread's CPU time, so other load on the machine inflates
 * it far less than it would a wall clock.
 *
 *   bench_sign [BATCHES [SIGNATURES_PER_BATCH [v1|v3]]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slb_sign.h"

#define MAX_BATCHES 101
#define MAX_SECONDS_PER_VERSION 20.0

static const char secret[] = "testsecret-of-thirty-characters";
static const char key_id[] = "LTAI5tAbCdEfGhIjKlMnOpQr";
static const char cert_id[] = "1231579085529123_18c3a1b2c00_1700000000_"
                              "000000001";

static double now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* The pairs slb_request.c puts in a V1 request, in its order. */
static void v1_params(slb_params *p)
{
  slb_params_adds(p, "ServerCertificateId", cert_id);
  slb_params_adds(p, "RegionId", "cn-hangzhou");
  slb_params_adds(p, "Action", "DeleteServerCertificate");
  slb_params_adds(p, "Version", "2014-05-15");
  slb_params_adds(p, "Format", "JSON");
  slb_params_adds(p, "AccessKeyId", key_id);
  slb_params_adds(p, "SignatureMethod", "HMAC-SHA1");
  slb_params_adds(p, "SignatureVersion", "1.0");
  slb_params_adds(p, "SignatureNonce", "3f2a9c4e7b1d4e0fa6c58d2b9e7f1a03");
  slb_params_adds(p, "Timestamp", "2024-05-15T08:30:00Z");
}

static void v3_input(slb_params *query, slb_params *headers)
{
  slb_params_adds(query, "ServerCertificateId", cert_id);
  slb_params_adds(query, "RegionId", "cn-hangzhou");
  slb_params_adds(headers, "host", "slb.aliyuncs.com");
  slb_params_adds(headers, "x-acs-action", "DeleteServerCertificate");
  slb_params_adds(headers, "x-acs-version", "2014-05-15");
  slb_params_adds(headers, "x-acs-date", "2024-05-15T08:30:00Z");
  slb_params_adds(headers, "x-acs-signature-nonce",
                  "3f2a9c4e7b1d4e0fa6c58d2b9e7f1a03");
  slb_params_adds(headers, "x-acs-content-sha256", "e3b0c44298fc1c149afbf4c"
                  "8996fb92427ae41e4649b934ca495991b7852b855");
}

/* A client makes its key ready once and signs every request with it, so
 * that is what is timed; the one-shot slb_sign_v1 adds two SHA-1 blocks. */
static slb_v1_key v1_key;

static int sign_v1_once(const slb_params *p)
{
  char signature[SLB_V1_SIGNATURE_SIZE];
  return slb_sign_v1_keyed(p, "GET", &v1_key, NULL, signature);
}

static int sign_v3_once(const slb_v3_request *req)
{
  slb_v3_result out;
  int rc;

  slb_v3_result_init(&out);
  rc = slb_sign_v3(req, &out);
  slb_v3_result_free(&out);
  return rc;
}

static int compare_doubles(const void *x, const void *y)
{
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

/* Runs batches of per_batch signatures of one version; the median batch's
 * ns per signature, or -1 if signing failed. Stops early after
 * MAX_SECONDS_PER_VERSION, keeping at least one batch. */
static double median_ns(int version, const slb_params *v1,
                        const slb_v3_request *v3, int batches,
                        long per_batch, int *ran)
{
  double results[MAX_BATCHES], started = now_ns();
  int b;
  long i;

  for(b = 0; b < batches; b++) {
    double t0 = now_ns();
    for(i = 0; i < per_batch; i++)
      if(version == 1 ? sign_v1_once(v1) : sign_v3_once(v3))
        return -1;
    results[b] = (now_ns() - t0) / (double)per_batch;
    if(now_ns() - started > MAX_SECONDS_PER_VERSION * 1e9) {
      b++;
      break;
    }
  }
  *ran = b;
  qsort(results, (size_t)b, sizeof(results[0]), compare_doubles);
  return results[b / 2];
}

int main(int argc, char **argv)
{
  int batches = argc > 1 ? atoi(argv[1]) : 15, ran = 0;
  long per_batch = argc > 2 ? atol(argv[2]) : 20000;
  const char *only = argc > 3 ? argv[3] : "";
  slb_params v1, query, headers;
  slb_v3_request v3;
  double ns;
  int status = 0;

  if(batches < 1 || batches > MAX_BATCHES || per_batch < 1 ||
     (*only && strcmp(only, "v1") && strcmp(only, "v3"))) {
    fprintf(stderr, "usage: bench_sign [BATCHES (1-%d) [PER_BATCH "
            "[v1|v3]]]\n", MAX_BATCHES);
    return 2;
  }
  if(slb_v1_key_init(&v1_key, secret, strlen(secret)))
    return 1;
  slb_params_init(&v1);
  slb_params_init(&query);
  slb_params_init(&headers);
  v1_params(&v1);
  v3_input(&query, &headers);
  v3.method = "GET";
  v3.query = &query;
  v3.headers = &headers;
  v3.access_key_id = key_id;
  v3.secret = secret;
  v3.secret_len = strlen(secret);

  /* Warm caches and the allocator before anything is timed. */
  median_ns(1, &v1, &v3, 1, per_batch / 10 + 1, &ran);
  if(strcmp(only, "v3")) {
    ns = median_ns(1, &v1, &v3, batches, per_batch, &ran);
    printf("v1 median_ns=%.1f batches=%d per_batch=%ld\n", ns, ran,
           per_batch);
    status |= ns < 0;
  }
  if(strcmp(only, "v1")) {
    ns = median_ns(3, &v1, &v3, batches, per_batch, &ran);
    printf("v3 median_ns=%.1f batches=%d per_batch=%ld\n", ns, ran,
           per_batch);
    status |= ns < 0;
  }
  slb_params_free(&v1);
  slb_params_free(&query);
  slb_params_free(&headers);
  slb_v1_key_wipe(&v1_key);
  return status;
}
