/*
 * ingest.c - the write side of an import.  Units of a memory import flow
 * through a two-stage pipeline: the importing thread parses and normalises
 * (XML, UTF-8, NFC: ICU's share of the work), a writer thread finds
 * duplicates and inserts (SQLite's share), so that both cores work on a
 * large file.  The order of units is kept, and the first error of either
 * stage ends the import, which the caller then rolls back.
 */
#include "tm_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define PIPE_SLOTS 4096

typedef struct tm__pipe tm__pipe;

struct tm__pipe {
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t not_empty, not_full;
  tm_unit *slots;
  uint64_t *hashes;
  size_t head, tail; /* head: next to write; tail: next free; mod SLOTS */
  size_t count;
  bool closed;
  tm_status status; /* the writer's first error */
  uint64_t written, duplicates;
};

/* Adds HASH to the import's set.  Returns true when the answer is known
 * without SQLite: a new hash is no duplicate (*dup = 0).  A hash seen
 * before, or a set that cannot grow, needs the real lookup. */
static bool seen_add(tm__ingest *in, uint64_t hash, int64_t *dup) {
  size_t mask, i;

  *dup = 0;
  if (hash == 0)
    return false; /* 0 marks an empty slot */
  if ((in->nseen + 1) * 2 > in->seencap) {
    size_t ncap = in->seencap ? in->seencap * 2 : 1 << 16;
    uint64_t *n = calloc(ncap, sizeof *n);
    if (!n)
      return false;
    for (size_t k = 0; k < in->seencap; k++)
      if (in->seen[k]) {
        for (i = in->seen[k] & (ncap - 1); n[i]; i = (i + 1) & (ncap - 1))
          ;
        n[i] = in->seen[k];
      }
    free(in->seen);
    in->seen = n;
    in->seencap = ncap;
  }
  mask = in->seencap - 1;
  for (i = hash & mask; in->seen[i]; i = (i + 1) & mask)
    if (in->seen[i] == hash)
      return false;
  in->seen[i] = hash;
  in->nseen++;
  return true;
}

/* Stores one normalised unit with DB; *added says whether it was new. */
static tm_status write_unit(tm__ingest *in, tm_db *db, const tm_unit *u,
                            uint64_t hash, bool *added) {
  int64_t dup, id;
  tm_status s;

  *added = false;
  if (!in->fresh || !seen_add(in, hash, &dup))
    if ((s = tm__unit_find_duplicate(db, in->collection, u, hash, true,
                                     &dup)) != TM_OK)
      return s;
  if (dup)
    return TM_OK;
  if ((s = tm__unit_insert(db, in->collection, u, hash, in->by, in->batch,
                           &id)) != TM_OK)
    return s;
  *added = true;
  return TM_OK;
}

/* Units the writer takes from the queue at once: one lock for many. */
#define WRITER_BATCH 256

static void *writer(void *arg) {
  tm__ingest *in = arg;
  tm__pipe *p = in->pipe;
  tm_unit batch[WRITER_BATCH];
  uint64_t hashes[WRITER_BATCH];
  uint64_t written = 0, duplicates = 0;
  tm_status status = TM_OK;

  for (;;) {
    size_t n = 0;

    pthread_mutex_lock(&p->mu);
    p->written = written;
    p->duplicates = duplicates;
    if (status != TM_OK && p->status == TM_OK) {
      p->status = status;
      pthread_cond_signal(&p->not_full); /* the importer stops waiting */
    }
    while (p->count == 0 && !p->closed)
      pthread_cond_wait(&p->not_empty, &p->mu);
    while (p->count > 0 && n < WRITER_BATCH) {
      batch[n] = p->slots[p->head];
      hashes[n++] = p->hashes[p->head];
      p->head = (p->head + 1) % PIPE_SLOTS;
      /* Wake the importer once the queue is half empty, not for every
       * slot: a wake-up per unit costs more than the unit. */
      if (p->count-- == PIPE_SLOTS / 2 + 1)
        pthread_cond_signal(&p->not_full);
    }
    pthread_mutex_unlock(&p->mu);
    if (n == 0)
      break;
    for (size_t i = 0; i < n; i++) {
      bool added = false;
      if (status == TM_OK)
        status = write_unit(in, in->real, &batch[i], hashes[i], &added);
      if (status == TM_OK && added)
        written++;
      else if (status == TM_OK)
        duplicates++;
      tm__unit_clear(&batch[i]);
    }
  }
  return NULL;
}

/* Gives the connection back to the importer and frees the pipeline. */
static void pipe_free(tm__ingest *in) {
  tm__pipe *p = in->pipe;

  in->db = in->real;
  in->pipe = NULL;
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->not_empty);
  pthread_cond_destroy(&p->not_full);
  free(p->slots);
  free(p->hashes);
  free(p);
}

bool tm__pipe_start(tm__ingest *in, tm_db *shadow) {
  tm__pipe *p = calloc(1, sizeof *p);

  if (!p)
    return false;
  p->slots = calloc(PIPE_SLOTS, sizeof *p->slots);
  p->hashes = calloc(PIPE_SLOTS, sizeof *p->hashes);
  if (!p->slots || !p->hashes) {
    free(p->slots);
    free(p->hashes);
    free(p);
    return false;
  }
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->not_empty, NULL);
  pthread_cond_init(&p->not_full, NULL);
  /* The parsing side gets a handle of its own for errors and text; the
   * SQLite connection belongs to the writer until tm__pipe_finish. */
  memset(shadow, 0, sizeof *shadow);
  shadow->text = in->db->text;
  shadow->now = in->db->now;
  shadow->now_ctx = in->db->now_ctx;
  in->real = in->db;
  in->pipe = p;
  in->db = shadow;
  if (pthread_create(&p->thread, NULL, writer, in) != 0) {
    pipe_free(in);
    return false;
  }
  return true;
}

/* Hands U (normalised) to the writer; U is left empty. */
static tm_status pipe_push(tm__ingest *in, tm_unit *u, uint64_t hash) {
  tm__pipe *p = in->pipe;
  tm_status s;

  pthread_mutex_lock(&p->mu);
  if (p->count == PIPE_SLOTS)
    while (p->count > PIPE_SLOTS / 2 && p->status == TM_OK)
      pthread_cond_wait(&p->not_full, &p->mu);
  s = p->status;
  if (s == TM_OK) {
    p->slots[p->tail] = *u;
    p->hashes[p->tail] = hash;
    p->tail = (p->tail + 1) % PIPE_SLOTS;
    if (p->count++ == 0)
      pthread_cond_signal(&p->not_empty);
    memset(u, 0, sizeof *u);
  }
  pthread_mutex_unlock(&p->mu);
  if (s != TM_OK)
    return tm__error(in->db, s, "the database refused a unit");
  return TM_OK;
}

tm_status tm__pipe_finish(tm__ingest *in, bool *writer_failed) {
  tm__pipe *p = in->pipe;
  tm_status s;

  *writer_failed = false;
  if (!p)
    return TM_OK;
  pthread_mutex_lock(&p->mu);
  p->closed = true;
  pthread_cond_signal(&p->not_empty);
  pthread_mutex_unlock(&p->mu);
  pthread_join(p->thread, NULL);
  s = p->status;
  *writer_failed = s != TM_OK;
  in->res->records = p->written;
  in->res->duplicates = p->duplicates;
  pipe_free(in);
  return s;
}

tm_status tm__ingest_unit(tm__ingest *in, tm_unit *u) {
  uint64_t hash;
  bool added;
  tm_status s;

  if (u->status == TM_DRAFT)
    u->status = in->status;
  if ((s = tm__unit_normalise(in->db, u)) != TM_OK)
    return s;
  hash = tm__unit_hash(u);
  if (in->pipe) {
    /* Counted as queued; the writer's own counts replace it at the end. */
    if ((s = pipe_push(in, u, hash)) == TM_OK)
      in->res->records++;
    return s;
  }
  if ((s = write_unit(in, in->db, u, hash, &added)) != TM_OK)
    return s;
  if (added)
    in->res->records++;
  else
    in->res->duplicates++;
  return TM_OK;
}
