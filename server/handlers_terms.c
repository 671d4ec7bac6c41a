/*
 * handlers_terms.c - the glossary endpoints: term search (the booth's
 * lookup), entries (contribute, read, correct, delete, approve, history,
 * the collated listing) and glossaries (list, create, import, export).
 */
#include "server.h"

#include <stdlib.h>
#include <string.h>

/* -------------------------------------------------------------- search */

void h_terms(struct request *rq) {
  char lang[TM_LANG_MAX] = "";
  struct langs to;
  const char *glossary, *any;
  tm_term_hit *h = NULL;
  size_t n = 0, len;
  long limit;
  bool approved;
  char *q = NULL, *body;
  uint64_t generation;
  struct jtext t;
  size_t blen;
  tm_status s;

  any = param_raw(rq, "lang", &len);
  if (!param_text(rq, "q", true, SRV_MAX_QUERY, &q) ||
      (!(any && strcmp(any, "any") == 0) &&
       !param_lang(rq, "lang", false, lang)) ||
      !param_langs(rq, "to", &to) ||
      !param_int(rq, "limit", 10, 1, SRV_MAX_LIMIT, true, &limit) ||
      !param_approved(rq, &approved) ||
      !param_name(rq, "glossary", 64, &glossary) ||
      (glossary && !collection_exists(rq, rq->db, TM_GLOSSARY, glossary)))
    goto out;
  tm_terms_opts o = {lang[0] ? lang : NULL, glossary, (size_t)limit, approved};
  if ((s = tm_terms_find(rq->srv->index, rq->db, q, &o, &h, &n)) != TM_OK) {
    reply_tm(rq, rq->db, s);
    goto out;
  }
  /* {"query", "results": [{"entry", "glossary", "score", "matched",
   * "terms", ...}]}: the entry's members come rendered from the reader's
   * cache; only the search's own are rendered here. */
  generation = atomic_load(&rq->srv->generation);
  jt_init(&t);
  jt_open(&t, '{');
  jt_key(&t, "query");
  jt_string(&t, q);
  jt_key(&t, "results");
  jt_open(&t, '[');
  for (size_t i = 0; i < n && !t.oom; i++) {
    struct entry_text e;
    if (!h[i].entry || !entry_cache_get(rq->reader->cache, generation,
                                        h[i].entry, to.n ? &to : NULL, &e)) {
      t.oom = true;
      break;
    }
    jt_open(&t, '{');
    jt_fragment(&t, e.head, e.head_len);
    jt_hit_members(&t, &h[i]);
    jt_fragment(&t, e.tail, e.tail_len);
    jt_close(&t, '}');
  }
  jt_close(&t, ']');
  jt_close(&t, '}');
  if ((body = jt_finish(&t, &blen)))
    reply_bytes(rq, 200, SRV_JSON_TYPE, body, blen);
  else
    reply_error(rq, 500, "out_of_memory", "out of memory");
out:
  tm_terms_free(h, n);
  tm_free(q);
}

/* ------------------------------------------------------------- entries */

/* Adds to E the terms of LANG given as V: a string, or an array of strings
 * and objects {text, status, type, note, pos}.  As in glossary files, the
 * first term is preferred and the others admitted unless they say. */
static bool add_terms(struct request *rq, tm_entry *e, const char *lang,
                      json_t *v) {
  json_t *one[1] = {v}, *t;
  size_t n = 1;
  tm_status s;

  if (json_is_array(v))
    n = json_array_size(v);
  for (size_t i = 0; i < n; i++) {
    const char *text = NULL, *note = NULL, *pos = NULL, *st = NULL, *ty = NULL;
    tm_term_status status = i == 0 ? TM_TERM_PREFERRED : TM_TERM_ADMITTED;
    tm_term_type type = TM_TERM_FULL;

    t = json_is_array(v) ? json_array_get(v, i) : one[0];
    if (json_is_string(t)) {
      text = json_string_value(t);
    } else if (json_is_object(t)) {
      if (!member_str(rq, t, "text", &text, NULL) ||
          !member_str(rq, t, "status", &st, NULL) ||
          !member_str(rq, t, "type", &ty, NULL) ||
          !member_str(rq, t, "note", &note, NULL) ||
          !member_str(rq, t, "pos", &pos, NULL))
        return false;
    }
    if (!text) {
      reply_error(rq, 400, "invalid_parameter",
                  "terms.%s: a term is a string or {\"text\": ...}", lang);
      return false;
    }
    if (st && tm_term_status_parse(st, &status) != TM_OK) {
      reply_error(rq, 400, "invalid_parameter",
                  "terms.%s: status must be preferred, admitted or "
                  "deprecated",
                  lang);
      return false;
    }
    if (ty && tm_term_type_parse(ty, &type) != TM_OK) {
      reply_error(rq, 400, "invalid_parameter",
                  "terms.%s: type must be full, abbreviation or variant", lang);
      return false;
    }
    if ((s = tm_entry_add_term(e, lang, text, status, type, note)) != TM_OK) {
      reply_tm(rq, NULL, s);
      return false;
    }
    if (pos && !replace_str(rq, &e->terms[e->nterms - 1].pos, pos))
      return false;
  }
  return true;
}

/* Removes E's terms in LANG. */
static void drop_terms(tm_entry *e, const char *lang) {
  size_t o = 0;

  for (size_t i = 0; i < e->nterms; i++) {
    tm_term *t = &e->terms[i];
    if (strcmp(t->lang, lang) == 0) {
      tm_free(t->text);
      tm_free(t->note);
      tm_free(t->pos);
      continue;
    }
    e->terms[o++] = *t;
  }
  e->nterms = o;
}

/* Applies the body's "terms" object: each language given replaces that
 * language's terms; null removes them. */
static bool set_terms(struct request *rq, tm_entry *e, json_t *terms) {
  const char *key;
  json_t *v;

  if (!json_is_object(terms)) {
    reply_error(rq, 400, "invalid_parameter",
                "terms must be an object: {\"en\": [\"...\"], \"ko\": "
                "[\"...\"]}");
    return false;
  }
  json_object_foreach(terms, key, v) {
    char lang[TM_LANG_MAX];
    if (!lang_canonical(rq, "terms", key, lang))
      return false;
    drop_terms(e, lang);
    if (!json_is_null(v) && !add_terms(rq, e, lang, v))
      return false;
  }
  return true;
}

/* Applies the body's definition, note, domain, source and status. */
static bool set_entry_fields(struct request *rq, tm_entry *e) {
  static const char *const keys[] = {"definition", "note", "domain", "source"};
  char **fields[] = {&e->definition, &e->note, &e->domain, &e->source};
  tm_record_status status;
  bool present, has_status;

  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    const char *v;
    if (!member_str(rq, rq->json, keys[i], &v, &present) ||
        (present && !replace_str(rq, fields[i], v)))
      return false;
  }
  if (!body_status(rq, rq->json, &status, &has_status))
    return false;
  if (has_status)
    e->status = status;
  return true;
}

static void reply_entry(struct request *rq, tm_db *db, int64_t id) {
  tm_entry *e = NULL;
  tm_status s = tm_entry_get(db, id, &e);

  if (s != TM_OK)
    reply_tm(rq, db, s);
  else
    reply_json(rq, 200, json_entry(e));
  tm_entry_free(e);
}

void h_entry_create(struct request *rq) {
  const char *glossary = rq->path[0].value;
  json_t *terms = json_object_get(rq->json, "terms");
  tm_entry *e = calloc(1, sizeof *e);
  int64_t id = 0;
  tm_status s;

  if (!e) {
    reply_error(rq, 500, "out_of_memory", "out of memory");
    return;
  }
  if (!terms) {
    reply_error(rq, 400, "missing_parameter",
                "terms is required: {\"en\": [\"...\"], \"ko\": [\"...\"]}");
    goto out;
  }
  if (!set_terms(rq, e, terms) || !set_entry_fields(rq, e) ||
      !collection_exists(rq, rq->wdb, TM_GLOSSARY, glossary))
    goto out;
  if ((s = tm_entry_add(rq->wdb, glossary, e, &rq->who, &id)) != TM_OK) {
    reply_tm(rq, rq->wdb, s);
    goto out;
  }
  reply_json(rq, 201, json_pack("{s:I}", "entry", (json_int_t)id));
  reply_location(rq, "/api/v1/entries/", id);
out:
  tm_entry_free(e);
}

void h_entry_get(struct request *rq) {
  int64_t id;

  if (path_id(rq, 0, &id))
    reply_entry(rq, rq->db, id);
}

void h_entry_update(struct request *rq) {
  json_t *terms = json_object_get(rq->json, "terms");
  tm_entry *e = NULL;
  int64_t id;
  tm_status s;

  if (!path_id(rq, 0, &id))
    return;
  if ((s = tm_entry_get(rq->wdb, id, &e)) != TM_OK) {
    reply_tm(rq, rq->wdb, s);
    goto out;
  }
  if (!may_edit(rq, e->created_by, e->status) ||
      (terms && !set_terms(rq, e, terms)) || !set_entry_fields(rq, e))
    goto out;
  if ((s = tm_entry_update(rq->wdb, id, e, &rq->who)) != TM_OK) {
    reply_tm(rq, rq->wdb, s);
    goto out;
  }
  reply_entry(rq, rq->wdb, id);
out:
  tm_entry_free(e);
}

void h_entry_delete(struct request *rq) {
  int64_t id;
  tm_status s;

  if (!path_id(rq, 0, &id))
    return;
  if ((s = tm_entry_delete(rq->wdb, id, &rq->who)) != TM_OK)
    reply_tm(rq, rq->wdb, s);
  else
    reply_empty(rq, 204);
}

void h_entry_approve(struct request *rq) {
  int64_t id;
  tm_status s;

  if (!path_id(rq, 0, &id))
    return;
  if ((s = tm_entry_approve(rq->wdb, id, &rq->who)) != TM_OK)
    reply_tm(rq, rq->wdb, s);
  else
    reply_entry(rq, rq->wdb, id);
}

void h_entry_history(struct request *rq) {
  tm_change *c = NULL;
  size_t n = 0;
  int64_t id;
  tm_status s;

  if (!path_id(rq, 0, &id))
    return;
  if ((s = tm_entry_history(rq->db, id, &c, &n)) != TM_OK)
    reply_tm(rq, rq->db, s);
  else
    reply_json(rq, 200, json_history(c, n));
  tm_history_free(c, n);
}

void h_entries_list(struct request *rq) {
  const char *glossary = rq->path[0].value, *after;
  char sort[TM_LANG_MAX];
  tm_entry **e = NULL;
  size_t n = 0;
  char *next = NULL;
  long limit;
  bool approved;
  json_t *list;
  tm_status s;

  if (!param_lang(rq, "sort", false, sort) ||
      !param_int(rq, "limit", 50, 1, SRV_MAX_PAGE, true, &limit) ||
      !param_name(rq, "after", 4096, &after) ||
      !param_approved(rq, &approved) ||
      !collection_exists(rq, rq->db, TM_GLOSSARY, glossary))
    return;
  s = tm_entry_list(rq->db, glossary, sort[0] ? sort : "en", approved, after,
                    (size_t)limit, &e, &n, &next);
  if (s != TM_OK) {
    reply_tm(rq, rq->db, s);
    return;
  }
  list = json_array();
  for (size_t i = 0; list && i < n; i++)
    if (json_array_append_new(list, json_entry(e[i])) != 0) {
      json_decref(list);
      list = NULL;
    }
  reply_json(
      rq, 200,
      json_pack("{s:o, s:o}", "entries", list, "next", json_str_or_null(next)));
  tm_entry_list_free(e, n);
  tm_free(next);
}

/* ---------------------------------------------------------- glossaries */

void h_glossaries_list(struct request *rq) {
  collections_list(rq, TM_GLOSSARY);
}

void h_glossary_create(struct request *rq) {
  collection_create(rq, TM_GLOSSARY);
}

void h_glossary_import(struct request *rq) {
  tm_format f;

  if (import_format(rq, TM_GLOSSARY, &f))
    import_body(rq, TM_GLOSSARY, rq->path[0].value, f, NULL);
}

void h_glossary_export(struct request *rq) {
  export_reply(rq, TM_GLOSSARY, rq->path[0].value);
}
