/*
 * compat.c - the protocols existing clients already speak, answered from
 * the same library calls as the native API.
 *
 * amaGama / translate-toolkit tmserver (/tmserver/), as Weblate and
 * Virtaal call it: Weblate lower-cases language codes with `_` (pt_br),
 * cuts the text to 500 characters, replaces \r with a space, percent-
 * encodes it with `/` as %2F and calls languages/ first; Virtaal sends
 * PUT and POST on unit/ (JSON, the POST labelled as a form) and store/.
 * The answer is a JSON array of {source, target, quality, rank}, cacheable
 * for an hour, as amaGama sends it.
 *
 * MyMemory (/mymemory/): get and set in MyMemory's shape, where `match` is
 * a fraction 0-1 and `quality` a string.
 */
#include "server.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------- helpers */

/* Validates ?jsoncallback=: a JavaScript name (dots allowed), so that the
 * JSONP wrapper cannot become script injection.  *cb NULL when absent. */
static bool jsonp_name(struct request *rq, const char **cb) {
  size_t len;
  const char *v = param_raw(rq, "jsoncallback", &len);

  *cb = NULL;
  if (!v || len == 0)
    return true;
  if (len > 64 || strlen(v) != len || isdigit((unsigned char)v[0]))
    goto bad;
  for (size_t i = 0; i < len; i++)
    if (!isalnum((unsigned char)v[i]) && !strchr("_$.", v[i]))
      goto bad;
  *cb = v;
  return true;
bad:
  reply_error(rq, 400, "invalid_parameter",
              "jsoncallback must be a JavaScript name");
  return false;
}

/* Sets the JSONP wrapper of the reply already made. */
static void set_jsonp(struct request *rq, const char *cb) {
  if (cb && rq->reply.is_json && rq->reply.status < 400 &&
      !(rq->reply.jsonp = strdup(cb)))
    reply_error(rq, 500, "out_of_memory", "out of memory");
}

/* tmserver language codes: "en_gb" for en-GB. */
static void tms_code(const char *tag, char *out) {
  size_t i;

  for (i = 0; tag[i] && i < TM_LANG_MAX - 1; i++)
    out[i] = tag[i] == '-' ? '_' : (char)tolower((unsigned char)tag[i]);
  out[i] = '\0';
}

static int cmp_code(const void *a, const void *b) {
  return strcmp(a, b);
}

/* Adds a unit of two variants to MEMORY (default "default"). */
static void add_pair(struct request *rq, const char *from, const char *source,
                     size_t slen, const char *to, const char *target,
                     size_t tlen, int64_t *id, int *created) {
  const char *memory;
  tm_unit *u = calloc(1, sizeof *u);
  char *s = NULL, *t = NULL;
  tm_status st;

  *id = 0;
  if (!u) {
    reply_error(rq, 500, "out_of_memory", "out of memory");
    return;
  }
  if (!param_name(rq, "memory", 64, &memory) ||
      !text_nfc(rq, "source", source, slen, rq->body_limit, &s) ||
      !text_nfc(rq, "target", target, tlen, rq->body_limit, &t))
    goto out;
  if (!memory)
    memory = "default";
  if (!collection_exists(rq, rq->wdb, TM_MEMORY, memory))
    goto out;
  if ((st = tm_unit_set(u, from, s)) != TM_OK ||
      (st = tm_unit_set(u, to, t)) != TM_OK ||
      (st = tm_unit_add(rq->wdb, memory, u, &rq->who, id, created)) != TM_OK) {
    reply_tm(rq, rq->wdb, st);
    *id = 0;
  }
out:
  tm_free(s);
  tm_free(t);
  tm_unit_free(u);
}

/* Matches of Q from FROM into the single language TO. */
static tm_status find(struct request *rq, const char *q, const char *from,
                      const char *to, int min, size_t limit, tm_match **m,
                      size_t *n) {
  const char *targets[1] = {to};
  tm_match_opts o = {NULL, from, targets, 1, min, limit, 0, 0};

  return tm_match_find(rq->srv->index, rq->db, q, &o, m, n);
}

/* ------------------------------------------------------------ tmserver */

void h_tms_languages(struct request *rq) {
  tm_collection *c = NULL;
  size_t n = 0, ncodes = 0, cap = 0;
  char(*codes)[TM_LANG_MAX] = NULL;
  json_t *src = NULL, *dst = NULL;
  const char *cb;
  tm_status s;
  bool ok = true;

  if (!jsonp_name(rq, &cb))
    return;
  if ((s = tm_collection_list(rq->db, TM_MEMORY, &c, &n)) != TM_OK) {
    reply_tm(rq, rq->db, s);
    return;
  }
  /* Every tag with units, and its primary language ("en" for en_gb). */
  for (size_t i = 0; ok && i < n; i++)
    for (size_t k = 0; ok && k < c[i].nlangs; k++) {
      if (ncodes + 2 > cap) {
        size_t ncap = cap ? cap * 2 : 16;
        char(*v)[TM_LANG_MAX] = realloc(codes, ncap * sizeof *codes);
        if (!(ok = v != NULL))
          break;
        codes = v;
        cap = ncap;
      }
      tms_code(c[i].langs[k].lang, codes[ncodes]);
      tms_code(c[i].langs[k].lang, codes[ncodes + 1]);
      codes[ncodes + 1][strcspn(codes[ncodes + 1], "_")] = '\0';
      ncodes += 2;
    }
  if (ncodes)
    qsort(codes, ncodes, sizeof *codes, cmp_code);
  ok = ok && (src = json_array()) && (dst = json_array());
  for (size_t i = 0; ok && i < ncodes; i++)
    if (i == 0 || strcmp(codes[i], codes[i - 1]) != 0)
      ok = json_array_append_new(src, json_string(codes[i])) == 0 &&
           json_array_append_new(dst, json_string(codes[i])) == 0;
  if (!ok) {
    json_decref(src);
    json_decref(dst);
    src = dst = NULL;
  }
  reply_json(rq, 200,
             ok ? json_pack("{s:o, s:o}", "sourceLanguages", src,
                            "targetLanguages", dst)
                : NULL);
  set_jsonp(rq, cb);
  free(codes);
  tm_collection_list_free(c, n);
}

void h_tms_unit_get(struct request *rq) {
  char from[TM_LANG_MAX], to[TM_LANG_MAX];
  long min, limit;
  tm_match *m = NULL;
  size_t n = 0;
  const char *cb;
  char *q = NULL;
  json_t *list;
  tm_status s;

  if (!lang_canonical(rq, "source language", rq->path[0].value, from) ||
      !lang_canonical(rq, "target language", rq->path[1].value, to) ||
      !(rq->path[2].len ? text_nfc(rq, "text", rq->path[2].value,
                                   rq->path[2].len, SRV_MAX_QUERY, &q)
                        : param_text(rq, "source", true, SRV_MAX_QUERY, &q)) ||
      !param_int(rq, "min_similarity", 70, 0, 100, true, &min) ||
      !param_int(rq, "max_candidates", 5, 0, 30, true, &limit) ||
      !jsonp_name(rq, &cb))
    goto out;
  /* As amaGama: similarity at least 30, 0 candidates means the default. */
  if (min < 30)
    min = 30;
  if (limit == 0)
    limit = 5;
  if (strcmp(from, to) != 0 &&
      (s = find(rq, q, from, to, (int)min, (size_t)limit, &m, &n)) != TM_OK) {
    reply_tm(rq, rq->db, s);
    goto out;
  }
  list = json_array();
  for (size_t i = 0; list && i < n; i++) {
    if (m[i].ntargets == 0)
      continue;
    if (json_array_append_new(
            list, json_pack("{s:s, s:s, s:i, s:f}", "source", m[i].source,
                            "target", m[i].targets[0].text, "quality",
                            m[i].score, "rank", m[i].score / 100.0)) != 0) {
      json_decref(list);
      list = NULL;
    }
  }
  reply_json(rq, 200, list);
  if (!reply_header(rq, MHD_HTTP_HEADER_CACHE_CONTROL, "max-age=3600, public"))
    reply_error(rq, 500, "out_of_memory", "out of memory");
  set_jsonp(rq, cb);
out:
  tm_match_free(m, n);
  tm_free(q);
}

/* The string member KEY of the JSON body, else form field KEY. */
static const char *body_field(struct request *rq, json_t *obj, const char *key,
                              size_t *len) {
  json_t *v = obj ? json_object_get(obj, key) : NULL;

  if (v && json_is_string(v)) {
    *len = json_string_length(v);
    return json_string_value(v);
  }
  if (obj)
    return NULL;
  return param_raw(rq, key, len);
}

void h_tms_unit_add(struct request *rq) {
  char from[TM_LANG_MAX], to[TM_LANG_MAX];
  json_t *obj = rq->json;
  const char *source, *target;
  size_t slen = 0, tlen = 0;
  int created = 0;
  int64_t id;

  if (obj && !json_is_object(obj)) {
    reply_error(rq, 400, "invalid_parameter",
                "the body is {\"source\": ..., \"target\": ...}");
    return;
  }
  if (!lang_canonical(rq, "source language", rq->path[0].value, from) ||
      !lang_canonical(rq, "target language", rq->path[1].value, to))
    return;
  source = body_field(rq, obj, "source", &slen);
  target = body_field(rq, obj, "target", &tlen);
  if (!source || slen == 0) {
    source = rq->path[2].value;
    slen = rq->path[2].len;
  }
  if (slen == 0 || !target || tlen == 0) {
    reply_error(rq, 400, "missing_parameter", "source and target are required");
    return;
  }
  add_pair(rq, from, source, slen, to, target, tlen, &id, &created);
  if (id)
    reply_json(
        rq, created ? 201 : 200,
        json_pack("{s:I, s:b}", "unit", (json_int_t)id, "created", created));
}

void h_tms_store_add(struct request *rq) {
  char from[TM_LANG_MAX], to[TM_LANG_MAX];
  size_t added = 0, duplicates = 0, i;
  json_t *v;

  if (!lang_canonical(rq, "source language", rq->path[0].value, from) ||
      !lang_canonical(rq, "target language", rq->path[1].value, to))
    return;
  if (!json_is_array(rq->json)) {
    reply_error(rq, 400, "invalid_parameter",
                "the body is a JSON array of {\"source\", \"target\"}");
    return;
  }
  /* Check every unit before adding any. */
  json_array_foreach(rq->json, i, v) {
    if (!json_is_string(json_object_get(v, "source")) ||
        !json_is_string(json_object_get(v, "target"))) {
      reply_error(rq, 400, "invalid_parameter",
                  "unit %zu: source and target must be strings", i);
      return;
    }
  }
  json_array_foreach(rq->json, i, v) {
    json_t *s = json_object_get(v, "source"), *t = json_object_get(v, "target");
    int created = 0;
    int64_t id;
    if (json_string_length(s) == 0 || json_string_length(t) == 0)
      continue; /* untranslated units of a store */
    add_pair(rq, from, json_string_value(s), json_string_length(s), to,
             json_string_value(t), json_string_length(t), &id, &created);
    if (!id)
      return;
    if (created)
      added++;
    else
      duplicates++;
  }
  reply_json(rq, 200,
             json_pack("{s:s, s:I, s:I}", "store", rq->path[2].value, "added",
                       (json_int_t)added, "duplicates",
                       (json_int_t)duplicates));
}

void h_tms_store_upload(struct request *rq) {
  char from[TM_LANG_MAX], to[TM_LANG_MAX];
  const char *sid = rq->path[2].value, *memory;
  tm_format f;

  if (!lang_canonical(rq, "source language", rq->path[0].value, from) ||
      !lang_canonical(rq, "target language", rq->path[1].value, to) ||
      !param_name(rq, "memory", 64, &memory))
    return;
  if (tm_format_from_path(sid, &f) != TM_OK ||
      !(f == TM_FORMAT_TMX || f == TM_FORMAT_TSV || f == TM_FORMAT_CSV)) {
    reply_error(rq, 415, "unsupported_format",
                "the store's name must end in .tmx, .tsv or .csv");
    return;
  }
  import_body(rq, TM_MEMORY, memory ? memory : "default", f, sid);
}

/* ------------------------------------------------------------ MyMemory */

/* "en|ko" into two canonical tags. */
static bool langpair(struct request *rq, char from[TM_LANG_MAX],
                     char to[TM_LANG_MAX]) {
  size_t len;
  const char *v = param_raw(rq, "langpair", &len), *bar;
  char buf[2 * TM_LANG_MAX];

  if (!v || len == 0) {
    reply_error(rq, 400, "missing_parameter", "langpair is required (en|ko)");
    return false;
  }
  if (!(bar = strchr(v, '|')) || len >= sizeof buf) {
    reply_error(rq, 400, "invalid_parameter",
                "langpair is two languages: source|target");
    return false;
  }
  memcpy(buf, v, (size_t)(bar - v));
  buf[bar - v] = '\0';
  return lang_canonical(rq, "langpair", buf, from) &&
         lang_canonical(rq, "langpair", bar + 1, to);
}

static json_t *mm_date(int64_t t) {
  char buf[32];
  struct tm tm;
  time_t tt = (time_t)t;

  if (t <= 0 || !gmtime_r(&tt, &tm))
    return json_string("");
  strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return json_string(buf);
}

void h_mm_get(struct request *rq) {
  char from[TM_LANG_MAX], to[TM_LANG_MAX], quality[8];
  json_t *list = NULL, *best = NULL;
  long limit, min;
  tm_match *m = NULL;
  size_t n = 0;
  char *q = NULL;
  tm_status s;
  bool ok;

  if (!param_text(rq, "q", true, SRV_MAX_QUERY, &q) ||
      !langpair(rq, from, to) ||
      !param_int(rq, "numres", 5, 1, 20, true, &limit) ||
      !param_int(rq, "min", 50, 0, 100, false, &min))
    goto out;
  if ((s = find(rq, q, from, to, (int)min, (size_t)limit, &m, &n)) != TM_OK) {
    reply_tm(rq, rq->db, s);
    goto out;
  }
  ok = (list = json_array()) != NULL;
  for (size_t i = 0; ok && i < n; i++) {
    tm_unit *u = NULL;
    if (m[i].ntargets == 0)
      continue;
    /* created-by and create-date are the unit's, not the match's. */
    if (tm_unit_get(rq->db, m[i].unit, &u) != TM_OK)
      u = NULL;
    snprintf(quality, sizeof quality, "%d", m[i].score);
    ok = json_array_append_new(
             list,
             json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:f, s:s, s:o, s:o}",
                       "id", (json_int_t)m[i].unit, "segment", m[i].source,
                       "translation", m[i].targets[0].text, "source",
                       m[i].source_lang ? m[i].source_lang : from, "target",
                       m[i].targets[0].lang, "quality", quality, "match",
                       m[i].score / 100.0, "created-by",
                       u && u->created_by ? u->created_by
                                          : (m[i].origin ? m[i].origin : ""),
                       "create-date", mm_date(u ? u->created : m[i].updated),
                       "last-update-date", mm_date(m[i].updated))) == 0;
    tm_unit_free(u);
  }
  if (ok && json_array_size(list) > 0) {
    json_t *first = json_array_get(list, 0);
    best = json_pack("{s:O, s:O}", "translatedText",
                     json_object_get(first, "translation"), "match",
                     json_object_get(first, "match"));
  } else if (ok) {
    best = json_pack("{s:s, s:i}", "translatedText", "", "match", 0);
  }
  if (!ok || !best) {
    json_decref(list);
    json_decref(best);
    reply_json(rq, 200, NULL);
    goto out;
  }
  reply_json(rq, 200,
             json_pack("{s:o, s:b, s:s, s:i, s:n, s:o}", "responseData", best,
                       "quotaFinished", 0, "responseDetails", "",
                       "responseStatus", 200, "responderId", "matches", list));
out:
  tm_match_free(m, n);
  tm_free(q);
}

void h_mm_set(struct request *rq) {
  char from[TM_LANG_MAX], to[TM_LANG_MAX];
  size_t slen, tlen;
  const char *seg = param_raw(rq, "seg", &slen);
  const char *tra = param_raw(rq, "tra", &tlen);
  int created = 0;
  int64_t id;

  if (!seg || !tra || slen == 0 || tlen == 0) {
    reply_error(rq, 400, "missing_parameter", "seg and tra are required");
    return;
  }
  if (!langpair(rq, from, to))
    return;
  add_pair(rq, from, seg, slen, to, tra, tlen, &id, &created);
  if (id)
    reply_json(rq, 200,
               json_pack("{s:s, s:i, s:s, s:I, s:b}", "responseData", "OK",
                         "responseStatus", 200, "responseDetails", "", "id",
                         (json_int_t)id, "created", created));
}
