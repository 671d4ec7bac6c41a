/*
 * match_internal.h - what the matching modules share: the tokenizer that
 * fuzzy matching, concordance and diffs agree on, bit-parallel edit
 * distances, and the in-memory index's structures (owned by index.c, read
 * by match.c and terms.c under the index's read lock).  Nothing here is
 * part of the public interface.
 */
#ifndef TM_MATCH_INTERNAL_H
#define TM_MATCH_INTERNAL_H

#include "tm_internal.h"

#include <pthread.h>

/* Makes room in P (CAP elements) for NEED; OK false when memory ran out,
 * and P as it was. */
#define GROW(p, cap, need, ok)                                                 \
  do {                                                                         \
    if ((size_t)(need) > (cap)) {                                              \
      size_t ncap_ = (cap) ? (cap) : 16;                                       \
      void *q_;                                                                \
      while (ncap_ < (size_t)(need))                                           \
        ncap_ *= 2;                                                            \
      if (!(q_ = realloc((p), ncap_ * sizeof *(p))))                           \
        (ok) = false;                                                          \
      else {                                                                   \
        (p) = q_;                                                              \
        (cap) = ncap_;                                                         \
      }                                                                        \
    }                                                                          \
  } while (0)

/* ------------------------------------------------------------- tokens */

/* Token classes.  WORD, NUM and CHAR are the "core" tokens a score counts;
 * PUNCT tokens only cost a formatting penalty. */
enum {
  TM__TK_WORD = 1,  /* letters, marks and digits of a spaced script */
  TM__TK_NUM = 2,   /* digits, with inner . or , between digits */
  TM__TK_CHAR = 3,  /* one character of an unspaced script (Hangul, Han) */
  TM__TK_PUNCT = 4, /* any other visible character, one per token */
};

typedef struct tm__tok {
  uint32_t b0, b1; /* bytes of the input, [b0, b1) */
  uint32_t c0, c1; /* code points of the input, [c0, c1) */
  uint8_t cls;
  uint8_t space; /* whitespace (or the start) comes right before it */
} tm__tok;

typedef struct tm__toks {
  tm__tok *v;
  size_t n, cap;
} tm__toks;

/* Splits LEN bytes of valid UTF-8 into tokens (whitespace separates and is
 * not a token).  Replaces T's content; keeps its buffer. */
tm_status tm__tokenize(const char *s, size_t len, tm__toks *t);
void tm__toks_free(tm__toks *t);

/* Decodes the code point at S[*i] (valid UTF-8) and advances *i. */
static inline uint32_t tm__utf8_next(const char *s, size_t *i) {
  const unsigned char *p = (const unsigned char *)s + *i;
  uint32_t c = p[0];

  if (c < 0x80) {
    *i += 1;
    return c;
  }
  if (c < 0xE0) {
    *i += 2;
    return ((c & 0x1F) << 6) | (p[1] & 0x3F);
  }
  if (c < 0xF0) {
    *i += 3;
    return ((c & 0x0F) << 12) | ((uint32_t)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
  }
  *i += 4;
  return ((c & 0x07) << 18) | ((uint32_t)(p[1] & 0x3F) << 12) |
         ((uint32_t)(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
}

/* Appends the UTF-8 of C to OUT (at least 4 bytes free); returns bytes. */
size_t tm__utf8_put(char *out, uint32_t c);

/* Decodes LEN bytes into code points (OUT has room for LEN); returns n. */
size_t tm__utf8_decode(const char *s, size_t len, uint32_t *out);

/* Hangul syllables and other characters of scripts written without spaces
 * between words. */
bool tm__is_unspaced(uint32_t c);

/* -------------------------------------------------------- edit distance */

/* A pattern of up to 64 code points prepared for the bit-parallel
 * algorithms (Myers 1999, Hyyro 2001/2003). */
typedef struct tm__peq {
  uint32_t m;
  uint32_t nch;
  uint64_t ascii[128];
  uint32_t ch[64];
  uint64_t mask[64];
} tm__peq;

void tm__peq_init(tm__peq *p, const uint32_t *pat, uint32_t m);
/* The Levenshtein distance between the pattern and T[0..n), or with
 * TRANSPOSE the optimal-string-alignment (restricted Damerau) distance. */
uint32_t tm__peq_distance(const tm__peq *p, const uint32_t *t, uint32_t n,
                          bool transpose);
/* The same by dynamic programming, for any length; stops early and returns
 * a value > MAX once the distance must exceed MAX. */
uint32_t tm__edit_distance(const uint32_t *a, uint32_t na, const uint32_t *b,
                           uint32_t nb, bool transpose, uint32_t max);

/* The score tm_match_find gives source SRC for QUERY (both NFC), computed
 * directly from the two texts: the reference for tests and benchmarks. */
tm_status tm__match_score(tm_text *text, const char *query, const char *src,
                          int *score);

/* ------------------------------------------------------ the unit index */

/* Grams: per-word padded character trigrams for spaced scripts, bigrams
 * of consecutive characters of unspaced scripts (and a unigram for a lone
 * one).  A key packs the code points and a kind. */
#define TM__GK_TRI(a, b, c)                                                    \
  (((uint64_t)(a) << 42) | ((uint64_t)(b) << 21) | (uint64_t)(c))
#define TM__GK_BI(a, b) ((1ull << 63) | ((uint64_t)(a) << 21) | (uint64_t)(b))
#define TM__GK_UNI(a) ((1ull << 63) | (1ull << 62) | (uint64_t)(a))

/* The token id every number gets: numbers compare equal in the core and
 * their values cost a penalty instead. */
#define TM__NUM_ID 0u
/* Ids at or above this mark query words the dictionary does not have. */
#define TM__ID_UNKNOWN 0x80000000u

/* Interned token strings of one language group. */
typedef struct tm__dict {
  char *arena;
  size_t alen, acap;
  uint32_t *off; /* [id] offset of the string in arena; [id+1]-[id] = len */
  uint32_t n;    /* ids in use, the reserved 0 included */
  size_t cap;
  uint32_t *slots; /* open addressing: 0 empty, else id */
  uint32_t mask;
} tm__dict;

/* The index of token S[0..len), or 0 when absent (ids start at 1). */
uint32_t tm__dict_find(const tm__dict *d, const char *s, size_t len);
static inline const char *tm__dict_str(const tm__dict *d, uint32_t id,
                                       size_t *len) {
  *len = d->off[id + 1] - d->off[id];
  return d->arena + d->off[id];
}

/* One variant of one unit. */
typedef struct tm__doc {
  uint32_t unit;     /* slot in the unit table */
  uint32_t lang;     /* index in the language table */
  uint64_t text;     /* offset of the original (NFC) text in the group arena */
  uint64_t fold;     /* offset of the folded text */
  uint32_t text_len; /* bytes */
  uint32_t fold_len;
  uint64_t tok; /* offset of its core token ids in the group's toks */
  uint32_t ntok;
  uint32_t ngram; /* distinct grams; delta docs keep theirs in dgrams */
  uint64_t gram;
  uint8_t dead;
} tm__doc;

/* Every variant whose language has one primary subtag ("en" for en and
 * en-GB).  Docs [0, nmain) are the main segment, built at once and ordered
 * by token count so that a length filter is a range of ids; the posting
 * lists cover only them.  Docs added later (the delta) keep their grams
 * and are compared one by one until the next rebuild. */
typedef struct tm__group {
  char tag[TM_LANG_MAX];
  tm__dict dict;
  tm__doc *docs;
  uint32_t ndocs, nmain;
  size_t cap;
  char *arena;
  size_t alen, acap;
  uint32_t *toks;
  size_t ntoks, tcap;
  uint16_t *ngram16; /* [main doc] its distinct grams, at most 65535 */
  struct tm__exact { /* main docs by the hash of their original text */
    uint64_t hash;
    uint32_t doc;
  } * exact;
  uint32_t *len_start; /* [k]: first main doc with at least k tokens */
  uint32_t maxtok;     /* len_start has maxtok + 2 entries */
  /* grams of the main segment: key -> gram number -> posting list */
  uint64_t *gkey; /* by slot; gslot holds gram number + 1 */
  uint32_t *gslot;
  uint32_t gmask;
  uint32_t *goff; /* ngrams + 1 */
  uint32_t ngrams;
  uint32_t *post;
  /* grams of delta docs */
  uint64_t *dgrams;
  size_t ndgrams, dgcap;
  uint32_t live; /* live docs */
} tm__group;

typedef struct tm__uref {
  uint32_t group;
  uint32_t doc;
} tm__uref;

typedef struct tm__unit {
  int64_t id;
  int64_t updated;
  int64_t coll;
  uint8_t status;
  uint8_t dead;
  uint16_t nref;
  uint32_t ref; /* its docs: refs[ref .. ref + nref) */
} tm__unit;

typedef struct tm__lang {
  char tag[TM_LANG_MAX];
  uint32_t group;
} tm__lang;

typedef struct tm__coll {
  int64_t id;
  int kind;
  char *name;
} tm__coll;

/* Everything the unit index knows, rebuilt whole or updated in place. */
typedef struct tm__ustate {
  tm__group *groups;
  uint32_t ngroups;
  tm__lang *langs;
  uint32_t nlangs;
  tm__unit *units;
  uint32_t nunits;
  size_t ucap;
  uint32_t *uslots; /* id -> slot + 1, open addressing */
  uint32_t umask;
  tm__uref *refs;
  uint32_t nrefs;
  size_t rcap;
  tm__coll *colls;
  uint32_t ncolls;
  int64_t max_unit; /* largest unit id read from the database */
  uint32_t delta;   /* docs added since the build */
} tm__ustate;

typedef struct tm__terms tm__terms;

struct tm_index {
  pthread_rwlock_t lock;  /* searches read; updates write, briefly */
  pthread_mutex_t update; /* one update at a time, rebuilds included */
  tm__ustate *u;
  tm__terms *terms;
  int stale; /* an update failed: rebuild at the next one */
};

/* The unit slot of ID, or NULL. */
tm__unit *tm__ustate_unit(const tm__ustate *st, int64_t id);
/* The group of the primary subtag of canonical TAG, or NULL. */
tm__group *tm__ustate_group(const tm__ustate *st, const char *tag);
/* The collection's name, or NULL. */
const char *tm__ustate_coll_name(const tm__ustate *st, int64_t id);

/* What a folded text gives the index: its core tokens (as byte ranges and
 * classes) and its distinct grams, sorted. */
typedef struct tm__prep {
  tm__toks toks;
  uint32_t *core; /* indices into toks.v */
  size_t ncore, ccap;
  uint64_t *grams;
  size_t ngrams, gcap;
  uint32_t *gtok; /* before sorting: the core token of each gram */
  size_t gtcap;
  struct tm__gocc { /* after sorting: every gram with its token, by key */
    uint64_t key;
    uint32_t tok;
  } * occ;
  size_t nocc, occcap;
  uint32_t *cps;
  size_t cpcap;
} tm__prep;

tm_status tm__prep_text(tm__prep *p, const char *fold, size_t len);
/* The same with the grams neither sorted nor distinct (bulk builds dedupe
 * them their own way). */
tm_status tm__prep_text_unsorted(tm__prep *p, const char *fold, size_t len);
void tm__prep_free(tm__prep *p);

/* The hash the index keeps of a text (FNV-1a, 64 bits, mixed). */
uint64_t tm__hash_bytes(const char *s, size_t n);
/* The main docs of G whose original text hashes to H: [*first, *end) in
 * g->exact. */
void tm__group_exact(const tm__group *g, uint64_t h, size_t *first,
                     size_t *end);

/* The range of main docs [lo, hi) whose token counts lie in [kmin, kmax]. */
void tm__group_len_range(const tm__group *g, uint32_t kmin, uint32_t kmax,
                         uint32_t *lo, uint32_t *hi);
/* The posting list of a gram key (NULL, 0 when absent). */
const uint32_t *tm__group_postings(const tm__group *g, uint64_t key,
                                   uint32_t *n);

/* ------------------------------------------------------ the term index */

tm_status tm__terms_build(tm_db *db, tm__terms **out);
void tm__terms_free(tm__terms *t);
/* A copy of OLD with entry ID re-read from DB (removed when it is gone). */
tm_status tm__terms_update(tm_db *db, const tm__terms *old, int64_t id,
                           tm__terms **out);

/* Term search's word rules, for term recognition in running text
 * (analyze.c).  tm__stem_word stems one folded word (English plurals and
 * possessives, Ukrainian case endings; other scripts unchanged) into OUT
 * (LEN + 1 bytes); returns its length.  tm__particle_cuts gives the
 * lengths the folded Hangul word S may have without a particle attached to
 * it (and without a plural 들 before the particle), each leaving two
 * syllables or more, longest particle first; at most MAX, returns how many. */
size_t tm__stem_word(const char *s, size_t len, char *out);
size_t tm__particle_cuts(const char *s, size_t len, size_t *cuts, size_t max);

/* Matching's use of the primary subtag: "en" for "en-GB". */
void tm__lang_primary(const char *tag, char out[TM_LANG_MAX]);

#endif /* TM_MATCH_INTERNAL_H */
