/* slb_request.c: one attempt's HTTP request, with the common parameters,
 * a fresh nonce and timestamp, and a signature of the chosen version. */
#include <stdio.h>
#include <string.h>

#include "slb_internal.h"

static void request_init(struct request *req)
{
  memset(req, 0, sizeof(*req));
  slb_params_init(&req->all);
  slb_buf_init(&req->query);
  slb_buf_init(&req->body);
  slb_buf_init(&req->url);
}

void slb_request_free(struct request *req)
{
  slb_params_free(&req->all);
  slb_buf_wipe(&req->query);
  slb_buf_wipe(&req->body);
  slb_buf_wipe(&req->url);
  curl_slist_free_all(req->headers);
  req->headers = NULL;
}

/* The caller's parameters, and RegionId unless they hold it already. */
static int copy_params(struct request *req, const slb_params *params,
                       const char *region)
{
  if(slb_params_append(&req->all, params))
    return -1;
  if(slb_params_find(params, "RegionId") < 0)
    return slb_params_adds(&req->all, "RegionId", region);
  return 0;
}

static int add_header_n(struct request *req, const char *name,
                        size_t name_len, const char *value,
                        size_t value_len)
{
  char line[4096];
  struct curl_slist *grown;

  if((size_t)snprintf(line, sizeof(line), "%.*s: %.*s", (int)name_len,
                      name, (int)value_len, value) >= sizeof(line))
    return -1;
  grown = curl_slist_append(req->headers, line);
  if(!grown)
    return -1;
  req->headers = grown;
  return 0;
}

static int add_header(struct request *req, const char *name,
                      const char *value)
{
  return add_header_n(req, name, strlen(name), value, strlen(value));
}

/* True when the pair's name is exactly word. */
static int named(const char *name, size_t name_len, const char *word)
{
  return strlen(word) == name_len && !memcmp(name, word, name_len);
}

/* Where the request goes: the override, or the region's public host. */
static void base_url(const slb_client *c, const char *region,
                     struct request *req)
{
  char host[256];

  if(*c->base_url) {
    slb_buf_adds(&req->url, c->base_url);
  }
  else {
    slb_region_endpoint(region, host, sizeof(host));
    slb_buf_adds(&req->url, "https://");
    slb_buf_adds(&req->url, host);
  }
  snprintf(req->host, sizeof(req->host), "%s",
           strstr(req->url.data, "://") + 3);
  slb_buf_addc(&req->url, '/');
}

/* Small requests go as GET with a query string; large ones (a PEM chain)
 * as a POST form, since URLs have practical length limits. */
static int place_params(struct request *req, const slb_buf *encoded)
{
  if(req->post) {
    slb_buf_add(&req->body, encoded->data, encoded->len);
    if(add_header(req, "Content-Type",
                  "application/x-www-form-urlencoded"))
      return -1;
  }
  else if(encoded->len) {
    slb_buf_addc(&req->url, '?');
    slb_buf_add(&req->url, encoded->data, encoded->len);
  }
  /* curl would otherwise wait for a 100-continue before a large body. */
  return add_header(req, "Expect", "");
}

static int build_v1(slb_client *c, const char *action, const char *ts,
                    const char *nonce, struct request *req)
{
  char signature[SLB_V1_SIGNATURE_SIZE];
  const slb_cred *cred = &c->cred;
  int rc = 0;

  rc |= slb_params_adds(&req->all, "Action", action);
  rc |= slb_params_adds(&req->all, "Version", SLB_API_VERSION);
  rc |= slb_params_adds(&req->all, "Format", "JSON");
  rc |= slb_params_adds(&req->all, "AccessKeyId", cred->access_key_id);
  rc |= slb_params_adds(&req->all, "SignatureMethod", "HMAC-SHA1");
  rc |= slb_params_adds(&req->all, "SignatureVersion", "1.0");
  rc |= slb_params_adds(&req->all, "SignatureNonce", nonce);
  rc |= slb_params_adds(&req->all, "Timestamp", ts);
  if(cred->security_token)
    rc |= slb_params_adds(&req->all, "SecurityToken",
                          cred->security_token);
  if(rc || !c->v1_key_ready ||
     slb_sign_v1_keyed(&req->all, req->post ? "POST" : "GET", &c->v1_key,
                       NULL, signature))
    return -1;
  if(slb_params_adds(&req->all, "Signature", signature) ||
     slb_canonical_query(&req->all, &req->query))
    return -1;
  return 0;
}

static int v3_headers(slb_client *c, const char *action, const char *ts,
                      const char *nonce, struct request *req,
                      slb_params *headers)
{
  char hash[SLB_HEX_SHA256_SIZE];
  int rc = 0;

  slb_sha256_hex(req->body.data ? req->body.data : "", req->body.len,
                 hash);
  rc |= slb_params_adds(headers, "host", req->host);
  rc |= slb_params_adds(headers, "x-acs-action", action);
  rc |= slb_params_adds(headers, "x-acs-version", SLB_API_VERSION);
  rc |= slb_params_adds(headers, "x-acs-date", ts);
  rc |= slb_params_adds(headers, "x-acs-signature-nonce", nonce);
  rc |= slb_params_adds(headers, "x-acs-content-sha256", hash);
  if(req->post)
    rc |= slb_params_adds(headers, "content-type",
                          "application/x-www-form-urlencoded");
  if(c->cred.security_token)
    rc |= slb_params_adds(headers, "x-acs-security-token",
                          c->cred.security_token);
  return rc;
}

static int build_v3(slb_client *c, const char *action, const char *ts,
                    const char *nonce, struct request *req)
{
  slb_params headers, empty;
  slb_v3_request in;
  slb_v3_result out;
  size_t i;
  int rc = -1;

  slb_params_init(&headers);
  slb_params_init(&empty);
  slb_v3_result_init(&out);
  if(v3_headers(c, action, ts, nonce, req, &headers))
    goto fail;
  in.method = req->post ? "POST" : "GET";
  in.query = req->post ? &empty : &req->all;
  in.headers = &headers;
  in.access_key_id = c->cred.access_key_id;
  in.secret = c->cred.access_key_secret;
  in.secret_len = strlen(c->cred.access_key_secret);
  if(slb_sign_v3(&in, &out) ||
     add_header(req, "Authorization", slb_buf_cstr(&out.authorization)))
    goto fail;
  for(i = 0; i < headers.count; i++) {
    const char *name, *value;
    size_t name_len, value_len;
    slb_params_get(&headers, i, &name, &name_len, &value, &value_len);
    /* curl sends Host and Content-Type itself, with the same values. */
    if(!named(name, name_len, "host") &&
       !named(name, name_len, "content-type") &&
       add_header_n(req, name, name_len, value, value_len))
      goto fail;
  }
  rc = 0;
fail:
  slb_v3_result_free(&out);
  slb_params_free(&headers);
  slb_params_free(&empty);
  return rc;
}

int slb_request_build(slb_client *c, const char *action, const char *region,
                      const slb_params *params, struct request *req,
                      slb_error *err)
{
  char ts[SLB_TIMESTAMP_SIZE], nonce[SLB_NONCE_SIZE];
  slb_buf encoded;
  int rc = -1;

  request_init(req);
  slb_buf_init(&encoded);
  slb_timestamp_now(ts);
  if(slb_nonce(nonce)) {
    slb_set_error(err, SLB_E_INTERNAL, "no random source for a nonce");
    return -1;
  }
  base_url(c, region, req);
  if(copy_params(req, params, region))
    goto nomem;
  if(slb_canonical_query(&req->all, &encoded))
    goto nomem;
  if(c->signature_version == 3) {
    req->post = encoded.len > POST_THRESHOLD;
    if(place_params(req, &encoded) || build_v3(c, action, ts, nonce, req))
      goto nomem;
  }
  else {
    /* The method is signed, so choose it before signing, leaving room for
     * the common parameters still to come. */
    req->post = encoded.len + 400 > POST_THRESHOLD;
    if(build_v1(c, action, ts, nonce, req) ||
       place_params(req, &req->query))
      goto nomem;
  }
  if(req->url.failed || req->body.failed)
    goto nomem;
  rc = 0;
  goto done;
nomem:
  slb_set_error(err, SLB_E_INTERNAL, "out of memory building %s", action);
done:
  slb_buf_wipe(&encoded);
  return rc;
}
