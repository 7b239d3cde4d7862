/* slb_buf.h: a growable byte buffer whose failure is sticky, so a chain of
 * appends is checked once at the end instead of after every call. */
#ifndef SLB_BUF_H
#define SLB_BUF_H

#include <stddef.h>

typedef struct slb_buf {
  char *data;     /* always NUL-terminated when len > 0 or after cstr */
  size_t len;
  size_t cap;
  int failed;     /* an allocation failed; further appends do nothing */
} slb_buf;

void slb_buf_init(slb_buf *b);
void slb_buf_add(slb_buf *b, const void *bytes, size_t n);
void slb_buf_adds(slb_buf *b, const char *s);
void slb_buf_addc(slb_buf *b, char c);
void slb_buf_reset(slb_buf *b);               /* len = 0, keeps memory */
/* Room for n more bytes, written in place and then kept with
 * slb_buf_commit; NULL when out of memory. */
char *slb_buf_room(slb_buf *b, size_t n);
void slb_buf_commit(slb_buf *b, size_t n);
const char *slb_buf_cstr(slb_buf *b);          /* NULL if failed */
void slb_buf_free(slb_buf *b);
void slb_buf_wipe(slb_buf *b);                 /* zeroes, then frees */

#endif
