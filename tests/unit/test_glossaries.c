/*
 * test_glossaries.c - validates every record of the glossaries we ship
 * (every .tsv file of glossaries/, described in glossaries/README.md): the
 * three languages present, NFC text without stray whitespace, a known domain, a
 * known status, sources named for approved entries, unique ids, and term
 * annotations that the importer understands.  Then loads each file the way
 * a new database does and checks that every record arrived.
 */
#include "check.h"
#include "tm_internal.h"

#include <dirent.h>

static const char *gloss_dir(void) {
  const char *d = getenv("TM_GLOSSARY_DIR");
  return d && *d ? d : "glossaries";
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *s;
  long n;

  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  s = malloc((size_t)n + 1);
  if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
    free(s);
    s = NULL;
  }
  fclose(f);
  if (s) {
    s[n] = '\0';
    *len = (size_t)n;
  }
  return s;
}

/* Splits S at SEP in place; returns the number of fields. */
static size_t split(char *s, char sep, char **out, size_t max) {
  size_t n = 0;
  out[n++] = s;
  for (char *p = s; *p && n < max; p++)
    if (*p == sep) {
      *p = '\0';
      out[n++] = p + 1;
    }
  return n;
}

static int fail_at(const char *file, int line, const char *what,
                   const char *cell) {
  fprintf(stderr, "# %s:%d: %s: \"%s\"\n", file, line, what,
          cell ? cell : "(null)");
  check_failed++;
  return 1;
}

static char **domains;
static char *domains_text;
static size_t ndomains;

static void load_domains(void) {
  char path[1024];
  size_t len;
  char *text, *line[256];

  snprintf(path, sizeof path, "%s/domains.txt", gloss_dir());
  domains_text = text = slurp(path, &len);
  CHECK(text != NULL);
  if (!text)
    return;
  ndomains = split(text, '\n', line, 256);
  domains = calloc(ndomains, sizeof *domains);
  for (size_t i = 0; i < ndomains; i++)
    domains[i] = line[i];
}

static bool known_domain(const char *d) {
  for (size_t i = 0; i < ndomains; i++)
    if (*domains[i] && strcmp(domains[i], d) == 0)
      return true;
  return false;
}

/* Checks one cell; returns the number of problems. */
static int check_cell(tm_text *t, const char *file, int line, const char *c) {
  size_t n = strlen(c), bad;
  char *nfc = NULL;
  int errors = 0;

  if (tm_text_nfc(t, c, n, &nfc, &bad) != TM_OK)
    return fail_at(file, line, "invalid UTF-8", c);
  if (strcmp(nfc, c) != 0)
    errors += fail_at(file, line, "not NFC", c);
  tm_free(nfc);
  if (n && (c[0] == ' ' || c[n - 1] == ' '))
    errors += fail_at(file, line, "leading or trailing space", c);
  if (strstr(c, "  ") || strchr(c, '\r') || strchr(c, '\\'))
    errors += fail_at(file, line, "double space, CR or backslash", c);
  if (strstr(c, "\xC2\xA0"))
    errors += fail_at(file, line, "no-break space", c);
  return errors;
}

static void validate(const char *file, size_t *records) {
  size_t len, nrows, ncols;
  char *text = slurp(file, &len), **rows, *head[32];
  int col_id = -1, col_domain = -1, col_status = -1, col_source = -1,
      col_lang[3] = {-1, -1, -1};
  static const char *const langs[3] = {"en", "ko", "uk"};
  tm_text *t;

  CHECK(text != NULL);
  if (!text)
    return;
  CHECK(len > 0 && text[len - 1] == '\n');
  rows = calloc(len + 2, sizeof *rows);
  nrows = split(text, '\n', rows, len + 2);
  if (nrows && !*rows[nrows - 1])
    nrows--;
  ncols = split(rows[0], '\t', head, 32);
  for (size_t i = 0; i < ncols; i++) {
    if (strcmp(head[i], "id") == 0)
      col_id = (int)i;
    if (strcmp(head[i], "domain") == 0)
      col_domain = (int)i;
    if (strcmp(head[i], "status") == 0)
      col_status = (int)i;
    if (strcmp(head[i], "source") == 0)
      col_source = (int)i;
    for (int k = 0; k < 3; k++)
      if (strcmp(head[i], langs[k]) == 0)
        col_lang[k] = (int)i;
  }
  CHECK(col_id >= 0 && col_domain >= 0 && col_status >= 0 && col_source >= 0 &&
        col_lang[0] >= 0 && col_lang[1] >= 0 && col_lang[2] >= 0);
  if (col_id < 0 || col_domain < 0 || col_status < 0 || col_source < 0 ||
      col_lang[0] < 0 || col_lang[1] < 0 || col_lang[2] < 0)
    return;
  CHECK_INT(tm_text_open(&t), TM_OK);
  char **ids = calloc(nrows, sizeof *ids);
  for (size_t r = 1; r < nrows; r++) {
    char *cell[32];
    int line = (int)r + 1;
    size_t nc = split(rows[r], '\t', cell, 32);

    if (nc != ncols) {
      fail_at(file, line, "wrong number of cells", rows[r]);
      continue;
    }
    for (size_t i = 0; i < nc; i++)
      check_cell(t, file, line, cell[i]);
    for (int k = 0; k < 3; k++)
      if (!*cell[col_lang[k]])
        fail_at(file, line, "a language is missing", langs[k]);
    if (!known_domain(cell[col_domain]))
      fail_at(file, line, "unknown domain", cell[col_domain]);
    if (strcmp(cell[col_status], "approved") != 0 &&
        strcmp(cell[col_status], "draft") != 0)
      fail_at(file, line, "status is neither approved nor draft",
              cell[col_status]);
    if (strcmp(cell[col_status], "approved") == 0 &&
        (!strstr(cell[col_source], "ko:") || !strstr(cell[col_source], "uk:")))
      fail_at(file, line, "an approved entry names no ko: and uk: sources",
              cell[col_source]);
    if (!*cell[col_id])
      fail_at(file, line, "no id", "");
    ids[r] = cell[col_id];
    for (size_t q = 1; q < r; q++)
      if (ids[q] && strcmp(ids[q], ids[r]) == 0)
        fail_at(file, line, "duplicate id", ids[r]);
    /* Synonyms are " | "-separated; a stray bar or empty synonym is a
     * typing slip. */
    for (int k = 0; k < 3; k++) {
      const char *c = cell[col_lang[k]];
      if (strstr(c, "||") || strstr(c, "| |") || c[0] == '|' ||
          (strlen(c) && c[strlen(c) - 1] == '|'))
        fail_at(file, line, "an empty synonym", c);
    }
  }
  *records = nrows - 1;
  free(ids);
  tm_text_close(t);
  free(rows);
  free(text);
}

TEST(every_shipped_record_is_valid_and_loads) {
  DIR *d = opendir(gloss_dir());
  struct dirent *de;
  int files = 0;

  CHECK(d != NULL);
  if (!d)
    return;
  load_domains();
  while ((de = readdir(d))) {
    size_t n = strlen(de->d_name), records = 0;
    char path[1024];
    tm_db *db = NULL;
    tm_import_result r;
    tm_import_opts o = {.format = TM_FORMAT_TSV, .kind = TM_GLOSSARY};

    if (n < 5 || strcmp(de->d_name + n - 4, ".tsv") != 0)
      continue;
    files++;
    snprintf(path, sizeof path, "%s/%s", gloss_dir(), de->d_name);
    validate(path, &records);

    CHECK_INT(tm_db_open(":memory:", TM_OPEN_NOSEED, &db), TM_OK);
    if (tm_import_file(db, path, &o, &r) != TM_OK) {
      fprintf(stderr, "# %s\n", tm_db_errmsg(db));
      check_failed++;
    } else {
      CHECK_INT(r.records, records);
    }
    /* Every annotation was understood: no term keeps its braces, and
     * every entry has a preferred term in each language. */
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->sql,
                           "SELECT text FROM terms WHERE text LIKE '%}' "
                           "OR text LIKE '%{%'",
                           -1, &st, NULL) == SQLITE_OK) {
      while (sqlite3_step(st) == SQLITE_ROW)
        fail_at(path, 0, "an annotation the importer did not understand",
                (const char *)sqlite3_column_text(st, 0));
      sqlite3_finalize(st);
    }
    if (sqlite3_prepare_v2(
            db->sql,
            "SELECT e.origin FROM entries e WHERE (SELECT count(DISTINCT "
            "lang) FROM terms t WHERE t.entry=e.id AND t.status=0 AND "
            "t.lang IN ('en','ko','uk')) < 3",
            -1, &st, NULL) == SQLITE_OK) {
      while (sqlite3_step(st) == SQLITE_ROW)
        fail_at(path, 0, "no preferred term in some language",
                (const char *)sqlite3_column_text(st, 0));
      sqlite3_finalize(st);
    }
    tm_db_close(db);
  }
  closedir(d);
  CHECK(files >= 1);
  free(domains);
  free(domains_text);
}
