/*
 * test_tmx.c - TMX import and export (libtm/tmx.c): the fixtures in
 * tests/data/tmx, hostile input, round trips, the shared exchange samples
 * and the corpus sample.
 */
#include "check.h"
#include "tm_internal.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

/* ------------------------------------------------------------- helpers */

static int64_t fixed_clock(void *ctx) {
  (void)ctx;
  return 1767225600; /* 2026-01-01T00:00:00Z */
}

static tm_db *open_db(void) {
  static int n;
  char path[512];
  tm_db *db = NULL;

  snprintf(path, sizeof path, "%s/tmx-%d.sqlite", check_tmpdir(), ++n);
  if (tm_db_open(path, TM_OPEN_NOSEED, &db) != TM_OK) {
    fprintf(stderr, "# open %s: %s\n", path, tm_db_errmsg(db));
    check_failed++;
    tm_db_close(db);
    return NULL;
  }
  tm_db_set_clock(db, fixed_clock, NULL);
  return db;
}

static char *fixture(const char *name) {
  const char *dir = getenv("TM_TEST_DATA");
  return tm__asprintf("%s/tmx/%s", dir ? dir : "tests/data", name);
}

static tm_status import_path(tm_db *db, const char *path, const char *coll,
                             tm_import_result *res) {
  tm_import_opts o = {.format = TM_FORMAT_TMX, .collection = coll};
  tm_import_result local;
  return tm_import_file(db, path, &o, res ? res : &local);
}

static tm_status import_fixture(tm_db *db, const char *name,
                                tm_import_result *res) {
  char *path = fixture(name);
  tm_status s = import_path(db, path, NULL, res);
  free(path);
  return s;
}

static tm_status import_mem(tm_db *db, const char *name, const char *s,
                            size_t len, tm_import_result *res) {
  tm_import_opts o = {.format = TM_FORMAT_TMX, .name = name};
  tm_import_result local;
  return tm_import_buffer(db, s, len, &o, res ? res : &local);
}

static tm_status export_tmx(tm_db *db, const char *coll,
                            const char *const *langs, size_t nlangs,
                            check_sink *out) {
  tm_export_opts o = {.format = TM_FORMAT_TMX,
                      .collection = coll,
                      .langs = langs,
                      .nlangs = nlangs};
  return tm_export(db, &o, check_sink_write, out);
}

/* Everything a memory holds, as text in id order (ids left out): the
 * variants by language with their markup, the origin and the props. */
static char *dump(tm_db *db, const char *coll) {
  sqlite3_stmt *u = NULL, *v = NULL, *p = NULL;
  sqlite3_str *s = sqlite3_str_new(db->sql);
  char *out, *copy;

  sqlite3_prepare_v2(db->sql,
                     "SELECT u.id,u.origin,u.note FROM units u JOIN "
                     "collections c ON c.id=u.collection WHERE c.kind=1 AND "
                     "c.name=?1 AND u.deleted=0 ORDER BY u.id",
                     -1, &u, NULL);
  sqlite3_prepare_v2(db->sql,
                     "SELECT lang,text,markup FROM variants WHERE unit=?1 "
                     "ORDER BY lang",
                     -1, &v, NULL);
  sqlite3_prepare_v2(db->sql,
                     "SELECT lang,type,value FROM props WHERE unit=?1 "
                     "ORDER BY rowid",
                     -1, &p, NULL);
  sqlite3_bind_text(u, 1, coll ? coll : "default", -1, SQLITE_STATIC);
  while (sqlite3_step(u) == SQLITE_ROW) {
    sqlite3_str_appendf(s, "unit origin=%s note=%s\n",
                        sqlite3_column_text(u, 1), sqlite3_column_text(u, 2));
    sqlite3_bind_int64(v, 1, sqlite3_column_int64(u, 0));
    while (sqlite3_step(v) == SQLITE_ROW)
      sqlite3_str_appendf(s, " %s=[%s] markup=[%s]\n",
                          sqlite3_column_text(v, 0), sqlite3_column_text(v, 1),
                          sqlite3_column_text(v, 2));
    sqlite3_reset(v);
    sqlite3_bind_int64(p, 1, sqlite3_column_int64(u, 0));
    while (sqlite3_step(p) == SQLITE_ROW)
      sqlite3_str_appendf(s, " prop %s/%s=[%s]\n", sqlite3_column_text(p, 0),
                          sqlite3_column_text(p, 1), sqlite3_column_text(p, 2));
    sqlite3_reset(p);
  }
  sqlite3_finalize(u);
  sqlite3_finalize(v);
  sqlite3_finalize(p);
  out = sqlite3_str_finish(s);
  copy = tm__strdup(out ? out : "");
  sqlite3_free(out);
  return copy;
}

/* One value from SQL with ?1 bound to ARG (may be NULL); a malloc'd copy
 * or NULL. */
static char *query(tm_db *db, const char *sql, const char *arg) {
  sqlite3_stmt *st = NULL;
  char *r = NULL;

  if (sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL) != SQLITE_OK)
    return NULL;
  if (arg)
    sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
    r = tm__strdup((const char *)sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  return r;
}

static long long query_int(tm_db *db, const char *sql, const char *arg) {
  char *s = query(db, sql, arg);
  long long n = s ? atoll(s) : -1;
  free(s);
  return n;
}

static long long units(tm_db *db) {
  return query_int(db, "SELECT count(*) FROM units WHERE deleted=0", NULL);
}

/* The text of the variant in LANG of the unit whose en text is EN. */
static char *text_of(tm_db *db, const char *en, const char *lang) {
  sqlite3_stmt *st = NULL;
  char *r = NULL;

  sqlite3_prepare_v2(db->sql,
                     "SELECT b.text FROM variants a JOIN variants b ON "
                     "b.unit=a.unit WHERE a.lang='en' AND a.text=?1 AND "
                     "b.lang=?2",
                     -1, &st, NULL);
  sqlite3_bind_text(st, 1, en, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, lang, -1, SQLITE_STATIC);
  if (sqlite3_step(st) == SQLITE_ROW)
    r = tm__strdup((const char *)sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  return r;
}

static char *markup_of(tm_db *db, const char *lang, const char *text) {
  sqlite3_stmt *st = NULL;
  char *r = NULL;

  sqlite3_prepare_v2(db->sql,
                     "SELECT markup FROM variants WHERE lang=?1 AND text=?2",
                     -1, &st, NULL);
  sqlite3_bind_text(st, 1, lang, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
    r = tm__strdup((const char *)sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  return r;
}

#define CHECK_TEXT(db, en, lang, want)                                         \
  do {                                                                         \
    char *got_ = text_of(db, en, lang);                                        \
    CHECK_STR(got_, want);                                                     \
    free(got_);                                                                \
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

/* ------------------------------------------------------------- import */

TEST(import_tmx14_props_notes_inline) {
  tm_db *db = open_db();
  tm_import_result r;
  char *m;

  if (!db)
    return;
  CHECK_INT(import_fixture(db, "full14.tmx", &r), TM_OK);
  CHECK_INT(r.records, 5);
  CHECK_INT(r.duplicates, 0);
  CHECK_INT(r.kind, TM_MEMORY);

  /* Entities and character references decoded; whitespace kept. */
  CHECK_TEXT(db, "Prisoners of war & the Geneva Conventions", "ko",
             "전쟁포로와 제네바 협약");
  CHECK_TEXT(db, "Prisoners of war & the Geneva Conventions", "uk",
             "Військовополонені та Женевські конвенції");
  CHECK_TEXT(db, "  Leading and trailing spaces, a tab\tand\na newline  ", "uk",
             "Символи: \xE2\x80\x99 \xC3\xA9 <tag> \"q\" 'a' <raw> & text");

  /* Inline code left out of the text, <hi> kept, <sub> left out. */
  CHECK_TEXT(db, "Press Save to keep .", "uk",
             "Натисніть Зберегти, щоб зберегти .");
  CHECK_TEXT(db, "A highlighted word and a note.", "ko", "강조된 단어와 각주.");
  CHECK_TEXT(db, "Isolated italic and bold", "ko", "고립된 기울임과 굵게");

  /* The segment as written, for the export. */
  m = markup_of(db, "en", "Press Save to keep .");
  CHECK_STR(m, "Press <bpt i=\"1\" x=\"1\">&lt;b&gt;</bpt>Save<ept "
               "i=\"1\">&lt;/b&gt;</ept> to keep <ph x=\"2\">%s</ph>.");
  free(m);
  m = markup_of(db, "ko", "강조된 단어와 각주.");
  CHECK_STR(m, "<hi type=\"emphasis\">강조된</hi> 단어와 각주<ph "
               "type=\"fnote\">{\\footnote <sub>각주</sub>}</ph>.");
  free(m);
  /* No element, no markup (CDATA is text). */
  m = markup_of(db, "en", "Prisoners of war & the Geneva Conventions");
  CHECK(m == NULL);
  free(m);
  m = query(db, "SELECT count(*) FROM variants WHERE markup IS NOT NULL", NULL);
  CHECK_STR(m, "6");
  free(m);

  /* x-origin is the origin; the other props and the notes are kept in
   * place; the header's are not a unit's. */
  m = query(db, "SELECT origin FROM units WHERE origin IS NOT NULL", NULL);
  CHECK_STR(m, "webinar-1");
  free(m);
  m = query(db,
            "SELECT group_concat(lang||'/'||coalesce(type,'note')||'='||"
            "value,'|') FROM (SELECT * FROM props ORDER BY rowid)",
            NULL);
  CHECK_STR(m, "/x-domain=military|/note=checked by the booth|"
               "en/x-speaker=moderator|ko/note=spacing varies");
  free(m);
  tm_db_close(db);
}

TEST(import_tmx11_lang_attribute) {
  tm_db *db = open_db();
  tm_import_result r;
  char *m;

  if (!db)
    return;
  CHECK_INT(import_fixture(db, "tmx11.tmx", &r), TM_OK);
  CHECK_INT(r.records, 2);
  m = query(db, "SELECT text FROM variants WHERE lang='ko-KR'", NULL);
  CHECK_STR(m, "안녕하세요");
  free(m);
  m = query(db,
            "SELECT group_concat(lang,',') FROM (SELECT DISTINCT lang "
            "FROM variants ORDER BY lang)",
            NULL);
  CHECK_STR(m, "en-US,ko-KR,uk-UA");
  free(m);
  m = query(db, "SELECT origin FROM units WHERE origin IS NOT NULL", NULL);
  CHECK_STR(m, "tmx11");
  free(m);
  tm_db_close(db);
}

TEST(import_encodings) {
  static const char *const files[] = {"utf16le-bom.tmx", "utf16be-bom.tmx",
                                      "utf8-bom.tmx", "all-srclang.tmx"};

  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    tm_db *db = open_db();
    tm_import_result r;
    tm_status s;

    if (!db)
      return;
    s = import_fixture(db, files[i], &r);
    if (s != TM_OK)
      fprintf(stderr, "# %s: %s\n", files[i], tm_db_errmsg(db));
    CHECK_INT(s, TM_OK);
    CHECK_INT(r.records, 2);
    CHECK_TEXT(db, "Russia", "uk", "Росія");
    {
      char *m = query(db, "SELECT text FROM variants WHERE lang='ko'", NULL);
      CHECK_STR(m, "북한군");
      free(m);
    }
    tm_db_close(db);
  }
}

TEST(import_language_case) {
  tm_db *db = open_db();
  char *m;

  if (!db)
    return;
  CHECK_INT(import_fixture(db, "mixed-case.tmx", NULL), TM_OK);
  m = query(db,
            "SELECT group_concat(lang,',') FROM (SELECT lang FROM "
            "variants ORDER BY lang)",
            NULL);
  CHECK_STR(m, "en-GB,ko-KR,sr-Latn-RS,uk,zh-Hant-TW");
  free(m);
  tm_db_close(db);
}

TEST(import_empty_body) {
  tm_db *db = open_db();
  tm_import_result r;

  if (!db)
    return;
  CHECK_INT(import_fixture(db, "empty-body.tmx", &r), TM_OK);
  CHECK_INT(r.records, 0);
  CHECK_INT(units(db), 0);
  tm_db_close(db);
}

TEST(import_skips_what_is_not_a_unit) {
  tm_db *db = open_db();
  tm_import_result r;
  char *m;

  if (!db)
    return;
  CHECK_INT(import_fixture(db, "skip.tmx", &r), TM_OK);
  CHECK_INT(r.records, 2);
  /* The first of two fr-CA variants is the unit's, with its prop. */
  CHECK_TEXT(db, "Hello world", "fr-CA", "Bonjour le monde");
  CHECK_TEXT(db, "Blank segments give no variant", "uk",
             "Порожні сегменти не дають варіанта");
  m = text_of(db, "Blank segments give no variant", "ko");
  CHECK(m == NULL);
  free(m);
  m = query(db,
            "SELECT group_concat(lang||'/'||coalesce(type,'note')||'='||"
            "value,'|') FROM (SELECT * FROM props ORDER BY rowid)",
            NULL);
  CHECK_STR(m, "fr-CA/x-which=first");
  free(m);
  tm_db_close(db);
}

/* -------------------------------------------------------- bad input */

typedef struct bad_case {
  const char *file;
  tm_status status;
  const char *where; /* ":LINE:" expected in the message, or NULL */
  const char *says;  /* expected in the message, or NULL */
} bad_case;

TEST(import_refuses_bad_files_all_or_nothing) {
  static const bad_case cases[] = {
      {"bad-malformed.tmx", TM_PARSE, "bad-malformed.tmx:7:", "mismatch"},
      {"bad-undefined-entity.tmx", TM_PARSE,
       "bad-undefined-entity.tmx:7:", "nbsp"},
      {"bad-undefined-entity2.tmx", TM_PARSE,
       "bad-undefined-entity2.tmx:6:", "copy"},
      {"bad-external-entity.tmx", TM_PARSE,
       "bad-external-entity.tmx:3:", "entities"},
      {"bad-laughs.tmx", TM_PARSE, "bad-laughs.tmx:15:", "never expanded"},
      {"bad-attr-entity.tmx", TM_PARSE, "bad-attr-entity.tmx:3:", "entities"},
      {"bad-utf8.tmx", TM_UTF8, "bad-utf8.tmx:7:", "UTF-8"},
      {"bad-lang.tmx", TM_LANG, "bad-lang.tmx:7:", "not a tag!"},
      {"bad-truncated.tmx", TM_PARSE, "bad-truncated.tmx:25:", "ends before"},
      {"bad-root.tmx", TM_PARSE, "bad-root.tmx:2:", "martif"},
  };
  tm_db *db = open_db();
  char *before, *after;

  if (!db)
    return;
  /* Something to keep: a failed import must leave it as it was. */
  CHECK_INT(import_fixture(db, "full14.tmx", NULL), TM_OK);
  before = dump(db, NULL);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const bad_case *c = &cases[i];
    tm_import_result r = {.records = 99, .duplicates = 99};
    tm_status s = import_fixture(db, c->file, &r);
    const char *msg = tm_db_errmsg(db);

    fprintf(stderr, "# %s: %s: %s\n", c->file, tm_status_name(s), msg);
    CHECK_INT(s, c->status);
    CHECK_INT(r.records, 0);
    if (c->where)
      CHECK_HAS(msg, c->where);
    if (c->says)
      CHECK_HAS(msg, c->says);
    /* Nothing of /etc/passwd, ever. */
    CHECK(strstr(msg, "root:") == NULL);
    after = dump(db, NULL);
    CHECK_STR(after, before);
    free(after);
  }
  CHECK_INT(query_int(db,
                      "SELECT count(*) FROM variants WHERE text LIKE "
                      "'%root:%' OR text LIKE '%lollol%'",
                      NULL),
            0);
  free(before);
  tm_db_close(db);
}

TEST(import_small_documents) {
  static const struct {
    const char *doc;
    tm_status status;
    const char *says;
  } cases[] = {
      {"", TM_PARSE, "odd.tmx:1: not a TMX document"},
      {"  \n", TM_PARSE, "not a TMX document"},
      {"<tmx/>", TM_OK, NULL},
      /* A DTD is never read, from a file or from the network. */
      {"<!DOCTYPE tmx SYSTEM \"file:///etc/passwd\">\n<tmx><body><tu>"
       "<tuv xml:lang='en'><seg>a</seg></tuv><tuv xml:lang='ko'><seg>b</seg>"
       "</tuv></tu></body></tmx>",
       TM_OK, NULL},
      {"<!DOCTYPE tmx SYSTEM \"http://127.0.0.1:9/tmx14.dtd\">\n<tmx><body>"
       "<tu><tuv xml:lang='en'><seg>c</seg></tuv><tuv xml:lang='ko'><seg>d"
       "</seg></tuv></tu></body></tmx>",
       TM_OK, NULL},
      {"<tmx><body><tu><tuv xml:lang='en'><seg>a</seg></tuv><tuv "
       "xml:lang='ko'><seg>b</seg></tuv></tu></body></tmx>\n<x/>",
       TM_PARSE, "odd.tmx:2: malformed XML: Extra content"},
      {"<tmx><body>\n<tu><tuv><seg>a</seg></tuv></tu></body></tmx>", TM_PARSE,
       "odd.tmx:2: a <tuv> without xml:lang"},
      {"<tmx><body><tu><tuv xml:lang='en'><seg>a&#x1b;</seg></tuv></tu>"
       "</body></tmx>",
       TM_PARSE, "odd.tmx:1: malformed XML"},
      {"<tmx><body><tu><tuv xml:lang='en'><seg>a</seg></tuv><tuv "
       "xml:lang='ko'><seg>b</seg></tuv><tu></tu></tu></body></tmx>",
       TM_PARSE, "a <tu> inside a <tu>"},
  };
  tm_db *db = open_db();

  if (!db)
    return;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    tm_status s =
        import_mem(db, "odd.tmx", cases[i].doc, strlen(cases[i].doc), NULL);
    if (s != cases[i].status)
      fprintf(stderr, "# case %zu: %s\n", i, tm_db_errmsg(db));
    CHECK_INT(s, cases[i].status);
    if (cases[i].says)
      CHECK_HAS(tm_db_errmsg(db), cases[i].says);
  }
  CHECK_INT(units(db), 2);
  tm_db_close(db);
}

TEST(import_refuses_overlong_segment) {
  static const char head[] = "<tmx version=\"1.4\"><header/><body>\n<tu>\n"
                             "<tuv xml:lang=\"en\"><seg>";
  static const char tail[] = "</seg></tuv>\n<tuv xml:lang=\"ko\"><seg>x</seg>"
                             "</tuv>\n</tu></body></tmx>\n";
  size_t n = TM_TEXT_MAX + 10, len = sizeof head - 1 + n + sizeof tail - 1;
  char *doc = malloc(len);
  tm_db *db = open_db();
  tm_status s;

  if (!db || !doc) {
    free(doc);
    tm_db_close(db);
    return;
  }
  memcpy(doc, head, sizeof head - 1);
  memset(doc + sizeof head - 1, 'a', n);
  memcpy(doc + sizeof head - 1 + n, tail, sizeof tail - 1);
  s = import_mem(db, "long.tmx", doc, len, NULL);
  CHECK_INT(s, TM_TOOBIG);
  CHECK_HAS(tm_db_errmsg(db), "long.tmx:3:");
  CHECK_INT(units(db), 0);
  free(doc);
  tm_db_close(db);
}

/* Line numbers past libxml2's 16 bits are still exact. */
TEST(import_error_line_past_65535) {
  sqlite3_str *s = sqlite3_str_new(NULL);
  tm_db *db = open_db();
  char *doc;
  int line = 4, bad_line = 0; /* of the next <tu> */
  tm_status st;

  if (!db) {
    sqlite3_free(sqlite3_str_finish(s));
    return;
  }
  sqlite3_str_appendall(s, "<?xml version=\"1.0\"?>\n<tmx version=\"1.4\">"
                           "<header/>\n<body>\n");
  for (int i = 0; i < 20000; i++) {
    bool bad = i == 19000;
    sqlite3_str_appendf(
        s,
        "<tu>\n<tuv xml:lang=\"en\"><seg>unit %d</seg></tuv>\n"
        "<tuv xml:lang=\"%s\"><seg>단위 %d</seg></tuv>\n</tu>\n",
        i, bad ? "e!" : "ko", i);
    if (bad)
      bad_line = line + 2; /* its second <tuv> */
    line += 4;
  }
  sqlite3_str_appendall(s, "</body>\n</tmx>\n");
  doc = sqlite3_str_finish(s);
  CHECK(bad_line > 65535);
  st = import_mem(db, "lines.tmx", doc, strlen(doc), NULL);
  CHECK_INT(st, TM_LANG);
  {
    char want[64];
    snprintf(want, sizeof want, "lines.tmx:%d:", bad_line);
    CHECK_HAS(tm_db_errmsg(db), want);
  }
  CHECK_INT(units(db), 0);
  sqlite3_free(doc);
  tm_db_close(db);
}

typedef struct progress_log {
  int calls;
  uint64_t last_bytes, last_records;
  int cancel_at;
} progress_log;

static int on_progress(void *ctx, uint64_t done, uint64_t total,
                       uint64_t records) {
  progress_log *p = ctx;
  (void)total;
  p->calls++;
  CHECK(done >= p->last_bytes);
  p->last_bytes = done;
  p->last_records = records;
  return p->cancel_at && p->calls >= p->cancel_at;
}

TEST(import_progress_and_cancel) {
  sqlite3_str *s = sqlite3_str_new(NULL);
  tm_db *db = open_db();
  tm_import_opts o = {.format = TM_FORMAT_TMX, .name = "many.tmx"};
  tm_import_result r;
  progress_log log = {0};
  char *doc;
  size_t len;

  if (!db) {
    sqlite3_free(sqlite3_str_finish(s));
    return;
  }
  sqlite3_str_appendall(s, "<tmx version=\"1.4\"><header/><body>\n");
  for (int i = 0; i < 2500; i++)
    sqlite3_str_appendf(s,
                        "<tu><tuv xml:lang=\"en\"><seg>unit %d</seg></tuv>"
                        "<tuv xml:lang=\"uk\"><seg>одиниця %d</seg></tuv>"
                        "</tu>\n",
                        i, i);
  sqlite3_str_appendall(s, "</body></tmx>\n");
  len = (size_t)sqlite3_str_length(s);
  doc = sqlite3_str_finish(s);
  o.progress = on_progress;
  o.progress_ctx = &log;

  log.cancel_at = 2;
  CHECK_INT(tm_import_buffer(db, doc, len, &o, &r), TM_CANCELLED);
  CHECK_INT(units(db), 0);

  memset(&log, 0, sizeof log);
  CHECK_INT(tm_import_buffer(db, doc, len, &o, &r), TM_OK);
  CHECK_INT(r.records, 2500);
  CHECK(log.calls >= 2);
  CHECK_INT(log.last_bytes, len);
  CHECK_INT(log.last_records, 2500);
  sqlite3_free(doc);
  tm_db_close(db);
}

/* ------------------------------------------------------------- export */

TEST(export_round_trip) {
  tm_db *a = open_db(), *b = open_db();
  check_sink one = {0}, two = {0};
  char *da, *db_;
  tm_import_result r;

  if (!a || !b) {
    tm_db_close(a);
    tm_db_close(b);
    return;
  }
  CHECK_INT(import_fixture(a, "full14.tmx", NULL), TM_OK);
  CHECK_INT(export_tmx(a, NULL, NULL, 0, &one), TM_OK);
  CHECK(one.p != NULL);
  if (!one.p)
    goto out;
  CHECK(strncmp(one.p, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>", 38) == 0);
  CHECK_HAS(one.p, "<tmx version=\"1.4\">");
  CHECK_HAS(one.p, "srclang=\"*all*\"");
  CHECK_HAS(one.p, "creationdate=\"20260101T000000Z\"");
  CHECK_HAS(one.p, "<prop type=\"x-origin\">webinar-1</prop>");
  CHECK_HAS(one.p, "<tuv xml:lang=\"ko\"><note>spacing varies</note><seg>");
  CHECK_HAS(one.p, "<seg>Press <bpt i=\"1\" x=\"1\">&lt;b&gt;</bpt>Save");
  CHECK_HAS(one.p, "&amp; the Geneva");

  CHECK_INT(import_mem(b, "one.tmx", one.p, one.len, &r), TM_OK);
  CHECK_INT(r.records, 5);
  da = dump(a, NULL);
  db_ = dump(b, NULL);
  CHECK_STR(db_, da);
  free(da);
  free(db_);
  CHECK_INT(export_tmx(b, NULL, NULL, 0, &two), TM_OK);
  /* Same ids, same clock: the same bytes. */
  CHECK_STR(two.p, one.p);
out:
  free(one.p);
  free(two.p);
  tm_db_close(a);
  tm_db_close(b);
}

TEST(export_languages) {
  static const char *const langs[] = {"KO", "en"};
  tm_db *db = open_db();
  check_sink out = {0};
  tm_db *back = open_db();
  tm_import_result r;
  char *m;

  if (!db || !back) {
    tm_db_close(db);
    tm_db_close(back);
    return;
  }
  CHECK_INT(import_fixture(db, "full14.tmx", NULL), TM_OK);
  CHECK_INT(export_tmx(db, NULL, langs, 2, &out), TM_OK);
  CHECK_HAS(out.p, "srclang=\"ko\"");
  /* ko first, as asked; the units with neither language are left out. */
  CHECK_HAS(out.p, "<tuv xml:lang=\"ko\"><note>spacing varies</note><seg>"
                   "전쟁포로와 제네바 협약</seg></tuv>\n<tuv xml:lang=\"en\">");
  CHECK(out.p && strstr(out.p, "xml:lang=\"uk\"") == NULL);
  CHECK_INT(import_mem(back, "langs.tmx", out.p, out.len, &r), TM_OK);
  /* Units left with one language are not units. */
  CHECK_INT(r.records, 3);
  m = query(back,
            "SELECT count(*) FROM units u WHERE (SELECT count(*) FROM "
            "variants WHERE unit=u.id)=1",
            NULL);
  CHECK_STR(m, "0");
  free(m);
  free(out.p);
  out = (check_sink){0};
  {
    static const char *const bad[] = {"en", "not a tag"};
    CHECK_INT(export_tmx(db, NULL, bad, 2, &out), TM_LANG);
  }
  free(out.p);
  tm_db_close(db);
  tm_db_close(back);
}

TEST(export_markup_checked) {
  tm_db *db = open_db();
  check_sink out = {0};

  if (!db)
    return;
  CHECK_INT(import_fixture(db, "full14.tmx", NULL), TM_OK);
  /* Text edited after the import: the markup is stale and gives way. */
  CHECK_INT(sqlite3_exec(db->sql,
                         "UPDATE variants SET text='Press Save now.' WHERE "
                         "text='Press Save to keep .'",
                         NULL, NULL, NULL),
            SQLITE_OK);
  /* Markup that would break out of its <seg>. */
  CHECK_INT(sqlite3_exec(db->sql,
                         "UPDATE variants SET markup='x</seg></tuv><tuv "
                         "xml:lang=\"xx\"><seg>y' WHERE lang='ko' AND "
                         "text LIKE '고립된%'",
                         NULL, NULL, NULL),
            SQLITE_OK);
  CHECK_INT(export_tmx(db, NULL, NULL, 0, &out), TM_OK);
  CHECK_HAS(out.p, "<seg>Press Save now.</seg>");
  CHECK_HAS(out.p, "<seg>고립된 기울임과 굵게</seg>");
  CHECK(out.p && strstr(out.p, "xml:lang=\"xx\"") == NULL);
  /* The untouched ones keep their tags. */
  CHECK_HAS(out.p, "<ph type=\"fnote\">{\\footnote <sub>Note text</sub>}");
  free(out.p);
  tm_db_close(db);
}

TEST(export_refuses_what_xml_cannot_carry) {
  tm_db *db = open_db();
  check_sink out = {0};
  tm_unit u = {0};
  int64_t id;

  if (!db)
    return;
  CHECK_INT(tm_unit_set(&u, "en", "escape \x1B here"), TM_OK);
  CHECK_INT(tm_unit_set(&u, "uk", "тут"), TM_OK);
  /* The ingest refuses such text; a database written otherwise (an older
   * version, another tool) may still hold it, and the export says so. */
  CHECK_INT(tm_unit_add(db, NULL, &u, NULL, &id, NULL), TM_INVALID);
  CHECK_INT(tm_unit_set(&u, "en", "escape here"), TM_OK);
  CHECK_INT(tm_unit_add(db, NULL, &u, NULL, &id, NULL), TM_OK);
  CHECK_INT(sqlite3_exec(db->sql,
                         "UPDATE variants SET text='escape '||char(27)||' "
                         "here' WHERE lang='en'",
                         NULL, NULL, NULL),
            SQLITE_OK);
  tm__unit_clear(&u);
  CHECK_INT(export_tmx(db, NULL, NULL, 0, &out), TM_INVALID);
  CHECK_HAS(tm_db_errmsg(db), "XML 1.0");
  free(out.p);
  tm_db_close(db);
}

TEST(export_write_failure) {
  tm_db *db = open_db();
  check_sink out = {.fail_after = 100};

  if (!db)
    return;
  CHECK_INT(import_fixture(db, "full14.tmx", NULL), TM_OK);
  CHECK_INT(export_tmx(db, NULL, NULL, 0, &out), TM_IO);
  free(out.p);
  tm_db_close(db);
}

TEST(export_empty_memory) {
  tm_db *db = open_db(), *back = open_db();
  check_sink out = {0};
  tm_import_result r;

  if (!db || !back) {
    tm_db_close(db);
    tm_db_close(back);
    return;
  }
  CHECK_INT(export_tmx(db, NULL, NULL, 0, &out), TM_OK);
  CHECK_HAS(out.p, "<body>");
  CHECK_INT(import_mem(back, "empty.tmx", out.p, out.len, &r), TM_OK);
  CHECK_INT(r.records, 0);
  free(out.p);
  tm_db_close(db);
  tm_db_close(back);
}

/* ------------------------------------------------- shared samples */

static int name_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

TEST(shared_exchange_samples_round_trip) {
  const char *shared = check_shared_dir();
  char *dir, *names[64];
  size_t n = 0;
  DIR *d;
  struct dirent *de;

  if (!shared)
    SKIP("no shared data");
  dir = tm__asprintf("%s/data/exchange/tmx", shared);
  if (!(d = opendir(dir))) {
    free(dir);
    SKIP("no shared TMX samples");
  }
  while ((de = readdir(d)) && n < 64) {
    size_t len = strlen(de->d_name);
    if (len > 4 && strcmp(de->d_name + len - 4, ".tmx") == 0)
      names[n++] = tm__strdup(de->d_name);
  }
  closedir(d);
  qsort(names, n, sizeof *names, name_cmp);
  CHECK(n >= 20);
  for (size_t i = 0; i < n; i++) {
    char *path = tm__asprintf("%s/%s", dir, names[i]);
    tm_db *a = open_db(), *b = open_db();
    tm_import_result ra, rb;
    check_sink out = {0};
    tm_status s;

    if (!a || !b) {
      tm_db_close(a);
      tm_db_close(b);
      free(path);
      continue;
    }
    s = import_path(a, path, NULL, &ra);
    if (s != TM_OK)
      fprintf(stderr, "# %s: %s\n", names[i], tm_db_errmsg(a));
    CHECK_INT(s, TM_OK);
    CHECK_INT(export_tmx(a, NULL, NULL, 0, &out), TM_OK);
    s = import_mem(b, names[i], out.p ? out.p : "", out.len, &rb);
    if (s != TM_OK)
      fprintf(stderr, "# %s, exported: %s\n", names[i], tm_db_errmsg(b));
    CHECK_INT(s, TM_OK);
    CHECK_INT(rb.records, ra.records);
    CHECK_INT(units(b), units(a));
    {
      char *da = dump(a, NULL), *db_ = dump(b, NULL);
      CHECK_STR(db_, da);
      free(da);
      free(db_);
    }
    printf("# %s: %llu units, %llu duplicates\n", names[i],
           (unsigned long long)ra.records, (unsigned long long)ra.duplicates);
    free(out.p);
    tm_db_close(a);
    tm_db_close(b);
    free(path);
  }
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(dir);
}

/* What the samples say they hold, checked where it is specific. */
TEST(shared_exchange_samples_content) {
  const char *shared = check_shared_dir();
  tm_db *db;
  char *path, *m;

  if (!shared)
    SKIP("no shared data");
  if (!(db = open_db()))
    return;
  path = tm__asprintf("%s/data/exchange/tmx/omegat-test-multiple-tuv14.tmx",
                      shared);
  CHECK_INT(import_path(db, path, "multi", NULL), TM_OK);
  free(path);
  /* Two FR-CA variants in one tu: the first is kept. */
  m = query(db, "SELECT text FROM variants WHERE lang='fr-CA'", NULL);
  CHECK_STR(m, "fr_CA Bonjour le monde\xC2\xA0!");
  free(m);
  path = tm__asprintf("%s/data/exchange/tmx/lisa-ImportTest1E.tmx", shared);
  CHECK_INT(import_path(db, path, "refs", NULL), TM_OK);
  free(path);
  /* Character references and literal characters compare equal. */
  CHECK_INT(query_int(db,
                      "SELECT count(*) FROM variants a JOIN variants b ON "
                      "a.unit=b.unit AND a.lang='en-US' AND b.lang='en-GB' "
                      "JOIN units u ON u.id=a.unit JOIN collections c ON "
                      "c.id=u.collection AND c.name='refs' WHERE "
                      "a.text=b.text",
                      NULL),
            3);
  path = tm__asprintf("%s/data/exchange/tmx/okapi-sample14b.tmx", shared);
  CHECK_INT(import_path(db, path, "okapi", NULL), TM_OK);
  free(path);
  m = query(db, "SELECT markup FROM variants WHERE markup LIKE '<ph x=\"1\">%'",
            NULL);
  CHECK_HAS(m, "<ph x=\"1\">\\n</ph>");
  free(m);
  tm_db_close(db);
}

TEST(corpus_sample) {
  const char *shared = check_shared_dir();
  tm_import_result r;
  tm_db *db, *back;
  check_sink out = {0};
  char *path, *m;

  if (!shared)
    SKIP("no shared data");
  path = tm__asprintf("%s/data/corpus/en-ko-uk.sample.tmx", shared);
  {
    struct stat sb;
    if (stat(path, &sb) != 0) {
      free(path);
      SKIP("no corpus sample");
    }
  }
  db = open_db();
  back = open_db();
  if (!db || !back) {
    tm_db_close(db);
    tm_db_close(back);
    free(path);
    return;
  }
  CHECK_INT(import_path(db, path, NULL, &r), TM_OK);
  CHECK_INT(r.records + r.duplicates, 2000);
  CHECK_INT(r.records, 2000);
  CHECK_INT(units(db), 2000);
  /* Each unit has the three languages and its origin. */
  CHECK_INT(query_int(db,
                      "SELECT count(*) FROM units u WHERE origin IS NOT NULL "
                      "AND (SELECT group_concat(lang) FROM (SELECT lang FROM "
                      "variants WHERE unit=u.id ORDER BY lang))='en,ko,uk'",
                      NULL),
            2000);
  CHECK_TEXT(db, "Confirm Scaling", "ko", "배율 확인");
  CHECK_TEXT(db, "Confirm Scaling", "uk", "Підтвердження масштабування");
  m = query(db,
            "SELECT u.origin FROM units u JOIN variants v ON v.unit=u.id "
            "WHERE v.lang='en' AND v.text='Confirm Scaling'",
            NULL);
  CHECK_STR(m, "gimp20");
  free(m);
  CHECK_INT(query_int(db, "SELECT count(*) FROM props", NULL), 0);

  CHECK_INT(export_tmx(db, NULL, NULL, 0, &out), TM_OK);
  CHECK_INT(
      import_mem(back, "sample-again.tmx", out.p ? out.p : "", out.len, &r),
      TM_OK);
  CHECK_INT(r.records, 2000);
  {
    char *da = dump(db, NULL), *db_ = dump(back, NULL);
    CHECK_STR(db_, da);
    free(da);
    free(db_);
  }
  free(out.p);
  free(path);
  tm_db_close(db);
  tm_db_close(back);
}
