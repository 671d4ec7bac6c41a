/*
 * tmx.c - TMX (1.4b, and 1.1 on import): a streaming reader that turns each
 * <tu> into a unit for the ingest, and a streaming writer that exports a
 * memory unit by unit.  libxml2 does the XML; this file decides what a TMX
 * element means.
 *
 * Safety: the reader never loads the DTD, never touches the network and
 * never expands entities.  A document that declares entities is refused
 * before any of its attribute values is read (libxml2's tree functions
 * expand entity references in attribute values without its parser's
 * amplification limits), and any other entity reference than the five
 * predefined ones and character references is an error.  libxml2 reports
 * through a structured handler on the reader, so it never prints.
 *
 * What a unit keeps of a <tu>: one variant per language with its text
 * (inline codes left out) and, when the segment has inline elements, the
 * segment's inner XML as markup; <prop type="x-origin"> as the origin; the
 * other <prop> and every <note>, of the <tu> and of each <tuv>, as props.
 * The attributes of <tu> and <tuv> (tuid, dates, creationid, changeid)
 * are not kept: the import's batch says who imported it and when, and an
 * export writes the unit's own id and dates.
 */
#include "tm_internal.h"
#include "xmlin.h"

#include <libxml/hash.h>
#include <libxml/xmlreader.h>
#include <libxml/xmlwriter.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The reader with our options and handler.  Entities stay references
 * (no XML_PARSE_NOENT), no DTD is read or applied (no DTDLOAD, DTDATTR,
 * DTDVALID), nothing comes from the network, and blanks are kept: they are
 * text inside <seg>.  BIG_LINES keeps line numbers past 65535 where
 * libxml2 can. */
static xmlTextReaderPtr open_reader(const char *s, size_t len, const char *name,
                                    tm__xml_error *x) {
  xmlTextReaderPtr rd;

  rd = xmlReaderForMemory(s, (int)len, name, NULL,
                          XML_PARSE_NONET | XML_PARSE_BIG_LINES);
  if (rd)
    xmlTextReaderSetStructuredErrorHandler(rd, tm__xml_on_error, x);
  return rd;
}

/* ------------------------------------------------------ segment content */

/* Inline elements whose content is the original format's code, not text:
 * <bpt>, <ept>, <it>, <ph>, <ut>, and <sub> (a sub-flow inside such code).
 * <hi> and anything unknown keep their text. */
static bool is_code(const xmlChar *name) {
  const char *n = (const char *)name;
  return strcmp(n, "ph") == 0 || strcmp(n, "bpt") == 0 ||
         strcmp(n, "ept") == 0 || strcmp(n, "it") == 0 ||
         strcmp(n, "ut") == 0 || strcmp(n, "sub") == 0;
}

typedef enum walk_result {
  WALK_OK,
  WALK_NOMEM,
  WALK_TOOBIG, /* more than TM_TEXT_MAX bytes of text */
  WALK_ENTITY, /* an entity reference: *bad is it */
} walk_result;

/* Appends the plain text of ROOT's content to B, leaving out inline code;
 * *tags tells whether ROOT has an element child.  Iterative: the depth is
 * libxml2's to limit, not the C stack's. */
static walk_result walk_text(xmlNodePtr root, tm__buf *b, bool *tags,
                             xmlNodePtr *bad) {
  xmlNodePtr n = root->children, code = NULL;

  *tags = false;
  while (n) {
    switch (n->type) {
    case XML_TEXT_NODE:
    case XML_CDATA_SECTION_NODE:
      if (!code && n->content) {
        if (!tm__buf_add(b, (const char *)n->content,
                         strlen((char *)n->content)))
          return WALK_NOMEM;
        /* libxml2 bounds each text node (10 MB), not their sum. */
        if (b->len > TM_TEXT_MAX)
          return WALK_TOOBIG;
      }
      break;
    case XML_ENTITY_REF_NODE:
      *bad = n;
      return WALK_ENTITY;
    case XML_ELEMENT_NODE:
      *tags = true;
      if (!code && is_code(n->name))
        code = n;
      if (n->children) {
        n = n->children;
        continue;
      }
      break;
    default: /* comments and processing instructions are not text */
      break;
    }
    /* Leave N: to its next sibling, or up until an ancestor has one. */
    for (;;) {
      if (n == code)
        code = NULL;
      if (n->next) {
        n = n->next;
        break;
      }
      n = n->parent;
      if (!n || n == root) {
        n = NULL;
        break;
      }
    }
  }
  return WALK_OK;
}

/* XML 1.0 cannot carry C0 controls other than TAB, LF and CR, nor U+FFFE
 * and U+FFFF, not even as character references.  S is valid UTF-8. */
static const char *xml_bad_char(const char *s) {
  const unsigned char *p = (const unsigned char *)s;

  for (; *p; p++) {
    if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
      return (const char *)p;
    if (p[0] == 0xEF && p[1] == 0xBF && (p[2] == 0xBE || p[2] == 0xBF))
      return (const char *)p;
  }
  return NULL;
}

/* ================================================================ import */

/* Canonical forms of the last few language tags seen: a file uses a
 * handful, and ICU's parse costs more than the rest of a <tuv>. */
#define LANG_CACHE 8

typedef struct tmx_in {
  tm__ingest *in;
  const tm__input *src;
  xmlTextReaderPtr rd;
  tm__xml_error xerr;
  tm__buf text;
  xmlBufferPtr markup;
  struct {
    char raw[TM_LANG_MAX];
    char canon[TM_LANG_MAX];
  } langs[LANG_CACHE];
  unsigned nlangs, next_lang;
  bool root; /* the root element was read */

  tm_unit unit;
  long tu_line;
  uint64_t tus; /* <tu> elements seen */
  /* The <tuv> being read. */
  char lang[TM_LANG_MAX];
  bool tuv_skip;      /* a second <tuv> of a language: left out */
  bool tuv_has_seg;   /* its <seg> was read */
  size_t tuv_props;   /* unit.nprops when the <tuv> began */
  size_t tuv_variant; /* unit.nvariants when the <tuv> began */
} tmx_in;

/* The line where node N starts (for an element, where its start tag
 * ends), or -1.  libxml2 keeps a node's line in 16 bits; past 65535,
 * BIG_LINES gives text nodes the line where they end, in psvi, so the line
 * comes from the first text inside N, less the newlines in that text. */
static long line_of(xmlNodePtr n) {
  for (int depth = 0; n && depth < 4; depth++, n = n->children) {
    if (n->line != 0 && n->line != 65535)
      return n->line;
    if (n->type == XML_TEXT_NODE && n->psvi) {
      long line = (long)(ptrdiff_t)n->psvi;
      for (const xmlChar *p = n->content; p && *p; p++)
        line -= *p == '\n';
      return line;
    }
    if (n->type != XML_ELEMENT_NODE)
      break;
  }
  return -1;
}

/* The line of the reader's node; failing that, the parser's, which runs at
 * most a chunk ahead. */
static long node_line(xmlTextReaderPtr rd) {
  long line = line_of(xmlTextReaderCurrentNode(rd));

  return line > 0 ? line : xmlTextReaderGetParserLineNumber(rd);
}

static tm_status fail(tmx_in *t, long line, tm_status s, const char *fmt, ...)
    TM__PRINTF(4, 5);

static tm_status fail(tmx_in *t, long line, tm_status s, const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  tm__verror(t->in->db, s, fmt, ap);
  va_end(ap);
  return tm__at_line(t->in, line, s);
}

static tm_status fail_entity(tmx_in *t, long line, const xmlChar *name) {
  return fail(t, line, TM_PARSE,
              "the entity &%.64s; is not allowed: TMX text uses only &amp;, "
              "&lt;, &gt;, &apos;, &quot; and character references",
              (const char *)name);
}

static tm_status fail_xml(tmx_in *t) {
  const tm__xml_error *x = &t->xerr;

  if (!x->set)
    return fail(t, xmlTextReaderGetParserLineNumber(t->rd), TM_PARSE,
                "malformed XML");
  switch (x->code) {
  case XML_ERR_UNDECLARED_ENTITY:
  case XML_WAR_UNDECLARED_ENTITY:
    if (x->name[0])
      return fail_entity(t, x->line, BAD_CAST x->name);
    break;
  case XML_ERR_ENTITY_LOOP:
    return fail(t, x->line, TM_PARSE,
                "entities nested too deep; entities are never expanded");
  case XML_ERR_DOCUMENT_EMPTY:
  case XML_ERR_DOCUMENT_END:
    /* libxml2's "Extra content at the end of the document" is also what
     * it says of a document that stops before its end. */
    if (x->open > 0)
      return fail(t, x->line, TM_PARSE,
                  "the file ends before the document does (truncated?)");
    if (!x->root)
      return fail(t, x->line, TM_PARSE,
                  "not a TMX document: the file ends before its first "
                  "element");
    break;
  default:
    break;
  }
  if (tm__xml_error_status(x) == TM_UTF8) {
    const char *bytes = strstr(x->msg, "Bytes:");
    return fail(t, x->line, TM_UTF8, "invalid UTF-8%s%s%s", bytes ? " (" : "",
                bytes ? bytes : "", bytes ? ")" : "");
  }
  return fail(t, x->line, TM_PARSE, "malformed XML: %s", x->msg);
}

static tm_status canon_lang(tmx_in *t, const char *raw, char out[TM_LANG_MAX]) {
  unsigned i;

  for (i = 0; i < t->nlangs; i++)
    if (strcmp(t->langs[i].raw, raw) == 0) {
      memcpy(out, t->langs[i].canon, TM_LANG_MAX);
      return TM_OK;
    }
  if (tm_lang_canonical(raw, out) != TM_OK)
    return TM_LANG;
  /* tm_lang_canonical refuses tags that would not fit. */
  i = t->nlangs < LANG_CACHE ? t->nlangs++ : t->next_lang++ % LANG_CACHE;
  memcpy(t->langs[i].raw, raw, strlen(raw) + 1);
  memcpy(t->langs[i].canon, out, TM_LANG_MAX);
  return TM_OK;
}

/* The value of attribute NAME (or ALT, when NAME is absent) of the
 * current element, or NULL.  Valid until the reader reads on or is asked
 * for another value: copy it. */
static const char *attribute(xmlTextReaderPtr rd, const char *name,
                             const char *alt) {
  const char *found = NULL;

  if (xmlTextReaderMoveToFirstAttribute(rd) != 1)
    return NULL;
  do {
    const char *an = (const char *)xmlTextReaderConstName(rd);
    if (an && strcmp(an, name) == 0) {
      found = (const char *)xmlTextReaderConstValue(rd);
      break;
    }
    if (an && !found && alt && strcmp(an, alt) == 0)
      found = (const char *)xmlTextReaderConstValue(rd);
  } while (xmlTextReaderMoveToNextAttribute(rd) == 1);
  xmlTextReaderMoveToElement(rd);
  return found;
}

/* A document type with an internal subset that declares entities is
 * refused: see the note at the top. */
static tm_status check_doctype(tmx_in *t) {
  long line = tm__xml_entity_line(t->rd, t->src->buf, t->src->len);

  if (line == 0)
    return TM_OK;
  return fail(t, line, TM_PARSE,
              "the document declares entities; TMX needs none, and they "
              "are never expanded");
}

/* Reads the content of the current element (expanded) into t->text, and,
 * when MARKUP and it has element children, its inner XML into t->markup.
 * *tags tells which. */
static tm_status read_content(tmx_in *t, bool markup, bool *tags) {
  xmlNodePtr node = xmlTextReaderExpand(t->rd), bad = NULL, c;

  t->text.len = 0;
  if (t->text.p)
    t->text.p[0] = '\0';
  *tags = false;
  if (!node || t->xerr.set)
    return fail_xml(t);
  switch (walk_text(node, &t->text, tags, &bad)) {
  case WALK_OK:
    break;
  case WALK_NOMEM:
    return tm__error(t->in->db, TM_NOMEM, "out of memory");
  case WALK_TOOBIG:
    return fail(t, node_line(t->rd), TM_TOOBIG,
                "a segment is longer than %u bytes", TM_TEXT_MAX);
  case WALK_ENTITY:
    return fail_entity(t, node_line(t->rd), bad->name);
  }
  if (!t->text.p && !tm__buf_add(&t->text, "", 0))
    return tm__error(t->in->db, TM_NOMEM, "out of memory");
  if (markup && *tags) {
    xmlBufferEmpty(t->markup);
    for (c = node->children; c; c = c->next)
      if (xmlNodeDump(t->markup, node->doc, c, 0, 0) < 0)
        return fail(t, node_line(t->rd), TM_NOMEM,
                    "cannot serialise the segment");
  }
  return TM_OK;
}

/* <prop type="..."> or <note>, on the unit (LANG "") or on a variant. */
static tm_status read_prop(tmx_in *t, bool note, const char *lang) {
  tm_unit *u = &t->unit;
  const char *type = NULL;
  bool origin = false, tags;
  char *copy = NULL;
  tm_prop *p;
  tm_status s;

  if (!note) {
    type = attribute(t->rd, "type", NULL);
    origin = !lang[0] && !u->origin && type && strcmp(type, "x-origin") == 0;
    /* TMX requires the type; a <prop> without one keeps "". */
    if (!origin && !(copy = tm__strdup(type ? type : "")))
      return tm__error(t->in->db, TM_NOMEM, "out of memory");
  }
  if ((s = read_content(t, false, &tags)) != TM_OK)
    goto out;
  if (origin) {
    if (!(u->origin = tm__strndup(t->text.p, t->text.len)))
      s = tm__error(t->in->db, TM_NOMEM, "out of memory");
    goto out;
  }
  if (!(p = realloc(u->props, (u->nprops + 1) * sizeof *p))) {
    s = tm__error(t->in->db, TM_NOMEM, "out of memory");
    goto out;
  }
  u->props = p;
  p += u->nprops;
  memset(p, 0, sizeof *p);
  strcpy(p->lang, lang);
  if (!(p->value = tm__strndup(t->text.p, t->text.len))) {
    s = tm__error(t->in->db, TM_NOMEM, "out of memory");
    goto out;
  }
  p->type = copy;
  copy = NULL;
  u->nprops++;
out:
  free(copy);
  return s;
}

/* True when S has a character other than ASCII whitespace: what the ingest
 * calls text. */
static bool has_text(const char *s) {
  for (; *s; s++)
    if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
      return true;
  return false;
}

static tm_status read_seg(tmx_in *t) {
  tm_unit *u = &t->unit;
  tm_variant *v;
  bool tags;
  tm_status s;

  if ((s = read_content(t, true, &tags)) != TM_OK)
    return s;
  /* One <seg> per <tuv>; a blank one gives no variant (the ingest wants
   * text in each). */
  if (t->tuv_skip || t->tuv_has_seg || !has_text(t->text.p)) {
    t->tuv_has_seg = true;
    return TM_OK;
  }
  t->tuv_has_seg = true;
  /* What tm_unit_set does, without a second parse of the language tag by
   * ICU (begin_tuv made it canonical and checked it is not there yet):
   * that parse cost about 5% of a large import. */
  if (!(v = realloc(u->variants, (u->nvariants + 1) * sizeof *v)))
    return tm__error(t->in->db, TM_NOMEM, "out of memory");
  u->variants = v;
  v += u->nvariants;
  memset(v, 0, sizeof *v);
  memcpy(v->lang, t->lang, TM_LANG_MAX);
  if (!(v->text = tm__strndup(t->text.p, t->text.len)))
    return tm__error(t->in->db, TM_NOMEM, "out of memory");
  u->nvariants++;
  if (tags) {
    v->markup = tm__strndup((const char *)xmlBufferContent(t->markup),
                            (size_t)xmlBufferLength(t->markup));
    if (!v->markup)
      return tm__error(t->in->db, TM_NOMEM, "out of memory");
  }
  return TM_OK;
}

static tm_status begin_tuv(tmx_in *t) {
  const char *raw;
  size_t i;

  /* TMX 1.4 says xml:lang, TMX 1.1 said lang. */
  if (!(raw = attribute(t->rd, "xml:lang", "lang")) || !raw[0])
    return fail(t, node_line(t->rd), TM_PARSE, "a <tuv> without xml:lang");
  if (canon_lang(t, raw, t->lang) != TM_OK)
    return fail(t, node_line(t->rd), TM_LANG, "invalid language tag \"%.64s\"",
                raw);
  /* Two <tuv> of one language in a <tu>: the first is the unit's, the
   * others are left out.  OmegaT writes such files (see
   * test-multiple-tuv14.tmx, two FR-CA variants), and TMX 1.4 does not
   * forbid them, so refusing the file would be unhelpful; a unit holds one
   * text per language. */
  t->tuv_skip = false;
  for (i = 0; i < t->unit.nvariants; i++)
    if (strcmp(t->unit.variants[i].lang, t->lang) == 0)
      t->tuv_skip = true;
  t->tuv_has_seg = false;
  t->tuv_props = t->unit.nprops;
  t->tuv_variant = t->unit.nvariants;
  return TM_OK;
}

/* A <tuv> that gave no variant leaves no properties either. */
static void end_tuv(tmx_in *t) {
  tm_unit *u = &t->unit;

  if (u->nvariants > t->tuv_variant)
    return;
  while (u->nprops > t->tuv_props) {
    u->nprops--;
    free(u->props[u->nprops].type);
    free(u->props[u->nprops].value);
  }
}

static tm_status end_tu(tmx_in *t) {
  tm_status s = TM_OK;

  t->tus++;
  /* A unit aligns at least two languages.  A <tu> with fewer (one <tuv>,
   * or blank segments) is a translation memory's way of saying
   * "untranslated"; it is left out, not an error. */
  if (t->unit.nvariants < 2)
    t->in->res->skipped++;
  else if ((s = tm__ingest_unit(t->in, &t->unit)) != TM_OK)
    s = tm__at_line(t->in, t->tu_line, s);
  tm__unit_clear(&t->unit);
  if (s == TM_OK && t->tus % 1000 == 0) {
    long at = xmlTextReaderByteConsumed(t->rd);
    s = tm__progress(t->in, t->src, at > 0 ? (size_t)at : 0);
  }
  return s;
}

enum { AT_TOP, IN_TU, IN_TUV };

static tm_status import_loop(tmx_in *t) {
  xmlTextReaderPtr rd = t->rd;
  int state = AT_TOP, tu_depth = 0, tuv_depth = 0, r;
  tm_status s = TM_OK;
  /* Element names are interned in the reader's dictionary: comparing
   * pointers spares a strcmp per node. */
  const xmlChar *n_header = xmlTextReaderConstString(rd, BAD_CAST "header"),
                *n_tu = xmlTextReaderConstString(rd, BAD_CAST "tu"),
                *n_tuv = xmlTextReaderConstString(rd, BAD_CAST "tuv"),
                *n_seg = xmlTextReaderConstString(rd, BAD_CAST "seg"),
                *n_prop = xmlTextReaderConstString(rd, BAD_CAST "prop"),
                *n_note = xmlTextReaderConstString(rd, BAD_CAST "note");

  if (!n_header || !n_tu || !n_tuv || !n_seg || !n_prop || !n_note)
    return tm__error(t->in->db, TM_NOMEM, "out of memory");
  r = xmlTextReaderRead(rd);
  while (r == 1) {
    const xmlChar *name;
    int type;

    if (t->xerr.set)
      break;
    type = xmlTextReaderNodeType(rd);
    if (type == XML_READER_TYPE_ELEMENT) {
      name = xmlTextReaderConstName(rd);
      if (!t->root) {
        t->root = true;
        if (!xmlStrEqual(name, BAD_CAST "tmx"))
          return fail(t, node_line(rd), TM_PARSE,
                      "not a TMX document: the root element is <%.64s>",
                      (const char *)name);
      } else if (state == AT_TOP && name == n_header) {
        /* Its <prop> and <note> describe the file, not a unit. */
        r = xmlTextReaderNext(rd);
        continue;
      } else if (state == AT_TOP && name == n_tu) {
        t->tu_line = node_line(rd);
        tu_depth = xmlTextReaderDepth(rd);
        if (xmlTextReaderIsEmptyElement(rd)) {
          if ((s = end_tu(t)) != TM_OK)
            return s;
        } else {
          state = IN_TU;
        }
      } else if (state == IN_TU && name == n_tuv) {
        if ((s = begin_tuv(t)) != TM_OK)
          return s;
        tuv_depth = xmlTextReaderDepth(rd);
        if (!xmlTextReaderIsEmptyElement(rd))
          state = IN_TUV;
        else
          end_tuv(t);
      } else if (state != AT_TOP && (name == n_prop || name == n_note)) {
        if (state == IN_TU || !t->tuv_skip) {
          s = read_prop(t, name == n_note, state == IN_TUV ? t->lang : "");
          if (s != TM_OK)
            return s;
        }
        r = xmlTextReaderNext(rd);
        continue;
      } else if (state == IN_TUV && name == n_seg) {
        if ((s = read_seg(t)) != TM_OK)
          return s;
        r = xmlTextReaderNext(rd);
        continue;
      } else if (state != AT_TOP && name == n_tu) {
        return fail(t, node_line(rd), TM_PARSE, "a <tu> inside a <tu>");
      }
    } else if (type == XML_READER_TYPE_END_ELEMENT) {
      int depth = xmlTextReaderDepth(rd);
      if (state == IN_TUV && depth == tuv_depth) {
        end_tuv(t);
        state = IN_TU;
      } else if (state == IN_TU && depth == tu_depth) {
        if ((s = end_tu(t)) != TM_OK)
          return s;
        state = AT_TOP;
      }
    } else if (type == XML_READER_TYPE_DOCUMENT_TYPE) {
      if ((s = check_doctype(t)) != TM_OK)
        return s;
    } else if (type == XML_READER_TYPE_ENTITY_REFERENCE) {
      return fail_entity(t, node_line(rd), xmlTextReaderConstName(rd));
    }
    r = xmlTextReaderRead(rd);
  }
  if (r < 0 || t->xerr.set)
    return fail_xml(t);
  if (!t->root)
    return fail(t, 0, TM_PARSE, "not a TMX document: no element");
  return TM_OK;
}

tm_status tm__tmx_import(tm__ingest *in, const tm__input *src) {
  tm__xml_quiet quiet;
  tmx_in t;
  tm_status s;

  memset(&t, 0, sizeof t);
  t.in = in;
  t.src = src;
  if (src->len > INT_MAX)
    return fail(&t, 0, TM_TOOBIG, "a TMX file is limited to %d bytes", INT_MAX);
  tm__xml_quiet_begin(&quiet);
  if (!(t.markup = xmlBufferCreate()) ||
      !(t.rd = open_reader(src->buf, src->len, src->name, &t.xerr))) {
    s = tm__error(in->db, TM_NOMEM, "out of memory");
    goto out;
  }
  s = import_loop(&t);
  /* The import stops at the first bad record; what the loop left in the
   * unit is dropped, and the caller rolls back. */
  if (s == TM_OK)
    s = tm__progress(in, src, src->len);
out:
  tm__unit_clear(&t.unit);
  xmlFreeTextReader(t.rd);
  tm__xml_quiet_end(&quiet);
  xmlBufferFree(t.markup);
  free(t.text.p);
  return s;
}

/* ================================================================ export */

typedef struct vrec {
  char lang[TM_LANG_MAX];
  size_t text, markup; /* offsets in the arena; markup SIZE_MAX: none */
  size_t rank;         /* place in the languages asked for */
} vrec;

typedef struct prec {
  char lang[TM_LANG_MAX];
  size_t type, value; /* type SIZE_MAX: a note */
} prec;

typedef struct tmx_out {
  tm_db *db;
  xmlTextWriterPtr w;
  char (*want)[TM_LANG_MAX]; /* languages asked for, canonical */
  size_t nwant;
  /* The current unit's variants and props, as offsets into ARENA. */
  tm__buf arena;
  vrec *v;
  size_t nv, vcap;
  prec *p;
  size_t np, pcap;
  tm__buf check; /* the text of a markup being checked */
} tmx_out;

/* A failed write is kept in the tm__output, not told to libxml2: it would
 * print "I/O error" on stderr.  The export loop stops on o->failed. */
static int write_cb(void *ctx, const char *b, int len) {
  tm__out(ctx, b, (size_t)len);
  return len;
}

static int close_cb(void *ctx) {
  (void)ctx;
  return 0;
}

static void format_date(int64_t t, char out[20]) {
  time_t tt = (time_t)t;
  struct tm tmv;

  if (!gmtime_r(&tt, &tmv) || strftime(out, 20, "%Y%m%dT%H%M%SZ", &tmv) == 0)
    strcpy(out, "19700101T000000Z");
}

/* Copies column I (NULL: SIZE_MAX) into the arena. */
static tm_status arena_col(tmx_out *x, sqlite3_stmt *st, int i, size_t *off) {
  const char *s = (const char *)sqlite3_column_text(st, i);

  if (!s) {
    *off = SIZE_MAX;
    return TM_OK;
  }
  *off = x->arena.len;
  if (!tm__buf_add(&x->arena, s, (size_t)sqlite3_column_bytes(st, i)) ||
      !tm__buf_add(&x->arena, "", 1))
    return TM_NOMEM;
  return TM_OK;
}

static const char *at(const tmx_out *x, size_t off) {
  return off == SIZE_MAX ? NULL : x->arena.p + off;
}

static int vrec_cmp(const void *a, const void *b) {
  const vrec *va = a, *vb = b;
  return va->rank < vb->rank ? -1 : va->rank > vb->rank;
}

/* Loads unit ID's variants (those asked for) and props. */
static tm_status load_unit(tmx_out *x, int64_t id) {
  sqlite3_stmt *st;
  tm_status s = TM_OK;
  int rc;

  x->arena.len = 0;
  x->nv = x->np = 0;
  if (!(st = tm__stmt(x->db, TM__STMT_TMX_VARIANTS)))
    return TM_DB;
  sqlite3_bind_int64(st, 1, id);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *lang = (const char *)sqlite3_column_text(st, 0);
    size_t rank = 0;
    vrec *v;
    if (!lang || strlen(lang) >= TM_LANG_MAX)
      continue;
    if (x->nwant) {
      for (rank = 0; rank < x->nwant; rank++)
        if (strcmp(x->want[rank], lang) == 0)
          break;
      if (rank == x->nwant)
        continue;
    }
    if (x->nv == x->vcap) {
      size_t cap = x->vcap ? x->vcap * 2 : 8;
      if (!(v = realloc(x->v, cap * sizeof *v))) {
        s = TM_NOMEM;
        break;
      }
      x->v = v;
      x->vcap = cap;
    }
    v = &x->v[x->nv++];
    strcpy(v->lang, lang);
    v->rank = rank;
    if ((s = arena_col(x, st, 1, &v->text)) != TM_OK ||
        (s = arena_col(x, st, 2, &v->markup)) != TM_OK)
      break;
    if (v->text == SIZE_MAX)
      x->nv--;
  }
  sqlite3_reset(st);
  if (s != TM_OK)
    return tm__error(x->db, s, "out of memory");
  if (rc != SQLITE_DONE)
    return tm__sql_error(x->db);
  /* Variants come in language order; with languages asked for, in theirs
   * (the first is the header's srclang). */
  if (x->nwant && x->nv > 1)
    qsort(x->v, x->nv, sizeof *x->v, vrec_cmp);
  if (x->nv == 0)
    return TM_OK;

  if (!(st = tm__stmt(x->db, TM__STMT_PROP_LIST)))
    return TM_DB;
  sqlite3_bind_int64(st, 1, id);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *lang = (const char *)sqlite3_column_text(st, 0);
    prec *p;
    if (!lang || strlen(lang) >= TM_LANG_MAX)
      continue;
    if (x->np == x->pcap) {
      size_t cap = x->pcap ? x->pcap * 2 : 8;
      if (!(p = realloc(x->p, cap * sizeof *p))) {
        s = TM_NOMEM;
        break;
      }
      x->p = p;
      x->pcap = cap;
    }
    p = &x->p[x->np++];
    strcpy(p->lang, lang);
    if ((s = arena_col(x, st, 1, &p->type)) != TM_OK ||
        (s = arena_col(x, st, 2, &p->value)) != TM_OK)
      break;
    if (p->value == SIZE_MAX)
      x->np--;
  }
  sqlite3_reset(st);
  if (s != TM_OK)
    return tm__error(x->db, s, "out of memory");
  return rc == SQLITE_DONE ? TM_OK : tm__sql_error(x->db);
}

/* Markup is written as it is, so it must be well-formed content whose
 * text is the variant's: markup left stale by an edit of the text, or
 * that did not come from a TMX file, gives way to the escaped text. */
static tm_status markup_usable(tmx_out *x, const char *markup, const char *text,
                               bool *ok) {
  tm__buf doc = {0};
  tm__xml_error xerr = {0};
  xmlTextReaderPtr rd = NULL;
  xmlNodePtr root, bad;
  bool tags;
  tm_status s = TM_OK;
  char *nfc = NULL;

  *ok = false;
  if (!tm__buf_add(&doc, "<seg>", 5) ||
      !tm__buf_add(&doc, markup, strlen(markup)) ||
      !tm__buf_add(&doc, "</seg>", 6)) {
    s = TM_NOMEM;
    goto out;
  }
  if (!(rd = open_reader(doc.p, doc.len, "markup", &xerr))) {
    s = TM_NOMEM;
    goto out;
  }
  if (xmlTextReaderRead(rd) != 1 || xerr.set ||
      !(root = xmlTextReaderExpand(rd)) || xerr.set)
    goto out;
  x->check.len = 0;
  switch (walk_text(root, &x->check, &tags, &bad)) {
  case WALK_OK:
    break;
  case WALK_NOMEM:
    s = TM_NOMEM;
    goto out;
  case WALK_TOOBIG:
  case WALK_ENTITY:
    goto out;
  }
  /* The whole document must have been the one <seg>. */
  if (xmlTextReaderNext(rd) != 0 || xerr.set)
    goto out;
  if (x->check.len == strlen(text) &&
      (x->check.len == 0 || memcmp(x->check.p, text, x->check.len) == 0)) {
    *ok = true;
    goto out;
  }
  /* The stored text is NFC of the whole segment; a combining mark right
   * after a tag composes in the text but not in the markup. */
  if (x->check.len &&
      tm_text_nfc(x->db->text, x->check.p, x->check.len, &nfc, NULL) == TM_OK)
    *ok = strcmp(nfc, text) == 0;
out:
  free(nfc);
  xmlFreeTextReader(rd);
  free(doc.p);
  return s;
}

#define W(call) (ok = ok && (call) >= 0)

static tm_status check_chars(tmx_out *x, int64_t id, const char *what,
                             const char *s) {
  const char *bad = s ? xml_bad_char(s) : NULL;

  if (!bad)
    return TM_OK;
  return tm__error(x->db, TM_INVALID,
                   "unit %lld: its %s has a character that XML 1.0 cannot "
                   "carry (byte 0x%02X at offset %zu)",
                   (long long)id, what, (unsigned char)*bad, (size_t)(bad - s));
}

/* <prop> or <note> (P with no type). */
static bool write_prop(tmx_out *x, const prec *p) {
  const char *type = at(x, p->type);
  bool ok = true;

  if (type) {
    W(xmlTextWriterStartElement(x->w, BAD_CAST "prop"));
    W(xmlTextWriterWriteAttribute(x->w, BAD_CAST "type", BAD_CAST type));
  } else {
    W(xmlTextWriterStartElement(x->w, BAD_CAST "note"));
  }
  W(xmlTextWriterWriteString(x->w, BAD_CAST at(x, p->value)));
  W(xmlTextWriterEndElement(x->w));
  return ok;
}

static tm_status write_unit(tmx_out *x, sqlite3_stmt *u) {
  int64_t id = sqlite3_column_int64(u, 0);
  const char *origin = (const char *)sqlite3_column_text(u, 1);
  const char *note = (const char *)sqlite3_column_text(u, 2);
  const char *by = (const char *)sqlite3_column_text(u, 5);
  char tuid[24], created[20], updated[20];
  xmlTextWriterPtr w = x->w;
  tm_status s;
  size_t i, j;
  bool ok = true;

  if ((s = load_unit(x, id)) != TM_OK)
    return s;
  /* Asked for some languages: a unit with none of them is left out. */
  if (x->nv == 0)
    return TM_OK;
  if ((s = check_chars(x, id, "origin", origin)) != TM_OK ||
      (s = check_chars(x, id, "note", note)) != TM_OK ||
      (s = check_chars(x, id, "author", by)) != TM_OK)
    return s;
  for (i = 0; i < x->nv; i++)
    if ((s = check_chars(x, id, x->v[i].lang, at(x, x->v[i].text))) != TM_OK)
      return s;
  for (i = 0; i < x->np; i++)
    if ((s = check_chars(x, id, "property", at(x, x->p[i].type))) != TM_OK ||
        (s = check_chars(x, id, "property", at(x, x->p[i].value))) != TM_OK)
      return s;

  snprintf(tuid, sizeof tuid, "%lld", (long long)id);
  format_date(sqlite3_column_int64(u, 3), created);
  format_date(sqlite3_column_int64(u, 4), updated);
  W(xmlTextWriterStartElement(w, BAD_CAST "tu"));
  W(xmlTextWriterWriteAttribute(w, BAD_CAST "tuid", BAD_CAST tuid));
  W(xmlTextWriterWriteAttribute(w, BAD_CAST "creationdate", BAD_CAST created));
  if (by)
    W(xmlTextWriterWriteAttribute(w, BAD_CAST "creationid", BAD_CAST by));
  W(xmlTextWriterWriteAttribute(w, BAD_CAST "changedate", BAD_CAST updated));
  W(xmlTextWriterWriteRaw(w, BAD_CAST "\n"));
  if (note) {
    W(xmlTextWriterWriteElement(w, BAD_CAST "note", BAD_CAST note));
    W(xmlTextWriterWriteRaw(w, BAD_CAST "\n"));
  }
  if (origin) {
    W(xmlTextWriterStartElement(w, BAD_CAST "prop"));
    W(xmlTextWriterWriteAttribute(w, BAD_CAST "type", BAD_CAST "x-origin"));
    W(xmlTextWriterWriteString(w, BAD_CAST origin));
    W(xmlTextWriterEndElement(w));
    W(xmlTextWriterWriteRaw(w, BAD_CAST "\n"));
  }
  for (j = 0; j < x->np; j++)
    if (!x->p[j].lang[0]) {
      ok = ok && write_prop(x, &x->p[j]);
      W(xmlTextWriterWriteRaw(w, BAD_CAST "\n"));
    }
  for (i = 0; ok && i < x->nv; i++) {
    const vrec *v = &x->v[i];
    const char *markup = at(x, v->markup);
    bool raw = false;

    if (markup && (s = markup_usable(x, markup, at(x, v->text), &raw)) != TM_OK)
      return tm__error(x->db, s, "out of memory");
    W(xmlTextWriterStartElement(w, BAD_CAST "tuv"));
    W(xmlTextWriterWriteAttribute(w, BAD_CAST "xml:lang", BAD_CAST v->lang));
    for (j = 0; j < x->np; j++)
      if (strcmp(x->p[j].lang, v->lang) == 0)
        ok = ok && write_prop(x, &x->p[j]);
    W(xmlTextWriterStartElement(w, BAD_CAST "seg"));
    if (raw)
      W(xmlTextWriterWriteRaw(w, BAD_CAST markup));
    else
      W(xmlTextWriterWriteString(w, BAD_CAST at(x, v->text)));
    W(xmlTextWriterEndElement(w));
    W(xmlTextWriterEndElement(w));
    W(xmlTextWriterWriteRaw(w, BAD_CAST "\n"));
  }
  W(xmlTextWriterEndElement(w));
  W(xmlTextWriterWriteRaw(w, BAD_CAST "\n"));
  return ok ? TM_OK : TM_IO;
}

static tm_status write_header(tmx_out *x) {
  xmlTextWriterPtr w = x->w;
  bool ok = true;

  W(xmlTextWriterStartDocument(w, "1.0", "UTF-8", NULL));
  W(xmlTextWriterStartElement(w, BAD_CAST "tmx"));
  W(xmlTextWriterWriteAttribute(w, BAD_CAST "version", BAD_CAST "1.4"));
  W(xmlTextWriterWriteRaw(w, BAD_CAST "\n"));
  W(xmlTextWriterStartElement(w, BAD_CAST "header"));
  W(xmlTextWriterWriteAttribute(w, BAD_CAST "creationtool", BAD_CAST "tm"));
  W(xmlTextWriterWriteAttribute(w, BAD_CAST "creationtoolversion",
                                BAD_CAST "0.1"));
  W(xmlTextWriterWriteAttribute(w, BAD_CAST "segtype", BAD_CAST "sentence"));
  W(xmlTextWriterWriteAttribute(w, BAD_CAST "o-tmf", BAD_CAST "tm"));
  W(xmlTextWriterWriteAttribute(w, BAD_CAST "adminlang", BAD_CAST "en"));
  W(xmlTextWriterWriteAttribute(w, BAD_CAST "srclang",
                                BAD_CAST(x->nwant ? x->want[0] : "*all*")));
  W(xmlTextWriterWriteAttribute(w, BAD_CAST "datatype", BAD_CAST "plaintext"));
  W(xmlTextWriterEndElement(w));
  W(xmlTextWriterWriteRaw(w, BAD_CAST "\n"));
  W(xmlTextWriterStartElement(w, BAD_CAST "body"));
  W(xmlTextWriterWriteRaw(w, BAD_CAST "\n"));
  return ok ? TM_OK : TM_IO;
}

static tm_status write_footer(tmx_out *x) {
  bool ok = true;

  W(xmlTextWriterEndElement(x->w)); /* body */
  W(xmlTextWriterWriteRaw(x->w, BAD_CAST "\n"));
  W(xmlTextWriterEndDocument(x->w)); /* tmx */
  W(xmlTextWriterFlush(x->w));
  return ok ? TM_OK : TM_IO;
}

tm_status tm__tmx_export(tm_db *db, int64_t collection,
                         const tm_export_opts *opts, tm__output *o) {
  tmx_out x;
  xmlOutputBufferPtr out;
  sqlite3_stmt *st = NULL;
  tm_status s = TM_OK;
  size_t i;
  int rc;

  memset(&x, 0, sizeof x);
  x.db = db;
  if (opts->nlangs) {
    if (!(x.want = calloc(opts->nlangs, sizeof *x.want)))
      return tm__error(db, TM_NOMEM, "out of memory");
    for (i = 0; i < opts->nlangs; i++) {
      if (!opts->langs[i] ||
          tm_lang_canonical(opts->langs[i], x.want[x.nwant]) != TM_OK) {
        s = tm__error(db, TM_LANG, "invalid language tag \"%s\"",
                      opts->langs[i] ? opts->langs[i] : "");
        goto out;
      }
      x.nwant++;
    }
  }
  if (!(out = xmlOutputBufferCreateIO(write_cb, close_cb, o, NULL))) {
    s = tm__error(db, TM_NOMEM, "out of memory");
    goto out;
  }
  /* The writer owns OUT from here, even when it fails. */
  if (!(x.w = xmlNewTextWriter(out))) {
    xmlOutputBufferClose(out);
    s = tm__error(db, TM_NOMEM, "out of memory");
    goto out;
  }
  if ((s = write_header(&x)) != TM_OK)
    goto out;
  if (!(st = tm__stmt(db, TM__STMT_TMX_UNITS))) {
    s = TM_DB;
    goto out;
  }
  sqlite3_bind_int64(st, 1, collection);
  sqlite3_bind_int(st, 2, opts->approved_only ? 1 : 0);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if ((s = write_unit(&x, st)) != TM_OK)
      goto out;
    if (o->failed) {
      s = TM_IO;
      goto out;
    }
  }
  if (rc != SQLITE_DONE) {
    s = tm__sql_error(db);
    goto out;
  }
  s = write_footer(&x);
out:
  if (st)
    sqlite3_reset(st);
  xmlFreeTextWriter(x.w);
  if (s == TM_IO || (s == TM_OK && o->failed))
    s = tm__error(db, TM_IO, "writing the TMX export failed");
  free(x.want);
  free(x.arena.p);
  free(x.check.p);
  free(x.v);
  free(x.p);
  return s;
}
