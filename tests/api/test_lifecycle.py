#!/usr/bin/env python3
"""End-to-end tests of tm-server's life: options, --private, a request in
flight when SIGTERM arrives, a clean close of the database, SIGINT, and
abuse of the HTTP layer (huge headers, half requests).

Usage: test_lifecycle.py TM_SERVER TM   (prints TAP)
"""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SERVER, Server, Tap, is_error, q  # noqa: E402

tap = Tap()


def options():
    r = subprocess.run([SERVER, "--help"], capture_output=True, timeout=60)
    tap.ok(r.returncode == 0 and b"--listen HOST:PORT" in r.stdout,
           "--help prints the usage and exits 0")
    r = subprocess.run([SERVER, "--threads", "zero"], capture_output=True,
                       timeout=60)
    tap.ok(r.returncode == 2 and b"--threads" in r.stderr,
           "a bad option value: exit 2 with a message", r.stderr)
    r = subprocess.run([SERVER, "--listen", "nowhere"], capture_output=True,
                       timeout=60)
    tap.ok(r.returncode != 0 and b"nowhere" in r.stderr,
           "a bad --listen: a message and a failure", r.stderr)


def private_mode():
    with Server(tap, args=["--private"]) as s:
        r = s.get("/api/v1/terms?" + q(q="POW"))
        tap.ok(is_error(r, 401, "unauthorized"),
               "--private: reading needs a token", r)
        r = s.get("/mymemory/get?" + q(q="x", langpair="en|ko"))
        tap.ok(is_error(r, 401, "unauthorized"), "--private covers MyMemory")
        tok = s.token("contributor")
        r = s.get("/api/v1/terms?" + q(q="POW"), token=tok)
        tap.eq(r.status, 200, "--private: any role reads")
        r = s.get("/mymemory/get?" + q(q="x", langpair="en|ko", key=tok))
        tap.eq(r.status, 200, "--private: MyMemory's key= works")
        for path in ("/healthz", "/metrics", "/openapi.json"):
            tap.eq(s.get(path).status, 200, f"--private: {path} stays open")


def abuse(s):
    r = s.raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200000 +
              b"\r\n\r\n")
    tap.ok(r.startswith(b"HTTP/1.1 4"), "a 200 KB header is refused",
           r[:100])
    r = s.raw(b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    tap.ok(r.startswith(b"HTTP/1.1 4"), "a 100 KB URI is refused", r[:100])
    r = s.raw(b"NONSENSE\r\n\r\n")
    tap.ok(r == b"" or r.startswith(b"HTTP/1.1 4"),
           "a malformed request line is refused", r[:100])
    tap.eq(s.get("/healthz", fresh=True).status, 200,
           "the server still answers")


def reads_during_import(s):
    """Writes run on the writer thread: a long import neither stalls the
    worker that received it nor the reads on any connection."""
    tok = s.token("admin")
    tmx = ('<?xml version="1.0"?><tmx version="1.4"><header srclang="en" '
           'datatype="plaintext" segtype="sentence" adminlang="en" o-tmf="x" '
           'creationtool="x" creationtoolversion="1"/><body>' +
           "".join(f'<tu><tuv xml:lang="en"><seg>Sentence {i} of a long '
                   f'import.</seg></tuv><tuv xml:lang="ko"><seg>긴 가져오기의 '
                   f'{i}번 문장.</seg></tuv></tu>' for i in range(60000)) +
           "</body></tmx>")
    done = {}

    def run():
        t0 = time.time()
        done["reply"] = s.post("/api/v1/memories/big/import?format=tmx", tmx,
                               token=tok, fresh=True)
        done["seconds"] = time.time() - t0

    th = threading.Thread(target=run)
    th.start()
    slowest, reads = 0.0, 0
    while th.is_alive():
        t0 = time.time()
        r = s.get("/api/v1/terms?" + q(q="POW"), fresh=True)
        slowest = max(slowest, time.time() - t0)
        reads += r.status == 200
    th.join()
    tap.ok(done["reply"].status == 200 and
           done["reply"].json().get("imported") == 60000,
           "a 60,000-unit import", done["reply"])
    tap.ok(reads >= 1 and slowest < max(0.2, done["seconds"] / 2),
           f"reads go on during it ({reads} reads, slowest "
           f"{slowest * 1e3:.0f} ms, import {done['seconds'] * 1e3:.0f} ms)")


def shutdown():
    s = Server(tap)
    s.start()
    tok = s.token("admin")
    tmx = ('<?xml version="1.0"?><tmx version="1.4"><header srclang="en" '
           'datatype="plaintext" segtype="sentence" adminlang="en" o-tmf="x" '
           'creationtool="x" creationtoolversion="1"/><body>' +
           "".join(f'<tu><tuv xml:lang="en"><seg>Sentence number {i} of the '
                   f'webinar.</seg></tuv><tuv xml:lang="ko"><seg>웨비나의 {i}번 '
                   f'문장.</seg></tuv></tu>' for i in range(200)) +
           "</body></tmx>").encode()
    head = (f"POST /api/v1/memories/late/import?format=tmx HTTP/1.1\r\n"
            f"Host: x\r\nAuthorization: Bearer {tok}\r\n"
            f"Content-Length: {len(tmx)}\r\n\r\n").encode()
    idle = socket.create_connection(("127.0.0.1", s.port))
    busy = socket.create_connection(("127.0.0.1", s.port))
    busy.settimeout(60)
    # Half a request is in flight when SIGTERM arrives ...
    busy.sendall(head + tmx[:len(tmx) // 2])
    time.sleep(0.5)
    s.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    tap.ok(s.proc.poll() is None, "SIGTERM waits for the request in flight")
    refused = False
    try:
        socket.create_connection(("127.0.0.1", s.port), timeout=5).close()
    except OSError:
        refused = True
    tap.ok(refused, "no new connections once stopping")
    # ... and is finished.
    busy.sendall(tmx[len(tmx) // 2:])
    out = b""
    while True:
        chunk = busy.recv(65536)
        if not chunk:
            break
        out += chunk
    busy.close()
    tap.ok(out.startswith(b"HTTP/1.1 200") and b'"imported":200' in out,
           "the request in flight is answered", out[:300])
    tap.ok(b"\r\nConnection: close\r\n" in out,
           "and its connection closed")
    try:
        rc = s.proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        s.proc.kill()
        rc = s.proc.wait()
    idle.close()
    tap.eq(rc, 0, "exit status 0 after SIGTERM")
    tap.ok(not os.path.exists(s.db + "-wal") or
           os.path.getsize(s.db + "-wal") == 0,
           "no WAL left behind: the database was closed cleanly")
    con = sqlite3.connect(s.db)
    check = con.execute("PRAGMA integrity_check").fetchone()[0]
    count = con.execute("SELECT count(*) FROM units").fetchone()[0]
    con.close()
    tap.eq(check, "ok", "the database passes integrity_check")
    tap.eq(count, 200, "the import finished during shutdown is stored")
    s.log.close()

    # SIGINT does the same, and the database opens again.
    s2 = Server(tap, db=s.db)
    s2.start()
    r = s2.get("/api/v1/stats")
    tap.ok(any(m["name"] == "late" and m["units"] == 200
               for m in r.json()["memories"]), "a restart sees the data")
    tap.eq(s2.stop(signal.SIGINT), 0, "exit status 0 after SIGINT")
    s2.log.close()


def main():
    tap.run(options)
    tap.run(private_mode)
    with Server(tap) as s:
        tap.run(abuse, s)
        tap.run(reads_during_import, s)
    tap.run(shutdown)
    tap.done()


main()
