/*
 * html.c - the booth sheet: a glossary as one self-contained, printable
 * HTML5 page (UTF-8, inline CSS for A4, no script, nothing fetched), in
 * the ICU collation order of one language, with an alphabet heading
 * wherever the first letter of that language's term changes.
 *
 * The heading of an entry comes from its first term in the sort language
 * (the term tm_entry_list sorts by): for a Hangul syllable its initial
 * consonant (tm_text_initials), the doubled ones under their plain letter
 * (까 under ㄱ, as Korean dictionaries group them); for anything else the
 * first letter of the folded term, upper-cased by a table covering Latin,
 * Greek, Cyrillic and Armenian (folding already took Latin accents off, so
 * É is under E, while Ukrainian Ґ, Є, Ї stay letters of their own); "0–9"
 * for digits and "#" for punctuation and symbols.  Headings follow the
 * entries, so they come in collation order (Г, Ґ, Д for Ukrainian;
 * ㄱ, ㄴ, ㄷ for Korean).  Entries without a term in the sort language come
 * last, under a heading that says so.
 *
 * Columns: the languages asked for (default en, ko, uk), the sort language
 * first when it is one of them.  A column shows the terms of its language
 * (an "en" column also takes "en-GB" terms when there is no "en-GB"
 * column): preferred terms in bold, others plain, deprecated ones struck
 * through and labelled, abbreviations labelled, each with its note.  The
 * definition, the note and the domain (unless the sheet is for one domain,
 * named in its title) follow in small type.
 *
 * All text is escaped; characters HTML forbids (C0 and C1 controls other
 * than tab and line breaks) are written as U+FFFD.
 */
#include "tm_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- letters */

/* Decodes the code point at S (valid UTF-8); *n receives its length. */
static uint32_t utf8_decode(const char *s, size_t *n) {
  const unsigned char *p = (const unsigned char *)s;

  if (p[0] < 0x80) {
    *n = p[0] ? 1 : 0;
    return p[0];
  }
  if ((p[0] & 0xE0) == 0xC0) {
    *n = 2;
    return (uint32_t)(p[0] & 0x1F) << 6 | (p[1] & 0x3F);
  }
  if ((p[0] & 0xF0) == 0xE0) {
    *n = 3;
    return (uint32_t)(p[0] & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 |
           (p[2] & 0x3F);
  }
  *n = 4;
  return (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3F) << 12 |
         (uint32_t)(p[2] & 0x3F) << 6 | (p[3] & 0x3F);
}

static void utf8_encode(uint32_t c, char out[5]) {
  if (c < 0x80) {
    out[0] = (char)c;
    out[1] = '\0';
  } else if (c < 0x800) {
    out[0] = (char)(0xC0 | c >> 6);
    out[1] = (char)(0x80 | (c & 0x3F));
    out[2] = '\0';
  } else if (c < 0x10000) {
    out[0] = (char)(0xE0 | c >> 12);
    out[1] = (char)(0x80 | (c >> 6 & 0x3F));
    out[2] = (char)(0x80 | (c & 0x3F));
    out[3] = '\0';
  } else {
    out[0] = (char)(0xF0 | c >> 18);
    out[1] = (char)(0x80 | (c >> 12 & 0x3F));
    out[2] = (char)(0x80 | (c >> 6 & 0x3F));
    out[3] = (char)(0x80 | (c & 0x3F));
    out[4] = '\0';
  }
}

/* The capital of a folded (lower-case) letter, for the scripts whose case
 * pairs follow simple patterns; others come back as they are. */
static uint32_t upper(uint32_t c) {
  if (c >= 'a' && c <= 'z')
    return c - 0x20;
  if (c >= 0xE0 && c <= 0xFE && c != 0xF7) /* Latin-1 */
    return c - 0x20;
  if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177))
    return c & ~1u; /* Latin Extended-A: even upper, odd lower */
  if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
    return c % 2 ? c : c - 1;                 /* ...odd upper, even lower */
  if (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2) /* Greek */
    return c - 0x20;
  if (c >= 0x430 && c <= 0x44F) /* Cyrillic а-я */
    return c - 0x20;
  if (c >= 0x450 && c <= 0x45F) /* ѐ-џ, with є і ї */
    return c - 0x50;
  if ((c >= 0x460 && c <= 0x481) || (c >= 0x48A && c <= 0x4BF) ||
      (c >= 0x4D0 && c <= 0x4FF))
    return c & ~1u; /* ґ -> Ґ among them */
  if (c >= 0x4C1 && c <= 0x4CE)
    return c % 2 ? c : c - 1;
  if (c >= 0x561 && c <= 0x586) /* Armenian */
    return c - 0x30;
  return c;
}

/* Punctuation and symbols: no letter to head a section. */
static bool symbol(uint32_t c) {
  return c < 0x80
             ? !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
             : (c >= 0x80 && c <= 0xBF) || c == 0xD7 || c == 0xF7 ||
                   (c >= 0x2000 && c <= 0x2BFF) ||
                   (c >= 0x3000 && c <= 0x303F) ||
                   (c >= 0xFE30 && c <= 0xFE6F) || (c >= 0xFF00 && c <= 0xFF20);
}

/* Korean compatibility jamo: ㄲ ㄸ ㅃ ㅆ ㅉ go under ㄱ ㄷ ㅂ ㅅ ㅈ. */
static uint32_t plain_consonant(uint32_t c) {
  switch (c) {
  case 0x3132:
    return 0x3131;
  case 0x3138:
    return 0x3137;
  case 0x3143:
    return 0x3142;
  case 0x3146:
    return 0x3145;
  case 0x3149:
    return 0x3148;
  default:
    return c;
  }
}

#define HEADING_MAX 16

/* The heading of TERM in language LANG. */
static tm_status heading(tm_db *db, const char *lang, const char *term,
                         char out[HEADING_MAX]) {
  char *key = NULL;
  size_t n;
  uint32_t c = utf8_decode(term, &n);
  tm_status s;

  if ((c >= 0xAC00 && c <= 0xD7A3) || (c >= 0x1100 && c <= 0x1112) ||
      (c >= 0x3131 && c <= 0x314E)) {
    if ((s = tm_text_initials(db->text, term, n, &key)) != TM_OK)
      return s;
    c = plain_consonant(utf8_decode(key, &n));
  } else {
    if ((s = tm_text_fold(db->text, lang, term, strlen(term), &key)) != TM_OK)
      return s;
    c = utf8_decode(key, &n);
    if (c >= '0' && c <= '9') {
      free(key);
      snprintf(out, HEADING_MAX,
               "0\xE2\x80\x93"
               "9");
      return TM_OK;
    }
    c = n == 0 || symbol(c) ? '#' : upper(c);
  }
  free(key);
  utf8_encode(c ? c : '#', out);
  return TM_OK;
}

/* ---------------------------------------------------------------- sheet */

typedef struct sheet {
  tm_db *db;
  tm__hout h;
  char (*cols)[TM_LANG_MAX];
  size_t ncols;
  char sort[TM_LANG_MAX];
  const char *domain;
  char current[HEADING_MAX]; /* the open section's heading; "" none */
  bool open, in_none;
  unsigned sections;
  uint64_t entries;
} sheet;

/* The column of a term in language TAG, or -1: the column of its exact
 * tag, else the first that covers it. */
static long column_of(const sheet *sh, const char *tag) {
  for (size_t i = 0; i < sh->ncols; i++)
    if (strcmp(sh->cols[i], tag) == 0)
      return (long)i;
  for (size_t i = 0; i < sh->ncols; i++)
    if (tm__lang_covers(sh->cols[i], tag))
      return (long)i;
  return -1;
}

static const char css[] =
    "@page{size:A4;margin:12mm 11mm 14mm}\n"
    "html{font:10pt/1.35 \"Noto Sans\",\"Noto Sans CJK KR\",\"Noto Sans KR\","
    "\"Malgun Gothic\",\"Apple SD Gothic Neo\",\"DejaVu Sans\",Arial,"
    "sans-serif;color:#000;background:#fff}\n"
    "body{margin:0 auto;padding:8mm;max-width:200mm}\n"
    "h1{font-size:16pt;margin:0 0 1mm}\n"
    "h1 .dom{font-weight:normal}\n"
    ".meta,footer{font-size:8pt;color:#444}\n"
    "h2.letter{font-size:14pt;margin:5mm 0 1mm;padding-bottom:.5mm;"
    "border-bottom:1.2pt solid #000;break-after:avoid;"
    "page-break-after:avoid}\n"
    "h2.none{font-size:11pt}\n"
    "table{width:100%;border-collapse:collapse;table-layout:fixed}\n"
    "thead{display:table-header-group}\n"
    "th{text-align:left;font-size:7.5pt;font-weight:normal;color:#555;"
    "padding:0 2mm .5mm 0;border-bottom:.5pt solid #999}\n"
    "th .tag{color:#888}\n"
    "td{vertical-align:top;padding:1mm 2.5mm 1mm 0;overflow-wrap:anywhere}\n"
    "tbody.e{break-inside:avoid;page-break-inside:avoid}\n"
    "tbody.e>tr:last-child>td{border-bottom:.3pt solid #bbb}\n"
    ".t{display:block}\n"
    ".pref{font-weight:bold}\n"
    ".dep del{text-decoration:line-through;color:#555}\n"
    ".lbl{font-size:6.5pt;font-weight:normal;text-transform:uppercase;"
    "letter-spacing:.03em;border:.4pt solid #888;border-radius:2pt;"
    "padding:0 1.5pt;margin-left:1.5mm;color:#333;white-space:nowrap;"
    "vertical-align:1pt}\n"
    ".dep .lbl{border-color:#000;color:#000}\n"
    ".tn,.d{font-size:7.5pt;color:#333;font-weight:normal;"
    "white-space:pre-line}\n"
    ".tn{display:block;margin-left:2mm}\n"
    "tr.d>td{padding-top:0}\n"
    ".d .dom{font-style:italic;margin-right:2mm}\n"
    ".d .def{margin-right:2mm}\n"
    ".d .note::before{content:\"Note: \";font-weight:bold}\n"
    ":lang(ko){word-break:keep-all}\n"
    "@media print{body{padding:0;max-width:none}"
    "h2.letter{margin-top:3mm}}\n";

static void head(sheet *sh, const char *name, const char *when) {
  tm__hout *h = &sh->h;

  tm__hout_puts(h,
                "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
                "<meta charset=\"utf-8\">\n"
                "<meta name=\"viewport\" content=\"width=device-width, "
                "initial-scale=1\">\n<meta name=\"generator\" content=\"tm\">\n"
                "<title>");
  tm__hout_esc(h, name);
  if (sh->domain) {
    tm__hout_puts(h, " \xE2\x80\x94 ");
    tm__hout_esc(h, sh->domain);
  }
  tm__hout_puts(h, " \xC2\xB7 booth sheet</title>\n<style>\n");
  tm__hout_puts(h, css);
  tm__hout_puts(h, "</style>\n</head>\n<body>\n<header>\n<h1>");
  tm__hout_esc(h, name);
  if (sh->domain) {
    tm__hout_puts(h, " <span class=\"dom\">\xE2\x80\x94 ");
    tm__hout_esc(h, sh->domain);
    tm__hout_puts(h, "</span>");
  }
  tm__hout_puts(h, "</h1>\n<p class=\"meta\">Sorted by ");
  tm__hout_esc(h, tm__lang_name(sh->sort));
  tm__hout_puts(h, " (");
  tm__hout_esc(h, sh->sort);
  tm__hout_puts(h, ") \xC2\xB7 ");
  tm__hout_esc(h, when);
  tm__hout_puts(h, "</p>\n</header>\n<main>\n");
}

static void close_section(sheet *sh) {
  if (sh->open)
    tm__hout_puts(&sh->h, "</table>\n</section>\n");
  sh->open = false;
}

static void open_section(sheet *sh, const char *title, bool none) {
  tm__hout *h = &sh->h;
  char id[32];

  close_section(sh);
  snprintf(id, sizeof id, "s%u", ++sh->sections);
  tm__hout_puts(h, "<section>\n<h2 class=\"letter");
  tm__hout_puts(h, none ? " none" : "");
  tm__hout_puts(h, "\" id=\"");
  tm__hout_puts(h, id);
  tm__hout_puts(h, "\">");
  tm__hout_esc(h, title);
  tm__hout_puts(h, "</h2>\n<table>\n<thead><tr>");
  for (size_t i = 0; i < sh->ncols; i++) {
    tm__hout_puts(h, "<th lang=\"");
    tm__hout_esc(h, sh->cols[i]);
    tm__hout_puts(h, "\">");
    tm__hout_esc(h, tm__lang_name(sh->cols[i]));
    tm__hout_puts(h, " <span class=\"tag\">");
    tm__hout_esc(h, sh->cols[i]);
    tm__hout_puts(h, "</span></th>");
  }
  tm__hout_puts(h, "</tr></thead>\n");
  sh->open = true;
}

static void term_html(tm__hout *h, const tm_term *t) {
  bool dep = t->status == TM_TERM_DEPRECATED;

  tm__hout_puts(h, dep ? "<span class=\"t dep\"><del>"
                   : t->status == TM_TERM_PREFERRED ? "<span class=\"t pref\">"
                                                    : "<span class=\"t\">");
  tm__hout_esc(h, t->text);
  if (dep)
    tm__hout_puts(h, "</del><span class=\"lbl\">deprecated</span>");
  if (t->type == TM_TERM_ABBREVIATION)
    tm__hout_puts(h, "<span class=\"lbl\">abbr.</span>");
  if (t->note) {
    tm__hout_puts(h, "<span class=\"tn\">");
    tm__hout_esc(h, t->note);
    tm__hout_puts(h, "</span>");
  }
  tm__hout_puts(h, "</span>");
}

static tm_status entry_html(sheet *sh, const tm_entry *e) {
  tm__hout *h = &sh->h;
  const tm_term *key = NULL;
  bool any = false;
  char title[HEADING_MAX];
  tm_status s;

  if (sh->domain && (!e->domain || strcmp(e->domain, sh->domain) != 0))
    return TM_OK;
  for (size_t i = 0; i < e->nterms && !any; i++)
    any = column_of(sh, e->terms[i].lang) >= 0;
  if (!any)
    return TM_OK;
  /* The term the listing sorted by: the first in the sort language
   * itself, else in one of its subtags. */
  for (size_t i = 0; i < e->nterms && !key; i++)
    if (strcmp(e->terms[i].lang, sh->sort) == 0)
      key = &e->terms[i];
  for (size_t i = 0; i < e->nterms && !key; i++)
    if (tm__lang_covers(sh->sort, e->terms[i].lang))
      key = &e->terms[i];
  if (key) {
    if ((s = heading(sh->db, sh->sort, key->text, title)) != TM_OK)
      return s;
    if (!sh->open || sh->in_none || strcmp(title, sh->current) != 0) {
      open_section(sh, title, false);
      memcpy(sh->current, title, sizeof title);
      sh->in_none = false;
    }
  } else if (!sh->open || !sh->in_none) {
    char *t = tm__asprintf("No term in %s", tm__lang_name(sh->sort));
    if (!t)
      return TM_NOMEM;
    open_section(sh, t, true);
    free(t);
    sh->in_none = true;
  }

  tm__hout_puts(h, "<tbody class=\"e\"><tr>");
  for (size_t c = 0; c < sh->ncols; c++) {
    tm__hout_puts(h, "<td lang=\"");
    tm__hout_esc(h, sh->cols[c]);
    tm__hout_puts(h, "\">");
    for (size_t i = 0; i < e->nterms; i++)
      if (column_of(sh, e->terms[i].lang) == (long)c)
        term_html(h, &e->terms[i]);
    tm__hout_puts(h, "</td>");
  }
  tm__hout_puts(h, "</tr>");
  if (e->definition || e->note || (e->domain && !sh->domain)) {
    char span[16];
    snprintf(span, sizeof span, "%zu", sh->ncols);
    tm__hout_puts(h, "\n<tr class=\"d\"><td colspan=\"");
    tm__hout_puts(h, span);
    tm__hout_puts(h, "\">");
    if (e->domain && !sh->domain) {
      tm__hout_puts(h, "<span class=\"dom\">");
      tm__hout_esc(h, e->domain);
      tm__hout_puts(h, "</span>");
    }
    if (e->definition) {
      tm__hout_puts(h, "<span class=\"def\" lang=\"en\">");
      tm__hout_esc(h, e->definition);
      tm__hout_puts(h, "</span>");
    }
    if (e->note) {
      tm__hout_puts(h, "<span class=\"note\">");
      tm__hout_esc(h, e->note);
      tm__hout_puts(h, "</span>");
    }
    tm__hout_puts(h, "</td></tr>");
  }
  tm__hout_puts(h, "</tbody>\n");
  sh->entries++;
  return h->s;
}

static tm_status each_entry(void *ctx, const tm_entry *e) {
  return entry_html(ctx, e);
}

tm_status tm__html_export(tm_db *db, int64_t collection,
                          const tm_export_opts *opts, tm__output *o) {
  static const char *const defaults[] = {"en", "ko", "uk"};
  const char *const *langs = opts->nlangs ? opts->langs : defaults;
  size_t nlangs = opts->nlangs ? opts->nlangs : 3;
  sheet *sh;
  char when[21], count[64];
  tm_status s = TM_OK;

  if (!(sh = calloc(1, sizeof *sh)) ||
      !(sh->cols = calloc(nlangs, sizeof *sh->cols))) {
    free(sh);
    return tm__error(db, TM_NOMEM, "out of memory");
  }
  sh->db = db;
  sh->h.o = o;
  sh->domain = opts->domain && *opts->domain ? opts->domain : NULL;
  if (tm_lang_canonical(opts->sort_lang ? opts->sort_lang : "en", sh->sort) !=
      TM_OK) {
    s = tm__error(db, TM_LANG, "invalid language tag \"%s\"", opts->sort_lang);
    goto out;
  }
  for (size_t i = 0; i < nlangs; i++) {
    char canon[TM_LANG_MAX];
    bool dup = false;
    if (!langs[i] || tm_lang_canonical(langs[i], canon) != TM_OK) {
      s = tm__error(db, TM_LANG, "invalid language tag \"%s\"",
                    langs[i] ? langs[i] : "");
      goto out;
    }
    for (size_t j = 0; j < sh->ncols && !dup; j++)
      dup = strcmp(sh->cols[j], canon) == 0;
    if (dup)
      continue;
    /* The sort language's column first. */
    if (strcmp(canon, sh->sort) == 0) {
      memmove(sh->cols + 1, sh->cols, sh->ncols * sizeof *sh->cols);
      memcpy(sh->cols[0], canon, TM_LANG_MAX);
    } else {
      memcpy(sh->cols[sh->ncols], canon, TM_LANG_MAX);
    }
    sh->ncols++;
  }

  tm_time_format(tm__now(db), when);
  when[10] = '\0'; /* the date is enough */
  head(sh, opts->collection ? opts->collection : "default", when);
  s = tm__entries_each(db, collection, sh->sort, opts->approved_only,
                       each_entry, sh);
  if (s != TM_OK)
    goto out;
  close_section(sh);
  if (!sh->entries)
    tm__hout_puts(&sh->h, "<p class=\"empty\">No entries.</p>\n");
  snprintf(count, sizeof count, "%llu %s", (unsigned long long)sh->entries,
           sh->entries == 1 ? "entry" : "entries");
  tm__hout_puts(&sh->h, "</main>\n<footer><p>");
  tm__hout_puts(&sh->h, count);
  tm__hout_puts(&sh->h, ".</p></footer>\n</body>\n</html>\n");
  tm__hout_flush(&sh->h);
  s = sh->h.s;
out:
  if (s == TM_IO || (s == TM_OK && o->failed))
    s = tm__error(db, TM_IO, "writing the HTML export failed");
  else if (s == TM_NOMEM)
    s = tm__error(db, TM_NOMEM, "out of memory");
  free(sh->cols);
  free(sh);
  return s;
}
