/*
 * prep.c - the prep sheet of an analysed document, for the booth:
 *
 *  - HTML: one self-contained printable page (UTF-8, inline CSS for A4, no
 *    script, nothing fetched): the glossary terms the document uses with
 *    their terms in every column's language, in order of first appearance
 *    or in the ICU collation order of one language; the candidate new terms
 *    with empty cells to fill in by hand; the sentences the memories cover
 *    with their best match.  All text is escaped; characters HTML forbids
 *    (C0 and C1 controls but tab and line breaks) become U+FFFD.
 *  - TSV: the glossary format of glossaries/README.md (id, domain, pos, the
 *    languages, definition, note, source, status): the entries found, as
 *    the glossary export writes them, then one draft row per candidate
 *    with its language cells empty, so that the completed file imports as
 *    a glossary (`tm import prep.tsv --glossary EVENT`).
 */
#include "analyze_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- output */

typedef struct hout {
  tm__output *o;
  tm_status s;
  size_t len;
  char buf[8192];
} hout;

static void flush(hout *h) {
  if (h->s == TM_OK && h->len)
    h->s = tm__out(h->o, h->buf, h->len);
  h->len = 0;
}

static void put(hout *h, const char *s, size_t n) {
  if (h->s != TM_OK)
    return;
  if (h->len + n > sizeof h->buf) {
    flush(h);
    if (n > sizeof h->buf) {
      if (h->s == TM_OK)
        h->s = tm__out(h->o, s, n);
      return;
    }
  }
  memcpy(h->buf + h->len, s, n);
  h->len += n;
}

static void puts_(hout *h, const char *s) {
  put(h, s, strlen(s));
}

/* S (valid UTF-8) as HTML text or attribute value. */
static void put_esc(hout *h, const char *s) {
  const unsigned char *p = (const unsigned char *)s, *run = p;

  if (!s)
    return;
  for (; *p; p++) {
    const char *rep = NULL;
    size_t skip = 1;
    switch (*p) {
    case '&':
      rep = "&amp;";
      break;
    case '<':
      rep = "&lt;";
      break;
    case '>':
      rep = "&gt;";
      break;
    case '"':
      rep = "&quot;";
      break;
    case '\'':
      rep = "&#39;";
      break;
    default:
      if ((*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') || *p == 0x7F)
        rep = "\xEF\xBF\xBD";
      else if (p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) {
        rep = "\xEF\xBF\xBD";
        skip = 2;
      }
      break;
    }
    if (!rep)
      continue;
    put(h, (const char *)run, (size_t)(p - run));
    puts_(h, rep);
    p += skip - 1;
    run = p + 1;
  }
  put(h, (const char *)run, strlen((const char *)run));
}

/* ----------------------------------------------------------- languages */

static const struct {
  const char *tag, *name;
} lang_names[] = {
    {"en", "English"}, {"ko", "한국어"},  {"uk", "Українська"},
    {"ru", "Русский"}, {"de", "Deutsch"}, {"fr", "Français"},
    {"es", "Español"}, {"ja", "日本語"},  {"zh", "中文"},
    {"pl", "Polski"},
};

static const char *lang_name(const char *tag) {
  for (size_t i = 0; i < sizeof lang_names / sizeof lang_names[0]; i++)
    if (strcmp(lang_names[i].tag, tag) == 0)
      return lang_names[i].name;
  return tag;
}

/* TAG is LANG or one of its subtags ("en-GB" of "en"). */
static bool lang_covers(const char *lang, const char *tag) {
  size_t n = strlen(lang);
  return strncmp(tag, lang, n) == 0 && (tag[n] == '\0' || tag[n] == '-');
}

/* The column of a term in TAG: its exact tag, else the first covering. */
static long column_of(char **langs, size_t nl, const char *tag) {
  for (size_t i = 0; i < nl; i++)
    if (strcmp(langs[i], tag) == 0)
      return (long)i;
  for (size_t i = 0; i < nl; i++)
    if (lang_covers(langs[i], tag))
      return (long)i;
  return -1;
}

/* -------------------------------------------------------------- order */

typedef struct order_ctx {
  tm_db *db;
  const tm_analysis *a;
  const char *lang;
  tm_status s;
} order_ctx;

static const char *first_term(const tm_entry *e, const char *lang) {
  for (size_t i = 0; e && i < e->nterms; i++)
    if (lang_covers(lang, e->terms[i].lang))
      return e->terms[i].text;
  return NULL;
}

static int order_cmp(const void *pa, const void *pb, void *ctx) {
  order_ctx *c = ctx;
  size_t ia = *(const size_t *)pa, ib = *(const size_t *)pb;
  const char *ta = first_term(c->a->terms[ia].e, c->lang);
  const char *tb = first_term(c->a->terms[ib].e, c->lang);
  int r = 0;

  if (!ta || !tb)
    return ta ? -1 : tb ? 1 : (ia > ib) - (ia < ib);
  if (tm__text_collate_n(c->db->text, c->lang, ta, strlen(ta), tb, strlen(tb),
                         &r) != TM_OK)
    c->s = TM_TEXT;
  return r ? r : (ia > ib) - (ia < ib);
}

/* The terms' indices in the sheet's order. */
static tm_status term_order(tm_db *db, const tm_analysis *a,
                            const tm_prep_opts *opts, size_t **out) {
  size_t *v = malloc((a->nterms + 1) * sizeof *v);
  char canon[TM_LANG_MAX];

  *out = v;
  if (!v)
    return TM_NOMEM;
  for (size_t i = 0; i < a->nterms; i++)
    v[i] = i;
  if (opts->sort_lang) {
    order_ctx c = {db, a, canon, TM_OK};
    if (tm_lang_canonical(opts->sort_lang, canon) != TM_OK)
      return tm__error(db, TM_LANG, "invalid language tag \"%s\"",
                       opts->sort_lang);
    qsort_r(v, a->nterms, sizeof *v, order_cmp, &c);
    return c.s;
  }
  return TM_OK;
}

/* ---------------------------------------------------------------- HTML */

static const char css[] =
    "@page{size:A4;margin:12mm 11mm 14mm}\n"
    "html{font:9.5pt/1.35 \"Noto Sans\",\"Noto Sans CJK KR\",\"Noto Sans KR\","
    "\"Malgun Gothic\",\"Apple SD Gothic Neo\",\"DejaVu Sans\",Arial,"
    "sans-serif;color:#000;background:#fff}\n"
    "body{margin:0 auto;padding:8mm;max-width:200mm}\n"
    "h1{font-size:15pt;margin:0 0 1mm}\n"
    "h2{font-size:12pt;margin:6mm 0 1.5mm;padding-bottom:.5mm;"
    "border-bottom:1.2pt solid #000;break-after:avoid;"
    "page-break-after:avoid}\n"
    ".meta{font-size:8pt;color:#444;margin:0}\n"
    "table{width:100%;border-collapse:collapse;table-layout:fixed}\n"
    "thead{display:table-header-group}\n"
    "th{text-align:left;font-size:7.5pt;font-weight:normal;color:#555;"
    "padding:0 2mm .5mm 0;border-bottom:.5pt solid #999}\n"
    "th.n,td.n{width:9mm;text-align:right;padding-right:3mm}\n"
    "td{vertical-align:top;padding:1mm 2.5mm 1mm 0;overflow-wrap:anywhere}\n"
    "tbody.e{break-inside:avoid;page-break-inside:avoid}\n"
    "tbody.e>tr:last-child>td{border-bottom:.3pt solid #bbb}\n"
    ".t{display:block}\n"
    ".pref{font-weight:bold}\n"
    ".dep del{color:#555}\n"
    ".lbl{font-size:6.5pt;text-transform:uppercase;border:.4pt solid #888;"
    "border-radius:2pt;padding:0 1.5pt;margin-left:1.5mm;color:#333;"
    "white-space:nowrap;vertical-align:1pt;font-weight:normal}\n"
    ".surf{font-style:italic}\n"
    ".d{font-size:7.5pt;color:#333}\n"
    ".d .note::before{content:\"Note: \";font-weight:bold}\n"
    "td.blank{border-bottom:.4pt dotted #777;height:7mm}\n"
    ".score{font-size:7.5pt;color:#555}\n"
    ".src{color:#333}\n"
    ":lang(ko){word-break:keep-all}\n"
    "@media print{body{padding:0;max-width:none}}\n";

static void term_html(hout *h, const tm_term *t) {
  bool dep = t->status == TM_TERM_DEPRECATED;

  puts_(h, dep                              ? "<span class=\"t dep\"><del>"
           : t->status == TM_TERM_PREFERRED ? "<span class=\"t pref\">"
                                            : "<span class=\"t\">");
  put_esc(h, t->text);
  if (dep)
    puts_(h, "</del><span class=\"lbl\">deprecated</span>");
  if (t->type == TM_TERM_ABBREVIATION)
    puts_(h, "<span class=\"lbl\">abbr.</span>");
  puts_(h, "</span>");
}

static void header_row(hout *h, char **langs, size_t nl, const char *first,
                       bool count) {
  puts_(h, "<thead><tr><th>");
  put_esc(h, first);
  puts_(h, "</th>");
  if (count)
    puts_(h, "<th class=\"n\">\xC3\x97</th>");
  for (size_t i = 0; i < nl; i++) {
    puts_(h, "<th lang=\"");
    put_esc(h, langs[i]);
    puts_(h, "\">");
    put_esc(h, lang_name(langs[i]));
    puts_(h, "</th>");
  }
  puts_(h, "</tr></thead>\n");
}

static void terms_html(hout *h, const tm_analysis *a, const size_t *order,
                       char **langs, size_t nl) {
  char b[64];

  snprintf(b, sizeof b, "Glossary terms in the document (%zu)", a->nterms);
  puts_(h, "<section>\n<h2>");
  puts_(h, b);
  puts_(h, "</h2>\n");
  if (!a->nterms) {
    puts_(h, "<p class=\"meta\">None.</p>\n</section>\n");
    return;
  }
  puts_(h, "<table>\n");
  header_row(h, langs, nl, "In the text", true);
  for (size_t k = 0; k < a->nterms; k++) {
    const tm_analysis_term *t = &a->terms[order[k]];
    const tm_entry *e = t->e;
    puts_(h, "<tbody class=\"e\"><tr><td class=\"surf\">");
    put_esc(h, t->surface);
    snprintf(b, sizeof b, "</td><td class=\"n\">%zu</td>", t->count);
    puts_(h, b);
    for (size_t l = 0; l < nl; l++) {
      puts_(h, "<td lang=\"");
      put_esc(h, langs[l]);
      puts_(h, "\">");
      for (size_t i = 0; e && i < e->nterms; i++)
        if (column_of(langs, nl, e->terms[i].lang) == (long)l)
          term_html(h, &e->terms[i]);
      puts_(h, "</td>");
    }
    puts_(h, "</tr>\n");
    if (e && (e->definition || e->note)) {
      snprintf(b, sizeof b, "<tr><td></td><td></td><td colspan=\"%zu\" ", nl);
      puts_(h, b);
      puts_(h, "class=\"d\">");
      if (e->definition) {
        puts_(h, "<span class=\"def\">");
        put_esc(h, e->definition);
        puts_(h, "</span> ");
      }
      if (e->note) {
        puts_(h, "<span class=\"note\">");
        put_esc(h, e->note);
        puts_(h, "</span>");
      }
      puts_(h, "</td></tr>\n");
    }
    puts_(h, "</tbody>\n");
  }
  puts_(h, "</table>\n</section>\n");
}

static void candidates_html(hout *h, const tm_analysis *a, char **langs,
                            size_t nl) {
  char b[64];

  snprintf(b, sizeof b, "New terms to research (%zu)", a->ncandidates);
  puts_(h, "<section>\n<h2>");
  puts_(h, b);
  puts_(h, "</h2>\n");
  if (!a->ncandidates) {
    puts_(h, "<p class=\"meta\">None.</p>\n</section>\n");
    return;
  }
  puts_(h, "<table>\n");
  header_row(h, langs + 1, nl - 1, lang_name(langs[0]), true);
  for (size_t k = 0; k < a->ncandidates; k++) {
    const tm_candidate *c = &a->candidates[k];
    puts_(h, "<tbody class=\"e\"><tr><td lang=\"");
    put_esc(h, langs[0]);
    puts_(h, "\"><span class=\"t pref\">");
    put_esc(h, c->text);
    puts_(h, "</span>");
    if (c->abbreviation) {
      puts_(h, "<span class=\"t\">");
      put_esc(h, c->abbreviation);
      puts_(h, "<span class=\"lbl\">abbr.</span></span>");
    }
    puts_(h, "<span class=\"score\">");
    puts_(h, tm_candidate_kind_name(c->kind));
    snprintf(b, sizeof b, " \xC2\xB7 %.2f</span></td><td class=\"n\">%zu</td>",
             c->score, c->count);
    puts_(h, b);
    for (size_t l = 1; l < nl; l++) {
      puts_(h, "<td class=\"blank\" lang=\"");
      put_esc(h, langs[l]);
      puts_(h, "\"></td>");
    }
    puts_(h, "</tr></tbody>\n");
  }
  puts_(h, "</table>\n</section>\n");
}

static void sentences_html(hout *h, const tm_analysis *a, char **langs,
                           size_t nl) {
  size_t covered = 0;
  char b[96];

  for (size_t i = 0; i < a->nsentences; i++)
    covered += a->sentences[i].match != NULL;
  snprintf(b, sizeof b, "Sentences the memories cover (%zu of %zu)", covered,
           a->nsentences);
  puts_(h, "<section>\n<h2>");
  puts_(h, b);
  puts_(h, "</h2>\n");
  if (!covered) {
    puts_(h, "<p class=\"meta\">None.</p>\n</section>\n");
    return;
  }
  puts_(h, "<table>\n");
  header_row(h, langs, nl, "%", false);
  for (size_t i = 0; i < a->nsentences; i++) {
    const tm_match *m = a->sentences[i].match;
    if (!m)
      continue;
    snprintf(b, sizeof b, "<tbody class=\"e\"><tr><td class=\"n\">%d</td>",
             m->score);
    puts_(h, b);
    for (size_t l = 0; l < nl; l++) {
      const char *text = NULL;
      if (l == 0)
        text = a->sentences[i].text;
      for (size_t k = 0; l && k < m->ntargets; k++)
        if (lang_covers(langs[l], m->targets[k].lang) && !text)
          text = m->targets[k].text;
      puts_(h, "<td lang=\"");
      put_esc(h, langs[l]);
      puts_(h, "\">");
      put_esc(h, text);
      if (l == 0 && m->score < 100) {
        puts_(h, "<div class=\"d src\">");
        put_esc(h, m->source);
        puts_(h, "</div>");
      }
      puts_(h, "</td>");
    }
    puts_(h, "</tr></tbody>\n");
  }
  puts_(h, "</table>\n</section>\n");
}

tm_status tm__prep_html(tm_db *db, const tm_analysis *a,
                        const tm_prep_opts *opts, char **langs, size_t nl,
                        tm__output *o) {
  hout h = {o, TM_OK, 0, {0}};
  size_t *order = NULL, covered = 0;
  char b[160];
  tm_status s;

  if ((s = term_order(db, a, opts, &order)) != TM_OK) {
    free(order);
    return s;
  }
  for (size_t i = 0; i < a->nsentences; i++)
    covered += a->sentences[i].match != NULL;
  puts_(&h, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
            "<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, "
            "initial-scale=1\">\n<meta name=\"generator\" content=\"tm\">\n"
            "<title>");
  put_esc(&h, opts->title ? opts->title : "Document");
  puts_(&h, " \xC2\xB7 prep sheet</title>\n<style>\n");
  puts_(&h, css);
  puts_(&h, "</style>\n</head>\n<body>\n<header>\n<h1>");
  put_esc(&h, opts->title ? opts->title : "Prep sheet");
  puts_(&h, "</h1>\n<p class=\"meta\">");
  put_esc(&h, lang_name(langs[0]));
  for (size_t l = 1; l < nl; l++) {
    puts_(&h, l == 1 ? " \xE2\x86\x92 " : ", ");
    put_esc(&h, lang_name(langs[l]));
  }
  snprintf(b, sizeof b,
           " \xC2\xB7 %zu words \xC2\xB7 %zu sentences, %zu covered by the "
           "memories \xC2\xB7 %zu glossary terms \xC2\xB7 %zu new",
           a->words, a->nsentences, covered, a->nterms, a->ncandidates);
  puts_(&h, b);
  puts_(&h, "</p>\n</header>\n<main>\n");
  terms_html(&h, a, order, langs, nl);
  candidates_html(&h, a, langs, nl);
  sentences_html(&h, a, langs, nl);
  puts_(&h, "</main>\n</body>\n</html>\n");
  flush(&h);
  free(order);
  return h.s;
}

/* ----------------------------------------------------------------- TSV */

/* A readable, unique id for a candidate: its text in lower case with runs
 * of anything but letters and digits as '-' ("new-nkdb" style), numbered
 * when taken. */
static char *candidate_id(const char *text, char **taken, size_t ntaken) {
  size_t n = strlen(text), k = 0;
  char *id = malloc(n + 24), *p;
  bool dash = true;

  if (!id)
    return NULL;
  memcpy(id, "new-", 4);
  k = 4;
  for (size_t i = 0; i < n && k < 60; i++) {
    unsigned char c = (unsigned char)text[i];
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c >= 0x80) {
      id[k++] = (char)c;
      dash = false;
    } else if (c >= 'A' && c <= 'Z') {
      id[k++] = (char)(c + 32);
      dash = false;
    } else if (!dash) {
      id[k++] = '-';
      dash = true;
    }
  }
  /* Never cut a UTF-8 sequence, nor end with a dash. */
  while (k > 4 && ((unsigned char)id[k - 1] & 0xC0) == 0x80)
    k--;
  while (k > 4 && ((unsigned char)id[k - 1] & 0xC0) == 0xC0)
    k--;
  while (k > 4 && id[k - 1] == '-')
    k--;
  id[k] = '\0';
  p = id + k;
  for (unsigned seq = 2;; seq++) {
    bool clash = false;
    for (size_t i = 0; i < ntaken && !clash; i++)
      clash = strcmp(taken[i], id) == 0;
    if (!clash)
      return id;
    snprintf(p, 16, "-%u", seq);
  }
}

/* A term for a glossary cell: no " | " separator, no trailing braces that
 * would read as an annotation. */
static char *cell_term(const char *s) {
  char *t = tm__strdup(s);

  for (char *p = t; p && *p; p++)
    if (*p == '|')
      *p = '/';
    else if (*p == '{')
      *p = '(';
    else if (*p == '}')
      *p = ')';
  return t;
}

tm_status tm__prep_tsv(tm_db *db, const tm_analysis *a,
                       const tm_prep_opts *opts, char **langs, size_t nl,
                       tm__output *o) {
  static const char *const head[] = {"id", "domain", "pos"};
  static const char *const tail[] = {"definition", "note", "source", "status"};
  size_t *order = NULL;
  char **ids = NULL;
  size_t nids = 0;
  tm_status s;

  if ((s = term_order(db, a, opts, &order)) != TM_OK)
    goto done;
  for (size_t i = 0; i < 3 && s == TM_OK; i++)
    s = tm__dsv_cell(o, head[i], '\t', i == 0);
  for (size_t i = 0; i < nl && s == TM_OK; i++)
    s = tm__dsv_cell(o, langs[i], '\t', false);
  for (size_t i = 0; i < 4 && s == TM_OK; i++)
    s = tm__dsv_cell(o, tail[i], '\t', false);
  if (s == TM_OK)
    s = tm__out(o, "\n", 1);
  for (size_t k = 0; k < a->nterms && s == TM_OK; k++)
    if (a->terms[order[k]].e)
      s = tm__dsv_entry_row(o, a->terms[order[k]].e, langs, nl, '\t');
  if (s == TM_OK && a->ncandidates &&
      !(ids = calloc(a->ncandidates, sizeof *ids)))
    s = TM_NOMEM;
  for (size_t k = 0; k < a->ncandidates && s == TM_OK; k++) {
    const tm_candidate *c = &a->candidates[k];
    char *term = cell_term(c->text), *abbr = NULL, *cell = NULL, *note;
    if (c->abbreviation)
      abbr = cell_term(c->abbreviation);
    if (!term || (c->abbreviation && !abbr)) {
      s = TM_NOMEM;
    } else if (c->abbreviation && strcmp(c->abbreviation, c->text) != 0) {
      cell = tm__asprintf("%s | %s {abbreviation}", term, abbr);
    } else if (c->kind == TM_CANDIDATE_ACRONYM) {
      cell = tm__asprintf("%s {preferred, abbreviation}", term);
    } else {
      cell = tm__strdup(term);
    }
    note = tm__asprintf("New in %s: %zu\xC3\x97, %s, score %.2f",
                        opts->title ? opts->title : "the document", c->count,
                        tm_candidate_kind_name(c->kind), c->score);
    if (s == TM_OK &&
        (!cell || !note || !(ids[nids] = candidate_id(c->text, ids, nids))))
      s = TM_NOMEM;
    if (s == TM_OK) {
      nids++;
      if ((s = tm__dsv_cell(o, ids[nids - 1], '\t', true)) == TM_OK &&
          (s = tm__dsv_cell(o, "", '\t', false)) == TM_OK)
        s = tm__dsv_cell(o, c->kind == TM_CANDIDATE_NAME ? "proper noun" : "",
                         '\t', false);
      for (size_t l = 0; l < nl && s == TM_OK; l++)
        s = tm__dsv_cell(o, l == 0 ? cell : "", '\t', false);
      if (s == TM_OK && (s = tm__dsv_cell(o, "", '\t', false)) == TM_OK &&
          (s = tm__dsv_cell(o, note, '\t', false)) == TM_OK &&
          (s = tm__dsv_cell(o, "", '\t', false)) == TM_OK &&
          (s = tm__dsv_cell(o, "draft", '\t', false)) == TM_OK)
        s = tm__out(o, "\n", 1);
    }
    free(term);
    free(abbr);
    free(cell);
    free(note);
  }
done:
  for (size_t i = 0; i < nids; i++)
    free(ids[i]);
  free(ids);
  free(order);
  return s;
}

/* ----------------------------------------------------------------- API */

tm_status tm_analysis_export(tm_db *db, const tm_analysis *a,
                             const tm_prep_opts *opts, tm_write_fn write,
                             void *ctx) {
  static const char *const defaults[] = {"en", "ko", "uk"};
  tm__output o = {write, ctx, 0};
  char **langs = NULL;
  size_t nl = 0;
  tm_status s = TM_OK;

  tm__clear_error(db);
  if (!a || !opts || !write)
    return tm__error(db, TM_INVALID, "nothing to write");
  if (opts->format != TM_FORMAT_HTML && opts->format != TM_FORMAT_TSV)
    return tm__error(db, TM_INVALID, "a prep sheet is html or tsv");
  if (!(langs = calloc(opts->nlangs + a->nto + 4, sizeof *langs)))
    return TM_NOMEM;
  /* The columns: as asked, else the document's language, its targets (or
   * the product's three languages). */
  if (opts->langs && opts->nlangs) {
    for (size_t i = 0; i < opts->nlangs && s == TM_OK; i++) {
      char canon[TM_LANG_MAX];
      if (!opts->langs[i] || tm_lang_canonical(opts->langs[i], canon) != TM_OK)
        s = tm__error(db, TM_LANG, "invalid language tag \"%s\"",
                      opts->langs[i] ? opts->langs[i] : "");
      else if (!(langs[nl++] = tm__strdup(canon)))
        s = TM_NOMEM;
    }
  } else {
    const char *const *more = (const char *const *)a->to;
    size_t nmore = a->nto;
    if (!(langs[nl++] = tm__strdup(a->lang)))
      s = TM_NOMEM;
    if (!nmore) {
      more = defaults;
      nmore = 3;
    }
    for (size_t i = 0; i < nmore && s == TM_OK; i++) {
      bool dup = false;
      for (size_t k = 0; k < nl; k++)
        dup = dup || strcmp(langs[k], more[i]) == 0;
      if (!dup && !(langs[nl++] = tm__strdup(more[i])))
        s = TM_NOMEM;
    }
  }
  if (s == TM_OK)
    s = opts->format == TM_FORMAT_HTML
            ? tm__prep_html(db, a, opts, langs, nl, &o)
            : tm__prep_tsv(db, a, opts, langs, nl, &o);
  if (s == TM_IO && o.failed)
    s = tm__error(db, TM_IO, "writing the prep sheet failed");
  tm__strv_free(langs, nl);
  return s;
}
