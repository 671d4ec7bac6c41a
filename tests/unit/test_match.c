/*
 * test_match.c - fuzzy matching and concordance (libtm/match.c) and the
 * index behind them (libtm/index.c): the tokenizer, the bit-parallel edit
 * distances against plain dynamic programming, the score formula of
 * docs/matching.md, the spans of a match, filters, ranking, and the index
 * following writes, also from several threads.
 */
#include "check.h"
#include "match_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

static tm_db *open_db(void) {
  static int n;
  char path[512];
  tm_db *db = NULL;

  snprintf(path, sizeof path, "%s/match%d.sqlite", check_tmpdir(), n++);
  CHECK_INT(tm_db_open(path, TM_OPEN_NOSEED, &db), TM_OK);
  return db;
}

/* Adds a unit of up to three languages (NULL: absent); returns its id. */
static int64_t add(tm_db *db, const char *memory, const char *en,
                   const char *ko, const char *uk) {
  tm_unit u = {0};
  int64_t id = 0;
  if (en)
    CHECK_INT(tm_unit_set(&u, "en", en), TM_OK);
  if (ko)
    CHECK_INT(tm_unit_set(&u, "ko", ko), TM_OK);
  if (uk)
    CHECK_INT(tm_unit_set(&u, "uk", uk), TM_OK);
  CHECK_INT(tm_unit_add(db, memory, &u, NULL, &id, NULL), TM_OK);
  tm__unit_clear(&u);
  return id;
}

static int score(const char *q, const char *s) {
  tm_text *t;
  int v = -1;
  CHECK_INT(tm_text_open(&t), TM_OK);
  CHECK_INT(tm__match_score(t, q, s, &v), TM_OK);
  tm_text_close(t);
  return v;
}

/* The best match of Q from LANG: its score, or -1 without one. */
static int best(tm_index *idx, tm_db *db, const char *q, const char *lang,
                int64_t *unit) {
  tm_match_opts o = {.from = lang};
  tm_match *m = NULL;
  size_t n = 0;
  int s = -1;
  CHECK_INT(tm_match_find(idx, db, q, &o, &m, &n), TM_OK);
  if (n) {
    s = m[0].score;
    if (unit)
      *unit = m[0].unit;
  }
  tm_match_free(m, n);
  return s;
}

/* ------------------------------------------------------------ tokenizer */

TEST(tokenizer_classes) {
  tm__toks t = {0};
  const char *s = "Don't pay $1,000.50 for п’ять, 전쟁포로!";
  CHECK_INT(tm__tokenize(s, strlen(s), &t), TM_OK);
  /* Don't | pay | $ | 1,000.50 | for | п’ять | , | 전 쟁 포 로 | ! */
  CHECK_INT(t.n, 12);
  if (t.n == 12) {
    CHECK_INT(t.v[0].cls, TM__TK_WORD);
    CHECK_INT(t.v[0].c1 - t.v[0].c0, 5);
    CHECK_INT(t.v[2].cls, TM__TK_PUNCT);
    CHECK_INT(t.v[3].cls, TM__TK_NUM);
    CHECK_INT(t.v[3].c1 - t.v[3].c0, 8);
    CHECK_INT(t.v[5].cls, TM__TK_WORD);
    CHECK_INT(t.v[5].c1 - t.v[5].c0, 5);
    CHECK_INT(t.v[6].cls, TM__TK_PUNCT);
    CHECK_INT(t.v[7].cls, TM__TK_CHAR);
    CHECK_INT(t.v[7].space, 1);
    CHECK_INT(t.v[8].space, 0);
    CHECK_INT(t.v[11].cls, TM__TK_PUNCT);
    /* code point offsets, not bytes */
    CHECK_INT(t.v[7].c0, 31);
  }
  tm__toks_free(&t);
}

TEST(tokenizer_marks_stay_in_their_word) {
  tm__toks t = {0};
  const char *s = "полоне\xcc\x81ний"; /* a stress mark inside */
  CHECK_INT(tm__tokenize(s, strlen(s), &t), TM_OK);
  CHECK_INT(t.n, 1);
  if (t.n == 1)
    CHECK_INT(t.v[0].c1, 10);
  tm__toks_free(&t);
}

/* ------------------------------------------------------- edit distance */

static uint32_t naive(const uint32_t *a, uint32_t na, const uint32_t *b,
                      uint32_t nb, bool transpose) {
  uint32_t d[40][40];
  for (uint32_t i = 0; i <= na; i++)
    d[i][0] = i;
  for (uint32_t j = 0; j <= nb; j++)
    d[0][j] = j;
  for (uint32_t i = 1; i <= na; i++)
    for (uint32_t j = 1; j <= nb; j++) {
      uint32_t v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
      if (d[i - 1][j] + 1 < v)
        v = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < v)
        v = d[i][j - 1] + 1;
      if (transpose && i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
          a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
        v = d[i - 2][j - 2] + 1;
      d[i][j] = v;
    }
  return d[na][nb];
}

TEST(bit_parallel_agrees_with_dynamic_programming) {
  uint64_t seed = 12345;
  int bad = 0;
  for (int round = 0; round < 20000; round++) {
    uint32_t a[36], b[36], na, nb;
    tm__peq p;
    /* small alphabets (with one non-ASCII letter) make many matches */
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    na = (uint32_t)(seed >> 59) + 1;
    nb = (uint32_t)((seed >> 54) & 31) + (round % 3 == 0 ? 0 : 1);
    if (nb > 35)
      nb = 35;
    for (uint32_t i = 0; i < na; i++) {
      seed = seed * 6364136223846793005ull + 1442695040888963407ull;
      a[i] = (seed >> 62) == 3 ? 0x0436 : 'a' + (uint32_t)(seed >> 62);
    }
    for (uint32_t i = 0; i < nb; i++) {
      seed = seed * 6364136223846793005ull + 1442695040888963407ull;
      b[i] = (seed >> 62) == 3 ? 0x0436 : 'a' + (uint32_t)(seed >> 62);
    }
    tm__peq_init(&p, a, na);
    for (int t = 0; t < 2; t++) {
      uint32_t want = naive(a, na, b, nb, t), got;
      got = tm__peq_distance(&p, b, nb, t);
      bad += got != want;
      got = tm__edit_distance(a, na, b, nb, t, 100);
      bad += got != want;
    }
  }
  CHECK_INT(bad, 0);
}

TEST(bit_parallel_full_width_pattern) {
  uint32_t a[64], b[64];
  tm__peq p;
  for (int i = 0; i < 64; i++)
    a[i] = b[i] = 'a' + (uint32_t)(i % 26);
  b[10] = 'Z';
  b[63] = 'Q';
  tm__peq_init(&p, a, 64);
  CHECK_INT(tm__peq_distance(&p, b, 64, false), 2);
  CHECK_INT(tm__peq_distance(&p, b, 62, false), 3);
  CHECK_INT(tm__edit_distance(a, 64, b, 64, false, 1), 2);
}

/* --------------------------------------------------------------- score */

TEST(score_identical_is_100) {
  CHECK_INT(score("North Korean soldiers were captured in Kursk.",
                  "North Korean soldiers were captured in Kursk."),
            100);
  CHECK_INT(score("전쟁포로", "전쟁포로"), 100);
}

TEST(score_format_penalties) {
  const char *s = "Two soldiers were captured in Kursk.";
  /* case 1, punctuation 1, whitespace 1, numbers 2; never below 95 */
  CHECK_INT(score("two soldiers were captured in Kursk.", s), 99);
  CHECK_INT(score("Two soldiers were captured in Kursk", s), 99);
  CHECK_INT(score("Two soldiers were captured in  Kursk.", s), 99);
  CHECK_INT(score("Two soldiers were captured in Kursk. ", s), 99);
  CHECK_INT(score("Page 5 of 10", "Page 6 of 10"), 98);
  CHECK_INT(score("two soldiers were captured in Kursk!", s), 98);
  CHECK_INT(score("page 5 of 10!", "Page 6 of 10."), 96);
  CHECK_INT(score("page 5 of 10 !", "Page 6 of 10."), 95);
  /* apostrophes and stress marks fold away: a difference all the same */
  CHECK_INT(score("п'ять", "п’ять"), 99);
  CHECK_INT(score("полоне\xcc\x81ний", "полонений"), 99);
  /* Korean spacing is whitespace only */
  CHECK_INT(score("전쟁 포로", "전쟁포로"), 99);
}

TEST(score_word_edits) {
  /* one word inserted in an 8-word segment: 1 - 1/8 = 87.5 */
  CHECK_INT(score("North Korean soldiers were captured in Kursk.",
                  "Two North Korean soldiers were captured in Kursk."),
            87);
  /* a close word costs its share of changed letters: 1 - 0.25/2 */
  CHECK_INT(score("All Tags", "All Tabs"), 87);
  CHECK_INT(score("Tags", "Tabs"), 75);
  /* words more than half changed cost a whole word */
  CHECK_INT(score("Open the file", "Open the door"), 66);
  /* two adjacent words swapped: two substitutions */
  CHECK_INT(score("a b c d e f g h i j", "a b d c e f g h i j"), 80);
  /* a segment whose words differ scores at most 94 */
  CHECK_INT(score("one two three four five six seven eight nine ten eleven "
                  "twelve thirteen fourteen fifteen sixteen seventeen "
                  "eighteen nineteen twenty",
                  "one two three four five six seven eight nine ten eleven "
                  "twelve thirteen fourteen fifteen sixteen seventeen "
                  "eighteen nineteen"),
            94);
  CHECK_INT(score("completely different", "nothing alike here"), 0);
}

TEST(score_korean_by_characters) {
  /* a particle changed: one syllable of nine, where words as units would
   * lose one eojeol of two (50) */
  CHECK_INT(score("전쟁포로를 석방했다", "전쟁포로가 석방했다"), 88);
  CHECK_INT(score("북한군 포로 두 명", "북한군 포로 세 명"), 85);
  /* Latin words inside Korean are words */
  CHECK_INT(score("UPS 전원 확인", "UPS 전원 확인"), 100);
}

/* ------------------------------------------------------- fuzzy matches */

TEST(match_finds_close_segments) {
  tm_db *db = open_db();
  tm_index *idx;
  int64_t a, b, u = 0;
  a = add(db, NULL, "Two North Korean soldiers were captured in Kursk.",
          "북한군 두 명이 쿠르스크에서 포로로 잡혔다.",
          "Двоє північнокорейських солдатів потрапили в полон у Курську.");
  b = add(db, NULL, "The soldiers were released.", "군인들이 석방되었다.",
          "Солдатів звільнили.");
  add(db, NULL, "All Tabs", "모든 탭", "Усі вкладки");
  CHECK_INT(tm_index_open(db, &idx), TM_OK);

  CHECK_INT(
      best(idx, db, "North Korean soldiers were captured in Kursk.", "en", &u),
      87);
  CHECK_INT(u, a);
  CHECK_INT(best(idx, db, "The soldiers were released.", "en", &u), 100);
  CHECK_INT(u, b);
  CHECK_INT(best(idx, db, "the soldiers were released", "en", &u), 98);
  /* sharing no whole word */
  CHECK_INT(best(idx, db, "All Tags", "en", &u), 87);
  CHECK_INT(
      best(idx, db, "북한군 세 명이 쿠르스크에서 포로로 잡혔다.", "ko", &u),
      94);
  CHECK_INT(u, a);
  CHECK_INT(best(idx, db, "Двоє північнокорейських солдатів потрапили в полон.",
                 "uk", &u),
            75);
  CHECK_INT(u, a);
  CHECK_INT(best(idx, db, "Something else entirely.", "en", NULL), -1);
  tm_index_close(idx);
  tm_db_close(db);
}

TEST(match_fields_targets_and_diffs) {
  tm_db *db = open_db();
  tm_index *idx;
  tm_match *m;
  size_t n;
  const char *to[] = {"uk", "ko"};
  tm_match_opts o = {.from = "en", .to = to, .nto = 2};
  int64_t a = add(db, "webinar", "Two North Korean soldiers were captured.",
                  "북한군 두 명이 포로로 잡혔다.",
                  "Двоє північнокорейських солдатів потрапили в полон.");

  CHECK_INT(tm_index_open(db, &idx), TM_OK);
  CHECK_INT(tm_match_find(idx, db, "North Korean soldiers were captured!", &o,
                          &m, &n),
            TM_OK);
  CHECK_INT(n, 1);
  if (n == 1) {
    CHECK_INT(m[0].unit, a);
    CHECK_STR(m[0].memory, "webinar");
    CHECK_STR(m[0].source_lang, "en");
    CHECK_STR(m[0].source, "Two North Korean soldiers were captured.");
    CHECK_INT(m[0].status, TM_DRAFT);
    CHECK(m[0].updated > 0);
    CHECK_INT(m[0].ntargets, 2);
    if (m[0].ntargets == 2) {
      CHECK_STR(m[0].targets[0].lang, "uk");
      CHECK_STR(m[0].targets[1].lang, "ko");
    }
    /* "Two " inserted in the source; "." replaced by "!" */
    CHECK_INT(m[0].ndiffs, 2);
    if (m[0].ndiffs == 2) {
      CHECK_INT(m[0].diffs[0].op, TM_DIFF_INSERT);
      CHECK_INT(m[0].diffs[0].source.start, 0);
      CHECK_INT(m[0].diffs[0].source.end, 4);
      CHECK_INT(m[0].diffs[0].query.start, UINT32_MAX);
      CHECK_INT(m[0].diffs[1].op, TM_DIFF_REPLACE);
      CHECK_INT(m[0].diffs[1].source.start, 39);
      CHECK_INT(m[0].diffs[1].source.end, 40);
      CHECK_INT(m[0].diffs[1].query.start, 35);
      CHECK_INT(m[0].diffs[1].query.end, 36);
    }
  }
  tm_match_free(m, n);
  tm_index_close(idx);
  tm_db_close(db);
}

TEST(match_diffs_delete_and_replace_words) {
  tm_db *db = open_db();
  tm_index *idx;
  tm_match *m;
  size_t n;
  tm_match_opts o = {.from = "en", .min = 50};
  add(db, NULL, "Open the red file now", NULL, "Відкрийте червоний файл");
  CHECK_INT(tm_index_open(db, &idx), TM_OK);
  /* query: "Open the big blue file now": "big blue" vs "red" */
  CHECK_INT(tm_match_find(idx, db, "Open the big blue file now", &o, &m, &n),
            TM_OK);
  CHECK_INT(n, 1);
  if (n == 1) {
    CHECK_INT(m[0].ndiffs, 1);
    if (m[0].ndiffs == 1) {
      CHECK_INT(m[0].diffs[0].op, TM_DIFF_REPLACE);
      CHECK_INT(m[0].diffs[0].source.start, 9);
      CHECK_INT(m[0].diffs[0].source.end, 12);
      CHECK_INT(m[0].diffs[0].query.start, 9);
      CHECK_INT(m[0].diffs[0].query.end, 17);
    }
  }
  tm_match_free(m, n);
  CHECK_INT(tm_match_find(idx, db, "Open the file now", &o, &m, &n), TM_OK);
  CHECK_INT(n, 1);
  if (n == 1 && m[0].ndiffs == 1) {
    CHECK_INT(m[0].diffs[0].op, TM_DIFF_INSERT);
    CHECK_INT(m[0].diffs[0].source.start, 9);
    CHECK_INT(m[0].diffs[0].source.end, 13);
  }
  tm_match_free(m, n);
  tm_index_close(idx);
  tm_db_close(db);
}

TEST(match_korean_diffs_are_characters) {
  tm_db *db = open_db();
  tm_index *idx;
  tm_match *m;
  size_t n;
  tm_match_opts o = {.from = "ko"};
  add(db, NULL, "The prisoners were released", "전쟁포로를 석방했다",
      "Полонених звільнили");
  CHECK_INT(tm_index_open(db, &idx), TM_OK);
  CHECK_INT(tm_match_find(idx, db, "전쟁포로가 석방했다", &o, &m, &n), TM_OK);
  CHECK_INT(n, 1);
  if (n == 1) {
    CHECK_INT(m[0].score, 88);
    CHECK_INT(m[0].ndiffs, 1);
    if (m[0].ndiffs == 1) {
      CHECK_INT(m[0].diffs[0].op, TM_DIFF_REPLACE);
      CHECK_INT(m[0].diffs[0].source.start, 4);
      CHECK_INT(m[0].diffs[0].source.end, 5);
    }
  }
  tm_match_free(m, n);
  tm_index_close(idx);
  tm_db_close(db);
}

TEST(match_min_and_limit) {
  tm_db *db = open_db();
  tm_index *idx;
  tm_match *m;
  size_t n;
  char buf[64];
  for (int i = 0; i < 12; i++) {
    snprintf(buf, sizeof buf, "Print page %d of the report", i);
    add(db, NULL, buf, NULL, "Друк");
  }
  add(db, NULL, "Print the report", NULL, "Друк звіту");
  CHECK_INT(tm_index_open(db, &idx), TM_OK);
  tm_match_opts o = {.from = "en"};
  CHECK_INT(tm_match_find(idx, db, "Print page 3 of the report", &o, &m, &n),
            TM_OK);
  CHECK_INT(n, 5);
  if (n == 5) {
    CHECK_INT(m[0].score, 100);
    CHECK_INT(m[1].score, 98);
  }
  tm_match_free(m, n);
  o.limit = 20;
  CHECK_INT(tm_match_find(idx, db, "Print page 3 of the report", &o, &m, &n),
            TM_OK);
  CHECK_INT(n, 12); /* "Print the report" is 3/6: 50 < 70 */
  tm_match_free(m, n);
  o.min = 50;
  CHECK_INT(tm_match_find(idx, db, "Print page 3 of the report", &o, &m, &n),
            TM_OK);
  CHECK_INT(n, 13);
  tm_match_free(m, n);
  tm_index_close(idx);
  tm_db_close(db);
}

static int64_t ticks;

static int64_t tick(void *ctx) {
  (void)ctx;
  return ++ticks;
}

static void set_status(tm_db *db, int64_t id, tm_record_status st) {
  tm_unit *u;
  CHECK_INT(tm_unit_get(db, id, &u), TM_OK);
  u->status = st;
  CHECK_INT(tm_unit_update(db, id, u, NULL), TM_OK);
  tm_unit_free(u);
}

TEST(match_ties_by_approval_then_recency) {
  tm_db *db = open_db();
  tm_index *idx;
  tm_match *m;
  size_t n;
  int64_t a, b, c;
  tm_match_opts o = {.from = "en"};

  tm_db_set_clock(db, tick, NULL);
  a = add(db, NULL, "Save the file", NULL, "Зберегти файл");
  b = add(db, NULL, "Save the file", NULL, "Збережіть файл");
  c = add(db, NULL, "Save the file", NULL, "Зберегти файл як");
  set_status(db, a, TM_APPROVED); /* a approved, and now the newest */
  set_status(db, b, TM_DRAFT);    /* then b is newer than c */
  CHECK_INT(tm_index_open(db, &idx), TM_OK);
  tm_db_attach_index(db, idx);
  CHECK_INT(tm_match_find(idx, db, "Save the file", &o, &m, &n), TM_OK);
  CHECK_INT(n, 3);
  if (n == 3) {
    CHECK_INT(m[0].unit, a);
    CHECK_INT(m[0].status, TM_APPROVED);
    CHECK_INT(m[1].unit, b);
    CHECK_INT(m[2].unit, c);
  }
  tm_match_free(m, n);
  set_status(db, c, TM_DRAFT); /* c newest now, still behind approved a */
  CHECK_INT(tm_match_find(idx, db, "Save the file", &o, &m, &n), TM_OK);
  CHECK_INT(n, 3);
  if (n == 3) {
    CHECK_INT(m[0].unit, a);
    CHECK_INT(m[1].unit, c);
    CHECK_INT(m[2].unit, b);
  }
  tm_match_free(m, n);
  o.approved_only = 1;
  CHECK_INT(tm_match_find(idx, db, "Save the file", &o, &m, &n), TM_OK);
  CHECK_INT(n, 1);
  tm_match_free(m, n);
  tm_db_attach_index(db, NULL);
  tm_index_close(idx);
  tm_db_close(db);
}

TEST(match_languages_memories_and_targets) {
  tm_db *db = open_db();
  tm_index *idx;
  tm_match *m;
  size_t n;
  tm_unit u = {0};
  int64_t gb, only_ko, id;

  CHECK_INT(tm_unit_set(&u, "en-GB", "Colour settings"), TM_OK);
  CHECK_INT(tm_unit_set(&u, "uk", "Налаштування кольору"), TM_OK);
  CHECK_INT(tm_unit_add(db, "british", &u, NULL, &gb, NULL), TM_OK);
  tm__unit_clear(&u);
  only_ko = add(db, NULL, "Colour settings", "색 설정", NULL);
  CHECK_INT(tm_index_open(db, &idx), TM_OK);

  tm_match_opts o = {.from = "en"};
  CHECK_INT(tm_match_find(idx, db, "Colour settings", &o, &m, &n), TM_OK);
  CHECK_INT(n, 2);
  tm_match_free(m, n);
  o.exact_lang = 1;
  CHECK_INT(tm_match_find(idx, db, "Colour settings", &o, &m, &n), TM_OK);
  CHECK_INT(n, 1);
  if (n == 1)
    CHECK_INT(m[0].unit, only_ko);
  tm_match_free(m, n);
  o.exact_lang = 0;
  o.memory = "british";
  CHECK_INT(tm_match_find(idx, db, "Colour settings", &o, &m, &n), TM_OK);
  CHECK_INT(n, 1);
  if (n == 1) {
    CHECK_INT(m[0].unit, gb);
    CHECK_STR(m[0].source_lang, "en-GB");
  }
  tm_match_free(m, n);
  o.memory = "nonexistent";
  CHECK_INT(tm_match_find(idx, db, "Colour settings", &o, &m, &n), TM_NOTFOUND);
  /* targets: a unit without any requested target is no use */
  const char *to[] = {"uk"};
  o.memory = NULL;
  o.to = to;
  o.nto = 1;
  CHECK_INT(tm_match_find(idx, db, "Colour settings", &o, &m, &n), TM_OK);
  CHECK_INT(n, 1);
  if (n == 1) {
    CHECK_INT(m[0].unit, gb);
    CHECK_INT(m[0].ntargets, 1);
  }
  tm_match_free(m, n);
  /* bad input */
  o.from = "!!";
  CHECK_INT(tm_match_find(idx, db, "Colour", &o, &m, &n), TM_LANG);
  o.from = NULL;
  CHECK_INT(tm_match_find(idx, db, "Colour", &o, &m, &n), TM_INVALID);
  o.from = "en";
  CHECK_INT(tm_match_find(idx, db, "Col\xffour", &o, &m, &n), TM_UTF8);
  /* an empty query has nothing */
  o.from = "en";
  CHECK_INT(tm_match_find(idx, db, "  ", &o, &m, &n), TM_OK);
  CHECK_INT(n, 0);
  /* an unindexed language has nothing */
  o.from = "de";
  CHECK_INT(tm_match_find(idx, db, "Farbe", &o, &m, &n), TM_OK);
  CHECK_INT(n, 0);
  (void)id;
  tm_index_close(idx);
  tm_db_close(db);
}

/* Random segments over small vocabularies (so that close words, repeated
 * words, numbers and spacing variants abound), and random edits of them:
 * the best score tm_match_find gives must be the best of the reference
 * score over every unit.  The memory is small enough that the count filter
 * keeps every doc, so this checks the pruning bound, the bit-parallel and
 * table distances and the memoised word costs together. */
static uint64_t rnd_state = 88172645463325252ull;

static uint32_t rnd(uint32_t n) {
  rnd_state ^= rnd_state << 13;
  rnd_state ^= rnd_state >> 7;
  rnd_state ^= rnd_state << 17;
  return (uint32_t)(rnd_state % n);
}

static void random_segment(char *buf, size_t cap, bool korean) {
  static const char *const en[] = {
      "file", "files", "filed",   "open",     "opens",     "the",
      "a",    "save",  "saved",   "tag",      "tags",      "tabs",
      "tab",  "print", "printer", "prisoner", "prisoners", "of",
      "war",  "%s",    "5",       "12"};
  static const char *const ko[] = {"전쟁", "포로", "포로를", "포로가",  "석방",
                                   "했다", "북한", "군인",   "%s",      "3",
                                   "파일", "열기", "저장",   "전쟁포로"};
  size_t n = 2 + rnd(7), k = 0;
  for (size_t i = 0; i < n; i++) {
    const char *w = korean ? ko[rnd(sizeof ko / sizeof ko[0])]
                           : en[rnd(sizeof en / sizeof en[0])];
    k += (size_t)snprintf(buf + k, cap - k, "%s%s", i ? " " : "", w);
  }
  if (rnd(3) == 0)
    snprintf(buf + k, cap - k, ".");
}

static void random_edit(const char *src, char *buf, size_t cap) {
  char words[16][32];
  size_t n = 0, k = 0;
  const char *p = src;
  while (*p && n < 16) {
    size_t l = strcspn(p, " ");
    snprintf(words[n++], sizeof words[0], "%.*s", (int)l, p);
    p += l;
    while (*p == ' ')
      p++;
  }
  switch (rnd(4)) {
  case 0: /* delete a word */
    if (n > 1) {
      size_t w = rnd((uint32_t)n);
      memmove(words[w], words[w + 1], (n - w - 1) * sizeof words[0]);
      n--;
    }
    break;
  case 1: { /* a letter changed (a syllable: a Korean word loses one) */
    char *w = words[rnd((uint32_t)n)];
    if ((unsigned char)w[0] >= 0x80)
      memcpy(w, "엑", 3);
    else
      w[0] = 'x';
    break;
  }
  case 2: /* swap */
    if (n > 1) {
      char t[32];
      size_t w = rnd((uint32_t)n - 1);
      memcpy(t, words[w], sizeof t);
      memcpy(words[w], words[w + 1], sizeof t);
      memcpy(words[w + 1], t, sizeof t);
    }
    break;
  default: /* case */
    if (words[0][0] >= 'a' && words[0][0] <= 'z')
      words[0][0] = (char)(words[0][0] - 32);
    break;
  }
  for (size_t i = 0; i < n; i++)
    k += (size_t)snprintf(buf + k, cap - k, "%s%s", i ? " " : "", words[i]);
}

TEST(match_agrees_with_brute_force) {
  tm_db *db = open_db();
  tm_index *idx;
  tm_text *t;
  char seg[2][120][160], q[200];
  int bad = 0;

  CHECK_INT(tm_text_open(&t), TM_OK);
  for (int lang = 0; lang < 2; lang++)
    for (int i = 0; i < 120; i++) {
      char other[32];
      random_segment(seg[lang][i], sizeof seg[lang][i], lang == 1);
      snprintf(other, sizeof other, "unit %d %d", lang, i);
      add(db, NULL, lang ? other : seg[lang][i], lang ? seg[lang][i] : NULL,
          other);
    }
  CHECK_INT(tm_index_open(db, &idx), TM_OK);
  for (int round = 0; round < 300; round++) {
    int lang = round % 2, want = -1, got = -1;
    tm_match_opts o = {.from = lang ? "ko" : "en", .min = 50, .limit = 3};
    tm_match *m;
    size_t n;
    if (round % 5 == 4)
      random_segment(q, sizeof q, lang == 1);
    else
      random_edit(seg[lang][rnd(120)], q, sizeof q);
    for (int i = 0; i < 120; i++) {
      int v;
      /* duplicates of a segment are one unit */
      CHECK_INT(tm__match_score(t, q, seg[lang][i], &v), TM_OK);
      if (v >= 50 && v > want)
        want = v;
    }
    CHECK_INT(tm_match_find(idx, db, q, &o, &m, &n), TM_OK);
    if (n)
      got = m[0].score;
    for (size_t i = 1; i < n; i++)
      if (m[i].score > m[i - 1].score)
        bad++;
    if (got != want) {
      fprintf(stderr, "# [%s]: best %d, expected %d\n", q, got, want);
      bad++;
    }
    tm_match_free(m, n);
  }
  CHECK_INT(bad, 0);
  tm_text_close(t);
  tm_index_close(idx);
  tm_db_close(db);
}

/* ------------------------------------------------------- index updates */

TEST(index_follows_unit_writes) {
  tm_db *db = open_db();
  tm_index *idx;
  tm_unit u = {0};
  int64_t id, found = 0;

  add(db, NULL, "Existing segment about tanks", NULL, "Танки");
  CHECK_INT(tm_index_open(db, &idx), TM_OK);
  tm_db_attach_index(db, idx);
  id = add(db, NULL, "Prisoners were exchanged yesterday", NULL,
           "Учора обміняли полонених");
  CHECK_INT(best(idx, db, "Prisoners were exchanged yesterday", "en", &found),
            100);
  CHECK_INT(found, id);
  CHECK_INT(best(idx, db, "Учора обміняли полонених", "uk", &found), 100);
  /* corrected */
  CHECK_INT(tm_unit_set(&u, "en", "Prisoners were exchanged today"), TM_OK);
  CHECK_INT(tm_unit_set(&u, "uk", "Сьогодні обміняли полонених"), TM_OK);
  CHECK_INT(tm_unit_update(db, id, &u, NULL), TM_OK);
  tm__unit_clear(&u);
  CHECK_INT(best(idx, db, "Prisoners were exchanged today", "en", &found), 100);
  CHECK_INT(best(idx, db, "Учора обміняли полонених", "uk", NULL), -1);
  /* deleted */
  CHECK_INT(tm_unit_delete(db, id, NULL), TM_OK);
  CHECK_INT(best(idx, db, "Prisoners were exchanged today", "en", NULL), -1);
  CHECK_INT(best(idx, db, "Existing segment about tanks", "en", NULL), 100);
  tm_db_attach_index(db, NULL);
  tm_index_close(idx);
  tm_db_close(db);
}

TEST(index_follows_imports) {
  tm_db *db = open_db();
  tm_index *idx;
  tm_import_opts io = {.format = TM_FORMAT_TSV, .kind = TM_MEMORY};
  tm_import_result r = {0};
  const char tsv[] = "en\tuk\n"
                     "Artillery fire continued overnight\tАртилерійський "
                     "обстріл тривав усю ніч\n"
                     "The front line did not move\tЛінія фронту не "
                     "змінилася\n";
  CHECK_INT(tm_index_open(db, &idx), TM_OK);
  tm_db_attach_index(db, idx);
  CHECK_INT(tm_import_buffer(db, tsv, sizeof tsv - 1, &io, &r), TM_OK);
  CHECK_INT(r.records, 2);
  CHECK_INT(best(idx, db, "The front line did not move.", "en", NULL), 99);
  CHECK_INT(best(idx, db, "Лінія фронту не змінилася", "uk", NULL), 100);
  tm_db_attach_index(db, NULL);
  tm_index_close(idx);
  tm_db_close(db);
}

TEST(index_delta_rebuilds_when_large) {
  tm_db *db = open_db();
  tm_index *idx;
  char en[64], uk[64];
  int64_t found = 0, last = 0;
  CHECK_INT(tm_index_open(db, &idx), TM_OK);
  tm_db_attach_index(db, idx);
  /* more than the delta holds (4096 docs: 2 per unit) */
  for (int i = 0; i < 2100; i++) {
    snprintf(en, sizeof en, "Checkpoint number %d was reached", i);
    snprintf(uk, sizeof uk, "Блокпост номер %d досягнуто", i);
    last = add(db, NULL, en, NULL, uk);
  }
  CHECK(idx->u->nunits >= 2000);
  CHECK(idx->u->delta < 4096);
  CHECK_INT(best(idx, db, "Checkpoint number 2099 was reached", "en", &found),
            100);
  CHECK_INT(found, last);
  tm_db_attach_index(db, NULL);
  tm_index_close(idx);
  tm_db_close(db);
}

/* ---------------------------------------------------------- concordance */

static void conc_setup(tm_db *db) {
  add(db, NULL, "North Korean soldiers were captured by Ukrainian forces.",
      "북한군인들이 우크라이나군에 포로로 잡혔다.",
      "Українські сили взяли в полон північнокорейських солдатів.");
  add(db, NULL, "The soldier said North Korea sent him.",
      "그 군인은 북한이 자신을 보냈다고 말했다.",
      "Солдат сказав, що його відправила Північна Корея.");
  add(db, NULL, "Soldiers", "군인", "Солдати");
  add(db, NULL, "Korean cuisine", "한국 요리", "Корейська кухня");
}

TEST(concordance_words_en) {
  tm_db *db = open_db();
  tm_index *idx;
  tm_match *m;
  size_t n;
  tm_match_opts o = {.from = "en", .limit = 10};
  conc_setup(db);
  CHECK_INT(tm_index_open(db, &idx), TM_OK);
  /* word prefixes: "soldier" finds soldier, soldiers and Soldiers; the
   * whole word first, then the segment the query covers most */
  CHECK_INT(tm_concordance_find(idx, db, "soldier", &o, &m, &n), TM_OK);
  CHECK_INT(n, 3);
  if (n == 3) {
    CHECK_STR(m[0].source, "The soldier said North Korea sent him.");
    CHECK_INT(m[0].ndiffs, 1);
    CHECK_INT(m[0].diffs[0].op, 0);
    CHECK_INT(m[0].diffs[0].source.start, 4);
    CHECK_INT(m[0].diffs[0].source.end, 11);
    CHECK_INT(m[0].diffs[0].query.start, UINT32_MAX);
    CHECK_STR(m[1].source, "Soldiers");
    CHECK_INT(m[1].score, 100);
    CHECK_INT(m[1].diffs[0].source.start, 0);
    CHECK_INT(m[1].diffs[0].source.end, 7);
  }
  tm_match_free(m, n);
  /* an apostrophe inside a word is no word start */
  add(db, NULL, "Sana'a", "사나", "Сана");
  tm_index_close(idx);
  CHECK_INT(tm_index_open(db, &idx), TM_OK);
  CHECK_INT(tm_concordance_find(idx, db, "a", &o, &m, &n), TM_OK);
  CHECK_INT(n, 0);
  tm_match_free(m, n);
  /* every word must be there; "korea" is a prefix of Korean */
  CHECK_INT(tm_concordance_find(idx, db, "north korea", &o, &m, &n), TM_OK);
  CHECK_INT(n, 2);
  tm_match_free(m, n);
  /* not inside a word: "oldier" is no word start */
  CHECK_INT(tm_concordance_find(idx, db, "oldier", &o, &m, &n), TM_OK);
  CHECK_INT(n, 0);
  tm_match_free(m, n);
  tm_index_close(idx);
  tm_db_close(db);
}

TEST(concordance_two_syllable_korean) {
  tm_db *db = open_db();
  tm_index *idx;
  tm_match *m;
  size_t n;
  tm_match_opts o = {.from = "ko", .limit = 10};
  conc_setup(db);
  CHECK_INT(tm_index_open(db, &idx), TM_OK);
  /* 군인 inside 북한군인들이 and 군인은, and alone */
  CHECK_INT(tm_concordance_find(idx, db, "군인", &o, &m, &n), TM_OK);
  CHECK_INT(n, 3);
  for (size_t i = 0; i < n; i++) {
    CHECK(m[i].ndiffs >= 1);
    if (strcmp(m[i].source, "북한군인들이 우크라이나군에 포로로 잡혔다.") ==
        0) {
      CHECK_INT(m[i].diffs[0].source.start, 2);
      CHECK_INT(m[i].diffs[0].source.end, 4);
    }
  }
  tm_match_free(m, n);
  CHECK_INT(tm_concordance_find(idx, db, "북한", &o, &m, &n), TM_OK);
  CHECK_INT(n, 2);
  tm_match_free(m, n);
  /* one syllable: 군 is in three units */
  CHECK_INT(tm_concordance_find(idx, db, "군", &o, &m, &n), TM_OK);
  CHECK_INT(n, 3);
  tm_match_free(m, n);
  /* a run of characters must be found whole (spaces aside) ... */
  CHECK_INT(tm_concordance_find(idx, db, "북한군인", &o, &m, &n), TM_OK);
  CHECK_INT(n, 1);
  tm_match_free(m, n);
  /* ... words separated by spaces each anywhere */
  CHECK_INT(tm_concordance_find(idx, db, "북한 군인", &o, &m, &n), TM_OK);
  CHECK_INT(n, 2);
  tm_match_free(m, n);
  tm_index_close(idx);
  tm_db_close(db);
}

TEST(concordance_uk_and_limit) {
  tm_db *db = open_db();
  tm_index *idx;
  tm_match *m;
  size_t n;
  tm_match_opts o = {.from = "uk", .limit = 1};
  conc_setup(db);
  CHECK_INT(tm_index_open(db, &idx), TM_OK);
  CHECK_INT(tm_concordance_find(idx, db, "солдат", &o, &m, &n), TM_OK);
  CHECK_INT(n, 1);
  if (n == 1)
    CHECK_STR(m[0].source, "Солдат сказав, що його відправила Північна Корея.");
  tm_match_free(m, n);
  o.limit = 3;
  CHECK_INT(tm_concordance_find(idx, db, "солдат", &o, &m, &n), TM_OK);
  CHECK_INT(n, 3);
  if (n == 3)
    CHECK_STR(m[1].source, "Солдати");
  tm_match_free(m, n);
  o.limit = 10;
  CHECK_INT(
      tm_concordance_find(idx, db, "північнокорейських солдатів", &o, &m, &n),
      TM_OK);
  CHECK_INT(n, 1);
  if (n == 1)
    CHECK_INT(m[0].ndiffs, 1); /* adjacent words merge into one span */
  tm_match_free(m, n);
  tm_index_close(idx);
  tm_db_close(db);
}

/* -------------------------------------------------------------- threads */

typedef struct reader_arg {
  const char *path;
  tm_index *idx;
  atomic_int *stop;
  int failures, rounds;
} reader_arg;

static void *reader(void *p) {
  reader_arg *a = p;
  tm_db *db;
  if (tm_db_open(a->path, TM_OPEN_NOSEED, &db) != TM_OK) {
    a->failures++;
    return NULL;
  }
  while (!atomic_load(a->stop) || a->rounds < 50) {
    tm_match_opts o = {.from = "en"};
    tm_match *m;
    size_t n;
    if (tm_match_find(a->idx, db, "Stable segment for readers", &o, &m, &n) !=
            TM_OK ||
        n < 1 || m[0].score != 100)
      a->failures++;
    tm_match_free(m, n);
    a->rounds++;
  }
  tm_db_close(db);
  return NULL;
}

/* Three threads search while a fourth writes enough to make the index
 * rebuild itself under them. */
TEST(readers_and_a_writer) {
  char path[512];
  tm_db *db;
  tm_index *idx;
  pthread_t th[3];
  reader_arg args[3];
  atomic_int stop = 0;

  snprintf(path, sizeof path, "%s/threads.sqlite", check_tmpdir());
  CHECK_INT(tm_db_open(path, TM_OPEN_NOSEED, &db), TM_OK);
  add(db, NULL, "Stable segment for readers", NULL, "Стабільний сегмент");
  CHECK_INT(tm_index_open(db, &idx), TM_OK);
  tm_db_attach_index(db, idx);
  for (int i = 0; i < 3; i++) {
    args[i] = (reader_arg){path, idx, &stop, 0, 0};
    pthread_create(&th[i], NULL, reader, &args[i]);
  }
  for (int i = 0; i < 2100; i++) {
    char en[64];
    snprintf(en, sizeof en, "Writer segment %d", i);
    add(db, NULL, en, NULL, "Сегмент");
  }
  atomic_store(&stop, 1);
  for (int i = 0; i < 3; i++) {
    pthread_join(th[i], NULL);
    CHECK_INT(args[i].failures, 0);
  }
  CHECK(idx->u->delta < 2100);
  CHECK_INT(best(idx, db, "Writer segment 2099", "en", NULL), 100);
  tm_db_attach_index(db, NULL);
  tm_index_close(idx);
  tm_db_close(db);
}
