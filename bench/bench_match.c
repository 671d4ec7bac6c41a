/*
 * bench_match.c - fuzzy matching on the full EN-KO-UK corpus, in process,
 * one thread, against the naive approach a user would otherwise build
 * (SQLite FTS5 trigram candidates re-ranked by the same score).
 *
 *   bench_match [CORPUS.tsv] [--db PATH] [--n N] [--baseline N]
 *               [--lang en|ko|uk]
 *
 * CORPUS defaults to $TM_SHARED_DIR/data/corpus/en-ko-uk.tsv, else
 * ../shared/data/corpus/en-ko-uk.tsv beside the source tree.  The corpus
 * is imported into a temporary database (or into --db PATH, kept and
 * reused by later runs).  Queries are derived from the corpus with a fixed
 * seed: N per kind and language (default 1000) of a word deleted,
 * inserted, two adjacent words swapped, a digit changed, a word's case
 * changed, the exact segment, and a sequence of random words (no match).
 * The baseline runs on a subsample of the edited queries (default 100 per
 * language).
 *
 * Recall: an edited query whose similarity to its original is at least 70
 * (the library's own score) is recalled when the top match is the
 * original or scores at least as high as the original does.
 */
#include "match_internal.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unicode/uchar.h>
#include <unistd.h>

#ifndef TM_SOURCE_ROOT
#define TM_SOURCE_ROOT "."
#endif

enum { EN, KO, UK, NLANG };
static const char *const lang_tags[NLANG] = {"en", "ko", "uk"};

enum { K_DEL, K_INS, K_SWAP, K_NUM, K_CASE, K_EXACT, K_NONE, NKIND };
static const char *const kind_names[NKIND] = {
    "delete", "insert", "swap", "number", "case", "exact", "no-match"};

typedef struct row {
  char *t[NLANG];
} row;

typedef struct query {
  int lang, kind;
  size_t row;
  char *text;
  int sim; /* score of the original for this query */
  double ms, cpu_ms;
  int top_score;
  int64_t top_unit;
  size_t n;
} query;

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng(void) {
  uint64_t x = rng_state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  rng_state = x;
  return x * 0x2545F4914F6CDD1Dull;
}

static size_t rnd(size_t n) {
  return n ? (size_t)(rng() % n) : 0;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long status_kb(const char *field) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long v = -1;
  size_t n = strlen(field);

  if (!f)
    return -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, field, n) == 0 && line[n] == ':')
      v = strtol(line + n + 1, NULL, 10);
  fclose(f);
  return v;
}

/* ------------------------------------------------------------- corpus */

static char *unescape(const char *s, size_t n) {
  char *o = malloc(n + 1);
  size_t k = 0;

  if (!o)
    exit(1);
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '\\' && i + 1 < n) {
      char c = s[++i];
      o[k++] = c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : c;
    } else {
      o[k++] = s[i];
    }
  }
  o[k] = '\0';
  return o;
}

static row *load_corpus(const char *path, size_t *nrows) {
  FILE *f = fopen(path, "r");
  char *line = NULL;
  size_t cap = 0, n = 0, rcap = 0;
  ssize_t len;
  row *rows = NULL;
  bool header = true;

  if (!f) {
    perror(path);
    exit(1);
  }
  while ((len = getline(&line, &cap, f)) > 0) {
    char *p = line, *tab;
    if (line[len - 1] == '\n')
      line[--len] = '\0';
    if (header) {
      header = false;
      continue;
    }
    if (n == rcap) {
      rcap = rcap ? rcap * 2 : 1024;
      if (!(rows = realloc(rows, rcap * sizeof *rows)))
        exit(1);
    }
    for (int l = 0; l < NLANG; l++) {
      tab = strchr(p, '\t');
      size_t fl = tab ? (size_t)(tab - p) : strlen(p);
      rows[n].t[l] = unescape(p, fl);
      p = tab ? tab + 1 : p + fl;
    }
    n++;
  }
  free(line);
  fclose(f);
  *nrows = n;
  return rows;
}

/* ----------------------------------------------------------- queries */

/* Splits S at spaces: word starts and lengths (into fixed arrays). */
static size_t split(const char *s, size_t *st, size_t *ln, size_t max) {
  size_t n = 0, i = 0, len = strlen(s);

  while (i < len && n < max) {
    while (i < len && s[i] == ' ')
      i++;
    if (i >= len)
      break;
    st[n] = i;
    while (i < len && s[i] != ' ')
      i++;
    ln[n] = i - st[n];
    n++;
  }
  return n;
}

static char *join(const char *s, const size_t *st, const size_t *ln,
                  const size_t *order, size_t n, const char *extra, size_t at) {
  size_t cap = strlen(s) + (extra ? strlen(extra) : 0) + n + 4, k = 0;
  char *o = malloc(cap);

  if (!o)
    exit(1);
  for (size_t i = 0; i <= n; i++) {
    if (extra && i == at) {
      if (k)
        o[k++] = ' ';
      memcpy(o + k, extra, strlen(extra));
      k += strlen(extra);
    }
    if (i == n)
      break;
    if (k)
      o[k++] = ' ';
    memcpy(o + k, s + st[order[i]], ln[order[i]]);
    k += ln[order[i]];
  }
  o[k] = '\0';
  return o;
}

/* A random word of a random segment in LANG. */
static char *random_word(const row *rows, size_t nrows, int lang) {
  size_t st[64], ln[64];
  for (;;) {
    const char *s = rows[rnd(nrows)].t[lang];
    size_t n = split(s, st, ln, 64);
    if (n) {
      size_t w = rnd(n);
      char *o = malloc(ln[w] + 1);
      memcpy(o, s + st[w], ln[w]);
      o[ln[w]] = '\0';
      return o;
    }
  }
}

/* Toggles the case of the first cased letter of a random word. */
static char *toggle_case(const char *s) {
  size_t len = strlen(s), i = 0, starts[256], n = 0;
  char *o;

  while (i < len && n < 256) {
    size_t b = i;
    uint32_t c = tm__utf8_next(s, &i);
    if ((u_isupper((UChar32)c) || u_islower((UChar32)c)) &&
        (b == 0 || s[b - 1] == ' '))
      starts[n++] = b;
  }
  if (!n)
    return NULL;
  o = malloc(len + 8);
  {
    size_t b = starts[rnd(n)], j = b, k;
    uint32_t c = tm__utf8_next(s, &j), d;
    d = u_isupper((UChar32)c) ? (uint32_t)u_tolower((UChar32)c)
                              : (uint32_t)u_toupper((UChar32)c);
    memcpy(o, s, b);
    k = b + tm__utf8_put(o + b, d);
    memcpy(o + k, s + j, len - j);
    o[k + len - j] = '\0';
  }
  return o;
}

static char *change_digit(const char *s) {
  size_t len = strlen(s), pos[256], n = 0;
  char *o;

  for (size_t i = 0; i < len && n < 256; i++)
    if (s[i] >= '0' && s[i] <= '9')
      pos[n++] = i;
  if (!n)
    return NULL;
  o = strdup(s);
  {
    size_t p = pos[rnd(n)];
    o[p] = (char)('0' + (o[p] - '0' + 1 + rnd(9)) % 10);
  }
  return o;
}

static char *derive(const row *rows, size_t nrows, int lang, int kind,
                    size_t *r) {
  size_t st[256], ln[256], order[256];

  for (int tries = 0; tries < 10000; tries++) {
    const char *s;
    size_t n;
    *r = rnd(nrows);
    s = rows[*r].t[lang];
    if (strlen(s) > 2000)
      continue;
    n = split(s, st, ln, 256);
    if (n == 256 || n == 0)
      continue;
    for (size_t i = 0; i < n; i++)
      order[i] = i;
    switch (kind) {
    case K_DEL: {
      size_t w;
      if (n < 2)
        continue;
      w = rnd(n);
      memmove(order + w, order + w + 1, (n - w - 1) * sizeof *order);
      return join(s, st, ln, order, n - 1, NULL, 0);
    }
    case K_INS: {
      char *w = random_word(rows, nrows, lang), *o;
      o = join(s, st, ln, order, n, w, rnd(n + 1));
      free(w);
      return o;
    }
    case K_SWAP: {
      size_t w, t;
      if (n < 2)
        continue;
      w = rnd(n - 1);
      if (ln[w] == ln[w + 1] && memcmp(s + st[w], s + st[w + 1], ln[w]) == 0)
        continue;
      t = order[w];
      order[w] = order[w + 1];
      order[w + 1] = t;
      return join(s, st, ln, order, n, NULL, 0);
    }
    case K_NUM: {
      char *o = change_digit(s);
      if (o)
        return o;
      continue;
    }
    case K_CASE: {
      char *o = toggle_case(s);
      if (o)
        return o;
      continue;
    }
    case K_EXACT:
      return strdup(s);
    case K_NONE: {
      size_t k = 5 + rnd(6), cap = 0, used = 0;
      char *o = NULL;
      for (size_t i = 0; i < k; i++) {
        char *w = random_word(rows, nrows, lang);
        size_t wl = strlen(w);
        if (used + wl + 2 > cap) {
          cap = (used + wl + 2) * 2;
          o = realloc(o, cap);
        }
        if (used)
          o[used++] = ' ';
        memcpy(o + used, w, wl);
        used += wl;
        o[used] = '\0';
        free(w);
      }
      return o;
    }
    }
  }
  return NULL;
}

/* ------------------------------------------------------------ baseline */

static sqlite3 *fts_build(const row *rows, size_t nrows, double *secs) {
  sqlite3 *db;
  sqlite3_stmt *st;
  double t0 = now();
  char sql[256];

  if (sqlite3_open(":memory:", &db) != SQLITE_OK)
    exit(1);
  for (int l = 0; l < NLANG; l++) {
    snprintf(sql, sizeof sql,
             "CREATE VIRTUAL TABLE f_%s USING fts5(t, tokenize='trigram')",
             lang_tags[l]);
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
      fprintf(stderr, "fts5: %s\n", sqlite3_errmsg(db));
      exit(1);
    }
  }
  sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
  for (int l = 0; l < NLANG; l++) {
    snprintf(sql, sizeof sql, "INSERT INTO f_%s(rowid, t) VALUES(?1, ?2)",
             lang_tags[l]);
    sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    for (size_t i = 0; i < nrows; i++) {
      sqlite3_bind_int64(st, 1, (sqlite3_int64)i + 1);
      sqlite3_bind_text(st, 2, rows[i].t[l], -1, SQLITE_STATIC);
      sqlite3_step(st);
      sqlite3_reset(st);
    }
    sqlite3_finalize(st);
  }
  sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  *secs = now() - t0;
  return db;
}

/* The OR of the query's distinct trigrams, as FTS5 query text. */
static char *fts_query(const char *q) {
  size_t len = strlen(q), cap = len * 12 + 16, k = 0, n = 0;
  size_t *cp = malloc((len + 1) * sizeof *cp);
  char *o = malloc(cap);
  size_t i = 0;

  while (i < len) {
    cp[n++] = i;
    tm__utf8_next(q, &i);
  }
  cp[n] = len;
  for (size_t j = 0; j + 3 <= n; j++) {
    const char *g = q + cp[j];
    size_t gl = cp[j + 3] - cp[j];
    bool dup = false;
    for (size_t p = 0; p < j && !dup; p++)
      dup = cp[p + 3] - cp[p] == gl && memcmp(q + cp[p], g, gl) == 0;
    if (dup)
      continue;
    if (k + gl * 2 + 8 > cap) {
      cap = (k + gl * 2 + 8) * 2;
      o = realloc(o, cap);
    }
    if (k) {
      memcpy(o + k, " OR ", 4);
      k += 4;
    }
    o[k++] = '"';
    for (size_t c = 0; c < gl; c++) {
      if (g[c] == '"')
        o[k++] = '"';
      o[k++] = g[c];
    }
    o[k++] = '"';
  }
  o[k] = '\0';
  free(cp);
  return o;
}

/* The baseline's top unit and score for Q. */
static void fts_match(sqlite3 *db, tm_text *text, int lang, const char *q,
                      int64_t *unit, int *score) {
  char sql[256], *m = fts_query(q);
  sqlite3_stmt *st;

  *unit = 0;
  *score = -1;
  snprintf(sql, sizeof sql,
           "SELECT rowid, t FROM f_%s WHERE f_%s MATCH ?1 ORDER BY "
           "bm25(f_%s) LIMIT 50",
           lang_tags[lang], lang_tags[lang], lang_tags[lang]);
  if (*m && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text(st, 1, m, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
      int s;
      tm__match_score(text, q, (const char *)sqlite3_column_text(st, 1), &s);
      if (s > *score) {
        *score = s;
        *unit = sqlite3_column_int64(st, 0);
      }
    }
    sqlite3_finalize(st);
  }
  free(m);
}

/* ---------------------------------------------------------------- main */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p) {
  if (!n)
    return 0;
  qsort(v, n, sizeof *v, cmp_double);
  return v[(size_t)(p * (double)(n - 1) + 0.5)];
}

static bool file_exists(const char *p) {
  struct stat sb;
  return stat(p, &sb) == 0;
}

int main(int argc, char **argv) {
  const char *corpus = NULL, *dbpath = NULL;
  char defpath[4096], tmpdb[4096] = "";
  size_t per = 1000, nbase = 100, nrows, nq = 0;
  row *rows;
  tm_db *db;
  tm_index *idx;
  tm_text *text;
  query *qs;
  double t0, t1;
  long rss0, rss1;
  bool fresh;
  int only = -1;

  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
      dbpath = argv[++i];
    else if (strcmp(argv[i], "--n") == 0 && i + 1 < argc)
      per = (size_t)atol(argv[++i]);
    else if (strcmp(argv[i], "--baseline") == 0 && i + 1 < argc)
      nbase = (size_t)atol(argv[++i]);
    else if (strcmp(argv[i], "--lang") == 0 && i + 1 < argc) {
      const char *l = argv[++i];
      only = strcmp(l, "en") == 0 ? EN : strcmp(l, "ko") == 0 ? KO : UK;
    } else if (argv[i][0] != '-')
      corpus = argv[i];
    else {
      fprintf(stderr, "usage: bench_match [CORPUS.tsv] [--db PATH] [--n N] "
                      "[--baseline N]\n");
      return 2;
    }
  }
  if (!corpus) {
    const char *sd = getenv("TM_SHARED_DIR");
    snprintf(defpath, sizeof defpath, "%s/data/corpus/en-ko-uk.tsv",
             sd && *sd ? sd : TM_SOURCE_ROOT "/../shared");
    corpus = defpath;
  }
  if (!dbpath) {
    const char *td = getenv("TMPDIR");
    snprintf(tmpdb, sizeof tmpdb, "%s/bench_match_%d.sqlite",
             td && *td ? td : "/tmp", (int)getpid());
    dbpath = tmpdb;
  }
  rows = load_corpus(corpus, &nrows);
  printf("corpus: %s, %zu segments\n", corpus, nrows);

  fresh = !file_exists(dbpath);
  if (tm_db_open(dbpath, TM_OPEN_NOSEED, &db) != TM_OK) {
    fprintf(stderr, "open %s: %s\n", dbpath, db ? tm_db_errmsg(db) : "");
    return 1;
  }
  if (fresh) {
    tm_import_opts io = {
        .format = TM_FORMAT_TSV, .kind = TM_MEMORY, .collection = "corpus"};
    tm_import_result res = {0};
    t0 = now();
    if (tm_import_file(db, corpus, &io, &res) != TM_OK) {
      fprintf(stderr, "import: %s\n", tm_db_errmsg(db));
      return 1;
    }
    printf("import: %llu units in %.1f s\n", (unsigned long long)res.records,
           now() - t0);
  }

  rss0 = status_kb("VmRSS");
  t0 = now();
  if (tm_index_open(db, &idx) != TM_OK) {
    fprintf(stderr, "index: %s\n", tm_db_errmsg(db));
    return 1;
  }
  t1 = now();
  rss1 = status_kb("VmRSS");
  printf("index build: %.2f s, index memory %.0f MiB (RSS %.0f -> %.0f MiB, "
         "peak %.0f MiB)\n",
         t1 - t0, (double)(rss1 - rss0) / 1024, (double)rss0 / 1024,
         (double)rss1 / 1024, (double)status_kb("VmHWM") / 1024);
  tm_db_attach_index(db, idx);
  tm_text_open(&text);

  /* Queries. */
  qs = calloc((size_t)NLANG * NKIND * per, sizeof *qs);
  for (int l = 0; l < NLANG; l++)
    for (int k = 0; k < NKIND; k++)
      for (size_t i = 0; i < per && (only < 0 || only == l); i++) {
        query *q = &qs[nq];
        char *nfc;
        q->lang = l;
        q->kind = k;
        if (!(q->text = derive(rows, nrows, l, k, &q->row)))
          continue;
        if (tm_text_nfc(text, q->text, strlen(q->text), &nfc, NULL) != TM_OK) {
          free(q->text);
          continue;
        }
        free(q->text);
        q->text = nfc;
        tm__match_score(text, q->text, rows[q->row].t[l], &q->sim);
        nq++;
      }

  /* The library, one thread. */
  for (size_t i = 0; i < nq; i++) {
    query *q = &qs[i];
    const char *to[2];
    tm_match_opts mo = {.from = lang_tags[q->lang], .to = to, .nto = 2};
    tm_match *m = NULL;
    size_t n = 0;
    for (int l = 0, k = 0; l < NLANG; l++)
      if (l != q->lang)
        to[k++] = lang_tags[l];
    double c0 = cpu_now();
    t0 = now();
    if (tm_match_find(idx, db, q->text, &mo, &m, &n) != TM_OK) {
      fprintf(stderr, "match: %s\n", tm_db_errmsg(db));
      return 1;
    }
    q->ms = (now() - t0) * 1000;
    q->cpu_ms = (cpu_now() - c0) * 1000;
    q->n = n;
    q->top_score = n ? m[0].score : -1;
    q->top_unit = n ? m[0].unit : 0;
    tm_match_free(m, n);
  }

  printf("\nfuzzy match, one thread, %zu queries (%zu per kind and "
         "language)\n",
         nq, per);
  printf("lang     p50 ms   p90 ms   p99 ms   max ms  (cpu p50   p99)  "
         "recall>=70   exact=100  no-match<70\n");
  for (int l = 0; l < NLANG; l++) {
    double *lat = malloc(nq * sizeof *lat), mx = 0;
    double *cpu = malloc(nq * sizeof *cpu);
    size_t n = 0, ed = 0, rec = 0, ex = 0, exok = 0, nm = 0, nmok = 0;
    for (size_t i = 0; i < nq; i++) {
      const query *q = &qs[i];
      if (q->lang != l)
        continue;
      cpu[n] = q->cpu_ms;
      lat[n++] = q->ms;
      if (q->ms > mx)
        mx = q->ms;
      if (q->kind <= K_CASE && q->sim >= 70) {
        ed++;
        rec += q->n &&
               (q->top_unit == (int64_t)q->row + 1 || q->top_score >= q->sim);
      } else if (q->kind == K_EXACT) {
        ex++;
        exok += q->n && q->top_score == 100;
      } else if (q->kind == K_NONE) {
        nm++;
        nmok += q->n == 0;
      }
    }
    printf("%-4s %9.3f %8.3f %8.3f %8.2f  (%6.3f %6.3f)  %6.2f%% of %zu  "
           "%6.2f%%  %6.2f%%\n",
           lang_tags[l], pct(lat, n, 0.5), pct(lat, n, 0.9), pct(lat, n, 0.99),
           mx, pct(cpu, n, 0.5), pct(cpu, n, 0.99),
           ed ? 100.0 * (double)rec / (double)ed : 0, ed,
           ex ? 100.0 * (double)exok / (double)ex : 0,
           nm ? 100.0 * (double)nmok / (double)nm : 0);
    free(lat);
    free(cpu);
  }
  printf("\nrecall by kind (queries with similarity >= 70 / recalled)\n");
  for (int l = 0; l < NLANG; l++) {
    printf("%-4s", lang_tags[l]);
    for (int k = 0; k <= K_CASE; k++) {
      size_t ed = 0, rec = 0;
      for (size_t i = 0; i < nq; i++) {
        const query *q = &qs[i];
        if (q->lang != l || q->kind != k || q->sim < 70)
          continue;
        ed++;
        rec += q->n &&
               (q->top_unit == (int64_t)q->row + 1 || q->top_score >= q->sim);
      }
      printf("  %s %zu/%zu", kind_names[k], rec, ed);
    }
    printf("\n");
  }
  if (getenv("BENCH_MISSES")) {
    for (size_t i = 0; i < nq; i++) {
      const query *q = &qs[i];
      if (q->kind <= K_CASE && q->sim >= 70 &&
          !(q->n &&
            (q->top_unit == (int64_t)q->row + 1 || q->top_score >= q->sim)))
        printf("miss %s %s sim %d top %d: [%s] orig [%s]\n", lang_tags[q->lang],
               kind_names[q->kind], q->sim, q->top_score, q->text,
               rows[q->row].t[q->lang]);
      if (q->kind == K_EXACT && !(q->n && q->top_score == 100))
        printf("exact miss %s top %d: [%s]\n", lang_tags[q->lang], q->top_score,
               q->text);
      if (q->kind == K_NONE && q->n)
        printf("no-match hit %s top %d: [%s]\n", lang_tags[q->lang],
               q->top_score, q->text);
    }
  }

  /* Contributions with the index attached: the write, then the index
   * update (prepared outside its lock, appended under it). */
  {
    double total = 0;
    for (int i = 0; i < 200; i++) {
      tm_unit u = {0};
      char en[96], uk[96];
      int64_t id;
      /* new text on every run, so that a reused database has no copy */
      snprintf(en, sizeof en, "Benchmark contribution %d of run %lld", i,
               (long long)time(NULL));
      snprintf(uk, sizeof uk, "Внесок %d запуску %lld", i,
               (long long)time(NULL));
      tm_unit_set(&u, "en", en);
      tm_unit_set(&u, "uk", uk);
      t0 = now();
      if (tm_unit_add(db, "corpus", &u, NULL, &id, NULL) != TM_OK) {
        fprintf(stderr, "add: %s\n", tm_db_errmsg(db));
        return 1;
      }
      total += now() - t0;
      tm__unit_clear(&u);
    }
    printf("\na unit added with the index attached: %.3f ms (write and "
           "index update, mean of 200)\n",
           total / 200 * 1000);
  }

  /* The baseline, on a subsample of the edited queries. */
  if (nbase) {
    double secs;
    sqlite3 *fts = fts_build(rows, nrows, &secs);
    printf("\nbaseline: FTS5 trigram index of the same text built in %.1f s;"
           " OR of the query's trigrams, top 50 by bm25, re-ranked by the "
           "same score\n",
           secs);
    printf("lang  queries  base p50 ms  base recall  lib p50 ms  lib recall "
           "  speed-up\n");
    for (int l = 0; l < NLANG; l++) {
      double *bl = malloc(nbase * sizeof *bl), *ll = malloc(nbase * sizeof *ll);
      size_t n = 0, brec = 0, lrec = 0, seen = 0;
      for (size_t i = 0; i < nq && n < nbase; i++) {
        query *q = &qs[i];
        int64_t unit;
        int score;
        if (q->lang != l || q->kind > K_CASE || q->sim < 70)
          continue;
        /* every 5th edited query, spread over the kinds */
        if (seen++ % 5)
          continue;
        t0 = now();
        fts_match(fts, text, l, q->text, &unit, &score);
        bl[n] = (now() - t0) * 1000;
        ll[n] = q->ms;
        brec += unit == (int64_t)q->row + 1 || score >= q->sim;
        lrec += q->n &&
                (q->top_unit == (int64_t)q->row + 1 || q->top_score >= q->sim);
        n++;
      }
      {
        double bp = pct(bl, n, 0.5), lp = pct(ll, n, 0.5);
        printf("%-4s %8zu %12.1f %11.2f%% %11.3f %10.2f%% %9.0fx\n",
               lang_tags[l], n, bp, n ? 100.0 * (double)brec / (double)n : 0,
               lp, n ? 100.0 * (double)lrec / (double)n : 0,
               lp > 0 ? bp / lp : 0);
      }
      free(bl);
      free(ll);
    }
    sqlite3_close(fts);
  }

  for (size_t i = 0; i < nq; i++)
    free(qs[i].text);
  free(qs);
  for (size_t i = 0; i < nrows; i++)
    for (int l = 0; l < NLANG; l++)
      free(rows[i].t[l]);
  free(rows);
  tm_text_close(text);
  tm_db_attach_index(db, NULL);
  tm_index_close(idx);
  tm_db_close(db);
  if (tmpdb[0]) {
    char p[4200];
    unlink(tmpdb);
    snprintf(p, sizeof p, "%s-wal", tmpdb);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", tmpdb);
    unlink(p);
  }
  return 0;
}
