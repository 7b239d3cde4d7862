/* check.h: the few assertion macros the C tests share. Each test program
 * ends with check_summary(), which prints "N passed, N failed" and gives
 * the exit status ctest reads. */
#ifndef SLB_CHECK_H
#define SLB_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond, ...) do {                                           \
    if(cond) check_passed++;                                            \
    else {                                                              \
      check_failed++;                                                   \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);              \
      fprintf(stderr, __VA_ARGS__);                                     \
      fputc('\n', stderr);                                              \
    }                                                                   \
  } while(0)

#define CHECK_STR(got, want, what) do {                                 \
    const char *got_ = (got), *want_ = (want);                          \
    CHECK(got_ && want_ && strcmp(got_, want_) == 0,                    \
          "%s:\n  got  %s\n  want %s", (what), got_ ? got_ : "(null)",  \
          want_ ? want_ : "(null)");                                    \
  } while(0)

static int check_summary(void)
{
  printf("%d passed, %d failed\n", check_passed, check_failed);
  return check_failed || !check_passed ? 1 : 0;
}

#endif
