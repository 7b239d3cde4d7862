/* fuzz.h: what the fuzz targets share. A broken invariant aborts, which
 * libFuzzer reports like a crash and saves the input for. */
#ifndef SLB_FUZZ_H
#define SLB_FUZZ_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond)                                                  \
  do {                                                                    \
    if(!(cond)) {                                                         \
      fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__,          \
              __LINE__, #cond);                                           \
      abort();                                                            \
    }                                                                     \
  } while(0)

/* A fixed-size text field holds its terminating NUL. */
#define FUZZ_TERMINATED(field) (memchr((field), '\0', sizeof(field)) != NULL)

/* Messages reach terminals and logs: printable ASCII only. */
static inline int fuzz_printable(const char *s)
{
  for(; *s; s++)
    if((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
      return 0;
  return 1;
}

#endif
