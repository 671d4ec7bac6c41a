/*
 * http.c - the libmicrohttpd glue: the daemon's life, each request's
 * context from its request line to its completion, bodies, responses with
 * their common headers (CORS), the request log and the metrics hook.
 *
 * Keep-alive depends on one rule: a response is queued only on a later
 * call of the access handler, never on the first.  Queued on the first
 * call, libmicrohttpd closes the connection after it.  The one exception is
 * a request refused before its body is read (413, 401...): answering at
 * once and closing spares reading a body nobody wants.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define JSONP_TYPE "application/javascript; charset=utf-8"

const char *http_header(struct request *rq, const char *name) {
  return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

static double elapsed(const struct timespec *since) {
  struct timespec now;

  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - since->tv_sec) +
         (double)(now.tv_nsec - since->tv_nsec) / 1e9;
}

/* ------------------------------------------------------ request context */

/* Called once per request, when its request line arrives: the context
 * made here is *req_cls for every later call, and is freed in
 * on_completed. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn) {
  struct server *srv = cls;
  struct request *rq = calloc(1, sizeof *rq);

  if (!rq)
    return NULL;
  clock_gettime(CLOCK_MONOTONIC, &rq->start);
  rq->srv = srv;
  rq->conn = conn;
  rq->uri = strdup(uri); /* NULL is answered with a 500 by route_begin */
  atomic_fetch_add(&srv->in_flight, 1);
  return rq;
}

static void request_free(struct request *rq) {
  for (size_t i = 0; i < rq->npath; i++)
    free(rq->path[i].value);
  for (size_t i = 0; i < rq->nform; i++) {
    free(rq->form[i].name);
    free(rq->form[i].value);
  }
  free(rq->form);
  free(rq->body);
  json_decref(rq->json);
  tm_free(rq->label);
  reply_clear(&rq->reply);
  free(rq->uri);
  free(rq);
}

/* Adds an uploaded piece to the body; past the limit the rest is read and
 * dropped (libmicrohttpd cannot answer in the middle of a body) and the
 * request is answered 413. */
static void body_append(struct request *rq, const char *data, size_t n) {
  if (rq->reply.set || rq->body_too_large)
    return;
  if (n > rq->body_limit - rq->body_len) {
    rq->body_too_large = true;
    free(rq->body);
    rq->body = NULL;
    rq->body_len = rq->body_cap = 0;
    return;
  }
  if (rq->body_len + n + 1 > rq->body_cap) {
    size_t cap = rq->body_cap ? rq->body_cap * 2 : 4096;
    char *b;
    if (cap < rq->body_len + n + 1)
      cap = rq->body_len + n + 1;
    if (cap > rq->body_limit + 1)
      cap = rq->body_limit + 1;
    if (!(b = realloc(rq->body, cap))) {
      reply_error(rq, 500, "out_of_memory", "out of memory");
      return;
    }
    rq->body = b;
    rq->body_cap = cap;
  }
  memcpy(rq->body + rq->body_len, data, n);
  rq->body_len += n;
  rq->body[rq->body_len] = '\0';
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn,
                                 const char *url, const char *method,
                                 const char *version, const char *upload_data,
                                 size_t *upload_size, void **req_cls) {
  struct request *rq = *req_cls;

  (void)cls;
  (void)conn;
  (void)url;
  (void)version;
  if (!rq)
    return MHD_NO; /* out of memory in on_uri: drop the connection */
  if (!rq->started) {
    static const struct {
      const char *name;
      enum method m;
    } methods[] = {{"GET", M_GET},       {"HEAD", M_HEAD},
                   {"POST", M_POST},     {"PUT", M_PUT},
                   {"DELETE", M_DELETE}, {"OPTIONS", M_OPTIONS}};
    rq->started = true;
    snprintf(rq->method_name, sizeof rq->method_name, "%s", method);
    rq->method = M_OTHER;
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
      if (strcmp(method, methods[i].name) == 0)
        rq->method = methods[i].m;
    route_begin(rq);
    if (rq->reply.set && rq->body_expected)
      return http_send(rq);
    return MHD_YES;
  }
  if (*upload_size) {
    body_append(rq, upload_data, *upload_size);
    *upload_size = 0;
    return MHD_YES;
  }
  /* Once a write is queued, RQ is the writer thread's until it resumes
   * the connection, which calls this handler again with the reply set. */
  if (!rq->reply.set && route_dispatch(rq))
    return MHD_YES;
  return http_send(rq);
}

static void log_request(const struct request *rq, double seconds) {
  char line[512], path[256], when[32], status[12] = "-";
  struct tm tm;
  time_t now = time(NULL);
  size_t o = 0;
  int n;

  /* The raw path, without the query (it may hold what an interpreter
   * searched); bytes that could upset a terminal are escaped. */
  for (const char *p = rq->uri; p && *p && *p != '?' && o + 4 < sizeof path;
       p++) {
    unsigned char c = (unsigned char)*p;
    if (c <= ' ' || c >= 0x7f)
      o += (size_t)snprintf(path + o, 4, "%%%02X", c);
    else
      path[o++] = (char)c;
  }
  path[o] = '\0';
  gmtime_r(&now, &tm);
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (rq->status)
    snprintf(status, sizeof status, "%u", rq->status);
  n = snprintf(line, sizeof line, "%s %s %s %s %.3fms\n", when,
               rq->method_name[0] ? rq->method_name : "-", path, status,
               seconds * 1e3);
  if (n > 0)
    fwrite(line, 1, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1,
           stderr);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe) {
  struct server *srv = cls;
  struct request *rq = *req_cls;
  double seconds;
  size_t idx;

  (void)conn;
  (void)toe;
  if (!rq)
    return;
  seconds = elapsed(&rq->start);
  if (!srv->cfg.quiet)
    log_request(rq, seconds);
  idx = route_index(rq->route);
  if (!rq->route && rq->method == M_OPTIONS && rq->status == 204)
    idx = nroutes + 1; /* CORS preflights */
  metrics_record(srv->metrics, idx, rq->status, seconds);
  request_free(rq);
  *req_cls = NULL;
  atomic_fetch_sub(&srv->in_flight, 1);
}

/* ------------------------------------------------------------ responses */

struct render {
  char *p;
  size_t len, cap;
};

static int render_cb(const char *buf, size_t n, void *ctx) {
  struct render *r = ctx;

  if (n > r->cap - r->len) {
    size_t cap = r->cap * 2;
    char *p;
    while (cap - r->len < n)
      cap *= 2;
    if (!(p = realloc(r->p, cap)))
      return -1;
    r->p = p;
    r->cap = cap;
  }
  memcpy(r->p + r->len, buf, n);
  r->len += n;
  return 0;
}

/* J as compact JSON text (malloc'd) in *len bytes, wrapped as `CB(...);`
 * when CB is given; NULL when memory ran out.  Straight into one growing
 * buffer: json_dumps would copy the text once more and leave its length to
 * be counted. */
static char *render(const json_t *j, const char *cb, size_t *len) {
  struct render r = {malloc(8192), 0, 8192};
  bool ok = r.p != NULL;

  if (ok && cb)
    ok = render_cb(cb, strlen(cb), &r) == 0 && render_cb("(", 1, &r) == 0;
  ok = ok && json_dump_callback(j, render_cb, &r,
                                JSON_COMPACT | JSON_REAL_PRECISION(6)) == 0;
  if (ok && cb)
    ok = render_cb(");", 2, &r) == 0;
  if (!ok) {
    free(r.p);
    return NULL;
  }
  *len = r.len;
  return r.p;
}

enum MHD_Result http_send(struct request *rq) {
  struct server *srv = rq->srv;
  struct reply *r = &rq->reply;
  struct MHD_Response *resp;
  const char *type = r->type;
  unsigned status;
  enum MHD_Result ret = MHD_NO;
  char *body = NULL;
  size_t len = 0;
  bool ok;

  if (!r->set)
    reply_error(rq, 500, "internal", "no reply");
  status = r->status;
  if (r->is_json) {
    body = r->json ? render(r->json, r->jsonp, &len) : NULL;
    type = body && r->jsonp ? JSONP_TYPE : SRV_JSON_TYPE;
    if (!body)
      status = 500;
  } else {
    body = r->body;
    len = r->len;
    r->body = NULL;
  }
  if (r->is_json && !body)
    resp = MHD_create_response_from_buffer(srv->oom_len, srv->oom_body,
                                           MHD_RESPMEM_PERSISTENT);
  else if (r->persistent)
    resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_PERSISTENT);
  else
    resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
  if (!resp) {
    if (!r->persistent)
      free(body);
    return MHD_NO;
  }
  ok = (!type || MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                         type) == MHD_YES) &&
       MHD_add_response_header(
           resp, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, "*") == MHD_YES &&
       MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff") ==
           MHD_YES;
  for (size_t i = 0; ok && i < r->nheaders; i++)
    ok = MHD_add_response_header(resp, r->headers[i].name,
                                 r->headers[i].value) == MHD_YES;
  /* While stopping, finish this request and let the client go. */
  if (ok && atomic_load(&srv->stopping))
    ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close") ==
         MHD_YES;
  if (ok)
    ret = MHD_queue_response(rq->conn, status, resp);
  MHD_destroy_response(resp);
  if (ret == MHD_YES)
    rq->status = status;
  return ret;
}

/* -------------------------------------------------------------- daemon */

/* libmicrohttpd's own messages; FMT is its format. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void mhd_log(void *cls, const char *fmt, va_list ap) {
  struct server *srv = cls;
  char msg[512];

  if (srv->cfg.quiet)
    return;
  vsnprintf(msg, sizeof msg, fmt, ap);
  msg[strcspn(msg, "\n")] = '\0';
  fprintf(stderr, "tm-server: libmicrohttpd: %s\n", msg);
}

/* Resolves "HOST:PORT" ("[::1]:8080" for IPv6; an empty host listens on
 * every interface). */
static bool resolve(const char *listen, struct sockaddr_storage *ss) {
  struct addrinfo hints = {0}, *res = NULL;
  char host[256];
  const char *colon = strrchr(listen, ':'), *h = listen, *port;
  size_t hn;
  int rc;

  if (!colon || !colon[1])
    return false;
  port = colon + 1;
  hn = (size_t)(colon - listen);
  if (hn >= 2 && listen[0] == '[' && listen[hn - 1] == ']') {
    h++;
    hn -= 2;
  }
  if (hn >= sizeof host)
    return false;
  memcpy(host, h, hn);
  host[hn] = '\0';
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (hn == 0 ? AI_PASSIVE : 0);
  if ((rc = getaddrinfo(hn ? host : NULL, port, &hints, &res)) != 0) {
    fprintf(stderr, "tm-server: %s: %s\n", listen, gai_strerror(rc));
    return false;
  }
  memcpy(ss, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  return true;
}

bool server_start(struct server *srv) {
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                   MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
  const union MHD_DaemonInfo *info;
  struct sockaddr_storage ss = {0};
  char host[INET6_ADDRSTRLEN];
  const void *addr;
  json_t *oom;

  pthread_mutex_init(&srv->queue_lock, NULL);
  pthread_cond_init(&srv->queue_cond, NULL);
  pthread_mutex_init(&srv->pool_lock, NULL);
  pthread_cond_init(&srv->pool_cond, NULL);
  atomic_init(&srv->in_flight, 0);
  atomic_init(&srv->generation, 0);
  atomic_init(&srv->stopping, false);
  srv->started = (int64_t)time(NULL);

  if (!resolve(srv->cfg.listen, &ss)) {
    fprintf(stderr, "tm-server: cannot listen on \"%s\" (give HOST:PORT)\n",
            srv->cfg.listen);
    return false;
  }
  oom = json_pack("{s:{s:i, s:s, s:s}}", "error", "status", 500, "code",
                  "out_of_memory", "message", "out of memory");
  srv->oom_body = oom ? json_dumps(oom, JSON_COMPACT) : NULL;
  json_decref(oom);
  if (!srv->oom_body || !(srv->metrics = metrics_create())) {
    fprintf(stderr, "tm-server: out of memory\n");
    return false;
  }
  srv->oom_len = strlen(srv->oom_body);
  if (pool_open(srv) != TM_OK || !writer_start(srv))
    return false;

  if (ss.ss_family == AF_INET6)
    flags |= MHD_USE_IPv6;
  /* The logger goes first, so that it sees the other options' errors. */
  srv->daemon = MHD_start_daemon(
      flags, 0, NULL, NULL, on_access, srv, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
      srv, MHD_OPTION_SOCK_ADDR, &ss, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
      MHD_OPTION_THREAD_POOL_SIZE, srv->cfg.threads,
      MHD_OPTION_CONNECTION_TIMEOUT, srv->cfg.timeout,
      MHD_OPTION_CONNECTION_LIMIT, 1024u, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
      256u, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024,
      MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv, MHD_OPTION_NOTIFY_COMPLETED,
      on_completed, srv, MHD_OPTION_END);
  if (!srv->daemon) {
    fprintf(stderr, "tm-server: cannot listen on %s: %s\n", srv->cfg.listen,
            strerror(errno));
    return false;
  }
  info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
  addr = ss.ss_family == AF_INET6
             ? (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr
             : (const void *)&((struct sockaddr_in *)&ss)->sin_addr;
  if (!inet_ntop(ss.ss_family, addr, host, sizeof host))
    strcpy(host, "localhost");
  snprintf(srv->url, sizeof srv->url,
           ss.ss_family == AF_INET6 ? "http://[%s]:%u" : "http://%s:%u", host,
           info ? (unsigned)info->port : 0u);
  return true;
}

void server_stop(struct server *srv) {
  atomic_store(&srv->stopping, true);
  if (srv->daemon) {
    MHD_socket fd = MHD_quiesce_daemon(srv->daemon);
    struct timespec t0, tick = {0, 10 * 1000 * 1000};

    /* The socket stays open until the daemon stops, but shut down it
     * refuses connections at once rather than queueing them unserved. */
    if (fd != MHD_INVALID_SOCKET)
      shutdown(fd, SHUT_RDWR);
    /* No new connections; requests already in flight finish (their
     * replies carry Connection: close), for up to the idle timeout. */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (atomic_load(&srv->in_flight) > 0 &&
           elapsed(&t0) < (double)srv->cfg.timeout)
      nanosleep(&tick, NULL);
    /* Every queued write is run and its connection resumed: the daemon
     * cannot stop with a connection suspended. */
    writer_stop(srv);
    MHD_stop_daemon(srv->daemon);
    srv->daemon = NULL;
    if (fd != MHD_INVALID_SOCKET)
      close(fd);
  }
  writer_stop(srv);
  pool_close(srv);
  metrics_destroy(srv->metrics);
  srv->metrics = NULL;
  free(srv->oom_body);
  srv->oom_body = NULL;
  pthread_cond_destroy(&srv->pool_cond);
  pthread_mutex_destroy(&srv->pool_lock);
  pthread_cond_destroy(&srv->queue_cond);
  pthread_mutex_destroy(&srv->queue_lock);
}
