/*
 * web.c - the booth page: the files of server/web/, embedded in the binary
 * at build time (scripts/embed_web.py), served at / (index.html) and at
 * /web/{path}.
 *
 * Nothing here reads the file system, so no request can reach a file
 * outside the page: a path is only ever a key into the embedded table.
 * Paths that try anyway (".." or "." segments, encoded or not, absolute
 * paths, backslashes, double encoding, control bytes) get a 400 rather
 * than a quiet 404, so that they stand out in the log.
 *
 * Caching: every file is revalidated (Cache-Control: no-cache) against a
 * strong ETag made from its bytes, so an upgraded server is never masked
 * by a stale script, and an unchanged file costs a 304.  A gzip variant is
 * sent to clients that accept it.
 */
#include "server.h"
#include "web_assets.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The page may load only what the server itself serves: no inline script,
 * no other origin. */
#define WEB_CSP                                                                \
  "default-src 'self'; base-uri 'none'; form-action 'self'; "                  \
  "frame-ancestors 'none'"

static int asset_cmp(const void *key, const void *elem) {
  return strcmp(key, ((const struct web_asset *)elem)->path);
}

static const struct web_asset *asset_find(const char *path) {
  return bsearch(path, web_assets, web_assets_count, sizeof web_assets[0],
                 asset_cmp);
}

/* A relative path of plain segments: no empty, "." or ".." segment, no
 * backslash, no '%' left after decoding, nothing outside printable ASCII. */
static bool path_plain(const char *p, size_t len) {
  size_t seg = 0;

  if (len == 0 || strlen(p) != len)
    return false;
  for (size_t i = 0; i <= len; i++) {
    unsigned char c = (unsigned char)p[i];
    if (i == len || c == '/') {
      size_t n = i - seg;
      if (n == 0 || (n == 1 && p[seg] == '.') ||
          (n == 2 && p[seg] == '.' && p[seg + 1] == '.'))
        return false;
      seg = i + 1;
      continue;
    }
    if (c < 0x21 || c > 0x7e || c == '\\' || c == '%')
      return false;
  }
  return true;
}

/* True when LIST (an Accept-Encoding value) accepts gzip: a "gzip" or "*"
 * coding whose q is not 0. */
static bool accepts_gzip(const char *list) {
  const char *p = list;

  while (p && *p) {
    const char *end = strchr(p, ',');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    const char *semi;
    size_t name;
    while (n > 0 && (*p == ' ' || *p == '\t')) {
      p++;
      n--;
    }
    semi = memchr(p, ';', n);
    name = semi ? (size_t)(semi - p) : n;
    while (name > 0 && (p[name - 1] == ' ' || p[name - 1] == '\t'))
      name--;
    if ((name == 4 && strncasecmp(p, "gzip", 4) == 0) ||
        (name == 1 && *p == '*')) {
      const char *q = semi ? semi + 1 : NULL;
      while (q && (*q == ' ' || *q == '\t'))
        q++;
      if (!q || (size_t)(q - p) >= n || strncmp(q, "q=0", 3) != 0)
        return true;
      /* q=0, q=0.0, q=0.000 refuse; q=0.5 accepts */
      for (q += 3; (size_t)(q - p) < n && (*q == '.' || *q == '0'); q++)
        ;
      if ((size_t)(q - p) < n && *q >= '1' && *q <= '9')
        return true;
    }
    p = end ? end + 1 : NULL;
  }
  return false;
}

/* True when an If-None-Match value names ETAG (or is "*"). */
static bool etag_listed(const char *inm, const char *etag) {
  size_t n = strlen(etag);
  const char *p = inm;

  if (strcmp(inm, "*") == 0)
    return true;
  while ((p = strstr(p, etag)) != NULL) {
    char after = p[n];
    if (after == '\0' || after == ',' || after == ' ' || after == '\t')
      return true;
    p += n;
  }
  return false;
}

static void send_asset(struct request *rq, const struct web_asset *a) {
  const char *ae = http_header(rq, MHD_HTTP_HEADER_ACCEPT_ENCODING);
  const char *inm = http_header(rq, MHD_HTTP_HEADER_IF_NONE_MATCH);
  bool gz = a->gz && ae && accepts_gzip(ae);
  const char *etag = gz ? a->gz_etag : a->etag;
  bool ok;

  if (inm && etag_listed(inm, etag)) {
    reply_empty(rq, 304);
  } else {
    size_t n = gz ? a->gz_size : a->size;
    char *body = malloc(n ? n : 1);
    if (!body) {
      reply_error(rq, 500, "out_of_memory", "out of memory");
      return;
    }
    memcpy(body, gz ? a->gz : a->data, n);
    reply_bytes(rq, 200, a->type, body, n);
    if (gz && !reply_header(rq, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip"))
      goto oom;
  }
  ok = reply_header(rq, MHD_HTTP_HEADER_ETAG, etag) &&
       reply_header(rq, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache") &&
       (!a->gz || reply_header(rq, MHD_HTTP_HEADER_VARY, "Accept-Encoding")) &&
       (strncmp(a->type, "text/html", 9) != 0 ||
        reply_header(rq, "Content-Security-Policy", WEB_CSP));
  if (ok)
    return;
oom:
  reply_error(rq, 500, "out_of_memory", "out of memory");
}

void h_web_index(struct request *rq) {
  const struct web_asset *a = asset_find("index.html");

  if (!a) {
    reply_error(rq, 404, "not_found", "this server was built without its page");
    return;
  }
  send_asset(rq, a);
}

void h_web_file(struct request *rq) {
  const char *p = rq->npath ? rq->path[0].value : "";
  const struct web_asset *a;

  if (rq->npath < 1 || rq->path[0].len == 0) {
    reply_error(rq, 404, "not_found", "name a file of the page: /web/app.js");
    return;
  }
  if (!path_plain(p, rq->path[0].len)) {
    reply_error(rq, 400, "invalid_path",
                "a file of the page is named by plain path segments");
    return;
  }
  a = asset_find(p);
  if (!a) {
    reply_error(rq, 404, "not_found", "no such file: %s", p);
    return;
  }
  send_asset(rq, a);
}
