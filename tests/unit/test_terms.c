/*
 * test_terms.c - the booth's term search (libtm/terms.c): one test per rule
 * of docs/matching.md and per language it applies to, on a small glossary
 * built here.
 */
#include "check.h"
#include "match_internal.h"

#include <stdio.h>

enum {
  POW,
  REFOULEMENT,
  REPATRIATION,
  ROME,
  ICC,
  GENEVA,
  KIM,
  SOLDIER,
  NORTH_KOREA,
  EXCHANGE,
  LIAISON,
  PEACE,
  NENTRIES
};

static int64_t ids[NENTRIES];

static const char *const terms[NENTRIES][4][3] = {
    /* en, ko, uk; a second term per language where needed */
    [POW] = {{"prisoner of war", "전쟁포로", "військовополонений"},
             {"POW", NULL, NULL}},
    [REFOULEMENT] = {{"non-refoulement", "강제송환 금지", "невидворення"}},
    [REPATRIATION] = {{"forced repatriation", "강제송환",
                       "примусова репатріація"}},
    [ROME] = {{"Rome Statute", "로마규정", "Римський статут"}},
    [ICC] = {{"International Criminal Court", "국제형사재판소",
              "Міжнародний кримінальний суд"}},
    [GENEVA] = {{"Geneva Convention", "제네바 협약", "Женевська конвенція"}},
    [KIM] = {{"Kim Jong Un", "김정은", "Кім Чен Ин"}},
    [SOLDIER] = {{"soldier", "군인", "солдат"}},
    [NORTH_KOREA] = {{"North Korea", "북한", "Північна Корея"}},
    [EXCHANGE] = {{"prisoner exchange", "포로 교환", "обмін полоненими"}},
    [LIAISON] = {{"liaison officer", "연락장교", "офіцер зв’язку"}},
    [PEACE] = {{"peace agreement", "평화협정", "мирна угода"}},
};

static const char *const langs[3] = {"en", "ko", "uk"};

static tm_db *open_db(tm_index **idx) {
  static int n;
  char path[512];
  tm_db *db = NULL;

  snprintf(path, sizeof path, "%s/terms%d.sqlite", check_tmpdir(), n++);
  CHECK_INT(tm_db_open(path, TM_OPEN_NOSEED, &db), TM_OK);
  for (int i = 0; i < NENTRIES; i++) {
    tm_entry e = {0};
    for (int row = 0; row < 4; row++)
      for (int l = 0; l < 3; l++)
        if (terms[i][row][l])
          CHECK_INT(tm_entry_add_term(
                        &e, langs[l], terms[i][row][l], TM_TERM_PREFERRED,
                        row ? TM_TERM_ABBREVIATION : TM_TERM_FULL, NULL),
                    TM_OK);
    e.domain = "international humanitarian law";
    CHECK_INT(tm_entry_add(db, "test", &e, NULL, &ids[i]), TM_OK);
    e.domain = NULL;
    tm__entry_clear(&e);
  }
  CHECK_INT(tm_index_open(db, idx), TM_OK);
  tm_db_attach_index(db, *idx);
  return db;
}

static void close_db(tm_db *db, tm_index *idx) {
  tm_db_attach_index(db, NULL);
  tm_index_close(idx);
  tm_db_close(db);
}

/* Looks Q up (in LANG, or any) and checks the best hit: entry WANT, found
 * by HOW, through the term TERM. */
static void expect(tm_index *idx, tm_db *db, const char *q, const char *lang,
                   int want, tm_how how, const char *term) {
  tm_terms_opts o = {.lang = lang};
  tm_term_hit *h = NULL;
  size_t n = 0;

  CHECK_INT(tm_terms_find(idx, db, q, &o, &h, &n), TM_OK);
  if (n == 0) {
    fprintf(stderr, "# \"%s\": no hit\n", q);
    check_failed++;
    return;
  }
  if (h[0].entry->id != ids[want] || h[0].how != how ||
      strcmp(h[0].term, term) != 0) {
    fprintf(stderr, "# \"%s\": got entry %lld \"%s\" by %s (score %d)\n", q,
            (long long)h[0].entry->id, h[0].term, tm_how_name(h[0].how),
            h[0].score);
    check_failed++;
  }
  tm_terms_free(h, n);
}

/* ------------------------------------------------------------- exact */

TEST(exact_each_language) {
  tm_index *idx;
  tm_db *db = open_db(&idx);
  expect(idx, db, "prisoner of war", NULL, POW, TM_HOW_EXACT,
         "prisoner of war");
  expect(idx, db, "전쟁포로", NULL, POW, TM_HOW_EXACT, "전쟁포로");
  expect(idx, db, "військовополонений", NULL, POW, TM_HOW_EXACT,
         "військовополонений");
  close_db(db, idx);
}

TEST(exact_scores_100_and_gives_whole_entry) {
  tm_index *idx;
  tm_db *db = open_db(&idx);
  tm_term_hit *h;
  size_t n;
  CHECK_INT(tm_terms_find(idx, db, "POW", NULL, &h, &n), TM_OK);
  CHECK(n >= 1);
  if (n >= 1) {
    CHECK_INT(h[0].score, 100);
    CHECK_STR(h[0].lang, "en");
    CHECK_STR(h[0].term, "POW");
    CHECK_INT(h[0].entry->nterms, 4);
    CHECK_STR(h[0].entry->glossary, "test");
    CHECK_STR(h[0].entry->domain, "international humanitarian law");
  }
  tm_terms_free(h, n);
  close_db(db, idx);
}

TEST(case_en_and_uk) {
  tm_index *idx;
  tm_db *db = open_db(&idx);
  expect(idx, db, "ROME STATUTE", NULL, ROME, TM_HOW_EXACT, "Rome Statute");
  expect(idx, db, "pow", NULL, POW, TM_HOW_EXACT, "POW");
  expect(idx, db, "РИМСЬКИЙ СТАТУТ", NULL, ROME, TM_HOW_EXACT,
         "Римський статут");
  close_db(db, idx);
}

TEST(apostrophe_variants_uk) {
  tm_index *idx;
  tm_db *db = open_db(&idx);
  /* stored with U+2019; typed with U+02BC, U+0027 and U+2019 */
  expect(idx, db, "офіцер звʼязку", NULL, LIAISON, TM_HOW_EXACT,
         "офіцер зв’язку");
  expect(idx, db, "офіцер зв'язку", NULL, LIAISON, TM_HOW_EXACT,
         "офіцер зв’язку");
  expect(idx, db, "офіцер зв’язку", NULL, LIAISON, TM_HOW_EXACT,
         "офіцер зв’язку");
  close_db(db, idx);
}

TEST(stress_marks_uk) {
  tm_index *idx;
  tm_db *db = open_db(&idx);
  /* U+0301 COMBINING ACUTE ACCENT after the stressed vowel */
  expect(idx, db, "військовополоне\xcc\x81ний", NULL, POW, TM_HOW_EXACT,
         "військовополонений");
  expect(idx, db, "солда\xcc\x81т", NULL, SOLDIER, TM_HOW_EXACT, "солдат");
  close_db(db, idx);
}

TEST(spacing_variants_ko) {
  tm_index *idx;
  tm_db *db = open_db(&idx);
  expect(idx, db, "전쟁 포로", NULL, POW, TM_HOW_EXACT, "전쟁포로");
  expect(idx, db, "제네바협약", NULL, GENEVA, TM_HOW_EXACT, "제네바 협약");
  close_db(db, idx);
}

/* ------------------------------------------------------------ prefix */

TEST(prefix_en) {
  tm_index *idx;
  tm_db *db = open_db(&idx);
  expect(idx, db, "non-ref", NULL, REFOULEMENT, TM_HOW_PREFIX,
         "non-refoulement");
  expect(idx, db, "Internat", NULL, ICC, TM_HOW_PREFIX,
         "International Criminal Court");
  close_db(db, idx);
}

TEST(prefix_ko) {
  tm_index *idx;
  tm_db *db = open_db(&idx);
  /* 강제송환 (shorter) ranks above 강제송환 금지 */
  expect(idx, db, "강제송", NULL, REPATRIATION, TM_HOW_PREFIX, "강제송환");
  expect(idx, db, "국제형사", NULL, ICC, TM_HOW_PREFIX, "국제형사재판소");
  close_db(db, idx);
}

TEST(prefix_uk) {
  tm_index *idx;
  tm_db *db = open_db(&idx);
  expect(idx, db, "військовопол", NULL, POW, TM_HOW_PREFIX,
         "військовополонений");
  expect(idx, db, "Женевська ко", NULL, GENEVA, TM_HOW_PREFIX,
         "Женевська конвенція");
  close_db(db, idx);
}

TEST(prefix_ranks_shorter_terms_first) {
  tm_index *idx;
  tm_db *db = open_db(&idx);
  tm_term_hit *h;
  size_t n;
  CHECK_INT(tm_terms_find(idx, db, "prisoner", NULL, &h, &n), TM_OK);
  CHECK(n >= 2);
  if (n >= 2) {
    CHECK_STR(h[0].term, "prisoner of war");
    CHECK_STR(h[1].term, "prisoner exchange");
    CHECK(h[0].score > h[1].score);
    CHECK(h[0].score >= 85 && h[0].score <= 97);
  }
  tm_terms_free(h, n);
  close_db(db, idx);
}

/* --------------------------------------------------------------- Korean */

TEST(initials_ko) {
  tm_index *idx;
  tm_db *db = open_db(&idx);
  expect(idx, db, "ㅈㅈㅍㄹ", NULL, POW, TM_HOW_INITIALS, "전쟁포로");
  expect(idx, db, "ㄱㅈㅎㅅㅈㅍㅅ", NULL, ICC, TM_HOW_INITIALS,
         "국제형사재판소");
  /* a prefix of the initials */
  expect(idx, db, "ㄹㅁㄱ", NULL, ROME, TM_HOW_INITIALS, "로마규정");
  close_db(db, idx);
}

TEST(initials_score_whole_above_prefix) {
  tm_index *idx;
  tm_db *db = open_db(&idx);
  tm_term_hit *h;
  size_t n;
  CHECK_INT(tm_terms_find(idx, db, "ㅈㅈㅍㄹ", NULL, &h, &n), TM_OK);
  CHECK(n >= 1);
  if (n >= 1)
    CHECK_INT(h[0].score, 84);
  tm_terms_free(h, n);
  CHECK_INT(tm_terms_find(idx, db, "ㅈㅈㅍ", NULL, &h, &n), TM_OK);
  CHECK(n >= 1);
  if (n >= 1) {
    CHECK(h[0].score >= 80 && h[0].score < 84);
    CHECK_STR(h[0].term, "전쟁포로");
  }
  tm_terms_free(h, n);
  close_db(db, idx);
}

TEST(half_typed_syllable_ko) {
  tm_index *idx;
  tm_db *db = open_db(&idx);
  /* the IME shows 폴 while 로 is being typed, or a bare ㅍ */
  expect(idx, db, "전쟁폴", NULL, POW, TM_HOW_PREFIX, "전쟁포로");
  expect(idx, db, "전쟁ㅍ", NULL, POW, TM_HOW_PREFIX, "전쟁포로");
  /* 재판 half typed: 재 + ㅍ shows as 쟆 */
  expect(idx, db, "국제형사쟆", NULL, ICC, TM_HOW_PREFIX, "국제형사재판소");
  /* a compound vowel is two keys: 화 is typed ㅎ ㅗ ㅏ, showing 호 first */
  expect(idx, db, "평호", NULL, PEACE, TM_HOW_PREFIX, "평화협정");
  close_db(db, idx);
}

TEST(particles_ko) {
  tm_index *idx;
  tm_db *db = open_db(&idx);
  expect(idx, db, "전쟁포로를", NULL, POW, TM_HOW_INFLECTION, "전쟁포로");
  expect(idx, db, "로마규정에", NULL, ROME, TM_HOW_INFLECTION, "로마규정");
  expect(idx, db, "국제형사재판소의", NULL, ICC, TM_HOW_INFLECTION,
         "국제형사재판소");
  /* longer particles, a plural before one, spacing on top */
  expect(idx, db, "국제형사재판소에서는", NULL, ICC, TM_HOW_INFLECTION,
         "국제형사재판소");
  expect(idx, db, "전쟁포로들을", NULL, POW, TM_HOW_INFLECTION, "전쟁포로");
  expect(idx, db, "전쟁 포로가", NULL, POW, TM_HOW_INFLECTION, "전쟁포로");
  close_db(db, idx);
}

TEST(particles_need_two_syllables_left) {
  tm_index *idx;
  tm_db *db = open_db(&idx);
  tm_entry e = {0};
  int64_t army;
  tm_term_hit *h;
  size_t n;
  CHECK_INT(
      tm_entry_add_term(&e, "ko", "군", TM_TERM_PREFERRED, TM_TERM_FULL, NULL),
      TM_OK);
  CHECK_INT(tm_entry_add(db, "test", &e, NULL, &army), TM_OK);
  tm__entry_clear(&e);
  /* 북한 + 가: stripped, 북한 remains */
  expect(idx, db, "북한가", NULL, NORTH_KOREA, TM_HOW_INFLECTION, "북한");
  /* 군가 (a military song) is not 군 + 가: one syllable would remain */
  CHECK_INT(tm_terms_find(idx, db, "군가", NULL, &h, &n), TM_OK);
  for (size_t i = 0; i < n; i++)
    CHECK(!(h[i].entry->id == army && h[i].how == TM_HOW_INFLECTION));
  tm_terms_free(h, n);
  close_db(db, idx);
}

/* ----------------------------------------------------------- inflection */

TEST(inflection_uk) {
  tm_index *idx;
  tm_db *db = open_db(&idx);
  expect(idx, db, "військовополонених", NULL, POW, TM_HOW_INFLECTION,
         "військовополонений");
  expect(idx, db, "військовополоненими", NULL, POW, TM_HOW_INFLECTION,
         "військовополонений");
  expect(idx, db, "Женевської конвенції", NULL, GENEVA, TM_HOW_INFLECTION,
         "Женевська конвенція");
  expect(idx, db, "Женевською конвенцією", NULL, GENEVA, TM_HOW_INFLECTION,
         "Женевська конвенція");
  expect(idx, db, "Римського статуту", NULL, ROME, TM_HOW_INFLECTION,
         "Римський статут");
  expect(idx, db, "солдатів", NULL, SOLDIER, TM_HOW_INFLECTION, "солдат");
  close_db(db, idx);
}

TEST(inflection_en_plurals_and_possessives) {
  tm_index *idx;
  tm_db *db = open_db(&idx);
  expect(idx, db, "prisoners of war", NULL, POW, TM_HOW_INFLECTION,
         "prisoner of war");
  expect(idx, db, "POWs", NULL, POW, TM_HOW_INFLECTION, "POW");
  expect(idx, db, "Kim Jong Un's", NULL, KIM, TM_HOW_INFLECTION, "Kim Jong Un");
  expect(idx, db, "soldiers", NULL, SOLDIER, TM_HOW_INFLECTION, "soldier");
  expect(idx, db, "soldiers'", NULL, SOLDIER, TM_HOW_INFLECTION, "soldier");
  expect(idx, db, "Geneva Conventions", NULL, GENEVA, TM_HOW_INFLECTION,
         "Geneva Convention");
  close_db(db, idx);
}

/* ------------------------------------------------------ transliteration */

TEST(translit_uk) {
  tm_index *idx;
  tm_db *db = open_db(&idx);
  expect(idx, db, "viiskovopolonenyi", NULL, POW, TM_HOW_TRANSLITERATION,
         "військовополонений");
  expect(idx, db, "Zhenevska konventsiia", NULL, GENEVA, TM_HOW_TRANSLITERATION,
         "Женевська конвенція");
  close_db(db, idx);
}

TEST(translit_ko) {
  tm_index *idx;
  tm_db *db = open_db(&idx);
  expect(idx, db, "jeonjaeng poro", NULL, POW, TM_HOW_TRANSLITERATION,
         "전쟁포로");
  expect(idx, db, "jeonjaengporo", NULL, POW, TM_HOW_TRANSLITERATION,
         "전쟁포로");
  expect(idx, db, "bukhan", NULL, NORTH_KOREA, TM_HOW_TRANSLITERATION, "북한");
  close_db(db, idx);
}

TEST(translit_prefix_uk_and_ko) {
  tm_index *idx;
  tm_db *db = open_db(&idx);
  expect(idx, db, "viiskovopol", NULL, POW, TM_HOW_TRANSLITERATION,
         "військовополонений");
  expect(idx, db, "jeonjaeng p", NULL, POW, TM_HOW_TRANSLITERATION, "전쟁포로");
  expect(idx, db, "gukjehyeong", NULL, ICC, TM_HOW_TRANSLITERATION,
         "국제형사재판소");
  close_db(db, idx);
}

/* ---------------------------------------------------------------- typos */

TEST(typo_short_one_edit_en) {
  tm_index *idx;
  tm_db *db = open_db(&idx);
  expect(idx, db, "soldeir", NULL, SOLDIER, TM_HOW_FUZZY, "soldier");
  expect(idx, db, "PWO", NULL, POW, TM_HOW_FUZZY, "POW");
  close_db(db, idx);
}

TEST(typo_long_two_edits_en) {
  tm_index *idx;
  tm_db *db = open_db(&idx);
  expect(idx, db, "prisonr of wra", NULL, POW, TM_HOW_FUZZY, "prisoner of war");
  close_db(db, idx);
}

TEST(typo_short_words_allow_only_one) {
  tm_index *idx;
  tm_db *db = open_db(&idx);
  tm_term_hit *h;
  size_t n;
  /* "sodlat" is two edits from солдат's Latin key ... and "PXQ" two from
   * POW: short queries allow one */
  CHECK_INT(tm_terms_find(idx, db, "PXQ", NULL, &h, &n), TM_OK);
  CHECK_INT(n, 0);
  tm_terms_free(h, n);
  close_db(db, idx);
}

TEST(typo_uk) {
  tm_index *idx;
  tm_db *db = open_db(&idx);
  expect(idx, db, "військовополонейний", NULL, POW, TM_HOW_FUZZY,
         "військовополонений");
  expect(idx, db, "солдта", NULL, SOLDIER, TM_HOW_FUZZY, "солдат");
  close_db(db, idx);
}

TEST(typo_ko) {
  tm_index *idx;
  tm_db *db = open_db(&idx);
  expect(idx, db, "국제형사재반소", NULL, ICC, TM_HOW_FUZZY, "국제형사재판소");
  expect(idx, db, "전쟁표로", NULL, POW, TM_HOW_FUZZY, "전쟁포로");
  close_db(db, idx);
}

TEST(typo_in_transliteration) {
  tm_index *idx;
  tm_db *db = open_db(&idx);
  expect(idx, db, "viiskovopolonenji", NULL, POW, TM_HOW_FUZZY,
         "військовополонений");
  expect(idx, db, "jeonjeangporo", NULL, POW, TM_HOW_FUZZY, "전쟁포로");
  close_db(db, idx);
}

TEST(typo_in_long_terms) {
  /* Long phrases repeat bigrams ("on" five times in the English), which
   * the bigram filter must allow for; past 64 code points (spaces aside)
   * the distance is computed without the bit-parallel pattern, and past
   * 128 bytes the query's code points no longer fit on the stack. */
  static const char en[] = "Convention (IV) relative to the Protection of "
                           "Civilian Persons in Time of War";
  static const char uk[] = "Конвенція про захист цивільного населення під "
                           "час війни від 12 серпня 1949 року";
  tm_index *idx;
  tm_db *db = open_db(&idx);
  tm_entry e = {0};
  int64_t id;
  tm_term_hit *h;
  size_t n;

  CHECK(strlen(en) < 128 && strlen(uk) > 128);
  CHECK_INT(
      tm_entry_add_term(&e, "en", en, TM_TERM_PREFERRED, TM_TERM_FULL, NULL),
      TM_OK);
  CHECK_INT(
      tm_entry_add_term(&e, "uk", uk, TM_TERM_PREFERRED, TM_TERM_FULL, NULL),
      TM_OK);
  CHECK_INT(tm_entry_add(db, "test", &e, NULL, &id), TM_OK);
  tm__entry_clear(&e);
  static const char *const typos[][2] = {
      {"Convention (IV) relative to the Protecton of Civilian Persons in "
       "Time of Wra",
       en},
      {"Конвенція про захист цивільного населенння під час війни від 12 "
       "серпня 1949 рку",
       uk},
  };
  for (size_t i = 0; i < 2; i++) {
    CHECK_INT(tm_terms_find(idx, db, typos[i][0], NULL, &h, &n), TM_OK);
    CHECK(n >= 1);
    if (n >= 1) {
      CHECK(h[0].entry->id == id);
      CHECK_INT(h[0].how, TM_HOW_FUZZY);
      CHECK_STR(h[0].term, typos[i][1]);
    }
    tm_terms_free(h, n);
  }
  /* three edits are too many */
  CHECK_INT(tm_terms_find(idx, db,
                          "Convention (IV) relative to the Protecton of "
                          "Civilian Persons in Tme of Wra",
                          NULL, &h, &n),
            TM_OK);
  for (size_t i = 0; i < n; i++)
    CHECK(h[i].entry->id != id);
  tm_terms_free(h, n);
  close_db(db, idx);
}

/* -------------------------------------------------------------- ranking */

TEST(ranking_follows_the_rules) {
  static const char *const names[] = {
      "exact", "prefix", "initials", "inflection", "transliteration", "fuzzy"};
  for (int h = TM_HOW_EXACT; h <= TM_HOW_FUZZY; h++)
    CHECK_STR(tm_how_name((tm_how)h), names[h]);
  tm_index *idx;
  tm_db *db = open_db(&idx);
  tm_term_hit *hv;
  size_t n;
  /* "soldier" is exact for one entry and could be a prefix or typo of
   * nothing else; "prisoner" (prefix) and "prisoners" (inflection of
   * nothing, prefix of nothing) */
  CHECK_INT(tm_terms_find(idx, db, "soldier", NULL, &hv, &n), TM_OK);
  CHECK(n >= 1);
  for (size_t i = 1; i < n; i++)
    CHECK(hv[i].score <= hv[i - 1].score);
  tm_terms_free(hv, n);
  close_db(db, idx);
}

TEST(one_hit_per_entry) {
  tm_index *idx;
  tm_db *db = open_db(&idx);
  tm_term_hit *h;
  size_t n;
  /* "pow" is exact for POW and a prefix of nothing else in the entry; the
   * entry must appear once, by its best term */
  CHECK_INT(tm_terms_find(idx, db, "pow", NULL, &h, &n), TM_OK);
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++)
      CHECK(h[i].entry->id != h[j].entry->id);
  tm_terms_free(h, n);
  close_db(db, idx);
}

TEST(scores_by_rule_are_ordered) {
  tm_index *idx;
  tm_db *db = open_db(&idx);
  const char *q[] = {"전쟁포로",   "전쟁포",        "ㅈㅈㅍㄹ",
                     "전쟁포로를", "jeonjaengporo", "전쟁표로"};
  int last = 101;
  for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
    tm_term_hit *h;
    size_t n;
    CHECK_INT(tm_terms_find(idx, db, q[i], NULL, &h, &n), TM_OK);
    CHECK(n >= 1);
    if (n >= 1) {
      CHECK_INT(h[0].how, (int)i);
      CHECK(h[0].score < last);
      last = h[0].score;
    }
    tm_terms_free(h, n);
  }
  close_db(db, idx);
}

TEST(language_filter_and_limit) {
  tm_index *idx;
  tm_db *db = open_db(&idx);
  tm_term_hit *h;
  size_t n;
  tm_terms_opts o = {.lang = "uk"};
  /* "prisoner" in English only; asked in Ukrainian it is not there */
  CHECK_INT(tm_terms_find(idx, db, "prisoner", &o, &h, &n), TM_OK);
  CHECK_INT(n, 0);
  tm_terms_free(h, n);
  o.lang = "any";
  o.limit = 1;
  CHECK_INT(tm_terms_find(idx, db, "prisoner", &o, &h, &n), TM_OK);
  CHECK_INT(n, 1);
  tm_terms_free(h, n);
  o.lang = "x_bad!";
  CHECK_INT(tm_terms_find(idx, db, "prisoner", &o, &h, &n), TM_LANG);
  close_db(db, idx);
}

TEST(glossary_and_status_filters) {
  tm_index *idx;
  tm_db *db = open_db(&idx);
  tm_term_hit *h;
  size_t n;
  tm_terms_opts o = {.glossary = "other"};
  CHECK_INT(tm_terms_find(idx, db, "soldier", &o, &h, &n), TM_OK);
  CHECK_INT(n, 0);
  o.glossary = "test";
  o.approved_only = 1;
  CHECK_INT(tm_terms_find(idx, db, "soldier", &o, &h, &n), TM_OK);
  CHECK_INT(n, 0);
  CHECK_INT(tm_entry_approve(db, ids[SOLDIER], NULL), TM_OK);
  CHECK_INT(tm_terms_find(idx, db, "soldier", &o, &h, &n), TM_OK);
  CHECK_INT(n, 1);
  if (n == 1)
    CHECK_INT(h[0].entry->status, TM_APPROVED);
  tm_terms_free(h, n);
  close_db(db, idx);
}

TEST(index_follows_entry_writes) {
  tm_index *idx;
  tm_db *db = open_db(&idx);
  tm_entry e = {0};
  int64_t id;
  tm_term_hit *h;
  size_t n;

  CHECK_INT(tm_entry_add_term(&e, "en", "Wagner Group", TM_TERM_PREFERRED,
                              TM_TERM_FULL, NULL),
            TM_OK);
  CHECK_INT(tm_entry_add_term(&e, "uk", "ПВК «Вагнер»", TM_TERM_PREFERRED,
                              TM_TERM_FULL, NULL),
            TM_OK);
  CHECK_INT(tm_entry_add(db, "test", &e, NULL, &id), TM_OK);
  CHECK_INT(tm_terms_find(idx, db, "wagner gr", NULL, &h, &n), TM_OK);
  CHECK_INT(n, 1);
  if (n == 1)
    CHECK_INT(h[0].entry->id, id);
  tm_terms_free(h, n);
  /* corrected: the old term goes, the new one comes */
  free(e.terms[0].text);
  e.terms[0].text = strdup("Wagner PMC");
  CHECK_INT(tm_entry_update(db, id, &e, NULL), TM_OK);
  CHECK_INT(tm_terms_find(idx, db, "wagner gr", NULL, &h, &n), TM_OK);
  CHECK_INT(n, 0);
  tm_terms_free(h, n);
  CHECK_INT(tm_terms_find(idx, db, "wagner pmc", NULL, &h, &n), TM_OK);
  CHECK_INT(n, 1);
  tm_terms_free(h, n);
  CHECK_INT(tm_entry_delete(db, id, NULL), TM_OK);
  CHECK_INT(tm_terms_find(idx, db, "wagner pmc", NULL, &h, &n), TM_OK);
  CHECK_INT(n, 0);
  tm_terms_free(h, n);
  tm__entry_clear(&e);
  close_db(db, idx);
}

/* Hits point into the index: they must stay whole while writes change
 * the index (a correction, a delete, a merge of the delta set) and after
 * it closes; the sanitizer build checks no memory is reused under them. */
TEST(hits_outlive_index_changes) {
  tm_index *idx;
  tm_db *db = open_db(&idx);
  tm_entry e = {0};
  int64_t id, other;
  tm_term_hit *h, *hn;
  size_t n, nn;
  char term[64];

  CHECK_INT(tm_entry_add_term(&e, "en", "Wagner Group", TM_TERM_PREFERRED,
                              TM_TERM_FULL, NULL),
            TM_OK);
  CHECK_INT(tm_entry_add(db, "test", &e, NULL, &id), TM_OK);
  CHECK_INT(tm_terms_find(idx, db, "wagner group", NULL, &h, &n), TM_OK);
  CHECK_INT(tm_terms_find(idx, db, "soldier", NULL, &hn, &nn), TM_OK);
  CHECK_INT(n, 1);
  CHECK(nn >= 1);
  free(e.terms[0].text);
  e.terms[0].text = strdup("Wagner PMC");
  CHECK_INT(tm_entry_update(db, id, &e, NULL), TM_OK);
  CHECK_INT(tm_entry_delete(db, ids[SOLDIER], NULL), TM_OK);
  for (int i = 0; i < 300; i++) {
    tm_entry c = {0};
    snprintf(term, sizeof term, "checkpoint %d", i);
    CHECK_INT(tm_entry_add_term(&c, "en", term, TM_TERM_PREFERRED, TM_TERM_FULL,
                                NULL),
              TM_OK);
    CHECK_INT(tm_entry_add(db, "test", &c, NULL, &other), TM_OK);
    tm__entry_clear(&c);
  }
  close_db(db, idx);
  if (n == 1) {
    CHECK_INT(h[0].entry->id, id);
    CHECK_STR(h[0].term, "Wagner Group");
    CHECK_STR(h[0].entry->terms[0].text, "Wagner Group");
  }
  if (nn >= 1) {
    CHECK_INT(hn[0].entry->id, ids[SOLDIER]);
    CHECK_STR(hn[0].term, "soldier");
  }
  tm_terms_free(h, n);
  tm_terms_free(hn, nn);
  tm__entry_clear(&e);
}

TEST(bad_input) {
  tm_index *idx;
  tm_db *db = open_db(&idx);
  tm_term_hit *h;
  size_t n;
  CHECK_INT(tm_terms_find(idx, db, "\xff\xfe", NULL, &h, &n), TM_UTF8);
  CHECK_INT(tm_terms_find(idx, db, "   ", NULL, &h, &n), TM_OK);
  CHECK_INT(n, 0);
  CHECK_INT(tm_terms_find(idx, db, NULL, NULL, &h, &n), TM_INVALID);
  close_db(db, idx);
}

TEST(index_merges_many_entry_writes) {
  tm_index *idx;
  tm_db *db = open_db(&idx);
  int64_t first = 0, last = 0;
  tm_term_hit *h;
  size_t n;
  char term[64];

  /* more writes than the delta set holds: it merges into the main set */
  for (int i = 0; i < 300; i++) {
    tm_entry e = {0};
    snprintf(term, sizeof term, "checkpoint %d", i);
    CHECK_INT(tm_entry_add_term(&e, "en", term, TM_TERM_PREFERRED, TM_TERM_FULL,
                                NULL),
              TM_OK);
    CHECK_INT(tm_entry_add(db, "test", &e, NULL, &last), TM_OK);
    if (!first)
      first = last;
    tm__entry_clear(&e);
  }
  CHECK_INT(tm_entry_delete(db, ids[SOLDIER], NULL), TM_OK);
  CHECK_INT(tm_entry_delete(db, first, NULL), TM_OK);
  CHECK_INT(tm_terms_find(idx, db, "checkpoint 299", NULL, &h, &n), TM_OK);
  CHECK(n >= 1);
  if (n >= 1) {
    CHECK_INT(h[0].entry->id, last);
    CHECK_INT(h[0].how, TM_HOW_EXACT);
  }
  tm_terms_free(h, n);
  CHECK_INT(tm_terms_find(idx, db, "checkpoint 0", NULL, &h, &n), TM_OK);
  for (size_t i = 0; i < n; i++)
    CHECK(h[i].entry->id != first);
  tm_terms_free(h, n);
  CHECK_INT(tm_terms_find(idx, db, "soldier", NULL, &h, &n), TM_OK);
  for (size_t i = 0; i < n; i++)
    CHECK(h[i].entry->id != ids[SOLDIER]);
  tm_terms_free(h, n);
  /* the rest is still there, from the main set and the delta alike */
  expect(idx, db, "전쟁포로를", NULL, POW, TM_HOW_INFLECTION, "전쟁포로");
  CHECK_INT(tm_terms_find(idx, db, "checkpoint 15", NULL, &h, &n), TM_OK);
  CHECK(n >= 1);
  if (n >= 1) {
    CHECK_STR(h[0].term, "checkpoint 15");
    CHECK_INT(h[0].how, TM_HOW_EXACT);
  }
  tm_terms_free(h, n);
  close_db(db, idx);
}
