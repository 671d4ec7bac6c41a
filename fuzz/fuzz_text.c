/*
 * fuzz_text.c - the text pipeline: UTF-8 validation, NFC, folding, word
 * and sentence breaks, the Korean initials key, the Latin key, term keys,
 * language tags, collation and sort keys.
 *
 * The first byte picks the language; the rest is the text.  For collation
 * the text is split at its first tab into two strings.  What must hold: invalid
 * UTF-8 is TM_UTF8 for every function (and libtm's check agrees with this
 * file's own), valid text is TM_OK with valid UTF-8 out, spans lie inside the
 * text in order, a canonical tag is canonical again, collation is antisymmetric
 * and agrees with the sort keys.
 */
#include "fuzz.h"
#include "tm_internal.h"

#include <stdlib.h>
#include <string.h>

static tm_text *text;

static const char *const langs[] = {
    "en", "ko", "uk", "ru", "ja",      "zh-Hant", "ar",  "de",
    "tr", "th", "el", "hi", "sr-Latn", "fr",      "any", NULL,
};
#define NLANGS (sizeof langs / sizeof langs[0])

static void release(void) {
  tm_text_close(text);
  text = NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  if (tm_text_open(&text) != TM_OK)
    fz_fail("cannot open a text context");
  atexit(release);
  return 0;
}

static void expect(const char *what, tm_status got, tm_status want) {
  if (got != want)
    fz_fail("%s: %s, expected %s", what, tm_status_name(got),
            tm_status_name(want));
}

/* An output string: valid UTF-8, freed here. */
static void check_out(const char *what, char *out) {
  if (!out)
    fz_fail("%s: TM_OK without a result", what);
  if (!fz_utf8_valid(out, strlen(out)))
    fz_fail("%s: the result is not valid UTF-8", what);
  tm_free(out);
}

static size_t code_points(const char *s, size_t len) {
  size_t n = 0;

  for (size_t i = 0; i < len; i++)
    n += ((unsigned char)s[i] & 0xC0) != 0x80;
  return n;
}

static void check_spans(const char *what, const tm_span *v, size_t n,
                        size_t cps) {
  for (size_t i = 0; i < n; i++) {
    if (v[i].start >= v[i].end || v[i].end > cps)
      fz_fail("%s: span %zu is [%u, %u) in %zu code points", what, i,
              v[i].start, v[i].end, cps);
    if (i > 0 && v[i].start < v[i - 1].end)
      fz_fail("%s: span %zu overlaps the one before", what, i);
  }
}

static void check_tag(const char *s, size_t len) {
  char tag[2 * TM_LANG_MAX], canon[TM_LANG_MAX], again[TM_LANG_MAX];

  if (len >= sizeof tag || memchr(s, '\0', len))
    return;
  memcpy(tag, s, len);
  tag[len] = '\0';
  if (tm_lang_canonical(tag, canon) != TM_OK)
    return;
  if (strlen(canon) >= TM_LANG_MAX)
    fz_fail("tm_lang_canonical: \"%s\" is too long", canon);
  if (tm_lang_canonical(canon, again) != TM_OK || strcmp(canon, again) != 0)
    fz_fail("tm_lang_canonical: \"%s\" gives \"%s\", which is not canonical",
            tag, canon);
}

static int sign(int v) {
  return (v > 0) - (v < 0);
}

static int key_order(const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
  int c = memcmp(a, b, an < bn ? an : bn);
  return c ? sign(c) : sign((an > bn) - (an < bn));
}

static void check_collation(const char *lang, const char *a, size_t an,
                            const char *b, size_t bn) {
  uint8_t *ka = NULL, *kb = NULL;
  size_t kan = 0, kbn = 0;
  int ab, ba, aa;

  expect("collate", tm__text_collate_n(text, lang, a, an, b, bn, &ab), TM_OK);
  expect("collate", tm__text_collate_n(text, lang, b, bn, a, an, &ba), TM_OK);
  expect("collate", tm__text_collate_n(text, lang, a, an, a, an, &aa), TM_OK);
  if (ab != -ba || aa != 0)
    fz_fail("collation for %s is not antisymmetric: %d, %d, %d", lang, ab, ba,
            aa);
  expect("sort key", tm__text_sortkey(text, lang, a, an, &ka, &kan), TM_OK);
  expect("sort key", tm__text_sortkey(text, lang, b, bn, &kb, &kbn), TM_OK);
  if (key_order(ka, kan, kb, kbn) != ab)
    fz_fail("the sort keys for %s order otherwise than the collation (%d)",
            lang, ab);
  free(ka);
  free(kb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *lang, *s, *cut;
  char canon[TM_LANG_MAX] = "en";
  size_t len, bad = 0, n = 0;
  tm_span *spans = NULL;
  char *out = NULL, *initials = NULL, *latin = NULL;
  bool valid;
  tm_status want;

  if (size == 0)
    return 0;
  lang = langs[data[0] % NLANGS];
  if (lang && strcmp(lang, "any") != 0)
    strcpy(canon, lang);
  s = (const char *)data + 1;
  len = size - 1;
  valid = fz_utf8_valid(s, len);
  want = valid ? TM_OK : TM_UTF8;

  if ((tm__utf8_check(s, len) == len) != valid)
    fz_fail("tm__utf8_check says the text is %svalid", valid ? "in" : "");
  check_tag(s, len);

  expect("nfc", tm_text_nfc(text, s, len, &out, &bad), want);
  if (!valid && bad >= len)
    fz_fail("nfc: the bad offset %zu is past the text (%zu)", bad, len);
  if (valid) {
    char *again = NULL;
    size_t olen;
    if (!out)
      fz_fail("nfc: TM_OK without a result");
    olen = strlen(out);
    expect("nfc of nfc", tm_text_nfc(text, out, olen, &again, NULL), TM_OK);
    if (strcmp(out, again) != 0)
      fz_fail("nfc is not idempotent");
    tm_free(again);
    check_out("nfc", out);
  }

  expect("fold", tm_text_fold(text, lang, s, len, &out), want);
  if (valid)
    check_out("fold", out);

  expect("words", tm_text_words(text, lang, s, len, &spans, &n), want);
  if (valid)
    check_spans("words", spans, n, code_points(s, len));
  tm_free(spans);

  expect("sentences", tm__text_sentences(text, canon, s, len, &spans, &n),
         want);
  if (valid)
    check_spans("sentences", spans, n, code_points(s, len));
  free(spans);

  expect("initials", tm_text_initials(text, s, len, &out), want);
  if (valid)
    check_out("initials", out);

  expect("translit", tm_text_translit(text, lang, s, len, &out), want);
  if (valid)
    check_out("translit", out);

  if (!valid)
    return 0;
  expect("term keys", tm__term_keys(text, canon, s, len, &initials, &latin),
         TM_OK);
  if (initials)
    check_out("term keys (initials)", initials);
  check_out("term keys (Latin)", latin);

  cut = memchr(s, '\t', len);
  if (cut)
    check_collation(canon, s, (size_t)(cut - s), cut + 1,
                    len - (size_t)(cut - s) - 1);
  else
    check_collation(canon, s, len, "", 0);
  return 0;
}
