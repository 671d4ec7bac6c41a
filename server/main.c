/*
 * main.c - `tm-server`: options, start, wait for SIGTERM or SIGINT, stop.
 * Everything else is the server's modules (server.h) and libtm.
 */
#include "server.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_DB "data/tm.sqlite"
#define DEFAULT_LISTEN "127.0.0.1:8080"

static void usage(FILE *f) {
  fprintf(f,
          "usage: tm-server [--db PATH] [--listen HOST:PORT] [--threads N]\n"
          "                 [--private] [--max-body BYTES] "
          "[--max-import BYTES]\n"
          "                 [--timeout SECONDS] [--quiet]\n"
          "       tm-server --openapi[=FILE]\n\n"
          "The REST server of the tm translation memory and glossary.\n\n"
          "  --db PATH          the database (default $TM_DB or %s);\n"
          "                     a missing one is created with the shipped\n"
          "                     glossaries\n"
          "  --listen HOST:PORT where to listen (default %s; port 0 takes\n"
          "                     any free port); prints \"listening on URL\"\n"
          "  --threads N        worker threads (default: the processors)\n"
          "  --private          reading needs a token too\n"
          "  --max-body BYTES   largest JSON or form body (default 1M)\n"
          "  --max-import BYTES largest imported file (default 64M)\n"
          "  --timeout SECONDS  idle connection timeout (default %d)\n"
          "  --quiet            no request log on stderr\n"
          "  --openapi[=FILE]   write the OpenAPI document and exit\n\n"
          "SIGTERM or SIGINT: stop accepting, finish the requests in flight,\n"
          "close the database, exit 0.\n",
          DEFAULT_DB, DEFAULT_LISTEN, SRV_TIMEOUT_DEFAULT);
}

/* BYTES with an optional K, M or G suffix (powers of 1024). */
static bool parse_size(const char *s, size_t *out) {
  unsigned long long v;
  char *end;

  errno = 0;
  v = strtoull(s, &end, 10);
  if (errno || end == s || s[0] == '-')
    return false;
  unsigned shift = *end == 'K' || *end == 'k'   ? 10
                   : *end == 'M' || *end == 'm' ? 20
                   : *end == 'G' || *end == 'g' ? 30
                                                : 0;
  if (shift) {
    /* Checked before the shift, which would wrap silently. */
    if (v > (SIZE_MAX / 2) >> shift)
      return false;
    v <<= shift;
    end++;
  }
  if (*end || v == 0 || v > SIZE_MAX / 2)
    return false;
  *out = (size_t)v;
  return true;
}

static bool parse_uint(const char *s, unsigned min, unsigned max,
                       unsigned *out) {
  unsigned long v;
  char *end;

  errno = 0;
  v = strtoul(s, &end, 10);
  if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
    return false;
  *out = (unsigned)v;
  return true;
}

static int bad_value(const char *name, const char *value) {
  fprintf(stderr, "tm-server: --%s: invalid value \"%s\"\n", name, value);
  return 2;
}

static int write_openapi(const char *path) {
  json_t *doc = openapi_document();
  FILE *f = path ? fopen(path, "w") : stdout;
  int rc = 0;

  if (!f) {
    fprintf(stderr, "tm-server: %s: %s\n", path, strerror(errno));
    json_decref(doc);
    return 1;
  }
  if (!doc || json_dumpf(doc, f, JSON_INDENT(2) | JSON_REAL_PRECISION(6)) ||
      fputc('\n', f) == EOF)
    rc = 1;
  if (f == stdout ? fflush(f) != 0 : fclose(f) != 0)
    rc = 1;
  if (rc)
    fprintf(stderr, "tm-server: cannot write the OpenAPI document\n");
  json_decref(doc);
  return rc;
}

/* Creates the database's folder when it is missing (data/ on first run). */
static void make_parent_dir(const char *path) {
  char *dir = strdup(path), *slash;

  if (dir && (slash = strrchr(dir, '/')) && slash != dir) {
    *slash = '\0';
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
      fprintf(stderr, "tm-server: cannot create %s: %s\n", dir,
              strerror(errno));
  }
  free(dir);
}

int main(int argc, char **argv) {
  static const struct option opts[] = {
      {"db", required_argument, 0, 'd'},
      {"listen", required_argument, 0, 'l'},
      {"threads", required_argument, 0, 't'},
      {"private", no_argument, 0, 'p'},
      {"max-body", required_argument, 0, 'b'},
      {"max-import", required_argument, 0, 'i'},
      {"timeout", required_argument, 0, 'T'},
      {"quiet", no_argument, 0, 'q'},
      {"openapi", optional_argument, 0, 'o'},
      {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  struct server srv = {0};
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  const char *env = getenv("TM_DB");
  sigset_t set;
  int ch, sig = 0;
  bool ok;

  srv.cfg.db_path = env && *env ? env : DEFAULT_DB;
  srv.cfg.listen = DEFAULT_LISTEN;
  srv.cfg.threads = ncpu > 0 && ncpu < 256 ? (unsigned)ncpu : 2;
  srv.cfg.timeout = SRV_TIMEOUT_DEFAULT;
  srv.cfg.max_body = SRV_MAX_BODY_DEFAULT;
  srv.cfg.max_import = SRV_MAX_IMPORT_DEFAULT;
  while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (ch) {
    case 'd':
      srv.cfg.db_path = optarg;
      break;
    case 'l':
      srv.cfg.listen = optarg;
      break;
    case 't':
      if (!parse_uint(optarg, 1, 256, &srv.cfg.threads))
        return bad_value("threads", optarg);
      break;
    case 'p':
      srv.cfg.private_reads = true;
      break;
    case 'b':
      if (!parse_size(optarg, &srv.cfg.max_body))
        return bad_value("max-body", optarg);
      break;
    case 'i':
      if (!parse_size(optarg, &srv.cfg.max_import))
        return bad_value("max-import", optarg);
      break;
    case 'T':
      if (!parse_uint(optarg, 1, 3600, &srv.cfg.timeout))
        return bad_value("timeout", optarg);
      break;
    case 'q':
      srv.cfg.quiet = true;
      break;
    case 'o':
      return write_openapi(optarg);
    case 'h':
      usage(stdout);
      return 0;
    default:
      usage(stderr);
      return 2;
    }
  }
  if (optind != argc) {
    fprintf(stderr, "tm-server: unexpected argument \"%s\"\n", argv[optind]);
    usage(stderr);
    return 2;
  }

  /* Signals are taken by sigwait here; every thread started after this
   * inherits the mask and never sees them. */
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);

  if (strcmp(srv.cfg.db_path, ":memory:") == 0) {
    fprintf(stderr, "tm-server: --db needs a file: each worker opens it\n");
    return 2;
  }
  make_parent_dir(srv.cfg.db_path);
  ok = server_start(&srv);
  if (ok) {
    printf("listening on %s\n", srv.url);
    fflush(stdout);
    while (sigwait(&set, &sig) != 0)
      ;
    if (!srv.cfg.quiet)
      fprintf(stderr, "tm-server: %s: stopping\n", strsignal(sig));
  }
  server_stop(&srv);
  return ok ? 0 : 1;
}
