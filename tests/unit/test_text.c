/*
 * test_text.c - the text pipeline (libtm/text.c): NFC, UTF-8 validation,
 * folding, words, collation, Korean initials, Latin keys, language tags.
 */
#include "check.h"
#include "tm_internal.h"

#include <unicode/uchar.h>
#include <unicode/unorm2.h>

static tm_text *t;

static tm_text *text(void) {
  if (!t && tm_text_open(&t) != TM_OK) {
    fprintf(stderr, "cannot open the text context\n");
    exit(1);
  }
  return t;
}

static char *fold(const char *s) {
  static char *last;
  tm_free(last);
  last = NULL;
  CHECK_INT(tm_text_fold(text(), NULL, s, strlen(s), &last), TM_OK);
  return last;
}

static char *nfc(const char *s) {
  static char *last;
  tm_free(last);
  last = NULL;
  CHECK_INT(tm_text_nfc(text(), s, strlen(s), &last, NULL), TM_OK);
  return last;
}

static char *initials(const char *s) {
  static char *last;
  tm_free(last);
  last = NULL;
  CHECK_INT(tm_text_initials(text(), s, strlen(s), &last), TM_OK);
  return last;
}

static char *latin(const char *lang, const char *s) {
  static char *last;
  tm_free(last);
  last = NULL;
  CHECK_INT(tm_text_translit(text(), lang, s, strlen(s), &last), TM_OK);
  return last;
}

static int collate(const char *lang, const char *a, const char *b) {
  int r = 99;
  CHECK_INT(tm_text_collate(text(), lang, a, b, &r), TM_OK);
  return r;
}

TEST(nfc_composes) {
  char *out = NULL;
  size_t bad = 0;

  /* и + combining breve is й; ᄌ + ᅥ + ᆫ is 전. */
  CHECK_INT(tm_text_nfc(text(), "\xD0\xB8\xCC\x86", 4, &out, &bad), TM_OK);
  CHECK_STR(out, "й");
  tm_free(out);
  CHECK_INT(tm_text_nfc(text(), "\xE1\x84\x8C\xE1\x85\xA5\xE1\x86\xAB", 9, &out,
                        &bad),
            TM_OK);
  CHECK_STR(out, "전");
  tm_free(out);
  CHECK_INT(tm_text_nfc(text(), "plain ascii", 11, &out, &bad), TM_OK);
  CHECK_STR(out, "plain ascii");
  tm_free(out);
}

TEST(invalid_utf8_rejected_with_offset) {
  static const struct {
    const char *s;
    size_t len, at;
  } bad[] = {
      {"ab\xC0\x80", 4, 2},        /* overlong NUL */
      {"\xED\xA0\x80", 3, 0},      /* a surrogate */
      {"abc\xE2\x82", 5, 3},       /* truncated */
      {"a\x80", 2, 1},             /* stray continuation byte */
      {"x\xF5\x80\x80\x80", 5, 1}, /* beyond U+10FFFF */
      {"a\0b", 3, 1},              /* NUL */
      {"\xE0\x80\xAF", 3, 0},      /* overlong slash */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char *out = (char *)"unchanged";
    size_t at = 999;
    CHECK_INT(tm_text_nfc(text(), bad[i].s, bad[i].len, &out, &at), TM_UTF8);
    CHECK_INT(at, bad[i].at);
    CHECK(out == NULL);
  }
  char *out = NULL;
  CHECK_INT(tm_text_fold(text(), NULL, "\xFF", 1, &out), TM_UTF8);
}

TEST(fold_unifies_ukrainian_apostrophes) {
  const char *forms[] = {"м'ясо", "м’ясо", "мʼясо", "мʹясо", "М'ЯСО"};
  for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++)
    CHECK_STR(fold(forms[i]), "м'ясо");
}

TEST(fold_removes_stress_keeps_letters) {
  CHECK_STR(fold("вели́кий"), "великий");
  CHECK_STR(fold("Військо́вополоне́ний"), "військовополонений");
  /* й, ї and ё keep their marks: they are letters, not accents. */
  CHECK_STR(fold("ЙОГО Її"), "його її");
  CHECK_STR(fold("Café Genève"), "cafe geneve");
}

TEST(fold_case_and_whitespace) {
  CHECK_STR(fold("  Prisoner \t of\n WAR  "), "prisoner of war");
  CHECK_STR(fold("Straße"), "strasse");
  CHECK_STR(fold("ＰＯＷ"), "pow"); /* fullwidth, folded by NFKC */
  CHECK_STR(fold("전쟁\u00A0 포로"), "전쟁 포로");
  CHECK_STR(fold(""), "");
}

TEST(fold_copies_hangul_syllables_as_icu_would) {
  /* Text of ASCII and precomposed syllables takes a fast path that copies
   * the syllables, in folding and in NFC: ICU must agree for every one of
   * them (its NFKC case fold is itself, its decomposition has no mark,
   * space or control; NFC keeps it, as the NFKC case fold does). */
  UErrorCode e = U_ZERO_ERROR;
  const UNormalizer2 *cf = unorm2_getNFKCCasefoldInstance(&e);
  const UNormalizer2 *nfd = unorm2_getNFDInstance(&e);
  const UNormalizer2 *nfc2 = unorm2_getNFCInstance(&e);
  size_t bad = 0;

  CHECK(U_SUCCESS(e));
  for (uint32_t c = 0xAC00; c <= 0xD7A3 && U_SUCCESS(e); c++) {
    UChar u = (UChar)c, out[8], d[8];
    int32_t n = unorm2_normalize(cf, &u, 1, out, 8, &e);
    int32_t nd = unorm2_normalize(nfd, &u, 1, d, 8, &e);
    if (n != 1 || out[0] != u)
      bad++;
    n = unorm2_normalize(nfc2, &u, 1, out, 8, &e);
    if (n != 1 || out[0] != u)
      bad++;
    for (int32_t k = 0; k < nd; k++)
      if (u_charType(d[k]) == U_NON_SPACING_MARK ||
          u_hasBinaryProperty(d[k], UCHAR_WHITE_SPACE) || u_iscntrl(d[k]))
        bad++;
  }
  CHECK(U_SUCCESS(e));
  CHECK_INT(bad, 0);
  CHECK_STR(fold("  전쟁포로를 \t POW  "), "전쟁포로를 pow");
  CHECK_STR(fold("북한군`s 힣 가"), "북한군's 힣 가");
  /* compatibility jamo, Cyrillic, a trailing jamo: ICU's way */
  CHECK_STR(fold("ㅈㅈ 전쟁포로 Військо́вий"),
            "\u110C\u110C 전쟁포로 військовий");
  CHECK_STR(fold("가\u11A8"), "각");
  CHECK_STR(nfc("가\u11A8 가"), "각 가");
  CHECK_STR(nfc("전쟁포로 POW"), "전쟁포로 POW");
}

TEST(words_from_break_iterator) {
  tm_span *w = NULL;
  size_t n = 0;
  const char *s = "Third Geneva Convention, Article 13 — “prisoners”.";

  CHECK_INT(tm_text_words(text(), "en", s, strlen(s), &w, &n), TM_OK);
  CHECK_INT(n, 6);
  if (n == 6) {
    CHECK_INT(w[0].start, 0);
    CHECK_INT(w[0].end, 5);
    CHECK_INT(w[4].start, 33); /* "13": offsets in code points */
    CHECK_INT(w[5].start, 39);
    CHECK_INT(w[5].end, 48);
  }
  tm_free(w);
  s = "북한군 전쟁포로를 송환했다.";
  CHECK_INT(tm_text_words(text(), "ko", s, strlen(s), &w, &n), TM_OK);
  CHECK_INT(n, 3);
  tm_free(w);
  s = "з’їзд військовополонених";
  CHECK_INT(tm_text_words(text(), "uk", s, strlen(s), &w, &n), TM_OK);
  CHECK_INT(n, 2); /* the apostrophe does not split a Ukrainian word */
  tm_free(w);
}

TEST(collation_ukrainian) {
  /* г < ґ < д, е < є < ж, и < і < ї < й */
  CHECK_INT(collate("uk", "гава", "ґава"), -1);
  CHECK_INT(collate("uk", "ґава", "дах"), -1);
  CHECK_INT(collate("uk", "ера", "єра"), -1);
  CHECK_INT(collate("uk", "єра", "жаба"), -1);
  CHECK_INT(collate("uk", "ирій", "ікра"), -1);
  CHECK_INT(collate("uk", "ікра", "їжак"), -1);
  CHECK_INT(collate("uk", "їжак", "йод"), -1);
}

TEST(collation_korean_and_english) {
  CHECK_INT(collate("ko", "가방", "나라"), -1);
  CHECK_INT(collate("ko", "나라", "다리"), -1);
  CHECK_INT(collate("ko", "포로", "하늘"), -1);
  CHECK_INT(collate("en", "apple", "Banana"), -1);
  CHECK_INT(collate("en", "Zebra", "apple"), 1);
  CHECK_INT(collate("en", "same", "same"), 0);
}

TEST(initials_korean) {
  CHECK_STR(initials("전쟁포로"), "ㅈㅈㅍㄹ");
  CHECK_STR(initials("전쟁 포로"), "ㅈㅈㅍㄹ");
  CHECK_STR(initials("ㅈㅈㅍㄹ"), "ㅈㅈㅍㄹ"); /* as keyboards type them */
  CHECK_STR(initials("까치"), "ㄲㅊ");
  CHECK_STR(initials("국제형사재판소"), "ㄱㅈㅎㅅㅈㅍㅅ");
  CHECK_STR(initials("전ㅈ"), "ㅈㅈ"); /* half typed */
}

TEST(latin_ukrainian_national_2010) {
  CHECK_STR(latin("uk", "військовополонений"), "viiskovopolonenyi");
  CHECK_STR(latin("uk", "Згорани"), "zghorany");
  CHECK_STR(latin("uk", "Юрій"), "yurii");
  CHECK_STR(latin("uk", "Яготин"), "yahotyn");
  CHECK_STR(latin("uk", "Київ"), "kyiv");
  CHECK_STR(latin("uk", "Знам’янка"), "znamianka");
  CHECK_STR(latin("uk", "Знамʼянка"), "znamianka");
  CHECK_STR(latin("uk", "Щастя Ґудзь"), "shchastia gudz");
  CHECK_STR(latin("uk", "Євген Їжакевич"), "yevhen yizhakevych");
}

TEST(latin_korean) {
  CHECK_STR(latin("ko", "전쟁 포로"), "jeonjaeng poro");
  CHECK_STR(latin("ko", "북한"), "bukhan");
  CHECK_STR(latin("ko", "강제송환"), "gangjesonghwan");
  CHECK_STR(latin(NULL, "Prisoner"), "prisoner");
}

/* Han grows most (莊 becomes "zhuang "), Hangul next (쀍 becomes "ppwek"):
 * more than the room first reserved for the result. */
TEST(latin_grows_past_first_guess) {
  char in[250 * 3 + 1], *out;

  for (int i = 0; i < 100; i++)
    memcpy(in + 3 * i, "莊", 3);
  in[300] = 0;
  out = latin(NULL, in);
  CHECK_INT(strlen(out), 100 * 7 - 1);
  CHECK(strncmp(out, "zhuang zhuang", 13) == 0);
  for (int i = 0; i < 250; i++)
    memcpy(in + 3 * i, "쀍", 3);
  in[750] = 0;
  out = latin("ko", in);
  CHECK_INT(strlen(out), 250 * 5);
  CHECK(strncmp(out, "ppwekppwek", 10) == 0);
}

TEST(language_tags) {
  static const struct {
    const char *in, *out;
  } good[] = {{"en", "en"},       {"EN", "en"},
              {"en_gb", "en-GB"}, {"en-gb", "en-GB"},
              {"ko-KR", "ko-KR"}, {"zh-hant-tw", "zh-Hant-TW"},
              {"uk", "uk"},       {"es-419", "es-419"}};
  static const char *const bad[] = {
      "",    "e",     "en--gb",
      "12",  "en gb", "*all*",
      "en-", "../x",  "verylonglanguagetagthatisnotvalid"};
  char out[TM_LANG_MAX];

  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    CHECK_INT(tm_lang_canonical(good[i].in, out), TM_OK);
    CHECK_STR(out, good[i].out);
  }
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    CHECK_INT(tm_lang_canonical(bad[i], out), TM_LANG);
}

TEST(close_text) {
  tm_text_close(t);
  t = NULL;
  tm_text_close(NULL);
}
