/*
 * pool.c - the server's database handles.  A tm_db is used by one thread
 * at a time, so the server keeps one read-only handle per worker thread,
 * checked out for the length of a request, and one writer, owned by the
 * writer thread.  In WAL mode readers never wait for the writer.  The index
 * is built once from the writer and attached to it: every committed write
 * updates it, and every reader searches it.
 *
 * Writes are serialised by that thread rather than by a lock: a worker
 * that waited for a lock while an import ran would stall every other
 * connection it serves.  The worker suspends the connection and queues the
 * request; the writer thread runs the handler and resumes the connection.
 */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void report(const char *what, tm_db *db, tm_status s) {
  fprintf(stderr, "tm-server: %s: %s\n", what,
          db && s != TM_NOMEM ? tm_db_errmsg(db) : tm_status_message(s));
}

tm_status pool_open(struct server *srv) {
  size_t n = srv->cfg.threads + 1; /* one spare for the main thread */
  tm_status s;

  if ((s = tm_db_open(srv->cfg.db_path, 0, &srv->writer)) != TM_OK) {
    report(srv->cfg.db_path, srv->writer, s);
    return s;
  }
  if ((s = tm_index_open(srv->writer, &srv->index)) != TM_OK) {
    report("building the index", srv->writer, s);
    return s;
  }
  tm_db_attach_index(srv->writer, srv->index);

  srv->readers = calloc(n, sizeof *srv->readers);
  srv->idle = calloc(n, sizeof *srv->idle);
  if (!srv->readers || !srv->idle) {
    report("readers", NULL, TM_NOMEM);
    return TM_NOMEM;
  }
  for (size_t i = 0; i < n; i++) {
    struct reader *r = &srv->readers[i];
    if ((s = tm_db_open(srv->cfg.db_path, TM_OPEN_READONLY, &r->db)) != TM_OK) {
      report(srv->cfg.db_path, r->db, s);
      tm_db_close(r->db);
      r->db = NULL;
      return s;
    }
    srv->nreaders++;
    if (!(r->cache = entry_cache_create())) {
      report("readers", NULL, TM_NOMEM);
      return TM_NOMEM;
    }
    srv->idle[srv->nidle++] = r;
  }
  return TM_OK;
}

void pool_close(struct server *srv) {
  /* Readers first: the last connection to close checkpoints the WAL and
   * removes it, and only the writer may. */
  for (size_t i = 0; i < srv->nreaders; i++) {
    tm_db_close(srv->readers[i].db);
    entry_cache_destroy(srv->readers[i].cache);
  }
  free(srv->readers);
  free(srv->idle);
  srv->readers = NULL;
  srv->idle = NULL;
  srv->nreaders = srv->nidle = 0;
  if (srv->writer)
    tm_db_attach_index(srv->writer, NULL);
  tm_index_close(srv->index);
  srv->index = NULL;
  tm_db_close(srv->writer);
  srv->writer = NULL;
}

struct reader *pool_get(struct server *srv) {
  struct reader *r;

  pthread_mutex_lock(&srv->pool_lock);
  while (srv->nidle == 0)
    pthread_cond_wait(&srv->pool_cond, &srv->pool_lock);
  r = srv->idle[--srv->nidle];
  pthread_mutex_unlock(&srv->pool_lock);
  return r;
}

void pool_put(struct server *srv, struct reader *r) {
  if (!r)
    return;
  pthread_mutex_lock(&srv->pool_lock);
  srv->idle[srv->nidle++] = r;
  pthread_cond_signal(&srv->pool_cond);
  pthread_mutex_unlock(&srv->pool_lock);
}

/* ------------------------------------------------------------- writer */

static void *writer_main(void *arg) {
  struct server *srv = arg;

  for (;;) {
    struct request *rq;

    pthread_mutex_lock(&srv->queue_lock);
    while (!srv->queue_head && !srv->writer_closing)
      pthread_cond_wait(&srv->queue_cond, &srv->queue_lock);
    rq = srv->queue_head;
    if (rq && !(srv->queue_head = rq->next))
      srv->queue_tail = NULL;
    pthread_mutex_unlock(&srv->queue_lock);
    if (!rq)
      break; /* closing, and nothing is left */
    rq->next = NULL;
    route_run(rq, srv->writer);
    atomic_fetch_add(&srv->generation, 1);
    /* The last touch: from here the worker owns RQ again, and may free
     * it at once if the client went away. */
    MHD_resume_connection(rq->conn);
  }
  return NULL;
}

bool writer_start(struct server *srv) {
  int rc = pthread_create(&srv->writer_thread, NULL, writer_main, srv);

  if (rc != 0) {
    fprintf(stderr, "tm-server: cannot start the writer thread: %s\n",
            strerror(rc));
    return false;
  }
  srv->writer_running = true;
  return true;
}

void writer_submit(struct request *rq) {
  struct server *srv = rq->srv;

  MHD_suspend_connection(rq->conn);
  pthread_mutex_lock(&srv->queue_lock);
  if (srv->queue_tail)
    srv->queue_tail->next = rq;
  else
    srv->queue_head = rq;
  srv->queue_tail = rq;
  pthread_cond_signal(&srv->queue_cond);
  pthread_mutex_unlock(&srv->queue_lock);
}

void writer_stop(struct server *srv) {
  if (!srv->writer_running)
    return;
  pthread_mutex_lock(&srv->queue_lock);
  srv->writer_closing = true;
  pthread_cond_signal(&srv->queue_cond);
  pthread_mutex_unlock(&srv->queue_lock);
  pthread_join(srv->writer_thread, NULL);
  srv->writer_running = false;
}
