/*
 * common.c - the helpers of every fuzz target: failing loudly, byte
 * buffers, and the import round trip of the TMX, TBX and CSV/TSV targets.
 */
#include "fuzz.h"

#include <libxml/xmlerror.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* UBSan's reports are findings too, whatever the environment says: the
 * sanitizers read these defaults before their options variables. */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void) {
  return "halt_on_error=1:print_stacktrace=1";
}

void fz_fail(const char *fmt, ...) {
  va_list ap;

  fputs("fuzz: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  abort();
}

void fz_buf_add(struct fz_buf *b, const void *p, size_t n) {
  if (n > b->cap - b->len) {
    size_t cap = b->cap ? b->cap : 4096;
    char *q;
    while (cap - b->len < n)
      cap *= 2;
    if (!(q = realloc(b->p, cap)))
      fz_fail("out of memory");
    b->p = q;
    b->cap = cap;
  }
  if (n)
    memcpy(b->p + b->len, p, n);
  b->len += n;
}

void fz_buf_free(struct fz_buf *b) {
  free(b->p);
  memset(b, 0, sizeof *b);
}

int fz_buf_write(void *ctx, const void *p, size_t n) {
  fz_buf_add(ctx, p, n);
  return 0;
}

bool fz_utf8_valid(const char *str, size_t len) {
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0;

  /* Written apart from libtm's own check, so that a target does not test
   * the library against itself. */
  while (i < len) {
    unsigned c = s[i], n;
    uint32_t cp;
    if (c >= 0x01 && c <= 0x7F) {
      i++;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF)
      n = 1, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
      n = 2, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
      n = 3, cp = c & 0x07;
    else
      return false;
    if (len - i <= n)
      return false;
    for (unsigned k = 1; k <= n; k++) {
      if ((s[i + k] & 0xC0) != 0x80)
        return false;
      cp = cp << 6 | (s[i + k] & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += n + 1;
  }
  return true;
}

/* ---------------------------------------------------------- imports */

static void xml_printed(void *ctx, const char *fmt, ...) FZ_PRINTF(2, 3);

static void xml_printed(void *ctx, const char *fmt, ...) {
  char msg[256];
  va_list ap;

  (void)ctx;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fz_fail("libxml2 would print on stderr: %s", msg);
}

void fz_xml_strict(void) {
  xmlSetGenericErrorFunc(NULL, xml_printed);
}

/* Inputs served by one database before it is opened afresh. */
#define DB_USES 2000

static tm_db *db;
static unsigned db_uses;
static unsigned long seq;

static void close_db(void) {
  tm_db_close(db);
  db = NULL;
}

static tm_db *database(void) {
  static bool registered;
  tm_status s;

  if (db && db_uses++ < DB_USES)
    return db;
  close_db();
  db_uses = 1;
  if ((s = tm_db_open(":memory:", TM_OPEN_NOSEED, &db)) != TM_OK)
    fz_fail("cannot open a database: %s", tm_status_name(s));
  if (!registered) {
    atexit(close_db);
    registered = true;
  }
  return db;
}

bool fz_import_status_ok(tm_status s) {
  switch (s) {
  case TM_OK:
  case TM_INVALID:
  case TM_UTF8:
  case TM_LANG:
  case TM_PARSE:
  case TM_TOOBIG:
    return true;
  default:
    return false;
  }
}

static const char *kind_name(tm_kind k) {
  return k == TM_MEMORY ? "memory" : k == TM_GLOSSARY ? "glossary" : "?";
}

void fz_import_roundtrip(const uint8_t *data, size_t size, tm_format format,
                         tm_kind kind) {
  static const tm_format memory_formats[] = {TM_FORMAT_TMX, TM_FORMAT_TSV,
                                             TM_FORMAT_CSV};
  static const tm_format glossary_formats[] = {
      TM_FORMAT_TBX, TM_FORMAT_TBX_MARTIF, TM_FORMAT_TSV, TM_FORMAT_CSV,
      TM_FORMAT_HTML};
  tm_db *d = database();
  char name[32], copy[64];
  tm_import_opts in = {0};
  tm_import_result res, again;
  const tm_format *formats;
  size_t nformats;
  tm_status s;

  /* Duplicates are found within a collection: a fresh one per input makes
   * the result independent of the inputs before it. */
  snprintf(name, sizeof name, "in%lu", ++seq);
  in.format = format;
  in.kind = kind;
  in.collection = name;
  in.name = "input";
  s = tm_import_buffer(d, data, size, &in, &res);
  if (!fz_import_status_ok(s))
    fz_fail("%s import: %s: %s", tm_format_name(format), tm_status_name(s),
            tm_db_errmsg(d));
  if (s != TM_OK)
    return;
  if (res.kind == TM_MEMORY) {
    formats = memory_formats;
    nformats = sizeof memory_formats / sizeof memory_formats[0];
  } else {
    formats = glossary_formats;
    nformats = sizeof glossary_formats / sizeof glossary_formats[0];
  }
  for (size_t i = 0; i < nformats; i++) {
    tm_export_opts out = {0};
    struct fz_buf b = {0};
    tm_import_opts back = {0};

    out.format = formats[i];
    out.kind = res.kind;
    out.collection = name;
    if ((s = tm_export(d, &out, fz_buf_write, &b)) != TM_OK)
      fz_fail("%s export of an imported %s: %s: %s", tm_format_name(formats[i]),
              kind_name(res.kind), tm_status_name(s), tm_db_errmsg(d));
    if (formats[i] != TM_FORMAT_HTML) {
      snprintf(copy, sizeof copy, "%s-%zu", name, i);
      back.format = formats[i];
      back.kind = res.kind;
      back.collection = copy;
      back.name = "export";
      s = tm_import_buffer(d, b.p ? b.p : "", b.len, &back, &again);
      if (s != TM_OK)
        fz_fail("%s export of an imported %s does not import: %s: %s\n"
                "--- export ---\n%.*s",
                tm_format_name(formats[i]), kind_name(res.kind),
                tm_status_name(s), tm_db_errmsg(d), (int)b.len, b.p);
      if (again.records != res.records)
        fz_fail("%s export of %llu %s records imports as %llu\n"
                "--- export ---\n%.*s",
                tm_format_name(formats[i]), (unsigned long long)res.records,
                kind_name(res.kind), (unsigned long long)again.records,
                (int)b.len, b.p);
    }
    fz_buf_free(&b);
  }
}
