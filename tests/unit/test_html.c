/*
 * test_html.c - the printable booth sheet (libtm/html.c): alphabet
 * headings in each language's collation order, the columns, how terms are
 * marked, the domain filter, escaping, and a page that needs nothing from
 * outside.  The sheet is read back with libxml2's HTML parser.
 */
#include "check.h"
#include "tm_internal.h"

#include <libxml/HTMLparser.h>
#include <libxml/xpath.h>
#include <stdbool.h>

static int64_t fixed_clock(void *ctx) {
  (void)ctx;
  return 1767225600; /* 2026-01-01T00:00:00Z */
}

static tm_db *open_db(void) {
  tm_db *db = NULL;

  if (tm_db_open(":memory:", TM_OPEN_NOSEED, &db) != TM_OK) {
    fprintf(stderr, "# open: %s\n", tm_db_errmsg(db));
    tm_db_close(db);
    return NULL;
  }
  tm_db_set_clock(db, fixed_clock, NULL);
  return db;
}

/* The sheet of glossary "g": LANGS is a comma list or NULL. */
static char *sheet(tm_db *db, const char *sort, const char *langs,
                   const char *domain) {
  const char *v[8];
  char copy[128];
  size_t n = 0;
  check_sink out = {0};
  tm_export_opts o = {.format = TM_FORMAT_HTML,
                      .collection = "g",
                      .sort_lang = sort,
                      .domain = domain};
  tm_status s;

  if (langs) {
    snprintf(copy, sizeof copy, "%s", langs);
    for (char *p = strtok(copy, ","); p && n < 8; p = strtok(NULL, ","))
      v[n++] = p;
    o.langs = v;
    o.nlangs = n;
  }
  s = tm_export(db, &o, check_sink_write, &out);
  if (s != TM_OK)
    fprintf(stderr, "# export: %s\n", tm_db_errmsg(db));
  CHECK_INT(s, TM_OK);
  return out.p ? out.p : calloc(1, 1);
}

/* Adds an entry of "g": TERMS is "lang:text[:flags]|..." where flags are
 * p(referred), a(dmitted), d(eprecated), b (abbreviation), v(ariant). */
static void add(tm_db *db, const char *terms, const char *domain,
                const char *definition, const char *note) {
  tm_entry e = {0};
  char copy[512], *save = NULL;
  int64_t id;

  snprintf(copy, sizeof copy, "%s", terms);
  for (char *t = strtok_r(copy, "|", &save); t;
       t = strtok_r(NULL, "|", &save)) {
    char *text = strchr(t, ':'), *flags;
    tm_term_status st = TM_TERM_PREFERRED;
    tm_term_type ty = TM_TERM_FULL;
    *text++ = '\0';
    if ((flags = strchr(text, ':'))) {
      *flags++ = '\0';
      st = strchr(flags, 'd')   ? TM_TERM_DEPRECATED
           : strchr(flags, 'a') ? TM_TERM_ADMITTED
                                : TM_TERM_PREFERRED;
      ty = strchr(flags, 'b')   ? TM_TERM_ABBREVIATION
           : strchr(flags, 'v') ? TM_TERM_VARIANT
                                : TM_TERM_FULL;
    }
    CHECK_INT(tm_entry_add_term(&e, t, text, st, ty, NULL), TM_OK);
  }
  e.domain = domain ? tm__strdup(domain) : NULL;
  e.definition = definition ? tm__strdup(definition) : NULL;
  e.note = note ? tm__strdup(note) : NULL;
  CHECK_INT(tm_entry_add(db, "g", &e, NULL, &id), TM_OK);
  tm__entry_clear(&e);
}

/* The text of every node EXPR selects in the HTML, joined with "|". */
static char *select_text(const char *html, const char *expr) {
  htmlDocPtr doc = htmlReadMemory(
      html, (int)strlen(html), "sheet.html", "UTF-8",
      HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
  xmlXPathContextPtr ctx = doc ? xmlXPathNewContext(doc) : NULL;
  xmlXPathObjectPtr o = ctx ? xmlXPathEvalExpression(BAD_CAST expr, ctx) : NULL;
  sqlite3_str *s = sqlite3_str_new(NULL);
  char *r, *copy;

  for (int i = 0; o && o->nodesetval && i < o->nodesetval->nodeNr; i++) {
    xmlChar *t = xmlNodeGetContent(o->nodesetval->nodeTab[i]);
    sqlite3_str_appendf(s, "%s%s", i ? "|" : "", t ? (char *)t : "");
    xmlFree(t);
  }
  xmlXPathFreeObject(o);
  xmlXPathFreeContext(ctx);
  xmlFreeDoc(doc);
  r = sqlite3_str_finish(s);
  copy = tm__strdup(r ? r : "");
  sqlite3_free(r);
  return copy;
}

#define CHECK_SELECT(html, expr, want)                                         \
  do {                                                                         \
    char *got_ = select_text(html, expr);                                      \
    CHECK_STR(got_, want);                                                     \
    free(got_);                                                                \
  } while (0)

#define CHECK_HAS(hay, needle)                                                 \
  do {                                                                         \
    const char *h_ = (hay), *n_ = (needle);                                    \
    if (!h_ || !strstr(h_, n_)) {                                              \
      fprintf(stderr, "# %s:%d: the sheet does not contain \"%s\"\n",          \
              __FILE__, __LINE__, n_);                                         \
      check_failed++;                                                          \
    }                                                                          \
  } while (0)

#define CHECK_LACKS(hay, needle)                                               \
  do {                                                                         \
    const char *h_ = (hay), *n_ = (needle);                                    \
    if (h_ && strstr(h_, n_)) {                                                \
      fprintf(stderr, "# %s:%d: the sheet contains \"%s\"\n", __FILE__,        \
              __LINE__, n_);                                                   \
      check_failed++;                                                          \
    }                                                                          \
  } while (0)

/* ------------------------------------------------------------ headings */

TEST(ukrainian_headings_in_collation_order) {
  static const char *const words[] = {"дах",   "ґудзик", "гора",   "єдність",
                                      "ефект", "їжак",   "Ірпінь", "йод",
                                      "ґанок", "Київ",   "иній",   "іній"};
  tm_db *db = open_db();
  char *html;

  if (!db)
    return;
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
    char t[64];
    snprintf(t, sizeof t, "uk:%s", words[i]);
    add(db, t, NULL, NULL, NULL);
  }
  html = sheet(db, "uk", NULL, NULL);
  /* Г before Ґ before Д; Е, Є; И, І, Ї, Й: Ukrainian's own order. */
  CHECK_SELECT(html, "//h2", "Г|Ґ|Д|Е|Є|И|І|Ї|Й|К");
  CHECK_SELECT(html, "//section[h2='Ґ']//td[@lang='uk']", "ґанок|ґудзик");
  CHECK_SELECT(html, "//section[h2='І']//td[@lang='uk']", "іній|Ірпінь");
  /* The sort language's column first. */
  CHECK_SELECT(html, "//section[1]//th/@lang", "uk|en|ko");
  free(html);
  tm_db_close(db);
}

TEST(korean_headings_by_initial_consonant) {
  static const char *const words[] = {"하늘",     "나라", "까치", "가방",
                                      "따귀",     "다리", "ㅂ",   "빨래",
                                      "전쟁포로", "짜장"};
  tm_db *db = open_db();
  char *html;

  if (!db)
    return;
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
    char t[64];
    snprintf(t, sizeof t, "ko:%s|en:w%zu", words[i], i);
    add(db, t, NULL, NULL, NULL);
  }
  html = sheet(db, "ko", NULL, NULL);
  /* ㄲ ㄸ ㅃ ㅉ go under ㄱ ㄷ ㅂ ㅈ, after the plain consonant's words. */
  CHECK_SELECT(html, "//h2", "ㄱ|ㄴ|ㄷ|ㅂ|ㅈ|ㅎ");
  CHECK_SELECT(html, "//section[h2='ㄱ']//td[@lang='ko']", "가방|까치");
  CHECK_SELECT(html, "//section[h2='ㄷ']//td[@lang='ko']", "다리|따귀");
  CHECK_SELECT(html, "//section[h2='ㅂ']//td[@lang='ko']", "ㅂ|빨래");
  CHECK_SELECT(html, "//section[1]//th/@lang", "ko|en|uk");
  free(html);
  tm_db_close(db);
}

TEST(english_headings_fold_accents_and_group_digits) {
  tm_db *db = open_db();
  char *html;

  if (!db)
    return;
  add(db, "en:zebra", NULL, NULL, NULL);
  add(db, "en:Éclair", NULL, NULL, NULL);
  add(db, "en:apple", NULL, NULL, NULL);
  add(db, "en:1st Army", NULL, NULL, NULL);
  add(db, "en:eagle", NULL, NULL, NULL);
  add(db, "en:\"Azov\" regiment", NULL, NULL, NULL);
  add(db, "ko:탈북민", NULL, NULL, NULL);
  html = sheet(db, NULL, "en,ko", NULL);
  CHECK_SELECT(html, "//h2", "#|0–9|A|E|Z|No term in English");
  CHECK_SELECT(html, "//section[h2='E']//td[@lang='en']", "eagle|Éclair");
  /* Entries without a term in the sort language come last. */
  CHECK_SELECT(html, "//section[last()]//td[@lang='ko']", "탈북민");
  CHECK_SELECT(html, "//section[1]//th/@lang", "en|ko");
  free(html);
  tm_db_close(db);
}

/* --------------------------------------------------------------- terms */

TEST(terms_marked_and_notes_in_small_type) {
  tm_db *db = open_db();
  char *html;

  if (!db)
    return;
  add(db, "en:Kyiv|en:Kiev:d|ko:키이우|ko:키예프:d|uk:Київ", "places",
      "The capital of Ukraine.", "Say Kyiv, never Kiev.");
  add(db,
      "en:prisoner of war|en:POW:ab|en:PoW:av|ko:전쟁포로|ko:포로:ab|uk:"
      "військовополонений",
      "international humanitarian law", NULL, NULL);
  html = sheet(db, "en", NULL, NULL);
  CHECK_SELECT(html, "//span[contains(@class,'pref')]",
               "Kyiv|키이우|Київ|prisoner of war|전쟁포로|військовополонений");
  CHECK_SELECT(html, "//span[contains(@class,'dep')]/del", "Kiev|키예프");
  CHECK_SELECT(html, "//span[contains(@class,'dep')]/span[@class='lbl']",
               "deprecated|deprecated");
  CHECK_SELECT(html, "//span[@class='t'][span[@class='lbl']='abbr.']",
               "POWabbr.|포로abbr.");
  CHECK_SELECT(html, "//tr[@class='d']/td/span[@class='def']",
               "The capital of Ukraine.");
  CHECK_SELECT(html, "//tr[@class='d']/td/span[@class='note']",
               "Say Kyiv, never Kiev.");
  /* Without a domain filter, each entry shows its domain. */
  CHECK_SELECT(html, "//tr[@class='d']/td/span[@class='dom']",
               "places|international humanitarian law");
  free(html);
  tm_db_close(db);
}

TEST(domain_filter_and_title) {
  tm_db *db = open_db();
  char *html;

  if (!db)
    return;
  add(db, "en:Kyiv|uk:Київ", "places", NULL, NULL);
  add(db, "en:Kursk|uk:Курськ", "places", NULL, NULL);
  add(db, "en:prisoner of war|uk:військовополонений",
      "international humanitarian law", NULL, NULL);
  add(db, "en:refugee|uk:біженець", NULL, NULL, NULL);
  html = sheet(db, "en", "en,uk", "places");
  CHECK_SELECT(html, "//td[@lang='en']", "Kursk|Kyiv");
  CHECK_SELECT(html, "//title", "g — places · booth sheet");
  CHECK_SELECT(html, "//h1", "g — places");
  CHECK_SELECT(html, "//footer", "2 entries.");
  /* One domain: not repeated on every entry. */
  CHECK_LACKS(html, "class=\"dom\">places</span></td>");
  free(html);
  html = sheet(db, "en", "en,uk", "no such domain");
  CHECK_HAS(html, "No entries.");
  CHECK_SELECT(html, "//footer", "0 entries.");
  free(html);
  tm_db_close(db);
}

TEST(text_is_escaped) {
  tm_db *db = open_db();
  char *html;

  if (!db)
    return;
  add(db, "en:<script>alert(\"x&y\")</script>|uk:О'Коннор", "<b>law</b>",
      "a <i>definition</i> & more", "it's \"quoted\"");
  CHECK_INT(sqlite3_exec(db->sql,
                         "UPDATE terms SET note='bell'||char(7)||'end' WHERE "
                         "lang='uk'",
                         NULL, NULL, NULL),
            SQLITE_OK);
  html = sheet(db, "en", NULL, NULL);
  CHECK_LACKS(html, "<script");
  CHECK_LACKS(html, "<b>law");
  CHECK_LACKS(html, "<i>");
  CHECK_LACKS(html, "\x07");
  CHECK_HAS(html, "&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt;");
  CHECK_HAS(html, "О&#39;Коннор");
  CHECK_HAS(html, "a &lt;i&gt;definition&lt;/i&gt; &amp; more");
  CHECK_HAS(html, "it&#39;s &quot;quoted&quot;");
  CHECK_HAS(html, "bell\xEF\xBF\xBD"
                  "end");
  CHECK_SELECT(html, "//td[@lang='en']/span",
               "<script>alert(\"x&y\")</script>");
  free(html);
  html = sheet(db, "en", NULL, "<b>law</b>");
  CHECK_SELECT(html, "//title", "g — <b>law</b> · booth sheet");
  CHECK_LACKS(html, "<b>law");
  free(html);
  tm_db_close(db);
}

/* -------------------------------------------------------------- the page */

TEST(page_is_self_contained_and_printable) {
  tm_db *db = open_db();
  char *html;
  size_t n;

  if (!db)
    return;
  add(db, "en:refugee|ko:난민|uk:біженець", NULL, NULL, NULL);
  html = sheet(db, NULL, NULL, NULL);
  n = strlen(html);
  CHECK(strncmp(html, "<!DOCTYPE html>\n<html lang=\"en\">", 31) == 0);
  CHECK(n > 8 && strcmp(html + n - 8, "</html>\n") == 0);
  CHECK_HAS(html, "<meta charset=\"utf-8\">");
  CHECK_HAS(html, "@page{size:A4");
  CHECK_HAS(html, "@media print");
  CHECK_HAS(html, "thead{display:table-header-group}");
  CHECK_HAS(html, "break-inside:avoid");
  CHECK_LACKS(html, "<script");
  CHECK_LACKS(html, "<link");
  CHECK_LACKS(html, "src=");
  CHECK_LACKS(html, "url(");
  CHECK_LACKS(html, "http://");
  CHECK_LACKS(html, "https://");
  CHECK_LACKS(html, "@import");
  CHECK_SELECT(html, "//th", "English en|한국어 ko|Українська uk");
  CHECK_SELECT(html, "//p[@class='meta']",
               "Sorted by English (en) · 2026-01-01");
  free(html);
  tm_db_close(db);
}

TEST(empty_glossary_and_errors) {
  tm_db *db = open_db();
  char *html;
  check_sink out = {.fail_after = 50};
  const char *bad[] = {"not a tag!"};
  tm_export_opts o = {.format = TM_FORMAT_HTML, .collection = "default"};

  if (!db)
    return;
  CHECK_INT(tm_collection_create(db, TM_GLOSSARY, "g"), TM_OK);
  html = sheet(db, "uk", NULL, NULL);
  CHECK_HAS(html, "No entries.");
  CHECK_SELECT(html, "//h2", "");
  free(html);
  CHECK_INT(tm_export(db, &o, check_sink_write, &out), TM_IO);
  free(out.p);
  memset(&out, 0, sizeof out);
  o.langs = bad;
  o.nlangs = 1;
  CHECK_INT(tm_export(db, &o, check_sink_write, &out), TM_LANG);
  free(out.p);
  memset(&out, 0, sizeof out);
  o.nlangs = 0;
  o.sort_lang = "not a tag!";
  CHECK_INT(tm_export(db, &o, check_sink_write, &out), TM_LANG);
  free(out.p);
  memset(&out, 0, sizeof out);
  o.format = TM_FORMAT_HTML;
  o.kind = TM_MEMORY;
  CHECK_INT(tm_export(db, &o, check_sink_write, &out), TM_INVALID);
  free(out.p);
  tm_db_close(db);
}

TEST(approved_only) {
  tm_db *db = open_db();
  char *html;
  check_sink out = {0};
  tm_export_opts o = {
      .format = TM_FORMAT_HTML, .collection = "g", .approved_only = 1};

  if (!db)
    return;
  add(db, "en:draft term", NULL, NULL, NULL);
  add(db, "en:approved term", NULL, NULL, NULL);
  CHECK_INT(tm_entry_approve(db, 2, NULL), TM_OK);
  CHECK_INT(tm_export(db, &o, check_sink_write, &out), TM_OK);
  CHECK_SELECT(out.p, "//td[@lang='en']", "approved term");
  free(out.p);
  html = sheet(db, "en", "en", NULL);
  CHECK_SELECT(html, "//td[@lang='en']", "approved term|draft term");
  free(html);
  tm_db_close(db);
}
