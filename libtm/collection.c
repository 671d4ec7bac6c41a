/*
 * collection.c - named memories and glossaries, their counts, the
 * statistics, and the change history that every write appends to.
 */
#include "tm_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool tm__collection_name_valid(const char *name) {
  size_t n = 0;

  if (!name || !*name || *name == '.')
    return false;
  for (; name[n]; n++) {
    char c = name[n];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
      return false;
  }
  return n <= 64;
}

static const char *kind_name(tm_kind kind) {
  return kind == TM_GLOSSARY ? "glossary" : "memory";
}

tm_status tm__collection_id(tm_db *db, tm_kind kind, const char *name,
                            bool create, int64_t *id) {
  sqlite3_stmt *st;
  int rc;

  if (!tm__collection_name_valid(name))
    return tm__error(db, TM_INVALID,
                     "invalid %s name \"%s\": use 1 to 64 letters, digits, "
                     "'.', '_' or '-'",
                     kind_name(kind), name ? name : "");
  if (!(st = tm__stmt(db, TM__STMT_COLL_FIND)))
    return TM_DB;
  sqlite3_bind_int(st, 1, (int)kind);
  tm__bind_text(st, 2, name);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    if (id)
      *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return TM_OK;
  }
  sqlite3_reset(st);
  if (rc != SQLITE_DONE)
    return tm__sql_error(db);
  if (!create)
    return tm__error(db, TM_NOTFOUND, "no %s named \"%s\"", kind_name(kind),
                     name);
  if (db->readonly)
    return tm__error(db, TM_DENIED, "the database is open read-only");
  if (!(st = tm__stmt(db, TM__STMT_COLL_INSERT)))
    return TM_DB;
  sqlite3_bind_int(st, 1, (int)kind);
  tm__bind_text(st, 2, name);
  sqlite3_bind_int64(st, 3, tm__now(db));
  rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc != SQLITE_DONE)
    return tm__sql_error(db);
  if (id)
    *id = sqlite3_last_insert_rowid(db->sql);
  return TM_OK;
}

tm_status tm_collection_create(tm_db *db, tm_kind kind, const char *name) {
  tm_status s;

  if (kind != TM_MEMORY && kind != TM_GLOSSARY)
    return tm__error(db, TM_INVALID, "unknown collection kind");
  s = tm__collection_id(db, kind, name, false, NULL);
  if (s == TM_OK)
    return tm__error(db, TM_EXISTS, "a %s named \"%s\" already exists",
                     kind_name(kind), name);
  if (s != TM_NOTFOUND)
    return s;
  return tm__collection_id(db, kind, name, true, NULL);
}

tm_status tm_collection_exists(tm_db *db, tm_kind kind, const char *name,
                               int *exists) {
  tm_status s = tm__collection_id(db, kind, name, false, NULL);

  *exists = s == TM_OK;
  if (s == TM_NOTFOUND || s == TM_INVALID) {
    tm__clear_error(db);
    return TM_OK;
  }
  return s;
}

/* Fills C's counts from the collection ID. */
static tm_status fill_counts(tm_db *db, int64_t id, tm_collection *c) {
  bool units = c->kind == TM_MEMORY;
  sqlite3_stmt *st;
  size_t cap = 0;
  int rc;

  if (!(st = tm__stmt(db, units ? TM__STMT_COLL_UNIT_COUNT
                                : TM__STMT_COLL_ENTRY_COUNT)))
    return TM_DB;
  sqlite3_bind_int64(st, 1, id);
  if (sqlite3_step(st) != SQLITE_ROW) {
    sqlite3_reset(st);
    return tm__sql_error(db);
  }
  c->records = sqlite3_column_int64(st, 0);
  sqlite3_reset(st);
  if (!(st = tm__stmt(db, units ? TM__STMT_COLL_UNIT_LANGS
                                : TM__STMT_COLL_ENTRY_LANGS)))
    return TM_DB;
  sqlite3_bind_int64(st, 1, id);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *lang = (const char *)sqlite3_column_text(st, 0);
    if (c->nlangs == cap) {
      size_t ncap = cap ? cap * 2 : 4;
      tm_lang_count *l = realloc(c->langs, ncap * sizeof *l);
      if (!l) {
        sqlite3_reset(st);
        return TM_NOMEM;
      }
      c->langs = l;
      cap = ncap;
    }
    snprintf(c->langs[c->nlangs].lang, TM_LANG_MAX, "%s", lang ? lang : "");
    c->langs[c->nlangs].count = sqlite3_column_int64(st, 1);
    c->nlangs++;
  }
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? TM_OK : tm__sql_error(db);
}

tm_status tm_collection_list(tm_db *db, tm_kind kind, tm_collection **out,
                             size_t *n) {
  sqlite3_stmt *st;
  tm_collection *v = NULL;
  size_t nv = 0, cap = 0, i;
  int64_t *ids = NULL;
  tm_status s = TM_OK;
  int rc;

  *out = NULL;
  *n = 0;
  if (!(st = tm__stmt(db, TM__STMT_COLL_LIST)))
    return TM_DB;
  sqlite3_bind_int(st, 1, (int)kind);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (nv == cap) {
      size_t ncap = cap ? cap * 2 : 8;
      tm_collection *nvp = realloc(v, ncap * sizeof *nvp);
      int64_t *nid = realloc(ids, ncap * sizeof *nid);
      if (nvp)
        v = nvp;
      if (nid)
        ids = nid;
      if (!nvp || !nid) {
        s = TM_NOMEM;
        break;
      }
      cap = ncap;
    }
    memset(&v[nv], 0, sizeof v[nv]);
    ids[nv] = sqlite3_column_int64(st, 0);
    v[nv].kind = (tm_kind)sqlite3_column_int(st, 2);
    if (!(v[nv].name = tm__strdup((const char *)sqlite3_column_text(st, 1)))) {
      s = TM_NOMEM;
      break;
    }
    nv++;
  }
  sqlite3_reset(st);
  if (s == TM_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
    s = tm__sql_error(db);
  for (i = 0; s == TM_OK && i < nv; i++)
    s = fill_counts(db, ids[i], &v[i]);
  free(ids);
  if (s != TM_OK) {
    tm_collection_list_free(v, nv);
    return s;
  }
  *out = v;
  *n = nv;
  return TM_OK;
}

void tm_collection_list_free(tm_collection *c, size_t n) {
  if (!c)
    return;
  for (size_t i = 0; i < n; i++) {
    free(c[i].name);
    free(c[i].langs);
  }
  free(c);
}

tm_status tm_stats(tm_db *db, tm_collection **memories, size_t *nmem,
                   tm_collection **glossaries, size_t *ngloss) {
  tm_status s = tm_collection_list(db, TM_MEMORY, memories, nmem);

  if (s != TM_OK)
    return s;
  s = tm_collection_list(db, TM_GLOSSARY, glossaries, ngloss);
  if (s != TM_OK) {
    tm_collection_list_free(*memories, *nmem);
    *memories = NULL;
    *nmem = 0;
  }
  return s;
}

/* ------------------------------------------------------------- history */

char *tm__actor_name(const tm_actor *who) {
  if (!who)
    return tm__strdup("local");
  if (who->token && who->name)
    return tm__asprintf("token %lld (%s)", (long long)who->token, who->name);
  if (who->token)
    return tm__asprintf("token %lld", (long long)who->token);
  return tm__strdup(who->name ? who->name : "local");
}

tm_status tm__history(tm_db *db, int kind, int64_t target, const tm_actor *who,
                      const char *action, const char *before,
                      const char *after) {
  sqlite3_stmt *st = tm__stmt(db, TM__STMT_HISTORY_INSERT);
  char *by;
  int rc;

  if (!st)
    return TM_DB;
  if (!(by = tm__actor_name(who)))
    return TM_NOMEM;
  sqlite3_bind_int(st, 1, kind);
  sqlite3_bind_int64(st, 2, target);
  sqlite3_bind_int64(st, 3, tm__now(db));
  if (who && who->token)
    sqlite3_bind_int64(st, 4, who->token);
  tm__bind_text(st, 5, by);
  tm__bind_text(st, 6, action);
  tm__bind_text(st, 7, before);
  tm__bind_text(st, 8, after);
  rc = sqlite3_step(st);
  sqlite3_reset(st);
  free(by);
  return rc == SQLITE_DONE ? TM_OK : tm__sql_error(db);
}

tm_status tm__snapshot(tm_db *db, int kind, int64_t id, char **json) {
  sqlite3_stmt *st =
      tm__stmt(db, kind == TM__HIST_UNIT ? TM__STMT_UNIT_SNAPSHOT
                                         : TM__STMT_ENTRY_SNAPSHOT);
  int rc;

  *json = NULL;
  if (!st)
    return TM_DB;
  sqlite3_bind_int64(st, 1, id);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *json = sqlite3_mprintf("%s", sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    return *json ? TM_OK : TM_NOMEM;
  }
  sqlite3_reset(st);
  return rc == SQLITE_DONE
             ? tm__error(db, TM_NOTFOUND, "no record %lld", (long long)id)
             : tm__sql_error(db);
}

void tm_history_free(tm_change *c, size_t n) {
  if (!c)
    return;
  for (size_t i = 0; i < n; i++) {
    free(c[i].by);
    free(c[i].action);
    free(c[i].before);
    free(c[i].after);
  }
  free(c);
}

/* The history of a unit or an entry.  A record that came from an import
 * has no row of its own for its creation (an import of 200,000 units
 * would double the database); its batch stands in as the first change. */
tm_status tm__history_list(tm_db *db, int kind, int64_t id, tm_change **out,
                           size_t *n) {
  sqlite3_stmt *st;
  tm_change *v = NULL;
  size_t nv = 0, cap = 0;
  bool oom = false;
  int rc;

  *out = NULL;
  *n = 0;
  if (!(st = tm__stmt(db, kind == TM__HIST_UNIT ? TM__STMT_BATCH_OF_UNIT
                                                : TM__STMT_BATCH_OF_ENTRY)))
    return TM_DB;
  sqlite3_bind_int64(st, 1, id);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    if (!(v = calloc(1, sizeof *v))) {
      sqlite3_reset(st);
      return TM_NOMEM;
    }
    cap = 1;
    v[0].at = sqlite3_column_int64(st, 0);
    v[0].by = tm__column_strdup(st, 1, &oom);
    v[0].action = tm__strdup("import");
    v[0].after = tm__column_strdup(st, 2, &oom);
    nv = 1;
    if (!v[0].action)
      oom = true;
  }
  sqlite3_reset(st);
  if (!oom && rc != SQLITE_ROW && rc != SQLITE_DONE)
    return tm__sql_error(db);
  if (!oom && !(st = tm__stmt(db, TM__STMT_HISTORY_LIST))) {
    tm_history_free(v, nv);
    return TM_DB;
  }
  if (!oom) {
    sqlite3_bind_int(st, 1, kind);
    sqlite3_bind_int64(st, 2, id);
    while (!oom && (rc = sqlite3_step(st)) == SQLITE_ROW) {
      if (nv == cap) {
        size_t ncap = cap ? cap * 2 : 4;
        tm_change *nvp = realloc(v, ncap * sizeof *nvp);
        if (!nvp) {
          oom = true;
          break;
        }
        v = nvp;
        cap = ncap;
      }
      memset(&v[nv], 0, sizeof v[nv]);
      v[nv].at = sqlite3_column_int64(st, 0);
      v[nv].by = tm__column_strdup(st, 1, &oom);
      v[nv].action = tm__column_strdup(st, 2, &oom);
      v[nv].before = tm__column_strdup(st, 3, &oom);
      v[nv].after = tm__column_strdup(st, 4, &oom);
      nv++;
    }
    sqlite3_reset(st);
  }
  if (oom) {
    tm_history_free(v, nv);
    return TM_NOMEM;
  }
  *out = v;
  *n = nv;
  return TM_OK;
}

static tm_status collection_langs(tm_db *db, int64_t collection, tm_kind kind,
                                  char ***langs, size_t *n) {
  tm_collection c = {0};
  tm_status s;
  char **v;

  *langs = NULL;
  *n = 0;
  c.kind = kind;
  if ((s = fill_counts(db, collection, &c)) != TM_OK) {
    free(c.langs);
    return s;
  }
  v = calloc(c.nlangs ? c.nlangs : 1, sizeof *v);
  for (size_t i = 0; v && i < c.nlangs; i++)
    if (!(v[i] = tm__strdup(c.langs[i].lang))) {
      tm__strv_free(v, i);
      v = NULL;
    }
  if (!v) {
    free(c.langs);
    return TM_NOMEM;
  }
  *langs = v;
  *n = c.nlangs;
  free(c.langs);
  return TM_OK;
}

tm_status tm__unit_langs(tm_db *db, int64_t collection, char ***langs,
                         size_t *n) {
  return collection_langs(db, collection, TM_MEMORY, langs, n);
}

tm_status tm__entry_langs(tm_db *db, int64_t collection, char ***langs,
                          size_t *n) {
  return collection_langs(db, collection, TM_GLOSSARY, langs, n);
}
