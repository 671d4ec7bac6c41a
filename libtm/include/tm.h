/*
 * tm.h - the public interface of libtm, a translation memory and glossary
 * store for aligned multilingual text.
 *
 * Conventions
 *  - Every function that can fail returns tm_status; TM_OK is 0.  After a
 *    failure, tm_db_errmsg() describes it.
 *  - Strings in and out are UTF-8.  Text given to the library is validated
 *    and normalised to NFC once, at ingest.
 *  - Offsets count Unicode code points, never bytes, unless a name says
 *    "byte".
 *  - Ownership: arguments are borrowed for the duration of the call.  Results
 *    returned through an out-pointer belong to the caller and are released
 *    with the matching tm_*_free() function; every free function accepts
 *    NULL.
 *  - Threads: a tm_db handle is used by one thread at a time.  Open one per
 *    thread; SQLite's WAL mode lets readers proceed while one writer writes.
 *    A tm_index is shared by all threads (see its section).
 */
#ifndef TM_H
#define TM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(TM_BUILDING) && defined(__GNUC__)
#define TM_API __attribute__((visibility("default")))
#else
#define TM_API
#endif

/* ---------------------------------------------------------------- status */

/* X(name, message): every status the library returns, in one place. */
#define TM_STATUS_MAP(X)                                                       \
  X(OK, "success")                                                             \
  X(NOMEM, "out of memory")                                                    \
  X(INVALID, "invalid argument")                                               \
  X(UTF8, "invalid UTF-8")                                                     \
  X(LANG, "invalid language tag")                                              \
  X(NOTFOUND, "not found")                                                     \
  X(EXISTS, "already exists")                                                  \
  X(PARSE, "malformed input")                                                  \
  X(TOOBIG, "input too large")                                                 \
  X(IO, "input/output error")                                                  \
  X(DB, "database error")                                                      \
  X(BUSY, "database is busy")                                                  \
  X(SCHEMA, "database schema is newer than this program")                      \
  X(TEXT, "text processing error")                                             \
  X(DENIED, "permission denied")                                               \
  X(CANCELLED, "cancelled")                                                    \
  X(REVOKED, "revoked token")

typedef enum tm_status {
#define TM__STATUS_ENUM(name, msg) TM_##name,
  TM_STATUS_MAP(TM__STATUS_ENUM)
#undef TM__STATUS_ENUM
      TM__STATUS_COUNT
} tm_status;

/* The status's symbolic name ("TM_NOTFOUND") and its message.  Static. */
TM_API const char *tm_status_name(tm_status s);
TM_API const char *tm_status_message(tm_status s);

/* Free memory returned by any libtm function documented as "free with
 * tm_free" (strings, arrays of scalars). */
TM_API void tm_free(void *p);

/* ------------------------------------------------------------ the handle */

typedef struct tm_db tm_db;
typedef struct tm_text tm_text;
typedef struct tm_index tm_index;

enum {
  TM_OPEN_READONLY = 1 << 0, /* no writes; fails if the file is missing */
  TM_OPEN_NOCREATE = 1 << 1, /* fail with TM_NOTFOUND if the file is missing */
  TM_OPEN_NOSEED = 1 << 2,   /* a new database gets no shipped glossaries */
};

/* Opens (and creates, unless TM_OPEN_NOCREATE) the database at PATH
 * (":memory:" for a private in-memory one), brings its schema up to date,
 * and creates the `default` memory and glossary when missing.  A database
 * that this call creates also gets every shipped glossary (see
 * tm_db_set_glossary_dir) unless TM_OPEN_NOSEED.
 *
 * On failure *out is still set when a handle could be made, so that
 * tm_db_errmsg() can describe the error; close it either way. */
TM_API tm_status tm_db_open(const char *path, int flags, tm_db **out);
TM_API void tm_db_close(tm_db *db);

/* The detail of the last failure on this handle.  Owned by the handle, valid
 * until the next call on it.  Never NULL. */
TM_API const char *tm_db_errmsg(const tm_db *db);

/* The folder of glossaries loaded into a database that tm_db_open creates.
 * Default: the TM_GLOSSARY_DIR environment variable, else the folder the
 * library was built with. */
TM_API void tm_db_set_default_glossary_dir(const char *dir);

/* The schema version this library writes, and the one the file has. */
TM_API int tm_db_schema_version(void);
TM_API tm_status tm_db_file_schema_version(tm_db *db, int *version);

/* The handle's text context (owned by the handle). */
TM_API tm_text *tm_db_text(tm_db *db);

/* Timestamps are seconds since the epoch, UTC.  The clock is the system's
 * unless set (tests pin it). */
TM_API void tm_db_set_clock(tm_db *db, int64_t (*now)(void *ctx), void *ctx);

/* Formats T as "2026-11-23T10:00:00Z" into BUF (at least 21 bytes). */
TM_API void tm_time_format(int64_t t, char buf[21]);

/* ------------------------------------------------------------ languages */

/* Longest language tag accepted, including the terminating NUL. */
#define TM_LANG_MAX 36

/* Canonicalises a BCP-47 tag: "EN_gb" -> "en-GB", "ko" -> "ko",
 * "zh-hant-tw" -> "zh-Hant-TW".  TM_LANG for anything that is not a
 * well-formed tag. */
TM_API tm_status tm_lang_canonical(const char *tag, char out[TM_LANG_MAX]);

/* ------------------------------------------------------------------ text */

/* A text context caches ICU services (normalisers, break iterators,
 * transliterators).  One per thread; tm_db has one of its own. */
TM_API tm_status tm_text_open(tm_text **out);
TM_API void tm_text_close(tm_text *t);

/* Validates LEN bytes of UTF-8 and returns them in NFC, NUL-terminated, in
 * *out (free with tm_free).  TM_UTF8 for invalid UTF-8 (including
 * surrogates, overlong forms and NUL bytes); *bad_offset, when not NULL,
 * receives the byte offset of the first bad sequence. */
TM_API tm_status tm_text_nfc(tm_text *t, const char *s, size_t len, char **out,
                             size_t *bad_offset);

/* The folded search form: NFKC case folding; the apostrophes U+0027, U+2019,
 * U+02BC, U+02B9 (and U+2018, U+0060, U+00B4) become U+0027; stress marks
 * and, for Latin letters, all accents removed; runs of whitespace become one
 * space and are trimmed.  LANG may be NULL.  Free with tm_free. */
TM_API tm_status tm_text_fold(tm_text *t, const char *lang, const char *s,
                              size_t len, char **out);

/* A span of code points, [start, end). */
typedef struct tm_span {
  uint32_t start;
  uint32_t end;
} tm_span;

/* The words of S by ICU's word break iterator for LANG (punctuation and
 * spaces are not words).  *spans is freed with tm_free. */
TM_API tm_status tm_text_words(tm_text *t, const char *lang, const char *s,
                               size_t len, tm_span **spans, size_t *n);

/* The Korean initial-consonant key: each Hangul syllable gives its leading
 * consonant as a compatibility jamo (전쟁포로 -> ㅈㅈㅍㄹ); compatibility
 * jamo are kept as typed; whitespace is dropped; other characters are
 * folded.  Free with tm_free. */
TM_API tm_status tm_text_initials(tm_text *t, const char *s, size_t len,
                                  char **out);

/* A Latin search key: Ukrainian by the national system of 2010
 * (військовополонений -> viiskovopolonenyi), Korean in Revised
 * Romanization letters without sound changes (전쟁 포로 -> jeonjaeng poro),
 * other scripts by ICU's Any-Latin; then folded to lower-case ASCII.  LANG
 * picks the Cyrillic system ("uk", else ICU's).  Free with tm_free. */
TM_API tm_status tm_text_translit(tm_text *t, const char *lang, const char *s,
                                  size_t len, char **out);

/* Compares A and B by ICU's collation for LANG (-1, 0, 1). */
TM_API tm_status tm_text_collate(tm_text *t, const char *lang, const char *a,
                                 const char *b, int *result);

/* -------------------------------------------------------------- records */

typedef enum tm_record_status {
  TM_DRAFT = 0,
  TM_APPROVED = 1,
  TM_DEPRECATED = 2,
} tm_record_status;

TM_API const char *tm_record_status_name(tm_record_status s);
TM_API tm_status tm_record_status_parse(const char *s, tm_record_status *out);

typedef enum tm_kind {
  TM_MEMORY = 1,
  TM_GLOSSARY = 2,
} tm_kind;

/* A property or note kept from an exchange file (TMX <prop>/<note>).  LANG
 * is "" for the unit itself, else the variant's language. */
typedef struct tm_prop {
  char lang[TM_LANG_MAX];
  char *type; /* prop type; NULL for a note */
  char *value;
} tm_prop;

/* One language of a translation unit.  TEXT is the plain text; MARKUP, when
 * not NULL, is the segment as written in TMX with its inline tags
 * (<bpt>, <ph>, ...), kept so an export gives them back. */
typedef struct tm_variant {
  char lang[TM_LANG_MAX];
  char *text;
  char *markup;
} tm_variant;

typedef struct tm_unit {
  int64_t id;
  char *memory;
  tm_record_status status;
  char *origin;
  char *note;
  char *created_by;
  int64_t created;
  int64_t updated;
  size_t nvariants;
  tm_variant *variants;
  size_t nprops;
  tm_prop *props;
} tm_unit;

typedef enum tm_term_status {
  TM_TERM_PREFERRED = 0,
  TM_TERM_ADMITTED = 1,
  TM_TERM_DEPRECATED = 2,
} tm_term_status;

typedef enum tm_term_type {
  TM_TERM_FULL = 0,
  TM_TERM_ABBREVIATION = 1,
  TM_TERM_VARIANT = 2,
} tm_term_type;

TM_API const char *tm_term_status_name(tm_term_status s);
TM_API tm_status tm_term_status_parse(const char *s, tm_term_status *out);
TM_API const char *tm_term_type_name(tm_term_type t);
TM_API tm_status tm_term_type_parse(const char *s, tm_term_type *out);

typedef struct tm_term {
  char lang[TM_LANG_MAX];
  char *text;
  tm_term_status status;
  tm_term_type type;
  char *note;
  char *pos; /* part of speech, NULL when unknown */
} tm_term;

typedef struct tm_entry {
  int64_t id;
  char *glossary;
  tm_record_status status;
  char *definition;
  char *note;
  char *domain;
  char *source;
  char *origin;
  char *created_by;
  int64_t created;
  int64_t updated;
  size_t nterms;
  tm_term *terms; /* grouped by language, in the order given */
} tm_entry;

TM_API void tm_unit_free(tm_unit *u);
TM_API void tm_entry_free(tm_entry *e);

/* Helpers that build records (strings are copied).  They return TM_NOMEM or
 * TM_LANG. */
TM_API tm_status tm_unit_set(tm_unit *u, const char *lang, const char *text);
TM_API tm_status tm_entry_add_term(tm_entry *e, const char *lang,
                                   const char *text, tm_term_status status,
                                   tm_term_type type, const char *note);

/* ---------------------------------------------------------- collections */

typedef struct tm_lang_count {
  char lang[TM_LANG_MAX];
  int64_t count;
} tm_lang_count;

typedef struct tm_collection {
  char *name;
  tm_kind kind;
  int64_t records; /* live units or entries */
  size_t nlangs;
  tm_lang_count *langs; /* records with that language, by tag */
} tm_collection;

/* Collection names: 1 to 64 characters of [A-Za-z0-9._-], not starting with
 * '.'; TM_INVALID otherwise.  TM_EXISTS when it is already there. */
TM_API tm_status tm_collection_create(tm_db *db, tm_kind kind,
                                      const char *name);
/* Every collection of KIND (0: both) with its counts. */
TM_API tm_status tm_collection_list(tm_db *db, tm_kind kind,
                                    tm_collection **out, size_t *n);
TM_API void tm_collection_list_free(tm_collection *c, size_t n);
TM_API tm_status tm_collection_exists(tm_db *db, tm_kind kind, const char *name,
                                      int *exists);

/* ------------------------------------------------------ translation units */

/* Who made a change: a token id and label, or a local user name. */
typedef struct tm_actor {
  int64_t token; /* 0 when not made through a token */
  const char *name;
} tm_actor;

/* Adds U to MEMORY (created when missing) as a draft, in one transaction.
 * At least two variants, each with text.  When an identical unit (the same
 * text in the same languages) is already there, nothing is created, *id is
 * that unit's and *created is 0. */
TM_API tm_status tm_unit_add(tm_db *db, const char *memory, const tm_unit *u,
                             const tm_actor *who, int64_t *id, int *created);

/* TM_NOTFOUND for an unknown or deleted unit. */
TM_API tm_status tm_unit_get(tm_db *db, int64_t id, tm_unit **out);

/* Replaces the variants (and origin, note, status) of unit ID with U's. */
TM_API tm_status tm_unit_update(tm_db *db, int64_t id, const tm_unit *u,
                                const tm_actor *who);

/* Soft delete: the unit leaves every search and listing; its history stays. */
TM_API tm_status tm_unit_delete(tm_db *db, int64_t id, const tm_actor *who);

/* A change in the history of a unit or an entry.  BEFORE and AFTER are JSON
 * objects describing the record (NULL where there was none). */
typedef struct tm_change {
  int64_t at;
  char *by;
  char *action; /* create, update, delete, approve, import */
  char *before;
  char *after;
} tm_change;

TM_API tm_status tm_unit_history(tm_db *db, int64_t id, tm_change **out,
                                 size_t *n);
TM_API void tm_history_free(tm_change *c, size_t n);

/* ------------------------------------------------------ glossary entries */

/* Adds E to GLOSSARY (created when missing) as a draft, unless E->status says
 * otherwise.  At least one term. */
TM_API tm_status tm_entry_add(tm_db *db, const char *glossary,
                              const tm_entry *e, const tm_actor *who,
                              int64_t *id);
TM_API tm_status tm_entry_get(tm_db *db, int64_t id, tm_entry **out);
TM_API tm_status tm_entry_update(tm_db *db, int64_t id, const tm_entry *e,
                                 const tm_actor *who);
TM_API tm_status tm_entry_delete(tm_db *db, int64_t id, const tm_actor *who);
TM_API tm_status tm_entry_approve(tm_db *db, int64_t id, const tm_actor *who);
TM_API tm_status tm_entry_history(tm_db *db, int64_t id, tm_change **out,
                                  size_t *n);

/* A page of GLOSSARY in ICU collation order of SORT_LANG (by each entry's
 * first term in that language; entries without one come last, by id).
 * AFTER is a cursor from a previous page or NULL; *next receives the cursor
 * of the next page, or NULL at the end (free with tm_free). */
TM_API tm_status tm_entry_list(tm_db *db, const char *glossary,
                               const char *sort_lang, int approved_only,
                               const char *after, size_t limit, tm_entry ***out,
                               size_t *n, char **next);
TM_API void tm_entry_list_free(tm_entry **e, size_t n);

/* ---------------------------------------------------------------- tokens */

typedef enum tm_role {
  TM_ROLE_NONE = 0,
  TM_ROLE_CONTRIBUTOR = 1,
  TM_ROLE_REVIEWER = 2,
  TM_ROLE_ADMIN = 3,
} tm_role;

TM_API const char *tm_role_name(tm_role r);
TM_API tm_status tm_role_parse(const char *s, tm_role *out);

/* Creates a token from the system's cryptographic random source.  The
 * secret is returned once in *secret (free with tm_free); only its SHA-256
 * is stored. */
TM_API tm_status tm_token_create(tm_db *db, tm_role role, const char *label,
                                 int64_t *id, char **secret);

/* Checks SECRET: on success *id, *role and *label (free with tm_free; may be
 * NULL) describe the token.  TM_DENIED for an unknown or malformed token,
 * TM_REVOKED for the right secret of a revoked one (*id set).  The
 * comparison takes the same time whatever the secret. */
TM_API tm_status tm_token_check(tm_db *db, const char *secret, int64_t *id,
                                tm_role *role, char **label);
TM_API tm_status tm_token_revoke(tm_db *db, int64_t id);

typedef struct tm_token_info {
  int64_t id;
  tm_role role;
  char *label;
  int64_t created;
  int64_t revoked; /* 0 when live */
} tm_token_info;

TM_API tm_status tm_token_list(tm_db *db, tm_token_info **out, size_t *n);
TM_API void tm_token_list_free(tm_token_info *t, size_t n);

/* ------------------------------------------------------ import and export */

typedef enum tm_format {
  TM_FORMAT_AUTO = 0, /* from the file name's extension */
  TM_FORMAT_TMX,
  TM_FORMAT_TBX,        /* TBX v3 (ISO 30042:2019), TBX-Basic */
  TM_FORMAT_TBX_MARTIF, /* TBX 2008 <martif>, as OmegaT reads it */
  TM_FORMAT_TSV,
  TM_FORMAT_CSV,
  TM_FORMAT_HTML, /* export only: a printable glossary sheet */
} tm_format;

TM_API const char *tm_format_name(tm_format f);
/* Parses "tmx", "tbx", "tbx-martif", "tsv", "csv", "html". */
TM_API tm_status tm_format_parse(const char *s, tm_format *out);
/* From a file name's extension; TM_INVALID when it says nothing known. */
TM_API tm_status tm_format_from_path(const char *path, tm_format *out);

/* Called now and then during an import.  Return non-zero to cancel. */
typedef int (*tm_progress_fn)(void *ctx, uint64_t bytes_done,
                              uint64_t bytes_total, uint64_t records);

typedef struct tm_import_opts {
  tm_format format;
  tm_kind kind;           /* 0: memory for TMX, glossary for TBX, else as
                             the file's columns say (units unless it has a
                             definition/domain/status column) */
  const char *collection; /* NULL: "default"; created when missing */
  const char *name;       /* the input's name in error messages */
  const tm_actor *who;
  tm_record_status status; /* of the records imported */
  tm_progress_fn progress;
  void *progress_ctx;
} tm_import_opts;

typedef struct tm_import_result {
  uint64_t records;    /* units or entries added */
  uint64_t duplicates; /* left out: already in the collection */
  uint64_t skipped;    /* left out: a TMX <tu> with fewer than two
                          languages that have text (untranslated) */
  tm_kind kind;
} tm_import_result;

/* Imports a whole file in one transaction: all or nothing.  On a bad record
 * the status is TM_PARSE (or TM_UTF8, TM_LANG, TM_TOOBIG) and
 * tm_db_errmsg() says "NAME:LINE: reason".  External entities, DTDs and the
 * network are never read. */
TM_API tm_status tm_import_file(tm_db *db, const char *path,
                                const tm_import_opts *opts,
                                tm_import_result *res);
TM_API tm_status tm_import_buffer(tm_db *db, const void *buf, size_t len,
                                  const tm_import_opts *opts,
                                  tm_import_result *res);

/* Receives exported bytes; returns 0, or non-zero to stop (TM_IO). */
typedef int (*tm_write_fn)(void *ctx, const void *buf, size_t len);

typedef struct tm_export_opts {
  tm_format format;
  tm_kind kind;             /* 0: as the format implies */
  const char *collection;   /* NULL: "default" */
  const char *const *langs; /* NULL: every language */
  size_t nlangs;
  const char *sort_lang; /* glossaries: collation order of this language */
  const char *domain;    /* glossaries: only this domain */
  int approved_only;
} tm_export_opts;

TM_API tm_status tm_export(tm_db *db, const tm_export_opts *opts,
                           tm_write_fn write, void *ctx);

/* ------------------------------------------------- matching and search
 *
 * A tm_index holds, in memory, what fuzzy matching, concordance and term
 * search need: n-grams of every variant's folded text and keys of every
 * term.  It is built from the database and then kept in step with it: a
 * tm_db that has the index attached updates it after each committed write.
 * SQLite stays the only source of truth.
 *
 * Threads: any number of threads may search one index at once, each with
 * its own tm_db handle; updates take a write lock for a short time. */

/* Builds the index from DB's live units (every memory) and entries (every
 * glossary), reading them in one read transaction; the per-variant work
 * runs on up to four threads.  *out belongs to the caller until
 * tm_index_close.  Errors: TM_NOMEM, TM_DB (detail in tm_db_errmsg(db)).
 * docs/matching.md describes what is indexed and how it is searched. */
TM_API tm_status tm_index_open(tm_db *db, tm_index **out);
/* Frees IDX (NULL is fine).  No search may be running on it and no tm_db
 * may still have it attached. */
TM_API void tm_index_close(tm_index *idx);

/* Every later committed write through DB updates IDX (NULL detaches): a
 * unit or entry written is read back from DB and replaces what IDX had,
 * and an import adds what it added.  The update prepares outside the
 * index's lock and holds its write lock for microseconds; when the units
 * added since the build grow large (thousands of variants), that write
 * rebuilds the unit index from DB while searches go on with the old one.
 * Updates from several handles are applied one at a time.  The index must
 * outlive the attachment. */
TM_API void tm_db_attach_index(tm_db *db, tm_index *idx);

typedef enum tm_diff_op {
  TM_DIFF_INSERT = 1,  /* in the source only */
  TM_DIFF_DELETE = 2,  /* in the query only */
  TM_DIFF_REPLACE = 3, /* different in both */
} tm_diff_op;

/* A difference between a query and a match's source.  A span with
 * start == end == UINT32_MAX is absent. */
typedef struct tm_diff {
  tm_diff_op op;
  tm_span source;
  tm_span query;
} tm_diff;

typedef struct tm_match {
  int64_t unit;
  char *memory;
  int score; /* 0-100 */
  char *source_lang;
  char *source;
  size_t ntargets;
  tm_variant *targets; /* in the order asked for; missing ones left out */
  size_t ndiffs;
  tm_diff *diffs;
  tm_record_status status;
  char *origin;
  int64_t updated;
} tm_match;

typedef struct tm_match_opts {
  const char *memory;    /* NULL: every memory */
  const char *from;      /* the query's language */
  const char *const *to; /* target languages; NULL: every other one */
  size_t nto;
  int min;      /* lowest score returned; 0 (default): 70 */
  size_t limit; /* 0 (default): 5; at most 1000 */
  int approved_only;
  int exact_lang; /* "en" does not also see "en-GB" */
} tm_match_opts;

/* Fuzzy matches for segment QUERY (UTF-8, any normalisation form): the
 * units of IDX with a variant in opts->from (or a tag of its primary
 * language, unless exact_lang) scoring at least opts->min against it, and
 * with at least one variant in a target language, best first: by score,
 * then approved before draft, then most recently updated.  One match per
 * unit.  The score is docs/matching.md's: 100 only for the identical
 * segment, 95-99 when only case, punctuation, whitespace or numbers
 * differ, at most 94 when words differ.  Each match is read back from DB
 * (source, targets in the order of opts->to, memory, status, origin,
 * updated) and carries the spans that differ (diffs, in code points of
 * source and query; insert: only in the source, delete: only in the
 * query).  *out (NULL when *n is 0) is freed with tm_match_free.
 *
 * Errors: TM_INVALID (no opts->from, no query, no index), TM_LANG,
 * TM_UTF8, TM_TOOBIG (a query over 2000 words), TM_NOTFOUND (an unknown
 * memory), TM_NOMEM, TM_DB; detail in tm_db_errmsg(db).  Thread-safe on a
 * shared IDX with one DB handle per thread. */
TM_API tm_status tm_match_find(tm_index *idx, tm_db *db, const char *query,
                               const tm_match_opts *opts, tm_match **out,
                               size_t *n);
TM_API void tm_match_free(tm_match *m, size_t n);

/* Concordance: units whose folded text in opts->from contains the query's
 * words (each at the start of a word of the text: "soldier" finds
 * "soldiers") and its runs of characters of scripts without spaces (each
 * anywhere, whitespace ignored: 군인 finds 북한군인들이).  Hits with the
 * whole query in order rank first, then hits where every word is a whole
 * word, then the hit where the query covers most of the segment's tokens
 * (its score: that share in percent), then approved, then recent.
 * opts->min is not used; opts->limit defaults to 5.  Each
 * hit's diffs are the spans of the hit in the source (op 0, query span
 * absent), neighbouring words merged.  Ownership, errors and threads as
 * for tm_match_find. */
TM_API tm_status tm_concordance_find(tm_index *idx, tm_db *db,
                                     const char *query,
                                     const tm_match_opts *opts, tm_match **out,
                                     size_t *n);

typedef enum tm_how {
  TM_HOW_EXACT = 0,
  TM_HOW_PREFIX,
  TM_HOW_INITIALS,
  TM_HOW_INFLECTION,
  TM_HOW_TRANSLITERATION,
  TM_HOW_FUZZY,
} tm_how;

/* "exact", "prefix", "initials", "inflection", "transliteration",
 * "fuzzy" (static). */
TM_API const char *tm_how_name(tm_how h);

typedef struct tm_term_hit {
  int score;
  tm_how how;
  char lang[TM_LANG_MAX]; /* of the term that matched */
  const char *term;
  const tm_entry *entry; /* the whole entry */
} tm_term_hit;

typedef struct tm_terms_opts {
  const char *lang;     /* the query's language; NULL or "any": any */
  const char *glossary; /* NULL: every glossary */
  size_t limit;         /* 0 (default): 10; at most 1000 */
  int approved_only;
} tm_terms_opts;

/* The booth's lookup: QUERY (any script, up to 1024 bytes) against every
 * term of every live entry in IDX (in opts->lang's primary language only,
 * unless "any"), trying docs/matching.md's rules in order: exact (100, or
 * 99 ignoring spaces), prefix (85-97; for Korean also a half-typed last
 * syllable), Korean initial consonants (80-84), inflection (79: Ukrainian
 * and English stems, Korean particles), Latin input for other scripts
 * (60-69), typos (40-59: one edit up to five characters, two beyond).
 * One hit per entry, by its best term; best score first, then approved
 * entries, preferred terms, shorter terms.  Each hit points to its whole
 * entry as the index holds it, read-only, valid until tm_terms_free
 * whatever writes or tm_index_close do to the index meanwhile.  *out
 * (NULL when *n is 0) is freed with tm_terms_free.
 * Errors: TM_INVALID, TM_LANG, TM_UTF8, TM_TOOBIG, TM_NOMEM.  Thread-safe
 * on a shared IDX with one DB handle per thread; DB is not read. */
TM_API tm_status tm_terms_find(tm_index *idx, tm_db *db, const char *query,
                               const tm_terms_opts *opts, tm_term_hit **out,
                               size_t *n);
TM_API void tm_terms_free(tm_term_hit *h, size_t n);

/* ---------------------------------------------------- document analysis
 *
 * What an interpreter needs from a document the day before an event: the
 * glossary terms it uses, the sentences the memories already cover, and the
 * new terms to research.  docs/analyze.md states how terms are recognised
 * and how candidates are scored. */

typedef enum tm_input_format {
  TM_INPUT_PLAIN = 0,
  TM_INPUT_MARKDOWN = 1,
  TM_INPUT_HTML = 2,
} tm_input_format;

/* Parses "txt" (or "text", "plain"), "md" (or "markdown"), "html" (or
 * "htm"); TM_INVALID otherwise. */
TM_API tm_status tm_input_format_parse(const char *s, tm_input_format *out);
/* From a file name's extension (.txt, .text, .md, .markdown, .html, .htm,
 * .xhtml); TM_INVALID when it says nothing known. */
TM_API tm_status tm_input_format_from_path(const char *path,
                                           tm_input_format *out);

/* The largest document analysed, in bytes of input and in words; beyond
 * either tm_analyze fails with TM_TOOBIG. */
#define TM_ANALYZE_MAX_BYTES (2u << 20)
#define TM_ANALYZE_MAX_WORDS 200000u

typedef struct tm_analyze_opts {
  const char *lang;      /* the document's language; required */
  const char *const *to; /* target languages; NULL: every other one */
  size_t nto;
  int min;              /* lowest sentence match score; default 70 */
  const char *glossary; /* NULL: every glossary */
  const char *memory;   /* NULL: every memory */
  tm_input_format format;
  size_t max_candidates; /* default 100 */
} tm_analyze_opts;

/* A glossary entry the document uses. */
typedef struct tm_analysis_term {
  int64_t entry;
  char *surface; /* its first occurrence as read (markup removed, white
                    space as one space) */
  size_t count;
  tm_span *offsets; /* each occurrence, in code points of the original
                       text (markup included), in order */
  tm_entry *e;      /* the whole entry */
} tm_analysis_term;

typedef struct tm_analysis_sentence {
  tm_span span;    /* in code points of the original text */
  char *text;      /* as read: markup removed, white space collapsed, NFC */
  tm_match *match; /* the best memory match reaching min, or NULL */
} tm_analysis_sentence;

typedef enum tm_candidate_kind {
  TM_CANDIDATE_ACRONYM = 1, /* an abbreviation, with its expansion if any */
  TM_CANDIDATE_NAME = 2,    /* capitalised words */
  TM_CANDIDATE_PHRASE = 3,  /* a recurring expression of 2 to 5 words */
} tm_candidate_kind;

TM_API const char *tm_candidate_kind_name(tm_candidate_kind k);

/* A term the document uses and no glossary has. */
typedef struct tm_candidate {
  tm_candidate_kind kind;
  char *text;         /* as first written; the abbreviation itself for an
                         abbreviation whose expansion was not found */
  char *abbreviation; /* NULL when none */
  size_t count;       /* occurrences (of either form for a pair) */
  double score;       /* 0 to 1, see docs/analyze.md */
  tm_span first;      /* its first occurrence in the original text */
} tm_candidate;

typedef struct tm_analysis {
  char lang[TM_LANG_MAX];
  size_t nto;
  char **to;    /* the target languages asked for (canonical) */
  size_t words; /* words of the document */
  size_t nterms;
  tm_analysis_term *terms; /* in order of first appearance */
  size_t nsentences;
  tm_analysis_sentence *sentences; /* in order */
  size_t ncandidates;
  tm_candidate *candidates; /* best first */
} tm_analysis;

/* Analyses LEN bytes of TEXT (UTF-8, in opts->format): its sentences by
 * ICU's sentence rules, each with its best match in the memories of IDX
 * (IDX may be NULL: no matches); the entries of DB's glossaries whose terms
 * it uses, recognised through inflection, spacing and line breaks, the
 * longest term winning; and candidate new terms.  Offsets count code
 * points of TEXT as given.  *out is freed with tm_analysis_free.
 *
 * Errors: TM_INVALID or TM_LANG for bad options, TM_UTF8, TM_TOOBIG beyond
 * TM_ANALYZE_MAX_BYTES or TM_ANALYZE_MAX_WORDS, TM_NOTFOUND for an unknown
 * glossary or memory; detail in tm_db_errmsg(db).  Thread-safety as for
 * tm_match_find: one DB handle per thread, IDX shared. */
TM_API tm_status tm_analyze(tm_index *idx, tm_db *db, const char *text,
                            size_t len, const tm_analyze_opts *opts,
                            tm_analysis **out);
TM_API void tm_analysis_free(tm_analysis *a);

typedef struct tm_prep_opts {
  tm_format format;         /* TM_FORMAT_HTML or TM_FORMAT_TSV */
  const char *title;        /* the document's name; NULL: none */
  const char *const *langs; /* columns; NULL: the document's language,
                               then its targets (else en, ko, uk) */
  size_t nlangs;
  const char *sort_lang; /* terms in ICU collation order of this
                            language; NULL: in order of appearance */
} tm_prep_opts;

/* Writes A as a prep sheet: a printable HTML page (terms found with every
 * column's terms, candidates with empty cells to fill in, sentences the
 * memories cover), or a glossary TSV (glossaries/README.md's columns) that
 * tm_import_* reads back once the empty cells are filled.  TM_IO when
 * WRITE fails. */
TM_API tm_status tm_analysis_export(tm_db *db, const tm_analysis *a,
                                    const tm_prep_opts *opts, tm_write_fn write,
                                    void *ctx);

/* ----------------------------------------------------------------- stats */

TM_API tm_status tm_stats(tm_db *db, tm_collection **memories, size_t *nmem,
                          tm_collection **glossaries, size_t *ngloss);

#ifdef __cplusplus
}
#endif
#endif /* TM_H */
