#!/usr/bin/env python3
"""Crash safety of tm-server: contributions survive a SIGKILL.

Six client threads contribute units and glossary entries and correct their
own drafts, each with its own contributor token, and remember every change
the server acknowledged.  After a random moment the server is killed with
SIGKILL while requests are in flight; the database left behind must pass
PRAGMA integrity_check, and a server restarted on it must hold every
acknowledged change whole (every language's text, exactly), with a history
row for each.  A change that was in flight may be there or not, but never in
part.  This is done three times on the same database, each round checking
everything the earlier rounds stored.  docs/durability.md explains why it
holds.

TM_CRASH_SEED=N repeats a run's random choices (the seed is printed).

Usage: test_crash.py TM_SERVER TM   (prints TAP)
"""

import http.client
import os
import random
import re
import shutil
import signal
import sqlite3
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Client, Server, Tap, entry_seen, unit_seen  # noqa: E402

ROUNDS = 3
WORKERS = 6
# The kill comes once this many changes were acknowledged in the round, plus
# a random 0.1-1 s: late enough that every worker is busy, early enough
# that the sanitizer builds check a few hundred records, not thousands.
ACKS_BEFORE_KILL = 30
# How long a round may take to reach ACKS_BEFORE_KILL: far more than the
# fraction of a second it takes, for a sanitizer build on a busy machine.
ACK_WAIT = 120

MARKER = re.compile(r"\b(r\d+w\d+n\d+)\b")

tap = Tap()


# ------------------------------------------------------------- contents

def unit_content(m):
    return {"en": f"Crash test {m}: the delegation reached the border.",
            "ko": f"충돌 시험 {m}: 대표단이 국경에 도착했다.",
            "uk": f"Тест аварії {m}: делегація дісталася кордону."}


def entry_content(m):
    return {"terms": {"en": [f"crash term {m}", f"CT {m}"],
                      "ko": [f"충돌 용어 {m}"],
                      "uk": [f"термін аварії {m}"]},
            "definition": f"a term of the crash test {m}"}


KINDS = {
    "unit": {"create": "/api/v1/tm/units", "path": "/api/v1/tm/units/",
             "content": unit_content, "seen": unit_seen,
             "body": lambda c: {"variants": c}},
    "entry": {"create": "/api/v1/glossaries/default/entries",
              "path": "/api/v1/entries/", "content": entry_content,
              "seen": entry_seen, "body": lambda c: c},
}


class Record:
    """A unit or entry as the server must hold it: its content after the
    last change it acknowledged (or a later one that was in flight and was
    found stored), and how many changes, each a history row."""

    def __init__(self, kind, rid, content, acked):
        self.kind = kind
        self.id = rid
        self.content = content
        self.changes = 1
        self.acked = acked  # its creation was acknowledged
        self.acked_in = {}  # round: changes acknowledged in it


class Op:
    """A change sent and not yet answered."""

    def __init__(self, kind, action, marker, content, record=None):
        self.kind = kind
        self.action = action  # "create" or "update"
        self.marker = marker
        self.content = content
        self.record = record  # for an update


# --------------------------------------------------------------- workers

class Worker:
    """A client with its own contributor token.  Each round a thread runs
    it until the server dies; PENDING is then the change it had sent and
    not seen answered, if any."""

    def __init__(self, n, token, records, lock, rng):
        self.n = n
        self.token = token
        self.records = records  # every record of the run, shared
        self.lock = lock
        self.rng = rng
        self.own = []  # the records its token may correct (its drafts)
        self.seq = 0
        self.thread = None

    def start_round(self, rnd, port):
        self.round = rnd
        self.port = port
        self.pending = None
        self.acked = self.created = self.updated = 0
        self.errors = []
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def next_op(self):
        self.seq += 1
        m = f"r{self.round}w{self.n}n{self.seq}"
        if self.own and self.rng.random() < 0.3:
            rec = self.rng.choice(self.own)
            return Op(rec.kind, "update", m, KINDS[rec.kind]["content"](m),
                      rec)
        kind = "unit" if self.rng.random() < 0.6 else "entry"
        return Op(kind, "create", m, KINDS[kind]["content"](m))

    def run(self):
        client = Client(self.port)
        deadline = time.time() + ACK_WAIT + 60
        while time.time() < deadline:
            op = self.pending = self.next_op()
            k = KINDS[op.kind]
            try:
                if op.action == "create":
                    r = client.request("POST", k["create"],
                                       k["body"](op.content),
                                       token=self.token)
                else:
                    r = client.request("PUT", k["path"] + str(op.record.id),
                                       k["body"](op.content),
                                       token=self.token)
            except (OSError, http.client.HTTPException):
                return  # the server is gone; OP stays pending
            self.pending = None
            if op.action == "create" and r.status == 201:
                rec = Record(op.kind, r.json()[op.kind], op.content, True)
                rec.acked_in[self.round] = 1
                with self.lock:
                    self.records[(op.kind, rec.id)] = rec
                self.own.append(rec)
                self.created += 1
            elif op.action == "update" and r.status == 200:
                op.record.content = op.content
                op.record.changes += 1
                op.record.acked_in[self.round] = \
                    op.record.acked_in.get(self.round, 0) + 1
                self.updated += 1
            else:
                self.errors.append(f"{op.action} {op.kind}: {r!r}")
                return
            self.acked += 1
        self.errors.append(f"worker {self.n}: the server was never killed")


# ---------------------------------------------------------------- checks

def copy_db(db):
    """The database as the crash left it (with its WAL), copied, so that
    opening it here leaves the original for the server to recover."""
    copy = db + ".copy"
    for suffix in ("-wal", ""):
        if os.path.exists(copy + suffix):
            os.unlink(copy + suffix)
        if os.path.exists(db + suffix):
            shutil.copyfile(db + suffix, copy + suffix)
    return copy


def inspect(db_copy):
    """integrity_check, foreign_key_check, and {(kind, marker): ids} of
    the records whose text holds a marker."""
    found = {}
    con = sqlite3.connect(db_copy)
    try:
        check = con.execute("PRAGMA integrity_check").fetchall()
        fk = con.execute("PRAGMA foreign_key_check").fetchall()
        for kind, sql in (("unit", "SELECT unit, text FROM variants"),
                          ("entry", "SELECT entry, text FROM terms")):
            for rid, text in con.execute(sql):
                for m in MARKER.findall(text):
                    found.setdefault((kind, m), set()).add(rid)
    finally:
        con.close()
    return check, fk, found


def stored(client, rec):
    """(content, history rows, problem or None) of REC as the server holds
    it; a problem when the record or its history is missing, or the last
    change of the history is not the record."""
    k = KINDS[rec.kind]
    r = client.request("GET", k["path"] + str(rec.id))
    if r.status != 200:
        return None, 0, f"GET {rec.kind} {rec.id}: {r!r}"
    seen = k["seen"](r.json())
    h = client.request("GET", k["path"] + str(rec.id) + "/history")
    if h.status != 200:
        return seen, 0, f"history of {rec.kind} {rec.id}: {h!r}"
    changes = h.json().get("changes", [])
    actions = [c.get("action") for c in changes]
    if actions[:1] != ["create"] or set(actions[1:]) - {"update"}:
        return seen, len(changes), f"{rec.kind} {rec.id}: actions {actions}"
    if k["seen"](changes[-1].get("after") or {}) != seen:
        return seen, len(changes), (f"{rec.kind} {rec.id}: the last change "
                                    f"of its history is not the record")
    return seen, len(changes), None


def check_round(rnd, s, workers, records, found):
    """With S, the server restarted after the kill: settles the changes
    that were in flight, then checks every record of every round."""
    client = s.client()
    problems = []
    inflight = inflight_stored = 0
    for w in workers:
        op = w.pending
        if not op:
            continue
        inflight += 1
        if op.action == "create":
            ids = found.get((op.kind, op.marker), set())
            if len(ids) > 1:
                problems.append(f"{op.marker}: stored {len(ids)} times")
            elif ids:
                rec = Record(op.kind, next(iter(ids)), op.content, False)
                records[(op.kind, rec.id)] = rec
                w.own.append(rec)
                inflight_stored += 1
        else:
            seen, _, problem = stored(client, op.record)
            if problem:
                problems.append(problem)
            elif seen == op.content:
                op.record.content = op.content
                op.record.changes += 1
                inflight_stored += 1
    whole = acked_stored = 0
    for rec in records.values():
        seen, nchanges, problem = stored(client, rec)
        if problem:
            problems.append(problem)
        elif seen != rec.content:
            problems.append(f"{rec.kind} {rec.id}: {seen!r}, want "
                            f"{rec.content!r}")
        elif nchanges != rec.changes:
            problems.append(f"{rec.kind} {rec.id}: {nchanges} history rows "
                            f"for {rec.changes} changes")
        else:
            whole += 1
            acked_stored += rec.acked_in.get(rnd, 0)
    client.close()
    # Nothing stored twice, nothing stored that nobody sent.
    for kind in KINDS:
        held = {rid for (k, _), ids in found.items() if k == kind
                for rid in ids}
        want = {rid for (k, rid) in records if k == kind}
        if held != want:
            problems.append(f"{kind}s stored and not expected: "
                            f"{sorted(held - want)[:10]}; expected and not "
                            f"stored: {sorted(want - held)[:10]}")
    acked = sum(w.acked for w in workers)
    acked_records = sum(r.acked for r in records.values())
    print(f"# round {rnd}: {acked} changes acknowledged "
          f"({sum(w.created for w in workers)} created, "
          f"{sum(w.updated for w in workers)} corrected), {acked_stored} "
          f"stored; {inflight} unanswered when the server died, "
          f"{inflight_stored} of them stored whole, the others not at all; "
          f"the database holds {whole} of "
          f"{len(records)} records whole ({acked_records} acknowledged "
          f"creations, {len(records) - acked_records} stored in flight)",
          flush=True)
    tap.ok(not problems and whole == len(records) and acked_stored == acked,
           f"round {rnd}: every acknowledged change is stored whole with "
           f"its history row; changes in flight are whole or absent",
           "\n".join(problems[:20]))
    return inflight


def kill_round(rnd, s, workers, rng):
    """Runs the workers against S until a SIGKILL at a random moment."""
    for w in workers:
        w.start_round(rnd, s.port)
    deadline = time.time() + ACK_WAIT
    while (sum(w.acked for w in workers) < ACKS_BEFORE_KILL
           and time.time() < deadline
           and all(w.thread.is_alive() for w in workers)):
        time.sleep(0.01)
    time.sleep(rng.uniform(0.1, 1.0))
    s.proc.send_signal(signal.SIGKILL)
    rc = s.proc.wait(timeout=60)
    for w in workers:
        w.thread.join(timeout=120)
    errors = [e for w in workers for e in w.errors]
    errors += [f"worker {w.n} still runs" for w in workers
               if w.thread.is_alive()]
    tap.ok(rc == -signal.SIGKILL and not errors
           and sum(w.acked for w in workers) >= ACKS_BEFORE_KILL,
           f"round {rnd}: {WORKERS} clients wrote until SIGKILL stopped the "
           f"server",
           "\n".join(errors[:10]) or f"exit status {rc}, "
           f"{sum(w.acked for w in workers)} changes acknowledged\n"
           + s.log_text())


def crash_rounds():
    seed = int(os.environ.get("TM_CRASH_SEED") or time.time_ns() % 1000003)
    print(f"# seed {seed} (TM_CRASH_SEED={seed} repeats its choices)",
          flush=True)
    rng = random.Random(seed)
    work = tempfile.mkdtemp(prefix="tm-crash-")
    db = os.path.join(work, "tm.sqlite")
    s = Server(tap, db=db)
    servers = [s]
    records = {}
    lock = threading.Lock()
    inflight = 0
    try:
        s.start()
        workers = [Worker(n, s.token("contributor", f"crash worker {n}"),
                          records, lock, random.Random(rng.random()))
                   for n in range(1, WORKERS + 1)]
        for rnd in range(1, ROUNDS + 1):
            kill_round(rnd, s, workers, rng)
            check, fk, found = inspect(copy_db(db))
            tap.eq(check, [("ok",)], f"round {rnd}: the database the kill "
                   f"left passes integrity_check")
            tap.eq(fk, [], f"round {rnd}: and foreign_key_check")
            s = Server(tap, db=db)
            servers.append(s)
            s.start()
            inflight += check_round(rnd, s, workers, records, found)
        tap.ok(inflight > 0, f"the kills caught changes in flight "
               f"({inflight})")
        tap.eq(s.stop(signal.SIGTERM), 0, "the last server stops cleanly")
        con = sqlite3.connect(db)
        check = con.execute("PRAGMA integrity_check").fetchall()
        con.close()
        tap.eq(check, [("ok",)], "and its database passes integrity_check")
    finally:
        for srv in servers:
            if srv.proc and srv.proc.poll() is None:
                srv.proc.kill()
                srv.proc.wait()
            srv.log.close()
            shutil.rmtree(srv.dir, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


def main():
    tap.run(crash_rounds)
    tap.done()


main()
