/* slb_sim.c: answers SLB certificate calls from an inventory held in
 * memory, with the service's own answers and error codes, so a policy
 * behaves the same simulated as live. */
#include "slb_sim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#define DAY_MS 86400000.0

struct cert {
  cJSON *fields;            /* exactly what Describe shows */
  int listeners;            /* bound to this many listeners */
  int domain_extensions;
};

struct region {
  char name[64];
  struct cert *certs;
  size_t count, cap;
};

struct slb_sim {
  struct region *regions;
  size_t count;
  long long now_ms;
  unsigned long uploads;
};

static void sim_error(char *err, size_t errlen, const char *region,
                      int index, const char *what)
{
  if(index >= 0)
    snprintf(err, errlen, "inventory: regions.%s.certificates[%d]: %s",
             region, index + 1, what);
  else
    snprintf(err, errlen, "inventory: %s%s%s", region ? "regions." : "",
             region ? region : "", what);
}

static void iso_time(double ms, char out[24])
{
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  if(!gmtime_r(&t, &tm) || !strftime(out, 24, "%Y-%m-%dT%H:%M:%SZ", &tm))
    snprintf(out, 24, "1970-01-01T00:00:00Z");
}

/* An absolute field wins; otherwise days relative to now. */
static int pick_time(const cJSON *src, const char *abs_name,
                     const char *rel_name, double rel_sign, double now,
                     double fallback_days, double *out)
{
  const cJSON *abs = cJSON_GetObjectItemCaseSensitive(src, abs_name);
  const cJSON *rel = cJSON_GetObjectItemCaseSensitive(src, rel_name);

  if(abs && !cJSON_IsNumber(abs))
    return -1;
  if(rel && !cJSON_IsNumber(rel))
    return -1;
  if(abs)
    *out = abs->valuedouble;
  else
    *out = now + rel_sign * (rel ? rel->valuedouble : fallback_days) *
           DAY_MS;
  if(*out < 0 || *out > 253402300799000.0)
    return -1;
  *out = (double)(long long)*out;
  return 0;
}

static const char *opt_string(const cJSON *src, const char *name,
                              const char *fallback, int *bad)
{
  const cJSON *item = cJSON_GetObjectItemCaseSensitive(src, name);
  if(!item)
    return fallback;
  if(!cJSON_IsString(item)) {
    *bad = 1;
    return fallback;
  }
  return item->valuestring;
}

static int count_list(const cJSON *src, const char *name, int *bad)
{
  const cJSON *item = cJSON_GetObjectItemCaseSensitive(src, name);
  if(!item)
    return 0;
  if(!cJSON_IsArray(item)) {
    *bad = 1;
    return 0;
  }
  return cJSON_GetArraySize(item);
}

static cJSON *sans(const cJSON *src, const char *common_name, int *bad)
{
  const cJSON *list =
    cJSON_GetObjectItemCaseSensitive(src, "SubjectAlternativeNames");
  cJSON *out = cJSON_CreateObject(), *names = cJSON_CreateArray();
  const cJSON *item;

  cJSON_AddItemToObject(out, "SubjectAlternativeName", names);
  if(list && !cJSON_IsArray(list))
    *bad = 1;
  else if(!list)
    cJSON_AddItemToArray(names, cJSON_CreateString(common_name));
  cJSON_ArrayForEach(item, list) {
    if(!cJSON_IsString(item))
      *bad = 1;
    else
      cJSON_AddItemToArray(names, cJSON_CreateString(item->valuestring));
  }
  return out;
}

static cJSON *cert_fields(const cJSON *src, const char *region, double now,
                          int *bad)
{
  const char *id = opt_string(src, "ServerCertificateId", NULL, bad);
  const char *name = opt_string(src, "ServerCertificateName", id, bad);
  const char *cn = opt_string(src, "CommonName", "example.com", bad);
  double created, expires;
  char when[24], fingerprint[64];
  cJSON *f;

  if(!id || !*id || pick_time(src, "CreateTimeStamp", "created_days_ago",
                              -1, now, 365, &created) ||
     pick_time(src, "ExpireTimeStamp", "expires_in_days", 1, now, 365,
               &expires)) {
    *bad = 1;
    return NULL;
  }
  snprintf(fingerprint, sizeof(fingerprint), "%08lx",
           (unsigned long)strlen(id) * 2654435761UL);
  f = cJSON_CreateObject();
  cJSON_AddStringToObject(f, "ServerCertificateId", id);
  cJSON_AddStringToObject(f, "ServerCertificateName", name ? name : id);
  cJSON_AddStringToObject(f, "RegionId", region);
  cJSON_AddStringToObject(f, "Fingerprint",
                          opt_string(src, "Fingerprint", fingerprint, bad));
  cJSON_AddStringToObject(f, "CommonName", cn);
  cJSON_AddItemToObject(f, "SubjectAlternativeNames", sans(src, cn, bad));
  iso_time(created, when);
  cJSON_AddStringToObject(f, "CreateTime", when);
  cJSON_AddNumberToObject(f, "CreateTimeStamp", created);
  iso_time(expires, when);
  cJSON_AddStringToObject(f, "ExpireTime", when);
  cJSON_AddNumberToObject(f, "ExpireTimeStamp", expires);
  cJSON_AddNumberToObject(f, "IsAliCloudCertificate", 0);
  cJSON_AddStringToObject(f, "ResourceGroupId",
                          opt_string(src, "ResourceGroupId", "", bad));
  cJSON_AddStringToObject(f, "AliCloudCertificateId", "");
  cJSON_AddStringToObject(f, "AliCloudCertificateName", "");
  return f;
}

static int add_cert(struct region *r, cJSON *fields, int listeners,
                    int domain_extensions)
{
  if(r->count == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 8;
    struct cert *grown = realloc(r->certs, cap * sizeof(*grown));
    if(!grown)
      return -1;
    r->certs = grown;
    r->cap = cap;
  }
  r->certs[r->count].fields = fields;
  r->certs[r->count].listeners = listeners;
  r->certs[r->count].domain_extensions = domain_extensions;
  r->count++;
  return 0;
}

static long find_cert(const struct region *r, const char *id);
static struct region *find_region(slb_sim *sim, const char *name);

static int load_region(slb_sim *sim, const cJSON *value, struct region *r,
                       char *err, size_t errlen)
{
  const cJSON *certs = cJSON_GetObjectItemCaseSensitive(value,
                                                        "certificates");
  const cJSON *src;
  int i = 0;

  if(!cJSON_IsObject(value) || !cJSON_IsArray(certs)) {
    sim_error(err, errlen, r->name, -1, ": expected an object with a "
              "\"certificates\" array");
    return -1;
  }
  cJSON_ArrayForEach(src, certs) {
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(src,
                                                       "ServerCertificateId");
    int bad = !cJSON_IsObject(src), listeners, exts;
    if(cJSON_IsString(id) && find_cert(r, id->valuestring) >= 0) {
      sim_error(err, errlen, r->name, i, "repeats a ServerCertificateId "
                "listed before it");
      return -1;
    }
    cJSON *fields = bad ? NULL : cert_fields(src, r->name,
                                             (double)sim->now_ms, &bad);
    listeners = count_list(src, "listeners", &bad);
    exts = count_list(src, "domain_extensions", &bad);
    if(bad || !fields || add_cert(r, fields, listeners, exts)) {
      cJSON_Delete(fields);
      sim_error(err, errlen, r->name, i, "needs a ServerCertificateId "
                "string; names are strings, times numbers from 1970 to "
                "9999, listeners and domain_extensions arrays");
      return -1;
    }
    i++;
  }
  return 0;
}

static int valid_region_name(const char *s)
{
  size_t n = strlen(s);
  return n && n < 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz"
                               "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
         == n;
}

static int load_regions(slb_sim *sim, const cJSON *regions, char *err,
                        size_t errlen)
{
  const cJSON *value;
  int n = cJSON_GetArraySize(regions);

  sim->regions = calloc(n ? (size_t)n : 1, sizeof(*sim->regions));
  if(!sim->regions) {
    snprintf(err, errlen, "inventory: out of memory");
    return -1;
  }
  cJSON_ArrayForEach(value, regions) {
    struct region *r = &sim->regions[sim->count];
    if(!valid_region_name(value->string)) {
      sim_error(err, errlen, NULL, -1, "a region name is not a region id");
      return -1;
    }
    if(find_region(sim, value->string)) {
      sim_error(err, errlen, value->string, -1, " is listed twice");
      return -1;
    }
    snprintf(r->name, sizeof(r->name), "%s", value->string);
    sim->count++;
    if(load_region(sim, value, r, err, errlen))
      return -1;
  }
  return 0;
}

slb_sim *slb_sim_parse(const char *text, size_t len, long long now_ms,
                       char *err, size_t errlen)
{
  cJSON *doc = cJSON_ParseWithLength(text, len);
  const cJSON *regions = cJSON_GetObjectItemCaseSensitive(doc, "regions");
  slb_sim *sim;

  if(!doc) {
    snprintf(err, errlen, "inventory: not valid JSON (near byte %ld)",
             (long)(cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() - text : 0));
    return NULL;
  }
  sim = calloc(1, sizeof(*sim));
  if(sim)
    sim->now_ms = now_ms;
  if(!cJSON_IsObject(regions)) {
    snprintf(err, errlen, "inventory: expected an object with a "
             "\"regions\" object");
    slb_sim_free(sim);
    sim = NULL;
  }
  else if(!sim || load_regions(sim, regions, err, errlen)) {
    if(!sim)
      snprintf(err, errlen, "inventory: out of memory");
    slb_sim_free(sim);
    sim = NULL;
  }
  cJSON_Delete(doc);
  return sim;
}

#define MAX_INVENTORY (64L * 1024 * 1024)

/* Opens path for reading only if it is a regular file, without blocking
 * on a FIFO. Returns a stream, or NULL with err filled. */
static FILE *open_regular(const char *path, char *err, size_t errlen)
{
  struct stat st = {0};           /* read for the message if fstat fails */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  FILE *f;

  if(fd < 0) {
    snprintf(err, errlen, "inventory %s: cannot open: %s", path,
             strerror(errno));
    return NULL;
  }
  if(fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > MAX_INVENTORY) {
    snprintf(err, errlen, "inventory %s: %s", path,
             S_ISREG(st.st_mode) ? "larger than 64 MB" :
             "not a regular file");
    close(fd);
    return NULL;
  }
  f = fdopen(fd, "rb");
  if(!f) {
    snprintf(err, errlen, "inventory %s: cannot read", path);
    close(fd);
  }
  return f;
}

slb_sim *slb_sim_load(const char *path, long long now_ms, char *err,
                      size_t errlen)
{
  FILE *f = open_regular(path, err, errlen);
  slb_buf text;
  char chunk[8192];
  size_t n;
  slb_sim *sim = NULL;

  if(!f)
    return NULL;
  slb_buf_init(&text);
  while((n = fread(chunk, 1, sizeof(chunk), f)) > 0 &&
        text.len <= (size_t)MAX_INVENTORY)
    slb_buf_add(&text, chunk, n);
  if(ferror(f) || text.failed)
    snprintf(err, errlen, "inventory %s: cannot read", path);
  else if(text.len > (size_t)MAX_INVENTORY)
    snprintf(err, errlen, "inventory %s: larger than 64 MB", path);
  else
    sim = slb_sim_parse(text.data ? text.data : "", text.len, now_ms, err,
                        errlen);
  fclose(f);
  slb_buf_free(&text);
  return sim;
}

void slb_sim_free(slb_sim *sim)
{
  size_t i, j;

  if(!sim)
    return;
  for(i = 0; i < sim->count; i++) {
    for(j = 0; j < sim->regions[i].count; j++)
      cJSON_Delete(sim->regions[i].certs[j].fields);
    free(sim->regions[i].certs);
  }
  free(sim->regions);
  free(sim);
}

/* Answers are built as cJSON and printed into body. */
static void request_id(char out[37])
{
  unsigned char b[16];
  static const char hex[] = "0123456789ABCDEF";
  size_t i, n = 0;

  if(getrandom(b, sizeof(b), 0) != sizeof(b))
    memset(b, 0, sizeof(b));
  for(i = 0; i < 16; i++) {
    if(i == 4 || i == 6 || i == 8 || i == 10)
      out[n++] = '-';
    out[n++] = hex[b[i] >> 4];
    out[n++] = hex[b[i] & 15];
  }
  out[n] = '\0';
}

static cJSON *answer(const char *rid)
{
  cJSON *a = cJSON_CreateObject();
  cJSON_AddStringToObject(a, "RequestId", rid);
  return a;
}

static cJSON *failure(long *status, long code_status, const char *rid,
                      const char *code, const char *message)
{
  cJSON *a = answer(rid);
  *status = code_status;
  cJSON_AddStringToObject(a, "HostId", "slb.simulated");
  cJSON_AddStringToObject(a, "Code", code);
  cJSON_AddStringToObject(a, "Message", message);
  cJSON_AddStringToObject(a, "Recommend", "");
  return a;
}

/* A parameter's value as a C string, or NULL (values hold no NUL: the
 * client checked). */
static char *param(const slb_params *p, const char *name)
{
  const char *n, *v;
  size_t nl, vl;
  int at = slb_params_find(p, name);
  char *out;

  if(at < 0)
    return NULL;
  slb_params_get(p, (size_t)at, &n, &nl, &v, &vl);
  out = malloc(vl + 1);
  if(out) {
    memcpy(out, v, vl);
    out[vl] = '\0';
  }
  return out;
}

static struct region *find_region(slb_sim *sim, const char *name)
{
  size_t i;
  for(i = 0; name && i < sim->count; i++)
    if(!strcmp(sim->regions[i].name, name))
      return &sim->regions[i];
  return NULL;
}

static long find_cert(const struct region *r, const char *id)
{
  size_t i;
  for(i = 0; id && i < r->count; i++) {
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(r->certs[i].fields,
                                                      "ServerCertificateId");
    if(!strcmp(f->valuestring, id))
      return (long)i;
  }
  return -1;
}

static cJSON *missing(long *status, const char *rid, const char *name)
{
  char message[160];
  snprintf(message, sizeof(message), "The input parameter \"%s\" that is "
           "mandatory for processing this request is not supplied.", name);
  return failure(status, 400, rid, "MissingParameter", message);
}

static cJSON *describe(struct region *r, const slb_params *p,
                       const char *rid)
{
  cJSON *a = answer(rid), *wrap = cJSON_CreateObject();
  cJSON *list = cJSON_CreateArray();
  char *only = param(p, "ServerCertificateId");
  size_t i;

  for(i = 0; i < r->count; i++)
    if(!only || (long)i == find_cert(r, only))
      cJSON_AddItemToArray(list, cJSON_Duplicate(r->certs[i].fields, 1));
  cJSON_AddItemToObject(wrap, "ServerCertificate", list);
  cJSON_AddItemToObject(a, "ServerCertificates", wrap);
  free(only);
  return a;
}

static cJSON *delete_cert(struct region *r, const slb_params *p,
                          const char *rid, long *status)
{
  char *id = param(p, "ServerCertificateId");
  long at = find_cert(r, id);
  cJSON *a;

  if(!id)
    a = missing(status, rid, "ServerCertificateId");
  else if(at < 0)
    a = failure(status, 404, rid, "ServerCertificateId.NotFound",
                "The specified ServerCertificateId does not exist.");
  else if(r->certs[at].listeners)
    a = failure(status, 400, rid, "CertificateAndPrivateKeyIsRefered",
                "The specified certificate is bound to listeners. You "
                "cannot delete it.");
  else if(r->certs[at].domain_extensions)
    a = failure(status, 400, rid, "CertificateRelatedDomainExtensionExist",
                "The specified certificate is used by domain extensions. "
                "You cannot delete it.");
  else {
    cJSON_Delete(r->certs[at].fields);
    r->certs[at] = r->certs[--r->count];
    a = answer(rid);
  }
  free(id);
  return a;
}

static cJSON *rename_cert(struct region *r, const slb_params *p,
                          const char *rid, long *status)
{
  char *id = param(p, "ServerCertificateId");
  char *name = param(p, "ServerCertificateName");
  long at = find_cert(r, id);
  cJSON *a;

  if(!id || !name)
    a = missing(status, rid, id ? "ServerCertificateName" :
                "ServerCertificateId");
  else if(at < 0)
    a = failure(status, 404, rid, "ServerCertificateId.NotFound",
                "The specified ServerCertificateId does not exist.");
  else {
    cJSON_ReplaceItemInObjectCaseSensitive(r->certs[at].fields,
                                           "ServerCertificateName",
                                           cJSON_CreateString(name));
    a = answer(rid);
  }
  free(id);
  free(name);
  return a;
}

static cJSON *upload(slb_sim *sim, struct region *r, const slb_params *p,
                     const char *rid, long *status)
{
  char *name = param(p, "ServerCertificateName");
  char id[64];
  cJSON *src, *fields, *a;
  int bad = 0;

  if(slb_params_find(p, "ServerCertificate") < 0 ||
     slb_params_find(p, "PrivateKey") < 0) {
    free(name);
    return missing(status, rid, slb_params_find(p, "PrivateKey") < 0 ?
                   "PrivateKey" : "ServerCertificate");
  }
  snprintf(id, sizeof(id), "%lld_sim_%lu", sim->now_ms, ++sim->uploads);
  src = cJSON_CreateObject();
  cJSON_AddStringToObject(src, "ServerCertificateId", id);
  cJSON_AddStringToObject(src, "ServerCertificateName", name ? name : id);
  cJSON_AddNumberToObject(src, "created_days_ago", 0);
  fields = cert_fields(src, r->name, (double)sim->now_ms, &bad);
  cJSON_Delete(src);
  free(name);
  if(!fields || add_cert(r, fields, 0, 0)) {
    cJSON_Delete(fields);
    return NULL;
  }
  a = cJSON_Duplicate(fields, 1);
  cJSON_AddStringToObject(a, "RequestId", rid);
  return a;
}

static cJSON *regions(const slb_sim *sim, const char *rid)
{
  cJSON *a = answer(rid), *wrap = cJSON_CreateObject();
  cJSON *list = cJSON_CreateArray();
  size_t i;

  for(i = 0; i < sim->count; i++) {
    cJSON *one = cJSON_CreateObject();
    cJSON_AddStringToObject(one, "RegionId", sim->regions[i].name);
    cJSON_AddStringToObject(one, "LocalName", sim->regions[i].name);
    cJSON_AddItemToArray(list, one);
  }
  cJSON_AddItemToObject(wrap, "Region", list);
  cJSON_AddItemToObject(a, "Regions", wrap);
  return a;
}

static cJSON *dispatch(slb_sim *sim, const char *region, const char *action,
                       const slb_params *p, const char *rid, long *status)
{
  struct region *r = find_region(sim, region);
  char message[200];

  if(!strcmp(action, "DescribeRegions"))
    return regions(sim, rid);
  if(!r)
    return failure(status, 400, rid, "InvalidRegionId.NotFound",
                   "The specified RegionId does not exist.");
  if(!strcmp(action, "DescribeServerCertificates"))
    return describe(r, p, rid);
  if(!strcmp(action, "DeleteServerCertificate"))
    return delete_cert(r, p, rid, status);
  if(!strcmp(action, "SetServerCertificateName"))
    return rename_cert(r, p, rid, status);
  if(!strcmp(action, "UploadServerCertificate"))
    return upload(sim, r, p, rid, status);
  snprintf(message, sizeof(message), "The specified action %.64s is not "
           "simulated by slbscript.", action);
  return failure(status, 404, rid, "InvalidAction.NotFound", message);
}

int slb_sim_handle(slb_sim *sim, const char *region, const char *action,
                   const slb_params *params, long *status, slb_buf *body)
{
  char rid[37];
  cJSON *a;
  char *text;

  request_id(rid);
  *status = 200;
  a = dispatch(sim, region, action, params, rid, status);
  text = a ? cJSON_PrintUnformatted(a) : NULL;
  cJSON_Delete(a);
  if(!text)
    return -1;
  slb_buf_adds(body, text);
  free(text);
  return body->failed ? -1 : 0;
}

const char *slb_sim_first_region(const slb_sim *sim)
{
  return sim->count ? sim->regions[0].name : NULL;
}
