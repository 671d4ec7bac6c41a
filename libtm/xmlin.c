/*
 * xmlin.c - what the TMX and TBX readers share: a growable byte buffer and
 * the capture of libxml2's first error on a reader, as our status.
 */
#include "xmlin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool tm__buf_add(tm__buf *b, const char *s, size_t n) {
  if (b->cap - b->len <= n) {
    size_t cap = b->cap ? b->cap : 256;
    char *p;
    while (cap - b->len <= n)
      cap *= 2;
    if (!(p = realloc(b->p, cap)))
      return false;
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
  return true;
}

/* ------------------------------------------------------ libxml2 errors */

void tm__xml_on_error(void *arg, xmlErrorPtr e) {
  tm__xml_error *x = arg;
  xmlParserCtxtPtr ctxt;
  size_t n;

  /* Warnings are not failures.  libxml2 raises an undefined entity in a
   * document with an external DTD at error level, so it lands here. */
  if (x->set || !e || e->level < XML_ERR_ERROR)
    return;
  x->set = true;
  x->code = e->code;
  x->line = e->line;
  /* Inside an entity's text libxml2 counts lines from the entity's start;
   * the document's own input is the first one on the stack. */
  ctxt = e->domain == XML_FROM_PARSER ? e->ctxt : NULL;
  if (ctxt && ctxt->inputNr > 1 && ctxt->inputTab[0])
    x->line = ctxt->inputTab[0]->line;
  if (ctxt) {
    x->open = ctxt->nodeNr;
    x->root = ctxt->myDoc && xmlDocGetRootElement(ctxt->myDoc);
  }
  snprintf(x->msg, sizeof x->msg, "%s", e->message ? e->message : "error");
  snprintf(x->name, sizeof x->name, "%s", e->str1 ? e->str1 : "");
  /* One line: libxml2 ends messages with '\n' and puts bytes on a second
   * line ("Input is not proper UTF-8 ...\nBytes: 0xFF 0x20"). */
  for (n = strlen(x->msg); n > 0 && x->msg[n - 1] == '\n'; n--)
    x->msg[n - 1] = '\0';
  for (char *p = x->msg; *p; p++)
    if (*p == '\n')
      *p = ' ';
}

static void xml_silent(void *ctx, const char *fmt, ...) {
  (void)ctx;
  (void)fmt;
}

void tm__xml_quiet_begin(tm__xml_quiet *q) {
  q->func = xmlGenericError;
  q->ctx = xmlGenericErrorContext;
  xmlSetGenericErrorFunc(NULL, xml_silent);
}

void tm__xml_quiet_end(const tm__xml_quiet *q) {
  xmlSetGenericErrorFunc(q->ctx, q->func);
}

tm_status tm__xml_error_status(const tm__xml_error *x) {
  switch (x->code) {
  case XML_ERR_INVALID_CHAR:
    /* Also used for characters outside XML's range; only the decoder's
     * complaint is about the encoding. */
    return strstr(x->msg, "UTF-8") ? TM_UTF8 : TM_PARSE;
  case XML_ERR_INVALID_ENCODING:
  case XML_I18N_CONV_FAILED:
    return TM_UTF8;
  default:
    return TM_PARSE;
  }
}

bool tm__buf_adds(tm__buf *b, const char *s) {
  return tm__buf_add(b, s, strlen(s));
}

void tm__buf_clear(tm__buf *b) {
  b->len = 0;
  if (b->p)
    b->p[0] = '\0';
}

long tm__xml_entity_line(xmlTextReaderPtr rd, const char *buf, size_t len) {
  xmlNodePtr n = xmlTextReaderCurrentNode(rd);
  xmlDtdPtr dtd = (xmlDtdPtr)n;
  const char *decl;
  long line;

  if (!n || n->type != XML_DTD_NODE)
    return 0;
  if ((!dtd->entities || xmlHashSize(dtd->entities) == 0) &&
      (!dtd->pentities || xmlHashSize(dtd->pentities) == 0))
    return 0;
  /* libxml2 keeps no line for declarations; find the first in the bytes
   * (for UTF-8 input; else the parser's line). */
  decl = memmem(buf, len, "<!ENTITY", 8);
  if (!decl)
    return xmlTextReaderGetParserLineNumber(rd);
  line = 1;
  for (const char *p = buf; p < decl; p++)
    line += *p == '\n';
  return line;
}
