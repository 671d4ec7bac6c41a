/*
 * terms.c - the booth's term search: every term of every live entry with
 * its search keys, held in memory as sorted key arrays (exact and prefix
 * lookups are binary searches) and a bigram index (typos), and
 * tm_terms_find, which tries the rules of docs/matching.md in order:
 * exact, prefix, initials, inflection, transliteration, fuzzy.
 *
 * The folded form, the initial-consonant key and the Latin key of a term
 * come from the database (entry.c computes them once, at write time); the
 * rest are derived here: the folded form without spaces, the keystroke
 * jamo (for a half-typed last syllable) and the stem key (Ukrainian and
 * English inflection).  The structure is immutable once built: an update
 * builds a new one and the index swaps it in.  A search's hits point into
 * the sets it searched, which it holds a reference to until the caller
 * frees the hits: nothing is copied for a reply.
 */
#include "match_internal.h"

#include <math.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define LIMIT_DEFAULT 10
/* Entries written since the last merge kept in the small delta set. */
#define DELTA_ENTRIES 256
#define LIMIT_MAX 1000
/* Terms a prefix lookup visits at most per key (a one-letter query would
 * otherwise visit a good part of the glossary). */
#define PREFIX_SCAN_MAX 1024
/* Longest query looked up, in bytes. */
#define QUERY_MAX 1024

enum key {
  K_FOLD,      /* tm_text_fold */
  K_NOSPACE,   /* the folded form without spaces */
  K_INITIALS,  /* Korean initial consonants (compatibility jamo) */
  K_JAMO,      /* K_NOSPACE with each syllable as its keystroke jamo */
  K_TRANSLIT,  /* the Latin key */
  K_TRNOSPACE, /* the Latin key without spaces */
  K_STEM,      /* each word stemmed, words joined by a space */
  NKEYS
};

typedef struct tterm {
  uint32_t entry; /* index in entries */
  uint32_t seq;   /* index in the entry's terms */
  uint32_t off[NKEYS];
  uint32_t len[NKEYS]; /* bytes; UINT32_MAX: no such key */
  uint32_t ncp[NKEYS];
} tterm;

/* One immutable set of entries with their term keys. */
typedef struct tset {
  atomic_int refs; /* the states and the search results using it */
  tm_entry **entries;
  uint32_t nentries;
  tterm *terms;
  uint32_t nterms;
  char *arena;
  size_t alen, acap;
  uint32_t *sorted[NKEYS]; /* term indices in key order */
  uint32_t nsorted[NKEYS];
  /* bigrams of K_NOSPACE (kind 0) and K_TRNOSPACE (kind 1) */
  uint64_t *bkey;
  uint32_t *bslot, bmask, nbig;
  uint32_t *boff, *bpost; /* posting: term * 2 + kind */
  uint16_t *blen;         /* beside each posting: its key's code points, at
                             most UINT16_MAX (past any query's reach) */
  /* the code points of those keys, for the typo check: [term * 2 + kind] */
  uint32_t *cps, *cpoff;
} tset;

/* What searches see: the set built at once, with the entries since
 * deleted or changed hidden, and a small set of the entries written since
 * (rebuilt at each write; merged into a new main set when it grows). */
struct tm__terms {
  tset *main;
  uint8_t *dead; /* per main entry */
  tset *delta;   /* NULL when empty */
};

static const char *const how_names[] = {
    "exact", "prefix", "initials", "inflection", "transliteration", "fuzzy",
};

const char *tm_how_name(tm_how h) {
  return (unsigned)h < sizeof how_names / sizeof how_names[0] ? how_names[h]
                                                              : "unknown";
}

/* ------------------------------------------------------------ Korean */

static const uint16_t choseong_compat[19] = {
    0x3131, 0x3132, 0x3134, 0x3137, 0x3138, 0x3139, 0x3141,
    0x3142, 0x3143, 0x3145, 0x3146, 0x3147, 0x3148, 0x3149,
    0x314A, 0x314B, 0x314C, 0x314D, 0x314E};

static const uint16_t jongseong_compat[28] = {
    0,      0x3131, 0x3132, 0x3133, 0x3134, 0x3135, 0x3136,
    0x3137, 0x3139, 0x313A, 0x313B, 0x313C, 0x313D, 0x313E,
    0x313F, 0x3140, 0x3141, 0x3142, 0x3144, 0x3145, 0x3146,
    0x3147, 0x3148, 0x314A, 0x314B, 0x314C, 0x314D, 0x314E};

/* Compound jamo as the two keys a two-set keyboard types for them. */
static const uint16_t jamo_split[][3] = {
    {0x3133, 0x3131, 0x3145}, {0x3135, 0x3134, 0x3148},
    {0x3136, 0x3134, 0x314E}, {0x313A, 0x3139, 0x3131},
    {0x313B, 0x3139, 0x3141}, {0x313C, 0x3139, 0x3142},
    {0x313D, 0x3139, 0x3145}, {0x313E, 0x3139, 0x314C},
    {0x313F, 0x3139, 0x314D}, {0x3140, 0x3139, 0x314E},
    {0x3144, 0x3142, 0x3145}, {0x3158, 0x3157, 0x314F},
    {0x3159, 0x3157, 0x3150}, {0x315A, 0x3157, 0x3163},
    {0x315D, 0x315C, 0x3153}, {0x315E, 0x315C, 0x3154},
    {0x315F, 0x315C, 0x3163}, {0x3162, 0x3161, 0x3163},
};

static bool is_syllable(uint32_t c) {
  return c >= 0xAC00 && c <= 0xD7A3;
}

static bool is_hangul(uint32_t c) {
  return is_syllable(c) || (c >= 0x1100 && c <= 0x11FF) ||
         (c >= 0x3131 && c <= 0x318E);
}

/* Compatibility jamo of an initial, medial or final conjoining jamo (0
 * when none). */
static uint32_t jamo_compat(uint32_t c) {
  if (c >= 0x1100 && c <= 0x1112)
    return choseong_compat[c - 0x1100];
  if (c >= 0x1161 && c <= 0x1175)
    return 0x314F + (c - 0x1161);
  if (c >= 0x11A8 && c <= 0x11C2)
    return jongseong_compat[c - 0x11A8 + 1];
  return 0;
}

static char *put_keys(char *o, uint32_t c) {
  for (size_t k = 0; k < sizeof jamo_split / sizeof jamo_split[0]; k++)
    if (jamo_split[k][0] == c) {
      o += tm__utf8_put(o, jamo_split[k][1]);
      return o + tm__utf8_put(o, jamo_split[k][2]);
    }
  return o + tm__utf8_put(o, c);
}

/* The keystroke jamo of S: syllables and conjoining jamo become the
 * compatibility jamo a keyboard types, compounds split in two; other
 * characters stay.  OUT needs 3 * 6 bytes per input code point. */
static size_t jamo_keys(const char *s, size_t len, char *out) {
  char *o = out;
  size_t i = 0;

  while (i < len) {
    uint32_t c = tm__utf8_next(s, &i), x;
    if (is_syllable(c)) {
      uint32_t si = c - 0xAC00, t = si % 28;
      o = put_keys(o, choseong_compat[si / 588]);
      o = put_keys(o, 0x314F + (si % 588) / 28);
      if (t)
        o = put_keys(o, jongseong_compat[t]);
    } else if ((x = jamo_compat(c)) != 0) {
      o = put_keys(o, x);
    } else if (c >= 0x3131 && c <= 0x318E) {
      o = put_keys(o, c);
    } else {
      o += tm__utf8_put(o, c);
    }
  }
  *o = '\0';
  return (size_t)(o - out);
}

/* True when S (folded, no spaces) is only initial consonants; *OUT gets
 * them as compatibility jamo. */
static bool initials_only(const char *s, size_t len, char *out) {
  char *o = out;
  size_t i = 0;

  if (!len)
    return false;
  while (i < len) {
    uint32_t c = tm__utf8_next(s, &i);
    if (c >= 0x1100 && c <= 0x1112)
      c = choseong_compat[c - 0x1100];
    else if (!(c >= 0x3131 && c <= 0x314E))
      return false;
    o += tm__utf8_put(o, c);
  }
  *o = '\0';
  return true;
}

/*
 * Postpositions (josa) and the copula's common forms that attach to a
 * noun, longest first so that 에서는 is tried before 는.  A query that ends
 * with one is looked up again without it (and without a plural 들 before
 * it) when at least two syllables remain.
 */
static const char *const particles[] = {
    "에서부터", "으로부터", "으로서는", "으로써는", "이었습니다", "로부터",
    "에게서",   "한테서",   "으로서",   "으로써",   "에서는",     "에서도",
    "에서의",   "으로는",   "으로도",   "으로의",   "에게는",     "에게도",
    "까지는",   "까지도",   "부터는",   "이라는",   "이라고",     "이었다",
    "입니다",   "이라도",   "이나마",   "에서",     "에게",       "한테",
    "으로",     "로서",     "로써",     "로는",     "로도",       "로의",
    "에는",     "에도",     "에의",     "와의",     "과의",       "까지",
    "부터",     "보다",     "처럼",     "만큼",     "마다",       "조차",
    "마저",     "밖에",     "이나",     "이든",     "든지",       "이랑",
    "하고",     "께서",     "라는",     "라고",     "이다",       "였다",
    "이며",     "이고",     "이야",     "은",       "는",         "이",
    "가",       "을",       "를",       "의",       "에",         "로",
    "와",       "과",       "도",       "만",       "께",         "나",
    "랑",       "며",       "야",       "다",
};

/* ------------------------------------------------------------ stemming */

/*
 * Ukrainian noun and adjective endings, longest first.  Stemming removes
 * the longest one that leaves at least three letters, then one soft sign,
 * й, і or ї the stem may end with (конвенція, конвенції, конвенцій all
 * give конвенц).  Applied to term and query words alike, so it only needs
 * to be consistent, not linguistically exact.
 */
static const char *const uk_endings[] = {
    "ього", "ьому", "ого", "ому", "ими", "іми", "ами", "ями", "ові",
    "еві",  "єві",  "ьої", "ьою", "ий",  "ій",  "ої",  "ою",  "их",
    "іх",   "им",   "ім",  "ах",  "ях",  "ам",  "ям",  "ів",  "їв",
    "ей",   "ею",   "єю",  "ом",  "ем",  "єм",  "а",   "я",   "о",
    "е",    "є",    "у",   "ю",   "и",   "і",   "ї",   "ь",
};

static bool ends_with(const char *s, size_t len, const char *suf,
                      size_t *slen) {
  size_t n = strlen(suf);
  *slen = n;
  return n <= len && memcmp(s + len - n, suf, n) == 0;
}

/* Stems the folded word S[0..len) into OUT; returns its length. */
static size_t stem_word(const char *s, size_t len, char *out) {
  bool cyr = false, latin = true;
  size_t i = 0, n, cut;

  while (i < len) {
    uint32_t c = tm__utf8_next(s, &i);
    if (c >= 0x0400 && c <= 0x04FF)
      cyr = true;
    if (!((c >= 'a' && c <= 'z') || c == '\''))
      latin = false;
  }
  memcpy(out, s, len);
  n = len;
  if (cyr) {
    size_t cps = tm__utf8_count(out, n);
    for (size_t k = 0; k < sizeof uk_endings / sizeof uk_endings[0]; k++) {
      if (ends_with(out, n, uk_endings[k], &cut) &&
          cps - tm__utf8_count(uk_endings[k], cut) >= 3) {
        n -= cut;
        cps -= tm__utf8_count(uk_endings[k], cut);
        break;
      }
    }
    if (cps > 3 &&
        (ends_with(out, n, "ь", &cut) || ends_with(out, n, "й", &cut) ||
         ends_with(out, n, "і", &cut) || ends_with(out, n, "ї", &cut)))
      n -= cut;
  } else if (latin) {
    /* English possessives, then plurals (Porter's step 1a), then a final
     * y as i so that country and countries meet. */
    if (n > 2 && ends_with(out, n, "'s", &cut))
      n -= cut;
    else if (n > 1 && out[n - 1] == '\'')
      n--;
    if (n > 4 && ends_with(out, n, "sses", &cut))
      n -= 2;
    else if (n > 4 && ends_with(out, n, "ies", &cut))
      n -= 2;
    else if (n >= 4 && out[n - 1] == 's' && out[n - 2] != 's' &&
             out[n - 2] != 'u' && out[n - 2] != 'i' && out[n - 2] != '\'')
      n--;
    if (n > 2 && out[n - 1] == 'y' && !strchr("aeiou", out[n - 2]))
      out[n - 1] = 'i';
  }
  out[n] = '\0';
  return n;
}

/* The stem key of folded S: its words stemmed, joined by single spaces. */
static size_t stem_key(const char *s, size_t len, char *out) {
  size_t i = 0, o = 0;

  while (i < len) {
    size_t j = i;
    while (j < len && s[j] != ' ')
      j++;
    if (j > i) {
      if (o)
        out[o++] = ' ';
      o += stem_word(s + i, j - i, out + o);
    }
    i = j + 1;
  }
  out[o] = '\0';
  return o;
}

static size_t strip_spaces(const char *s, size_t len, char *out) {
  size_t k = 0;
  for (size_t i = 0; i < len; i++)
    if (s[i] != ' ')
      out[k++] = s[i];
  out[k] = '\0';
  return k;
}

/* The word-level rules, shared with term recognition in running text
 * (analyze.c), so that a document finds what the booth's search finds. */

size_t tm__stem_word(const char *s, size_t len, char *out) {
  return stem_word(s, len, out);
}

size_t tm__particle_cuts(const char *s, size_t len, size_t *cuts, size_t max) {
  size_t n = 0, pl, dl;

  for (size_t p = 0; p < sizeof particles / sizeof particles[0] && n < max;
       p++) {
    if (!ends_with(s, len, particles[p], &pl) ||
        tm__utf8_count(s, len - pl) < 2)
      continue;
    cuts[n++] = len - pl;
    if (n < max && ends_with(s, len - pl, "들", &dl) &&
        tm__utf8_count(s, len - pl - dl) >= 2)
      cuts[n++] = len - pl - dl;
  }
  return n;
}

/* --------------------------------------------------------------- build */

static void tset_free(tset *t) {
  if (!t)
    return;
  for (uint32_t i = 0; i < t->nentries; i++)
    tm_entry_free(t->entries[i]);
  free(t->entries);
  free(t->terms);
  free(t->arena);
  for (int k = 0; k < NKEYS; k++)
    free(t->sorted[k]);
  free(t->bkey);
  free(t->bslot);
  free(t->boff);
  free(t->bpost);
  free(t->blen);
  free(t->cps);
  free(t->cpoff);
  free(t);
}

static tm_status put_key(tset *t, tterm *tt, int k, const char *s, size_t len) {
  bool ok = true;

  if (!s) {
    tt->len[k] = UINT32_MAX;
    return TM_OK;
  }
  GROW(t->arena, t->acap, t->alen + len + 1, ok);
  if (!ok || t->alen + len + 1 > UINT32_MAX)
    return TM_NOMEM;
  memcpy(t->arena + t->alen, s, len);
  t->arena[t->alen + len] = '\0';
  tt->off[k] = (uint32_t)t->alen;
  tt->len[k] = (uint32_t)len;
  tt->ncp[k] = (uint32_t)tm__utf8_count(s, len);
  t->alen += len + 1;
  return TM_OK;
}

/* Adds a term with its stored keys and derives the others. */
static tm_status add_term(tset *t, uint32_t entry, uint32_t seq,
                          const char *fold, const char *initials,
                          const char *translit, char *scratch) {
  tterm *tt = &t->terms[t->nterms];
  size_t flen = strlen(fold), n;
  bool hangul = false;
  tm_status s;
  size_t i = 0;

  memset(tt, 0, sizeof *tt);
  tt->entry = entry;
  tt->seq = seq;
  if ((s = put_key(t, tt, K_FOLD, fold, flen)) != TM_OK)
    return s;
  n = strip_spaces(fold, flen, scratch);
  if ((s = put_key(t, tt, K_NOSPACE, scratch, n)) != TM_OK)
    return s;
  while (i < flen && !hangul)
    hangul = is_hangul(tm__utf8_next(fold, &i));
  if (hangul) {
    n = jamo_keys(t->arena + tt->off[K_NOSPACE], tt->len[K_NOSPACE], scratch);
    if ((s = put_key(t, tt, K_JAMO, scratch, n)) != TM_OK)
      return s;
  } else {
    tt->len[K_JAMO] = UINT32_MAX;
  }
  if ((s = put_key(t, tt, K_INITIALS, initials,
                   initials ? strlen(initials) : 0)) != TM_OK)
    return s;
  if (translit && *translit) {
    if ((s = put_key(t, tt, K_TRANSLIT, translit, strlen(translit))) != TM_OK)
      return s;
    n = strip_spaces(translit, strlen(translit), scratch);
    if ((s = put_key(t, tt, K_TRNOSPACE, scratch, n)) != TM_OK)
      return s;
  } else {
    tt->len[K_TRANSLIT] = tt->len[K_TRNOSPACE] = UINT32_MAX;
  }
  n = stem_key(fold, flen, scratch);
  if ((s = put_key(t, tt, K_STEM, scratch, n)) != TM_OK)
    return s;
  t->nterms++;
  return TM_OK;
}

static int key_cmp(const char *a, size_t na, const char *b, size_t nb) {
  int c = memcmp(a, b, na < nb ? na : nb);
  return c ? c : na < nb ? -1 : na > nb;
}

static int sort_cmp(const void *x, const void *y, void *ctx) {
  const tset *t = ((const void **)ctx)[0];
  int k = *(const int *)((const void **)ctx)[1];
  const tterm *a = &t->terms[*(const uint32_t *)x];
  const tterm *b = &t->terms[*(const uint32_t *)y];
  return key_cmp(t->arena + a->off[k], a->len[k], t->arena + b->off[k],
                 b->len[k]);
}

static uint64_t hash_u64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

#define BIG(a, b) (((uint64_t)(a) << 32) | (uint64_t)(b))
#define BIG_START 0x110000u
#define BIG_END 0x110001u

/* The bigrams of S with start and end marks, distinct, into OUT (room for
 * ncp + 1); returns how many.  CPS (room for LEN) receives S's code points,
 * *NCP how many. */
static size_t bigrams(const char *s, size_t len, uint32_t *cps, size_t *ncp,
                      uint64_t *out) {
  size_t n = *ncp = tm__utf8_decode(s, len, cps), k = 0;

  out[k++] = BIG(BIG_START, n ? cps[0] : BIG_END);
  for (size_t i = 0; i + 1 < n; i++)
    out[k++] = BIG(cps[i], cps[i + 1]);
  if (n)
    out[k++] = BIG(cps[n - 1], BIG_END);
  for (size_t i = 1; i < k; i++)
    for (size_t j = i; j > 0 && out[j] < out[j - 1]; j--) {
      uint64_t x = out[j];
      out[j] = out[j - 1];
      out[j - 1] = x;
    }
  if (k > 1) {
    size_t w = 1;
    for (size_t i = 1; i < k; i++)
      if (out[i] != out[w - 1])
        out[w++] = out[i];
    k = w;
  }
  return k;
}

static uint32_t big_find(const tset *t, uint64_t key) {
  uint32_t i;

  if (!t->bslot)
    return 0;
  i = (uint32_t)hash_u64(key) & t->bmask;
  while (t->bslot[i]) {
    if (t->bkey[i] == key)
      return t->bslot[i];
    i = (i + 1) & t->bmask;
  }
  return 0;
}

/* The bigram index: a table of distinct bigrams, then posting lists. */
static tm_status build_bigrams(tset *t) {
  uint32_t *cps = NULL, *count = NULL, *fill = NULL, *byorder = NULL;
  uint32_t *lencount = NULL;
  uint64_t *grams = NULL;
  size_t maxlen = 0, total = 0, countcap = 0;
  uint32_t nslots = 64;
  tm_status s = TM_NOMEM;
  bool ok = true;

  for (uint32_t i = 0; i < t->nterms; i++)
    for (int kind = 0; kind < 2; kind++) {
      uint32_t len = t->terms[i].len[kind ? K_TRNOSPACE : K_NOSPACE];
      if (len != UINT32_MAX) {
        if (len > maxlen)
          maxlen = len;
        total += len + 1;
      }
    }
  while (nslots < total * 2 + 2)
    nslots *= 2;
  if (!(t->cps = malloc((total + 1) * sizeof *t->cps)) ||
      !(t->cpoff = malloc(((size_t)t->nterms * 2 + 1) * sizeof *t->cpoff)))
    goto out;
  {
    uint32_t at = 0;
    for (uint32_t i = 0; i < t->nterms * 2; i++) {
      const tterm *tt = &t->terms[i / 2];
      int k = (i & 1) ? K_TRNOSPACE : K_NOSPACE;
      t->cpoff[i] = at;
      if (tt->len[k] != UINT32_MAX)
        at += (uint32_t)tm__utf8_decode(t->arena + tt->off[k], tt->len[k],
                                        t->cps + at);
    }
    t->cpoff[t->nterms * 2] = at;
    if (!(byorder = malloc(((size_t)t->nterms * 2 + 1) * sizeof *byorder)) ||
        !(lencount = calloc((size_t)maxlen + 2, sizeof *lencount)))
      goto out;
    for (uint32_t i = 0; i < t->nterms * 2; i++)
      lencount[t->cpoff[i + 1] - t->cpoff[i] + 1]++;
    for (size_t l = 1; l <= maxlen + 1; l++)
      lencount[l] += lencount[l - 1];
    for (uint32_t i = 0; i < t->nterms * 2; i++)
      byorder[lencount[t->cpoff[i + 1] - t->cpoff[i]]++] = i;
  }
  if (!(cps = malloc((maxlen + 2) * sizeof *cps)) ||
      !(grams = malloc((maxlen + 2) * sizeof *grams)) ||
      !(t->bkey = malloc((size_t)nslots * sizeof *t->bkey)) ||
      !(t->bslot = calloc(nslots, sizeof *t->bslot)))
    goto out;
  t->bmask = nslots - 1;
  /* Two passes: count, then fill. */
  for (int pass = 0; pass < 2; pass++) {
    if (pass == 1) {
      if (!(t->boff = malloc(((size_t)t->nbig + 1) * sizeof *t->boff)) ||
          !(fill = malloc(((size_t)t->nbig + 1) * sizeof *fill)))
        goto out;
      t->boff[0] = 0;
      for (uint32_t g = 0; g < t->nbig; g++)
        t->boff[g + 1] = t->boff[g] + count[g];
      memcpy(fill, t->boff, (size_t)t->nbig * sizeof *fill);
      if (!(t->bpost =
                malloc(((size_t)t->boff[t->nbig] + 1) * sizeof *t->bpost)) ||
          !(t->blen = malloc(((size_t)t->boff[t->nbig] + 1) * sizeof *t->blen)))
        goto out;
    }
    /* Keys by length (a counting sort), so that every posting list is
     * ordered by key length and a typo search reads only the lengths it
     * allows. */
    for (uint32_t o = 0; o < t->nterms * 2; o++) {
      uint32_t i = byorder[o] / 2;
      int kind = (int)(byorder[o] & 1);
      const tterm *tt = &t->terms[i];
      int k = kind ? K_TRNOSPACE : K_NOSPACE;
      size_t ng, ncp;
      if (tt->len[k] == UINT32_MAX)
        continue;
      ng = bigrams(t->arena + tt->off[k], tt->len[k], cps, &ncp, grams);
      for (size_t j = 0; j < ng; j++) {
        uint32_t h = (uint32_t)hash_u64(grams[j]) & t->bmask, g;
        bool fresh = false;
        while (t->bslot[h] && t->bkey[h] != grams[j])
          h = (h + 1) & t->bmask;
        if (!t->bslot[h]) {
          t->bkey[h] = grams[j];
          t->bslot[h] = ++t->nbig;
          fresh = true;
        }
        g = t->bslot[h] - 1;
        if (pass == 0) {
          GROW(count, countcap, (size_t)g + 1, ok);
          if (!ok)
            goto out;
          if (fresh)
            count[g] = 0;
          count[g]++;
        } else {
          t->blen[fill[g]] = ncp < UINT16_MAX ? (uint16_t)ncp : UINT16_MAX;
          t->bpost[fill[g]++] = i * 2 + (uint32_t)kind;
        }
      }
    }
  }
  s = TM_OK;
out:
  free(cps);
  free(grams);
  free(count);
  free(fill);
  free(byorder);
  free(lencount);
  return s;
}

/* A new entry with its stored term keys, as the build takes it. */
typedef struct raw_entry {
  tm_entry *e;
  size_t nkeys;                        /* terms with keys read below */
  char **fold, **initials, **translit; /* per term, owned */
  const tset *from;                    /* keys from this index's term ... */
  uint32_t first;                      /* ... starting here */
} raw_entry;

/* Builds the structure from RAW (taking its entries). */
static tm_status terms_make(raw_entry *raw, size_t n, tset **out) {
  tset *t = calloc(1, sizeof *t);
  size_t nterms = 0, scap = 0;
  char *scratch = NULL;
  tm_status s = TM_NOMEM;

  *out = NULL;
  if (!t)
    goto fail;
  for (size_t i = 0; i < n; i++)
    nterms += raw[i].e->nterms;
  if (!(t->entries = calloc(n + 1, sizeof *t->entries)) ||
      !(t->terms = calloc(nterms + 1, sizeof *t->terms)))
    goto fail;
  for (size_t i = 0; i < n; i++) {
    raw_entry *r = &raw[i];
    uint32_t e = t->nentries++;
    t->entries[e] = r->e;
    r->e = NULL;
    for (size_t k = 0; k < t->entries[e]->nterms; k++) {
      const char *fold, *ini, *tr;
      size_t need;
      if (r->from) {
        const tterm *o = &r->from->terms[r->first + k];
        fold = r->from->arena + o->off[K_FOLD];
        ini = o->len[K_INITIALS] != UINT32_MAX
                  ? r->from->arena + o->off[K_INITIALS]
                  : NULL;
        tr = o->len[K_TRANSLIT] != UINT32_MAX
                 ? r->from->arena + o->off[K_TRANSLIT]
                 : "";
      } else if (k < r->nkeys) {
        fold = r->fold[k];
        ini = r->initials[k];
        tr = r->translit[k];
      } else {
        fold = NULL;
      }
      if (!fold)
        continue;
      /* A key is at most 6 times the folded text (keystroke jamo). */
      need = (strlen(fold) + (tr ? strlen(tr) : 0)) * 6 + 64;
      if (need > scap) {
        char *p = realloc(scratch, need);
        if (!p)
          goto fail;
        scratch = p;
        scap = need;
      }
      if ((s = add_term(t, e, (uint32_t)k, fold, ini, tr, scratch)) != TM_OK)
        goto fail;
      s = TM_NOMEM;
    }
  }
  for (int k = 0; k < NKEYS; k++) {
    uint32_t m = 0;
    const void *ctx[2] = {t, &k};
    if (!(t->sorted[k] = malloc(((size_t)t->nterms + 1) * sizeof(uint32_t))))
      goto fail;
    for (uint32_t i = 0; i < t->nterms; i++)
      if (t->terms[i].len[k] != UINT32_MAX)
        t->sorted[k][m++] = i;
    t->nsorted[k] = m;
    qsort_r(t->sorted[k], m, sizeof(uint32_t), sort_cmp, (void *)ctx);
  }
  if ((s = build_bigrams(t)) != TM_OK)
    goto fail;
  free(scratch);
  atomic_init(&t->refs, 1);
  *out = t;
  return TM_OK;
fail:
  free(scratch);
  tset_free(t);
  return s;
}

static void raw_clear(raw_entry *r) {
  for (size_t k = 0; k < r->nkeys; k++) {
    if (r->fold)
      free(r->fold[k]);
    if (r->initials)
      free(r->initials[k]);
    if (r->translit)
      free(r->translit[k]);
  }
  free(r->fold);
  free(r->initials);
  free(r->translit);
  tm_entry_free(r->e);
  memset(r, 0, sizeof *r);
}

/* Reads entry ID and its terms' stored keys.  TM_NOTFOUND when it is gone
 * (deleted). */
static tm_status raw_read(tm_db *db, int64_t id, raw_entry *r) {
  sqlite3_stmt *q;
  tm_status s;
  size_t k = 0;
  bool oom = false;
  int rc;

  memset(r, 0, sizeof *r);
  if ((s = tm_entry_get(db, id, &r->e)) != TM_OK)
    return s;
  if (!(r->fold = calloc(r->e->nterms + 1, sizeof(char *))) ||
      !(r->initials = calloc(r->e->nterms + 1, sizeof(char *))) ||
      !(r->translit = calloc(r->e->nterms + 1, sizeof(char *))))
    return TM_NOMEM;
  if (!(q = tm__stmt(db, TM__STMT_IDX_TERM_KEYS)))
    return TM_DB;
  sqlite3_bind_int64(q, 1, id);
  while ((rc = sqlite3_step(q)) == SQLITE_ROW && k < r->e->nterms) {
    r->fold[k] = tm__column_strdup(q, 0, &oom);
    r->initials[k] = tm__column_strdup(q, 1, &oom);
    r->translit[k] = tm__column_strdup(q, 2, &oom);
    r->nkeys = ++k;
  }
  sqlite3_reset(q);
  if (oom)
    return TM_NOMEM;
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    return tm__sql_error(db);
  return TM_OK;
}

static void tset_ref(tset *t) {
  if (t)
    atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
}

static void tset_unref(tset *t) {
  if (t && atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) == 1)
    tset_free(t);
}

void tm__terms_free(tm__terms *st) {
  if (!st)
    return;
  tset_unref(st->main);
  tset_unref(st->delta);
  free(st->dead);
  free(st);
}

/* A state around MAIN (taken) with nothing hidden and no delta. */
static tm_status state_new(tset *main, tm__terms **out) {
  tm__terms *st = calloc(1, sizeof *st);

  if (!st || !(st->dead = calloc((size_t)main->nentries + 1, 1))) {
    free(st);
    tset_unref(main);
    return TM_NOMEM;
  }
  st->main = main;
  *out = st;
  return TM_OK;
}

tm_status tm__terms_build(tm_db *db, tm__terms **out) {
  sqlite3_stmt *q;
  int64_t *ids = NULL;
  size_t n = 0, cap = 0, nraw = 0;
  raw_entry *raw = NULL;
  tset *main = NULL;
  tm_status s = TM_OK;
  bool ok = true, began = false;
  int rc;

  *out = NULL;
  if (sqlite3_get_autocommit(db->sql)) {
    if ((s = tm__exec(db, TM__STMT_IDX_READ_BEGIN)) != TM_OK)
      return s;
    began = true;
  }
  if (!(q = tm__stmt(db, TM__STMT_IDX_ENTRY_IDS))) {
    s = TM_DB;
    goto out;
  }
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    GROW(ids, cap, n + 1, ok);
    if (!ok) {
      s = TM_NOMEM;
      break;
    }
    ids[n++] = sqlite3_column_int64(q, 0);
  }
  if (s == TM_OK && rc != SQLITE_DONE)
    s = tm__sql_error(db);
  sqlite3_reset(q);
  if (s == TM_OK && !(raw = calloc(n + 1, sizeof *raw)))
    s = TM_NOMEM;
  for (size_t i = 0; s == TM_OK && i < n; i++) {
    s = raw_read(db, ids[i], &raw[nraw]);
    if (s == TM_OK)
      nraw++;
    else if (s == TM_NOTFOUND) {
      raw_clear(&raw[nraw]);
      s = TM_OK;
    }
  }
  if (began) {
    tm__exec(db, TM__STMT_COMMIT);
    began = false;
  }
  if (s == TM_OK && (s = terms_make(raw, nraw, &main)) == TM_OK)
    s = state_new(main, out);
out:
  if (began)
    tm__exec(db, TM__STMT_COMMIT);
  for (size_t i = 0; raw && i < n; i++)
    raw_clear(&raw[i]);
  free(raw);
  free(ids);
  return s;
}

/* Appends to RAW copies of the entries of SET (not hidden by DEAD, not
 * entry ID), keeping their keys. */
static tm_status raw_copy(raw_entry *raw, size_t *nraw, const tset *set,
                          const uint8_t *dead, int64_t id) {
  uint32_t first = 0;

  for (uint32_t i = 0; set && i < set->nentries; i++) {
    const tm_entry *e = set->entries[i];
    uint32_t at = first;
    first += (uint32_t)e->nterms;
    if (e->id == id || (dead && dead[i]))
      continue;
    if (!(raw[*nraw].e = malloc(sizeof *raw[*nraw].e)))
      return TM_NOMEM;
    if (tm__entry_copy(e, raw[*nraw].e) != TM_OK) {
      free(raw[*nraw].e);
      raw[*nraw].e = NULL;
      return TM_NOMEM;
    }
    raw[*nraw].from = set;
    raw[*nraw].first = at;
    (*nraw)++;
  }
  return TM_OK;
}

/*
 * Entry ID changed: the new state hides it in the main set and rebuilds the
 * small delta with its new version (if it still lives); when the delta has
 * grown past DELTA_ENTRIES, main and delta merge into a new main set.  The
 * old state stays valid for the searches still using it.
 */
tm_status tm__terms_update(tm_db *db, const tm__terms *old, int64_t id,
                           tm__terms **out) {
  raw_entry *raw = NULL, fresh;
  size_t nraw = 0, ndelta = old->delta ? old->delta->nentries : 0, cap;
  tm__terms *st = NULL;
  tset *set = NULL;
  bool merge;
  tm_status s;

  *out = NULL;
  s = raw_read(db, id, &fresh);
  if (s == TM_NOTFOUND) {
    raw_clear(&fresh);
    s = TM_OK;
  } else if (s != TM_OK) {
    raw_clear(&fresh);
    return s;
  }
  merge = ndelta + 1 > DELTA_ENTRIES;
  cap = ndelta + 2 + (merge ? old->main->nentries : 0);
  if (!(raw = calloc(cap, sizeof *raw)) || !(st = calloc(1, sizeof *st))) {
    s = TM_NOMEM;
    goto out;
  }
  if (merge) {
    s = raw_copy(raw, &nraw, old->main, old->dead, id);
  } else {
    if (!(st->dead = malloc((size_t)old->main->nentries + 1))) {
      s = TM_NOMEM;
      goto out;
    }
    memcpy(st->dead, old->dead, old->main->nentries);
    for (uint32_t i = 0; i < old->main->nentries; i++)
      if (old->main->entries[i]->id == id)
        st->dead[i] = 1;
  }
  if (s == TM_OK)
    s = raw_copy(raw, &nraw, old->delta, NULL, id);
  if (s == TM_OK && fresh.e) {
    raw[nraw++] = fresh;
    memset(&fresh, 0, sizeof fresh);
  }
  if (s == TM_OK && (nraw || merge))
    s = terms_make(raw, nraw, &set);
  if (s != TM_OK)
    goto out;
  if (merge) {
    free(st);
    st = NULL;
    s = state_new(set, out);
    set = NULL;
  } else {
    st->main = old->main;
    tset_ref(st->main);
    st->delta = set;
    set = NULL;
    *out = st;
    st = NULL;
  }
out:
  raw_clear(&fresh);
  for (size_t i = 0; raw && i < cap; i++)
    raw_clear(&raw[i]);
  free(raw);
  tset_unref(set);
  tm__terms_free(st);
  return s;
}

/* -------------------------------------------------------------- search */

/* The best hit of one entry so far (entries are unique across the sets:
 * a main entry in the delta is hidden). */
typedef struct best {
  const tset *set; /* NULL: empty slot */
  uint32_t entry;  /* in set */
  uint32_t term;
  int score;
  tm_how how;
} best;

typedef struct search {
  const tset *t;          /* the set being searched */
  const uint8_t *dead;    /* its hidden entries, or NULL */
  char lang[TM_LANG_MAX]; /* primary subtag, "" for any */
  const char *glossary;
  int approved_only;
  best *b; /* an open-addressing table by entry id, FIRST at first */
  uint32_t bmask, nb;
  best first[32];
  uint8_t *counts;   /* per term and key kind, zero (the handle's) */
  uint32_t *touched; /* room for as many (the handle's) */
} search;

static bool term_ok(const search *x, uint32_t term) {
  const tterm *tt = &x->t->terms[term];
  const tm_entry *e = x->t->entries[tt->entry];
  char p[TM_LANG_MAX];

  if (x->dead && x->dead[tt->entry])
    return false;
  if (x->approved_only && e->status != TM_APPROVED)
    return false;
  if (x->glossary && (!e->glossary || strcmp(e->glossary, x->glossary) != 0))
    return false;
  if (x->lang[0]) {
    tm__lang_primary(e->terms[tt->seq].lang, p);
    if (strcmp(p, x->lang) != 0)
      return false;
  }
  return true;
}

static uint32_t best_hash(const best *b) {
  uint64_t id = (uint64_t)b->set->entries[b->entry]->id;
  return (uint32_t)((id * 0x9E3779B97F4A7C15ull) >> 32);
}

static tm_status offer(search *x, uint32_t term, int score, tm_how how) {
  best nb = {x->t, x->t->terms[term].entry, term, score, how};
  int64_t id = x->t->entries[nb.entry]->id;
  uint32_t h;

  if (!term_ok(x, term))
    return TM_OK;
  if ((x->nb + 1) * 2 > x->bmask) {
    uint32_t nmask = x->bmask * 2 + 1;
    best *v = calloc((size_t)nmask + 1, sizeof *v);
    if (!v)
      return TM_NOMEM;
    for (uint32_t i = 0; i <= x->bmask; i++) {
      if (!x->b[i].set)
        continue;
      h = best_hash(&x->b[i]) & nmask;
      while (v[h].set)
        h = (h + 1) & nmask;
      v[h] = x->b[i];
    }
    if (x->b != x->first)
      free(x->b);
    x->b = v;
    x->bmask = nmask;
  }
  h = best_hash(&nb) & x->bmask;
  while (x->b[h].set && x->b[h].set->entries[x->b[h].entry]->id != id)
    h = (h + 1) & x->bmask;
  if (!x->b[h].set) {
    x->b[h] = nb;
    x->nb++;
  } else if (score > x->b[h].score) {
    x->b[h] = nb;
  }
  return TM_OK;
}

/* The first position in key K's order whose key is >= Q. */
static uint32_t key_lower(const tset *t, int k, const char *q, size_t qn) {
  uint32_t lo = 0, hi = t->nsorted[k];

  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    const tterm *tt = &t->terms[t->sorted[k][mid]];
    if (key_cmp(t->arena + tt->off[k], tt->len[k], q, qn) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* How a lookup in one key's order scores the keys equal to the query and
 * those it starts. */
typedef struct rule {
  int equal;        /* a key equal to the query; 0: not offered */
  tm_how equal_how; /* ... found so */
  int base, span;   /* a longer key: BASE + SPAN * (query length / key
                       length) in code points; SPAN 0: not offered */
  tm_how how;
  bool need_jamo; /* longer keys only of terms with Hangul */
} rule;

/* Offers the terms whose key K equals Q or starts with it (QCP code
 * points), as R scores them: both from one binary search. */
static tm_status find_keys(search *x, int k, const char *q, size_t qn,
                           uint32_t qcp, const rule *r) {
  const tset *t = x->t;
  tm_status s = TM_OK;
  uint32_t seen = 0;

  /* The equal keys come first in the order, then the longer ones. */
  for (uint32_t i = key_lower(t, k, q, qn); i < t->nsorted[k] && s == TM_OK;
       i++, seen++) {
    const tterm *tt = &t->terms[t->sorted[k][i]];
    if (tt->len[k] < qn || memcmp(t->arena + tt->off[k], q, qn) != 0)
      break;
    if (tt->len[k] == qn) {
      if (r->equal)
        s = offer(x, t->sorted[k][i], r->equal, r->equal_how);
      continue;
    }
    if (!r->span || seen >= PREFIX_SCAN_MAX)
      break;
    if (r->need_jamo && tt->len[K_JAMO] == UINT32_MAX)
      continue;
    s = offer(x, t->sorted[k][i],
              r->base + (int)floor((double)r->span * qcp / tt->ncp[k]), r->how);
  }
  return s;
}

/* Offers the terms whose key K equals Q. */
static tm_status find_equal(search *x, int k, const char *q, size_t qn,
                            int score, tm_how how) {
  rule r = {.equal = score, .equal_how = how};
  return find_keys(x, k, q, qn, 0, &r);
}

/* The first posting of bigram G whose key has at least LEN code points
 * (each posting list is ordered by key length). */
static uint32_t key_len_lower(const tset *t, uint32_t g, uint32_t len) {
  uint32_t lo = t->boff[g], hi = t->boff[g + 1];
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (t->blen[mid] < len)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* Room in DB's zeroed counters, and in its list of those touched, for a
 * set of NTERMS terms (two keys each). */
static tm_status counts_reserve(tm_db *db, uint32_t nterms) {
  size_t need = (size_t)nterms * 2 + 1;
  uint8_t *p;
  uint32_t *t;

  if (need <= db->term_counts_cap)
    return TM_OK;
  if (!(t = realloc(db->term_touched, need * sizeof *t)))
    return TM_NOMEM;
  db->term_touched = t;
  if (!(p = realloc(db->term_counts, need)))
    return TM_NOMEM;
  memset(p + db->term_counts_cap, 0, need - db->term_counts_cap);
  db->term_counts = p;
  db->term_counts_cap = need;
  return TM_OK;
}

/* Counts a posting: the first time a key is counted, it is listed in
 * TOUCHED (always written, kept only then, so that the loop has no branch);
 * a counter stops at its maximum.  TOUCHED has room for every key plus
 * one. */
#define COUNT(cnt, touched, nt, i)                                             \
  do {                                                                         \
    (touched)[nt] = (i);                                                       \
    (nt) += (cnt)[i] == 0;                                                     \
    (cnt)[i] += (cnt)[i] != UINT8_MAX;                                         \
  } while (0)

/* Offers the terms whose K_NOSPACE (or, for a Latin query, K_TRNOSPACE) is
 * within the typo allowance of Q: one edit up to five characters, two from
 * six; Damerau (adjacent transpositions) distance, bit-parallel; a bigram
 * count filter first (an edit destroys at most two of the query's bigrams,
 * a transposition three). */
static tm_status find_fuzzy(search *x, const char *q, size_t qn, bool latin) {
  /* The query's code points and bigrams, on the stack when it is short. */
  enum { SMALL = 128 };
  uint32_t cps_small[SMALL], *cps = cps_small;
  uint64_t grams_small[SMALL], *grams = grams_small;
  const tset *t = x->t;
  uint32_t *touched = x->touched, nq, maxd, need, nt = 0;
  uint8_t *cnt = x->counts;
  tm__peq peq;
  tm_status s = TM_NOMEM;
  size_t ng, ncp;

  if (qn + 2 > SMALL && (!(cps = malloc((qn + 2) * sizeof *cps)) ||
                         !(grams = malloc((qn + 2) * sizeof *grams))))
    goto out;
  ng = bigrams(q, qn, cps, &ncp, grams);
  nq = (uint32_t)ncp;
  if (nq < 3) {
    s = TM_OK;
    goto out;
  }
  maxd = nq <= 5 ? 1 : 2;
  /* A key within MAXD edits keeps all but 3 * MAXD of the query's distinct
   * bigrams (a bigram repeated in the query is lost only when every one of
   * its occurrences is), and a counter stops at UINT8_MAX. */
  need = ng > 3 * maxd ? (uint32_t)ng - 3 * maxd : 1;
  if (need > UINT8_MAX)
    need = UINT8_MAX;
  tm__peq_init(&peq, cps, nq);
  for (size_t g = 0; g < ng; g++) {
    uint32_t b = big_find(t, grams[g]), p, end;
    if (!b)
      continue;
    /* Only the keys whose length is within the allowance. */
    end = t->boff[b];
    p = key_len_lower(t, b - 1, nq - maxd);
    if (latin)
      for (; p < end && t->blen[p] <= nq + maxd; p++)
        COUNT(cnt, touched, nt, t->bpost[p]);
    else
      for (; p < end && t->blen[p] <= nq + maxd; p++)
        if (!(t->bpost[p] & 1))
          COUNT(cnt, touched, nt, t->bpost[p]);
  }
  s = TM_OK;
  for (uint32_t k = 0; k < nt && s == TM_OK; k++) {
    uint32_t i = touched[k], d, tn, mx;
    if (cnt[i] < need)
      continue;
    tn = t->cpoff[i + 1] - t->cpoff[i];
    d = nq <= 64
            ? tm__peq_distance(&peq, t->cps + t->cpoff[i], tn, true)
            : tm__edit_distance(cps, nq, t->cps + t->cpoff[i], tn, true, maxd);
    if (d == 0 || d > maxd)
      continue;
    mx = tn > nq ? tn : nq;
    s = offer(x, i / 2, 40 + (int)floor(19.0 * (1.0 - (double)d / mx)),
              TM_HOW_FUZZY);
  }
out:
  for (uint32_t k = 0; k < nt; k++)
    cnt[touched[k]] = 0;
  if (cps != cps_small)
    free(cps);
  if (grams != grams_small)
    free(grams);
  return s;
}

static const tm_term *hit_term(const best *b) {
  const tterm *tt = &b->set->terms[b->term];
  return &b->set->entries[tt->entry]->terms[tt->seq];
}

static int best_cmp(const void *pa, const void *pb) {
  const best *a = pa, *b = pb;
  const tm_entry *ea = a->set->entries[a->entry];
  const tm_entry *eb = b->set->entries[b->entry];
  const tm_term *ta = hit_term(a), *tb = hit_term(b);
  size_t la, lb;

  if (a->score != b->score)
    return a->score > b->score ? -1 : 1;
  if ((ea->status == TM_APPROVED) != (eb->status == TM_APPROVED))
    return ea->status == TM_APPROVED ? -1 : 1;
  if (ta->status != tb->status)
    return ta->status < tb->status ? -1 : 1;
  la = strlen(ta->text);
  lb = strlen(tb->text);
  if (la != lb)
    return la < lb ? -1 : 1;
  return ea->id < eb->id ? -1 : ea->id > eb->id;
}

/* What a search's hits point into, kept before the hits in their
 * allocation: the sets searched. */
typedef struct pin {
  tset *sets[2];
} pin;

#define PIN_SIZE                                                               \
  ((sizeof(pin) + alignof(max_align_t) - 1) / alignof(max_align_t) *           \
   alignof(max_align_t))

void tm_terms_free(tm_term_hit *h, size_t n) {
  pin *p;

  (void)n;
  if (!h)
    return;
  p = (pin *)(void *)((char *)h - PIN_SIZE);
  tset_unref(p->sets[0]);
  tset_unref(p->sets[1]);
  free(p);
}

/* The folded query's keys and what it is made of, derived once for every
 * set searched. */
typedef struct qkeys {
  const char *f; /* folded */
  size_t fn;
  uint32_t fcp;
  char *ns; /* without spaces */
  size_t nsn;
  uint32_t nscp;
  bool latin;       /* ASCII only, and not empty */
  bool hangul;      /* has Hangul ... */
  bool last_hangul; /* ... at its end */
  char *jamo;       /* keystroke jamo of NS, when HANGUL */
  size_t jn;
  uint32_t jcp;
  char *initials; /* NS as initial consonants, or NULL */
  size_t in;
  uint32_t icp;
  char *stem; /* stem key of F */
  size_t sn;
} qkeys;

/* Room that qkeys_make needs in BUF for a folded query of FN bytes: NS,
 * the keystroke jamo (at most 18 bytes per code point), the initials and
 * the stem key, each with its NUL. */
#define QKEYS_ROOM(fn) ((fn)*21 + 64)

static void qkeys_make(qkeys *k, const char *f, size_t fn, char *buf) {
  size_t i = 0;

  memset(k, 0, sizeof *k);
  k->f = f;
  k->fn = fn;
  k->fcp = (uint32_t)tm__utf8_count(f, fn);
  k->ns = buf;
  k->nsn = strip_spaces(f, fn, k->ns);
  k->nscp = (uint32_t)tm__utf8_count(k->ns, k->nsn);
  k->latin = k->nsn > 0;
  while (i < k->nsn) {
    uint32_t c = tm__utf8_next(k->ns, &i);
    if (c >= 0x80)
      k->latin = false;
    k->last_hangul = is_hangul(c);
    k->hangul = k->hangul || k->last_hangul;
  }
  k->jamo = k->ns + k->nsn + 1;
  if (k->hangul) {
    k->jn = jamo_keys(k->ns, k->nsn, k->jamo);
    k->jcp = (uint32_t)tm__utf8_count(k->jamo, k->jn);
  }
  k->initials = k->jamo + k->jn + 1;
  if (k->hangul && initials_only(k->ns, k->nsn, k->initials)) {
    k->in = strlen(k->initials);
    k->icp = (uint32_t)tm__utf8_count(k->initials, k->in);
  } else {
    k->initials[0] = '\0';
  }
  k->stem = k->initials + k->in + 1;
  k->sn = stem_key(f, fn, k->stem);
  if (!k->in)
    k->initials = NULL;
}

/* Runs every rule but the typo rule for the query K. */
static tm_status run_rules(search *x, const qkeys *k) {
  const char *ns = k->ns;
  size_t nsn = k->nsn, n;
  tm_status s;

  /* exact: 100 as folded, 99 ignoring spaces; prefix: 85..96 by how much
   * of the term is typed, without spaces only for Korean, where spacing
   * varies (elsewhere "pows" is no prefix of "pow swap") */
  if ((s = find_keys(x, K_FOLD, k->f, k->fn, k->fcp,
                     &(rule){100, TM_HOW_EXACT, 85, 12, TM_HOW_PREFIX,
                             false})) != TM_OK ||
      (s = find_keys(x, K_NOSPACE, ns, nsn, k->nscp,
                     &(rule){99, TM_HOW_EXACT, 85, k->hangul ? 12 : 0,
                             TM_HOW_PREFIX, false})) != TM_OK)
    return s;
  /* a half-typed last syllable: prefix at the jamo level, one lower */
  if (k->hangul && (s = find_keys(x, K_JAMO, k->jamo, k->jn, k->jcp,
                                  &(rule){0, TM_HOW_PREFIX, 84, 12,
                                          TM_HOW_PREFIX, false})) != TM_OK)
    return s;
  /* initial consonants: 84 whole, 80..83 a prefix */
  if (k->initials && (s = find_keys(x, K_INITIALS, k->initials, k->in, k->icp,
                                    &(rule){84, TM_HOW_INITIALS, 80, 4,
                                            TM_HOW_INITIALS, false})) != TM_OK)
    return s;
  /* inflection: 79 */
  if ((s = find_equal(x, K_STEM, k->stem, k->sn, 79, TM_HOW_INFLECTION)) !=
      TM_OK)
    return s;
  if (k->last_hangul) {
    for (size_t p = 0; p < sizeof particles / sizeof particles[0]; p++) {
      size_t pl;
      if (!ends_with(ns, nsn, particles[p], &pl) ||
          tm__utf8_count(ns, nsn - pl) < 2)
        continue;
      if ((s = find_equal(x, K_NOSPACE, ns, nsn - pl, 79, TM_HOW_INFLECTION)) !=
          TM_OK)
        return s;
      if (ends_with(ns, nsn - pl, "들", &n) &&
          tm__utf8_count(ns, nsn - pl - n) >= 2 &&
          (s = find_equal(x, K_NOSPACE, ns, nsn - pl - n, 79,
                          TM_HOW_INFLECTION)) != TM_OK)
        return s;
    }
  }
  /* transliteration: 69 equal, 68 equal ignoring spaces, 60..66 prefix
   * (without spaces, of Korean terms) */
  if (k->latin &&
      ((s = find_keys(x, K_TRANSLIT, k->f, k->fn, k->fcp,
                      &(rule){69, TM_HOW_TRANSLITERATION, 60, 7,
                              TM_HOW_TRANSLITERATION, false})) != TM_OK ||
       (s = find_keys(x, K_TRNOSPACE, ns, nsn, k->nscp,
                      &(rule){68, TM_HOW_TRANSLITERATION, 60, 7,
                              TM_HOW_TRANSLITERATION, true})) != TM_OK))
    return s;
  return TM_OK;
}

tm_status tm_terms_find(tm_index *idx, tm_db *db, const char *query,
                        const tm_terms_opts *opts, tm_term_hit **out,
                        size_t *n) {
  search x = {0};
  /* The query's keys: on the stack when it is short. */
  char small[1024], *buf = NULL, *fold = NULL;
  size_t fn, limit, nhits = 0;
  qkeys k;
  best *list = NULL;
  tm_term_hit *hits = NULL;
  pin *p = NULL;
  tm_status s;

  *out = NULL;
  *n = 0;
  tm__clear_error(db);
  if (!idx)
    return tm__error(db, TM_INVALID, "no index");
  if (!query)
    return tm__error(db, TM_INVALID, "the query is required");
  if (strlen(query) > QUERY_MAX)
    return tm__error(db, TM_TOOBIG, "a term query is at most %d bytes",
                     QUERY_MAX);
  if (opts && opts->lang && *opts->lang && strcmp(opts->lang, "any") != 0) {
    char canon[TM_LANG_MAX];
    if (tm_lang_canonical(opts->lang, canon) != TM_OK)
      return tm__error(db, TM_LANG, "invalid language tag \"%s\"", opts->lang);
    tm__lang_primary(canon, x.lang);
  }
  x.glossary = opts ? opts->glossary : NULL;
  x.approved_only = opts ? opts->approved_only : 0;
  limit = opts && opts->limit ? opts->limit : LIMIT_DEFAULT;
  if (limit > LIMIT_MAX)
    limit = LIMIT_MAX;
  if ((s = tm_text_fold(db->text, x.lang[0] ? x.lang : NULL, query,
                        strlen(query), &fold)) != TM_OK)
    return s == TM_UTF8 ? tm__error(db, s, "invalid UTF-8 in the query") : s;
  fn = strlen(fold);
  if (fn == 0)
    goto done;
  if (QKEYS_ROOM(fn) <= sizeof small)
    buf = small;
  else if (!(buf = malloc(QKEYS_ROOM(fn)))) {
    s = TM_NOMEM;
    goto done;
  }
  qkeys_make(&k, fold, fn, buf);
  x.b = x.first;
  x.bmask = sizeof x.first / sizeof x.first[0] - 1;

  pthread_rwlock_rdlock(&idx->lock);
  {
    const tm__terms *st = idx->terms;
    const tset *sets[2] = {st->main, st->delta};
    const uint8_t *dead[2] = {st->dead, NULL};
    for (int i = 0; i < 2 && s == TM_OK; i++)
      if (sets[i]) {
        x.t = sets[i];
        x.dead = dead[i];
        s = run_rules(&x, &k);
      }
    /* Typos only while better rules leave room in the list. */
    for (int i = 0; i < 2 && s == TM_OK && x.nb < limit; i++)
      if (sets[i] && (s = counts_reserve(db, sets[i]->nterms)) == TM_OK) {
        x.t = sets[i];
        x.dead = dead[i];
        x.counts = db->term_counts;
        x.touched = db->term_touched;
        s = find_fuzzy(&x, k.ns, k.nsn, k.latin);
      }
  }
  if (s == TM_OK && x.nb) {
    if (!(list = malloc(x.nb * sizeof *list)))
      s = TM_NOMEM;
    for (uint32_t i = 0; list && i <= x.bmask; i++)
      if (x.b[i].set)
        list[nhits++] = x.b[i];
    if (list) {
      qsort(list, nhits, sizeof *list, best_cmp);
      if (nhits > limit)
        nhits = limit;
      if ((p = malloc(PIN_SIZE + nhits * sizeof *hits))) {
        /* The sets stay while the hits point into them, whatever
         * updates swap in meanwhile. */
        p->sets[0] = idx->terms->main;
        p->sets[1] = idx->terms->delta;
        tset_ref(p->sets[0]);
        tset_ref(p->sets[1]);
        hits = (tm_term_hit *)(void *)((char *)p + PIN_SIZE);
      } else {
        s = TM_NOMEM;
      }
    }
    for (size_t i = 0; s == TM_OK && i < nhits; i++) {
      const tm_term *tt = hit_term(&list[i]);
      tm_term_hit *h = &hits[i];
      h->score = list[i].score;
      h->how = list[i].how;
      strcpy(h->lang, tt->lang);
      h->term = tt->text;
      h->entry = list[i].set->entries[list[i].entry];
    }
  }
  pthread_rwlock_unlock(&idx->lock);
  if (s == TM_OK) {
    *out = hits;
    *n = nhits;
    hits = NULL;
  }
done:
  tm_terms_free(hits, nhits);
  free(list);
  if (x.b != x.first)
    free(x.b);
  free(fold);
  if (buf != small)
    free(buf);
  return s;
}
