/*
 * fuzz_json.c - JSON request bodies through the real server: the first
 * byte picks a POST or PUT route of the routing table that reads a JSON
 * body (JSON, form or document bodies; imports are the TMX, TBX and
 * CSV/TSV targets'), the second the values of its path parameters (bits
 * 0-3) and the Content-Type (bits 4-5: application/json, none, text/plain,
 * a form), and the rest is sent as the body with the admin token.  The answer
 * must come, be below 500, and a JSON one must be valid JSON in the error shape
 * when it is an error (server_harness.c).
 */
#include "server_harness.h"

#include <stdio.h>
#include <string.h>

#define MAX_ROUTES 256

static const struct route *posts[MAX_ROUTES];
static size_t nposts;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  fzs_start();
  nposts = fzs_routes(M_POST | M_PUT,
                      1u << BODY_JSON | 1u << BODY_FORM | 1u << BODY_TEXT,
                      posts, MAX_ROUTES);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const struct route *r;
  struct fzs_reply reply;
  char path[512], what[600];
  const char *method, *type;
  static const char *const types[] = {"application/json", NULL, "text/plain",
                                      "application/x-www-form-urlencoded"};

  if (size < 2)
    return 0;
  r = posts[data[0] % nposts];
  method = method_name(r->method);
  type = types[data[1] >> 4 & 3];
  if (!fzs_path(r, data[1] & 15, path, sizeof path))
    fz_fail("%s: the path does not fit", r->pattern);
  fzs_request(method, path, strlen(path), type, data + 2, size - 2, &reply);
  snprintf(what, sizeof what, "%s %s", method, path);
  fzs_check(what, &reply);
  fzs_reply_free(&reply);
  return 0;
}
