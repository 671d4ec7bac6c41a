/*
 * hout.c - buffered output of HTML pages (the glossary sheet and the prep
 * sheet): the writer is called once per 8 KiB, the first failure sticks,
 * and text is escaped once, here.  Also the names of languages that the
 * pages use as column headings.
 */
#include "tm_internal.h"

#include <string.h>

void tm__hout_flush(tm__hout *h) {
  if (h->s == TM_OK && h->len)
    h->s = tm__out(h->o, h->buf, h->len);
  h->len = 0;
}

void tm__hout_put(tm__hout *h, const char *s, size_t n) {
  if (h->s != TM_OK)
    return;
  if (h->len + n > sizeof h->buf) {
    tm__hout_flush(h);
    if (n > sizeof h->buf) {
      if (h->s == TM_OK)
        h->s = tm__out(h->o, s, n);
      return;
    }
  }
  memcpy(h->buf + h->len, s, n);
  h->len += n;
}

void tm__hout_puts(tm__hout *h, const char *s) {
  tm__hout_put(h, s, strlen(s));
}

/* S as HTML text or attribute value.  S is valid UTF-8 (from the
 * database). */
void tm__hout_esc(tm__hout *h, const char *s) {
  const unsigned char *p = (const unsigned char *)s, *run = p;

  for (; p && *p; p++) {
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
        rep = "\xEF\xBF\xBD"; /* C1 controls */
        skip = 2;
      }
      break;
    }
    if (!rep)
      continue;
    tm__hout_put(h, (const char *)run, (size_t)(p - run));
    tm__hout_puts(h, rep);
    p += skip - 1;
    run = p + 1;
  }
  if (run)
    tm__hout_put(h, (const char *)run, strlen((const char *)run));
}

static const struct {
  const char *tag, *name;
} lang_names[] = {
    {"en", "English"}, {"ko", "한국어"},  {"uk", "Українська"},
    {"ru", "Русский"}, {"de", "Deutsch"}, {"fr", "Français"},
    {"es", "Español"}, {"ja", "日本語"},  {"zh", "中文"},
    {"pl", "Polski"},
};

const char *tm__lang_name(const char *tag) {
  for (size_t i = 0; i < sizeof lang_names / sizeof lang_names[0]; i++)
    if (strcmp(lang_names[i].tag, tag) == 0)
      return lang_names[i].name;
  return tag;
}

bool tm__lang_covers(const char *lang, const char *tag) {
  size_t n = strlen(lang);
  return strncmp(tag, lang, n) == 0 && (tag[n] == '\0' || tag[n] == '-');
}
