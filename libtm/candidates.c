/*
 * candidates.c - candidate new terms in a document: what an interpreter
 * must research because no glossary has it.  Three sources, merged by the
 * words' recognition keys (so "prisoners" and "prisoner" are one):
 *
 *  - acronyms (two capitals or more, not a run of shouted words, not a
 *    Roman numeral), paired with their expansion when the text gives one
 *    as "Expansion (ACR)" or "ACR (Expansion)": the expansion's letters
 *    hold the acronym's in order (Schwartz and Hearst 2003), or, for
 *    acronyms of another language's name (NKDB for Database Center for
 *    North Korean Human Rights), the expansion is a capitalised name whose
 *    word initials hold at least half of the acronym's letters;
 *  - names: runs of capitalised words, with lower-case connectors inside
 *    (of, for, the, ...), not counting a capital a sentence start or a
 *    title line explains; one capitalised word alone only when it recurs
 *    and never appears in lower case;
 *  - phrases: expressions of 2 to 5 words occurring twice or more inside a
 *    sentence, neither starting nor ending with a stop word or a number,
 *    overlapping no recognised term, and kept only where no longer phrase
 *    accounts for all of their occurrences.
 *
 * What a glossary has is left out: a candidate whose words are, as a
 * whole, a glossary term, or whose occurrences lie inside recognised
 * terms.  The score is docs/analyze.md's.
 */
#include "analyze_internal.h"
#include "match_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>

#define NGRAM_MAX 5
#define ACRONYM_MAX 10 /* code points */
#define NAME_WORDS_MAX 12

/* Score weights (docs/analyze.md). */
#define W_FREQ 0.35
#define W_CAPS 0.25
#define W_ACRO 0.25
#define W_LEN 0.15

/* Folded stop words (function words, and for English month and day
 * names, which are capitalised without being names), sorted in strcmp
 * order for bsearch. */
static const char *const en_stop[] = {
    "a",       "about",     "above",    "according", "across",   "after",
    "again",   "against",   "all",      "almost",    "also",     "although",
    "always",  "am",        "among",    "an",        "and",      "another",
    "any",     "april",     "are",      "aren't",    "around",   "as",
    "at",      "august",    "be",       "became",    "because",  "been",
    "before",  "being",     "below",    "between",   "both",     "but",
    "by",      "can",       "can't",    "could",     "december", "did",
    "didn't",  "do",        "does",     "doesn't",   "doing",    "don't",
    "down",    "dr",        "during",   "each",      "either",   "even",
    "ever",    "every",     "february", "few",       "for",      "friday",
    "from",    "further",   "had",      "has",       "have",     "having",
    "he",      "he's",      "her",      "here",      "hers",     "herself",
    "him",     "himself",   "his",      "how",       "however",  "i",
    "i'd",     "i'll",      "i'm",      "i've",      "if",       "in",
    "into",    "is",        "isn't",    "it",        "it's",     "its",
    "itself",  "january",   "july",     "june",      "just",     "last",
    "least",   "less",      "let's",    "many",      "march",    "may",
    "me",      "meanwhile", "might",    "monday",    "more",     "most",
    "mr",      "mrs",       "ms",       "much",      "must",     "my",
    "neither", "no",        "nor",      "not",       "november", "now",
    "october", "of",        "off",      "often",     "on",       "once",
    "one",     "only",      "or",       "other",     "others",   "our",
    "ours",    "out",       "over",     "own",       "per",      "rather",
    "said",    "same",      "saturday", "say",       "says",     "september",
    "several", "she",       "she's",    "should",    "since",    "so",
    "some",    "such",      "sunday",   "than",      "that",     "that's",
    "the",     "their",     "theirs",   "them",      "then",     "there",
    "there's", "these",     "they",     "they're",   "this",     "those",
    "though",  "through",   "thursday", "thus",      "to",       "too",
    "toward",  "towards",   "tuesday",  "under",     "until",    "up",
    "upon",    "us",        "very",     "via",       "was",      "wasn't",
    "we",      "we're",     "we've",    "wednesday", "were",     "what",
    "when",    "where",     "whether",  "which",     "while",    "who",
    "whom",    "whose",     "why",      "will",      "with",     "within",
    "without", "won't",     "would",    "yet",       "you",      "you're",
    "your",    "yours",
};

static const char *const uk_stop[] = {
    "а",     "або",   "але",   "без",  "би",   "був", "була",  "були", "було",
    "бути",  "в",     "вже",   "вона", "вони", "все", "всі",   "від",  "він",
    "де",    "для",   "до",    "же",   "з",    "за",  "зі",    "й",    "к",
    "коли",  "крім",  "лише",  "між",  "на",   "над", "не",    "ні",   "о",
    "однак", "от",    "по",    "при",  "про",  "під", "після", "саме", "та",
    "так",   "також", "те",    "тим",  "то",   "той", "у",     "усі",  "це",
    "цей",   "ці",    "через", "що",   "щоб",  "як",  "яка",   "який", "якщо",
    "які",   "є",     "і",     "із",   "їх",
};

static const char *const ko_stop[] = {
    "것",   "그",   "그러나", "그리고", "대한", "더",     "등",
    "또",   "또한", "및",     "수",     "위한", "위해",   "이",
    "있는", "있다", "저",     "통해",   "하는", "하지만", "한",
};

/* Small words inside names (Liberty in North Korea, Center for Civil
 * Liberties).  Coordinators join two names into one only after another
 * connector (International Covenant on Civil and Political Rights, not
 * Russia and North Korea). */
static const char *const connectors[] = {
    "al", "bin", "da", "de", "del", "der", "di",  "du", "for", "in",
    "la", "le",  "of", "on", "the", "van", "von", "y",  "і",
};

static const char *const coordinators[] = {"and", "і", "та", "й"};

static const char *const articles[] = {"the", "a", "an"};

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool in_sorted(const char *const *v, size_t n, const char *s) {
  /* A language without a list has V NULL, which bsearch may not get. */
  return n > 0 && bsearch(&s, v, n, sizeof *v, cmp_str) != NULL;
}

/* ------------------------------------------------------------ the map */

/* A set of strings, each with a value: open addressing over arena
 * strings. */
typedef struct smap {
  tm__str *keys;
  uint32_t *vals;
  uint32_t mask, n;
} smap;

static uint64_t str_hash(const char *s, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;

  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)s[i];
    h *= 0x100000001b3ull;
  }
  return h ^ (h >> 29);
}

static uint32_t *smap_find(const tm__actx *x, const smap *m, const char *s,
                           size_t n) {
  uint32_t i;

  if (!m->keys)
    return NULL;
  for (i = (uint32_t)str_hash(s, n) & m->mask; m->keys[i].len;
       i = (i + 1) & m->mask)
    if (m->keys[i].len == n && memcmp(tm__s(x, m->keys[i]), s, n) == 0)
      return &m->vals[i];
  return NULL;
}

/* The value slot of KEY (an arena string), made with VAL when missing. */
static tm_status smap_put(const tm__actx *x, smap *m, tm__str key, uint32_t val,
                          uint32_t **slot) {
  uint32_t i;

  if (!key.len) {
    *slot = NULL;
    return TM_OK;
  }
  if ((*slot = smap_find(x, m, tm__s(x, key), key.len)) != NULL)
    return TM_OK;
  if (!m->keys || (m->n + 1) * 2 > m->mask + 1) {
    uint32_t cap = m->keys ? (m->mask + 1) * 2 : 256;
    tm__str *k = calloc(cap, sizeof *k);
    uint32_t *v = calloc(cap, sizeof *v);
    if (!k || !v) {
      free(k);
      free(v);
      return TM_NOMEM;
    }
    for (uint32_t j = 0; m->keys && j <= m->mask; j++) {
      if (!m->keys[j].len)
        continue;
      i = (uint32_t)str_hash(tm__s(x, m->keys[j]), m->keys[j].len) & (cap - 1);
      while (k[i].len)
        i = (i + 1) & (cap - 1);
      k[i] = m->keys[j];
      v[i] = m->vals[j];
    }
    free(m->keys);
    free(m->vals);
    m->keys = k;
    m->vals = v;
    m->mask = cap - 1;
  }
  for (i = (uint32_t)str_hash(tm__s(x, key), key.len) & m->mask; m->keys[i].len;
       i = (i + 1) & m->mask)
    ;
  m->keys[i] = key;
  m->vals[i] = val;
  m->n++;
  *slot = &m->vals[i];
  return TM_OK;
}

static void smap_free(smap *m) {
  free(m->keys);
  free(m->vals);
}

/* ---------------------------------------------------------- candidates */

typedef struct cand {
  tm_candidate_kind kind;
  size_t i, j;   /* words of the first occurrence */
  size_t count;  /* occurrences as a phrase or a name */
  size_t acount; /* occurrences of the abbreviation alone */
  tm__str abbr;  /* a pair's abbreviation (its case-exact key) */
  bool drop;
} cand;

/* A run of capitalised words: a name. */
typedef struct caprun {
  size_t start, last, caps;
} caprun;

typedef struct finder {
  tm__actx *x;
  const char *const *stop;
  size_t nstop;
  smap lower;  /* folded words seen in lower case */
  smap capmid; /* folded words seen capitalised inside a sentence */
  smap inname; /* keys of words inside terms found and longer names */
  smap byseq;  /* sequence key -> cand + 1 */
  smap byabbr; /* case-exact acronym -> pair cand + 1 */
  cand *c;
  size_t nc, ccap;
  uint32_t *run_start; /* per word: first word of the name run ending at
                          it, or UINT32_MAX */
  struct caprun *runs; /* the name runs, in order */
  size_t nruns;
  uint32_t *run_of; /* per word: its name run + 1, or 0 */
  bool *acro;
  bool *paired; /* the acronym at this word is inside "(...)" of a pair */
  bool *title;  /* per sentence: a title line (mostly capitals) */
  char *buf;
  size_t bcap;
} finder;

static const char *fold_of(const finder *f, size_t k) {
  return tm__s(f->x, f->x->w[k].fold);
}

static bool is_stop(const finder *f, size_t k) {
  return in_sorted(f->stop, f->nstop, fold_of(f, k));
}

static bool in_list(const char *const *v, size_t n, const char *s) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(s, v[i]) == 0)
      return true;
  return false;
}

static bool is_connector(const finder *f, size_t k) {
  return (f->x->w[k].flags & TM__W_LOWER) &&
         in_list(connectors, sizeof connectors / sizeof connectors[0],
                 fold_of(f, k));
}

static bool is_coordinator(const finder *f, size_t k) {
  return (f->x->w[k].flags & TM__W_LOWER) &&
         in_list(coordinators, sizeof coordinators / sizeof coordinators[0],
                 fold_of(f, k));
}

static bool seen_lower(const finder *f, size_t k) {
  const tm__word *w = &f->x->w[k];
  return smap_find(f->x, &f->lower, tm__s(f->x, w->fold), w->fold.len);
}

static bool seen_capmid(const finder *f, size_t k) {
  const tm__word *w = &f->x->w[k];
  return smap_find(f->x, &f->capmid, tm__s(f->x, w->fold), w->fold.len);
}

/* Two words glued by a lost space ("NewsThe"): a capital after three
 * small letters or more. */
static bool glued(const finder *f, size_t k) {
  const tm__word *w = &f->x->w[k];
  const char *s = f->x->plain->text + w->b0;
  size_t i = 0, n = w->b1 - w->b0;
  int run = 0;

  while (i < n) {
    uint32_t c = tm__utf8_next(s, &i);
    if (u_islower((UChar32)c))
      run++;
    else if (u_isupper((UChar32)c) && run >= 3)
      return true;
    else
      run = 0;
  }
  return false;
}

/* The gap key before word K ("" when none). */
static const char *gapk(const tm__actx *x, size_t k) {
  return x->w[k].gap.len ? tm__s(x, x->w[k].gap) : "";
}

static bool same_sentence(const tm__actx *x, size_t a, size_t b) {
  return x->w[a].sent == x->w[b].sent;
}

/* Joined by nothing but blanks (or a hyphen) to the word before. */
static bool tight(const tm__actx *x, size_t k) {
  return x->w[k].gapkind <= TM__GAP_HYPHEN;
}

/* The sequence key of words [i, j), their keys joined by spaces, into
 * f->buf; returns its length. */
static tm_status seq_build(finder *f, size_t i, size_t j, size_t *len) {
  tm__actx *x = f->x;
  size_t n = 0;
  bool ok = true;

  for (size_t k = i; k < j; k++) {
    const tm__word *w = &x->w[k];
    GROW(f->buf, f->bcap, n + w->key.len + 2, ok);
    if (!ok)
      return TM_NOMEM;
    if (k > i)
      f->buf[n++] = ' ';
    memcpy(f->buf + n, tm__s(x, w->key), w->key.len);
    n += w->key.len;
  }
  if (!n) { /* the maps take no empty key */
    GROW(f->buf, f->bcap, 1, ok);
    if (!ok)
      return TM_NOMEM;
    f->buf[n++] = ' ';
  }
  *len = n;
  return TM_OK;
}

/* The value slot of the sequence key of words [i, j) in M, made (with 0)
 * when missing. */
static tm_status seq_slot(finder *f, smap *m, size_t i, size_t j,
                          uint32_t **slot) {
  tm__str key;
  size_t n;
  tm_status s;

  if ((s = seq_build(f, i, j, &n)) != TM_OK)
    return s;
  if ((*slot = smap_find(f->x, m, f->buf, n)) != NULL)
    return TM_OK;
  if ((s = tm__actx_put(f->x, f->buf, n, &key)) != TM_OK)
    return s;
  return smap_put(f->x, m, key, 0, slot);
}

/* The candidate of words [i, j) of KIND (made at its first occurrence). */
static tm_status cand_at(finder *f, size_t i, size_t j, tm_candidate_kind kind,
                         cand **out) {
  uint32_t *slot;
  tm_status s;
  bool ok = true;

  if ((s = seq_slot(f, &f->byseq, i, j, &slot)) != TM_OK)
    return s;
  if (!*slot) {
    GROW(f->c, f->ccap, f->nc + 1, ok);
    if (!ok)
      return TM_NOMEM;
    f->c[f->nc] = (cand){kind, i, j, 0, 0, {0, 0}, false};
    *slot = (uint32_t)++f->nc;
  }
  *out = &f->c[*slot - 1];
  /* A name outranks a phrase, an acronym pair both. */
  if (kind < (*out)->kind)
    (*out)->kind = kind;
  return TM_OK;
}

/* Every word in [i, j) lies inside recognised terms. */
static bool covered(const tm__actx *x, size_t i, size_t j) {
  for (size_t k = i; k < j; k++)
    if (x->w[k].occ < 0)
      return false;
  return true;
}

/* ------------------------------------------------------------ acronyms */

static size_t word_cps(const tm__word *w) {
  return w->c1 - w->c0;
}

/* A small Roman numeral (GC III, Protocol II); DC and MD are acronyms. */
static bool roman(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!strchr("IVX", s[i]))
      return false;
  return true;
}

/* All capitals, no lower-case letter: a shouted word. */
static bool shouted(const finder *f, size_t k) {
  const tm__word *w = &f->x->w[k];
  const char *s = f->x->plain->text + w->b0;
  size_t i = 0, n = w->b1 - w->b0;

  if (!(w->flags & TM__W_ACRO) || word_cps(w) < 3)
    return false;
  while (i < n)
    if (u_islower((UChar32)tm__utf8_next(s, &i)))
      return false;
  return true;
}

static void mark_acronyms(finder *f) {
  const tm__actx *x = f->x;

  for (size_t k = 0; k < x->nw; k++) {
    const tm__word *w = &x->w[k];
    const char *ex = tm__s(x, w->exact) + 1;
    bool ok = (w->flags & TM__W_ACRO) && w->exact.len > 2 && word_cps(w) >= 2 &&
              word_cps(w) <= ACRONYM_MAX && !roman(ex, w->exact.len - 1) &&
              !memchr(ex, '.', w->exact.len - 1) && !glued(f, k);
    /* HELD, WAR: a shouted word the text also writes in lower case. */
    if (ok && word_cps(w) >= 3 && shouted(f, k) && seen_lower(f, k))
      ok = false;
    /* SEOUL, SOUTH KOREA: a run of shouted words is no acronym. */
    if (ok && shouted(f, k) &&
        ((k > 0 && same_sentence(x, k - 1, k) && shouted(f, k - 1) &&
          !strchr(gapk(x, k), '(')) ||
         (k + 1 < x->nw && same_sentence(x, k, k + 1) && shouted(f, k + 1) &&
          !strchr(gapk(x, k + 1), '('))))
      ok = false;
    f->acro[k] = ok;
  }
}

/* The acronym's letters and digits, folded to lower case. */
static size_t acronym_letters(const finder *f, size_t k, uint32_t *out,
                              size_t max) {
  const tm__word *w = &f->x->w[k];
  const char *s = tm__s(f->x, w->exact) + 1;
  size_t i = 0, n = 0, len = w->exact.len - 1;

  while (i < len && n < max) {
    uint32_t c = tm__utf8_next(s, &i);
    if (u_isalnum((UChar32)c))
      out[n++] = (uint32_t)u_tolower((UChar32)c);
  }
  return n;
}

/* Schwartz and Hearst (2003): the start of the shortest expansion in words
 * [lo, hi) whose characters, right to left, hold the acronym's letters A
 * in order, the first at the start of a word; SIZE_MAX when none. */
static size_t sh_match(const finder *f, size_t lo, size_t hi, const uint32_t *a,
                       size_t m) {
  const tm__actx *x = f->x;
  long ai = (long)m - 1;
  size_t k = hi;
  uint32_t cps[128];
  long pos = -1;
  size_t wn = 0;

  while (ai >= 0) {
    /* Characters of word k - 1, searched right to left. */
    if (pos < 0) {
      const char *s;
      size_t i = 0, n;
      if (k == lo)
        return SIZE_MAX;
      k--;
      s = tm__s(x, x->w[k].fold);
      n = x->w[k].fold.len;
      wn = 0;
      while (i < n && wn < 128)
        cps[wn++] = tm__utf8_next(s, &i);
      pos = (long)wn - 1;
      continue;
    }
    if (cps[pos] == a[ai] && (ai > 0 || pos == 0)) {
      ai--;
      if (ai < 0)
        break;
    }
    pos--;
  }
  return k;
}

/* The name run ending at word E-1 when its word initials hold at least
 * half of the acronym's letters, its first included; else SIZE_MAX. */
static size_t initials_match(const finder *f, size_t e, const uint32_t *a,
                             size_t m) {
  const tm__actx *x = f->x;
  uint32_t ini[NAME_WORDS_MAX * 2];
  size_t ni = 0, found = 0, start;
  bool first = false;

  if (!e || f->run_start[e - 1] == UINT32_MAX)
    return SIZE_MAX;
  start = f->run_start[e - 1];
  for (size_t k = start; k < e && ni < sizeof ini / sizeof ini[0]; k++) {
    size_t i = 0;
    if (is_connector(f, k))
      continue;
    ini[ni++] = tm__utf8_next(tm__s(x, x->w[k].fold), &i);
  }
  if (ni < 2)
    return SIZE_MAX;
  for (size_t l = 0; l < m; l++)
    for (size_t k = 0; k < ni; k++)
      if (ini[k] == a[l]) {
        found++;
        first = first || l == 0;
        break;
      }
  return found * 2 >= m && first ? start : SIZE_MAX;
}

/* The expansion of the acronym at word K written before it as
 * "Expansion (ACR)": its words [*lo, K). */
static bool expansion_before(const finder *f, size_t k, const uint32_t *a,
                             size_t m, size_t *lo) {
  const tm__actx *x = f->x;
  size_t win = m + 5 < m * 2 ? m + 5 : m * 2, first = k, s;
  const char *g = gapk(x, k);

  if (k == 0 || !(strcmp(g, "(") == 0 || strcmp(g, "'(") == 0) ||
      (k + 1 < x->nw && gapk(x, k + 1)[0] != ')'))
    return false;
  /* The words before, inside the sentence, with no punctuation between. */
  while (first > 0 && k - first < win && same_sentence(x, first - 1, k) &&
         (first == k || tight(x, first)))
    first--;
  if ((s = sh_match(f, first, k, a, m)) == SIZE_MAX)
    s = initials_match(f, k, a, m);
  if (s == SIZE_MAX || s >= k)
    return false;
  while (s < k && is_stop(f, s))
    s++;
  *lo = s;
  return s < k;
}

/* "ACR (Expansion)": the expansion's words [*lo, *hi) after word K. */
static bool expansion_after(finder *f, size_t k, const uint32_t *a, size_t m,
                            size_t *lo, size_t *hi) {
  const tm__actx *x = f->x;
  size_t e, s;

  if (k + 2 >= x->nw || strcmp(gapk(x, k + 1), "(") != 0)
    return false;
  for (e = k + 1; e < x->nw && e - k <= m * 2 + 3; e++) {
    if (e > k + 1 && !tight(x, e))
      return false;
    if (e + 1 == x->nw || gapk(x, e + 1)[0] == ')')
      break;
  }
  if (e >= x->nw || e - k > m * 2 + 3)
    return false;
  e++;
  if ((s = sh_match(f, k + 1, e, a, m)) == SIZE_MAX) {
    /* A name run ending at e - 1 that starts right after the bracket. */
    if ((s = initials_match(f, e, a, m)) != k + 1)
      return false;
  }
  *lo = s;
  *hi = e;
  return s < e;
}

/* Pairs and lone acronyms. */
static tm_status find_acronyms(finder *f) {
  tm__actx *x = f->x;
  tm_status s = TM_OK;

  for (size_t k = 0; k < x->nw && s == TM_OK; k++) {
    uint32_t a[ACRONYM_MAX + 1], *slot;
    size_t m, lo, hi = k;
    cand *c;

    if (!f->acro[k])
      continue;
    m = acronym_letters(f, k, a, ACRONYM_MAX);
    if (m < 2)
      continue;
    if (!expansion_before(f, k, a, m, &lo)) {
      if (!expansion_after(f, k, a, m, &lo, &hi))
        continue;
    }
    if (covered(x, lo, hi) || x->w[k].occ >= 0 || tm__actx_known(x, lo, hi) ||
        tm__actx_known(x, k, k + 1))
      continue;
    if ((s = cand_at(f, lo, hi, TM_CANDIDATE_ACRONYM, &c)) != TM_OK)
      break;
    f->paired[k] = true;
    if (!c->abbr.len) {
      c->abbr = x->w[k].exact;
      if ((s = smap_put(x, &f->byabbr, c->abbr, (uint32_t)(c - f->c) + 1,
                        &slot)) != TM_OK)
        break;
    }
  }
  /* Acronyms alone: counted with their pair, if any, else on their own. */
  for (size_t k = 0; k < x->nw && s == TM_OK; k++) {
    const tm__word *w = &x->w[k];
    uint32_t *v;
    cand *c;
    if (!f->acro[k] || f->paired[k] || w->occ >= 0)
      continue;
    if ((v = smap_find(x, &f->byabbr, tm__s(x, w->exact), w->exact.len))) {
      f->c[*v - 1].acount++;
      continue;
    }
    if (tm__actx_known(x, k, k + 1))
      continue;
    if ((s = cand_at(f, k, k + 1, TM_CANDIDATE_ACRONYM, &c)) != TM_OK)
      break;
    c->acount++;
  }
  return s;
}

/* ---------------------------------------------------------------- names */

static bool name_word(const finder *f, size_t k) {
  const tm__word *w = &f->x->w[k];
  return (w->flags & (TM__W_CAP | TM__W_ACRO)) && !(w->flags & TM__W_NUM) &&
         w->occ < 0 && !glued(f, k) &&
         !memchr(f->x->plain->text + w->b0, '.', w->b1 - w->b0);
}

/* Title lines: three content words or more, three in four of them
 * capitalised, short, and without a full stop at the end. */
static tm_status mark_titles(finder *f) {
  const tm__actx *x = f->x;
  size_t *words, *caps, *all;

  if (!x->nsent)
    return TM_OK;
  words = calloc(x->nsent, sizeof *words);
  caps = calloc(x->nsent, sizeof *caps);
  all = calloc(x->nsent, sizeof *all);
  if (!words || !caps || !all) {
    free(words);
    free(caps);
    free(all);
    return TM_NOMEM;
  }
  for (size_t k = 0; k < x->nw; k++) {
    uint8_t fl = x->w[k].flags;
    size_t sn = x->w[k].sent;
    if (sn >= x->nsent)
      continue;
    all[sn]++;
    if ((fl & TM__W_NUM) || is_stop(f, k) || is_connector(f, k))
      continue;
    words[sn]++;
    if (fl & (TM__W_CAP | TM__W_ACRO))
      caps[sn]++;
  }
  for (size_t i = 0; i < x->nsent; i++)
    f->title[i] = words[i] >= 3 && caps[i] * 4 >= words[i] * 3 &&
                  all[i] <= 25 && !(x->closed && x->closed[i]);
  free(words);
  free(caps);
  free(all);
  return TM_OK;
}

static bool in_title(const finder *f, size_t k) {
  size_t sn = f->x->w[k].sent;
  return sn < f->x->nsent && f->title[sn];
}

/* The name run starting at word I: capitalised words, connectors between
 * two of them; *last is its last word. */
static void name_run(const finder *f, size_t i, size_t *last) {
  const tm__actx *x = f->x;
  size_t j = i;
  bool connected = false;

  *last = i;
  while (j + 1 < x->nw && j + 1 - i < NAME_WORDS_MAX &&
         !(x->w[j].flags & TM__W_POSS) && same_sentence(x, j, j + 1) &&
         tight(x, j + 1)) {
    if (name_word(f, j + 1) && !(x->w[j + 1].flags & TM__W_START)) {
      *last = ++j;
      continue;
    }
    /* The small second half of a hyphenated name: Jung-hyun, al-Bashir. */
    if (x->w[j + 1].gapkind == TM__GAP_HYPHEN &&
        (x->w[j + 1].flags & TM__W_LOWER) && x->w[j + 1].occ < 0) {
      *last = ++j;
      continue;
    }
    /* "Nataliya Gumenyuk of The Reckoning Project": a capitalised article
     * after a connector starts another name. */
    if (j + 2 < x->nw && tight(x, j + 2) && same_sentence(x, j, j + 2) &&
        name_word(f, j + 2) && !(x->w[j + 2].flags & TM__W_START) &&
        !in_list(articles, sizeof articles / sizeof articles[0],
                 fold_of(f, j + 2)) &&
        (is_connector(f, j + 1) || (connected && is_coordinator(f, j + 1)))) {
      connected = true;
      j += 2;
      *last = j;
      continue;
    }
    break;
  }
}

static size_t run_caps(const finder *f, size_t a, size_t b) {
  size_t caps = 0;
  for (size_t k = a; k <= b; k++)
    caps += name_word(f, k);
  return caps;
}

static tm_status find_names(finder *f) {
  tm__actx *x = f->x;
  caprun *runs = NULL;
  size_t nruns = 0, cap = 0;
  tm_status s = TM_OK;
  bool ok = true;

  for (size_t i = 0; i < x->nw;) {
    size_t last, start;
    if (!name_word(f, i) || in_title(f, i)) {
      i++;
      continue;
    }
    name_run(f, i, &last);
    /* A sentence's first word: its capital proves nothing unless the text
     * capitalises it elsewhere too. */
    start = i;
    if ((x->w[i].flags & TM__W_START) && !seen_capmid(f, i) &&
        (is_stop(f, i) || seen_lower(f, i) ||
         (i < last && run_caps(f, i + 1, last) >= 2)))
      start++;
    /* Small words do not start a name; a capitalised article inside a
     * sentence does (The Reckoning Project). */
    while (start <= last &&
           (is_connector(f, start) || is_coordinator(f, start) ||
            (is_stop(f, start) &&
             ((x->w[start].flags & TM__W_START) ||
              !in_list(articles, sizeof articles / sizeof articles[0],
                       fold_of(f, start))))))
      start++;
    if (start <= last) {
      GROW(runs, cap, nruns + 1, ok);
      if (!ok) {
        free(runs);
        return TM_NOMEM;
      }
      runs[nruns++] = (caprun){start, last, run_caps(f, start, last)};
      for (size_t k = start; k <= last; k++) {
        f->run_start[k] = (uint32_t)start;
        f->run_of[k] = (uint32_t)nruns;
      }
    }
    i = last + 1;
  }
  /* Words of terms found and of longer names: a surname alone ("Putin"
   * after "Vladimir Putin") is no new name. */
  for (size_t k = 0; k < x->nw && s == TM_OK; k++) {
    uint32_t *slot;
    if (x->w[k].occ >= 0 && (x->w[k].flags & TM__W_CAP))
      s = smap_put(x, &f->inname, x->w[k].key, 0, &slot);
  }
  for (size_t r = 0; r < nruns && s == TM_OK; r++) {
    uint32_t *slot;
    if (runs[r].caps < 2)
      continue;
    for (size_t k = runs[r].start; k <= runs[r].last && s == TM_OK; k++)
      if (!is_connector(f, k))
        s = smap_put(x, &f->inname, x->w[k].key, 0, &slot);
  }
  for (size_t r = 0; r < nruns && s == TM_OK; r++) {
    size_t a = runs[r].start, b = runs[r].last + 1;
    const tm__word *w = &x->w[a];
    cand *c;
    if (runs[r].caps == 1 &&
        (f->acro[a] || is_stop(f, a) || seen_lower(f, a) ||
         (w->flags & TM__W_START) ||
         smap_find(x, &f->inname, tm__s(x, w->key), w->key.len) ||
         tm__actx_name_word(x, a)))
      continue;
    if (tm__actx_known(x, a, b))
      continue;
    if ((s = cand_at(f, a, b, TM_CANDIDATE_NAME, &c)) != TM_OK)
      break;
    c->count++;
  }
  f->runs = runs;
  f->nruns = nruns;
  return s;
}

/* -------------------------------------------------------------- phrases */

static bool content_word(const finder *f, size_t k) {
  const tm__word *w = &f->x->w[k];
  return !(w->flags & TM__W_NUM) && !is_stop(f, k) &&
         (w->flags & (TM__W_LOWER | TM__W_CAP | TM__W_ACRO | TM__W_HANGUL)) &&
         w->key.len > 1;
}

/* A phrase starts with a content word not hyphenated to the one before,
 * and not with a capital only a sentence start explains. */
static bool phrase_start_ok(const finder *f, size_t k) {
  const tm__word *w = &f->x->w[k];
  return content_word(f, k) && w->gapkind != TM__GAP_HYPHEN &&
         !((w->flags & TM__W_START) && (w->flags & TM__W_CAP) &&
           !seen_capmid(f, k) && !seen_lower(f, k));
}

/* Words [i, e] hold every name they touch whole: "role of North" cuts
 * North Korea; ADD is where the check may fail for good (the first
 * word's run starts before I). */
static bool runs_whole(const finder *f, size_t i, size_t e, bool *never) {
  uint32_t r0 = f->run_of[i], r1 = f->run_of[e];

  *never = r0 && f->runs[r0 - 1].start < i;
  if (*never)
    return false;
  return !r1 || f->runs[r1 - 1].last <= e;
}

/* It ends with one not hyphenated to the one after. */
static bool phrase_end_ok(const finder *f, size_t k) {
  return content_word(f, k) &&
         (k + 1 >= f->x->nw || f->x->w[k + 1].gapkind != TM__GAP_HYPHEN);
}

/* A small word inside a phrase: a connector other than an article, or a
 * coordinator between small words (command and control, not English and
 * Korean). */
static bool inner_ok(const finder *f, size_t k) {
  const tm__actx *x = f->x;

  if (is_connector(f, k))
    return strcmp(fold_of(f, k), "the") != 0;
  return is_coordinator(f, k) && k > 0 && k + 1 < x->nw &&
         (x->w[k - 1].flags & TM__W_LOWER) && (x->w[k + 1].flags & TM__W_LOWER);
}

typedef struct gram {
  size_t count, first;
  uint8_t n;
  bool drop;
} gram;

static tm_status find_phrases(finder *f) {
  tm__actx *x = f->x;
  smap counts = {0};
  gram *g = NULL;
  size_t ng = 0, cap = 0;
  tm_status s = TM_OK;
  bool ok = true;

  /* Count every admissible n-gram by its sequence key. */
  for (size_t i = 0; i < x->nw && s == TM_OK; i++) {
    if (!phrase_start_ok(f, i) || x->w[i].occ >= 0 || in_title(f, i))
      continue;
    for (size_t n = 2; n <= NGRAM_MAX && i + n <= x->nw && s == TM_OK; n++) {
      size_t e = i + n - 1;
      uint32_t *slot;
      if (!same_sentence(x, i, e) || !tight(x, e) || x->w[e].occ >= 0 ||
          !(content_word(f, e) || inner_ok(f, e)))
        break;
      {
        bool never;
        if (!runs_whole(f, i, e, &never)) {
          if (never)
            break;
          continue;
        }
      }
      if (!phrase_end_ok(f, e))
        continue;
      if ((s = seq_slot(f, &counts, i, e + 1, &slot)) != TM_OK)
        break;
      if (!*slot) {
        GROW(g, cap, ng + 1, ok);
        if (!ok) {
          s = TM_NOMEM;
          break;
        }
        g[ng] = (gram){0, i, (uint8_t)n, false};
        *slot = (uint32_t)++ng;
      }
      g[*slot - 1].count++;
    }
  }
  /* Drop an n-gram when a longer one accounts for all its occurrences. */
  for (size_t k = 0; k < ng && s == TM_OK; k++) {
    size_t n = g[k].n, i = g[k].first;
    if (g[k].count < 2 || n < 3)
      continue;
    for (size_t a = i; a < i + n - 1 && s == TM_OK; a++)
      for (size_t b = a + 2; b <= i + n && s == TM_OK; b++) {
        size_t len;
        uint32_t *v;
        if (b - a == n || (s = seq_build(f, a, b, &len)) != TM_OK)
          continue;
        v = smap_find(x, &counts, f->buf, len);
        if (v && g[*v - 1].count == g[k].count)
          g[*v - 1].drop = true;
      }
  }
  for (size_t k = 0; k < ng && s == TM_OK; k++) {
    cand *c;
    if (g[k].count < 2 || g[k].drop ||
        tm__actx_known(x, g[k].first, g[k].first + g[k].n))
      continue;
    if ((s = cand_at(f, g[k].first, g[k].first + g[k].n, TM_CANDIDATE_PHRASE,
                     &c)) != TM_OK)
      break;
    if (g[k].count > c->count)
      c->count = g[k].count;
  }
  smap_free(&counts);
  free(g);
  return s;
}

/* ---------------------------------------------------------------- score */

/* Occurrences of the words [i, j)'s sequence anywhere (an expansion
 * written again without its abbreviation). */
static size_t occurrences(const finder *f, size_t i, size_t j) {
  const tm__actx *x = f->x;
  size_t n = j - i, count = 0;

  for (size_t p = 0; p + n <= x->nw; p++) {
    size_t k;
    for (k = 0; k < n; k++) {
      const tm__word *a = &x->w[i + k], *b = &x->w[p + k];
      if (a->key.len != b->key.len ||
          memcmp(tm__s(x, a->key), tm__s(x, b->key), a->key.len) != 0 ||
          (k && (!tight(x, p + k) || !same_sentence(x, p, p + k))))
        break;
    }
    count += k == n;
  }
  return count;
}

typedef struct scored {
  cand *c;
  size_t count;
  double score;
} scored;

static int scored_cmp(const void *pa, const void *pb) {
  const scored *a = pa, *b = pb;

  if (a->score != b->score)
    return a->score > b->score ? -1 : 1;
  if (a->count != b->count)
    return a->count > b->count ? -1 : 1;
  return a->c->i < b->c->i ? -1 : a->c->i > b->c->i;
}

/* The text of words [i, j) as read, without a final possessive 's. */
static tm_status surface(const finder *f, size_t i, size_t j, char **out,
                         tm_span *first) {
  const tm__actx *x = f->x;
  const tm__word *a = &x->w[i], *b = &x->w[j - 1];
  size_t b1 = b->b1;
  uint32_t c1 = b->c1;
  char *flat;
  size_t k = 0, n;
  bool space = false;

  if (b->flags & TM__W_POSS) {
    /* 's or ’s: two code points either way. */
    b1 -= x->plain->text[b1 - 2] == '\'' ? 2 : 4;
    c1 -= 2;
  }
  n = b1 - a->b0;
  if (!(flat = malloc(n + 1)))
    return TM_NOMEM;
  for (size_t p = a->b0; p < b1; p++) {
    char ch = x->plain->text[p];
    if (ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r') {
      space = true;
      continue;
    }
    if (space)
      flat[k++] = ' ';
    space = false;
    flat[k++] = ch;
  }
  flat[k] = '\0';
  *out = flat;
  *first = tm__plain_source(x->plain, a->c0, c1);
  return TM_OK;
}

static double caps_share(const finder *f, const cand *c) {
  size_t words = 0, caps = 0;

  for (size_t k = c->i; k < c->j; k++) {
    if (is_connector(f, k) || is_stop(f, k))
      continue;
    words++;
    if ((f->x->w[k].flags & (TM__W_CAP | TM__W_ACRO)) &&
        !((f->x->w[k].flags & TM__W_START) && seen_lower(f, k)))
      caps++;
  }
  return words ? (double)caps / (double)words : 0;
}

static tm_status results(finder *f, size_t max, tm_candidate **out,
                         size_t *nout) {
  scored *v;
  size_t n = 0, top = 1;
  tm_candidate *r = NULL;
  tm_status s = TM_OK;

  if (!f->nc)
    return TM_OK;
  if (!(v = calloc(f->nc, sizeof *v)))
    return TM_NOMEM;
  for (size_t i = 0; i < f->nc; i++) {
    cand *c = &f->c[i];
    size_t count = c->count;
    if (c->abbr.len) /* a pair: the expansion anywhere, the acronym alone */
      count = occurrences(f, c->i, c->j) + c->acount;
    else if (c->kind == TM_CANDIDATE_ACRONYM)
      count = c->acount;
    /* One capitalised word is a name only when it recurs. */
    if (!count ||
        (c->kind == TM_CANDIDATE_NAME && c->j - c->i == 1 && count < 2))
      continue;
    v[n++] = (scored){c, count, 0};
    if (count > top)
      top = count;
  }
  for (size_t i = 0; i < n; i++) {
    const cand *c = v[i].c;
    bool lone = c->kind == TM_CANDIDATE_ACRONYM && !c->abbr.len;
    size_t words = c->j - c->i;
    double freq = log2(1.0 + (double)v[i].count) / log2(1.0 + (double)top);
    double caps = lone ? 1.0 : caps_share(f, c);
    /* Capitals are a name's evidence; a phrase of capitalised words is a
     * name, and in any other phrase they count for nothing. */
    if (c->kind == TM_CANDIDATE_PHRASE && caps >= 1.0)
      v[i].c->kind = TM_CANDIDATE_NAME;
    else if (c->kind == TM_CANDIDATE_PHRASE)
      caps = 0.0;
    double acro = c->abbr.len ? 1.0 : lone ? 0.5 : 0.0;
    double length = lone ? 0.5 : (words >= 4 ? 1.0 : (double)words / 4.0);
    double sc = W_FREQ * freq + W_CAPS * caps + W_ACRO * acro + W_LEN * length;
    v[i].score = round(sc * 100.0) / 100.0;
  }
  qsort(v, n, sizeof *v, scored_cmp);
  if (n > max)
    n = max;
  if (n && !(r = calloc(n, sizeof *r))) {
    free(v);
    return TM_NOMEM;
  }
  for (size_t i = 0; i < n && s == TM_OK; i++) {
    const cand *c = v[i].c;
    r[i].kind = c->kind;
    r[i].count = v[i].count;
    r[i].score = v[i].score;
    *nout = i + 1;
    if ((s = surface(f, c->i, c->j, &r[i].text, &r[i].first)) != TM_OK)
      break;
    if (c->abbr.len && !(r[i].abbreviation = tm__strndup(
                             tm__s(f->x, c->abbr) + 1, c->abbr.len - 1)))
      s = TM_NOMEM;
  }
  *out = r;
  free(v);
  return s;
}

tm_status tm__candidates(tm__actx *x, size_t max, tm_candidate **out,
                         size_t *n) {
  finder f = {0};
  tm_status s = TM_OK;

  *out = NULL;
  *n = 0;
  f.x = x;
  if (strcmp(x->primary, "en") == 0) {
    f.stop = en_stop;
    f.nstop = sizeof en_stop / sizeof en_stop[0];
  } else if (strcmp(x->primary, "uk") == 0) {
    f.stop = uk_stop;
    f.nstop = sizeof uk_stop / sizeof uk_stop[0];
  } else if (strcmp(x->primary, "ko") == 0) {
    f.stop = ko_stop;
    f.nstop = sizeof ko_stop / sizeof ko_stop[0];
  }
  if (!x->nw)
    return TM_OK;
  if (!(f.run_start = malloc(x->nw * sizeof *f.run_start)) ||
      !(f.run_of = calloc(x->nw, sizeof *f.run_of)) ||
      !(f.acro = calloc(x->nw, sizeof *f.acro)) ||
      !(f.paired = calloc(x->nw, sizeof *f.paired)) ||
      !(f.title = calloc(x->nsent + 1, sizeof *f.title))) {
    s = TM_NOMEM;
    goto done;
  }
  for (size_t k = 0; k < x->nw; k++) {
    uint8_t fl = x->w[k].flags;
    uint32_t *slot;
    f.run_start[k] = UINT32_MAX;
    if ((fl & TM__W_LOWER) &&
        (s = smap_put(x, &f.lower, x->w[k].fold, 0, &slot)) != TM_OK)
      goto done;
    if ((fl & TM__W_CAP) && !(fl & TM__W_START) &&
        (s = smap_put(x, &f.capmid, x->w[k].fold, 0, &slot)) != TM_OK)
      goto done;
  }
  mark_acronyms(&f);
  if ((s = mark_titles(&f)) != TM_OK || (s = find_names(&f)) != TM_OK ||
      (s = find_acronyms(&f)) != TM_OK || (s = find_phrases(&f)) != TM_OK)
    goto done;
  s = results(&f, max, out, n);
done:
  smap_free(&f.lower);
  smap_free(&f.capmid);
  smap_free(&f.inname);
  smap_free(&f.byseq);
  smap_free(&f.byabbr);
  free(f.c);
  free(f.run_start);
  free(f.run_of);
  free(f.runs);
  free(f.acro);
  free(f.paired);
  free(f.title);
  free(f.buf);
  return s;
}
