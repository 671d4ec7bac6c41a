/*
 * index.c - the in-memory index behind fuzzy matching, concordance and
 * term search: its build from SQLite, its updates after committed writes,
 * and its locking.
 *
 * Units: every variant of every live unit is a "doc" of the group of its
 * language's primary subtag.  A group keeps the original and the folded
 * text of its docs in one arena, their core tokens as ids of the group's
 * dictionary, and an inverted index from grams to docs.  The docs built at
 * once (the main segment) are numbered by token count, so the length filter
 * of a fuzzy search is a range of ids inside every posting list.  Units
 * written later go to a delta that keeps its grams per doc; replaced and
 * deleted docs are only marked dead.  When the delta grows large the whole
 * index is rebuilt from SQLite, which stays the only source of truth.
 *
 * Locking: searches hold the read lock for their in-memory part.  An update
 * prepares everything it can (reads the database, folds, tokenizes) before
 * it takes the write lock, so writers block readers for microseconds; a
 * rebuild builds the new state unlocked and swaps it in.  Updates are
 * serialised by their own mutex, which a rebuild holds throughout, so an
 * update that arrives meanwhile waits and is applied to the new state.
 */
#include "match_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

/* Docs added since the build before the next update rebuilds. */
#define DELTA_MAX 4096
/* Units an import may add before its reload rebuilds instead of adding. */
#define RELOAD_INCREMENTAL_MAX 2048
/* Threads a build uses at most. */
#define BUILD_THREADS 4

/* ------------------------------------------------------------- hashing */

/* Eight bytes at a time, each block mixed by a multiply and a shift: the
 * build hashes every token and every text, byte-wise hashing cost a fifth
 * of it.  (Values depend on byte order; they never leave the process.) */
uint64_t tm__hash_bytes(const char *s, size_t n) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ ((uint64_t)n * 0xff51afd7ed558ccdull);
  uint64_t v;

  while (n >= 8) {
    memcpy(&v, s, 8);
    h = (h ^ v) * 0xbf58476d1ce4e5b9ull;
    h ^= h >> 31;
    s += 8;
    n -= 8;
  }
  v = 0;
  memcpy(&v, s, n);
  h = (h ^ v) * 0x94d049bb133111ebull;
  return h ^ (h >> 29);
}

static uint64_t hash_u64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

void tm__lang_primary(const char *tag, char out[TM_LANG_MAX]) {
  size_t i;

  for (i = 0; i < TM_LANG_MAX - 1 && tag[i] && tag[i] != '-'; i++)
    out[i] = tag[i];
  out[i] = '\0';
}

/* ---------------------------------------------------------- dictionary */

uint32_t tm__dict_find(const tm__dict *d, const char *s, size_t len) {
  uint32_t i;

  if (!d->slots)
    return 0;
  i = (uint32_t)tm__hash_bytes(s, len) & d->mask;
  for (;;) {
    uint32_t id = d->slots[i];
    if (!id)
      return 0;
    if (d->off[id + 1] - d->off[id] == len &&
        memcmp(d->arena + d->off[id], s, len) == 0)
      return id;
    i = (i + 1) & d->mask;
  }
}

static bool dict_rehash(tm__dict *d, uint32_t nslots) {
  uint32_t *slots = calloc(nslots, sizeof *slots);

  if (!slots)
    return false;
  for (uint32_t id = 1; id < d->n; id++) {
    uint32_t i = (uint32_t)tm__hash_bytes(d->arena + d->off[id],
                                          d->off[id + 1] - d->off[id]) &
                 (nslots - 1);
    while (slots[i])
      i = (i + 1) & (nslots - 1);
    slots[i] = id;
  }
  free(d->slots);
  d->slots = slots;
  d->mask = nslots - 1;
  return true;
}

static tm_status dict_intern(tm__dict *d, const char *s, size_t len,
                             uint32_t *out) {
  uint32_t id, i;
  bool ok = true;

  if (!d->off) {
    if (!(d->off = calloc(16, sizeof *d->off)))
      return TM_NOMEM;
    d->cap = 16;
    d->n = 1; /* id 0 is the numbers' */
  }
  if ((id = tm__dict_find(d, s, len)) != 0) {
    *out = id;
    return TM_OK;
  }
  if ((size_t)d->n * 2 + 2 > (size_t)(d->slots ? d->mask + 1 : 0) &&
      !dict_rehash(d, d->slots ? (d->mask + 1) * 2 : 1024))
    return TM_NOMEM;
  GROW(d->off, d->cap, (size_t)d->n + 2, ok);
  GROW(d->arena, d->acap, d->alen + len, ok);
  if (!ok || d->alen + len > UINT32_MAX || d->n >= TM__ID_UNKNOWN - 1)
    return TM_NOMEM;
  memcpy(d->arena + d->alen, s, len);
  d->alen += len;
  id = d->n++;
  d->off[id + 1] = (uint32_t)d->alen;
  i = (uint32_t)tm__hash_bytes(s, len) & d->mask;
  while (d->slots[i])
    i = (i + 1) & d->mask;
  d->slots[i] = id;
  *out = id;
  return TM_OK;
}

static void dict_free(tm__dict *d) {
  free(d->arena);
  free(d->off);
  free(d->slots);
}

/* --------------------------------------------------------------- preps */

void tm__prep_free(tm__prep *p) {
  tm__toks_free(&p->toks);
  free(p->core);
  free(p->grams);
  free(p->gtok);
  free(p->occ);
  free(p->cps);
  memset(p, 0, sizeof *p);
}

/* Sorts V[0..n): quicksort down to short runs, then insertion sort.  Gram
 * lists are short and this runs for every text indexed, where qsort's
 * indirect comparisons cost more than the sorting. */
static void sort_u64(uint64_t *v, size_t n) {
  while (n > 16) {
    uint64_t a = v[0], b = v[n / 2], c = v[n - 1], pivot, t;
    size_t i = 0, j = n - 1;
    pivot = a < b ? (b < c ? b : a < c ? c : a) : (a < c ? a : b < c ? c : b);
    for (;;) {
      while (v[i] < pivot)
        i++;
      while (v[j] > pivot)
        j--;
      if (i >= j)
        break;
      t = v[i];
      v[i++] = v[j];
      v[j--] = t;
    }
    /* recurse into the smaller part, loop on the larger */
    if (j + 1 < n - j - 1) {
      sort_u64(v, j + 1);
      v += j + 1;
      n -= j + 1;
    } else {
      sort_u64(v + j + 1, n - j - 1);
      n = j + 1;
    }
  }
  for (size_t i = 1; i < n; i++) {
    uint64_t x = v[i];
    size_t j = i;
    while (j > 0 && v[j - 1] > x) {
      v[j] = v[j - 1];
      j--;
    }
    v[j] = x;
  }
}

static int cmp_occ(const void *a, const void *b) {
  const struct tm__gocc *x = a, *y = b;
  return x->key < y->key ? -1 : x->key > y->key;
}

tm_status tm__prep_text(tm__prep *p, const char *fold, size_t len) {
  tm_status s = tm__prep_text_unsorted(p, fold, len);
  bool ok = true;

  if (s != TM_OK)
    return s;
  GROW(p->occ, p->occcap, p->ngrams + 1, ok);
  if (!ok)
    return TM_NOMEM;
  for (size_t k = 0; k < p->ngrams; k++)
    p->occ[k] = (struct tm__gocc){p->grams[k], p->gtok[k]};
  p->nocc = p->ngrams;
  qsort(p->occ, p->nocc, sizeof *p->occ, cmp_occ);
  if (p->ngrams > 1) {
    size_t w = 1;
    sort_u64(p->grams, p->ngrams);
    for (size_t k = 1; k < p->ngrams; k++)
      if (p->grams[k] != p->grams[w - 1])
        p->grams[w++] = p->grams[k];
    p->ngrams = w;
  }
  return s;
}

tm_status tm__prep_text_unsorted(tm__prep *p, const char *fold, size_t len) {
  uint32_t prev_char = 0, run = 0;
  size_t gmark = 0;
  bool ok = true;
  tm_status s;
  size_t k;

  p->ncore = 0;
  p->ngrams = 0;
  if ((s = tm__tokenize(fold, len, &p->toks)) != TM_OK)
    return s;
  GROW(p->core, p->ccap, p->toks.n, ok);
  GROW(p->cps, p->cpcap, len + 1, ok);
  if (!ok)
    return TM_NOMEM;
  for (k = 0; k < p->toks.n; k++) {
    const tm__tok *t = &p->toks.v[k];
    uint32_t c;
    size_t i, n;

    if (t->cls == TM__TK_PUNCT)
      continue;
    GROW(p->gtok, p->gtcap, p->ngrams + 1, ok);
    if (!ok)
      return TM_NOMEM;
    for (size_t g = gmark; g < p->ngrams; g++)
      p->gtok[g] = (uint32_t)(p->ncore ? p->ncore - 1 : 0);
    gmark = p->ngrams;
    p->core[p->ncore++] = (uint32_t)k;
    if (t->cls == TM__TK_CHAR) {
      i = t->b0;
      c = tm__utf8_next(fold, &i);
      GROW(p->grams, p->gcap, p->ngrams + 2, ok);
      if (!ok)
        return TM_NOMEM;
      if (run)
        p->grams[p->ngrams++] = TM__GK_BI(prev_char, c);
      prev_char = c;
      run++;
      continue;
    }
    if (run == 1)
      p->grams[p->ngrams++] = TM__GK_UNI(prev_char);
    run = 0;
    if (t->cls == TM__TK_NUM) {
      GROW(p->grams, p->gcap, p->ngrams + 1, ok);
      if (!ok)
        return TM_NOMEM;
      p->grams[p->ngrams++] = TM__GK_TRI(' ', '0', ' ');
      continue;
    }
    n = tm__utf8_decode(fold + t->b0, t->b1 - t->b0, p->cps);
    GROW(p->grams, p->gcap, p->ngrams + n + 1, ok);
    if (!ok)
      return TM_NOMEM;
    if (n == 1) {
      p->grams[p->ngrams++] = TM__GK_TRI(' ', p->cps[0], ' ');
      continue;
    }
    p->grams[p->ngrams++] = TM__GK_TRI(' ', p->cps[0], p->cps[1]);
    for (i = 0; i + 2 < n; i++)
      p->grams[p->ngrams++] =
          TM__GK_TRI(p->cps[i], p->cps[i + 1], p->cps[i + 2]);
    p->grams[p->ngrams++] = TM__GK_TRI(p->cps[n - 2], p->cps[n - 1], ' ');
  }
  if (run == 1) {
    GROW(p->grams, p->gcap, p->ngrams + 1, ok);
    if (!ok)
      return TM_NOMEM;
    p->grams[p->ngrams++] = TM__GK_UNI(prev_char);
  }
  GROW(p->gtok, p->gtcap, p->ngrams + 1, ok);
  if (!ok)
    return TM_NOMEM;
  for (size_t g = gmark; g < p->ngrams; g++)
    p->gtok[g] = (uint32_t)(p->ncore ? p->ncore - 1 : 0);
  return TM_OK;
}

/* -------------------------------------------------------------- groups */

static void group_free(tm__group *g) {
  dict_free(&g->dict);
  free(g->docs);
  free(g->arena);
  free(g->toks);
  free(g->len_start);
  free(g->ngram16);
  free(g->exact);
  free(g->gkey);
  free(g->gslot);
  free(g->goff);
  free(g->post);
  free(g->dgrams);
}

static tm_status arena_add(tm__group *g, const char *s, size_t len,
                           uint64_t *off) {
  bool ok = true;

  GROW(g->arena, g->acap, g->alen + len + 1, ok);
  if (!ok)
    return TM_NOMEM;
  memcpy(g->arena + g->alen, s, len);
  g->arena[g->alen + len] = '\0';
  *off = g->alen;
  g->alen += len + 1;
  return TM_OK;
}

/* Appends the ids of P's core tokens (of the folded text FOLD) to G. */
static tm_status add_tokens(tm__group *g, const tm__prep *p, const char *fold,
                            tm__doc *d) {
  bool ok = true;
  tm_status s;

  GROW(g->toks, g->tcap, g->ntoks + p->ncore, ok);
  if (!ok)
    return TM_NOMEM;
  d->tok = g->ntoks;
  d->ntok = (uint32_t)p->ncore;
  for (size_t k = 0; k < p->ncore; k++) {
    const tm__tok *t = &p->toks.v[p->core[k]];
    uint32_t id = TM__NUM_ID;
    if (t->cls != TM__TK_NUM &&
        (s = dict_intern(&g->dict, fold + t->b0, t->b1 - t->b0, &id)) != TM_OK)
      return s;
    g->toks[g->ntoks++] = id;
  }
  return TM_OK;
}

void tm__group_len_range(const tm__group *g, uint32_t kmin, uint32_t kmax,
                         uint32_t *lo, uint32_t *hi) {
  if (!g->len_start || kmin > g->maxtok || kmin > kmax) {
    *lo = *hi = 0;
    return;
  }
  *lo = g->len_start[kmin];
  *hi = g->len_start[kmax > g->maxtok ? g->maxtok + 1 : kmax + 1];
}

const uint32_t *tm__group_postings(const tm__group *g, uint64_t key,
                                   uint32_t *n) {
  uint32_t i;

  *n = 0;
  if (!g->gslot)
    return NULL;
  i = (uint32_t)hash_u64(key) & g->gmask;
  for (;;) {
    uint32_t s = g->gslot[i];
    if (!s)
      return NULL;
    if (g->gkey[i] == key) {
      *n = g->goff[s] - g->goff[s - 1];
      return g->post + g->goff[s - 1];
    }
    i = (i + 1) & g->gmask;
  }
}

/* The gram number (from 0) of KEY in G's gram table, inserting it (then
 * *fresh is set). */
static tm_status gram_number(tm__group *g, uint64_t key, uint32_t *out,
                             bool *fresh) {
  uint32_t i;

  if ((size_t)g->ngrams * 2 + 2 > (size_t)(g->gslot ? g->gmask + 1 : 0)) {
    uint32_t nslots = g->gslot ? (g->gmask + 1) * 2 : 1u << 16;
    uint64_t *keys = malloc((size_t)nslots * sizeof *keys);
    uint32_t *slots = calloc(nslots, sizeof *slots);
    if (!keys || !slots) {
      free(keys);
      free(slots);
      return TM_NOMEM;
    }
    for (uint32_t j = 0; g->gslot && j <= g->gmask; j++) {
      if (!g->gslot[j])
        continue;
      i = (uint32_t)hash_u64(g->gkey[j]) & (nslots - 1);
      while (slots[i])
        i = (i + 1) & (nslots - 1);
      slots[i] = g->gslot[j];
      keys[i] = g->gkey[j];
    }
    free(g->gkey);
    free(g->gslot);
    g->gkey = keys;
    g->gslot = slots;
    g->gmask = nslots - 1;
  }
  i = (uint32_t)hash_u64(key) & g->gmask;
  while (g->gslot[i]) {
    if (g->gkey[i] == key) {
      *out = g->gslot[i] - 1;
      *fresh = false;
      return TM_OK;
    }
    i = (i + 1) & g->gmask;
  }
  g->gkey[i] = key;
  g->gslot[i] = ++g->ngrams;
  *out = g->ngrams - 1;
  *fresh = true;
  return TM_OK;
}

/* Docs a build chunk holds. */
#define CHUNK_DOCS 4096
/* Marks a number among a chunk's token ends (texts are far below 2 GiB). */
#define NUM_BIT 0x80000000u

/* A run of docs of one group as read from the database, and then the
 * per-doc work of a build that needs no shared state, done in parallel
 * while the reader goes on: folded texts, core tokens, gram keys. */
typedef struct chunk {
  uint32_t group, first, n; /* docs [first, first + n) of the group */
  char *in;                 /* the original texts, back to back */
  size_t inlen, incap;
  uint32_t *inoff; /* CHUNK_DOCS + 1 */
  char *fold;
  size_t flen, fcap;
  uint32_t *foff; /* n + 1 */
  uint32_t *tok;  /* per core token: start, end (bytes in its folded text) */
  size_t ntok, tcap;
  uint32_t *toff; /* n + 1, in tokens */
  uint64_t *grams;
  size_t ngrams, gcap;
  uint32_t *goff; /* n + 1 */
} chunk;

/* Frees C's buffers (once its group is built), keeping C itself. */
static void chunk_release(chunk *c) {
  free(c->in);
  free(c->inoff);
  free(c->fold);
  free(c->foff);
  free(c->tok);
  free(c->toff);
  free(c->grams);
  free(c->goff);
  c->in = c->fold = NULL;
  c->inoff = c->foff = c->tok = c->toff = c->goff = NULL;
  c->grams = NULL;
}

static void chunk_free(chunk *c) {
  if (!c)
    return;
  chunk_release(c);
  free(c);
}

static tm_status chunk_prepare(chunk *c, tm_text *text, tm__prep *p) {
  bool ok = true;
  tm_status s = TM_OK;

  if (!(c->foff = malloc(((size_t)c->n + 1) * sizeof *c->foff)) ||
      !(c->toff = malloc(((size_t)c->n + 1) * sizeof *c->toff)) ||
      !(c->goff = malloc(((size_t)c->n + 1) * sizeof *c->goff)))
    return TM_NOMEM;
  c->foff[0] = c->toff[0] = c->goff[0] = 0;
  for (uint32_t i = 0; i < c->n; i++) {
    char *f = NULL;
    size_t flen;
    if ((s = tm_text_fold(text, NULL, c->in + c->inoff[i],
                          c->inoff[i + 1] - c->inoff[i], &f)) != TM_OK)
      return s;
    flen = strlen(f);
    s = tm__prep_text_unsorted(p, f, flen);
    GROW(c->fold, c->fcap, c->flen + flen + 1, ok);
    GROW(c->tok, c->tcap, c->ntok + 2 * p->ncore, ok);
    GROW(c->grams, c->gcap, c->ngrams + p->ngrams, ok);
    if (s != TM_OK || !ok) {
      free(f);
      return s != TM_OK ? s : TM_NOMEM;
    }
    memcpy(c->fold + c->flen, f, flen + 1);
    free(f);
    c->flen += flen + 1;
    c->foff[i + 1] = (uint32_t)c->flen;
    for (size_t k = 0; k < p->ncore; k++) {
      const tm__tok *t = &p->toks.v[p->core[k]];
      c->tok[c->ntok++] = t->b0;
      c->tok[c->ntok++] = t->b1 | (t->cls == TM__TK_NUM ? NUM_BIT : 0);
    }
    c->toff[i + 1] = (uint32_t)(c->ntok / 2);
    if (p->ngrams) /* none, and grams may be NULL: see unit_apply */
      memcpy(c->grams + c->ngrams, p->grams, p->ngrams * sizeof *p->grams);
    c->ngrams += p->ngrams;
    c->goff[i + 1] = (uint32_t)c->ngrams;
    if (c->flen > UINT32_MAX / 2 || c->ngrams > UINT32_MAX / 2)
      return TM_NOMEM;
  }
  /* the originals are copied to the group by the build; the folded texts
   * are what remains to read */
  return TM_OK;
}

static int cmp_exact(const void *a, const void *b) {
  const struct tm__exact *x = a, *y = b;
  if (x->hash != y->hash)
    return x->hash < y->hash ? -1 : 1;
  return x->doc < y->doc ? -1 : x->doc > y->doc;
}

void tm__group_exact(const tm__group *g, uint64_t h, size_t *first,
                     size_t *end) {
  size_t lo = 0, hi = g->exact ? g->nmain : 0;

  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (g->exact[mid].hash < h)
      lo = mid + 1;
    else
      hi = mid;
  }
  *first = lo;
  while (hi < (g->exact ? g->nmain : 0) && g->exact[hi].hash == h)
    hi++;
  *end = hi;
}

/* The id of the token S[0..len), interning it; single characters of the
 * Basic Multilingual Plane (every Hangul syllable) go through a direct
 * table, the rest through the hash. */
static tm_status token_id(tm__group *g, uint32_t *direct, const char *s,
                          size_t len, uint32_t *id) {
  uint32_t c = 0;
  size_t i = 0;
  tm_status st;

  if (direct && len <= 3) {
    c = tm__utf8_next(s, &i);
    if (i == len && c < 0x10000) {
      if (direct[c]) {
        *id = direct[c];
        return TM_OK;
      }
      if ((st = dict_intern(&g->dict, s, len, id)) == TM_OK)
        direct[c] = *id;
      return st;
    }
  }
  return dict_intern(&g->dict, s, len, id);
}

/*
 * Builds G's main segment from its prepared chunks: appends the folded
 * texts, interns the tokens, numbers the grams, orders the docs by token
 * count and lays out the posting lists.  Touches nothing but G and its
 * chunks (each freed once consumed).
 */
static tm_status group_build(tm__group *g, chunk **chunks, size_t nchunks) {
  uint32_t *tmp = NULL, *count = NULL, *kcount = NULL, *fill = NULL;
  uint32_t *stamp = NULL, *direct = NULL;
  size_t ntmp = 0, tmpcap = 0, countcap = 0, stampcap = 0, ntokens = 0;
  tm__doc *sorted = NULL;
  tm_status s = TM_OK;
  bool ok = true;
  uint32_t i, k;

  for (size_t c = 0; c < nchunks; c++)
    ntokens += chunks[c]->ntok / 2;
  if (!(direct = calloc(0x10000, sizeof *direct)) ||
      !(g->toks = malloc((ntokens + 1) * sizeof *g->toks))) {
    s = TM_NOMEM;
    goto out;
  }
  g->tcap = ntokens + 1;
  for (size_t c = 0; c < nchunks; c++) {
    chunk *ch = chunks[c];
    GROW(g->arena, g->acap, g->alen + ch->flen + ch->inlen + ch->n, ok);
    GROW(tmp, tmpcap, ntmp + ch->ngrams, ok);
    if (!ok) {
      s = TM_NOMEM;
      goto out;
    }
    for (uint32_t j = 0; j < ch->n; j++) {
      tm__doc *d = &g->docs[ch->first + j];
      const char *f = ch->fold + ch->foff[j];
      i = ch->first + j;
      d->text = g->alen;
      memcpy(g->arena + g->alen, ch->in + ch->inoff[j], d->text_len);
      g->arena[g->alen + d->text_len] = '\0';
      g->alen += (size_t)d->text_len + 1;
      d->fold = g->alen;
      d->fold_len = ch->foff[j + 1] - ch->foff[j] - 1;
      memcpy(g->arena + g->alen, f, (size_t)d->fold_len + 1);
      g->alen += (size_t)d->fold_len + 1;
      d->tok = g->ntoks;
      d->ntok = ch->toff[j + 1] - ch->toff[j];
      for (k = ch->toff[j]; k < ch->toff[j + 1]; k++) {
        uint32_t b0 = ch->tok[2 * k], b1 = ch->tok[2 * k + 1], id;
        if (b1 & NUM_BIT)
          id = TM__NUM_ID;
        else if ((s = token_id(g, direct, f + b0, b1 - b0, &id)) != TM_OK)
          goto out;
        g->toks[g->ntoks++] = id;
      }
      if (d->ntok > g->maxtok)
        g->maxtok = d->ntok;
      d->gram = ntmp;
      for (k = ch->goff[j]; k < ch->goff[j + 1]; k++) {
        uint32_t gn;
        bool fresh;
        if ((s = gram_number(g, ch->grams[k], &gn, &fresh)) != TM_OK)
          goto out;
        GROW(count, countcap, (size_t)gn + 1, ok);
        GROW(stamp, stampcap, (size_t)gn + 1, ok);
        if (!ok) {
          s = TM_NOMEM;
          goto out;
        }
        if (fresh)
          count[gn] = stamp[gn] = 0;
        /* A gram twice in one doc counts once: the stamp is the doc + 1. */
        if (stamp[gn] == i + 1)
          continue;
        stamp[gn] = i + 1;
        count[gn]++;
        tmp[ntmp++] = gn;
      }
      d->ngram = (uint32_t)(ntmp - d->gram);
    }
    chunk_release(ch);
  }

  /* Order by token count (stable, so by unit id within a count). */
  if (!(kcount = calloc((size_t)g->maxtok + 2, sizeof *kcount)) ||
      !(g->len_start = calloc((size_t)g->maxtok + 2, sizeof *g->len_start)) ||
      !(sorted = malloc((size_t)g->ndocs * sizeof *sorted + 1))) {
    s = TM_NOMEM;
    goto out;
  }
  for (i = 0; i < g->ndocs; i++)
    kcount[g->docs[i].ntok]++;
  for (k = 0; k <= g->maxtok; k++)
    g->len_start[k + 1] = g->len_start[k] + kcount[k];
  memcpy(kcount, g->len_start, ((size_t)g->maxtok + 1) * sizeof *kcount);
  for (i = 0; i < g->ndocs; i++)
    sorted[kcount[g->docs[i].ntok]++] = g->docs[i];
  free(g->docs);
  g->docs = sorted;
  g->cap = g->ndocs;
  sorted = NULL;

  /* Exact texts, for the query that is a segment as it stands. */
  if (!(g->exact = malloc(((size_t)g->ndocs + 1) * sizeof *g->exact))) {
    s = TM_NOMEM;
    goto out;
  }
  for (i = 0; i < g->ndocs; i++) {
    g->exact[i].hash =
        tm__hash_bytes(g->arena + g->docs[i].text, g->docs[i].text_len);
    g->exact[i].doc = i;
  }
  qsort(g->exact, g->ndocs, sizeof *g->exact, cmp_exact);

  /* Posting lists, each sorted by doc number since docs are visited in
   * order. */
  if (!(g->ngram16 = malloc(((size_t)g->ndocs + 1) * sizeof *g->ngram16)) ||
      !(g->goff = malloc(((size_t)g->ngrams + 1) * sizeof *g->goff)) ||
      !(fill = malloc(((size_t)g->ngrams + 1) * sizeof *fill)) ||
      !(g->post = malloc((ntmp + 1) * sizeof *g->post))) {
    s = TM_NOMEM;
    goto out;
  }
  g->goff[0] = 0;
  for (k = 0; k < g->ngrams; k++)
    g->goff[k + 1] = g->goff[k] + count[k];
  memcpy(fill, g->goff, (size_t)g->ngrams * sizeof *fill);
  for (i = 0; i < g->ndocs; i++) {
    tm__doc *d = &g->docs[i];
    for (k = 0; k < d->ngram; k++)
      g->post[fill[tmp[d->gram + k]]++] = i;
    d->gram = 0;
    g->ngram16[i] = (uint16_t)(d->ngram > UINT16_MAX ? UINT16_MAX : d->ngram);
  }
  g->nmain = g->ndocs;
  g->live = g->ndocs;
out:
  free(direct);
  free(tmp);
  free(count);
  free(stamp);
  free(kcount);
  free(fill);
  free(sorted);
  return s;
}

/* -------------------------------------------------------------- states */

static void ustate_free(tm__ustate *st) {
  if (!st)
    return;
  for (uint32_t i = 0; i < st->ngroups; i++)
    group_free(&st->groups[i]);
  free(st->groups);
  free(st->langs);
  free(st->units);
  free(st->uslots);
  free(st->refs);
  for (uint32_t i = 0; i < st->ncolls; i++)
    free(st->colls[i].name);
  free(st->colls);
  free(st);
}

tm__unit *tm__ustate_unit(const tm__ustate *st, int64_t id) {
  uint32_t i;

  if (!st->uslots)
    return NULL;
  i = (uint32_t)hash_u64((uint64_t)id) & st->umask;
  for (;;) {
    uint32_t s = st->uslots[i];
    if (!s)
      return NULL;
    if (st->units[s - 1].id == id)
      return &st->units[s - 1];
    i = (i + 1) & st->umask;
  }
}

tm__group *tm__ustate_group(const tm__ustate *st, const char *tag) {
  char primary[TM_LANG_MAX];

  tm__lang_primary(tag, primary);
  for (uint32_t i = 0; i < st->ngroups; i++)
    if (strcmp(st->groups[i].tag, primary) == 0)
      return &st->groups[i];
  return NULL;
}

const char *tm__ustate_coll_name(const tm__ustate *st, int64_t id) {
  for (uint32_t i = 0; i < st->ncolls; i++)
    if (st->colls[i].id == id)
      return st->colls[i].name;
  return NULL;
}

/* The slot of a new unit ID. */
static tm_status unit_new(tm__ustate *st, int64_t id, uint32_t *slot) {
  bool ok = true;
  uint32_t i;

  if ((size_t)st->nunits * 2 + 2 > (size_t)(st->uslots ? st->umask + 1 : 0)) {
    uint32_t nslots = st->uslots ? (st->umask + 1) * 2 : 1024;
    uint32_t *slots = calloc(nslots, sizeof *slots);
    if (!slots)
      return TM_NOMEM;
    for (uint32_t u = 0; u < st->nunits; u++) {
      i = (uint32_t)hash_u64((uint64_t)st->units[u].id) & (nslots - 1);
      while (slots[i])
        i = (i + 1) & (nslots - 1);
      slots[i] = u + 1;
    }
    free(st->uslots);
    st->uslots = slots;
    st->umask = nslots - 1;
  }
  GROW(st->units, st->ucap, (size_t)st->nunits + 1, ok);
  if (!ok)
    return TM_NOMEM;
  memset(&st->units[st->nunits], 0, sizeof *st->units);
  st->units[st->nunits].id = id;
  i = (uint32_t)hash_u64((uint64_t)id) & st->umask;
  while (st->uslots[i])
    i = (i + 1) & st->umask;
  st->uslots[i] = st->nunits + 1;
  *slot = st->nunits++;
  if (id > st->max_unit)
    st->max_unit = id;
  return TM_OK;
}

/* The language table index of canonical TAG, adding it (and its group). */
static tm_status lang_index(tm__ustate *st, const char *tag, uint32_t *out) {
  char primary[TM_LANG_MAX];
  uint32_t g;
  void *p;

  for (uint32_t i = 0; i < st->nlangs; i++)
    if (strcmp(st->langs[i].tag, tag) == 0) {
      *out = i;
      return TM_OK;
    }
  tm__lang_primary(tag, primary);
  for (g = 0; g < st->ngroups; g++)
    if (strcmp(st->groups[g].tag, primary) == 0)
      break;
  if (g == st->ngroups) {
    if (!(p = realloc(st->groups, (st->ngroups + 1) * sizeof *st->groups)))
      return TM_NOMEM;
    st->groups = p;
    memset(&st->groups[g], 0, sizeof *st->groups);
    strcpy(st->groups[g].tag, primary);
    st->ngroups++;
  }
  if (!(p = realloc(st->langs, (st->nlangs + 1) * sizeof *st->langs)))
    return TM_NOMEM;
  st->langs = p;
  snprintf(st->langs[st->nlangs].tag, TM_LANG_MAX, "%s", tag);
  st->langs[st->nlangs].group = g;
  *out = st->nlangs++;
  return TM_OK;
}

static tm_status coll_add(tm__ustate *st, int64_t id, int kind,
                          const char *name) {
  tm__coll *c;

  if (tm__ustate_coll_name(st, id))
    return TM_OK;
  if (!(c = realloc(st->colls, (st->ncolls + 1) * sizeof *c)))
    return TM_NOMEM;
  st->colls = c;
  c += st->ncolls;
  c->id = id;
  c->kind = kind;
  if (!(c->name = tm__strdup(name)))
    return TM_NOMEM;
  st->ncolls++;
  return TM_OK;
}

static tm_status read_colls(tm_db *db, tm__ustate *st) {
  sqlite3_stmt *q = tm__stmt(db, TM__STMT_COLL_LIST);
  tm_status s = TM_OK;
  int rc;

  if (!q)
    return TM_DB;
  sqlite3_bind_int(q, 1, 0);
  while (s == TM_OK && (rc = sqlite3_step(q)) == SQLITE_ROW)
    s = coll_add(st, sqlite3_column_int64(q, 0), sqlite3_column_int(q, 2),
                 (const char *)sqlite3_column_text(q, 1));
  sqlite3_reset(q);
  if (s == TM_OK && rc != SQLITE_DONE)
    s = tm__sql_error(db);
  return s;
}

/* ----------------------------------------------------------- the build */

/*
 * A build's work.  The reader (the calling thread) fills a chunk per group
 * and queues each one it fills; workers fold and tokenize queued chunks
 * meanwhile.  Once the reader is done and every chunk is prepared, the
 * groups are built, one per thread at a time.
 */
typedef struct build_job {
  tm__ustate *st;
  chunk **all; /* every chunk, in the order made */
  size_t nall, allcap;
  chunk **queue; /* chunks to prepare */
  size_t qhead, qtail, qcap;
  size_t prepared;
  bool reading_done;
  uint32_t *order; /* groups, largest first (stage two) */
  uint32_t next_group;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  tm_status status;
} build_job;

static void job_fail(build_job *job, tm_status s) {
  if (s != TM_OK && job->status == TM_OK)
    job->status = s;
  pthread_cond_broadcast(&job->cv);
}

/* Queues C for preparation.  Caller holds job->mu. */
static bool job_push(build_job *job, chunk *c) {
  bool ok = true;
  GROW(job->queue, job->qcap, job->qtail + 1, ok);
  if (!ok)
    return false;
  job->queue[job->qtail++] = c;
  pthread_cond_signal(&job->cv);
  return true;
}

/* The chunks of group G in doc order (NULL on OOM). */
static chunk **group_chunks(build_job *job, uint32_t g, size_t *n) {
  chunk **v = malloc((job->nall + 1) * sizeof *v);
  *n = 0;
  for (size_t i = 0; v && i < job->nall; i++)
    if (job->all[i]->group == g)
      v[(*n)++] = job->all[i];
  return v;
}

static void *build_worker(void *arg) {
  build_job *job = arg;
  tm_text *text = NULL;
  tm__prep p = {0};
  tm_status s = tm_text_open(&text);

  pthread_mutex_lock(&job->mu);
  job_fail(job, s);
  /* Stage 1: prepare chunks as the reader queues them. */
  for (;;) {
    chunk *c;
    while (job->status == TM_OK && job->qhead == job->qtail &&
           !job->reading_done)
      pthread_cond_wait(&job->cv, &job->mu);
    if (job->status != TM_OK || job->qhead == job->qtail)
      break;
    c = job->queue[job->qhead++];
    pthread_mutex_unlock(&job->mu);
    s = chunk_prepare(c, text, &p);
    pthread_mutex_lock(&job->mu);
    job_fail(job, s);
    if (++job->prepared == job->nall && job->reading_done)
      pthread_cond_broadcast(&job->cv);
  }
  while (job->status == TM_OK && job->prepared < job->nall)
    pthread_cond_wait(&job->cv, &job->mu);
  /* Stage 2: groups. */
  while (job->status == TM_OK && job->next_group < job->st->ngroups) {
    uint32_t g = job->order[job->next_group++];
    size_t n;
    chunk **list = group_chunks(job, g, &n);
    pthread_mutex_unlock(&job->mu);
    s = list ? group_build(&job->st->groups[g], list, n) : TM_NOMEM;
    free(list);
    pthread_mutex_lock(&job->mu);
    job_fail(job, s);
  }
  pthread_mutex_unlock(&job->mu);
  tm__prep_free(&p);
  tm_text_close(text);
  return NULL;
}

/* Groups by the bytes of their text, the best guess of their cost. */
static int cmp_group_size(const void *a, const void *b, void *ctx) {
  const tm__ustate *st = ctx;
  size_t x = st->groups[*(const uint32_t *)a].alen;
  size_t y = st->groups[*(const uint32_t *)b].alen;
  return x > y ? -1 : x < y;
}

/* Lays out every unit's doc references after the groups renumbered their
 * docs. */
static tm_status build_refs(tm__ustate *st) {
  uint32_t total = 0;

  for (uint32_t u = 0; u < st->nunits; u++)
    st->units[u].nref = 0;
  for (uint32_t g = 0; g < st->ngroups; g++)
    for (uint32_t d = 0; d < st->groups[g].ndocs; d++)
      st->units[st->groups[g].docs[d].unit].nref++;
  for (uint32_t u = 0; u < st->nunits; u++) {
    st->units[u].ref = total;
    total += st->units[u].nref;
    st->units[u].nref = 0;
  }
  if (!(st->refs = malloc(((size_t)total + 1) * sizeof *st->refs)))
    return TM_NOMEM;
  st->rcap = (size_t)total + 1;
  st->nrefs = total;
  for (uint32_t g = 0; g < st->ngroups; g++)
    for (uint32_t d = 0; d < st->groups[g].ndocs; d++) {
      tm__unit *u = &st->units[st->groups[g].docs[d].unit];
      st->refs[u->ref + u->nref++] = (tm__uref){g, d};
    }
  return TM_OK;
}

/* Appends a doc (unit SLOT, language LANG, text) to group G and to the
 * chunk being filled for it, queueing the chunk when full.  The group's
 * arena only counts the bytes here (its texts are copied when it is
 * built).  Caller is the reader; takes job->mu only to queue. */
static tm_status read_doc(build_job *job, chunk **cur, uint32_t g,
                          uint32_t slot, uint32_t lang, const char *text,
                          size_t tlen) {
  tm__group *gr = &job->st->groups[g];
  chunk *c = cur[g];
  bool ok = true;
  tm__doc *d;

  if (tlen > UINT32_MAX / 2)
    return TM_TOOBIG;
  GROW(gr->docs, gr->cap, (size_t)gr->ndocs + 1, ok);
  if (!ok)
    return TM_NOMEM;
  if (!c) {
    if (!(c = calloc(1, sizeof *c)) ||
        !(c->inoff = malloc((CHUNK_DOCS + 1) * sizeof *c->inoff))) {
      chunk_free(c);
      return TM_NOMEM;
    }
    c->group = g;
    c->first = gr->ndocs;
    pthread_mutex_lock(&job->mu);
    GROW(job->all, job->allcap, job->nall + 1, ok);
    if (ok)
      job->all[job->nall++] = c;
    pthread_mutex_unlock(&job->mu);
    if (!ok) {
      chunk_free(c);
      return TM_NOMEM;
    }
    cur[g] = c;
  }
  GROW(c->in, c->incap, c->inlen + tlen, ok);
  if (!ok)
    return TM_NOMEM;
  memcpy(c->in + c->inlen, text, tlen);
  c->inoff[c->n] = (uint32_t)c->inlen;
  c->inlen += tlen;
  c->inoff[++c->n] = (uint32_t)c->inlen;
  d = &gr->docs[gr->ndocs++];
  memset(d, 0, sizeof *d);
  d->unit = slot;
  d->lang = lang;
  d->text_len = (uint32_t)tlen;
  gr->alen += tlen; /* only the size, for the build's order */
  if (c->n == CHUNK_DOCS) {
    pthread_mutex_lock(&job->mu);
    ok = job_push(job, c);
    pthread_mutex_unlock(&job->mu);
    cur[g] = NULL;
    if (!ok)
      return TM_NOMEM;
  }
  return TM_OK;
}

/* Reads every live unit into a new state and builds it: the rows are read
 * on this thread while up to BUILD_THREADS - 1 others fold and tokenize
 * what is read, then every thread builds groups. */
static tm_status ustate_build(tm_db *db, tm__ustate **out) {
  tm__ustate *st = calloc(1, sizeof *st);
  build_job job = {.st = st, .status = TM_OK};
  pthread_t threads[BUILD_THREADS];
  chunk **cur = NULL;
  sqlite3_stmt *q;
  int64_t last = 0;
  uint32_t slot = 0, lang = UINT32_MAX, ncur = 0;
  char tag[TM_LANG_MAX] = "";
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  int nthreads = 0, want;
  bool began = false;
  tm_status s = TM_OK;
  int rc = SQLITE_DONE;

  *out = NULL;
  if (!st)
    return TM_NOMEM;
  pthread_mutex_init(&job.mu, NULL);
  pthread_cond_init(&job.cv, NULL);
  want = ncpu < 1 ? 1 : ncpu > BUILD_THREADS ? BUILD_THREADS : (int)ncpu;
  for (int i = 1; i < want; i++)
    if (pthread_create(&threads[nthreads], NULL, build_worker, &job) == 0)
      nthreads++;
  /* One read transaction: a consistent snapshot, and faster. */
  if (sqlite3_get_autocommit(db->sql)) {
    if ((s = tm__exec(db, TM__STMT_IDX_READ_BEGIN)) != TM_OK)
      goto read_done;
    began = true;
  }
  if ((s = read_colls(db, st)) != TM_OK)
    goto read_done;
  if (!(q = tm__stmt(db, TM__STMT_IDX_UNITS))) {
    s = TM_DB;
    goto read_done;
  }
  sqlite3_bind_int64(q, 1, 0);
  sqlite3_bind_int64(q, 2, INT64_MAX);
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    int64_t id = sqlite3_column_int64(q, 0);
    const char *ltag = (const char *)sqlite3_column_text(q, 4);
    const char *text = (const char *)sqlite3_column_text(q, 5);
    size_t tlen = (size_t)sqlite3_column_bytes(q, 5);
    uint32_t g;

    if (!ltag || !text)
      continue;
    if (id != last || st->nunits == 0) {
      tm__unit *u;
      if ((s = unit_new(st, id, &slot)) != TM_OK)
        break;
      u = &st->units[slot];
      u->coll = sqlite3_column_int64(q, 1);
      u->status = (uint8_t)sqlite3_column_int(q, 2);
      u->updated = sqlite3_column_int64(q, 3);
      last = id;
    }
    if (lang == UINT32_MAX || strcmp(ltag, tag) != 0) {
      if ((s = lang_index(st, ltag, &lang)) != TM_OK)
        break;
      snprintf(tag, sizeof tag, "%s", ltag);
    }
    g = st->langs[lang].group;
    if (g >= ncur) {
      chunk **nc = realloc(cur, (st->ngroups + 1) * sizeof *nc);
      if (!nc) {
        s = TM_NOMEM;
        break;
      }
      cur = nc;
      while (ncur <= g)
        cur[ncur++] = NULL;
    }
    if ((s = read_doc(&job, cur, g, slot, lang, text, tlen)) != TM_OK)
      break;
  }
  if (s == TM_OK && rc != SQLITE_DONE)
    s = tm__sql_error(db);
  sqlite3_reset(q);
read_done:
  if (began)
    tm__exec(db, TM__STMT_COMMIT);
  /* The partial chunks, then the groups' order for stage two. */
  pthread_mutex_lock(&job.mu);
  for (uint32_t g = 0; s == TM_OK && g < ncur; g++)
    if (cur[g] && !job_push(&job, cur[g]))
      s = TM_NOMEM;
  if (s == TM_OK &&
      !(job.order = malloc((st->ngroups + 1) * sizeof *job.order)))
    s = TM_NOMEM;
  if (s == TM_OK) {
    for (uint32_t g = 0; g < st->ngroups; g++)
      job.order[g] = g;
    qsort_r(job.order, st->ngroups, sizeof *job.order, cmp_group_size, st);
    /* the arenas held only sizes so far */
    for (uint32_t g = 0; g < st->ngroups; g++)
      st->groups[g].alen = 0;
  }
  job.reading_done = true;
  job_fail(&job, s);
  pthread_cond_broadcast(&job.cv);
  pthread_mutex_unlock(&job.mu);
  build_worker(&job);
  for (int i = 0; i < nthreads; i++)
    pthread_join(threads[i], NULL);
  s = job.status;
  for (size_t i = 0; i < job.nall; i++)
    chunk_free(job.all[i]);
  free(job.all);
  free(job.queue);
  free(job.order);
  free(cur);
  pthread_cond_destroy(&job.cv);
  pthread_mutex_destroy(&job.mu);
  if (s == TM_OK)
    s = build_refs(st);
#if defined(__GLIBC__)
  /* The build's buffers were freed on several threads' heaps, which keep
   * them: give them back, or a server holds twice the index for good. */
  malloc_trim(0);
#endif
  if (s != TM_OK) {
    ustate_free(st);
    return s;
  }
  *out = st;
  return TM_OK;
}

/* ---------------------------------------------------------- the updates */

/* A unit as read for an update, prepared outside the lock. */
typedef struct unit_read {
  bool found;
  int64_t coll;
  int status;
  int64_t updated;
  char *coll_name;
  size_t n;
  struct variant_read {
    char lang[TM_LANG_MAX];
    char *text;
    char *fold;
    tm__prep prep;
  } * v;
} unit_read;

static void unit_read_clear(unit_read *r) {
  for (size_t i = 0; i < r->n; i++) {
    free(r->v[i].text);
    free(r->v[i].fold);
    tm__prep_free(&r->v[i].prep);
  }
  free(r->v);
  free(r->coll_name);
  memset(r, 0, sizeof *r);
}

static tm_status unit_read_db(tm_db *db, const tm__ustate *st, int64_t id,
                              unit_read *r) {
  sqlite3_stmt *q = tm__stmt(db, TM__STMT_IDX_UNITS);
  tm_status s = TM_OK;
  int rc;

  memset(r, 0, sizeof *r);
  if (!q)
    return TM_DB;
  sqlite3_bind_int64(q, 1, id - 1);
  sqlite3_bind_int64(q, 2, id);
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    const char *tag = (const char *)sqlite3_column_text(q, 4);
    const char *text = (const char *)sqlite3_column_text(q, 5);
    struct variant_read *v;
    if (!tag || !text)
      continue;
    if (!(v = realloc(r->v, (r->n + 1) * sizeof *v))) {
      s = TM_NOMEM;
      break;
    }
    r->v = v;
    v += r->n++;
    memset(v, 0, sizeof *v);
    snprintf(v->lang, TM_LANG_MAX, "%s", tag);
    if (!(v->text = tm__strdup(text))) {
      s = TM_NOMEM;
      break;
    }
    r->found = true;
    r->coll = sqlite3_column_int64(q, 1);
    r->status = sqlite3_column_int(q, 2);
    r->updated = sqlite3_column_int64(q, 3);
  }
  if (s == TM_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
    s = tm__sql_error(db);
  sqlite3_reset(q);
  for (size_t i = 0; s == TM_OK && i < r->n; i++) {
    struct variant_read *v = &r->v[i];
    if ((s = tm_text_fold(db->text, v->lang, v->text, strlen(v->text),
                          &v->fold)) == TM_OK)
      s = tm__prep_text(&v->prep, v->fold, strlen(v->fold));
  }
  if (s == TM_OK && r->found && !tm__ustate_coll_name(st, r->coll)) {
    /* A collection made after the build: learn its name now. */
    if (!(q = tm__stmt(db, TM__STMT_COLL_NAME)))
      return TM_DB;
    sqlite3_bind_int64(q, 1, r->coll);
    if (sqlite3_step(q) == SQLITE_ROW &&
        !(r->coll_name = tm__strdup((const char *)sqlite3_column_text(q, 0))))
      s = TM_NOMEM;
    sqlite3_reset(q);
  }
  return s;
}

/* Applies R (unit ID as it now is) to ST.  Caller holds the write lock. */
static tm_status unit_apply(tm__ustate *st, int64_t id, unit_read *r) {
  tm__unit *u = tm__ustate_unit(st, id);
  uint32_t slot;
  bool ok = true;
  tm_status s;

  if (u) {
    for (uint32_t i = 0; i < u->nref; i++) {
      tm__uref *ref = &st->refs[u->ref + i];
      tm__doc *d = &st->groups[ref->group].docs[ref->doc];
      if (!d->dead) {
        d->dead = 1;
        st->groups[ref->group].live--;
      }
    }
    u->nref = 0;
    u->dead = 1;
  }
  if (!r->found)
    return TM_OK;
  if (r->coll_name &&
      (s = coll_add(st, r->coll, TM_MEMORY, r->coll_name)) != TM_OK)
    return s;
  if (u)
    slot = (uint32_t)(u - st->units);
  else if ((s = unit_new(st, id, &slot)) != TM_OK)
    return s;
  GROW(st->refs, st->rcap, (size_t)st->nrefs + r->n, ok);
  if (!ok)
    return TM_NOMEM;
  u = &st->units[slot];
  u->coll = r->coll;
  u->status = (uint8_t)r->status;
  u->updated = r->updated;
  u->ref = st->nrefs;
  u->nref = 0;
  u->dead = 0;
  for (size_t i = 0; i < r->n; i++) {
    struct variant_read *v = &r->v[i];
    uint32_t lang;
    tm__group *g;
    tm__doc *d;
    size_t tlen = strlen(v->text);

    if ((s = lang_index(st, v->lang, &lang)) != TM_OK)
      return s;
    g = &st->groups[st->langs[lang].group];
    GROW(g->docs, g->cap, (size_t)g->ndocs + 1, ok);
    GROW(g->dgrams, g->dgcap, g->ndgrams + v->prep.ngrams, ok);
    if (!ok)
      return TM_NOMEM;
    d = &g->docs[g->ndocs];
    memset(d, 0, sizeof *d);
    d->unit = slot;
    d->lang = lang;
    d->text_len = (uint32_t)tlen;
    d->fold_len = (uint32_t)strlen(v->fold);
    if ((s = arena_add(g, v->text, tlen, &d->text)) != TM_OK ||
        (s = arena_add(g, v->fold, d->fold_len, &d->fold)) != TM_OK ||
        (s = add_tokens(g, &v->prep, v->fold, d)) != TM_OK)
      return s;
    /* Text of punctuation alone has no grams, and grams is then NULL,
     * which memcpy may not be given even for no bytes. */
    if (v->prep.ngrams)
      memcpy(g->dgrams + g->ndgrams, v->prep.grams,
             v->prep.ngrams * sizeof *g->dgrams);
    d->gram = g->ndgrams;
    d->ngram = (uint32_t)v->prep.ngrams;
    g->ndgrams += v->prep.ngrams;
    st->refs[st->nrefs++] = (tm__uref){st->langs[lang].group, g->ndocs};
    u->nref++;
    g->ndocs++;
    g->live++;
    st->delta++;
  }
  return TM_OK;
}

/* Replaces the unit state by a fresh build.  Caller holds idx->update. */
static tm_status rebuild_units(tm_index *idx, tm_db *db) {
  tm__ustate *st, *old;
  tm_status s = ustate_build(db, &st);

  if (s != TM_OK)
    return s;
  pthread_rwlock_wrlock(&idx->lock);
  old = idx->u;
  idx->u = st;
  pthread_rwlock_unlock(&idx->lock);
  ustate_free(old);
  return TM_OK;
}

static tm_status rebuild_terms(tm_index *idx, tm_db *db) {
  tm__terms *t, *old;
  tm_status s = tm__terms_build(db, &t);

  if (s != TM_OK)
    return s;
  pthread_rwlock_wrlock(&idx->lock);
  old = idx->terms;
  idx->terms = t;
  pthread_rwlock_unlock(&idx->lock);
  tm__terms_free(old);
  return TM_OK;
}

/* Brings unit ID up to date.  Caller holds idx->update (so idx->u is not
 * replaced meanwhile and may be read without the read lock). */
static tm_status unit_changed(tm_index *idx, tm_db *db, int64_t id) {
  unit_read r;
  tm_status s = unit_read_db(db, idx->u, id, &r);

  if (s == TM_OK) {
    pthread_rwlock_wrlock(&idx->lock);
    s = unit_apply(idx->u, id, &r);
    pthread_rwlock_unlock(&idx->lock);
  }
  unit_read_clear(&r);
  if (s == TM_OK && idx->u->delta > DELTA_MAX)
    s = rebuild_units(idx, db);
  return s;
}

/* After a failed update the index may miss a change: start afresh. */
static bool recover(tm_index *idx, tm_db *db) {
  if (!idx->stale)
    return true;
  if (rebuild_units(idx, db) == TM_OK && rebuild_terms(idx, db) == TM_OK) {
    idx->stale = 0;
    return true;
  }
  return false;
}

static void on_unit(tm_index *idx, tm_db *db, int64_t id) {
  pthread_mutex_lock(&idx->update);
  if (recover(idx, db) && unit_changed(idx, db, id) != TM_OK)
    idx->stale = 1;
  pthread_mutex_unlock(&idx->update);
}

static void on_entry(tm_index *idx, tm_db *db, int64_t id) {
  tm__terms *t, *old;

  pthread_mutex_lock(&idx->update);
  if (recover(idx, db)) {
    if (tm__terms_update(db, idx->terms, id, &t) == TM_OK) {
      pthread_rwlock_wrlock(&idx->lock);
      old = idx->terms;
      idx->terms = t;
      pthread_rwlock_unlock(&idx->lock);
      tm__terms_free(old);
    } else {
      idx->stale = 1;
    }
  }
  pthread_mutex_unlock(&idx->update);
}

/* After an import: units with ids beyond the last one seen are new; a few
 * are added like single contributions, many make a rebuild.  Entries are
 * few enough to rebuild their index whole. */
static tm_status reload(tm_index *idx, tm_db *db) {
  sqlite3_stmt *q;
  int64_t *ids = NULL;
  size_t n = 0, cap = 0;
  tm_status s = TM_OK;
  bool ok = true;
  int rc;

  if ((s = rebuild_terms(idx, db)) != TM_OK)
    return s;
  if (!(q = tm__stmt(db, TM__STMT_IDX_UNIT_IDS)))
    return TM_DB;
  sqlite3_bind_int64(q, 1, idx->u->max_unit);
  while ((rc = sqlite3_step(q)) == SQLITE_ROW && n <= RELOAD_INCREMENTAL_MAX) {
    GROW(ids, cap, n + 1, ok);
    if (!ok) {
      s = TM_NOMEM;
      break;
    }
    ids[n++] = sqlite3_column_int64(q, 0);
  }
  if (s == TM_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
    s = tm__sql_error(db);
  sqlite3_reset(q);
  if (s == TM_OK) {
    if (n > RELOAD_INCREMENTAL_MAX)
      s = rebuild_units(idx, db);
    else
      for (size_t i = 0; i < n && s == TM_OK; i++)
        s = unit_changed(idx, db, ids[i]);
  }
  free(ids);
  return s;
}

static void on_reload(tm_index *idx, tm_db *db) {
  pthread_mutex_lock(&idx->update);
  if (recover(idx, db) && reload(idx, db) != TM_OK)
    idx->stale = 1;
  pthread_mutex_unlock(&idx->update);
}

/* ------------------------------------------------------------ the API */

tm_status tm_index_open(tm_db *db, tm_index **out) {
  pthread_rwlockattr_t attr;
  tm_index *idx;
  tm_status s;

  *out = NULL;
  tm__clear_error(db);
  if (!(idx = calloc(1, sizeof *idx)))
    return TM_NOMEM;
  /* Writers first: a steady stream of searches must not starve an update
   * (its write section is short, so readers barely notice). */
  pthread_rwlockattr_init(&attr);
#if defined(__GLIBC__)
  pthread_rwlockattr_setkind_np(&attr,
                                PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
#endif
  if (pthread_rwlock_init(&idx->lock, &attr) != 0) {
    pthread_rwlockattr_destroy(&attr);
    free(idx);
    return TM_NOMEM;
  }
  pthread_rwlockattr_destroy(&attr);
  pthread_mutex_init(&idx->update, NULL);
  if ((s = ustate_build(db, &idx->u)) != TM_OK ||
      (s = tm__terms_build(db, &idx->terms)) != TM_OK) {
    tm_index_close(idx);
    return s;
  }
  *out = idx;
  return TM_OK;
}

void tm_index_close(tm_index *idx) {
  if (!idx)
    return;
  ustate_free(idx->u);
  tm__terms_free(idx->terms);
  pthread_mutex_destroy(&idx->update);
  pthread_rwlock_destroy(&idx->lock);
  free(idx);
}

void tm_db_attach_index(tm_db *db, tm_index *idx) {
  db->index = idx;
  db->on_unit = idx ? on_unit : NULL;
  db->on_entry = idx ? on_entry : NULL;
  db->on_reload = idx ? on_reload : NULL;
}
