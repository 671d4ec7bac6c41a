/*
 * server_harness.h - the real server in the fuzzer's process, and an HTTP
 * client for it, for the targets that go through the dispatcher
 * (fuzz_query.c, fuzz_json.c).
 */
#ifndef TM_FUZZ_SERVER_HARNESS_H
#define TM_FUZZ_SERVER_HARNESS_H

#include "fuzz.h"
#include "server.h"

/* Starts the server's modules as tm-server does, on 127.0.0.1 port 0, with
 * a new database in a temporary folder: the shipped glossaries, three
 * units (ids 1 to 3) and an admin token that every request carries.  The
 * server stops and the folder is removed at exit. */
void fzs_start(void);

/* The routes whose method is one of METHODS (a mask of enum method) and
 * whose body is one of BODIES (a mask of 1 << enum body_kind), in table
 * order, in OUT; returns how many.  A table of more than CAP routes, or
 * none of that kind, fails the run. */
size_t fzs_routes(unsigned methods, unsigned bodies, const struct route **out,
                  size_t cap);

/* The path of route R with each {parameter} replaced by one of a few
 * values that exist in the database (CHOICE picks one); false when it
 * does not fit in CAP bytes. */
bool fzs_path(const struct route *r, unsigned choice, char *out, size_t cap);

struct fzs_reply {
  unsigned status;
  char type[128]; /* Content-Type, "" when none */
  const char *body;
  size_t len;
  struct fz_buf raw; /* the whole answer; body points into it */
};

/* Sends one request (Connection: close) and reads the whole answer.
 * TARGET is sent as it is (LEN bytes).  A server that does not answer
 * within 30 seconds, or answers something that is not HTTP, is a failure.
 * BODY may be NULL; TYPE is its Content-Type (NULL: none). */
void fzs_request(const char *method, const char *target, size_t target_len,
                 const char *type, const void *body, size_t len,
                 struct fzs_reply *out);
void fzs_reply_free(struct fzs_reply *r);

/* What every answer must be: a status below 500, and for a JSON answer
 * valid JSON, for a JSON error {"error": {"status", "code", "message"}}
 * with the answer's status.  WHAT names the request in the failure. */
void fzs_check(const char *what, const struct fzs_reply *r);

#endif /* TM_FUZZ_SERVER_HARNESS_H */
