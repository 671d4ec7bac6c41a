/*
 * server_harness.c - the real server in the fuzzer's process and a small
 * HTTP/1.1 client for it.  Requests go over a loopback socket through
 * libmicrohttpd, the dispatcher and the handlers, as a client's would.
 */
#include "server_harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define ANSWER_SECONDS 30

static struct server srv;
static bool started;
static char dir[256];
static char db_path[300];
static char *secret;
static unsigned port;

static int rm_entry(const char *path, const struct stat *sb, int flag,
                    struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static void stop(void) {
  if (started)
    server_stop(&srv);
  started = false;
  tm_free(secret);
  secret = NULL;
  if (dir[0])
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  dir[0] = '\0';
}

/* What the routes' path parameters find: ids 1 to 3 are units made here
 * and entries of the shipped glossaries. */
static void fixture(void) {
  static const char *const units[][3] = {
      {"prisoner of war", "전쟁포로", "військовополонений"},
      {"The soldiers were captured.", "군인들이 포로로 잡혔다.",
       "Солдатів узяли в полон."},
      {"ceasefire", "휴전", "припинення вогню"},
  };
  tm_actor who = {0, "fuzz"};
  tm_db *db = NULL;
  int64_t id;
  tm_status s;

  if ((s = tm_db_open(db_path, 0, &db)) != TM_OK)
    fz_fail("cannot create %s: %s: %s", db_path, tm_status_name(s),
            db ? tm_db_errmsg(db) : "");
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    tm_unit *u = calloc(1, sizeof *u);
    int created;
    if (!u || tm_unit_set(u, "en", units[i][0]) != TM_OK ||
        tm_unit_set(u, "ko", units[i][1]) != TM_OK ||
        tm_unit_set(u, "uk", units[i][2]) != TM_OK ||
        (s = tm_unit_add(db, "default", u, &who, &id, &created)) != TM_OK)
      fz_fail("cannot add a unit: %s", tm_db_errmsg(db));
    tm_unit_free(u);
  }
  if ((s = tm_token_create(db, TM_ROLE_ADMIN, "fuzz", &id, &secret)) != TM_OK)
    fz_fail("cannot create a token: %s", tm_db_errmsg(db));
  tm_db_close(db);
}

void fzs_start(void) {
  const char *base = getenv("TMPDIR");

  if (started)
    return;
  /* A request refused early may close the socket under a write. */
  signal(SIGPIPE, SIG_IGN);
  snprintf(dir, sizeof dir, "%s/tm-fuzz-XXXXXX", base && *base ? base : "/tmp");
  if (!mkdtemp(dir))
    fz_fail("mkdtemp: %s", strerror(errno));
  atexit(stop);
  snprintf(db_path, sizeof db_path, "%s/tm.sqlite", dir);
  fixture();

  srv.cfg.db_path = db_path;
  srv.cfg.listen = "127.0.0.1:0";
  srv.cfg.threads = 2;
  srv.cfg.timeout = ANSWER_SECONDS;
  srv.cfg.max_body = SRV_MAX_BODY_DEFAULT;
  srv.cfg.max_import = SRV_MAX_IMPORT_DEFAULT;
  srv.cfg.quiet = true;
  started = true; /* server_stop is due after server_start either way */
  if (!server_start(&srv))
    fz_fail("the server did not start");
  if (sscanf(srv.url, "http://127.0.0.1:%u", &port) != 1 || port == 0)
    fz_fail("the server listens on \"%s\"", srv.url);
}

size_t fzs_routes(unsigned methods, unsigned bodies, const struct route **out,
                  size_t cap) {
  size_t n = 0;

  if (nroutes > cap)
    fz_fail("the routing table has more than %zu routes", cap);
  for (size_t i = 0; i < nroutes; i++)
    if ((routes[i].method & methods) && (1u << routes[i].body & bodies))
      out[n++] = &routes[i];
  if (n == 0)
    fz_fail("no route has the methods and bodies this target sends");
  return n;
}

/* ------------------------------------------------------------- paths */

static const char *fill(const char *name, size_t len, unsigned choice) {
  static const struct {
    const char *name;
    const char *values[3];
  } fills[] = {
      {"id", {"1", "2", "3"}},
      {"name", {"default", "nk-ukraine", "fuzz"}},
      {"path", {"app.js", "style.css", "favicon.svg"}},
      {"slang", {"en", "ko", "en_GB"}},
      {"tlang", {"ko", "uk", "en"}},
      {"text", {"prisoner%20of%20war", "", "ceasefire"}},
      {"sid", {"store.tsv", "store.csv", "store.tmx"}},
  };

  for (size_t i = 0; i < sizeof fills / sizeof fills[0]; i++)
    if (strlen(fills[i].name) == len && memcmp(fills[i].name, name, len) == 0)
      return fills[i].values[choice % 3];
  return "x"; /* a parameter added since: any value routes */
}

bool fzs_path(const struct route *r, unsigned choice, char *out, size_t cap) {
  const char *p = r->pattern;
  size_t n = 0;

  while (*p) {
    const char *v = NULL, *close;
    size_t vlen;
    if (*p == '{' && (close = strchr(p, '}'))) {
      size_t len = (size_t)(close - p - 1);
      if (len > 3 && memcmp(close - 3, "...", 3) == 0)
        len -= 3;
      v = fill(p + 1, len, choice);
      vlen = strlen(v);
      p = close + 1;
    } else {
      v = p++;
      vlen = 1;
    }
    if (vlen >= cap - n)
      return false;
    memcpy(out + n, v, vlen);
    n += vlen;
  }
  out[n] = '\0';
  return true;
}

/* ------------------------------------------------------------- client */

static int connect_server(void) {
  struct sockaddr_in sa = {0};
  struct timeval tv = {ANSWER_SECONDS, 0};

  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (;;) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
      fz_fail("socket: %s", strerror(errno));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
      return fd;
    /* libFuzzer's timers interrupt system calls; start again. */
    if (errno != EINTR)
      fz_fail("connect: %s", strerror(errno));
    close(fd);
  }
}

/* Sends all of B; false when the server closed the connection first (it
 * may answer a request it refuses before reading the body). */
static bool send_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
    if (k < 0 && errno == EINTR)
      continue;
    if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      fz_fail("the server took no data for %d seconds", ANSWER_SECONDS);
    if (k <= 0)
      return false;
    p += k;
    n -= (size_t)k;
  }
  return true;
}

/* The value of header NAME in the head H[0..n), or NULL. */
static const char *header(const char *h, size_t n, const char *name,
                          size_t *vlen) {
  size_t nl = strlen(name);
  const char *end = h + n, *line = memchr(h, '\n', n);

  while (line && ++line < end) {
    const char *eol = memchr(line, '\n', (size_t)(end - line));
    const char *v;
    if (!eol)
      eol = end;
    if ((size_t)(eol - line) > nl && line[nl] == ':' &&
        strncasecmp(line, name, nl) == 0) {
      v = line + nl + 1;
      while (v < eol && (*v == ' ' || *v == '\t'))
        v++;
      *vlen = (size_t)(eol - v);
      while (*vlen && (v[*vlen - 1] == '\r' || v[*vlen - 1] == ' '))
        (*vlen)--;
      return v;
    }
    line = eol;
  }
  return NULL;
}

void fzs_request(const char *method, const char *target, size_t target_len,
                 const char *type, const void *body, size_t len,
                 struct fzs_reply *out) {
  struct fz_buf req = {0};
  char head[512], chunk[16384];
  const char *v, *sep;
  size_t vlen, hlen;
  int fd, n;
  bool sent;

  memset(out, 0, sizeof *out);
  fz_buf_add(&req, method, strlen(method));
  fz_buf_add(&req, " ", 1);
  fz_buf_add(&req, target, target_len);
  n = snprintf(head, sizeof head,
               " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
               "Authorization: Bearer %s\r\n",
               secret);
  fz_buf_add(&req, head, (size_t)n);
  if (body) {
    if (type) {
      n = snprintf(head, sizeof head, "Content-Type: %s\r\n", type);
      fz_buf_add(&req, head, (size_t)n);
    }
    n = snprintf(head, sizeof head, "Content-Length: %zu\r\n", len);
    fz_buf_add(&req, head, (size_t)n);
  }
  fz_buf_add(&req, "\r\n", 2);
  if (body)
    fz_buf_add(&req, body, len);

  fd = connect_server();
  sent = send_all(fd, req.p, req.len);
  fz_buf_free(&req);
  for (;;) {
    ssize_t k = recv(fd, chunk, sizeof chunk, 0);
    if (k < 0 && errno == EINTR)
      continue;
    if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      fz_fail("%s %.*s: no answer within %d seconds", method, (int)target_len,
              target, ANSWER_SECONDS);
    if (k <= 0)
      break;
    fz_buf_add(&out->raw, chunk, (size_t)k);
  }
  close(fd);
  if (out->raw.len == 0) {
    if (!sent)
      return; /* refused before the body and reset: nothing to check */
    fz_fail("%s %.*s: the server closed the connection without an answer",
            method, (int)target_len, target);
  }
  fz_buf_add(&out->raw, "", 1); /* a NUL after the answer, for sscanf */
  out->raw.len--;
  if (sscanf(out->raw.p, "HTTP/1.%*1[01] %3u ", &out->status) != 1)
    fz_fail("%s %.*s: the answer is not HTTP: %.*s", method, (int)target_len,
            target, (int)(out->raw.len < 200 ? out->raw.len : 200), out->raw.p);
  sep = memmem(out->raw.p, out->raw.len, "\r\n\r\n", 4);
  if (!sep)
    fz_fail("%s %.*s: the answer's head does not end", method, (int)target_len,
            target);
  hlen = (size_t)(sep - out->raw.p);
  out->body = sep + 4;
  out->len = out->raw.len - hlen - 4;
  if ((v = header(out->raw.p, hlen, "Content-Type", &vlen)))
    snprintf(out->type, sizeof out->type, "%.*s", (int)vlen, v);
  if ((v = header(out->raw.p, hlen, "Content-Length", &vlen)) &&
      strtoull(v, NULL, 10) != out->len)
    fz_fail("%s %.*s: Content-Length %.*s for a body of %zu bytes", method,
            (int)target_len, target, (int)vlen, v, out->len);
}

void fzs_reply_free(struct fzs_reply *r) {
  fz_buf_free(&r->raw);
  memset(r, 0, sizeof *r);
}

void fzs_check(const char *what, const struct fzs_reply *r) {
  json_error_t err;
  json_t *j, *e;

  if (!r->raw.len)
    return;
  if (r->status < 100 || r->status >= 500)
    fz_fail("%s: status %u: %.*s", what, r->status, (int)r->len, r->body);
  if (strncasecmp(r->type, "application/json", 16) != 0)
    return;
  if (!(j = json_loadb(r->body, r->len, 0, &err)))
    fz_fail("%s: status %u with a JSON body that does not parse (%s): %.*s",
            what, r->status, err.text, (int)r->len, r->body);
  if (r->status >= 400) {
    e = json_object_get(j, "error");
    if (!json_is_object(e) ||
        json_integer_value(json_object_get(e, "status")) != r->status ||
        !json_is_string(json_object_get(e, "code")) ||
        !json_is_string(json_object_get(e, "message")))
      fz_fail("%s: status %u with an error of another shape: %.*s", what,
              r->status, (int)r->len, r->body);
  }
  json_decref(j);
}
