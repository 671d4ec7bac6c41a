/*
 * tbx.c - TBX glossaries.  Import reads TBX v3 (ISO 30042:2019: <tbx> with
 * conceptEntry/langSec/termSec, DCA and DCT styles, whatever the dialect:
 * Basic, Min, Core), TBX 2008 (ISO 30042:2008: <martif> with
 * termEntry/langSet and tig or ntig/termGrp) and TBX-Min 1.0 (<TBX> with
 * langGroup/termGroup), one entry at a time into the ingest.  Export
 * writes TBX-Basic: v3 in DCA style, or the 2008 <martif> form that OmegaT
 * reads.  libxml2 does the XML; this file decides what TBX means.
 *
 * What a data category becomes.  It is the same whether it is written
 * <descrip type="X">, <admin type="X">, <termNote type="X"> (DCA), an
 * element X of a TBX module namespace (DCT: matched by the namespace and
 * the local name, never by the prefix), or a bare element X (TBX-Min 1.0):
 *
 *   definition      the entry's definition: the one at entry level, else
 *                   the English one, else the first; every other one goes
 *                   to the entry note as "definition (LANG): ...".
 *   subjectField    the domain: the first; another goes to the note.
 *   source          the source.  One given on a language section or a term
 *                   is written "LANG: ...", the form of our glossaries;
 *                   the parts are joined with "; " (repeats dropped).  A
 *                   source inside a descripGrp is the source of its descrip
 *                   and kept only with a definition or subject field.
 *   note            on a term, the term's note; on the entry, the entry's;
 *                   on a language section, the entry's as "LANG: ...".
 *                   Several are joined with line breaks.
 *   partOfSpeech    the term's part of speech, as written.
 *   administrativeStatus, normativeAuthorization (2008), usageStatus
 *   (TBX-Min), termStatus (TBX-Min 1.0)
 *                   the term's status: preferred, standardized, legal and
 *                   regulated terms are preferred; admitted ones admitted;
 *                   deprecated, superseded, notRecommended and obsolete
 *                   ones deprecated.  A term without one is admitted, but
 *                   for the first such term of a language that has no
 *                   preferred term, which is preferred.
 *   termType        abbreviation, acronym, initialism, shortForm,
 *                   clippedTerm, shortcut: an abbreviation; variant,
 *                   transcribedForm, transliteratedForm: a variant;
 *                   anything else (fullForm, entryTerm, synonym, phrase...)
 *                   a full form.
 *   the entry's id  its origin.
 *
 * The rest (context, grammaticalGender, subsets, transactions, cross
 * references, the header and back matter) is read past.
 *
 * TBX-Basic has no data category for two things an entry of ours holds:
 * its record status and a part of speech outside TBX-Basic's picklist
 * (noun, verb, adjective, adverb, other; we use "proper noun" and
 * "phrase").  Export writes them as notes of one fixed form,
 * "x-status: approved" on the entry and "x-partOfSpeech: proper noun" on
 * the term (whose partOfSpeech then says "noun" or "other"), so that the
 * file stays valid TBX-Basic and an import gives them back exactly.
 * <admin type="x-status"> would say it more plainly, but TBX-Basic is a
 * closed dialect: its schema refuses admin types other than source,
 * customerSubset and projectSubset.  Import also takes an entry status
 * from <admin type="x-status"> and TBX 2008's elementWorkingStatus.
 *
 * Export: one conceptEntry (termEntry) per entry, id "c<entry id>", in
 * the collation order of opts->sort_lang (else the first language asked
 * for, else en); at entry level subjectField, definition, source and note;
 * one language section per language (those of opts->langs, in that order,
 * a tag also taking its subtags: "en" takes "en-GB"), each term with
 * partOfSpeech, termType (fullForm, abbreviation, variant),
 * administrativeStatus and its note.  An entry with no term in the
 * languages asked for, or outside opts->domain, is left out.  The entry's
 * origin has no place in TBX-Basic and is not written: an import of the
 * export has "c<id>" as its origin.  An empty glossary gives an empty
 * <body/>, which TBX-Basic's schema (one conceptEntry at least) refuses.
 *
 * Text: a term's whitespace is collapsed to single spaces.  Other fields
 * are trimmed, and a line break followed by indentation (how a
 * pretty-printer wraps a long line) becomes one space, while a bare line
 * break, as export writes one from a note, is kept.
 *
 * Safety, as in tmx.c: the reader never loads the DTD (TBX 2008 files name
 * TBXcoreStructV02.dtd), never touches the network and never expands
 * entities.  A document that declares entities is refused, as is any
 * entity reference other than the five predefined ones and character
 * references.  libxml2 reports through a structured handler on the
 * reader, so it never prints.
 */
#include "tm_internal.h"
#include "xmlin.h"

#include <libxml/hash.h>
#include <libxml/xmlreader.h>
#include <libxml/xmlwriter.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An entry with more terms than this is refused: no concept has them, and
 * the defaults of term status are found in quadratic time. */
#define TBX_MAX_TERMS 10000

/* Elements nested deeper than this below an entry are read past: TBX
 * gives them no meaning, and the walk recurses. */
#define TBX_MAX_DEPTH 64

/* Repeated sources are dropped while the joined text is shorter than
 * this; past it each new part is only appended (bounded work). */
#define TBX_DEDUP_MAX 4096

/* ============================================================== import */

/* What a data category means to us. */
typedef enum cat {
  CAT_NONE,
  CAT_DEFINITION,
  CAT_SUBJECT,
  CAT_SOURCE,
  CAT_NOTE,
  CAT_POS,
  CAT_TERM_STATUS,
  CAT_TERM_TYPE,
  CAT_ENTRY_STATUS,
} cat;

static const struct {
  const char *name;
  cat cat;
} cats[] = {
    {"definition", CAT_DEFINITION},
    {"subjectField", CAT_SUBJECT},
    {"source", CAT_SOURCE},
    {"note", CAT_NOTE},
    {"partOfSpeech", CAT_POS},
    {"administrativeStatus", CAT_TERM_STATUS},
    {"normativeAuthorization", CAT_TERM_STATUS},
    {"usageStatus", CAT_TERM_STATUS},
    {"termStatus", CAT_TERM_STATUS},
    {"termType", CAT_TERM_TYPE},
    {"x-status", CAT_ENTRY_STATUS},
    {"elementWorkingStatus", CAT_ENTRY_STATUS},
};

static cat cat_of(const char *name) {
  if (!name)
    return CAT_NONE;
  for (size_t i = 0; i < sizeof cats / sizeof cats[0]; i++)
    if (strcmp(cats[i].name, name) == 0)
      return cats[i].cat;
  return CAT_NONE;
}

/* Where a piece of information sits. */
enum level { AT_ENTRY, AT_LANG, AT_TERM };

/* Per term of the entry being read. */
typedef struct term_aux {
  bool status_set; /* the file gave a status */
  char *xpos;      /* from an "x-partOfSpeech: " note: wins */
  tm__buf note;    /* its notes, one per line */
} term_aux;

/* A definition and where it was. */
typedef struct def {
  char lang[TM_LANG_MAX]; /* "" at entry level */
  char *text;
} def;

typedef struct tbx_in {
  tm__ingest *in;
  const tm__input *src;
  xmlTextReaderPtr rd;
  tm__xml_error xerr;

  /* The entry being read. */
  tm_entry e;
  long line;
  term_aux *aux;
  size_t auxcap;
  def *defs;
  size_t ndefs, defcap;
  tm__buf note, source, text, raw;
  uint64_t entries;
} tbx_in;

static tm_status fail(tbx_in *t, long line, tm_status s, const char *fmt, ...)
    TM__PRINTF(4, 5);

static tm_status fail(tbx_in *t, long line, tm_status s, const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  tm__verror(t->in->db, s, fmt, ap);
  va_end(ap);
  return tm__at_line(t->in, line, s);
}

static tm_status oom(tbx_in *t) {
  return tm__error(t->in->db, TM_NOMEM, "out of memory");
}

static tm_status fail_entity(tbx_in *t, long line, const xmlChar *name) {
  return fail(t, line, TM_PARSE,
              "the entity &%.64s; is not allowed: TBX text uses only &amp;, "
              "&lt;, &gt;, &apos;, &quot; and character references",
              name ? (const char *)name : "?");
}

static tm_status fail_xml(tbx_in *t) {
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
  default:
    break;
  }
  return fail(t, x->line, tm__xml_error_status(x), "XML: %s", x->msg);
}

/* The line of the reader's node; see node_line in tmx.c. */
static long reader_line(xmlTextReaderPtr rd) {
  xmlNodePtr n = xmlTextReaderCurrentNode(rd);
  long line = n ? xmlGetLineNo(n) : -1;

  if (line <= 0 || line == 65535)
    line = xmlTextReaderGetParserLineNumber(rd);
  return line;
}

/* The line of a node inside the entry, else the entry's. */
static long line_of(const tbx_in *t, xmlNodePtr n) {
  long line = n ? xmlGetLineNo(n) : -1;

  return line <= 0 || line == 65535 ? t->line : line;
}

static bool at(const char *p, const char *end, const char *s) {
  size_t n = strlen(s);
  return (size_t)(end - p) >= n && memcmp(p, s, n) == 0;
}

/* The line of the first entity declaration in the document type's
 * internal subset, or 0.  Read from the bytes before libxml2 sees them:
 * the reader parses ahead of the node it returns, so a reference in the
 * first chunk would be parsed (and, for a "billion laughs", refused with a
 * line inside the entity) before the DTD node is ever seen.  Only for
 * ASCII-compatible encodings; check_doctype covers the others. */
static long entity_decl_line(const char *buf, size_t len) {
  const char *p = buf, *end = buf + len, *q;
  bool doctype = false;

  while (p < end && (q = memchr(p, '<', (size_t)(end - p)))) {
    if (at(q, end, "<!--")) {
      if (!(q = memmem(q, (size_t)(end - q), "-->", 3)))
        return 0;
      p = q + 3;
    } else if (at(q, end, "<?")) {
      if (!(q = memmem(q, (size_t)(end - q), "?>", 2)))
        return 0;
      p = q + 2;
    } else if (!doctype && at(q, end, "<!DOCTYPE")) {
      doctype = true;
      p = q + 9;
    } else if (doctype && at(q, end, "<!ENTITY")) {
      long line = 1;
      for (const char *c = buf; c < q; c++)
        line += *c == '\n';
      return line;
    } else if (!doctype || (q + 1 < end && q[1] != '!')) {
      return 0; /* the root element: no (more) declarations */
    } else {
      p = q + 1;
    }
  }
  return 0;
}

/* A document type with an internal subset that declares entities is
 * refused: see the note at the top. */
static tm_status check_doctype(tbx_in *t) {
  long line = tm__xml_entity_line(t->rd, t->src->buf, t->src->len);

  if (line == 0)
    return TM_OK;
  return fail(t, line, TM_PARSE,
              "the document declares entities; TBX needs none, and they "
              "are never expanded");
}

/* ---------------------------------------------------- names and text */

static bool core_ns(const xmlNode *n) {
  return !n->ns || !n->ns->href ||
         strncmp((const char *)n->ns->href, "urn:iso:std:iso:30042", 21) == 0;
}

/* The namespaces of TBX modules, whose elements are data categories in
 * DCT style (http://www.tbxinfo.net/ns/basic, .../min, ...). */
static bool module_ns(const xmlNode *n) {
  return n->ns && n->ns->href &&
         strstr((const char *)n->ns->href, "tbxinfo.net/ns/") != NULL;
}

static bool named(const xmlNode *n, const char *name) {
  return strcmp((const char *)n->name, name) == 0;
}

static bool named_any(const xmlNode *n, const char *const *names) {
  for (; *names; names++)
    if (named(n, *names))
      return true;
  return false;
}

static const char *const entry_names[] = {"conceptEntry", "termEntry", "entry",
                                          NULL};
static const char *const lang_names[] = {"langSec", "langSet", "langGroup",
                                         NULL};
static const char *const term_names[] = {"termSec", "tig", "ntig", "termGroup",
                                         NULL};

/* Collects the text of N's content into t->text, tidied: a term's
 * whitespace collapsed; other text trimmed, a line break followed by
 * indentation made one space.  Iterative: the depth is libxml2's to
 * limit.  *bad receives an entity reference found in it. */
static tm_status text_of(tbx_in *t, xmlNodePtr root, bool term,
                         xmlNodePtr *bad) {
  tm__buf *raw = &t->raw;
  xmlNodePtr n = root->children;
  size_t i = 0;

  *bad = NULL;
  tm__buf_clear(&t->text);
  tm__buf_clear(raw);
  while (n) {
    if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
      if (n->content && !tm__buf_add(raw, (const char *)n->content,
                                     strlen((char *)n->content)))
        return oom(t);
      /* libxml2 bounds each text node (10 MB), not their sum. */
      if (raw->len > TM_TEXT_MAX)
        return fail(t, line_of(t, root), TM_TOOBIG,
                    "<%.64s> holds more than %u bytes of text",
                    (const char *)root->name, TM_TEXT_MAX);
    } else if (n->type == XML_ENTITY_REF_NODE) {
      *bad = n;
      return TM_OK;
    } else if (n->type == XML_ELEMENT_NODE && n->children) {
      n = n->children;
      continue;
    }
    for (;;) {
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
  /* Whitespace runs: dropped at both ends; inside, one space for a term
   * or a wrapped line, else kept. */
  while (i < raw->len) {
    size_t j = i;
    bool nl = false, indent = false;
    while (j < raw->len && (raw->p[j] == ' ' || raw->p[j] == '\t' ||
                            raw->p[j] == '\n' || raw->p[j] == '\r')) {
      if (raw->p[j] == '\n') {
        nl = true;
        indent = false;
      } else if (nl && raw->p[j] != '\r') {
        indent = true;
      }
      j++;
    }
    if (j > i) {
      if (i > 0 && j < raw->len) {
        bool keep = !term && nl && !indent;
        if (!(keep ? tm__buf_add(&t->text, raw->p + i, j - i)
                   : tm__buf_add(&t->text, " ", 1)))
          return oom(t);
      }
      i = j;
      continue;
    }
    while (j < raw->len && raw->p[j] != ' ' && raw->p[j] != '\t' &&
           raw->p[j] != '\n' && raw->p[j] != '\r')
      j++;
    if (!tm__buf_add(&t->text, raw->p + i, j - i))
      return oom(t);
    i = j;
  }
  if (!t->text.p && !tm__buf_add(&t->text, "", 0))
    return oom(t);
  return TM_OK;
}

/* The value of attribute NAME of N ("xml:lang" is looked up in the XML
 * namespace); free with xmlFree. */
static xmlChar *attr(xmlNodePtr n, const char *name) {
  if (strcmp(name, "xml:lang") == 0)
    return xmlGetNsProp(n, BAD_CAST "lang", XML_XML_NAMESPACE);
  return xmlGetNoNsProp(n, BAD_CAST name);
}

/* --------------------------------------------------- the entry's parts */

static void entry_reset(tbx_in *t) {
  for (size_t i = 0; i < t->auxcap; i++) {
    free(t->aux[i].xpos);
    free(t->aux[i].note.p);
  }
  if (t->aux)
    memset(t->aux, 0, t->auxcap * sizeof *t->aux);
  for (size_t i = 0; i < t->ndefs; i++)
    free(t->defs[i].text);
  t->ndefs = 0;
  tm__entry_clear(&t->e);
  memset(&t->e, 0, sizeof t->e);
  tm__buf_clear(&t->note);
  tm__buf_clear(&t->source);
}

/* Appends a part to the entry note: "PREFIX: TEXT" or TEXT. */
static tm_status add_note(tbx_in *t, const char *prefix, const char *text) {
  if ((t->note.len && !tm__buf_add(&t->note, "\n", 1)) ||
      (prefix &&
       (!tm__buf_adds(&t->note, prefix) || !tm__buf_add(&t->note, ": ", 2))) ||
      !tm__buf_adds(&t->note, text))
    return oom(t);
  return TM_OK;
}

static tm_status add_source(tbx_in *t, const char *lang, const char *text) {
  tm__buf part = {0};
  tm_status s = TM_OK;

  if ((lang && (!tm__buf_adds(&part, lang) || !tm__buf_add(&part, ": ", 2))) ||
      !tm__buf_adds(&part, text)) {
    s = oom(t);
    goto out;
  }
  if (t->source.len && t->source.len < TBX_DEDUP_MAX) {
    /* Dropped when it is already one of the "; "-separated parts. */
    for (const char *p = t->source.p; (p = strstr(p, part.p)); p++) {
      const char *end = p + part.len;
      if ((p == t->source.p ||
           (p >= t->source.p + 2 && p[-2] == ';' && p[-1] == ' ')) &&
          (*end == '\0' || (end[0] == ';' && end[1] == ' ')))
        goto out;
    }
  }
  if ((t->source.len && !tm__buf_add(&t->source, "; ", 2)) ||
      !tm__buf_add(&t->source, part.p, part.len))
    s = oom(t);
out:
  free(part.p);
  return s;
}

static tm_status add_def(tbx_in *t, const char *lang, const char *text) {
  if (t->ndefs == t->defcap) {
    size_t cap = t->defcap ? t->defcap * 2 : 4;
    def *d = realloc(t->defs, cap * sizeof *d);
    if (!d)
      return oom(t);
    t->defs = d;
    t->defcap = cap;
  }
  if (!(t->defs[t->ndefs].text = tm__strdup(text)))
    return oom(t);
  snprintf(t->defs[t->ndefs].lang, TM_LANG_MAX, "%s", lang ? lang : "");
  t->ndefs++;
  return TM_OK;
}

static bool parse_term_status(const char *v, tm_term_status *out) {
  static const struct {
    const char *prefix;
    tm_term_status status;
  } map[] = {
      {"preferred", TM_TERM_PREFERRED},
      {"standardized", TM_TERM_PREFERRED},
      {"legal", TM_TERM_PREFERRED},
      {"regulated", TM_TERM_PREFERRED},
      {"admitted", TM_TERM_ADMITTED},
      {"deprecated", TM_TERM_DEPRECATED},
      {"superseded", TM_TERM_DEPRECATED},
      {"notRecommended", TM_TERM_DEPRECATED},
      {"obsolete", TM_TERM_DEPRECATED},
  };
  size_t n;

  /* "preferredTerm-admn-sts" (TBX), "preferredTerm", "preferred". */
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
    n = strlen(map[i].prefix);
    if (strncasecmp(v, map[i].prefix, n) == 0 &&
        (v[n] == '\0' || strcmp(v + n, "Term") == 0 ||
         strcmp(v + n, "Term-admn-sts") == 0)) {
      *out = map[i].status;
      return true;
    }
  }
  return false;
}

static tm_term_type parse_term_type(const char *v) {
  static const char *const abbr[] = {
      "abbreviation", "acronym",  "initialism", "shortForm",
      "clippedTerm",  "shortcut", NULL};
  static const char *const variant[] = {"variant", "transcribedForm",
                                        "transliteratedForm", NULL};

  for (size_t i = 0; abbr[i]; i++)
    if (strcasecmp(v, abbr[i]) == 0)
      return TM_TERM_ABBREVIATION;
  for (size_t i = 0; variant[i]; i++)
    if (strcasecmp(v, variant[i]) == 0)
      return TM_TERM_VARIANT;
  return TM_TERM_FULL;
}

static bool parse_entry_status(const char *v, tm_record_status *out) {
  if (tm_record_status_parse(v, out) == TM_OK)
    return true;
  /* TBX 2008 elementWorkingStatus. */
  if (strcmp(v, "finalizedElement") == 0)
    *out = TM_APPROVED;
  else if (strcmp(v, "archiveElement") == 0)
    *out = TM_DEPRECATED;
  else if (strcmp(v, "starterElement") == 0 ||
           strcmp(v, "importedElement") == 0 ||
           strcmp(v, "workingElement") == 0 ||
           strcmp(v, "consolidatedElement") == 0)
    *out = TM_DRAFT;
  else
    return false;
  return true;
}

/* The value after "KEY: " when TEXT is exactly such a note. */
static const char *keyed(const char *text, const char *key) {
  size_t n = strlen(key);

  if (strncmp(text, key, n) == 0 && text[n] == ':' && text[n + 1] == ' ' &&
      text[n + 2])
    return text + n + 2;
  return NULL;
}

/* ------------------------------------------------------- the walk */

/* Where the walk is: the level, the language section's language and the
 * term that the data categories of a term container describe. */
typedef struct where {
  enum level level;
  const char *lang;
  long *term; /* index in t->e.terms, -1 before the <term> */
} where;

static tm_status walk(tbx_in *t, xmlNodePtr parent, where w, int depth);

/* One data category of meaning C with the text of element N. */
static tm_status datum(tbx_in *t, xmlNodePtr n, cat c, where w) {
  xmlNodePtr bad;
  const char *v;
  long term = w.term ? *w.term : -1;
  tm_status s;

  if (c == CAT_NONE)
    return TM_OK;
  if ((s = text_of(t, n, false, &bad)) != TM_OK)
    return s;
  if (bad)
    return fail_entity(t, line_of(t, bad->parent), bad->name);
  v = t->text.p;
  if (!*v)
    return TM_OK;
  switch (c) {
  case CAT_DEFINITION:
    return add_def(t, w.level == AT_ENTRY ? "" : w.lang, v);
  case CAT_SUBJECT:
    if (!t->e.domain)
      return (t->e.domain = tm__strdup(v)) ? TM_OK : oom(t);
    return strcmp(t->e.domain, v) == 0 ? TM_OK : add_note(t, "subjectField", v);
  case CAT_SOURCE:
    return add_source(t, w.level == AT_ENTRY ? NULL : w.lang, v);
  case CAT_NOTE:
    if (w.level == AT_TERM && term >= 0) {
      const char *pos = keyed(v, "x-partOfSpeech");
      term_aux *a = &t->aux[term];
      if (pos) {
        free(a->xpos);
        return (a->xpos = tm__strdup(pos)) ? TM_OK : oom(t);
      }
      if ((a->note.len && !tm__buf_add(&a->note, "\n", 1)) ||
          !tm__buf_adds(&a->note, v))
        return oom(t);
      return TM_OK;
    }
    if (w.level == AT_ENTRY) {
      const char *st = keyed(v, "x-status");
      if (st && parse_entry_status(st, &t->e.status))
        return TM_OK;
      return add_note(t, NULL, v);
    }
    return add_note(t, w.lang, v);
  case CAT_POS:
    if (term >= 0 && !t->e.terms[term].pos &&
        !(t->e.terms[term].pos = tm__strdup(v)))
      return oom(t);
    return TM_OK;
  case CAT_TERM_STATUS:
    if (term >= 0 && parse_term_status(v, &t->e.terms[term].status))
      t->aux[term].status_set = true;
    return TM_OK;
  case CAT_TERM_TYPE:
    if (term >= 0)
      t->e.terms[term].type = parse_term_type(v);
    return TM_OK;
  case CAT_ENTRY_STATUS:
    if (w.level == AT_ENTRY)
      parse_entry_status(v, &t->e.status);
    return TM_OK;
  case CAT_NONE:
    break;
  }
  return TM_OK;
}

/* A <term>: a new term of the language. */
static tm_status add_term(tbx_in *t, xmlNodePtr n, where w) {
  xmlNodePtr bad;
  tm_status s;

  if (!w.lang)
    return fail(t, line_of(t, n), TM_PARSE,
                "a <term> outside a language section");
  if (t->e.nterms >= TBX_MAX_TERMS)
    return fail(t, line_of(t, n), TM_TOOBIG, "an entry with more than %d terms",
                TBX_MAX_TERMS);
  if ((s = text_of(t, n, true, &bad)) != TM_OK)
    return s;
  if (bad)
    return fail_entity(t, line_of(t, bad->parent), bad->name);
  if (t->e.nterms == t->auxcap) {
    size_t cap = t->auxcap ? t->auxcap * 2 : 8;
    term_aux *a = realloc(t->aux, cap * sizeof *a);
    if (!a)
      return oom(t);
    memset(a + t->auxcap, 0, (cap - t->auxcap) * sizeof *a);
    t->aux = a;
    t->auxcap = cap;
  }
  /* The language was checked when its section began. */
  if ((s = tm_entry_add_term(&t->e, w.lang, t->text.p, TM_TERM_ADMITTED,
                             TM_TERM_FULL, NULL)) != TM_OK)
    return s == TM_NOMEM ? oom(t) : fail(t, line_of(t, n), s, "invalid term");
  if (w.term)
    *w.term = (long)t->e.nterms - 1;
  return TM_OK;
}

/* A language section: its language from xml:lang (lang in old files). */
static tm_status lang_section(tbx_in *t, xmlNodePtr n, int depth) {
  xmlChar *raw = attr(n, "xml:lang");
  char canon[TM_LANG_MAX];
  tm_status s;
  where w = {AT_LANG, canon, NULL};

  if (!raw)
    raw = attr(n, "lang");
  if (!raw || !*raw) {
    xmlFree(raw);
    return fail(t, line_of(t, n), TM_PARSE, "a <%s> without xml:lang",
                (const char *)n->name);
  }
  if (tm_lang_canonical((const char *)raw, canon) != TM_OK) {
    s = fail(t, line_of(t, n), TM_LANG, "invalid language tag \"%.64s\"",
             (const char *)raw);
    xmlFree(raw);
    return s;
  }
  xmlFree(raw);
  return walk(t, n, w, depth + 1);
}

/* A descripGrp: its descrip (or DCT element) with the source of it. */
static tm_status descrip_group(tbx_in *t, xmlNodePtr g, where w) {
  xmlNodePtr c, head = NULL;
  cat hc = CAT_NONE;
  tm_status s;

  for (c = g->children; c && !head; c = c->next) {
    if (c->type != XML_ELEMENT_NODE)
      continue;
    if (module_ns(c)) {
      head = c;
      hc = cat_of((const char *)c->name);
    } else if (core_ns(c) && named(c, "descrip")) {
      xmlChar *type = attr(c, "type");
      head = c;
      hc = cat_of((const char *)type);
      xmlFree(type);
    }
  }
  if (!head || (hc != CAT_DEFINITION && hc != CAT_SUBJECT))
    return TM_OK;
  if ((s = datum(t, head, hc, w)) != TM_OK)
    return s;
  for (c = g->children; c; c = c->next) {
    cat cc = CAT_NONE;
    if (c == head || c->type != XML_ELEMENT_NODE)
      continue;
    if (module_ns(c)) {
      cc = cat_of((const char *)c->name);
    } else if (core_ns(c) && named(c, "admin")) {
      xmlChar *type = attr(c, "type");
      cc = cat_of((const char *)type);
      xmlFree(type);
    }
    if (cc == CAT_SOURCE && (s = datum(t, c, cc, w)) != TM_OK)
      return s;
  }
  return TM_OK;
}

static tm_status walk(tbx_in *t, xmlNodePtr parent, where w, int depth) {
  long direct = -1; /* a <term> straight in a language section */
  tm_status s = TM_OK;

  if (depth > TBX_MAX_DEPTH)
    return TM_OK;
  for (xmlNodePtr n = parent->children; n && s == TM_OK; n = n->next) {
    if (n->type == XML_ENTITY_REF_NODE)
      return fail_entity(t, line_of(t, parent), n->name);
    if (n->type != XML_ELEMENT_NODE)
      continue;
    if (module_ns(n)) {
      s = datum(t, n, cat_of((const char *)n->name), w);
    } else if (!core_ns(n)) {
      continue; /* another vocabulary */
    } else if (named_any(n, lang_names)) {
      s = lang_section(t, n, depth);
    } else if (named_any(n, term_names)) {
      long term = -1;
      where tw = {AT_TERM, w.lang, &term};
      if (!w.lang)
        return fail(t, line_of(t, n), TM_PARSE,
                    "a <%s> outside a language section", (const char *)n->name);
      s = walk(t, n, tw, depth + 1);
    } else if (named(n, "term")) {
      /* A <term> straight in a language section: what follows it there
       * describes it. */
      if (!w.term)
        w.term = &direct;
      s = add_term(t, n, w);
    } else if (named(n, "descrip") || named(n, "admin") ||
               named(n, "termNote")) {
      xmlChar *type = attr(n, "type");
      s = datum(t, n, cat_of((const char *)type), w);
      xmlFree(type);
    } else if (named(n, "descripGrp")) {
      s = descrip_group(t, n, w);
    } else if (named(n, "termGrp") || named(n, "adminGrp") ||
               named(n, "termNoteGrp")) {
      s = walk(t, n, w, depth + 1);
    } else if (!n->ns) {
      /* TBX 2008 <note>, and TBX-Min 1.0's bare data categories
       * (<subjectField>, <partOfSpeech>, <termStatus>...). */
      s = datum(t, n, cat_of((const char *)n->name), w);
    } else if (named(n, "note")) {
      s = datum(t, n, CAT_NOTE, w);
    }
  }
  return s;
}

/* Decides what the file left open, and hands the entry to the ingest. */
static tm_status finish_entry(tbx_in *t) {
  tm_entry *e = &t->e;
  const def *chosen = NULL;
  tm_status s;

  if (e->nterms == 0)
    return fail(t, t->line, TM_PARSE, "an entry without a term");
  /* The definition: the entry's own, else the English, else the first. */
  for (size_t i = 0; i < t->ndefs && !chosen; i++)
    if (!t->defs[i].lang[0])
      chosen = &t->defs[i];
  for (size_t i = 0; i < t->ndefs && !chosen; i++)
    if (strcmp(t->defs[i].lang, "en") == 0 ||
        strncmp(t->defs[i].lang, "en-", 3) == 0)
      chosen = &t->defs[i];
  if (!chosen && t->ndefs)
    chosen = &t->defs[0];
  if (chosen && !(e->definition = tm__strdup(chosen->text)))
    return oom(t);
  for (size_t i = 0; i < t->ndefs; i++) {
    char prefix[TM_LANG_MAX + 16];
    if (&t->defs[i] == chosen)
      continue;
    snprintf(prefix, sizeof prefix, "definition%s%s%s",
             t->defs[i].lang[0] ? " (" : "", t->defs[i].lang,
             t->defs[i].lang[0] ? ")" : "");
    if ((s = add_note(t, prefix, t->defs[i].text)) != TM_OK)
      return s;
  }
  if ((t->note.len && !(e->note = tm__strdup(t->note.p))) ||
      (t->source.len && !(e->source = tm__strdup(t->source.p))))
    return oom(t);
  /* Term status defaults, language by language. */
  for (size_t i = 0; i < e->nterms; i++) {
    bool first = true, pref = false;
    if (t->aux[i].xpos) {
      free(e->terms[i].pos);
      e->terms[i].pos = t->aux[i].xpos;
      t->aux[i].xpos = NULL;
    }
    if (t->aux[i].note.len) {
      e->terms[i].note = t->aux[i].note.p;
      memset(&t->aux[i].note, 0, sizeof t->aux[i].note);
    }
    if (t->aux[i].status_set)
      continue;
    for (size_t j = 0; j < e->nterms; j++) {
      if (strcmp(e->terms[j].lang, e->terms[i].lang) != 0)
        continue;
      if (t->aux[j].status_set && e->terms[j].status == TM_TERM_PREFERRED)
        pref = true;
      if (j < i && !t->aux[j].status_set)
        first = false;
    }
    e->terms[i].status = first && !pref ? TM_TERM_PREFERRED : TM_TERM_ADMITTED;
  }
  if ((s = tm__ingest_entry(t->in, e)) != TM_OK)
    return tm__at_line(t->in, t->line, s);
  return TM_OK;
}

static tm_status read_entry(tbx_in *t) {
  xmlNodePtr n;
  xmlChar *id;
  tm_status s;
  where w = {AT_ENTRY, NULL, NULL};

  entry_reset(t);
  t->line = reader_line(t->rd);
  n = xmlTextReaderExpand(t->rd);
  if (!n || t->xerr.set)
    return fail_xml(t);
  if ((id = attr(n, "id")) && *id &&
      !(t->e.origin = tm__strdup((const char *)id))) {
    xmlFree(id);
    return oom(t);
  }
  xmlFree(id);
  if ((s = walk(t, n, w, 0)) != TM_OK || (s = finish_entry(t)) != TM_OK)
    return s;
  if (++t->entries % 200 == 0) {
    long at = xmlTextReaderByteConsumed(t->rd);
    return tm__progress(t->in, t->src, at > 0 ? (size_t)at : 0);
  }
  return TM_OK;
}

static bool reader_named_any(xmlTextReaderPtr rd, const char *const *names) {
  const char *name = (const char *)xmlTextReaderConstLocalName(rd);

  for (; name && *names; names++)
    if (strcmp(name, *names) == 0)
      return true;
  return false;
}

static tm_status import_loop(tbx_in *t) {
  static const char *const roots[] = {"tbx", "martif", "TBX", NULL};
  static const char *const skipped[] = {"tbxHeader", "martifHeader", "header",
                                        "back", NULL};
  xmlTextReaderPtr rd = t->rd;
  bool root = false;
  tm_status s;
  int r;

  r = xmlTextReaderRead(rd);
  while (r == 1) {
    int type;
    const xmlChar *ns;

    if (t->xerr.set)
      return fail_xml(t);
    type = xmlTextReaderNodeType(rd);
    if (type == XML_READER_TYPE_DOCUMENT_TYPE) {
      if ((s = check_doctype(t)) != TM_OK)
        return s;
    } else if (type == XML_READER_TYPE_ENTITY_REFERENCE) {
      return fail_entity(t, reader_line(rd), xmlTextReaderConstName(rd));
    } else if (type == XML_READER_TYPE_ELEMENT) {
      ns = xmlTextReaderConstNamespaceUri(rd);
      if (ns && strncmp((const char *)ns, "urn:iso:std:iso:30042", 21) != 0) {
        /* Another vocabulary, or a DCT element outside an entry. */
        r = xmlTextReaderNext(rd);
        continue;
      }
      if (!root) {
        root = true;
        if (!reader_named_any(rd, roots))
          return fail(t, reader_line(rd), TM_PARSE,
                      "not a TBX document: the root element is <%.64s>",
                      (const char *)xmlTextReaderConstName(rd));
      } else if (reader_named_any(rd, skipped)) {
        r = xmlTextReaderNext(rd);
        continue;
      } else if (reader_named_any(rd, entry_names)) {
        if ((s = read_entry(t)) != TM_OK)
          return s;
        r = xmlTextReaderNext(rd);
        continue;
      }
    }
    r = xmlTextReaderRead(rd);
  }
  if (r < 0 || t->xerr.set)
    return fail_xml(t);
  if (!root)
    return fail(t, 0, TM_PARSE, "no <tbx> or <martif> element");
  return TM_OK;
}

tm_status tm__tbx_import(tm__ingest *in, const tm__input *src) {
  tm__xml_quiet quiet;
  tbx_in t;
  tm_status s;
  long line;

  memset(&t, 0, sizeof t);
  t.in = in;
  t.src = src;
  if (src->len > INT_MAX)
    return fail(&t, 0, TM_TOOBIG, "a TBX file is limited to %d bytes", INT_MAX);
  if ((line = entity_decl_line(src->buf, src->len)) > 0)
    return fail(&t, line, TM_PARSE,
                "the document declares entities; TBX needs none, and they "
                "are never expanded");
  tm__xml_quiet_begin(&quiet);
  t.rd = xmlReaderForMemory(src->buf, (int)src->len, src->name, NULL,
                            XML_PARSE_NONET | XML_PARSE_BIG_LINES);
  if (!t.rd) {
    s = oom(&t);
    goto out;
  }
  xmlTextReaderSetStructuredErrorHandler(t.rd, tm__xml_on_error, &t.xerr);
  s = import_loop(&t);
  if (s == TM_OK)
    s = tm__progress(in, src, src->len);
out:
  entry_reset(&t);
  free(t.aux);
  free(t.defs);
  free(t.note.p);
  free(t.source.p);
  free(t.text.p);
  free(t.raw.p);
  xmlFreeTextReader(t.rd);
  tm__xml_quiet_end(&quiet);
  return s;
}

/* ============================================================== export */

/* The names that differ between TBX v3 and TBX 2008. */
typedef struct dialect {
  const char *root, *header, *entry, *lang, *term;
} dialect;

static const dialect v3 = {"tbx", "tbxHeader", "conceptEntry", "langSec",
                           "termSec"};
static const dialect martif = {"martif", "martifHeader", "termEntry", "langSet",
                               "tig"};

typedef struct tbx_out {
  tm_db *db;
  xmlTextWriterPtr w;
  const dialect *d;
  char (*want)[TM_LANG_MAX]; /* languages asked for, canonical */
  size_t nwant;
  const char *domain;
  uint64_t entries;
  tm__output *o;
} tbx_out;

/* A failed write is noted in the tm__output and the export stops at the
 * next entry.  libxml2 is told that all went well: told otherwise, it
 * prints "I/O error" through its global error handler. */
static int write_cb(void *ctx, const char *b, int len) {
  tm__out(ctx, b, (size_t)len);
  return len;
}

static int close_cb(void *ctx) {
  (void)ctx;
  return 0;
}

/* XML 1.0 cannot carry C0 controls other than TAB, LF and CR, nor U+FFFE
 * and U+FFFF, not even as character references.  S is valid UTF-8. */
static const char *xml_bad_char(const char *s) {
  const unsigned char *p = (const unsigned char *)s;

  for (; p && *p; p++) {
    if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
      return (const char *)p;
    if (p[0] == 0xEF && p[1] == 0xBF && (p[2] == 0xBE || p[2] == 0xBF))
      return (const char *)p;
  }
  return NULL;
}

static tm_status check_chars(tbx_out *x, const tm_entry *e, const char *what,
                             const char *s) {
  const char *bad = xml_bad_char(s);

  if (!bad)
    return TM_OK;
  return tm__error(x->db, TM_INVALID,
                   "entry %lld: its %s has a character that XML 1.0 cannot "
                   "carry (byte 0x%02X at offset %zu)",
                   (long long)e->id, what, (unsigned char)*bad,
                   (size_t)(bad - s));
}

/* LANG is one of the languages asked for (a tag asked for covers its
 * subtags: "en" takes "en-GB"); its rank, or -1. */
static long lang_rank(const tbx_out *x, const char *lang) {
  if (!x->nwant)
    return 0;
  for (size_t i = 0; i < x->nwant; i++) {
    size_t n = strlen(x->want[i]);
    if (strncmp(lang, x->want[i], n) == 0 &&
        (lang[n] == '\0' || lang[n] == '-'))
      return (long)i;
  }
  return -1;
}

/* TBX-Basic's picklist for partOfSpeech: the value to write there, and
 * whether it says all of POS. */
static const char *basic_pos(const char *pos, bool *exact) {
  static const char *const list[] = {"noun",   "verb",  "adjective",
                                     "adverb", "other", NULL};

  for (size_t i = 0; list[i]; i++)
    if (strcmp(pos, list[i]) == 0) {
      *exact = true;
      return list[i];
    }
  *exact = false;
  return strcmp(pos, "proper noun") == 0 || strcmp(pos, "properNoun") == 0
             ? "noun"
             : "other";
}

static const char *status_value(tm_term_status s) {
  switch (s) {
  case TM_TERM_PREFERRED:
    return "preferredTerm-admn-sts";
  case TM_TERM_ADMITTED:
    return "admittedTerm-admn-sts";
  case TM_TERM_DEPRECATED:
    return "deprecatedTerm-admn-sts";
  }
  return "admittedTerm-admn-sts";
}

static const char *type_value(tm_term_type t) {
  switch (t) {
  case TM_TERM_FULL:
    return "fullForm";
  case TM_TERM_ABBREVIATION:
    return "abbreviation";
  case TM_TERM_VARIANT:
    return "variant";
  }
  return "fullForm";
}

#define W(call) (ok = ok && (call) >= 0)

static bool typed(xmlTextWriterPtr w, const char *el, const char *type,
                  const char *text) {
  bool ok = true;

  W(xmlTextWriterStartElement(w, BAD_CAST el));
  W(xmlTextWriterWriteAttribute(w, BAD_CAST "type", BAD_CAST type));
  W(xmlTextWriterWriteString(w, BAD_CAST text));
  W(xmlTextWriterEndElement(w));
  return ok;
}

static bool write_term(tbx_out *x, const tm_term *t) {
  xmlTextWriterPtr w = x->w;
  bool ok = true, exact = true;
  const char *pos = t->pos ? basic_pos(t->pos, &exact) : NULL;

  W(xmlTextWriterStartElement(w, BAD_CAST x->d->term));
  W(xmlTextWriterWriteElement(w, BAD_CAST "term", BAD_CAST t->text));
  if (pos)
    ok = ok && typed(w, "termNote", "partOfSpeech", pos);
  ok = ok && typed(w, "termNote", "termType", type_value(t->type));
  ok = ok &&
       typed(w, "termNote", "administrativeStatus", status_value(t->status));
  if (t->note)
    W(xmlTextWriterWriteElement(w, BAD_CAST "note", BAD_CAST t->note));
  if (!exact) {
    char *n = tm__asprintf("x-partOfSpeech: %s", t->pos);
    W(n ? xmlTextWriterWriteElement(w, BAD_CAST "note", BAD_CAST n) : -1);
    free(n);
  }
  W(xmlTextWriterEndElement(w));
  return ok;
}

static tm_status write_entry(tbx_out *x, const tm_entry *e) {
  xmlTextWriterPtr w = x->w;
  char id[24];
  bool ok = true, any = false;
  tm_status s;

  if (x->domain && (!e->domain || strcmp(e->domain, x->domain) != 0))
    return TM_OK;
  for (size_t i = 0; i < e->nterms && !any; i++)
    any = lang_rank(x, e->terms[i].lang) >= 0;
  /* Asked for some languages: an entry with none of them is left out. */
  if (!any)
    return TM_OK;
  if ((s = check_chars(x, e, "definition", e->definition)) != TM_OK ||
      (s = check_chars(x, e, "note", e->note)) != TM_OK ||
      (s = check_chars(x, e, "domain", e->domain)) != TM_OK ||
      (s = check_chars(x, e, "source", e->source)) != TM_OK)
    return s;
  for (size_t i = 0; i < e->nterms; i++)
    if ((s = check_chars(x, e, "term", e->terms[i].text)) != TM_OK ||
        (s = check_chars(x, e, "term note", e->terms[i].note)) != TM_OK ||
        (s = check_chars(x, e, "part of speech", e->terms[i].pos)) != TM_OK)
      return s;

  snprintf(id, sizeof id, "c%lld", (long long)e->id);
  W(xmlTextWriterStartElement(w, BAD_CAST x->d->entry));
  W(xmlTextWriterWriteAttribute(w, BAD_CAST "id", BAD_CAST id));
  if (e->domain)
    ok = ok && typed(w, "descrip", "subjectField", e->domain);
  if (e->definition)
    ok = ok && typed(w, "descrip", "definition", e->definition);
  if (e->source)
    ok = ok && typed(w, "admin", "source", e->source);
  if (e->note)
    W(xmlTextWriterWriteElement(w, BAD_CAST "note", BAD_CAST e->note));
  if (e->status != TM_DRAFT) {
    char *n = tm__asprintf("x-status: %s", tm_record_status_name(e->status));
    W(n ? xmlTextWriterWriteElement(w, BAD_CAST "note", BAD_CAST n) : -1);
    free(n);
  }
  /* One language section per language, in the order asked for (else the
   * entry's), each with its terms in their order. */
  for (size_t rank = 0; ok && rank < (x->nwant ? x->nwant : 1); rank++)
    for (size_t i = 0; ok && i < e->nterms; i++) {
      const char *lang = e->terms[i].lang;
      bool seen = false;
      if (x->nwant && lang_rank(x, lang) != (long)rank)
        continue;
      for (size_t j = 0; j < i && !seen; j++)
        seen = strcmp(e->terms[j].lang, lang) == 0;
      if (seen)
        continue;
      W(xmlTextWriterStartElement(w, BAD_CAST x->d->lang));
      W(xmlTextWriterWriteAttribute(w, BAD_CAST "xml:lang", BAD_CAST lang));
      for (size_t j = i; ok && j < e->nterms; j++)
        if (strcmp(e->terms[j].lang, lang) == 0)
          ok = write_term(x, &e->terms[j]);
      W(xmlTextWriterEndElement(w));
    }
  W(xmlTextWriterEndElement(w));
  x->entries++;
  return ok ? TM_OK : TM_IO;
}

static tm_status each_entry(void *ctx, const tm_entry *e) {
  tbx_out *x = ctx;
  tm_status s = write_entry(x, e);

  /* A failed write stops the export at the next entry. */
  return s == TM_OK && x->o->failed ? TM_IO : s;
}

static tm_status write_header(tbx_out *x, const char *name) {
  xmlTextWriterPtr w = x->w;
  char when[21], *p;
  bool ok = true;

  tm_time_format(tm__now(x->db), when);
  p = tm__asprintf("Exported by tm from the glossary %s%s%s on %s.", name,
                   x->domain ? ", domain " : "", x->domain ? x->domain : "",
                   when);
  if (!p)
    return TM_NOMEM;
  W(xmlTextWriterStartDocument(w, "1.0", "UTF-8", NULL));
  W(xmlTextWriterStartElement(w, BAD_CAST x->d->root));
  W(xmlTextWriterWriteAttribute(w, BAD_CAST "type", BAD_CAST "TBX-Basic"));
  if (x->d == &v3)
    W(xmlTextWriterWriteAttribute(w, BAD_CAST "style", BAD_CAST "dca"));
  W(xmlTextWriterWriteAttribute(w, BAD_CAST "xml:lang", BAD_CAST "en"));
  if (x->d == &v3)
    W(xmlTextWriterWriteAttribute(w, BAD_CAST "xmlns",
                                  BAD_CAST "urn:iso:std:iso:30042:ed-2"));
  W(xmlTextWriterStartElement(w, BAD_CAST x->d->header));
  W(xmlTextWriterStartElement(w, BAD_CAST "fileDesc"));
  W(xmlTextWriterStartElement(w, BAD_CAST "titleStmt"));
  W(xmlTextWriterWriteElement(w, BAD_CAST "title", BAD_CAST name));
  W(xmlTextWriterEndElement(w));
  W(xmlTextWriterStartElement(w, BAD_CAST "sourceDesc"));
  W(xmlTextWriterWriteElement(w, BAD_CAST "p", BAD_CAST p));
  W(xmlTextWriterEndElement(w));
  W(xmlTextWriterEndElement(w)); /* fileDesc */
  if (x->d == &martif) {
    W(xmlTextWriterStartElement(w, BAD_CAST "encodingDesc"));
    ok = ok && typed(w, "p", "XCSURI", "TBXBasicXCSV02.xcs");
    W(xmlTextWriterEndElement(w));
  }
  W(xmlTextWriterEndElement(w)); /* header */
  W(xmlTextWriterStartElement(w, BAD_CAST "text"));
  W(xmlTextWriterStartElement(w, BAD_CAST "body"));
  free(p);
  return ok ? TM_OK : TM_IO;
}

tm_status tm__tbx_export(tm_db *db, int64_t collection,
                         const tm_export_opts *opts, tm__output *o,
                         bool as_martif) {
  tbx_out x;
  xmlOutputBufferPtr out;
  const char *sort = opts->sort_lang;
  tm_status s = TM_OK;
  bool ok = true;

  memset(&x, 0, sizeof x);
  x.db = db;
  x.o = o;
  x.d = as_martif ? &martif : &v3;
  x.domain = opts->domain && *opts->domain ? opts->domain : NULL;
  if (opts->nlangs) {
    if (!(x.want = calloc(opts->nlangs, sizeof *x.want)))
      return tm__error(db, TM_NOMEM, "out of memory");
    for (size_t i = 0; i < opts->nlangs; i++) {
      if (!opts->langs[i] ||
          tm_lang_canonical(opts->langs[i], x.want[x.nwant]) != TM_OK) {
        s = tm__error(db, TM_LANG, "invalid language tag \"%s\"",
                      opts->langs[i] ? opts->langs[i] : "");
        goto out;
      }
      x.nwant++;
    }
  }
  if (!sort)
    sort = x.nwant ? x.want[0] : "en";
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
  xmlTextWriterSetIndent(x.w, 1);
  xmlTextWriterSetIndentString(x.w, BAD_CAST "  ");
  if ((s = write_header(&x, opts->collection ? opts->collection : "default")) !=
      TM_OK)
    goto out;
  s = tm__entries_each(db, collection, sort, opts->approved_only, each_entry,
                       &x);
  if (s != TM_OK)
    goto out;
  W(xmlTextWriterEndDocument(x.w)); /* body, text, root */
  W(xmlTextWriterFlush(x.w));
  s = ok ? TM_OK : TM_IO;
out:
  xmlFreeTextWriter(x.w);
  if (s == TM_IO || (s == TM_OK && o->failed))
    s = tm__error(db, TM_IO, "writing the TBX export failed");
  else if (s == TM_NOMEM)
    s = tm__error(db, TM_NOMEM, "out of memory");
  free(x.want);
  return s;
}
