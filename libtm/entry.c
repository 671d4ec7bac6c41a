/*
 * entry.c - glossary entries (concepts) and their terms: add, read,
 * correct, delete, approve, history, and the listing in a language's
 * collation order.  Every term is stored with its folded form and search
 * keys, computed here once at write time.
 */
#include "tm_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static tm_status insert_terms(tm_db *db, int64_t id, const tm_entry *e) {
  for (size_t i = 0; i < e->nterms; i++) {
    const tm_term *t = &e->terms[i];
    char *fold = NULL, *ini = NULL, *tr = NULL;
    sqlite3_stmt *st;
    tm_status s;
    size_t len = strlen(t->text);
    int rc;

    if ((s = tm_text_fold(db->text, t->lang, t->text, len, &fold)) != TM_OK ||
        (s = tm__term_keys(db->text, t->lang, t->text, len, &ini, &tr)) !=
            TM_OK) {
      free(fold);
      return tm__error(db, s, "term \"%s\": %s", t->text, tm_status_message(s));
    }
    if (!(st = tm__stmt(db, TM__STMT_TERM_INSERT))) {
      free(fold);
      free(ini);
      free(tr);
      return TM_DB;
    }
    sqlite3_bind_int64(st, 1, id);
    tm__bind_text(st, 2, t->lang);
    sqlite3_bind_int64(st, 3, (int64_t)i);
    tm__bind_text(st, 4, t->text);
    tm__bind_text(st, 5, fold);
    sqlite3_bind_int(st, 6, (int)t->status);
    sqlite3_bind_int(st, 7, (int)t->type);
    tm__bind_text(st, 8, t->note);
    tm__bind_text(st, 9, t->pos);
    tm__bind_text(st, 10, ini);
    tm__bind_text(st, 11, tr);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    free(fold);
    free(ini);
    free(tr);
    if (rc != SQLITE_DONE)
      return tm__sql_error(db);
  }
  return TM_OK;
}

tm_status tm__entry_insert(tm_db *db, int64_t collection, const tm_entry *e,
                           const tm_actor *who, int64_t batch, int64_t *id) {
  sqlite3_stmt *st = tm__stmt(db, TM__STMT_ENTRY_INSERT);
  char *by;
  int rc;

  if (!st)
    return TM_DB;
  if (!(by = tm__actor_name(who)))
    return TM_NOMEM;
  sqlite3_bind_int64(st, 1, collection);
  sqlite3_bind_int(st, 2, (int)e->status);
  tm__bind_text(st, 3, e->definition);
  tm__bind_text(st, 4, e->note);
  tm__bind_text(st, 5, e->domain);
  tm__bind_text(st, 6, e->source);
  tm__bind_text(st, 7, e->origin);
  sqlite3_bind_int64(st, 8, tm__now(db));
  tm__bind_text(st, 9, by);
  if (batch)
    sqlite3_bind_int64(st, 10, batch);
  rc = sqlite3_step(st);
  sqlite3_reset(st);
  free(by);
  if (rc != SQLITE_DONE)
    return tm__sql_error(db);
  *id = sqlite3_last_insert_rowid(db->sql);
  return insert_terms(db, *id, e);
}

tm_status tm__ingest_entry(tm__ingest *in, tm_entry *e) {
  int64_t id;
  tm_status s;

  if (e->status == TM_DRAFT)
    e->status = in->status;
  if ((s = tm__entry_normalise(in->db, e)) != TM_OK ||
      (s = tm__entry_insert(in->db, in->collection, e, in->who, in->batch,
                            &id)) != TM_OK)
    return s;
  in->res->records++;
  return TM_OK;
}

tm_status tm_entry_add(tm_db *db, const char *glossary, const tm_entry *e,
                       const tm_actor *who, int64_t *id) {
  tm_entry copy;
  int64_t coll;
  char *after = NULL;
  tm_status s;

  *id = 0;
  tm__clear_error(db);
  if ((s = tm__entry_copy(e, &copy)) != TM_OK)
    return s;
  if ((s = tm__entry_normalise(db, &copy)) != TM_OK)
    goto out;
  if ((s = tm__begin(db)) != TM_OK)
    goto out;
  if ((s = tm__collection_id(db, TM_GLOSSARY, glossary ? glossary : "default",
                             true, &coll)) != TM_OK ||
      (s = tm__entry_insert(db, coll, &copy, who, 0, id)) != TM_OK ||
      (s = tm__snapshot(db, TM__HIST_ENTRY, *id, &after)) != TM_OK ||
      (s = tm__history(db, TM__HIST_ENTRY, *id, who, "create", NULL, after)) !=
          TM_OK ||
      (s = tm__commit(db)) != TM_OK) {
    tm__rollback(db);
    *id = 0;
    goto out;
  }
  tm__index_entry_changed(db, *id);
out:
  sqlite3_free(after);
  tm__entry_clear(&copy);
  return s;
}

static tm_status load_terms(tm_db *db, int64_t id, tm_entry *e) {
  sqlite3_stmt *st = tm__stmt(db, TM__STMT_TERM_LIST);
  bool oom = false;
  size_t cap = 0;
  int rc;

  if (!st)
    return TM_DB;
  sqlite3_bind_int64(st, 1, id);
  while (!oom && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    tm_term *t;
    if (e->nterms == cap) {
      size_t ncap = cap ? cap * 2 : 8;
      if (!(t = realloc(e->terms, ncap * sizeof *t))) {
        oom = true;
        break;
      }
      e->terms = t;
      cap = ncap;
    }
    t = &e->terms[e->nterms++];
    memset(t, 0, sizeof *t);
    snprintf(t->lang, TM_LANG_MAX, "%s", sqlite3_column_text(st, 0));
    t->text = tm__column_strdup(st, 1, &oom);
    t->status = (tm_term_status)sqlite3_column_int(st, 2);
    t->type = (tm_term_type)sqlite3_column_int(st, 3);
    t->note = tm__column_strdup(st, 4, &oom);
    t->pos = tm__column_strdup(st, 5, &oom);
  }
  sqlite3_reset(st);
  if (oom)
    return TM_NOMEM;
  return rc == SQLITE_DONE ? TM_OK : tm__sql_error(db);
}

tm_status tm_entry_get(tm_db *db, int64_t id, tm_entry **out) {
  sqlite3_stmt *st;
  tm_entry *e;
  bool oom = false;
  int64_t coll;
  tm_status s;
  int rc;

  *out = NULL;
  if (!(st = tm__stmt(db, TM__STMT_ENTRY_GET)))
    return TM_DB;
  sqlite3_bind_int64(st, 1, id);
  rc = sqlite3_step(st);
  if (rc != SQLITE_ROW) {
    sqlite3_reset(st);
    return rc == SQLITE_DONE
               ? tm__error(db, TM_NOTFOUND, "no entry %lld", (long long)id)
               : tm__sql_error(db);
  }
  if (!(e = calloc(1, sizeof *e))) {
    sqlite3_reset(st);
    return TM_NOMEM;
  }
  e->id = id;
  coll = sqlite3_column_int64(st, 0);
  e->status = (tm_record_status)sqlite3_column_int(st, 1);
  e->definition = tm__column_strdup(st, 2, &oom);
  e->note = tm__column_strdup(st, 3, &oom);
  e->domain = tm__column_strdup(st, 4, &oom);
  e->source = tm__column_strdup(st, 5, &oom);
  e->origin = tm__column_strdup(st, 6, &oom);
  e->created = sqlite3_column_int64(st, 7);
  e->updated = sqlite3_column_int64(st, 8);
  e->created_by = tm__column_strdup(st, 9, &oom);
  sqlite3_reset(st);
  s = oom ? TM_NOMEM : TM_OK;
  if (s == TM_OK && (st = tm__stmt(db, TM__STMT_COLL_NAME))) {
    sqlite3_bind_int64(st, 1, coll);
    if (sqlite3_step(st) == SQLITE_ROW)
      e->glossary = tm__column_strdup(st, 0, &oom);
    sqlite3_reset(st);
    if (oom)
      s = TM_NOMEM;
  }
  if (s == TM_OK)
    s = load_terms(db, id, e);
  if (s != TM_OK) {
    tm_entry_free(e);
    return s;
  }
  *out = e;
  return TM_OK;
}

enum change { CHANGE_UPDATE, CHANGE_DELETE, CHANGE_APPROVE };

static tm_status change_entry(tm_db *db, int64_t id, const tm_actor *who,
                              enum change what, const tm_entry *e) {
  static const char *const actions[] = {"update", "delete", "approve"};
  char *before = NULL, *after = NULL;
  sqlite3_stmt *st;
  tm_status s;
  int64_t now = tm__now(db);

  if ((s = tm__begin(db)) != TM_OK)
    return s;
  if (!(st = tm__stmt(db, TM__STMT_ENTRY_GET))) {
    s = TM_DB;
    goto fail;
  }
  sqlite3_bind_int64(st, 1, id);
  if (sqlite3_step(st) != SQLITE_ROW) {
    sqlite3_reset(st);
    s = tm__error(db, TM_NOTFOUND, "no entry %lld", (long long)id);
    goto fail;
  }
  sqlite3_reset(st);
  if ((s = tm__snapshot(db, TM__HIST_ENTRY, id, &before)) != TM_OK)
    goto fail;
  switch (what) {
  case CHANGE_UPDATE:
    if (!(st = tm__stmt(db, TM__STMT_ENTRY_UPDATE))) {
      s = TM_DB;
      goto fail;
    }
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, (int)e->status);
    tm__bind_text(st, 3, e->definition);
    tm__bind_text(st, 4, e->note);
    tm__bind_text(st, 5, e->domain);
    tm__bind_text(st, 6, e->source);
    tm__bind_text(st, 7, e->origin);
    sqlite3_bind_int64(st, 8, now);
    if (sqlite3_step(st) != SQLITE_DONE) {
      s = tm__sql_error(db);
      goto fail;
    }
    if ((s = tm__exec_id(db, TM__STMT_TERM_DELETE, id)) != TM_OK ||
        (s = insert_terms(db, id, e)) != TM_OK)
      goto fail;
    break;
  case CHANGE_APPROVE:
    if (!(st = tm__stmt(db, TM__STMT_ENTRY_SET_STATUS))) {
      s = TM_DB;
      goto fail;
    }
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, TM_APPROVED);
    sqlite3_bind_int64(st, 3, now);
    if (sqlite3_step(st) != SQLITE_DONE) {
      s = tm__sql_error(db);
      goto fail;
    }
    break;
  case CHANGE_DELETE:
    if (!(st = tm__stmt(db, TM__STMT_ENTRY_DELETE))) {
      s = TM_DB;
      goto fail;
    }
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now);
    if (sqlite3_step(st) != SQLITE_DONE) {
      s = tm__sql_error(db);
      goto fail;
    }
    break;
  }
  if (what != CHANGE_DELETE &&
      (s = tm__snapshot(db, TM__HIST_ENTRY, id, &after)) != TM_OK)
    goto fail;
  if ((s = tm__history(db, TM__HIST_ENTRY, id, who, actions[what], before,
                       after)) != TM_OK ||
      (s = tm__commit(db)) != TM_OK)
    goto fail;
  sqlite3_free(before);
  sqlite3_free(after);
  tm__index_entry_changed(db, id);
  return TM_OK;
fail:
  tm__rollback(db);
  sqlite3_free(before);
  sqlite3_free(after);
  return s;
}

tm_status tm_entry_update(tm_db *db, int64_t id, const tm_entry *e,
                          const tm_actor *who) {
  tm_entry copy;
  tm_status s;

  tm__clear_error(db);
  if ((s = tm__entry_copy(e, &copy)) != TM_OK)
    return s;
  if ((s = tm__entry_normalise(db, &copy)) == TM_OK)
    s = change_entry(db, id, who, CHANGE_UPDATE, &copy);
  tm__entry_clear(&copy);
  return s;
}

tm_status tm_entry_delete(tm_db *db, int64_t id, const tm_actor *who) {
  tm__clear_error(db);
  return change_entry(db, id, who, CHANGE_DELETE, NULL);
}

tm_status tm_entry_approve(tm_db *db, int64_t id, const tm_actor *who) {
  tm__clear_error(db);
  return change_entry(db, id, who, CHANGE_APPROVE, NULL);
}

tm_status tm_entry_history(tm_db *db, int64_t id, tm_change **out, size_t *n) {
  sqlite3_stmt *st = tm__stmt(db, TM__STMT_ENTRY_SNAPSHOT);
  int rc;

  *out = NULL;
  *n = 0;
  if (!st)
    return TM_DB;
  sqlite3_bind_int64(st, 1, id);
  rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc == SQLITE_DONE)
    return tm__error(db, TM_NOTFOUND, "no entry %lld", (long long)id);
  if (rc != SQLITE_ROW)
    return tm__sql_error(db);
  return tm__history_list(db, TM__HIST_ENTRY, id, out, n);
}

/* ------------------------------------------------------------- listing */

/*
 * A cursor names the last entry of a page: "k<hex sort key>.<id>" in the
 * part sorted by key, "n.<id>" in the part without a term in the language.
 */
static tm_status parse_cursor(const char *c, int *part, uint8_t **key,
                              size_t *klen, int64_t *id) {
  const char *dot = strrchr(c, '.');
  char *end;
  size_t hex;
  long long v;

  *key = NULL;
  *klen = 0;
  if (!dot || (c[0] != 'k' && c[0] != 'n'))
    return TM_INVALID;
  v = strtoll(dot + 1, &end, 10);
  if (*end || v <= 0 || end == dot + 1)
    return TM_INVALID;
  *id = v;
  *part = c[0] == 'k' ? 1 : 2;
  if (*part == 2)
    return dot == c + 1 ? TM_OK : TM_INVALID;
  hex = (size_t)(dot - c - 1);
  if (hex == 0 || hex % 2 || !(*key = malloc(hex / 2)))
    return hex == 0 || hex % 2 ? TM_INVALID : TM_NOMEM;
  for (size_t i = 0; i < hex / 2; i++) {
    unsigned b;
    if (sscanf(c + 1 + 2 * i, "%2x", &b) != 1) {
      free(*key);
      *key = NULL;
      return TM_INVALID;
    }
    (*key)[i] = (uint8_t)b;
  }
  *klen = hex / 2;
  return TM_OK;
}

static char *make_cursor(const void *key, size_t klen, int64_t id) {
  char *c = malloc(klen * 2 + 32), *p;

  if (!c)
    return NULL;
  p = c;
  *p++ = key ? 'k' : 'n';
  for (size_t i = 0; key && i < klen; i++)
    p += sprintf(p, "%02x", ((const uint8_t *)key)[i]);
  sprintf(p, ".%lld", (long long)id);
  return c;
}

static const char entry_list_sql[] =
    "WITH s AS (SELECT e.id AS id, tm_sortkey(?2, (SELECT t.text FROM terms t "
    "WHERE t.entry=e.id AND (t.lang=?2 OR t.lang LIKE ?2 || '-%') "
    "ORDER BY t.lang<>?2, t.seq LIMIT 1)) AS k "
    "FROM entries e WHERE e.collection=?1 AND e.deleted=0 "
    "AND (?3=0 OR e.status=1)) "
    "SELECT id, k FROM s WHERE ?4 IS NULL "
    "OR (?4=1 AND k IS NOT NULL AND (k>?5 OR (k=?5 AND id>?6))) "
    "OR (?4=1 AND k IS NULL) "
    "OR (?4=2 AND k IS NULL AND id>?6) "
    "ORDER BY k IS NULL, k, id LIMIT ?7";

tm_status tm_entry_list(tm_db *db, const char *glossary, const char *sort_lang,
                        int approved_only, const char *after, size_t limit,
                        tm_entry ***out, size_t *n, char **next) {
  int64_t coll;
  tm_status s;

  *out = NULL;
  *n = 0;
  *next = NULL;
  if ((s = tm__collection_id(db, TM_GLOSSARY, glossary ? glossary : "default",
                             false, &coll)) != TM_OK)
    return s;
  return tm__entry_list(db, coll, sort_lang, approved_only, after, limit, out,
                        n, next);
}

tm_status tm__entry_list(tm_db *db, int64_t coll, const char *sort_lang,
                         int approved_only, const char *after, size_t limit,
                         tm_entry ***out, size_t *n, char **next) {
  char lang[TM_LANG_MAX];
  sqlite3_stmt *st = NULL;
  tm_entry **v = NULL;
  size_t nv = 0;
  uint8_t *ckey = NULL;
  size_t cklen = 0;
  int64_t cid = 0, *ids = NULL;
  void *lastkey = NULL;
  size_t lastlen = 0;
  int part = 0, rc;
  tm_status s = TM_OK;

  *out = NULL;
  *n = 0;
  *next = NULL;
  if (limit == 0 || limit > 1000)
    limit = limit ? 1000 : 50;
  if (tm_lang_canonical(sort_lang ? sort_lang : "en", lang) != TM_OK)
    return tm__error(db, TM_LANG, "invalid language tag \"%s\"", sort_lang);
  if (after && *after &&
      (s = parse_cursor(after, &part, &ckey, &cklen, &cid)) != TM_OK)
    return tm__error(db, s, "invalid cursor \"%s\"", after);
  /* The statement is the one SQL text with a fixed shape; cached like the
   * others but kept local as only listings use it. */
  if (sqlite3_prepare_v2(db->sql, entry_list_sql, -1, &st, NULL) != SQLITE_OK) {
    s = tm__sql_error(db);
    goto out;
  }
  sqlite3_bind_int64(st, 1, coll);
  sqlite3_bind_text(st, 2, lang, -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 3, approved_only ? 1 : 0);
  if (part)
    sqlite3_bind_int(st, 4, part);
  if (ckey)
    sqlite3_bind_blob(st, 5, ckey, (int)cklen, SQLITE_STATIC);
  sqlite3_bind_int64(st, 6, cid);
  sqlite3_bind_int64(st, 7, (int64_t)limit + 1);
  if (!(ids = calloc(limit + 1, sizeof *ids)) ||
      !(v = calloc(limit + 1, sizeof *v))) {
    s = TM_NOMEM;
    goto out;
  }
  while ((rc = sqlite3_step(st)) == SQLITE_ROW && nv <= limit) {
    ids[nv] = sqlite3_column_int64(st, 0);
    if (nv < limit) {
      free(lastkey);
      lastkey = NULL;
      lastlen = (size_t)sqlite3_column_bytes(st, 1);
      if (sqlite3_column_type(st, 1) != SQLITE_NULL &&
          !(lastkey = malloc(lastlen ? lastlen : 1))) {
        s = TM_NOMEM;
        goto out;
      }
      if (lastkey)
        memcpy(lastkey, sqlite3_column_blob(st, 1), lastlen);
    }
    nv++;
  }
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
    s = tm__sql_error(db);
    goto out;
  }
  if (nv > limit) {
    nv = limit;
    if (!(*next = make_cursor(lastkey, lastlen, ids[nv - 1]))) {
      s = TM_NOMEM;
      goto out;
    }
  }
  for (size_t i = 0; i < nv; i++)
    if ((s = tm_entry_get(db, ids[i], &v[i])) != TM_OK) {
      tm_entry_list_free(v, i);
      v = NULL;
      free(*next);
      *next = NULL;
      goto out;
    }
  *out = v;
  *n = nv;
  v = NULL;
out:
  sqlite3_finalize(st);
  free(v);
  free(ids);
  free(ckey);
  free(lastkey);
  return s;
}

void tm_entry_list_free(tm_entry **e, size_t n) {
  if (!e)
    return;
  for (size_t i = 0; i < n; i++)
    tm_entry_free(e[i]);
  free(e);
}

tm_status tm__entries_each(tm_db *db, int64_t collection, const char *sort_lang,
                           int approved_only, tm__entry_fn fn, void *ctx) {
  char lang[TM_LANG_MAX];
  sqlite3_stmt *st = NULL;
  tm_status s = TM_OK;
  int rc;

  if (tm_lang_canonical(sort_lang ? sort_lang : "en", lang) != TM_OK)
    return tm__error(db, TM_LANG, "invalid language tag \"%s\"", sort_lang);
  /* The listing's statement without a cursor or a limit: one pass, each
   * sort key made once. */
  if (sqlite3_prepare_v2(db->sql, entry_list_sql, -1, &st, NULL) != SQLITE_OK)
    return tm__sql_error(db);
  sqlite3_bind_int64(st, 1, collection);
  sqlite3_bind_text(st, 2, lang, -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 3, approved_only ? 1 : 0);
  sqlite3_bind_int64(st, 7, -1);
  while (s == TM_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    tm_entry *e = NULL;
    if ((s = tm_entry_get(db, sqlite3_column_int64(st, 0), &e)) == TM_OK)
      s = fn(ctx, e);
    tm_entry_free(e);
  }
  if (s == TM_OK && rc != SQLITE_DONE)
    s = tm__sql_error(db);
  sqlite3_finalize(st);
  return s;
}
