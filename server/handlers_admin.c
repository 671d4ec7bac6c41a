/*
 * handlers_admin.c - operations (stats, health, metrics, the OpenAPI
 * document), API tokens, and what the other handlers share: ids, the
 * contributor's right to edit a record, imports and exports of request and
 * response bodies.
 */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------- shared */

bool path_id(struct request *rq, size_t i, int64_t *id) {
  /* The route's {id} matched 1 to 18 digits. */
  long long v = i < rq->npath ? strtoll(rq->path[i].value, NULL, 10) : 0;

  *id = v;
  if (v <= 0) {
    reply_error(rq, 404, "not_found", "no such record");
    return false;
  }
  return true;
}

int64_t created_by_token(const char *created_by) {
  /* libtm names a token actor "token ID" or "token ID (LABEL)". */
  if (!created_by || strncmp(created_by, "token ", 6) != 0)
    return 0;
  return strtoll(created_by + 6, NULL, 10);
}

bool may_edit(struct request *rq, const char *created_by,
              tm_record_status status) {
  if (rq->role >= TM_ROLE_REVIEWER)
    return true;
  if (status == TM_DRAFT && rq->token &&
      created_by_token(created_by) == rq->token)
    return true;
  reply_error(rq, 403, "forbidden",
              "a contributor may edit only their own drafts; this needs the "
              "reviewer role");
  return false;
}

bool body_status(struct request *rq, json_t *obj, tm_record_status *out,
                 bool *set) {
  json_t *v = json_object_get(obj, "status");

  *set = false;
  if (!v || json_is_null(v))
    return true;
  if (!json_is_string(v) ||
      tm_record_status_parse(json_string_value(v), out) != TM_OK) {
    reply_error(rq, 400, "invalid_parameter",
                "status must be draft, approved or deprecated");
    return false;
  }
  if (*out != TM_DRAFT && rq->role < TM_ROLE_REVIEWER) {
    reply_error(rq, 403, "forbidden", "only a reviewer approves or deprecates");
    return false;
  }
  *set = true;
  return true;
}

bool collection_exists(struct request *rq, tm_db *db, tm_kind kind,
                       const char *name) {
  int exists = 0;
  tm_status s = tm_collection_exists(db, kind, name, &exists);

  if (s != TM_OK) {
    reply_tm(rq, db, s);
    return false;
  }
  if (!exists) {
    reply_error(rq, 404, "not_found", "no %s named \"%s\"",
                kind == TM_MEMORY ? "memory" : "glossary", name);
    return false;
  }
  return true;
}

bool member_str(struct request *rq, json_t *obj, const char *key,
                const char **out, bool *present) {
  json_t *v = json_object_get(obj, key);

  *out = NULL;
  if (present)
    *present = v != NULL;
  if (!v || json_is_null(v))
    return true;
  if (!json_is_string(v)) {
    reply_error(rq, 400, "invalid_parameter", "%s must be a string", key);
    return false;
  }
  *out = json_string_value(v);
  return true;
}

bool reply_location(struct request *rq, const char *prefix, int64_t id) {
  char url[64];

  snprintf(url, sizeof url, "%s%lld", prefix, (long long)id);
  if (reply_header(rq, MHD_HTTP_HEADER_LOCATION, url))
    return true;
  reply_error(rq, 500, "out_of_memory", "out of memory");
  return false;
}

bool replace_str(struct request *rq, char **field, const char *value) {
  char *copy = NULL;

  if (value && !(copy = strdup(value))) {
    reply_error(rq, 500, "out_of_memory", "out of memory");
    return false;
  }
  free(*field);
  *field = copy;
  return true;
}

static bool format_fits(tm_kind kind, tm_format f) {
  switch (f) {
  case TM_FORMAT_TMX:
    return kind == TM_MEMORY;
  case TM_FORMAT_TBX:
  case TM_FORMAT_TBX_MARTIF:
    return kind == TM_GLOSSARY;
  case TM_FORMAT_TSV:
  case TM_FORMAT_CSV:
    return true;
  case TM_FORMAT_HTML:
  case TM_FORMAT_AUTO:
    break;
  }
  return false;
}

static bool format_param(struct request *rq, tm_kind kind, bool exporting,
                         tm_format *out) {
  size_t len;
  const char *v = param_raw(rq, "format", &len);
  const char *ok = kind == TM_MEMORY ? "tmx, tsv or csv"
                   : exporting       ? "tbx, tbx-martif, csv, tsv or html"
                                     : "tbx, tbx-martif, csv or tsv";

  if (tm_format_parse(v, out) != TM_OK ||
      !(format_fits(kind, *out) ||
        (exporting && kind == TM_GLOSSARY && *out == TM_FORMAT_HTML))) {
    reply_error(rq, 415, "unsupported_format", "format must be %s", ok);
    return false;
  }
  return true;
}

bool import_format(struct request *rq, tm_kind kind, tm_format *out) {
  static const struct {
    const char *type;
    tm_format memory, glossary;
  } types[] = {
      {"application/x-tmx+xml", TM_FORMAT_TMX, TM_FORMAT_AUTO},
      {"application/x-tbx+xml", TM_FORMAT_AUTO, TM_FORMAT_TBX},
      {"application/xml", TM_FORMAT_TMX, TM_FORMAT_TBX},
      {"text/xml", TM_FORMAT_TMX, TM_FORMAT_TBX},
      {"text/tab-separated-values", TM_FORMAT_TSV, TM_FORMAT_TSV},
      {"text/csv", TM_FORMAT_CSV, TM_FORMAT_CSV},
  };
  const char *ct = http_header(rq, MHD_HTTP_HEADER_CONTENT_TYPE);
  size_t len;

  if (param_raw(rq, "format", &len))
    return format_param(rq, kind, false, out);
  for (size_t i = 0; ct && i < sizeof types / sizeof types[0]; i++) {
    size_t n = strlen(types[i].type);
    if (strncasecmp(ct, types[i].type, n) == 0 &&
        (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ')) {
      *out = kind == TM_MEMORY ? types[i].memory : types[i].glossary;
      if (*out != TM_FORMAT_AUTO)
        return true;
    }
  }
  reply_error(rq, 400, "missing_parameter",
              "format is required (%s), or a Content-Type that names it",
              kind == TM_MEMORY ? "tmx, tsv or csv"
                                : "tbx, tbx-martif, csv or tsv");
  return false;
}

void import_body(struct request *rq, tm_kind kind, const char *name,
                 tm_format format, const char *source) {
  tm_import_opts o = {0};
  tm_import_result res;
  const char *status = NULL;
  char fallback[96];
  tm_status s;

  if (rq->body_len == 0) {
    reply_error(rq, 400, "missing_parameter", "the body is the file to import");
    return;
  }
  if (!param_name(rq, "status", 16, &status))
    return;
  if (status && tm_record_status_parse(status, &o.status) != TM_OK) {
    reply_error(rq, 400, "invalid_parameter",
                "status must be draft or "
                "approved");
    return;
  }
  if (!source) {
    if (!param_name(rq, "filename", 200, &source))
      return;
    if (!source) {
      snprintf(fallback, sizeof fallback, "%.64s.%s", name,
               tm_format_name(format));
      source = fallback;
    }
  }
  o.format = format;
  o.kind = kind;
  o.collection = name;
  o.name = source;
  o.who = &rq->who;
  s = tm_import_buffer(rq->wdb, rq->body, rq->body_len, &o, &res);
  if (s != TM_OK) {
    reply_tm(rq, rq->wdb, s);
    return;
  }
  reply_json(rq, 200,
             json_pack("{s:s, s:s, s:I, s:I}",
                       kind == TM_MEMORY ? "memory" : "glossary", name,
                       "format", tm_format_name(format), "imported",
                       (json_int_t)res.records, "duplicates",
                       (json_int_t)res.duplicates));
}

struct buffer {
  char *p;
  size_t len, cap;
};

static int buffer_write(void *ctx, const void *data, size_t len) {
  struct buffer *b = ctx;

  if (len > b->cap - b->len) {
    size_t cap = b->cap ? b->cap : 64 * 1024;
    char *p;
    while (cap - b->len < len)
      cap *= 2;
    if (!(p = realloc(b->p, cap)))
      return -1;
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, data, len);
  b->len += len;
  return 0;
}

/* Exports are built in memory, then sent with their length: a failure
 * half-way is a clean error status rather than a truncated file that looks
 * complete.  (The 77 MB reference corpus as TMX costs about that much for
 * the time it is sent.) */
void export_reply(struct request *rq, tm_kind kind, const char *name) {
  static const struct {
    tm_format format;
    const char *type, *ext;
  } types[] = {
      {TM_FORMAT_TMX, "application/x-tmx+xml; charset=utf-8", "tmx"},
      {TM_FORMAT_TBX, "application/x-tbx+xml; charset=utf-8", "tbx"},
      {TM_FORMAT_TBX_MARTIF, "application/x-tbx+xml; charset=utf-8", "tbx"},
      {TM_FORMAT_TSV, "text/tab-separated-values; charset=utf-8", "tsv"},
      {TM_FORMAT_CSV, "text/csv; charset=utf-8", "csv"},
      {TM_FORMAT_HTML, "text/html; charset=utf-8", "html"},
  };
  tm_export_opts o = {0};
  struct buffer b = {0};
  struct langs langs;
  char sort[TM_LANG_MAX], disposition[160];
  const char *type = NULL, *ext = NULL;
  char *domain = NULL;
  bool approved;
  size_t len;
  tm_status s;

  if (param_raw(rq, "format", &len)) {
    if (!format_param(rq, kind, true, &o.format))
      goto out;
  } else {
    o.format = kind == TM_MEMORY ? TM_FORMAT_TMX : TM_FORMAT_TBX;
  }
  if (!param_langs(rq, "langs", &langs) || !param_approved(rq, &approved) ||
      !param_lang(rq, "sort", false, sort) ||
      !param_text(rq, "domain", false, 1024, &domain))
    goto out;
  o.kind = kind;
  o.collection = name;
  o.langs = langs.n ? langs.v : NULL;
  o.nlangs = langs.n;
  o.sort_lang = sort[0] ? sort : NULL;
  o.domain = domain;
  o.approved_only = approved;
  if ((s = tm_export(rq->db, &o, buffer_write, &b)) != TM_OK) {
    free(b.p);
    reply_tm(rq, rq->db, s);
    goto out;
  }
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
    if (types[i].format == o.format) {
      type = types[i].type;
      ext = types[i].ext;
    }
  /* Collection names are [A-Za-z0-9._-]: safe inside the quotes. */
  snprintf(disposition, sizeof disposition, "%s; filename=\"%s.%s\"",
           o.format == TM_FORMAT_HTML ? "inline" : "attachment", name,
           ext ? ext : "txt");
  reply_bytes(rq, 200, type, b.p, b.len);
  if (!reply_header(rq, MHD_HTTP_HEADER_CONTENT_DISPOSITION, disposition) ||
      (o.format == TM_FORMAT_HTML &&
       !reply_header(rq, "Content-Security-Policy",
                     "default-src 'none'; style-src 'unsafe-inline'; "
                     "img-src data:")))
    reply_error(rq, 500, "out_of_memory", "out of memory");
out:
  tm_free(domain);
}

/* ---------------------------------------------------------- operations */

void h_stats(struct request *rq) {
  tm_collection *mem = NULL, *glo = NULL;
  size_t nmem = 0, nglo = 0;
  tm_status s = tm_stats(rq->db, &mem, &nmem, &glo, &nglo);

  if (s != TM_OK) {
    reply_tm(rq, rq->db, s);
    return;
  }
  reply_json(rq, 200,
             json_pack("{s:o, s:o}", "memories",
                       json_collections(mem, nmem, TM_MEMORY), "glossaries",
                       json_collections(glo, nglo, TM_GLOSSARY)));
  tm_collection_list_free(mem, nmem);
  tm_collection_list_free(glo, nglo);
}

void h_healthz(struct request *rq) {
  int version = 0;
  tm_status s = tm_db_file_schema_version(rq->db, &version);

  if (s != TM_OK) {
    reply_error(rq, 503, "unavailable", "the database does not answer: %s",
                tm_status_message(s));
    return;
  }
  reply_json(rq, 200, json_pack("{s:s}", "status", "ok"));
}

void h_metrics(struct request *rq) {
  size_t len = 0;
  char *text = metrics_render(rq->srv, rq->db, &len);

  if (!text) {
    reply_error(rq, 500, "out_of_memory", "out of memory");
    return;
  }
  reply_bytes(rq, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
}

void h_openapi(struct request *rq) {
  reply_json(rq, 200, openapi_document());
}

/* -------------------------------------------------------------- tokens */

void h_tokens_list(struct request *rq) {
  tm_token_info *t = NULL;
  size_t n = 0;
  tm_status s = tm_token_list(rq->db, &t, &n);
  json_t *a;
  bool ok;

  if (s != TM_OK) {
    reply_tm(rq, rq->db, s);
    return;
  }
  ok = (a = json_array()) != NULL;
  for (size_t i = 0; ok && i < n; i++)
    ok = json_array_append_new(
             a, json_pack("{s:I, s:s, s:o, s:o, s:o}", "id",
                          (json_int_t)t[i].id, "role", tm_role_name(t[i].role),
                          "label", json_str_or_null(t[i].label), "created",
                          json_time(t[i].created), "revoked",
                          json_time(t[i].revoked))) == 0;
  if (!ok) {
    json_decref(a);
    a = NULL;
  }
  reply_json(rq, 200, a ? json_pack("{s:o, s:n}", "tokens", a, "next") : NULL);
  tm_token_list_free(t, n);
}

void h_token_create(struct request *rq) {
  const char *role_name, *label;
  char *secret = NULL;
  tm_role role;
  int64_t id;
  tm_status s;

  if (!member_str(rq, rq->json, "role", &role_name, NULL) ||
      !member_str(rq, rq->json, "label", &label, NULL))
    return;
  if (!role_name || tm_role_parse(role_name, &role) != TM_OK ||
      role == TM_ROLE_NONE) {
    reply_error(rq, 400, "invalid_parameter",
                "role must be contributor, reviewer or admin");
    return;
  }
  if ((s = tm_token_create(rq->wdb, role, label, &id, &secret)) != TM_OK) {
    reply_tm(rq, rq->wdb, s);
    return;
  }
  reply_json(rq, 201,
             json_pack("{s:I, s:s, s:s, s:o}", "id", (json_int_t)id, "token",
                       secret, "role", tm_role_name(role), "label",
                       json_str_or_null(label)));
  tm_free(secret);
}

void h_token_revoke(struct request *rq) {
  int64_t id;
  tm_status s;

  if (!path_id(rq, 0, &id))
    return;
  if ((s = tm_token_revoke(rq->wdb, id)) != TM_OK) {
    reply_tm(rq, rq->wdb, s);
    return;
  }
  reply_empty(rq, 204);
}
