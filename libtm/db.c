/*
 * db.c - the database handle: opening, the schema and its forward
 * migrations, the statement cache, transactions, errors, ICU collations
 * registered with SQLite, and seeding a new database.
 */
#include "tm_internal.h"

#include <dirent.h>
#include <errno.h>
#include <libxml/parser.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef TM_GLOSSARY_DIR
#define TM_GLOSSARY_DIR "glossaries"
#endif

/*
 * The schema, as the steps that built it.  A database at user_version N has
 * had steps 1..N applied; opening it applies the rest, each step in its own
 * transaction.  Never edit a published step: add one.
 */
static const char *const schema_steps[] = {
    /* 1: collections, units with their variants, glossary entries. */
    "CREATE TABLE collections("
    " id INTEGER PRIMARY KEY,"
    " kind INTEGER NOT NULL,"
    " name TEXT NOT NULL,"
    " created INTEGER NOT NULL,"
    " UNIQUE(kind, name));"
    "CREATE TABLE units("
    " id INTEGER PRIMARY KEY,"
    " collection INTEGER NOT NULL REFERENCES collections(id),"
    " status INTEGER NOT NULL DEFAULT 0,"
    " origin TEXT, note TEXT,"
    " created INTEGER NOT NULL, updated INTEGER NOT NULL,"
    " created_by TEXT,"
    " hash INTEGER NOT NULL,"
    " deleted INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX units_hash ON units(collection, hash);"
    "CREATE TABLE variants("
    " unit INTEGER NOT NULL REFERENCES units(id) ON DELETE CASCADE,"
    " lang TEXT NOT NULL,"
    " text TEXT NOT NULL,"
    " markup TEXT,"
    " PRIMARY KEY(unit, lang)) WITHOUT ROWID;"
    "CREATE TABLE props("
    " unit INTEGER NOT NULL REFERENCES units(id) ON DELETE CASCADE,"
    " lang TEXT NOT NULL DEFAULT '',"
    " type TEXT,"
    " value TEXT NOT NULL);"
    "CREATE INDEX props_unit ON props(unit);"
    "CREATE TABLE entries("
    " id INTEGER PRIMARY KEY,"
    " collection INTEGER NOT NULL REFERENCES collections(id),"
    " status INTEGER NOT NULL DEFAULT 0,"
    " definition TEXT, note TEXT, domain TEXT, source TEXT, origin TEXT,"
    " created INTEGER NOT NULL, updated INTEGER NOT NULL,"
    " created_by TEXT,"
    " deleted INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE terms("
    " id INTEGER PRIMARY KEY,"
    " entry INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,"
    " lang TEXT NOT NULL,"
    " seq INTEGER NOT NULL,"
    " text TEXT NOT NULL,"
    " fold TEXT NOT NULL,"
    " status INTEGER NOT NULL DEFAULT 0,"
    " type INTEGER NOT NULL DEFAULT 0,"
    " note TEXT, pos TEXT);"
    "CREATE INDEX terms_entry ON terms(entry, seq);",

    /* 2: change history, import batches, API tokens, and the search keys of
     * terms (filled in by the step's C part below). */
    "CREATE TABLE history("
    " id INTEGER PRIMARY KEY,"
    " kind INTEGER NOT NULL,"
    " target INTEGER NOT NULL,"
    " at INTEGER NOT NULL,"
    " token INTEGER,"
    " by TEXT,"
    " action TEXT NOT NULL,"
    " before TEXT, after TEXT);"
    "CREATE INDEX history_target ON history(kind, target);"
    "CREATE TABLE batches("
    " id INTEGER PRIMARY KEY,"
    " collection INTEGER NOT NULL REFERENCES collections(id),"
    " at INTEGER NOT NULL,"
    " token INTEGER, by TEXT,"
    " name TEXT, format TEXT,"
    " records INTEGER);"
    "ALTER TABLE units ADD COLUMN batch INTEGER REFERENCES batches(id);"
    "ALTER TABLE entries ADD COLUMN batch INTEGER REFERENCES batches(id);"
    "CREATE TABLE tokens("
    " id INTEGER PRIMARY KEY,"
    " hash BLOB NOT NULL,"
    " role INTEGER NOT NULL,"
    " label TEXT,"
    " created INTEGER NOT NULL,"
    " revoked INTEGER);"
    "ALTER TABLE terms ADD COLUMN initials TEXT;"
    "ALTER TABLE terms ADD COLUMN translit TEXT;",
};

#define SCHEMA_VERSION ((int)(sizeof schema_steps / sizeof schema_steps[0]))

static const char *const stmt_sql[TM__STMT_COUNT] = {
#define TM__STMT_SQL(name, sql) sql,
    TM__STMT_MAP(TM__STMT_SQL)
#undef TM__STMT_SQL
};

static char *default_glossary_dir;

int tm_db_schema_version(void) {
  return SCHEMA_VERSION;
}

void tm_db_set_default_glossary_dir(const char *dir) {
  free(default_glossary_dir);
  default_glossary_dir = dir ? tm__strdup(dir) : NULL;
}

static const char *glossary_dir(void) {
  const char *env;

  if (default_glossary_dir)
    return default_glossary_dir;
  env = getenv("TM_GLOSSARY_DIR");
  return env && *env ? env : TM_GLOSSARY_DIR;
}

/* ------------------------------------------------------------- errors */

tm_status tm__verror(tm_db *db, tm_status s, const char *fmt, va_list ap) {
  char *msg;

  if (!db)
    return s;
  /* libc's printf, not sqlite3_vmprintf: SQLite reads %z differently. */
  if (vasprintf(&msg, fmt, ap) < 0)
    msg = NULL;
  free(db->errmsg);
  db->errmsg = msg; /* NULL on OOM: the status's message stands in */
  return s;
}

tm_status tm__error(tm_db *db, tm_status s, const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  tm__verror(db, s, fmt, ap);
  va_end(ap);
  return s;
}

tm_status tm__sql_error(tm_db *db) {
  int rc = sqlite3_errcode(db->sql);
  tm_status s = TM_DB;

  if (rc == SQLITE_NOMEM)
    s = TM_NOMEM;
  else if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
    s = TM_BUSY;
  else if (rc == SQLITE_FULL || rc == SQLITE_IOERR)
    s = TM_IO;
  return tm__error(db, s, "database: %s", sqlite3_errmsg(db->sql));
}

void tm__clear_error(tm_db *db) {
  free(db->errmsg);
  db->errmsg = NULL;
}

const char *tm_db_errmsg(const tm_db *db) {
  if (!db)
    return tm_status_message(TM_NOMEM);
  return db->errmsg ? db->errmsg : "no error";
}

/* ---------------------------------------------------------- statements */

sqlite3_stmt *tm__stmt(tm_db *db, tm__stmt_id id) {
  sqlite3_stmt *st = db->stmts[id];

  if (st) {
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
  }
  if (sqlite3_prepare_v3(db->sql, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                         &st, NULL) != SQLITE_OK) {
    tm__sql_error(db);
    return NULL;
  }
  db->stmts[id] = st;
  return st;
}

tm_status tm__exec(tm_db *db, tm__stmt_id id) {
  sqlite3_stmt *st = tm__stmt(db, id);
  int rc;

  if (!st)
    return TM_DB;
  rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    return tm__sql_error(db);
  return TM_OK;
}

tm_status tm__exec_id(tm_db *db, tm__stmt_id id, int64_t value) {
  sqlite3_stmt *st = tm__stmt(db, id);
  int rc;

  if (!st)
    return TM_DB;
  sqlite3_bind_int64(st, 1, value);
  rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    return tm__sql_error(db);
  return TM_OK;
}

void tm__index_unit_changed(tm_db *db, int64_t id) {
  if (db->index && db->on_unit)
    db->on_unit(db->index, db, id);
}

void tm__index_entry_changed(tm_db *db, int64_t id) {
  if (db->index && db->on_entry)
    db->on_entry(db->index, db, id);
}

void tm__index_reload(tm_db *db) {
  if (db->index && db->on_reload)
    db->on_reload(db->index, db);
}

tm_status tm__begin(tm_db *db) {
  if (db->readonly)
    return tm__error(db, TM_DENIED, "the database is open read-only");
  return tm__exec(db, TM__STMT_BEGIN);
}

tm_status tm__commit(tm_db *db) {
  return tm__exec(db, TM__STMT_COMMIT);
}

void tm__rollback(tm_db *db) {
  if (!sqlite3_get_autocommit(db->sql)) {
    sqlite3_stmt *st = tm__stmt(db, TM__STMT_ROLLBACK);
    if (st) {
      sqlite3_step(st);
      sqlite3_reset(st);
    }
  }
}

int tm__bind_text(sqlite3_stmt *st, int i, const char *s) {
  if (!s)
    return sqlite3_bind_null(st, i);
  return sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

char *tm__column_strdup(sqlite3_stmt *st, int i, bool *oom) {
  const unsigned char *s = sqlite3_column_text(st, i);
  char *copy;

  if (!s)
    return NULL;
  copy = tm__strndup((const char *)s, (size_t)sqlite3_column_bytes(st, i));
  if (!copy)
    *oom = true;
  return copy;
}

/* --------------------------------------------------------------- clock */

static int64_t system_clock(void *ctx) {
  (void)ctx;
  return (int64_t)time(NULL);
}

void tm_db_set_clock(tm_db *db, int64_t (*now)(void *ctx), void *ctx) {
  db->now = now ? now : system_clock;
  db->now_ctx = ctx;
}

int64_t tm__now(tm_db *db) {
  return db->now(db->now_ctx);
}

void tm_time_format(int64_t t, char buf[21]) {
  struct tm tmv;
  time_t tt = (time_t)t;

  if (!gmtime_r(&tt, &tmv) ||
      strftime(buf, 21, "%Y-%m-%dT%H:%M:%SZ", &tmv) == 0)
    strcpy(buf, "1970-01-01T00:00:00Z");
}

/* ---------------------------------------------------------- collations */

typedef struct collation_ctx {
  tm_text *text;
  char lang[TM_LANG_MAX];
} collation_ctx;

static int collation_compare(void *arg, int alen, const void *a, int blen,
                             const void *b) {
  collation_ctx *c = arg;
  int result = 0;

  if (tm__text_collate_n(c->text, c->lang, a, (size_t)alen, b, (size_t)blen,
                         &result) != TM_OK) {
    /* Fall back to code point order so that SQLite still gets a total
     * order; this happens only when ICU fails to open the collator. */
    int n = memcmp(a, b, (size_t)(alen < blen ? alen : blen));
    return n ? n : alen - blen;
  }
  return result;
}

/* SQLite asks for a collation it has not seen: every language tag is one,
 * named as its tag ("uk", "ko", "en-GB").  They share the handle's text
 * context, which is safe because a handle is used by one thread at once. */
static void collation_needed(void *arg, sqlite3 *sql, int enc,
                             const char *name) {
  tm_db *db = arg;
  collation_ctx *c;

  (void)enc;
  c = calloc(1, sizeof *c);
  if (!c)
    return;
  if (tm_lang_canonical(name, c->lang) != TM_OK) {
    free(c);
    return;
  }
  c->text = db->text;
  sqlite3_create_collation_v2(sql, name, SQLITE_UTF8, c, collation_compare,
                              free);
}

/* tm_sortkey(lang, text): ICU's sort key, so that ORDER BY on it follows
 * the language's collation with the language as a bound parameter. */
static void sortkey_func(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  tm_db *db = sqlite3_user_data(ctx);
  const char *lang = (const char *)sqlite3_value_text(argv[0]);
  const char *text = (const char *)sqlite3_value_text(argv[1]);
  uint8_t *key = NULL;
  size_t n = 0;

  (void)argc;
  if (!lang || !text) {
    sqlite3_result_null(ctx);
    return;
  }
  if (tm__text_sortkey(db->text, lang, text,
                       (size_t)sqlite3_value_bytes(argv[1]), &key,
                       &n) != TM_OK) {
    sqlite3_result_error(ctx, "tm_sortkey: collation failed", -1);
    return;
  }
  sqlite3_result_blob(ctx, key, (int)n, free);
}

/* ----------------------------------------------------------- migration */

/* Fills the search keys of terms that have none (schema step 2). */
static tm_status fill_term_keys(tm_db *db) {
  sqlite3_stmt *sel = NULL, *upd = NULL;
  tm_status s = TM_OK;
  int rc;

  if (sqlite3_prepare_v2(
          db->sql, "SELECT id,lang,text FROM terms WHERE translit IS NULL", -1,
          &sel, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db->sql,
                         "UPDATE terms SET initials=?2,translit=?3 WHERE id=?1",
                         -1, &upd, NULL) != SQLITE_OK) {
    s = tm__sql_error(db);
    goto out;
  }
  while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
    const char *lang = (const char *)sqlite3_column_text(sel, 1);
    const char *text = (const char *)sqlite3_column_text(sel, 2);
    size_t len = (size_t)sqlite3_column_bytes(sel, 2);
    char *ini = NULL, *tr = NULL;

    s = tm__term_keys(db->text, lang, text, len, &ini, &tr);
    if (s == TM_OK) {
      sqlite3_bind_int64(upd, 1, sqlite3_column_int64(sel, 0));
      tm__bind_text(upd, 2, ini);
      tm__bind_text(upd, 3, tr);
      if (sqlite3_step(upd) != SQLITE_DONE)
        s = tm__sql_error(db);
      sqlite3_reset(upd);
    }
    free(ini);
    free(tr);
    if (s != TM_OK)
      goto out;
  }
  if (rc != SQLITE_DONE)
    s = tm__sql_error(db);
out:
  sqlite3_finalize(sel);
  sqlite3_finalize(upd);
  return s;
}

static tm_status migrate(tm_db *db, int target) {
  int version = 0;
  tm_status s;

  if ((s = tm_db_file_schema_version(db, &version)) != TM_OK)
    return s;
  if (version > SCHEMA_VERSION)
    return tm__error(db, TM_SCHEMA,
                     "the database has schema version %d; this program "
                     "knows versions up to %d",
                     version, SCHEMA_VERSION);
  if (version < target && db->readonly)
    return tm__error(db, TM_SCHEMA,
                     "the database has schema version %d and needs an "
                     "upgrade, which a read-only handle cannot do",
                     version);
  while (version < target) {
    char pragma[40];

    if ((s = tm__begin(db)) != TM_OK)
      return s;
    if (sqlite3_exec(db->sql, schema_steps[version], NULL, NULL, NULL) !=
        SQLITE_OK) {
      s = tm__sql_error(db);
      goto fail;
    }
    if (version + 1 == 2 && (s = fill_term_keys(db)) != TM_OK)
      goto fail;
    snprintf(pragma, sizeof pragma, "PRAGMA user_version=%d", version + 1);
    if (sqlite3_exec(db->sql, pragma, NULL, NULL, NULL) != SQLITE_OK) {
      s = tm__sql_error(db);
      goto fail;
    }
    if ((s = tm__commit(db)) != TM_OK)
      goto fail;
    version++;
  }
  return TM_OK;
fail:
  tm__rollback(db);
  return s;
}

tm_status tm_db_file_schema_version(tm_db *db, int *version) {
  sqlite3_stmt *st;

  if (sqlite3_prepare_v2(db->sql, "PRAGMA user_version", -1, &st, NULL) !=
      SQLITE_OK)
    return tm__sql_error(db);
  *version = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
  sqlite3_finalize(st);
  return TM_OK;
}

/* ------------------------------------------------------------- seeding */

static int name_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Loads every *.tsv of the glossary folder into a glossary named after the
 * file.  A missing folder is not an error: a library embedded elsewhere has
 * no glossaries to ship. */
static tm_status seed_glossaries(tm_db *db) {
  const char *dir = glossary_dir();
  DIR *d = opendir(dir);
  struct dirent *de;
  char **names = NULL;
  size_t n = 0, cap = 0, i;
  tm_status s = TM_OK;

  if (!d)
    return TM_OK;
  while ((de = readdir(d))) {
    size_t len = strlen(de->d_name);
    if (len <= 4 || strcmp(de->d_name + len - 4, ".tsv") != 0 ||
        de->d_name[0] == '.')
      continue;
    if (n == cap) {
      size_t ncap = cap ? cap * 2 : 8;
      char **nn = realloc(names, ncap * sizeof *nn);
      if (!nn) {
        s = TM_NOMEM;
        goto out;
      }
      names = nn;
      cap = ncap;
    }
    if (!(names[n] = tm__strdup(de->d_name))) {
      s = TM_NOMEM;
      goto out;
    }
    n++;
  }
  if (n)
    qsort(names, n, sizeof *names, name_cmp);
  for (i = 0; i < n && s == TM_OK; i++) {
    char *path = tm__asprintf("%s/%s", dir, names[i]);
    char *coll = tm__strndup(names[i], strlen(names[i]) - 4);
    tm_actor who = {0, "glossaries"};
    tm_import_opts o = {.format = TM_FORMAT_TSV,
                        .kind = TM_GLOSSARY,
                        .collection = coll,
                        .name = path,
                        .who = &who,
                        .status = TM_DRAFT};
    tm_import_result r;

    if (!path || !coll)
      s = TM_NOMEM;
    else if (!tm__collection_name_valid(coll))
      s = tm__error(db, TM_INVALID,
                    "%s: the file name is not a valid glossary name", path);
    else
      s = tm_import_file(db, path, &o, &r);
    free(path);
    free(coll);
  }
out:
  closedir(d);
  tm__strv_free(names, n);
  return s;
}

/* -------------------------------------------------------------- opening */

/* Finalizes the cached statements and closes the connection: with a
 * statement left, sqlite3_close_v2 would only defer the close. */
static void close_sql(tm_db *db) {
  for (size_t i = 0; i < TM__STMT_COUNT; i++) {
    sqlite3_finalize(db->stmts[i]);
    db->stmts[i] = NULL;
  }
  if (db->sql)
    sqlite3_close_v2(db->sql);
  db->sql = NULL;
}

static tm_status open_at(const char *path, int flags, int target, tm_db **out) {
  tm_db *db;
  tm_status s;
  int oflags, created = 0;
  struct stat sb;

  *out = NULL;
  if (!path)
    return TM_INVALID;
  if (!(db = calloc(1, sizeof *db)))
    return TM_NOMEM;
  *out = db;
  db->now = system_clock;
  db->readonly = (flags & TM_OPEN_READONLY) != 0;
  if ((s = tm_text_open(&db->text)) != TM_OK)
    return tm__error(db, s, "cannot open the text services (ICU)");

  if (strcmp(path, ":memory:") != 0 && stat(path, &sb) != 0) {
    if (errno != ENOENT)
      return tm__error(db, TM_IO, "%s: %s", path, strerror(errno));
    if (flags & (TM_OPEN_NOCREATE | TM_OPEN_READONLY))
      return tm__error(db, TM_NOTFOUND, "%s: no such database", path);
    created = 1;
  } else if (strcmp(path, ":memory:") == 0) {
    created = 1;
  }

  oflags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  oflags |= db->readonly ? SQLITE_OPEN_READONLY
                         : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  if (sqlite3_open_v2(path, &db->sql, oflags, NULL) != SQLITE_OK) {
    if (!db->sql)
      return tm__error(db, TM_NOMEM, "cannot allocate a database handle");
    return tm__error(db, TM_IO, "%s: %s", path, sqlite3_errmsg(db->sql));
  }
  sqlite3_extended_result_codes(db->sql, 1);
  sqlite3_busy_timeout(db->sql, 5000);
  /* WAL lets readers go on while one writer writes; synchronous=FULL makes
   * every commit durable across a power loss, so an acknowledged
   * contribution is never lost (docs/durability.md). */
  if (sqlite3_exec(db->sql,
                   db->readonly ? "PRAGMA foreign_keys=ON;"
                                : "PRAGMA journal_mode=WAL;"
                                  "PRAGMA synchronous=FULL;"
                                  "PRAGMA foreign_keys=ON;",
                   NULL, NULL, NULL) != SQLITE_OK) {
    s = tm__error(db, TM_DB, "%s: %s", path, sqlite3_errmsg(db->sql));
    if (sqlite3_errcode(db->sql) == SQLITE_NOTADB)
      s = tm__error(db, TM_DB, "%s: not a database", path);
    return s;
  }
  sqlite3_collation_needed(db->sql, db, collation_needed);
  if (sqlite3_create_function_v2(db->sql, "tm_sortkey", 2,
                                 SQLITE_UTF8 | SQLITE_DETERMINISTIC, db,
                                 sortkey_func, NULL, NULL, NULL) != SQLITE_OK)
    return tm__sql_error(db);

  if ((s = migrate(db, target)) != TM_OK)
    return s;
  if (target < SCHEMA_VERSION || db->readonly)
    return TM_OK;

  if ((s = tm__collection_id(db, TM_MEMORY, "default", true, NULL)) != TM_OK ||
      (s = tm__collection_id(db, TM_GLOSSARY, "default", true, NULL)) != TM_OK)
    return s;
  if (created && !(flags & TM_OPEN_NOSEED))
    if ((s = seed_glossaries(db)) != TM_OK) {
      /* A half-seeded new database would be mistaken for a seeded one
       * next time; remove it so that the next open tries again. */
      if (strcmp(path, ":memory:") != 0) {
        char *wal = tm__asprintf("%s-wal", path);
        char *shm = tm__asprintf("%s-shm", path);
        char *msg = tm__strdup(tm_db_errmsg(db));
        close_sql(db);
        unlink(path);
        if (wal)
          unlink(wal);
        if (shm)
          unlink(shm);
        free(wal);
        free(shm);
        tm__error(db, s, "%s", msg ? msg : tm_status_message(s));
        free(msg);
      }
      return s;
    }
  tm__clear_error(db);
  return TM_OK;
}

/* libxml2 wants its globals set up once, before threads parse at once. */
static void init_once(void) {
  xmlInitParser();
}

tm_status tm_db_open(const char *path, int flags, tm_db **out) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;

  pthread_once(&once, init_once);
  return open_at(path, flags, SCHEMA_VERSION, out);
}

tm_status tm__db_open_at_version(const char *path, int target, tm_db **out) {
  if (target < 0 || target > SCHEMA_VERSION)
    return TM_INVALID;
  return open_at(path, TM_OPEN_NOSEED, target, out);
}

void tm_db_close(tm_db *db) {
  if (!db)
    return;
  if (db->sql && !db->readonly)
    sqlite3_exec(db->sql, "PRAGMA optimize", NULL, NULL, NULL);
  close_sql(db);
  tm_text_close(db->text);
  free(db->errmsg);
  free(db->term_counts);
  free(db->term_touched);
  free(db->doc_counts);
  free(db->doc_touched);
  free(db);
}

tm_text *tm_db_text(tm_db *db) {
  return db->text;
}
