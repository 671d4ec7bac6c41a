/*
 * fuzz_tbx.c - TBX import: the input is a TBX file, v3 (<tbx>) or 2008
 * (<martif>); the reader tells them apart by the root.  It must import or
 * be refused with a client error, never crash, leak, fail inside or let
 * libxml2 print; what imports must export as TBX, TBX 2008, TSV, CSV and
 * the HTML sheet, and each export but the sheet must import again
 * (common.c).
 */
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  fz_xml_strict();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_import_roundtrip(data, size, TM_FORMAT_TBX, 0);
  return 0;
}
