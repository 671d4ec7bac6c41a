/*
 * openapi.c - the OpenAPI 3.0 document, generated from the routing table:
 * every path, method, parameter, body, role and error status comes from
 * routes[], so the document cannot drift from what the dispatcher does.
 * The schemas of bodies are described here, by name.
 */
#include "server.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#ifndef SRV_VERSION
#define SRV_VERSION "0"
#endif

/* ------------------------------------------------------ schema helpers */

static json_t *type(const char *t) {
  return json_pack("{s:s}", "type", t);
}

static json_t *typed(const char *t, const char *description) {
  return json_pack("{s:s, s:s}", "type", t, "description", description);
}

static json_t *nullable(json_t *s) {
  if (s && json_object_set_new(s, "nullable", json_true()) != 0) {
    json_decref(s);
    return NULL;
  }
  return s;
}

static json_t *ref(const char *name) {
  char buf[96];

  snprintf(buf, sizeof buf, "#/components/schemas/%s", name);
  return json_pack("{s:s}", "$ref", buf);
}

static json_t *array_of(json_t *items) {
  return json_pack("{s:s, s:o}", "type", "array", "items", items);
}

static json_t *map_of(json_t *values) {
  return json_pack("{s:s, s:o}", "type", "object", "additionalProperties",
                   values);
}

static json_t *enum_of(const char *first, ...) {
  json_t *e = json_array();
  va_list ap;
  bool ok = e != NULL;

  va_start(ap, first);
  for (const char *s = first; ok && s; s = va_arg(ap, const char *))
    ok = json_array_append_new(e, json_string(s)) == 0;
  va_end(ap);
  if (!ok) {
    json_decref(e);
    return NULL;
  }
  return json_pack("{s:s, s:o}", "type", "string", "enum", e);
}

/* An object schema: REQUIRED is a space-separated list; then name, schema
 * pairs, ending with NULL.  The schemas are stolen. */
static json_t *object(const char *required, ...) {
  json_t *props = json_object(), *req = json_array(), *o;
  const char *name;
  va_list ap;
  bool ok = props && req;

  va_start(ap, required);
  while ((name = va_arg(ap, const char *))) {
    json_t *s = va_arg(ap, json_t *);
    ok = json_object_set_new(props, name, s) == 0 && ok;
  }
  va_end(ap);
  for (const char *p = required; ok && p && *p;) {
    size_t n = strcspn(p, " ");
    ok = json_array_append_new(req, json_stringn(p, n)) == 0;
    p += n;
    while (*p == ' ')
      p++;
  }
  if (!ok) {
    json_decref(props);
    json_decref(req);
    return NULL;
  }
  o = json_pack("{s:s, s:o}", "type", "object", "properties", props);
  if (o && json_array_size(req) &&
      json_object_set_new(o, "required", json_incref(req)) != 0) {
    json_decref(o);
    o = NULL;
  }
  json_decref(req);
  return o;
}

static json_t *span(void) {
  return json_pack("{s:s, s:o, s:i, s:i, s:s}", "type", "array", "items",
                   type("integer"), "minItems", 2, "maxItems", 2, "description",
                   "[start, end): Unicode code points, end exclusive");
}

static json_t *record_status(void) {
  return enum_of("draft", "approved", "deprecated", NULL);
}

static json_t *collection(const char *count) {
  return object("name languages", "name", type("string"), count,
                type("integer"), "languages",
                map_of(typed("integer", "records with this language")), NULL);
}

/* --------------------------------------------------------------- schemas */

/* Adds schema NAME to ALL while everything succeeds; VALUE is evaluated
 * only then, so nothing leaks after a failure. */
#define SCHEMA(name, value)                                                    \
  ok = ok && json_object_set_new(all, name, value) == 0

static json_t *schemas(void) {
  json_t *all = json_object();
  bool ok = all != NULL;

  SCHEMA("Error",
         object("error", "error",
                object("status code message", "status", type("integer"), "code",
                       typed("string",
                             "missing_parameter, invalid_parameter, "
                             "invalid_json, invalid_utf8, invalid_language, "
                             "not_found, method_not_allowed, "
                             "payload_too_large, query_too_long, "
                             "unsupported_format, unauthorized, forbidden, "
                             "conflict, malformed_input, out_of_memory, "
                             "database_error, busy, unavailable"),
                       "message", type("string"), NULL),
                NULL));
  SCHEMA("Change", object("at by action", "at", type("string"), "by",
                          type("string"), "action",
                          enum_of("create", "update", "delete", "approve",
                                  "import", NULL),
                          "before", nullable(type("object")), "after",
                          nullable(type("object")), NULL));
  SCHEMA("History",
         object("changes", "changes", array_of(ref("Change")), NULL));
  SCHEMA("Term",
         object("text", "text", type("string"), "status",
                enum_of("preferred", "admitted", "deprecated", NULL), "type",
                enum_of("full", "abbreviation", "variant", NULL), "note",
                type("string"), "pos", type("string"), NULL));
  SCHEMA("Terms", map_of(array_of(ref("Term"))));
  SCHEMA("Diff",
         object("op", "op", enum_of("insert", "delete", "replace", NULL),
                "source", span(), "query", span(), NULL));
  SCHEMA("Match",
         object("unit memory score source targets status", "unit",
                type("integer"), "memory", type("string"), "score",
                typed("integer", "0-100, CAT-style"), "source_lang",
                type("string"), "source", type("string"), "targets",
                map_of(type("string")), "changes", array_of(ref("Diff")),
                "status", record_status(), "origin", nullable(type("string")),
                "updated", type("string"), NULL));
  SCHEMA("MatchList",
         object("query from matches", "query", type("string"), "from",
                type("string"), "matches", array_of(ref("Match")), NULL));
  SCHEMA("ConcordanceHit",
         object("unit memory source targets hits", "unit", type("integer"),
                "memory", type("string"), "score", type("integer"),
                "source_lang", type("string"), "source", type("string"),
                "targets", map_of(type("string")), "hits", array_of(span()),
                "status", record_status(), "origin", nullable(type("string")),
                "updated", type("string"), NULL));
  SCHEMA("ConcordanceList",
         object("query lang matches", "query", type("string"), "lang",
                type("string"), "matches", array_of(ref("ConcordanceHit")),
                NULL));
  SCHEMA("Unit",
         object("unit memory variants status", "unit", type("integer"),
                "memory", type("string"), "variants", map_of(type("string")),
                "markup",
                map_of(typed("string", "the TMX segment with inline tags")),
                "props", array_of(type("object")), "status", record_status(),
                "origin", nullable(type("string")), "note",
                nullable(type("string")), "created", type("string"), "updated",
                type("string"), "created_by", nullable(type("string")), NULL));
  SCHEMA("UnitInput",
         object("variants", "memory", typed("string", "default: `default`"),
                "variants",
                map_of(typed("string", "the text in this language (at least "
                                       "two languages)")),
                "origin", type("string"), "note", type("string"), "status",
                record_status(), NULL));
  SCHEMA("UnitUpdate",
         object(NULL, "variants",
                map_of(nullable(typed("string", "null removes the language"))),
                "origin", nullable(type("string")), "note",
                nullable(type("string")), "status", record_status(), NULL));
  SCHEMA("UnitId",
         object("unit", "unit", type("integer"), "created",
                typed("boolean", "false: an identical unit was there"), NULL));
  SCHEMA("CollectionInput",
         object("name", "name",
                typed("string", "1 to 64 characters of [A-Za-z0-9._-]"), NULL));
  SCHEMA("Memory", collection("units"));
  SCHEMA("Glossary", collection("entries"));
  SCHEMA("MemoryList",
         object("memories next", "memories", array_of(ref("Memory")), "next",
                nullable(type("string")), NULL));
  SCHEMA("GlossaryList",
         object("glossaries next", "glossaries", array_of(ref("Glossary")),
                "next", nullable(type("string")), NULL));
  SCHEMA("File", json_pack("{s:s, s:s, s:s}", "type", "string", "format",
                           "binary", "description", "the file itself"));
  SCHEMA("ImportResult",
         object("format imported duplicates", "memory", type("string"),
                "glossary", type("string"), "format", type("string"),
                "imported", type("integer"), "duplicates", type("integer"),
                NULL));
  SCHEMA("TermHit",
         object("entry glossary score matched terms", "entry", type("integer"),
                "glossary", type("string"), "score", type("integer"), "matched",
                object("lang term how", "lang", type("string"), "term",
                       type("string"), "how",
                       enum_of("exact", "prefix", "initials", "inflection",
                               "transliteration", "fuzzy", NULL),
                       NULL),
                "terms", ref("Terms"), "definition", nullable(type("string")),
                "note", nullable(type("string")), "domain",
                nullable(type("string")), "source", nullable(type("string")),
                "status", record_status(), NULL));
  SCHEMA("TermResults", object("query results", "query", type("string"),
                               "results", array_of(ref("TermHit")), NULL));
  SCHEMA("Entry",
         object("entry glossary status terms", "entry", type("integer"),
                "glossary", type("string"), "status", record_status(), "terms",
                ref("Terms"), "definition", nullable(type("string")), "note",
                nullable(type("string")), "domain", nullable(type("string")),
                "source", nullable(type("string")), "origin",
                nullable(type("string")), "created", type("string"), "updated",
                type("string"), "created_by", nullable(type("string")), NULL));
  SCHEMA("EntryList",
         object("entries next", "entries", array_of(ref("Entry")), "next",
                nullable(typed("string", "pass as `after` for the next page")),
                NULL));
  SCHEMA("EntryInput",
         object("terms", "terms",
                map_of(typed("array", "strings, or objects like Term")),
                "definition", type("string"), "note", type("string"), "domain",
                type("string"), "source", type("string"), "status",
                record_status(), NULL));
  SCHEMA("EntryUpdate",
         object(NULL, "terms",
                map_of(nullable(typed("array", "replaces this language's "
                                               "terms; null removes them"))),
                "definition", nullable(type("string")), "note",
                nullable(type("string")), "domain", nullable(type("string")),
                "source", nullable(type("string")), "status", record_status(),
                NULL));
  SCHEMA("EntryId", object("entry", "entry", type("integer"), NULL));
  SCHEMA("Stats",
         object("memories glossaries", "memories", array_of(ref("Memory")),
                "glossaries", array_of(ref("Glossary")), NULL));
  SCHEMA("Health", object("status", "status", enum_of("ok", NULL), NULL));
  SCHEMA("TokenList",
         object("tokens", "tokens",
                array_of(object(
                    "id role", "id", type("integer"), "role",
                    enum_of("contributor", "reviewer", "admin", NULL), "label",
                    nullable(type("string")), "created", type("string"),
                    "revoked", nullable(type("string")), NULL)),
                "next", nullable(type("string")), NULL));
  SCHEMA("TokenInput", object("role", "role",
                              enum_of("contributor", "reviewer", "admin", NULL),
                              "label", type("string"), NULL));
  SCHEMA("TokenCreated",
         object("id token role", "id", type("integer"), "token",
                typed("string", "shown once: `Authorization: Bearer TOKEN`"),
                "role", type("string"), "label", nullable(type("string")),
                NULL));
  SCHEMA("AnalyzeInput",
         object("text", "text",
                typed("string", "the document: at most 2 MiB and 200,000 "
                                "words"),
                "lang",
                typed("string", "its language (or the `lang` parameter)"), "to",
                typed("array", "target languages: tags, or one comma list"),
                "input", enum_of("txt", "md", "html", NULL), "format",
                enum_of("json", "html", "tsv", NULL), "min", type("integer"),
                "glossary", type("string"), "memory", type("string"), "limit",
                type("integer"), "sort", type("string"), "title",
                type("string"), NULL));
  SCHEMA(
      "Analysis",
      object(
          "lang words terms sentences candidates", "lang", type("string"), "to",
          array_of(type("string")), "words", type("integer"), "terms",
          array_of(
              object("entry surface offsets count terms", "entry",
                     type("integer"), "glossary", type("string"), "surface",
                     typed("string", "the first occurrence as read"), "offsets",
                     array_of(span()), "count", type("integer"), "terms",
                     ref("Terms"), "definition", nullable(type("string")),
                     "note", nullable(type("string")), "domain",
                     nullable(type("string")), NULL)),
          "sentences",
          array_of(object(
              "start end text match", "start", type("integer"), "end",
              type("integer"), "text", type("string"), "match",
              json_pack("{s:[o], s:b, s:s}", "allOf", ref("Match"), "nullable",
                        1, "description", "null when nothing reaches `min`"),
              NULL)),
          "candidates",
          array_of(
              object("text kind count score first", "text", type("string"),
                     "abbreviation", nullable(type("string")), "kind",
                     enum_of("acronym", "name", "phrase", NULL), "count",
                     type("integer"), "score",
                     typed("number", "0-1, docs/analyze.md states the formula"),
                     "first", span(), NULL)),
          NULL));
  SCHEMA("TmsLanguages",
         object("sourceLanguages targetLanguages", "sourceLanguages",
                array_of(type("string")), "targetLanguages",
                array_of(type("string")), NULL));
  if (!ok) {
    json_decref(all);
    return NULL;
  }
  return all;
}

/* Schemas of the compatibility endpoints, in their clients' shapes. */
static json_t *compat_schemas(void) {
  return json_pack(
      "{s:o, s:o, s:o, s:o, s:o, s:o}", "TmsSuggestions",
      array_of(object("source target quality rank", "source", type("string"),
                      "target", type("string"), "quality",
                      typed("integer", "0-100"), "rank", type("number"), NULL)),
      "TmsUnit",
      object("target", "source",
             typed("string", "default: the text in the path"), "target",
             type("string"), NULL),
      "TmsUnitList",
      array_of(object("source target", "source", type("string"), "target",
                      type("string"), NULL)),
      "StoreResult",
      object(NULL, "store", type("string"), "added", type("integer"),
             "duplicates", type("integer"), "memory", type("string"),
             "imported", type("integer"), NULL),
      "MyMemoryGet",
      object(
          "responseData responseStatus matches", "responseData",
          object("translatedText match", "translatedText", type("string"),
                 "match", typed("number", "0-1"), NULL),
          "responseStatus", type("integer"), "matches",
          array_of(object("id segment translation source target quality match",
                          "id", type("integer"), "segment", type("string"),
                          "translation", type("string"), "source",
                          type("string"), "target", type("string"), "quality",
                          typed("string", "the score as a string, as MyMemory"),
                          "match", typed("number", "0-1"), "created-by",
                          type("string"), "create-date", type("string"),
                          "last-update-date", type("string"), NULL)),
          NULL),
      "MyMemorySet",
      object("responseData responseStatus", "responseData", enum_of("OK", NULL),
             "responseStatus", type("integer"), "id", type("integer"),
             "created", type("boolean"), "seg", type("string"), "tra",
             type("string"), "langpair", type("string"), "key", type("string"),
             NULL));
}

/* ------------------------------------------------------------ operations */

static json_t *error_response(const char *description) {
  return json_pack("{s:s, s:{s:{s:o}}}", "description", description, "content",
                   "application/json", "schema", ref("Error"));
}

static bool add_error(json_t *responses, const char *status,
                      const char *description) {
  return json_object_set_new(responses, status, error_response(description)) ==
         0;
}

static json_t *parameters(const struct route *r) {
  json_t *a = json_array();
  bool ok = a != NULL;

  for (const struct param_doc *p = r->params; ok && p && p->name; p++)
    ok = json_array_append_new(
             a, json_pack("{s:s, s:s, s:b, s:s, s:o}", "name", p->name, "in",
                          p->in, "required", p->required, "description",
                          p->description, "schema", type(p->type))) == 0;
  if (!ok) {
    json_decref(a);
    return NULL;
  }
  return a;
}

static json_t *request_body(const struct route *r) {
  json_t *s = r->request_schema ? ref(r->request_schema) : type("object");

  switch (r->body) {
  case BODY_NONE:
    json_decref(s);
    return NULL;
  case BODY_JSON:
    return json_pack("{s:b, s:{s:{s:o}}}", "required", 1, "content",
                     "application/json", "schema", s);
  case BODY_FILE:
    return json_pack("{s:b, s:{s:{s:o}, s:{s:O}, s:{s:O}, s:{s:O}}}",
                     "required", 1, "content", "application/octet-stream",
                     "schema", s, "application/xml", "schema", s,
                     "text/tab-separated-values", "schema", s, "text/csv",
                     "schema", s);
  case BODY_FORM:
    return json_pack("{s:b, s:{s:{s:o}, s:{s:O}}}", "required", 0, "content",
                     "application/json", "schema", s,
                     "application/x-www-form-urlencoded", "schema", s);
  case BODY_TEXT:
    return json_pack("{s:b, s:{s:{s:o}, s:{s:o}, s:{s:o}, s:{s:o}}}",
                     "required", 1, "content", "application/json", "schema", s,
                     "text/plain", "schema", type("string"), "text/markdown",
                     "schema", type("string"), "text/html", "schema",
                     type("string"));
  }
  json_decref(s);
  return NULL;
}

/* {"type/a": {"schema": string}, ...} for a ", "-separated list. */
static json_t *content_types(const char *list) {
  json_t *o = json_object();
  bool ok = o != NULL;

  for (const char *p = list; ok && *p;) {
    char mime[64];
    size_t n = strcspn(p, ",");
    if (n >= sizeof mime) {
      ok = false;
      break;
    }
    memcpy(mime, p, n);
    mime[n] = '\0';
    ok = json_object_set_new(o, mime,
                             json_pack("{s:o}", "schema", type("string"))) == 0;
    p += n;
    while (*p == ',' || *p == ' ')
      p++;
  }
  if (!ok) {
    json_decref(o);
    return NULL;
  }
  return o;
}

static json_t *responses(const struct route *r) {
  json_t *o = json_object(), *ok_resp;
  char status[8];
  bool ok = o != NULL, needs_token = r->role != TM_ROLE_NONE;

  snprintf(status, sizeof status, "%u", r->ok);
  if (r->ok == 204)
    ok_resp = json_pack("{s:s}", "description", "done");
  else if (r->ok_type) {
    json_t *types = content_types(r->ok_type), *js;
    /* A JSON answer among the types has the route's schema. */
    if (types && r->response_schema &&
        (js = json_object_get(types, "application/json")))
      json_object_set_new(js, "schema", ref(r->response_schema));
    ok_resp =
        json_pack("{s:s, s:o}", "description", r->summary, "content", types);
  } else
    ok_resp = json_pack("{s:s, s:{s:{s:o}}}", "description", r->summary,
                        "content", "application/json", "schema",
                        r->response_schema ? ref(r->response_schema)
                                           : type("object"));
  ok = ok && json_object_set_new(o, status, ok_resp) == 0;
  if (ok && r->ok == 201)
    ok = json_object_set_new(o, "200",
                             json_pack("{s:s, s:{s:{s:o}}}", "description",
                                       "an identical record was already there",
                                       "content", "application/json", "schema",
                                       r->response_schema
                                           ? ref(r->response_schema)
                                           : type("object"))) == 0;
  if (ok && (r->params || r->body != BODY_NONE))
    ok = add_error(o, "400", "a missing or invalid parameter or body");
  if (ok && !(r->flags & R_PUBLIC))
    ok = add_error(o, "401",
                   needs_token ? "no token, or an unknown one"
                               : "no valid token (only with --private)");
  if (ok && !(r->flags & R_PUBLIC))
    ok = add_error(o, "403", "the token was revoked or its role is too low");
  if (ok && !(r->flags & R_PUBLIC))
    ok = add_error(o, "404", "no such record or collection");
  if (ok && (r->flags & R_CONFLICT))
    ok = add_error(o, "409", "it exists already");
  if (ok && r->body != BODY_NONE)
    ok = add_error(o, "413", "the body is over the limit");
  if (ok && (r->flags & R_FORMATS))
    ok = add_error(o, "415", "a format this endpoint does not take");
  if (ok)
    ok = add_error(o, "default", "an error");
  if (!ok) {
    json_decref(o);
    return NULL;
  }
  return o;
}

/* "/tmserver/{slang}/{tlang}/unit/{text...}" -> ".../unit/{text}". */
static void openapi_path(const char *pattern, char *out, size_t cap) {
  size_t o = 0;

  for (const char *p = pattern; *p && o + 1 < cap; p++) {
    if (strncmp(p, "...}", 4) == 0) {
      out[o++] = '}';
      p += 3;
      continue;
    }
    out[o++] = *p;
  }
  out[o] = '\0';
}

static void operation_id(const struct route *r, char *out, size_t cap) {
  size_t o = 0;
  bool sep = true;

  for (const char *p = method_name(r->method); *p && o + 1 < cap; p++)
    out[o++] = (char)tolower((unsigned char)*p);
  for (const char *p = r->pattern; *p && o + 1 < cap; p++) {
    if (isalnum((unsigned char)*p)) {
      if (sep && o + 2 < cap)
        out[o++] = '_';
      out[o++] = *p;
      sep = false;
    } else {
      sep = true;
    }
  }
  out[o] = '\0';
}

static json_t *operation(const struct route *r) {
  char id[128], role[64];
  json_t *op, *params = parameters(r), *body = request_body(r);
  bool ok;

  operation_id(r, id, sizeof id);
  op = json_pack("{s:[s], s:s, s:s, s:o, s:o}", "tags", r->tag, "summary",
                 r->summary, "operationId", id, "parameters", params,
                 "responses", responses(r));
  ok = op != NULL;
  if (ok && r->description)
    ok = json_object_set_new(op, "description", json_string(r->description)) ==
         0;
  if (ok && body)
    ok = json_object_set_new(op, "requestBody", json_incref(body)) == 0;
  if (ok && !(r->flags & R_PUBLIC)) {
    snprintf(role, sizeof role, "%s",
             r->role == TM_ROLE_NONE ? "none (a token with --private)"
                                     : tm_role_name(r->role));
    ok = json_object_set_new(op, "x-required-role", json_string(role)) == 0;
    if (ok && r->role != TM_ROLE_NONE) {
      json_t *sec = json_pack("[{s:[]}, {s:[]}]", "bearer", "basic");
      ok = sec && (!(r->flags & R_KEY) ||
                   json_array_append_new(sec, json_pack("{s:[]}", "key")) == 0);
      ok = json_object_set_new(op, "security", sec) == 0 && ok;
    }
  }
  json_decref(body);
  if (!ok) {
    json_decref(op);
    return NULL;
  }
  return op;
}

json_t *openapi_document(void) {
  json_t *paths = json_object(), *doc = NULL, *all = schemas(),
         *extra = compat_schemas();
  bool ok = paths && all && extra && json_object_update(all, extra) == 0;

  for (size_t i = 0; ok && i < nroutes; i++) {
    const struct route *r = &routes[i];
    char path[128], method[16];
    json_t *item;
    size_t k;

    openapi_path(r->pattern, path, sizeof path);
    for (k = 0; method_name(r->method)[k] && k + 1 < sizeof method; k++)
      method[k] = (char)tolower((unsigned char)method_name(r->method)[k]);
    method[k] = '\0';
    if (!(item = json_object_get(paths, path))) {
      ok = json_object_set_new(paths, path, json_object()) == 0;
      item = json_object_get(paths, path);
    }
    ok = ok && item && json_object_set_new(item, method, operation(r)) == 0;
  }
  if (ok)
    doc = json_pack(
        "{s:s, s:{s:s, s:s, s:s}, s:[{s:s}], s:O,"
        " s:{s:O, s:{s:{s:s, s:s}, s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s}}}}",
        "openapi", "3.0.3", "info", "title",
        "tm translation memory and glossary", "version", SRV_VERSION,
        "description",
        "Fuzzy matches, concordance and term search over English, Korean, "
        "Ukrainian and any BCP-47 language.  JSON in UTF-8; every error is "
        "{\"error\": {\"status\", \"code\", \"message\"}}.  Reading is open "
        "unless the server runs with --private; writing needs "
        "`Authorization: Bearer TOKEN` with a role (contributor < reviewer < "
        "admin), made with `tm token create`.",
        "servers", "url", "/", "paths", paths, "components", "schemas", all,
        "securitySchemes", "bearer", "type", "http", "scheme", "bearer",
        "basic", "type", "http", "scheme", "basic", "description",
        "the token as the password (or the user name)", "key", "type", "apiKey",
        "in", "query", "name", "key");
  json_decref(paths);
  json_decref(all);
  json_decref(extra);
  return doc;
}
