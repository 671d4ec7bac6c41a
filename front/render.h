/*
 * render.h - libtm's records as JSON (jansson) in the shapes of the REST
 * contract, shared by tm-server and the tm command.  Each builder returns
 * a new reference, or NULL when memory ran out.
 */
#ifndef TM_RENDER_H
#define TM_RENDER_H

#include "tm.h"

#include <jansson.h>
#include <stdbool.h>

/* Languages a rendering keeps: a tag, or a region of it ("en" keeps
 * "en-GB").  n == 0 keeps every language. */
typedef struct render_langs {
  const char *const *v;
  size_t n;
} render_langs;

/* "2026-11-23T10:00:00Z" */
json_t *json_time(int64_t t);
json_t *json_str_or_null(const char *s);
/* GET /api/v1/tm/units/{id} */
json_t *json_unit(const tm_unit *u);
/* An entry's "terms": {"en": [{"text", "status", "type", "note", "pos"}]}
 * restricted to ONLY's languages when ONLY is given. */
json_t *json_terms(const tm_entry *e, const render_langs *only);
/* GET /api/v1/entries/{id} */
json_t *json_entry(const tm_entry *e);
/* One of GET /api/v1/tm/match's "matches", with its "changes". */
json_t *json_match(const tm_match *m);
/* One of GET /api/v1/tm/concordance's "matches", with its "hits". */
json_t *json_concordance(const tm_match *m);
/* A term hit's entry members: {"entry", "glossary"} and {"terms",
 * "definition", "note", "domain", "source", "status"}. */
json_t *json_entry_head(const tm_entry *e);
json_t *json_entry_tail(const tm_entry *e, const render_langs *only);
/* One of GET /api/v1/terms's "results". */
json_t *json_term_hit(const tm_term_hit *h, const render_langs *only);
/* POST /api/v1/analyze's answer; ONLY restricts the terms' languages. */
json_t *json_analysis(const tm_analysis *a, const render_langs *only);
/* {"changes": [{"at", "by", "action", "before", "after"}]} */
json_t *json_history(const tm_change *c, size_t n);
/* [{"name", "units"|"entries", "languages": {...}}], as `tm stats --json`
 * and GET /api/v1/stats */
json_t *json_collections(const tm_collection *c, size_t n, tm_kind kind);

#endif
