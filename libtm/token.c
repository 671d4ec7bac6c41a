/*
 * token.c - API tokens.  A token is "tm_<id>_<64 hex digits>": the id
 * finds the row, the 256 random bits are the secret.  Only the secret's
 * SHA-256 is stored, and it is compared in constant time, so neither a copy
 * of the database nor response timing gives a usable token away.
 */
#include "tm_internal.h"

#include <errno.h>
#include <nettle/memops.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define SECRET_BYTES 32

static void sha256(const char *s, size_t len, uint8_t out[SHA256_DIGEST_SIZE]) {
  struct sha256_ctx ctx;

  sha256_init(&ctx);
  sha256_update(&ctx, len, (const uint8_t *)s);
  sha256_digest(&ctx, SHA256_DIGEST_SIZE, out);
}

static tm_status random_bytes(uint8_t *buf, size_t n) {
  while (n > 0) {
    ssize_t got = getrandom(buf, n, 0);
    if (got < 0) {
      if (errno == EINTR)
        continue;
      return TM_IO;
    }
    buf += got;
    n -= (size_t)got;
  }
  return TM_OK;
}

tm_status tm_token_create(tm_db *db, tm_role role, const char *label,
                          int64_t *id, char **secret) {
  uint8_t raw[SECRET_BYTES], digest[SHA256_DIGEST_SIZE];
  char hex[SECRET_BYTES * 2 + 1];
  sqlite3_stmt *st;
  tm_status s;

  *secret = NULL;
  *id = 0;
  tm__clear_error(db);
  if (role < TM_ROLE_CONTRIBUTOR || role > TM_ROLE_ADMIN)
    return tm__error(db, TM_INVALID, "unknown role");
  if (label && (strlen(label) > 200 ||
                tm__utf8_check(label, strlen(label)) != strlen(label)))
    return tm__error(db, TM_INVALID,
                     "a label is valid UTF-8 of at most 200 bytes");
  if (random_bytes(raw, sizeof raw) != TM_OK)
    return tm__error(db, TM_IO, "no random source: %s", strerror(errno));
  for (size_t i = 0; i < sizeof raw; i++)
    sprintf(hex + 2 * i, "%02x", raw[i]);
  sha256(hex, sizeof hex - 1, digest);

  if ((s = tm__begin(db)) != TM_OK)
    return s;
  if (!(st = tm__stmt(db, TM__STMT_TOKEN_INSERT))) {
    s = TM_DB;
    goto fail;
  }
  sqlite3_bind_blob(st, 1, digest, sizeof digest, SQLITE_STATIC);
  sqlite3_bind_int(st, 2, (int)role);
  tm__bind_text(st, 3, label);
  sqlite3_bind_int64(st, 4, tm__now(db));
  if (sqlite3_step(st) != SQLITE_DONE) {
    s = tm__sql_error(db);
    goto fail;
  }
  *id = sqlite3_last_insert_rowid(db->sql);
  if ((s = tm__commit(db)) != TM_OK)
    goto fail;
  if (!(*secret = tm__asprintf("tm_%lld_%s", (long long)*id, hex)))
    return TM_NOMEM;
  return TM_OK;
fail:
  tm__rollback(db);
  *id = 0;
  return s;
}

tm_status tm_token_check(tm_db *db, const char *secret, int64_t *id,
                         tm_role *role, char **label) {
  uint8_t digest[SHA256_DIGEST_SIZE];
  const char *hex;
  sqlite3_stmt *st;
  long long tid;
  char *end;
  bool ok = false, revoked = false, oom = false;
  int rc;

  *id = 0;
  *role = TM_ROLE_NONE;
  if (label)
    *label = NULL;
  if (!secret || strncmp(secret, "tm_", 3) != 0)
    return tm__error(db, TM_DENIED, "malformed token");
  tid = strtoll(secret + 3, &end, 10);
  if (end == secret + 3 || *end != '_' || tid <= 0)
    return tm__error(db, TM_DENIED, "malformed token");
  hex = end + 1;
  if (strlen(hex) != SECRET_BYTES * 2)
    return tm__error(db, TM_DENIED, "malformed token");
  sha256(hex, SECRET_BYTES * 2, digest);

  if (!(st = tm__stmt(db, TM__STMT_TOKEN_GET)))
    return TM_DB;
  sqlite3_bind_int64(st, 1, tid);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == SHA256_DIGEST_SIZE) {
    ok = memeql_sec(sqlite3_column_blob(st, 0), digest, SHA256_DIGEST_SIZE);
    revoked = ok && sqlite3_column_type(st, 3) != SQLITE_NULL;
    ok = ok && !revoked;
    if (ok) {
      *role = (tm_role)sqlite3_column_int(st, 1);
      if (label)
        *label = tm__column_strdup(st, 2, &oom);
    }
  }
  sqlite3_reset(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return tm__sql_error(db);
  if (oom)
    return TM_NOMEM;
  if (revoked) {
    *id = tid;
    return tm__error(db, TM_REVOKED, "token %lld was revoked", tid);
  }
  if (!ok) {
    *role = TM_ROLE_NONE;
    return tm__error(db, TM_DENIED, "unknown token");
  }
  *id = tid;
  return TM_OK;
}

tm_status tm_token_revoke(tm_db *db, int64_t id) {
  sqlite3_stmt *st;
  int rc;

  tm__clear_error(db);
  if (db->readonly)
    return tm__error(db, TM_DENIED, "the database is open read-only");
  if (!(st = tm__stmt(db, TM__STMT_TOKEN_REVOKE)))
    return TM_DB;
  sqlite3_bind_int64(st, 1, id);
  sqlite3_bind_int64(st, 2, tm__now(db));
  rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc != SQLITE_DONE)
    return tm__sql_error(db);
  if (sqlite3_changes(db->sql) == 0)
    return tm__error(db, TM_NOTFOUND, "no live token %lld", (long long)id);
  return TM_OK;
}

tm_status tm_token_list(tm_db *db, tm_token_info **out, size_t *n) {
  sqlite3_stmt *st = tm__stmt(db, TM__STMT_TOKEN_LIST);
  tm_token_info *v = NULL;
  size_t nv = 0, cap = 0;
  bool oom = false;
  int rc;

  *out = NULL;
  *n = 0;
  if (!st)
    return TM_DB;
  while (!oom && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (nv == cap) {
      size_t ncap = cap ? cap * 2 : 8;
      tm_token_info *nvp = realloc(v, ncap * sizeof *nvp);
      if (!nvp) {
        oom = true;
        break;
      }
      v = nvp;
      cap = ncap;
    }
    v[nv].id = sqlite3_column_int64(st, 0);
    v[nv].role = (tm_role)sqlite3_column_int(st, 1);
    v[nv].label = tm__column_strdup(st, 2, &oom);
    v[nv].created = sqlite3_column_int64(st, 3);
    v[nv].revoked = sqlite3_column_int64(st, 4);
    nv++;
  }
  sqlite3_reset(st);
  if (oom || (rc != SQLITE_DONE && rc != SQLITE_ROW)) {
    tm_token_list_free(v, nv);
    return oom ? TM_NOMEM : tm__sql_error(db);
  }
  *out = v;
  *n = nv;
  return TM_OK;
}

void tm_token_list_free(tm_token_info *t, size_t n) {
  if (!t)
    return;
  for (size_t i = 0; i < n; i++)
    free(t[i].label);
  free(t);
}
