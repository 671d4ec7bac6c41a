/*
 * dsv.c - delimiter-separated files: TSV and CSV, for units and for
 * glossaries.  The header row names the columns: language tags, and for
 * units origin and note, for glossaries id, pos, definition, note, domain,
 * source and status.  In TSV, \t \n \r and \\ inside a cell stand for a
 * tab, a newline, a carriage return and a backslash; CSV quotes as RFC 4180
 * does.  Glossary cells hold synonyms separated by " | ", each optionally
 * annotated "{status, type; note}" (glossaries/README.md).
 */
#include "tm_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum col {
  COL_LANG,
  COL_ORIGIN,
  COL_NOTE,
  COL_ID,
  COL_POS,
  COL_DEFINITION,
  COL_DOMAIN,
  COL_SOURCE,
  COL_STATUS,
};

static const struct {
  const char *name;
  enum col col;
  bool glossary_only;
} named_cols[] = {
    {"origin", COL_ORIGIN, false},
    {"note", COL_NOTE, false},
    {"id", COL_ID, true},
    {"pos", COL_POS, true},
    {"definition", COL_DEFINITION, true},
    {"domain", COL_DOMAIN, true},
    {"source", COL_SOURCE, true},
    {"status", COL_STATUS, true},
};

#define NAMED_COLS (sizeof named_cols / sizeof named_cols[0])

/* A row being read: cells are NUL-terminated slices of one buffer. */
typedef struct row {
  char *buf;
  size_t len, cap;
  size_t *starts;
  size_t ncells, cellcap;
} row;

static bool row_putc(row *r, char c) {
  if (r->len == r->cap) {
    size_t ncap = r->cap ? r->cap * 2 : 1024;
    char *nb = realloc(r->buf, ncap);
    if (!nb)
      return false;
    r->buf = nb;
    r->cap = ncap;
  }
  r->buf[r->len++] = c;
  return true;
}

static bool row_new_cell(row *r) {
  if (r->ncells == r->cellcap) {
    size_t ncap = r->cellcap ? r->cellcap * 2 : 16;
    size_t *ns = realloc(r->starts, ncap * sizeof *ns);
    if (!ns)
      return false;
    r->starts = ns;
    r->cellcap = ncap;
  }
  r->starts[r->ncells++] = r->len;
  return true;
}

static const char *cell(const row *r, size_t i) {
  return i < r->ncells ? r->buf + r->starts[i] : "";
}

/*
 * Reads the row at *pos into R, advancing *pos and *line.  Returns 1 for a
 * row, 0 at the end of input, -1 for an error (message in *err).
 */
static int read_row(const char *buf, size_t len, size_t *pos, long *line,
                    char sep, row *r, const char **err) {
  size_t i = *pos;
  bool quoted = false;

  r->len = 0;
  r->ncells = 0;
  if (i >= len)
    return 0;
  if (!row_new_cell(r))
    goto oom;
  while (i < len) {
    char c = buf[i];
    /* Cells are C strings from here on: a NUL would cut one short and
     * store the rest of it nowhere. */
    if (c == '\0') {
      *err = "a NUL byte: the file is not UTF-8 text";
      return -1;
    }
    if (sep == ',' && quoted) {
      if (c == '"') {
        if (i + 1 < len && buf[i + 1] == '"') {
          if (!row_putc(r, '"'))
            goto oom;
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      if (c == '\n')
        (*line)++;
      if (!row_putc(r, c))
        goto oom;
      i++;
      continue;
    }
    if (c == '\n' || (c == '\r' && i + 1 < len && buf[i + 1] == '\n')) {
      i += c == '\r' ? 2 : 1;
      break;
    }
    if (c == sep) {
      if (!row_putc(r, '\0') || !row_new_cell(r))
        goto oom;
      i++;
      continue;
    }
    if (sep == ',' && c == '"' && r->len == r->starts[r->ncells - 1]) {
      quoted = true;
      i++;
      continue;
    }
    if (sep == '\t' && c == '\\' && i + 1 < len) {
      char e = buf[i + 1];
      char out = e == 't' ? '\t' : e == 'n' ? '\n' : e == 'r' ? '\r' : e;
      if (e != 't' && e != 'n' && e != 'r' && e != '\\') {
        *err = "unknown escape sequence (\\t, \\n, \\r and \\\\ are known)";
        return -1;
      }
      if (!row_putc(r, out))
        goto oom;
      i += 2;
      continue;
    }
    if (!row_putc(r, c))
      goto oom;
    i++;
  }
  if (quoted) {
    *err = "a quoted cell is not closed";
    return -1;
  }
  if (!row_putc(r, '\0'))
    goto oom;
  *pos = i;
  (*line)++;
  return 1;
oom:
  *err = NULL;
  return -1;
}

static bool row_blank(const row *r) {
  for (size_t i = 0; i < r->ncells; i++)
    if (*cell(r, i))
      return false;
  return true;
}

static void row_free(row *r) {
  free(r->buf);
  free(r->starts);
}

/* Skips a UTF-8 byte order mark. */
static size_t bom(const char *buf, size_t len) {
  return len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
}

static bool column_name(const char *name, enum col *col, bool *gloss) {
  for (size_t i = 0; i < NAMED_COLS; i++)
    if (strcasecmp(name, named_cols[i].name) == 0) {
      *col = named_cols[i].col;
      *gloss = named_cols[i].glossary_only;
      return true;
    }
  return false;
}

tm_kind tm__dsv_sniff_kind(const char *buf, size_t len, char sep) {
  size_t pos = bom(buf, len);
  long line = 0;
  const char *err;
  tm_kind kind = TM_MEMORY;
  row r = {0};

  if (read_row(buf, len, &pos, &line, sep, &r, &err) == 1)
    for (size_t i = 0; i < r.ncells; i++) {
      enum col col;
      bool gloss;
      if (column_name(cell(&r, i), &col, &gloss) && gloss)
        kind = TM_GLOSSARY;
    }
  row_free(&r);
  return kind;
}

/* ------------------------------------------------------- glossary cells */

/* Parses "{kw, kw; note}" at the end of a term (T is modified in place).
 * Returns false when the braces are not an annotation, leaving T alone. */
static bool parse_annotation(char *t, tm_term_status *status,
                             tm_term_type *type, bool *status_set,
                             char **note) {
  size_t n = strlen(t);
  char *open, *body, *semi, *kw, *save = NULL;
  tm_term_status st = *status;
  tm_term_type ty = *type;
  bool set = false;
  char tmp[256];

  if (n < 3 || t[n - 1] != '}' || !(open = strrchr(t, '{')) || open == t)
    return false;
  body = open + 1;
  semi = strchr(body, ';');
  if ((size_t)((semi ? semi : t + n - 1) - body) >= sizeof tmp)
    return false;
  memcpy(tmp, body, (size_t)((semi ? semi : t + n - 1) - body));
  tmp[(semi ? semi : t + n - 1) - body] = '\0';
  for (kw = strtok_r(tmp, ",", &save); kw; kw = strtok_r(NULL, ",", &save)) {
    while (*kw == ' ')
      kw++;
    for (char *e = kw + strlen(kw); e > kw && e[-1] == ' ';)
      *--e = '\0';
    if (tm_term_status_parse(kw, &st) == TM_OK)
      set = true;
    else if (tm_term_type_parse(kw, &ty) != TM_OK)
      return false;
  }
  if (semi) {
    char *s = semi + 1;
    while (*s == ' ')
      s++;
    t[n - 1] = '\0';
    if (*s && !(*note = tm__strdup(s)))
      return false;
  }
  *status = st;
  *type = ty;
  *status_set = set;
  while (open > t && open[-1] == ' ')
    open--;
  *open = '\0';
  return true;
}

/* Adds the terms of one language cell to E. */
static tm_status add_terms(tm_db *db, tm_entry *e, const char *lang,
                           const char *text, const char *pos) {
  char *copy = tm__strdup(text), *p, *next;
  size_t first = e->nterms;
  tm_status s = TM_OK;

  if (!copy)
    return TM_NOMEM;
  for (p = copy; p && s == TM_OK; p = next) {
    char *note = NULL;
    tm_term_status status =
        e->nterms == first ? TM_TERM_PREFERRED : TM_TERM_ADMITTED;
    tm_term_type type = TM_TERM_FULL;
    bool status_set = false;

    next = strstr(p, " | ");
    if (next) {
      *next = '\0';
      next += 3;
    }
    while (*p == ' ')
      p++;
    for (char *end = p + strlen(p); end > p && end[-1] == ' ';)
      *--end = '\0';
    if (!*p)
      continue;
    parse_annotation(p, &status, &type, &status_set, &note);
    s = tm_entry_add_term(e, lang, p, status, type, note);
    if (s == TM_OK && pos && *pos &&
        !(e->terms[e->nterms - 1].pos = tm__strdup(pos)))
      s = TM_NOMEM;
    free(note);
    if (s == TM_LANG)
      s = tm__error(db, s, "invalid language tag \"%s\"", lang);
  }
  free(copy);
  return s;
}

/* ---------------------------------------------------------------- import */

tm_status tm__dsv_import(tm__ingest *in, const tm__input *src, char sep) {
  tm_db *db = in->db;
  size_t pos = bom(src->buf, src->len), ncols;
  long line = 0, row_line;
  enum col *cols = NULL;
  char(*langs)[TM_LANG_MAX] = NULL;
  const char *err = NULL;
  tm_status s = TM_OK;
  row r = {0};
  int got;

  got = read_row(src->buf, src->len, &pos, &line, sep, &r, &err);
  if (got <= 0) {
    row_free(&r);
    if (got == 0)
      return TM_OK; /* an empty file imports nothing */
    s = err ? tm__error(db, TM_PARSE, "%s", err) : TM_NOMEM;
    return tm__at_line(in, line + 1, s);
  }
  ncols = r.ncells;
  cols = calloc(ncols, sizeof *cols);
  langs = calloc(ncols, sizeof *langs);
  if (!cols || !langs) {
    s = TM_NOMEM;
    goto out;
  }
  for (size_t i = 0; i < ncols; i++) {
    const char *name = cell(&r, i);
    bool gloss;
    if (tm__utf8_check(name, strlen(name)) != strlen(name)) {
      s = tm__at_line(in, 1, tm__error(db, TM_UTF8, "invalid UTF-8"));
      goto out;
    }
    if (column_name(name, &cols[i], &gloss)) {
      if (gloss && in->kind == TM_MEMORY) {
        s = tm__at_line(in, 1,
                        tm__error(db, TM_PARSE,
                                  "column \"%s\" belongs to a "
                                  "glossary, not a memory",
                                  name));
        goto out;
      }
      continue;
    }
    if (tm_lang_canonical(name, langs[i]) != TM_OK) {
      s = tm__at_line(in, 1,
                      tm__error(db, TM_LANG,
                                "column %zu: \"%s\" is neither a language tag "
                                "nor a known column",
                                i + 1, name));
      goto out;
    }
    cols[i] = COL_LANG;
    for (size_t j = 0; j < i; j++)
      if (cols[j] == COL_LANG && strcmp(langs[j], langs[i]) == 0) {
        s = tm__at_line(
            in, 1,
            tm__error(db, TM_PARSE, "language %s has two columns", langs[i]));
        goto out;
      }
  }

  for (;;) {
    tm_unit u = {0};
    tm_entry e = {0};
    const char *pos_cell = NULL;

    row_line = line + 1;
    got = read_row(src->buf, src->len, &pos, &line, sep, &r, &err);
    if (got == 0)
      break;
    if (got < 0) {
      s = err ? tm__at_line(in, row_line, tm__error(db, TM_PARSE, "%s", err))
              : TM_NOMEM;
      goto out;
    }
    if (row_blank(&r))
      continue;
    if (r.ncells > ncols) {
      s = tm__at_line(in, row_line,
                      tm__error(db, TM_PARSE,
                                "%zu cells, but the header has %zu columns",
                                r.ncells, ncols));
      goto out;
    }
    for (size_t i = 0; i < r.ncells; i++) {
      const char *c = cell(&r, i);
      size_t n = strlen(c);
      if (tm__utf8_check(c, n) != n) {
        s = tm__at_line(
            in, row_line,
            tm__error(db, TM_UTF8, "column %zu: invalid UTF-8", i + 1));
        goto out;
      }
      if (cols[i] == COL_POS)
        pos_cell = c;
    }
    for (size_t i = 0; i < r.ncells && s == TM_OK; i++) {
      const char *c = cell(&r, i);
      char **field = NULL;
      if (!*c)
        continue;
      switch (cols[i]) {
      case COL_LANG:
        s = in->kind == TM_MEMORY ? tm_unit_set(&u, langs[i], c)
                                  : add_terms(db, &e, langs[i], c, pos_cell);
        break;
      case COL_ORIGIN:
      case COL_ID:
        field = in->kind == TM_MEMORY ? &u.origin : &e.origin;
        break;
      case COL_NOTE:
        field = in->kind == TM_MEMORY ? &u.note : &e.note;
        break;
      case COL_DEFINITION:
        field = &e.definition;
        break;
      case COL_DOMAIN:
        field = &e.domain;
        break;
      case COL_SOURCE:
        field = &e.source;
        break;
      case COL_STATUS:
        if (tm_record_status_parse(c, &e.status) != TM_OK)
          s = tm__error(db, TM_PARSE,
                        "status \"%s\": expected draft, approved or "
                        "deprecated",
                        c);
        break;
      case COL_POS:
        break;
      }
      if (field && !*field && !(*field = tm__strdup(c)))
        s = TM_NOMEM;
    }
    if (s == TM_OK)
      s = in->kind == TM_MEMORY ? tm__ingest_unit(in, &u)
                                : tm__ingest_entry(in, &e);
    tm__unit_clear(&u);
    tm__entry_clear(&e);
    if (s != TM_OK) {
      s = tm__at_line(in, row_line, s);
      goto out;
    }
    if ((in->res->records & 1023) == 0 &&
        (s = tm__progress(in, src, pos)) != TM_OK)
      goto out;
  }
  s = tm__progress(in, src, src->len);
out:
  free(cols);
  free(langs);
  row_free(&r);
  return s;
}

/* ---------------------------------------------------------------- export */

struct dsv_ctx {
  tm__output *o;
  char **langs;
  size_t nl;
  char sep;
  const char *domain; /* glossaries: only this domain */
};

static tm_status unit_row(void *arg, const tm_unit *u);
static tm_status entry_row(void *arg, const tm_entry *e);

tm_status tm__out(tm__output *o, const void *buf, size_t len) {
  if (o->failed)
    return TM_IO;
  if (len && o->write(o->ctx, buf, len) != 0) {
    o->failed = 1;
    return TM_IO;
  }
  return TM_OK;
}

tm_status tm__outs(tm__output *o, const char *s) {
  return tm__out(o, s, strlen(s));
}

/* Writes one cell, escaped for the format. */
static tm_status out_cell(tm__output *o, const char *s, char sep, bool first) {
  tm_status st = TM_OK;

  if (!first && (st = tm__out(o, &sep, 1)) != TM_OK)
    return st;
  if (!s)
    return TM_OK;
  if (sep == '\t') {
    const char *run = s;
    for (; *s; s++) {
      const char *esc = *s == '\t'   ? "\\t"
                        : *s == '\n' ? "\\n"
                        : *s == '\r' ? "\\r"
                        : *s == '\\' ? "\\\\"
                                     : NULL;
      if (!esc)
        continue;
      if ((st = tm__out(o, run, (size_t)(s - run))) != TM_OK ||
          (st = tm__outs(o, esc)) != TM_OK)
        return st;
      run = s + 1;
    }
    return tm__out(o, run, (size_t)(s - run));
  }
  if (!strpbrk(s, ",\"\r\n"))
    return tm__outs(o, s);
  if ((st = tm__out(o, "\"", 1)) != TM_OK)
    return st;
  for (const char *q; (q = strchr(s, '"')); s = q + 1)
    if ((st = tm__out(o, s, (size_t)(q - s + 1))) != TM_OK ||
        (st = tm__out(o, "\"", 1)) != TM_OK)
      return st;
  if ((st = tm__outs(o, s)) != TM_OK)
    return st;
  return tm__out(o, "\"", 1);
}

/* The languages to export: the requested ones, else every one in use. */
static tm_status export_langs(tm_db *db, int64_t collection, tm_kind kind,
                              const tm_export_opts *opts, char ***langs,
                              size_t *n) {
  if (opts->langs && opts->nlangs) {
    char **v = calloc(opts->nlangs, sizeof *v);
    if (!v)
      return TM_NOMEM;
    for (size_t i = 0; i < opts->nlangs; i++) {
      char canon[TM_LANG_MAX];
      if (tm_lang_canonical(opts->langs[i], canon) != TM_OK) {
        tm__strv_free(v, i);
        return tm__error(db, TM_LANG, "invalid language tag \"%s\"",
                         opts->langs[i]);
      }
      if (!(v[i] = tm__strdup(canon))) {
        tm__strv_free(v, i);
        return TM_NOMEM;
      }
    }
    *langs = v;
    *n = opts->nlangs;
    return TM_OK;
  }
  if (kind == TM_MEMORY)
    return tm__unit_langs(db, collection, langs, n);
  return tm__entry_langs(db, collection, langs, n);
}

/* "text {status, type; note}" when anything differs from the defaults. */
static char *annotated(const tm_term *t, bool first) {
  tm_term_status def = first ? TM_TERM_PREFERRED : TM_TERM_ADMITTED;
  bool st = t->status != def, ty = t->type != TM_TERM_FULL;

  if (!st && !ty && !t->note)
    return tm__strdup(t->text);
  return tm__asprintf("%s {%s%s%s%s%s}", t->text,
                      st || !ty ? tm_term_status_name(t->status) : "",
                      st && ty ? ", " : "",
                      ty ? tm_term_type_name(t->type) : "", t->note ? "; " : "",
                      t->note ? t->note : "");
}

static tm_status export_entry(tm__output *o, const tm_entry *e, char **langs,
                              size_t nl, char sep) {
  tm_status s = TM_OK;
  const char *pos = NULL;

  for (size_t i = 0; i < e->nterms && !pos; i++)
    pos = e->terms[i].pos;
  if ((s = out_cell(o, e->origin, sep, true)) != TM_OK ||
      (s = out_cell(o, e->domain, sep, false)) != TM_OK ||
      (s = out_cell(o, pos, sep, false)) != TM_OK)
    return s;
  for (size_t l = 0; l < nl && s == TM_OK; l++) {
    char *joined = NULL;
    size_t len = 0;
    bool first = true;
    for (size_t i = 0; i < e->nterms; i++) {
      char *a, *nj;
      if (strcmp(e->terms[i].lang, langs[l]) != 0)
        continue;
      if (!(a = annotated(&e->terms[i], first))) {
        free(joined);
        return TM_NOMEM;
      }
      nj = realloc(joined, len + strlen(a) + 4);
      if (!nj) {
        free(a);
        free(joined);
        return TM_NOMEM;
      }
      joined = nj;
      len += (size_t)sprintf(joined + len, "%s%s", first ? "" : " | ", a);
      first = false;
      free(a);
    }
    s = out_cell(o, joined ? joined : "", sep, false);
    free(joined);
  }
  if (s == TM_OK && ((s = out_cell(o, e->definition, sep, false)) != TM_OK ||
                     (s = out_cell(o, e->note, sep, false)) != TM_OK ||
                     (s = out_cell(o, e->source, sep, false)) != TM_OK ||
                     (s = out_cell(o, tm_record_status_name(e->status), sep,
                                   false)) != TM_OK))
    return s;
  return s == TM_OK ? tm__out(o, "\n", 1) : s;
}

tm_status tm__dsv_export(tm_db *db, int64_t collection, tm_kind kind,
                         const tm_export_opts *opts, tm__output *o, char sep) {
  char **langs = NULL;
  size_t nl = 0;
  tm_status s;

  if ((s = export_langs(db, collection, kind, opts, &langs, &nl)) != TM_OK)
    return s;
  if (kind == TM_MEMORY) {
    for (size_t i = 0; i < nl && s == TM_OK; i++)
      s = out_cell(o, langs[i], sep, i == 0);
    if (s == TM_OK && (s = out_cell(o, "origin", sep, nl == 0)) == TM_OK &&
        (s = out_cell(o, "note", sep, false)) == TM_OK)
      s = tm__out(o, "\n", 1);
    if (s == TM_OK)
      s = tm__units_each(db, collection, opts->approved_only, unit_row,
                         &(struct dsv_ctx){o, langs, nl, sep, NULL});
  } else {
    static const char *const head[] = {"id", "domain", "pos"};
    static const char *const tail[] = {"definition", "note", "source",
                                       "status"};
    for (size_t i = 0; i < 3 && s == TM_OK; i++)
      s = out_cell(o, head[i], sep, i == 0);
    for (size_t i = 0; i < nl && s == TM_OK; i++)
      s = out_cell(o, langs[i], sep, false);
    for (size_t i = 0; i < 4 && s == TM_OK; i++)
      s = out_cell(o, tail[i], sep, false);
    if (s == TM_OK)
      s = tm__out(o, "\n", 1);
    if (s == TM_OK)
      s = tm__entries_each(db, collection,
                           opts->sort_lang ? opts->sort_lang
                           : nl            ? langs[0]
                                           : "en",
                           opts->approved_only, entry_row,
                           &(struct dsv_ctx){o, langs, nl, sep, opts->domain});
  }
  tm__strv_free(langs, nl);
  if (s == TM_IO && o->failed)
    return tm__error(db, TM_IO, "writing the export failed");
  return s;
}

static tm_status unit_row(void *arg, const tm_unit *u) {
  struct dsv_ctx *c = arg;
  tm_status s = TM_OK;
  bool any = false;

  for (size_t l = 0; l < c->nl; l++)
    for (size_t i = 0; i < u->nvariants; i++)
      if (strcmp(u->variants[i].lang, c->langs[l]) == 0)
        any = true;
  if (!any)
    return TM_OK;
  for (size_t l = 0; l < c->nl && s == TM_OK; l++) {
    const char *text = NULL;
    for (size_t i = 0; i < u->nvariants; i++)
      if (strcmp(u->variants[i].lang, c->langs[l]) == 0)
        text = u->variants[i].text;
    s = out_cell(c->o, text, c->sep, l == 0);
  }
  if (s == TM_OK &&
      (s = out_cell(c->o, u->origin, c->sep, c->nl == 0)) == TM_OK &&
      (s = out_cell(c->o, u->note, c->sep, false)) == TM_OK)
    s = tm__out(c->o, "\n", 1);
  return s;
}

static tm_status entry_row(void *arg, const tm_entry *e) {
  struct dsv_ctx *c = arg;

  if (c->domain && (!e->domain || strcmp(e->domain, c->domain) != 0))
    return TM_OK;
  return export_entry(c->o, e, c->langs, c->nl, c->sep);
}

/* One glossary row and one cell, as the export writes them, for the prep
 * sheet of an analysed document (prep.c). */
tm_status tm__dsv_entry_row(tm__output *o, const tm_entry *e, char **langs,
                            size_t nl, char sep) {
  return export_entry(o, e, langs, nl, sep);
}

tm_status tm__dsv_cell(tm__output *o, const char *s, char sep, bool first) {
  return out_cell(o, s, sep, first);
}
