#!/usr/bin/env python3
"""Auth on every write, and --private on every read (issue #8, part 5).

The routes come from /openapi.json, which the server generates from its
routing table: each operation that needs a token says so in
`x-required-role`, and the public ones (health, metrics, the document, the
booth page) carry none.  So a route added to the table is walked here
without a change to this file, and one this file cannot build a request
for fails.

For every operation that needs a role: no token and an unknown token are
a 401, a revoked token of the role and a token one role too low are a
403, each in the contract's error shape and with nothing stored changed; the role itself is let through.  A POST open to all (analyze)
must store nothing.  With --private, every operation but the public ones
needs a token.  Tokens are stored as SHA-256 hashes only.

Usage: test_auth.py TM_SERVER TM   (prints TAP)
"""

import base64
import hashlib
import json
import os
import sqlite3
import sys
import time
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server, Tap, db_bytes, is_error  # noqa: E402

tap = Tap()
ROLES = ["contributor", "reviewer", "admin"]
OPEN = "none (a token with --private)"
WRITE_METHODS = {"post", "put", "delete", "patch"}


class Counter:
    n = 0

    @classmethod
    def next(cls):
        cls.n += 1
        return cls.n


# Bodies by the schema the document names for them.
def body_for(schema, path):
    n = Counter.next()
    tsv = f"en\tko\nauth file {n}\t인증 파일 {n}\n"
    return {
        "UnitInput": ("application/json",
                      {"variants": {"en": f"auth unit {n}",
                                    "ko": f"인증 단위 {n}"}}),
        "UnitUpdate": ("application/json", {"note": f"checked {n}"}),
        "EntryInput": ("application/json",
                       {"terms": {"en": [f"auth term {n}"]}}),
        "EntryUpdate": ("application/json", {"note": f"checked {n}"}),
        "CollectionInput": ("application/json", {"name": f"auth{n}"}),
        "TokenInput": ("application/json",
                       {"role": "contributor", "label": f"auth {n}"}),
        "AnalyzeInput": ("application/json",
                         {"text": "Prisoners were exchanged.", "lang": "en"}),
        "TmsUnit": ("application/json",
                    {"source": f"auth tms {n}", "target": f"인증 {n}"}),
        "TmsUnitList": ("application/json",
                        [{"source": f"auth store {n}",
                          "target": f"인증 저장 {n}"}]),
        "MyMemorySet": ("application/x-www-form-urlencoded",
                        f"seg=auth+mm+{n}&tra=%EC%9D%B8%EC%A6%9D&"
                        "langpair=en%7Cko"),
        "File": ("text/tab-separated-values", tsv),
    }.get(schema)


def query_values(n):
    return {"q": "prisoners", "from": "en", "lang": "en",
            "langpair": "en|ko", "seg": f"auth get {n}", "tra": f"인증 {n}",
            "text": "prisoners"}


class Ctx:
    """The server, its tokens and a maker of fresh records."""

    def __init__(self, s):
        self.s = s
        self.tok = {r: s.token(r, f"auth {r}") for r in ROLES}
        self.revoked = {}
        for r in ROLES:
            t = s.token(r, f"revoked {r}")
            s.tm("token", "revoke", str(s.token_id(t)))
            self.revoked[r] = t

    def fresh_id(self, path):
        """A record for PATH's {id}, made by the contributor (so that the
        contributor may edit it as their own draft)."""
        s = self.s
        n = Counter.next()
        if "/tm/units/" in path:
            r = s.post("/api/v1/tm/units", {"variants": {
                "en": f"auth record {n}", "ko": f"인증 기록 {n}"}},
                token=self.tok["contributor"])
            return r.json()["unit"]
        if "/entries/" in path:
            r = s.post("/api/v1/glossaries/default/entries",
                       {"terms": {"en": [f"auth record {n}"]}},
                       token=self.tok["contributor"])
            return r.json()["entry"]
        if "/tokens/" in path:
            return s.token_id(s.token("contributor", f"to revoke {n}"))
        raise AssertionError(f"no record for {{id}} of {path}")


def request_for(ctx, path, method, op):
    """A valid request of the operation: (url, body, headers), or None
    when this file cannot make one."""
    n = Counter.next()
    url = path
    query = []
    for p in op.get("parameters", []):
        name = p["name"]
        if p["in"] == "path":
            value = {"name": "default", "slang": "en", "tlang": "ko",
                     "text": "hello", "sid": f"store{n}.tsv",
                     "path": "app.js"}.get(name)
            if name == "id":
                value = str(ctx.fresh_id(path))
            if value is None:
                return None
            url = url.replace("{" + name + "}", urllib.parse.quote(value))
        elif p.get("required"):
            value = query_values(n).get(name)
            if value is None:
                return None
            query.append(f"{name}={urllib.parse.quote(value, safe='')}")
    if query:
        url += "?" + "&".join(query)
    body, headers = None, {}
    rb = op.get("requestBody")
    if rb:
        ref = next(iter(rb["content"].values()))["schema"].get("$ref", "")
        made = body_for(ref.rsplit("/", 1)[-1], path)
        if made is None:
            return None
        ctype, body = made
        headers["Content-Type"] = ctype
        if not isinstance(body, str):
            body = json.dumps(body)
    return url, body, headers


def operations(doc):
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            yield path, method, op


def snapshot(s, admin):
    out = []
    for p in ("/api/v1/stats", "/api/v1/memories/default/export?format=tsv",
              "/api/v1/glossaries/default/export?format=tsv",
              "/api/v1/tokens"):
        r = s.get(p, token=admin)
        out.append((r.status, r.body))
    return out


def denied(r, status):
    code = "unauthorized" if status == 401 else "forbidden"
    ok = is_error(r, status, code)
    if ok and status == 401:
        ok = (r.header("www-authenticate") or "").startswith("Bearer")
    return ok


def send(s, method, req, token=None, extra_headers=None, query=""):
    url, body, headers = req
    h = dict(headers)
    h.update(extra_headers or {})
    if query:
        url += ("&" if "?" in url else "?") + query
    return s.request(method.upper(), url, body=body, token=token, headers=h)


def walk_writes(s, ctx, doc):
    """Every operation that needs a role refuses the wrong tokens."""
    needing = [(p, m, op) for p, m, op in operations(doc)
               if op.get("x-required-role") not in (None, OPEN)]
    open_ops = [(p, m, op) for p, m, op in operations(doc)
                if op.get("x-required-role") in (None, OPEN)]
    tap.ok(len(needing) >= 20, f"{len(needing)} operations need a role")
    for path, method, op in needing:
        role = op["x-required-role"]
        what = f"{method.upper()} {path}"
        if not tap.ok(role in ROLES, f"{what}: a known role ({role})"):
            continue
        req = request_for(ctx, path, method, op)
        if not tap.ok(req is not None, f"{what}: this test can make a "
                      "request of it (add its parameters or body schema)"):
            continue
        before = snapshot(s, ctx.tok["admin"])
        r = send(s, method, req)
        tap.ok(denied(r, 401), f"{what} without a token: 401", r)
        r = send(s, method, req, token=ctx.revoked[role])
        tap.ok(denied(r, 403), f"{what} with a revoked {role} token: 403", r)
        r = send(s, method, req, token="tm_1_" + "0" * 64)
        tap.ok(denied(r, 401), f"{what} with an unknown token: 401", r)
        basic = base64.b64encode(b"x:" + ctx.revoked["admin"].encode())
        r = send(s, method, req, extra_headers={
            "Authorization": "Basic " + basic.decode()})
        tap.ok(denied(r, 403), f"{what} with a revoked token in Basic: 403",
               r)
        level = ROLES.index(role)
        if level > 0:
            low = ROLES[level - 1]
            r = send(s, method, req, token=ctx.tok[low])
            tap.ok(denied(r, 403), f"{what} with a {low} token: 403", r)
        if "key" in [p["name"] for p in op.get("parameters", [])]:
            # The token may come as ?key= here: the same rules.
            for t, status, who in ((ctx.revoked[role], 403, "revoked"),
                                   ("garbage", 401, "malformed")):
                r = send(s, method, req, query="key=" + t)
                tap.ok(denied(r, status), f"{what} with a {who} key: "
                       f"{status}", r)
        tap.ok(snapshot(s, ctx.tok["admin"]) == before,
               f"{what}: the refused requests changed nothing")
        r = send(s, method, req, token=ctx.tok[role])
        tap.ok(200 <= r.status < 300, f"{what} with the {role} role: "
               f"{r.status}", r)
        if "key" in [p["name"] for p in op.get("parameters", [])]:
            req = request_for(ctx, path, method, op)
            r = send(s, method, req, query="key=" + ctx.tok[role])
            tap.ok(200 <= r.status < 300, f"{what} with the {role} role "
                   f"as key: {r.status}", r)
    # What is open to all must write nothing: a route that writes but
    # says it needs no role fails here.
    for path, method, op in open_ops:
        what = f"{method.upper()} {path}"
        req = request_for(ctx, path, method, op)
        if not tap.ok(req is not None, f"{what}: this test can make a "
                      "request of it"):
            continue
        before = snapshot(s, ctx.tok["admin"])
        r = send(s, method, req)
        tap.ok(200 <= r.status < 300 and
               snapshot(s, ctx.tok["admin"]) == before,
               f"{what} is open to all and stores nothing ({r.status})", r)
    tap.ok(len(open_ops) >= 15 and any(m in WRITE_METHODS
                                       for _, m, _ in open_ops),
           f"{len(open_ops)} operations open to all")
    return needing


def walk_private(s, ctx, doc):
    """With --private, every operation but the public ones needs a
    token."""
    n_public = n_private = 0
    for path, method, op in operations(doc):
        what = f"{method.upper()} {path}"
        role = op.get("x-required-role")
        public = role is None
        tap.ok(public == ("401" not in op.get("responses", {})),
               f"{what}: the document agrees with itself on being public")
        req = request_for(ctx, path, method, op)
        if not tap.ok(req is not None, f"{what}: this test can make a "
                      "request of it"):
            continue
        if public:
            n_public += 1
            r = send(s, method, req)
            tap.ok(200 <= r.status < 300, f"{what} is public: "
                   f"{r.status} without a token", r)
            continue
        n_private += 1
        r = send(s, method, req)
        tap.ok(denied(r, 401), f"--private: {what} without a token: 401", r)
        r = send(s, method, req, token=ctx.revoked["admin"])
        tap.ok(denied(r, 403), f"--private: {what} with a revoked token: "
               "403", r)
        if role == OPEN:
            r = send(s, method, req, token=ctx.tok["contributor"])
            tap.ok(r.status not in (401, 403) and r.status < 500,
                   f"--private: {what} with a contributor token: "
                   f"{r.status}", r)
            if method == "get":
                r = s.request("HEAD", req[0])
                tap.ok(r.status == 401 and r.body == b"",
                       f"--private: HEAD {path} without a token: 401", r)
            if "key" in [p["name"] for p in op.get("parameters", [])]:
                r = send(s, method, req, query="key=" + ctx.tok["contributor"])
                tap.ok(r.status not in (401, 403) and r.status < 500,
                       f"--private: {what} with a contributor key", r)
    tap.ok(n_public >= 4 and n_private >= 20,
           f"--private: {n_public} public operations, {n_private} that need "
           "a token")
    r = s.request("OPTIONS", "/api/v1/tm/units", headers={
        "Origin": "http://example.org",
        "Access-Control-Request-Method": "POST"})
    tap.eq(r.status, 204, "--private: a CORS preflight needs no token")


def token_storage(s, ctx):
    """Tokens: 256 random bits, stored only as their SHA-256."""
    made = [s.token("contributor", "storage") for _ in range(8)]
    r = s.post("/api/v1/tokens", {"role": "reviewer", "label": "storage api"},
               token=ctx.tok["admin"])
    tap.eq(r.status, 201, "a token made through the API")
    made.append(r.json()["token"])
    made += list(ctx.tok.values()) + list(ctx.revoked.values())
    secrets = [t.split("_", 2)[2] for t in made]
    tap.ok(all(len(x) == 64 and all(c in "0123456789abcdef" for c in x)
               for x in secrets) and len(set(secrets)) == len(secrets),
           "each token holds 64 hex digits (256 bits), all different",
           made[:3])
    db = sqlite3.connect(f"file:{s.db}?mode=ro", uri=True)
    try:
        rows = dict(db.execute("SELECT id, hash FROM tokens"))
        tap.ok(all(isinstance(rows.get(s.token_id(t)), bytes)
                   and rows[s.token_id(t)] == hashlib.sha256(
                       t.split("_", 2)[2].encode()).digest()
                   for t in made),
               "each token is stored as the 32-byte SHA-256 of its secret")
        found = []
        tables = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for row in db.execute(f'SELECT * FROM "{table}"'):
                for v in row:
                    for t, x in zip(made, secrets):
                        if (isinstance(v, str) and (x in v or t in v)) or (
                                isinstance(v, bytes) and (
                                    x.encode() in v
                                    or bytes.fromhex(x) in v)):
                            found.append((table, t[:12]))
        tap.ok(not found and len(tables) >= 5,
               f"no secret in any row of {len(tables)} tables", found[:5])
    finally:
        db.close()
    raw = db_bytes(s.db)
    tap.ok(raw and not any(x.encode() in raw or bytes.fromhex(x) in raw
                           for x in secrets),
           "no secret anywhere in the database's bytes")
    listing = s.tm("token", "list").stdout.decode()
    r = s.get("/api/v1/tokens", token=ctx.tok["admin"])
    tap.ok(not any(x in listing or x in r.body.decode() for x in secrets),
           "`tm token list` and GET /api/v1/tokens show no secret")


def main():
    t0 = time.monotonic()
    with Server(tap) as s:
        ctx = Ctx(s)
        doc = s.get("/openapi.json").json()
        tap.run(walk_writes, s, ctx, doc)
        tap.run(token_storage, s, ctx)
        with Server(tap, args=["--private"], db=s.db) as p:
            ctx.s = p
            tap.run(walk_private, p, ctx, doc)
            ctx.s = s
    print(f"# {time.monotonic() - t0:.1f} s", flush=True)
    tap.done()


main()
