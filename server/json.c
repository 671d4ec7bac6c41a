/*
 * json.c - libtm's records as JSON values, in the contract's shapes; every
 * builder returns a new value or NULL when memory ran out.  Also the two
 * pieces that make term search fast: jtext, which joins pieces rendered by
 * jansson (jansson encodes every key and value; a jtext only places braces,
 * brackets and commas, with JSON_EMBED for members), and the per-reader
 * cache of each entry's rendered members.  Rendering a hit's entry with
 * jansson costs several times the search itself (json_dump_callback checks
 * every container for loops through a hash table); booth lookups return
 * the same entries over and over.
 */
#include "server.h"

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
static bool wanted(const char *lang, const struct langs *only) {
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

json_t *json_terms(const tm_entry *e, const struct langs *only) {
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
static json_t *entry_head(const tm_entry *e) {
  json_t *o = json_object();
  bool ok = o && put(o, "entry", json_integer(e->id)) &&
            put(o, "glossary", str(e->glossary));

  return done(o, ok);
}

static json_t *entry_tail(const tm_entry *e, const struct langs *only) {
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

/* --------------------------------------------------------------- jtext */

static void jt_put(struct jtext *t, const char *s, size_t n) {
  if (t->oom)
    return;
  if (n > t->cap - t->len) {
    size_t cap = t->cap ? t->cap : 8192;
    char *p;
    while (cap - t->len < n)
      cap *= 2;
    if (!(p = realloc(t->p, cap))) {
      t->oom = true;
      return;
    }
    t->p = p;
    t->cap = cap;
  }
  memcpy(t->p + t->len, s, n);
  t->len += n;
}

static int jt_dump_cb(const char *buf, size_t n, void *ctx) {
  struct jtext *t = ctx;

  jt_put(t, buf, n);
  return t->oom ? -1 : 0;
}

/* Renders V with jansson; FLAGS add to compact output. */
static void jt_dump(struct jtext *t, const json_t *v, size_t flags) {
  if (!v ||
      json_dump_callback(v, jt_dump_cb, t,
                         JSON_COMPACT | JSON_REAL_PRECISION(6) | flags) != 0)
    t->oom = true;
}

/* The separator before an element, unless it follows its key. */
static void jt_element(struct jtext *t) {
  if (t->after_key) {
    t->after_key = false;
    return;
  }
  if (t->comma[t->depth])
    jt_put(t, ",", 1);
  t->comma[t->depth] = true;
}

void jt_init(struct jtext *t) {
  memset(t, 0, sizeof *t);
}

void jt_open(struct jtext *t, char bracket) {
  jt_element(t);
  jt_put(t, &bracket, 1);
  if (t->depth + 1 >= (int)(sizeof t->comma / sizeof t->comma[0])) {
    t->oom = true;
    return;
  }
  t->comma[++t->depth] = false;
}

void jt_close(struct jtext *t, char bracket) {
  jt_put(t, &bracket, 1);
  if (t->depth > 0)
    t->depth--;
}

void jt_key(struct jtext *t, const char *key) {
  json_t *k = str(key);

  jt_element(t);
  jt_dump(t, k, JSON_ENCODE_ANY);
  json_decref(k);
  jt_put(t, ":", 1);
  t->after_key = true;
}

void jt_value(struct jtext *t, json_t *v) {
  jt_element(t);
  jt_dump(t, v, JSON_ENCODE_ANY);
  json_decref(v);
}

void jt_members(struct jtext *t, json_t *o) {
  if (!o)
    t->oom = true;
  else if (json_object_size(o)) {
    jt_element(t);
    jt_dump(t, o, JSON_EMBED);
  }
  json_decref(o);
}

void jt_fragment(struct jtext *t, const char *text, size_t len) {
  if (len) {
    jt_element(t);
    jt_put(t, text, len);
  }
}

/* Scalars one by one: a container costs jansson a loop check. */
void jt_hit_members(struct jtext *t, const tm_term_hit *h) {
  jt_key(t, "score");
  jt_value(t, json_integer(h->score));
  jt_key(t, "matched");
  jt_open(t, '{');
  jt_key(t, "lang");
  jt_value(t, str(h->lang));
  jt_key(t, "term");
  jt_value(t, str(h->term ? h->term : ""));
  jt_key(t, "how");
  jt_value(t, str(tm_how_name(h->how)));
  jt_close(t, '}');
}

char *jt_finish(struct jtext *t, size_t *len) {
  if (t->oom || t->depth != 0) {
    free(t->p);
    t->p = NULL;
    return NULL;
  }
  *len = t->len;
  return t->p;
}

/* --------------------------------------------------------- entry cache */

#define CACHE_BITS 11 /* 2048 entries per reader */

struct cache_slot {
  int64_t id, updated;
  uint64_t generation;
  char *filter; /* the `to` languages joined, NULL for all */
  char *text;   /* head then tail */
  size_t head_len, tail_len;
};

struct entry_cache {
  struct cache_slot slots[1u << CACHE_BITS];
};

struct entry_cache *entry_cache_create(void) {
  return calloc(1, sizeof(struct entry_cache));
}

void entry_cache_destroy(struct entry_cache *c) {
  if (!c)
    return;
  for (size_t i = 0; i < (1u << CACHE_BITS); i++) {
    free(c->slots[i].filter);
    free(c->slots[i].text);
  }
  free(c);
}

/* The members of O rendered by jansson, without the braces. */
static char *embed(json_t *o, size_t *len) {
  char *text = o ? json_dumps(o, JSON_COMPACT | JSON_EMBED) : NULL;

  json_decref(o);
  if (text)
    *len = strlen(text);
  return text;
}

bool entry_cache_get(struct entry_cache *c, uint64_t generation,
                     const tm_entry *e, const struct langs *only,
                     struct entry_text *out) {
  char filter[SRV_MAX_LANGS * TM_LANG_MAX] = "";
  /* Fibonacci hashing of the id: neighbouring ids spread out. */
  struct cache_slot *s =
      &c->slots[((uint64_t)e->id * 0x9E3779B97F4A7C15ull) >> (64 - CACHE_BITS)];
  char *head = NULL, *tail = NULL, *text = NULL, *key = NULL;
  size_t hl = 0, tl = 0;
  bool ok;

  for (size_t i = 0; only && i < only->n; i++) {
    strcat(filter, only->v[i]);
    strcat(filter, ",");
  }
  if (!(s->text && s->id == e->id && s->updated == e->updated &&
        s->generation == generation &&
        strcmp(s->filter ? s->filter : "", filter) == 0)) {
    ok = (head = embed(entry_head(e), &hl)) &&
         (tail = embed(entry_tail(e, only), &tl)) &&
         (text = malloc(hl + tl + 1)) && (!filter[0] || (key = strdup(filter)));
    if (ok) {
      memcpy(text, head, hl);
      memcpy(text + hl, tail, tl + 1);
      free(s->text);
      free(s->filter);
      *s =
          (struct cache_slot){e->id, e->updated, generation, key, text, hl, tl};
    }
    free(head);
    free(tail);
    if (!ok) {
      free(text);
      return false;
    }
  }
  out->head = s->text;
  out->head_len = s->head_len;
  out->tail = s->text + s->head_len;
  out->tail_len = s->tail_len;
  return true;
}
