/*
 * render.c - libtm's records as jansson values, in the shapes of the REST
 * contract (../shared/API.md).  The server and the command line both
 * render through these, so `tm ... --json` prints what the API answers.
 * Every builder returns a new value, or NULL when memory ran out.
 */
#include "render.h"

#include <string.h>

/* Sets K of O to V (the reference is stolen, also on failure).  Keys are
 * ASCII names and language tags. */
static bool put(json_t *o, const char *k, json_t *v) {
  return json_object_set_new_nocheck(o, k, v) == 0;
}

/* A string from libtm.  libtm validates UTF-8 once, at ingest, and hands
 * out nothing else; checking again costs a fifth of a term search's
 * rendering.  (Were a string ever invalid, dumping it fails and the reply
 * is a 500, never invalid JSON.) */
static json_t *str(const char *s) {
  return s ? json_string_nocheck(s) : json_null();
}

static bool append(json_t *a, json_t *v) {
  return json_array_append_new(a, v) == 0;
}

static json_t *done(json_t *v, bool ok) {
  if (ok)
    return v;
  json_decref(v);
  return NULL;
}

json_t *json_time(int64_t t) {
  char buf[21];

  if (t <= 0)
    return json_null();
  tm_time_format(t, buf);
  return str(buf);
}

json_t *json_str_or_null(const char *s) {
  return s ? json_string(s) : json_null();
}

static json_t *span(tm_span s) {
  return json_pack("[I, I]", (json_int_t)s.start, (json_int_t)s.end);
}

json_t *json_unit(const tm_unit *u) {
  json_t *o = json_object(), *variants = json_object(), *markup = NULL;
  bool ok = o && variants;

  for (size_t i = 0; ok && i < u->nvariants; i++) {
    const tm_variant *v = &u->variants[i];
    ok = put(variants, v->lang, str(v->text));
    if (ok && v->markup) {
      if (!markup)
        ok = (markup = json_object()) != NULL;
      ok = ok && put(markup, v->lang, str(v->markup));
    }
  }
  ok = ok && put(o, "unit", json_integer(u->id)) &&
       put(o, "memory", str(u->memory)) &&
       put(o, "variants", json_incref(variants)) &&
       put(o, "status", str(tm_record_status_name(u->status))) &&
       put(o, "origin", str(u->origin)) && put(o, "note", str(u->note)) &&
       put(o, "created", json_time(u->created)) &&
       put(o, "updated", json_time(u->updated)) &&
       put(o, "created_by", str(u->created_by));
  if (ok && markup)
    ok = put(o, "markup", json_incref(markup));
  if (ok && u->nprops) {
    json_t *props = json_array();
    ok = props != NULL;
    for (size_t i = 0; ok && i < u->nprops; i++) {
      const tm_prop *p = &u->props[i];
      ok = append(props,
                  json_pack("{s:s, s:o, s:s}", "lang", p->lang, "type",
                            str(p->type), "value", p->value ? p->value : ""));
    }
    ok = ok && put(o, "props", json_incref(props));
    json_decref(props);
  }
  json_decref(variants);
  json_decref(markup);
  return done(o, ok);
}

/* True when LANG is one of ONLY's tags or a subtag of one ("en-GB" for
 * "en"). */
static bool wanted(const char *lang, const render_langs *only) {
  if (!only || only->n == 0)
    return true;
  for (size_t i = 0; i < only->n; i++) {
    size_t n = strlen(only->v[i]);
    if (strncmp(lang, only->v[i], n) == 0 &&
        (lang[n] == '\0' || lang[n] == '-'))
      return true;
  }
  return false;
}

static json_t *term_json(const tm_term *t) {
  json_t *o = json_object();
  bool ok = o && put(o, "text", str(t->text)) &&
            put(o, "status", str(tm_term_status_name(t->status)));

  if (ok && t->type != TM_TERM_FULL)
    ok = put(o, "type", str(tm_term_type_name(t->type)));
  if (ok && t->note)
    ok = put(o, "note", str(t->note));
  if (ok && t->pos)
    ok = put(o, "pos", str(t->pos));
  return done(o, ok);
}

json_t *json_terms(const tm_entry *e, const render_langs *only) {
  json_t *o = json_object();
  bool ok = o != NULL;

  for (size_t i = 0; ok && i < e->nterms; i++) {
    const tm_term *t = &e->terms[i];
    json_t *a;
    if (!wanted(t->lang, only))
      continue;
    if (!(a = json_object_get(o, t->lang))) {
      ok = put(o, t->lang, json_array());
      a = json_object_get(o, t->lang);
    }
    ok = ok && a && append(a, term_json(t));
  }
  return done(o, ok);
}

json_t *json_entry(const tm_entry *e) {
  json_t *o = json_object();
  bool ok = o && put(o, "entry", json_integer(e->id)) &&
            put(o, "glossary", str(e->glossary)) &&
            put(o, "status", str(tm_record_status_name(e->status))) &&
            put(o, "terms", json_terms(e, NULL)) &&
            put(o, "definition", str(e->definition)) &&
            put(o, "note", str(e->note)) && put(o, "domain", str(e->domain)) &&
            put(o, "source", str(e->source)) &&
            put(o, "origin", str(e->origin)) &&
            put(o, "created", json_time(e->created)) &&
            put(o, "updated", json_time(e->updated)) &&
            put(o, "created_by", str(e->created_by));
  return done(o, ok);
}

static const char *diff_op(tm_diff_op op) {
  switch (op) {
  case TM_DIFF_INSERT:
    return "insert";
  case TM_DIFF_DELETE:
    return "delete";
  case TM_DIFF_REPLACE:
    return "replace";
  }
  return "replace";
}

static bool span_present(tm_span s) {
  return !(s.start == UINT32_MAX && s.end == UINT32_MAX);
}

/* The members a match and a concordance hit share. */
static json_t *match_common(const tm_match *m) {
  json_t *o = json_object(), *targets = json_object();
  bool ok = o && targets;

  for (size_t i = 0; ok && i < m->ntargets; i++)
    ok = put(targets, m->targets[i].lang, str(m->targets[i].text));
  ok = ok && put(o, "unit", json_integer(m->unit)) &&
       put(o, "memory", str(m->memory)) &&
       put(o, "score", json_integer(m->score)) &&
       put(o, "source_lang", str(m->source_lang)) &&
       put(o, "source", str(m->source)) &&
       put(o, "targets", json_incref(targets)) &&
       put(o, "status", str(tm_record_status_name(m->status))) &&
       put(o, "origin", str(m->origin)) &&
       put(o, "updated", json_time(m->updated));
  json_decref(targets);
  return done(o, ok);
}

json_t *json_match(const tm_match *m) {
  json_t *o = match_common(m), *changes = json_array();
  bool ok = o && changes;

  for (size_t i = 0; ok && i < m->ndiffs; i++) {
    const tm_diff *d = &m->diffs[i];
    json_t *c = json_object();
    ok = c && put(c, "op", str(diff_op(d->op)));
    if (ok && span_present(d->source))
      ok = put(c, "source", span(d->source));
    if (ok && span_present(d->query))
      ok = put(c, "query", span(d->query));
    if (ok)
      ok = append(changes, c);
    else
      json_decref(c);
  }
  ok = ok && put(o, "changes", json_incref(changes));
  json_decref(changes);
  return done(o, ok);
}

json_t *json_concordance(const tm_match *m) {
  json_t *o = match_common(m), *hits = json_array();
  bool ok = o && hits;

  for (size_t i = 0; ok && i < m->ndiffs; i++)
    if (span_present(m->diffs[i].source))
      ok = append(hits, span(m->diffs[i].source));
  ok = ok && put(o, "hits", json_incref(hits));
  json_decref(hits);
  return done(o, ok);
}

/* The members of a term hit that depend only on the entry: its head and
 * its tail (see struct entry_text). */
json_t *json_entry_head(const tm_entry *e) {
  json_t *o = json_object();
  bool ok = o && put(o, "entry", json_integer(e->id)) &&
            put(o, "glossary", str(e->glossary));

  return done(o, ok);
}

json_t *json_entry_tail(const tm_entry *e, const render_langs *only) {
  json_t *o = json_object();
  bool ok = o && put(o, "terms", json_terms(e, only)) &&
            put(o, "definition", str(e->definition)) &&
            put(o, "note", str(e->note)) && put(o, "domain", str(e->domain)) &&
            put(o, "source", str(e->source)) &&
            put(o, "status", str(tm_record_status_name(e->status)));

  return done(o, ok);
}

/* A history snapshot is JSON text made by libtm. */
static json_t *snapshot(const char *text) {
  json_t *v;

  if (!text)
    return json_null();
  v = json_loads(text, 0, NULL);
  return v ? v : json_null();
}

json_t *json_history(const tm_change *c, size_t n) {
  json_t *changes = json_array();
  bool ok = changes != NULL;

  for (size_t i = 0; ok && i < n; i++)
    ok = append(changes,
                json_pack("{s:o, s:o, s:o, s:o, s:o}", "at", json_time(c[i].at),
                          "by", str(c[i].by), "action", str(c[i].action),
                          "before", snapshot(c[i].before), "after",
                          snapshot(c[i].after)));
  if (!ok) {
    json_decref(changes);
    return NULL;
  }
  return json_pack("{s:o}", "changes", changes);
}

json_t *json_collections(const tm_collection *c, size_t n, tm_kind kind) {
  json_t *a = json_array();
  bool ok = a != NULL;

  for (size_t i = 0; ok && i < n; i++) {
    json_t *langs = json_object();
    ok = langs != NULL;
    for (size_t k = 0; ok && k < c[i].nlangs; k++)
      ok = put(langs, c[i].langs[k].lang, json_integer(c[i].langs[k].count));
    if (!ok) {
      json_decref(langs);
      break;
    }
    ok = append(a, json_pack("{s:s, s:I, s:o}", "name", c[i].name,
                             kind == TM_MEMORY ? "units" : "entries",
                             (json_int_t)c[i].records, "languages", langs));
  }
  return done(a, ok);
}

json_t *json_term_hit(const tm_term_hit *h, const render_langs *only) {
  json_t *o = json_entry_head(h->entry), *tail = NULL;
  json_t *matched = json_object();
  bool ok = o && matched && put(o, "score", json_integer(h->score)) &&
            put(matched, "lang", str(h->lang)) &&
            put(matched, "term", str(h->term ? h->term : "")) &&
            put(matched, "how", str(tm_how_name(h->how))) &&
            put(o, "matched", json_incref(matched)) &&
            (tail = json_entry_tail(h->entry, only)) != NULL &&
            json_object_update(o, tail) == 0;

  json_decref(matched);
  json_decref(tail);
  return done(o, ok);
}

/* The analysis as the contract's JSON; NULL when memory ran out. */
json_t *json_analysis(const tm_analysis *a, const render_langs *only) {
  json_t *o, *to = json_array(), *terms = json_array(), *sents = json_array(),
             *cands = json_array();
  bool ok = to && terms && sents && cands;

  for (size_t i = 0; ok && i < a->nto; i++)
    ok = json_array_append_new(to, json_string(a->to[i])) == 0;
  for (size_t i = 0; ok && i < a->nterms; i++) {
    const tm_analysis_term *t = &a->terms[i];
    json_t *offs = json_array(), *j;
    for (size_t k = 0; offs && k < t->count; k++)
      if (json_array_append_new(offs, span(t->offsets[k])) != 0) {
        json_decref(offs);
        offs = NULL;
      }
    j = json_pack("{s:I, s:s?, s:s, s:o, s:I, s:o, s:o, s:o, s:o}", "entry",
                  (json_int_t)t->entry, "glossary", t->e->glossary, "surface",
                  t->surface, "offsets", offs, "count", (json_int_t)t->count,
                  "terms", json_terms(t->e, only), "definition",
                  json_str_or_null(t->e->definition), "note",
                  json_str_or_null(t->e->note), "domain",
                  json_str_or_null(t->e->domain));
    ok = json_array_append_new(terms, j) == 0;
  }
  for (size_t i = 0; ok && i < a->nsentences; i++) {
    const tm_analysis_sentence *s = &a->sentences[i];
    ok = json_array_append_new(
             sents, json_pack("{s:I, s:I, s:s, s:o}", "start",
                              (json_int_t)s->span.start, "end",
                              (json_int_t)s->span.end, "text", s->text, "match",
                              s->match ? json_match(s->match) : json_null())) ==
         0;
  }
  for (size_t i = 0; ok && i < a->ncandidates; i++) {
    const tm_candidate *c = &a->candidates[i];
    ok = json_array_append_new(
             cands, json_pack("{s:s, s:o, s:s, s:I, s:f, s:o}", "text", c->text,
                              "abbreviation", json_str_or_null(c->abbreviation),
                              "kind", tm_candidate_kind_name(c->kind), "count",
                              (json_int_t)c->count, "score", c->score, "first",
                              span(c->first))) == 0;
  }
  if (!ok) {
    json_decref(to);
    json_decref(terms);
    json_decref(sents);
    json_decref(cands);
    return NULL;
  }
  o = json_pack("{s:s, s:o, s:I, s:o, s:o, s:o}", "lang", a->lang, "to", to,
                "words", (json_int_t)a->words, "terms", terms, "sentences",
                sents, "candidates", cands);
  return o;
}
