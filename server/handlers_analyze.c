/*
 * handlers_analyze.c - POST /api/v1/analyze: the glossary terms a document
 * uses, each sentence's best memory match and the candidate new terms
 * (libtm's tm_analyze), as JSON or as a prep sheet (tm_analysis_export).
 *
 * The document is the `text` member of a JSON body, or the body itself
 * (text/plain, text/markdown, text/html).  Every option may be a member of
 * the JSON body or a query parameter; the body's member wins.
 */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CANDIDATES_DEFAULT 100
#define CANDIDATES_MAX 10000

/* Option NAME as a string: the JSON body's member, else the query
 * parameter; *out NULL when absent.  False after an error reply (a member
 * that is not a string). */
static bool opt_str(struct request *rq, const char *name, const char **out) {
  json_t *v = rq->json ? json_object_get(rq->json, name) : NULL;
  size_t len;

  *out = NULL;
  if (v && !json_is_null(v)) {
    if (!json_is_string(v)) {
      reply_error(rq, 400, "invalid_parameter", "%s must be a string", name);
      return false;
    }
    *out = json_string_value(v);
    return true;
  }
  *out = param_raw(rq, name, &len);
  if (*out && len == 0)
    *out = NULL;
  return true;
}

/* Option NAME as an integer in [MIN, MAX]; DEF when absent. */
static bool opt_int(struct request *rq, const char *name, long def, long min,
                    long max, long *out) {
  json_t *v = rq->json ? json_object_get(rq->json, name) : NULL;

  if (v && !json_is_null(v)) {
    json_int_t n;
    if (!json_is_integer(v) || (n = json_integer_value(v)) < min || n > max) {
      reply_error(rq, 400, "invalid_parameter",
                  "%s must be an integer from %ld to %ld", name, min, max);
      return false;
    }
    *out = (long)n;
    return true;
  }
  return param_int(rq, name, def, min, max, false, out);
}

/* Adds the tags of the comma list S to OUT. */
static bool add_tags(struct request *rq, const char *s, struct langs *out) {
  while (*s) {
    char tag[TM_LANG_MAX * 2];
    size_t n = strcspn(s, ",");
    if (n > 0) {
      if (n >= sizeof tag || out->n == SRV_MAX_LANGS) {
        reply_error(rq, 400, "invalid_language",
                    "to: at most %d tags of at most %d characters",
                    SRV_MAX_LANGS, TM_LANG_MAX - 1);
        return false;
      }
      memcpy(tag, s, n);
      tag[n] = '\0';
      if (!lang_canonical(rq, "to", tag, out->tag[out->n]))
        return false;
      out->v[out->n] = out->tag[out->n];
      out->n++;
    }
    s += n;
    if (*s == ',')
      s++;
  }
  return true;
}

/* The target languages: a JSON array of tags or a comma list, in the body
 * or the query. */
static bool opt_langs(struct request *rq, struct langs *out) {
  json_t *v = rq->json ? json_object_get(rq->json, "to") : NULL;
  const char *s;

  out->n = 0;
  if (v && json_is_array(v)) {
    size_t i;
    json_t *t;
    json_array_foreach(v, i, t) {
      if (!json_is_string(t)) {
        reply_error(rq, 400, "invalid_parameter", "to must hold language tags");
        return false;
      }
      if (!add_tags(rq, json_string_value(t), out))
        return false;
    }
    return true;
  }
  return opt_str(rq, "to", &s) && (!s || add_tags(rq, s, out));
}

/* The document's format: the option, else a text body's Content-Type. */
static bool opt_input(struct request *rq, tm_input_format *out) {
  const char *s, *ct;

  if (!opt_str(rq, "input", &s))
    return false;
  if (s) {
    if (tm_input_format_parse(s, out) != TM_OK) {
      reply_error(rq, 400, "invalid_parameter",
                  "input is txt, md or html, not \"%.32s\"", s);
      return false;
    }
    return true;
  }
  *out = TM_INPUT_PLAIN;
  ct = http_header(rq, MHD_HTTP_HEADER_CONTENT_TYPE);
  if (!rq->json && ct && strncasecmp(ct, "text/markdown", 13) == 0)
    *out = TM_INPUT_MARKDOWN;
  else if (!rq->json && ct && strncasecmp(ct, "text/html", 9) == 0)
    *out = TM_INPUT_HTML;
  return true;
}

/* A collection option that must exist. */
static bool opt_collection(struct request *rq, const char *name, tm_kind kind,
                           const char **out) {
  return opt_str(rq, name, out) &&
         (!*out || collection_exists(rq, rq->db, kind, *out));
}

struct sheet {
  char *p;
  size_t len, cap;
};

static int sheet_write(void *ctx, const void *data, size_t len) {
  struct sheet *b = ctx;

  if (b->len + len > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 65536;
    char *p;
    while (cap < b->len + len)
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

/* The prep sheet of A in FORMAT as the reply.  It is made in memory and
 * sent with its length, as exports are. */
static void sheet_reply(struct request *rq, const tm_analysis *a,
                        tm_format format, const char *title, const char *sort) {
  tm_prep_opts po = {0};
  struct sheet b = {0};
  bool html = format == TM_FORMAT_HTML;
  tm_status s;

  po.format = format;
  po.title = title;
  po.sort_lang = sort;
  if ((s = tm_analysis_export(rq->db, a, &po, sheet_write, &b)) != TM_OK) {
    free(b.p);
    reply_tm(rq, rq->db, s);
    return;
  }
  reply_bytes(rq, 200,
              html ? "text/html; charset=utf-8"
                   : "text/tab-separated-values; charset=utf-8",
              b.p, b.len);
  if (!reply_header(rq, MHD_HTTP_HEADER_CONTENT_DISPOSITION,
                    html ? "inline; filename=\"prep.html\""
                         : "attachment; filename=\"prep.tsv\"") ||
      (html && !reply_header(rq, "Content-Security-Policy",
                             "default-src 'none'; style-src 'unsafe-inline'; "
                             "img-src data:")))
    reply_error(rq, 500, "out_of_memory", "out of memory");
}

void h_analyze(struct request *rq) {
  const char *ct = http_header(rq, MHD_HTTP_HEADER_CONTENT_TYPE);
  const char *lang_s, *format_s, *glossary, *memory, *title, *sort_s;
  const char *text = NULL;
  size_t len = 0;
  char lang[TM_LANG_MAX], sort[TM_LANG_MAX];
  struct langs to, only;
  tm_analyze_opts o = {0};
  tm_format format = 0;
  tm_analysis *a = NULL;
  long min, limit;
  tm_status s;

  /* A JSON object (parsed by the dispatcher), else the text itself. */
  if (!rq->json && ct && strncasecmp(ct, "text/", 5) != 0 &&
      strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0) {
    reply_error(rq, 415, "unsupported_format",
                "send JSON {\"text\", \"lang\", ...} or the text itself as "
                "text/plain, text/markdown or text/html");
    return;
  }
  if (rq->json) {
    json_t *t = json_object_get(rq->json, "text");
    if (t && !json_is_string(t)) {
      reply_error(rq, 400, "invalid_parameter", "text must be a string");
      return;
    }
    if (t) {
      text = json_string_value(t);
      len = json_string_length(t);
    }
  } else {
    text = rq->body;
    len = rq->body_len;
  }
  if (!text || len == 0) {
    reply_error(rq, 400, "missing_parameter", "text is required: the body");
    return;
  }
  if (!opt_str(rq, "lang", &lang_s) || !opt_langs(rq, &to) ||
      !opt_str(rq, "format", &format_s) || !opt_input(rq, &o.format) ||
      !opt_int(rq, "min", 70, 1, 100, &min) ||
      !opt_int(rq, "limit", CANDIDATES_DEFAULT, 1, CANDIDATES_MAX, &limit) ||
      !opt_collection(rq, "glossary", TM_GLOSSARY, &glossary) ||
      !opt_collection(rq, "memory", TM_MEMORY, &memory) ||
      !opt_str(rq, "title", &title) || !opt_str(rq, "sort", &sort_s))
    return;
  if (!lang_s) {
    reply_error(rq, 400, "missing_parameter", "lang is required");
    return;
  }
  if (!lang_canonical(rq, "lang", lang_s, lang) ||
      (sort_s && !lang_canonical(rq, "sort", sort_s, sort)))
    return;
  if (format_s && strcmp(format_s, "json") != 0) {
    if (strcmp(format_s, "html") == 0)
      format = TM_FORMAT_HTML;
    else if (strcmp(format_s, "tsv") == 0)
      format = TM_FORMAT_TSV;
    else {
      reply_error(rq, 400, "invalid_parameter",
                  "format is json, html or tsv, not \"%.32s\"", format_s);
      return;
    }
  }
  o.lang = lang;
  o.to = to.n ? to.v : NULL;
  o.nto = to.n;
  o.min = (int)min;
  o.glossary = glossary;
  o.memory = memory;
  o.max_candidates = (size_t)limit;
  if ((s = tm_analyze(rq->srv->index, rq->db, text, len, &o, &a)) != TM_OK) {
    reply_tm(rq, rq->db, s);
    return;
  }
  if (format) {
    sheet_reply(rq, a, format, title, sort_s ? sort : NULL);
  } else {
    /* An entry's terms in the document's and the target languages. */
    only = to;
    if (only.n && only.n < SRV_MAX_LANGS) {
      memcpy(only.tag[only.n], lang, sizeof lang);
      only.v[only.n] = only.tag[only.n];
      only.n++;
    }
    for (size_t i = 0; i < only.n; i++)
      only.v[i] = only.tag[i];
    reply_json(rq, 200, json_analysis(a, (render_langs[]){langs_view(&only)}));
  }
  tm_analysis_free(a);
}
