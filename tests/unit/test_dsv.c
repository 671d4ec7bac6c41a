/*
 * test_dsv.c - TSV and CSV import and export (libtm/dsv.c) for units and
 * glossaries: escapes, quoting, synonyms and their annotations, errors
 * that name the line, round trips, and the shared corpus.
 */
#include "check.h"
#include "tm_internal.h"

static tm_db *open_db(void) {
  tm_db *db = NULL;
  if (tm_db_open(":memory:", TM_OPEN_NOSEED, &db) != TM_OK)
    exit(1);
  return db;
}

static tm_status import(tm_db *db, const char *text, tm_format f, tm_kind kind,
                        const char *coll, tm_import_result *r) {
  tm_import_opts o = {.format = f,
                      .kind = kind,
                      .collection = coll,
                      .name = f == TM_FORMAT_CSV ? "in.csv" : "in.tsv"};
  return tm_import_buffer(db, text, strlen(text), &o, r);
}

static char *export(tm_db *db, tm_format f, tm_kind kind, const char *coll,
                    const char *langs) {
  check_sink b = {0};
  const char *v[3] = {0};
  char copy[64];
  size_t n = 0;
  tm_export_opts o = {.format = f, .kind = kind, .collection = coll};

  if (langs) {
    snprintf(copy, sizeof copy, "%s", langs);
    for (char *p = strtok(copy, ","); p && n < 3; p = strtok(NULL, ","))
      v[n++] = p;
    o.langs = v;
    o.nlangs = n;
  }
  CHECK_INT(tm_export(db, &o, check_sink_write, &b), TM_OK);
  return b.p ? b.p : calloc(1, 1);
}

TEST(tsv_units_with_escapes_round_trip) {
  tm_db *db = open_db();
  const char *in =
      "\xEF\xBB\xBF"
      "en\tko\tuk\torigin\r\n"
      "Tab\\there\t탭\\t여기\tТаб\\tтут\tgtk30\r\n"
      "\r\n"
      "Line\\nbreak and C:\\\\path\t줄\\n바꿈\tРядок\\nперенос\t\n";
  tm_import_result r;
  tm_unit *u = NULL;

  CHECK_INT(import(db, in, TM_FORMAT_TSV, 0, NULL, &r), TM_OK);
  CHECK_INT(r.records, 2);
  CHECK_INT(r.kind, TM_MEMORY);
  CHECK_INT(tm_unit_get(db, 1, &u), TM_OK);
  CHECK_STR(u->variants[0].text, "Tab\there");
  CHECK_STR(u->origin, "gtk30");
  tm_unit_free(u);
  CHECK_INT(tm_unit_get(db, 2, &u), TM_OK);
  CHECK_STR(u->variants[0].text, "Line\nbreak and C:\\path");
  tm_unit_free(u);

  char *out = export(db, TM_FORMAT_TSV, TM_MEMORY, NULL, NULL);
  CHECK_STR(out,
            "en\tko\tuk\torigin\tnote\n"
            "Tab\\there\t탭\\t여기\tТаб\\tтут\tgtk30\t\n"
            "Line\\nbreak and C:\\\\path\t줄\\n바꿈\tРядок\\nперенос\t\t\n");
  /* Importing the export elsewhere gives the same memory. */
  CHECK_INT(import(db, out, TM_FORMAT_TSV, TM_MEMORY, "copy", &r), TM_OK);
  CHECK_INT(r.records, 2);
  char *again = export(db, TM_FORMAT_TSV, TM_MEMORY, "copy", NULL);
  CHECK_STR(again, out);
  /* Importing it again into the same memory adds nothing. */
  CHECK_INT(import(db, out, TM_FORMAT_TSV, TM_MEMORY, "copy", &r), TM_OK);
  CHECK_INT(r.records, 0);
  CHECK_INT(r.duplicates, 2);
  free(out);
  free(again);
  tm_db_close(db);
}

TEST(csv_quotes_commas_and_newlines) {
  tm_db *db = open_db();
  const char *in = "EN,ko_KR,note\n"
                   "\"Hello, \"\"world\"\"\",\"안녕,\n세상\",greeting\n"
                   "plain,평범\n";
  tm_import_result r;
  tm_unit *u = NULL;

  CHECK_INT(import(db, in, TM_FORMAT_CSV, 0, NULL, &r), TM_OK);
  CHECK_INT(r.records, 2);
  CHECK_INT(tm_unit_get(db, 1, &u), TM_OK);
  CHECK_STR(u->variants[0].lang, "en");
  CHECK_STR(u->variants[0].text, "Hello, \"world\"");
  CHECK_STR(u->variants[1].lang, "ko-KR");
  CHECK_STR(u->variants[1].text, "안녕,\n세상");
  CHECK_STR(u->note, "greeting");
  tm_unit_free(u);
  char *out = export(db, TM_FORMAT_CSV, TM_MEMORY, NULL, "en,ko-KR");
  CHECK_STR(out, "en,ko-KR,origin,note\n"
                 "\"Hello, \"\"world\"\"\",\"안녕,\n세상\",,greeting\n"
                 "plain,평범,,\n");
  free(out);
  tm_db_close(db);
}

TEST(glossary_tsv_synonyms_annotations_round_trip) {
  tm_db *db = open_db();
  const char *in =
      "id\tdomain\tpos\ten\tko\tuk\tdefinition\tnote\tsource\tstatus\n"
      "pow\tinternational humanitarian law\tnoun\tprisoner of war | POW "
      "{abbreviation}\t전쟁포로 | 포로 | 전쟁 포로 {admitted, variant}\t"
      "військовополонений | військовополонена {admitted; feminine}\t"
      "A captured combatant.\tSay POW only after the full form.\t"
      "ko: 제3협약; uk: 995_153\tapproved\n"
      "kyiv\tplaces\tproper noun\tKyiv | Kiev {deprecated; Russian-based}\t"
      "키이우 | 키예프 {deprecated}\tКиїв\t\t\t\tdraft\n"
      "brace\tplaces\tnoun\tArticle 13 {GC III}\t제13조\tстаття 13\t\t\t\t"
      "draft\n";
  tm_import_result r;
  tm_entry *e = NULL;

  CHECK_INT(import(db, in, TM_FORMAT_TSV, 0, "event", &r), TM_OK);
  CHECK_INT(r.kind, TM_GLOSSARY);
  CHECK_INT(r.records, 3);
  CHECK_INT(tm_entry_get(db, 1, &e), TM_OK);
  CHECK_INT(e->status, TM_APPROVED);
  CHECK_STR(e->origin, "pow");
  CHECK_STR(e->domain, "international humanitarian law");
  CHECK_INT(e->nterms, 7);
  if (e->nterms == 7) {
    CHECK_STR(e->terms[1].text, "POW");
    CHECK_INT(e->terms[1].type, TM_TERM_ABBREVIATION);
    CHECK_INT(e->terms[1].status, TM_TERM_ADMITTED);
    CHECK_STR(e->terms[2].text, "전쟁포로");
    CHECK_INT(e->terms[2].status, TM_TERM_PREFERRED);
    CHECK_STR(e->terms[4].text, "전쟁 포로");
    CHECK_INT(e->terms[4].type, TM_TERM_VARIANT);
    CHECK_STR(e->terms[6].note, "feminine");
    CHECK_STR(e->terms[0].pos, "noun");
  }
  tm_entry_free(e);
  CHECK_INT(tm_entry_get(db, 2, &e), TM_OK);
  CHECK_STR(e->terms[1].text, "Kiev");
  CHECK_INT(e->terms[1].status, TM_TERM_DEPRECATED);
  CHECK_STR(e->terms[1].note, "Russian-based");
  tm_entry_free(e);
  /* Braces that are not an annotation belong to the term. */
  CHECK_INT(tm_entry_get(db, 3, &e), TM_OK);
  CHECK_STR(e->terms[0].text, "Article 13 {GC III}");
  tm_entry_free(e);

  char *out = export(db, TM_FORMAT_TSV, TM_GLOSSARY, "event", "en,ko,uk");
  CHECK(strstr(out, "prisoner of war | POW {abbreviation}\t") != NULL);
  CHECK(strstr(out, "Kyiv | Kiev {deprecated; Russian-based}") != NULL);
  CHECK(strstr(out, "전쟁포로 | 포로 | 전쟁 포로 {variant}") != NULL);
  CHECK_INT(import(db, out, TM_FORMAT_TSV, TM_GLOSSARY, "copy", &r), TM_OK);
  CHECK_INT(r.records, 3);
  char *again = export(db, TM_FORMAT_TSV, TM_GLOSSARY, "copy", "en,ko,uk");
  CHECK_STR(again, out);
  free(out);
  free(again);
  tm_db_close(db);
}

static void expect_error(const char *in, tm_format f, tm_status want,
                         const char *where, const char *what) {
  tm_db *db = open_db();
  tm_import_result r;

  CHECK_INT(import(db, in, f, 0, NULL, &r), want);
  if (!strstr(tm_db_errmsg(db), where) || !strstr(tm_db_errmsg(db), what)) {
    fprintf(stderr, "# message \"%s\" lacks \"%s\" or \"%s\"\n",
            tm_db_errmsg(db), where, what);
    check_failed++;
  }
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db->sql, "SELECT count(*) FROM units", -1, &st,
                         NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    CHECK_INT(sqlite3_column_int(st, 0), 0);
  sqlite3_finalize(st);
  tm_db_close(db);
}

TEST(bad_files_name_the_line_and_store_nothing) {
  expect_error("en\tko\tbogus column\nx\ty\tz\n", TM_FORMAT_TSV, TM_LANG,
               "in.tsv:1:", "bogus column");
  expect_error("en\tko\na\tb\nc\td\te\n", TM_FORMAT_TSV, TM_PARSE,
               "in.tsv:3:", "3 cells");
  expect_error("en\tko\na\tb\nc\t\xC3\x28\n", TM_FORMAT_TSV, TM_UTF8,
               "in.tsv:3:", "UTF-8");
  expect_error("en\tko\na\tb\nonly english\t\n", TM_FORMAT_TSV, TM_INVALID,
               "in.tsv:3:", "two languages");
  expect_error("en,ko\na,b\n\"open,x\n", TM_FORMAT_CSV, TM_PARSE,
               "in.csv:3:", "not closed");
  expect_error("en\ten\na\tb\n", TM_FORMAT_TSV, TM_PARSE,
               "in.tsv:1:", "two columns");
  expect_error("en\tdefinition\na\tb\n", TM_FORMAT_TSV, TM_OK, "", "");
}

TEST(memory_rejects_glossary_columns) {
  tm_db *db = open_db();
  tm_import_result r;
  const char *in = "en\tko\tdomain\na\tb\tc\n";

  CHECK_INT(import(db, in, TM_FORMAT_TSV, TM_MEMORY, NULL, &r), TM_PARSE);
  CHECK(strstr(tm_db_errmsg(db), "domain") != NULL);
  tm_db_close(db);
}

TEST(shared_corpus_tsv_imports) {
  const char *dir = check_shared_dir();
  char path[1024];
  FILE *f;
  size_t cap = 1 << 20, len = 0, lines = 0;
  char *text, line[65536];
  tm_import_result r;
  tm_db *db;

  if (!dir)
    SKIP("../shared is absent");
  snprintf(path, sizeof path, "%s/data/corpus/en-ko-uk.tsv", dir);
  if (!(f = fopen(path, "r")))
    SKIP("the corpus TSV is absent");
  /* The first 20,000 rows: enough to meet every kind of cell. */
  text = malloc(cap);
  while (lines <= 20000 && fgets(line, sizeof line, f)) {
    size_t n = strlen(line);
    if (len + n + 1 > cap)
      text = realloc(text, cap *= 2);
    memcpy(text + len, line, n + 1);
    len += n;
    lines++;
  }
  fclose(f);
  db = open_db();
  CHECK_INT(import(db, text, TM_FORMAT_TSV, 0, "corpus", &r), TM_OK);
  CHECK_INT(r.records + r.duplicates, lines - 1);
  CHECK_INT(r.records, lines - 1); /* the corpus has no duplicate triples */
  char *out = export(db, TM_FORMAT_TSV, TM_MEMORY, "corpus", "en,ko,uk");
  /* The export has the same rows, with an empty note column added. */
  size_t out_lines = 0;
  for (char *p = out; *p; p++)
    out_lines += *p == '\n';
  CHECK_INT(out_lines, lines);
  free(out);
  free(text);
  tm_db_close(db);
}
