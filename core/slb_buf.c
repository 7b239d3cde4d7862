/* slb_buf.c: growable byte buffer with a sticky failure flag. */
#include "slb_buf.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

void slb_buf_init(slb_buf *b)
{
  b->data = NULL;
  b->len = b->cap = 0;
  b->failed = 0;
}

/* Room for n more bytes plus the terminating NUL. */
static int reserve(slb_buf *b, size_t n)
{
  size_t want, cap;
  char *grown;

  if(b->failed)
    return 0;
  if(n > (size_t)-1 / 2 - b->len) {
    b->failed = 1;
    return 0;
  }
  want = b->len + n + 1;
  if(want <= b->cap)
    return 1;
  cap = b->cap ? b->cap : 64;
  while(cap < want)
    cap *= 2;
  grown = realloc(b->data, cap);
  if(!grown) {
    b->failed = 1;
    return 0;
  }
  b->data = grown;
  b->cap = cap;
  return 1;
}

void slb_buf_add(slb_buf *b, const void *bytes, size_t n)
{
  if(!reserve(b, n))
    return;
  if(n)
    memcpy(b->data + b->len, bytes, n);
  b->len += n;
  b->data[b->len] = '\0';
}

char *slb_buf_room(slb_buf *b, size_t n)
{
  return reserve(b, n) ? b->data + b->len : NULL;
}

void slb_buf_commit(slb_buf *b, size_t n)
{
  b->len += n;
  b->data[b->len] = '\0';
}

void slb_buf_adds(slb_buf *b, const char *s)
{
  slb_buf_add(b, s, strlen(s));
}

void slb_buf_addc(slb_buf *b, char c)
{
  slb_buf_add(b, &c, 1);
}

void slb_buf_reset(slb_buf *b)
{
  b->len = 0;
  if(b->data)
    b->data[0] = '\0';
}

const char *slb_buf_cstr(slb_buf *b)
{
  if(!reserve(b, 0))
    return NULL;
  b->data[b->len] = '\0';
  return b->data;
}

void slb_buf_free(slb_buf *b)
{
  free(b->data);
  slb_buf_init(b);
}

void slb_buf_wipe(slb_buf *b)
{
  if(b->data)
    mbedtls_platform_zeroize(b->data, b->cap);
  slb_buf_free(b);
}
