/*
 * test_tbx.c - TBX import and export (libtm/tbx.c): every shared TBX
 * sample imports with its entries and terms, the data categories map as
 * documented (DCA, DCT, TBX 2008, TBX-Min 1.0), hostile input fails
 * cleanly and changes nothing, round trips through TBX v3 and martif keep
 * everything, and the export is TBX-Basic by a RELAX NG restatement of the
 * dialect (tests/data/tbx/tbx-basic-dca.rng).
 */
#include "check.h"
#include "tm_internal.h"

#include <libxml/relaxng.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <stdbool.h>

/* ------------------------------------------------------------- helpers */

static int64_t fixed_clock(void *ctx) {
  (void)ctx;
  return 1767225600; /* 2026-01-01T00:00:00Z */
}

static tm_db *open_db(void) {
  static int n;
  char path[512];
  tm_db *db = NULL;

  snprintf(path, sizeof path, "%s/tbx-%d.sqlite", check_tmpdir(), ++n);
  if (tm_db_open(path, TM_OPEN_NOSEED, &db) != TM_OK) {
    fprintf(stderr, "# open %s: %s\n", path, tm_db_errmsg(db));
    tm_db_close(db);
    return NULL;
  }
  tm_db_set_clock(db, fixed_clock, NULL);
  return db;
}

static char *fixture(const char *name) {
  const char *dir = getenv("TM_TEST_DATA");
  return tm__asprintf("%s/tbx/%s", dir ? dir : "tests/data", name);
}

static tm_status import_path(tm_db *db, const char *path, const char *coll,
                             tm_import_result *res) {
  tm_import_opts o = {.format = TM_FORMAT_TBX, .collection = coll};
  tm_import_result local;
  return tm_import_file(db, path, &o, res ? res : &local);
}

static tm_status import_fixture(tm_db *db, const char *name, const char *coll,
                                tm_import_result *res) {
  char *path = fixture(name);
  tm_status s = import_path(db, path, coll, res);
  free(path);
  return s;
}

static tm_status import_mem(tm_db *db, const char *coll, const char *s,
                            size_t len, tm_import_result *res) {
  tm_import_opts o = {
      .format = TM_FORMAT_TBX, .collection = coll, .name = "mem.tbx"};
  tm_import_result local;
  return tm_import_buffer(db, s, len, &o, res ? res : &local);
}

static tm_status export_tbx(tm_db *db, const char *coll, tm_format f,
                            const char *const *langs, size_t nlangs,
                            const char *domain, check_sink *out) {
  tm_export_opts o = {.format = f,
                      .collection = coll,
                      .langs = langs,
                      .nlangs = nlangs,
                      .domain = domain};
  return tm_export(db, &o, check_sink_write, out);
}

static int64_t entry_id(tm_db *db, const char *coll, const char *origin) {
  sqlite3_stmt *st = NULL;
  int64_t id = 0;

  sqlite3_prepare_v2(db->sql,
                     "SELECT e.id FROM entries e JOIN collections c ON "
                     "c.id=e.collection WHERE c.kind=2 AND c.name=?1 AND "
                     "e.origin=?2 AND e.deleted=0",
                     -1, &st, NULL);
  sqlite3_bind_text(st, 1, coll, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, origin, -1, SQLITE_STATIC);
  if (sqlite3_step(st) == SQLITE_ROW)
    id = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return id;
}

/* The entry of glossary COLL whose origin (TBX id) is ORIGIN. */
static tm_entry *entry_of(tm_db *db, const char *coll, const char *origin) {
  tm_entry *e = NULL;
  int64_t id = entry_id(db, coll, origin);

  if (!id || tm_entry_get(db, id, &e) != TM_OK) {
    fprintf(stderr, "# no entry %s in %s\n", origin, coll);
    return NULL;
  }
  return e;
}

static const tm_term *term_of(const tm_entry *e, const char *lang,
                              const char *text) {
  for (size_t i = 0; e && i < e->nterms; i++)
    if (strcmp(e->terms[i].lang, lang) == 0 &&
        strcmp(e->terms[i].text, text) == 0)
      return &e->terms[i];
  fprintf(stderr, "# no %s term \"%s\"\n", lang, text);
  return NULL;
}

#define CHECK_TERM(e, lang, text, want_status, want_type)                      \
  do {                                                                         \
    const tm_term *t_ = term_of(e, lang, text);                                \
    CHECK(t_ != NULL);                                                         \
    if (t_) {                                                                  \
      CHECK_STR(tm_term_status_name(t_->status), want_status);                 \
      CHECK_STR(tm_term_type_name(t_->type), want_type);                       \
    }                                                                          \
  } while (0)

#define CHECK_HAS(hay, needle)                                                 \
  do {                                                                         \
    const char *h_ = (hay), *n_ = (needle);                                    \
    if (!h_ || !strstr(h_, n_)) {                                              \
      fprintf(stderr, "# %s:%d: \"%s\" does not contain \"%s\"\n", __FILE__,   \
              __LINE__, h_ ? h_ : "(null)", n_);                               \
      check_failed++;                                                          \
    }                                                                          \
  } while (0)

/* Everything a glossary holds but ids, origins and times, one entry per
 * paragraph, in the order of its en listing. */
static char *dump(tm_db *db, const char *coll) {
  sqlite3_str *s = sqlite3_str_new(db->sql);
  char *after = NULL, *out, *copy;

  for (;;) {
    tm_entry **page = NULL;
    size_t n = 0;
    char *next = NULL;
    if (tm_entry_list(db, coll, "en", 0, after, 100, &page, &n, &next) !=
        TM_OK) {
      sqlite3_str_appendf(s, "error: %s\n", tm_db_errmsg(db));
      break;
    }
    for (size_t i = 0; i < n; i++) {
      const tm_entry *e = page[i];
      sqlite3_str_appendf(s,
                          "entry status=%s domain=[%s] source=[%s]\n def=[%s]"
                          "\n note=[%s]\n",
                          tm_record_status_name(e->status), e->domain,
                          e->source, e->definition, e->note);
      for (size_t j = 0; j < e->nterms; j++) {
        const tm_term *t = &e->terms[j];
        sqlite3_str_appendf(s, " %s [%s] %s %s pos=[%s] note=[%s]\n", t->lang,
                            t->text, tm_term_status_name(t->status),
                            tm_term_type_name(t->type), t->pos, t->note);
      }
    }
    tm_entry_list_free(page, n);
    free(after);
    after = next;
    if (!after)
      break;
  }
  out = sqlite3_str_finish(s);
  copy = tm__strdup(out ? out : "");
  sqlite3_free(out);
  return copy;
}

static long long count_entries(tm_db *db) {
  sqlite3_stmt *st = NULL;
  long long n = -1;

  sqlite3_prepare_v2(db->sql, "SELECT count(*) FROM entries", -1, &st, NULL);
  if (sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return n;
}

static long long count_terms(tm_db *db, const char *coll) {
  sqlite3_stmt *st = NULL;
  long long n = -1;

  sqlite3_prepare_v2(db->sql,
                     "SELECT count(*) FROM terms t JOIN entries e ON "
                     "e.id=t.entry JOIN collections c ON c.id=e.collection "
                     "WHERE c.kind=2 AND c.name=?1 AND e.deleted=0",
                     -1, &st, NULL);
  sqlite3_bind_text(st, 1, coll, -1, SQLITE_STATIC);
  if (sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return n;
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *p = NULL;
  long n;

  if (!f)
    return NULL;
  if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
      fseek(f, 0, SEEK_SET) == 0 && (p = malloc((size_t)n + 1))) {
    *len = fread(p, 1, (size_t)n, f);
    p[*len] = '\0';
  }
  fclose(f);
  return p;
}

/* <term> elements in a file's bytes, outside comments. */
static long count_term_elements(const char *s) {
  long n = 0;

  while (*s) {
    if (strncmp(s, "<!--", 4) == 0) {
      const char *end = strstr(s, "-->");
      if (!end)
        break;
      s = end + 3;
      continue;
    }
    if (strncmp(s, "<term>", 6) == 0 || strncmp(s, "<term ", 6) == 0)
      n++;
    s++;
  }
  return n;
}

/* The glossary name for a shared sample file: its name without ".tbx". */
static void coll_name(const char *file, char out[80]) {
  const char *base = strrchr(file, '/');
  size_t n;

  base = base ? base + 1 : file;
  n = strcspn(base, ".");
  snprintf(out, 80, "%.*s", (int)n, base);
}

typedef struct sample {
  char file[128];
  long entries;
} sample;

/* The TBX rows of the shared MANIFEST.tsv: file and entry count. */
static size_t manifest(const char *dir, sample *out, size_t max) {
  char *path = tm__asprintf("%s/data/exchange/MANIFEST.tsv", dir);
  FILE *f = path ? fopen(path, "r") : NULL;
  char line[4096];
  size_t n = 0;

  free(path);
  if (!f)
    return 0;
  while (n < max && fgets(line, sizeof line, f)) {
    char *cols[5] = {0}, *save = NULL, *c;
    int k = 0;
    for (c = strtok_r(line, "\t", &save); c && k < 5;
         c = strtok_r(NULL, "\t", &save))
      cols[k++] = c;
    if (k < 4 || strncmp(cols[0], "tbx/", 4) != 0)
      continue;
    snprintf(out[n].file, sizeof out[n].file, "%s", cols[0]);
    out[n].entries = atol(cols[3]);
    n++;
  }
  fclose(f);
  return n;
}

/* -------------------------------------------------- the shared samples */

TEST(shared_samples_import_with_every_entry_and_term) {
  const char *dir = check_shared_dir();
  sample s[32];
  size_t n;
  tm_db *db;

  if (!dir)
    SKIP("no shared folder (TM_SHARED_DIR)");
  n = manifest(dir, s, 32);
  CHECK_INT(n, 9);
  if (!(db = open_db()))
    return;
  for (size_t i = 0; i < n; i++) {
    char *path = tm__asprintf("%s/data/exchange/%s", dir, s[i].file), *text;
    char coll[80];
    size_t len = 0;
    tm_import_result r = {0};
    tm_status st;

    coll_name(s[i].file, coll);
    st = import_path(db, path, coll, &r);
    if (st != TM_OK)
      fprintf(stderr, "# %s: %s\n", s[i].file, tm_db_errmsg(db));
    CHECK_INT(st, TM_OK);
    CHECK_INT(r.kind, TM_GLOSSARY);
    CHECK_INT(r.records, s[i].entries);
    text = slurp(path, &len);
    CHECK(text != NULL);
    if (text)
      CHECK_INT(count_terms(db, coll), count_term_elements(text));
    free(text);
    free(path);
  }
  tm_db_close(db);
}

TEST(shared_samples_data_categories) {
  const char *dir = check_shared_dir();
  const char *files[] = {
      "trg-TBX-basic-sample", "ltac-min-DCT-Example_Astronomy",
      "ltac-min_good",        "okapi-maryland",
      "okapi-ibm_tbx",        "omegat-sampleTBXfile"};
  tm_db *db;
  tm_entry *e;

  if (!dir)
    SKIP("no shared folder (TM_SHARED_DIR)");
  if (!(db = open_db()))
    return;
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    char *path = tm__asprintf("%s/data/exchange/tbx/%s.tbx", dir, files[i]);
    CHECK_INT(import_path(db, path, files[i], NULL), TM_OK);
    free(path);
  }

  /* TBX-Basic v3, DCA: statuses, term types, definition with its source
   * in a descripGrp, the source of a context sentence left out. */
  e = entry_of(db, "trg-TBX-basic-sample", "c7");
  CHECK_TERM(e, "en", "progressive lens", "preferred", "full");
  CHECK_TERM(e, "en", "progressive addition lens", "admitted", "full");
  CHECK_TERM(e, "en", "PAL", "deprecated", "abbreviation");
  CHECK_TERM(e, "en", "graduated lens", "deprecated", "full");
  CHECK_TERM(e, "fr", "lentille progressive", "preferred", "full");
  CHECK_TERM(e, "de", "Gleitsichtglas", "preferred", "full");
  CHECK_HAS(e ? e->definition : NULL, "corrective lenses used in eyeglasses "
                                      "to correct presbyopia");
  CHECK_STR(e ? e->source : NULL, "Wikipedia");
  CHECK_STR(e && e->nterms ? e->terms[0].pos : NULL, "noun");
  tm_entry_free(e);
  e = entry_of(db, "trg-TBX-basic-sample", "c1");
  CHECK_STR(e ? e->domain : NULL, "manufacturing");
  CHECK_STR(e ? e->definition : NULL,
            "This is a sample definition at the entry level.");
  CHECK_STR(e ? e->source : NULL, "Terminology SIG; en: IBM");
  CHECK_STR(e ? e->note : NULL,
            "This is a sample entry with some data categories at the entry "
            "level.");
  CHECK_STR(e && e->nterms ? e->terms[0].pos : NULL, "verb");
  tm_entry_free(e);
  /* A definition at the language level; a term's note; a repeated source
   * kept once. */
  e = entry_of(db, "trg-TBX-basic-sample", "c2");
  CHECK_STR(e ? e->definition : NULL,
            "This is a sample definition at the language level. This one has "
            "no source information required therefore it is not embedded in "
            "a descripGrp.");
  CHECK_STR(e ? e->source : NULL, "en: Manufacturing Process Manual V2");
  CHECK_TERM(e, "en", "unscheduled operation", "admitted", "full");
  CHECK_STR(e && e->nterms ? e->terms[0].note : NULL,
            "This is a sample entry with some data categories at the term or "
            "language level");
  tm_entry_free(e);

  /* TBX-Min v3, DCT: <min:partOfSpeech>, <min:administrativeStatus>; two
   * notes on one term; superseded is deprecated. */
  e = entry_of(db, "ltac-min-DCT-Example_Astronomy", "c1");
  CHECK_TERM(e, "en", "open cluster", "preferred", "full");
  CHECK_TERM(e, "en", "galactic cluster", "deprecated", "full");
  CHECK_TERM(e, "es", "cúmulo abierto", "preferred", "full");
  if (e && e->nterms > 1) {
    CHECK_STR(e->terms[1].pos, "noun");
    CHECK_HAS(e->terms[1].note, "lie within the spiral arms of the galaxy.\n"
                                "N-Source: http://www.delscope.demon.co.uk/");
    CHECK_HAS(e->terms[1].note, "often termed Galactic Clusters because");
  }
  tm_entry_free(e);

  /* TBX-Min with usageStatus, and notes at the entry level. */
  e = entry_of(db, "ltac-min_good", "c1");
  CHECK_STR(e ? e->domain : NULL, "General");
  CHECK_STR(e ? e->note : NULL,
            "G-Source: http://www.physics.drexel.edu/observatory/dump.shtml");
  CHECK_TERM(e, "en", "galactic cluster", "deprecated", "full");
  tm_entry_free(e);

  /* TBX 2008 with ntig/termGrp: entryTerm, synonym and variant; character
   * references; a definition wrapped over two lines. */
  e = entry_of(db, "okapi-maryland", "eid-VocCod-211.01");
  CHECK_TERM(e, "fr", "copiste", "preferred", "full");
  CHECK_TERM(e, "fr", "écrivain", "admitted", "full");
  CHECK_TERM(e, "es", "escribano", "admitted", "variant");
  CHECK_TERM(e, "it", "trascrittore", "admitted", "full");
  CHECK_STR(e ? e->definition : NULL,
            "personne qui accomplit un travail copie ou d'écriture");
  CHECK_STR(e ? e->domain : NULL, "personnel");
  tm_entry_free(e);

  /* Two langSets of one language make one language; a definition in a
   * langSet's descripGrp; a wrapped subject field. */
  e = entry_of(db, "okapi-ibm_tbx", "c1");
  CHECK_TERM(e, "en", "navigation trail", "preferred", "full");
  CHECK_TERM(e, "en", "branch", "admitted", "full");
  CHECK_TERM(e, "fr", "historique de navigation", "preferred", "full");
  tm_entry_free(e);
  e = entry_of(db, "okapi-ibm_tbx", "c2");
  CHECK_STR(e ? e->domain : NULL,
            "Hardware \\ Other Processing Units and Specialized Devices");
  tm_entry_free(e);
  e = entry_of(db, "okapi-ibm_tbx", "c5");
  CHECK_STR(e ? e->definition : NULL,
            "The area of a store comprising conventional lanes and IBM lanes "
            "with a paystation.");
  tm_entry_free(e);

  e = entry_of(db, "omegat-sampleTBXfile", "eid-Oracle-67");
  CHECK_TERM(e, "en", "alpha smoothing factor", "preferred", "full");
  CHECK_TERM(e, "hu", "hu translation", "preferred", "full");
  CHECK_STR(e ? e->definition : NULL, "A value between 0 and 1 used in ...");
  tm_entry_free(e);
  tm_db_close(db);
}

/* Import, export (v3 and martif), import again, export again: every
 * sample keeps all it had. */
TEST(shared_samples_round_trip) {
  const char *dir = check_shared_dir();
  sample s[32];
  size_t n;
  tm_db *db;

  if (!dir)
    SKIP("no shared folder (TM_SHARED_DIR)");
  n = manifest(dir, s, 32);
  if (!(db = open_db()))
    return;
  for (size_t i = 0; i < n; i++) {
    char *path = tm__asprintf("%s/data/exchange/%s", dir, s[i].file);
    char coll[80];
    char *first;

    coll_name(s[i].file, coll);
    CHECK_INT(import_path(db, path, coll, NULL), TM_OK);
    first = dump(db, coll);
    for (int martif = 0; martif < 2; martif++) {
      check_sink out = {0}, again = {0};
      char name[96], name2[96], *second;
      tm_format f = martif ? TM_FORMAT_TBX_MARTIF : TM_FORMAT_TBX;

      snprintf(name, sizeof name, "%s.%d", coll, martif);
      snprintf(name2, sizeof name2, "%s.%d.2", coll, martif);
      CHECK_INT(export_tbx(db, coll, f, NULL, 0, NULL, &out), TM_OK);
      CHECK_INT(import_mem(db, name, out.p, out.len, NULL), TM_OK);
      second = dump(db, name);
      if (strcmp(first, second) != 0)
        fprintf(stderr, "# %s (%s)\n# before:\n%s# after:\n%s", s[i].file,
                martif ? "martif" : "v3", first, second);
      CHECK_STR(second, first);
      /* The second generation exports the same bytes but for the ids
       * and names: compare the entry counts and the dump once more. */
      CHECK_INT(export_tbx(db, name, f, NULL, 0, NULL, &again), TM_OK);
      CHECK_INT(import_mem(db, name2, again.p, again.len, NULL), TM_OK);
      free(second);
      second = dump(db, name2);
      CHECK_STR(second, first);
      free(second);
      free(out.p);
      free(again.p);
    }
    free(first);
    free(path);
  }
  tm_db_close(db);
}

/* ------------------------------------------------ our fixtures: styles */

TEST(dct_matches_namespaces_not_prefixes) {
  tm_db *db = open_db();
  tm_import_result r = {0};
  tm_entry *e;

  if (!db)
    return;
  CHECK_INT(import_fixture(db, "dct-prefixes.tbx", "g", &r), TM_OK);
  CHECK_INT(r.records, 1);
  e = entry_of(db, "g", "pow");
  CHECK_STR(e ? e->domain : NULL, "international humanitarian law");
  CHECK_STR(e ? e->definition : NULL,
            "A combatant who falls into the power of the enemy.");
  CHECK_STR(e ? e->source : NULL,
            "Geneva Convention III, art. 4; en: NATO glossary");
  CHECK_TERM(e, "en", "prisoner of war", "preferred", "full");
  CHECK_TERM(e, "en", "POW", "admitted", "abbreviation");
  CHECK_TERM(e, "ko", "전쟁포로", "preferred", "full");
  CHECK_TERM(e, "ko", "포로", "admitted", "abbreviation");
  CHECK_TERM(e, "uk", "військовополонений", "preferred", "full");
  CHECK_TERM(e, "uk", "військовополонена", "admitted", "variant");
  CHECK_STR(e && e->nterms > 5 ? e->terms[5].note : NULL, "feminine form");
  CHECK_STR(e && e->nterms ? e->terms[0].pos : NULL, "noun");
  tm_entry_free(e);
  tm_db_close(db);
}

TEST(tbx_min_1_0) {
  tm_db *db = open_db();
  tm_import_result r = {0};
  tm_entry *e;

  if (!db)
    return;
  CHECK_INT(import_fixture(db, "min10.tbx", "g", &r), TM_OK);
  CHECK_INT(r.records, 2);
  e = entry_of(db, "g", "kyiv");
  CHECK_STR(e ? e->domain : NULL, "places");
  CHECK_TERM(e, "en", "Kyiv", "preferred", "full");
  CHECK_TERM(e, "en", "Kiev", "deprecated", "full");
  CHECK_TERM(e, "uk", "Київ", "preferred", "full");
  CHECK_STR(e && e->nterms ? e->terms[0].pos : NULL, "proper noun");
  CHECK_STR(e && e->nterms > 1 ? e->terms[1].note : NULL,
            "spelling from Russian");
  tm_entry_free(e);
  e = entry_of(db, "g", "donbas");
  CHECK_TERM(e, "en", "Donbas", "preferred", "full");
  CHECK_TERM(e, "en", "Donbass", "deprecated", "full");
  tm_entry_free(e);
  tm_db_close(db);
}

TEST(default_term_status) {
  /* Unmarked terms: admitted, but for the first of a language without a
   * preferred term; marked ones keep their mark. */
  static const char doc[] =
      "<martif type='TBX' xml:lang='en'><text><body>"
      "<termEntry id='a'><langSet xml:lang='en'>"
      "<tig><term>one</term></tig><tig><term>two</term></tig>"
      "<tig><term>three</term><termNote type='administrativeStatus'>"
      "preferredTerm-admn-sts</termNote></tig></langSet>"
      "<langSet xml:lang='uk'><tig><term>один</term><termNote "
      "type='administrativeStatus'>deprecatedTerm-admn-sts</termNote></tig>"
      "<tig><term>два</term></tig><tig><term>три</term></tig></langSet>"
      "</termEntry></body></text></martif>";
  tm_db *db = open_db();
  tm_entry *e;

  if (!db)
    return;
  CHECK_INT(import_mem(db, "g", doc, strlen(doc), NULL), TM_OK);
  e = entry_of(db, "g", "a");
  CHECK_TERM(e, "en", "one", "admitted", "full");
  CHECK_TERM(e, "en", "two", "admitted", "full");
  CHECK_TERM(e, "en", "three", "preferred", "full");
  CHECK_TERM(e, "uk", "один", "deprecated", "full");
  CHECK_TERM(e, "uk", "два", "preferred", "full");
  CHECK_TERM(e, "uk", "три", "admitted", "full");
  tm_entry_free(e);
  tm_db_close(db);
}

/* --------------------------------------------------------- hostile input */

typedef struct bad_case {
  const char *file;
  tm_status status;
  const char *where; /* "NAME:LINE:" */
  const char *says;
} bad_case;

TEST(hostile_input_fails_cleanly_and_changes_nothing) {
  static const bad_case cases[] = {
      {"bad-laughs.tbx", TM_PARSE, "bad-laughs.tbx:3:", "never expanded"},
      {"bad-external-entity.tbx", TM_PARSE,
       "bad-external-entity.tbx:3:", "declares entities"},
      {"bad-undefined-entity.tbx", TM_PARSE,
       "bad-undefined-entity.tbx:7:", "&nbsp; is not allowed"},
      {"bad-undefined-entity2.tbx", TM_PARSE,
       "bad-undefined-entity2.tbx:10:", "&nbsp; is not allowed"},
      {"bad-malformed.tbx", TM_PARSE, "bad-malformed.tbx:12:", "mismatch"},
      {"bad-utf8.tbx", TM_UTF8, "bad-utf8.tbx:12:", "UTF-8"},
      {"bad-lang.tbx", TM_LANG, "bad-lang.tbx:11:", "not a tag!"},
      {"bad-no-lang.tbx", TM_PARSE, "bad-no-lang.tbx:6:", "without xml:lang"},
      {"bad-root.tbx", TM_PARSE, "bad-root.tbx:2:", "<tmx>"},
      {"bad-empty-term.tbx", TM_INVALID, "bad-empty-term.tbx:10:", "empty"},
  };
  tm_db *db = open_db();
  char *before, *after;

  if (!db)
    return;
  /* Something to keep: a failed import must leave it as it was. */
  CHECK_INT(import_fixture(db, "dct-prefixes.tbx", "keep", NULL), TM_OK);
  before = dump(db, "keep");
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const bad_case *c = &cases[i];
    tm_import_result r = {.records = 99, .duplicates = 99};
    tm_status s;
    const char *msg;
    int exists = -1;

    /* Into the kept glossary, and into a new one that must not stay. */
    s = import_fixture(db, c->file, "keep", &r);
    msg = tm_db_errmsg(db);
    fprintf(stderr, "# %s: %s: %s\n", c->file, tm_status_name(s), msg);
    CHECK_INT(s, c->status);
    CHECK_INT(r.records, 0);
    CHECK_HAS(msg, c->where);
    CHECK_HAS(msg, c->says);
    CHECK(strstr(msg, "root:") == NULL); /* nothing of /etc/passwd */
    after = dump(db, "keep");
    CHECK_STR(after, before);
    free(after);
    CHECK_INT(import_fixture(db, c->file, "fresh", NULL), c->status);
    CHECK_INT(tm_collection_exists(db, TM_GLOSSARY, "fresh", &exists), TM_OK);
    CHECK_INT(exists, 0);
  }
  CHECK_INT(count_entries(db), 1);
  free(before);
  tm_db_close(db);
}

TEST(hostile_buffers) {
  tm_db *db = open_db();
  static const char nul[] = "<martif><text><body/></text></martif>\0<x/>";
  static const char empty_doc[] = "";
  static const char not_xml[] = "term\ten\nfoo\tbar\n";
  static const char huge_lang[] =
      "<martif><text><body><termEntry><langSet xml:lang='"
      "en-aaaaaaaa-bbbbbbbb-cccccccc-dddddddd-eeeeeeee'><tig><term>x</term>"
      "</tig></langSet></termEntry></body></text></martif>";
  tm_import_result r;

  if (!db)
    return;
  CHECK_INT(import_mem(db, "g", nul, sizeof nul - 1, &r), TM_PARSE);
  CHECK_INT(import_mem(db, "g", empty_doc, 0, &r), TM_PARSE);
  CHECK_INT(import_mem(db, "g", not_xml, strlen(not_xml), &r), TM_PARSE);
  CHECK_HAS(tm_db_errmsg(db), "mem.tbx:1:");
  CHECK_INT(import_mem(db, "g", huge_lang, strlen(huge_lang), &r), TM_LANG);
  CHECK_INT(count_entries(db), 0);
  tm_db_close(db);
}

TEST(limits) {
  tm_db *db = open_db();
  sqlite3_str *s = sqlite3_str_new(NULL);
  char *doc;

  if (!db)
    return;
  /* Text split over many nodes counts as a whole. */
  sqlite3_str_appendall(s, "<martif><text><body><termEntry><langSet "
                           "xml:lang='en'><tig><term>x</term><note>");
  for (int i = 0; i < 1200; i++)
    sqlite3_str_appendf(s, "<hi>%01000d</hi>", i);
  sqlite3_str_appendall(s, "</note></tig></langSet></termEntry></body>"
                           "</text></martif>");
  doc = sqlite3_str_finish(s);
  CHECK_INT(import_mem(db, "g", doc, strlen(doc), NULL), TM_TOOBIG);
  CHECK_HAS(tm_db_errmsg(db), "mem.tbx:1: <note> holds more than");
  sqlite3_free(doc);
  /* An entry of more than 10000 terms. */
  s = sqlite3_str_new(NULL);
  sqlite3_str_appendall(s, "<martif><text><body>\n<termEntry><langSet "
                           "xml:lang='en'>\n");
  for (int i = 0; i <= 10000; i++)
    sqlite3_str_appendf(s, "<tig><term>t%d</term></tig>\n", i);
  sqlite3_str_appendall(s, "</langSet></termEntry></body></text></martif>");
  doc = sqlite3_str_finish(s);
  CHECK_INT(import_mem(db, "g", doc, strlen(doc), NULL), TM_TOOBIG);
  CHECK_HAS(tm_db_errmsg(db), "mem.tbx:10003: an entry with more than 10000");
  sqlite3_free(doc);
  CHECK_INT(count_entries(db), 0);
  tm_db_close(db);
}

static int cancel_at_once(void *ctx, uint64_t done, uint64_t total,
                          uint64_t records) {
  int *calls = ctx;
  (void)done;
  (void)total;
  (void)records;
  return ++*calls >= 1;
}

TEST(progress_and_cancel) {
  sqlite3_str *s = sqlite3_str_new(NULL);
  char *doc;
  tm_db *db = open_db();
  int calls = 0;
  tm_import_opts o = {.format = TM_FORMAT_TBX,
                      .collection = "g",
                      .name = "big.tbx",
                      .progress = cancel_at_once,
                      .progress_ctx = &calls};
  tm_import_result r;

  sqlite3_str_appendall(s, "<martif type='TBX'><text><body>\n");
  for (int i = 0; i < 450; i++)
    sqlite3_str_appendf(s,
                        "<termEntry id='e%d'><langSet xml:lang='en'><tig>"
                        "<term>term %d</term></tig></langSet></termEntry>\n",
                        i, i);
  sqlite3_str_appendall(s, "</body></text></martif>\n");
  doc = sqlite3_str_finish(s);
  if (!db || !doc)
    return;
  CHECK_INT(tm_import_buffer(db, doc, strlen(doc), &o, &r), TM_CANCELLED);
  CHECK_INT(calls, 1);
  CHECK_INT(count_entries(db), 0);
  o.progress = NULL;
  CHECK_INT(tm_import_buffer(db, doc, strlen(doc), &o, &r), TM_OK);
  CHECK_INT(r.records, 450);
  sqlite3_free(doc);
  tm_db_close(db);
}

/* ----------------------------------------------------------- round trips */

static void add(tm_db *db, const char *coll, tm_entry *e) {
  int64_t id;
  tm_status s = tm_entry_add(db, coll, e, NULL, &id);
  if (s != TM_OK)
    fprintf(stderr, "# add: %s\n", tm_db_errmsg(db));
  CHECK_INT(s, TM_OK);
  tm__entry_clear(e);
  memset(e, 0, sizeof *e);
}

static void term(tm_entry *e, const char *lang, const char *text,
                 tm_term_status st, tm_term_type ty, const char *note,
                 const char *pos) {
  CHECK_INT(tm_entry_add_term(e, lang, text, st, ty, note), TM_OK);
  if (pos)
    e->terms[e->nterms - 1].pos = tm__strdup(pos);
}

/* A glossary with every field and awkward text. */
static void build_glossary(tm_db *db, const char *coll) {
  tm_entry e = {0};

  term(&e, "en", "prisoner of war", TM_TERM_PREFERRED, TM_TERM_FULL, NULL,
       "noun");
  term(&e, "en", "POW", TM_TERM_ADMITTED, TM_TERM_ABBREVIATION, NULL, "noun");
  term(&e, "en", "PoW", TM_TERM_ADMITTED, TM_TERM_VARIANT,
       "rare; <used> by \"some\" & 'others'", "noun");
  term(&e, "ko", "전쟁포로", TM_TERM_PREFERRED, TM_TERM_FULL, NULL, "noun");
  term(&e, "ko", "포로", TM_TERM_ADMITTED, TM_TERM_ABBREVIATION, NULL, "noun");
  term(&e, "ko", "전쟁 포로", TM_TERM_ADMITTED, TM_TERM_VARIANT, NULL, "noun");
  term(&e, "uk", "військовополонений", TM_TERM_PREFERRED, TM_TERM_FULL, NULL,
       "noun");
  term(&e, "uk", "військовополонена", TM_TERM_ADMITTED, TM_TERM_VARIANT,
       "feminine", "noun");
  e.definition = tm__strdup("A combatant who falls into the power of the "
                            "enemy (GC III, art. 4).");
  e.note = tm__strdup("Line one.\nLine two: < & > \" '.");
  e.domain = tm__strdup("international humanitarian law");
  e.source = tm__strdup("ko: 제네바협약 국문본; uk: Женевська конвенція");
  e.status = TM_APPROVED;
  e.origin = tm__strdup("pow");
  add(db, coll, &e);

  term(&e, "en", "Kyiv", TM_TERM_PREFERRED, TM_TERM_FULL, NULL, "proper noun");
  term(&e, "en", "Kiev", TM_TERM_DEPRECATED, TM_TERM_FULL,
       "spelling from Russian, not used since 2019", "proper noun");
  term(&e, "ko", "키이우", TM_TERM_PREFERRED, TM_TERM_FULL, NULL,
       "proper noun");
  term(&e, "ko", "키예프", TM_TERM_DEPRECATED, TM_TERM_FULL, NULL,
       "proper noun");
  term(&e, "uk", "Київ", TM_TERM_PREFERRED, TM_TERM_FULL, NULL, "proper noun");
  e.domain = tm__strdup("places");
  e.status = TM_DRAFT;
  add(db, coll, &e);

  term(&e, "en", "hors de combat", TM_TERM_PREFERRED, TM_TERM_FULL, NULL,
       "phrase");
  term(&e, "uk", "особа, що вибула зі строю", TM_TERM_PREFERRED, TM_TERM_FULL,
       NULL, "phrase");
  e.status = TM_DEPRECATED;
  e.definition = tm__strdup("Out of the fight: no longer a lawful target.");
  add(db, coll, &e);

  /* Only Korean, no pos, nothing else. */
  term(&e, "ko", "탈북민", TM_TERM_PREFERRED, TM_TERM_FULL, NULL, NULL);
  term(&e, "ko", "탈북자", TM_TERM_ADMITTED, TM_TERM_FULL, NULL, NULL);
  term(&e, "ko", "북한이탈주민", TM_TERM_ADMITTED, TM_TERM_FULL,
       "official term in South Korean law", NULL);
  add(db, coll, &e);
}

static void round_trip(tm_format f) {
  tm_db *db = open_db();
  check_sink out = {0};
  char *first, *second;
  tm_import_result r = {0};

  if (!db)
    return;
  build_glossary(db, "src");
  first = dump(db, "src");
  CHECK_INT(export_tbx(db, "src", f, NULL, 0, NULL, &out), TM_OK);
  CHECK_INT(import_mem(db, "dst", out.p, out.len, &r), TM_OK);
  CHECK_INT(r.records, 4);
  second = dump(db, "dst");
  if (strcmp(first, second) != 0)
    fprintf(stderr, "# export:\n%s", out.p);
  CHECK_STR(second, first);
  /* TBX-Basic's picklists hold; what they cannot say is in the notes. */
  CHECK_HAS(out.p, "<termNote type=\"partOfSpeech\">noun</termNote>");
  CHECK_HAS(out.p, "<note>x-partOfSpeech: proper noun</note>");
  CHECK_HAS(out.p, "<termNote type=\"partOfSpeech\">other</termNote>");
  CHECK_HAS(out.p, "<note>x-status: approved</note>");
  CHECK_HAS(out.p, "<note>x-status: deprecated</note>");
  CHECK(strstr(out.p, "x-status: draft") == NULL);
  CHECK_HAS(out.p, "rare; &lt;used&gt; by &quot;some&quot; &amp; 'others'");
  free(first);
  free(second);
  free(out.p);
  tm_db_close(db);
}

TEST(round_trip_v3) {
  round_trip(TM_FORMAT_TBX);
}

TEST(round_trip_martif) {
  round_trip(TM_FORMAT_TBX_MARTIF);
}

TEST(export_languages_and_domain) {
  tm_db *db = open_db();
  const char *langs[] = {"uk", "EN"};
  const char *ko[] = {"ko"};
  const char *bad[] = {"not a tag!"};
  check_sink out = {0};
  char *p;

  if (!db)
    return;
  build_glossary(db, "g");
  CHECK_INT(export_tbx(db, "g", TM_FORMAT_TBX, langs, 2, NULL, &out), TM_OK);
  CHECK(strstr(out.p, "xml:lang=\"ko\"") == NULL);
  CHECK(strstr(out.p, "탈북민") == NULL); /* no uk or en term: left out */
  /* The languages in the order asked for. */
  p = strstr(out.p, "<langSec xml:lang=\"uk\">");
  CHECK(p != NULL && strstr(out.p, "<langSec xml:lang=\"en\">") > p);
  free(out.p);
  memset(&out, 0, sizeof out);
  CHECK_INT(export_tbx(db, "g", TM_FORMAT_TBX, ko, 1, "places", &out), TM_OK);
  CHECK_HAS(out.p, "키이우");
  CHECK(strstr(out.p, "전쟁포로") == NULL);
  CHECK(strstr(out.p, "Kyiv") == NULL);
  CHECK_HAS(out.p, "domain places");
  free(out.p);
  memset(&out, 0, sizeof out);
  CHECK_INT(export_tbx(db, "g", TM_FORMAT_TBX, bad, 1, NULL, &out), TM_LANG);
  free(out.p);
  tm_db_close(db);
}

TEST(export_refuses_what_xml_cannot_carry) {
  tm_db *db = open_db();
  tm_entry e = {0};
  check_sink out = {0};

  if (!db)
    return;
  term(&e, "en", "bell", TM_TERM_PREFERRED, TM_TERM_FULL, NULL, NULL);
  add(db, "g", &e);
  /* The ingest refuses control characters; a database written before it
   * did may still hold them. */
  CHECK_INT(sqlite3_exec(db->sql, "UPDATE terms SET text='bell'||char(7)", NULL,
                         NULL, NULL),
            SQLITE_OK);
  CHECK_INT(export_tbx(db, "g", TM_FORMAT_TBX, NULL, 0, NULL, &out),
            TM_INVALID);
  CHECK_HAS(tm_db_errmsg(db), "XML 1.0 cannot carry");
  free(out.p);
  tm_db_close(db);
}

TEST(export_write_failure) {
  tm_db *db = open_db();
  check_sink out = {.fail_after = 100};

  if (!db)
    return;
  build_glossary(db, "g");
  CHECK_INT(export_tbx(db, "g", TM_FORMAT_TBX, NULL, 0, NULL, &out), TM_IO);
  free(out.p);
  tm_db_close(db);
}

/* ------------------------------------------------- TBX-Basic validity */

static void rng_error(void *ctx, xmlErrorPtr e) {
  (void)ctx;
  fprintf(stderr, "# relax-ng: line %d: %s", e ? e->line : 0,
          e && e->message ? e->message : "?\n");
}

/* Validates DOC against tests/data/tbx/tbx-basic-dca.rng; the number of
 * errors (-1 when the schema cannot be read). */
static int relaxng_errors(xmlDocPtr doc) {
  char *path = fixture("tbx-basic-dca.rng");
  xmlRelaxNGParserCtxtPtr pc = xmlRelaxNGNewParserCtxt(path);
  xmlRelaxNGPtr schema = NULL;
  xmlRelaxNGValidCtxtPtr vc = NULL;
  int r = -1;

  if (pc) {
    xmlRelaxNGSetParserStructuredErrors(pc, rng_error, NULL);
    schema = xmlRelaxNGParse(pc);
  }
  if (schema && (vc = xmlRelaxNGNewValidCtxt(schema))) {
    xmlRelaxNGSetValidStructuredErrors(vc, rng_error, NULL);
    r = xmlRelaxNGValidateDoc(vc, doc);
  }
  xmlRelaxNGFreeValidCtxt(vc);
  xmlRelaxNGFree(schema);
  xmlRelaxNGFreeParserCtxt(pc);
  free(path);
  return r;
}

static long xpath_count(xmlDocPtr doc, const char *expr) {
  xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
  xmlXPathObjectPtr o;
  long n = -1;

  if (!ctx)
    return -1;
  xmlXPathRegisterNs(ctx, BAD_CAST "t", BAD_CAST "urn:iso:std:iso:30042:ed-2");
  o = xmlXPathEvalExpression(BAD_CAST expr, ctx);
  if (o && o->type == XPATH_NODESET)
    n = o->nodesetval ? o->nodesetval->nodeNr : 0;
  else if (o && o->type == XPATH_NUMBER)
    n = (long)o->floatval;
  else if (o && o->type == XPATH_BOOLEAN)
    n = o->boolval;
  xmlXPathFreeObject(o);
  xmlXPathFreeContext(ctx);
  return n;
}

/* The first node EXPR selects, or NULL. */
static xmlNodePtr xpath_first(xmlDocPtr doc, const char *expr) {
  xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
  xmlXPathObjectPtr o;
  xmlNodePtr n = NULL;

  if (!ctx)
    return NULL;
  xmlXPathRegisterNs(ctx, BAD_CAST "t", BAD_CAST "urn:iso:std:iso:30042:ed-2");
  o = xmlXPathEvalExpression(BAD_CAST expr, ctx);
  if (o && o->type == XPATH_NODESET && o->nodesetval &&
      o->nodesetval->nodeNr > 0)
    n = o->nodesetval->nodeTab[0];
  xmlXPathFreeObject(o);
  xmlXPathFreeContext(ctx);
  return n;
}

TEST(export_is_tbx_basic) {
  tm_db *db = open_db();
  check_sink out = {0};
  xmlDocPtr doc;
  xmlNodePtr subject, lang;

  if (!db)
    return;
  build_glossary(db, "g");
  CHECK_INT(export_tbx(db, "g", TM_FORMAT_TBX, NULL, 0, NULL, &out), TM_OK);
  doc =
      xmlReadMemory(out.p, (int)out.len, "export.tbx", NULL,
                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  CHECK(doc != NULL);
  if (!doc)
    goto out;
  CHECK_INT(relaxng_errors(doc), 0);
  /* What the grammar says, asked once more without it. */
  CHECK_INT(xpath_count(doc, "/t:tbx[@type='TBX-Basic' and @style='dca' and "
                             "@xml:lang='en']"),
            1);
  CHECK_INT(xpath_count(doc, "/t:tbx/t:tbxHeader/t:fileDesc/t:sourceDesc/t:p"),
            1);
  CHECK_INT(xpath_count(doc, "/t:tbx/t:text/t:body/t:conceptEntry"), 4);
  CHECK_INT(xpath_count(doc, "//t:conceptEntry[not(@id)]"), 0);
  CHECK_INT(xpath_count(doc, "//t:langSec[not(@xml:lang)]"), 0);
  CHECK_INT(xpath_count(doc, "//t:termSec[count(t:term)!=1]"), 0);
  CHECK_INT(xpath_count(doc, "//t:termSec/t:term"), 18);
  CHECK_INT(xpath_count(doc, "//t:descrip[@type='subjectField'][not(parent::"
                             "t:conceptEntry)]"),
            0);
  CHECK_INT(xpath_count(doc, "//t:termNote[not(parent::t:termSec)]"), 0);
  CHECK_INT(xpath_count(doc, "//t:*[@type][not(self::t:tbx)][not("
                             "@type='subjectField' or "
                             "@type='definition' or @type='source' or "
                             "@type='partOfSpeech' or @type='termType' or "
                             "@type='administrativeStatus')]"),
            0);
  CHECK_INT(xpath_count(doc, "//*[namespace-uri()!='urn:iso:std:iso:30042:"
                             "ed-2']"),
            0);
  /* The grammar is strict: a subject field in a language section, or a
   * part of speech off TBX-Basic's list, fails it. */
  fprintf(stderr, "# expected: errors of a subject field moved into a "
                  "language section\n");
  subject = xpath_first(doc, "//t:descrip[@type='subjectField']");
  lang = xpath_first(doc, "//t:conceptEntry[t:descrip[@type='subjectField']]"
                          "/t:langSec/t:termSec");
  CHECK(subject != NULL && lang != NULL);
  if (subject && lang) {
    xmlUnlinkNode(subject);
    xmlAddPrevSibling(lang, subject);
    CHECK(relaxng_errors(doc) > 0);
  }
  xmlFreeDoc(doc);

  /* The martif form: TBX 2008 TBX-Basic, as OmegaT reads it. */
  free(out.p);
  memset(&out, 0, sizeof out);
  CHECK_INT(export_tbx(db, "g", TM_FORMAT_TBX_MARTIF, NULL, 0, NULL, &out),
            TM_OK);
  doc = xmlReadMemory(out.p, (int)out.len, "export.tbx", NULL, XML_PARSE_NONET);
  CHECK(doc != NULL);
  if (doc) {
    CHECK_INT(xpath_count(doc, "/martif[@type='TBX-Basic' and @xml:lang='en']"),
              1);
    CHECK_INT(xpath_count(doc, "/martif/martifHeader/fileDesc/sourceDesc/p"),
              1);
    CHECK_INT(xpath_count(doc, "/martif/martifHeader/encodingDesc/"
                               "p[@type='XCSURI']"),
              1);
    CHECK_INT(xpath_count(doc, "/martif/text/body/termEntry[@id]"), 4);
    CHECK_INT(xpath_count(doc, "//termEntry/langSet[@xml:lang]/tig/term"), 18);
    CHECK_INT(xpath_count(doc, "//tig[count(term)!=1]"), 0);
    CHECK_INT(xpath_count(doc, "//*[namespace-uri()!='']"), 0);
    xmlFreeDoc(doc);
  }
out:
  free(out.p);
  tm_db_close(db);
}

TEST(export_empty_glossary) {
  tm_db *db = open_db();
  check_sink out = {0};

  if (!db)
    return;
  CHECK_INT(export_tbx(db, "default", TM_FORMAT_TBX, NULL, 0, NULL, &out),
            TM_OK);
  CHECK_HAS(out.p, "<body/>");
  CHECK_HAS(out.p, "</tbx>");
  /* Our own empty export imports as nothing. */
  CHECK_INT(import_mem(db, "g", out.p, out.len, NULL), TM_OK);
  free(out.p);
  tm_db_close(db);
}
