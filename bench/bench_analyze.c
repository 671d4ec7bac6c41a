/*
 * bench_analyze.c - analyses a 10,000-word English document against the
 * shipped glossaries and the full corpus memory, and prints the median of
 * several runs (target: under 1 s).
 *
 *   build/bench/bench_analyze [DB] [RUNS]
 *
 * Without DB, a database is made in a temporary folder: the shipped
 * glossaries (tm_db_open seeds them) and the corpus
 * $TM_SHARED_DIR/data/corpus/en-ko-uk.tmx (or ../shared/...) imported
 * into the memory "corpus".  An existing DB is used as it is.  The
 * document is the seed documents ($TM_SHARED_DIR/seeds, every .txt)
 * concatenated in turn until it has 10,000 words (split at white space).  Each
 * run is one tm_analyze call with the index built beforehand, as the server
 * holds it; a second series analyses without the index (no sentence
 * matching), which shows what the rest costs.
 */
#include "tm.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define WORDS 10000

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  long n;

  if (!f)
    return NULL;
  if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
      fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) &&
      fread(buf, 1, (size_t)n, f) == (size_t)n) {
    buf[n] = '\0';
    *len = (size_t)n;
  } else {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  return buf;
}

/* The seed documents, concatenated in turn up to WORDS words. */
static char *document(const char *shared, size_t *len, size_t *nwords) {
  char dir[1024], path[1400], *names[64], *doc = NULL;
  size_t nn = 0, cap = 0, n = 0, words = 0;
  DIR *d;
  struct dirent *e;

  snprintf(dir, sizeof dir, "%s/seeds", shared);
  if (!(d = opendir(dir)))
    return NULL;
  while ((e = readdir(d)) && nn < 64) {
    size_t l = strlen(e->d_name);
    if (l > 4 && strcmp(e->d_name + l - 4, ".txt") == 0)
      names[nn++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, nn, sizeof *names, cmp_str);
  for (size_t r = 0; nn && words < WORDS; r++) {
    size_t flen, i = 0;
    char *f;
    snprintf(path, sizeof path, "%s/%s", dir, names[r % nn]);
    if (!(f = slurp(path, &flen)))
      break;
    if (n + flen + 2 > cap) {
      cap = (n + flen + 2) * 2;
      doc = realloc(doc, cap);
    }
    /* Copy up to the word that makes WORDS. */
    while (i < flen && words < WORDS) {
      while (i < flen && strchr(" \t\r\n", f[i]))
        doc[n++] = f[i++];
      if (i < flen)
        words++;
      while (i < flen && !strchr(" \t\r\n", f[i]))
        doc[n++] = f[i++];
    }
    doc[n++] = '\n';
    free(f);
  }
  for (size_t i = 0; i < nn; i++)
    free(names[i]);
  if (doc)
    doc[n] = '\0';
  *len = n;
  *nwords = words;
  return doc;
}

static double run_series(tm_index *idx, tm_db *db, const char *doc, size_t len,
                         int runs, tm_analysis **last) {
  const char *to[] = {"ko", "uk"};
  tm_analyze_opts o = {0};
  double *t = calloc((size_t)runs, sizeof *t), med;

  o.lang = "en";
  o.to = to;
  o.nto = 2;
  for (int r = 0; r < runs; r++) {
    tm_analysis *a = NULL;
    double t0 = now();
    if (tm_analyze(idx, db, doc, len, &o, &a) != TM_OK) {
      fprintf(stderr, "analyze: %s\n", tm_db_errmsg(db));
      exit(1);
    }
    t[r] = now() - t0;
    if (r == runs - 1 && last)
      *last = a;
    else
      tm_analysis_free(a);
  }
  qsort(t, (size_t)runs, sizeof *t, cmp_double);
  med = t[runs / 2];
  printf("  runs:");
  for (int r = 0; r < runs; r++)
    printf(" %.3f", t[r]);
  printf(" s\n");
  free(t);
  return med;
}

int main(int argc, char **argv) {
  const char *shared = getenv("TM_SHARED_DIR");
  const char *db_arg = argc > 1 ? argv[1] : NULL;
  int runs = argc > 2 ? atoi(argv[2]) : 5;
  char tmx[1100], dir[] = "/tmp/tm-bench-analyze-XXXXXX", db_path[1100];
  char *doc;
  size_t len, words, covered = 0, distinct = 0;
  tm_db *db = NULL;
  tm_index *idx = NULL;
  tm_analysis *a = NULL;
  double t0, med, med_plain;
  struct stat sb;

  if (!shared || !*shared)
    shared = "../shared";
  if (runs < 1)
    runs = 5;
  if (!(doc = document(shared, &len, &words))) {
    fprintf(stderr, "bench_analyze: no seed documents in %s/seeds\n", shared);
    return 2;
  }
  if (db_arg && stat(db_arg, &sb) == 0) {
    snprintf(db_path, sizeof db_path, "%s", db_arg);
    if (tm_db_open(db_path, TM_OPEN_NOCREATE, &db) != TM_OK) {
      fprintf(stderr, "open: %s\n", db ? tm_db_errmsg(db) : db_path);
      return 1;
    }
  } else {
    tm_import_opts o = {0};
    tm_import_result res;
    if (db_arg)
      snprintf(db_path, sizeof db_path, "%s", db_arg);
    else if (!mkdtemp(dir))
      return 2;
    else
      snprintf(db_path, sizeof db_path, "%s/bench.sqlite", dir);
    snprintf(tmx, sizeof tmx, "%s/data/corpus/en-ko-uk.tmx", shared);
    if (tm_db_open(db_path, 0, &db) != TM_OK) {
      fprintf(stderr, "open: %s\n", db ? tm_db_errmsg(db) : db_path);
      return 1;
    }
    o.collection = "corpus";
    t0 = now();
    if (tm_import_file(db, tmx, &o, &res) != TM_OK) {
      fprintf(stderr, "import: %s\n", tm_db_errmsg(db));
      return 1;
    }
    printf("imported %llu units from %s in %.1f s\n",
           (unsigned long long)res.records, tmx, now() - t0);
  }
  t0 = now();
  if (tm_index_open(db, &idx) != TM_OK) {
    fprintf(stderr, "index: %s\n", tm_db_errmsg(db));
    return 1;
  }
  printf("index built in %.2f s\n", now() - t0);
  printf("document: %zu words, %zu bytes (seed documents in turn)\n", words,
         len);

  printf("analysis with sentence matching:\n");
  med = run_series(idx, db, doc, len, runs, &a);
  for (size_t i = 0; i < a->nsentences; i++) {
    bool seen = false;
    covered += a->sentences[i].match != NULL;
    for (size_t k = 0; k < i && !seen; k++)
      seen = strcmp(a->sentences[k].text, a->sentences[i].text) == 0;
    distinct += !seen;
  }
  printf("  %zu words, %zu sentences (%zu distinct, each looked up once), "
         "%zu matched >= 70; %zu glossary terms; %zu candidates\n",
         a->words, a->nsentences, distinct, covered, a->nterms, a->ncandidates);
  printf("analysis without the index (terms, sentences, candidates):\n");
  med_plain = run_series(NULL, db, doc, len, runs, NULL);
  printf("median: %.3f s with matching (target < 1 s), %.3f s without; "
         "%.2f ms per distinct sentence matched\n",
         med, med_plain,
         distinct ? (med - med_plain) * 1000.0 / (double)distinct : 0.0);
  tm_analysis_free(a);
  tm_index_close(idx);
  tm_db_close(db);
  if (!db_arg) {
    char wal[1200], shm[1200];
    snprintf(wal, sizeof wal, "%s-wal", db_path);
    snprintf(shm, sizeof shm, "%s-shm", db_path);
    unlink(db_path);
    unlink(wal);
    unlink(shm);
    rmdir(dir);
  }
  free(doc);
  return 0;
}
