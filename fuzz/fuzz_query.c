/*
 * fuzz_query.c - query strings through the real server: the first byte
 * picks a GET route of the routing table (so a new route is fuzzed without
 * a change here), the second the values of its path parameters, and the
 * rest is sent as the query string, with the admin token.  Bytes that
 * would end the request line (controls, space, '#') are percent-encoded;
 * every other byte, '%' and bytes over 0x7F included, is sent as it is.
 * The answer must come, be below 500, and a JSON one must be valid JSON
 * in the error shape when it is an error (server_harness.c).
 */
#include "server_harness.h"

#include <stdio.h>
#include <string.h>

#define MAX_ROUTES 256

static const struct route *gets[MAX_ROUTES];
static size_t ngets;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  fzs_start();
  ngets = fzs_routes(M_GET, ~0u, gets, MAX_ROUTES);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char hex[] = "0123456789ABCDEF";
  const struct route *r;
  struct fz_buf target = {0};
  struct fzs_reply reply;
  char path[512], what[600];

  if (size < 2)
    return 0;
  r = gets[data[0] % ngets];
  if (!fzs_path(r, data[1], path, sizeof path))
    fz_fail("%s: the path does not fit", r->pattern);
  fz_buf_add(&target, path, strlen(path));
  fz_buf_add(&target, "?", 1);
  for (size_t i = 2; i < size; i++) {
    uint8_t c = data[i];
    if (c <= 0x20 || c == 0x7F || c == '#') {
      char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
      fz_buf_add(&target, esc, 3);
    } else {
      fz_buf_add(&target, &c, 1);
    }
  }
  fzs_request("GET", target.p, target.len, NULL, NULL, 0, &reply);
  snprintf(what, sizeof what, "GET %s", path);
  fzs_check(what, &reply);
  fzs_reply_free(&reply);
  fz_buf_free(&target);
  return 0;
}
