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

/* The column of a term in TAG: its exact tag, else the first covering. */
static long column_of(char **langs, size_t nl, const char *tag) {
  for (size_t i = 0; i < nl; i++)
    if (strcmp(langs[i], tag) == 0)
      return (long)i;
  for (size_t i = 0; i < nl; i++)
    if (tm__lang_covers(langs[i], tag))
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
    if (tm__lang_covers(lang, e->terms[i].lang))
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
  tm__hout_puts(h, "</span>");
}

static void header_row(tm__hout *h, char **langs, size_t nl, const char *first,
                       bool count) {
  tm__hout_puts(h, "<thead><tr><th>");
  tm__hout_esc(h, first);
  tm__hout_puts(h, "</th>");
  if (count)
    tm__hout_puts(h, "<th class=\"n\">\xC3\x97</th>");
  for (size_t i = 0; i < nl; i++) {
    tm__hout_puts(h, "<th lang=\"");
    tm__hout_esc(h, langs[i]);
    tm__hout_puts(h, "\">");
    tm__hout_esc(h, tm__lang_name(langs[i]));
    tm__hout_puts(h, "</th>");
  }
  tm__hout_puts(h, "</tr></thead>\n");
}

static void terms_html(tm__hout *h, const tm_analysis *a, const size_t *order,
                       char **langs, size_t nl) {
  char b[64];

  snprintf(b, sizeof b, "Glossary terms in the document (%zu)", a->nterms);
  tm__hout_puts(h, "<section>\n<h2>");
  tm__hout_puts(h, b);
  tm__hout_puts(h, "</h2>\n");
  if (!a->nterms) {
    tm__hout_puts(h, "<p class=\"meta\">None.</p>\n</section>\n");
    return;
  }
  tm__hout_puts(h, "<table>\n");
  header_row(h, langs, nl, "In the text", true);
  for (size_t k = 0; k < a->nterms; k++) {
    const tm_analysis_term *t = &a->terms[order[k]];
    const tm_entry *e = t->e;
    tm__hout_puts(h, "<tbody class=\"e\"><tr><td class=\"surf\">");
    tm__hout_esc(h, t->surface);
    snprintf(b, sizeof b, "</td><td class=\"n\">%zu</td>", t->count);
    tm__hout_puts(h, b);
    for (size_t l = 0; l < nl; l++) {
      tm__hout_puts(h, "<td lang=\"");
      tm__hout_esc(h, langs[l]);
      tm__hout_puts(h, "\">");
      for (size_t i = 0; e && i < e->nterms; i++)
        if (column_of(langs, nl, e->terms[i].lang) == (long)l)
          term_html(h, &e->terms[i]);
      tm__hout_puts(h, "</td>");
    }
    tm__hout_puts(h, "</tr>\n");
    if (e && (e->definition || e->note)) {
      snprintf(b, sizeof b, "<tr><td></td><td></td><td colspan=\"%zu\" ", nl);
      tm__hout_puts(h, b);
      tm__hout_puts(h, "class=\"d\">");
      if (e->definition) {
        tm__hout_puts(h, "<span class=\"def\">");
        tm__hout_esc(h, e->definition);
        tm__hout_puts(h, "</span> ");
      }
      if (e->note) {
        tm__hout_puts(h, "<span class=\"note\">");
        tm__hout_esc(h, e->note);
        tm__hout_puts(h, "</span>");
      }
      tm__hout_puts(h, "</td></tr>\n");
    }
    tm__hout_puts(h, "</tbody>\n");
  }
  tm__hout_puts(h, "</table>\n</section>\n");
}

static void candidates_html(tm__hout *h, const tm_analysis *a, char **langs,
                            size_t nl) {
  char b[64];

  snprintf(b, sizeof b, "New terms to research (%zu)", a->ncandidates);
  tm__hout_puts(h, "<section>\n<h2>");
  tm__hout_puts(h, b);
  tm__hout_puts(h, "</h2>\n");
  if (!a->ncandidates) {
    tm__hout_puts(h, "<p class=\"meta\">None.</p>\n</section>\n");
    return;
  }
  tm__hout_puts(h, "<table>\n");
  header_row(h, langs + 1, nl - 1, tm__lang_name(langs[0]), true);
  for (size_t k = 0; k < a->ncandidates; k++) {
    const tm_candidate *c = &a->candidates[k];
    tm__hout_puts(h, "<tbody class=\"e\"><tr><td lang=\"");
    tm__hout_esc(h, langs[0]);
    tm__hout_puts(h, "\"><span class=\"t pref\">");
    tm__hout_esc(h, c->text);
    tm__hout_puts(h, "</span>");
    if (c->abbreviation) {
      tm__hout_puts(h, "<span class=\"t\">");
      tm__hout_esc(h, c->abbreviation);
      tm__hout_puts(h, "<span class=\"lbl\">abbr.</span></span>");
    }
    tm__hout_puts(h, "<span class=\"score\">");
    tm__hout_puts(h, tm_candidate_kind_name(c->kind));
    snprintf(b, sizeof b, " \xC2\xB7 %.2f</span></td><td class=\"n\">%zu</td>",
             c->score, c->count);
    tm__hout_puts(h, b);
    for (size_t l = 1; l < nl; l++) {
      tm__hout_puts(h, "<td class=\"blank\" lang=\"");
      tm__hout_esc(h, langs[l]);
      tm__hout_puts(h, "\"></td>");
    }
    tm__hout_puts(h, "</tr></tbody>\n");
  }
  tm__hout_puts(h, "</table>\n</section>\n");
}

static void sentences_html(tm__hout *h, const tm_analysis *a, char **langs,
                           size_t nl) {
  size_t covered = 0;
  char b[96];

  for (size_t i = 0; i < a->nsentences; i++)
    covered += a->sentences[i].match != NULL;
  snprintf(b, sizeof b, "Sentences the memories cover (%zu of %zu)", covered,
           a->nsentences);
  tm__hout_puts(h, "<section>\n<h2>");
  tm__hout_puts(h, b);
  tm__hout_puts(h, "</h2>\n");
  if (!covered) {
    tm__hout_puts(h, "<p class=\"meta\">None.</p>\n</section>\n");
    return;
  }
  tm__hout_puts(h, "<table>\n");
  header_row(h, langs, nl, "%", false);
  for (size_t i = 0; i < a->nsentences; i++) {
    const tm_match *m = a->sentences[i].match;
    if (!m)
      continue;
    snprintf(b, sizeof b, "<tbody class=\"e\"><tr><td class=\"n\">%d</td>",
             m->score);
    tm__hout_puts(h, b);
    for (size_t l = 0; l < nl; l++) {
      const char *text = NULL;
      if (l == 0)
        text = a->sentences[i].text;
      for (size_t k = 0; l && k < m->ntargets; k++)
        if (tm__lang_covers(langs[l], m->targets[k].lang) && !text)
          text = m->targets[k].text;
      tm__hout_puts(h, "<td lang=\"");
      tm__hout_esc(h, langs[l]);
      tm__hout_puts(h, "\">");
      tm__hout_esc(h, text);
      if (l == 0 && m->score < 100) {
        tm__hout_puts(h, "<div class=\"d src\">");
        tm__hout_esc(h, m->source);
        tm__hout_puts(h, "</div>");
      }
      tm__hout_puts(h, "</td>");
    }
    tm__hout_puts(h, "</tr></tbody>\n");
  }
  tm__hout_puts(h, "</table>\n</section>\n");
}

tm_status tm__prep_html(tm_db *db, const tm_analysis *a,
                        const tm_prep_opts *opts, char **langs, size_t nl,
                        tm__output *o) {
  tm__hout h = {o, TM_OK, 0, {0}};
  size_t *order = NULL, covered = 0;
  char b[160];
  tm_status s;

  if ((s = term_order(db, a, opts, &order)) != TM_OK) {
    free(order);
    return s;
  }
  for (size_t i = 0; i < a->nsentences; i++)
    covered += a->sentences[i].match != NULL;
  tm__hout_puts(&h,
                "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
                "<meta charset=\"utf-8\">\n"
                "<meta name=\"viewport\" content=\"width=device-width, "
                "initial-scale=1\">\n<meta name=\"generator\" content=\"tm\">\n"
                "<title>");
  tm__hout_esc(&h, opts->title ? opts->title : "Document");
  tm__hout_puts(&h, " \xC2\xB7 prep sheet</title>\n<style>\n");
  tm__hout_puts(&h, css);
  tm__hout_puts(&h, "</style>\n</head>\n<body>\n<header>\n<h1>");
  tm__hout_esc(&h, opts->title ? opts->title : "Prep sheet");
  tm__hout_puts(&h, "</h1>\n<p class=\"meta\">");
  tm__hout_esc(&h, tm__lang_name(langs[0]));
  for (size_t l = 1; l < nl; l++) {
    tm__hout_puts(&h, l == 1 ? " \xE2\x86\x92 " : ", ");
    tm__hout_esc(&h, tm__lang_name(langs[l]));
  }
  snprintf(b, sizeof b,
           " \xC2\xB7 %zu words \xC2\xB7 %zu sentences, %zu covered by the "
           "memories \xC2\xB7 %zu glossary terms \xC2\xB7 %zu new",
           a->words, a->nsentences, covered, a->nterms, a->ncandidates);
  tm__hout_puts(&h, b);
  tm__hout_puts(&h, "</p>\n</header>\n<main>\n");
  terms_html(&h, a, order, langs, nl);
  candidates_html(&h, a, langs, nl);
  sentences_html(&h, a, langs, nl);
  tm__hout_puts(&h, "</main>\n</body>\n</html>\n");
  tm__hout_flush(&h);
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
