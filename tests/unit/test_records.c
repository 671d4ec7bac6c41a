/*
 * test_records.c - units, entries, their history, collections, tokens and
 * statistics (libtm/unit.c, entry.c, collection.c, token.c, record.c).
 */
#include "check.h"
#include "tm_internal.h"

static int64_t fake_now = 1764000000;

static int64_t clock_fn(void *ctx) {
  (void)ctx;
  return fake_now;
}

static tm_db *open_db(void) {
  tm_db *db = NULL;
  if (tm_db_open(":memory:", TM_OPEN_NOSEED, &db) != TM_OK) {
    fprintf(stderr, "open: %s\n", tm_db_errmsg(db));
    exit(1);
  }
  tm_db_set_clock(db, clock_fn, NULL);
  return db;
}

static int64_t count(tm_db *db, const char *sql) {
  sqlite3_stmt *st;
  int64_t n = -1;
  if (sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return n;
}

static const char *variant(const tm_unit *u, const char *lang) {
  for (size_t i = 0; u && i < u->nvariants; i++)
    if (strcmp(u->variants[i].lang, lang) == 0)
      return u->variants[i].text;
  return NULL;
}

TEST(unit_add_normalises_and_reads_back) {
  tm_db *db = open_db();
  tm_unit u = {0}, *got = NULL;
  tm_actor who = {7, "alice"};
  int64_t id;
  int created;

  tm_unit_set(&u, "EN_gb", "Two soldiers were captured.");
  tm_unit_set(&u, "ko", "\xE1\x84\x8C\xE1\x85\xA5\xE1\x86\xAB쟁"); /* NFD */
  u.origin = tm__strdup("webinar-2024-12");
  CHECK_INT(tm_unit_add(db, "event", &u, &who, &id, &created), TM_OK);
  CHECK(id > 0);
  CHECK_INT(created, 1);
  CHECK_INT(tm_unit_get(db, id, &got), TM_OK);
  CHECK_STR(variant(got, "en-GB"), "Two soldiers were captured.");
  CHECK_STR(variant(got, "ko"), "전쟁");
  CHECK_STR(got->memory, "event");
  CHECK_STR(got->origin, "webinar-2024-12");
  CHECK_STR(got->created_by, "token 7 (alice)");
  CHECK_INT(got->status, TM_DRAFT);
  CHECK_INT(got->created, fake_now);
  tm_unit_free(got);
  tm__unit_clear(&u);
  tm_db_close(db);
}

TEST(identical_unit_is_not_added_twice) {
  tm_db *db = open_db();
  tm_unit a = {0}, b = {0};
  int64_t id1, id2, id3;
  int created;

  tm_unit_set(&a, "en", "Kursk region");
  tm_unit_set(&a, "uk", "Курська область");
  /* The same text, languages given in another order. */
  tm_unit_set(&b, "uk", "Курська область");
  tm_unit_set(&b, "en", "Kursk region");
  CHECK_INT(tm_unit_add(db, NULL, &a, NULL, &id1, &created), TM_OK);
  CHECK_INT(created, 1);
  CHECK_INT(tm_unit_add(db, NULL, &b, NULL, &id2, &created), TM_OK);
  CHECK_INT(created, 0);
  CHECK_INT(id2, id1);
  /* Another memory is another collection. */
  CHECK_INT(tm_unit_add(db, "other", &b, NULL, &id3, &created), TM_OK);
  CHECK_INT(created, 1);
  CHECK(id3 != id1);
  /* A different text is a different unit. */
  tm_unit_set(&b, "uk", "Курщина");
  CHECK_INT(tm_unit_add(db, NULL, &b, NULL, &id3, &created), TM_OK);
  CHECK_INT(created, 1);
  CHECK_INT(count(db, "SELECT count(*) FROM units"), 3);
  CHECK_INT(count(db, "SELECT count(*) FROM history WHERE action='create'"), 3);
  tm__unit_clear(&a);
  tm__unit_clear(&b);
  tm_db_close(db);
}

TEST(bad_units_are_refused_and_store_nothing) {
  tm_db *db = open_db();
  tm_unit u = {0};
  int64_t id;
  int created;

  tm_unit_set(&u, "en", "Only one language");
  CHECK_INT(tm_unit_add(db, NULL, &u, NULL, &id, &created), TM_INVALID);
  CHECK(strstr(tm_db_errmsg(db), "two languages") != NULL);
  tm_unit_set(&u, "ko", "잘못된 \xFF 바이트");
  CHECK_INT(tm_unit_add(db, NULL, &u, NULL, &id, &created), TM_UTF8);
  tm_unit_set(&u, "ko", "   ");
  CHECK_INT(tm_unit_add(db, NULL, &u, NULL, &id, &created), TM_INVALID);
  tm_unit_set(&u, "ko", "좋아요");
  CHECK_INT(tm_unit_add(db, "bad name!", &u, NULL, &id, &created), TM_INVALID);
  CHECK_INT(tm_unit_set(&u, "not a tag", "x"), TM_LANG);
  CHECK_INT(count(db, "SELECT count(*) FROM units"), 0);
  CHECK_INT(count(db, "SELECT count(*) FROM history"), 0);
  tm__unit_clear(&u);
  tm_db_close(db);
}

TEST(unit_update_delete_and_history) {
  tm_db *db = open_db();
  tm_unit u = {0}, *got = NULL;
  tm_actor rev = {3, "reviewer"};
  tm_change *h = NULL;
  size_t n = 0;
  int64_t id;
  int created;

  tm_unit_set(&u, "en", "prisoner of war");
  tm_unit_set(&u, "uk", "військовополонений");
  CHECK_INT(tm_unit_add(db, NULL, &u, NULL, &id, &created), TM_OK);
  fake_now += 60;
  tm_unit_set(&u, "uk", "військовополонена");
  u.status = TM_APPROVED;
  CHECK_INT(tm_unit_update(db, id, &u, &rev), TM_OK);
  CHECK_INT(tm_unit_get(db, id, &got), TM_OK);
  CHECK_STR(variant(got, "uk"), "військовополонена");
  CHECK_INT(got->status, TM_APPROVED);
  CHECK_INT(got->updated, fake_now);
  tm_unit_free(got);

  CHECK_INT(tm_unit_delete(db, id, &rev), TM_OK);
  CHECK_INT(tm_unit_get(db, id, &got), TM_NOTFOUND);
  CHECK_INT(tm_unit_delete(db, id, &rev), TM_NOTFOUND);
  CHECK_INT(tm_unit_update(db, 999, &u, &rev), TM_NOTFOUND);

  CHECK_INT(tm_unit_history(db, id, &h, &n), TM_OK);
  CHECK_INT(n, 3);
  if (n == 3) {
    CHECK_STR(h[0].action, "create");
    CHECK(h[0].before == NULL);
    CHECK(strstr(h[0].after, "військовополонений") != NULL);
    CHECK_STR(h[1].action, "update");
    CHECK_STR(h[1].by, "token 3 (reviewer)");
    CHECK(strstr(h[1].before, "військовополонений") != NULL);
    CHECK(strstr(h[1].after, "військовополонена") != NULL);
    CHECK(strstr(h[1].after, "\"status\":\"approved\"") != NULL);
    CHECK_STR(h[2].action, "delete");
    CHECK(h[2].after == NULL);
  }
  tm_history_free(h, n);
  CHECK_INT(tm_unit_history(db, 424242, &h, &n), TM_NOTFOUND);
  tm__unit_clear(&u);
  tm_db_close(db);
}

static tm_entry *make_entry(const char *en, const char *ko, const char *uk) {
  tm_entry *e = calloc(1, sizeof *e);
  if (en)
    tm_entry_add_term(e, "en", en, TM_TERM_PREFERRED, TM_TERM_FULL, NULL);
  if (ko)
    tm_entry_add_term(e, "ko", ko, TM_TERM_PREFERRED, TM_TERM_FULL, NULL);
  if (uk)
    tm_entry_add_term(e, "uk", uk, TM_TERM_PREFERRED, TM_TERM_FULL, NULL);
  return e;
}

TEST(entry_lifecycle_with_keys_and_history) {
  tm_db *db = open_db();
  tm_entry *e = make_entry("prisoner of war", "전쟁포로", "військовополонений");
  tm_entry *got = NULL;
  tm_change *h = NULL;
  size_t n;
  int64_t id;

  tm_entry_add_term(e, "en", "POW", TM_TERM_ADMITTED, TM_TERM_ABBREVIATION,
                    "used in military documents");
  e->definition = tm__strdup("A combatant captured by the enemy.");
  e->domain = tm__strdup("international humanitarian law");
  CHECK_INT(tm_entry_add(db, "event", e, NULL, &id), TM_OK);
  CHECK_INT(tm_entry_get(db, id, &got), TM_OK);
  CHECK_INT(got->nterms, 4);
  CHECK_STR(got->glossary, "event");
  CHECK_INT(got->status, TM_DRAFT);
  CHECK_STR(got->domain, "international humanitarian law");
  for (size_t i = 0; i < got->nterms; i++)
    if (strcmp(got->terms[i].text, "POW") == 0) {
      CHECK_INT(got->terms[i].type, TM_TERM_ABBREVIATION);
      CHECK_INT(got->terms[i].status, TM_TERM_ADMITTED);
      CHECK_STR(got->terms[i].note, "used in military documents");
    }
  tm_entry_free(got);
  /* The search keys are stored with each term. */
  CHECK_INT(count(db, "SELECT count(*) FROM terms WHERE "
                      "translit='viiskovopolonenyi' AND fold="
                      "'військовополонений'"),
            1);
  CHECK_INT(count(db, "SELECT count(*) FROM terms WHERE initials='ㅈㅈㅍㄹ' "
                      "AND translit='jeonjaengporo'"),
            1);
  CHECK_INT(count(db, "SELECT count(*) FROM terms WHERE lang='en' AND "
                      "initials IS NULL AND translit=''"),
            2);

  CHECK_INT(tm_entry_approve(db, id, NULL), TM_OK);
  CHECK_INT(tm_entry_get(db, id, &got), TM_OK);
  CHECK_INT(got->status, TM_APPROVED);
  tm_entry_free(got);
  CHECK_INT(tm_entry_delete(db, id, NULL), TM_OK);
  CHECK_INT(tm_entry_get(db, id, &got), TM_NOTFOUND);
  CHECK_INT(tm_entry_approve(db, id, NULL), TM_NOTFOUND);
  CHECK_INT(tm_entry_history(db, id, &h, &n), TM_OK);
  CHECK_INT(n, 3);
  if (n == 3) {
    CHECK_STR(h[0].action, "create");
    CHECK(strstr(h[0].after, "\"POW\"") != NULL);
    CHECK(strstr(h[0].after, "\"abbreviation\"") != NULL);
    CHECK_STR(h[1].action, "approve");
    CHECK(strstr(h[1].before, "\"draft\"") != NULL);
    CHECK(strstr(h[1].after, "\"approved\"") != NULL);
    CHECK_STR(h[2].action, "delete");
  }
  tm_history_free(h, n);
  tm_entry_free(e);
  tm_db_close(db);
}

TEST(entry_without_terms_is_refused) {
  tm_db *db = open_db();
  tm_entry e = {0};
  int64_t id;

  CHECK_INT(tm_entry_add(db, NULL, &e, NULL, &id), TM_INVALID);
  tm_entry_add_term(&e, "uk", " ", TM_TERM_PREFERRED, TM_TERM_FULL, NULL);
  CHECK_INT(tm_entry_add(db, NULL, &e, NULL, &id), TM_INVALID);
  CHECK_INT(count(db, "SELECT count(*) FROM entries"), 0);
  tm__entry_clear(&e);
  tm_db_close(db);
}

/* Lists the glossary by LANG in pages of PAGE, joining the LANG terms. */
static void listing(tm_db *db, const char *lang, size_t page, char *out,
                    size_t cap) {
  char *after = NULL;
  size_t len = 0, pages = 0;

  out[0] = '\0';
  do {
    tm_entry **v = NULL;
    size_t n = 0;
    char *next = NULL;
    CHECK_INT(tm_entry_list(db, "g", lang, 0, after, page, &v, &n, &next),
              TM_OK);
    for (size_t i = 0; i < n; i++) {
      const char *t = "-";
      for (size_t k = 0; k < v[i]->nterms; k++)
        if (strcmp(v[i]->terms[k].lang, lang) == 0) {
          t = v[i]->terms[k].text;
          break;
        }
      len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? " " : "", t);
    }
    tm_entry_list_free(v, n);
    tm_free(after);
    after = next;
    pages++;
  } while (after && pages < 100);
}

TEST(entry_listing_in_collation_order_with_cursor) {
  tm_db *db = open_db();
  static const char *const uk[] = {"дах", "ґава", "гава", "їжак", "ікра",
                                   "йод", "ирій", "єра",  "ера"};
  static const char *const ko[] = {"하늘", "가방", "포로", "나라", "다리"};
  char got[512];
  int64_t id;

  for (size_t i = 0; i < 9; i++) {
    tm_entry *e = make_entry(NULL, i < 5 ? ko[i] : NULL, uk[i]);
    CHECK_INT(tm_entry_add(db, "g", e, NULL, &id), TM_OK);
    tm_entry_free(e);
  }
  listing(db, "uk", 2, got, sizeof got);
  CHECK_STR(got, "гава ґава дах ера єра ирій ікра їжак йод");
  listing(db, "uk", 100, got, sizeof got);
  CHECK_STR(got, "гава ґава дах ера єра ирій ікра їжак йод");
  /* Entries without a Korean term come last, in id order. */
  listing(db, "ko", 3, got, sizeof got);
  CHECK_STR(got, "가방 나라 다리 포로 하늘 - - - -");

  tm_entry **v;
  size_t n;
  char *next;
  CHECK_INT(tm_entry_list(db, "g", "uk", 0, "garbage", 5, &v, &n, &next),
            TM_INVALID);
  CHECK_INT(tm_entry_list(db, "nope", "uk", 0, NULL, 5, &v, &n, &next),
            TM_NOTFOUND);
  tm_db_close(db);
}

TEST(tokens_are_hashed_checked_and_revoked) {
  tm_db *db = open_db();
  char *secret = NULL, *label = NULL;
  int64_t id, got_id;
  tm_role role;
  tm_token_info *list;
  size_t n;

  CHECK_INT(tm_token_create(db, TM_ROLE_REVIEWER, "booth", &id, &secret),
            TM_OK);
  CHECK(secret && strncmp(secret, "tm_", 3) == 0 && strlen(secret) > 64);
  CHECK_INT(tm_token_check(db, secret, &got_id, &role, &label), TM_OK);
  CHECK_INT(got_id, id);
  CHECK_INT(role, TM_ROLE_REVIEWER);
  CHECK_STR(label, "booth");
  tm_free(label);

  /* Only the hash is stored: the secret appears nowhere in the table. */
  CHECK_INT(count(db, "SELECT count(*) FROM tokens WHERE typeof(hash)='blob' "
                      "AND length(hash)=32"),
            1);
  sqlite3_stmt *st;
  int found = 0;
  if (sqlite3_prepare_v2(db->sql, "SELECT quote(hash)||label FROM tokens", -1,
                         &st, NULL) == SQLITE_OK) {
    while (sqlite3_step(st) == SQLITE_ROW)
      found |= strstr((const char *)sqlite3_column_text(st, 0),
                      strrchr(secret, '_') + 1) != NULL;
    sqlite3_finalize(st);
  }
  CHECK(!found);

  /* A changed digit, a wrong id, garbage: all denied. */
  char *bad = tm__strdup(secret);
  bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == '0' ? '1' : '0';
  CHECK_INT(tm_token_check(db, bad, &got_id, &role, NULL), TM_DENIED);
  CHECK_INT(role, TM_ROLE_NONE);
  free(bad);
  CHECK_INT(tm_token_check(db, "tm_999_00", &got_id, &role, NULL), TM_DENIED);
  CHECK_INT(tm_token_check(db, "Bearer x", &got_id, &role, NULL), TM_DENIED);
  CHECK_INT(tm_token_check(db, "", &got_id, &role, NULL), TM_DENIED);

  CHECK_INT(tm_token_list(db, &list, &n), TM_OK);
  CHECK_INT(n, 1);
  CHECK_INT(list[0].revoked, 0);
  tm_token_list_free(list, n);
  CHECK_INT(tm_token_revoke(db, id), TM_OK);
  CHECK_INT(tm_token_check(db, secret, &got_id, &role, NULL), TM_REVOKED);
  CHECK_INT(got_id, id);
  CHECK_INT(role, TM_ROLE_NONE);
  bad = tm__strdup(secret);
  bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == '0' ? '1' : '0';
  CHECK_INT(tm_token_check(db, bad, &got_id, &role, NULL), TM_DENIED);
  free(bad);
  CHECK_INT(tm_token_revoke(db, id), TM_NOTFOUND);
  CHECK_INT(tm_token_create(db, TM_ROLE_NONE, NULL, &id, &label), TM_INVALID);
  tm_free(secret);
  tm_db_close(db);
}

TEST(stats_count_by_language) {
  tm_db *db = open_db();
  tm_collection *mem, *glo;
  size_t nm, ng;
  tm_unit u = {0};
  int64_t id;
  int created;

  tm_unit_set(&u, "en", "one");
  tm_unit_set(&u, "ko", "하나");
  CHECK_INT(tm_unit_add(db, NULL, &u, NULL, &id, &created), TM_OK);
  tm_unit_set(&u, "uk", "один");
  tm_unit_set(&u, "en", "One");
  CHECK_INT(tm_unit_add(db, NULL, &u, NULL, &id, &created), TM_OK);
  CHECK_INT(tm_unit_delete(db, id, NULL), TM_OK);
  tm_unit_set(&u, "en", "ONE");
  CHECK_INT(tm_unit_add(db, NULL, &u, NULL, &id, &created), TM_OK);
  CHECK_INT(tm_collection_create(db, TM_MEMORY, "default"), TM_EXISTS);
  CHECK_INT(tm_collection_create(db, TM_GLOSSARY, "../etc"), TM_INVALID);
  CHECK_INT(tm_collection_create(db, TM_MEMORY, "empty"), TM_OK);

  CHECK_INT(tm_stats(db, &mem, &nm, &glo, &ng), TM_OK);
  CHECK_INT(nm, 2);
  CHECK_INT(ng, 1);
  CHECK_STR(mem[0].name, "default");
  CHECK_INT(mem[0].records, 2);
  CHECK_INT(mem[0].nlangs, 3);
  if (mem[0].nlangs == 3) {
    CHECK_STR(mem[0].langs[0].lang, "en");
    CHECK_INT(mem[0].langs[0].count, 2);
    CHECK_STR(mem[0].langs[2].lang, "uk");
    CHECK_INT(mem[0].langs[2].count, 1);
  }
  CHECK_INT(mem[1].records, 0);
  tm_collection_list_free(mem, nm);
  tm_collection_list_free(glo, ng);
  tm__unit_clear(&u);
  tm_db_close(db);
}

TEST(enum_names_round_trip) {
  tm_record_status rs;
  tm_term_status ts;
  tm_term_type tt;
  tm_role r;
  tm_format f;

  CHECK_INT(tm_record_status_parse("approved", &rs), TM_OK);
  CHECK_STR(tm_record_status_name(rs), "approved");
  CHECK_INT(tm_term_status_parse("deprecated", &ts), TM_OK);
  CHECK_STR(tm_term_status_name(ts), "deprecated");
  CHECK_INT(tm_term_type_parse("abbreviation", &tt), TM_OK);
  CHECK_STR(tm_term_type_name(tt), "abbreviation");
  CHECK_INT(tm_role_parse("admin", &r), TM_OK);
  CHECK_INT(tm_role_parse("none", &r), TM_INVALID);
  CHECK_INT(tm_format_parse("tbx-martif", &f), TM_OK);
  CHECK_INT(f, TM_FORMAT_TBX_MARTIF);
  CHECK_INT(tm_format_from_path("/x/y/Glossary.CSV", &f), TM_OK);
  CHECK_INT(f, TM_FORMAT_CSV);
  CHECK_INT(tm_format_from_path("noext", &f), TM_INVALID);
  CHECK_INT(tm_format_from_path("dir.tmx/file", &f), TM_INVALID);
}

TEST(control_characters_are_refused) {
  tm_db *db = open_db();
  tm_unit u = {0};
  int64_t id;
  int created;

  tm_unit_set(&u, "en", "bell\a here");
  tm_unit_set(&u, "ko", "종");
  CHECK_INT(tm_unit_add(db, NULL, &u, NULL, &id, &created), TM_INVALID);
  CHECK(strstr(tm_db_errmsg(db), "control character at byte 4") != NULL);
  tm_unit_set(&u, "en", "tab\tand\nnew line\r\nare text");
  CHECK_INT(tm_unit_add(db, NULL, &u, NULL, &id, &created), TM_OK);
  tm__unit_clear(&u);
  tm_db_close(db);
}
