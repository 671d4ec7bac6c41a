/*
 * unit.c - translation units: add (deduplicated), read, correct, delete,
 * and their history.  Each write is one transaction with its history row,
 * so a crash leaves either the whole change or none of it.
 */
#include "tm_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Loads the variants and props of unit ID into U. */
static tm_status load_parts(tm_db *db, int64_t id, tm_unit *u) {
  sqlite3_stmt *st;
  bool oom = false;
  size_t cap = 0;
  int rc;

  if (!(st = tm__stmt(db, TM__STMT_VARIANT_LIST)))
    return TM_DB;
  sqlite3_bind_int64(st, 1, id);
  while (!oom && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    tm_variant *v;
    if (u->nvariants == cap) {
      size_t ncap = cap ? cap * 2 : 4;
      if (!(v = realloc(u->variants, ncap * sizeof *v))) {
        oom = true;
        break;
      }
      u->variants = v;
      cap = ncap;
    }
    v = &u->variants[u->nvariants++];
    memset(v, 0, sizeof *v);
    snprintf(v->lang, TM_LANG_MAX, "%s", sqlite3_column_text(st, 0));
    v->text = tm__column_strdup(st, 1, &oom);
    v->markup = tm__column_strdup(st, 2, &oom);
  }
  sqlite3_reset(st);
  if (oom)
    return TM_NOMEM;
  if (rc != SQLITE_DONE)
    return tm__sql_error(db);

  if (!(st = tm__stmt(db, TM__STMT_PROP_LIST)))
    return TM_DB;
  sqlite3_bind_int64(st, 1, id);
  cap = 0;
  while (!oom && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    tm_prop *p;
    if (u->nprops == cap) {
      size_t ncap = cap ? cap * 2 : 4;
      if (!(p = realloc(u->props, ncap * sizeof *p))) {
        oom = true;
        break;
      }
      u->props = p;
      cap = ncap;
    }
    p = &u->props[u->nprops++];
    memset(p, 0, sizeof *p);
    snprintf(p->lang, TM_LANG_MAX, "%s", sqlite3_column_text(st, 0));
    p->type = tm__column_strdup(st, 1, &oom);
    p->value = tm__column_strdup(st, 2, &oom);
  }
  sqlite3_reset(st);
  if (oom)
    return TM_NOMEM;
  return rc == SQLITE_DONE ? TM_OK : tm__sql_error(db);
}

/* True when unit ID has exactly U's variants (and, when ORIGIN, U's
 * origin). */
static tm_status same_unit(tm_db *db, int64_t id, const tm_unit *u, bool origin,
                           bool *same) {
  tm_unit other = {0};
  tm_status s = load_parts(db, id, &other);

  *same = false;
  if (s == TM_OK && origin) {
    sqlite3_stmt *st = tm__stmt(db, TM__STMT_UNIT_GET);
    bool oom = false;
    if (!st)
      s = TM_DB;
    else {
      sqlite3_bind_int64(st, 1, id);
      if (sqlite3_step(st) == SQLITE_ROW)
        other.origin = tm__column_strdup(st, 2, &oom);
      sqlite3_reset(st);
      if (oom)
        s = TM_NOMEM;
    }
    if (s == TM_OK && !(other.origin == NULL && u->origin == NULL) &&
        !(other.origin && u->origin && strcmp(other.origin, u->origin) == 0)) {
      tm__unit_clear(&other);
      return TM_OK;
    }
  }
  if (s == TM_OK && other.nvariants == u->nvariants) {
    *same = true;
    for (size_t i = 0; i < u->nvariants && *same; i++) {
      bool found = false;
      for (size_t j = 0; j < other.nvariants && !found; j++)
        found = strcmp(u->variants[i].lang, other.variants[j].lang) == 0 &&
                strcmp(u->variants[i].text, other.variants[j].text) == 0;
      *same = found;
    }
  }
  tm__unit_clear(&other);
  return s;
}

/* The live unit of COLLECTION with U's text, or 0.  An import also asks
 * for the same origin: the same text from two sources is two records of
 * the memory (the corpus has such pairs, equal only after NFC), while
 * importing a file twice still adds nothing. */
tm_status tm__unit_find_duplicate(tm_db *db, int64_t collection,
                                  const tm_unit *u, uint64_t hash, bool origin,
                                  int64_t *dup) {
  sqlite3_stmt *st = tm__stmt(db, TM__STMT_UNIT_BY_HASH);
  int64_t ids[8];
  size_t n = 0;
  int rc;

  *dup = 0;
  if (!st)
    return TM_DB;
  sqlite3_bind_int64(st, 1, collection);
  sqlite3_bind_int64(st, 2, (int64_t)hash);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < 8)
    ids[n++] = sqlite3_column_int64(st, 0);
  sqlite3_reset(st);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    return tm__sql_error(db);
  for (size_t i = 0; i < n; i++) {
    bool same;
    tm_status s = same_unit(db, ids[i], u, origin, &same);
    if (s != TM_OK)
      return s;
    if (same) {
      *dup = ids[i];
      break;
    }
  }
  return TM_OK;
}

static tm_status insert_parts(tm_db *db, int64_t id, const tm_unit *u) {
  sqlite3_stmt *st;
  size_t i;

  for (i = 0; i < u->nvariants; i++) {
    if (!(st = tm__stmt(db, TM__STMT_VARIANT_INSERT)))
      return TM_DB;
    sqlite3_bind_int64(st, 1, id);
    tm__bind_text(st, 2, u->variants[i].lang);
    tm__bind_text(st, 3, u->variants[i].text);
    tm__bind_text(st, 4, u->variants[i].markup);
    if (sqlite3_step(st) != SQLITE_DONE)
      return tm__sql_error(db);
  }
  for (i = 0; i < u->nprops; i++) {
    if (!(st = tm__stmt(db, TM__STMT_PROP_INSERT)))
      return TM_DB;
    sqlite3_bind_int64(st, 1, id);
    tm__bind_text(st, 2, u->props[i].lang);
    tm__bind_text(st, 3, u->props[i].type);
    tm__bind_text(st, 4, u->props[i].value);
    if (sqlite3_step(st) != SQLITE_DONE)
      return tm__sql_error(db);
  }
  return TM_OK;
}

tm_status tm__unit_insert(tm_db *db, int64_t collection, const tm_unit *u,
                          uint64_t hash, const char *by, int64_t batch,
                          int64_t *id) {
  sqlite3_stmt *st = tm__stmt(db, TM__STMT_UNIT_INSERT);

  if (!st)
    return TM_DB;
  sqlite3_bind_int64(st, 1, collection);
  sqlite3_bind_int(st, 2, (int)u->status);
  tm__bind_text(st, 3, u->origin);
  tm__bind_text(st, 4, u->note);
  sqlite3_bind_int64(st, 5, tm__now(db));
  tm__bind_text(st, 6, by);
  if (batch)
    sqlite3_bind_int64(st, 7, batch);
  sqlite3_bind_int64(st, 8, (int64_t)hash);
  if (sqlite3_step(st) != SQLITE_DONE)
    return tm__sql_error(db);
  *id = sqlite3_last_insert_rowid(db->sql);
  return insert_parts(db, *id, u);
}

tm_status tm_unit_add(tm_db *db, const char *memory, const tm_unit *u,
                      const tm_actor *who, int64_t *id, int *created) {
  tm_unit copy;
  int64_t coll, dup = 0;
  uint64_t hash;
  char *after = NULL, *by = NULL;
  tm_status s;

  *id = 0;
  if (created)
    *created = 0;
  tm__clear_error(db);
  if ((s = tm__unit_copy(u, &copy)) != TM_OK)
    return s;
  if ((s = tm__unit_normalise(db, &copy)) != TM_OK)
    goto out;
  hash = tm__unit_hash(&copy);
  if ((s = tm__begin(db)) != TM_OK)
    goto out;
  if ((s = tm__collection_id(db, TM_MEMORY, memory ? memory : "default", true,
                             &coll)) != TM_OK ||
      (s = tm__unit_find_duplicate(db, coll, &copy, hash, false, &dup)) !=
          TM_OK)
    goto fail;
  if (dup) {
    *id = dup;
    tm__rollback(db);
    goto out;
  }
  if (!(by = tm__actor_name(who))) {
    s = TM_NOMEM;
    goto fail;
  }
  if ((s = tm__unit_insert(db, coll, &copy, hash, by, 0, id)) != TM_OK ||
      (s = tm__snapshot(db, TM__HIST_UNIT, *id, &after)) != TM_OK ||
      (s = tm__history(db, TM__HIST_UNIT, *id, who, "create", NULL, after)) !=
          TM_OK ||
      (s = tm__commit(db)) != TM_OK)
    goto fail;
  if (created)
    *created = 1;
  tm__index_unit_changed(db, *id);
  goto out;
fail:
  tm__rollback(db);
  *id = 0;
out:
  free(by);
  sqlite3_free(after);
  tm__unit_clear(&copy);
  return s;
}

tm_status tm_unit_get(tm_db *db, int64_t id, tm_unit **out) {
  sqlite3_stmt *st;
  tm_unit *u;
  tm_status s;
  bool oom = false;
  int64_t coll;
  int rc;

  *out = NULL;
  if (!(st = tm__stmt(db, TM__STMT_UNIT_GET)))
    return TM_DB;
  sqlite3_bind_int64(st, 1, id);
  rc = sqlite3_step(st);
  if (rc != SQLITE_ROW) {
    sqlite3_reset(st);
    return rc == SQLITE_DONE
               ? tm__error(db, TM_NOTFOUND, "no unit %lld", (long long)id)
               : tm__sql_error(db);
  }
  if (!(u = calloc(1, sizeof *u))) {
    sqlite3_reset(st);
    return TM_NOMEM;
  }
  u->id = id;
  coll = sqlite3_column_int64(st, 0);
  u->status = (tm_record_status)sqlite3_column_int(st, 1);
  u->origin = tm__column_strdup(st, 2, &oom);
  u->note = tm__column_strdup(st, 3, &oom);
  u->created = sqlite3_column_int64(st, 4);
  u->updated = sqlite3_column_int64(st, 5);
  u->created_by = tm__column_strdup(st, 6, &oom);
  sqlite3_reset(st);
  s = oom ? TM_NOMEM : TM_OK;
  if (s == TM_OK && (st = tm__stmt(db, TM__STMT_COLL_NAME))) {
    sqlite3_bind_int64(st, 1, coll);
    if (sqlite3_step(st) == SQLITE_ROW)
      u->memory = tm__column_strdup(st, 0, &oom);
    sqlite3_reset(st);
    if (oom)
      s = TM_NOMEM;
  }
  if (s == TM_OK)
    s = load_parts(db, id, u);
  if (s != TM_OK) {
    tm_unit_free(u);
    return s;
  }
  *out = u;
  return TM_OK;
}

/* Runs a change to an existing unit: the before snapshot, CHANGE, the after
 * snapshot and the history row, in one transaction. */
static tm_status change_unit(tm_db *db, int64_t id, const tm_actor *who,
                             const char *action, const tm_unit *u) {
  char *before = NULL, *after = NULL;
  sqlite3_stmt *st;
  tm_status s;

  if ((s = tm__begin(db)) != TM_OK)
    return s;
  if (!(st = tm__stmt(db, TM__STMT_UNIT_GET))) {
    s = TM_DB;
    goto fail;
  }
  sqlite3_bind_int64(st, 1, id);
  if (sqlite3_step(st) != SQLITE_ROW) {
    sqlite3_reset(st);
    s = tm__error(db, TM_NOTFOUND, "no unit %lld", (long long)id);
    goto fail;
  }
  sqlite3_reset(st);
  if ((s = tm__snapshot(db, TM__HIST_UNIT, id, &before)) != TM_OK)
    goto fail;
  if (u) {
    if (!(st = tm__stmt(db, TM__STMT_UNIT_UPDATE))) {
      s = TM_DB;
      goto fail;
    }
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, (int)u->status);
    tm__bind_text(st, 3, u->origin);
    tm__bind_text(st, 4, u->note);
    sqlite3_bind_int64(st, 5, tm__now(db));
    sqlite3_bind_int64(st, 6, (int64_t)tm__unit_hash(u));
    if (sqlite3_step(st) != SQLITE_DONE) {
      s = tm__sql_error(db);
      goto fail;
    }
    if ((s = tm__exec_id(db, TM__STMT_VARIANT_DELETE, id)) != TM_OK ||
        (s = tm__exec_id(db, TM__STMT_PROP_DELETE, id)) != TM_OK ||
        (s = insert_parts(db, id, u)) != TM_OK ||
        (s = tm__snapshot(db, TM__HIST_UNIT, id, &after)) != TM_OK)
      goto fail;
  } else {
    if (!(st = tm__stmt(db, TM__STMT_UNIT_DELETE))) {
      s = TM_DB;
      goto fail;
    }
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, tm__now(db));
    if (sqlite3_step(st) != SQLITE_DONE) {
      s = tm__sql_error(db);
      goto fail;
    }
  }
  if ((s = tm__history(db, TM__HIST_UNIT, id, who, action, before, after)) !=
          TM_OK ||
      (s = tm__commit(db)) != TM_OK)
    goto fail;
  sqlite3_free(before);
  sqlite3_free(after);
  tm__index_unit_changed(db, id);
  return TM_OK;
fail:
  tm__rollback(db);
  sqlite3_free(before);
  sqlite3_free(after);
  return s;
}

tm_status tm_unit_update(tm_db *db, int64_t id, const tm_unit *u,
                         const tm_actor *who) {
  tm_unit copy;
  tm_status s;

  tm__clear_error(db);
  if ((s = tm__unit_copy(u, &copy)) != TM_OK)
    return s;
  if ((s = tm__unit_normalise(db, &copy)) == TM_OK)
    s = change_unit(db, id, who, "update", &copy);
  tm__unit_clear(&copy);
  return s;
}

tm_status tm_unit_delete(tm_db *db, int64_t id, const tm_actor *who) {
  tm__clear_error(db);
  return change_unit(db, id, who, "delete", NULL);
}

tm_status tm_unit_history(tm_db *db, int64_t id, tm_change **out, size_t *n) {
  sqlite3_stmt *st = tm__stmt(db, TM__STMT_UNIT_SNAPSHOT);
  int rc;

  *out = NULL;
  *n = 0;
  if (!st)
    return TM_DB;
  /* Deleted units keep their history; unknown ones have none. */
  sqlite3_bind_int64(st, 1, id);
  rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc == SQLITE_DONE)
    return tm__error(db, TM_NOTFOUND, "no unit %lld", (long long)id);
  if (rc != SQLITE_ROW)
    return tm__sql_error(db);
  return tm__history_list(db, TM__HIST_UNIT, id, out, n);
}

tm_status tm__units_each(tm_db *db, int64_t collection, int approved_only,
                         tm__unit_fn fn, void *ctx) {
  sqlite3_stmt *st = NULL;
  tm_status s = TM_OK;
  int rc;

  /* Its own statement: the cached ones are used for each unit meanwhile. */
  if (sqlite3_prepare_v2(db->sql,
                         "SELECT id,status,origin,note,created,updated,"
                         "created_by FROM units WHERE collection=?1 AND "
                         "deleted=0 AND (?2=0 OR status=1) ORDER BY id",
                         -1, &st, NULL) != SQLITE_OK)
    return tm__sql_error(db);
  sqlite3_bind_int64(st, 1, collection);
  sqlite3_bind_int(st, 2, approved_only ? 1 : 0);
  while (s == TM_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    tm_unit u = {0};
    bool oom = false;
    u.id = sqlite3_column_int64(st, 0);
    u.status = (tm_record_status)sqlite3_column_int(st, 1);
    u.origin = tm__column_strdup(st, 2, &oom);
    u.note = tm__column_strdup(st, 3, &oom);
    u.created = sqlite3_column_int64(st, 4);
    u.updated = sqlite3_column_int64(st, 5);
    u.created_by = tm__column_strdup(st, 6, &oom);
    s = oom ? TM_NOMEM : load_parts(db, u.id, &u);
    if (s == TM_OK)
      s = fn(ctx, &u);
    tm__unit_clear(&u);
  }
  if (s == TM_OK && rc != SQLITE_DONE)
    s = tm__sql_error(db);
  sqlite3_finalize(st);
  return s;
}
