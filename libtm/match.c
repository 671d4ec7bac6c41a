/*
 * match.c - fuzzy matching and concordance over the in-memory index: the
 * tokenizer every comparison shares, bit-parallel edit distances, the
 * CAT-style score, the spans that differ, tm_match_find and
 * tm_concordance_find.  docs/matching.md states the formula; keep the two
 * in step.
 *
 * A score compares "core" tokens: words of spaced scripts, single
 * characters of unspaced ones (Hangul, Han, kana, Thai), and numbers, all
 * in their folded form.  Punctuation, case, whitespace and the values of
 * numbers only cost a small penalty, and only when the core tokens are the
 * same.
 */
#include "match_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>

/* Candidates scored per fuzzy query, best by shared grams first. */
#define CANDIDATES 256
/* Longest query matched, in core tokens. */
#define QUERY_TOKENS_MAX 2000
/* Scores above this need the same core tokens (see docs/matching.md). */
#define CHANGED_MAX 94
#define LIMIT_MAX 1000

/* ---------------------------------------------------------------- UTF-8 */

size_t tm__utf8_put(char *out, uint32_t c) {
  if (c < 0x80) {
    out[0] = (char)c;
    return 1;
  }
  if (c < 0x800) {
    out[0] = (char)(0xC0 | (c >> 6));
    out[1] = (char)(0x80 | (c & 0x3F));
    return 2;
  }
  if (c < 0x10000) {
    out[0] = (char)(0xE0 | (c >> 12));
    out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[2] = (char)(0x80 | (c & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | (c >> 18));
  out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
  out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
  out[3] = (char)(0x80 | (c & 0x3F));
  return 4;
}

size_t tm__utf8_decode(const char *s, size_t len, uint32_t *out) {
  size_t i = 0, n = 0;

  while (i < len)
    out[n++] = tm__utf8_next(s, &i);
  return n;
}

/* ------------------------------------------------------------ tokenizer */

enum { C_SPACE, C_LETTER, C_MARK, C_DIGIT, C_UNSPACED, C_APOS, C_SEP, C_PUNCT };

bool tm__is_unspaced(uint32_t c) {
  return (c >= 0xAC00 && c <= 0xD7AF) || (c >= 0x1100 && c <= 0x11FF) ||
         (c >= 0x3130 && c <= 0x318F) || (c >= 0xA960 && c <= 0xA97F) ||
         (c >= 0xD7B0 && c <= 0xD7FF) || (c >= 0x3040 && c <= 0x30FF) ||
         (c >= 0x31F0 && c <= 0x31FF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xF900 && c <= 0xFAFF) ||
         (c >= 0xFF66 && c <= 0xFFDC) || (c >= 0x20000 && c <= 0x3134F) ||
         (c >= 0x0E00 && c <= 0x0EFF) || (c >= 0x1000 && c <= 0x109F) ||
         (c >= 0x1780 && c <= 0x17FF);
}

static bool is_apostrophe(uint32_t c) {
  switch (c) {
  case 0x0027:
  case 0x0060:
  case 0x00B4:
  case 0x02B9:
  case 0x02BC:
  case 0x2018:
  case 0x2019:
  case 0x2032:
  case 0xFF07:
    return true;
  default:
    return false;
  }
}

static int classify(uint32_t c) {
  if (c < 0x80) {
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
      return C_LETTER;
    if (c >= '0' && c <= '9')
      return C_DIGIT;
    if (c <= 0x20 || c == 0x7F)
      return C_SPACE;
    if (c == '\'' || c == '`')
      return C_APOS;
    if (c == '.' || c == ',')
      return C_SEP;
    return C_PUNCT;
  }
  if (c >= 0xAC00 && c <= 0xD7A3)
    return C_UNSPACED;
  if (is_apostrophe(c))
    return C_APOS;
  switch (u_charType((UChar32)c)) {
  case U_NON_SPACING_MARK:
  case U_ENCLOSING_MARK:
  case U_COMBINING_SPACING_MARK:
  case U_FORMAT_CHAR:
    return C_MARK;
  case U_UPPERCASE_LETTER:
  case U_LOWERCASE_LETTER:
  case U_TITLECASE_LETTER:
  case U_MODIFIER_LETTER:
  case U_OTHER_LETTER:
  case U_LETTER_NUMBER:
  case U_OTHER_NUMBER:
    return tm__is_unspaced(c) ? C_UNSPACED : C_LETTER;
  case U_DECIMAL_DIGIT_NUMBER:
    return C_DIGIT;
  case U_SPACE_SEPARATOR:
  case U_LINE_SEPARATOR:
  case U_PARAGRAPH_SEPARATOR:
  case U_CONTROL_CHAR:
    return C_SPACE;
  default:
    return u_isUWhiteSpace((UChar32)c) ? C_SPACE : C_PUNCT;
  }
}

void tm__toks_free(tm__toks *t) {
  free(t->v);
  memset(t, 0, sizeof *t);
}

tm_status tm__tokenize(const char *s, size_t len, tm__toks *t) {
  size_t i = 0;
  uint32_t cp = 0;
  int cur = 0; /* class of the token still open: 0, WORD or NUM */
  bool space = false, ok = true;

  t->n = 0;
  while (i < len) {
    size_t b = i, peek;
    uint32_t c = tm__utf8_next(s, &i);
    int k = classify(c), cls = 0;
    tm__tok *last = t->n ? &t->v[t->n - 1] : NULL;

    switch (k) {
    case C_SPACE:
      cur = 0;
      space = true;
      break;
    case C_MARK:
      if (last && last->b1 == b) {
        last->b1 = (uint32_t)i;
        last->c1 = cp + 1;
      } else {
        cls = TM__TK_PUNCT;
      }
      break;
    case C_LETTER:
      if (cur == TM__TK_WORD) {
        last->b1 = (uint32_t)i;
        last->c1 = cp + 1;
      } else {
        cls = cur = TM__TK_WORD;
      }
      break;
    case C_DIGIT:
      if (cur == TM__TK_WORD || cur == TM__TK_NUM) {
        last->b1 = (uint32_t)i;
        last->c1 = cp + 1;
      } else {
        cls = cur = TM__TK_NUM;
      }
      break;
    case C_APOS:
    case C_SEP:
      /* Inside a word (don't, п'ять) or a number (3.14, 1,000). */
      peek = i;
      if (i < len && ((k == C_APOS && cur == TM__TK_WORD &&
                       classify(tm__utf8_next(s, &peek)) == C_LETTER) ||
                      (k == C_SEP && cur == TM__TK_NUM &&
                       classify(tm__utf8_next(s, &peek)) == C_DIGIT))) {
        last->b1 = (uint32_t)i;
        last->c1 = cp + 1;
      } else {
        cls = TM__TK_PUNCT;
        cur = 0;
      }
      break;
    case C_UNSPACED:
      cls = TM__TK_CHAR;
      cur = 0;
      break;
    default:
      cls = TM__TK_PUNCT;
      cur = 0;
      break;
    }
    if (cls) {
      tm__tok *v;
      GROW(t->v, t->cap, t->n + 1, ok);
      if (!ok)
        return TM_NOMEM;
      v = &t->v[t->n++];
      v->b0 = (uint32_t)b;
      v->b1 = (uint32_t)i;
      v->c0 = cp;
      v->c1 = cp + 1;
      v->cls = (uint8_t)cls;
      v->space = space;
      space = false;
    }
    cp++;
  }
  return TM_OK;
}

/* -------------------------------------------------------- edit distance */

void tm__peq_init(tm__peq *p, const uint32_t *pat, uint32_t m) {
  memset(p->ascii, 0, sizeof p->ascii);
  p->nch = 0;
  p->m = m > 64 ? 64 : m;
  for (uint32_t i = 0; i < p->m; i++) {
    uint32_t c = pat[i], k;
    if (c < 128) {
      p->ascii[c] |= 1ull << i;
      continue;
    }
    for (k = 0; k < p->nch && p->ch[k] != c; k++)
      ;
    if (k == p->nch) {
      p->ch[k] = c;
      p->mask[k] = 0;
      p->nch++;
    }
    p->mask[k] |= 1ull << i;
  }
}

static inline uint64_t peq_get(const tm__peq *p, uint32_t c) {
  if (c < 128)
    return p->ascii[c];
  for (uint32_t k = 0; k < p->nch; k++)
    if (p->ch[k] == c)
      return p->mask[k];
  return 0;
}

/*
 * Myers' bit-vector algorithm in Hyyro's formulation, for the global
 * distance (every column starts one deeper: the carry into HP is 1), with
 * Hyyro's transposition term for the restricted Damerau distance.
 */
uint32_t tm__peq_distance(const tm__peq *p, const uint32_t *t, uint32_t n,
                          bool transpose) {
  uint32_t m = p->m, score = m;
  uint64_t top, vp, vn = 0, d0 = 0, pm_prev = 0;

  if (m == 0)
    return n;
  top = 1ull << (m - 1);
  vp = m == 64 ? ~0ull : (1ull << m) - 1;
  for (uint32_t j = 0; j < n; j++) {
    uint64_t pm = peq_get(p, t[j]), hp, hn;
    uint64_t tr = transpose ? (((~d0) & pm) << 1) & pm_prev : 0;
    d0 = (((pm & vp) + vp) ^ vp) | pm | vn | tr;
    hp = vn | ~(d0 | vp);
    hn = vp & d0;
    if (hp & top)
      score++;
    else if (hn & top)
      score--;
    hp = (hp << 1) | 1;
    hn <<= 1;
    vp = hn | ~(d0 | hp);
    vn = hp & d0;
    pm_prev = pm;
  }
  return score;
}

uint32_t tm__edit_distance(const uint32_t *a, uint32_t na, const uint32_t *b,
                           uint32_t nb, bool transpose, uint32_t max) {
  uint32_t *row0, *row1, *row2, *tmp, result;

  if (na > nb ? na - nb > max : nb - na > max)
    return max + 1;
  if (na == 0 || nb == 0)
    return na + nb;
  if (!(row0 = malloc(3 * ((size_t)nb + 1) * sizeof *row0)))
    return max + 1;
  row1 = row0 + nb + 1;
  row2 = row1 + nb + 1;
  /* row2: i-2, row1: i-1, row0: i */
  for (uint32_t j = 0; j <= nb; j++)
    row1[j] = j;
  for (uint32_t i = 1; i <= na; i++) {
    uint32_t best;
    row0[0] = best = i;
    for (uint32_t j = 1; j <= nb; j++) {
      uint32_t v = row1[j - 1] + (a[i - 1] != b[j - 1]);
      if (row1[j] + 1 < v)
        v = row1[j] + 1;
      if (row0[j - 1] + 1 < v)
        v = row0[j - 1] + 1;
      if (transpose && i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
          a[i - 2] == b[j - 1] && row2[j - 2] + 1 < v)
        v = row2[j - 2] + 1;
      row0[j] = v;
      if (v < best)
        best = v;
    }
    if (best > max) {
      free(row0 < row1 ? (row0 < row2 ? row0 : row2)
                       : (row1 < row2 ? row1 : row2));
      return max + 1;
    }
    tmp = row2;
    row2 = row1;
    row1 = row0;
    row0 = tmp;
  }
  result = row1[nb];
  free(row0 < row1 ? (row0 < row2 ? row0 : row2) : (row1 < row2 ? row1 : row2));
  return result;
}

/* The cost of replacing word A by word B: 0 when equal, the share of
 * their characters an edit changes when that is under half, else 1. */
static double word_cost(const uint32_t *a, uint32_t na, const tm__peq *pa,
                        const uint32_t *b, uint32_t nb) {
  uint32_t mx = na > nb ? na : nb, diff = na > nb ? na - nb : nb - na, ed;

  if (diff * 2 >= mx)
    return 1.0;
  if (pa && na <= 64)
    ed = tm__peq_distance(pa, b, nb, false);
  else
    ed = tm__edit_distance(a, na, b, nb, false, mx);
  return ed * 2 < mx ? (double)ed / mx : 1.0;
}

/* The score of a core distance D over L tokens (see docs/matching.md). */
static int changed_score(double d, uint32_t l) {
  double sim = l ? 1.0 - d / l : 0.0;
  int s = (int)floor(100.0 * sim + 1e-6);
  return s > CHANGED_MAX ? CHANGED_MAX : s < 0 ? 0 : s;
}

/* ------------------------------------------------------- text analysis */

/* A text as the diffs see it: its tokens (over the original) and the
 * folded form of each. */
typedef struct atext {
  const char *s;
  size_t len;
  tm__toks toks;
  char *fbuf;
  size_t flen, fcap;
  uint32_t *foff; /* ntoks + 1 */
  uint32_t *core; /* token indices of core tokens */
  size_t ncore;
} atext;

static void atext_free(atext *a) {
  tm__toks_free(&a->toks);
  free(a->fbuf);
  free(a->foff);
  free(a->core);
}

static tm_status atext_init(atext *a, tm_text *text, const char *s,
                            size_t len) {
  bool ok = true;
  tm_status st;

  memset(a, 0, sizeof *a);
  a->s = s;
  a->len = len;
  if ((st = tm__tokenize(s, len, &a->toks)) != TM_OK)
    return st;
  if (!(a->foff = malloc((a->toks.n + 1) * sizeof *a->foff)) ||
      !(a->core = malloc((a->toks.n + 1) * sizeof *a->core)))
    return TM_NOMEM;
  for (size_t k = 0; k < a->toks.n; k++) {
    const tm__tok *t = &a->toks.v[k];
    size_t n = t->b1 - t->b0, j;
    char *f = NULL;
    const char *src = s + t->b0;

    if (t->cls != TM__TK_PUNCT)
      a->core[a->ncore++] = (uint32_t)k;
    for (j = 0; j < n && (unsigned char)src[j] < 0x80; j++)
      ;
    GROW(a->fbuf, a->fcap, a->flen + n * 3 + 8, ok);
    if (!ok)
      return TM_NOMEM;
    a->foff[k] = (uint32_t)a->flen;
    if (j == n || t->cls == TM__TK_CHAR) {
      /* ASCII folds by lower-casing; a precomposed syllable is its own
       * folded form. */
      for (j = 0; j < n; j++) {
        char c = src[j];
        a->fbuf[a->flen++] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
      }
      continue;
    }
    if ((st = tm_text_fold(text, NULL, src, n, &f)) != TM_OK)
      return st;
    j = strlen(f);
    GROW(a->fbuf, a->fcap, a->flen + j + 1, ok);
    if (!ok) {
      free(f);
      return TM_NOMEM;
    }
    memcpy(a->fbuf + a->flen, f, j);
    a->flen += j;
    free(f);
  }
  a->foff[a->toks.n] = (uint32_t)a->flen;
  return TM_OK;
}

static inline const char *afold(const atext *a, size_t k, size_t *n) {
  *n = a->foff[k + 1] - a->foff[k];
  return a->fbuf + a->foff[k];
}

/* The cost of aligning core token I of A with core token J of B. */
static double atext_cost(const atext *a, size_t i, const atext *b, size_t j,
                         uint32_t *bufa, uint32_t *bufb) {
  const tm__tok *ta = &a->toks.v[a->core[i]], *tb = &b->toks.v[b->core[j]];
  size_t na, nb;
  const char *fa = afold(a, a->core[i], &na), *fb = afold(b, b->core[j], &nb);

  if (ta->cls != tb->cls)
    return 1.0;
  if (ta->cls == TM__TK_NUM || (na == nb && memcmp(fa, fb, na) == 0))
    return 0.0;
  if (ta->cls != TM__TK_WORD)
    return 1.0;
  na = tm__utf8_decode(fa, na, bufa);
  nb = tm__utf8_decode(fb, nb, bufb);
  return word_cost(bufa, (uint32_t)na, NULL, bufb, (uint32_t)nb);
}

/* -------------------------------------------------------------- diffs */

typedef struct diffv {
  tm_diff *v;
  size_t n, cap;
} diffv;

/* A region of changed tokens being gathered: token index ranges. */
typedef struct region {
  long q0, q1, s0, s1; /* -1 when that side has none */
} region;

static void region_reset(region *r) {
  r->q0 = r->q1 = r->s0 = r->s1 = -1;
}

static void region_add(region *r, int side, size_t tok) {
  long *lo = side ? &r->s0 : &r->q0, *hi = side ? &r->s1 : &r->q1;
  if (*lo < 0 || (long)tok < *lo)
    *lo = (long)tok;
  if (*hi < 0 || (long)tok > *hi)
    *hi = (long)tok;
}

/* The code point span of tokens [t0, t1] of A; with GROW_SPACE, widened by
 * one neighbouring run of whitespace so that removing it leaves clean
 * text. */
static tm_span token_span(const atext *a, long t0, long t1, bool grow_space) {
  tm_span sp = {a->toks.v[t0].c0, a->toks.v[t1].c1};

  if (grow_space) {
    if ((size_t)t1 + 1 < a->toks.n && a->toks.v[t1 + 1].space)
      sp.end = a->toks.v[t1 + 1].c0;
    else if ((size_t)t1 + 1 == a->toks.n && a->toks.v[t1].b1 < a->len)
      sp.end = (uint32_t)(sp.end + tm__utf8_count(a->s + a->toks.v[t1].b1,
                                                  a->len - a->toks.v[t1].b1));
    else if (t0 > 0 && a->toks.v[t0].space)
      sp.start = a->toks.v[t0 - 1].c1;
  }
  return sp;
}

static tm_status region_flush(region *r, const atext *q, const atext *s,
                              diffv *out) {
  bool ok = true;
  tm_diff *d;

  if (r->q0 < 0 && r->s0 < 0)
    return TM_OK;
  GROW(out->v, out->cap, out->n + 1, ok);
  if (!ok)
    return TM_NOMEM;
  d = &out->v[out->n++];
  d->op = r->q0 < 0   ? TM_DIFF_INSERT
          : r->s0 < 0 ? TM_DIFF_DELETE
                      : TM_DIFF_REPLACE;
  d->source = d->query = (tm_span){UINT32_MAX, UINT32_MAX};
  if (r->s0 >= 0)
    d->source = token_span(s, r->s0, r->s1, d->op == TM_DIFF_INSERT);
  if (r->q0 >= 0)
    d->query = token_span(q, r->q0, r->q1, d->op == TM_DIFF_DELETE);
  region_reset(r);
  return TM_OK;
}

static bool same_bytes(const atext *a, size_t i, const atext *b, size_t j) {
  const tm__tok *x = &a->toks.v[i], *y = &b->toks.v[j];
  return x->b1 - x->b0 == y->b1 - y->b0 &&
         memcmp(a->s + x->b0, b->s + y->b0, x->b1 - x->b0) == 0;
}

/* Compares the punctuation of Q's tokens [qa, qb) and S's [sa, sb) (no
 * core tokens among them): equal runs close the region, others join it. */
static tm_status punct_gap(const atext *q, size_t qa, size_t qb, const atext *s,
                           size_t sa, size_t sb, region *r, diffv *out) {
  bool same = qb - qa == sb - sa;

  for (size_t k = 0; same && k < qb - qa; k++)
    same = same_bytes(q, qa + k, s, sa + k);
  if (same)
    return qb > qa ? region_flush(r, q, s, out) : TM_OK;
  for (size_t k = qa; k < qb; k++)
    region_add(r, 0, k);
  for (size_t k = sa; k < sb; k++)
    region_add(r, 1, k);
  return TM_OK;
}

/*
 * The spans that differ between query Q and source S: aligns their core
 * tokens with the score's costs (a full table; only final results get
 * here), then walks the alignment, gathering runs of changed tokens
 * (including punctuation between them) into one diff each.
 */
static tm_status compute_diffs(const atext *q, const atext *s, tm_diff **outv,
                               size_t *outn) {
  size_t n = q->ncore, m = s->ncore, i, j, qpos = 0, spos = 0;
  size_t maxlen = q->flen > s->flen ? q->flen : s->flen;
  double *dp = NULL;
  uint8_t *move = NULL; /* 0 diagonal, 1 skip query token, 2 skip source */
  uint32_t *bufa = NULL, *bufb = NULL;
  size_t *path = NULL, npath = 0;
  diffv out = {0};
  region r;
  tm_status st = TM_OK;

  *outv = NULL;
  *outn = 0;
  if ((n + 1) > SIZE_MAX / (m + 1) / sizeof *dp)
    return TM_TOOBIG;
  dp = malloc((n + 1) * (m + 1) * sizeof *dp);
  move = malloc((n + 1) * (m + 1));
  bufa = malloc((maxlen + 1) * sizeof *bufa);
  bufb = malloc((maxlen + 1) * sizeof *bufb);
  path = malloc((n + m + 1) * 2 * sizeof *path);
  if (!dp || !move || !bufa || !bufb || !path) {
    st = TM_NOMEM;
    goto out;
  }
#define AT(i, j) ((i) * (m + 1) + (j))
  for (i = 0; i <= n; i++)
    for (j = 0; j <= m; j++) {
      double best;
      uint8_t mv = 0;
      if (i == 0 && j == 0) {
        dp[0] = 0;
        move[0] = 0;
        continue;
      }
      best = 1e300;
      if (i > 0 && j > 0) {
        best =
            dp[AT(i - 1, j - 1)] + atext_cost(q, i - 1, s, j - 1, bufa, bufb);
        mv = 0;
      }
      if (i > 0 && dp[AT(i - 1, j)] + 1 < best - 1e-12) {
        best = dp[AT(i - 1, j)] + 1;
        mv = 1;
      }
      if (j > 0 && dp[AT(i, j - 1)] + 1 < best - 1e-12) {
        best = dp[AT(i, j - 1)] + 1;
        mv = 2;
      }
      dp[AT(i, j)] = best;
      move[AT(i, j)] = mv;
    }
  /* Backtrace into path as pairs (i or SIZE_MAX, j or SIZE_MAX), reversed. */
  i = n;
  j = m;
  while (i > 0 || j > 0) {
    uint8_t mv = move[AT(i, j)];
    if (i > 0 && j > 0 && mv == 0) {
      path[2 * npath] = --i;
      path[2 * npath + 1] = --j;
    } else if (i > 0 && (mv == 1 || j == 0)) {
      path[2 * npath] = --i;
      path[2 * npath + 1] = SIZE_MAX;
    } else {
      path[2 * npath] = SIZE_MAX;
      path[2 * npath + 1] = --j;
    }
    npath++;
  }
#undef AT
  region_reset(&r);
  while (npath-- > 0 && st == TM_OK) {
    size_t a = path[2 * npath], b = path[2 * npath + 1];
    if (a != SIZE_MAX && b != SIZE_MAX) {
      size_t qt = q->core[a], stok = s->core[b];
      if ((st = punct_gap(q, qpos, qt, s, spos, stok, &r, &out)) != TM_OK)
        break;
      if (same_bytes(q, qt, s, stok)) {
        st = region_flush(&r, q, s, &out);
      } else {
        region_add(&r, 0, qt);
        region_add(&r, 1, stok);
      }
      qpos = qt + 1;
      spos = stok + 1;
    } else if (a != SIZE_MAX) {
      for (; qpos <= q->core[a]; qpos++)
        region_add(&r, 0, qpos);
    } else {
      for (; spos <= s->core[b]; spos++)
        region_add(&r, 1, spos);
    }
  }
  if (st == TM_OK)
    st = punct_gap(q, qpos, q->toks.n, s, spos, s->toks.n, &r, &out);
  if (st == TM_OK)
    st = region_flush(&r, q, s, &out);
  if (st == TM_OK) {
    *outv = out.v;
    *outn = out.n;
    out.v = NULL;
  }
out:
  free(out.v);
  free(dp);
  free(move);
  free(bufa);
  free(bufb);
  free(path);
  return st;
}

/*
 * The penalty of a source whose core tokens equal the query's but whose
 * text differs: 1 for case (or accents, apostrophes, any other difference
 * folding removes), 1 for punctuation, 1 for whitespace, 2 for numbers;
 * at least 1.  Compares the original texts token by token.
 */
static int format_penalty(const char *q, size_t qlen, const char *s,
                          size_t slen, tm__toks *tq, tm__toks *ts) {
  int pcase = 0, ppunct = 0, pspace = 0, pnum = 0, p;
  size_t i = 0, j = 0;

  if (tm__tokenize(q, qlen, tq) != TM_OK || tm__tokenize(s, slen, ts) != TM_OK)
    return 1;
  for (;;) {
    /* The punctuation before the next core token on each side. */
    size_t i0 = i, j0 = j;
    while (i < tq->n && tq->v[i].cls == TM__TK_PUNCT)
      i++;
    while (j < ts->n && ts->v[j].cls == TM__TK_PUNCT)
      j++;
    if (i - i0 != j - j0)
      ppunct = 1;
    for (size_t k = 0; !ppunct && k < i - i0; k++) {
      const tm__tok *a = &tq->v[i0 + k], *b = &ts->v[j0 + k];
      if (a->b1 - a->b0 != b->b1 - b->b0 ||
          memcmp(q + a->b0, s + b->b0, a->b1 - a->b0) != 0)
        ppunct = 1;
      if (a->space != b->space)
        pspace = 1;
    }
    if (i == tq->n || j == ts->n) {
      if (i != tq->n || j != ts->n)
        pcase = 1; /* folding merged or split a token */
      break;
    }
    {
      const tm__tok *a = &tq->v[i], *b = &ts->v[j];
      if (a->space != b->space)
        pspace = 1;
      if (a->b1 - a->b0 != b->b1 - b->b0 ||
          memcmp(q + a->b0, s + b->b0, a->b1 - a->b0) != 0) {
        if (a->cls == TM__TK_NUM && b->cls == TM__TK_NUM)
          pnum = 1;
        else
          pcase = 1;
      }
    }
    i++;
    j++;
  }
  if ((tq->n && tq->v[tq->n - 1].b1 < qlen) !=
      (ts->n && ts->v[ts->n - 1].b1 < slen))
    pspace = 1;
  p = pcase + ppunct + pspace + 2 * pnum;
  return p ? p : 1;
}

/* The weighted distance between the core tokens of A and B, by the full
 * table. */
static tm_status atext_distance(const atext *a, const atext *b, double *out) {
  size_t n = a->ncore, m = b->ncore;
  size_t maxlen = a->flen > b->flen ? a->flen : b->flen;
  double *prev = malloc((n + 1) * sizeof *prev);
  double *cur = malloc((n + 1) * sizeof *cur);
  uint32_t *bufa = malloc((maxlen + 1) * sizeof *bufa);
  uint32_t *bufb = malloc((maxlen + 1) * sizeof *bufb);

  if (!prev || !cur || !bufa || !bufb) {
    free(prev);
    free(cur);
    free(bufa);
    free(bufb);
    return TM_NOMEM;
  }
  for (size_t i = 0; i <= n; i++)
    prev[i] = (double)i;
  for (size_t j = 1; j <= m; j++) {
    double *t;
    cur[0] = (double)j;
    for (size_t i = 1; i <= n; i++) {
      double v = prev[i - 1] + atext_cost(a, i - 1, b, j - 1, bufa, bufb);
      if (prev[i] + 1 < v)
        v = prev[i] + 1;
      if (cur[i - 1] + 1 < v)
        v = cur[i - 1] + 1;
      cur[i] = v;
    }
    t = prev;
    prev = cur;
    cur = t;
  }
  *out = prev[n];
  free(prev);
  free(cur);
  free(bufa);
  free(bufb);
  return TM_OK;
}

tm_status tm__match_score(tm_text *text, const char *query, const char *src,
                          int *score) {
  atext a = {0}, b = {0};
  tm__toks tq = {0}, ts = {0};
  char *fa = NULL, *fb = NULL;
  double d = 0;
  tm_status s;

  /* As the index does: the tokens of the folded texts. */
  *score = 0;
  if ((s = tm_text_fold(text, NULL, query, strlen(query), &fa)) == TM_OK &&
      (s = tm_text_fold(text, NULL, src, strlen(src), &fb)) == TM_OK &&
      (s = atext_init(&a, text, fa, strlen(fa))) == TM_OK &&
      (s = atext_init(&b, text, fb, strlen(fb))) == TM_OK)
    s = atext_distance(&a, &b, &d);
  if (s == TM_OK) {
    uint32_t l = (uint32_t)(a.ncore > b.ncore ? a.ncore : b.ncore);
    if (d > 1e-9)
      *score = changed_score(d, l);
    else if (strcmp(query, src) == 0)
      *score = 100;
    else
      *score = 100 -
               format_penalty(query, strlen(query), src, strlen(src), &tq, &ts);
  }
  tm__toks_free(&tq);
  tm__toks_free(&ts);
  atext_free(&a);
  atext_free(&b);
  free(fa);
  free(fb);
  return s;
}

/* ----------------------------------------------------------- the query */

typedef struct qword {
  uint32_t id;
  uint8_t cls;
  uint32_t cp, ncp; /* its code points in query.cps */
  uint64_t sig;     /* its characters, hashed into 64 bits */
} qword;

static uint64_t char_sig(const uint32_t *c, uint32_t n) {
  uint64_t s = 0;
  for (uint32_t i = 0; i < n; i++)
    s |= 1ull << ((c[i] * 0x9E3779B1u) >> 26);
  return s;
}

typedef struct near {
  uint32_t i;
  double cost;
} near;

typedef struct qctx {
  const tm__group *g;
  const char *nfc;
  size_t nfc_len;
  char *fold;
  tm__prep prep;
  qword *w;
  uint32_t n;
  uint32_t *cps;
  tm__peq *peqs; /* one per query word, for words up to 64 code points */
  /* near costs per candidate token id: open addressing */
  uint32_t *mkey; /* id + 1 */
  uint32_t *moff, *mn;
  uint32_t mmask, mcount;
  near *pool;
  size_t npool, poolcap;
  uint64_t *masks; /* per candidate token, for Myers' algorithm */
  size_t maskcap;
  /* scratch */
  uint32_t *cbuf;
  size_t cbufcap;
  double *col0, *col1;
  double *colcost;
  tm__toks tq, ts;
  uint16_t *counts;  /* per main doc of g, zero (the handle's) */
  uint32_t *touched; /* room for as many (the handle's) */
} qctx;

static void query_free(qctx *q) {
  free(q->fold);
  tm__prep_free(&q->prep);
  free(q->w);
  free(q->cps);
  free(q->peqs);
  free(q->mkey);
  free(q->moff);
  free(q->mn);
  free(q->pool);
  free(q->masks);
  free(q->cbuf);
  free(q->col0);
  free(q->col1);
  free(q->colcost);
  tm__toks_free(&q->tq);
  tm__toks_free(&q->ts);
}

/* Looks up the query's core tokens in group G's dictionary.  Caller holds
 * the read lock. */
static tm_status query_bind(qctx *q, const tm__group *g) {
  uint32_t unknown = TM__ID_UNKNOWN, total = 0;

  q->g = g;
  q->n = (uint32_t)q->prep.ncore;
  if (!(q->w = calloc(q->n + 1, sizeof *q->w)) ||
      !(q->cps = malloc((strlen(q->fold) + 1) * sizeof *q->cps)) ||
      !(q->peqs = malloc((q->n + 1) * sizeof *q->peqs)) ||
      !(q->col0 = malloc((q->n + 1) * sizeof *q->col0)) ||
      !(q->col1 = malloc((q->n + 1) * sizeof *q->col1)) ||
      !(q->colcost = malloc((q->n + 1) * sizeof *q->colcost)))
    return TM_NOMEM;
  for (uint32_t i = 0; i < q->n; i++) {
    const tm__tok *t = &q->prep.toks.v[q->prep.core[i]];
    qword *w = &q->w[i];
    w->cls = t->cls;
    w->cp = total;
    w->ncp = (uint32_t)tm__utf8_decode(q->fold + t->b0, t->b1 - t->b0,
                                       q->cps + total);
    total += w->ncp;
    if (t->cls == TM__TK_NUM)
      w->id = TM__NUM_ID;
    else if (!(w->id = tm__dict_find(&g->dict, q->fold + t->b0, t->b1 - t->b0)))
      w->id = unknown++;
    if (t->cls == TM__TK_WORD)
      tm__peq_init(&q->peqs[i], q->cps + w->cp, w->ncp);
    w->sig = char_sig(q->cps + w->cp, w->ncp);
    q->colcost[i] = 1.0;
  }
  q->mmask = 255;
  if (!(q->mkey = calloc(q->mmask + 1, sizeof *q->mkey)) ||
      !(q->moff = malloc((q->mmask + 1) * sizeof *q->moff)) ||
      !(q->mn = malloc((q->mmask + 1) * sizeof *q->mn)))
    return TM_NOMEM;
  /* Allocated before any list, so that a list is always a pointer into
   * it, an empty one too. */
  q->poolcap = q->n + 1;
  if (!(q->pool = malloc(q->poolcap * sizeof *q->pool)))
    return TM_NOMEM;
  return TM_OK;
}

/* The clones below are chosen by an ifunc resolver, which runs before
 * ThreadSanitizer's runtime has started: a TSan build makes one version. */
#if defined(__SANITIZE_THREAD__)
#define MATCH_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MATCH_TSAN 1
#endif
#endif

/* The query positions candidate token ID costs less than 1 against, with
 * their costs (memoised per id).  Its bound counts bits: built twice, for
 * processors with and without the popcnt instruction (an x86-64 baseline
 * build would call a library routine for each count). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(MATCH_TSAN)
__attribute__((target_clones("popcnt", "default")))
#endif
static tm_status
near_list(qctx *q, uint32_t id, const near **out, uint32_t *nout) {
  uint32_t h = (id * 2654435761u) & q->mmask;
  uint32_t off = (uint32_t)q->npool, cnt = 0;
  const tm__group *g = q->g;
  bool ok = true, decoded = false;
  uint32_t nb = 0;
  uint64_t sig = 0;

  while (q->mkey[h]) {
    if (q->mkey[h] == id + 1) {
      *out = q->pool + q->moff[h];
      *nout = q->mn[h];
      return TM_OK;
    }
    h = (h + 1) & q->mmask;
  }
  for (uint32_t i = 0; i < q->n; i++) {
    const qword *w = &q->w[i];
    double c = 1.0;
    if (w->id == id) {
      c = 0.0;
    } else if (w->cls == TM__TK_WORD && id != TM__NUM_ID) {
      if (!decoded) {
        size_t len;
        const char *str = tm__dict_str(&g->dict, id, &len);
        GROW(q->cbuf, q->cbufcap, len + 1, ok);
        if (!ok)
          return TM_NOMEM;
        /* A word token of an unspaced script has one character and can
         * only equal, never resemble. */
        nb = (uint32_t)tm__utf8_decode(str, len, q->cbuf);
        sig = char_sig(q->cbuf, nb);
        decoded = true;
      }
      /* Characters one word has and the other lacks each need an edit:
       * a lower bound that rules out most pairs before any alignment. */
      if (nb > 1 || w->ncp > 1) {
        uint32_t mx = nb > w->ncp ? nb : w->ncp;
        int lb1 = __builtin_popcountll(sig & ~w->sig);
        int lb2 = __builtin_popcountll(w->sig & ~sig);
        if (2 * (uint32_t)(lb1 > lb2 ? lb1 : lb2) < mx)
          c = word_cost(q->cps + w->cp, w->ncp,
                        w->ncp <= 64 ? &q->peqs[i] : NULL, q->cbuf, nb);
      }
    }
    if (c < 1.0) {
      GROW(q->pool, q->poolcap, q->npool + 1, ok);
      if (!ok)
        return TM_NOMEM;
      q->pool[q->npool++] = (near){i, c};
      cnt++;
    }
  }
  q->mkey[h] = id + 1;
  q->moff[h] = off;
  q->mn[h] = cnt;
  *out = q->pool + off;
  *nout = cnt;
  if (++q->mcount * 2 > q->mmask) {
    /* Grow the memo: rehash its keys. */
    uint32_t nmask = q->mmask * 2 + 1;
    uint32_t *k = calloc(nmask + 1, sizeof *k), *o = malloc((nmask + 1) * 4),
             *c = malloc((nmask + 1) * 4);
    if (!k || !o || !c) {
      free(k);
      free(o);
      free(c);
      return TM_NOMEM;
    }
    for (uint32_t s = 0; s <= q->mmask; s++) {
      uint32_t t;
      if (!q->mkey[s])
        continue;
      t = ((q->mkey[s] - 1) * 2654435761u) & nmask;
      while (k[t])
        t = (t + 1) & nmask;
      k[t] = q->mkey[s];
      o[t] = q->moff[s];
      c[t] = q->mn[s];
    }
    free(q->mkey);
    free(q->moff);
    free(q->mn);
    q->mkey = k;
    q->moff = o;
    q->mn = c;
    q->mmask = nmask;
  }
  return TM_OK;
}

/* Myers' bit-vector Levenshtein distance between the query's tokens (1 to
 * 64 of them) and a candidate whose token J equals the query tokens of
 * bits MASKS[J]. */
static uint32_t mask_distance(uint32_t n, const uint64_t *masks, uint32_t m) {
  uint32_t score = n;
  uint64_t top = 1ull << (n - 1), vp = n == 64 ? ~0ull : (1ull << n) - 1,
           vn = 0;

  for (uint32_t j = 0; j < m; j++) {
    uint64_t pm = masks[j], hp, hn, d0;
    d0 = (((pm & vp) + vp) ^ vp) | pm | vn;
    hp = vn | ~(d0 | vp);
    hn = vp & d0;
    if (hp & top)
      score++;
    else if (hn & top)
      score--;
    hp = (hp << 1) | 1;
    hn <<= 1;
    vp = hn | ~(d0 | hp);
    vn = hp & d0;
  }
  return score;
}

/* The weighted distance between the query's core tokens and TOKS[0..m),
 * or a value above DMAX once it must exceed it. */
static tm_status core_distance(qctx *q, const uint32_t *toks, uint32_t m,
                               double dmax, double *out) {
  uint32_t n = q->n;
  double *prev = q->col0, *cur = q->col1;

  /* Unit costs (no close but different words in this candidate) and at
   * most 64 query tokens: the distance is plain Levenshtein over tokens,
   * by Myers' algorithm; most candidates of every language qualify. */
  if (n > 0 && n <= 64) {
    bool ok = true, fractional = false;
    GROW(q->masks, q->maskcap, (size_t)m + 1, ok);
    if (!ok)
      return TM_NOMEM;
    for (uint32_t j = 0; j < m && !fractional; j++) {
      const near *nl;
      uint32_t nn;
      uint64_t mask = 0;
      tm_status s = near_list(q, toks[j], &nl, &nn);
      if (s != TM_OK)
        return s;
      for (uint32_t k = 0; k < nn; k++) {
        if (nl[k].cost > 0)
          fractional = true;
        else
          mask |= 1ull << nl[k].i;
      }
      q->masks[j] = mask;
    }
    if (!fractional) {
      *out = mask_distance(n, q->masks, m);
      return TM_OK;
    }
  }

  for (uint32_t i = 0; i <= n; i++)
    prev[i] = i;
  for (uint32_t j = 1; j <= m; j++) {
    const near *nl;
    uint32_t nn;
    double best;
    tm_status s = near_list(q, toks[j - 1], &nl, &nn);
    if (s != TM_OK)
      return s;
    for (uint32_t k = 0; k < nn; k++)
      q->colcost[nl[k].i] = nl[k].cost;
    cur[0] = best = j;
    for (uint32_t i = 1; i <= n; i++) {
      double v = prev[i - 1] + q->colcost[i - 1];
      if (prev[i] + 1 < v)
        v = prev[i] + 1;
      if (cur[i - 1] + 1 < v)
        v = cur[i - 1] + 1;
      cur[i] = v;
      if (v < best)
        best = v;
    }
    for (uint32_t k = 0; k < nn; k++)
      q->colcost[nl[k].i] = 1.0;
    if (best > dmax + 1e-9) {
      *out = best;
      return TM_OK;
    }
    double *t = prev;
    prev = cur;
    cur = t;
  }
  *out = prev[n];
  return TM_OK;
}

/* ---------------------------------------------------------- candidates */

typedef struct cand {
  uint32_t doc;
  uint32_t count; /* grams shared with the query */
  uint32_t bin;   /* Jaccard index of the gram sets, in JBINS steps */
  uint32_t ntok;  /* its core tokens */
} cand;

/* The token count of main doc D: docs are numbered by it. */
static uint32_t main_ntok(const tm__group *g, uint32_t d) {
  uint32_t lo = 0, hi = g->maxtok + 1;
  while (lo < hi) { /* the last k with len_start[k] <= d */
    uint32_t mid = lo + (hi - lo + 1) / 2;
    if (g->len_start[mid] <= d)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

static uint32_t lower_bound(const uint32_t *v, uint32_t n, uint32_t x) {
  uint32_t lo = 0, hi = n;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (v[mid] < x)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* Shared grams of two sorted key arrays. */
static uint32_t common_grams(const uint64_t *a, size_t na, const uint64_t *b,
                             size_t nb) {
  size_t i = 0, j = 0;
  uint32_t c = 0;
  while (i < na && j < nb) {
    if (a[i] < b[j])
      i++;
    else if (a[i] > b[j])
      j++;
    else {
      c++;
      i++;
      j++;
    }
  }
  return c;
}

/* Bins of the candidate ranking (the Jaccard index of gram sets). */
#define JBINS 1024
/* Postings between a counter's prefetch and its use. */
#define PREFETCH_AHEAD 16
/* A gram whose restricted list holds more than 1/COMMON_SHARE of the range
 * (and more than COMMON_MIN docs) is not counted. */
#define COMMON_SHARE 16
#define COMMON_MIN 2048
/* Counting finds the docs it touches by a pass over the range when it
 * counts at least 1/DENSE_SHARE as many postings as the range has docs. */
#define DENSE_SHARE 16
/* Docs with the query's exact text scored at most. */
#define EXACT_MAX 64

typedef struct plist {
  const uint32_t *p;
  uint32_t n;
  uint64_t key;
} plist;

/* Marks in COVERED the query tokens that produce gram KEY; returns how
 * many it newly marked. */
static uint32_t cover(const tm__prep *p, uint64_t key, uint8_t *covered) {
  size_t lo = 0, hi = p->nocc;
  uint32_t k = 0;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (p->occ[mid].key < key)
      lo = mid + 1;
    else
      hi = mid;
  }
  for (; lo < p->nocc && p->occ[lo].key == key; lo++)
    if (!covered[p->occ[lo].tok]) {
      covered[p->occ[lo].tok] = 1;
      k++;
    }
  return k;
}

static uint32_t jaccard_bin(uint32_t common, uint32_t nq, uint32_t nd) {
  uint32_t uni;
  if (common > nq)
    common = nq;
  if (common > nd)
    common = nd;
  uni = nq + nd - common;
  if (!uni)
    return JBINS - 1;
  /* Done once per counted doc: the 32-bit division is the cheaper one, and
   * counts (16-bit in gather) leave the product within 32 bits. */
  if (common <= UINT32_MAX / (JBINS - 1))
    return common * (JBINS - 1) / uni;
  return (uint32_t)((uint64_t)common * (JBINS - 1) / uni);
}

/* Q's counters and list of docs touched: DB's, the counters zero, with
 * room for every main doc of Q's group. */
static tm_status query_counts(qctx *q, tm_db *db) {
  uint32_t n = q->g->nmain;
  uint16_t *p;
  uint32_t *t;

  if (n > db->doc_counts_cap) {
    if (!(t = realloc(db->doc_touched, (size_t)n * sizeof *t)))
      return TM_NOMEM;
    db->doc_touched = t;
    if (!(p = realloc(db->doc_counts, (size_t)n * sizeof *p)))
      return TM_NOMEM;
    memset(p + db->doc_counts_cap, 0, (n - db->doc_counts_cap) * sizeof *p);
    db->doc_counts = p;
    db->doc_counts_cap = n;
  }
  q->counts = db->doc_counts;
  q->touched = db->doc_touched;
  return TM_OK;
}

/*
 * The docs of G worth scoring for Q: those whose token count the score's
 * length bound allows (min(n, m) / max(n, m) >= MIN/100), counting the
 * grams each shares with the query over the posting lists restricted to
 * that range, then keeping the CANDIDATES whose gram sets are most alike
 * (Jaccard index: shared grams over all grams of both), which prefers a
 * short doc that has all its grams in the query to a long one that merely
 * shares as many.  Delta docs are counted one by one.
 */
static tm_status gather(const qctx *q, int min, cand **out, size_t *nout,
                        uint32_t *counted) {
  const tm__group *g = q->g;
  uint32_t n = q->n, kmin, kmax, lo, hi, thr, nt = 0;
  uint64_t npost = 0;
  uint32_t nq =
      (uint32_t)(q->prep.ngrams < UINT16_MAX ? q->prep.ngrams : UINT16_MAX);
  uint16_t *cnt = q->counts;
  uint32_t *hist = NULL, *touched = q->touched;
  uint16_t *bins = NULL;
  plist *lists = NULL;
  size_t nl = 0;
  cand *v = NULL;
  size_t nv = 0, cap = 0;
  bool ok = true;

  *out = NULL;
  *nout = 0;
  *counted = nq;
  kmin = (uint32_t)(((uint64_t)n * (uint32_t)min + 99) / 100);
  kmax = min > 0 ? (uint32_t)((uint64_t)n * 100 / (uint32_t)min) : UINT32_MAX;
  if (n == 0)
    kmin = kmax = 0;
  tm__group_len_range(g, kmin, kmax, &lo, &hi);
  if (hi > lo) {
    cnt += lo;
    if (!(hist = calloc(JBINS + 1, sizeof *hist)) ||
        !(lists = malloc((nq + 1) * sizeof *lists))) {
      free(hist);
      return TM_NOMEM;
    }
    /* The query's grams with their lists restricted to the range. */
    for (size_t k = 0; k < nq; k++) {
      uint32_t np, x;
      const uint32_t *p = tm__group_postings(g, q->prep.grams[k], &np);
      if (!p)
        continue;
      x = lower_bound(p, np, lo);
      lists[nl].p = p + x;
      lists[nl].n = lower_bound(p + x, np - x, hi);
      lists[nl].key = q->prep.grams[k];
      nl++;
    }
    /* The grams in a large share of the range tell docs apart the least
     * and cost the most to count: leave them out, but always keep the
     * rarer half of the query's grams, and enough of them to cover more
     * than 30% of the query's tokens (a 70% match may have lost all the
     * others: "%s з %s" for "%s з Бікубічне %s" shares no rare gram). */
    if (nl > 2) {
      uint32_t common = (hi - lo) / COMMON_SHARE, kept = 0, ncov = 0;
      uint32_t need = n * 3 / 10 + 1;
      uint8_t *covered = calloc(n + 1, 1);
      if (!covered) {
        free(lists);
        free(hist);
        return TM_NOMEM;
      }
      if (common < COMMON_MIN)
        common = COMMON_MIN;
      for (size_t k = 1; k < nl; k++)
        for (size_t j = k; j > 0 && lists[j].n < lists[j - 1].n; j--) {
          plist t = lists[j];
          lists[j] = lists[j - 1];
          lists[j - 1] = t;
        }
      while (kept < nl &&
             (kept < (nl + 1) / 2 || lists[kept].n <= common || ncov < need))
        ncov += cover(&q->prep, lists[kept++].key, covered);
      free(covered);
      nl = kept;
    }
    nq = (uint32_t)nl;
    *counted = nq;
    for (size_t k = 0; k < nl; k++)
      npost += lists[k].n;
    /* Count shared grams (query grams are capped below 65535, so counts
     * cannot overflow).  Few postings in a large range: note each doc the
     * first time it is seen.  Else that test costs more than it saves (a
     * doc's first posting is a branch mispredicted): count alone, then
     * find the docs seen in one pass over the range, without a branch. */
    if (n == 0 || npost < (hi - lo) / DENSE_SHARE) {
      for (size_t k = 0; k < nl; k++) {
        const uint32_t *p = lists[k].p;
        for (uint32_t x = 0; x < lists[k].n; x++) {
          /* The counters of a large range miss the caches: ask for one a
           * few postings ahead while this one is counted. */
          if (x + PREFETCH_AHEAD < lists[k].n)
            __builtin_prefetch(&cnt[p[x + PREFETCH_AHEAD] - lo], 1);
          if (cnt[p[x] - lo]++ == 0)
            touched[nt++] = p[x] - lo;
        }
      }
    } else {
      for (size_t k = 0; k < nl; k++) {
        const uint32_t *p = lists[k].p;
        for (uint32_t x = 0; x < lists[k].n; x++) {
          if (x + PREFETCH_AHEAD < lists[k].n)
            __builtin_prefetch(&cnt[p[x + PREFETCH_AHEAD] - lo], 1);
          cnt[p[x] - lo]++;
        }
      }
      for (uint32_t d = 0; d < hi - lo; d++) {
        touched[nt] = d;
        nt += cnt[d] != 0;
      }
    }
    free(lists);
    if (n == 0) /* no words: every doc of the range, none counted */
      for (nt = 0; nt < hi - lo; nt++)
        touched[nt] = nt;
    if (!(bins = malloc(((size_t)nt + 1) * sizeof *bins)))
      ok = false;
    for (uint32_t t = 0; ok && t < nt; t++) {
      uint32_t d = touched[t];
      bins[t] = (uint16_t)jaccard_bin(cnt[d], nq, g->ngram16[lo + d]);
      hist[bins[t]]++;
    }
    /* The lowest bin that keeps at most CANDIDATES docs; when the best bin
     * alone has more, take it anyway, up to twice the cap. */
    thr = JBINS;
    {
      size_t acc = 0;
      while (thr > 0 && acc + hist[thr - 1] <= CANDIDATES)
        acc += hist[--thr];
      if (acc == 0)
        while (thr > 0 && !hist[thr])
          thr--;
    }
    for (uint32_t t = 0; ok && t < nt && nv < 2 * CANDIDATES; t++) {
      uint32_t d = touched[t];
      if (bins[t] < thr)
        continue;
      GROW(v, cap, nv + 1, ok);
      if (!ok)
        break;
      v[nv++] = (cand){lo + d, cnt[d], bins[t], main_ntok(g, lo + d)};
    }
    for (uint32_t t = 0; t < nt; t++)
      cnt[touched[t]] = 0;
    free(bins);
    free(hist);
  }
  for (uint32_t d = g->nmain; ok && d < g->ndocs; d++) {
    const tm__doc *doc = &g->docs[d];
    uint32_t c;
    if (doc->dead || doc->ntok < kmin || doc->ntok > kmax)
      continue;
    c = common_grams(q->prep.grams, q->prep.ngrams, g->dgrams + doc->gram,
                     doc->ngram);
    if (c == 0 && n)
      continue;
    GROW(v, cap, nv + 1, ok);
    if (ok)
      v[nv++] =
          (cand){d, c, jaccard_bin(c, (uint32_t)q->prep.ngrams, doc->ngram),
                 doc->ntok};
  }
  if (ok && nv > 1) {
    /* Most alike first (a counting sort on the bins), so that the best
     * matches are found early and bound the rest. */
    uint32_t *bc = calloc(JBINS + 1, sizeof *bc);
    cand *sorted = malloc(nv * sizeof *sorted);
    if (!bc || !sorted) {
      ok = false;
    } else {
      for (size_t i = 0; i < nv; i++)
        bc[JBINS - 1 - v[i].bin]++;
      for (uint32_t b = 0, at = 0; b < JBINS; b++) {
        uint32_t k = bc[b];
        bc[b] = at;
        at += k;
      }
      for (size_t i = 0; i < nv; i++)
        sorted[bc[JBINS - 1 - v[i].bin]++] = v[i];
      free(v);
      v = sorted;
      sorted = NULL;
    }
    free(bc);
    free(sorted);
  }
  if (!ok) {
    free(v);
    return TM_NOMEM;
  }
  *out = v;
  *nout = nv;
  return TM_OK;
}

/* Puts the main docs whose text is the query's, byte for byte, first
 * among the candidates: an exact match never depends on the count filter
 * (families of strings that differ only in a number tie on grams). */
static tm_status add_exact(const qctx *q, uint32_t counted, cand **cands,
                           size_t *n) {
  size_t first, end, k;
  cand *v;

  tm__group_exact(q->g, tm__hash_bytes(q->nfc, q->nfc_len), &first, &end);
  if (end - first > EXACT_MAX)
    end = first + EXACT_MAX;
  if (first == end)
    return TM_OK;
  if (!(v = malloc((*n + (end - first)) * sizeof *v)))
    return TM_NOMEM;
  for (k = 0; first + k < end; k++) {
    uint32_t d = q->g->exact[first + k].doc;
    v[k] = (cand){d, counted, JBINS - 1, main_ntok(q->g, d)};
  }
  if (*n)
    memcpy(v + k, *cands, *n * sizeof *v);
  free(*cands);
  *cands = v;
  *n += k;
  return TM_OK;
}

/* ------------------------------------------------------------- results */

typedef struct hit {
  int64_t unit;
  int score;
  double fine;
  int approved;
  int64_t updated;
  uint32_t lang; /* of the doc */
  uint32_t doc;
} hit;

/* Orders hits best first: score, approved, recency, finer score, id. */
static int hit_cmp(const hit *a, const hit *b) {
  if (a->score != b->score)
    return a->score > b->score ? -1 : 1;
  if (a->approved != b->approved)
    return a->approved > b->approved ? -1 : 1;
  if (a->updated != b->updated)
    return a->updated > b->updated ? -1 : 1;
  if (a->fine != b->fine)
    return a->fine > b->fine ? -1 : 1;
  return a->unit < b->unit ? -1 : a->unit > b->unit;
}

/* A bounded list of the best hits, one per unit. */
typedef struct hits {
  hit *v;
  size_t n, limit;
} hits;

static void hits_offer(hits *h, const hit *x) {
  size_t k;

  for (k = 0; k < h->n; k++)
    if (h->v[k].unit == x->unit) {
      if (hit_cmp(x, &h->v[k]) < 0)
        break;
      return;
    }
  if (k < h->n) {
    /* A better doc of a unit already in: drop the old one. */
    memmove(h->v + k, h->v + k + 1, (h->n - k - 1) * sizeof *h->v);
    h->n--;
  }
  if (h->n == h->limit && hit_cmp(x, &h->v[h->n - 1]) >= 0)
    return;
  k = h->n < h->limit ? h->n++ : h->n - 1;
  while (k > 0 && hit_cmp(x, &h->v[k - 1]) < 0) {
    h->v[k] = h->v[k - 1];
    k--;
  }
  h->v[k] = *x;
}

typedef struct opts {
  char from[TM_LANG_MAX];
  char from_primary[TM_LANG_MAX];
  char (*to)[TM_LANG_MAX];
  size_t nto;
  int min;
  size_t limit;
  int approved_only;
  int exact_lang;
  int64_t memory; /* 0: any */
} opts;

static bool lang_ok(const opts *o, const char *tag) {
  char p[TM_LANG_MAX];

  if (o->exact_lang)
    return strcmp(tag, o->from) == 0;
  tm__lang_primary(tag, p);
  return strcmp(p, o->from_primary) == 0;
}

/* Whether TAG is one of the requested targets. */
static bool target_ok(const opts *o, const char *tag) {
  char p[TM_LANG_MAX], tp[TM_LANG_MAX];

  tm__lang_primary(tag, p);
  for (size_t i = 0; i < o->nto; i++) {
    if (strcmp(o->to[i], tag) == 0)
      return true;
    tm__lang_primary(o->to[i], tp);
    if (!o->exact_lang && strcmp(tp, p) == 0)
      return true;
  }
  return false;
}

/* Per language of the index: may a doc in it match (1), may it be a target
 * (2).  Computed once per search, under the read lock. */
static tm_status lang_flags(const tm__ustate *st, const opts *o,
                            uint8_t **out) {
  uint8_t *f = calloc(st->nlangs + 1, 1);

  if (!f)
    return TM_NOMEM;
  for (uint32_t i = 0; i < st->nlangs; i++) {
    if (lang_ok(o, st->langs[i].tag))
      f[i] |= 1;
    if (!o->nto || target_ok(o, st->langs[i].tag))
      f[i] |= 2;
  }
  *out = f;
  return TM_OK;
}

/* Whether the unit of DOC passes the filters: live, approved if asked, in
 * the memory asked, DOC in the query's language, and some other variant in
 * a target language. */
static bool unit_ok(const tm__ustate *st, const opts *o, const uint8_t *lf,
                    const tm__doc *doc) {
  const tm__unit *u = &st->units[doc->unit];

  if (u->dead || !(lf[doc->lang] & 1) ||
      (o->approved_only && u->status != TM_APPROVED) ||
      (o->memory && u->coll != o->memory))
    return false;
  for (uint32_t k = 0; k < u->nref; k++) {
    const tm__uref *r = &st->refs[u->ref + k];
    const tm__doc *d = &st->groups[r->group].docs[r->doc];
    if (d != doc && !d->dead && (lf[d->lang] & 2))
      return true;
  }
  return false;
}

static tm_status opts_parse(tm_index *idx, tm_db *db, const tm_match_opts *in,
                            opts *o) {
  memset(o, 0, sizeof *o);
  if (!in || !in->from)
    return tm__error(db, TM_INVALID, "the query's language is required");
  if (tm_lang_canonical(in->from, o->from) != TM_OK)
    return tm__error(db, TM_LANG, "invalid language tag \"%s\"", in->from);
  tm__lang_primary(o->from, o->from_primary);
  o->min = in->min > 0 ? (in->min > 100 ? 100 : in->min) : 70;
  o->limit = in->limit ? (in->limit > LIMIT_MAX ? LIMIT_MAX : in->limit) : 5;
  o->approved_only = in->approved_only;
  o->exact_lang = in->exact_lang;
  if (in->nto) {
    if (!in->to)
      return tm__error(db, TM_INVALID, "target languages missing");
    if (!(o->to = calloc(in->nto, sizeof *o->to)))
      return TM_NOMEM;
    o->nto = in->nto;
    for (size_t i = 0; i < in->nto; i++)
      if (!in->to[i] || tm_lang_canonical(in->to[i], o->to[i]) != TM_OK)
        return tm__error(db, TM_LANG, "invalid language tag \"%s\"",
                         in->to[i] ? in->to[i] : "");
  }
  if (in->memory) {
    tm_status s = TM_OK;
    pthread_rwlock_rdlock(&idx->lock);
    for (uint32_t i = 0; i < idx->u->ncolls; i++)
      if (idx->u->colls[i].kind == TM_MEMORY &&
          strcmp(idx->u->colls[i].name, in->memory) == 0)
        o->memory = idx->u->colls[i].id;
    pthread_rwlock_unlock(&idx->lock);
    if (!o->memory) {
      int64_t id;
      /* Made after the index was built and still empty, or unknown. */
      s = tm__collection_id(db, TM_MEMORY, in->memory, false, &id);
      if (s == TM_OK)
        o->memory = id;
      else if (s == TM_NOTFOUND)
        s = tm__error(db, TM_NOTFOUND, "no memory \"%s\"", in->memory);
    }
    return s;
  }
  return TM_OK;
}

/* Validates, normalises and folds QUERY. */
static tm_status query_text(tm_db *db, const char *query, const char *lang,
                            char **nfc, char **fold) {
  size_t len, bad;
  tm_status s;

  *nfc = *fold = NULL;
  if (!query)
    return tm__error(db, TM_INVALID, "the query is required");
  len = strlen(query);
  if (len > TM_TEXT_MAX)
    return tm__error(db, TM_TOOBIG, "the query is longer than %u bytes",
                     TM_TEXT_MAX);
  if ((s = tm_text_nfc(db->text, query, len, nfc, &bad)) != TM_OK)
    return s == TM_UTF8 ? tm__error(db, s, "invalid UTF-8 at byte %zu", bad)
                        : s;
  if ((s = tm_text_fold(db->text, lang, *nfc, strlen(*nfc), fold)) != TM_OK) {
    free(*nfc);
    *nfc = NULL;
  }
  return s;
}

static void match_clear(tm_match *m) {
  free(m->memory);
  free(m->source_lang);
  free(m->source);
  for (size_t k = 0; k < m->ntargets; k++) {
    free(m->targets[k].text);
    free(m->targets[k].markup);
  }
  free(m->targets);
  free(m->diffs);
  free(m->origin);
  memset(m, 0, sizeof *m);
}

void tm_match_free(tm_match *m, size_t n) {
  if (!m)
    return;
  for (size_t i = 0; i < n; i++)
    match_clear(&m[i]);
  free(m);
}

/* Picks the variant for target TAG: the same tag, else (unless exact) the
 * first of the same primary language; not SKIP. */
static const tm_variant *pick_target(const tm_unit *u, const char *tag,
                                     const tm_variant *skip, bool exact) {
  char p[TM_LANG_MAX], vp[TM_LANG_MAX];

  for (size_t i = 0; i < u->nvariants; i++)
    if (&u->variants[i] != skip && strcmp(u->variants[i].lang, tag) == 0)
      return &u->variants[i];
  if (exact)
    return NULL;
  tm__lang_primary(tag, p);
  for (size_t i = 0; i < u->nvariants; i++) {
    tm__lang_primary(u->variants[i].lang, vp);
    if (&u->variants[i] != skip && strcmp(vp, p) == 0)
      return &u->variants[i];
  }
  return NULL;
}

static tm_status variant_copy(const tm_variant *src, tm_variant *dst) {
  memset(dst, 0, sizeof *dst);
  strcpy(dst->lang, src->lang);
  if (!(dst->text = tm__strdup(src->text)) ||
      (src->markup && !(dst->markup = tm__strdup(src->markup)))) {
    free(dst->text);
    return TM_NOMEM;
  }
  return TM_OK;
}

/* Reads unit H->unit from DB into M (source in SRC_LANG, targets as asked).
 * TM_NOTFOUND when it went away meanwhile. */
static tm_status fill_match(tm_db *db, const opts *o, const hit *h,
                            const char *src_lang, tm_match *m) {
  sqlite3_stmt *q = tm__stmt(db, TM__STMT_IDX_UNIT_ROW);
  tm_unit u = {0};
  const tm_variant *src;
  bool oom = false;
  tm_status s = TM_OK;
  int rc;

  memset(m, 0, sizeof *m);
  if (!q)
    return TM_DB;
  sqlite3_bind_int64(q, 1, h->unit);
  rc = sqlite3_step(q);
  if (rc == SQLITE_ROW) {
    m->status = (tm_record_status)sqlite3_column_int(q, 0);
    m->origin = tm__column_strdup(q, 1, &oom);
    m->updated = sqlite3_column_int64(q, 2);
    m->memory = tm__column_strdup(q, 3, &oom);
  }
  sqlite3_reset(q);
  if (rc != SQLITE_ROW)
    return rc == SQLITE_DONE ? TM_NOTFOUND : tm__sql_error(db);
  if (oom)
    return TM_NOMEM;
  m->unit = h->unit;
  m->score = h->score;
  /* tm_unit_get would read the props too; the variants are enough. */
  if (!(q = tm__stmt(db, TM__STMT_VARIANT_LIST)))
    return TM_DB;
  sqlite3_bind_int64(q, 1, h->unit);
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    tm_variant *v = realloc(u.variants, (u.nvariants + 1) * sizeof *v);
    if (!v) {
      s = TM_NOMEM;
      break;
    }
    u.variants = v;
    v += u.nvariants++;
    memset(v, 0, sizeof *v);
    snprintf(v->lang, TM_LANG_MAX, "%s", sqlite3_column_text(q, 0));
    v->text = tm__column_strdup(q, 1, &oom);
    v->markup = tm__column_strdup(q, 2, &oom);
  }
  sqlite3_reset(q);
  if (s == TM_OK && oom)
    s = TM_NOMEM;
  if (s == TM_OK && rc != SQLITE_DONE)
    s = tm__sql_error(db);
  if (s != TM_OK)
    goto out;
  src = NULL;
  for (size_t i = 0; i < u.nvariants && !src; i++)
    if (strcmp(u.variants[i].lang, src_lang) == 0)
      src = &u.variants[i];
  if (!src) {
    s = TM_NOTFOUND;
    goto out;
  }
  if (!(m->source_lang = tm__strdup(src->lang)) ||
      !(m->source = tm__strdup(src->text)) ||
      !(m->targets =
            calloc(o->nto ? o->nto : u.nvariants, sizeof *m->targets))) {
    s = TM_NOMEM;
    goto out;
  }
  if (o->nto) {
    for (size_t i = 0; i < o->nto && s == TM_OK; i++) {
      const tm_variant *t = pick_target(&u, o->to[i], src, o->exact_lang);
      bool dup = false;
      for (size_t k = 0; t && k < m->ntargets; k++)
        dup = dup || strcmp(m->targets[k].lang, t->lang) == 0;
      if (t && !dup && (s = variant_copy(t, &m->targets[m->ntargets])) == TM_OK)
        m->ntargets++;
    }
  } else {
    for (size_t i = 0; i < u.nvariants && s == TM_OK; i++)
      if (&u.variants[i] != src &&
          (s = variant_copy(&u.variants[i], &m->targets[m->ntargets])) == TM_OK)
        m->ntargets++;
  }
out:
  tm__unit_clear(&u);
  return s;
}

/* Turns the hits into matches (the caller's array), reading each unit;
 * with DIFFS, the spans that differ from query NFC. */
static tm_status finish(tm_db *db, const opts *o, const hit *hv,
                        char (*langs)[TM_LANG_MAX], size_t nh, const char *nfc,
                        bool diffs, tm_match **out, size_t *n) {
  tm_match *m = NULL;
  atext qa = {0};
  size_t k = 0;
  tm_status s = TM_OK;

  if (nh == 0)
    return TM_OK;
  if (!(m = calloc(nh, sizeof *m)))
    return TM_NOMEM;
  if (diffs && (s = atext_init(&qa, db->text, nfc, strlen(nfc))) != TM_OK)
    goto fail;
  for (size_t i = 0; i < nh; i++) {
    s = fill_match(db, o, &hv[i], langs[i], &m[k]);
    if (s == TM_NOTFOUND) {
      /* deleted since the search: leave it out */
      match_clear(&m[k]);
      s = TM_OK;
      continue;
    }
    k++;
    if (s != TM_OK)
      goto fail;
    if (diffs) {
      atext sa;
      tm_match *r = &m[k - 1];
      s = atext_init(&sa, db->text, r->source, strlen(r->source));
      if (s == TM_OK)
        s = compute_diffs(&qa, &sa, &r->diffs, &r->ndiffs);
      atext_free(&sa);
      if (s != TM_OK)
        goto fail;
    }
  }
  atext_free(&qa);
  if (k == 0) {
    free(m);
    return TM_OK;
  }
  *out = m;
  *n = k;
  return TM_OK;
fail:
  atext_free(&qa);
  tm_match_free(m, k);
  return s;
}

/* -------------------------------------------------------- tm_match_find */

tm_status tm_match_find(tm_index *idx, tm_db *db, const char *query_s,
                        const tm_match_opts *in, tm_match **out, size_t *n) {
  qctx q = {0};
  opts o;
  cand *cands = NULL;
  size_t ncands = 0;
  uint32_t counted = 0;
  hits h = {0};
  char *nfc = NULL;
  char(*langs)[TM_LANG_MAX] = NULL;
  uint8_t *lf = NULL;
  tm_status s;
  bool locked = false;

  *out = NULL;
  *n = 0;
  tm__clear_error(db);
  if (!idx)
    return tm__error(db, TM_INVALID, "no index");
  if ((s = opts_parse(idx, db, in, &o)) != TM_OK)
    goto done;
  if ((s = query_text(db, query_s, o.from, &nfc, &q.fold)) != TM_OK)
    goto done;
  q.nfc = nfc;
  q.nfc_len = strlen(nfc);
  if (!*q.fold)
    goto done; /* nothing but whitespace: nothing to match */
  if ((s = tm__prep_text(&q.prep, q.fold, strlen(q.fold))) != TM_OK)
    goto done;
  if (q.prep.ncore > QUERY_TOKENS_MAX) {
    s = tm__error(db, TM_TOOBIG, "the query has more than %d words",
                  QUERY_TOKENS_MAX);
    goto done;
  }
  h.limit = o.limit;
  if (!(h.v = calloc(h.limit + 1, sizeof *h.v))) {
    s = TM_NOMEM;
    goto done;
  }

  pthread_rwlock_rdlock(&idx->lock);
  locked = true;
  {
    const tm__ustate *st = idx->u;
    const tm__group *g = tm__ustate_group(st, o.from);
    if (!g)
      goto unlock;
    if ((s = query_bind(&q, g)) != TM_OK ||
        (s = query_counts(&q, db)) != TM_OK ||
        (s = lang_flags(st, &o, &lf)) != TM_OK ||
        (s = gather(&q, o.min, &cands, &ncands, &counted)) != TM_OK ||
        (s = add_exact(&q, counted, &cands, &ncands)) != TM_OK)
      goto unlock;
    /*
     * A bound on the score before any scoring.  An operation of cost c
     * breaks at most R * c of the query's grams: a character's two
     * bigrams (R = 2), a number's one gram, a one-letter word's one
     * trigram, a longer word's l trigrams for a whole replacement or, for
     * a close spelling (cost e / max(l, l') with 2e < max(l, l')), at most
     * 3e of them, under 4l per unit of cost.  So d >= (grams - shared) / R
     * with R the largest over the query's tokens.
     */
    double rmax = 1;
    for (uint32_t i = 0; i < q.n; i++) {
      double r = q.w[i].cls == TM__TK_CHAR  ? 2
                 : q.w[i].cls == TM__TK_NUM ? 1
                 : q.w[i].ncp == 1          ? 1
                                            : 4.0 * q.w[i].ncp;
      if (r > rmax)
        rmax = r;
    }
    for (size_t c = 0; c < ncands; c++) {
      const tm__doc *d;
      uint32_t l = cands[c].ntok > q.n ? cands[c].ntok : q.n;
#if defined(__GNUC__)
      /* The docs and their tokens are scattered: ask for them ahead. */
      if (c + 8 < ncands)
        __builtin_prefetch(&g->docs[cands[c + 8].doc]);
      if (c + 4 < ncands)
        __builtin_prefetch(g->toks + g->docs[cands[c + 4].doc].tok);
#endif
      double dist, dmax = (1.0 - o.min / 100.0) * l;
      hit x;
      if (q.n && counted >= cands[c].count) {
        /* only the grams counted: each of those missing is missing */
        double lb = (counted - cands[c].count) / rmax;
        int ub = lb > 1e-9 ? changed_score(lb, l) : 100;
        if (lb > dmax + 1e-9 || ub < o.min ||
            (h.n == h.limit && ub < h.v[h.n - 1].score))
          continue;
      }
      d = &g->docs[cands[c].doc];
      if (d->dead || !(lf[d->lang] & 1))
        continue;
      if ((s = core_distance(&q, g->toks + d->tok, d->ntok, dmax, &dist)) !=
          TM_OK)
        goto unlock;
      if (dist > dmax + 1e-9 || !unit_ok(st, &o, lf, d))
        continue;
      x.unit = st->units[d->unit].id;
      x.approved = st->units[d->unit].status == TM_APPROVED;
      x.updated = st->units[d->unit].updated;
      x.lang = d->lang;
      x.doc = cands[c].doc;
      x.fine = l ? 100.0 * (1.0 - dist / l) : 100.0;
      if (dist > 1e-9) {
        x.score = changed_score(dist, l);
      } else if (d->text_len == q.nfc_len &&
                 memcmp(g->arena + d->text, q.nfc, q.nfc_len) == 0) {
        x.score = 100;
      } else {
        x.score = 100 - format_penalty(q.nfc, q.nfc_len, g->arena + d->text,
                                       d->text_len, &q.tq, &q.ts);
        x.fine = x.score;
      }
      if (x.score >= o.min)
        hits_offer(&h, &x);
    }
    if (h.n && !(langs = malloc(h.n * sizeof *langs))) {
      s = TM_NOMEM;
      goto unlock;
    }
    for (size_t i = 0; i < h.n; i++)
      strcpy(langs[i], st->langs[h.v[i].lang].tag);
  }
unlock:
  pthread_rwlock_unlock(&idx->lock);
  locked = false;
  if (s == TM_OK)
    s = finish(db, &o, h.v, langs, h.n, nfc, true, out, n);
done:
  if (locked)
    pthread_rwlock_unlock(&idx->lock);
  free(langs);
  free(lf);
  free(h.v);
  free(cands);
  free(nfc);
  free(o.to);
  query_free(&q);
  return s;
}

/* ----------------------------------------------------------- concordance */

/* What a concordance query asks for: words (found at the start of a word of
 * the text) and runs of unspaced characters (found anywhere, whitespace
 * ignored). */
typedef struct cpart {
  bool chars;
  const char *s; /* in the folded query; for chars, whitespace removed */
  size_t len;
  uint32_t ncp;
} cpart;

/* Whether the character before byte AT of S belongs to a word (a letter,
 * digit or mark, or an apostrophe after one: Sana'a is one word). */
static bool word_char_before(const char *s, size_t at) {
  for (int step = 0; step < 2 && at > 0; step++) {
    size_t i = at - 1, b;
    int k;
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
      i--;
    b = i;
    k = classify(tm__utf8_next(s, &i));
    if (k == C_LETTER || k == C_DIGIT || k == C_MARK)
      return true;
    if (k != C_APOS)
      return false;
    at = b;
  }
  return false;
}

/* Whether the folded text F (and NS, F without whitespace) has PART: 0
 * no, 1 as the start of a word only, 2 as a whole word (or, for a run of
 * unspaced characters, anywhere). */
static int has_part(const char *f, size_t flen, const char *ns, size_t nslen,
                    const cpart *p) {
  int found = 0;

  if (p->chars)
    return memmem(ns, nslen, p->s, p->len) != NULL ? 2 : 0;
  for (const char *at = f;
       (at = memmem(at, flen - (size_t)(at - f), p->s, p->len)) != NULL; at++) {
    size_t end = (size_t)(at - f) + p->len, i = end;
    if (word_char_before(f, (size_t)(at - f)))
      continue;
    found = 1;
    if (end == flen)
      return 2;
    {
      int k = classify(tm__utf8_next(f, &i));
      if (k != C_LETTER && k != C_DIGIT && k != C_MARK)
        return 2;
    }
  }
  return found;
}

static size_t strip_spaces(const char *s, size_t len, char *out) {
  size_t k = 0;
  for (size_t i = 0; i < len; i++)
    if (s[i] != ' ')
      out[k++] = s[i];
  out[k] = '\0';
  return k;
}

/* Intersects sorted V[0..*n) with sorted P[0..np). */
static void intersect(uint32_t *v, size_t *n, const uint32_t *p, uint32_t np) {
  size_t k = 0;
  uint32_t at = 0;
  for (size_t i = 0; i < *n; i++) {
    /* galloping would pay on very uneven lists; these are short */
    at = at + lower_bound(p + at, np - at, v[i]);
    if (at < np && p[at] == v[i])
      v[k++] = v[i];
  }
  *n = k;
}

/* A highlight being gathered: code points and the tokens they cover. */
typedef struct hspan {
  tm_span sp;
  size_t t0, t1;
} hspan;

/* The highlight spans of the parts in source text S: each occurrence, then
 * overlapping ones and ones on neighbouring tokens merged. */
static tm_status highlight(tm_text *text, const char *s, const cpart *parts,
                           size_t nparts, tm_span **out, size_t *n) {
  atext a;
  hspan *v = NULL;
  tm_span *r = NULL;
  size_t nv = 0, cap = 0;
  bool ok = true;
  tm_status st = atext_init(&a, text, s, strlen(s));

  *out = NULL;
  *n = 0;
  for (size_t p = 0; st == TM_OK && p < nparts; p++) {
    const cpart *pt = &parts[p];
    for (size_t k = 0; k < a.toks.n; k++) {
      size_t flen, used = 0, e = k;
      const char *f = afold(&a, k, &flen);
      hspan h;
      if (a.toks.v[k].cls == TM__TK_PUNCT)
        continue;
      if (!pt->chars) {
        if (flen < pt->len || memcmp(f, pt->s, pt->len) != 0)
          continue;
        h.sp.start = a.toks.v[k].c0;
        h.sp.end = h.sp.start + pt->ncp;
        if (h.sp.end > a.toks.v[k].c1)
          h.sp.end = a.toks.v[k].c1;
        h.t0 = h.t1 = k;
      } else {
        /* consecutive tokens spelling the run */
        while (e < a.toks.n && used < pt->len) {
          f = afold(&a, e, &flen);
          if (flen > pt->len - used || memcmp(f, pt->s + used, flen) != 0)
            break;
          used += flen;
          e++;
        }
        if (used != pt->len)
          continue;
        h.sp.start = a.toks.v[k].c0;
        h.sp.end = a.toks.v[e - 1].c1;
        h.t0 = k;
        h.t1 = e - 1;
      }
      GROW(v, cap, nv + 1, ok);
      if (!ok) {
        st = TM_NOMEM;
        break;
      }
      v[nv++] = h;
    }
  }
  atext_free(&a);
  if (st == TM_OK && nv && !(r = malloc(nv * sizeof *r)))
    st = TM_NOMEM;
  if (st != TM_OK) {
    free(v);
    return st;
  }
  for (size_t i = 1; i < nv; i++)
    for (size_t j = i; j > 0 && v[j].t0 < v[j - 1].t0; j--) {
      hspan t = v[j];
      v[j] = v[j - 1];
      v[j - 1] = t;
    }
  if (nv) {
    size_t k = 0;
    for (size_t i = 1; i < nv; i++) {
      if (v[i].t0 <= v[k].t1 + 1) {
        if (v[i].sp.end > v[k].sp.end)
          v[k].sp.end = v[i].sp.end;
        if (v[i].t1 > v[k].t1)
          v[k].t1 = v[i].t1;
      } else {
        v[++k] = v[i];
      }
    }
    nv = k + 1;
    for (size_t i = 0; i < nv; i++)
      r[i] = v[i].sp;
  }
  free(v);
  *out = r;
  *n = nv;
  return TM_OK;
}

tm_status tm_concordance_find(tm_index *idx, tm_db *db, const char *query_s,
                              const tm_match_opts *in, tm_match **out,
                              size_t *n) {
  opts o;
  char *nfc = NULL, *fold = NULL, *qns = NULL, *partbuf = NULL, *dns = NULL;
  size_t qnslen = 0, dnscap = 0, nparts = 0;
  tm__prep prep = {0};
  cpart *parts = NULL;
  uint64_t *need = NULL;
  size_t nneed = 0, needcap = 0;
  uint32_t *cv = NULL;
  size_t ncv = 0;
  hits h = {0};
  char(*langs)[TM_LANG_MAX] = NULL;
  uint32_t *cps = NULL;
  uint8_t *lf = NULL;
  tm_status s;
  bool ok = true;

  *out = NULL;
  *n = 0;
  tm__clear_error(db);
  if (!idx)
    return tm__error(db, TM_INVALID, "no index");
  if ((s = opts_parse(idx, db, in, &o)) != TM_OK)
    goto done;
  if ((s = query_text(db, query_s, o.from, &nfc, &fold)) != TM_OK ||
      (s = tm__prep_text(&prep, fold, strlen(fold))) != TM_OK)
    goto done;
  {
    size_t flen = strlen(fold);
    if (!(qns = malloc(flen + 1)) || !(partbuf = malloc(flen + 1)) ||
        !(parts = calloc(prep.toks.n + 1, sizeof *parts)) ||
        !(cps = malloc((flen + 1) * sizeof *cps))) {
      s = TM_NOMEM;
      goto done;
    }
    qnslen = strip_spaces(fold, flen, qns);
  }
  /* The parts: each word; each run of unspaced characters between
   * whitespace (or other tokens). */
  {
    size_t pb = 0;
    for (size_t k = 0; k < prep.toks.n; k++) {
      const tm__tok *t = &prep.toks.v[k];
      cpart *p;
      if (t->cls == TM__TK_PUNCT)
        continue;
      if (t->cls == TM__TK_CHAR && nparts && parts[nparts - 1].chars &&
          !t->space && k > 0 && prep.toks.v[k - 1].cls == TM__TK_CHAR) {
        p = &parts[nparts - 1];
        memcpy(partbuf + pb, fold + t->b0, t->b1 - t->b0);
        pb += t->b1 - t->b0;
        p->len += t->b1 - t->b0;
        p->ncp++;
        continue;
      }
      p = &parts[nparts++];
      p->chars = t->cls == TM__TK_CHAR;
      p->s = partbuf + pb;
      p->len = t->b1 - t->b0;
      p->ncp = 1;
      memcpy(partbuf + pb, fold + t->b0, p->len);
      pb += p->len;
      if (!p->chars)
        p->ncp = (uint32_t)tm__utf8_count(p->s, p->len);
    }
  }
  if (nparts == 0)
    goto done;
  /* The grams every hit must have. */
  for (size_t k = 0; k < nparts; k++) {
    const cpart *p = &parts[k];
    size_t nc = tm__utf8_decode(p->s, p->len, cps);
    GROW(need, needcap, nneed + nc + 2, ok);
    if (!ok) {
      s = TM_NOMEM;
      goto done;
    }
    if (p->chars) {
      for (size_t i = 0; i + 1 < nc; i++)
        need[nneed++] = TM__GK_BI(cps[i], cps[i + 1]);
    } else if (cps[0] >= '0' && cps[0] <= '9') {
      need[nneed++] = TM__GK_TRI(' ', '0', ' ');
    } else if (nc >= 2) {
      need[nneed++] = TM__GK_TRI(' ', cps[0], cps[1]);
      for (size_t i = 0; i + 2 < nc; i++)
        need[nneed++] = TM__GK_TRI(cps[i], cps[i + 1], cps[i + 2]);
    }
  }
  h.limit = o.limit;
  if (!(h.v = calloc(h.limit + 1, sizeof *h.v))) {
    s = TM_NOMEM;
    goto done;
  }

  pthread_rwlock_rdlock(&idx->lock);
  {
    const tm__ustate *st = idx->u;
    const tm__group *g = tm__ustate_group(st, o.from);
    const uint32_t **lists = NULL;
    uint32_t *lens = NULL;
    size_t nl = 0;
    bool all = nneed == 0, none = false;

    if (!g)
      goto unlock;
    if ((s = lang_flags(st, &o, &lf)) != TM_OK)
      goto unlock;
    if (nneed) {
      if (!(lists = malloc(nneed * sizeof *lists)) ||
          !(lens = malloc(nneed * sizeof *lens))) {
        free(lists);
        s = TM_NOMEM;
        goto unlock;
      }
      for (size_t k = 0; k < nneed; k++) {
        lists[nl] = tm__group_postings(g, need[k], &lens[nl]);
        if (!lists[nl])
          none = true;
        nl++;
      }
      /* The shortest list first. */
      for (size_t k = 1; k < nl; k++)
        for (size_t j = k; j > 0 && lens[j] < lens[j - 1]; j--) {
          const uint32_t *tp = lists[j];
          uint32_t tl = lens[j];
          lists[j] = lists[j - 1];
          lens[j] = lens[j - 1];
          lists[j - 1] = tp;
          lens[j - 1] = tl;
        }
      if (!none && nl) {
        if (!(cv = malloc(((size_t)lens[0] + 1) * sizeof *cv))) {
          s = TM_NOMEM;
        } else {
          memcpy(cv, lists[0], (size_t)lens[0] * sizeof *cv);
          ncv = lens[0];
          for (size_t k = 1; k < nl && ncv; k++)
            intersect(cv, &ncv, lists[k], lens[k]);
        }
      }
      free(lists);
      free(lens);
      if (s != TM_OK)
        goto unlock;
    }
    /*
     * Main docs from the lists (or all when no part has a gram), in order
     * of token count, then the delta.  Rank: the tier (2: the whole query
     * in order, whitespace ignored; 1: every word part a whole word), then
     * the share of the segment's tokens the query covers, which only falls
     * along the main docs: once the list is full of top-tier hits covering
     * more than the current doc can, no later main doc can enter it.
     */
    {
      size_t total = all ? g->nmain : ncv;
      uint32_t qtok = (uint32_t)prep.ncore ? (uint32_t)prep.ncore : 1;
      for (size_t c = 0; c < total + (g->ndocs - g->nmain); c++) {
        uint32_t d = c >= total ? g->nmain + (uint32_t)(c - total)
                     : all      ? (uint32_t)c
                                : cv[c];
        const tm__doc *doc = &g->docs[d];
        const char *f = g->arena + doc->fold;
        size_t nslen;
        int tier = 3, cov;
        hit x;
        cov = doc->ntok ? (int)(100u * (qtok < doc->ntok ? qtok : doc->ntok) /
                                doc->ntok)
                        : 100;
        if (c < total && h.n == h.limit && h.v[h.n - 1].score / 1000 == 3 &&
            cov < h.v[h.n - 1].score % 1000)
          c = total - 1; /* nothing further in the main segment */
        if (c >= total && c - total >= g->ndocs - g->nmain)
          break;
        if (doc->dead || !unit_ok(st, &o, lf, doc))
          continue;
        GROW(dns, dnscap, (size_t)doc->fold_len + 1, ok);
        if (!ok) {
          s = TM_NOMEM;
          goto unlock;
        }
        nslen = strip_spaces(f, doc->fold_len, dns);
        for (size_t k = 0; k < nparts && tier; k++) {
          int found = has_part(f, doc->fold_len, dns, nslen, &parts[k]);
          if (!found)
            tier = 0;
          else if (found == 1)
            tier &= ~1;
        }
        if (!tier)
          continue;
        if (!memmem(dns, nslen, qns, qnslen))
          tier &= ~2;
        x.unit = st->units[doc->unit].id;
        x.approved = st->units[doc->unit].status == TM_APPROVED;
        x.updated = st->units[doc->unit].updated;
        x.lang = doc->lang;
        x.doc = d;
        x.fine = cov;
        x.score = tier * 1000 + (cov < 1 ? 1 : cov);
        hits_offer(&h, &x);
      }
    }
    if (h.n && !(langs = malloc(h.n * sizeof *langs))) {
      s = TM_NOMEM;
      goto unlock;
    }
    for (size_t i = 0; i < h.n; i++) {
      strcpy(langs[i], st->langs[h.v[i].lang].tag);
      h.v[i].score %= 1000;
    }
  }
unlock:
  pthread_rwlock_unlock(&idx->lock);
  if (s == TM_OK && h.n) {
    /* Highlights come from the text the database gives back. */
    tm_match *m = NULL;
    size_t nm = 0;
    s = finish(db, &o, h.v, langs, h.n, nfc, false, &m, &nm);
    for (size_t i = 0; s == TM_OK && i < nm; i++) {
      tm_span *sp;
      size_t nsp;
      if ((s = highlight(db->text, m[i].source, parts, nparts, &sp, &nsp)) !=
          TM_OK)
        break;
      free(m[i].diffs);
      m[i].diffs = calloc(nsp ? nsp : 1, sizeof *m[i].diffs);
      if (!m[i].diffs) {
        free(sp);
        s = TM_NOMEM;
        break;
      }
      for (size_t j = 0; j < nsp; j++) {
        m[i].diffs[j].op = (tm_diff_op)0;
        m[i].diffs[j].source = sp[j];
        m[i].diffs[j].query = (tm_span){UINT32_MAX, UINT32_MAX};
      }
      m[i].ndiffs = nsp;
      free(sp);
    }
    if (s == TM_OK) {
      *out = m;
      *n = nm;
    } else {
      tm_match_free(m, nm);
    }
  }
done:
  free(langs);
  free(h.v);
  free(cv);
  free(need);
  free(parts);
  free(partbuf);
  free(qns);
  free(dns);
  free(cps);
  free(lf);
  free(nfc);
  free(fold);
  free(o.to);
  tm__prep_free(&prep);
  return s;
}
