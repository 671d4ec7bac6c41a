/*
 * xmlin.h - internal helpers of the XML readers (tmx.c, tbx.c).
 */
#ifndef TM_XMLIN_H
#define TM_XMLIN_H

#include "tm_internal.h"

#include <libxml/xmlerror.h>
#include <libxml/xmlreader.h>
#include <stdbool.h>

/* A growable NUL-terminated byte buffer, reused between records; free its
 * p with free(). */
typedef struct tm__buf {
  char *p;
  size_t len, cap;
} tm__buf;

bool tm__buf_add(tm__buf *b, const char *s, size_t n);
bool tm__buf_adds(tm__buf *b, const char *s);
void tm__buf_clear(tm__buf *b);

/* The first error libxml2 reported on a reader (set as its structured
 * error handler, with a tm__xml_error as its argument). */
typedef struct tm__xml_error {
  bool set;
  int code;
  long line;
  char msg[240];
  char name[64]; /* the entity, for an undefined one */
  int open;      /* elements open in the parser then */
  bool root;     /* the parser had seen the root element */
} tm__xml_error;

void tm__xml_on_error(void *arg, xmlErrorPtr e);
/* TM_UTF8 for an encoding error, else TM_PARSE. */
tm_status tm__xml_error_status(const tm__xml_error *x);

/* libxml2 reports some errors outside any parser (a failed encoding
 * conversion) to the thread's generic handler, which prints on stderr; the
 * reader's own handler records what matters, and the library never
 * prints.  An import runs between these two with a silent generic handler,
 * and the caller's comes back after. */
typedef struct tm__xml_quiet {
  xmlGenericErrorFunc func;
  void *ctx;
} tm__xml_quiet;

void tm__xml_quiet_begin(tm__xml_quiet *q);
void tm__xml_quiet_end(const tm__xml_quiet *q);

/* When the reader stands on a DOCTYPE that declares entities (general or
 * parameter), the line of the first declaration in BUF; else 0.  Our
 * readers refuse such documents: entities are never expanded. */
long tm__xml_entity_line(xmlTextReaderPtr rd, const char *buf, size_t len);

#endif
