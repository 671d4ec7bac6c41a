"""The end-to-end tests' harness: a real tm-server on 127.0.0.1, port 0,
with a temporary database; HTTP helpers; tokens made by the real `tm`
command; and TAP output.

Usage in a test file:

    from harness import Server, Tap
    tap = Tap()
    with Server(tap) as s:
        status, headers, body = s.get("/healthz")
        tap.ok(status == 200, "healthz answers")
    tap.done()

Only the Python standard library is used.
"""

import http.client
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse

SERVER = sys.argv[1] if len(sys.argv) > 1 else "build/server/tm-server"
TM = sys.argv[2] if len(sys.argv) > 2 else "build/cli/tm"
HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
STARTUP_TIMEOUT = 120  # seconds; the sanitizer build is slow to start


class Tap:
    """Prints one TAP line per check; the plan comes last."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, diag=None):
        self.n += 1
        if cond:
            print(f"ok {self.n} - {name}", flush=True)
        else:
            self.failed += 1
            print(f"not ok {self.n} - {name}", flush=True)
            if diag is not None:
                for line in str(diag).splitlines()[:40]:
                    print(f"# {line}", flush=True)
        return bool(cond)

    def eq(self, got, want, name):
        return self.ok(got == want, name, f"got {got!r}\nwant {want!r}")

    def run(self, fn, *args):
        """Runs a group of checks; an exception is one failure."""
        try:
            fn(*args)
        except Exception:  # noqa: BLE001 - reported as TAP
            self.ok(False, f"{fn.__name__} raised", traceback.format_exc())

    def done(self):
        print(f"1..{self.n}", flush=True)
        sys.exit(1 if self.failed else 0)


class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-case names
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


class Server:
    """A tm-server on a fresh database in a temporary folder."""

    def __init__(self, tap, args=(), db=None, threads=2):
        self.tap = tap
        self.dir = tempfile.mkdtemp(prefix="tm-api-")
        self.db = db or os.path.join(self.dir, "tm.sqlite")
        self.log = open(os.path.join(self.dir, "server.log"), "w+b")
        self.args = [SERVER, "--db", self.db, "--listen", "127.0.0.1:0",
                     "--threads", str(threads), *args]
        self.proc = None
        self.port = None
        self.conn = None

    # -------------------------------------------------------------- life

    def start(self):
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE,
                                     stderr=self.log)
        deadline = time.time() + STARTUP_TIMEOUT
        line = b""
        while time.time() < deadline and not line.endswith(b"\n"):
            r, _, _ = select.select([self.proc.stdout], [], [], 1)
            if r:
                chunk = os.read(self.proc.stdout.fileno(), 256)
                if not chunk:
                    break
                line += chunk
        text = line.decode()
        if not text.startswith("listening on http://127.0.0.1:"):
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError(f"tm-server did not start: {text!r}\n"
                               + self.log_text())
        self.port = int(text.strip().rsplit(":", 1)[1])
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close_conn()
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc and self.proc.returncode != 0:
            self.tap.ok(False, f"tm-server exited with {self.proc.returncode}",
                        self.log_text())
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        return False

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Sends SIG and waits; the exit status."""
        self.close_conn()
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=timeout)

    def log_text(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")[-4000:]

    # ------------------------------------------------------------ tokens

    def tm(self, *args, check=True):
        env = dict(os.environ)
        r = subprocess.run([TM, "--db", self.db, *args], capture_output=True,
                           env=env, timeout=120)
        if check and r.returncode != 0:
            raise RuntimeError(f"tm {' '.join(args)}: {r.stderr.decode()}")
        return r

    def token(self, role, label=None):
        args = ["token", "create", "--role", role]
        if label:
            args += ["--label", label]
        return self.tm(*args).stdout.decode().strip()

    @staticmethod
    def token_id(token):
        return int(token.split("_")[1])

    # -------------------------------------------------------------- HTTP

    def close_conn(self):
        if self.conn:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=None, token=None, headers=None,
                fresh=False):
        """One request on the shared keep-alive connection (or a fresh
        one); BODY may be bytes, str, or an object sent as JSON."""
        h = dict(headers or {})
        if token:
            h["Authorization"] = f"Bearer {token}"
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        if isinstance(body, str):
            body = body.encode("utf-8")
        for attempt in range(2):
            conn = (http.client.HTTPConnection("127.0.0.1", self.port,
                                               timeout=120)
                    if fresh else self.connection())
            try:
                conn.request(method, path, body=body, headers=h)
                resp = conn.getresponse()
                data = resp.read()
                reply = Reply(resp.status,
                              {k.lower(): v for k, v in resp.getheaders()},
                              data)
                if fresh or resp.will_close:
                    conn.close()
                    if not fresh:
                        self.conn = None
                return reply
            except (ConnectionError, http.client.RemoteDisconnected):
                conn.close()
                self.conn = None
                if attempt or fresh:
                    raise
        raise AssertionError("unreachable")

    def connection(self):
        if not self.conn:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                   timeout=120)
        return self.conn

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def client(self, timeout=120):
        """A Client of its own: one per thread."""
        return Client(self.port, timeout)

    def raw(self, data, read_timeout=30):
        """Sends DATA on a new socket and returns everything read until
        the server closes or READ_TIMEOUT passes."""
        with socket.create_connection(("127.0.0.1", self.port)) as s:
            s.settimeout(read_timeout)
            s.sendall(data)
            out = b""
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    out += chunk
                    if b"\r\n\r\n" in out and _complete(out):
                        break
            except socket.timeout:
                pass
            return out


class Client:
    """One keep-alive connection for one thread.  Unlike Server.request it
    never retries: a request that fails raises (OSError or
    http.client.HTTPException), so a test knows it was not answered."""

    def __init__(self, port, timeout=120):
        self.port = port
        self.timeout = timeout
        self.conn = None

    def request(self, method, path, body=None, token=None):
        """One request; BODY, unless None, is sent as JSON."""
        h = {}
        if token:
            h["Authorization"] = f"Bearer {token}"
        if body is not None:
            body = json.dumps(body).encode("utf-8")
            h["Content-Type"] = "application/json"
        if not self.conn:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                   timeout=self.timeout)
        try:
            self.conn.request(method, path, body=body, headers=h)
            resp = self.conn.getresponse()
            data = resp.read()
        except BaseException:
            self.close()
            raise
        reply = Reply(resp.status,
                      {k.lower(): v for k, v in resp.getheaders()}, data)
        if resp.will_close:
            self.close()
        return reply

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None


def _complete(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def q(**params):
    """A query string."""
    return urllib.parse.urlencode(params, quote_via=urllib.parse.quote)


def is_error(reply, status, code):
    """True when REPLY is the contract's error shape with STATUS and
    CODE."""
    try:
        e = reply.json()["error"]
    except (ValueError, KeyError, TypeError):
        return False
    return (reply.status == status and e.get("status") == status
            and e.get("code") == code and isinstance(e.get("message"), str)
            and reply.header("content-type")
            == "application/json; charset=utf-8")


def db_bytes(path):
    """The bytes of the database file at PATH and of its WAL."""
    raw = b""
    for suffix in ("", "-wal"):
        if os.path.exists(path + suffix):
            with open(path + suffix, "rb") as f:
                raw += f.read()
    return raw


# What of a stored record (its GET, or a history row's `after`) a test
# compares with what it sent: a unit's variants, and an entry's terms by
# language with its definition.
def unit_seen(j):
    return j.get("variants")


def entry_seen(j):
    return {"terms": {lang: [t.get("text") for t in ts]
                      for lang, ts in (j.get("terms") or {}).items()},
            "definition": j.get("definition")}


# Hostile documents: BODY (units or entries) in a minimal TMX 1.4 or TBX
# v3 file, after the declaration DECL and an optional DOCTYPE.
def tmx(body, doctype="", decl='<?xml version="1.0" encoding="UTF-8"?>\n'):
    return (decl + doctype + '\n<tmx version="1.4"><header srclang="en"/>'
            "<body>\n" + body + "\n</body></tmx>\n")


def tbx(body, doctype="", decl='<?xml version="1.0" encoding="UTF-8"?>\n'):
    return (decl + doctype + '\n<tbx type="TBX-Basic" style="dca" '
            'xml:lang="en" xmlns="urn:iso:std:iso:30042:ed-2"><tbxHeader>'
            "<fileDesc><sourceDesc><p>x</p></sourceDesc></fileDesc>"
            "</tbxHeader><text><body>\n" + body + "\n</body></text></tbx>\n")


class Bait:
    """What hostile XML reaches for, in FOLDER: a file and a DTD that hold
    a random secret (`file`, `dtd`, `secret`), and a listener on
    127.0.0.1 (`port`) where its network DTDs point.  Nothing may read the
    secret into a reply or a database, nor connect to the listener."""

    def __init__(self, folder, prefix):
        self.secret = prefix + os.urandom(12).hex()
        self.file = os.path.join(folder, "secret.txt")
        self.dtd = os.path.join(folder, "secret.dtd")
        with open(self.file, "w", encoding="utf-8") as f:
            f.write(self.secret + "\n")
        with open(self.dtd, "w", encoding="utf-8") as f:
            f.write(f'<!ENTITY leak "{self.secret}">\n')
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.listener.setblocking(False)
        self.port = self.listener.getsockname()[1]

    def fetched(self):
        """True when something connected to the listener."""
        try:
            self.listener.accept()[0].close()
            return True
        except BlockingIOError:
            return False

    def close(self):
        self.listener.close()
