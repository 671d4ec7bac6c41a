/*
 * server.h - what the server's modules share: the server handle, the
 * request context, the shape of the routing table and the reply helpers.
 *
 * Everything lives on two handles.  struct server (libmicrohttpd's cls)
 * holds the configuration, the database handles, the index, the daemon and
 * the metrics; nothing is global, so two servers can run in one process.
 * struct request (libmicrohttpd's *req_cls) is made when a request line
 * arrives and freed when the request completes.
 *
 * Modules: main.c (options, start, signals, stop), http.c (libmicrohttpd
 * glue: request lifecycle, bodies, responses, CORS, log), route.c (the
 * routing table and the one dispatcher: 404, 405, 413, 401, 403, bodies,
 * replies, errors), params.c (typed query parameters), pool.c (database
 * handles), json.c (libtm records as JSON), handlers_*.c and compat.c (the
 * endpoints), metrics.c (Prometheus), openapi.c (the table as OpenAPI 3),
 * web.c (the booth page, embedded from server/web/).
 */
#ifndef TM_SERVER_H
#define TM_SERVER_H

#include "render.h"
#include "tm.h"

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#if defined(__GNUC__)
#define SRV_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SRV_PRINTF(f, a)
#endif

#define SRV_JSON_TYPE "application/json; charset=utf-8"

/* ------------------------------------------------------------- limits */

#define SRV_MAX_BODY_DEFAULT ((size_t)1 << 20)    /* JSON bodies: 1 MiB */
#define SRV_MAX_IMPORT_DEFAULT ((size_t)64 << 20) /* imports: 64 MiB */
/* A document to analyze: TM_ANALYZE_MAX_BYTES of text, room for JSON's
 * escapes (\uXXXX for a 3-byte character). */
#define SRV_MAX_DOCUMENT ((size_t)4 * TM_ANALYZE_MAX_BYTES)
#define SRV_MAX_QUERY 2000     /* bytes of a searched text (q, source) */
#define SRV_MAX_LIMIT 100      /* results of one search */
#define SRV_MAX_PAGE 500       /* records of one listing page */
#define SRV_MAX_LANGS 16       /* languages of one `to` list */
#define SRV_MAX_PATH_PARAMS 4  /* {name} captures of one route */
#define SRV_MAX_HEADERS 6      /* extra headers of one reply */
#define SRV_TIMEOUT_DEFAULT 30 /* seconds a connection may idle */

/* -------------------------------------------------------------- server */

struct server_config {
  const char *db_path;
  const char *listen; /* HOST:PORT; port 0 picks a free one */
  unsigned threads;   /* libmicrohttpd workers, each with a reader */
  unsigned timeout;   /* idle connection timeout, seconds */
  size_t max_body;    /* JSON and form bodies */
  size_t max_import;  /* files sent to an import */
  bool private_reads; /* reading needs a token too */
  bool quiet;         /* no request log */
};

struct metrics;
struct entry_cache;

/* A read-only database handle and what is kept with it: used by one
 * request at a time, so neither needs a lock. */
struct reader {
  tm_db *db;
  struct entry_cache *cache;
};

struct server {
  struct server_config cfg;

  /* Databases (pool.c).  Readers are checked out for one request at a
   * time.  The writer belongs to one thread, which runs every write in
   * turn from a queue while the request's connection is suspended, so the
   * workers never wait for a write (an import takes seconds).  The index
   * is attached to the writer: every write also updates the index that
   * readers search. */
  tm_db *writer;
  atomic_uint_fast64_t generation; /* counts the writes; see entry_cache */
  tm_index *index;
  pthread_t writer_thread;
  bool writer_running, writer_closing;
  pthread_mutex_t queue_lock;
  pthread_cond_t queue_cond;
  struct request *queue_head, *queue_tail;
  struct reader *readers; /* every reader */
  struct reader **idle;   /* the readers not checked out */
  size_t nreaders, nidle;
  pthread_mutex_t pool_lock;
  pthread_cond_t pool_cond;

  /* HTTP (http.c) */
  struct MHD_Daemon *daemon;
  char url[80]; /* "http://127.0.0.1:8080" once listening */
  atomic_uint in_flight;
  atomic_bool stopping;

  char *oom_body; /* the 500 sent when a reply cannot be rendered */
  size_t oom_len;

  struct metrics *metrics;
  int64_t started; /* seconds since the epoch */
};

/* Opens the databases and the index, then listens.  On failure prints why
 * on stderr and returns false; call server_stop() after it either way. */
bool server_start(struct server *srv);
/* Stops accepting, lets the requests in flight finish (up to the
 * connection timeout), stops the daemon and closes the databases. */
void server_stop(struct server *srv);

/* pool.c */
tm_status pool_open(struct server *srv);
void pool_close(struct server *srv);
/* A reader for this request; waits while all are in use. */
struct reader *pool_get(struct server *srv);
void pool_put(struct server *srv, struct reader *r);
/* The writer thread.  writer_submit suspends RQ's connection (it must be
 * called from the access handler) and queues RQ; once its handler ran,
 * the connection is resumed and the access handler sends the reply.
 * writer_stop runs what is queued, then joins the thread. */
bool writer_start(struct server *srv);
void writer_submit(struct request *rq);
void writer_stop(struct server *srv);

/* ------------------------------------------------------------- routing */

enum method {
  M_GET = 1 << 0,
  M_HEAD = 1 << 1,
  M_POST = 1 << 2,
  M_PUT = 1 << 3,
  M_DELETE = 1 << 4,
  M_OPTIONS = 1 << 5,
  M_OTHER = 1 << 6,
};

enum body_kind {
  BODY_NONE = 0, /* ignored (up to max_body) */
  BODY_JSON,     /* a JSON object, required */
  BODY_FILE,     /* raw bytes up to max_import (imports) */
  BODY_FORM,     /* optional: JSON, or URL-encoded or multipart fields */
  BODY_TEXT,     /* a document: a JSON object when the Content-Type says
                    JSON (or, with no text/ type, the body starts with {),
                    else the text itself; up to SRV_MAX_DOCUMENT */
};

enum route_flags {
  R_PUBLIC = 1 << 0,   /* open even with --private (health, metrics, docs) */
  R_WRITE = 1 << 1,    /* the handler runs holding the writer */
  R_KEY = 1 << 2,      /* the token may come as the `key` parameter */
  R_CONFLICT = 1 << 3, /* may answer 409 (documentation) */
  R_FORMATS = 1 << 4,  /* may answer 415 (documentation) */
};

struct request;
typedef void handler_fn(struct request *rq);

/* How a parameter is described in the OpenAPI document. */
struct param_doc {
  const char *name;
  const char *in;   /* "query" or "path" */
  const char *type; /* "string", "integer", "boolean" */
  bool required;
  const char *description;
};

/* One row of the routing table: everything the dispatcher enforces and
 * everything the OpenAPI document says about the route. */
struct route {
  enum method method;
  const char *pattern; /* "/api/v1/tm/units/{id}"; {id} matches digits,
                          {name...} the rest of the path */
  handler_fn *handler;
  enum body_kind body;
  tm_role role; /* required; TM_ROLE_NONE: open unless --private */
  unsigned flags;
  /* documentation */
  const char *tag;
  const char *summary;
  const char *description;
  const struct param_doc *params; /* ends with a NULL name */
  const char *request_schema;     /* components/schemas name, or NULL */
  unsigned ok;                    /* success status: 200, 201, 204 */
  const char *ok_type;            /* success content types, ", "-separated;
                                     NULL: JSON */
  const char *response_schema;    /* for a JSON success, or NULL */
};

extern const struct route routes[];
extern const size_t nroutes;

/* ------------------------------------------------------------- request */

struct reply {
  bool set;
  unsigned status;
  bool is_json;     /* JSON (NULL json: rendering it ran out of memory) */
  json_t *json;     /* rendered by http_send, or */
  char *body;       /* raw bytes (malloc'd unless persistent) */
  bool persistent;  /* body is static data, never freed */
  size_t len;       /* with */
  const char *type; /* their content type */
  char *jsonp;      /* callback name: JSON becomes `name(json);` */
  struct {
    const char *name;
    char *value;
  } headers[SRV_MAX_HEADERS];
  size_t nheaders;
};

struct form_field {
  char *name;
  char *value;
  size_t len;
};

struct request {
  struct server *srv;
  struct MHD_Connection *conn;
  struct timespec start;
  char *uri; /* as received: raw path and query */
  char method_name[16];
  enum method method;
  bool started; /* the access handler saw its first call */

  /* routing */
  const struct route *route; /* NULL until one matches */
  struct {
    char *value; /* decoded, NUL-terminated */
    size_t len;
  } path[SRV_MAX_PATH_PARAMS];
  size_t npath;

  /* body */
  char *body;
  size_t body_len, body_cap, body_limit;
  bool body_expected; /* Content-Length > 0 or chunked */
  bool body_too_large;
  json_t *json;            /* the parsed body */
  struct form_field *form; /* or its fields */
  size_t nform, form_cap;

  /* who */
  bool auth_deferred; /* the token may be in the form body (R_KEY) */
  int64_t token;
  tm_role role;
  char *label;
  tm_actor who;

  /* databases for the handler */
  struct reader *reader;
  tm_db *db;  /* reader->db, always */
  tm_db *wdb; /* the writer, for R_WRITE routes (on the writer thread) */
  struct request *next; /* in the writer's queue */

  struct reply reply;
  unsigned status; /* as sent, for the log and the metrics */
};

/* http.c: sends rq->reply; the MHD result for the access handler. */
enum MHD_Result http_send(struct request *rq);
/* The value of request header NAME, or NULL. */
const char *http_header(struct request *rq, const char *name);

/* route.c: the dispatcher's steps.  route_begin runs on the first call of
 * the access handler (headers known, body not read): routing, limits,
 * auth.  route_dispatch runs once the body is complete: it parses it and
 * runs the handler, or hands a write to the writer thread and returns
 * true (RQ then belongs to the writer until its connection resumes).
 * route_run runs the handler with a reader and WRITER (NULL for reads). */
void route_begin(struct request *rq);
bool route_dispatch(struct request *rq);
void route_run(struct request *rq, tm_db *writer);
/* The route index for metrics: 0..nroutes-1, or nroutes for none. */
size_t route_index(const struct route *r);
const char *method_name(enum method m);

/* ------------------------------------------------------------- replies */

/* Each sets rq->reply; the last one called wins.  They take ownership of
 * J or BODY even when they fail (a failure becomes a 500). */
void reply_json(struct request *rq, unsigned status, json_t *j);
void reply_bytes(struct request *rq, unsigned status, const char *type,
                 char *body, size_t len);
/* Bytes that outlive the server (embedded files): sent without a copy. */
void reply_static(struct request *rq, unsigned status, const char *type,
                  const void *body, size_t len);
void reply_empty(struct request *rq, unsigned status);
/* {"error": {"status", "code", "message"}} */
void reply_error(struct request *rq, unsigned status, const char *code,
                 const char *fmt, ...) SRV_PRINTF(4, 5);
/* The error for a libtm status S, with DB's message when DB is given. */
void reply_tm(struct request *rq, tm_db *db, tm_status s);
/* Adds a header to the reply (VALUE is copied); false on OOM. */
bool reply_header(struct request *rq, const char *name, const char *value);
/* Frees what a reply holds and empties it. */
void reply_clear(struct reply *r);

/* ---------------------------------------------------------- parameters */

struct langs {
  char tag[SRV_MAX_LANGS][TM_LANG_MAX];
  const char *v[SRV_MAX_LANGS];
  size_t n;
};

/* Each returns true with the value, or false after setting an error
 * reply (missing_parameter, invalid_parameter, invalid_utf8,
 * invalid_language, query_too_long). */

/* The raw value of query parameter NAME, else of form field NAME. */
const char *param_raw(struct request *rq, const char *name, size_t *len);
/* Valid UTF-8 in NFC, at most MAX bytes; *out NULL when absent and not
 * REQUIRED.  Free with tm_free. */
bool param_text(struct request *rq, const char *name, bool required, size_t max,
                char **out);
/* Checks and normalises S (LEN bytes) as param_text does. */
bool text_nfc(struct request *rq, const char *what, const char *s, size_t len,
              size_t max, char **out);
/* A canonical BCP-47 tag; out[0] == '\0' when absent and not REQUIRED. */
bool param_lang(struct request *rq, const char *name, bool required,
                char out[TM_LANG_MAX]);
bool lang_canonical(struct request *rq, const char *what, const char *s,
                    char out[TM_LANG_MAX]);
/* Every tag of NAME ("ko,uk", or NAME repeated). */
bool param_langs(struct request *rq, const char *name, struct langs *out);
/* An integer: DEF when absent; below MIN is an error; above MAX is an
 * error unless CLAMP. */
bool param_int(struct request *rq, const char *name, long def, long min,
               long max, bool clamp, long *out);
/* 1/true/yes or 0/false/no; DEF when absent. */
bool param_flag(struct request *rq, const char *name, bool def, bool *out);
/* status=approved restricts to approved records (status=any: all). */
bool param_approved(struct request *rq, bool *approved_only);
/* A plain name (collections, cursors): printable ASCII, at most MAX. */
bool param_name(struct request *rq, const char *name, size_t max,
                const char **out);

/* ---------------------------------------------------------------- json */

/* libtm's records as JSON: front/render.h.  A struct langs as the
 * renderer's filter: */
static inline render_langs langs_view(const struct langs *l) {
  render_langs v = {l ? l->v : NULL, l ? l->n : 0};
  return v;
}

/* A JSON text joined from pieces: members that jansson rendered once (an
 * entry's, see entry_cache) are reused as text instead of being rendered
 * again, and the few members of each reply around them are written
 * directly.  On a term search, rendering is most of the work
 * (docs/api.md). */
struct jtext {
  char *p;
  size_t len, cap;
  bool oom;
  bool after_key; /* a key was written; its value comes next */
  int depth;
  bool comma[8]; /* the next element at each depth needs a comma */
};

void jt_init(struct jtext *t);
void jt_open(struct jtext *t, char bracket); /* '{' or '[' */
void jt_close(struct jtext *t, char bracket);
/* KEY is a string literal of ours (lower-case letters and '_'), written as
 * is with its quotes and colon, which the macro adds at compile time. */
#define jt_key(t, key)                                                         \
  jt_key_quoted((t), "\"" key "\":", sizeof("\"" key "\":") - 1)
void jt_key_quoted(struct jtext *t, const char *quoted, size_t n);
/* Values, after a key or in an array.  S is valid UTF-8 (libtm's and the
 * checked parameters are). */
void jt_string(struct jtext *t, const char *s);
void jt_int(struct jtext *t, int64_t v);
/* Members rendered earlier by entry_cache_get. */
void jt_fragment(struct jtext *t, const char *text, size_t len);
/* The text (malloc'd) and its length, or NULL when memory ran out. */
char *jt_finish(struct jtext *t, size_t *len);

/* The members of a term hit that depend only on its entry, rendered once
 * per reader and kept while the entry's id, update time and the server's
 * write generation stay the same (any write through the server starts a
 * new generation): HEAD is "entry" and "glossary", TAIL is "terms",
 * "definition", "note", "domain", "source" and "status". */
struct entry_text {
  const char *head, *tail;
  size_t head_len, tail_len;
};

struct entry_cache *entry_cache_create(void);
void entry_cache_destroy(struct entry_cache *c);
/* E's members for the languages ONLY (NULL: all), owned by the cache until
 * its next call; false when memory ran out. */
bool entry_cache_get(struct entry_cache *c, uint64_t generation,
                     const tm_entry *e, const struct langs *only,
                     struct entry_text *out);
/* The members of a term hit that are the search's own, "score" and
 * "matched", written to T. */
void jt_hit_members(struct jtext *t, const tm_term_hit *h);

/* ------------------------------------------------------------- metrics */

struct metrics *metrics_create(void);
void metrics_destroy(struct metrics *m);
void metrics_record(struct metrics *m, size_t route, unsigned status,
                    double seconds);
/* The Prometheus text exposition (free with free()), or NULL. */
char *metrics_render(struct server *srv, tm_db *db, size_t *len);

/* ------------------------------------------------------------- openapi */

/* The OpenAPI 3.0 document of the routing table. */
json_t *openapi_document(void);

/* ------------------------------------------------------------ handlers */

/* handlers_tm.c */
handler_fn h_tm_match, h_tm_concordance, h_unit_create, h_unit_get,
    h_unit_update, h_unit_delete, h_unit_history, h_unit_approve,
    h_memories_list, h_memory_create, h_memory_import, h_memory_export;
/* handlers_terms.c */
handler_fn h_terms, h_glossaries_list, h_glossary_create, h_glossary_import,
    h_glossary_export, h_entries_list, h_entry_create, h_entry_get,
    h_entry_update, h_entry_delete, h_entry_history, h_entry_approve;
/* handlers_admin.c */
handler_fn h_stats, h_healthz, h_metrics, h_openapi, h_tokens_list,
    h_token_create, h_token_revoke;
/* web.c: the booth page */
handler_fn h_web_index, h_web_file;
/* handlers_analyze.c */
handler_fn h_analyze;
/* compat.c */
handler_fn h_tms_languages, h_tms_unit_get, h_tms_unit_add, h_tms_store_upload,
    h_tms_store_add, h_mm_get, h_mm_set;

/* Shared by the handlers (handlers_admin.c). */

/* Path parameter I as a positive id; false (404) when it is not one. */
bool path_id(struct request *rq, size_t i, int64_t *id);
/* The token id in a record's created_by ("token 3 (booth A)"), or 0. */
int64_t created_by_token(const char *created_by);
/* True when the caller may change a record made by CREATED_BY in STATUS:
 * reviewers any, contributors their own drafts.  Else a 403 reply. */
bool may_edit(struct request *rq, const char *created_by,
              tm_record_status status);
/* Reads an optional record status from the body member "status"; only
 * reviewers may set anything but draft.  *set false when absent. */
bool body_status(struct request *rq, json_t *obj, tm_record_status *out,
                 bool *set);
/* A collection of KIND named NAME exists, else a 404 reply. */
bool collection_exists(struct request *rq, tm_db *db, tm_kind kind,
                       const char *name);
/* Reads optional string member KEY of OBJ (null counts as absent);
 * *present, when given, says whether the member was there at all. */
bool member_str(struct request *rq, json_t *obj, const char *key,
                const char **out, bool *present);
/* Replaces *FIELD (malloc'd, freed by libtm's record free functions) with
 * a copy of VALUE, or NULL. */
bool replace_str(struct request *rq, char **field, const char *value);
/* Adds a Location header PREFIX + ID to the reply. */
bool reply_location(struct request *rq, const char *prefix, int64_t id);
/* GET and POST of /api/v1/memories and /api/v1/glossaries. */
void collections_list(struct request *rq, tm_kind kind);
void collection_create(struct request *rq, tm_kind kind);
/* Imports the request body into collection NAME of KIND (created when
 * missing); SOURCE names the input in error messages (NULL: ?filename=). */
void import_body(struct request *rq, tm_kind kind, const char *name,
                 tm_format format, const char *source);
/* An export of collection NAME of KIND as the reply. */
void export_reply(struct request *rq, tm_kind kind, const char *name);
/* The format of an import: ?format=, else the Content-Type. */
bool import_format(struct request *rq, tm_kind kind, tm_format *out);

#endif /* TM_SERVER_H */
