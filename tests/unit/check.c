/*
 * check.c - the unit test runner behind check.h.
 */
#include "check.h"

#include <ftw.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

struct check_test *check_tests;
int check_failed;
int check_skipped;
const char *check_skip_why;

static char tmpdir[256];

static int rm_entry(const char *path, const struct stat *sb, int flag,
                    struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static void rm_tmpdir(void) {
  if (tmpdir[0])
    nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *check_tmpdir(void) {
  if (!tmpdir[0]) {
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/tm-test-XXXXXX",
             base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) {
      perror("mkdtemp");
      exit(1);
    }
    atexit(rm_tmpdir);
  }
  return tmpdir;
}

int check_sink_write(void *ctx, const void *b, size_t n) {
  check_sink *k = ctx;

  if (k->fail_after && k->len + n > k->fail_after)
    return 1;
  if (k->len + n + 1 > k->cap) {
    size_t cap = (k->len + n + 1) * 2;
    char *p = realloc(k->p, cap);
    if (!p)
      return 1;
    k->p = p;
    k->cap = cap;
  }
  memcpy(k->p + k->len, b, n);
  k->len += n;
  k->p[k->len] = '\0';
  return 0;
}

const char *check_shared_dir(void) {
  const char *dir = getenv("TM_SHARED_DIR");
  struct stat sb;

  if (!dir || !*dir || stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
    return NULL;
  return dir;
}

static bool selected(const char *name, int argc, char **argv) {
  if (argc < 2)
    return true;
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], name) == 0)
      return true;
  return false;
}

int main(int argc, char **argv) {
  struct check_test *t, *rev = NULL;
  int n = 0, failed = 0, skipped = 0, ran = 0;

  /* Registration prepends; run in the order of the source. */
  while (check_tests) {
    t = check_tests;
    check_tests = t->next;
    t->next = rev;
    rev = t;
  }
  for (t = rev; t; t = t->next)
    if (selected(t->name, argc, argv))
      n++;
  printf("1..%d\n", n);
  for (t = rev; t; t = t->next) {
    int f0 = check_failed, s0 = check_skipped;
    if (!selected(t->name, argc, argv))
      continue;
    ran++;
    t->fn();
    if (check_failed != f0) {
      failed++;
      printf("not ok %d - %s\n", ran, t->name);
    } else if (check_skipped != s0) {
      skipped++;
      printf("ok %d - %s # SKIP %s\n", ran, t->name, check_skip_why);
    } else {
      printf("ok %d - %s\n", ran, t->name);
    }
    fflush(stdout);
  }
  if (failed)
    return 1;
  return ran > 0 && skipped == ran ? 77 : 0;
}
