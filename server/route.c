/*
 * route.c - the routing table and the one dispatcher.
 *
 * Every fact about an endpoint is a row of routes[]: method, path pattern,
 * handler, body kind (and so its size limit), required role, and what the
 * OpenAPI document says about it.  The dispatcher enforces the row once,
 * for every request: 404, 405 with Allow, CORS preflight, 413, 401, 403,
 * JSON or form parsing, the reader and writer handles.  It also renders
 * every reply and every error the same way.  Handlers hold only their own
 * logic.
 */
#include "server.h"

#include <ctype.h>
#include <errno.h>
#include <nettle/base64.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ----------------------------------------------------- parameter docs */

#define P_END                                                                  \
  { NULL, NULL, NULL, false, NULL }
#define Q(name, type, req, desc)                                               \
  { name, "query", type, req, desc }
#define PATH(name, type, desc)                                                 \
  { name, "path", type, true, desc }

#define P_STATUS                                                               \
  Q("status", "string", false,                                                 \
    "`approved` restricts the results to approved records; `any` "             \
    "(default) includes drafts")
#define P_ID(what) PATH("id", "integer", "the " what "'s id")

static const struct param_doc p_match[] = {
    Q("q", "string", true, "the segment to match (at most 2000 bytes)"),
    Q("from", "string", true, "the segment's language (BCP-47; en_gb works)"),
    Q("to", "string", false,
      "target languages: one tag or a comma list (default: every other)"),
    Q("memory", "string", false, "search only this memory"),
    Q("min", "integer", false, "lowest score returned, 0-100 (default 70)"),
    Q("limit", "integer", false, "most matches returned (default 5, max 100)"),
    Q("exact_lang", "boolean", false,
      "1: `en` does not also see `en-GB` units"),
    P_STATUS,
    P_END};

static const struct param_doc p_concordance[] = {
    Q("q", "string", true, "the words or characters to find"),
    Q("lang", "string", true, "the language searched"),
    Q("to", "string", false, "languages shown with each hit"),
    Q("memory", "string", false, "search only this memory"),
    Q("limit", "integer", false, "most hits returned (default 10, max 100)"),
    Q("exact_lang", "boolean", false,
      "1: `en` does not also see `en-GB` units"),
    P_STATUS,
    P_END};

static const struct param_doc p_unit_id[] = {P_ID("unit"), P_END};
static const struct param_doc p_entry_id[] = {P_ID("entry"), P_END};
static const struct param_doc p_token_id[] = {P_ID("token"), P_END};

static const struct param_doc p_memory_import[] = {
    PATH("name", "string", "the memory (created when missing)"),
    Q("format", "string", false,
      "tmx, tsv or csv (default: from the Content-Type)"),
    Q("filename", "string", false, "the file's name, used in error messages"),
    Q("status", "string", false, "draft (default) or approved"), P_END};

static const struct param_doc p_memory_export[] = {
    PATH("name", "string", "the memory"),
    Q("format", "string", false, "tmx (default), tsv or csv"),
    Q("langs", "string", false, "only these languages (comma list)"), P_STATUS,
    P_END};

static const struct param_doc p_terms[] = {
    Q("q", "string", true,
      "what was typed: a term, a prefix, Korean initials, a Latin spelling"),
    Q("lang", "string", false, "the query's language, or `any` (default)"),
    Q("to", "string", false, "languages shown for each entry (default: all)"),
    Q("glossary", "string", false, "search only this glossary"),
    Q("limit", "integer", false, "most results (default 10, max 100)"),
    P_STATUS,
    P_END};

static const struct param_doc p_entries_list[] = {
    PATH("name", "string", "the glossary"),
    Q("sort", "string", false,
      "the language whose ICU collation orders the listing (default en)"),
    Q("limit", "integer", false, "entries per page (default 50, max 500)"),
    Q("after", "string", false, "the `next` cursor of the previous page"),
    P_STATUS,
    P_END};

static const struct param_doc p_glossary_name[] = {
    PATH("name", "string", "the glossary"), P_END};

static const struct param_doc p_glossary_import[] = {
    PATH("name", "string", "the glossary (created when missing)"),
    Q("format", "string", false,
      "tbx, tbx-martif, csv or tsv (default: from the Content-Type)"),
    Q("filename", "string", false, "the file's name, used in error messages"),
    Q("status", "string", false, "draft (default) or approved"), P_END};

static const struct param_doc p_glossary_export[] = {
    PATH("name", "string", "the glossary"),
    Q("format", "string", false,
      "tbx (default), tbx-martif, csv, tsv or html (a printable booth "
      "sheet)"),
    Q("sort", "string", false, "the language whose collation orders entries"),
    Q("langs", "string", false, "only these languages (comma list)"),
    Q("domain", "string", false, "only entries of this domain"),
    P_STATUS,
    P_END};

static const struct param_doc p_analyze[] = {
    Q("lang", "string", false,
      "the document's language (required here or as the body's `lang`)"),
    Q("to", "string", false,
      "target languages: one tag or a comma list (default: every other)"),
    Q("format", "string", false,
      "json (default), html (a printable prep sheet) or tsv (a glossary "
      "to complete and import)"),
    Q("input", "string", false,
      "txt, md or html (default: from the Content-Type of a text body, "
      "else txt)"),
    Q("min", "integer", false,
      "lowest sentence match score, 1-100 (default 70)"),
    Q("glossary", "string", false, "recognise only this glossary's terms"),
    Q("memory", "string", false, "match sentences only in this memory"),
    Q("limit", "integer", false,
      "most candidate terms (default 100, max 10000)"),
    Q("sort", "string", false,
      "prep sheet: terms in this language's collation order (default: "
      "order of appearance)"),
    Q("title", "string", false, "prep sheet: the document's name"),
    P_END};

static const struct param_doc p_tms_languages[] = {
    Q("jsoncallback", "string", false, "JSONP: wrap the answer in this call"),
    P_END};

static const struct param_doc p_web[] = {
    PATH("path", "string", "a file of server/web/, e.g. app.js"),
    P_END,
};

static const struct param_doc p_tms_unit[] = {
    PATH("slang", "string", "source language (en, en_gb, pt_br...)"),
    PATH("tlang", "string", "target language"),
    PATH("text", "string",
         "the URL-encoded source text; it may contain slashes (empty: use "
         "`source`)"),
    Q("source", "string", false, "the source text, instead of the path"),
    Q("min_similarity", "integer", false,
      "lowest quality returned, 30-100 (default 70)"),
    Q("max_candidates", "integer", false,
      "most suggestions returned (default 5, max 30)"),
    Q("jsoncallback", "string", false, "JSONP: wrap the answer in this call"),
    P_END};

static const struct param_doc p_tms_unit_add[] = {
    PATH("slang", "string", "source language"),
    PATH("tlang", "string", "target language"),
    PATH("text", "string", "the source text (when the body has none)"),
    Q("memory", "string", false, "the memory (default `default`)"), P_END};

static const struct param_doc p_tms_store[] = {
    PATH("slang", "string", "source language"),
    PATH("tlang", "string", "target language"),
    PATH("sid", "string",
         "the store's file name; its extension names the "
         "format (tmx, tsv, csv)"),
    Q("memory", "string", false, "the memory (default `default`)"), P_END};

static const struct param_doc p_mm_get[] = {
    Q("q", "string", true, "the segment to look up"),
    Q("langpair", "string", true, "source|target, e.g. en|ko or en-GB|uk"),
    Q("numres", "integer", false, "most matches (default 5, max 20)"),
    Q("min", "integer", false, "lowest score, 0-100 (default 50)"),
    Q("key", "string", false, "a token (needed with --private)"),
    P_END};

static const struct param_doc p_mm_set[] = {
    Q("seg", "string", true, "the source segment"),
    Q("tra", "string", true, "its translation"),
    Q("langpair", "string", true, "source|target, e.g. en|ko"),
    Q("key", "string", false,
      "a contributor token (or the Authorization header)"),
    Q("memory", "string", false, "the memory (default `default`)"),
    P_END};

#define TAG_TM "translation memory"
#define TAG_TERMS "glossaries"
#define TAG_OPS "operations"
#define TAG_TMS "compatibility: amaGama/tmserver"
#define TAG_MM "compatibility: MyMemory"
#define TAG_ADMIN "administration"
#define TAG_PREP "preparation"
#define TAG_WEB "booth page"

/* -------------------------------------------------------------- table */

const struct route routes[] = {
    /* translation memory */
    {M_GET, "/api/v1/tm/match", h_tm_match, BODY_NONE, TM_ROLE_NONE, 0, TAG_TM,
     "Fuzzy matches for a segment",
     "CAT-style scores 0-100; `changes` are the differing spans in code "
     "points.",
     p_match, NULL, 200, NULL, "MatchList"},
    {M_GET, "/api/v1/tm/concordance", h_tm_concordance, BODY_NONE, TM_ROLE_NONE,
     0, TAG_TM, "Units containing the words or characters",
     "Each match's `hits` are the spans of the query in `source`.",
     p_concordance, NULL, 200, NULL, "ConcordanceList"},
    {M_POST, "/api/v1/tm/units", h_unit_create, BODY_JSON, TM_ROLE_CONTRIBUTOR,
     R_WRITE, TAG_TM, "Contribute an aligned unit",
     "201 with the new id; 200 with the id of an identical unit already in "
     "the memory (nothing is created).  Contributions are drafts.",
     NULL, "UnitInput", 201, NULL, "UnitId"},
    {M_GET, "/api/v1/tm/units/{id}", h_unit_get, BODY_NONE, TM_ROLE_NONE, 0,
     TAG_TM, "Read a unit", NULL, p_unit_id, NULL, 200, NULL, "Unit"},
    {M_PUT, "/api/v1/tm/units/{id}", h_unit_update, BODY_JSON,
     TM_ROLE_CONTRIBUTOR, R_WRITE, TAG_TM, "Correct a unit",
     "Members present replace the stored ones; a variant set to null is "
     "removed.  Contributors edit their own drafts; reviewers any unit.",
     p_unit_id, "UnitUpdate", 200, NULL, "Unit"},
    {M_DELETE, "/api/v1/tm/units/{id}", h_unit_delete, BODY_NONE,
     TM_ROLE_REVIEWER, R_WRITE, TAG_TM, "Delete a unit",
     "A soft delete: the unit leaves every search; its history stays.",
     p_unit_id, NULL, 204, NULL, NULL},
    {M_GET, "/api/v1/tm/units/{id}/history", h_unit_history, BODY_NONE,
     TM_ROLE_NONE, 0, TAG_TM, "Every change of a unit", NULL, p_unit_id, NULL,
     200, NULL, "History"},
    {M_POST, "/api/v1/tm/units/{id}/approve", h_unit_approve, BODY_NONE,
     TM_ROLE_REVIEWER, R_WRITE, TAG_TM, "Approve a unit", NULL, p_unit_id, NULL,
     200, NULL, "Unit"},
    {M_GET, "/api/v1/memories", h_memories_list, BODY_NONE, TM_ROLE_NONE, 0,
     TAG_TM, "List the memories with their counts per language", NULL, NULL,
     NULL, 200, NULL, "MemoryList"},
    {M_POST, "/api/v1/memories", h_memory_create, BODY_JSON, TM_ROLE_ADMIN,
     R_WRITE | R_CONFLICT, TAG_TM, "Create a memory", "409 when it exists.",
     NULL, "CollectionInput", 201, NULL, "Memory"},
    {M_POST, "/api/v1/memories/{name}/import", h_memory_import, BODY_FILE,
     TM_ROLE_ADMIN, R_WRITE | R_FORMATS, TAG_TM,
     "Import a file sent as the body",
     "One transaction: all of the file or, on the first bad record, nothing "
     "(the error names the line).  Up to 64 MiB unless configured.",
     p_memory_import, "File", 200, NULL, "ImportResult"},
    {M_GET, "/api/v1/memories/{name}/export", h_memory_export, BODY_NONE,
     TM_ROLE_NONE, R_FORMATS, TAG_TM, "Export a memory as TMX, TSV or CSV",
     NULL, p_memory_export, NULL, 200,
     "application/x-tmx+xml, text/tab-separated-values, text/csv", NULL},

    /* glossaries */
    {M_GET, "/api/v1/terms", h_terms, BODY_NONE, TM_ROLE_NONE, 0, TAG_TERMS,
     "Term search: the booth's lookup",
     "`matched.how` is exact, prefix, initials, inflection, transliteration "
     "or fuzzy.",
     p_terms, NULL, 200, NULL, "TermResults"},
    {M_GET, "/api/v1/glossaries", h_glossaries_list, BODY_NONE, TM_ROLE_NONE, 0,
     TAG_TERMS, "List the glossaries with their counts per language", NULL,
     NULL, NULL, 200, NULL, "GlossaryList"},
    {M_POST, "/api/v1/glossaries", h_glossary_create, BODY_JSON, TM_ROLE_ADMIN,
     R_WRITE | R_CONFLICT, TAG_TERMS, "Create a glossary",
     "409 when it exists.", NULL, "CollectionInput", 201, NULL, "Glossary"},
    {M_GET, "/api/v1/glossaries/{name}/entries", h_entries_list, BODY_NONE,
     TM_ROLE_NONE, 0, TAG_TERMS, "A glossary in a language's collation order",
     "Pages of `limit` entries; pass `next` as `after` for the next page.",
     p_entries_list, NULL, 200, NULL, "EntryList"},
    {M_POST, "/api/v1/glossaries/{name}/entries", h_entry_create, BODY_JSON,
     TM_ROLE_CONTRIBUTOR, R_WRITE, TAG_TERMS, "Contribute an entry",
     "A term is a string or {text, status, type, note}.  Contributions are "
     "drafts.",
     p_glossary_name, "EntryInput", 201, NULL, "EntryId"},
    {M_POST, "/api/v1/glossaries/{name}/import", h_glossary_import, BODY_FILE,
     TM_ROLE_ADMIN, R_WRITE | R_FORMATS, TAG_TERMS,
     "Import a file sent as the body", "One transaction: all or nothing.",
     p_glossary_import, "File", 200, NULL, "ImportResult"},
    {M_GET, "/api/v1/glossaries/{name}/export", h_glossary_export, BODY_NONE,
     TM_ROLE_NONE, R_FORMATS, TAG_TERMS,
     "Export a glossary as TBX, TBX 2008 (martif), CSV, TSV or HTML",
     "OmegaT reads the tbx-martif form.", p_glossary_export, NULL, 200,
     "application/x-tbx+xml, text/tab-separated-values, text/csv, text/html",
     NULL},
    {M_GET, "/api/v1/entries/{id}", h_entry_get, BODY_NONE, TM_ROLE_NONE, 0,
     TAG_TERMS, "Read an entry", NULL, p_entry_id, NULL, 200, NULL, "Entry"},
    {M_PUT, "/api/v1/entries/{id}", h_entry_update, BODY_JSON,
     TM_ROLE_CONTRIBUTOR, R_WRITE, TAG_TERMS, "Correct an entry",
     "Members present replace the stored ones; `terms.LANG` replaces that "
     "language's terms (null removes them).  Contributors edit their own "
     "drafts; reviewers any entry.",
     p_entry_id, "EntryUpdate", 200, NULL, "Entry"},
    {M_DELETE, "/api/v1/entries/{id}", h_entry_delete, BODY_NONE,
     TM_ROLE_REVIEWER, R_WRITE, TAG_TERMS, "Delete an entry",
     "A soft delete; the history stays.", p_entry_id, NULL, 204, NULL, NULL},
    {M_GET, "/api/v1/entries/{id}/history", h_entry_history, BODY_NONE,
     TM_ROLE_NONE, 0, TAG_TERMS, "Every change of an entry", NULL, p_entry_id,
     NULL, 200, NULL, "History"},
    {M_POST, "/api/v1/entries/{id}/approve", h_entry_approve, BODY_NONE,
     TM_ROLE_REVIEWER, R_WRITE, TAG_TERMS, "Approve an entry", NULL, p_entry_id,
     NULL, 200, NULL, "Entry"},

    /* preparing a document */
    {M_POST, "/api/v1/analyze", h_analyze, BODY_TEXT, TM_ROLE_NONE, R_FORMATS,
     TAG_PREP, "Prepare a document",
     "The glossary terms a document uses (offsets in code points of the "
     "text as sent), each sentence's best memory match, and candidate new "
     "terms, ranked (docs/analyze.md).  The body is {\"text\", \"lang\", "
     "\"to\", ...} as JSON, or the text itself (text/plain, text/markdown, "
     "text/html) with the options as query parameters; at most 2 MiB of "
     "text and 200,000 words.  format=html or tsv answers the prep sheet.",
     p_analyze, "AnalyzeInput", 200,
     "application/json, text/html, text/tab-separated-values", "Analysis"},

    /* administration */
    {M_GET, "/api/v1/tokens", h_tokens_list, BODY_NONE, TM_ROLE_ADMIN, 0,
     TAG_ADMIN, "List the API tokens (never their secrets)", NULL, NULL, NULL,
     200, NULL, "TokenList"},
    {M_POST, "/api/v1/tokens", h_token_create, BODY_JSON, TM_ROLE_ADMIN,
     R_WRITE, TAG_ADMIN, "Create a token",
     "The answer holds the secret, once; only its hash is stored.", NULL,
     "TokenInput", 201, NULL, "TokenCreated"},
    {M_DELETE, "/api/v1/tokens/{id}", h_token_revoke, BODY_NONE, TM_ROLE_ADMIN,
     R_WRITE, TAG_ADMIN, "Revoke a token", NULL, p_token_id, NULL, 204, NULL,
     NULL},

    /* operations */
    {M_GET, "/api/v1/stats", h_stats, BODY_NONE, TM_ROLE_NONE, 0, TAG_OPS,
     "Units and entries per collection and language",
     "The same JSON as `tm stats --json`.", NULL, NULL, 200, NULL, "Stats"},
    {M_GET, "/healthz", h_healthz, BODY_NONE, TM_ROLE_NONE, R_PUBLIC, TAG_OPS,
     "Health", "200 when the database answers, 503 otherwise.", NULL, NULL, 200,
     NULL, "Health"},
    {M_GET, "/metrics", h_metrics, BODY_NONE, TM_ROLE_NONE, R_PUBLIC, TAG_OPS,
     "Prometheus metrics",
     "Requests by route and status, latency histograms per route, units and "
     "entries per collection.",
     NULL, NULL, 200, "text/plain", NULL},
    {M_GET, "/openapi.json", h_openapi, BODY_NONE, TM_ROLE_NONE, R_PUBLIC,
     TAG_OPS, "This document", "Generated from the server's routing table.",
     NULL, NULL, 200, NULL, NULL},

    /* the booth page (web.c): server/web/, embedded at build time */
    {M_GET, "/", h_web_index, BODY_NONE, TM_ROLE_NONE, R_PUBLIC, TAG_WEB,
     "The booth lookup page",
     "`/?q=TEXT` opens it with that search made, so a link shares a lookup.",
     NULL, NULL, 200, "text/html; charset=utf-8", NULL},
    {M_GET, "/web/{path...}", h_web_file, BODY_NONE, TM_ROLE_NONE, R_PUBLIC,
     TAG_WEB, "A file of the booth page",
     "Scripts, styles and icons, with a strong ETag (revalidate: 304) and "
     "gzip when accepted.",
     p_web, NULL, 200, "application/octet-stream", NULL},

    /* amaGama / translate-toolkit tmserver, as Weblate and Virtaal call it */
    {M_GET, "/tmserver/languages/", h_tms_languages, BODY_NONE, TM_ROLE_NONE, 0,
     TAG_TMS, "Languages with units",
     "Codes lower-cased with `_`, as Weblate compares them.", p_tms_languages,
     NULL, 200, NULL, "TmsLanguages"},
    {M_GET, "/tmserver/{slang}/{tlang}/unit/{text...}", h_tms_unit_get,
     BODY_NONE, TM_ROLE_NONE, 0, TAG_TMS, "Suggestions for a source text",
     "A JSON array of {source, target, quality, rank}, cacheable for an "
     "hour.",
     p_tms_unit, NULL, 200, NULL, "TmsSuggestions"},
    {M_POST, "/tmserver/{slang}/{tlang}/unit/{text...}", h_tms_unit_add,
     BODY_FORM, TM_ROLE_CONTRIBUTOR, R_WRITE, TAG_TMS, "Contribute a unit",
     "JSON {source, target}, also when sent as a form as Virtaal does, or "
     "form fields source and target.",
     p_tms_unit_add, "TmsUnit", 201, NULL, "UnitId"},
    {M_PUT, "/tmserver/{slang}/{tlang}/unit/{text...}", h_tms_unit_add,
     BODY_FORM, TM_ROLE_CONTRIBUTOR, R_WRITE, TAG_TMS, "Contribute a unit",
     "As POST.", p_tms_unit_add, "TmsUnit", 201, NULL, "UnitId"},
    {M_POST, "/tmserver/{slang}/{tlang}/store/{sid...}", h_tms_store_add,
     BODY_FORM, TM_ROLE_CONTRIBUTOR, R_WRITE, TAG_TMS,
     "Contribute a list of units",
     "A JSON array of {source, target}, as Virtaal sends a store.", p_tms_store,
     "TmsUnitList", 200, NULL, "StoreResult"},
    {M_PUT, "/tmserver/{slang}/{tlang}/store/{sid...}", h_tms_store_upload,
     BODY_FILE, TM_ROLE_ADMIN, R_WRITE | R_FORMATS, TAG_TMS, "Import a file",
     "The body is a file; the store name's extension gives its format.",
     p_tms_store, "File", 200, NULL, "StoreResult"},

    /* MyMemory */
    {M_GET, "/mymemory/get", h_mm_get, BODY_NONE, TM_ROLE_NONE, R_KEY, TAG_MM,
     "Matches in MyMemory's shape",
     "`match` is a fraction 0-1 and `quality` a string, as MyMemory "
     "answers.",
     p_mm_get, NULL, 200, NULL, "MyMemoryGet"},
    {M_GET, "/mymemory/set", h_mm_set, BODY_NONE, TM_ROLE_CONTRIBUTOR,
     R_WRITE | R_KEY, TAG_MM, "Contribute a segment pair",
     "The token may be given as `key`.", p_mm_set, NULL, 200, NULL,
     "MyMemorySet"},
    {M_POST, "/mymemory/set", h_mm_set, BODY_FORM, TM_ROLE_CONTRIBUTOR,
     R_WRITE | R_KEY, TAG_MM, "Contribute a segment pair",
     "The parameters may also come as form fields.", p_mm_set, "MyMemorySet",
     200, NULL, "MyMemorySet"},
};

const size_t nroutes = sizeof routes / sizeof routes[0];

size_t route_index(const struct route *r) {
  return r ? (size_t)(r - routes) : nroutes;
}

const char *method_name(enum method m) {
  switch (m) {
  case M_GET:
    return "GET";
  case M_HEAD:
    return "HEAD";
  case M_POST:
    return "POST";
  case M_PUT:
    return "PUT";
  case M_DELETE:
    return "DELETE";
  case M_OPTIONS:
    return "OPTIONS";
  case M_OTHER:
    break;
  }
  return "OTHER";
}

/* ------------------------------------------------------------ replies */

void reply_clear(struct reply *r) {
  json_decref(r->json);
  if (!r->persistent)
    free(r->body);
  free(r->jsonp);
  for (size_t i = 0; i < r->nheaders; i++)
    free(r->headers[i].value);
  memset(r, 0, sizeof *r);
}

void reply_bytes(struct request *rq, unsigned status, const char *type,
                 char *body, size_t len) {
  reply_clear(&rq->reply);
  rq->reply.set = true;
  rq->reply.status = status;
  rq->reply.type = type;
  rq->reply.body = body;
  rq->reply.len = len;
}

void reply_static(struct request *rq, unsigned status, const char *type,
                  const void *body, size_t len) {
  reply_bytes(rq, status, type, (char *)body, len);
  rq->reply.persistent = true;
}

void reply_empty(struct request *rq, unsigned status) {
  reply_bytes(rq, status, NULL, NULL, 0);
}

void reply_json(struct request *rq, unsigned status, json_t *j) {
  if (!j) {
    reply_error(rq, 500, "out_of_memory", "out of memory");
    return;
  }
  reply_clear(&rq->reply);
  rq->reply.set = true;
  rq->reply.status = status;
  rq->reply.is_json = true;
  rq->reply.json = j;
}

void reply_error(struct request *rq, unsigned status, const char *code,
                 const char *fmt, ...) {
  char msg[512];
  json_t *m, *j;
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  /* The message may quote the client's input: keep it valid UTF-8, even
   * when snprintf cut a character in half. */
  if (!(m = json_string(msg)))
    m = json_string(code);
  j = json_pack("{s:{s:i, s:s, s:o}}", "error", "status", (int)status, "code",
                code, "message", m);
  reply_clear(&rq->reply);
  rq->reply.set = true;
  rq->reply.status = status;
  rq->reply.is_json = true;
  rq->reply.json = j; /* NULL: http_send falls back to its OOM reply */
}

bool reply_header(struct request *rq, const char *name, const char *value) {
  struct reply *r = &rq->reply;
  char *copy;

  if (r->nheaders == SRV_MAX_HEADERS || !(copy = strdup(value)))
    return false;
  r->headers[r->nheaders].name = name;
  r->headers[r->nheaders++].value = copy;
  return true;
}

/* The one mapping of library statuses to HTTP.  No default: a status added
 * to TM_STATUS_MAP without a row here is a -Wswitch error. */
void reply_tm(struct request *rq, tm_db *db, tm_status s) {
  const char *msg =
      db && s != TM_NOMEM ? tm_db_errmsg(db) : tm_status_message(s);
  const char *code = "internal";
  unsigned status = 500;

  switch (s) {
  case TM_OK:
    break; /* a handler bug: nothing failed */
  case TM_NOMEM:
    code = "out_of_memory";
    break;
  case TM_INVALID:
    status = 400;
    code = "invalid_parameter";
    break;
  case TM_UTF8:
    status = 400;
    code = "invalid_utf8";
    break;
  case TM_LANG:
    status = 400;
    code = "invalid_language";
    break;
  case TM_NOTFOUND:
    status = 404;
    code = "not_found";
    break;
  case TM_EXISTS:
    status = 409;
    code = "conflict";
    break;
  case TM_PARSE:
    status = 400;
    code = "malformed_input";
    break;
  case TM_TOOBIG:
    status = 413;
    code = "payload_too_large";
    break;
  case TM_IO:
    code = "io_error";
    break;
  case TM_DB:
    code = "database_error";
    break;
  case TM_BUSY:
    status = 503;
    code = "busy";
    break;
  case TM_SCHEMA:
    code = "schema_too_new";
    break;
  case TM_TEXT:
    code = "text_error";
    break;
  case TM_DENIED:
    status = 403;
    code = "forbidden";
    break;
  case TM_CANCELLED:
    status = 503;
    code = "cancelled";
    break;
  case TM_REVOKED:
    status = 403;
    code = "forbidden";
    break;
  case TM__STATUS_COUNT:
    break;
  }
  if (status >= 500) {
    /* The detail may name files or SQL: the log gets it, the client the
     * status's own message. */
    fprintf(stderr, "tm-server: %s %s: %s: %s\n", rq->method_name,
            rq->route ? rq->route->pattern : "-", tm_status_name(s), msg);
    msg = tm_status_message(s);
  }
  reply_error(rq, status, code, "%s", msg);
  if (s == TM_BUSY)
    reply_header(rq, MHD_HTTP_HEADER_RETRY_AFTER, "1");
}

/* ------------------------------------------------------------ matching */

static int hexval(int c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  c |= 0x20;
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes N raw bytes into OUT (room for N + 1); false for a bad
 * escape or an encoded NUL. */
static bool pct_decode(const char *s, size_t n, char *out, size_t *outlen) {
  size_t o = 0;

  for (size_t i = 0; i < n; i++) {
    int hi, lo;
    if (s[i] != '%') {
      out[o++] = s[i];
      continue;
    }
    if (n - i < 3)
      return false;
    hi = hexval((unsigned char)s[i + 1]);
    lo = hexval((unsigned char)s[i + 2]);
    if (hi < 0 || lo < 0 || (hi | lo) == 0)
      return false;
    out[o++] = (char)(hi << 4 | lo);
    i += 2;
  }
  out[o] = '\0';
  *outlen = o;
  return true;
}

/* A literal pattern segment against a raw path segment. */
static bool seg_equal(const char *lit, size_t litlen, const char *raw,
                      size_t rawlen) {
  char buf[64];
  size_t n;

  if (!memchr(raw, '%', rawlen))
    return litlen == rawlen && memcmp(lit, raw, litlen) == 0;
  if (rawlen >= sizeof buf || !pct_decode(raw, rawlen, buf, &n))
    return false;
  return n == litlen && memcmp(lit, buf, n) == 0;
}

struct span {
  const char *p;
  size_t n;
};

static bool all_digits(const char *s, size_t n) {
  if (n == 0 || n > 18)
    return false;
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9')
      return false;
  return true;
}

static bool is_rest(const char *seg, size_t n) {
  return n > 5 && memcmp(seg + n - 4, "...}", 4) == 0;
}

/* Matches the raw PATH (no query) against PATTERN, capturing the raw spans
 * of its parameters.  A trailing slash is optional on either side. */
static bool match_pattern(const char *pat, const char *path, size_t plen,
                          struct span *caps, size_t *ncaps) {
  const char *end = path + plen;
  size_t nc = 0;

  *ncaps = 0;
  if (plen == 0 || *path != '/')
    return false;
  /* Most routes differ from the path early in their literal prefix: a
   * byte that differs there, before any escape, rules the route out.  (A
   * pattern has no '%', and PATH[PLEN] is '?' or NUL, which no literal
   * is.) */
  {
    size_t i = 1;
    while (pat[i] && pat[i] != '{' && pat[i] == path[i])
      i++;
    if (pat[i] && pat[i] != '{' && i < plen && path[i] != '%')
      return false;
  }
  pat++;
  path++;
  for (;;) {
    const char *pe = strchr(pat, '/');
    size_t pn = pe ? (size_t)(pe - pat) : strlen(pat);
    const char *se = memchr(path, '/', (size_t)(end - path));
    size_t sn = se ? (size_t)(se - path) : (size_t)(end - path);

    if (pn > 0 && pat[0] == '{') {
      if (is_rest(pat, pn)) {
        caps[nc++] = (struct span){path, (size_t)(end - path)};
        *ncaps = nc;
        return true;
      }
      if (sn == 0 || nc == SRV_MAX_PATH_PARAMS)
        return false;
      if (pn == 4 && memcmp(pat, "{id}", 4) == 0 && !all_digits(path, sn))
        return false;
      caps[nc++] = (struct span){path, sn};
    } else if (!seg_equal(pat, pn, path, sn)) {
      return false;
    }
    if (!pe) {
      *ncaps = nc;
      return !se || se + 1 == end;
    }
    if (!se) {
      pat = pe + 1;
      if (is_rest(pat, strlen(pat))) {
        caps[nc++] = (struct span){end, 0};
        *ncaps = nc;
        return true;
      }
      *ncaps = nc;
      return *pat == '\0';
    }
    pat = pe + 1;
    path = se + 1;
  }
}

/* The Allow list of the methods in MASK. */
static void allow_list(unsigned mask, char *buf, size_t cap) {
  static const enum method order[] = {M_GET, M_HEAD,   M_POST,
                                      M_PUT, M_DELETE, M_OPTIONS};
  size_t n = 0;

  buf[0] = '\0';
  for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
    if (mask & order[i])
      n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "%s%s",
                            n ? ", " : "", method_name(order[i]));
}

/* -------------------------------------------------------------- auth */

/* The token the request presents: the Authorization header (Bearer, or
 * Basic with the token as password or user name, which clients that only
 * take a URL with credentials send), else `key` where the route takes it.
 * *present is set when the client sent credentials of any kind. */
static bool request_token(struct request *rq, char *buf, size_t cap,
                          bool *present) {
  const char *h = http_header(rq, MHD_HTTP_HEADER_AUTHORIZATION);
  size_t len;

  *present = false;
  buf[0] = '\0';
  if (h) {
    *present = true;
    while (*h == ' ')
      h++;
    if (strncasecmp(h, "Bearer ", 7) == 0) {
      h += 7;
      while (*h == ' ')
        h++;
      len = strcspn(h, " \t");
      if (len == 0 || len >= cap)
        return false;
      memcpy(buf, h, len);
      buf[len] = '\0';
      return true;
    }
    if (strncasecmp(h, "Basic ", 6) == 0) {
      struct base64_decode_ctx ctx;
      uint8_t raw[256];
      size_t rawlen = sizeof raw - 1;
      char *colon;

      h += 6;
      while (*h == ' ')
        h++;
      len = strcspn(h, " \t");
      if (BASE64_DECODE_LENGTH(len) >= sizeof raw)
        return false;
      base64_decode_init(&ctx);
      if (!base64_decode_update(&ctx, &rawlen, raw, len, h) ||
          !base64_decode_final(&ctx))
        return false;
      raw[rawlen] = '\0';
      colon = strchr((char *)raw, ':');
      if (colon && colon[1])
        h = colon + 1;
      else {
        if (colon)
          *colon = '\0';
        h = (const char *)raw;
      }
      len = strlen(h);
      if (len == 0 || len >= cap)
        return false;
      memcpy(buf, h, len + 1);
      return true;
    }
    return false;
  }
  if (rq->route && (rq->route->flags & R_KEY)) {
    const char *k = param_raw(rq, "key", &len);
    if (k && len) {
      *present = true;
      if (len >= cap || strlen(k) != len)
        return false;
      memcpy(buf, k, len + 1);
      return true;
    }
  }
  return true;
}

/* The role the route needs from this server. */
static tm_role needed_role(const struct request *rq) {
  const struct route *r = rq->route;

  if (r->role == TM_ROLE_NONE && rq->srv->cfg.private_reads &&
      !(r->flags & R_PUBLIC))
    return TM_ROLE_CONTRIBUTOR;
  return r->role;
}

/* Sets rq's token, role and actor, or an error reply.  Before the body is
 * read (FINAL false), a route whose token may be a form field defers. */
static void authenticate(struct request *rq, bool final) {
  tm_role need = needed_role(rq);
  struct reader *reader;
  char token[256];
  bool present;
  tm_status s;
  tm_db *db;

  if (!request_token(rq, token, sizeof token, &present)) {
    reply_error(rq, 401, "unauthorized", "a malformed token");
    goto challenge;
  }
  if (!present) {
    if (need == TM_ROLE_NONE)
      return;
    if (!final && (rq->route->flags & R_KEY) && rq->body_expected) {
      rq->auth_deferred = true;
      return;
    }
    reply_error(rq, 401, "unauthorized",
                "this needs a token: Authorization: Bearer TOKEN");
    goto challenge;
  }
  reader = pool_get(rq->srv);
  db = reader->db;
  s = tm_token_check(db, token, &rq->token, &rq->role, &rq->label);
  /* An unknown token is no credential (401); a revoked one is known and
   * refused (403), so a client can tell its user to ask for a new one. */
  if (s == TM_DENIED)
    reply_error(rq, 401, "unauthorized", "%s", tm_db_errmsg(db));
  else if (s != TM_OK)
    reply_tm(rq, db, s);
  pool_put(rq->srv, reader);
  if (s == TM_DENIED)
    goto challenge;
  if (s != TM_OK)
    return;
  rq->who.token = rq->token;
  rq->who.name = rq->label;
  if (rq->role < need)
    reply_error(rq, 403, "forbidden", "this needs the %s role; the token is %s",
                tm_role_name(need), tm_role_name(rq->role));
  return;
challenge:
  reply_header(rq, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"tm\"");
}

/* ---------------------------------------------------------- dispatcher */

static void preflight(struct request *rq, unsigned mask) {
  char allow[96];

  allow_list(mask | M_OPTIONS, allow, sizeof allow);
  reply_empty(rq, 204);
  if (!reply_header(rq, MHD_HTTP_HEADER_ALLOW, allow) ||
      !reply_header(rq, "Access-Control-Allow-Methods", allow) ||
      !reply_header(rq, "Access-Control-Allow-Headers",
                    "Authorization, Content-Type") ||
      !reply_header(rq, "Access-Control-Max-Age", "86400"))
    reply_error(rq, 500, "out_of_memory", "out of memory");
}

/* Decodes the captured path parameters into rq->path. */
static bool capture(struct request *rq, const struct span *caps, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char *v = malloc(caps[i].n + 1);
    if (!v) {
      reply_error(rq, 500, "out_of_memory", "out of memory");
      return false;
    }
    rq->path[i].value = v;
    rq->npath = i + 1;
    if (!pct_decode(caps[i].p, caps[i].n, v, &rq->path[i].len)) {
      reply_error(rq, 400, "invalid_parameter",
                  "the path has a malformed %%-escape");
      return false;
    }
  }
  return true;
}

/* Parameters are read as C strings in many places: a %00 in one would
 * end it early without a word, so it is refused here, once, as an encoded
 * NUL in the path is. */
static enum MHD_Result arg_nul(void *cls, enum MHD_ValueKind kind,
                               const char *key, size_t key_size,
                               const char *value, size_t value_size) {
  bool *nul = cls;

  (void)kind;
  if (strlen(key) != key_size || (value && strlen(value) != value_size)) {
    *nul = true;
    return MHD_NO;
  }
  return MHD_YES;
}

/* The query string's arguments (FORM false: route_begin), or the form
 * body's fields (FORM true: once the body is read). */
static bool args_nul_free(struct request *rq, bool form) {
  bool nul = false;

  if (!form)
    MHD_get_connection_values_n(rq->conn, MHD_GET_ARGUMENT_KIND, arg_nul, &nul);
  for (size_t i = 0; form && !nul && i < rq->nform; i++)
    nul = strlen(rq->form[i].value) != rq->form[i].len;
  if (nul)
    reply_error(rq, 400, "invalid_parameter",
                "a parameter holds a NUL byte (%%00)");
  return !nul;
}

void route_begin(struct request *rq) {
  const char *path = rq->uri, *q, *cl, *te;
  struct span caps[SRV_MAX_PATH_PARAMS];
  size_t plen, ncaps = 0;
  unsigned mask = 0;
  char allow[96];

  if (!path) {
    reply_error(rq, 500, "out_of_memory", "out of memory");
    return;
  }
  q = strchr(path, '?');
  plen = q ? (size_t)(q - path) : strlen(path);

  cl = http_header(rq, MHD_HTTP_HEADER_CONTENT_LENGTH);
  te = http_header(rq, MHD_HTTP_HEADER_TRANSFER_ENCODING);
  rq->body_expected = (cl && strtoull(cl, NULL, 10) > 0) || te;

  /* The first route that fits path and method wins.  Only when none does
   * (404, 405, OPTIONS) are the methods of every route of the path
   * needed, and the loop then sees them all. */
  for (size_t i = 0; i < nroutes && !rq->route; i++) {
    const struct route *r = &routes[i];
    struct span c[SRV_MAX_PATH_PARAMS];
    size_t nc;
    if (!match_pattern(r->pattern, path, plen, c, &nc))
      continue;
    /* HEAD is GET without the body, except where a GET writes
     * (MyMemory's set): a HEAD must never change anything. */
    bool head = r->method == M_GET && !(r->flags & R_WRITE);
    mask |= r->method | (head ? M_HEAD : 0);
    if (r->method == rq->method || (head && rq->method == M_HEAD)) {
      rq->route = r;
      memcpy(caps, c, sizeof c);
      ncaps = nc;
    }
  }
  if (!mask) {
    reply_error(rq, 404, "not_found", "no such resource");
    return;
  }
  if (rq->method == M_OPTIONS) {
    rq->route = NULL;
    preflight(rq, mask);
    return;
  }
  if (!rq->route) {
    allow_list(mask | M_OPTIONS, allow, sizeof allow);
    reply_error(rq, 405, "method_not_allowed", "%s is not allowed here; use %s",
                rq->method_name, allow);
    reply_header(rq, MHD_HTTP_HEADER_ALLOW, allow);
    return;
  }
  if (!capture(rq, caps, ncaps) || !args_nul_free(rq, false))
    return;

  rq->body_limit =
      rq->route->body == BODY_FILE ? rq->srv->cfg.max_import
      : rq->route->body == BODY_TEXT && rq->srv->cfg.max_body < SRV_MAX_DOCUMENT
          ? SRV_MAX_DOCUMENT
          : rq->srv->cfg.max_body;
  if (cl) {
    char *end;
    unsigned long long n;
    errno = 0;
    n = strtoull(cl, &end, 10);
    if (errno || end == cl || n > rq->body_limit) {
      reply_error(rq, 413, "payload_too_large",
                  "the body may hold at most %zu bytes here", rq->body_limit);
      return;
    }
    /* Known length: one allocation, no copying as it grows. */
    if (n > 0 && !(rq->body = malloc((size_t)n + 1))) {
      reply_error(rq, 500, "out_of_memory", "out of memory");
      return;
    }
    rq->body_cap = n > 0 ? (size_t)n + 1 : 0;
  }
  authenticate(rq, false);
}

/* Collects a field of a form body (MHD's post processor calls it with
 * pieces of each value). */
static enum MHD_Result form_field(void *cls, enum MHD_ValueKind kind,
                                  const char *key, const char *filename,
                                  const char *content_type,
                                  const char *transfer_encoding,
                                  const char *data, uint64_t off, size_t size) {
  struct request *rq = cls;
  struct form_field *f = NULL;
  char *v;

  (void)kind;
  (void)filename;
  (void)content_type;
  (void)transfer_encoding;
  if (off > 0 && rq->nform && strcmp(rq->form[rq->nform - 1].name, key) == 0)
    f = &rq->form[rq->nform - 1];
  if (!f) {
    if (rq->nform == rq->form_cap) {
      size_t cap = rq->form_cap ? rq->form_cap * 2 : 8;
      struct form_field *nf = realloc(rq->form, cap * sizeof *nf);
      if (!nf)
        return MHD_NO;
      rq->form = nf;
      rq->form_cap = cap;
    }
    f = &rq->form[rq->nform];
    memset(f, 0, sizeof *f);
    if (!(f->name = strdup(key)))
      return MHD_NO;
    rq->nform++;
  }
  if (!(v = realloc(f->value, f->len + size + 1)))
    return MHD_NO;
  memcpy(v + f->len, data, size);
  f->value = v;
  f->len += size;
  v[f->len] = '\0';
  return MHD_YES;
}

static bool parse_json(struct request *rq) {
  json_error_t err;

  /* A key given twice is refused rather than read as its last value: a
   * proxy or client that reads the first would see another request. */
  rq->json = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &err);
  if (!rq->json) {
    enum json_error_code c = json_error_code(&err);
    reply_error(rq, 400,
                c == json_error_invalid_utf8 ? "invalid_utf8" : "invalid_json",
                "the body is not valid JSON: %s (line %d, column %d)", err.text,
                err.line, err.column);
    return false;
  }
  return true;
}

/* Parses the body as the route says; false after an error reply. */
static bool parse_body(struct request *rq) {
  const char *p = rq->body;
  struct MHD_PostProcessor *pp;
  bool ok;

  switch (rq->route->body) {
  case BODY_NONE:
  case BODY_FILE:
    return true;
  case BODY_JSON:
    if (rq->body_len == 0) {
      reply_error(rq, 400, "invalid_json", "a JSON body is required");
      return false;
    }
    if (!parse_json(rq))
      return false;
    if (!json_is_object(rq->json)) {
      reply_error(rq, 400, "invalid_json", "the body must be a JSON object");
      return false;
    }
    return true;
  case BODY_TEXT: {
    const char *ct = http_header(rq, MHD_HTTP_HEADER_CONTENT_TYPE);
    bool json;
    if (ct && strncasecmp(ct, "application/json", 16) == 0)
      json = true;
    else if ((ct && strncasecmp(ct, "text/", 5) == 0) || rq->body_len == 0)
      json = false; /* no body has no buffer either: rq->body is NULL */
    else {
      while (p < rq->body + rq->body_len && strchr(" \t\r\n", *p))
        p++;
      json = p < rq->body + rq->body_len && *p == '{';
    }
    if (!json)
      return true;
    if (!parse_json(rq))
      return false;
    if (!json_is_object(rq->json)) {
      reply_error(rq, 400, "invalid_json", "the body must be a JSON object");
      return false;
    }
    return true;
  }
  case BODY_FORM:
    if (rq->body_len == 0)
      return true;
    /* Virtaal posts JSON labelled as a form: the content decides. */
    while (p < rq->body + rq->body_len && strchr(" \t\r\n", *p))
      p++;
    if (p < rq->body + rq->body_len && (*p == '{' || *p == '['))
      return parse_json(rq);
    if (!(pp =
              MHD_create_post_processor(rq->conn, 16 * 1024, form_field, rq))) {
      reply_error(rq, 415, "unsupported_format",
                  "send JSON, or a form (application/x-www-form-urlencoded "
                  "or multipart/form-data)");
      return false;
    }
    ok = MHD_post_process(pp, rq->body, rq->body_len) == MHD_YES;
    ok = MHD_destroy_post_processor(pp) == MHD_YES && ok;
    if (!ok)
      reply_error(rq, 400, "invalid_parameter", "the form body is malformed");
    return ok && args_nul_free(rq, true);
  }
  return true;
}

bool route_dispatch(struct request *rq) {
  if (rq->body_too_large) {
    reply_error(rq, 413, "payload_too_large",
                "the body may hold at most %zu bytes here", rq->body_limit);
    return false;
  }
  if (!parse_body(rq))
    return false;
  if (rq->auth_deferred) {
    authenticate(rq, true);
    if (rq->reply.set)
      return false;
  }
  if (rq->route->flags & R_WRITE) {
    writer_submit(rq);
    return true;
  }
  route_run(rq, NULL);
  return false;
}

void route_run(struct request *rq, tm_db *writer) {
  rq->reader = pool_get(rq->srv);
  rq->db = rq->reader->db;
  rq->wdb = writer;
  rq->route->handler(rq);
  rq->wdb = NULL;
  pool_put(rq->srv, rq->reader);
  rq->reader = NULL;
  rq->db = NULL;
  if (!rq->reply.set)
    reply_error(rq, 500, "internal", "the handler gave no reply");
}
