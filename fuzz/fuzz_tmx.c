/*
 * fuzz_tmx.c - TMX import: the input is a TMX file.  It must import or be
 * refused with a client error (TM_PARSE, TM_UTF8, ...), never crash, leak
 * or fail inside, nor let libxml2 print; what imports must export as TMX,
 * TSV and CSV and import again (common.c).
 */
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  fz_xml_strict();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_import_roundtrip(data, size, TM_FORMAT_TMX, 0);
  return 0;
}
