/*
 * handlers_tm.c - the translation memory endpoints: fuzzy matches,
 * concordance, units (contribute, read, correct, delete, approve,
 * history) and memories (list, create, import, export).
 */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- search */

void h_tm_match(struct request *rq) {
  char from[TM_LANG_MAX];
  struct langs to;
  const char *memory;
  long min, limit;
  bool exact, approved;
  tm_match *m = NULL;
  size_t n = 0;
  char *q = NULL;
  json_t *list;
  tm_status s;

  if (!param_text(rq, "q", true, SRV_MAX_QUERY, &q) ||
      !param_lang(rq, "from", true, from) || !param_langs(rq, "to", &to) ||
      !param_int(rq, "min", 70, 0, 100, false, &min) ||
      !param_int(rq, "limit", 5, 1, SRV_MAX_LIMIT, true, &limit) ||
      !param_flag(rq, "exact_lang", false, &exact) ||
      !param_approved(rq, &approved) ||
      !param_name(rq, "memory", 64, &memory) ||
      (memory && !collection_exists(rq, rq->db, TM_MEMORY, memory)))
    goto out;
  tm_match_opts o = {memory,   from,          to.n ? to.v : NULL, to.n,
                     (int)min, (size_t)limit, approved,           exact};
  if ((s = tm_match_find(rq->srv->index, rq->db, q, &o, &m, &n)) != TM_OK) {
    reply_tm(rq, rq->db, s);
    goto out;
  }
  list = json_array();
  for (size_t i = 0; list && i < n; i++)
    if (json_array_append_new(list, json_match(&m[i])) != 0) {
      json_decref(list);
      list = NULL;
    }
  reply_json(
      rq, 200,
      json_pack("{s:s, s:s, s:o}", "query", q, "from", from, "matches", list));
out:
  tm_match_free(m, n);
  tm_free(q);
}

void h_tm_concordance(struct request *rq) {
  char lang[TM_LANG_MAX];
  struct langs to;
  const char *memory;
  long limit;
  bool exact, approved;
  tm_match *m = NULL;
  size_t n = 0;
  char *q = NULL;
  json_t *list;
  tm_status s;

  if (!param_text(rq, "q", true, SRV_MAX_QUERY, &q) ||
      !param_lang(rq, "lang", true, lang) || !param_langs(rq, "to", &to) ||
      !param_int(rq, "limit", 10, 1, SRV_MAX_LIMIT, true, &limit) ||
      !param_flag(rq, "exact_lang", false, &exact) ||
      !param_approved(rq, &approved) ||
      !param_name(rq, "memory", 64, &memory) ||
      (memory && !collection_exists(rq, rq->db, TM_MEMORY, memory)))
    goto out;
  tm_match_opts o = {memory, lang,          to.n ? to.v : NULL, to.n,
                     0,      (size_t)limit, approved,           exact};
  if ((s = tm_concordance_find(rq->srv->index, rq->db, q, &o, &m, &n)) !=
      TM_OK) {
    reply_tm(rq, rq->db, s);
    goto out;
  }
  list = json_array();
  for (size_t i = 0; list && i < n; i++)
    if (json_array_append_new(list, json_concordance(&m[i])) != 0) {
      json_decref(list);
      list = NULL;
    }
  reply_json(
      rq, 200,
      json_pack("{s:s, s:s, s:o}", "query", q, "lang", lang, "matches", list));
out:
  tm_match_free(m, n);
  tm_free(q);
}

/* -------------------------------------------------------------- units */

/* Sets the variants of U from the JSON object V ({"en": "...", "ko": null}):
 * a string sets that language (kept as is, with its markup, when the text
 * is unchanged), null removes it. */
static bool set_variants(struct request *rq, tm_unit *u, json_t *v) {
  const char *key;
  json_t *text;
  tm_status s;

  if (!json_is_object(v)) {
    reply_error(rq, 400, "invalid_parameter",
                "variants must be an object: {\"en\": \"...\", \"ko\": "
                "\"...\"}");
    return false;
  }
  json_object_foreach(v, key, text) {
    char lang[TM_LANG_MAX];
    size_t i;

    if (!lang_canonical(rq, "variants", key, lang))
      return false;
    for (i = 0; i < u->nvariants; i++)
      if (strcmp(u->variants[i].lang, lang) == 0)
        break;
    if (json_is_null(text)) {
      if (i < u->nvariants) {
        tm_free(u->variants[i].text);
        tm_free(u->variants[i].markup);
        memmove(&u->variants[i], &u->variants[i + 1],
                (u->nvariants - i - 1) * sizeof *u->variants);
        u->nvariants--;
      }
      continue;
    }
    if (!json_is_string(text)) {
      reply_error(rq, 400, "invalid_parameter", "variants.%s must be a string",
                  lang);
      return false;
    }
    if (i < u->nvariants &&
        strcmp(u->variants[i].text, json_string_value(text)) == 0)
      continue;
    if ((s = tm_unit_set(u, lang, json_string_value(text))) != TM_OK) {
      reply_tm(rq, NULL, s);
      return false;
    }
  }
  return true;
}

/* Reads origin, note and status from the body into U. */
static bool set_unit_fields(struct request *rq, tm_unit *u) {
  const char *origin, *note;
  bool has_origin, has_note, has_status;
  tm_record_status status;

  if (!member_str(rq, rq->json, "origin", &origin, &has_origin) ||
      !member_str(rq, rq->json, "note", &note, &has_note) ||
      !body_status(rq, rq->json, &status, &has_status))
    return false;
  if ((has_origin && !replace_str(rq, &u->origin, origin)) ||
      (has_note && !replace_str(rq, &u->note, note)))
    return false;
  if (has_status)
    u->status = status;
  return true;
}

static void reply_unit(struct request *rq, tm_db *db, int64_t id,
                       unsigned status) {
  tm_unit *u = NULL;
  tm_status s = tm_unit_get(db, id, &u);

  if (s != TM_OK)
    reply_tm(rq, db, s);
  else
    reply_json(rq, status, json_unit(u));
  tm_unit_free(u);
}

void h_unit_create(struct request *rq) {
  const char *memory;
  tm_unit *u = calloc(1, sizeof *u);
  json_t *variants = json_object_get(rq->json, "variants");
  int64_t id = 0;
  int created = 0;
  tm_status s;

  if (!u) {
    reply_error(rq, 500, "out_of_memory", "out of memory");
    return;
  }
  if (!variants) {
    reply_error(rq, 400, "missing_parameter",
                "variants is required: {\"en\": \"...\", \"ko\": \"...\"}");
    goto out;
  }
  if (!member_str(rq, rq->json, "memory", &memory, NULL) ||
      !set_variants(rq, u, variants) || !set_unit_fields(rq, u))
    goto out;
  if (!memory)
    memory = "default";
  if (!collection_exists(rq, rq->wdb, TM_MEMORY, memory))
    goto out;
  s = tm_unit_add(rq->wdb, memory, u, &rq->who, &id, &created);
  if (s != TM_OK) {
    reply_tm(rq, rq->wdb, s);
    goto out;
  }
  reply_json(
      rq, created ? 201 : 200,
      json_pack("{s:I, s:b}", "unit", (json_int_t)id, "created", created));
  reply_location(rq, "/api/v1/tm/units/", id);
out:
  tm_unit_free(u);
}

void h_unit_get(struct request *rq) {
  int64_t id;

  if (path_id(rq, 0, &id))
    reply_unit(rq, rq->db, id, 200);
}

void h_unit_update(struct request *rq) {
  json_t *variants = json_object_get(rq->json, "variants");
  tm_unit *u = NULL;
  int64_t id;
  tm_status s;

  if (!path_id(rq, 0, &id))
    return;
  if ((s = tm_unit_get(rq->wdb, id, &u)) != TM_OK) {
    reply_tm(rq, rq->wdb, s);
    goto out;
  }
  if (!may_edit(rq, u->created_by, u->status) ||
      (variants && !set_variants(rq, u, variants)) || !set_unit_fields(rq, u))
    goto out;
  if ((s = tm_unit_update(rq->wdb, id, u, &rq->who)) != TM_OK) {
    reply_tm(rq, rq->wdb, s);
    goto out;
  }
  reply_unit(rq, rq->wdb, id, 200);
out:
  tm_unit_free(u);
}

void h_unit_delete(struct request *rq) {
  int64_t id;
  tm_status s;

  if (!path_id(rq, 0, &id))
    return;
  if ((s = tm_unit_delete(rq->wdb, id, &rq->who)) != TM_OK)
    reply_tm(rq, rq->wdb, s);
  else
    reply_empty(rq, 204);
}

void h_unit_approve(struct request *rq) {
  tm_unit *u = NULL;
  int64_t id;
  tm_status s;

  if (!path_id(rq, 0, &id))
    return;
  if ((s = tm_unit_get(rq->wdb, id, &u)) != TM_OK) {
    reply_tm(rq, rq->wdb, s);
    goto out;
  }
  if (u->status != TM_APPROVED) {
    u->status = TM_APPROVED;
    if ((s = tm_unit_update(rq->wdb, id, u, &rq->who)) != TM_OK) {
      reply_tm(rq, rq->wdb, s);
      goto out;
    }
  }
  reply_unit(rq, rq->wdb, id, 200);
out:
  tm_unit_free(u);
}

void h_unit_history(struct request *rq) {
  tm_change *c = NULL;
  size_t n = 0;
  int64_t id;
  tm_status s;

  if (!path_id(rq, 0, &id))
    return;
  if ((s = tm_unit_history(rq->db, id, &c, &n)) != TM_OK)
    reply_tm(rq, rq->db, s);
  else
    reply_json(rq, 200, json_history(c, n));
  tm_history_free(c, n);
}

/* ------------------------------------------------------------ memories */

/* GET /api/v1/memories and /api/v1/glossaries. */
void collections_list(struct request *rq, tm_kind kind) {
  tm_collection *c = NULL;
  size_t n = 0;
  tm_status s = tm_collection_list(rq->db, kind, &c, &n);

  if (s != TM_OK) {
    reply_tm(rq, rq->db, s);
    return;
  }
  reply_json(rq, 200,
             json_pack("{s:o, s:n}",
                       kind == TM_MEMORY ? "memories" : "glossaries",
                       json_collections(c, n, kind), "next"));
  tm_collection_list_free(c, n);
}

/* POST /api/v1/memories and /api/v1/glossaries. */
void collection_create(struct request *rq, tm_kind kind) {
  const char *name;
  tm_status s;

  if (!member_str(rq, rq->json, "name", &name, NULL))
    return;
  if (!name) {
    reply_error(rq, 400, "missing_parameter", "name is required");
    return;
  }
  if ((s = tm_collection_create(rq->wdb, kind, name)) != TM_OK) {
    reply_tm(rq, rq->wdb, s);
    return;
  }
  reply_json(rq, 201,
             json_pack("{s:s, s:i, s:{}}", "name", name,
                       kind == TM_MEMORY ? "units" : "entries", 0,
                       "languages"));
}

void h_memories_list(struct request *rq) {
  collections_list(rq, TM_MEMORY);
}

void h_memory_create(struct request *rq) {
  collection_create(rq, TM_MEMORY);
}

void h_memory_import(struct request *rq) {
  tm_format f;

  if (import_format(rq, TM_MEMORY, &f))
    import_body(rq, TM_MEMORY, rq->path[0].value, f, NULL);
}

void h_memory_export(struct request *rq) {
  export_reply(rq, TM_MEMORY, rq->path[0].value);
}
