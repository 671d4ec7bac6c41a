/*
 * main.c - `tm`, the command-line front end.  It parses arguments, calls
 * libtm and prints; every capability lives in the library.  Commands are a
 * table: name, handler, usage and help.
 */
#include "render.h"
#include "tm.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_DB "data/tm.sqlite"

typedef struct cli {
  const char *db_path;
  tm_db *db;
  int argc;
  char **argv;
} cli;

typedef int (*command_fn)(cli *c);

typedef struct command {
  const char *name;
  command_fn fn;
  const char *usage;
  const char *help;
} command;

enum {
  CMD_INIT,
  CMD_IMPORT,
  CMD_EXPORT,
  CMD_TOKEN,
  CMD_STATS,
  CMD_TOKENS,
  CMD_ANALYZE,
  CMD_MATCH,
  CMD_CONCORDANCE,
  CMD_TERMS,
  NCOMMANDS
};

static const command commands[NCOMMANDS];

static const char *progname = "tm";

static void die_usage(const command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

static void die_usage(const command *cmd, const char *fmt, ...) {
  va_list ap;

  fprintf(stderr, "%s %s: ", progname, cmd->name);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nusage: %s %s\n", progname, cmd->usage);
  exit(2);
}

/* Prints the library's error for S and returns the exit status 1. */
static int fail(cli *c, tm_status s) {
  fprintf(stderr, "%s: %s\n", progname,
          c->db && s != TM_NOMEM ? tm_db_errmsg(c->db) : tm_status_message(s));
  return 1;
}

/* Creates the folders of the database's path when they are missing (data/
 * on first run), as mkdir -p does. */
static void make_parent_dirs(const char *path) {
  char *dir = strdup(path);

  if (!dir)
    return;
  for (char *p = dir + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
      fprintf(stderr, "%s: cannot create %s: %s\n", progname, dir,
              strerror(errno));
      break;
    }
    *p = '/';
  }
  free(dir);
}

static int open_db(cli *c) {
  tm_status s;

  if (strcmp(c->db_path, ":memory:") != 0)
    make_parent_dirs(c->db_path);
  s = tm_db_open(c->db_path, 0, &c->db);
  if (s != TM_OK) {
    fprintf(stderr, "%s: %s\n", progname,
            c->db ? tm_db_errmsg(c->db) : tm_status_message(s));
    return 1;
  }
  return 0;
}

/* getopt_long over the command's arguments (argv[0] is the command). */
static int next_opt(cli *c, const char *shortopts,
                    const struct option *longopts) {
  return getopt_long(c->argc, c->argv, shortopts, longopts, NULL);
}

/* --memory NAME or --glossary NAME (CH is 'm' or 'g'), given once. */
static void set_collection(const command *cmd, int ch, tm_kind *kind,
                           const char **name) {
  if (*kind)
    die_usage(cmd, "give --memory or --glossary, once");
  *kind = ch == 'm' ? TM_MEMORY : TM_GLOSSARY;
  *name = optarg;
}

static bool parse_int(const char *s, long min, long max, long *out) {
  char *end;
  long v;

  errno = 0;
  v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < min || v > max)
    return false;
  *out = v;
  return true;
}

/* Splits "en,ko,uk" into a NULL-terminated array (free the array and
 * *buf). */
static const char **split_langs(const char *list, char **buf, size_t *n) {
  const char **v;
  size_t cap = 1;
  char *p, *save = NULL;

  *n = 0;
  if (!(*buf = strdup(list)))
    return NULL;
  for (p = *buf; *p; p++)
    if (*p == ',')
      cap++;
  if (!(v = calloc(cap + 1, sizeof *v)))
    return NULL;
  for (p = strtok_r(*buf, ",", &save); p; p = strtok_r(NULL, ",", &save))
    if (*p)
      v[(*n)++] = p;
  return v;
}

/* ------------------------------------------------------------ init */

static int cmd_init(cli *c) {
  static const struct option opts[] = {{0, 0, 0, 0}};

  if (next_opt(c, "", opts) != -1 || optind != c->argc)
    die_usage(&commands[CMD_INIT], "takes no arguments");
  if (open_db(c))
    return 1;
  printf("%s: schema version %d\n", c->db_path, tm_db_schema_version());
  return 0;
}

/* ---------------------------------------------------------- import */

typedef struct progress {
  time_t last;
  bool tty;
} progress;

static int show_progress(void *ctx, uint64_t done, uint64_t total,
                         uint64_t records) {
  progress *p = ctx;
  time_t now = time(NULL);

  if (!p->tty || (now == p->last && done < total))
    return 0;
  p->last = now;
  fprintf(stderr, "\r%3d%%  %llu records",
          total ? (int)(done * 100 / total) : 100, (unsigned long long)records);
  if (done >= total)
    fputc('\n', stderr);
  fflush(stderr);
  return 0;
}

static int cmd_import(cli *c) {
  static const struct option opts[] = {{"memory", required_argument, 0, 'm'},
                                       {"glossary", required_argument, 0, 'g'},
                                       {"format", required_argument, 0, 'f'},
                                       {"status", required_argument, 0, 's'},
                                       {0, 0, 0, 0}};
  const command *cmd = &commands[CMD_IMPORT];
  tm_import_opts o = {0};
  tm_import_result r;
  tm_actor who = {0, "cli"};
  progress p = {0, isatty(2) != 0};
  struct timespec t0, t1;
  tm_status s;
  int ch;

  o.who = &who;
  o.progress = show_progress;
  o.progress_ctx = &p;
  while ((ch = next_opt(c, "m:g:f:s:", opts)) != -1) {
    switch (ch) {
    case 'm':
    case 'g':
      set_collection(cmd, ch, &o.kind, &o.collection);
      break;
    case 'f':
      if (tm_format_parse(optarg, &o.format) != TM_OK ||
          o.format == TM_FORMAT_HTML)
        die_usage(cmd, "unknown format \"%s\" (tmx, tbx, tsv or csv)", optarg);
      break;
    case 's':
      if (tm_record_status_parse(optarg, &o.status) != TM_OK)
        die_usage(cmd, "unknown status \"%s\" (draft or approved)", optarg);
      break;
    default:
      die_usage(cmd, "unknown option");
    }
  }
  if (optind != c->argc - 1)
    die_usage(cmd, "give one FILE");
  if (open_db(c))
    return 1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  s = tm_import_file(c->db, c->argv[optind], &o, &r);
  if (s != TM_OK)
    return fail(c, s);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  printf("%s: %llu %s imported into %s \"%s\"", c->argv[optind],
         (unsigned long long)r.records,
         r.kind == TM_GLOSSARY ? "entries" : "units",
         r.kind == TM_GLOSSARY ? "glossary" : "memory",
         o.collection ? o.collection : "default");
  if (r.duplicates)
    printf(", %llu duplicates left out", (unsigned long long)r.duplicates);
  if (r.skipped)
    printf(", %llu untranslated left out", (unsigned long long)r.skipped);
  printf(" in %.2f s\n",
         (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
  return 0;
}

/* ---------------------------------------------------------- export */

static int write_file(void *ctx, const void *buf, size_t len) {
  return fwrite(buf, 1, len, ctx) == len ? 0 : -1;
}

static int cmd_export(cli *c) {
  static const struct option opts[] = {{"memory", required_argument, 0, 'm'},
                                       {"glossary", required_argument, 0, 'g'},
                                       {"format", required_argument, 0, 'f'},
                                       {"langs", required_argument, 0, 'l'},
                                       {"sort", required_argument, 0, 's'},
                                       {"domain", required_argument, 0, 'd'},
                                       {"approved", no_argument, 0, 'a'},
                                       {"output", required_argument, 0, 'o'},
                                       {0, 0, 0, 0}};
  const command *cmd = &commands[CMD_EXPORT];
  tm_export_opts o = {0};
  const char *out_path = NULL, **langs = NULL;
  char *langbuf = NULL;
  FILE *out = stdout;
  tm_status s;
  int ch, rc = 0;

  while ((ch = next_opt(c, "m:g:f:l:s:d:ao:", opts)) != -1) {
    switch (ch) {
    case 'm':
    case 'g':
      set_collection(cmd, ch, &o.kind, &o.collection);
      break;
    case 'f':
      if (tm_format_parse(optarg, &o.format) != TM_OK)
        die_usage(cmd, "unknown format \"%s\"", optarg);
      break;
    case 'l':
      free(langs);
      free(langbuf);
      if (!(langs = split_langs(optarg, &langbuf, &o.nlangs)))
        return fail(c, TM_NOMEM);
      o.langs = langs;
      break;
    case 's':
      o.sort_lang = optarg;
      break;
    case 'd':
      o.domain = optarg;
      break;
    case 'a':
      o.approved_only = 1;
      break;
    case 'o':
      out_path = optarg;
      break;
    default:
      die_usage(cmd, "unknown option");
    }
  }
  if (optind != c->argc)
    die_usage(cmd, "unexpected argument \"%s\"", c->argv[optind]);
  if (!o.kind)
    die_usage(cmd, "give --memory NAME or --glossary NAME");
  if (!o.format && out_path &&
      tm_format_from_path(out_path, &o.format) != TM_OK)
    die_usage(cmd, "give --format");
  if (!o.format)
    die_usage(cmd, "give --format");
  if (open_db(c))
    goto out;
  if (out_path && !(out = fopen(out_path, "w"))) {
    fprintf(stderr, "%s: %s: %s\n", progname, out_path, strerror(errno));
    rc = 1;
    goto out;
  }
  s = tm_export(c->db, &o, write_file, out);
  if (s != TM_OK)
    rc = fail(c, s);
  if (fflush(out) != 0 || (out != stdout && fclose(out) != 0)) {
    fprintf(stderr, "%s: %s: %s\n", progname, out_path ? out_path : "stdout",
            strerror(errno));
    rc = 1;
  }
  if (rc && out_path)
    unlink(out_path);
out:
  free(langs);
  free(langbuf);
  return rc;
}

/* ----------------------------------------------------------- token */

static int cmd_token(cli *c) {
  const command *cmd = &commands[CMD_TOKEN];
  const char *sub;
  tm_status s;

  if (c->argc < 2)
    die_usage(cmd, "give create, list or revoke");
  sub = c->argv[1];
  c->argc--;
  c->argv++;
  if (strcmp(sub, "create") == 0) {
    static const struct option opts[] = {{"role", required_argument, 0, 'r'},
                                         {"label", required_argument, 0, 'l'},
                                         {0, 0, 0, 0}};
    tm_role role = TM_ROLE_NONE;
    const char *label = NULL;
    char *secret;
    int64_t id;
    int ch;

    while ((ch = next_opt(c, "r:l:", opts)) != -1) {
      if (ch == 'r' && tm_role_parse(optarg, &role) == TM_OK)
        continue;
      if (ch == 'l') {
        label = optarg;
        continue;
      }
      die_usage(cmd, ch == 'r' ? "unknown role \"%s\"" : "unknown option",
                optarg);
    }
    if (role == TM_ROLE_NONE)
      die_usage(cmd, "give --role contributor, reviewer or admin");
    if (optind != c->argc)
      die_usage(cmd, "unexpected argument \"%s\"", c->argv[optind]);
    if (open_db(c))
      return 1;
    if ((s = tm_token_create(c->db, role, label, &id, &secret)) != TM_OK)
      return fail(c, s);
    printf("%s\n", secret);
    tm_free(secret);
    return 0;
  }
  if (strcmp(sub, "list") == 0) {
    tm_token_info *t;
    size_t n;

    if (c->argc != 1)
      die_usage(cmd, "list takes no arguments");
    if (open_db(c))
      return 1;
    if ((s = tm_token_list(c->db, &t, &n)) != TM_OK)
      return fail(c, s);
    printf("%-6s %-12s %-20s %-20s %s\n", "ID", "ROLE", "CREATED", "REVOKED",
           "LABEL");
    for (size_t i = 0; i < n; i++) {
      char created[21], revoked[21] = "-";
      tm_time_format(t[i].created, created);
      if (t[i].revoked)
        tm_time_format(t[i].revoked, revoked);
      printf("%-6lld %-12s %-20s %-20s %s\n", (long long)t[i].id,
             tm_role_name(t[i].role), created, revoked,
             t[i].label ? t[i].label : "");
    }
    tm_token_list_free(t, n);
    return 0;
  }
  if (strcmp(sub, "revoke") == 0) {
    long id;

    if (c->argc != 2 || !parse_int(c->argv[1], 1, LONG_MAX, &id))
      die_usage(cmd, "revoke takes a token ID");
    if (open_db(c))
      return 1;
    if ((s = tm_token_revoke(c->db, id)) != TM_OK)
      return fail(c, s);
    printf("token %ld revoked\n", id);
    return 0;
  }
  die_usage(cmd, "unknown subcommand \"%s\"", sub);
  return 2;
}

/* ----------------------------------------------------------- stats */

static void print_collections(const char *title, const tm_collection *v,
                              size_t n, const char *what) {
  printf("%s:\n", title);
  for (size_t i = 0; i < n; i++) {
    printf("  %-24s %8lld %s", v[i].name, (long long)v[i].records, what);
    for (size_t k = 0; k < v[i].nlangs; k++)
      printf("%s%s %lld", k ? ", " : "  (", v[i].langs[k].lang,
             (long long)v[i].langs[k].count);
    printf("%s\n", v[i].nlangs ? ")" : "");
  }
}

static int cmd_stats(cli *c) {
  static const struct option opts[] = {{"json", no_argument, 0, 'j'},
                                       {0, 0, 0, 0}};
  tm_collection *mem, *glo;
  size_t nmem, nglo;
  bool as_json = false;
  tm_status s;
  int ch;

  while ((ch = next_opt(c, "j", opts)) != -1) {
    if (ch != 'j')
      die_usage(&commands[CMD_STATS], "unknown option");
    as_json = true;
  }
  if (optind != c->argc)
    die_usage(&commands[CMD_STATS], "unexpected argument \"%s\"",
              c->argv[optind]);
  if (open_db(c))
    return 1;
  if ((s = tm_stats(c->db, &mem, &nmem, &glo, &nglo)) != TM_OK)
    return fail(c, s);
  if (as_json) {
    json_t *j = json_pack("{s:o, s:o}", "memories",
                          json_collections(mem, nmem, TM_MEMORY), "glossaries",
                          json_collections(glo, nglo, TM_GLOSSARY));
    char *text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
    if (!text) {
      json_decref(j);
      tm_collection_list_free(mem, nmem);
      tm_collection_list_free(glo, nglo);
      return fail(c, TM_NOMEM);
    }
    printf("%s\n", text);
    free(text);
    json_decref(j);
  } else {
    print_collections("memories", mem, nmem, "units");
    print_collections("glossaries", glo, nglo, "entries");
  }
  tm_collection_list_free(mem, nmem);
  tm_collection_list_free(glo, nglo);
  return 0;
}

/* ---------------------------------------------------------- tokens */

static int cmd_tokens(cli *c) {
  static const struct option opts[] = {{"lang", required_argument, 0, 'l'},
                                       {0, 0, 0, 0}};
  const command *cmd = &commands[CMD_TOKENS];
  const char *lang = NULL, *text;
  char *nfc = NULL, *fold = NULL, *ini = NULL, *tr = NULL;
  tm_span *words = NULL;
  size_t nwords = 0, bad = 0;
  tm_text *t;
  tm_status s;
  int ch, rc = 0;

  while ((ch = next_opt(c, "l:", opts)) != -1) {
    if (ch != 'l')
      die_usage(cmd, "unknown option");
    lang = optarg;
  }
  if (optind != c->argc - 1)
    die_usage(cmd, "give one TEXT");
  text = c->argv[optind];
  if ((s = tm_text_open(&t)) != TM_OK)
    return fail(c, s);
  s = tm_text_nfc(t, text, strlen(text), &nfc, &bad);
  if (s == TM_UTF8) {
    fprintf(stderr, "%s: invalid UTF-8 at byte %zu\n", progname, bad);
    rc = 1;
    goto out;
  }
  if (s != TM_OK ||
      (s = tm_text_fold(t, lang, nfc, strlen(nfc), &fold)) != TM_OK ||
      (s = tm_text_words(t, lang, nfc, strlen(nfc), &words, &nwords)) !=
          TM_OK ||
      (s = tm_text_initials(t, nfc, strlen(nfc), &ini)) != TM_OK ||
      (s = tm_text_translit(t, lang, nfc, strlen(nfc), &tr)) != TM_OK) {
    rc = fail(c, s);
    goto out;
  }
  printf("nfc       %s\nfolded    %s\ninitials  %s\nlatin     %s\nwords    ",
         nfc, fold, ini, tr);
  for (size_t i = 0; i < nwords; i++) {
    /* Spans count code points; walk the UTF-8 to print each word. */
    const char *p = nfc;
    uint32_t cp = 0;
    while (*p && cp < words[i].start)
      if (((unsigned char)*++p & 0xC0) != 0x80)
        cp++;
    const char *q = p;
    while (*q && cp < words[i].end)
      if (((unsigned char)*++q & 0xC0) != 0x80)
        cp++;
    printf(" [%.*s]", (int)(q - p), p);
  }
  printf("\n");
out:
  tm_free(nfc);
  tm_free(fold);
  tm_free(ini);
  tm_free(tr);
  tm_free(words);
  tm_text_close(t);
  return rc;
}

/* --------------------------------------------------------- analyze */

/* Reads PATH ("-": standard input) whole, but never more than LIMIT + 1
 * bytes: the library refuses what is beyond its limit. */
static char *read_input(const char *path, size_t limit, size_t *len) {
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  size_t cap = 65536, n = 0;
  char *buf;

  if (!f)
    return NULL;
  if (!(buf = malloc(cap))) {
    if (f != stdin)
      fclose(f);
    errno = ENOMEM;
    return NULL;
  }
  for (;;) {
    size_t got;
    if (n == cap) {
      char *nb;
      if (cap > limit || !(nb = realloc(buf, cap * 2)))
        break;
      buf = nb;
      cap *= 2;
    }
    got =
        fread(buf + n, 1, cap - n > limit + 1 - n ? limit + 1 - n : cap - n, f);
    n += got;
    if (got == 0 || n > limit)
      break;
  }
  if (ferror(f)) {
    int e = errno;
    free(buf);
    if (f != stdin)
      fclose(f);
    errno = e;
    return NULL;
  }
  if (f != stdin)
    fclose(f);
  *len = n;
  return buf;
}

static int cmd_analyze(cli *c) {
  static const struct option opts[] = {
      {"lang", required_argument, 0, 'l'},
      {"to", required_argument, 0, 't'},
      {"format", required_argument, 0, 'f'},
      {"input-format", required_argument, 0, 'i'},
      {"min", required_argument, 0, 'n'},
      {"glossary", required_argument, 0, 'g'},
      {"memory", required_argument, 0, 'm'},
      {"sort", required_argument, 0, 's'},
      {"title", required_argument, 0, 'T'},
      {"no-memories", no_argument, 0, 'N'},
      {"output", required_argument, 0, 'o'},
      {0, 0, 0, 0}};
  const command *cmd = &commands[CMD_ANALYZE];
  tm_analyze_opts o = {0};
  tm_prep_opts po = {0};
  const char *out_path = NULL, *path, **to = NULL, *format = "json";
  char *tobuf = NULL, *text = NULL, *title = NULL;
  bool have_format = false, no_memories = false;
  tm_index *idx = NULL;
  tm_analysis *a = NULL;
  FILE *out = stdout;
  size_t len = 0;
  long min;
  tm_status s;
  int ch, rc = 0;

  while ((ch = next_opt(c, "l:t:f:i:n:g:m:s:T:No:", opts)) != -1) {
    switch (ch) {
    case 'l':
      o.lang = optarg;
      break;
    case 't':
      free(to);
      free(tobuf);
      if (!(to = split_langs(optarg, &tobuf, &o.nto)))
        return fail(c, TM_NOMEM);
      o.to = to;
      break;
    case 'f':
      if (strcmp(optarg, "json") != 0 && strcmp(optarg, "html") != 0 &&
          strcmp(optarg, "tsv") != 0)
        die_usage(cmd, "unknown format \"%s\" (json, html or tsv)", optarg);
      format = optarg;
      break;
    case 'i':
      if (tm_input_format_parse(optarg, &o.format) != TM_OK)
        die_usage(cmd, "unknown input format \"%s\" (txt, md or html)", optarg);
      have_format = true;
      break;
    case 'n':
      if (!parse_int(optarg, 0, 100, &min))
        die_usage(cmd, "--min takes a score from 0 to 100");
      o.min = (int)min;
      break;
    case 'g':
      o.glossary = optarg;
      break;
    case 'm':
      o.memory = optarg;
      break;
    case 's':
      po.sort_lang = optarg;
      break;
    case 'T':
      po.title = optarg;
      break;
    case 'N':
      no_memories = true;
      break;
    case 'o':
      out_path = optarg;
      break;
    default:
      die_usage(cmd, "unknown option");
    }
  }
  if (optind != c->argc - 1)
    die_usage(cmd, "give one FILE");
  if (!o.lang)
    die_usage(cmd, "give --lang LANG, the document's language");
  path = c->argv[optind];
  if (!have_format && strcmp(path, "-") != 0 &&
      tm_input_format_from_path(path, &o.format) != TM_OK)
    die_usage(cmd,
              "cannot tell the input format of \"%s\": give "
              "--input-format txt, md or html",
              path);
  if (!(text = read_input(path, TM_ANALYZE_MAX_BYTES, &len))) {
    fprintf(stderr, "%s: %s: %s\n", progname, path, strerror(errno));
    rc = 1;
    goto done;
  }
  if (open_db(c)) {
    rc = 1;
    goto done;
  }
  if (!no_memories && (s = tm_index_open(c->db, &idx)) != TM_OK) {
    rc = fail(c, s);
    goto done;
  }
  if ((s = tm_analyze(idx, c->db, text, len, &o, &a)) != TM_OK) {
    rc = fail(c, s);
    goto done;
  }
  if (out_path && !(out = fopen(out_path, "w"))) {
    fprintf(stderr, "%s: %s: %s\n", progname, out_path, strerror(errno));
    rc = 1;
    goto done;
  }
  if (strcmp(format, "json") == 0) {
    /* The terms in the document's language and the targets, as the API
     * gives them; every language when no target was asked for. */
    const char **keep = calloc(a->nto + 1, sizeof *keep);
    json_t *j = NULL;
    if (keep) {
      keep[0] = a->lang;
      for (size_t i = 0; i < a->nto; i++)
        keep[i + 1] = a->to[i];
      j = json_analysis(a, &(render_langs){keep, a->nto ? a->nto + 1 : 0});
      free(keep);
    }
    if (!j ||
        json_dumpf(j, out, JSON_INDENT(2) | JSON_REAL_PRECISION(4)) != 0 ||
        fputc('\n', out) == EOF)
      rc = fail(c, TM_NOMEM);
    json_decref(j);
  } else {
    if (!po.title) {
      const char *base = strrchr(path, '/');
      po.title = title = strdup(base ? base + 1 : path);
    }
    po.format = strcmp(format, "html") == 0 ? TM_FORMAT_HTML : TM_FORMAT_TSV;
    if ((s = tm_analysis_export(c->db, a, &po, write_file, out)) != TM_OK)
      rc = fail(c, s);
  }
  if (fflush(out) != 0 || (out != stdout && fclose(out) != 0)) {
    fprintf(stderr, "%s: %s: %s\n", progname, out_path ? out_path : "stdout",
            strerror(errno));
    rc = 1;
  }
  if (rc && out_path)
    unlink(out_path);
done:
  tm_analysis_free(a);
  tm_index_close(idx);
  free(text);
  free(title);
  free(to);
  free(tobuf);
  return rc;
}

/* Prints J (stolen) as indented JSON; 1 when it could not be made. */
static int print_json(cli *c, json_t *j) {
  char *text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;

  json_decref(j);
  if (!text)
    return fail(c, TM_NOMEM);
  printf("%s\n", text);
  free(text);
  return 0;
}

/* ----------------------------------------------- match, concordance */

/* Prints TEXT with the spans of DIFFS (in code points, by SIDE) between
 * [ and ], as a terminal can show them. */
static void print_marked(const char *text, const tm_diff *diffs, size_t n,
                         bool source_side) {
  uint32_t cp = 0;

  for (const char *p = text; *p; cp++) {
    const char *q = p + 1;
    while (((unsigned char)*q & 0xC0) == 0x80)
      q++;
    for (size_t i = 0; i < n; i++) {
      tm_span sp = source_side ? diffs[i].source : diffs[i].query;
      if (sp.start != UINT32_MAX && sp.start == cp && sp.end > sp.start)
        putchar('[');
    }
    fwrite(p, 1, (size_t)(q - p), stdout);
    for (size_t i = 0; i < n; i++) {
      tm_span sp = source_side ? diffs[i].source : diffs[i].query;
      if (sp.start != UINT32_MAX && sp.end == cp + 1 && sp.end > sp.start)
        putchar(']');
    }
    p = q;
  }
}

/* match and concordance share their options and their output. */
static int search_units(cli *c, const command *cmd, bool concordance) {
  static const struct option opts[] = {{"from", required_argument, 0, 'f'},
                                       {"lang", required_argument, 0, 'f'},
                                       {"to", required_argument, 0, 't'},
                                       {"memory", required_argument, 0, 'm'},
                                       {"min", required_argument, 0, 'n'},
                                       {"limit", required_argument, 0, 'l'},
                                       {"approved", no_argument, 0, 'a'},
                                       {"json", no_argument, 0, 'j'},
                                       {0, 0, 0, 0}};
  tm_match_opts o = {0};
  bool as_json = false;
  const char **to = NULL;
  char *tobuf = NULL;
  tm_index *idx = NULL;
  tm_match *m = NULL;
  size_t n = 0;
  long v;
  tm_status s;
  int ch, rc = 0;

  o.min = 70;
  o.limit = concordance ? 20 : 5;
  while ((ch = next_opt(c, "f:t:m:n:l:aj", opts)) != -1) {
    switch (ch) {
    case 'f':
      o.from = optarg;
      break;
    case 't':
      free(to);
      free(tobuf);
      if (!(to = split_langs(optarg, &tobuf, &o.nto)))
        return fail(c, TM_NOMEM);
      o.to = to;
      break;
    case 'm':
      o.memory = optarg;
      break;
    case 'n':
      if (!parse_int(optarg, 0, 100, &v))
        die_usage(cmd, "--min takes a score from 0 to 100");
      o.min = (int)v;
      break;
    case 'l':
      if (!parse_int(optarg, 1, 1000, &v))
        die_usage(cmd, "--limit takes a number from 1 to 1000");
      o.limit = (size_t)v;
      break;
    case 'a':
      o.approved_only = 1;
      break;
    case 'j':
      as_json = true;
      break;
    default:
      die_usage(cmd, "unknown option");
    }
  }
  if (optind != c->argc - 1)
    die_usage(cmd, "give one TEXT");
  if (!o.from)
    die_usage(cmd, concordance ? "give --lang" : "give --from");
  if (open_db(c))
    goto out;
  /* The index is built from the database: a second or two for a memory
   * of 200,000 units, which a server pays once at start. */
  if ((s = tm_index_open(c->db, &idx)) != TM_OK) {
    rc = fail(c, s);
    goto out;
  }
  s = concordance ? tm_concordance_find(idx, c->db, c->argv[optind], &o, &m, &n)
                  : tm_match_find(idx, c->db, c->argv[optind], &o, &m, &n);
  if (s != TM_OK) {
    rc = fail(c, s);
    goto out;
  }
  if (as_json) {
    /* As GET /api/v1/tm/match and /api/v1/tm/concordance answer. */
    json_t *list = json_array();
    for (size_t i = 0; list && i < n; i++)
      if (json_array_append_new(list, concordance ? json_concordance(&m[i])
                                                  : json_match(&m[i])) != 0) {
        json_decref(list);
        list = NULL;
      }
    rc = print_json(c, json_pack("{s:s, s:s, s:o}", "query", c->argv[optind],
                                 concordance ? "lang" : "from", o.from,
                                 "matches", list));
    goto out;
  }
  if (n == 0)
    printf("no %s\n", concordance ? "unit contains it" : "match");
  for (size_t i = 0; i < n; i++) {
    if (!concordance)
      printf("%3d%%  ", m[i].score);
    printf("#%lld %s (%s, %s)\n  %s: ", (long long)m[i].unit, m[i].memory,
           tm_record_status_name(m[i].status),
           m[i].origin ? m[i].origin : "no origin", m[i].source_lang);
    print_marked(m[i].source, m[i].diffs, m[i].ndiffs, true);
    putchar('\n');
    for (size_t k = 0; k < m[i].ntargets; k++)
      printf("  %s: %s\n", m[i].targets[k].lang, m[i].targets[k].text);
  }
out:
  tm_match_free(m, n);
  tm_index_close(idx);
  free(to);
  free(tobuf);
  return rc;
}

static int cmd_match(cli *c) {
  return search_units(c, &commands[CMD_MATCH], false);
}

static int cmd_concordance(cli *c) {
  return search_units(c, &commands[CMD_CONCORDANCE], true);
}

/* ----------------------------------------------------------- terms */

static int cmd_terms(cli *c) {
  static const struct option opts[] = {{"lang", required_argument, 0, 'l'},
                                       {"glossary", required_argument, 0, 'g'},
                                       {"limit", required_argument, 0, 'n'},
                                       {"approved", no_argument, 0, 'a'},
                                       {"json", no_argument, 0, 'j'},
                                       {0, 0, 0, 0}};
  const command *cmd = &commands[CMD_TERMS];
  tm_terms_opts o = {0};
  bool as_json = false;
  tm_index *idx = NULL;
  tm_term_hit *h = NULL;
  size_t n = 0;
  long v;
  tm_status s;
  int ch, rc = 0;

  o.limit = 10;
  while ((ch = next_opt(c, "l:g:n:aj", opts)) != -1) {
    switch (ch) {
    case 'l':
      o.lang = optarg;
      break;
    case 'g':
      o.glossary = optarg;
      break;
    case 'n':
      if (!parse_int(optarg, 1, 1000, &v))
        die_usage(cmd, "--limit takes a number from 1 to 1000");
      o.limit = (size_t)v;
      break;
    case 'a':
      o.approved_only = 1;
      break;
    case 'j':
      as_json = true;
      break;
    default:
      die_usage(cmd, "unknown option");
    }
  }
  if (optind != c->argc - 1)
    die_usage(cmd, "give one QUERY");
  if (open_db(c))
    return 1;
  if ((s = tm_index_open(c->db, &idx)) != TM_OK ||
      (s = tm_terms_find(idx, c->db, c->argv[optind], &o, &h, &n)) != TM_OK) {
    rc = fail(c, s);
    goto out;
  }
  if (as_json) {
    /* As GET /api/v1/terms answers. */
    json_t *list = json_array();
    for (size_t i = 0; list && i < n; i++)
      if (json_array_append_new(list, json_term_hit(&h[i], NULL)) != 0) {
        json_decref(list);
        list = NULL;
      }
    rc = print_json(
        c, json_pack("{s:s, s:o}", "query", c->argv[optind], "results", list));
    goto out;
  }
  if (n == 0)
    printf("no term found\n");
  for (size_t i = 0; i < n; i++) {
    const tm_entry *e = h[i].entry;
    printf("%3d  %-15s %s: %s   (entry %lld, %s, %s)\n", h[i].score,
           tm_how_name(h[i].how), h[i].lang, h[i].term, (long long)e->id,
           e->glossary, tm_record_status_name(e->status));
    for (size_t k = 0; k < e->nterms; k++) {
      const tm_term *t = &e->terms[k];
      printf("       %-3s %s%s%s%s\n",
             k && !strcmp(t->lang, e->terms[k - 1].lang) ? "" : t->lang,
             t->text, t->type != TM_TERM_FULL ? " (" : "",
             t->type != TM_TERM_FULL ? tm_term_type_name(t->type) : "",
             t->type != TM_TERM_FULL ? ")" : "");
    }
  }
out:
  tm_terms_free(h, n);
  tm_index_close(idx);
  return rc;
}

/* ------------------------------------------------------------ main */

static const command commands[NCOMMANDS] = {
    {"init", cmd_init, "init",
     "Create the database (schema, shipped glossaries, the default memory "
     "and glossary) if it is missing, or bring its schema up to date."},
    {"import", cmd_import,
     "import FILE [--memory NAME | --glossary NAME] "
     "[--format tmx|tbx|tsv|csv] [--status draft|approved]",
     "Import a file in one transaction: all of it or, on an error, nothing.\n"
     "The format comes from the extension unless --format says; the\n"
     "collection defaults to \"default\" and is created when missing."},
    {"export", cmd_export,
     "export (--memory NAME | --glossary NAME) "
     "--format tmx|tbx|tbx-martif|tsv|csv|html [--langs en,ko,uk] "
     "[--sort LANG] [--domain DOMAIN] [--approved] [-o FILE]",
     "Write a memory or a glossary to FILE (default: standard output)."},
    {"token", cmd_token,
     "token create --role contributor|reviewer|admin [--label TEXT] | "
     "token list | token revoke ID",
     "Manage API tokens.  `create` prints the token once; only its hash is "
     "kept."},
    {"stats", cmd_stats, "stats [--json]",
     "Count the units and entries of every memory and glossary, by "
     "language."},
    {"tokens", cmd_tokens, "tokens TEXT [--lang LANG]",
     "Show how the text pipeline sees TEXT: NFC, folded form, words,\n"
     "Korean initial consonants and the Latin key."},
    {"analyze", cmd_analyze,
     "analyze FILE --lang LANG [--to LANG[,LANG]] [--format json|html|tsv] "
     "[--min N] [--input-format txt|md|html] [--glossary NAME] "
     "[--memory NAME] [--sort LANG] [--title TEXT] [--no-memories] [-o FILE]",
     "Prepare a document (.txt, .md or .html; FILE - reads standard input):\n"
     "the glossary terms it uses, each sentence's best memory match, and\n"
     "candidate new terms, as JSON (POST /api/v1/analyze's answer) or as a\n"
     "prep sheet: a printable HTML page, or a glossary TSV to complete and\n"
     "import.  --no-memories skips the memories (and building their index)."},
    {"match", cmd_match,
     "match TEXT --from LANG [--to LANG[,LANG]] [--memory NAME] [--min N] "
     "[--limit N] [--approved] [--json]",
     "Fuzzy matches for a segment from the memories, best first, with the\n"
     "parts that differ from TEXT in [brackets] (docs/matching.md)."},
    {"concordance", cmd_concordance,
     "concordance TEXT --lang LANG [--to LANG[,LANG]] [--memory NAME] "
     "[--limit N] [--json]",
     "Units whose text in LANG contains the words (or, for Korean and\n"
     "other scripts without spaces, the characters) of TEXT."},
    {"terms", cmd_terms,
     "terms QUERY [--lang LANG|any] [--glossary NAME] [--limit N] "
     "[--approved] [--json]",
     "Search every term of every glossary the way the booth does: exact,\n"
     "prefix, Korean initials, inflected forms, Latin letters, typos."},
};

static void usage(FILE *f) {
  fprintf(f,
          "usage: %s [--db PATH] COMMAND [ARGS]\n\n"
          "A translation memory and glossary for English, Korean, Ukrainian "
          "and more.\n\n"
          "Commands:\n",
          progname);
  for (size_t i = 0; i < NCOMMANDS; i++)
    fprintf(f, "  %s\n", commands[i].usage);
  fprintf(f,
          "\nThe database is %s unless --db PATH or TM_DB says "
          "otherwise.\n`%s COMMAND --help` describes a command.\n",
          DEFAULT_DB, progname);
}

int main(int argc, char **argv) {
  cli c = {0};
  const command *cmd = NULL;
  char **args;
  int nargs = 0, rc;

  c.db_path =
      getenv("TM_DB") && *getenv("TM_DB") ? getenv("TM_DB") : DEFAULT_DB;
  /* --db PATH is accepted anywhere on the line; everything else goes to
   * the command. */
  if (!(args = calloc((size_t)argc + 1, sizeof *args)))
    return 1;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--db") == 0) {
      if (i + 1 >= argc) {
        fprintf(stderr, "%s: --db needs a PATH\n", progname);
        free(args);
        return 2;
      }
      c.db_path = argv[++i];
    } else if (strncmp(argv[i], "--db=", 5) == 0) {
      c.db_path = argv[i] + 5;
    } else {
      args[nargs++] = argv[i];
    }
  }
  if (nargs == 0 || strcmp(args[0], "--help") == 0 ||
      strcmp(args[0], "-h") == 0 || strcmp(args[0], "help") == 0) {
    usage(nargs ? stdout : stderr);
    free(args);
    return nargs ? 0 : 2;
  }
  for (size_t i = 0; i < NCOMMANDS; i++)
    if (strcmp(commands[i].name, args[0]) == 0)
      cmd = &commands[i];
  if (!cmd) {
    fprintf(stderr, "%s: unknown command \"%s\"\n", progname, args[0]);
    usage(stderr);
    free(args);
    return 2;
  }
  for (int i = 1; i < nargs; i++)
    if (strcmp(args[i], "--help") == 0 || strcmp(args[i], "-h") == 0) {
      printf("usage: %s [--db PATH] %s\n\n%s\n", progname, cmd->usage,
             cmd->help);
      free(args);
      return 0;
    }
  c.argc = nargs;
  c.argv = args;
  optind = 1;
  opterr = 0;
  rc = cmd->fn(&c);
  tm_db_close(c.db);
  free(args);
  return rc;
}
