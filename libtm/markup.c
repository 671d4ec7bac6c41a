/*
 * markup.c - the text a reader sees in a Markdown or HTML document, with
 * a map from each of its code points back to the source, so that what the
 * analysis finds can be shown where the author wrote it.
 *
 * Both extractors are small scanners rather than full parsers: a parser's
 * tree forgets where its text came from, and the analysis needs exactly
 * that.  What they keep and drop:
 *
 *  - HTML: text content; tags, comments, declarations and processing
 *    instructions go, and so does the content of script, style, template
 *    and title.  Entities are decoded (named ones through libxml2's HTML
 *    table, numeric ones with HTML's windows-1252 repair of 0x80-0x9F).
 *    Source white space is a space (HTML collapses it) except inside pre;
 *    block elements (p, div, li, h1, td, ...) end a paragraph, br a line.
 *  - Markdown (CommonMark and GitHub's tables): heading, quote and list
 *    markers, emphasis and strike-through delimiters, code-span backticks,
 *    fences, thematic breaks, setext underlines, link destinations and
 *    reference definitions go; link and image texts, code and escaped
 *    characters stay.  A block marker or a table cell starts a paragraph;
 *    a single line break only wraps one.
 *
 * A paragraph boundary the extractor makes up is "\n\n" with an empty
 * source span at the markup that caused it.
 */
#include "analyze_internal.h"

#include <libxml/HTMLparser.h>
#include <stdlib.h>
#include <string.h>

/* Plain text lines longer than this (code points) are unwrapped prose. */
#define WRAPPED_LINE_MAX 100

typedef struct ext {
  tm__plain *p;
  const char *s;
  size_t len;
  size_t i;   /* byte offset in s */
  uint32_t k; /* code point offset of i */
  int nl;     /* line breaks at the end of the output, blanks ignored */
  bool ok;
  /* Markdown links open across lines: where their text ends and where
   * their destination does. */
  size_t close_at[8], resume_at[8];
  int nlinks;
} ext;

static uint32_t decode(const char *s, size_t *n) {
  const unsigned char *p = (const unsigned char *)s;

  if (p[0] < 0x80) {
    *n = 1;
    return p[0];
  }
  if ((p[0] & 0xE0) == 0xC0) {
    *n = 2;
    return (uint32_t)(p[0] & 0x1F) << 6 | (p[1] & 0x3F);
  }
  if ((p[0] & 0xF0) == 0xE0) {
    *n = 3;
    return (uint32_t)(p[0] & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 |
           (p[2] & 0x3F);
  }
  *n = 4;
  return (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3F) << 12 |
         (uint32_t)(p[2] & 0x3F) << 6 | (p[3] & 0x3F);
}

static size_t encode(uint32_t c, char *out) {
  if (c < 0x80) {
    out[0] = (char)c;
    return 1;
  }
  if (c < 0x800) {
    out[0] = (char)(0xC0 | (c >> 6));
    out[1] = (char)(0x80 | (c & 0x3F));
    return 2;
  }
  if (c < 0x10000) {
    out[0] = (char)(0xE0 | (c >> 12));
    out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[2] = (char)(0x80 | (c & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | (c >> 18));
  out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
  out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
  out[3] = (char)(0x80 | (c & 0x3F));
  return 4;
}

/* ------------------------------------------------------------- output */

static void emit(ext *x, uint32_t c, uint32_t s0, uint32_t s1) {
  tm__plain *p = x->p;

  if (!x->ok)
    return;
  if (p->len + 5 > p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 4096;
    char *t = realloc(p->text, cap);
    if (!t) {
      x->ok = false;
      return;
    }
    p->text = t;
    p->cap = cap;
  }
  if (p->ncp + 1 > p->mapcap) {
    size_t cap = p->mapcap ? p->mapcap * 2 : 4096;
    uint32_t *a = realloc(p->src0, cap * sizeof *a), *b;
    if (!a) {
      x->ok = false;
      return;
    }
    p->src0 = a;
    if (!(b = realloc(p->src1, cap * sizeof *b))) {
      x->ok = false;
      return;
    }
    p->src1 = b;
    p->mapcap = cap;
  }
  p->len += encode(c, p->text + p->len);
  p->text[p->len] = '\0';
  p->src0[p->ncp] = s0;
  p->src1[p->ncp] = s1;
  p->ncp++;
  if (c == '\n')
    x->nl++;
  else if (c != ' ' && c != '\t')
    x->nl = 0;
}

/* Moves the scanner to byte TO (forward), counting code points. */
static void skip_to(ext *x, size_t to) {
  for (; x->i < to; x->i++)
    if (((unsigned char)x->s[x->i] & 0xC0) != 0x80)
      x->k++;
}

/* Copies the code point at the scanner. */
static void copy(ext *x) {
  size_t n;
  uint32_t c = decode(x->s + x->i, &n);

  emit(x, c, x->k, x->k + 1);
  x->i += n;
  x->k++;
}

/* Emits C for the source up to byte END (an entity, an escape). */
static void replace(ext *x, uint32_t c, size_t end) {
  uint32_t k0 = x->k;

  skip_to(x, end);
  emit(x, c, k0, x->k);
}

/* A paragraph boundary at the scanner, unless the output starts or
 * already ends with one. */
static void paragraph(ext *x) {
  if (x->p->ncp == 0)
    return;
  while (x->nl < 2)
    emit(x, '\n', x->k, x->k);
}

static void line_break(ext *x) {
  if (x->p->ncp && x->nl == 0)
    emit(x, '\n', x->k, x->k);
}

/* ------------------------------------------------------------ entities */

/* HTML's repair of numeric references to 0x80-0x9F: windows-1252. */
static const uint16_t cp1252[32] = {
    0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
    0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178};

static bool is_alnum_ascii(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z');
}

static bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
         (c >= 'A' && c <= 'F');
}

/* A character reference at S[i] ('&'): its code point and the byte after
 * its ';'.  Only references closed by ';' are decoded. */
static bool entity(const char *s, size_t len, size_t i, uint32_t *cp,
                   size_t *end) {
  size_t j = i + 1;
  uint32_t v = 0;

  if (j < len && s[j] == '#') {
    bool hex = j + 1 < len && (s[j + 1] == 'x' || s[j + 1] == 'X');
    size_t d0 = j = j + 1 + hex;
    while (j < len && j - d0 < 8 &&
           (hex ? is_hex(s[j]) : (s[j] >= '0' && s[j] <= '9'))) {
      char c = s[j++];
      v = v * (hex ? 16 : 10) + (uint32_t)(c <= '9'   ? c - '0'
                                           : c >= 'a' ? c - 'a' + 10
                                                      : c - 'A' + 10);
    }
    if (j == d0 || j >= len || s[j] != ';')
      return false;
    if (v >= 0x80 && v <= 0x9F)
      v = cp1252[v - 0x80];
    else if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) ||
             (v < 0x20 && v != '\t' && v != '\n' && v != '\r'))
      v = 0xFFFD;
    *cp = v;
    *end = j + 1;
    return true;
  }
  {
    char name[33];
    size_t n = 0;
    const htmlEntityDesc *d;

    while (j < len && n < sizeof name - 1 && is_alnum_ascii(s[j]))
      name[n++] = s[j++];
    name[n] = '\0';
    if (n == 0 || j >= len || s[j] != ';')
      return false;
    if (strcmp(name, "apos") == 0)
      v = '\'';
    else if ((d = htmlEntityLookup((const xmlChar *)name)) != NULL)
      v = d->value;
    else
      return false;
    *cp = v;
    *end = j + 1;
    return true;
  }
}

/* ---------------------------------------------------------------- HTML */

static bool html_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static bool ascii_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool name_is(const char *name, size_t n, const char *const *list) {
  for (; *list; list++)
    if (strlen(*list) == n && strncasecmp(*list, name, n) == 0)
      return true;
  return false;
}

static const char *const html_blocks[] = {
    "address", "article",  "aside",      "blockquote", "body",   "caption",
    "center",  "dd",       "details",    "dialog",     "div",    "dl",
    "dt",      "fieldset", "figcaption", "figure",     "footer", "form",
    "h1",      "h2",       "h3",         "h4",         "h5",     "h6",
    "header",  "hgroup",   "hr",         "html",       "legend", "li",
    "main",    "menu",     "nav",        "ol",         "option", "p",
    "pre",     "section",  "summary",    "table",      "tbody",  "td",
    "tfoot",   "th",       "thead",      "tr",         "ul",     NULL};

/* Elements whose content is not text a reader sees. */
static const char *const html_hidden[] = {"script", "style", "template",
                                          "title", NULL};

/* The byte after the '>' that ends the tag opened at S[i], honouring
 * quoted attribute values; LEN when it is never closed. */
static size_t tag_end(const char *s, size_t len, size_t i) {
  char quote = 0;

  for (; i < len; i++) {
    if (quote) {
      if (s[i] == quote)
        quote = 0;
    } else if (s[i] == '"' || s[i] == '\'') {
      quote = s[i];
    } else if (s[i] == '>') {
      return i + 1;
    }
  }
  return len;
}

/* Where the first S[from..) occurrence of NEEDLE (ASCII, compared without
 * case) starts, or LEN. */
static size_t find_ci(const char *s, size_t len, size_t from,
                      const char *needle) {
  size_t n = strlen(needle);

  for (size_t i = from; i + n <= len; i++)
    if (strncasecmp(s + i, needle, n) == 0)
      return i;
  return len;
}

static void html_extract(ext *x) {
  const char *s = x->s;
  size_t len = x->len;
  int pre = 0;

  while (x->i < len && x->ok) {
    size_t i = x->i;
    char c = s[i];

    if (c == '<' && i + 1 < len) {
      if (strncmp(s + i, "<!--", 4) == 0) {
        size_t e = find_ci(s, len, i + 4, "-->");
        skip_to(x, e < len ? e + 3 : len);
        continue;
      }
      if (strncmp(s + i, "<![CDATA[", 9) == 0) {
        size_t e = find_ci(s, len, i + 9, "]]>");
        skip_to(x, i + 9);
        while (x->i < e && x->ok)
          copy(x);
        skip_to(x, e < len ? e + 3 : len);
        continue;
      }
      if (s[i + 1] == '!' || s[i + 1] == '?') {
        skip_to(x, tag_end(s, len, i + 2));
        continue;
      }
      if (ascii_alpha(s[i + 1]) ||
          (s[i + 1] == '/' && i + 2 < len && ascii_alpha(s[i + 2]))) {
        bool end = s[i + 1] == '/';
        size_t n0 = i + 1 + end, n1 = n0;
        while (n1 < len && (is_alnum_ascii(s[n1]) || s[n1] == '-'))
          n1++;
        const char *name = s + n0;
        size_t nn = n1 - n0;
        if (name_is(name, nn, html_blocks)) {
          paragraph(x);
          if (nn == 3 && strncasecmp(name, "pre", 3) == 0)
            pre += end ? (pre > 0 ? -1 : 0) : 1;
        } else if (nn == 2 && strncasecmp(name, "br", 2) == 0) {
          line_break(x);
        }
        skip_to(x, tag_end(s, len, n1));
        if (!end && name_is(name, nn, html_hidden)) {
          /* Raw text up to the element's end tag. */
          char close[16] = "</";
          size_t e;
          memcpy(close + 2, name, nn < 12 ? nn : 12);
          close[2 + (nn < 12 ? nn : 12)] = '\0';
          e = find_ci(s, len, x->i, close);
          skip_to(x, e < len ? tag_end(s, len, e) : len);
        }
        continue;
      }
    } else if (c == '&') {
      uint32_t cp;
      size_t e;
      if (entity(s, len, i, &cp, &e)) {
        replace(x, cp, e);
        continue;
      }
    } else if (html_space(c)) {
      if (pre && c == '\n')
        emit(x, '\n', x->k, x->k + 1);
      else if (!(pre && c == '\r'))
        emit(x, ' ', x->k, x->k + 1);
      x->i++;
      x->k++;
      continue;
    }
    copy(x);
  }
}

/* ------------------------------------------------------------ Markdown */

static bool md_space(char c) {
  return c == ' ' || c == '\t';
}

static bool ascii_punct(char c) {
  return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') ||
         (c >= '[' && c <= '`') || (c >= '{' && c <= '~');
}

/* A line of only C (one of - * _ =), at least MIN of them, and blanks. */
static bool rule_line(const char *s, size_t a, size_t b, char c, int min) {
  int n = 0;

  for (size_t i = a; i < b; i++) {
    if (s[i] == c)
      n++;
    else if (!md_space(s[i]))
      return false;
  }
  return n >= min;
}

/* A table's delimiter row: | --- | :---: | */
static bool table_delimiter(const char *s, size_t a, size_t b) {
  bool dash = false, bar = false;

  for (size_t i = a; i < b; i++) {
    if (s[i] == '-')
      dash = true;
    else if (s[i] == '|')
      bar = true;
    else if (s[i] != ':' && !md_space(s[i]))
      return false;
  }
  return dash && bar;
}

/* The byte after the bracket closing the one at S[i] on this line, or 0. */
static size_t closing(const char *s, size_t i, size_t e, char open,
                      char close) {
  int depth = 0;

  for (; i < e; i++) {
    if (s[i] == '\\' && i + 1 < e) {
      i++;
      continue;
    }
    if (s[i] == open)
      depth++;
    else if (s[i] == close && --depth == 0)
      return i + 1;
  }
  return 0;
}

/* Inline Markdown of the line S[x->i .. e) of a paragraph that ends at
 * PARA (links may span its lines).  Stops early, past E, when a link's
 * destination ends on a later line. */
static void md_inline(ext *x, size_t e, size_t para, bool table) {
  const char *s = x->s;

  while (x->i < e && x->ok) {
    size_t i = x->i;
    char c = s[i];

    if (x->nlinks && i >= x->close_at[x->nlinks - 1]) {
      x->nlinks--;
      skip_to(x, x->resume_at[x->nlinks]);
      continue;
    }
    if (c == '\\' && i + 1 < e && ascii_punct(s[i + 1])) {
      x->i++;
      x->k++;
      replace(x, (unsigned char)s[i + 1], i + 2);
      continue;
    }
    if (c == '`') {
      size_t n = 0, j, m;
      while (i + n < e && s[i + n] == '`')
        n++;
      /* The closing run of the same length. */
      for (j = i + n; j < e; j = m) {
        for (m = j; m < e && s[m] != '`'; m++)
          ;
        j = m;
        while (m < e && s[m] == '`')
          m++;
        if (m - j == n || m >= e)
          break;
      }
      if (j < e && m - j == n) {
        skip_to(x, i + n);
        while (x->i < j && x->ok)
          copy(x);
        skip_to(x, j + n);
      } else {
        while (x->i < i + n)
          copy(x);
      }
      continue;
    }
    if ((c == '[' || (c == '!' && i + 1 < e && s[i + 1] == '[')) &&
        x->nlinks < 8) {
      size_t open = c == '!' ? i + 1 : i;
      size_t txt_end = closing(s, open, para, '[', ']'), dest_end = 0;
      if (txt_end && txt_end < para && s[txt_end] == '(')
        dest_end = closing(s, txt_end, para, '(', ')');
      else if (txt_end && txt_end < para && s[txt_end] == '[')
        dest_end = closing(s, txt_end, para, '[', ']');
      if (dest_end) {
        x->close_at[x->nlinks] = txt_end - 1;
        x->resume_at[x->nlinks] = dest_end;
        x->nlinks++;
        skip_to(x, open + 1);
        continue;
      }
    }
    if (c == '<' && i + 1 < e) {
      size_t j = i + 1, gt;
      for (gt = j; gt < e && s[gt] != '>' && s[gt] != '<'; gt++)
        ;
      if (gt < e && s[gt] == '>') {
        bool autolink =
            strncasecmp(s + j, "http://", 7) == 0 ||
            strncasecmp(s + j, "https://", 8) == 0 ||
            strncasecmp(s + j, "mailto:", 7) == 0 ||
            (memchr(s + j, '@', gt - j) && !memchr(s + j, ' ', gt - j));
        if (autolink) {
          skip_to(x, j);
          while (x->i < gt && x->ok)
            copy(x);
          skip_to(x, gt + 1);
          continue;
        }
        if (ascii_alpha(s[j]) || s[j] == '/' || s[j] == '!') {
          skip_to(x, gt + 1);
          continue;
        }
      }
    }
    if (c == '&') {
      uint32_t cp;
      size_t end;
      if (entity(s, e, i, &cp, &end)) {
        replace(x, cp, end);
        continue;
      }
    }
    if (c == '*' || c == '_' || c == '~') {
      size_t n = 0;
      char before = i > 0 ? s[i - 1] : ' ', after;
      while (i + n < e && s[i + n] == c)
        n++;
      after = i + n < e ? s[i + n] : ' ';
      bool lone = (md_space(before) || before == '\n') &&
                  (md_space(after) || after == '\n' || after == '\r');
      bool intraword = c == '_' && is_alnum_ascii(before) &&
                       (is_alnum_ascii(after) || (after & 0x80));
      if (!lone && !intraword && (c != '~' || n >= 2)) {
        skip_to(x, i + n);
        continue;
      }
      while (x->i < i + n)
        copy(x);
      continue;
    }
    if (table && c == '|') {
      paragraph(x);
      skip_to(x, i + 1);
      continue;
    }
    if (c == '\t' || c == '\r') {
      emit(x, ' ', x->k, x->k + 1);
      x->i++;
      x->k++;
      continue;
    }
    copy(x);
  }
  if (x->i < e)
    skip_to(x, e);
}

/* The end of the paragraph the line at A belongs to: the next blank
 * line, or the end. */
static size_t para_end(const char *s, size_t len, size_t a) {
  for (size_t i = a; i < len; i++) {
    size_t j;
    if (s[i] != '\n')
      continue;
    for (j = i + 1; j < len && (md_space(s[j]) || s[j] == '\r'); j++)
      ;
    if (j >= len || s[j] == '\n')
      return i;
  }
  return len;
}

static void md_extract(ext *x) {
  const char *s = x->s;
  size_t len = x->len;
  bool fence = false, cont = false;
  char fence_char = 0;
  size_t para = 0;

  while (x->i < len && x->ok) {
    size_t a = x->i, b, next, p;
    const char *nl = memchr(s + a, '\n', len - a);
    bool block = false, heading = false, table = false;

    b = nl ? (size_t)(nl - s) : len;
    next = nl ? b + 1 : len;
    if (b > a && s[b - 1] == '\r')
      b--;
    if (a >= para)
      para = para_end(s, len, a);
    if (cont) {
      /* The rest of a line after a link that ended on it. */
      cont = false;
      p = a;
      goto inline_text;
    }
    if (x->nlinks && a > x->close_at[0])
      x->nlinks = 0; /* a destination that never ended (cannot happen) */
    for (p = a; p < b && md_space(s[p]); p++)
      ;
    if ((b - p >= 3 &&
         (strncmp(s + p, "```", 3) == 0 || strncmp(s + p, "~~~", 3) == 0)) &&
        (!fence || s[p] == fence_char)) {
      fence = !fence;
      fence_char = s[p];
      paragraph(x);
      skip_to(x, next);
      continue;
    }
    if (fence) {
      while (x->i < b && x->ok)
        copy(x);
      skip_to(x, next);
      if (nl)
        emit(x, '\n', x->k - 1, x->k);
      continue;
    }
    if (rule_line(s, p, b, '-', 3) || rule_line(s, p, b, '*', 3) ||
        rule_line(s, p, b, '_', 3) || rule_line(s, p, b, '=', 1) ||
        table_delimiter(s, p, b)) {
      paragraph(x);
      skip_to(x, next);
      continue;
    }
    if (p < b && s[p] == '[' && p + 1 < b && s[p + 1] != '^') {
      size_t rb = closing(s, p, b, '[', ']');
      if (rb && rb < b && s[rb] == ':') {
        skip_to(x, next); /* a link reference definition */
        continue;
      }
    }
    while (p < b && s[p] == '>') {
      block = true;
      for (p++; p < b && md_space(s[p]); p++)
        ;
    }
    if (p < b && s[p] == '#') {
      size_t h = p;
      while (h < b && s[h] == '#')
        h++;
      if (h - p <= 6 && (h == b || md_space(s[h]))) {
        heading = block = true;
        for (p = h; p < b && md_space(s[p]); p++)
          ;
        /* A closing run of '#' after a blank goes too. */
        size_t t = b;
        while (t > p && md_space(s[t - 1]))
          t--;
        size_t h2 = t;
        while (h2 > p && s[h2 - 1] == '#')
          h2--;
        if (h2 < t && (h2 == p || md_space(s[h2 - 1])))
          b = h2;
      }
    } else if (p + 1 < b && (s[p] == '-' || s[p] == '*' || s[p] == '+') &&
               md_space(s[p + 1])) {
      block = true;
      for (p += 2; p < b && md_space(s[p]); p++)
        ;
    } else if (p < b && s[p] >= '0' && s[p] <= '9') {
      size_t d = p;
      while (d < b && d - p < 9 && s[d] >= '0' && s[d] <= '9')
        d++;
      if (d + 1 < b && (s[d] == '.' || s[d] == ')') && md_space(s[d + 1])) {
        block = true;
        for (p = d + 1; p < b && md_space(s[p]); p++)
          ;
      }
    } else if (p < b && s[p] == '|') {
      block = table = true;
    }
    if (block && p + 3 < b && s[p] == '[' &&
        (s[p + 1] == ' ' || s[p + 1] == 'x' || s[p + 1] == 'X') &&
        s[p + 2] == ']' && md_space(s[p + 3]))
      p += 4; /* a task list's box */
    if (block)
      paragraph(x);
  inline_text:
    skip_to(x, p);
    md_inline(x, b, para, table);
    if (x->i > b) {
      cont = true;
      continue;
    }
    if (heading)
      paragraph(x);
    skip_to(x, next);
    if (nl && x->ok)
      emit(x, '\n', x->k - 1, x->k);
  }
}

/* ----------------------------------------------------------- the API */

/* Plain text is wrapped when it has blank lines between paragraphs and
 * (almost) no line longer than a wrapped line would be. */
static bool plain_wrapped(const char *s, size_t len) {
  size_t lines = 0, long_lines = 0, blank = 0, i = 0;

  while (i < len) {
    const char *nl = memchr(s + i, '\n', len - i);
    size_t e = nl ? (size_t)(nl - s) : len, cps = 0;
    bool empty = true;
    for (size_t k = i; k < e; k++) {
      if (((unsigned char)s[k] & 0xC0) != 0x80)
        cps++;
      if (!html_space(s[k]))
        empty = false;
    }
    if (empty) {
      blank++;
    } else {
      lines++;
      if (cps > WRAPPED_LINE_MAX)
        long_lines++;
    }
    i = e + 1;
  }
  return blank > 0 && lines >= 2 && long_lines * 20 <= lines;
}

tm_status tm__plain_extract(tm_input_format format, const char *src, size_t len,
                            tm__plain *out) {
  ext x;

  memset(&x, 0, sizeof x);
  x.p = out;
  x.s = src;
  x.len = len;
  x.ok = true;
  memset(out, 0, sizeof *out);
  if (format == TM_INPUT_PLAIN) {
    if (!(out->text = tm__strndup(src, len)))
      return TM_NOMEM;
    out->len = len;
    out->ncp = tm__utf8_count(src, len);
    out->soft_breaks = plain_wrapped(src, len);
    return TM_OK;
  }
  if (format == TM_INPUT_HTML) {
    html_extract(&x);
  } else {
    md_extract(&x);
    out->soft_breaks = true;
  }
  if (x.ok && !out->text && !(out->text = calloc(1, 1)))
    x.ok = false;
  if (!x.ok) {
    tm__plain_free(out);
    return TM_NOMEM;
  }
  return TM_OK;
}

void tm__plain_free(tm__plain *p) {
  if (!p)
    return;
  free(p->text);
  free(p->src0);
  free(p->src1);
  memset(p, 0, sizeof *p);
}

tm_span tm__plain_source(const tm__plain *p, uint32_t a, uint32_t b) {
  tm_span sp = {a, b};

  if (p->src0 && b > a && b <= p->ncp) {
    sp.start = p->src0[a];
    sp.end = p->src1[b - 1];
    if (sp.end < sp.start)
      sp.end = sp.start;
  }
  return sp;
}
