/* slb_response.c: from an HTTP answer to JSON or a structured error, and
 * which errors are worth another attempt. */
#include "slb_client.h"

#include <stdio.h>
#include <string.h>

/* Codes the reference calls transient; matched before the HTTP status. */
static const char *const transient_codes[] = {
  "Throttling", "Throttling.User", "Throttling.Api", "Throttling.Tenant",
  "ServiceUnavailable", "InternalError", "UnknownError", "SystemBusy",
  "OperationBusy", "ServiceBusy", "RequestTimeout", NULL
};

int slb_code_retryable(const char *code, long status)
{
  size_t i;

  if(code && *code) {
    for(i = 0; transient_codes[i]; i++)
      if(!strcmp(code, transient_codes[i]))
        return 1;
    if(!strncmp(code, "Throttling", 10))
      return 1;
    /* A code the service named and we do not list is final, unless the
     * service itself failed (5xx). */
  }
  return status >= 500;
}

static void copy_field(char *out, size_t outlen, const cJSON *object,
                       const char *name)
{
  const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, name);

  if(cJSON_IsString(item))
    snprintf(out, outlen, "%s", item->valuestring);
  else if(cJSON_IsNumber(item))
    snprintf(out, outlen, "%.17g", item->valuedouble);
}

/* A short, printable excerpt of a body that is not what we expected. */
static void snippet(char *out, size_t outlen, const char *body, size_t len)
{
  size_t i, n = 0;

  for(i = 0; i < len && n + 5 < outlen && i < 120; i++) {
    unsigned char c = (unsigned char)body[i];
    out[n++] = (char)(c >= 32 && c < 127 ? c : (c == '\n' ? ' ' : '?'));
  }
  if(i < len && n + 4 < outlen) {
    memcpy(out + n, "...", 3);
    n += 3;
  }
  out[n] = '\0';
}

static cJSON *bad_response(long status, const char *why, const char *body,
                           size_t len, int transient, slb_error *err)
{
  char excerpt[160];

  snippet(excerpt, sizeof(excerpt), body, len);
  err->status = (int)status;
  snprintf(err->code, sizeof(err->code), "%s", SLB_E_BAD_RESPONSE);
  snprintf(err->message, sizeof(err->message),
           "HTTP %ld with %s%s%s%s", status, why,
           len ? ": \"" : "", excerpt, len ? "\"" : "");
  /* A gateway's page or a cut-off answer is transient by nature; well
   * formed JSON of the wrong shape will be the same next time. */
  err->retryable = transient || status >= 500;
  return NULL;
}

static cJSON *service_error(long status, cJSON *json, slb_error *err)
{
  const cJSON *code = cJSON_GetObjectItemCaseSensitive(json, "Code");

  err->status = (int)status;
  copy_field(err->code, sizeof(err->code), json, "Code");
  copy_field(err->message, sizeof(err->message), json, "Message");
  copy_field(err->request_id, sizeof(err->request_id), json, "RequestId");
  copy_field(err->host_id, sizeof(err->host_id), json, "HostId");
  copy_field(err->recommend, sizeof(err->recommend), json, "Recommend");
  if(!cJSON_IsString(code) || !*err->code)
    snprintf(err->code, sizeof(err->code), "HTTP%ld", status);
  if(!*err->message)
    snprintf(err->message, sizeof(err->message), "HTTP %ld with no error "
             "message", status);
  err->retryable = slb_code_retryable(err->code, status);
  cJSON_Delete(json);
  return NULL;
}

static int has_escaped_nul(const char *body, size_t len)
{
  size_t i;

  for(i = 0; i + 6 <= len; i++) {
    if(body[i] == '\\' && body[i + 1] == 'u' && body[i + 2] == '0' &&
       body[i + 3] == '0' && body[i + 4] == '0' && body[i + 5] == '0')
      return 1;
    if(body[i] == '\\')
      i++;              /* "\\u0000" is a backslash, then text */
  }
  return 0;
}

cJSON *slb_parse_response(long status, const char *body, size_t len,
                          slb_error *err)
{
  cJSON *json;

  /* Every field is set from scratch: an error must never carry a request
   * id or message left over from an earlier attempt. */
  memset(err, 0, sizeof(*err));
  if(!len)
    return bad_response(status, "an empty body", body, len, 1, err);
  if(memchr(body, '\0', len))
    return bad_response(status, "a zero byte in the body", body, len, 1,
                        err);
  /* cJSON would cut a string at an escaped NUL: "victim\u0000-junk"
   * would read as "victim". SLB never sends one. */
  if(has_escaped_nul(body, len))
    return bad_response(status, "a NUL character in a JSON string", body,
                        len, 0, err);
  json = cJSON_ParseWithLength(body, len);
  if(!json)
    return bad_response(status, "a body that is not JSON", body, len, 1,
                        err);
  if(!cJSON_IsObject(json)) {
    cJSON_Delete(json);
    return bad_response(status, "JSON that is not an object", body, len,
                        0, err);
  }
  /* SLB's successes never carry a Code; an error dressed as 200 is still
   * an error, or a refused delete would count as done. */
  if(status < 200 || status > 299 ||
     (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(json, "Code")) &&
      cJSON_IsString(cJSON_GetObjectItemCaseSensitive(json, "Message"))))
    return service_error(status, json, err);

  return json;
}
