/*
 * check.h - the unit tests' harness: TEST() registers a function, CHECK()
 * and friends record failures without stopping the test, and main() runs
 * every test (or those named on the command line) and prints TAP.
 * Exit status: 0 all passed, 1 some failed, 77 (meson's "skipped") when
 * every test that ran asked to be skipped.
 */
#ifndef TM_CHECK_H
#define TM_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*check_fn)(void);

struct check_test {
  const char *name;
  check_fn fn;
  struct check_test *next;
};

extern struct check_test *check_tests;
extern int check_failed;
extern int check_skipped;
extern const char *check_skip_why; /* the last SKIP's reason */

#define TEST(name)                                                             \
  static void test_##name(void);                                               \
  static struct check_test check_node_##name = {#name, test_##name, NULL};     \
  __attribute__((constructor)) static void check_register_##name(void) {       \
    check_node_##name.next = check_tests;                                      \
    check_tests = &check_node_##name;                                          \
  }                                                                            \
  static void test_##name(void)

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "# %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__,       \
              #cond);                                                          \
      check_failed++;                                                          \
    }                                                                          \
  } while (0)

#define CHECK_INT(a, b)                                                        \
  do {                                                                         \
    long long check_a_ = (long long)(a), check_b_ = (long long)(b);            \
    if (check_a_ != check_b_) {                                                \
      fprintf(stderr, "# %s:%d: %s == %lld, expected %s == %lld\n", __FILE__,  \
              __LINE__, #a, check_a_, #b, check_b_);                           \
      check_failed++;                                                          \
    }                                                                          \
  } while (0)

#define CHECK_STR(a, b)                                                        \
  do {                                                                         \
    const char *check_a_ = (a), *check_b_ = (b);                               \
    if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_) != 0) {           \
      fprintf(stderr, "# %s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__,    \
              __LINE__, #a, check_a_ ? check_a_ : "(null)",                    \
              check_b_ ? check_b_ : "(null)");                                 \
      check_failed++;                                                          \
    }                                                                          \
  } while (0)

/* Ends the current test as skipped, saying why (a string literal), on
 * its TAP line. */
#define SKIP(why)                                                              \
  do {                                                                         \
    check_skip_why = (why);                                                    \
    check_skipped++;                                                           \
    return;                                                                    \
  } while (0)

/* A growing, NUL-terminated buffer that exports write into (a
 * tm_write_fn); it fails once FAIL_AFTER bytes would be passed, when not
 * 0.  Free P with free(). */
typedef struct check_sink {
  char *p;
  size_t len, cap;
  size_t fail_after;
} check_sink;

int check_sink_write(void *ctx, const void *b, size_t n);

/* The shared reference data folder, or NULL when it is absent. */
const char *check_shared_dir(void);
/* A fresh temporary directory for this test run (removed at exit). */
const char *check_tmpdir(void);

#endif
