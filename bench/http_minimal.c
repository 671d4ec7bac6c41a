/*
 * http_minimal.c - the yardstick for tm-server's HTTP throughput: the
 * smallest libmicrohttpd server that answers every request with one fixed
 * JSON body, with tm-server's thread settings (internal thread pool over
 * epoll, the same connection options) and its keep-alive rule (the
 * response is queued on the second call of the access handler).
 *
 *   http_minimal [--listen HOST:PORT] [--threads N]
 *
 * Prints "listening on http://127.0.0.1:PORT" once ready; stops on SIGTERM
 * or SIGINT.  bench/bench_http.sh runs it beside tm-server.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char body[] = "{\"status\":\"ok\"}";

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn,
                              const char *url, const char *method,
                              const char *version, const char *upload_data,
                              size_t *upload_size, void **req_cls) {
  static int first_call_marker;
  struct MHD_Response *resp = cls;

  (void)url;
  (void)method;
  (void)version;
  (void)upload_data;
  if (*req_cls == NULL) {
    *req_cls = &first_call_marker;
    return MHD_YES;
  }
  *upload_size = 0;
  return MHD_queue_response(conn, MHD_HTTP_OK, resp);
}

int main(int argc, char **argv) {
  const char *listen = "127.0.0.1:0";
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  unsigned threads = ncpu > 0 ? (unsigned)ncpu : 2;
  struct sockaddr_in sa = {0};
  struct MHD_Response *resp;
  struct MHD_Daemon *d;
  const union MHD_DaemonInfo *info;
  const char *colon;
  sigset_t set;
  int sig;

  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--listen") == 0)
      listen = argv[i + 1];
    else if (strcmp(argv[i], "--threads") == 0)
      threads = (unsigned)atoi(argv[i + 1]);
  }
  if (!(colon = strrchr(listen, ':')) || threads == 0) {
    fprintf(stderr, "usage: http_minimal [--listen HOST:PORT] [--threads N]\n");
    return 2;
  }
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)atoi(colon + 1));
  {
    char host[64];
    size_t n = (size_t)(colon - listen);
    if (n >= sizeof host)
      return 2;
    memcpy(host, listen, n);
    host[n] = '\0';
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
      return 2;
  }

  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, NULL);

  resp = MHD_create_response_from_buffer(sizeof body - 1, (void *)body,
                                         MHD_RESPMEM_PERSISTENT);
  if (!resp ||
      MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                              "application/json; charset=utf-8") != MHD_YES)
    return 1;
  d = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC, 0, NULL,
      NULL, answer, resp, MHD_OPTION_SOCK_ADDR, &sa,
      MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_THREAD_POOL_SIZE,
      threads, MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_CONNECTION_LIMIT,
      1024u, MHD_OPTION_PER_IP_CONNECTION_LIMIT, 256u,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024, MHD_OPTION_END);
  if (!d) {
    fprintf(stderr, "http_minimal: cannot listen on %s\n", listen);
    return 1;
  }
  info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  printf("listening on http://%s:%u\n", inet_ntoa(sa.sin_addr),
         info ? (unsigned)info->port : 0u);
  fflush(stdout);
  sigwait(&set, &sig);
  MHD_stop_daemon(d);
  MHD_destroy_response(resp);
  return 0;
}
