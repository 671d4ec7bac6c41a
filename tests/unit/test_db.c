/*
 * test_db.c - the database handle (libtm/db.c, import.c): the schema and
 * its migrations, collations in SQL, seeding a new database, and imports
 * that are all or nothing, even when the process dies in the middle.
 */
#include "check.h"
#include "tm_internal.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *path_in_tmp(const char *name) {
  static char buf[8][512];
  static int next;
  char *p = buf[next++ % 8];
  snprintf(p, 512, "%s/%s", check_tmpdir(), name);
  return p;
}

static int64_t count(tm_db *db, const char *sql) {
  sqlite3_stmt *st;
  int64_t n = -1;
  if (sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return n;
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  if (f) {
    fputs(text, f);
    fclose(f);
  }
}

TEST(new_database_has_schema_and_defaults) {
  tm_db *db = NULL;
  int v = 0, exists = 0;

  CHECK_INT(tm_db_open(path_in_tmp("new.sqlite"), TM_OPEN_NOSEED, &db), TM_OK);
  CHECK_INT(tm_db_file_schema_version(db, &v), TM_OK);
  CHECK_INT(v, tm_db_schema_version());
  CHECK_INT(tm_collection_exists(db, TM_MEMORY, "default", &exists), TM_OK);
  CHECK(exists);
  CHECK_INT(tm_collection_exists(db, TM_GLOSSARY, "default", &exists), TM_OK);
  CHECK(exists);
  CHECK_INT(count(db, "PRAGMA journal_mode") == -1, 0);
  CHECK_INT(count(db, "PRAGMA foreign_keys"), 1);
  tm_db_close(db);
}

TEST(migration_from_version_1_keeps_data_and_adds_keys) {
  const char *path = path_in_tmp("old.sqlite");
  tm_db *db = NULL;
  int v = 0;

  /* A database as the first schema left it, with an entry and a term. */
  CHECK_INT(tm__db_open_at_version(path, 1, &db), TM_OK);
  CHECK_INT(tm_db_file_schema_version(db, &v), TM_OK);
  CHECK_INT(v, 1);
  CHECK_INT(sqlite3_exec(db->sql,
                         "INSERT INTO collections VALUES(1,2,'old',0);"
                         "INSERT INTO entries(id,collection,created,updated) "
                         "VALUES(1,1,0,0);"
                         "INSERT INTO terms(entry,lang,seq,text,fold) VALUES"
                         "(1,'uk',0,'військовополонений',"
                         "'військовополонений'),"
                         "(1,'ko',1,'전쟁포로','전쟁포로');",
                         NULL, NULL, NULL),
            SQLITE_OK);
  tm_db_close(db);

  CHECK_INT(tm_db_open(path, TM_OPEN_NOSEED, &db), TM_OK);
  CHECK_INT(tm_db_file_schema_version(db, &v), TM_OK);
  CHECK_INT(v, tm_db_schema_version());
  CHECK_INT(count(db, "SELECT count(*) FROM terms WHERE translit="
                      "'viiskovopolonenyi'"),
            1);
  CHECK_INT(count(db, "SELECT count(*) FROM terms WHERE initials="
                      "'ㅈㅈㅍㄹ'"),
            1);
  CHECK_INT(count(db, "SELECT count(*) FROM history"), 0);
  tm_entry *e = NULL;
  CHECK_INT(tm_entry_get(db, 1, &e), TM_OK);
  CHECK(e && e->nterms == 2);
  tm_entry_free(e);
  tm_db_close(db);
}

TEST(newer_schema_is_refused) {
  const char *path = path_in_tmp("future.sqlite");
  tm_db *db = NULL;

  CHECK_INT(tm_db_open(path, TM_OPEN_NOSEED, &db), TM_OK);
  CHECK_INT(sqlite3_exec(db->sql, "PRAGMA user_version=99", NULL, NULL, NULL),
            SQLITE_OK);
  tm_db_close(db);
  CHECK_INT(tm_db_open(path, TM_OPEN_NOSEED, &db), TM_SCHEMA);
  CHECK(strstr(tm_db_errmsg(db), "99") != NULL);
  tm_db_close(db);
}

TEST(not_a_database_and_missing_files) {
  const char *path = path_in_tmp("garbage.sqlite");
  tm_db *db = NULL;

  write_file(path, "this is not a database, it is a text file of some "
                   "length so that SQLite reads its header\n");
  CHECK(tm_db_open(path, TM_OPEN_NOSEED, &db) != TM_OK);
  CHECK(strstr(tm_db_errmsg(db), "garbage.sqlite") != NULL);
  tm_db_close(db);
  CHECK_INT(tm_db_open(path_in_tmp("missing.sqlite"), TM_OPEN_NOCREATE, &db),
            TM_NOTFOUND);
  tm_db_close(db);
  CHECK_INT(tm_db_open(path_in_tmp("missing.sqlite"), TM_OPEN_READONLY, &db),
            TM_NOTFOUND);
  tm_db_close(db);
}

TEST(collations_sort_in_sql) {
  tm_db *db = NULL;
  sqlite3_stmt *st;
  char got[256] = "";

  CHECK_INT(tm_db_open(":memory:", TM_OPEN_NOSEED, &db), TM_OK);
  CHECK_INT(sqlite3_exec(db->sql,
                         "CREATE TEMP TABLE w(t);"
                         "INSERT INTO w VALUES('дах'),('ґава'),('гава'),"
                         "('їжак'),('ікра'),('йод'),('ирій'),('єра'),"
                         "('ера');",
                         NULL, NULL, NULL),
            SQLITE_OK);
  CHECK_INT(sqlite3_prepare_v2(db->sql,
                               "SELECT group_concat(t,' ') FROM (SELECT t "
                               "FROM w ORDER BY t COLLATE uk)",
                               -1, &st, NULL),
            SQLITE_OK);
  if (sqlite3_step(st) == SQLITE_ROW)
    snprintf(got, sizeof got, "%s", sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  CHECK_STR(got, "гава ґава дах ера єра ирій ікра їжак йод");

  CHECK_INT(sqlite3_exec(db->sql,
                         "CREATE TEMP TABLE k(t);"
                         "INSERT INTO k VALUES('하늘'),('가방'),('포로'),"
                         "('나라'),('다리');",
                         NULL, NULL, NULL),
            SQLITE_OK);
  CHECK_INT(sqlite3_prepare_v2(db->sql,
                               "SELECT group_concat(t,' ') FROM (SELECT t "
                               "FROM k ORDER BY t COLLATE ko)",
                               -1, &st, NULL),
            SQLITE_OK);
  if (sqlite3_step(st) == SQLITE_ROW)
    snprintf(got, sizeof got, "%s", sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  CHECK_STR(got, "가방 나라 다리 포로 하늘");
  tm_db_close(db);
}

TEST(new_database_loads_shipped_glossaries_once) {
  char dir[512], file[600];
  tm_collection *g = NULL;
  size_t n = 0;
  tm_db *db = NULL;
  const char *path = path_in_tmp("seeded.sqlite");

  snprintf(dir, sizeof dir, "%s/gloss", check_tmpdir());
  mkdir(dir, 0700);
  snprintf(file, sizeof file, "%s/event-terms.tsv", dir);
  write_file(file, "id\tdomain\ten\tko\tuk\tstatus\n"
                   "pow\tihl\tprisoner of war | POW {abbreviation}\t"
                   "전쟁포로\tвійськовополонений\tapproved\n"
                   "kyiv\tplaces\tKyiv | Kiev {deprecated}\t키이우\tКиїв\t"
                   "draft\n");
  tm_db_set_default_glossary_dir(dir);
  CHECK_INT(tm_db_open(path, 0, &db), TM_OK);
  CHECK_INT(tm_collection_list(db, TM_GLOSSARY, &g, &n), TM_OK);
  CHECK_INT(n, 2);
  for (size_t i = 0; i < n; i++)
    if (strcmp(g[i].name, "event-terms") == 0)
      CHECK_INT(g[i].records, 2);
  tm_collection_list_free(g, n);
  CHECK_INT(count(db, "SELECT count(*) FROM entries WHERE status=1"), 1);
  tm_db_close(db);

  /* Opening again does not load them twice. */
  CHECK_INT(tm_db_open(path, 0, &db), TM_OK);
  CHECK_INT(count(db, "SELECT count(*) FROM entries"), 2);
  tm_db_close(db);

  /* A broken shipped glossary fails the creation, leaving no database. */
  write_file(file, "id\ten\tko\n1\tx\t\xFF\n");
  CHECK(tm_db_open(path_in_tmp("seeded2.sqlite"), 0, &db) != TM_OK);
  CHECK(strstr(tm_db_errmsg(db), "event-terms.tsv:2") != NULL);
  tm_db_close(db);
  CHECK(access(path_in_tmp("seeded2.sqlite"), F_OK) != 0);
  tm_db_set_default_glossary_dir(NULL);
}

/* A TSV of N units, the last one bad when BAD. */
static char *units_tsv(int n, int bad) {
  size_t cap = (size_t)n * 64 + 64, len = 0;
  char *s = malloc(cap);
  if (!s)
    abort();
  len += (size_t)sprintf(s, "en\tko\tuk\n");
  for (int i = 1; i <= n; i++)
    len += (size_t)sprintf(s + len,
                           "Segment number %d\t세그먼트 %d\t"
                           "Сегмент %d\n",
                           i, i, i);
  if (bad)
    len += (size_t)sprintf(s + len, "broken\t\\q\tx\n");
  return s;
}

TEST(failed_import_stores_nothing) {
  tm_db *db = NULL;
  char *tsv = units_tsv(500, 1);
  tm_import_opts o = {.format = TM_FORMAT_TSV, .name = "units.tsv"};
  tm_import_result r;

  CHECK_INT(tm_db_open(":memory:", TM_OPEN_NOSEED, &db), TM_OK);
  CHECK_INT(tm_import_buffer(db, tsv, strlen(tsv), &o, &r), TM_PARSE);
  CHECK(strstr(tm_db_errmsg(db), "units.tsv:502:") != NULL);
  CHECK(strstr(tm_db_errmsg(db), "escape") != NULL);
  CHECK_INT(r.records, 0);
  CHECK_INT(count(db, "SELECT count(*) FROM units"), 0);
  CHECK_INT(count(db, "SELECT count(*) FROM batches"), 0);
  free(tsv);
  tm_db_close(db);
}

static int die_midway(void *ctx, uint64_t done, uint64_t total,
                      uint64_t records) {
  (void)ctx;
  (void)done;
  (void)total;
  if (records >= 2000)
    raise(SIGKILL); /* as a power cut or an OOM kill would */
  return 0;
}

TEST(crash_during_import_leaves_nothing_of_it) {
  const char *path = path_in_tmp("crash.sqlite");
  tm_db *db = NULL;
  int64_t id;
  int created, status;
  tm_unit u = {0};
  pid_t pid;

  CHECK_INT(tm_db_open(path, TM_OPEN_NOSEED, &db), TM_OK);
  tm_unit_set(&u, "en", "Acknowledged before the import");
  tm_unit_set(&u, "ko", "가져오기 전에 확인됨");
  CHECK_INT(tm_unit_add(db, "default", &u, NULL, &id, &created), TM_OK);
  tm__unit_clear(&u);
  tm_db_close(db);

  pid = fork();
  if (pid == 0) {
    char *tsv = units_tsv(20000, 0);
    tm_import_opts o = {
        .format = TM_FORMAT_TSV, .name = "big.tsv", .progress = die_midway};
    tm_db *child = NULL;
    if (tm_db_open(path, TM_OPEN_NOSEED, &child) != TM_OK)
      _exit(3);
    tm_import_buffer(child, tsv, strlen(tsv), &o, NULL);
    _exit(4); /* not reached: the progress callback kills us */
  }
  CHECK(pid > 0);
  waitpid(pid, &status, 0);
  CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

  CHECK_INT(tm_db_open(path, TM_OPEN_NOSEED, &db), TM_OK);
  CHECK_INT(count(db, "SELECT count(*) FROM units"), 1);
  CHECK_INT(count(db, "SELECT count(*) FROM variants"), 2);
  CHECK_INT(count(db, "SELECT count(*) FROM batches"), 0);
  sqlite3_stmt *st;
  char ok[32] = "";
  if (sqlite3_prepare_v2(db->sql, "PRAGMA integrity_check", -1, &st, NULL) ==
          SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    snprintf(ok, sizeof ok, "%s", sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  CHECK_STR(ok, "ok");
  tm_db_close(db);
}

TEST(status_names_cover_every_status) {
  for (int s = 0; s < TM__STATUS_COUNT; s++) {
    CHECK(strncmp(tm_status_name((tm_status)s), "TM_", 3) == 0);
    CHECK(strlen(tm_status_message((tm_status)s)) > 3);
  }
  CHECK_STR(tm_status_name(TM_NOTFOUND), "TM_NOTFOUND");
  CHECK_STR(tm_status_message((tm_status)999), "unknown status");
}
