#!/usr/bin/env python3
"""A bounded soak test of tm-server: concurrent readers and writers on
loopback for a fixed number of requests or seconds, whichever comes first.

The server runs on a temporary database (with the shipped glossaries, as
every new database has them) and a memory of seed units.  Readers search
terms, matches and concordances, read entries, units and histories and page
through listings; writers, each with a contributor and a reviewer token,
contribute units and entries, correct them, approve them and delete them,
keeping at most LIVE_MAX records each alive so that the data, and with it
the in-memory index, stays the same size while the load goes on.  Each
reader and writer is a process of its own, with one keep-alive connection.

It fails on any 5xx, on any status the request should not get, on a
connection the server dropped, when the database after a clean stop does
not hold exactly what the server acknowledged (each record once, its last
acknowledged content and status, a history row per change), and when the
server's resident memory grows past the bound below after the warm-up.

Usage: soak.py TM_SERVER TM [--requests N] [--seconds S] [--readers N]
                            [--writers N] [--threads N]
Prints TAP; the last diagnostic line is the summary.
"""

import argparse
import http.client
import multiprocessing
import os
import random
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
import traceback

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "api"))
from harness import (Client, Server, Tap, entry_seen, q,  # noqa: E402
                     unit_seen)

# Records a writer keeps alive: past this it deletes its oldest first.
LIVE_MAX = 150
# The share of the run (of its requests or of its seconds, whichever is
# further along) that warms the server up before the first RSS sample: the
# SQLite page caches and every reader's entry cache fill, the heap of each
# worker thread grows to its working size.
WARMUP = 0.2
# The memory bound after the warm-up: 10 % of the RSS then, plus 16 MiB.
# What legitimately comes and goes: the match index keeps the units written
# since its last build in a delta and is rebuilt from SQLite once the delta
# holds 4096 docs (some 1,400 unit writes), the old and the new index side
# by side for a moment.  Measured on the default mix, RSS swings by 6-8 MiB
# over that cycle once in it (48-54 MiB); a short run, whose warm-up ends
# before the first rebuild, has grown by up to 11 MiB.  What the bound
# catches: after the warm-up of make soak's 200,000 requests come 160,000
# more, and a leak of 150 bytes a request adds 23 MiB; the 25-second run of
# make test (some 25,000 requests) catches a leak of a reply body a request.
RSS_SLACK = 0.10
RSS_EXTRA = 16 << 20
SEED_UNITS = 3000

tap = Tap()


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("server")
    p.add_argument("tm")
    p.add_argument("--requests", type=int, default=200000)
    p.add_argument("--seconds", type=float, default=300)
    p.add_argument("--readers", type=int, default=6)
    p.add_argument("--writers", type=int, default=2)
    p.add_argument("--threads", type=int, default=2,
                   help="tm-server's worker threads")
    return p.parse_args()


def rss(pid):
    """The resident set of process PID in bytes (VmRSS)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def mib(n):
    return f"{n / (1 << 20):.1f} MiB"


# ---------------------------------------------------------------- the run

class Budget:
    """The run's requests, counted in ISSUED, which every client process
    shares, and its deadline (CLOCK_MONOTONIC is the same in every
    process)."""

    def __init__(self, requests, deadline, issued):
        self.requests = requests
        self.deadline = deadline
        self.issued = issued
        self.stopped = False

    def take(self):
        """True when one more request may be sent."""
        if self.stopped or time.monotonic() >= self.deadline:
            return False
        with self.issued.get_lock():
            if self.issued.value >= self.requests:
                self.stopped = True
                return False
            self.issued.value += 1
        return True


class Stats:
    """One client's counts; the parent adds them up."""

    def __init__(self):
        self.requests = self.reads = self.writes = 0
        self.server_errors = 0  # 5xx
        self.unexpected = 0     # any other status the request should not get
        self.dropped = 0        # no answer at all
        self.samples = []       # the first few failures, for the diagnostics

    def record(self, kind, status, want, what, reply=None):
        self.requests += 1
        if kind == "read":
            self.reads += 1
        else:
            self.writes += 1
        if status in want:
            return True
        if status is None:
            self.dropped += 1
        elif status >= 500:
            self.server_errors += 1
        else:
            self.unexpected += 1
        if len(self.samples) < 10:
            self.samples.append(f"{what[:200]}: {status} {reply!r}")
        return False

    def add(self, other):
        for k in ("requests", "reads", "writes", "server_errors",
                  "unexpected", "dropped"):
            setattr(self, k, getattr(self, k) + getattr(other, k))
        self.samples += other.samples[:10 - len(self.samples)]


def call(client, stats, budget, kind, method, path, want, body=None,
         token=None):
    try:
        r = client.request(method, path, body, token=token)
    except (OSError, http.client.HTTPException) as e:
        stats.record(kind, None, want, f"{method} {path}", e)
        budget.stopped = True  # the server is gone or broke the connection
        return None
    if stats.record(kind, r.status, want, f"{method} {path}", r):
        return r
    return None


class Reader:
    def __init__(self, n, port, budget, stats, data):
        self.rng = random.Random(n)
        self.client = Client(port)
        self.budget = budget
        self.stats = stats
        self.d = data

    def get(self, path):
        return call(self.client, self.stats, self.budget, "read", "GET", path,
                    (200,))

    def run(self):
        rng, d = self.rng, self.d
        ops = [(30, self.terms), (15, self.match), (10, self.concordance),
               (15, self.entry), (8, self.unit), (12, self.listing),
               (5, self.history), (5, self.overview)]
        weights = [w for w, _ in ops]
        fns = [f for _, f in ops]
        while self.budget.take():
            rng.choices(fns, weights)[0](rng, d)
        self.client.close()

    def terms(self, rng, d):
        t = rng.choice(d["terms"])
        x = rng.random()
        if x < 0.15:
            t = "soak term"  # the writers' entries, changing meanwhile
        elif x < 0.45:
            t = t[:max(2, len(t) // 2)]
        self.get("/api/v1/terms?" + q(q=t, limit=rng.choice((5, 10, 20))))

    def match(self, rng, d):
        if rng.random() < 0.2:
            text = "Soak sentence about the ceasefire talks."
        else:
            text = rng.choice(d["sentences"])
        self.get("/api/v1/tm/match?" + q(q=text, **{"from": "en"},
                                         to="ko,uk", min=60))

    def concordance(self, rng, d):
        word = rng.choice(rng.choice(d["sentences"]).split())
        self.get("/api/v1/tm/concordance?" + q(q=word, lang="en", limit=10))

    def entry(self, rng, d):
        self.get(f"/api/v1/entries/{rng.choice(d['entries'])}")

    def unit(self, rng, d):
        self.get(f"/api/v1/tm/units/{rng.choice(d['units'])}")

    def history(self, rng, d):
        if rng.random() < 0.5:
            self.get(f"/api/v1/entries/{rng.choice(d['entries'])}/history")
        else:
            self.get(f"/api/v1/tm/units/{rng.choice(d['units'])}/history")

    def listing(self, rng, d):
        g = rng.choice(d["glossaries"])
        path = (f"/api/v1/glossaries/{g}/entries?" +
                q(sort=rng.choice(("en", "ko", "uk")), limit=50))
        r = self.get(path)
        if r and rng.random() < 0.5 and self.budget.take():
            after = r.json().get("next")
            self.get(path + "&" + q(after=after) if after else path)

    def overview(self, rng, d):
        self.get(rng.choice(("/api/v1/stats", "/api/v1/memories",
                             "/api/v1/glossaries", "/healthz")))


class Record:
    def __init__(self, kind, rid, content, status):
        self.kind = kind
        self.id = rid
        self.content = content
        self.status = status
        self.deleted = False
        self.changes = 1


def unit_content(m):
    return {"en": f"Soak sentence {m} about the ceasefire talks.",
            "ko": f"휴전 회담에 관한 부하 시험 문장 {m}.",
            "uk": f"Речення навантаження {m} про переговори щодо перемир'я."}


def entry_content(m):
    return {"terms": {"en": [f"soak term {m}"], "ko": [f"부하 용어 {m}"],
                      "uk": [f"термін навантаження {m}"]},
            "definition": f"a term of the soak test {m}"}


KINDS = {
    "unit": ("/api/v1/tm/units", "/api/v1/tm/units/", unit_content,
             unit_seen, lambda c: {"memory": "soak", "variants": c}),
    "entry": ("/api/v1/glossaries/soak/entries", "/api/v1/entries/",
              entry_content, entry_seen, lambda c: c),
}


class Writer:
    """Contributes with its contributor token; approves, corrects approved
    records and deletes with its reviewer token.  Remembers what every
    acknowledged change stored."""

    def __init__(self, n, port, budget, stats, contributor, reviewer):
        self.n = n
        self.rng = random.Random(1000 + n)
        self.client = Client(port)
        self.budget = budget
        self.stats = stats
        self.contributor = contributor
        self.reviewer = reviewer
        self.records = []  # every record it created
        self.live = []     # the ones not deleted, oldest first
        self.seq = 0
        self.mismatches = []

    def write(self, method, path, want, body=None, token=None):
        return call(self.client, self.stats, self.budget, "write", method,
                    path, want, body, token)

    def check(self, cond, what):
        if not cond and len(self.mismatches) < 10:
            self.mismatches.append(what)

    def run(self):
        while self.budget.take():
            self.step()
        self.client.close()

    def step(self):
        rng = self.rng
        self.seq += 1
        m = f"s{self.n}n{self.seq}"
        drafts = [r for r in self.live if r.status == "draft"]
        x = rng.random()
        if len(self.live) >= LIVE_MAX:
            self.delete(self.live[0])
        elif x < 0.45 or not self.live:
            self.create("unit" if rng.random() < 0.6 else "entry", m)
        elif x < 0.75 or not drafts:
            self.correct(rng.choice(self.live), m)
        else:
            self.approve(rng.choice(drafts))

    def create(self, kind, m):
        create, _, content, seen, body = KINDS[kind]
        c = content(m)
        r = self.write("POST", create, (201,), body(c), self.contributor)
        if r:
            rec = Record(kind, r.json()[kind], c, "draft")
            self.records.append(rec)
            self.live.append(rec)

    def correct(self, rec, m):
        _, path, content, seen, body = KINDS[rec.kind]
        c = content(m)
        tok = self.contributor if rec.status == "draft" else self.reviewer
        r = self.write("PUT", path + str(rec.id), (200,), body(c), tok)
        if r:
            j = r.json()
            self.check(seen(j) == c, f"PUT {rec.kind} {rec.id} answered "
                       f"{seen(j)!r}")
            rec.content = c
            rec.status = j.get("status")
            rec.changes += 1

    def approve(self, rec):
        _, path, _, _, _ = KINDS[rec.kind]
        r = self.write("POST", path + f"{rec.id}/approve", (200,),
                       token=self.reviewer)
        if r:
            rec.status = r.json().get("status")
            self.check(rec.status == "approved", f"approve {rec.kind} "
                       f"{rec.id} answered {rec.status}")
            rec.changes += 1

    def delete(self, rec):
        _, path, _, _, _ = KINDS[rec.kind]
        self.live.remove(rec)  # even when it fails: that was counted
        if self.write("DELETE", path + str(rec.id), (204,),
                      token=self.reviewer):
            rec.deleted = True
            rec.changes += 1


# ---------------------------------------------------------------- set-up

def seed_units(s, admin):
    """A memory "seed" of SEED_UNITS units: the shared corpus's first rows
    when it is there, else made-up sentences."""
    corpus = os.path.join(os.environ.get("TM_SHARED_DIR", ""), "data",
                          "corpus", "en-ko-uk.tsv")
    lines = []
    if os.path.exists(corpus):
        with open(corpus, encoding="utf-8") as f:
            header = f.readline().rstrip("\n").split("\t")
            for line in f:
                cells = line.rstrip("\n").split("\t")
                row = dict(zip(header, cells))
                # Short rows only: q may hold 2,000 bytes at most.
                if (all(row.get(k) for k in ("en", "ko", "uk"))
                        and len(line) < 600):
                    lines.append("\t".join(row[k] for k in ("en", "ko", "uk")))
                if len(lines) == SEED_UNITS:
                    break
    else:
        for i in range(SEED_UNITS):
            lines.append(f"Seed sentence number {i} of the soak test.\t"
                         f"부하 시험의 {i}번 시드 문장.\t"
                         f"Речення {i} тесту навантаження.")
    tsv = "en\tko\tuk\n" + "\n".join(lines) + "\n"
    r = s.post("/api/v1/memories/seed/import?format=tsv", tsv, token=admin)
    if r.status != 200:
        raise RuntimeError(f"seed import: {r!r}")
    return [line.split("\t")[0].replace("\\t", " ").replace("\\n", " ")
            .replace("\\\\", "\\") for line in lines]


def gather(s, sentences):
    """What the readers read: term texts and entry ids of the shipped
    glossaries, the seed units' ids and English sentences."""
    d = {"terms": [], "entries": [], "units": [], "glossaries": []}
    for g in s.get("/api/v1/glossaries").json()["glossaries"]:
        if g["name"] in ("default", "soak"):
            continue
        d["glossaries"].append(g["name"])
        after = None
        while True:
            r = s.get(f"/api/v1/glossaries/{g['name']}/entries?" +
                      q(limit=500, **({"after": after} if after else {})))
            j = r.json()
            for e in j["entries"]:
                d["entries"].append(e["entry"])
                for ts in e["terms"].values():
                    d["terms"] += [t["text"] for t in ts]
            after = j.get("next")
            if not after:
                break
    for rid in range(1, 100000):
        r = s.get(f"/api/v1/tm/units/{rid}")
        if r.status == 200 and r.json()["memory"] == "seed":
            d["units"].append(rid)
        if len(d["units"]) == 200:
            break
    d["sentences"] = sentences
    if not (d["terms"] and d["entries"] and d["units"]):
        raise RuntimeError("nothing to read: " + repr(
            {k: len(v) for k, v in d.items()}))
    return d


# ----------------------------------------------------------- verification

def verify(db, records):
    """Compares the database after a clean stop with what the writers were
    told; a list of problems."""
    problems = []
    con = sqlite3.connect(db)
    try:
        check = con.execute("PRAGMA integrity_check").fetchall()
        if check != [("ok",)]:
            problems.append(f"integrity_check: {check}")
        held = {"unit": {}, "entry": {}}
        for rid, status, deleted in con.execute(
                "SELECT u.id, u.status, u.deleted FROM units u JOIN "
                "collections c ON c.id = u.collection WHERE c.name = 'soak'"):
            held["unit"][rid] = {"status": status, "deleted": deleted,
                                 "content": {}}
        for rid, status, deleted, definition in con.execute(
                "SELECT e.id, e.status, e.deleted, e.definition FROM entries "
                "e JOIN collections c ON c.id = e.collection "
                "WHERE c.name = 'soak'"):
            held["entry"][rid] = {"status": status, "deleted": deleted,
                                  "content": {"terms": {},
                                              "definition": definition}}
        for rid, lang, text in con.execute(
                "SELECT unit, lang, text FROM variants"):
            if rid in held["unit"]:
                held["unit"][rid]["content"][lang] = text
        for rid, lang, text in con.execute(
                "SELECT entry, lang, text FROM terms ORDER BY entry, seq"):
            if rid in held["entry"]:
                held["entry"][rid]["content"]["terms"].setdefault(
                    lang, []).append(text)
        # libtm's history kinds: 1 a unit, 2 an entry.
        history = {(k, t): n for k, t, n in con.execute(
            "SELECT kind, target, count(*) FROM history GROUP BY 1, 2")}
    finally:
        con.close()
    status_code = {"draft": 0, "approved": 1}
    expected = {"unit": {}, "entry": {}}
    for rec in records:
        if rec.id in expected[rec.kind]:
            problems.append(f"{rec.kind} {rec.id} acknowledged twice")
        expected[rec.kind][rec.id] = rec
    for kind, hist_kind in (("unit", 1), ("entry", 2)):
        lost = set(expected[kind]) - set(held[kind])
        extra = set(held[kind]) - set(expected[kind])
        if lost:
            problems.append(f"{len(lost)} acknowledged {kind}s missing: "
                            f"{sorted(lost)[:10]}")
        if extra:
            problems.append(f"{len(extra)} {kind}s nobody was told of: "
                            f"{sorted(extra)[:10]}")
        for rid, rec in expected[kind].items():
            h = held[kind].get(rid)
            if not h:
                continue
            if h["deleted"] != int(rec.deleted):
                problems.append(f"{kind} {rid}: deleted {h['deleted']}, "
                                f"want {int(rec.deleted)}")
            elif h["content"] != rec.content:
                problems.append(f"{kind} {rid}: {h['content']!r}, want "
                                f"{rec.content!r}")
            elif h["status"] != status_code.get(rec.status):
                problems.append(f"{kind} {rid}: status {h['status']}, want "
                                f"{rec.status}")
            n = history.get((hist_kind, rid), 0)
            if n != rec.changes:
                problems.append(f"{kind} {rid}: {n} history rows for "
                                f"{rec.changes} changes")
    return problems, {k: len(v) for k, v in expected.items()}


# -------------------------------------------------------------------- main

def client_main(role, n, port, data, tokens, requests, deadline, issued,
                conn):
    """A reader or writer in a process of its own (one Python process
    cannot send more than a core's worth of requests); sends its counts,
    and a writer its records, to the parent through CONN."""
    budget = Budget(requests, deadline, issued)
    stats = Stats()
    out = {"stats": stats, "records": [], "mismatches": [], "error": None}
    try:
        if role == "reader":
            Reader(n, port, budget, stats, data).run()
        else:
            w = Writer(n, port, budget, stats, *tokens)
            w.run()
            out["records"] = w.records
            out["mismatches"] = w.mismatches
    except Exception:  # noqa: BLE001 - reported by the parent
        out["error"] = traceback.format_exc()
    conn.send(out)
    conn.close()


def soak(args):
    work = tempfile.mkdtemp(prefix="tm-soak-")
    try:
        run(args, Server(tap, db=os.path.join(work, "tm.sqlite"),
                         threads=args.threads))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args, s):
    with s:
        admin = s.token("admin", "soak admin")
        for path in ("/api/v1/memories", "/api/v1/glossaries"):
            r = s.post(path, {"name": "soak"}, token=admin)
            if r.status != 201:
                raise RuntimeError(f"POST {path}: {r!r}")
        data = gather(s, seed_units(s, admin))
        s.close_conn()
        roles = [("reader", n, None) for n in range(args.readers)] + [
            ("writer", n, (s.token("contributor", f"soak writer {n}"),
                           s.token("reviewer", f"soak reviewer {n}")))
            for n in range(args.writers)]
        mp = multiprocessing.get_context("fork")
        issued = mp.Value("q", 0)
        start = time.monotonic()
        deadline = start + args.seconds
        procs = []
        for role, n, tokens in roles:
            parent, child = mp.Pipe(duplex=False)
            p = mp.Process(target=client_main, daemon=True,
                           args=(role, n, s.port, data, tokens, args.requests,
                                 deadline, issued, child))
            p.start()
            child.close()
            procs.append((p, parent))
        pid = s.proc.pid
        samples = []  # (seconds, requests, rss) after the warm-up
        rss_start = None
        results = [None] * len(procs)
        while any(r is None for r in results):
            time.sleep(0.5)
            for i, (p, conn) in enumerate(procs):
                if results[i] is None and (conn.poll() or not p.is_alive()):
                    try:
                        results[i] = conn.recv()
                    except EOFError:
                        results[i] = {"stats": Stats(), "records": [],
                                      "mismatches": [], "error":
                                      f"client {i} died: {p.exitcode}"}
            now = rss(pid)
            elapsed = time.monotonic() - start
            done = issued.value
            if (rss_start is None and
                    max(done / args.requests, elapsed / args.seconds)
                    >= WARMUP):
                rss_start = now
            if rss_start is not None:
                samples.append((elapsed, done, now))
        seconds = time.monotonic() - start
        for p, _ in procs:
            p.join()
        rss_end = rss(pid)
        wal = os.path.getsize(s.db + "-wal") if os.path.exists(
            s.db + "-wal") else 0
        for t, n, x in samples[::max(1, len(samples) // 10)]:
            print(f"# {t:6.1f} s {n:8d} requests  RSS {mib(x)}", flush=True)
        if rss_start is None:
            rss_start = rss_end
        rss_max = max([x for _, _, x in samples] + [rss_end])
        bound = rss_start * (1 + RSS_SLACK) + RSS_EXTRA

        stats = Stats()
        records = []
        problems = []
        for res in results:
            stats.add(res["stats"])
            records += res["records"]
            problems += res["mismatches"]
            if res["error"]:
                problems.append(res["error"])
        tap.ok(stats.server_errors == 0, f"no 5xx in {stats.requests} "
               f"requests", "\n".join(stats.samples))
        tap.ok(stats.unexpected == 0 and stats.dropped == 0,
               "no unexpected status and no dropped connection",
               "\n".join(stats.samples))
        tap.ok(not problems, "every client ran to its end; every write was "
               "answered with what it stored", "\n".join(problems))
        r = s.get("/api/v1/stats").json()
        live = {k: sum(1 for x in records if x.kind == k and not x.deleted)
                for k in ("unit", "entry")}
        got = {"unit": next(m["units"] for m in r["memories"]
                            if m["name"] == "soak"),
               "entry": next(g["entries"] for g in r["glossaries"]
                             if g["name"] == "soak")}
        tap.eq(got, live, "stats count the records alive")
        tap.ok(rss_end <= bound and rss_max <= bound,
               f"memory stays within {mib(bound)} after the warm-up "
               f"(start {mib(rss_start)}, end {mib(rss_end)}, "
               f"max {mib(rss_max)})",
               "\n".join(f"{t:7.1f} s {n:8d} requests {mib(x)}"
                         for t, n, x in samples[::max(1, len(samples) // 30)]))
        tap.eq(s.stop(signal.SIGTERM), 0, "tm-server stops cleanly")
        problems, counts = verify(s.db, records)
        tap.ok(not problems, f"the database holds every acknowledged write "
               f"once and nothing else ({counts['unit']} units and "
               f"{counts['entry']} entries created; their history rows)",
               "\n".join(problems[:20]))
        errors = stats.server_errors + stats.unexpected + stats.dropped
        print(f"# soak: {stats.requests} requests ({stats.reads} reads, "
              f"{stats.writes} writes) in {seconds:.1f} s, "
              f"{stats.requests / seconds:.0f} requests/s, {errors} errors "
              f"({stats.server_errors} 5xx); RSS {mib(rss_start)} after the "
              f"warm-up, {mib(rss_end)} at the end, max {mib(rss_max)}, "
              f"bound {mib(bound)}; WAL {mib(wal)}", flush=True)


def main():
    args = parse_args()
    tap.run(soak, args)
    tap.done()


if __name__ == "__main__":
    main()
