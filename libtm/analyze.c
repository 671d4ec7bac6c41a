/*
 * analyze.c - document analysis: a document's words and sentences, the
 * glossary terms it uses, and the memory match of each sentence; the
 * candidate new terms come from candidates.c, the plain text of Markdown
 * and HTML from markup.c, the prep sheet from prep.c.  docs/analyze.md
 * states the rules; keep the two in step.
 *
 * Term recognition works on words (ICU's word breaks), never on
 * characters, so that a term cannot match inside a longer word.  Each word
 * has keys: its folded form stemmed by term search's own rules
 * (tm__stem_word: English plurals and possessives, Ukrainian case
 * endings), its case-exact form when it has capitals (abbreviations match
 * only as written: "CAT" is not "cat"), without a particle for Hangul
 * (tm__particle_cuts), and joined with the next one or two words (spacing
 * variants: "non refoulement", "전쟁 포로를").  The glossary's terms of the
 * document's language, read from SQLite for each analysis, become a trie
 * whose edges are such keys, with the punctuation between two words as
 * part of the edge ("GC III Art. 13"), so a term may be split by any white
 * space with at most one line break but not by other punctuation.  The text
 * is read left to right; at each word the longest term that starts there
 * wins.
 */
#include "analyze_internal.h"
#include "match_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unicode/uchar.h>

/* Longest term recognised, in words. */
#define DEPTH_MAX 24
/* Particle cuts tried per Hangul word. */
#define CUTS_MAX 4
#define CANDIDATES_DEFAULT 100
#define CANDIDATES_MAX 10000
/* Sentences longer than this (bytes) are not looked up in the memories. */
#define SENTENCE_MATCH_MAX 4000
/* The edge label between a gap key and a word key. */
#define SEP '\x1f'
/* Root labels of this prefix mark the capitalised words of multi-word
 * names in the glossaries ("\x02putin" for Vladimir Putin); they lead to
 * nodes without terms. */
#define NAME_MARK '\x02'

/* ------------------------------------------------------------- formats */

tm_status tm_input_format_parse(const char *s, tm_input_format *out) {
  static const struct {
    const char *name;
    tm_input_format f;
  } names[] = {
      {"txt", TM_INPUT_PLAIN},         {"text", TM_INPUT_PLAIN},
      {"plain", TM_INPUT_PLAIN},       {"md", TM_INPUT_MARKDOWN},
      {"markdown", TM_INPUT_MARKDOWN}, {"html", TM_INPUT_HTML},
      {"htm", TM_INPUT_HTML},          {"xhtml", TM_INPUT_HTML},
  };

  for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++)
    if (strcasecmp(s, names[i].name) == 0) {
      *out = names[i].f;
      return TM_OK;
    }
  return TM_INVALID;
}

tm_status tm_input_format_from_path(const char *path, tm_input_format *out) {
  const char *dot = path ? strrchr(path, '.') : NULL;

  if (!dot || strchr(dot, '/'))
    return TM_INVALID;
  return tm_input_format_parse(dot + 1, out);
}

const char *tm_candidate_kind_name(tm_candidate_kind k) {
  switch (k) {
  case TM_CANDIDATE_ACRONYM:
    return "acronym";
  case TM_CANDIDATE_NAME:
    return "name";
  case TM_CANDIDATE_PHRASE:
    return "phrase";
  }
  return "unknown";
}

/* --------------------------------------------------------------- arena */

tm_status tm__actx_put(tm__actx *x, const char *s, size_t n, tm__str *out) {
  /* S may be in the arena itself (a word's fold cut short): growing the
   * arena moves it. */
  bool ok = true, inside = x->arena && s >= x->arena && s < x->arena + x->alen;
  size_t at = inside ? (size_t)(s - x->arena) : 0;

  GROW(x->arena, x->acap, x->alen + n + 1, ok);
  if (!ok || x->alen + n + 1 > UINT32_MAX)
    return TM_NOMEM;
  if (inside)
    s = x->arena + at;
  memcpy(x->arena + x->alen, s, n);
  x->arena[x->alen + n] = '\0';
  out->off = (uint32_t)x->alen;
  out->len = (uint32_t)n;
  x->alen += n + 1;
  return TM_OK;
}

/* --------------------------------------------------------------- words */

static bool is_blank(uint32_t c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' ||
         c == 0xA0 || c == 0x200B || c == 0xFEFF ||
         u_hasBinaryProperty((UChar32)c, UCHAR_WHITE_SPACE);
}

static bool is_hyphen(uint32_t c) {
  return c == '-' || c == 0x2010 || c == 0x2011 || c == 0xAD;
}

static bool is_apostrophe(uint32_t c) {
  return c == '\'' || c == 0x2019 || c == 0x2018 || c == 0x02BC ||
         c == 0x02B9 || c == 0x0060 || c == 0x00B4 || c == 0x2032 ||
         c == 0xFF07;
}

/* Characters after which a capital proves nothing. */
static bool starts_clause(uint32_t c) {
  return c == ':' || c == 0x2014 || c == 0x2013 || c == '"' || c == 0x201C ||
         c == 0x201D || c == 0xAB || c == 0xBB || c == 0x2022 || c == '*' ||
         c == '#' || c == '|';
}

/* Classifies S[a..b), the text between two words, into its key and kind;
 * *clause when it holds a character after which a capital proves
 * nothing. */
static tm_status gap_of(tm__actx *x, const char *s, size_t a, size_t b,
                        tm__word *w, bool *clause) {
  char key[64];
  size_t k = 0, i = a;
  int newlines = 0;
  bool hyphen = false;

  *clause = false;
  while (i < b) {
    size_t at = i;
    uint32_t c = tm__utf8_next(s, &i);
    if (c == '\n' || c == 0x85 || c == 0x2028)
      newlines++;
    else if (c == 0x2029)
      newlines += 2;
    else if (is_blank(c))
      continue;
    else if (is_hyphen(c))
      hyphen = true;
    else {
      if (starts_clause(c))
        *clause = true;
      if (is_apostrophe(c)) {
        if (k < sizeof key)
          key[k++] = '\'';
      } else if (k + (i - at) <= sizeof key) {
        memcpy(key + k, s + at, i - at);
        k += i - at;
      }
    }
  }
  w->gapkind = newlines >= 2 ? TM__GAP_BREAK
               : k           ? TM__GAP_PUNCT
               : hyphen      ? TM__GAP_HYPHEN
                             : TM__GAP_SPACE;
  if (!k) {
    w->gap.off = w->gap.len = 0;
    return TM_OK;
  }
  return tm__actx_put(x, key, k, &w->gap);
}

/* Flags of the word S[0..n): case of its first letter, capitals, script. */
static uint8_t word_flags(const char *s, size_t n, size_t *upper_count) {
  size_t i = 0, upper = 0, lower = 0, last_lower_at = 0;
  uint32_t c = 0, first = 0;
  uint8_t f = 0;
  bool seen_letter = false;

  while (i < n) {
    size_t at = i;
    c = tm__utf8_next(s, &i);
    if (!seen_letter && (u_isalpha((UChar32)c) || u_isdigit((UChar32)c))) {
      first = c;
      seen_letter = true;
    }
    if (u_isupper((UChar32)c) || u_istitle((UChar32)c))
      upper++;
    else if (u_islower((UChar32)c)) {
      lower++;
      last_lower_at = at;
    }
  }
  if (u_isupper((UChar32)first) || u_istitle((UChar32)first))
    f |= TM__W_CAP;
  else if (u_islower((UChar32)first))
    f |= TM__W_LOWER;
  else if (u_isdigit((UChar32)first))
    f |= TM__W_NUM;
  /* Two capitals and at most one small letter (LiNK, PoW), a plural s
   * aside (NGOs); UpRights and CNNThe are no acronyms. */
  if (lower && n >= 2 && s[n - 1] == 's' && last_lower_at == n - 1)
    lower--;
  if (upper >= 2 && lower <= 1)
    f |= TM__W_ACRO;
  if (c >= 0xAC00 && c <= 0xD7A3)
    f |= TM__W_HANGUL;
  if (n >= 3 && s[n - 1] == 's' &&
      (s[n - 2] == '\'' ||
       (n >= 4 && memcmp(s + n - 4, "\xE2\x80\x99", 3) == 0)))
    f |= TM__W_POSS;
  *upper_count = upper;
  return f;
}

/* The case-exact key of the word S[0..n): "\x01", the word without a
 * possessive 's and without a plural s after a capital (POWs: POW). */
static tm_status exact_key(tm__actx *x, const char *s, size_t n, tm__str *out) {
  char buf[256];

  if (n >= 3 && s[n - 1] == 's' && s[n - 2] == '\'')
    n -= 2;
  else if (n >= 5 && s[n - 1] == 's' &&
           memcmp(s + n - 4, "\xE2\x80\x99", 3) == 0)
    n -= 4;
  else if (n >= 3 && s[n - 1] == 's' && s[n - 2] >= 'A' && s[n - 2] <= 'Z')
    n--;
  if (n + 1 >= sizeof buf) {
    out->off = out->len = 0;
    return TM_OK;
  }
  buf[0] = '\x01';
  memcpy(buf + 1, s, n);
  return tm__actx_put(x, buf, n + 1, out);
}

/* Stems FOLD[0..n) into the arena. */
static tm_status stem_put(tm__actx *x, const char *fold, size_t n,
                          tm__str *out) {
  char small[256], *buf = n < sizeof small ? small : malloc(n + 1);
  tm_status s;

  if (!buf)
    return TM_NOMEM;
  s = tm__actx_put(x, buf, tm__stem_word(fold, n, buf), out);
  if (buf != small)
    free(buf);
  return s;
}

/* The words of S[0..len) with their keys, gaps and flags; a word with a
 * capital also gets its case-exact key.  UPPERS, when not NULL, receives
 * each word's number of capitals (up to 255). */
static tm_status scan_words(tm__actx *x, tm_text *t, const char *s, size_t len,
                            tm__word **out, size_t *n, uint8_t *uppers) {
  tm_span *spans = NULL;
  size_t ns = 0, bi = 0, prev = 0;
  uint32_t ci = 0;
  tm__word *w = NULL;
  tm_status st;

  *out = NULL;
  *n = 0;
  if ((st = tm_text_words(t, x->lang, s, len, &spans, &ns)) != TM_OK)
    return st;
  if (ns > TM_ANALYZE_MAX_WORDS) {
    free(spans);
    return TM_TOOBIG;
  }
  if (ns && !(w = calloc(ns, sizeof *w))) {
    free(spans);
    return TM_NOMEM;
  }
  for (size_t k = 0; k < ns; k++) {
    tm__word *v = &w[k];
    char *fold = NULL;
    size_t up;
    bool clause;

    while (ci < spans[k].start) {
      tm__utf8_next(s, &bi);
      ci++;
    }
    v->c0 = ci;
    v->b0 = (uint32_t)bi;
    while (ci < spans[k].end) {
      tm__utf8_next(s, &bi);
      ci++;
    }
    v->c1 = ci;
    v->b1 = (uint32_t)bi;
    v->occ = -1;
    if ((st = gap_of(x, s, prev, v->b0, v, &clause)) != TM_OK)
      goto fail;
    if (k == 0)
      v->gapkind = TM__GAP_BREAK;
    prev = v->b1;
    v->flags = word_flags(s + v->b0, v->b1 - v->b0, &up);
    if (clause || v->gapkind == TM__GAP_BREAK)
      v->flags |= TM__W_START;
    if (uppers)
      uppers[k] = (uint8_t)(up > 255 ? 255 : up);
    if ((st = tm_text_fold(t, x->lang, s + v->b0, v->b1 - v->b0, &fold)) !=
        TM_OK)
      goto fail;
    st = tm__actx_put(x, fold, strlen(fold), &v->fold);
    if (st == TM_OK)
      st = stem_put(x, fold, strlen(fold), &v->key);
    free(fold);
    if (st == TM_OK && up)
      st = exact_key(x, s + v->b0, v->b1 - v->b0, &v->exact);
    if (st != TM_OK)
      goto fail;
  }
  free(spans);
  *out = w;
  *n = ns;
  return TM_OK;
fail:
  free(spans);
  free(w);
  return st;
}

/* ---------------------------------------------------------------- trie */

typedef struct terminal {
  int64_t entry;
  uint32_t next;        /* the node's next terminal + 1; 0: none */
  uint32_t body, nbody; /* elliptic: the body's entries in the trie's list */
  uint8_t status, type;
  uint8_t elliptic;   /* "Article 13" for "Article 13 of BODY" */
  uint8_t single_cap; /* one word with one capital, matched as written */
} terminal;

typedef struct edge {
  uint32_t parent, child; /* child 0: empty slot */
  uint32_t off, len;      /* label in the trie's arena */
} edge;

struct trie {
  edge *slots;
  uint32_t mask, nedges;
  uint32_t *first; /* per node: its first terminal + 1 */
  uint32_t nnodes;
  size_t ncap;
  terminal *terms;
  uint32_t nterms;
  size_t tcap;
  int64_t *bodies;
  size_t nbodies, bcap;
  char *arena;
  size_t alen, acap;
};

static uint64_t edge_hash(uint32_t parent, const char *s, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull ^ parent;

  h *= 0x100000001b3ull;
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)s[i];
    h *= 0x100000001b3ull;
  }
  return h ^ (h >> 31);
}

static uint32_t edge_find(const struct trie *t, uint32_t parent, const char *s,
                          size_t n) {
  uint32_t i;

  if (!t->slots)
    return 0;
  i = (uint32_t)edge_hash(parent, s, n) & t->mask;
  for (;; i = (i + 1) & t->mask) {
    const edge *e = &t->slots[i];
    if (!e->child)
      return 0;
    if (e->parent == parent && e->len == n &&
        memcmp(t->arena + e->off, s, n) == 0)
      return e->child;
  }
}

static bool trie_rehash(struct trie *t, uint32_t nslots) {
  edge *slots = calloc(nslots, sizeof *slots);

  if (!slots)
    return false;
  for (uint32_t i = 0; t->slots && i <= t->mask; i++) {
    const edge *e = &t->slots[i];
    uint32_t k;
    if (!e->child)
      continue;
    k = (uint32_t)edge_hash(e->parent, t->arena + e->off, e->len) &
        (nslots - 1);
    while (slots[k].child)
      k = (k + 1) & (nslots - 1);
    slots[k] = *e;
  }
  free(t->slots);
  t->slots = slots;
  t->mask = nslots - 1;
  return true;
}

static tm_status node_new(struct trie *t, uint32_t *id) {
  bool ok = true;

  GROW(t->first, t->ncap, (size_t)t->nnodes + 1, ok);
  if (!ok)
    return TM_NOMEM;
  t->first[t->nnodes] = 0;
  *id = t->nnodes++;
  return TM_OK;
}

/* The child of PARENT along label S[0..n), made when missing. */
static tm_status edge_add(struct trie *t, uint32_t parent, const char *s,
                          size_t n, uint32_t *child) {
  uint32_t c = edge_find(t, parent, s, n), k;
  bool ok = true;
  tm_status st;

  if (c) {
    *child = c;
    return TM_OK;
  }
  if (((size_t)t->nedges + 1) * 2 > (size_t)(t->slots ? t->mask + 1 : 0) &&
      !trie_rehash(t, t->slots ? (t->mask + 1) * 2 : 1024))
    return TM_NOMEM;
  GROW(t->arena, t->acap, t->alen + n, ok);
  if (!ok || t->alen + n > UINT32_MAX)
    return TM_NOMEM;
  if ((st = node_new(t, &c)) != TM_OK)
    return st;
  memcpy(t->arena + t->alen, s, n);
  k = (uint32_t)edge_hash(parent, s, n) & t->mask;
  while (t->slots[k].child)
    k = (k + 1) & t->mask;
  t->slots[k] = (edge){parent, c, (uint32_t)t->alen, (uint32_t)n};
  t->alen += n;
  t->nedges++;
  *child = c;
  return TM_OK;
}

static tm_status terminal_add(struct trie *t, uint32_t node,
                              const terminal *term) {
  bool ok = true;

  /* The same entry twice at one node (POW and PoW) adds nothing. */
  for (uint32_t k = t->first[node]; k; k = t->terms[k - 1].next)
    if (t->terms[k - 1].entry == term->entry &&
        t->terms[k - 1].elliptic == term->elliptic)
      return TM_OK;
  GROW(t->terms, t->tcap, (size_t)t->nterms + 1, ok);
  if (!ok)
    return TM_NOMEM;
  t->terms[t->nterms] = *term;
  t->terms[t->nterms].next = t->first[node];
  t->first[node] = ++t->nterms;
  return TM_OK;
}

static void trie_free(struct trie *t) {
  if (!t)
    return;
  free(t->slots);
  free(t->first);
  free(t->terms);
  free(t->bodies);
  free(t->arena);
  free(t);
}

/* A label buffer: "gap SEP key" below the root, "key" at it. */
typedef struct label {
  char *p;
  size_t n, cap;
} label;

static bool label_set(label *l, const char *gap, size_t gn, const char *key,
                      size_t kn, bool root) {
  size_t need = (root ? 0 : gn + 1) + kn + 1;
  bool ok = true;

  GROW(l->p, l->cap, need, ok);
  if (!ok)
    return false;
  l->n = 0;
  if (!root) {
    memcpy(l->p, gap, gn);
    l->p[gn] = SEP;
    l->n = gn + 1;
  }
  memcpy(l->p + l->n, key, kn);
  l->n += kn;
  return true;
}

/* The root label that marks KEY as a word of a glossary name. */
static bool label_mark(label *l, const char *key, size_t kn) {
  bool ok = true;

  GROW(l->p, l->cap, kn + 2, ok);
  if (!ok)
    return false;
  l->p[0] = NAME_MARK;
  memcpy(l->p + 1, key, kn);
  l->n = kn + 1;
  return true;
}

/* An "Article 13 of the Third Geneva Convention" term waiting for its
 * body's entries to be known. */
typedef struct ellipsis {
  terminal term;
  char **labels; /* head labels, then body labels (the first from the
                    root) */
  size_t nhead, nbody;
} ellipsis;

static void ellipsis_clear(ellipsis *e) {
  for (size_t i = 0; i < e->nhead + e->nbody; i++)
    free(e->labels[i]);
  free(e->labels);
}

typedef struct builder {
  tm__actx *x; /* the analysis (its language) */
  tm__actx tx; /* scratch arena for one term's words */
  label lab;
  ellipsis *ell;
  size_t nell, ellcap;
} builder;

/* Connectors after the head of an elliptic term ("Article 13 of ..."). */
static bool connector(const char *fold, size_t n) {
  return (n == 2 && memcmp(fold, "of", 2) == 0) ||
         (n == 5 && memcmp(fold, "under", 5) == 0) ||
         (n == 2 && memcmp(fold, "to", 2) == 0);
}

static tm_status ellipsis_note(builder *b, const tm__word *w, const bool *exact,
                               size_t nw, const terminal *term) {
  tm__actx *tx = &b->tx;
  size_t c, h, body0;
  bool num = false, ok = true;
  ellipsis *e;

  for (c = 1; c < nw && c <= 6; c++)
    if (w[c].gapkind == TM__GAP_SPACE &&
        connector(tm__s(tx, w[c].fold), w[c].fold.len))
      break;
  if (c >= nw - 1 || c > 6)
    return TM_OK;
  for (h = 0; h < c; h++)
    num = num || (w[h].flags & TM__W_NUM);
  body0 = c + 1;
  if (body0 < nw - 1 && w[body0].fold.len == 3 &&
      memcmp(tm__s(tx, w[body0].fold), "the", 3) == 0)
    body0++;
  if (!num)
    return TM_OK;
  GROW(b->ell, b->ellcap, b->nell + 1, ok);
  if (!ok)
    return TM_NOMEM;
  e = &b->ell[b->nell];
  memset(e, 0, sizeof *e);
  e->term = *term;
  e->term.elliptic = 1;
  e->term.single_cap = 0;
  if (!(e->labels = calloc(c + (nw - body0), sizeof *e->labels)))
    return TM_NOMEM;
  b->nell++;
  for (size_t k = 0; k < nw; k++) {
    bool head = k < c, root = k == 0 || k == body0;
    tm__str key = exact[k] ? w[k].exact : w[k].key;
    if (!head && k < body0)
      continue;
    if (!label_set(&b->lab, tm__s(tx, w[k].gap), w[k].gap.len, tm__s(tx, key),
                   key.len, root) ||
        !(e->labels[head ? e->nhead : e->nhead + e->nbody] =
              tm__strndup(b->lab.p, b->lab.n)))
      return TM_NOMEM;
    if (head)
      e->nhead++;
    else
      e->nbody++;
  }
  return TM_OK;
}

/* Adds one term of entry ENTRY to the trie.  A FOREIGN term (an
 * abbreviation of another language) is added only when all its words are
 * acronyms: ICC in a Korean text is the ICC. */
static tm_status term_add(builder *b, const char *text, size_t len,
                          const terminal *term, bool foreign) {
  struct trie *t = b->x->trie;
  tm__actx *tx = &b->tx;
  tm__word *w = NULL;
  uint8_t *up = NULL;
  bool exact[DEPTH_MAX], plain = true;
  size_t nw = 0;
  uint32_t node = 0;
  terminal tt = *term;
  tm_status s;

  tx->alen = 0;
  if (len > TM_TEXT_MAX)
    return TM_OK;
  /* A word has a byte at least: LEN bounds the words. */
  if (!(up = malloc(len + 1)))
    return TM_NOMEM;
  if ((s = scan_words(tx, b->x->db->text, text, len, &w, &nw, up)) != TM_OK ||
      nw == 0 || nw > DEPTH_MAX) {
    free(up);
    free(w);
    return s == TM_UTF8 ? TM_OK : s;
  }
  for (size_t k = 0; foreign && k < nw; k++)
    if (!(w[k].flags & TM__W_ACRO)) {
      free(up);
      free(w);
      return TM_OK;
    }
  for (size_t k = 0; k < nw; k++) {
    /* Matched as written: acronyms, and the capitalised words of an
     * abbreviation ("Kim", "GC III Art."). */
    exact[k] =
        w[k].exact.len && ((w[k].flags & TM__W_ACRO) ||
                           (term->type == TM_TERM_ABBREVIATION && up[k] > 0));
    if (exact[k] || (k && w[k].gapkind > TM__GAP_HYPHEN))
      plain = false;
  }
  for (size_t k = 0; k < nw; k++) {
    tm__str key = exact[k] ? w[k].exact : w[k].key;
    if (k && w[k].gapkind == TM__GAP_BREAK)
      goto done;
    if (!label_set(&b->lab, tm__s(tx, w[k].gap), w[k].gap.len, tm__s(tx, key),
                   key.len, k == 0)) {
      s = TM_NOMEM;
      goto done;
    }
    if ((s = edge_add(t, node, b->lab.p, b->lab.n, &node)) != TM_OK)
      goto done;
  }
  tt.single_cap = nw == 1 && exact[0] && up[0] == 1;
  if ((s = terminal_add(t, node, &tt)) != TM_OK)
    goto done;
  /* The capitalised words of a name of several words. */
  for (size_t k = 0; nw >= 2 && k < nw && s == TM_OK; k++) {
    uint32_t mark;
    if (!(w[k].flags & TM__W_CAP))
      continue;
    if (!label_mark(&b->lab, tm__s(tx, w[k].key), w[k].key.len))
      s = TM_NOMEM;
    else
      s = edge_add(t, 0, b->lab.p, b->lab.n, &mark);
  }
  if (s != TM_OK)
    goto done;
  /* Written as one word: "nonrefoulement", "전쟁포로". */
  if (plain && nw >= 2 && nw <= 4) {
    size_t total = 0, at = 0;
    char *joined;
    tm__str key;
    for (size_t k = 0; k < nw; k++)
      total += w[k].fold.len;
    if (!(joined = malloc(total + 1))) {
      s = TM_NOMEM;
      goto done;
    }
    for (size_t k = 0; k < nw; k++) {
      memcpy(joined + at, tm__s(tx, w[k].fold), w[k].fold.len);
      at += w[k].fold.len;
    }
    s = stem_put(tx, joined, at, &key);
    free(joined);
    if (s == TM_OK &&
        (s = edge_add(t, 0, tm__s(tx, key), key.len, &node)) == TM_OK) {
      tt.single_cap = 0;
      s = terminal_add(t, node, &tt);
    }
    if (s != TM_OK)
      goto done;
  }
  if (nw >= 3)
    s = ellipsis_note(b, w, exact, nw, term);
done:
  free(up);
  free(w);
  return s;
}

/* Resolves the noted elliptic terms: each needs its body to be a term. */
static tm_status ellipses_add(builder *b) {
  struct trie *t = b->x->trie;
  tm_status s = TM_OK;

  for (size_t i = 0; i < b->nell && s == TM_OK; i++) {
    ellipsis *e = &b->ell[i];
    uint32_t node = 0, body0 = (uint32_t)t->nbodies;
    bool ok = true;
    for (size_t k = 0; k < e->nbody && node != UINT32_MAX; k++) {
      const char *l = e->labels[e->nhead + k];
      uint32_t c = edge_find(t, node, l, strlen(l));
      node = c ? c : UINT32_MAX;
    }
    if (node == UINT32_MAX)
      continue;
    for (uint32_t k = t->first[node]; k; k = t->terms[k - 1].next) {
      const terminal *bt = &t->terms[k - 1];
      if (bt->elliptic || bt->entry == e->term.entry)
        continue;
      GROW(t->bodies, t->bcap, t->nbodies + 1, ok);
      if (!ok)
        return TM_NOMEM;
      t->bodies[t->nbodies++] = bt->entry;
    }
    if (t->nbodies == body0)
      continue;
    e->term.body = body0;
    e->term.nbody = (uint32_t)(t->nbodies - body0);
    node = 0;
    for (size_t k = 0; k < e->nhead && s == TM_OK; k++)
      s = edge_add(t, node, e->labels[k], strlen(e->labels[k]), &node);
    if (s == TM_OK)
      s = terminal_add(t, node, &e->term);
  }
  return s;
}

/* Builds the trie of the glossary terms in the document's language. */
static tm_status trie_build(tm__actx *x, const char *glossary) {
  builder b = {0};
  sqlite3_stmt *q;
  tm_status s = TM_OK;
  uint32_t root;
  int rc;

  b.x = x;
  b.tx.db = x->db;
  strcpy(b.tx.lang, x->lang);
  if (!(x->trie = calloc(1, sizeof *x->trie)))
    return TM_NOMEM;
  if ((s = node_new(x->trie, &root)) != TM_OK)
    return s;
  if (!(q = tm__stmt(x->db, TM__STMT_ANALYZE_TERMS)))
    return TM_DB;
  tm__bind_text(q, 1, glossary);
  sqlite3_bind_text(q, 2, x->primary, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step(q)) == SQLITE_ROW && s == TM_OK) {
    terminal term = {0};
    const char *text = (const char *)sqlite3_column_text(q, 1);
    term.entry = sqlite3_column_int64(q, 0);
    term.type = (uint8_t)sqlite3_column_int(q, 2);
    term.status = (uint8_t)sqlite3_column_int(q, 3);
    if (text)
      s = term_add(&b, text, (size_t)sqlite3_column_bytes(q, 1), &term,
                   !sqlite3_column_int(q, 4));
  }
  if (s == TM_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
    s = tm__sql_error(x->db);
  sqlite3_reset(q);
  if (s == TM_OK)
    s = ellipses_add(&b);
  for (size_t i = 0; i < b.nell; i++)
    ellipsis_clear(&b.ell[i]);
  free(b.ell);
  free(b.lab.p);
  free(b.tx.arena);
  return s;
}

/* --------------------------------------------------------- recognition */

/* A key a document word offers the trie: its own, its case-exact one,
 * without a particle, or joined with the next words. */
typedef struct variant {
  tm__str s;
  uint8_t nwords;
} variant;

typedef struct recog {
  tm__actx *x;
  variant *v;
  size_t nv, vcap;
  uint32_t *vfirst; /* per word, its first variant; [nw] = nv */
  label lab;
} recog;

static tm_status variant_add(recog *r, tm__str s, uint8_t nwords) {
  bool ok = true;

  GROW(r->v, r->vcap, r->nv + 1, ok);
  if (!ok)
    return TM_NOMEM;
  r->v[r->nv++] = (variant){s, nwords};
  return TM_OK;
}

/* The key of FOLD[0..n) (stemmed) and, when it ends in Hangul, its
 * particle cuts, as variants of NWORDS words. */
static tm_status variants_of(recog *r, const char *fold, size_t n, bool hangul,
                             uint8_t nwords) {
  tm__str key;
  size_t cuts[CUTS_MAX], nc;
  tm_status s;

  if ((s = stem_put(r->x, fold, n, &key)) != TM_OK ||
      (s = variant_add(r, key, nwords)) != TM_OK)
    return s;
  if (!hangul)
    return TM_OK;
  nc = tm__particle_cuts(fold, n, cuts, CUTS_MAX);
  for (size_t k = 0; k < nc; k++) {
    tm__str cut;
    if ((s = tm__actx_put(r->x, fold, cuts[k], &cut)) != TM_OK ||
        (s = variant_add(r, cut, nwords)) != TM_OK)
      return s;
  }
  return TM_OK;
}

static bool joinable(const tm__word *w) {
  return w->gapkind == TM__GAP_SPACE || w->gapkind == TM__GAP_HYPHEN;
}

static tm_status variants_build(recog *r) {
  tm__actx *x = r->x;
  char *buf = NULL;
  size_t bcap = 0;
  tm_status s = TM_OK;
  bool ok = true;

  if (!(r->vfirst = malloc((x->nw + 1) * sizeof *r->vfirst)))
    return TM_NOMEM;
  for (size_t j = 0; j < x->nw && s == TM_OK; j++) {
    const tm__word *w = &x->w[j];
    bool hangul = w->flags & TM__W_HANGUL;
    size_t cuts[CUTS_MAX], nc;
    r->vfirst[j] = (uint32_t)r->nv;
    if ((s = variant_add(r, w->key, 1)) != TM_OK)
      break;
    if (w->exact.len && (s = variant_add(r, w->exact, 1)) != TM_OK)
      break;
    if (hangul) {
      nc = tm__particle_cuts(tm__s(x, w->fold), w->fold.len, cuts, CUTS_MAX);
      for (size_t k = 0; k < nc && s == TM_OK; k++) {
        tm__str cut;
        if ((s = tm__actx_put(x, tm__s(x, w->fold), cuts[k], &cut)) == TM_OK)
          s = variant_add(r, cut, 1);
      }
    }
    /* Joined with the next one or two words. */
    size_t n = w->fold.len;
    for (size_t k = 1; k <= 2 && s == TM_OK && j + k < x->nw; k++) {
      const tm__word *nx = &x->w[j + k];
      if (!joinable(nx))
        break;
      GROW(buf, bcap, n + nx->fold.len + 1, ok);
      if (!ok) {
        s = TM_NOMEM;
        break;
      }
      if (k == 1)
        memcpy(buf, tm__s(x, w->fold), w->fold.len);
      memcpy(buf + n, tm__s(x, nx->fold), nx->fold.len);
      n += nx->fold.len;
      s = variants_of(r, buf, n, nx->flags & TM__W_HANGUL, (uint8_t)(k + 1));
    }
  }
  r->vfirst[x->nw] = (uint32_t)r->nv;
  free(buf);
  return s;
}

typedef struct best {
  size_t end;    /* word after the match; 0: none */
  uint32_t node; /* where it ended */
  uint32_t term; /* its terminal + 1 */
} best;

static int type_rank(uint8_t type) {
  return type == TM_TERM_FULL ? 0 : type == TM_TERM_VARIANT ? 1 : 2;
}

/* True when terminal A is to be preferred over B at the same span. */
static bool term_better(const terminal *a, const terminal *b) {
  if (a->elliptic != b->elliptic)
    return !a->elliptic;
  if (a->status != b->status)
    return a->status < b->status;
  if (type_rank(a->type) != type_rank(b->type))
    return type_rank(a->type) < type_rank(b->type);
  return a->entry < b->entry;
}

/* "Kim" for Kim Jong Un is not the Kim of Kim Yumi: a one-word,
 * one-capital abbreviation next to another capitalised word is part of a
 * longer name. */
static bool inside_name(const tm__actx *x, size_t i) {
  const tm__word *w = &x->w[i];

  if (i + 1 < x->nw && x->w[i + 1].gapkind == TM__GAP_SPACE &&
      (x->w[i + 1].flags & TM__W_CAP))
    return true;
  return i > 0 && !(w->flags & TM__W_START) && w->gapkind == TM__GAP_SPACE &&
         (x->w[i - 1].flags & TM__W_CAP);
}

static void consider(const tm__actx *x, size_t i, size_t j, uint32_t node,
                     best *b) {
  const struct trie *t = x->trie;

  for (uint32_t k = t->first[node]; k; k = t->terms[k - 1].next) {
    const terminal *tt = &t->terms[k - 1];
    if (tt->single_cap && j == i + 1 && inside_name(x, i))
      continue;
    if (j > b->end || (j == b->end &&
                       (!b->term || term_better(tt, &t->terms[b->term - 1])))) {
      b->end = j;
      b->node = node;
      b->term = k;
    }
  }
}

static tm_status walk(recog *r, uint32_t node, size_t i, size_t j, int depth,
                      best *b) {
  tm__actx *x = r->x;
  const tm__word *w;

  if (node)
    consider(x, i, j, node, b);
  if (j >= x->nw || depth >= DEPTH_MAX)
    return TM_OK;
  w = &x->w[j];
  if (node && w->gapkind == TM__GAP_BREAK)
    return TM_OK;
  for (uint32_t v = r->vfirst[j]; v < r->vfirst[j + 1]; v++) {
    const variant *va = &r->v[v];
    uint32_t c;
    if (!label_set(&r->lab, tm__s(x, w->gap), w->gap.len, tm__s(x, va->s),
                   va->s.len, node == 0))
      return TM_NOMEM;
    if ((c = edge_find(x->trie, node, r->lab.p, r->lab.n)) != 0) {
      tm_status s = walk(r, c, i, j + va->nwords, depth + 1, b);
      if (s != TM_OK)
        return s;
    }
  }
  return TM_OK;
}

/* A recognised occurrence: words [i, end) of entry. */
typedef struct occ {
  size_t i, end;
  uint32_t node;
  int64_t entry; /* 0: an elliptic one not resolved yet */
} occ;

static tm_status recognise(recog *r, occ **out, size_t *nout) {
  tm__actx *x = r->x;
  occ *v = NULL;
  size_t n = 0, cap = 0;
  bool ok = true;

  for (size_t i = 0; i < x->nw;) {
    best b = {0, 0, 0};
    tm_status s = walk(r, 0, i, i, 0, &b);
    if (s != TM_OK) {
      free(v);
      return s;
    }
    if (!b.end) {
      i++;
      continue;
    }
    GROW(v, cap, n + 1, ok);
    if (!ok) {
      free(v);
      return TM_NOMEM;
    }
    const terminal *tt = &x->trie->terms[b.term - 1];
    v[n++] = (occ){i, b.end, b.node, tt->elliptic ? 0 : tt->entry};
    i = b.end;
  }
  *out = v;
  *nout = n;
  return TM_OK;
}

/* Gives each elliptic occurrence the entry whose body was mentioned
 * nearest before it (else nearest after); drops those whose body the
 * document never mentions. */
static void resolve_ellipses(tm__actx *x, occ *v, size_t *nv) {
  const struct trie *t = x->trie;
  size_t k = 0;

  for (size_t o = 0; o < *nv; o++) {
    if (!v[o].entry) {
      size_t best_d = SIZE_MAX;
      int64_t pick = 0;
      for (uint32_t m = t->first[v[o].node]; m; m = t->terms[m - 1].next) {
        const terminal *tt = &t->terms[m - 1];
        if (!tt->elliptic)
          continue;
        for (uint32_t b = 0; b < tt->nbody; b++)
          for (size_t p = 0; p < *nv; p++) {
            size_t d;
            if (v[p].entry != t->bodies[tt->body + b] || p == o)
              continue;
            d = p < o ? o - p : (size_t)1 << 30 | (p - o);
            if (d < best_d || (d == best_d && tt->entry < pick)) {
              best_d = d;
              pick = tt->entry;
            }
          }
      }
      if (!pick)
        continue;
      v[o].entry = pick;
    }
    v[k++] = v[o];
  }
  *nv = k;
}

/* ------------------------------------------------------------- results */

/* S[0..n) with every run of white space as one space, trimmed. */
static char *collapse(const char *s, size_t n) {
  char *out = malloc(n + 1);
  size_t k = 0, i = 0;
  bool space = false;

  if (!out)
    return NULL;
  while (i < n) {
    size_t at = i;
    uint32_t c = tm__utf8_next(s, &i);
    if (is_blank(c) || c == '\n' || c == 0x2028 || c == 0x2029 || c == 0x85) {
      space = k > 0;
      continue;
    }
    if (space)
      out[k++] = ' ';
    space = false;
    memcpy(out + k, s + at, i - at);
    k += i - at;
  }
  out[k] = '\0';
  return out;
}

static tm_status terms_result(tm__actx *x, const occ *v, size_t nv,
                              tm_analysis *a) {
  int64_t *ids = NULL;
  size_t n = 0;
  tm_status s = TM_OK;

  if (nv && !(ids = malloc(nv * sizeof *ids)))
    return TM_NOMEM;
  /* Entries in order of first appearance. */
  for (size_t o = 0; o < nv; o++) {
    size_t k;
    for (k = 0; k < n && ids[k] != v[o].entry; k++)
      ;
    if (k == n)
      ids[n++] = v[o].entry;
  }
  if (n && !(a->terms = calloc(n, sizeof *a->terms))) {
    free(ids);
    return TM_NOMEM;
  }
  for (size_t k = 0; k < n && s == TM_OK; k++) {
    tm_analysis_term *t = &a->terms[k];
    size_t c = 0;
    t->entry = ids[k];
    a->nterms++;
    for (size_t o = 0; o < nv; o++)
      c += v[o].entry == ids[k];
    if (!(t->offsets = calloc(c, sizeof *t->offsets))) {
      s = TM_NOMEM;
      break;
    }
    for (size_t o = 0; o < nv; o++) {
      const tm__word *w0, *w1;
      if (v[o].entry != ids[k])
        continue;
      w0 = &x->w[v[o].i];
      w1 = &x->w[v[o].end - 1];
      t->offsets[t->count++] = tm__plain_source(x->plain, w0->c0, w1->c1);
      if (!t->surface &&
          !(t->surface = collapse(x->plain->text + w0->b0, w1->b1 - w0->b0)))
        s = TM_NOMEM;
    }
    if (s == TM_OK && (s = tm_entry_get(x->db, ids[k], &t->e)) != TM_OK)
      break;
  }
  free(ids);
  return s;
}

/* A deep copy of match M (for a sentence seen before). */
static tm_status match_copy(const tm_match *m, tm_match **out) {
  tm_match *c = calloc(1, sizeof *c);

  *out = c;
  if (!c)
    return TM_NOMEM;
  *c = *m;
  c->memory = c->source_lang = c->source = c->origin = NULL;
  c->targets = NULL;
  c->diffs = NULL;
  c->ntargets = c->ndiffs = 0;
  if ((m->memory && !(c->memory = tm__strdup(m->memory))) ||
      (m->source_lang && !(c->source_lang = tm__strdup(m->source_lang))) ||
      (m->source && !(c->source = tm__strdup(m->source))) ||
      (m->origin && !(c->origin = tm__strdup(m->origin))))
    return TM_NOMEM;
  if (m->ndiffs) {
    if (!(c->diffs = malloc(m->ndiffs * sizeof *c->diffs)))
      return TM_NOMEM;
    memcpy(c->diffs, m->diffs, m->ndiffs * sizeof *c->diffs);
    c->ndiffs = m->ndiffs;
  }
  if (m->ntargets) {
    if (!(c->targets = calloc(m->ntargets, sizeof *c->targets)))
      return TM_NOMEM;
    for (size_t i = 0; i < m->ntargets; i++) {
      tm_variant *d = &c->targets[i];
      c->ntargets++;
      strcpy(d->lang, m->targets[i].lang);
      if ((m->targets[i].text && !(d->text = tm__strdup(m->targets[i].text))) ||
          (m->targets[i].markup &&
           !(d->markup = tm__strdup(m->targets[i].markup))))
        return TM_NOMEM;
    }
  }
  return TM_OK;
}

/* The sentence S ends with a full stop, a question or an exclamation
 * mark, maybe inside quotation marks or brackets. */
static bool sentence_closed(const char *s) {
  size_t n = strlen(s);

  while (n > 0) {
    size_t i = n - 1;
    uint32_t c;
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
      i--;
    c = tm__utf8_next(s, &(size_t){i});
    if (c == '.' || c == '!' || c == '?' || c == 0x2026 || c == 0x3002 ||
        c == 0xFF01 || c == 0xFF1F)
      return true;
    if (!(c == '"' || c == '\'' || c == ')' || c == ']' || c == 0x201D ||
          c == 0x2019 || c == 0xBB))
      return false;
    n = i;
  }
  return false;
}

static bool has_letter(const char *s) {
  size_t i = 0, n = strlen(s);

  while (i < n)
    if (u_isalpha((UChar32)tm__utf8_next(s, &i)))
      return true;
  return false;
}

/* The sentences with their best match (each distinct text looked up
 * once). */
static tm_status sentences_result(tm__actx *x, tm_index *idx,
                                  const tm_match_opts *mo, const tm_span *sp,
                                  size_t ns, tm_analysis *a) {
  const tm__plain *p = x->plain;
  size_t bi = 0, wi = 0;
  uint32_t ci = 0;
  tm_status s = TM_OK;

  if (ns && !(a->sentences = calloc(ns, sizeof *a->sentences)))
    return TM_NOMEM;
  for (size_t k = 0; k < ns && s == TM_OK; k++) {
    tm_analysis_sentence *o = &a->sentences[k];
    size_t b0, bad;
    char *flat;
    while (ci < sp[k].start) {
      tm__utf8_next(p->text, &bi);
      ci++;
    }
    b0 = bi;
    while (ci < sp[k].end) {
      tm__utf8_next(p->text, &bi);
      ci++;
    }
    a->nsentences++;
    o->span = tm__plain_source(p, sp[k].start, sp[k].end);
    if (!(flat = collapse(p->text + b0, bi - b0)))
      return TM_NOMEM;
    s = tm_text_nfc(x->db->text, flat, strlen(flat), &o->text, &bad);
    free(flat);
    if (s == TM_OK && x->closed)
      x->closed[k] = sentence_closed(o->text);
    /* One word is a label, not a sentence: a memory's "Blog" or a name
     * only leads astray. */
    while (wi < x->nw && x->w[wi].sent < k)
      wi++;
    if (s != TM_OK || !idx || strlen(o->text) > SENTENCE_MATCH_MAX ||
        !has_letter(o->text) || wi + 1 >= x->nw || x->w[wi + 1].sent != k)
      continue;
    for (size_t e = 0; e < k; e++)
      if (strcmp(a->sentences[e].text, o->text) == 0) {
        if (a->sentences[e].match)
          s = match_copy(a->sentences[e].match, &o->match);
        goto next;
      }
    {
      tm_match *m = NULL;
      size_t nm = 0;
      s = tm_match_find(idx, x->db, o->text, mo, &m, &nm);
      if (s == TM_TOOBIG) {
        s = TM_OK;
        tm__clear_error(x->db);
      }
      if (s == TM_OK && nm) {
        /* Keep the first; free the (limit 1) array's other entries. */
        o->match = m;
        m = NULL;
      }
      tm_match_free(m, nm);
    }
  next:;
  }
  return s;
}

/* ----------------------------------------------------------------- API */

void tm_analysis_free(tm_analysis *a) {
  if (!a)
    return;
  for (size_t i = 0; i < a->nto; i++)
    free(a->to[i]);
  free(a->to);
  for (size_t i = 0; i < a->nterms; i++) {
    free(a->terms[i].surface);
    free(a->terms[i].offsets);
    tm_entry_free(a->terms[i].e);
  }
  free(a->terms);
  for (size_t i = 0; i < a->nsentences; i++) {
    free(a->sentences[i].text);
    tm_match_free(a->sentences[i].match, a->sentences[i].match ? 1 : 0);
  }
  free(a->sentences);
  for (size_t i = 0; i < a->ncandidates; i++) {
    free(a->candidates[i].text);
    free(a->candidates[i].abbreviation);
  }
  free(a->candidates);
  free(a);
}

static tm_status opts_check(tm_db *db, const tm_analyze_opts *o, tm__actx *x,
                            tm_analysis *a) {
  int64_t id;
  tm_status s;

  if (!o || !o->lang || !*o->lang)
    return tm__error(db, TM_INVALID, "the document's language is required");
  if (tm_lang_canonical(o->lang, x->lang) != TM_OK)
    return tm__error(db, TM_LANG, "invalid language tag \"%s\"", o->lang);
  tm__lang_primary(x->lang, x->primary);
  strcpy(a->lang, x->lang);
  if (o->format != TM_INPUT_PLAIN && o->format != TM_INPUT_MARKDOWN &&
      o->format != TM_INPUT_HTML)
    return tm__error(db, TM_INVALID, "unknown input format");
  if (o->min < 0 || o->min > 100)
    return tm__error(db, TM_INVALID, "min is a score from 0 to 100");
  if (o->nto && !o->to)
    return tm__error(db, TM_INVALID, "target languages missing");
  if (o->nto && !(a->to = calloc(o->nto, sizeof *a->to)))
    return TM_NOMEM;
  for (size_t i = 0; i < o->nto; i++) {
    char canon[TM_LANG_MAX];
    if (!o->to[i] || tm_lang_canonical(o->to[i], canon) != TM_OK)
      return tm__error(db, TM_LANG, "invalid language tag \"%s\"",
                       o->to[i] ? o->to[i] : "");
    if (!(a->to[a->nto++] = tm__strdup(canon)))
      return TM_NOMEM;
  }
  if (o->glossary) {
    s = tm__collection_id(db, TM_GLOSSARY, o->glossary, false, &id);
    if (s == TM_NOTFOUND)
      return tm__error(db, s, "no glossary \"%s\"", o->glossary);
    if (s != TM_OK)
      return s;
  }
  if (o->memory) {
    s = tm__collection_id(db, TM_MEMORY, o->memory, false, &id);
    if (s == TM_NOTFOUND)
      return tm__error(db, s, "no memory \"%s\"", o->memory);
    if (s != TM_OK)
      return s;
  }
  return TM_OK;
}

/* Abbreviations after which ICU's lists let a sentence end, though they
 * end none in practice: titles before a name, "Art." before a number.
 * (ICU's own list, "ss=standard", already has Mr., Mrs., U.S. and the
 * like.)  By primary language; compared as written. */
static const char *const en_abbrevs[] = {
    "Adm", "Amb", "Art", "Capt", "Col", "Cpl", "Dr",   "Fig", "Gen", "Gov",
    "Jr",  "Lt",  "Maj", "Mt",   "No",  "Nos", "Prof", "Pvt", "Rep", "Rev",
    "Sen", "Sgt", "Sr",  "St",   "cf",  "e.g", "i.e",  "pp",  "vs",
};
static const char *const uk_abbrevs[] = {"акад", "див", "ім", "п",
                                         "проф", "ст",  "ч"};

/* Joins each sentence that ends with such an abbreviation to the next one
 * in the same paragraph.  S is the sentence text, SP its sentences. */
static void merge_abbreviations(const char *lang, const char *s, size_t len,
                                tm_span *sp, size_t *n) {
  const char *const *list = NULL;
  size_t nlist = 0, k = 0, bi = 0, end = 0;
  uint32_t ci = 0;

  if (strcmp(lang, "en") == 0) {
    list = en_abbrevs;
    nlist = sizeof en_abbrevs / sizeof en_abbrevs[0];
  } else if (strcmp(lang, "uk") == 0) {
    list = uk_abbrevs;
    nlist = sizeof uk_abbrevs / sizeof uk_abbrevs[0];
  }
  if (!list)
    return;
  for (size_t i = 0; i < *n; i++) {
    bool join = false;
    if (i > 0 && end > 1 && s[end - 1] == '.') {
      /* END is where sentence i - 1 ended; walk to where i starts. */
      size_t w = end - 1, newlines = 0;
      while (w > 0 && !strchr(" \t\r\n(", s[w - 1]))
        w--;
      for (size_t a = 0; a < nlist && !join; a++)
        join = strlen(list[a]) == end - 1 - w &&
               memcmp(s + w, list[a], end - 1 - w) == 0;
      while (ci < sp[i].start && bi < len) {
        newlines += s[bi] == '\n';
        tm__utf8_next(s, &bi);
        ci++;
      }
      join = join && newlines == 0; /* a line break left is a hard one */
    }
    while (ci < sp[i].end && bi < len) {
      tm__utf8_next(s, &bi);
      ci++;
    }
    end = bi;
    if (join)
      sp[k - 1].end = sp[i].end;
    else
      sp[k++] = sp[i];
  }
  *n = k;
}

/* The text the sentence iterator reads: in wrapped text a line break
 * alone is a space, so that it ends no sentence. */
static char *sentence_text(const tm__plain *p) {
  char *s = tm__strndup(p->text, p->len);

  if (!s || !p->soft_breaks)
    return s;
  for (size_t i = 0; i < p->len; i++) {
    size_t a, b;
    int nl = 0;
    if (s[i] != '\n' && s[i] != '\r')
      continue;
    /* The run of white space around this break. */
    for (a = i; a > 0 && strchr(" \t\r\n", s[a - 1]); a--)
      ;
    for (b = i; b < p->len && strchr(" \t\r\n", s[b]); b++)
      nl += s[b] == '\n';
    for (size_t k = a; k < i; k++)
      nl += s[k] == '\n';
    if (nl <= 1)
      for (size_t k = a; k < b; k++)
        if (s[k] == '\n' || s[k] == '\r')
          s[k] = ' ';
    i = b > i ? b - 1 : i;
  }
  return s;
}

tm_status tm_analyze(tm_index *idx, tm_db *db, const char *text, size_t len,
                     const tm_analyze_opts *opts, tm_analysis **out) {
  tm__actx x = {0};
  tm__plain plain = {0};
  recog r = {0};
  tm_analysis *a = NULL;
  tm_span *sents = NULL;
  size_t nsents = 0, bad, nocc = 0;
  occ *occs = NULL;
  char *stext = NULL;
  tm_match_opts mo = {0};
  tm_status s;

  *out = NULL;
  tm__clear_error(db);
  x.db = db;
  if (!(a = calloc(1, sizeof *a)))
    return TM_NOMEM;
  if ((s = opts_check(db, opts, &x, a)) != TM_OK)
    goto done;
  if (!text && len) {
    s = tm__error(db, TM_INVALID, "no text");
    goto done;
  }
  if (len > TM_ANALYZE_MAX_BYTES) {
    s = tm__error(db, TM_TOOBIG,
                  "the document is larger than %u bytes (it has %zu)",
                  TM_ANALYZE_MAX_BYTES, len);
    goto done;
  }
  if (len && (bad = tm__utf8_check(text, len)) != len) {
    s = tm__error(db, TM_UTF8, "invalid UTF-8 at byte %zu", bad);
    goto done;
  }
  if ((s = tm__plain_extract(opts->format, len ? text : "", len, &plain)) !=
      TM_OK)
    goto done;
  x.plain = &plain;

  /* Words, sentences, and which sentence each word is in. */
  s = scan_words(&x, db->text, plain.text, plain.len, &x.w, &x.nw, NULL);
  if (s == TM_TOOBIG) {
    s = tm__error(db, TM_TOOBIG, "the document has more than %u words",
                  TM_ANALYZE_MAX_WORDS);
    goto done;
  }
  if (s != TM_OK)
    goto done;
  a->words = x.nw;
  if (!(stext = sentence_text(&plain))) {
    s = TM_NOMEM;
    goto done;
  }
  if ((s = tm__text_sentences(db->text, x.lang, stext, plain.len, &sents,
                              &nsents)) != TM_OK)
    goto done;
  merge_abbreviations(x.primary, stext, plain.len, sents, &nsents);
  x.nsent = nsents;
  if (nsents && !(x.closed = calloc(nsents, sizeof *x.closed))) {
    s = TM_NOMEM;
    goto done;
  }
  for (size_t j = 0, k = 0; j < x.nw; j++) {
    while (k + 1 < nsents && x.w[j].c0 >= sents[k].end)
      k++;
    x.w[j].sent = (uint32_t)k;
    if (j == 0 || x.w[j - 1].sent != k)
      x.w[j].flags |= TM__W_START;
  }

  /* Terms. */
  if ((s = trie_build(&x, opts->glossary)) != TM_OK)
    goto done;
  r.x = &x;
  x.recog = &r;
  if ((s = variants_build(&r)) != TM_OK ||
      (s = recognise(&r, &occs, &nocc)) != TM_OK)
    goto done;
  resolve_ellipses(&x, occs, &nocc);
  for (size_t o = 0; o < nocc; o++)
    for (size_t j = occs[o].i; j < occs[o].end; j++)
      x.w[j].occ = (int32_t)o;
  if ((s = terms_result(&x, occs, nocc, a)) != TM_OK)
    goto done;

  /* Sentences and their matches. */
  mo.memory = opts->memory;
  mo.from = x.lang;
  mo.to = (const char *const *)a->to;
  mo.nto = a->nto;
  mo.min = opts->min ? opts->min : 70;
  mo.limit = 1;
  if ((s = sentences_result(&x, idx, &mo, sents, nsents, a)) != TM_OK)
    goto done;

  /* Candidates. */
  s = tm__candidates(&x,
                     opts->max_candidates
                         ? (opts->max_candidates > CANDIDATES_MAX
                                ? CANDIDATES_MAX
                                : opts->max_candidates)
                         : CANDIDATES_DEFAULT,
                     &a->candidates, &a->ncandidates);
done:
  free(occs);
  free(r.v);
  free(r.vfirst);
  free(r.lab.p);
  trie_free(x.trie);
  free(x.w);
  free(x.closed);
  free(x.arena);
  free(sents);
  free(stext);
  tm__plain_free(&plain);
  if (s != TM_OK) {
    tm_analysis_free(a);
    return s;
  }
  *out = a;
  return TM_OK;
}

/* ---------------------------------------------- known terms (candidates) */

static void known_walk(recog *r, uint32_t node, size_t j, size_t end, int depth,
                       bool *found) {
  tm__actx *x = r->x;
  const tm__word *w;

  if (*found)
    return;
  if (node && j == end) {
    for (uint32_t k = x->trie->first[node]; k; k = x->trie->terms[k - 1].next)
      if (!x->trie->terms[k - 1].elliptic)
        *found = true;
    return;
  }
  if (j >= end || depth >= DEPTH_MAX)
    return;
  w = &x->w[j];
  if (node && w->gapkind == TM__GAP_BREAK)
    return;
  for (uint32_t v = r->vfirst[j]; v < r->vfirst[j + 1]; v++) {
    const variant *va = &r->v[v];
    uint32_t c;
    if (j + va->nwords > end ||
        !label_set(&r->lab, tm__s(x, w->gap), w->gap.len, tm__s(x, va->s),
                   va->s.len, node == 0))
      continue;
    if ((c = edge_find(x->trie, node, r->lab.p, r->lab.n)) != 0)
      known_walk(r, c, j + va->nwords, end, depth + 1, found);
  }
}

bool tm__actx_name_word(tm__actx *x, size_t k) {
  recog *r = x->recog;
  const tm__word *w = &x->w[k];

  return r && label_mark(&r->lab, tm__s(x, w->key), w->key.len) &&
         edge_find(x->trie, 0, r->lab.p, r->lab.n) != 0;
}

bool tm__actx_known(tm__actx *x, size_t i, size_t j) {
  recog *r = x->recog;
  bool found = false;

  if (!r || i >= j || j > x->nw)
    return false;
  known_walk(r, 0, i, j, 0, &found);
  return found;
}
