/* fuzz_cred.c: one of the two credential file readers on any text, built
 * as fuzz_cli_config (the CLI's config.json) or, with FUZZ_INI, as
 * fuzz_ini (the SDKs' credentials file). */
#include <stdint.h>
#include <string.h>

#include "slb_cred.h"

#include "fuzz.h"

#ifdef FUZZ_INI
#define PARSE slb_cred_parse_ini
#else
#define PARSE slb_cred_parse_cli_config
#endif

/* The seeds name this profile besides the file's default one. */
#define NAMED_PROFILE "prod"

static int blank(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A value as the reader promises it: present, non-empty and trimmed. */
static int trimmed_value(const char *s)
{
  size_t len = s ? strlen(s) : 0;
  return len && !blank(s[0]) && !blank(s[len - 1]);
}

static void check_parse(const char *text, size_t len, const char *profile)
{
  slb_cred out;
  char err[256];
  int rc;

  /* Neither out nor err need hold anything sensible beforehand. */
  memset(&out, 0xA5, sizeof(out));
  memset(err, 0xA5, sizeof(err));
  rc = PARSE(text, len, profile, &out, err, sizeof(err));
  FUZZ_CHECK(rc == 0 || rc == 1 || rc == -1);
  FUZZ_CHECK(FUZZ_TERMINATED(err));
  /* Messages quote names made safe and never a line of the file. */
  FUZZ_CHECK(fuzz_printable(err));

  if(rc) {
    FUZZ_CHECK(err[0]);
    FUZZ_CHECK(!out.access_key_id && !out.access_key_secret);
    FUZZ_CHECK(!out.security_token && !out.region_id && !out.profile);
  }
  else {
    FUZZ_CHECK(trimmed_value(out.access_key_id));
    FUZZ_CHECK(trimmed_value(out.access_key_secret));
    FUZZ_CHECK(!out.security_token || trimmed_value(out.security_token));
    FUZZ_CHECK(!out.region_id || trimmed_value(out.region_id));
    FUZZ_CHECK(trimmed_value(out.profile));
    FUZZ_CHECK(!profile || !strcmp(out.profile, profile));
    FUZZ_CHECK(FUZZ_TERMINATED(out.source));
  }
  slb_cred_clear(&out);
  FUZZ_CHECK(!out.access_key_id && !out.access_key_secret &&
             !out.profile);
  slb_cred_clear(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  check_parse((const char *)data, size, NULL);
  check_parse((const char *)data, size, NAMED_PROFILE);
  return 0;
}
