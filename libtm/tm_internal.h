/*
 * tm_internal.h - declarations shared by libtm's modules and its unit
 * tests.  Nothing here is part of the public interface.
 */
#ifndef TM_INTERNAL_H
#define TM_INTERNAL_H

#include "tm.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>

#if defined(__GNUC__)
#define TM__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define TM__PRINTF(f, a)
#endif

/* Largest segment or term accepted, in bytes.  libxml2 itself refuses text
 * nodes over 10,000,000 bytes; ours is far below, so a hostile file cannot
 * make one record cost much memory. */
#define TM_TEXT_MAX (1u << 20)

/* Every SQL statement the library runs, prepared once per handle.  The
 * statements are the library's only SQL; parameters are always bound. */
#define TM__STMT_MAP(X)                                                        \
  X(BEGIN, "BEGIN IMMEDIATE")                                                  \
  X(COMMIT, "COMMIT")                                                          \
  X(ROLLBACK, "ROLLBACK")                                                      \
  X(COLL_FIND, "SELECT id FROM collections WHERE kind=?1 AND name=?2")         \
  X(COLL_INSERT,                                                               \
    "INSERT INTO collections(kind,name,created) VALUES(?1,?2,?3)")             \
  X(COLL_NAME, "SELECT name,kind FROM collections WHERE id=?1")                \
  X(COLL_LIST, "SELECT id,name,kind FROM collections WHERE ?1=0 OR kind=?1 "   \
               "ORDER BY kind,name")                                           \
  X(COLL_HAS_UNITS, "SELECT EXISTS(SELECT 1 FROM units WHERE collection=?1)")  \
  X(COLL_UNIT_COUNT,                                                           \
    "SELECT count(*) FROM units WHERE collection=?1 AND deleted=0")            \
  X(COLL_UNIT_LANGS,                                                           \
    "SELECT v.lang,count(*) FROM variants v JOIN units u ON u.id=v.unit "      \
    "WHERE u.collection=?1 AND u.deleted=0 GROUP BY v.lang ORDER BY v.lang")   \
  X(COLL_ENTRY_COUNT,                                                          \
    "SELECT count(*) FROM entries WHERE collection=?1 AND deleted=0")          \
  X(COLL_ENTRY_LANGS,                                                          \
    "SELECT t.lang,count(DISTINCT t.entry) FROM terms t JOIN entries e "       \
    "ON e.id=t.entry WHERE e.collection=?1 AND e.deleted=0 "                   \
    "GROUP BY t.lang ORDER BY t.lang")                                         \
  X(UNIT_INSERT,                                                               \
    "INSERT INTO units(collection,status,origin,note,created,updated,"         \
    "created_by,batch,hash) VALUES(?1,?2,?3,?4,?5,?5,?6,?7,?8)")               \
  X(UNIT_BY_HASH,                                                              \
    "SELECT id FROM units WHERE collection=?1 AND hash=?2 AND deleted=0")      \
  X(UNIT_GET,                                                                  \
    "SELECT collection,status,origin,note,created,updated,created_by "         \
    "FROM units WHERE id=?1 AND deleted=0")                                    \
  X(UNIT_UPDATE, "UPDATE units SET status=?2,origin=?3,note=?4,updated=?5,"    \
                 "hash=?6 WHERE id=?1")                                        \
  X(UNIT_DELETE, "UPDATE units SET deleted=1,updated=?2 WHERE id=?1")          \
  X(UNIT_SNAPSHOT,                                                             \
    "SELECT json_object('variants',(SELECT json_group_object(lang,text) "      \
    "FROM (SELECT lang,text FROM variants WHERE unit=u.id ORDER BY lang)),"    \
    "'status',CASE u.status WHEN 1 THEN 'approved' WHEN 2 THEN 'deprecated' "  \
    "ELSE 'draft' END,'origin',u.origin,'note',u.note) FROM units u "          \
    "WHERE u.id=?1")                                                           \
  X(VARIANT_INSERT,                                                            \
    "INSERT INTO variants(unit,lang,text,markup) VALUES(?1,?2,?3,?4)")         \
  X(VARIANT_LIST,                                                              \
    "SELECT lang,text,markup FROM variants WHERE unit=?1 ORDER BY lang")       \
  X(VARIANT_DELETE, "DELETE FROM variants WHERE unit=?1")                      \
  X(PROP_INSERT,                                                               \
    "INSERT INTO props(unit,lang,type,value) VALUES(?1,?2,?3,?4)")             \
  X(PROP_LIST, "SELECT lang,type,value FROM props WHERE unit=?1 "              \
               "ORDER BY rowid")                                               \
  X(PROP_DELETE, "DELETE FROM props WHERE unit=?1")                            \
  X(ENTRY_INSERT,                                                              \
    "INSERT INTO entries(collection,status,definition,note,domain,source,"     \
    "origin,created,updated,created_by,batch) "                                \
    "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?8,?9,?10)")                               \
  X(ENTRY_GET,                                                                 \
    "SELECT collection,status,definition,note,domain,source,origin,created,"   \
    "updated,created_by FROM entries WHERE id=?1 AND deleted=0")               \
  X(ENTRY_UPDATE,                                                              \
    "UPDATE entries SET status=?2,definition=?3,note=?4,domain=?5,source=?6,"  \
    "origin=?7,updated=?8 WHERE id=?1")                                        \
  X(ENTRY_SET_STATUS, "UPDATE entries SET status=?2,updated=?3 WHERE id=?1")   \
  X(ENTRY_DELETE, "UPDATE entries SET deleted=1,updated=?2 WHERE id=?1")       \
  X(ENTRY_SNAPSHOT,                                                            \
    "SELECT json_object('terms',(SELECT json_group_object(lang,json(ts)) "     \
    "FROM (SELECT lang,json_group_array(json_object('text',text,'status',"     \
    "CASE status WHEN 1 THEN 'admitted' WHEN 2 THEN 'deprecated' ELSE "        \
    "'preferred' END,'type',CASE type WHEN 1 THEN 'abbreviation' WHEN 2 "      \
    "THEN 'variant' ELSE 'full' END,'note',note)) AS ts FROM (SELECT * FROM "  \
    "terms WHERE entry=e.id ORDER BY lang,seq) GROUP BY lang)),"               \
    "'status',CASE e.status WHEN 1 THEN 'approved' WHEN 2 THEN 'deprecated' "  \
    "ELSE 'draft' END,'definition',e.definition,'note',e.note,'domain',"       \
    "e.domain,'source',e.source) FROM entries e WHERE e.id=?1")                \
  X(TERM_INSERT,                                                               \
    "INSERT INTO terms(entry,lang,seq,text,fold,status,type,note,pos,"         \
    "initials,translit) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)")           \
  X(TERM_LIST, "SELECT lang,text,status,type,note,pos FROM terms "             \
               "WHERE entry=?1 ORDER BY seq")                                  \
  X(TERM_DELETE, "DELETE FROM terms WHERE entry=?1")                           \
  X(HISTORY_INSERT,                                                            \
    "INSERT INTO history(kind,target,at,token,by,action,before,after) "        \
    "VALUES(?1,?2,?3,?4,?5,?6,?7,?8)")                                         \
  X(HISTORY_LIST,                                                              \
    "SELECT at,by,action,before,after FROM history WHERE kind=?1 AND "         \
    "target=?2 ORDER BY id")                                                   \
  X(BATCH_INSERT, "INSERT INTO batches(collection,at,token,by,name,format) "   \
                  "VALUES(?1,?2,?3,?4,?5,?6)")                                 \
  X(BATCH_FINISH, "UPDATE batches SET records=?2 WHERE id=?1")                 \
  X(BATCH_OF_UNIT,                                                             \
    "SELECT b.at,b.by,json_object('import',b.name,'format',b.format) "         \
    "FROM batches b JOIN units u ON u.batch=b.id WHERE u.id=?1")               \
  X(BATCH_OF_ENTRY,                                                            \
    "SELECT b.at,b.by,json_object('import',b.name,'format',b.format) "         \
    "FROM batches b JOIN entries e ON e.batch=b.id WHERE e.id=?1")             \
  X(TMX_UNITS,                                                                 \
    "SELECT id,origin,note,created,updated,created_by FROM units "             \
    "WHERE collection=?1 AND deleted=0 AND (?2=0 OR status=1) ORDER BY id")    \
  X(TMX_VARIANTS, "SELECT lang,text,markup FROM variants WHERE unit=?1")       \
  X(ANALYZE_TERMS,                                                             \
    "SELECT t.entry,t.text,t.type,t.status,t.lang=?2 OR t.lang LIKE "          \
    "?2||'-%' FROM terms t JOIN entries e ON e.id=t.entry JOIN collections c " \
    "ON c.id=e.collection WHERE e.deleted=0 AND (?1 IS NULL OR c.name=?1) "    \
    "AND (t.lang=?2 OR t.lang LIKE ?2||'-%' OR t.type=1) ORDER BY t.entry,"    \
    "t.seq")                                                                   \
  X(IDX_READ_BEGIN, "BEGIN")                                                   \
  X(IDX_UNITS,                                                                 \
    "SELECT u.id,u.collection,u.status,u.updated,v.lang,v.text FROM units u "  \
    "JOIN variants v ON v.unit=u.id WHERE u.deleted=0 AND u.id>?1 AND "        \
    "u.id<=?2 ORDER BY u.id")                                                  \
  X(IDX_UNIT_IDS,                                                              \
    "SELECT id FROM units WHERE deleted=0 AND id>?1 ORDER BY id")              \
  X(IDX_UNIT_ROW,                                                              \
    "SELECT u.status,u.origin,u.updated,c.name FROM units u JOIN "             \
    "collections c ON c.id=u.collection WHERE u.id=?1 AND u.deleted=0")        \
  X(IDX_ENTRY_IDS, "SELECT id FROM entries WHERE deleted=0 ORDER BY id")       \
  X(IDX_TERM_KEYS,                                                             \
    "SELECT fold,initials,translit FROM terms WHERE entry=?1 ORDER BY seq")    \
  X(TOKEN_INSERT,                                                              \
    "INSERT INTO tokens(hash,role,label,created) VALUES(?1,?2,?3,?4)")         \
  X(TOKEN_SET_HASH, "UPDATE tokens SET hash=?2 WHERE id=?1")                   \
  X(TOKEN_GET, "SELECT hash,role,label,revoked FROM tokens WHERE id=?1")       \
  X(TOKEN_REVOKE,                                                              \
    "UPDATE tokens SET revoked=?2 WHERE id=?1 AND revoked IS NULL")            \
  X(TOKEN_LIST, "SELECT id,role,label,created,revoked FROM tokens ORDER BY "   \
                "id")

typedef enum tm__stmt_id {
#define TM__STMT_ENUM(name, sql) TM__STMT_##name,
  TM__STMT_MAP(TM__STMT_ENUM)
#undef TM__STMT_ENUM
      TM__STMT_COUNT
} tm__stmt_id;

/* History kinds. */
enum { TM__HIST_UNIT = 1, TM__HIST_ENTRY = 2 };

struct tm_db {
  sqlite3 *sql;
  tm_text *text;
  char *errmsg; /* NULL: the status's own message */
  sqlite3_stmt *stmts[TM__STMT_COUNT];
  int64_t (*now)(void *ctx);
  void *now_ctx;
  /* The attached index and how it learns of committed writes (set by
   * tm_db_attach_index in the matching module). */
  tm_index *index;
  void (*on_unit)(tm_index *idx, tm_db *db, int64_t id);
  void (*on_entry)(tm_index *idx, tm_db *db, int64_t id);
  void (*on_reload)(tm_index *idx, tm_db *db);
  int readonly;
  /* Counters of the searches, zero between searches: a search clears
   * only those it touched instead of zeroing a fresh array per query (a
   * handle is used by one thread at a time).  Per term of the term search
   * (terms.c) and per unit of the fuzzy match (match.c), each with room
   * for the list of those a search touched (CAP entries both). */
  uint8_t *term_counts;
  uint32_t *term_touched;
  size_t term_counts_cap;
  uint16_t *doc_counts;
  uint32_t *doc_touched;
  size_t doc_counts_cap;
};

/* Tell the attached index, if any, that a unit or entry changed (after the
 * write committed). */
void tm__index_unit_changed(tm_db *db, int64_t id);
void tm__index_entry_changed(tm_db *db, int64_t id);
/* Tell the attached index that a whole import committed. */
void tm__index_reload(tm_db *db);

/* Opens PATH brought only up to schema step TARGET (tests of migrations). */
tm_status tm__db_open_at_version(const char *path, int target, tm_db **out);

/* Errors: set the handle's message and return the status. */
tm_status tm__error(tm_db *db, tm_status s, const char *fmt, ...)
    TM__PRINTF(3, 4);
tm_status tm__verror(tm_db *db, tm_status s, const char *fmt, va_list ap)
    TM__PRINTF(3, 0);
/* TM_DB (or TM_BUSY, TM_NOMEM) with SQLite's message. */
tm_status tm__sql_error(tm_db *db);
void tm__clear_error(tm_db *db);

/* The cached statement ID, reset and with its bindings cleared; NULL after
 * setting the handle's error. */
sqlite3_stmt *tm__stmt(tm_db *db, tm__stmt_id id);
tm_status tm__exec(tm_db *db, tm__stmt_id id);
/* Runs statement ID with ?1 bound to VALUE. */
tm_status tm__exec_id(tm_db *db, tm__stmt_id id, int64_t value);
tm_status tm__begin(tm_db *db);
tm_status tm__commit(tm_db *db);
void tm__rollback(tm_db *db);

int64_t tm__now(tm_db *db);

/* Binds a string, or NULL for a NULL pointer. */
int tm__bind_text(sqlite3_stmt *st, int i, const char *s);
/* A malloc'd copy of column I, or NULL for SQL NULL; *oom set on failure. */
char *tm__column_strdup(sqlite3_stmt *st, int i, bool *oom);

char *tm__strdup(const char *s);
char *tm__strndup(const char *s, size_t n);
char *tm__asprintf(const char *fmt, ...) TM__PRINTF(1, 2);

/* The collection's id; TM_NOTFOUND unless CREATE. */
tm_status tm__collection_id(tm_db *db, tm_kind kind, const char *name,
                            bool create, int64_t *id);
bool tm__collection_name_valid(const char *name);

/* Writes a history row; BEFORE and AFTER are JSON texts or NULL. */
tm_status tm__history(tm_db *db, int kind, int64_t target, const tm_actor *who,
                      const char *action, const char *before,
                      const char *after);
/* The history of a unit or an entry, oldest first. */
tm_status tm__history_list(tm_db *db, int kind, int64_t id, tm_change **out,
                           size_t *n);
/* The JSON snapshot of a unit or an entry (free with sqlite3_free). */
tm_status tm__snapshot(tm_db *db, int kind, int64_t id, char **json);
/* The display name of an actor ("token 3 (alice)", "cli", ...). */
char *tm__actor_name(const tm_actor *who);

/* ---- text module internals */

/* Checks that S is valid UTF-8 without NUL; returns the first bad offset or
 * LEN when valid. */
size_t tm__utf8_check(const char *s, size_t len);
/* Number of code points in valid UTF-8. */
size_t tm__utf8_count(const char *s, size_t len);
/* Collation of byte ranges by canonical LANG (-1, 0, 1). */
tm_status tm__text_collate_n(tm_text *t, const char *lang, const char *a,
                             size_t alen, const char *b, size_t blen,
                             int *result);
/* ICU's sort key of S for canonical LANG (free with free()). */
tm_status tm__text_sortkey(tm_text *t, const char *lang, const char *s,
                           size_t len, uint8_t **key, size_t *n);
/* The stored search keys of a term (free with free()); *initials is NULL
 * for a term without Hangul, *translit "" for a plain ASCII term. */
tm_status tm__term_keys(tm_text *t, const char *lang, const char *s, size_t len,
                        char **initials, char **translit);
/* The sentences of S (valid UTF-8) by ICU's sentence break iterator for
 * canonical LANG, with the locale's abbreviations that end no sentence
 * ("ss=standard"): code point spans trimmed of white space, empty ones left
 * out.  *spans is freed with free(). */
tm_status tm__text_sentences(tm_text *t, const char *lang, const char *s,
                             size_t len, tm_span **spans, size_t *n);

/* ---- records */

/* Validates and normalises a record in place before a write: NFC text,
 * canonical language tags, limits.  Sets the handle's error. */
tm_status tm__unit_normalise(tm_db *db, tm_unit *u);
tm_status tm__entry_normalise(tm_db *db, tm_entry *e);
/* Deep copies. */
tm_status tm__unit_copy(const tm_unit *src, tm_unit *dst);
tm_status tm__entry_copy(const tm_entry *src, tm_entry *dst);
void tm__unit_clear(tm_unit *u);
void tm__entry_clear(tm_entry *e);
uint64_t tm__unit_hash(const tm_unit *u);

/* ---- ingest: inserts records inside an open transaction (imports) */

typedef struct tm__ingest {
  tm_db *db;
  int64_t collection;
  tm_kind kind;
  int64_t batch;
  const tm_actor *who;
  tm_record_status status;
  tm_import_result *res;
  const char *name; /* for messages */
  /* When the memory was empty before the import, a duplicate can only be a
   * unit of this import: the hashes seen so far (an open-addressing set)
   * answer without asking SQLite. */
  bool fresh;
  uint64_t *seen;
  size_t nseen, seencap;
  /* Units of a memory import go through a pipeline: this thread parses
   * and normalises, a writer thread inserts with REAL (db is then a
   * handle that only carries errors and the text context). */
  tm_db *real;
  struct tm__pipe *pipe;
  char *by; /* the actor's name, made once for the whole import */
} tm__ingest;

/* Starts the writer thread of a memory import; false when it cannot (the
 * import then writes synchronously).  SHADOW receives in->db's role. */
bool tm__pipe_start(tm__ingest *in, tm_db *shadow);
/* Waits for the writer; its status, or TM_OK.  The writer's error is in
 * in->real's message. */
tm_status tm__pipe_finish(tm__ingest *in, bool *writer_failed);

/* The record is normalised in place.  A unit's contents may be moved to
 * the writer thread, leaving *u empty; the caller clears it either way.
 * An error of the writer thread (SQLite's) reaches the importer at a later
 * unit, so its message names no line. */
tm_status tm__ingest_unit(tm__ingest *in, tm_unit *u);
tm_status tm__ingest_entry(tm__ingest *in, tm_entry *e);
/* Inserts without a transaction of its own or history (used by ingest and
 * by tm_unit_add). */
/* The live unit of COLLECTION with U's text (and origin, when ORIGIN), or
 * 0 in *dup. */
tm_status tm__unit_find_duplicate(tm_db *db, int64_t collection,
                                  const tm_unit *u, uint64_t hash, bool origin,
                                  int64_t *dup);
tm_status tm__unit_insert(tm_db *db, int64_t collection, const tm_unit *u,
                          uint64_t hash, const char *by, int64_t batch,
                          int64_t *id);
tm_status tm__entry_insert(tm_db *db, int64_t collection, const tm_entry *e,
                           const tm_actor *who, int64_t batch, int64_t *id);

/* ---- format modules: parse a buffer, feed the ingest */

typedef struct tm__input {
  const char *buf;
  size_t len;
  const char *name;
  tm_progress_fn progress;
  void *progress_ctx;
} tm__input;

tm_status tm__tmx_import(tm__ingest *in, const tm__input *src);
tm_status tm__dsv_import(tm__ingest *in, const tm__input *src, char sep);
/* TM_GLOSSARY when the header row has a glossary-only column (definition,
 * domain, status, source, pos), else TM_MEMORY. */
tm_kind tm__dsv_sniff_kind(const char *buf, size_t len, char sep);
tm_status tm__tbx_import(tm__ingest *in, const tm__input *src);

/* Prefixes the handle's message with "NAME:LINE: " (no line when LINE is 0)
 * and returns S. */
tm_status tm__at_line(tm__ingest *in, long line, tm_status s);

/* Asks a tm__input's progress callback; TM_CANCELLED when it says stop. */
tm_status tm__progress(tm__ingest *in, const tm__input *src, size_t at);

/* Export writers, with everything the collection holds. */
typedef struct tm__output {
  tm_write_fn write;
  void *ctx;
  int failed;
} tm__output;

tm_status tm__out(tm__output *o, const void *buf, size_t len);
tm_status tm__outs(tm__output *o, const char *s);

tm_status tm__tmx_export(tm_db *db, int64_t collection,
                         const tm_export_opts *opts, tm__output *o);
tm_status tm__dsv_export(tm_db *db, int64_t collection, tm_kind kind,
                         const tm_export_opts *opts, tm__output *o, char sep);
tm_status tm__tbx_export(tm_db *db, int64_t collection,
                         const tm_export_opts *opts, tm__output *o,
                         bool martif);
/* Buffered output of an HTML page: the writer is called once per 8 KiB and
 * the first failure sticks in S.  tm__hout_esc writes text escaped for
 * HTML text and attribute values (NULL writes nothing). */
typedef struct tm__hout {
  tm__output *o;
  tm_status s;
  size_t len;
  char buf[8192];
} tm__hout;

void tm__hout_flush(tm__hout *h);
void tm__hout_put(tm__hout *h, const char *s, size_t n);
void tm__hout_puts(tm__hout *h, const char *s);
void tm__hout_esc(tm__hout *h, const char *s);
/* A language's own name for a column heading ("한국어"), else TAG. */
const char *tm__lang_name(const char *tag);
/* TAG is LANG or one of its subtags ("en-GB" of "en"). */
bool tm__lang_covers(const char *lang, const char *tag);

tm_status tm__html_export(tm_db *db, int64_t collection,
                          const tm_export_opts *opts, tm__output *o);
/* One entry as a glossary row of the DSV export (the columns id, domain,
 * pos, LANGS, definition, note, source, status), and one escaped cell. */
tm_status tm__dsv_entry_row(tm__output *o, const tm_entry *e, char **langs,
                            size_t nl, char sep);
tm_status tm__dsv_cell(tm__output *o, const char *s, char sep, bool first);

/* Language tags seen in a collection's units or entries, sorted. */
tm_status tm__unit_langs(tm_db *db, int64_t collection, char ***langs,
                         size_t *n);
tm_status tm__entry_langs(tm_db *db, int64_t collection, char ***langs,
                          size_t *n);

/* Calls FN for every live unit of COLLECTION in id order, streaming: one
 * unit in memory at a time.  Stops at FN's first status other than TM_OK. */
typedef tm_status (*tm__unit_fn)(void *ctx, const tm_unit *u);
tm_status tm__units_each(tm_db *db, int64_t collection, int approved_only,
                         tm__unit_fn fn, void *ctx);

/* Calls FN for every live entry of COLLECTION in the collation order of
 * SORT_LANG, in one pass (exports).  Stops at FN's first error. */
typedef tm_status (*tm__entry_fn)(void *ctx, const tm_entry *e);
tm_status tm__entries_each(tm_db *db, int64_t collection, const char *sort_lang,
                           int approved_only, tm__entry_fn fn, void *ctx);

/* tm_entry_list for a collection id. */
tm_status tm__entry_list(tm_db *db, int64_t collection, const char *sort_lang,
                         int approved_only, const char *after, size_t limit,
                         tm_entry ***out, size_t *n, char **next);
void tm__strv_free(char **v, size_t n);

#endif /* TM_INTERNAL_H */
