/*
 * record.c - names of enumerations, and the records (units, entries) in
 * memory: building, copying, freeing, validating and normalising them
 * before a write, and the content hash that finds duplicate units.
 */
#include "tm_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------- small utils */

char *tm__strdup(const char *s) {
  return s ? tm__strndup(s, strlen(s)) : NULL;
}

char *tm__strndup(const char *s, size_t n) {
  char *p = malloc(n + 1);

  if (p) {
    memcpy(p, s, n);
    p[n] = '\0';
  }
  return p;
}

char *tm__asprintf(const char *fmt, ...) {
  va_list ap;
  char *s = NULL;

  va_start(ap, fmt);
  if (vasprintf(&s, fmt, ap) < 0)
    s = NULL;
  va_end(ap);
  return s;
}

void tm_free(void *p) {
  free(p);
}

void tm__strv_free(char **v, size_t n) {
  if (!v)
    return;
  for (size_t i = 0; i < n; i++)
    free(v[i]);
  free(v);
}

/* --------------------------------------------------------------- names */

static const char *const status_names[] = {
#define TM__STATUS_NAME(name, msg) "TM_" #name,
    TM_STATUS_MAP(TM__STATUS_NAME)
#undef TM__STATUS_NAME
};

static const char *const status_messages[] = {
#define TM__STATUS_MSG(name, msg) msg,
    TM_STATUS_MAP(TM__STATUS_MSG)
#undef TM__STATUS_MSG
};

const char *tm_status_name(tm_status s) {
  return (unsigned)s < TM__STATUS_COUNT ? status_names[s] : "TM_UNKNOWN";
}

const char *tm_status_message(tm_status s) {
  return (unsigned)s < TM__STATUS_COUNT ? status_messages[s] : "unknown status";
}

/* Looks S up in NAMES[0..n); the index or -1. */
static int lookup(const char *const *names, int n, const char *s) {
  if (!s)
    return -1;
  for (int i = 0; i < n; i++)
    if (names[i] && strcmp(names[i], s) == 0)
      return i;
  return -1;
}

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const char *const record_status_names[] = {"draft", "approved",
                                                  "deprecated"};
static const char *const term_status_names[] = {"preferred", "admitted",
                                                "deprecated"};
static const char *const term_type_names[] = {"full", "abbreviation",
                                              "variant"};
static const char *const role_names[] = {"none", "contributor", "reviewer",
                                         "admin"};
static const char *const format_names[] = {"auto", "tmx", "tbx", "tbx-martif",
                                           "tsv",  "csv", "html"};

const char *tm_record_status_name(tm_record_status s) {
  return (int)s >= 0 && (int)s < COUNT(record_status_names)
             ? record_status_names[s]
             : "draft";
}

tm_status tm_record_status_parse(const char *s, tm_record_status *out) {
  int i = lookup(record_status_names, COUNT(record_status_names), s);
  if (i < 0)
    return TM_INVALID;
  *out = (tm_record_status)i;
  return TM_OK;
}

const char *tm_term_status_name(tm_term_status s) {
  return (int)s >= 0 && (int)s < COUNT(term_status_names) ? term_status_names[s]
                                                          : "admitted";
}

tm_status tm_term_status_parse(const char *s, tm_term_status *out) {
  int i = lookup(term_status_names, COUNT(term_status_names), s);
  if (i < 0)
    return TM_INVALID;
  *out = (tm_term_status)i;
  return TM_OK;
}

const char *tm_term_type_name(tm_term_type t) {
  return (int)t >= 0 && (int)t < COUNT(term_type_names) ? term_type_names[t]
                                                        : "full";
}

tm_status tm_term_type_parse(const char *s, tm_term_type *out) {
  int i = lookup(term_type_names, COUNT(term_type_names), s);
  if (i < 0)
    return TM_INVALID;
  *out = (tm_term_type)i;
  return TM_OK;
}

const char *tm_role_name(tm_role r) {
  return (int)r >= 0 && (int)r < COUNT(role_names) ? role_names[r] : "none";
}

tm_status tm_role_parse(const char *s, tm_role *out) {
  int i = lookup(role_names, COUNT(role_names), s);
  if (i <= 0)
    return TM_INVALID;
  *out = (tm_role)i;
  return TM_OK;
}

const char *tm_format_name(tm_format f) {
  return (int)f >= 0 && (int)f < COUNT(format_names) ? format_names[f] : "auto";
}

tm_status tm_format_parse(const char *s, tm_format *out) {
  int i = lookup(format_names, COUNT(format_names), s);
  if (i <= 0)
    return TM_INVALID;
  *out = (tm_format)i;
  return TM_OK;
}

tm_status tm_format_from_path(const char *path, tm_format *out) {
  const char *dot = strrchr(path, '.');
  char ext[8];
  size_t i;

  if (!dot || strchr(dot, '/') || strlen(dot + 1) >= sizeof ext)
    return TM_INVALID;
  for (i = 0; dot[1 + i]; i++)
    ext[i] = (char)(dot[1 + i] >= 'A' && dot[1 + i] <= 'Z' ? dot[1 + i] + 32
                                                           : dot[1 + i]);
  ext[i] = '\0';
  if (strcmp(ext, "tab") == 0 || strcmp(ext, "txt") == 0)
    strcpy(ext, "tsv");
  if (strcmp(ext, "htm") == 0)
    strcpy(ext, "html");
  return tm_format_parse(ext, out);
}

/* ------------------------------------------------------------- records */

static void props_free(tm_prop *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(p[i].type);
    free(p[i].value);
  }
  free(p);
}

void tm__unit_clear(tm_unit *u) {
  for (size_t i = 0; i < u->nvariants; i++) {
    free(u->variants[i].text);
    free(u->variants[i].markup);
  }
  free(u->variants);
  props_free(u->props, u->nprops);
  free(u->memory);
  free(u->origin);
  free(u->note);
  free(u->created_by);
  memset(u, 0, sizeof *u);
}

void tm_unit_free(tm_unit *u) {
  if (!u)
    return;
  tm__unit_clear(u);
  free(u);
}

void tm__entry_clear(tm_entry *e) {
  for (size_t i = 0; i < e->nterms; i++) {
    free(e->terms[i].text);
    free(e->terms[i].note);
    free(e->terms[i].pos);
  }
  free(e->terms);
  free(e->glossary);
  free(e->definition);
  free(e->note);
  free(e->domain);
  free(e->source);
  free(e->origin);
  free(e->created_by);
  memset(e, 0, sizeof *e);
}

void tm_entry_free(tm_entry *e) {
  if (!e)
    return;
  tm__entry_clear(e);
  free(e);
}

tm_status tm_unit_set(tm_unit *u, const char *lang, const char *text) {
  char canon[TM_LANG_MAX];
  tm_variant *v;
  char *copy;
  size_t i;

  if (tm_lang_canonical(lang, canon) != TM_OK)
    return TM_LANG;
  if (!(copy = tm__strdup(text)))
    return TM_NOMEM;
  for (i = 0; i < u->nvariants; i++)
    if (strcmp(u->variants[i].lang, canon) == 0) {
      free(u->variants[i].text);
      free(u->variants[i].markup);
      u->variants[i].text = copy;
      u->variants[i].markup = NULL;
      return TM_OK;
    }
  v = realloc(u->variants, (u->nvariants + 1) * sizeof *v);
  if (!v) {
    free(copy);
    return TM_NOMEM;
  }
  u->variants = v;
  v += u->nvariants++;
  memset(v, 0, sizeof *v);
  strcpy(v->lang, canon);
  v->text = copy;
  return TM_OK;
}

tm_status tm_entry_add_term(tm_entry *e, const char *lang, const char *text,
                            tm_term_status status, tm_term_type type,
                            const char *note) {
  char canon[TM_LANG_MAX];
  tm_term *t;

  if (tm_lang_canonical(lang, canon) != TM_OK)
    return TM_LANG;
  t = realloc(e->terms, (e->nterms + 1) * sizeof *t);
  if (!t)
    return TM_NOMEM;
  e->terms = t;
  t += e->nterms;
  memset(t, 0, sizeof *t);
  strcpy(t->lang, canon);
  t->status = status;
  t->type = type;
  t->text = tm__strdup(text);
  t->note = note ? tm__strdup(note) : NULL;
  if (!t->text || (note && !t->note)) {
    free(t->text);
    free(t->note);
    return TM_NOMEM;
  }
  e->nterms++;
  return TM_OK;
}

/* Copies *S into *D (NULL stays NULL); false on OOM. */
static bool dup_field(char **d, const char *s) {
  *d = NULL;
  return !s || (*d = tm__strdup(s)) != NULL;
}

tm_status tm__unit_copy(const tm_unit *src, tm_unit *dst) {
  bool ok = true;
  size_t i;

  memset(dst, 0, sizeof *dst);
  dst->id = src->id;
  dst->status = src->status;
  dst->created = src->created;
  dst->updated = src->updated;
  ok = dup_field(&dst->memory, src->memory) &&
       dup_field(&dst->origin, src->origin) &&
       dup_field(&dst->note, src->note) &&
       dup_field(&dst->created_by, src->created_by);
  if (ok && src->nvariants) {
    dst->variants = calloc(src->nvariants, sizeof *dst->variants);
    ok = dst->variants != NULL;
    for (i = 0; ok && i < src->nvariants; i++) {
      dst->nvariants++;
      strcpy(dst->variants[i].lang, src->variants[i].lang);
      ok = dup_field(&dst->variants[i].text, src->variants[i].text) &&
           dup_field(&dst->variants[i].markup, src->variants[i].markup);
    }
  }
  if (ok && src->nprops) {
    dst->props = calloc(src->nprops, sizeof *dst->props);
    ok = dst->props != NULL;
    for (i = 0; ok && i < src->nprops; i++) {
      dst->nprops++;
      strcpy(dst->props[i].lang, src->props[i].lang);
      ok = dup_field(&dst->props[i].type, src->props[i].type) &&
           dup_field(&dst->props[i].value, src->props[i].value);
    }
  }
  if (!ok) {
    tm__unit_clear(dst);
    return TM_NOMEM;
  }
  return TM_OK;
}

tm_status tm__entry_copy(const tm_entry *src, tm_entry *dst) {
  bool ok;
  size_t i;

  memset(dst, 0, sizeof *dst);
  dst->id = src->id;
  dst->status = src->status;
  dst->created = src->created;
  dst->updated = src->updated;
  ok = dup_field(&dst->glossary, src->glossary) &&
       dup_field(&dst->definition, src->definition) &&
       dup_field(&dst->note, src->note) &&
       dup_field(&dst->domain, src->domain) &&
       dup_field(&dst->source, src->source) &&
       dup_field(&dst->origin, src->origin) &&
       dup_field(&dst->created_by, src->created_by);
  if (ok && src->nterms) {
    dst->terms = calloc(src->nterms, sizeof *dst->terms);
    ok = dst->terms != NULL;
    for (i = 0; ok && i < src->nterms; i++) {
      const tm_term *s = &src->terms[i];
      tm_term *d = &dst->terms[i];
      dst->nterms++;
      strcpy(d->lang, s->lang);
      d->status = s->status;
      d->type = s->type;
      ok = dup_field(&d->text, s->text) && dup_field(&d->note, s->note) &&
           dup_field(&d->pos, s->pos);
    }
  }
  if (!ok) {
    tm__entry_clear(dst);
    return TM_NOMEM;
  }
  return TM_OK;
}

/* ------------------------------------------------------- normalisation */

/* The first character that XML 1.0 cannot carry (C0 controls but tab, LF
 * and CR; U+FFFE, U+FFFF), or NULL.  Such text could never be exported as
 * TMX or TBX, so it is refused at ingest. */
static const char *bad_control(const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
      return (const char *)p;
    if (p[0] == 0xEF && p[1] == 0xBF && (p[2] == 0xBE || p[2] == 0xBF))
      return (const char *)p;
  }
  return NULL;
}

/* Replaces *S by its NFC form; NULL stays NULL.  WHAT names the field in
 * the error.  Empty strings become NULL when EMPTY_NULL. */
static tm_status nfc_field(tm_db *db, char **s, const char *what,
                           bool empty_null) {
  char *out = NULL;
  size_t bad = 0, len;
  tm_status st;

  if (!*s)
    return TM_OK;
  len = strlen(*s);
  if (len > TM_TEXT_MAX)
    return tm__error(db, TM_TOOBIG, "%s is longer than %u bytes", what,
                     TM_TEXT_MAX);
  st = tm_text_nfc(db->text, *s, len, &out, &bad);
  if (st == TM_UTF8)
    return tm__error(db, st, "%s: invalid UTF-8 at byte %zu", what, bad);
  if (st == TM_OK && bad_control(out)) {
    size_t at = (size_t)(bad_control(out) - out);
    free(out);
    return tm__error(db, TM_INVALID,
                     "%s: a control character at byte %zu (only tab, line "
                     "feed and carriage return are text)",
                     what, at);
  }
  if (st != TM_OK)
    return tm__error(db, st, "%s: %s", what, tm_status_message(st));
  free(*s);
  *s = out;
  if (empty_null && !*out) {
    free(out);
    *s = NULL;
  }
  return TM_OK;
}

/* True when S has a character other than whitespace. */
static bool has_text(const char *s) {
  for (; s && *s; s++)
    if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
      return true;
  return false;
}

tm_status tm__unit_normalise(tm_db *db, tm_unit *u) {
  tm_status st;
  size_t i, j;

  if (u->nvariants < 2)
    return tm__error(db, TM_INVALID,
                     "a unit needs text in at least two languages");
  for (i = 0; i < u->nvariants; i++) {
    tm_variant *v = &u->variants[i];
    char canon[TM_LANG_MAX];
    if (tm_lang_canonical(v->lang, canon) != TM_OK)
      return tm__error(db, TM_LANG, "invalid language tag \"%s\"", v->lang);
    strcpy(v->lang, canon);
    if (!v->text || !has_text(v->text))
      return tm__error(db, TM_INVALID, "the %s text is empty", v->lang);
    if ((st = nfc_field(db, &v->text, v->lang, false)) != TM_OK ||
        (st = nfc_field(db, &v->markup, v->lang, true)) != TM_OK)
      return st;
    for (j = 0; j < i; j++)
      if (strcmp(u->variants[j].lang, v->lang) == 0)
        return tm__error(db, TM_INVALID, "language %s appears twice", v->lang);
  }
  for (i = 0; i < u->nprops; i++) {
    tm_prop *p = &u->props[i];
    if (p->lang[0]) {
      char canon[TM_LANG_MAX];
      if (tm_lang_canonical(p->lang, canon) != TM_OK)
        return tm__error(db, TM_LANG, "invalid language tag \"%s\"", p->lang);
      strcpy(p->lang, canon);
    }
    if (!p->value)
      return tm__error(db, TM_INVALID, "a property has no value");
    if ((st = nfc_field(db, &p->type, "property type", false)) != TM_OK ||
        (st = nfc_field(db, &p->value, "property", false)) != TM_OK)
      return st;
  }
  if ((st = nfc_field(db, &u->origin, "origin", true)) != TM_OK ||
      (st = nfc_field(db, &u->note, "note", true)) != TM_OK)
    return st;
  if ((int)u->status < 0 || u->status > TM_DEPRECATED)
    return tm__error(db, TM_INVALID, "invalid status");
  return TM_OK;
}

tm_status tm__entry_normalise(tm_db *db, tm_entry *e) {
  tm_status st;
  size_t i;

  if (e->nterms == 0)
    return tm__error(db, TM_INVALID, "an entry needs at least one term");
  for (i = 0; i < e->nterms; i++) {
    tm_term *t = &e->terms[i];
    char canon[TM_LANG_MAX];
    if (tm_lang_canonical(t->lang, canon) != TM_OK)
      return tm__error(db, TM_LANG, "invalid language tag \"%s\"", t->lang);
    strcpy(t->lang, canon);
    if (!t->text || !has_text(t->text))
      return tm__error(db, TM_INVALID, "an empty %s term", t->lang);
    if (strlen(t->text) > 1000)
      return tm__error(db, TM_TOOBIG, "a %s term is longer than 1000 bytes",
                       t->lang);
    if ((int)t->status < 0 || t->status > TM_TERM_DEPRECATED ||
        (int)t->type < 0 || t->type > TM_TERM_VARIANT)
      return tm__error(db, TM_INVALID, "invalid term status or type");
    if ((st = nfc_field(db, &t->text, "term", false)) != TM_OK ||
        (st = nfc_field(db, &t->note, "term note", true)) != TM_OK ||
        (st = nfc_field(db, &t->pos, "part of speech", true)) != TM_OK)
      return st;
  }
  if ((st = nfc_field(db, &e->definition, "definition", true)) != TM_OK ||
      (st = nfc_field(db, &e->note, "note", true)) != TM_OK ||
      (st = nfc_field(db, &e->domain, "domain", true)) != TM_OK ||
      (st = nfc_field(db, &e->source, "source", true)) != TM_OK ||
      (st = nfc_field(db, &e->origin, "origin", true)) != TM_OK)
    return st;
  if ((int)e->status < 0 || e->status > TM_DEPRECATED)
    return tm__error(db, TM_INVALID, "invalid status");
  return TM_OK;
}

/* FNV-1a over the variants in language order: equal units hash equal
 * whatever order their variants came in.  A match is confirmed by
 * comparing the text, so collisions cost only a lookup. */
uint64_t tm__unit_hash(const tm_unit *u) {
  uint64_t h = 0xcbf29ce484222325u;
  const char *prev = "";

  for (size_t k = 0; k < u->nvariants; k++) {
    const tm_variant *best = NULL;
    for (size_t i = 0; i < u->nvariants; i++) {
      const tm_variant *v = &u->variants[i];
      if (strcmp(v->lang, prev) > 0 &&
          (!best || strcmp(v->lang, best->lang) < 0))
        best = v;
    }
    if (!best)
      break;
    for (const char *p = best->lang; *p; p++)
      h = (h ^ (unsigned char)*p) * 0x100000001b3u;
    h = (h ^ 0xFF) * 0x100000001b3u;
    for (const char *p = best->text; *p; p++)
      h = (h ^ (unsigned char)*p) * 0x100000001b3u;
    h = (h ^ 0xFE) * 0x100000001b3u;
    prev = best->lang;
  }
  /* SQLite integers are signed: keep the top bit clear. */
  return h & 0x7FFFFFFFFFFFFFFFu;
}
