/*
 * fuzz_dsv.c - CSV and TSV import.  The first byte picks the format (bit
 * 0: CSV, else TSV) and the kind (bits 1-2: 1 memory, 2 glossary, else as
 * the header says); the rest is the file.  It must import or be refused
 * with a client error, and what imports must export and import again
 * (common.c).
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tm_format format;
  tm_kind kind;

  if (size == 0)
    return 0;
  format = data[0] & 1 ? TM_FORMAT_CSV : TM_FORMAT_TSV;
  switch (data[0] >> 1 & 3) {
  case 1:
    kind = TM_MEMORY;
    break;
  case 2:
    kind = TM_GLOSSARY;
    break;
  default:
    kind = 0;
    break;
  }
  fz_import_roundtrip(data + 1, size - 1, format, kind);
  return 0;
}
