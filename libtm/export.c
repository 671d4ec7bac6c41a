/*
 * export.c - exports: choosing the collection for the format and handing
 * it to the format's writer, which streams through a tm_write_fn.
 */
#include "tm_internal.h"

tm_status tm_export(tm_db *db, const tm_export_opts *opts, tm_write_fn write,
                    void *ctx) {
  tm__output o = {write, ctx, 0};
  tm_kind kind = opts->kind;
  int64_t coll;
  tm_status s;

  tm__clear_error(db);
  switch (opts->format) {
  case TM_FORMAT_TMX:
    if (kind == TM_GLOSSARY)
      return tm__error(db, TM_INVALID,
                       "TMX holds translation units: export a memory");
    kind = TM_MEMORY;
    break;
  case TM_FORMAT_TBX:
  case TM_FORMAT_TBX_MARTIF:
  case TM_FORMAT_HTML:
    if (kind == TM_MEMORY)
      return tm__error(db, TM_INVALID,
                       "%s holds glossary entries: export a "
                       "glossary",
                       tm_format_name(opts->format));
    kind = TM_GLOSSARY;
    break;
  case TM_FORMAT_TSV:
  case TM_FORMAT_CSV:
    if (!kind)
      kind = TM_MEMORY;
    break;
  case TM_FORMAT_AUTO:
    return tm__error(db, TM_INVALID, "no export format given");
  }
  if ((s = tm__collection_id(db, kind,
                             opts->collection ? opts->collection : "default",
                             false, &coll)) != TM_OK)
    return s;
  switch (opts->format) {
  case TM_FORMAT_TMX:
    s = tm__tmx_export(db, coll, opts, &o);
    break;
  case TM_FORMAT_TSV:
    s = tm__dsv_export(db, coll, kind, opts, &o, '\t');
    break;
  case TM_FORMAT_CSV:
    s = tm__dsv_export(db, coll, kind, opts, &o, ',');
    break;
  case TM_FORMAT_TBX:
    s = tm__tbx_export(db, coll, opts, &o, false);
    break;
  case TM_FORMAT_TBX_MARTIF:
    s = tm__tbx_export(db, coll, opts, &o, true);
    break;
  case TM_FORMAT_HTML:
    s = tm__html_export(db, coll, opts, &o);
    break;
  case TM_FORMAT_AUTO:
    s = tm__error(db, TM_INVALID, "no export format given");
    break;
  }
  if (s != TM_OK && o.failed)
    return tm__error(db, TM_IO, "writing the export failed");
  return s;
}
