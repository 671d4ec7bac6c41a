/*
 * test_analyze.c - document analysis (libtm/analyze.c, candidates.c,
 * markup.c, prep.c): terms recognised through inflection, spacing, line
 * breaks and markup with offsets into the original text, the longest term
 * winning; sentences and their memory matches; candidate names, acronyms
 * and phrases; the limits; and the prep sheet, whose TSV imports back as a
 * glossary.  Small texts of our own (tests/data/analyze/) always run; the
 * seed documents run when the shared folder is there.
 */
#include "check.h"
#include "tm_internal.h"

#include <libxml/HTMLparser.h>
#include <stdbool.h>

/* A glossary of the event's domain, small enough to reason about. */
static const char glossary_tsv[] =
    "id\tdomain\tpos\ten\tko\tuk\tdefinition\tnote\tsource\tstatus\n"
    "pow\tlaw\tnoun\tprisoner of war | POW {abbreviation}\t전쟁포로 | 전쟁 "
    "포로 "
    "{admitted, variant}\tвійськовополонений | полонений\t\t\t\tdraft\n"
    "gc3\tlaw\tproper noun\tGeneva Convention (III) relative to the Treatment "
    "of Prisoners of War | Third Geneva Convention {admitted}\t제3협약\tТретя "
    "Женевська конвенція\t\t\t\tdraft\n"
    "gcs\tlaw\tproper noun\tGeneva Conventions\t제네바협약\tЖеневські "
    "конвенції\t\t\t\tdraft\n"
    "gc3-art13\tlaw\tproper noun\tArticle 13 of the Third Geneva "
    "Convention\t제3협약 제13조\tстаття 13 Третьої Женевської "
    "конвенції\t\t\t\tdraft\n"
    "rs-art13\tlaw\tproper noun\tArticle 13 of the Rome Statute\t로마규정 "
    "제13조\tстаття 13 Римського статуту\t\t\t\tdraft\n"
    "rome\tlaw\tproper noun\tRome Statute\t로마규정\tРимський "
    "статут\t\t\t\tdraft\n"
    "icc\tlaw\tproper noun\tInternational Criminal Court | ICC "
    "{abbreviation}\t국제형사재판소\tМіжнародний кримінальний суд | МКС "
    "{abbreviation}\t\t\t\tdraft\n"
    "icrc\tlaw\tproper noun\tInternational Committee of the Red Cross | ICRC "
    "{abbreviation}\t국제적십자위원회\tМіжнародний комітет Червоного Хреста "
    "| МКЧХ {abbreviation}\t\t\t\tdraft\n"
    "kju\tpeople\tproper noun\tKim Jong Un | Kim {admitted, "
    "abbreviation}\t김정은\tКім Чен Ин\t\t\t\tdraft\n"
    "nonref\tlaw\tnoun\tnon-refoulement | principle of non-refoulement "
    "{admitted}\t강제송환 금지 원칙\tпринцип невислання\t\t\t\tdraft\n"
    "kursk\tplaces\tproper noun\tKursk Oblast | Kursk region "
    "{admitted}\t쿠르스크주\tКурська область\t\t\t\tdraft\n"
    "enf\tlaw\tnoun\tenforced disappearance\t강제실종\tнасильницьке "
    "зникнення\t\t\t\tdraft\n"
    "cat\tlaw\tproper noun\tConvention against Torture | CAT "
    "{abbreviation}\t고문방지협약\tКонвенція проти катувань\t\t\t\tdraft\n";

static tm_db *open_db(bool seeded) {
  tm_db *db = NULL;

  if (tm_db_open(":memory:", seeded ? 0 : TM_OPEN_NOSEED, &db) != TM_OK) {
    fprintf(stderr, "# open: %s\n", db ? tm_db_errmsg(db) : "?");
    tm_db_close(db);
    return NULL;
  }
  return db;
}

static bool import_tsv(tm_db *db, const char *name, const char *tsv, size_t len,
                       tm_import_result *r) {
  tm_import_opts o = {0};
  tm_import_result local;

  o.format = TM_FORMAT_TSV;
  o.kind = TM_GLOSSARY;
  o.collection = name;
  o.name = name;
  if (tm_import_buffer(db, tsv, len, &o, r ? r : &local) != TM_OK) {
    fprintf(stderr, "# import: %s\n", tm_db_errmsg(db));
    return false;
  }
  return true;
}

static tm_db *glossary_db(void) {
  tm_db *db = open_db(false);

  if (db &&
      !import_tsv(db, "event", glossary_tsv, strlen(glossary_tsv), NULL)) {
    tm_db_close(db);
    return NULL;
  }
  return db;
}

static char *read_path(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  long n;

  if (!f)
    return NULL;
  if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
      fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) &&
      fread(buf, 1, (size_t)n, f) == (size_t)n) {
    buf[n] = '\0';
    *len = (size_t)n;
  } else {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  return buf;
}

static char *read_data(const char *name, size_t *len) {
  const char *dir = getenv("TM_TEST_DATA");
  char path[1024];

  snprintf(path, sizeof path, "%s/analyze/%s", dir ? dir : "tests/data", name);
  return read_path(path, len);
}

static tm_analysis *analyze(tm_index *idx, tm_db *db, const char *text,
                            size_t len, const char *lang,
                            tm_input_format format) {
  tm_analyze_opts o = {0};
  const char *to[] = {"ko", "uk"};
  tm_analysis *a = NULL;

  o.lang = lang;
  o.to = to;
  o.nto = 2;
  o.format = format;
  if (tm_analyze(idx, db, text, len, &o, &a) != TM_OK) {
    fprintf(stderr, "# analyze: %s\n", tm_db_errmsg(db));
    return NULL;
  }
  return a;
}

/* The code points [start, end) of S, as UTF-8 (malloc'd). */
static char *cp_substr(const char *s, tm_span sp) {
  const char *p = s, *q;
  uint32_t cp = 0;
  char *out;

  while (*p && cp < sp.start)
    if (((unsigned char)*++p & 0xC0) != 0x80)
      cp++;
  for (q = p; *q && cp < sp.end;)
    if (((unsigned char)*++q & 0xC0) != 0x80)
      cp++;
  out = malloc((size_t)(q - p) + 1);
  memcpy(out, p, (size_t)(q - p));
  out[q - p] = '\0';
  return out;
}

/* The found term whose entry has a term TEXT. */
static const tm_analysis_term *term_of(const tm_analysis *a, const char *text) {
  for (size_t i = 0; a && i < a->nterms; i++)
    for (size_t k = 0; a->terms[i].e && k < a->terms[i].e->nterms; k++)
      if (strcmp(a->terms[i].e->terms[k].text, text) == 0)
        return &a->terms[i];
  return NULL;
}

static const tm_candidate *candidate(const tm_analysis *a, const char *text) {
  for (size_t i = 0; a && i < a->ncandidates; i++)
    if (strcmp(a->candidates[i].text, text) == 0)
      return &a->candidates[i];
  return NULL;
}

/* Checks that term TEXT was found COUNT times (0: any) and that the source
 * at occurrence K reads EXPECT. */
static void expect_term(const tm_analysis *a, const char *src, const char *text,
                        size_t count, size_t k, const char *expect) {
  const tm_analysis_term *t = term_of(a, text);
  char *got;

  if (!t) {
    fprintf(stderr, "# term \"%s\" not found\n", text);
    check_failed++;
    return;
  }
  if (count)
    CHECK_INT(t->count, count);
  if (!expect || k >= t->count)
    return;
  got = cp_substr(src, t->offsets[k]);
  CHECK_STR(got, expect);
  free(got);
}

/* S with every run of white space as one space. */
static char *squeeze(const char *s) {
  char *out = malloc(strlen(s) + 1), *o = out;
  bool space = false;

  for (; *s; s++) {
    if (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t') {
      space = o > out;
      continue;
    }
    if (space)
      *o++ = ' ';
    space = false;
    *o++ = *s;
  }
  *o = '\0';
  return out;
}

/* Plain text: the source at each term's first offsets is its surface. */
static void check_surfaces(const tm_analysis *a, const char *src) {
  for (size_t i = 0; i < a->nterms; i++) {
    char *got = cp_substr(src, a->terms[i].offsets[0]), *sq = squeeze(got);
    CHECK_STR(sq, a->terms[i].surface);
    free(got);
    free(sq);
    for (size_t k = 1; k < a->terms[i].count; k++)
      CHECK(a->terms[i].offsets[k].start >= a->terms[i].offsets[k - 1].end);
  }
}

/* -------------------------------------------------------------- terms */

TEST(english_inflection_and_variants) {
  tm_db *db = glossary_db();
  size_t len;
  char *src = read_data("en.txt", &len);
  tm_analysis *a = db && src ? analyze(NULL, db, src, len, "en", 0) : NULL;

  CHECK(a != NULL);
  if (a) {
    /* plural, abbreviation with a plural s, case */
    expect_term(a, src, "prisoner of war", 3, 0, "Prisoners of war");
    expect_term(a, src, "prisoner of war", 3, 1, "POWs");
    /* a possessive with a typographic apostrophe */
    expect_term(a, src, "Kim Jong Un", 1, 0, "Kim Jong Un’s");
    expect_term(a, src, "Kursk region", 1, 0, "Kursk region");
    expect_term(a, src, "ICRC", 1, 0, "ICRC");
    /* written without its hyphen */
    expect_term(a, src, "non-refoulement", 2, 1, "nonrefoulement");
    expect_term(a, src, "principle of non-refoulement", 2, 0,
                "principle of non-refoulement");
    expect_term(a, src, "enforced disappearance", 1, 0,
                "enforced disappearance");
    /* "Article 13" refers to the convention the text names */
    expect_term(a, src, "Article 13 of the Third Geneva Convention", 1, 0,
                "Article 13");
    CHECK(term_of(a, "Article 13 of the Rome Statute") == NULL);
    CHECK(term_of(a, "Geneva Conventions") != NULL);
    /* "Kim" of Kim Yumi is not Kim Jong Un; CAT is not "cat" */
    CHECK_INT(term_of(a, "Kim Jong Un")->count, 1);
    CHECK(term_of(a, "CAT") == NULL);
    check_surfaces(a, src);
    CHECK(a->words > 100);
  }
  tm_analysis_free(a);
  free(src);
  tm_db_close(db);
}

TEST(line_break_inside_a_term) {
  tm_db *db = glossary_db();
  size_t len;
  char *src = read_data("en.txt", &len);
  tm_analysis *a = db && src ? analyze(NULL, db, src, len, "en", 0) : NULL;
  static const char crlf[] = "Held as prisoners\r\nof war since May.";
  static const char para[] = "They were prisoners of\n\nwar, he said.";

  CHECK(a != NULL);
  if (a)
    expect_term(a, src, "Third Geneva Convention", 1, 0,
                "Third Geneva\nConvention");
  tm_analysis_free(a);
  a = db ? analyze(NULL, db, crlf, strlen(crlf), "en", 0) : NULL;
  if (a)
    expect_term(a, crlf, "prisoner of war", 1, 0, "prisoners\r\nof war");
  tm_analysis_free(a);
  /* a blank line ends a paragraph: nothing spans it */
  a = db ? analyze(NULL, db, para, strlen(para), "en", 0) : NULL;
  CHECK(a && term_of(a, "prisoner of war") == NULL);
  tm_analysis_free(a);
  free(src);
  tm_db_close(db);
}

TEST(longest_match_wins) {
  tm_db *db = glossary_db();
  static const char s[] =
      "Article 13 of the Third Geneva Convention protects them; the Third "
      "Geneva Convention and the Geneva Conventions say so.";
  tm_analysis *a = db ? analyze(NULL, db, s, strlen(s), "en", 0) : NULL;

  CHECK(a != NULL);
  if (a) {
    expect_term(a, s, "Article 13 of the Third Geneva Convention", 1, 0,
                "Article 13 of the Third Geneva Convention");
    /* the first mention belongs to Article 13, the second is whole */
    expect_term(a, s, "Third Geneva Convention", 1, 0,
                "Third Geneva Convention");
    CHECK_INT(term_of(a, "Third Geneva Convention")->offsets[0].start, 61);
    expect_term(a, s, "Geneva Conventions", 1, 0, "Geneva Conventions");
  }
  tm_analysis_free(a);
  tm_db_close(db);
}

TEST(punctuation_breaks_a_term) {
  tm_db *db = glossary_db();
  static const char s[] = "Prisoners, of war. Kim said: the ICC, not the "
                          "icc, rules. A cat is no CAT.";
  tm_analysis *a = db ? analyze(NULL, db, s, strlen(s), "en", 0) : NULL;

  CHECK(a != NULL);
  if (a) {
    CHECK(term_of(a, "prisoner of war") == NULL);
    /* an abbreviation matches only as written */
    expect_term(a, s, "ICC", 1, 0, "ICC");
    expect_term(a, s, "CAT", 1, 0, "CAT");
    /* "Kim" alone, next to no other name, is Kim Jong Un */
    expect_term(a, s, "Kim Jong Un", 1, 0, "Kim");
  }
  tm_analysis_free(a);
  tm_db_close(db);
}

TEST(ukrainian_case_endings) {
  tm_db *db = glossary_db();
  size_t len;
  char *src = read_data("uk.txt", &len);
  tm_analysis *a = db && src ? analyze(NULL, db, src, len, "uk", 0) : NULL;

  CHECK(a != NULL);
  if (a) {
    expect_term(a, src, "військовополонений", 3, 0, "військовополонених");
    expect_term(a, src, "військовополонений", 3, 1, "військовополоненим");
    expect_term(a, src, "військовополонений", 3, 2, "Полонених");
    expect_term(a, src, "Третя Женевська конвенція", 1, 0,
                "Третя Женевська конвенція");
    /* the genitive of a two-word term; not the plural entry's */
    expect_term(a, src, "Женевські конвенції", 1, 0, "Женевської конвенції");
    expect_term(a, src, "Міжнародний кримінальний суд", 4, 2,
                "Міжнародного кримінального суду");
    expect_term(a, src, "МКС", 4, 1, "МКС");
    expect_term(a, src, "Курська область", 1, 0, "Курській області");
    check_surfaces(a, src);
  }
  tm_analysis_free(a);
  free(src);
  tm_db_close(db);
}

TEST(korean_particles_and_spacing) {
  tm_db *db = glossary_db();
  size_t len;
  char *src = read_data("ko.txt", &len);
  tm_analysis *a = db && src ? analyze(NULL, db, src, len, "ko", 0) : NULL;

  CHECK(a != NULL);
  if (a) {
    expect_term(a, src, "전쟁포로", 2, 0, "전쟁포로를");
    /* spaced, with a particle */
    expect_term(a, src, "전쟁포로", 2, 1, "전쟁 포로가");
    expect_term(a, src, "제네바협약", 1, 0, "제네바협약의");
    expect_term(a, src, "국제형사재판소", 3, 0, "국제형사재판소의");
    expect_term(a, src, "국제형사재판소", 3, 1, "국제형사재판소는");
    expect_term(a, src, "국제형사재판소", 3, 2, "ICC");
    expect_term(a, src, "로마규정", 1, 0, "로마규정에");
    expect_term(a, src, "김정은", 1, 0, "김정은은");
    check_surfaces(a, src);
  }
  tm_analysis_free(a);
  free(src);
  tm_db_close(db);
}

/* ------------------------------------------------------------- markup */

TEST(markdown_offsets) {
  tm_db *db = glossary_db();
  size_t len;
  char *src = read_data("doc.md", &len);
  tm_analysis *a =
      db && src ? analyze(NULL, db, src, len, "en", TM_INPUT_MARKDOWN) : NULL;

  CHECK(a != NULL);
  if (a) {
    const tm_analysis_term *t = term_of(a, "prisoner of war");
    /* the heading's, the link text's (over a line break), the bracket's */
    expect_term(a, src, "prisoner of war", 3, 0, "prisoners of war");
    expect_term(a, src, "prisoner of war", 3, 1, "prisoners of\nwar");
    expect_term(a, src, "prisoner of war", 3, 2, "POWs");
    CHECK(t && strcmp(t->surface, "prisoners of war") == 0);
    expect_term(a, src, "Third Geneva Convention", 1, 0,
                "Third Geneva Convention");
    expect_term(a, src, "Rome Statute", 1, 0, "Rome Statute");
    expect_term(a, src, "International Criminal Court", 1, 0,
                "International Criminal Court");
    expect_term(a, src, "enforced disappearance", 1, 0,
                "enforced disappearance");
    /* sentences are read without markup */
    CHECK(a->nsentences >= 4);
    CHECK_STR(a->sentences[0].text, "Briefing on prisoners of war");
    CHECK_STR(a->sentences[1].text,
              "The Third Geneva Convention governs the treatment of "
              "prisoners of war (POWs).");
  }
  tm_analysis_free(a);
  free(src);
  tm_db_close(db);
}

TEST(html_offsets) {
  tm_db *db = glossary_db();
  size_t len;
  char *src = read_data("doc.html", &len);
  tm_analysis *a =
      db && src ? analyze(NULL, db, src, len, "en", TM_INPUT_HTML) : NULL;

  CHECK(a != NULL);
  if (a) {
    /* not the script's, not the comment's; an entity inside */
    expect_term(a, src, "prisoner of war", 2, 0, "prisoners of war");
    expect_term(a, src, "prisoner of war", 2, 1, "prisoners&nbsp;of war");
    /* a tag inside a term: the span covers it */
    expect_term(a, src, "Third Geneva Convention", 1, 0,
                "Third</b> Geneva Convention");
    CHECK_STR(term_of(a, "Third Geneva Convention")->surface,
              "Third Geneva Convention");
    expect_term(a, src, "Kim Jong Un", 1, 0, "Kim Jong Un&#8217;s");
    expect_term(a, src, "ICRC", 1, 0, "ICRC");
    /* the title is not text; table cells are paragraphs apart */
    for (size_t i = 0; i < a->nsentences; i++)
      CHECK(strstr(a->sentences[i].text, "Ignored") == NULL);
    CHECK(strstr(a->sentences[1].text, "prisoners of war & their") != NULL);
  }
  tm_analysis_free(a);
  free(src);
  tm_db_close(db);
}

TEST(input_formats) {
  tm_input_format f;

  CHECK(tm_input_format_from_path("a/b.md", &f) == TM_OK &&
        f == TM_INPUT_MARKDOWN);
  CHECK(tm_input_format_from_path("x.HTML", &f) == TM_OK && f == TM_INPUT_HTML);
  CHECK(tm_input_format_from_path("notes.txt", &f) == TM_OK &&
        f == TM_INPUT_PLAIN);
  CHECK(tm_input_format_from_path("a.d/b", &f) == TM_INVALID);
  CHECK(tm_input_format_parse("markdown", &f) == TM_OK &&
        f == TM_INPUT_MARKDOWN);
  CHECK(tm_input_format_parse("pdf", &f) == TM_INVALID);
}

/* ---------------------------------------------------------- sentences */

TEST(sentences_and_offsets) {
  tm_db *db = glossary_db();
  static const char s[] = "Mr. Kim met Dr. Park in the U.S. yesterday. "
                          "He left.\nA heading\nNext line.";
  tm_analysis *a = db ? analyze(NULL, db, s, strlen(s), "en", 0) : NULL;

  CHECK(a != NULL);
  if (a) {
    CHECK_INT(a->nsentences, 4);
    if (a->nsentences == 4) {
      /* abbreviations end no sentence */
      CHECK_STR(a->sentences[0].text,
                "Mr. Kim met Dr. Park in the U.S. yesterday.");
      CHECK_INT(a->sentences[0].span.start, 0);
      CHECK_INT(a->sentences[0].span.end, 43);
      CHECK_STR(a->sentences[1].text, "He left.");
      /* a line alone in unwrapped text is a sentence */
      CHECK_STR(a->sentences[2].text, "A heading");
      CHECK(a->sentences[0].match == NULL);
    }
  }
  tm_analysis_free(a);
  tm_db_close(db);
}

TEST(memory_matches) {
  tm_db *db = glossary_db();
  tm_index *idx = NULL;
  tm_unit u = {0};
  int64_t id;
  int created;
  static const char s[] =
      "North Korean soldiers were captured in Kursk. Two North Korean "
      "soldiers were captured in Kursk. Nothing like this was ever said "
      "anywhere. North Korean soldiers were captured in Kursk.";
  tm_analysis *a = NULL;

  CHECK(db != NULL);
  if (!db)
    return;
  tm_unit_set(&u, "en", "North Korean soldiers were captured in Kursk.");
  tm_unit_set(&u, "ko", "북한 군인들이 쿠르스크에서 포로로 잡혔다.");
  tm_unit_set(&u, "uk", "Північнокорейських солдатів узяли в полон у Курську.");
  CHECK(tm_unit_add(db, "mem", &u, NULL, &id, &created) == TM_OK);
  tm__unit_clear(&u);
  CHECK(tm_index_open(db, &idx) == TM_OK);
  a = analyze(idx, db, s, strlen(s), "en", 0);
  CHECK(a != NULL);
  if (a) {
    CHECK_INT(a->nsentences, 4);
    CHECK(a->sentences[0].match && a->sentences[0].match->score == 100 &&
          a->sentences[0].match->unit == id);
    CHECK(a->sentences[1].match && a->sentences[1].match->score >= 70 &&
          a->sentences[1].match->score < 100);
    CHECK(a->sentences[2].match == NULL);
    /* a sentence seen before gets the same match */
    CHECK(a->sentences[3].match && a->sentences[3].match->score == 100);
    if (a->sentences[0].match) {
      CHECK_INT(a->sentences[0].match->ntargets, 2);
      CHECK_STR(a->sentences[0].match->targets[0].lang, "ko");
    }
  }
  tm_analysis_free(a);
  tm_index_close(idx);
  tm_db_close(db);
}

/* ---------------------------------------------------------- candidates */

TEST(candidate_names_and_acronyms) {
  tm_db *db = glossary_db();
  size_t len;
  char *src = read_data("en.txt", &len);
  tm_analysis *a = db && src ? analyze(NULL, db, src, len, "en", 0) : NULL;
  const tm_candidate *c;

  CHECK(a != NULL);
  if (!a)
    goto out;
  /* "Expansion (ACR)", over a line break */
  c = candidate(a, "Database Center for North Korean Human Rights");
  CHECK(c && c->abbreviation && strcmp(c->abbreviation, "NKDB") == 0);
  CHECK(c && c->kind == TM_CANDIDATE_ACRONYM && c->count == 2);
  if (c) {
    char *got = cp_substr(src, c->first), *sq = squeeze(got);
    CHECK_STR(sq, "Database Center for North Korean Human Rights");
    free(got);
    free(sq);
  }
  /* "ACR (Expansion)" */
  c = candidate(a, "International Federation for Human Rights");
  CHECK(c && c->abbreviation && strcmp(c->abbreviation, "FIDH") == 0);
  c = candidate(a, "Public Interest Journalism Lab");
  CHECK(c && c->kind == TM_CANDIDATE_NAME && c->count == 2);
  CHECK(candidate(a, "Nataliya Gumenyuk") != NULL);
  CHECK(candidate(a, "The Reckoning Project") != NULL);
  /* what the glossary has is no candidate, nor are its fragments */
  CHECK(candidate(a, "Third Geneva Convention") == NULL);
  CHECK(candidate(a, "Kim Jong Un") == NULL);
  CHECK(candidate(a, "Geneva") == NULL);
  CHECK(candidate(a, "NKDB") == NULL);
  for (size_t i = 0; i < a->ncandidates; i++) {
    CHECK(a->candidates[i].score >= 0 && a->candidates[i].score <= 1);
    if (i)
      CHECK(a->candidates[i].score <= a->candidates[i - 1].score);
  }
  /* a pair outranks a name met as often */
  CHECK(a->ncandidates && a->candidates[0].kind == TM_CANDIDATE_ACRONYM);
out:
  tm_analysis_free(a);
  free(src);
  tm_db_close(db);
}

TEST(candidates_leave_out_known_terms) {
  tm_db *db = glossary_db();
  size_t len;
  char *src = read_data("en.txt", &len);
  static const char more[] =
      "id\ten\nnkdb\tDatabase Center for North Korean Human Rights | NKDB "
      "{abbreviation}\n";
  tm_analysis *a = NULL;

  CHECK(db && src && import_tsv(db, "more", more, strlen(more), NULL));
  a = db && src ? analyze(NULL, db, src, len, "en", 0) : NULL;
  CHECK(a != NULL);
  if (a) {
    CHECK(candidate(a, "Database Center for North Korean Human Rights") ==
          NULL);
    expect_term(a, src, "NKDB", 3, 1, "NKDB");
    CHECK(candidate(a, "Public Interest Journalism Lab") != NULL);
  }
  tm_analysis_free(a);
  /* the glossary option narrows what is known */
  if (db && src) {
    tm_analyze_opts o = {0};
    o.lang = "en";
    o.glossary = "event";
    CHECK(tm_analyze(NULL, db, src, len, &o, &a) == TM_OK);
    CHECK(a && term_of(a, "NKDB") == NULL);
    CHECK(a && candidate(a, "Database Center for North Korean Human Rights"));
    tm_analysis_free(a);
  }
  free(src);
  tm_db_close(db);
}

TEST(phrases_recur) {
  tm_db *db = glossary_db();
  static const char s[] =
      "The forced labour camps grew. Reports on forced labour camps "
      "multiply. Forced labour camps hold thousands. A camp is a camp.";
  tm_analysis *a = db ? analyze(NULL, db, s, strlen(s), "en", 0) : NULL;
  const tm_candidate *c;

  CHECK(a != NULL);
  c = candidate(a, "forced labour camps");
  CHECK(c && c->kind == TM_CANDIDATE_PHRASE && c->count == 3);
  /* the shorter phrases inside it say nothing more */
  CHECK(candidate(a, "forced labour") == NULL);
  CHECK(candidate(a, "labour camps") == NULL);
  tm_analysis_free(a);
  tm_db_close(db);
}

/* -------------------------------------------------------------- limits */

TEST(limits_and_errors) {
  tm_db *db = glossary_db();
  tm_analyze_opts o = {0};
  tm_analysis *a = NULL;
  size_t n = TM_ANALYZE_MAX_BYTES + 1;
  char *big = malloc(n);

  CHECK(db && big);
  if (!db || !big)
    goto out;
  o.lang = "en";
  memset(big, 'a', n);
  CHECK(tm_analyze(NULL, db, big, n, &o, &a) == TM_TOOBIG && !a);
  CHECK(strstr(tm_db_errmsg(db), "bytes") != NULL);
  /* words: 200,001 of them in less than 2 MiB */
  for (size_t i = 0; i < 2 * (TM_ANALYZE_MAX_WORDS + 1); i += 2) {
    big[i] = 'a';
    big[i + 1] = ' ';
  }
  CHECK(tm_analyze(NULL, db, big, 2 * (TM_ANALYZE_MAX_WORDS + 1), &o, &a) ==
        TM_TOOBIG);
  CHECK(strstr(tm_db_errmsg(db), "words") != NULL);
  CHECK(tm_analyze(NULL, db, big, 2 * TM_ANALYZE_MAX_WORDS, &o, &a) == TM_OK);
  CHECK(a && a->words == TM_ANALYZE_MAX_WORDS);
  tm_analysis_free(a);
  a = NULL;
  CHECK(tm_analyze(NULL, db, "caf\xC3", 4, &o, &a) == TM_UTF8);
  CHECK(tm_analyze(NULL, db, "", 0, &o, &a) == TM_OK && a && !a->nterms &&
        !a->nsentences);
  tm_analysis_free(a);
  a = NULL;
  o.lang = NULL;
  CHECK(tm_analyze(NULL, db, "x", 1, &o, &a) == TM_INVALID);
  o.lang = "not a tag";
  CHECK(tm_analyze(NULL, db, "x", 1, &o, &a) == TM_LANG);
  o.lang = "en";
  o.glossary = "nope";
  CHECK(tm_analyze(NULL, db, "x", 1, &o, &a) == TM_NOTFOUND);
  o.glossary = NULL;
  o.memory = "nope";
  CHECK(tm_analyze(NULL, db, "x", 1, &o, &a) == TM_NOTFOUND);
out:
  free(big);
  tm_db_close(db);
}

/* ----------------------------------------------------------- prep sheet */

typedef struct sink {
  char *p;
  size_t len, cap;
} sink;

static int sink_write(void *ctx, const void *b, size_t n) {
  sink *k = ctx;
  if (k->len + n + 1 > k->cap) {
    size_t cap = (k->len + n + 1) * 2;
    char *p = realloc(k->p, cap);
    if (!p)
      return 1;
    k->p = p;
    k->cap = cap;
  }
  memcpy(k->p + k->len, b, n);
  k->len += n;
  k->p[k->len] = '\0';
  return 0;
}

static int fail_write(void *ctx, const void *b, size_t n) {
  (void)ctx;
  (void)b;
  (void)n;
  return 1;
}

TEST(prep_sheet_tsv_imports_as_glossary) {
  tm_db *db = glossary_db();
  size_t len;
  char *src = read_data("en.txt", &len);
  tm_analysis *a = db && src ? analyze(NULL, db, src, len, "en", 0) : NULL;
  tm_prep_opts po = {0};
  tm_import_result r = {0};
  sink k = {0};
  tm_entry **page = NULL;
  size_t np = 0;
  char *next = NULL;
  bool pair = false;

  CHECK(a != NULL);
  if (!a)
    goto out;
  po.format = TM_FORMAT_TSV;
  po.title = "en.txt";
  CHECK(tm_analysis_export(db, a, &po, sink_write, &k) == TM_OK);
  CHECK(k.p && strncmp(k.p,
                       "id\tdomain\tpos\ten\tko\tuk\tdefinition\tnote\t"
                       "source\tstatus\n",
                       52) == 0);
  CHECK(import_tsv(db, "prep", k.p, k.len, &r));
  CHECK_INT(r.kind, TM_GLOSSARY);
  CHECK_INT(r.records, a->nterms + a->ncandidates);
  CHECK(tm_entry_list(db, "prep", "en", 0, NULL, 1000, &page, &np, &next) ==
        TM_OK);
  CHECK_INT(np, a->nterms + a->ncandidates);
  for (size_t i = 0; i < np; i++) {
    const tm_entry *e = page[i];
    if (e->nterms == 2 &&
        strcmp(e->terms[0].text,
               "Database Center for North Korean Human Rights") == 0 &&
        strcmp(e->terms[1].text, "NKDB") == 0 &&
        e->terms[1].type == TM_TERM_ABBREVIATION && e->status == TM_DRAFT)
      pair = true;
  }
  CHECK(pair);
  tm_entry_list_free(page, np);
  tm_free(next);
  /* in collation order, and a writer that fails */
  po.sort_lang = "en";
  free(k.p);
  k = (sink){0};
  CHECK(tm_analysis_export(db, a, &po, sink_write, &k) == TM_OK);
  CHECK(tm_analysis_export(db, a, &po, fail_write, NULL) == TM_IO);
  po.format = TM_FORMAT_TMX;
  CHECK(tm_analysis_export(db, a, &po, sink_write, &k) == TM_INVALID);
out:
  free(k.p);
  tm_analysis_free(a);
  free(src);
  tm_db_close(db);
}

TEST(prep_sheet_html) {
  tm_db *db = glossary_db();
  static const char s[] =
      "The <Acme> & Sons Ltd. (ASL) and the Acme Safety League (ASL2) met. "
      "Prisoners of war were discussed with the <Acme> & Sons Ltd. again.";
  tm_analysis *a = db ? analyze(NULL, db, s, strlen(s), "en", 0) : NULL;
  tm_prep_opts po = {0};
  sink k = {0};
  htmlDocPtr doc;

  CHECK(a != NULL);
  if (!a)
    goto out;
  po.format = TM_FORMAT_HTML;
  po.title = "Brief <1> & \"2\"";
  CHECK(tm_analysis_export(db, a, &po, sink_write, &k) == TM_OK);
  CHECK(k.p && strncmp(k.p, "<!DOCTYPE html>", 15) == 0);
  CHECK(k.p && strstr(k.p, "size:A4") != NULL);
  CHECK(k.p && strstr(k.p, "Brief &lt;1&gt; &amp; &quot;2&quot;") != NULL);
  CHECK(k.p && strstr(k.p, "<Acme>") == NULL);
  CHECK(k.p && strstr(k.p, "<script") == NULL);
  /* the three languages' columns and the cells to fill in */
  CHECK(k.p && strstr(k.p, "전쟁포로") && strstr(k.p, "військовополонений"));
  CHECK(k.p && strstr(k.p, "class=\"blank\"") != NULL);
  doc = k.p ? htmlReadMemory(k.p, (int)k.len, NULL, "UTF-8",
                             HTML_PARSE_NONET | HTML_PARSE_NOERROR |
                                 HTML_PARSE_NOWARNING)
            : NULL;
  CHECK(doc != NULL);
  xmlFreeDoc(doc);
out:
  free(k.p);
  tm_analysis_free(a);
  tm_db_close(db);
}

/* ------------------------------------------------------- seed documents */

static char *read_seed(const char *name, size_t *len) {
  char path[1024];

  snprintf(path, sizeof path, "%s/seeds/%s", check_shared_dir(), name);
  return read_path(path, len);
}

static const char *const seeds[] = {
    "000_4ef79ec9865bbc2a.txt", "001_0a65044d7f07879e.txt",
    "002_e8cb824743c82377.txt", "003_db5461f5240e975c.txt",
    "004_c21287bf268f74d2.txt",
};

TEST(seed_004_terms) {
  tm_db *db;
  size_t len;
  char *src;
  tm_analysis *a = NULL;
  static const char *const expect[][2] = {
      {"prisoner of war", "prisoners of war"},
      {"Third Geneva Convention", "Third Geneva Convention"},
      {"Article 13 of the Third Geneva Convention", "Article 13"},
      {"non-refoulement", "principle of nonrefoulement"},
      {"enforced disappearance", "enforced disappearance"},
      {"Kursk region", "Kursk region"},
      {"ICRC", "International Committee of the Red Cross"},
  };

  if (!check_shared_dir())
    SKIP("no shared data folder");
  db = open_db(true);
  src = read_seed(seeds[4], &len);
  CHECK(db && src);
  if (db && src)
    a = analyze(NULL, db, src, len, "en", 0);
  CHECK(a != NULL);
  for (size_t i = 0; a && i < sizeof expect / sizeof expect[0]; i++) {
    const tm_analysis_term *t = term_of(a, expect[i][0]);
    CHECK(t != NULL);
    if (t)
      CHECK_STR(t->surface, expect[i][1]);
  }
  if (a) {
    check_surfaces(a, src);
    /* its names the glossary lacks */
    CHECK(candidate(a, "United Nations") != NULL);
    CHECK(candidate(a, "United States") != NULL);
    CHECK(candidate(a, "Third Geneva Convention") == NULL);
  }
  tm_analysis_free(a);
  free(src);
  tm_db_close(db);
}

TEST(seed_documents) {
  tm_db *db;

  if (!check_shared_dir())
    SKIP("no shared data folder");
  db = open_db(true);
  CHECK(db != NULL);
  for (size_t s = 0; db && s < sizeof seeds / sizeof seeds[0]; s++) {
    size_t len;
    char *src = read_seed(seeds[s], &len);
    tm_analysis *a = src ? analyze(NULL, db, src, len, "en", 0) : NULL;
    CHECK(a != NULL);
    if (a) {
      CHECK(a->nterms >= 10);
      CHECK(a->nsentences >= 9);
      check_surfaces(a, src);
      /* no candidate is a term the analysis found */
      for (size_t c = 0; c < a->ncandidates; c++)
        for (size_t t = 0; t < a->nterms; t++)
          CHECK(strcmp(a->candidates[c].text, a->terms[t].surface) != 0);
    }
    tm_analysis_free(a);
    free(src);
  }
  tm_db_close(db);
}

TEST(seed_candidates) {
  tm_db *db;
  size_t len;
  char *src;
  tm_analysis *a = NULL;
  const tm_candidate *c;
  static const char *const pairs[][2] = {
      {"Database Center for North Korean Human Rights", "NKDB"},
      {"International Federation for Human Rights", "FIDH"},
      {"Liberty in North Korea", "LiNK"},
  };
  static const char *const names[] = {
      "Public Interest Journalism Lab",
      "The Reckoning Project",
      "Nataliya Gumenyuk",
      "Oleksandra Romantsova",
      "Jung-hyun Cho",
      "Hankuk University of Foreign Studies Law School",
  };

  if (!check_shared_dir())
    SKIP("no shared data folder");
  /* without glossaries, everything of seed 000 is new */
  db = open_db(false);
  src = read_seed(seeds[0], &len);
  if (db && src)
    a = analyze(NULL, db, src, len, "en", 0);
  CHECK(a != NULL);
  for (size_t i = 0; a && i < sizeof pairs / sizeof pairs[0]; i++) {
    c = candidate(a, pairs[i][0]);
    CHECK(c && c->abbreviation && strcmp(c->abbreviation, pairs[i][1]) == 0);
  }
  for (size_t i = 0; a && i < sizeof names / sizeof names[0]; i++)
    CHECK(candidate(a, names[i]) != NULL);
  CHECK(a && candidate(a, "NATO") && !candidate(a, "NATO")->abbreviation);
  tm_analysis_free(a);
  free(src);
  tm_db_close(db);
  /* seed 002's pairs; with the shipped glossary only what is new */
  a = NULL;
  db = open_db(true);
  src = read_seed(seeds[2], &len);
  if (db && src)
    a = analyze(NULL, db, src, len, "en", 0);
  CHECK(a != NULL);
  if (a) {
    c = candidate(a, "Chief Executive Officer");
    CHECK(c && c->abbreviation && strcmp(c->abbreviation, "CEO") == 0);
    c = candidate(a, "non-governmental organizations");
    CHECK(c && c->abbreviation && strcmp(c->abbreviation, "NGO") == 0);
    c = candidate(a, "artificial intelligence");
    CHECK(c && c->abbreviation && strcmp(c->abbreviation, "AI") == 0);
    CHECK(candidate(a, "International Criminal Court") == NULL);
    CHECK(candidate(a, "ICC") == NULL);
  }
  tm_analysis_free(a);
  free(src);
  tm_db_close(db);
}
