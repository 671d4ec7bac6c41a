/*
 * metrics.c - request counters and latency histograms per route, kept in
 * relaxed atomics (the workers only add), and their Prometheus text
 * exposition with the units and entries of every collection.
 *
 * Rows are the routing table's rows, then one for requests no route took
 * (404, 405) and one for CORS preflights.
 */
#include "server.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The statuses the server sends; anything else counts as "other". */
static const unsigned statuses[] = {200, 201, 204, 304, 400, 401, 403, 404,
                                    405, 409, 413, 414, 415, 500, 503};
#define NSTATUS (sizeof statuses / sizeof statuses[0])

/* Upper bounds of the latency buckets, in seconds. */
static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                0.1,    0.25,  0.5,    1,     2.5,  5,     10};
#define NBUCKET (sizeof bounds / sizeof bounds[0])

struct row {
  atomic_uint_fast64_t status[NSTATUS + 1];
  atomic_uint_fast64_t bucket[NBUCKET]; /* not cumulative */
  atomic_uint_fast64_t count;
  atomic_uint_fast64_t micros; /* sum of durations */
};

struct metrics {
  size_t nrows;
  struct row rows[];
};

struct metrics *metrics_create(void) {
  size_t nrows = nroutes + 2;
  struct metrics *m = calloc(1, sizeof *m + nrows * sizeof m->rows[0]);

  if (m)
    m->nrows = nrows;
  return m;
}

void metrics_destroy(struct metrics *m) {
  free(m);
}

void metrics_record(struct metrics *m, size_t route, unsigned status,
                    double seconds) {
  struct row *r;
  size_t s = NSTATUS, b = 0;

  if (!m || route >= m->nrows)
    return;
  r = &m->rows[route];
  for (size_t i = 0; i < NSTATUS; i++)
    if (statuses[i] == status)
      s = i;
  while (b < NBUCKET && seconds > bounds[b])
    b++;
  atomic_fetch_add_explicit(&r->status[s], 1, memory_order_relaxed);
  if (b < NBUCKET)
    atomic_fetch_add_explicit(&r->bucket[b], 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&r->count, 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&r->micros, (uint_fast64_t)(seconds * 1e6),
                            memory_order_relaxed);
}

/* ------------------------------------------------------------ rendering */

struct text {
  char *p;
  size_t len, cap;
  bool oom;
};

static void SRV_PRINTF(2, 3) add(struct text *t, const char *fmt, ...) {
  va_list ap;
  int n;

  if (t->oom)
    return;
  for (;;) {
    va_start(ap, fmt);
    n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n < 0) {
      t->oom = true;
      return;
    }
    if ((size_t)n < t->cap - t->len) {
      t->len += (size_t)n;
      return;
    }
    size_t cap = t->cap * 2 + (size_t)n;
    char *p = realloc(t->p, cap);
    if (!p) {
      t->oom = true;
      return;
    }
    t->p = p;
    t->cap = cap;
  }
}

static void row_labels(size_t i, char *buf, size_t cap) {
  if (i < nroutes)
    snprintf(buf, cap, "method=\"%s\",route=\"%s\"",
             method_name(routes[i].method), routes[i].pattern);
  else
    snprintf(buf, cap, "method=\"%s\",route=\"%s\"",
             i == nroutes ? "*" : "OPTIONS",
             i == nroutes ? "(none)" : "(preflight)");
}

/* Collection names are [A-Za-z0-9._-]; escape anyway, as the format
 * says. */
static void label_value(struct text *t, const char *s) {
  for (; *s; s++) {
    if (*s == '\\' || *s == '"')
      add(t, "\\%c", *s);
    else if (*s == '\n')
      add(t, "\\n");
    else
      add(t, "%c", *s);
  }
}

char *metrics_render(struct server *srv, tm_db *db, size_t *len) {
  struct metrics *m = srv->metrics;
  struct text t = {malloc(16384), 0, 16384, false};
  tm_collection *c = NULL;
  size_t nc = 0;
  char labels[160];

  if (!t.p)
    return NULL;
  t.p[0] = '\0';
  add(&t, "# HELP tm_http_requests_total Requests answered, by route and "
          "status.\n# TYPE tm_http_requests_total counter\n");
  for (size_t i = 0; i < m->nrows; i++) {
    row_labels(i, labels, sizeof labels);
    for (size_t s = 0; s <= NSTATUS; s++) {
      uint_fast64_t n =
          atomic_load_explicit(&m->rows[i].status[s], memory_order_relaxed);
      char code[8] = "other";
      if (!n)
        continue;
      if (s < NSTATUS)
        snprintf(code, sizeof code, "%u", statuses[s]);
      add(&t, "tm_http_requests_total{%s,status=\"%s\"} %llu\n", labels, code,
          (unsigned long long)n);
    }
  }
  add(&t, "# HELP tm_http_request_duration_seconds From the request line to "
          "the end of the response.\n"
          "# TYPE tm_http_request_duration_seconds histogram\n");
  for (size_t i = 0; i < m->nrows; i++) {
    struct row *r = &m->rows[i];
    uint_fast64_t count = atomic_load_explicit(&r->count, memory_order_relaxed);
    uint_fast64_t cum = 0;
    if (!count)
      continue;
    row_labels(i, labels, sizeof labels);
    for (size_t b = 0; b < NBUCKET; b++) {
      cum += atomic_load_explicit(&r->bucket[b], memory_order_relaxed);
      add(&t, "tm_http_request_duration_seconds_bucket{%s,le=\"%g\"} %llu\n",
          labels, bounds[b], (unsigned long long)cum);
    }
    add(&t,
        "tm_http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %llu\n"
        "tm_http_request_duration_seconds_sum{%s} %.6f\n"
        "tm_http_request_duration_seconds_count{%s} %llu\n",
        labels, (unsigned long long)count, labels,
        (double)atomic_load_explicit(&r->micros, memory_order_relaxed) / 1e6,
        labels, (unsigned long long)count);
  }
  add(&t,
      "# HELP tm_http_requests_in_flight Requests being answered.\n"
      "# TYPE tm_http_requests_in_flight gauge\n"
      "tm_http_requests_in_flight %u\n"
      "# HELP tm_start_time_seconds When the server started.\n"
      "# TYPE tm_start_time_seconds gauge\n"
      "tm_start_time_seconds %lld\n",
      atomic_load(&srv->in_flight), (long long)srv->started);

  if (tm_collection_list(db, 0, &c, &nc) == TM_OK) {
    add(&t, "# HELP tm_units Live translation units per memory.\n"
            "# TYPE tm_units gauge\n");
    for (size_t i = 0; i < nc; i++)
      if (c[i].kind == TM_MEMORY) {
        add(&t, "tm_units{memory=\"");
        label_value(&t, c[i].name);
        add(&t, "\"} %lld\n", (long long)c[i].records);
      }
    add(&t, "# HELP tm_entries Live glossary entries per glossary.\n"
            "# TYPE tm_entries gauge\n");
    for (size_t i = 0; i < nc; i++)
      if (c[i].kind == TM_GLOSSARY) {
        add(&t, "tm_entries{glossary=\"");
        label_value(&t, c[i].name);
        add(&t, "\"} %lld\n", (long long)c[i].records);
      }
    tm_collection_list_free(c, nc);
  }
  if (t.oom) {
    free(t.p);
    return NULL;
  }
  *len = t.len;
  return t.p;
}
