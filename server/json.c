/*
 * json.c - the two pieces that make term search fast (libtm's records as
 * JSON are front/render.c's, shared with the tm command): jtext, which joins
 * pieces rendered by jansson (jansson encodes every key and value; a jtext only
 * places braces, brackets and commas, with JSON_EMBED for members), and the
 * per-reader cache of each entry's rendered members.  Rendering a hit's entry
 * with jansson costs several times the search itself (json_dump_callback checks
 * every container for loops through a hash table); booth lookups return
 * the same entries over and over.
 */
#include "server.h"

#include <string.h>

/* A string from libtm, which hands out only valid UTF-8 (see render.c). */
static json_t *str(const char *s) {
  return s ? json_string_nocheck(s) : json_null();
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
    render_langs view = {only ? only->v : NULL, only ? only->n : 0};
    ok = (head = embed(json_entry_head(e), &hl)) &&
         (tail = embed(json_entry_tail(e, &view), &tl)) &&
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
