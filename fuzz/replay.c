/*
 * replay.c - a fuzz target without libFuzzer: runs each file it is given
 * (or each file of each folder, in name order) through
 * LLVMFuzzerTestOneInput, once, and prints TAP, one case per file.  Every
 * build, gcc's too, replays the seeds and the regressions this way.  An
 * input that breaks a target aborts the program (the target's own check,
 * or a sanitizer), and the test fails with the file's name on stderr.
 *
 * usage: replay_TARGET PATH...   (a missing folder is noted and skipped)
 */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Only some targets need to set up before their first input. */
#pragma weak LLVMFuzzerInitialize

static int ran;

static void run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  struct fz_buf b = {0};
  char chunk[65536];
  uint8_t *copy;
  size_t n, len;

  if (!f)
    fz_fail("%s: %s", path, strerror(errno));
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
    fz_buf_add(&b, chunk, n);
  if (ferror(f))
    fz_fail("%s: read error", path);
  fclose(f);
  /* A copy of the input's exact size, as libFuzzer gives it, so that the
   * sanitizers see a read past its end. */
  len = b.len;
  if (!(copy = malloc(len ? len : 1)))
    fz_fail("out of memory");
  if (len)
    memcpy(copy, b.p, len);
  fz_buf_free(&b);
  fprintf(stderr, "# %s\n", path);
  LLVMFuzzerTestOneInput(copy, len);
  free(copy);
  printf("ok %d - %s\n", ++ran, path);
  fflush(stdout);
}

static int visible(const struct dirent *d) {
  return d->d_name[0] != '.';
}

static void run_path(const char *path) {
  struct dirent **names;
  struct stat sb;
  int n;

  if (stat(path, &sb) != 0) {
    printf("# %s: %s, skipped\n", path, strerror(errno));
    return;
  }
  if (!S_ISDIR(sb.st_mode)) {
    run_file(path);
    return;
  }
  if ((n = scandir(path, &names, visible, alphasort)) < 0)
    fz_fail("%s: %s", path, strerror(errno));
  for (int i = 0; i < n; i++) {
    char file[4096];
    struct stat fs;
    snprintf(file, sizeof file, "%s/%s", path, names[i]->d_name);
    if (stat(file, &fs) == 0 && S_ISREG(fs.st_mode))
      run_file(file);
    free(names[i]);
  }
  free(names);
}

int main(int argc, char **argv) {
  if (LLVMFuzzerInitialize)
    LLVMFuzzerInitialize(&argc, &argv);
  for (int i = 1; i < argc; i++)
    run_path(argv[i]);
  if (ran == 0) {
    printf("1..0 # SKIP no inputs\n");
    return 77;
  }
  printf("1..%d\n", ran);
  return 0;
}
