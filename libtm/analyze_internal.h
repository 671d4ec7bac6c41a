/*
 * analyze_internal.h - what the document-analysis modules share: the
 * plain text extracted from a document with its map back to the source
 * (markup.c), and the prep sheet writers (prep.c).  Nothing here is part of
 * the public interface.
 */
#ifndef TM_ANALYZE_INTERNAL_H
#define TM_ANALYZE_INTERNAL_H

#include "tm_internal.h"

/* The text a reader sees in a document, with where each of its code points
 * came from.  Line breaks that only wrap a paragraph stay '\n'; a paragraph
 * or block boundary is "\n\n" (a blank line).  Characters the extraction
 * makes up (block boundaries) have an empty source span at the markup that
 * caused them; an entity or an escape maps to all of its source text. */
typedef struct tm__plain {
  char *text; /* UTF-8, NUL-terminated */
  size_t len; /* bytes */
  size_t ncp; /* code points */
  /* Per code point of TEXT, its source span in code points; both NULL when
   * TEXT is the source itself (plain text). */
  uint32_t *src0, *src1;
  size_t cap, mapcap;
  /* A single line break does not end a sentence: the text is wrapped
   * (Markdown, or plain text with blank lines between short lines). */
  bool soft_breaks;
} tm__plain;

/* Extracts the plain text of SRC[0..len) (valid UTF-8) in FORMAT.  Plain
 * text is borrowed as it is (TEXT points into a copy). */
tm_status tm__plain_extract(tm_input_format format, const char *src, size_t len,
                            tm__plain *out);
void tm__plain_free(tm__plain *p);

/* The source span of the plain text's code points [a, b), a < b. */
tm_span tm__plain_source(const tm__plain *p, uint32_t a, uint32_t b);

/* ------------------------------------------------- words of a document */

/* Word flags. */
enum {
  TM__W_CAP = 1 << 0,    /* starts with an upper-case letter */
  TM__W_ACRO = 1 << 1,   /* two capitals or more and at most one small
                            letter (a plural s aside): NKDB, LiNK, NGOs */
  TM__W_NUM = 1 << 2,    /* starts with a digit */
  TM__W_LOWER = 1 << 3,  /* starts with a lower-case letter */
  TM__W_START = 1 << 4,  /* first of its sentence, or after a colon, dash or
                            quotation mark: capitals prove nothing */
  TM__W_POSS = 1 << 5,   /* ends with a possessive 's */
  TM__W_HANGUL = 1 << 6, /* ends with a Hangul syllable */
};

/* What separates a word from the one before it. */
enum {
  TM__GAP_SPACE = 0,  /* white space with at most one line break, or none */
  TM__GAP_HYPHEN = 1, /* a hyphen, maybe with white space */
  TM__GAP_PUNCT = 2,  /* other punctuation (kept in the gap key) */
  TM__GAP_BREAK = 3,  /* a paragraph boundary: nothing spans it */
};

/* A string in the analysis's arena. */
typedef struct tm__str {
  uint32_t off, len;
} tm__str;

typedef struct tm__word {
  uint32_t c0, c1; /* code points of the plain text */
  uint32_t b0, b1; /* bytes of the plain text */
  tm__str fold;    /* tm_text_fold of the word */
  tm__str key;     /* the recognition key: fold, stemmed */
  tm__str exact;   /* "\x01" and the word as written without a plural or
                      possessive s; len 0 when it has no capital */
  tm__str gap;     /* punctuation before it, blanks and hyphens left out,
                      apostrophes unified */
  uint32_t sent;   /* sentence number */
  int32_t occ;     /* recognised term occurrence covering it, or -1 */
  uint8_t gapkind;
  uint8_t flags;
} tm__word;

/* The analysis under way, as the candidate finder sees it. */
typedef struct tm__actx {
  tm_db *db;
  char lang[TM_LANG_MAX];    /* canonical */
  char primary[TM_LANG_MAX]; /* its primary subtag */
  const tm__plain *plain;
  tm__word *w;
  size_t nw;
  char *arena;
  size_t alen, acap;
  struct trie *trie;   /* the glossary terms (analyze.c) */
  struct recog *recog; /* the words' keys for the trie (analyze.c) */
  size_t nsent;
  bool *closed; /* per sentence: it ends with a full stop, ! or ? */
} tm__actx;

static inline const char *tm__s(const tm__actx *x, tm__str s) {
  return x->arena + s.off;
}

/* True when words [i, j) are, as a whole, a term of the glossaries. */
bool tm__actx_known(tm__actx *x, size_t i, size_t j);
/* True when word K is a capitalised word of a glossary term of several
 * words (the Putin of Vladimir Putin). */
bool tm__actx_name_word(tm__actx *x, size_t k);

/* Appends S[0..n) and a NUL to the arena. */
tm_status tm__actx_put(tm__actx *x, const char *s, size_t n, tm__str *out);

/* The candidate new terms of the document, best first, at most MAX
 * (candidates.c). */
tm_status tm__candidates(tm__actx *x, size_t max, tm_candidate **out,
                         size_t *n);

/* The prep sheet of an analysis (prep.c). */
tm_status tm__prep_html(tm_db *db, const tm_analysis *a,
                        const tm_prep_opts *opts, char **langs, size_t nl,
                        tm__output *o);
tm_status tm__prep_tsv(tm_db *db, const tm_analysis *a,
                       const tm_prep_opts *opts, char **langs, size_t nl,
                       tm__output *o);

#endif /* TM_ANALYZE_INTERNAL_H */
