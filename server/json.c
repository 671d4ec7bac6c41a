/*
 * json.c - the two pieces that make term search fast (libtm's records as
 * JSON are front/render.c's, shared with the tm command): jtext, which
 * joins a reply from pieces, and the per-reader cache of each entry's
 * members rendered by jansson.  Rendering a hit's entry with jansson costs
 * several times the search itself, and so does each small value: every
 * json_dump_callback sets up a hash table to detect loops.  Booth lookups
 * return the same entries over and over, so the entries' members are
 * rendered once and reused as text; the few members of the search itself
 * (query, score, the matched term) are written here.
 */
#include "server.h"

#include <string.h>

/* --------------------------------------------------------------- jtext */

/* Makes room for N more bytes; false when memory ran out (then, or
 * earlier: the text is dropped at the end, so what is written meanwhile
 * does not matter). */
static bool jt_grow(struct jtext *t, size_t n) {
  size_t cap = t->cap ? t->cap : 8192;
  char *p;

  if (t->oom)
    return false;
  while (cap - t->len < n)
    cap *= 2;
  if (!(p = realloc(t->p, cap))) {
    t->oom = true;
    return false;
  }
  t->p = p;
  t->cap = cap;
  return true;
}

/* The pieces are small and many: the common case, room enough, inline.
 * (No buffer yet, or none after running out of memory: no memcpy.) */
static inline void jt_put(struct jtext *t, const char *s, size_t n) {
  if ((n > t->cap - t->len || !t->p) && !jt_grow(t, n))
    return;
  memcpy(t->p + t->len, s, n);
  t->len += n;
}

static inline void jt_putc(struct jtext *t, char c) {
  if (t->len == t->cap && !jt_grow(t, 1))
    return;
  t->p[t->len++] = c;
}

/* The separator before an element, unless it follows its key. */
static inline void jt_element(struct jtext *t) {
  if (t->after_key) {
    t->after_key = false;
    return;
  }
  if (t->comma[t->depth])
    jt_putc(t, ',');
  t->comma[t->depth] = true;
}

void jt_init(struct jtext *t) {
  memset(t, 0, sizeof *t);
}

void jt_open(struct jtext *t, char bracket) {
  jt_element(t);
  jt_putc(t, bracket);
  if (t->depth + 1 >= (int)(sizeof t->comma / sizeof t->comma[0])) {
    t->oom = true;
    return;
  }
  t->comma[++t->depth] = false;
}

void jt_close(struct jtext *t, char bracket) {
  jt_putc(t, bracket);
  if (t->depth > 0)
    t->depth--;
}

void jt_key_quoted(struct jtext *t, const char *quoted, size_t n) {
  jt_element(t);
  jt_put(t, quoted, n);
  t->after_key = true;
}

/* RFC 8259, section 7: the quotation mark, the reverse solidus and the
 * control characters are escaped; every other character, valid UTF-8
 * already, is copied as it is (as jansson does without
 * JSON_ENSURE_ASCII). */
void jt_string(struct jtext *t, const char *s) {
  static const char hex[] = "0123456789abcdef";

  jt_element(t);
  jt_putc(t, '"');
  for (;;) {
    size_t n = 0;
    unsigned char c;
    while ((c = (unsigned char)s[n]) >= 0x20 && c != '"' && c != '\\')
      n++;
    jt_put(t, s, n);
    if (!c)
      break;
    s += n + 1;
    if (c == '"' || c == '\\') {
      char esc[2] = {'\\', (char)c};
      jt_put(t, esc, 2);
    } else if (c == '\n' || c == '\t' || c == '\r') {
      char esc[2] = {'\\', c == '\n' ? 'n' : c == '\t' ? 't' : 'r'};
      jt_put(t, esc, 2);
    } else {
      char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      jt_put(t, esc, 6);
    }
  }
  jt_putc(t, '"');
}

/* Decimal digits, written backwards: snprintf costs more than the rest of
 * a hit's members. */
void jt_int(struct jtext *t, int64_t v) {
  char buf[24], *p = buf + sizeof buf;
  uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

  do
    *--p = (char)('0' + u % 10);
  while ((u /= 10) != 0);
  if (v < 0)
    *--p = '-';
  jt_element(t);
  jt_put(t, p, (size_t)(buf + sizeof buf - p));
}

void jt_fragment(struct jtext *t, const char *text, size_t len) {
  if (len) {
    jt_element(t);
    jt_put(t, text, len);
  }
}

void jt_hit_members(struct jtext *t, const tm_term_hit *h) {
  jt_key(t, "score");
  jt_int(t, h->score);
  jt_key(t, "matched");
  jt_open(t, '{');
  jt_key(t, "lang");
  jt_string(t, h->lang);
  jt_key(t, "term");
  jt_string(t, h->term ? h->term : "");
  jt_key(t, "how");
  jt_string(t, tm_how_name(h->how));
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
