/*
 * text.c - the text pipeline: UTF-8 validation, NFC, the folded search
 * form, word breaks, collation, Korean initial-consonant keys and Latin
 * transliteration keys.  This is the only module that sees ICU's UChar;
 * everything it returns is UTF-8.
 *
 * A tm_text caches the ICU services it opens (collators, transliterators,
 * the word break iterator) and scratch buffers, so a call on the hot path
 * of an import allocates only its result.
 */
#include "tm_internal.h"

#include <stdlib.h>
#include <string.h>
#include <unicode/ubrk.h>
#include <unicode/uchar.h>
#include <unicode/ucol.h>
#include <unicode/uloc.h>
#include <unicode/unorm2.h>
#include <unicode/uscript.h>
#include <unicode/ustring.h>
#include <unicode/utrans.h>

#define COLLATOR_CACHE 8

/* A growable UTF-16 buffer. */
typedef struct ubuf {
  UChar *p;
  int32_t cap;
} ubuf;

struct tm_text {
  const UNormalizer2 *nfc;
  const UNormalizer2 *nfd;
  const UNormalizer2 *nfkc_cf;
  UTransliterator *uk_latin;
  UTransliterator *ko_latin;
  UTransliterator *any_latin;
  UBreakIterator *words;
  UBreakIterator *sentences; /* for sentences_lang */
  char sentences_lang[TM_LANG_MAX];
  struct {
    char lang[TM_LANG_MAX];
    UCollator *coll;
  } colls[COLLATOR_CACHE];
  unsigned next_coll; /* round-robin victim when the cache is full */
  ubuf a, b, c;
};

/*
 * Ukrainian to Latin by the national system (Cabinet of Ministers of
 * Ukraine resolution 55, 27 January 2010).  Input is folded (lower case,
 * apostrophes unified to U+0027).  Word-initial є ї й ю я are written
 * ye yi y yu ya; after a letter ie i i iu ia.  зг is zgh; ь and the
 * apostrophe are dropped.  ICU has no transform for this system.
 */
static const char uk_latin_rules[] =
    "$L = [[:L:][:M:]\\u0027] ;"
    "зг → zgh ;"
    "$L { є → ie ; є → ye ;"
    "$L { ї → i ; ї → yi ;"
    "$L { й → i ; й → y ;"
    "$L { ю → iu ; ю → yu ;"
    "$L { я → ia ; я → ya ;"
    "а → a ; б → b ; в → v ; г → h ; ґ → g ; д → d ; е → e ; ж → zh ;"
    "з → z ; и → y ; і → i ; к → k ; л → l ; м → m ; н → n ; о → o ;"
    "п → p ; р → r ; с → s ; т → t ; у → u ; ф → f ; х → kh ; ц → ts ;"
    "ч → ch ; ш → sh ; щ → shch ; ь → ; \\u0027 → ;"
    ":: Any-Latin ; :: Latin-ASCII ;";

/*
 * Korean to Latin with the letters of the Revised Romanization (2000), one
 * jamo at a time and without its sound-change rules, so that a key is a
 * function of the spelling: 전쟁 포로 -> jeonjaeng poro.  (ICU's
 * Hangul-Latin is a different, reversible scheme.)  Initial ㅇ is silent;
 * finals take their coda forms.
 */
static const char ko_latin_rules[] =
    ":: NFD ;"
    /* initial consonants, U+1100..U+1112 */
    "ᄀ → g ; ᄁ → kk ; ᄂ → n ; ᄃ → d ; ᄄ → tt ; ᄅ → r ; ᄆ → m ; ᄇ → b ;"
    "ᄈ → pp ; ᄉ → s ; ᄊ → ss ; ᄋ → ; ᄌ → j ; ᄍ → jj ; ᄎ → ch ; ᄏ → k ;"
    "ᄐ → t ; ᄑ → p ; ᄒ → h ;"
    /* vowels, U+1161..U+1175 */
    "ᅡ → a ; ᅢ → ae ; ᅣ → ya ; ᅤ → yae ; ᅥ → eo ; ᅦ → e ; ᅧ → yeo ;"
    "ᅨ → ye ; ᅩ → o ; ᅪ → wa ; ᅫ → wae ; ᅬ → oe ; ᅭ → yo ; ᅮ → u ;"
    "ᅯ → wo ; ᅰ → we ; ᅱ → wi ; ᅲ → yu ; ᅳ → eu ; ᅴ → ui ; ᅵ → i ;"
    /* final consonants, U+11A8..U+11C2 */
    "ᆨ → k ; ᆩ → k ; ᆪ → k ; ᆫ → n ; ᆬ → n ; ᆭ → n ; ᆮ → t ; ᆯ → l ;"
    "ᆰ → k ; ᆱ → m ; ᆲ → l ; ᆳ → l ; ᆴ → l ; ᆵ → p ; ᆶ → l ; ᆷ → m ;"
    "ᆸ → p ; ᆹ → p ; ᆺ → t ; ᆻ → t ; ᆼ → ng ; ᆽ → t ; ᆾ → t ; ᆿ → k ;"
    "ᇀ → t ; ᇁ → p ; ᇂ → t ;"
    ":: Any-Latin ; :: Latin-ASCII ;";

/* The compatibility jamo that keyboards type for each initial consonant
 * U+1100..U+1112, in that order. */
static const UChar choseong_compat[19] = {
    0x3131, 0x3132, 0x3134, 0x3137, 0x3138, 0x3139, 0x3141,
    0x3142, 0x3143, 0x3145, 0x3146, 0x3147, 0x3148, 0x3149,
    0x314A, 0x314B, 0x314C, 0x314D, 0x314E};

/* ------------------------------------------------------------- buffers */

static UChar *ubuf_reserve(ubuf *b, int32_t n) {
  if (n > b->cap) {
    int32_t cap = b->cap ? b->cap : 256;
    UChar *p;
    while (cap < n) {
      if (cap > INT32_MAX / 2)
        return NULL;
      cap *= 2;
    }
    if (!(p = realloc(b->p, (size_t)cap * sizeof *p)))
      return NULL;
    b->p = p;
    b->cap = cap;
  }
  return b->p;
}

/* UTF-8 (already validated) into B; returns the length or -1. */
static int32_t to_utf16(ubuf *b, const char *s, size_t len) {
  UErrorCode e = U_ZERO_ERROR;
  int32_t n;

  if (len > (size_t)INT32_MAX / 2 || !ubuf_reserve(b, (int32_t)len + 1))
    return -1;
  /* UTF-16 never needs more units than UTF-8 has bytes. */
  u_strFromUTF8(b->p, b->cap, &n, s, (int32_t)len, &e);
  return U_FAILURE(e) ? -1 : n;
}

static tm_status to_utf8(const UChar *u, int32_t n, char **out) {
  UErrorCode e = U_ZERO_ERROR;
  int32_t need;
  char *s;

  u_strToUTF8(NULL, 0, &need, u, n, &e);
  if (e != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(e))
    return TM_TEXT;
  if (!(s = malloc((size_t)need + 1)))
    return TM_NOMEM;
  e = U_ZERO_ERROR;
  u_strToUTF8(s, need + 1, NULL, u, n, &e);
  if (U_FAILURE(e)) {
    free(s);
    return TM_TEXT;
  }
  s[need] = '\0';
  *out = s;
  return TM_OK;
}

/* Normalises IN[0..n) with NORM into OUT; returns the length or -1. */
static int32_t normalize(const UNormalizer2 *norm, const UChar *in, int32_t n,
                         ubuf *out) {
  UErrorCode e = U_ZERO_ERROR;
  int32_t len;

  if (!ubuf_reserve(out, n + 16))
    return -1;
  len = unorm2_normalize(norm, in, n, out->p, out->cap, &e);
  if (e == U_BUFFER_OVERFLOW_ERROR) {
    if (!ubuf_reserve(out, len + 1))
      return -1;
    e = U_ZERO_ERROR;
    len = unorm2_normalize(norm, in, n, out->p, out->cap, &e);
  }
  return U_FAILURE(e) ? -1 : len;
}

/* -------------------------------------------------------------- UTF-8 */

size_t tm__utf8_check(const char *str, size_t len) {
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0;

  while (i < len) {
    unsigned c = s[i];
    size_t n;
    uint32_t cp, min;

    if (c >= 0x01 && c < 0x80) {
      i++;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1F;
      min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0F;
      min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07;
      min = 0x10000;
    } else {
      return i; /* NUL, a continuation byte, or an invalid lead */
    }
    if (len - i <= n)
      return i;
    for (size_t k = 1; k <= n; k++) {
      if ((s[i + k] & 0xC0) != 0x80)
        return i;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return i;
    i += n + 1;
  }
  return len;
}

size_t tm__utf8_count(const char *s, size_t len) {
  size_t n = 0;

  for (size_t i = 0; i < len; i++)
    if (((unsigned char)s[i] & 0xC0) != 0x80)
      n++;
  return n;
}

/* --------------------------------------------------------------- open */

tm_status tm_text_open(tm_text **out) {
  UErrorCode e = U_ZERO_ERROR;
  tm_text *t;

  *out = NULL;
  if (!(t = calloc(1, sizeof *t)))
    return TM_NOMEM;
  t->nfc = unorm2_getNFCInstance(&e);
  t->nfd = unorm2_getNFDInstance(&e);
  t->nfkc_cf = unorm2_getNFKCCasefoldInstance(&e);
  if (U_FAILURE(e)) {
    tm_text_close(t);
    return TM_TEXT;
  }
  *out = t;
  return TM_OK;
}

void tm_text_close(tm_text *t) {
  if (!t)
    return;
  utrans_close(t->uk_latin);
  utrans_close(t->ko_latin);
  utrans_close(t->any_latin);
  ubrk_close(t->words);
  ubrk_close(t->sentences);
  for (size_t i = 0; i < COLLATOR_CACHE; i++)
    ucol_close(t->colls[i].coll);
  free(t->a.p);
  free(t->b.p);
  free(t->c.p);
  free(t);
}

/* ----------------------------------------------------------- languages */

static bool ascii_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

tm_status tm_lang_canonical(const char *tag, char out[TM_LANG_MAX]) {
  char buf[TM_LANG_MAX], locale[ULOC_FULLNAME_CAPACITY];
  UErrorCode e = U_ZERO_ERROR;
  int32_t parsed = 0, n;
  size_t len, i;

  if (!tag || (len = strlen(tag)) == 0 || len >= TM_LANG_MAX)
    return TM_LANG;
  /* The common shapes, "ll" and "ll-RR", without asking ICU: imports ask
   * once per segment. */
  if ((len == 2 || len == 5) && ascii_alpha(tag[0]) && ascii_alpha(tag[1]) &&
      (len == 2 || ((tag[2] == '-' || tag[2] == '_') && ascii_alpha(tag[3]) &&
                    ascii_alpha(tag[4])))) {
    out[0] = (char)(tag[0] | 0x20);
    out[1] = (char)(tag[1] | 0x20);
    if (len == 5) {
      out[2] = '-';
      out[3] = (char)(tag[3] & ~0x20);
      out[4] = (char)(tag[4] & ~0x20);
    }
    out[len] = '\0';
    return TM_OK;
  }
  for (i = 0; i < len; i++) {
    char c = tag[i];
    if (c == '_')
      c = '-';
    else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               (c >= '0' && c <= '9') || c == '-'))
      return TM_LANG;
    buf[i] = c;
  }
  buf[len] = '\0';
  /* ICU parses the tag; a tag it cannot parse whole is not well-formed. */
  uloc_forLanguageTag(buf, locale, sizeof locale, &parsed, &e);
  if (U_FAILURE(e) || parsed != (int32_t)len || locale[0] == '\0')
    return TM_LANG;
  n = uloc_toLanguageTag(locale, out, TM_LANG_MAX, 1, &e);
  if (U_FAILURE(e) || e == U_STRING_NOT_TERMINATED_WARNING || n <= 0 ||
      strcmp(out, "und") == 0)
    return TM_LANG;
  return TM_OK;
}

/* ----------------------------------------------------------------- NFC */

/* Whether valid UTF-8 S is only ASCII and precomposed Hangul syllables
 * (U+AC00..U+D7A3, EA B0 80 to ED 9E A3): text that NFC leaves as it is,
 * and that folding needs no ICU for.  A syllable is its own NFC and NFKC
 * case fold, and decomposes into no mark, space or control (test_text
 * checks that against ICU for every one); no trailing jamo follows to
 * compose with it. */
static bool plain(const char *s, size_t len) {
  size_t i = 0;

  while (i < len) {
    unsigned char c = (unsigned char)s[i];
    uint32_t cp;
    if (c < 0x80) {
      i++;
      continue;
    }
    if (c < 0xEA || c > 0xED || len - i < 3)
      return false;
    cp = ((uint32_t)(c & 0x0F) << 12) |
         ((uint32_t)((unsigned char)s[i + 1] & 0x3F) << 6) |
         ((unsigned char)s[i + 2] & 0x3F);
    if (cp < 0xAC00 || cp > 0xD7A3)
      return false;
    i += 3;
  }
  return true;
}

tm_status tm_text_nfc(tm_text *t, const char *s, size_t len, char **out,
                      size_t *bad_offset) {
  size_t bad;
  int32_t n, span, m;
  UErrorCode e = U_ZERO_ERROR;

  *out = NULL;
  if ((bad = tm__utf8_check(s, len)) != len) {
    if (bad_offset)
      *bad_offset = bad;
    return TM_UTF8;
  }
  if (!plain(s, len)) {
    if ((n = to_utf16(&t->a, s, len)) < 0)
      return TM_NOMEM;
    span = unorm2_spanQuickCheckYes(t->nfc, t->a.p, n, &e);
    if (U_FAILURE(e))
      return TM_TEXT;
    if (span < n) {
      if ((m = normalize(t->nfc, t->a.p, n, &t->b)) < 0)
        return TM_NOMEM;
      return to_utf8(t->b.p, m, out);
    }
  }
  if (!(*out = tm__strndup(s, len)))
    return TM_NOMEM;
  return TM_OK;
}

/* ---------------------------------------------------------------- fold */

static bool is_apostrophe(UChar32 c) {
  switch (c) {
  case 0x0027: /* APOSTROPHE */
  case 0x0060: /* GRAVE ACCENT, typed for an apostrophe */
  case 0x00B4: /* ACUTE ACCENT, likewise */
  case 0x02B9: /* MODIFIER LETTER PRIME */
  case 0x02BC: /* MODIFIER LETTER APOSTROPHE: Ukrainian's own */
  case 0x2018: /* LEFT SINGLE QUOTATION MARK */
  case 0x2019: /* RIGHT SINGLE QUOTATION MARK: Ukraine's official texts */
  case 0x2032: /* PRIME */
  case 0xFF07: /* FULLWIDTH APOSTROPHE */
    return true;
  default:
    return false;
  }
}

/* The folded form of U[0..n) into OUT (UTF-16); returns the length or -1.
 * Uses the scratch buffers b and c. */
static int32_t fold16(tm_text *t, const UChar *u, int32_t n, ubuf *out) {
  int32_t dn, i = 0, k = 0, len;
  UScriptCode base = USCRIPT_COMMON;
  bool space = false;

  if ((dn = normalize(t->nfd, u, n, &t->b)) < 0)
    return -1;
  if (!ubuf_reserve(&t->c, dn + 1))
    return -1;
  while (i < dn) {
    UChar32 c;
    U16_NEXT(t->b.p, i, dn, c);
    if (u_hasBinaryProperty(c, UCHAR_WHITE_SPACE) || u_iscntrl(c)) {
      space = k > 0;
      continue;
    }
    if (u_charType(c) == U_NON_SPACING_MARK) {
      /* Stress marks go in every language; other accents only on Latin
       * letters, since Cyrillic й and ї and Hangul need theirs. */
      if (c == 0x0301 || c == 0x0300 || base == USCRIPT_LATIN)
        continue;
    } else {
      UErrorCode e = U_ZERO_ERROR;
      base = uscript_getScript(c, &e);
    }
    if (space) {
      t->c.p[k++] = 0x20;
      space = false;
    }
    if (is_apostrophe(c))
      c = 0x27;
    U16_APPEND_UNSAFE(t->c.p, k, c);
  }
  len = normalize(t->nfkc_cf, t->c.p, k, out);
  /* Case folding can expose a trailing space no longer (ß and the like do
   * not), but NFKC may map a compatibility space; trim once more. */
  while (len > 0 && out->p[len - 1] == 0x20)
    len--;
  return len;
}

tm_status tm_text_fold(tm_text *t, const char *lang, const char *s, size_t len,
                       char **out) {
  int32_t n, m;
  size_t i;

  (void)lang;
  *out = NULL;
  if (tm__utf8_check(s, len) != len)
    return TM_UTF8;
  /* Fast path: lower-case ASCII, collapse whitespace, unify ` to ', and
   * copy the syllables. */
  if (plain(s, len)) {
    char *r = malloc(len + 1);
    size_t k = 0;
    bool space = false;
    if (!r)
      return TM_NOMEM;
    for (i = 0; i < len; i++) {
      unsigned char c = (unsigned char)s[i];
      if (c <= 0x20 || c == 0x7F) {
        space = k > 0;
        continue;
      }
      if (space) {
        r[k++] = ' ';
        space = false;
      }
      if (c >= 'A' && c <= 'Z')
        c = (unsigned char)(c + 32);
      else if (c == '`')
        c = '\'';
      r[k++] = (char)c;
    }
    r[k] = '\0';
    *out = r;
    return TM_OK;
  }
  if ((n = to_utf16(&t->a, s, len)) < 0)
    return TM_NOMEM;
  ubuf dst = {0};
  if ((m = fold16(t, t->a.p, n, &dst)) < 0) {
    free(dst.p);
    return TM_NOMEM;
  }
  tm_status st = to_utf8(dst.p, m, out);
  free(dst.p);
  return st;
}

/* --------------------------------------------------------------- words */

tm_status tm_text_words(tm_text *t, const char *lang, const char *s, size_t len,
                        tm_span **spans, size_t *count) {
  UErrorCode e = U_ZERO_ERROR;
  int32_t n, start, end, cp_at = 0, u_at = 0;
  tm_span *v = NULL;
  size_t nv = 0, cap = 0;

  (void)lang; /* the root word rules serve en, ko and uk alike */
  *spans = NULL;
  *count = 0;
  if (tm__utf8_check(s, len) != len)
    return TM_UTF8;
  if ((n = to_utf16(&t->a, s, len)) < 0)
    return TM_NOMEM;
  if (!t->words) {
    t->words = ubrk_open(UBRK_WORD, "", NULL, 0, &e);
    if (U_FAILURE(e))
      return TM_TEXT;
  }
  ubrk_setText(t->words, t->a.p, n, &e);
  if (U_FAILURE(e))
    return TM_TEXT;
  start = ubrk_first(t->words);
  while ((end = ubrk_next(t->words)) != UBRK_DONE) {
    if (ubrk_getRuleStatus(t->words) >= UBRK_WORD_NONE_LIMIT) {
      tm_span sp;
      /* UTF-16 indices to code points, walking forward only. */
      while (u_at < start) {
        U16_FWD_1(t->a.p, u_at, n);
        cp_at++;
      }
      sp.start = (uint32_t)cp_at;
      while (u_at < end) {
        U16_FWD_1(t->a.p, u_at, n);
        cp_at++;
      }
      sp.end = (uint32_t)cp_at;
      if (nv == cap) {
        size_t ncap = cap ? cap * 2 : 16;
        tm_span *nvp = realloc(v, ncap * sizeof *nvp);
        if (!nvp) {
          free(v);
          return TM_NOMEM;
        }
        v = nvp;
        cap = ncap;
      }
      v[nv++] = sp;
    }
    start = end;
  }
  *spans = v;
  *count = nv;
  return TM_OK;
}

/* ----------------------------------------------------------- sentences */

/* The sentence iterator for canonical LANG, with the locale's list of
 * abbreviations after which a full stop ends no sentence ("Mr.", "U.S."):
 * ICU's "ss=standard" keyword. */
static UBreakIterator *sentence_iterator(tm_text *t, const char *lang) {
  char locale[ULOC_FULLNAME_CAPACITY];
  UErrorCode e = U_ZERO_ERROR;

  if (t->sentences && strcmp(t->sentences_lang, lang) == 0)
    return t->sentences;
  ubrk_close(t->sentences);
  t->sentences = NULL;
  if (strlen(lang) >= TM_LANG_MAX)
    return NULL;
  uloc_forLanguageTag(lang, locale, sizeof locale, NULL, &e);
  uloc_setKeywordValue("ss", "standard", locale, sizeof locale, &e);
  if (U_FAILURE(e))
    return NULL;
  t->sentences = ubrk_open(UBRK_SENTENCE, locale, NULL, 0, &e);
  if (U_FAILURE(e)) {
    /* A locale without suppression data still has sentence rules. */
    e = U_ZERO_ERROR;
    uloc_forLanguageTag(lang, locale, sizeof locale, NULL, &e);
    t->sentences =
        U_FAILURE(e) ? NULL : ubrk_open(UBRK_SENTENCE, locale, NULL, 0, &e);
    if (U_FAILURE(e))
      t->sentences = NULL;
  }
  if (t->sentences)
    strcpy(t->sentences_lang, lang);
  return t->sentences;
}

tm_status tm__text_sentences(tm_text *t, const char *lang, const char *s,
                             size_t len, tm_span **spans, size_t *count) {
  UErrorCode e = U_ZERO_ERROR;
  UBreakIterator *bi;
  int32_t n, start, end, cp_at = 0, u_at = 0;
  tm_span *v = NULL;
  size_t nv = 0, cap = 0;

  *spans = NULL;
  *count = 0;
  if (tm__utf8_check(s, len) != len)
    return TM_UTF8;
  if ((n = to_utf16(&t->a, s, len)) < 0)
    return TM_NOMEM;
  if (!(bi = sentence_iterator(t, lang)))
    return TM_TEXT;
  ubrk_setText(bi, t->a.p, n, &e);
  if (U_FAILURE(e))
    return TM_TEXT;
  start = ubrk_first(bi);
  while ((end = ubrk_next(bi)) != UBRK_DONE) {
    int32_t a = start, b = end;
    tm_span sp;
    UChar32 c;

    start = end;
    /* Trim white space at both ends; the span of an empty one is skipped. */
    while (a < b) {
      int32_t k = a;
      U16_NEXT(t->a.p, k, b, c);
      if (!u_hasBinaryProperty(c, UCHAR_WHITE_SPACE))
        break;
      a = k;
    }
    while (b > a) {
      int32_t k = b;
      U16_PREV(t->a.p, a, k, c);
      if (!u_hasBinaryProperty(c, UCHAR_WHITE_SPACE))
        break;
      b = k;
    }
    if (a == b)
      continue;
    /* UTF-16 indices to code points, walking forward only. */
    while (u_at < a) {
      U16_FWD_1(t->a.p, u_at, n);
      cp_at++;
    }
    sp.start = (uint32_t)cp_at;
    while (u_at < b) {
      U16_FWD_1(t->a.p, u_at, n);
      cp_at++;
    }
    sp.end = (uint32_t)cp_at;
    if (nv == cap) {
      size_t ncap = cap ? cap * 2 : 16;
      tm_span *nvp = realloc(v, ncap * sizeof *nvp);
      if (!nvp) {
        free(v);
        return TM_NOMEM;
      }
      v = nvp;
      cap = ncap;
    }
    v[nv++] = sp;
  }
  *spans = v;
  *count = nv;
  return TM_OK;
}

/* ------------------------------------------------------------ initials */

tm_status tm_text_initials(tm_text *t, const char *s, size_t len, char **out) {
  int32_t n, fn, i = 0, k = 0;
  ubuf folded = {0};
  tm_status st;

  *out = NULL;
  if (tm__utf8_check(s, len) != len)
    return TM_UTF8;
  if ((n = to_utf16(&t->a, s, len)) < 0)
    return TM_NOMEM;
  if ((fn = fold16(t, t->a.p, n, &folded)) < 0 ||
      !ubuf_reserve(&t->c, fn + 1)) {
    free(folded.p);
    return TM_NOMEM;
  }
  while (i < fn) {
    UChar32 c;
    U16_NEXT(folded.p, i, fn, c);
    if (c >= 0xAC00 && c <= 0xD7A3)
      /* A precomposed syllable is ((L * 21) + V) * 28 + T from U+AC00
       * (the Unicode Standard's Hangul syllable composition). */
      t->c.p[k++] = choseong_compat[(c - 0xAC00) / (21 * 28)];
    else if (c >= 0x1100 && c <= 0x1112)
      /* Typed compatibility jamo arrive here: NFKC made them conjoining. */
      t->c.p[k++] = choseong_compat[c - 0x1100];
    else if ((c >= 0x1113 && c <= 0x11FF) || c == 0x20 || u_ispunct(c))
      continue; /* vowels, finals, spaces, punctuation */
    else
      U16_APPEND_UNSAFE(t->c.p, k, c);
  }
  st = to_utf8(t->c.p, k, out);
  free(folded.p);
  return st;
}

/* ------------------------------------------------------- transliteration */

static UTransliterator *open_rules(const char *id, const char *rules) {
  UErrorCode e = U_ZERO_ERROR;
  UParseError pe;
  UChar uid[32], *ur;
  int32_t n;
  UTransliterator *tr;

  u_uastrcpy(uid, id);
  u_strFromUTF8(NULL, 0, &n, rules, -1, &e);
  if (e != U_BUFFER_OVERFLOW_ERROR)
    return NULL;
  if (!(ur = malloc(((size_t)n + 1) * sizeof *ur)))
    return NULL;
  e = U_ZERO_ERROR;
  u_strFromUTF8(ur, n + 1, NULL, rules, -1, &e);
  tr = U_FAILURE(e) ? NULL
                    : utrans_openU(uid, -1, UTRANS_FORWARD, ur, n, &pe, &e);
  free(ur);
  if (U_FAILURE(e)) {
    utrans_close(tr);
    return NULL;
  }
  return tr;
}

static UTransliterator *transliterator(tm_text *t, const char *lang,
                                       const UChar *u, int32_t n) {
  bool hangul = false, cyrillic = false;
  int32_t i = 0;

  while (i < n && !hangul && !cyrillic) {
    UChar32 c;
    UErrorCode e = U_ZERO_ERROR;
    U16_NEXT(u, i, n, c);
    UScriptCode sc = uscript_getScript(c, &e);
    hangul = sc == USCRIPT_HANGUL;
    cyrillic = sc == USCRIPT_CYRILLIC;
  }
  if (hangul) {
    if (!t->ko_latin)
      t->ko_latin = open_rules("x-tm-ko-latin", ko_latin_rules);
    return t->ko_latin;
  }
  if (cyrillic &&
      (!lang || strncmp(lang, "uk", 2) == 0 || strcmp(lang, "any") == 0)) {
    if (!t->uk_latin)
      t->uk_latin = open_rules("x-tm-uk-latin", uk_latin_rules);
    return t->uk_latin;
  }
  if (!t->any_latin) {
    UErrorCode e = U_ZERO_ERROR;
    t->any_latin = utrans_openU(u"Any-Latin; Latin-ASCII", -1, UTRANS_FORWARD,
                                NULL, 0, NULL, &e);
    if (U_FAILURE(e))
      t->any_latin = NULL;
  }
  return t->any_latin;
}

tm_status tm_text_translit(tm_text *t, const char *lang, const char *s,
                           size_t len, char **out) {
  int32_t n, fn, lim;
  UErrorCode e = U_ZERO_ERROR;
  UTransliterator *tr;
  char *latin = NULL, *folded = NULL;
  tm_status st;

  *out = NULL;
  if (tm__utf8_check(s, len) != len)
    return TM_UTF8;
  if ((n = to_utf16(&t->a, s, len)) < 0)
    return TM_NOMEM;
  ubuf f = {0};
  if ((fn = fold16(t, t->a.p, n, &f)) < 0) {
    free(f.p);
    return TM_NOMEM;
  }
  if (!(tr = transliterator(t, lang, f.p, fn))) {
    free(f.p);
    return TM_TEXT;
  }
  /* Transliteration grows text (щ -> shch): leave room for it. */
  if (!ubuf_reserve(&f, fn * 4 + 16)) {
    free(f.p);
    return TM_NOMEM;
  }
  lim = fn;
  utrans_transUChars(tr, f.p, &fn, f.cap, 0, &lim, &e);
  if (e == U_BUFFER_OVERFLOW_ERROR) {
    /* It grew more than that (a Han character becomes up to six letters):
     * FN is now the length it needs, and F holds a partial result.  Fold
     * again into room for all of it and start over. */
    int32_t need = fn;
    e = U_ZERO_ERROR;
    if ((fn = fold16(t, t->a.p, n, &f)) < 0 || !ubuf_reserve(&f, need + 1)) {
      free(f.p);
      return TM_NOMEM;
    }
    lim = fn;
    utrans_transUChars(tr, f.p, &fn, f.cap, 0, &lim, &e);
  }
  if (U_FAILURE(e)) {
    free(f.p);
    return TM_TEXT;
  }
  st = to_utf8(f.p, fn, &latin);
  free(f.p);
  if (st != TM_OK)
    return st;
  st = tm_text_fold(t, NULL, latin, strlen(latin), &folded);
  free(latin);
  if (st == TM_OK)
    *out = folded;
  return st;
}

/* The stored search keys of a term: its initial-consonant key when it has
 * Hangul (else NULL) and its Latin key when it is not plain ASCII (else
 * "": an ASCII term's folded form is its key). */
tm_status tm__term_keys(tm_text *t, const char *lang, const char *s, size_t len,
                        char **initials, char **translit) {
  tm_status st;
  size_t i;

  *initials = NULL;
  *translit = NULL;
  for (i = 0; i < len && (unsigned char)s[i] < 0x80; i++)
    ;
  if (i == len)
    return (*translit = tm__strdup("")) ? TM_OK : TM_NOMEM;
  if ((st = tm_text_initials(t, s, len, initials)) != TM_OK)
    return st;
  /* Compatibility jamo are U+3131..U+318E: E3 84 B1 .. E3 86 8E. */
  if (!strstr(*initials, "\xE3\x84") && !strstr(*initials, "\xE3\x85") &&
      !strstr(*initials, "\xE3\x86")) {
    free(*initials);
    *initials = NULL;
  }
  if ((st = tm_text_translit(t, lang, s, len, translit)) != TM_OK) {
    free(*initials);
    *initials = NULL;
  }
  return st;
}

/* ------------------------------------------------------------ collation */

static UCollator *collator(tm_text *t, const char *lang) {
  char locale[ULOC_FULLNAME_CAPACITY];
  UErrorCode e = U_ZERO_ERROR;
  UCollator *c;
  size_t i;

  for (i = 0; i < COLLATOR_CACHE; i++)
    if (t->colls[i].coll && strcmp(t->colls[i].lang, lang) == 0)
      return t->colls[i].coll;
  if (strlen(lang) >= TM_LANG_MAX)
    return NULL;
  uloc_forLanguageTag(lang, locale, sizeof locale, NULL, &e);
  if (U_FAILURE(e))
    return NULL;
  c = ucol_open(locale, &e);
  if (U_FAILURE(e))
    return NULL;
  i = t->next_coll++ % COLLATOR_CACHE;
  ucol_close(t->colls[i].coll);
  t->colls[i].coll = c;
  strcpy(t->colls[i].lang, lang);
  return c;
}

tm_status tm__text_collate_n(tm_text *t, const char *lang, const char *a,
                             size_t alen, const char *b, size_t blen,
                             int *result) {
  UErrorCode e = U_ZERO_ERROR;
  UCollator *c = collator(t, lang);
  UCollationResult r;

  if (!c)
    return TM_TEXT;
  if (alen > INT32_MAX || blen > INT32_MAX)
    return TM_TOOBIG;
  r = ucol_strcollUTF8(c, a, (int32_t)alen, b, (int32_t)blen, &e);
  if (U_FAILURE(e))
    return TM_TEXT;
  *result = r == UCOL_LESS ? -1 : r == UCOL_GREATER ? 1 : 0;
  return TM_OK;
}

tm_status tm_text_collate(tm_text *t, const char *lang, const char *a,
                          const char *b, int *result) {
  char canon[TM_LANG_MAX];

  if (tm_lang_canonical(lang, canon) != TM_OK)
    return TM_LANG;
  return tm__text_collate_n(t, canon, a, strlen(a), b, strlen(b), result);
}

tm_status tm__text_sortkey(tm_text *t, const char *lang, const char *s,
                           size_t len, uint8_t **key, size_t *n) {
  UCollator *c = collator(t, lang);
  int32_t un, need;
  uint8_t *k;

  *key = NULL;
  if (!c)
    return TM_TEXT;
  if ((un = to_utf16(&t->a, s, len)) < 0)
    return TM_NOMEM;
  need = ucol_getSortKey(c, t->a.p, un, NULL, 0);
  if (need <= 0 || !(k = malloc((size_t)need)))
    return TM_NOMEM;
  ucol_getSortKey(c, t->a.p, un, k, need);
  /* The key ends with a NUL that is not part of the order. */
  *key = k;
  *n = (size_t)need - 1;
  return TM_OK;
}
