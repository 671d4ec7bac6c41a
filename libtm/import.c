/*
 * import.c - imports: reading the input, choosing the format and the kind
 * of collection, and running the format's parser inside one transaction,
 * so that an import is all or nothing.  Errors name the input and line.
 */
#include "tm_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

tm_status tm__at_line(tm__ingest *in, long line, tm_status s) {
  const char *msg = tm_db_errmsg(in->db);
  char *copy;

  if (in->db->errmsg == NULL)
    msg = tm_status_message(s);
  if (!(copy = tm__strdup(msg)))
    return TM_NOMEM;
  if (line > 0)
    tm__error(in->db, s, "%s:%ld: %s", in->name, line, copy);
  else
    tm__error(in->db, s, "%s: %s", in->name, copy);
  free(copy);
  return s;
}

tm_status tm__progress(tm__ingest *in, const tm__input *src, size_t at) {
  if (src->progress &&
      src->progress(src->progress_ctx, at, src->len, in->res->records))
    return tm__error(in->db, TM_CANCELLED, "%s: import cancelled", in->name);
  return TM_OK;
}

static tm_status new_batch(tm_db *db, int64_t collection, const tm_actor *who,
                           const char *name, tm_format format, int64_t *id) {
  sqlite3_stmt *st = tm__stmt(db, TM__STMT_BATCH_INSERT);
  char *by;
  int rc;

  if (!st)
    return TM_DB;
  if (!(by = tm__actor_name(who)))
    return TM_NOMEM;
  sqlite3_bind_int64(st, 1, collection);
  sqlite3_bind_int64(st, 2, tm__now(db));
  if (who && who->token)
    sqlite3_bind_int64(st, 3, who->token);
  tm__bind_text(st, 4, by);
  tm__bind_text(st, 5, name);
  tm__bind_text(st, 6, tm_format_name(format));
  rc = sqlite3_step(st);
  sqlite3_reset(st);
  free(by);
  if (rc != SQLITE_DONE)
    return tm__sql_error(db);
  *id = sqlite3_last_insert_rowid(db->sql);
  return TM_OK;
}

static tm_status finish_batch(tm_db *db, int64_t batch, uint64_t records) {
  sqlite3_stmt *st = tm__stmt(db, TM__STMT_BATCH_FINISH);
  int rc;

  if (!st)
    return TM_DB;
  sqlite3_bind_int64(st, 1, batch);
  sqlite3_bind_int64(st, 2, (int64_t)records);
  rc = sqlite3_step(st);
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? TM_OK : tm__sql_error(db);
}

tm_status tm_import_buffer(tm_db *db, const void *buf, size_t len,
                           const tm_import_opts *opts, tm_import_result *res) {
  tm_import_result local;
  tm__ingest in = {0};
  tm__input src = {0};
  tm_db shadow;
  const char *name = opts && opts->name ? opts->name : "input";
  tm_format format = opts ? opts->format : TM_FORMAT_AUTO;
  tm_kind kind = opts ? opts->kind : 0;
  tm_status s;

  if (!res)
    res = &local;
  memset(res, 0, sizeof *res);
  tm__clear_error(db);
  if (format == TM_FORMAT_AUTO && tm_format_from_path(name, &format) != TM_OK)
    return tm__error(db, TM_INVALID,
                     "%s: cannot tell the format from the name; give one "
                     "(tmx, tbx, tsv or csv)",
                     name);
  switch (format) {
  case TM_FORMAT_TMX:
    if (kind == TM_GLOSSARY)
      return tm__error(db, TM_INVALID,
                       "%s: TMX holds translation units; "
                       "import it into a memory",
                       name);
    kind = TM_MEMORY;
    break;
  case TM_FORMAT_TBX:
  case TM_FORMAT_TBX_MARTIF:
    if (kind == TM_MEMORY)
      return tm__error(db, TM_INVALID,
                       "%s: TBX holds glossary entries; "
                       "import it into a glossary",
                       name);
    kind = TM_GLOSSARY;
    break;
  case TM_FORMAT_TSV:
  case TM_FORMAT_CSV:
    if (!kind)
      kind = tm__dsv_sniff_kind(buf, len, format == TM_FORMAT_TSV ? '\t' : ',');
    break;
  case TM_FORMAT_AUTO:
  case TM_FORMAT_HTML:
    return tm__error(db, TM_INVALID, "%s: %s cannot be imported", name,
                     tm_format_name(format));
  }
  res->kind = kind;

  in.db = db;
  in.kind = kind;
  in.who = opts ? opts->who : NULL;
  if (!(in.by = tm__actor_name(in.who)))
    return TM_NOMEM;
  in.status = opts ? opts->status : TM_DRAFT;
  in.res = res;
  in.name = name;
  src.buf = buf;
  src.len = len;
  src.name = name;
  src.progress = opts ? opts->progress : NULL;
  src.progress_ctx = opts ? opts->progress_ctx : NULL;

  if ((s = tm__begin(db)) != TM_OK) {
    free(in.by);
    return s;
  }
  /* A larger page cache for the length of the import: the hash index of
   * units is written in random order. */
  sqlite3_exec(db->sql, "PRAGMA cache_size=-131072", NULL, NULL, NULL);
  if ((s = tm__collection_id(
           db, kind, opts && opts->collection ? opts->collection : "default",
           true, &in.collection)) != TM_OK ||
      (s = new_batch(db, in.collection, in.who, name, format, &in.batch)) !=
          TM_OK)
    goto fail;
  if (kind == TM_MEMORY) {
    sqlite3_stmt *st = tm__stmt(db, TM__STMT_COLL_HAS_UNITS);
    if (!st) {
      s = TM_DB;
      goto fail;
    }
    sqlite3_bind_int64(st, 1, in.collection);
    in.fresh = sqlite3_step(st) == SQLITE_ROW && !sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    /* Without a writer thread the import is just slower. */
    tm__pipe_start(&in, &shadow);
  }
  switch (format) {
  case TM_FORMAT_TMX:
    s = tm__tmx_import(&in, &src);
    break;
  case TM_FORMAT_TBX:
  case TM_FORMAT_TBX_MARTIF:
    s = tm__tbx_import(&in, &src);
    break;
  case TM_FORMAT_TSV:
    s = tm__dsv_import(&in, &src, '\t');
    break;
  case TM_FORMAT_CSV:
    s = tm__dsv_import(&in, &src, ',');
    break;
  case TM_FORMAT_AUTO:
  case TM_FORMAT_HTML:
    s = TM_INVALID;
    break;
  }
  if (in.pipe) {
    bool writer_failed;
    tm_status ws = tm__pipe_finish(&in, &writer_failed);
    if (writer_failed) {
      /* The writer's error is the cause; the parser only stopped. */
      s = ws;
      tm__error(db, s, "%s: %s", name, tm_db_errmsg(db));
    } else if (s != TM_OK) {
      tm__error(db, s, "%s", tm_db_errmsg(&shadow));
    }
    free(shadow.errmsg);
    shadow.errmsg = NULL;
  }
  if (s != TM_OK)
    goto fail;
  if ((s = finish_batch(db, in.batch, res->records)) != TM_OK ||
      (s = tm__commit(db)) != TM_OK)
    goto fail;
  sqlite3_exec(db->sql, "PRAGMA cache_size=-2000", NULL, NULL, NULL);
  free(in.seen);
  free(in.by);
  if (db->index && res->records)
    tm__index_reload(db);
  return TM_OK;
fail:
  free(in.seen);
  free(in.by);
  tm__rollback(db);
  sqlite3_exec(db->sql, "PRAGMA cache_size=-2000", NULL, NULL, NULL);
  res->records = 0;
  res->duplicates = 0;
  res->skipped = 0;
  return s;
}

tm_status tm_import_file(tm_db *db, const char *path,
                         const tm_import_opts *opts, tm_import_result *res) {
  tm_import_opts o = {0};
  struct stat sb;
  void *map = NULL;
  tm_status s;
  int fd;

  tm__clear_error(db);
  if (opts)
    o = *opts;
  if (!o.name)
    o.name = path;
  if (o.format == TM_FORMAT_AUTO &&
      tm_format_from_path(path, &o.format) != TM_OK)
    return tm__error(db, TM_INVALID,
                     "%s: cannot tell the format from the file name; give "
                     "one (tmx, tbx, tsv or csv)",
                     path);
  if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
    return tm__error(db, errno == ENOENT ? TM_NOTFOUND : TM_IO, "%s: %s", path,
                     strerror(errno));
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    close(fd);
    return tm__error(db, TM_IO, "%s: not a regular file", path);
  }
  if (sb.st_size > 0) {
    map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
      close(fd);
      return tm__error(db, TM_IO, "%s: %s", path, strerror(errno));
    }
    madvise(map, (size_t)sb.st_size, MADV_SEQUENTIAL);
  }
  close(fd);
  s = tm_import_buffer(db, map ? map : "", (size_t)sb.st_size, &o, res);
  if (map)
    munmap(map, (size_t)sb.st_size);
  return s;
}
