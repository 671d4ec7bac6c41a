/*
 * bench_terms.c - the booth's term search on a glossary of 10,000 entries,
 * in process, one thread.
 *
 *   bench_terms [CORPUS.tsv] [--entries N] [--n N]
 *
 * The glossary: the first N (default 10,000) short, distinct segments of
 * the corpus (CORPUS as for bench_match) as entries with their en, ko and
 * uk terms, a dozen entries of the event's domain (prisoner of war,
 * Rome Statute, ...), and every glossary shipped in glossaries/ when there
 * are any.  Queries: the booth's cases of issue 3 (prefixes, initials,
 * half-typed syllables, particles, spacing, inflection, Latin input,
 * typos), and, from random entries with a fixed seed, N (default 1000) per
 * kind of exact terms, prefixes, initials, Latin keys, prefixes of Latin
 * keys and one-edit typos.  Prints p50, p90 and p99 in microseconds per
 * kind and overall, and how often the intended entry came first.
 */
#include "match_internal.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef TM_SOURCE_ROOT
#define TM_SOURCE_ROOT "."
#endif

enum { EN, KO, UK, NLANG };
static const char *const lang_tags[NLANG] = {"en", "ko", "uk"};

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;

static uint64_t rng(void) {
  uint64_t x = rng_state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  rng_state = x;
  return x * 0x9E3779B97F4A7C15ull;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The domain entries the booth cases look for. */
static const char *const domain[][3] = {
    {"prisoner of war | POW", "전쟁포로", "військовополонений"},
    {"non-refoulement", "강제송환 금지", "невидворення"},
    {"forced repatriation", "강제송환", "примусова репатріація"},
    {"Rome Statute", "로마규정", "Римський статут"},
    {"International Criminal Court", "국제형사재판소",
     "Міжнародний кримінальний суд"},
    {"Geneva Convention", "제네바 협약", "Женевська конвенція"},
    {"Kim Jong Un", "김정은", "Кім Чен Ин"},
    {"North Korea", "북한", "Північна Корея"},
    {"soldier", "군인", "солдат"},
};

typedef struct bq {
  const char *kind;
  char *q;
  int64_t want;     /* an entry expected among the results, or 0 */
  const char *term; /* else the term(s) expected first, '|'-separated */
} bq;

static bq *queries;
static size_t nqueries, qcap;

static void addq(const char *kind, const char *q, int64_t want,
                 const char *term) {
  if (nqueries == qcap) {
    qcap = qcap ? qcap * 2 : 1024;
    queries = realloc(queries, qcap * sizeof *queries);
  }
  queries[nqueries++] = (bq){kind, strdup(q), want, term};
}

/* Whether TERM is one of the '|'-separated ALTERNATIVES. */
static bool one_of(const char *term, const char *alternatives) {
  size_t n = strlen(term);
  for (const char *p = alternatives; p; p = strchr(p, '|')) {
    if (*p == '|')
      p++;
    if (strncmp(p, term, n) == 0 && (p[n] == '|' || p[n] == '\0'))
      return true;
  }
  return false;
}

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool usable(const char *s, size_t maxlen) {
  size_t n = strlen(s);
  if (n == 0 || n > maxlen)
    return false;
  for (size_t i = 0; i < n; i++)
    if (s[i] == '\t' || s[i] == '\\' || s[i] == '\n' || s[i] == '|' ||
        s[i] == '"')
      return false;
  return true;
}

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

/* The first N code points of S. */
static char *cp_prefix(const char *s, size_t n) {
  size_t i = 0, k = 0, len = strlen(s);
  char *o;
  while (i < len && k < n) {
    tm__utf8_next(s, &i);
    k++;
  }
  o = malloc(i + 1);
  memcpy(o, s, i);
  o[i] = '\0';
  return o;
}

/* S with one edit at a random place: a substitution, deletion, insertion or
 * adjacent transposition of code points. */
static char *typo(const char *s) {
  uint32_t cps[256], out[258];
  size_t n = 0, i = 0, len = strlen(s), k = 0, at;
  char *o;
  while (i < len && n < 256)
    cps[n++] = tm__utf8_next(s, &i);
  if (n < 4)
    return NULL;
  at = 1 + (size_t)(rng() % (n - 2));
  switch (rng() % 4) {
  case 0:
    for (size_t j = 0; j < n; j++)
      out[k++] = j == at ? (cps[j] == 'x' ? 'q' : 'x') : cps[j];
    break;
  case 1:
    for (size_t j = 0; j < n; j++)
      if (j != at)
        out[k++] = cps[j];
    break;
  case 2:
    for (size_t j = 0; j < n; j++) {
      if (j == at)
        out[k++] = cps[j];
      out[k++] = cps[j];
    }
    break;
  default:
    for (size_t j = 0; j < n; j++)
      out[k++] = j == at ? cps[at + 1] : j == at + 1 ? cps[at] : cps[j];
    break;
  }
  o = malloc(k * 4 + 1);
  i = 0;
  for (size_t j = 0; j < k; j++)
    i += tm__utf8_put(o + i, out[j]);
  o[i] = '\0';
  return o;
}

int main(int argc, char **argv) {
  const char *corpus = NULL;
  char defpath[4096], dbpath[4096];
  size_t want_entries = 10000, per = 1000, nent = 0, cap = 0, bufcap = 0,
         buflen = 0;
  char *buf = NULL, *line = NULL;
  size_t lcap = 0;
  ssize_t len;
  FILE *f;
  tm_db *db;
  tm_index *idx;
  tm_text *text;
  struct ent {
    char *t[NLANG];
    int64_t id;
  } *ents = NULL;
  double t0;
  const char *td = getenv("TMPDIR");

  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--entries") == 0 && i + 1 < argc)
      want_entries = (size_t)atol(argv[++i]);
    else if (strcmp(argv[i], "--n") == 0 && i + 1 < argc)
      per = (size_t)atol(argv[++i]);
    else if (argv[i][0] != '-')
      corpus = argv[i];
    else {
      fprintf(stderr,
              "usage: bench_terms [CORPUS.tsv] [--entries N] [--n N]\n");
      return 2;
    }
  }
  if (!corpus) {
    const char *sd = getenv("TM_SHARED_DIR");
    snprintf(defpath, sizeof defpath, "%s/data/corpus/en-ko-uk.tsv",
             sd && *sd ? sd : TM_SOURCE_ROOT "/../shared");
    corpus = defpath;
  }
  snprintf(dbpath, sizeof dbpath, "%s/bench_terms_%d.sqlite",
           td && *td ? td : "/tmp", (int)getpid());

  /* The synthetic glossary as a TSV buffer. */
  if (!(f = fopen(corpus, "r"))) {
    perror(corpus);
    return 1;
  }
  for (size_t d = 0; d < sizeof domain / sizeof domain[0]; d++) {
    if (nent == cap)
      ents = realloc(ents, (cap = cap ? cap * 2 : 1024) * sizeof *ents);
    for (int l = 0; l < NLANG; l++)
      ents[nent].t[l] = strdup(domain[d][l]);
    nent++;
  }
  while ((len = getline(&line, &lcap, f)) > 0 &&
         nent < want_entries + sizeof domain / sizeof domain[0]) {
    char *p = line, *fld[4];
    int nf = 0;
    bool ok = true, dup = false;
    if (line[len - 1] == '\n')
      line[--len] = '\0';
    while (nf < 4) {
      fld[nf++] = p;
      if (!(p = strchr(p, '\t')))
        break;
      *p++ = '\0';
    }
    if (nf < 3 || strcmp(fld[0], "en") == 0)
      continue;
    /* short, term-like segments */
    for (int l = 0; l < NLANG; l++)
      ok = ok && usable(fld[l], l == KO ? 30 : 40);
    if (!ok || strchr(fld[0], '%') || strchr(fld[0], '.') ||
        strchr(fld[0], ':') ||
        !strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                "abcdefghijklmnopqrstuvwxyz",
                fld[0][0]))
      continue;
    /* distinct English (a cheap check against the last few hundred) */
    for (size_t k = nent > 500 ? nent - 500 : 0; k < nent && !dup; k++)
      dup = strcasecmp(ents[k].t[EN], fld[0]) == 0;
    if (dup)
      continue;
    if (nent == cap)
      ents = realloc(ents, (cap *= 2) * sizeof *ents);
    for (int l = 0; l < NLANG; l++)
      ents[nent].t[l] = strdup(fld[l]);
    nent++;
  }
  fclose(f);
  free(line);
  for (size_t e = 0; e < nent; e++) {
    size_t need = buflen + strlen(ents[e].t[0]) + strlen(ents[e].t[1]) +
                  strlen(ents[e].t[2]) + 64;
    if (need > bufcap)
      buf = realloc(buf, bufcap = need * 2);
    if (e == 0)
      buflen += (size_t)sprintf(buf + buflen, "en\tko\tuk\n");
    buflen += (size_t)sprintf(buf + buflen, "%s\t%s\t%s\n", ents[e].t[0],
                              ents[e].t[1], ents[e].t[2]);
  }

  if (tm_db_open(dbpath, TM_OPEN_NOSEED, &db) != TM_OK) {
    fprintf(stderr, "open: %s\n", db ? tm_db_errmsg(db) : "");
    return 1;
  }
  {
    tm_import_opts io = {.format = TM_FORMAT_TSV,
                         .kind = TM_GLOSSARY,
                         .collection = "synthetic",
                         .name = "synthetic"};
    tm_import_result res = {0};
    t0 = now();
    if (tm_import_buffer(db, buf, buflen, &io, &res) != TM_OK) {
      fprintf(stderr, "import: %s\n", tm_db_errmsg(db));
      return 1;
    }
    printf("glossary: %llu entries (%zu from the corpus, %zu of the domain) "
           "imported in %.2f s\n",
           (unsigned long long)res.records,
           nent - sizeof domain / sizeof domain[0],
           sizeof domain / sizeof domain[0], now() - t0);
  }
  /* entry ids follow the import order in a new database */
  for (size_t e = 0; e < nent; e++)
    ents[e].id = (int64_t)e + 1;
  /* shipped glossaries, when there are any */
  {
    char dir[4096];
    DIR *dp;
    struct dirent *de;
    snprintf(dir, sizeof dir, "%s/glossaries", TM_SOURCE_ROOT);
    if ((dp = opendir(dir))) {
      while ((de = readdir(dp))) {
        char path[8192];
        tm_format fmt;
        tm_import_opts io = {.kind = TM_GLOSSARY};
        tm_import_result res = {0};
        if (tm_format_from_path(de->d_name, &fmt) != TM_OK ||
            fmt == TM_FORMAT_TMX)
          continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        io.format = fmt;
        io.collection = "shipped";
        if (tm_import_file(db, path, &io, &res) == TM_OK)
          printf("shipped glossary %s: %llu entries\n", de->d_name,
                 (unsigned long long)res.records);
      }
      closedir(dp);
    }
  }

  t0 = now();
  if (tm_index_open(db, &idx) != TM_OK) {
    fprintf(stderr, "index: %s\n", tm_db_errmsg(db));
    return 1;
  }
  printf("index build: %.3f s\n", now() - t0);
  tm_text_open(&text);

  /* The booth's cases. */
  {
    static const char *const booth[][2] = {
        {"non-ref", "non-refoulement"},
        {"강제송", "강제송환"},
        {"військовопол", "військовополонений|військовополонена"},
        {"ㅈㅈㅍㄹ", "전쟁포로"},
        {"전쟁폴", "전쟁포로"},
        {"전쟁ㅍ", "전쟁포로"},
        {"전쟁포로를", "전쟁포로"},
        {"로마규정에", "로마규정"},
        {"국제형사재판소의", "국제형사재판소"},
        {"전쟁 포로", "전쟁포로|전쟁 포로"},
        {"військовополонених", "військовополонений"},
        {"Женевської конвенції", "Женевська конвенція|Женевські конвенції"},
        {"prisoners of war", "prisoner of war"},
        {"POWs", "POW"},
        {"Kim Jong Un's", "Kim Jong Un"},
        {"viiskovopolonenyi", "військовополонений"},
        {"jeonjaeng poro", "전쟁포로|전쟁 포로"},
        {"jeonjaengporo", "전쟁포로|전쟁 포로"},
        {"viiskovopol", "військовополонений|військовополонена"},
        {"prisonr of wra", "prisoner of war"},
        {"전쟁표로", "전쟁포로"},
        {"військовополонейний", "військовополонений"},
    };
    for (size_t r = 0; r < 50; r++)
      for (size_t i = 0; i < sizeof booth / sizeof booth[0]; i++)
        addq("booth", booth[i][0], 0, booth[i][1]);
  }
  /* Derived from random entries. */
  for (size_t i = 0; i < per; i++) {
    struct ent *e = &ents[rng() % nent];
    int l = (int)(rng() % NLANG);
    size_t ncp = tm__utf8_count(e->t[l], strlen(e->t[l]));
    char *s;
    addq("exact", e->t[l], e->id, NULL);
    s = cp_prefix(e->t[l], ncp > 3 ? (ncp + 1) / 2 : ncp);
    addq("prefix", s, e->id, NULL);
    free(s);
    if ((s = typo(e->t[l]))) {
      addq("typo", s, e->id, NULL);
      free(s);
    }
    if (tm_text_initials(text, e->t[KO], strlen(e->t[KO]), &s) == TM_OK) {
      addq("initials", s, e->id, NULL);
      free(s);
    }
    l = rng() % 2 ? UK : KO;
    if (tm_text_translit(text, lang_tags[l], e->t[l], strlen(e->t[l]), &s) ==
        TM_OK) {
      char *p;
      addq("latin", s, e->id, NULL);
      p = cp_prefix(s, (strlen(s) + 1) / 2);
      addq("latin-prefix", p, e->id, NULL);
      free(p);
      free(s);
    }
  }

  {
    static const char *const kinds[] = {"booth",       "exact",    "prefix",
                                        "typo",        "initials", "latin",
                                        "latin-prefix"};
    double *lat = malloc(nqueries * sizeof *lat), *cpu, *all, *allc;
    size_t nall = 0;
    size_t *ok = calloc(nqueries, sizeof *ok);
    cpu = malloc(nqueries * sizeof *cpu);
    all = malloc(nqueries * sizeof *all);
    allc = malloc(nqueries * sizeof *allc);
    for (size_t i = 0; i < nqueries; i++) {
      tm_term_hit *h;
      size_t n;
      tm_terms_opts o = {0};
      double c0 = cpu_now();
      t0 = now();
      if (tm_terms_find(idx, db, queries[i].q, &o, &h, &n) != TM_OK) {
        fprintf(stderr, "terms: %s: %s\n", queries[i].q, tm_db_errmsg(db));
        return 1;
      }
      lat[i] = (now() - t0) * 1e6;
      cpu[i] = (cpu_now() - c0) * 1e6;
      all[nall] = lat[i];
      allc[nall++] = cpu[i];
      if (queries[i].term)
        ok[i] = n && one_of(h[0].term, queries[i].term);
      for (size_t k = 0; !queries[i].term && k < n && !ok[i]; k++)
        ok[i] = h[k].entry->id == queries[i].want;
      if (getenv("BENCH_SLOW") && lat[i] > 250)
        printf("slow %.0f us %s [%s] %zu hits\n", lat[i], queries[i].kind,
               queries[i].q, n);
      if (!ok[i] && getenv("BENCH_MISSES"))
        printf("miss %s [%s] -> %s\n", queries[i].kind, queries[i].q,
               n ? h[0].term : "(nothing)");
      tm_terms_free(h, n);
    }
    printf("\nterm search, one thread, %zu queries on %zu entries "
           "(wall-clock; on-CPU time in brackets)\n",
           nqueries, nent);
    printf("kind            queries   p50 us   p90 us   p99 us   (cpu p50   "
           "p99)  found\n");
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
      double *v = malloc(nqueries * sizeof *v),
             *c = malloc(nqueries * sizeof *c);
      size_t n = 0, good = 0;
      for (size_t i = 0; i < nqueries; i++)
        if (strcmp(queries[i].kind, kinds[k]) == 0) {
          c[n] = cpu[i];
          v[n++] = lat[i];
          good += ok[i];
        }
      printf("%-14s %8zu %8.1f %8.1f %8.1f   (%6.1f %7.1f) %5.1f%%\n", kinds[k],
             n, pct(v, n, 0.5), pct(v, n, 0.9), pct(v, n, 0.99), pct(c, n, 0.5),
             pct(c, n, 0.99), n ? 100.0 * (double)good / (double)n : 0);
      free(v);
      free(c);
    }
    printf("%-14s %8zu %8.1f %8.1f %8.1f   (%6.1f %7.1f)\n", "all", nall,
           pct(all, nall, 0.5), pct(all, nall, 0.9), pct(all, nall, 0.99),
           pct(allc, nall, 0.5), pct(allc, nall, 0.99));
    printf("found: booth, the expected term first; others, the entry the "
           "query came from among the results\n");
    free(lat);
    free(cpu);
    free(all);
    free(allc);
    free(ok);
  }

  /* Writes with the index attached: each entry written rebuilds the term
   * index from the old one (the entries are copied, their keys kept). */
  {
    double total = 0;
    tm_db_attach_index(db, idx);
    for (int i = 0; i < 20; i++) {
      tm_entry e = {0};
      char term[64];
      int64_t id;
      snprintf(term, sizeof term, "benchmark term %d", i);
      tm_entry_add_term(&e, "en", term, TM_TERM_PREFERRED, TM_TERM_FULL, NULL);
      t0 = now();
      if (tm_entry_add(db, "synthetic", &e, NULL, &id) != TM_OK) {
        fprintf(stderr, "add: %s\n", tm_db_errmsg(db));
        return 1;
      }
      total += now() - t0;
      tm__entry_clear(&e);
    }
    tm_db_attach_index(db, NULL);
    printf("\nan entry added with the index attached: %.1f ms (write and "
           "index update, mean of 20)\n",
           total / 20 * 1000);
  }

  for (size_t i = 0; i < nqueries; i++)
    free(queries[i].q);
  free(queries);
  for (size_t e = 0; e < nent; e++)
    for (int l = 0; l < NLANG; l++)
      free(ents[e].t[l]);
  free(ents);
  free(buf);
  tm_text_close(text);
  tm_index_close(idx);
  tm_db_close(db);
  unlink(dbpath);
  {
    char p[4200];
    snprintf(p, sizeof p, "%s-wal", dbpath);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", dbpath);
    unlink(p);
  }
  return 0;
}
