/*
 * bench_import.c - imports the shared corpus into a new database several
 * times and prints the median throughput and the database's size against
 * the input file's.
 *
 *   build/bench/bench_import [FILE] [RUNS]
 *
 * FILE defaults to $TM_SHARED_DIR/data/corpus/en-ko-uk.tmx (or
 * ../shared/...); RUNS to 5.  Each run starts from an empty database in a
 * temporary folder and includes the commit.
 */
#include "tm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static long long file_size(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
}

int main(int argc, char **argv) {
  char def[1024], dir[] = "/tmp/tm-bench-XXXXXX", db_path[1100];
  const char *shared = getenv("TM_SHARED_DIR");
  const char *file = argc > 1 ? argv[1] : NULL;
  int runs = argc > 2 ? atoi(argv[2]) : 5;
  double *times;
  unsigned long long units = 0;
  long long in_size, db_size = 0;

  if (!file) {
    snprintf(def, sizeof def, "%s/data/corpus/en-ko-uk.tmx",
             shared && *shared ? shared : "../shared");
    file = def;
  }
  if ((in_size = file_size(file)) < 0) {
    fprintf(stderr, "bench_import: %s: no such file\n", file);
    return 2;
  }
  if (runs < 1 || !(times = calloc((size_t)runs, sizeof *times)) ||
      !mkdtemp(dir))
    return 2;
  snprintf(db_path, sizeof db_path, "%s/bench.sqlite", dir);
  printf("input: %s (%.1f MB), %d runs\n", file, in_size / 1e6, runs);
  for (int r = 0; r < runs; r++) {
    tm_db *db = NULL;
    tm_import_opts o = {.collection = "corpus"};
    tm_import_result res;
    char wal[1200], shm[1200];
    double t0;

    snprintf(wal, sizeof wal, "%s-wal", db_path);
    snprintf(shm, sizeof shm, "%s-shm", db_path);
    unlink(db_path);
    unlink(wal);
    unlink(shm);
    if (tm_db_open(db_path, TM_OPEN_NOSEED, &db) != TM_OK) {
      fprintf(stderr, "open: %s\n", tm_db_errmsg(db));
      return 1;
    }
    t0 = now();
    if (tm_import_file(db, file, &o, &res) != TM_OK) {
      fprintf(stderr, "import: %s\n", tm_db_errmsg(db));
      return 1;
    }
    times[r] = now() - t0;
    units = res.records;
    tm_db_close(db); /* checkpoints the WAL into the file */
    db_size = file_size(db_path);
    printf("run %d: %llu units in %.3f s = %.0f units/s\n", r + 1, units,
           times[r], units / times[r]);
  }
  qsort(times, (size_t)runs, sizeof *times, cmp_double);
  printf("median: %.3f s = %.0f units/s (target >= 100000)\n", times[runs / 2],
         units / times[runs / 2]);
  printf("database: %.1f MB = %.2f x the input (target <= 3)\n", db_size / 1e6,
         (double)db_size / (double)in_size);
  unlink(db_path);
  rmdir(dir);
  free(times);
  return 0;
}
