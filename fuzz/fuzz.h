/*
 * fuzz.h - what the fuzz targets share (docs/fuzzing.md).
 *
 * Each target defines LLVMFuzzerTestOneInput.  Linked with libFuzzer
 * (-fsanitize=fuzzer, clang) it is a fuzzer; linked with replay.c it is a
 * plain program that runs the files it is given through the target, so
 * that every build replays the seeds and the regressions.
 *
 * A target checks what must hold for any input and calls fz_fail() when it
 * does not: the abort is what libFuzzer and the replay report.
 */
#ifndef TM_FUZZ_H
#define TM_FUZZ_H

#include "tm.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define FZ_NORETURN __attribute__((noreturn))
#define FZ_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define FZ_NORETURN
#define FZ_PRINTF(f, a)
#endif

/* libFuzzer's entry points (the replay calls them the same way). */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Prints "fuzz: MESSAGE" on stderr and aborts. */
FZ_NORETURN void fz_fail(const char *fmt, ...) FZ_PRINTF(1, 2);

/* A growing byte buffer; out of memory is a failure. */
struct fz_buf {
  char *p;
  size_t len, cap;
};

void fz_buf_add(struct fz_buf *b, const void *p, size_t n);
void fz_buf_free(struct fz_buf *b);
/* A tm_write_fn that appends to the struct fz_buf given as CTX. */
int fz_buf_write(void *ctx, const void *p, size_t n);

/* True when LEN bytes of S are valid UTF-8 without NUL bytes. */
bool fz_utf8_valid(const char *s, size_t len);

/* ---------------------------------------------------------- imports */

/* Makes anything libxml2 would print on stderr a failure: the library
 * never prints, so it must keep libxml2 quiet too. */
void fz_xml_strict(void);

/* The statuses an import may give for a bad input: anything else is a
 * failure (the server would answer it with a 5xx). */
bool fz_import_status_ok(tm_status s);

/* Imports the input into a fresh collection of a database kept for many
 * inputs (reopened now and then so that it does not grow without bound).
 * When the import succeeds, the collection is exported in every format of
 * its kind (memories: TMX, TSV, CSV; glossaries: TBX, TBX 2008, TSV, CSV
 * and the HTML sheet), and each export but the sheet is imported again
 * into another fresh collection: all of it must succeed and give back as
 * many records.  FORMAT and KIND are those of tm_import_opts. */
void fz_import_roundtrip(const uint8_t *data, size_t size, tm_format format,
                         tm_kind kind);

#endif /* TM_FUZZ_H */
