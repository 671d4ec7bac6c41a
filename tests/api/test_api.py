#!/usr/bin/env python3
"""End-to-end tests of the native REST API (../shared/API.md): every route,
each error status, each role, keep-alive, CORS, limits and bad input.

Usage: test_api.py TM_SERVER TM   (prints TAP)
"""

import http.client
import json
import os
import socket
import sys
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SOURCE_ROOT, Server, Tap, is_error, q  # noqa: E402

tap = Tap()

TMX = """<?xml version="1.0" encoding="UTF-8"?>
<tmx version="1.4"><header srclang="en" datatype="plaintext" segtype="sentence"
 adminlang="en" o-tmf="test" creationtool="test" creationtoolversion="1"/>
<body>
<tu><tuv xml:lang="en"><seg>The prisoners were exchanged in January.</seg></tuv>
<tuv xml:lang="ko"><seg>포로들은 1월에 교환되었다.</seg></tuv>
<tuv xml:lang="uk"><seg>Полонених обміняли в січні.</seg></tuv></tu>
<tu><tuv xml:lang="en"><seg>The exchange took place at the border.</seg></tuv>
<tuv xml:lang="ko"><seg>교환은 국경에서 이루어졌다.</seg></tuv></tu>
</body></tmx>
"""

GLOSSARY_TSV = ("en\tko\tuk\tdefinition\n"
                "drone | UAV\t드론\tдрон\tan unmanned aircraft\n"
                "artillery\t포병\tартилерія\tlarge guns\n")


def stats(s):
    return s.get("/api/v1/stats").json()


def basics(s):
    r = s.get("/healthz")
    tap.eq(r.status, 200, "GET /healthz is 200")
    tap.eq(r.json(), {"status": "ok"}, "healthz says ok")
    tap.eq(r.header("content-type"), "application/json; charset=utf-8",
           "JSON content type with charset")
    tap.eq(r.header("access-control-allow-origin"), "*", "CORS on every reply")

    r = s.request("HEAD", "/healthz")
    tap.ok(r.status == 200 and r.body == b"", "HEAD answers without a body")

    r = s.get("/")
    tap.ok(r.status == 200 and r.header("content-type").startswith("text/html"),
           "/ is the booth page (tests/browser/ test it)", r)
    r = s.get("/api/v1/nothing-here")
    tap.ok(is_error(r, 404, "not_found"), "unknown path: 404 in JSON", r)
    tap.eq(r.header("access-control-allow-origin"), "*", "CORS on errors too")

    r = s.delete("/api/v1/terms")
    tap.ok(is_error(r, 405, "method_not_allowed"), "DELETE on a GET route: 405")
    allow = r.header("allow") or ""
    tap.ok("GET" in allow and "HEAD" in allow and "OPTIONS" in allow,
           "405 names the Allow list", allow)
    r = s.request("PATCH", "/api/v1/tm/units/1")
    tap.ok(is_error(r, 405, "method_not_allowed"), "PATCH: 405", r)
    tap.ok(set(x.strip() for x in (r.header("allow") or "").split(","))
           >= {"GET", "PUT", "DELETE"}, "Allow lists every method of the path")

    r = s.get("/api/v1/tm/units/abc")
    tap.ok(is_error(r, 404, "not_found"), "non-numeric id: 404", r)
    r = s.get("/api/v1/memories/%00/export")
    tap.ok(is_error(r, 400, "invalid_parameter"), "%00 in the path: 400", r)


def preflight(s):
    r = s.request("OPTIONS", "/api/v1/tm/units", headers={
        "Origin": "http://example.org",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    tap.eq(r.status, 204, "CORS preflight: 204")
    methods = r.header("access-control-allow-methods") or ""
    tap.ok("POST" in methods, "preflight allows POST", methods)
    allowed = (r.header("access-control-allow-headers") or "").lower()
    tap.ok("authorization" in allowed and "content-type" in allowed,
           "preflight allows Authorization and Content-Type", allowed)
    tap.eq(r.header("access-control-allow-origin"), "*",
           "preflight allows any origin")
    r = s.request("OPTIONS", "/no/such/path")
    tap.ok(is_error(r, 404, "not_found"), "preflight of an unknown path: 404")


def keep_alive(s):
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
    conn.request("GET", "/healthz")
    r1 = conn.getresponse()
    r1.read()
    sock1 = conn.sock
    conn.request("GET", "/api/v1/stats")
    r2 = conn.getresponse()
    r2.read()
    tap.ok(sock1 is not None and conn.sock is sock1 and not r1.will_close,
           "two requests reuse one connection")
    tap.eq(r2.status, 200, "the second request on it is answered")
    # An error reply keeps the connection too.
    conn.request("GET", "/nope")
    r3 = conn.getresponse()
    r3.read()
    conn.request("GET", "/healthz")
    r4 = conn.getresponse()
    r4.read()
    tap.ok(conn.sock is sock1 and r3.status == 404 and r4.status == 200,
           "a 404 keeps the connection alive")
    conn.close()


def auth(s, tok):
    body = {"name": "webinar"}
    r = s.post("/api/v1/memories", body)
    tap.ok(is_error(r, 401, "unauthorized"), "write without a token: 401", r)
    tap.ok((r.header("www-authenticate") or "").startswith("Bearer"),
           "401 carries WWW-Authenticate")
    r = s.post("/api/v1/memories", body, token="tm_1_" + "0" * 64)
    tap.ok(is_error(r, 401, "unauthorized"), "unknown token: 401", r)
    r = s.post("/api/v1/memories", body, token="garbage")
    tap.ok(is_error(r, 401, "unauthorized"), "malformed token: 401", r)
    r = s.post("/api/v1/memories", body, token=tok["revoked"])
    tap.ok(is_error(r, 403, "forbidden"), "revoked token: 403", r)
    r = s.post("/api/v1/memories", body,
               headers={"Authorization": "Digest abc"})
    tap.ok(is_error(r, 401, "unauthorized"), "another scheme: 401", r)
    r = s.post("/api/v1/memories", body, token=tok["c1"])
    tap.ok(is_error(r, 403, "forbidden"), "contributor creating a memory: 403")
    r = s.post("/api/v1/memories", body, token=tok["reviewer"])
    tap.ok(is_error(r, 403, "forbidden"), "reviewer creating a memory: 403")
    r = s.post("/api/v1/memories", body, token=tok["admin"])
    tap.eq(r.status, 201, "admin creates a memory: 201")
    tap.eq(r.json().get("name"), "webinar", "the new memory is named")
    r = s.post("/api/v1/memories", body, token=tok["admin"])
    tap.ok(is_error(r, 409, "conflict"), "creating it again: 409", r)
    r = s.post("/api/v1/memories", {"name": "bad name!"}, token=tok["admin"])
    tap.ok(is_error(r, 400, "invalid_parameter"), "invalid name: 400", r)
    import base64
    basic = base64.b64encode(b"x:" + tok["admin"].encode()).decode()
    r = s.post("/api/v1/memories", {"name": "basic"},
               headers={"Authorization": "Basic " + basic})
    tap.eq(r.status, 201, "Basic auth with the token as password works")
    r = s.get("/api/v1/memories")
    names = [m["name"] for m in r.json()["memories"]]
    tap.ok({"default", "webinar", "basic"} <= set(names)
           and r.json()["next"] is None, "memories are listed", names)


def units(s, tok):
    unit = {"memory": "webinar", "variants": {
        "en": "North Korean soldiers were captured in Kursk.",
        "ko": "북한군 병사들이 쿠르스크에서 포로로 잡혔다.",
        "uk": "Північнокорейських солдатів взяли в полон на Курщині."},
        "origin": "webinar-2024-12", "note": "part 1"}
    r = s.post("/api/v1/tm/units", unit, token=tok["c1"])
    tap.eq(r.status, 201, "contributor adds a unit: 201")
    uid = r.json().get("unit")
    tap.ok(isinstance(uid, int) and uid > 0, "the answer has the unit id")
    tap.eq(r.header("location"), f"/api/v1/tm/units/{uid}", "Location header")
    r = s.post("/api/v1/tm/units", unit, token=tok["c2"])
    tap.ok(r.status == 200 and r.json().get("unit") == uid,
           "an identical unit: 200 with the same id", r)

    r = s.get(f"/api/v1/tm/units/{uid}")
    u = r.json()
    tap.eq(r.status, 200, "GET the unit")
    tap.eq(u.get("variants"), unit["variants"], "variants as sent")
    tap.ok(u.get("status") == "draft" and u.get("memory") == "webinar"
           and u.get("origin") == "webinar-2024-12" and u.get("note") == "part 1",
           "status, memory, origin, note", u)
    tap.ok(str(s.token_id(tok["c1"])) in (u.get("created_by") or "")
           and "booth A" in u.get("created_by", ""),
           "created_by names the token and its label", u.get("created_by"))
    tap.ok(all(isinstance(u.get(k), str) and u[k].endswith("Z")
               for k in ("created", "updated")), "timestamps in UTC")

    # Contributors edit their own drafts only.
    r = s.put(f"/api/v1/tm/units/{uid}", {"variants": {"ko": "북한 병사들이 "
              "쿠르스크에서 포로로 잡혔다."}}, token=tok["c2"])
    tap.ok(is_error(r, 403, "forbidden"), "another contributor's draft: 403", r)
    r = s.put(f"/api/v1/tm/units/{uid}", {"variants": {"ko": "북한 병사들이 "
              "쿠르스크에서 포로로 잡혔다."}, "note": None}, token=tok["c1"])
    tap.eq(r.status, 200, "the author corrects the draft")
    tap.ok(r.json()["variants"]["ko"].startswith("북한 병사들이")
           and r.json()["variants"]["en"] == unit["variants"]["en"]
           and r.json()["note"] is None, "only the given members change",
           r.json())
    r = s.put(f"/api/v1/tm/units/{uid}", {"status": "approved"},
              token=tok["c1"])
    tap.ok(is_error(r, 403, "forbidden"), "a contributor cannot approve", r)
    r = s.put(f"/api/v1/tm/units/{uid}", {"variants": {"uk": None}},
              token=tok["reviewer"])
    tap.ok(r.status == 200 and "uk" not in r.json()["variants"],
           "a reviewer edits any unit; null removes a variant", r)
    r = s.put(f"/api/v1/tm/units/{uid}", {"variants": {"ko": None}},
              token=tok["reviewer"])
    tap.ok(is_error(r, 400, "invalid_parameter"),
           "a unit keeps at least two languages", r)
    r = s.post(f"/api/v1/tm/units/{uid}/approve", token=tok["c1"])
    tap.ok(is_error(r, 403, "forbidden"), "contributor approve: 403", r)
    r = s.post(f"/api/v1/tm/units/{uid}/approve", token=tok["reviewer"])
    tap.ok(r.status == 200 and r.json()["status"] == "approved",
           "reviewer approves", r)
    r = s.put(f"/api/v1/tm/units/{uid}", {"note": "x"}, token=tok["c1"])
    tap.ok(is_error(r, 403, "forbidden"),
           "the author cannot edit it once approved", r)

    r = s.get(f"/api/v1/tm/units/{uid}/history")
    changes = r.json().get("changes", [])
    tap.eq([c["action"] for c in changes][:1], ["create"],
           "history starts with the creation")
    tap.ok(len(changes) >= 3, "history has every change", changes)
    tap.ok("booth A" in changes[0]["by"]
           and str(s.token_id(tok["c1"])) in changes[0]["by"],
           "history records the token", changes[0]["by"])
    tap.ok("review" in changes[-1]["by"], "and the reviewer's token",
           changes[-1]["by"])
    tap.ok(changes[1]["before"]["variants"]["ko"]
           == unit["variants"]["ko"] and
           changes[1]["after"]["variants"]["ko"].startswith("북한 병사들이"),
           "history has before and after", changes[1])

    r = s.delete(f"/api/v1/tm/units/{uid}", token=tok["c1"])
    tap.ok(is_error(r, 403, "forbidden"), "contributor delete: 403", r)
    r = s.delete(f"/api/v1/tm/units/{uid}", token=tok["reviewer"])
    tap.ok(r.status == 204 and r.body == b"", "reviewer deletes: 204", r)
    r = s.get(f"/api/v1/tm/units/{uid}")
    tap.ok(is_error(r, 404, "not_found"), "a deleted unit is gone", r)
    r = s.get(f"/api/v1/tm/units/{uid}/history")
    tap.ok(r.status == 200 and r.json()["changes"][-1]["action"] == "delete",
           "its history stays", r)
    r = s.get("/api/v1/tm/units/999999")
    tap.ok(is_error(r, 404, "not_found"), "unknown unit: 404", r)
    r = s.put("/api/v1/tm/units/999999", {"note": "x"}, token=tok["reviewer"])
    tap.ok(is_error(r, 404, "not_found"), "PUT unknown unit: 404", r)


def bad_input(s, tok):
    before = stats(s)
    r = s.post("/api/v1/tm/units", "{not json", token=tok["c1"])
    tap.ok(is_error(r, 400, "invalid_json"), "invalid JSON: 400 invalid_json",
           r)
    r = s.post("/api/v1/tm/units", b'{"variants": {"en": "caf\xe9", '
               b'"ko": "\xea\xb0\x80"}}', token=tok["c1"])
    tap.ok(is_error(r, 400, "invalid_utf8"), "invalid UTF-8 in JSON: 400", r)
    r = s.post("/api/v1/tm/units", "[1, 2]", token=tok["c1"])
    tap.ok(is_error(r, 400, "invalid_json"), "a JSON array body: 400", r)
    r = s.post("/api/v1/tm/units", "", token=tok["c1"])
    tap.ok(is_error(r, 400, "invalid_json"), "an empty body: 400", r)
    r = s.post("/api/v1/tm/units", {"variants": {"english!": "a", "ko": "b"}},
               token=tok["c1"])
    tap.ok(is_error(r, 400, "invalid_language"), "unknown language: 400", r)
    r = s.post("/api/v1/tm/units", {"variants": {"en": "only one"}},
               token=tok["c1"])
    tap.ok(is_error(r, 400, "invalid_parameter"), "one language: 400", r)
    r = s.post("/api/v1/tm/units", {"variants": {"en": 1, "ko": "b"}},
               token=tok["c1"])
    tap.ok(is_error(r, 400, "invalid_parameter"), "a number as text: 400", r)
    r = s.post("/api/v1/tm/units", {"memory": "nope", "variants":
               {"en": "a", "ko": "b"}}, token=tok["c1"])
    tap.ok(is_error(r, 404, "not_found"), "unknown memory: 404", r)
    r = s.post("/api/v1/tm/units", {"origin": "x"}, token=tok["c1"])
    tap.ok(is_error(r, 400, "missing_parameter"), "no variants: 400", r)
    r = s.get("/api/v1/tm/match?q=%FF%FE&from=en")
    tap.ok(is_error(r, 400, "invalid_utf8"), "invalid UTF-8 in a query: 400",
           r)
    r = s.get("/api/v1/tm/match?" + q(q="x", **{"from": "e"}))
    tap.ok(is_error(r, 400, "invalid_language"), "malformed `from`: 400", r)
    r = s.get("/api/v1/terms?" + q(q="x", lang="not a tag"))
    tap.ok(is_error(r, 400, "invalid_language"), "malformed `lang`: 400", r)
    tap.eq(stats(s), before, "nothing stored changed")


def limits(s, tok):
    # A JSON body over 1 MiB, refused from its Content-Length before it is
    # read (the server answers and closes).
    head = (f"POST /api/v1/tm/units HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {tok['c1']}\r\n"
            f"Content-Type: application/json\r\n"
            f"Content-Length: {2 << 20}\r\n\r\n").encode()
    raw = s.raw(head)
    tap.ok(raw.startswith(b"HTTP/1.1 413") and b"payload_too_large" in raw,
           "Content-Length over the limit: 413 at once", raw[:200])
    # The same, chunked: counted while it is read.
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=60)
    big = json.dumps({"variants": {"en": "x" * (1 << 20), "ko": "y"}})
    conn.request("POST", "/api/v1/tm/units", body=iter([big.encode()]),
                 headers={"Authorization": f"Bearer {tok['c1']}",
                          "Content-Type": "application/json"},
                 encode_chunked=True)
    resp = conn.getresponse()
    body = resp.read()
    tap.ok(resp.status == 413 and b"payload_too_large" in body,
           "a chunked body over the limit: 413", body[:200])
    conn.close()
    r = s.get("/api/v1/tm/match?" + q(q="a" * 2001, **{"from": "en"}))
    tap.ok(is_error(r, 414, "query_too_long"), "q over 2000 bytes: 414", r)
    r = s.get("/api/v1/tm/match?" + q(q="a" * 2000, **{"from": "en"}))
    tap.eq(r.status, 200, "q of 2000 bytes is fine")
    r = s.get("/api/v1/terms?" + q(q="drone", limit=100000))
    tap.eq(r.status, 200, "a huge limit is clamped, not refused")
    r = s.get("/api/v1/terms?" + q(q="drone", limit="many"))
    tap.ok(is_error(r, 400, "invalid_parameter"), "limit=many: 400", r)
    r = s.get("/api/v1/tm/match?" + q(q="x", min=101, **{"from": "en"}))
    tap.ok(is_error(r, 400, "invalid_parameter"), "min=101: 400", r)
    r = s.get("/api/v1/tm/match?" + q(**{"from": "en"}))
    tap.ok(is_error(r, 400, "missing_parameter"), "no q: 400", r)
    r = s.get("/api/v1/tm/match?" + q(q="x"))
    tap.ok(is_error(r, 400, "missing_parameter"), "no from: 400", r)


def memory_io(s, tok):
    path = "/api/v1/memories/webinar/import?format=tmx"
    r = s.post(path, TMX, token=tok["c1"])
    tap.ok(is_error(r, 403, "forbidden"), "contributor import: 403", r)
    r = s.post(path, TMX, token=tok["admin"])
    tap.ok(r.status == 200 and r.json().get("imported") == 2,
           "admin imports a TMX body", r)
    r = s.post(path, TMX, token=tok["admin"])
    tap.ok(r.status == 200 and r.json().get("imported") == 0
           and r.json().get("duplicates") == 2, "importing it again adds "
           "nothing", r)
    before = stats(s)
    r = s.post(path, TMX.replace("</body>", "<tu><tuv>"), token=tok["admin"])
    tap.ok(is_error(r, 400, "malformed_input"), "a broken TMX: 400", r)
    tap.eq(stats(s), before, "a failed import stores nothing")
    r = s.post("/api/v1/memories/webinar/import?format=html", TMX,
               token=tok["admin"])
    tap.ok(is_error(r, 415, "unsupported_format"), "format=html: 415", r)
    r = s.post("/api/v1/memories/webinar/import", TMX, token=tok["admin"])
    tap.ok(is_error(r, 400, "missing_parameter"), "no format: 400", r)
    r = s.post("/api/v1/memories/webinar/import", TMX, token=tok["admin"],
               headers={"Content-Type": "application/x-tmx+xml"})
    tap.eq(r.status, 200, "the Content-Type can name the format")
    tsv = "en\tko\nGood morning.\t좋은 아침입니다.\n"
    r = s.post("/api/v1/memories/fresh/import?format=tsv", tsv,
               token=tok["admin"])
    tap.ok(r.status == 200 and r.json().get("imported") == 1,
           "a TSV import into a new memory", r)

    r = s.get("/api/v1/memories")
    web = [m for m in r.json()["memories"] if m["name"] == "webinar"][0]
    tap.ok(web["units"] >= 2 and web["languages"].get("uk", 0) >= 1
           and web["languages"].get("ko", 0) >= 2,
           "memories are listed with counts per language", web)

    r = s.get("/api/v1/memories/webinar/export?format=tmx")
    tap.ok(r.status == 200 and b"<tmx" in r.body
           and "exchanged in January" in r.body.decode(), "TMX export", r)
    tap.ok("xml" in (r.header("content-type") or ""), "TMX content type",
           r.header("content-type"))
    tap.ok('filename="webinar.tmx"' in (r.header("content-disposition") or ""),
           "Content-Disposition names the file",
           r.header("content-disposition"))
    r = s.get("/api/v1/memories/webinar/export?format=tsv&langs=en,ko")
    first = r.body.decode().split("\n", 1)[0]
    tap.ok(r.status == 200 and first.split("\t")[:2] == ["en", "ko"]
           and "uk" not in first, "TSV export of chosen languages", first)
    tap.ok((r.header("content-type") or "").startswith(
        "text/tab-separated-values"), "TSV content type")
    r = s.get("/api/v1/memories/nope/export")
    tap.ok(is_error(r, 404, "not_found"), "export of an unknown memory: 404",
           r)
    r = s.get("/api/v1/memories/webinar/export?format=tbx")
    tap.ok(is_error(r, 415, "unsupported_format"), "TBX of a memory: 415", r)


def search(s, tok):
    r = s.get("/api/v1/tm/match?" + q(
        q="The prisoners were exchanged in February.", to="ko,uk",
        **{"from": "en"}))
    tap.eq(r.status, 200, "fuzzy match answers")
    body = r.json()
    m = body.get("matches", [])
    tap.ok(body.get("query") == "The prisoners were exchanged in February."
           and body.get("from") == "en", "the answer echoes query and from")
    tap.ok(len(m) >= 1 and 70 <= m[0]["score"] < 100, "a fuzzy match", m)
    if m:
        tap.ok(set(m[0]) >= {"unit", "memory", "score", "source", "targets",
                             "changes", "status", "origin", "updated"},
               "a match has the contract's fields", m[0])
        tap.ok("ko" in m[0]["targets"] and "uk" in m[0]["targets"],
               "targets in the languages asked for", m[0]["targets"])
        tap.ok(all(c["op"] in ("insert", "delete", "replace")
                   for c in m[0]["changes"]) and m[0]["changes"],
               "changes name what differs", m[0]["changes"])
    r = s.get("/api/v1/tm/match?" + q(
        q="The prisoners were exchanged in January.", **{"from": "EN"}))
    tap.ok(r.status == 200 and r.json()["matches"][0]["score"] == 100,
           "an identical segment scores 100, tags case-insensitive", r)
    r = s.get("/api/v1/tm/match?" + q(q="The prisoners were exchanged in "
                                        "January.", memory="nope",
                                      **{"from": "en"}))
    tap.ok(is_error(r, 404, "not_found"), "unknown memory: 404", r)

    # en also sees en-GB unless exact_lang=1.
    gb = {"memory": "webinar", "variants": {
        "en_gb": "The armoured column stopped at the crossroads.",
        "ko": "기갑 부대 행렬이 교차로에서 멈췄다."}}
    r = s.post("/api/v1/tm/units", gb, token=tok["c1"])
    tap.eq(r.status, 201, "a unit in en_gb (accepted as en-GB)")
    text = "The armoured column stopped at the crossroads."
    r = s.get("/api/v1/tm/match?" + q(q=text, **{"from": "en"}))
    m = r.json().get("matches", [])
    tap.ok(m and m[0]["source_lang"] == "en-GB",
           "from=en sees the en-GB unit", r)
    r = s.get("/api/v1/tm/match?" + q(q=text, exact_lang=1, **{"from": "en"}))
    tap.eq(r.json().get("matches"), [], "exact_lang=1 does not")
    r = s.get("/api/v1/tm/match?" + q(q=text, status="approved",
                                      **{"from": "en"}))
    tap.eq(r.json().get("matches"), [], "status=approved hides drafts")

    r = s.get("/api/v1/tm/concordance?" + q(q="exchange", lang="en", to="ko"))
    m = r.json().get("matches", [])
    tap.ok(r.status == 200 and len(m) >= 1, "concordance finds the word", r)
    if m:
        src = m[0]["source"]
        tap.ok(all(src[a:b].lower().startswith("exchange")
                   for a, b in m[0]["hits"]) and m[0]["hits"],
               "hits are code-point spans of the word", m[0])
    r = s.get("/api/v1/tm/concordance?" + q(q="x"))
    tap.ok(is_error(r, 400, "missing_parameter"), "concordance needs lang", r)


def glossaries(s, tok):
    r = s.get("/api/v1/terms?" + q(q="POW"))
    res = r.json().get("results", [])
    tap.ok(r.status == 200 and res and res[0]["matched"]["how"] in
           ("exact", "prefix"), "term search finds POW", r)
    if res:
        tap.ok(set(res[0]) >= {"entry", "glossary", "score", "matched",
                               "terms", "definition", "note", "domain"},
               "a result has the contract's fields", res[0])
        tap.ok(all(isinstance(t["text"], str) and "status" in t
                   for ts in res[0]["terms"].values() for t in ts),
               "terms are {text, status}", res[0]["terms"])
    # The reply's own strings are escaped as RFC 8259 says.
    for text in ('"POW"\\ \t\x01\x1f\n x', "перемир'я «КНДР» 전쟁포로\u2028"):
        r = s.get("/api/v1/terms?" + q(q=text))
        tap.ok(r.status == 200 and r.json()["query"] == text,
               f"the query comes back as sent: {text!r}", r)
    r = s.get("/api/v1/terms?" + q(q="ㅈㅈㅍㄹ", lang="any", to="en"))
    res = r.json().get("results", [])
    tap.ok(res and res[0]["matched"]["how"] == "initials"
           and set(res[0]["terms"]) <= {"en"},
           "initials find 전쟁포로; `to` restricts the languages", res[:1])
    r = s.get("/api/v1/terms?" + q(q="x", glossary="nope"))
    tap.ok(is_error(r, 404, "not_found"), "unknown glossary: 404", r)
    r = s.get("/api/v1/terms")
    tap.ok(is_error(r, 400, "missing_parameter"), "term search needs q", r)

    r = s.post("/api/v1/glossaries", {"name": "event"}, token=tok["admin"])
    tap.eq(r.status, 201, "admin creates a glossary")
    r = s.post("/api/v1/glossaries", {"name": "event"}, token=tok["admin"])
    tap.ok(is_error(r, 409, "conflict"), "again: 409", r)
    r = s.get("/api/v1/glossaries")
    names = [g["name"] for g in r.json()["glossaries"]]
    tap.ok("event" in names and "default" in names, "glossaries listed", names)

    entry = {"terms": {"en": ["prisoner exchange", {"text": "POW swap",
                                                    "status": "admitted",
                                                    "type": "variant"}],
                       "ko": ["포로 교환"], "uk": "обмін полоненими"},
             "definition": "a swap of prisoners of war", "domain": "IHL"}
    r = s.post("/api/v1/glossaries/event/entries", entry, token=tok["c1"])
    tap.eq(r.status, 201, "contributor adds an entry")
    eid = r.json().get("entry")
    tap.eq(r.header("location"), f"/api/v1/entries/{eid}", "its Location")
    r = s.get(f"/api/v1/entries/{eid}")
    e = r.json()
    tap.ok(r.status == 200 and e["terms"]["en"][1] == {
        "text": "POW swap", "status": "admitted", "type": "variant"}
        and e["terms"]["uk"][0]["text"] == "обмін полоненими"
        and e["status"] == "draft" and e["domain"] == "IHL",
        "GET the entry as given", e)
    r = s.post("/api/v1/glossaries/event/entries",
               {"terms": {"en": ["prisoner swap", "POW exchange",
                                 {"text": "PoW swap", "status": "deprecated"}],
                          "uk": "обмін полоненими"}}, token=tok["c1"])
    sid = r.json().get("entry")
    e = s.get(f"/api/v1/entries/{sid}").json()
    tap.eq([t["status"] for t in e["terms"]["en"]] + [e["terms"]["uk"][0]
                                                       ["status"]],
           ["preferred", "admitted", "deprecated", "preferred"],
           "terms without a status: the first preferred, the rest admitted")
    s.delete(f"/api/v1/entries/{sid}", token=tok["reviewer"])
    r = s.post("/api/v1/glossaries/event/entries", {"terms": {"en": [5]}},
               token=tok["c1"])
    tap.ok(is_error(r, 400, "invalid_parameter"), "a number as a term: 400", r)
    r = s.post("/api/v1/glossaries/event/entries",
               {"terms": {"en": [{"text": "x", "status": "great"}]}},
               token=tok["c1"])
    tap.ok(is_error(r, 400, "invalid_parameter"), "unknown term status: 400",
           r)
    r = s.post("/api/v1/glossaries/nope/entries", entry, token=tok["c1"])
    tap.ok(is_error(r, 404, "not_found"), "entry into an unknown glossary", r)
    r = s.post("/api/v1/glossaries/event/entries", entry)
    tap.ok(is_error(r, 401, "unauthorized"), "entry without a token: 401", r)

    def ko_terms():
        r = s.get("/api/v1/terms?" + q(q="prisoner exchange", glossary="event"))
        res = [x for x in r.json()["results"] if x["entry"] == eid]
        return [t["text"] for t in res[0]["terms"]["ko"]] if res else None
    tap.eq(ko_terms(), ["포로 교환"], "the new entry is found at once")
    r = s.put(f"/api/v1/entries/{eid}", {"note": "x"}, token=tok["c2"])
    tap.ok(is_error(r, 403, "forbidden"), "another contributor: 403", r)
    r = s.put(f"/api/v1/entries/{eid}", {"terms": {"ko": ["포로교환", "포로 교환"]},
                                         "note": "seen in part 2"},
              token=tok["c1"])
    tap.ok(r.status == 200 and [t["text"] for t in r.json()["terms"]["ko"]]
           == ["포로교환", "포로 교환"] and r.json()["note"] == "seen in part 2"
           and len(r.json()["terms"]["en"]) == 2,
           "the author corrects the entry; other languages stay", r)
    tap.eq(ko_terms(), ["포로교환", "포로 교환"],
           "term search shows the correction at once (same second)")
    r = s.post(f"/api/v1/entries/{eid}/approve", token=tok["c1"])
    tap.ok(is_error(r, 403, "forbidden"), "contributor approve: 403", r)
    r = s.post(f"/api/v1/entries/{eid}/approve", token=tok["reviewer"])
    tap.ok(r.status == 200 and r.json()["status"] == "approved",
           "reviewer approves the entry", r)
    r = s.get(f"/api/v1/entries/{eid}/history")
    ch = r.json().get("changes", [])
    tap.ok([c["action"] for c in ch] == ["create", "update", "approve"]
           and "booth A" in ch[0]["by"], "entry history, with who", ch)

    for en, uk in (("ammunition", "боєприпаси"), ("brigade", "бригада"),
                   ("ceasefire", "перемир'я")):
        s.post("/api/v1/glossaries/event/entries",
               {"terms": {"en": [en], "uk": [uk]}}, token=tok["c1"])
    r = s.get("/api/v1/glossaries/event/entries?" + q(sort="uk", limit=2))
    page = r.json()
    tap.ok(r.status == 200 and len(page["entries"]) == 2 and page["next"],
           "a first page and a cursor", page)
    seen = [e["entry"] for e in page["entries"]]
    while page.get("next"):
        page = s.get("/api/v1/glossaries/event/entries?" +
                     q(sort="uk", limit=2, after=page["next"])).json()
        seen += [e["entry"] for e in page["entries"]]
    tap.eq(len(seen), 4, "the cursor walks every entry once")
    tap.eq(len(set(seen)), 4, "no entry twice")
    r = s.get("/api/v1/glossaries/event/entries?" + q(sort="uk", limit=10))
    uk = [e["terms"]["uk"][0]["text"] for e in r.json()["entries"]]
    tap.eq(uk, ["боєприпаси", "бригада", "обмін полоненими", "перемир'я"],
           "entries in Ukrainian collation order")
    r = s.get("/api/v1/glossaries/event/entries?" + q(after="garbage"))
    tap.ok(is_error(r, 400, "invalid_parameter"), "a bad cursor: 400", r)

    r = s.delete(f"/api/v1/entries/{eid}", token=tok["c1"])
    tap.ok(is_error(r, 403, "forbidden"), "contributor delete: 403", r)
    r = s.delete(f"/api/v1/entries/{eid}", token=tok["reviewer"])
    tap.eq(r.status, 204, "reviewer deletes the entry")
    r = s.get(f"/api/v1/entries/{eid}")
    tap.ok(is_error(r, 404, "not_found"), "a deleted entry is gone", r)

    r = s.post("/api/v1/glossaries/event/import?format=tsv", GLOSSARY_TSV,
               token=tok["admin"])
    tap.ok(r.status == 200 and r.json().get("imported") == 2,
           "glossary TSV import", r)
    r = s.get("/api/v1/terms?" + q(q="UAV", glossary="event"))
    tap.ok(r.json()["results"] and r.json()["results"][0]["terms"]["ko"][0]
           ["text"] == "드론", "an imported synonym is found", r)
    r = s.post("/api/v1/glossaries/event/import?format=tmx", TMX,
               token=tok["admin"])
    tap.ok(is_error(r, 415, "unsupported_format"), "TMX into a glossary: 415",
           r)
    for fmt, needle, ctype in (("tbx-martif", "<martif", "xml"),
                               ("tbx", "tbx", "xml"),
                               ("csv", "artillery", "text/csv"),
                               ("tsv", "artillery", "tab-separated"),
                               ("html", "<html", "text/html")):
        r = s.get(f"/api/v1/glossaries/event/export?format={fmt}&sort=en")
        tap.ok(r.status == 200 and needle in r.body.decode()
               and ctype in (r.header("content-type") or ""),
               f"glossary export as {fmt}", r)
    r = s.get("/api/v1/glossaries/event/export?format=html")
    tap.ok("inline" in (r.header("content-disposition") or "")
           and "default-src 'none'" in
           (r.header("content-security-policy") or ""),
           "the HTML sheet opens inline, without scripts")


def operations(s, tok):
    r = s.get("/api/v1/stats")
    cli = json.loads(s.tm("stats", "--json").stdout)
    tap.eq(r.json(), cli, "/api/v1/stats is `tm stats --json`")

    r = s.get("/metrics")
    text = r.body.decode()
    tap.ok(r.status == 200 and
           (r.header("content-type") or "").startswith("text/plain"),
           "metrics as Prometheus text")
    tap.ok('tm_http_requests_total{method="GET",route="/healthz",'
           'status="200"}' in text, "requests by route and status", text[:500])
    tap.ok('tm_http_requests_total{method="*",route="(none)",status="404"}'
           in text, "unrouted requests are counted")
    tap.ok('tm_http_request_duration_seconds_bucket{method="GET",'
           'route="/api/v1/terms",le="+Inf"}' in text, "latency histograms")
    tap.ok('tm_units{memory="webinar"}' in text
           and 'tm_entries{glossary="event"}' in text, "units and entries")

    r = s.get("/openapi.json")
    doc = r.json()
    with open(os.path.join(SOURCE_ROOT, "docs", "openapi.json"),
              encoding="utf-8") as f:
        committed = json.load(f)
    tap.ok(doc == committed, "docs/openapi.json is what /openapi.json serves "
           "(regenerate: meson compile -C build openapi)")
    refs = set()

    def walk(v):
        if isinstance(v, dict):
            if "$ref" in v:
                refs.add(v["$ref"].rsplit("/", 1)[1])
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
    walk(doc)
    missing = refs - set(doc["components"]["schemas"])
    tap.ok(not missing, "every schema the document names exists", missing)
    # Every contract path is in the document, and every documented path is
    # routed (a request to it is not a 404 for want of a route).
    contract = {
        ("get", "/api/v1/tm/match"), ("get", "/api/v1/tm/concordance"),
        ("post", "/api/v1/tm/units"), ("get", "/api/v1/tm/units/{id}"),
        ("put", "/api/v1/tm/units/{id}"), ("delete", "/api/v1/tm/units/{id}"),
        ("get", "/api/v1/tm/units/{id}/history"), ("get", "/api/v1/memories"),
        ("post", "/api/v1/memories"),
        ("post", "/api/v1/memories/{name}/import"),
        ("get", "/api/v1/memories/{name}/export"), ("get", "/api/v1/terms"),
        ("post", "/api/v1/glossaries/{name}/entries"),
        ("get", "/api/v1/glossaries/{name}/entries"),
        ("get", "/api/v1/entries/{id}"), ("put", "/api/v1/entries/{id}"),
        ("delete", "/api/v1/entries/{id}"),
        ("get", "/api/v1/entries/{id}/history"),
        ("post", "/api/v1/entries/{id}/approve"),
        ("get", "/api/v1/glossaries"), ("post", "/api/v1/glossaries"),
        ("post", "/api/v1/glossaries/{name}/import"),
        ("get", "/api/v1/glossaries/{name}/export"),
        ("get", "/healthz"), ("get", "/api/v1/stats"), ("get", "/metrics"),
        ("get", "/openapi.json"), ("get", "/tmserver/languages/"),
        ("get", "/tmserver/{slang}/{tlang}/unit/{text}"),
        ("post", "/tmserver/{slang}/{tlang}/unit/{text}"),
        ("put", "/tmserver/{slang}/{tlang}/unit/{text}"),
        ("get", "/mymemory/get"), ("get", "/mymemory/set"),
        ("post", "/mymemory/set")}
    documented = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    tap.ok(contract <= documented, "every contract route is documented",
           contract - documented)
    unrouted = []
    for m, p in sorted(documented):
        path = (p.replace("{id}", "1").replace("{name}", "default")
                .replace("{slang}", "en").replace("{tlang}", "ko")
                .replace("{text}", "x").replace("{sid}", "x.tmx"))
        r = s.request(m.upper(), path)
        if r.status in (404, 405) and r.json()["error"]["message"] in (
                "no such resource",) or r.status == 405:
            unrouted.append((m, p, r.status))
    tap.ok(not unrouted, "every documented route is routed", unrouted)


def tokens_api(s, tok):
    r = s.post("/api/v1/tokens", {"role": "reviewer", "label": "api"},
               token=tok["reviewer"])
    tap.ok(is_error(r, 403, "forbidden"), "a reviewer cannot make tokens", r)
    r = s.post("/api/v1/tokens", {"role": "boss"}, token=tok["admin"])
    tap.ok(is_error(r, 400, "invalid_parameter"), "unknown role: 400", r)
    r = s.post("/api/v1/tokens", {"role": "reviewer", "label": "api"},
               token=tok["admin"])
    tap.eq(r.status, 201, "admin makes a token")
    new = r.json()
    tap.ok(new["token"].startswith("tm_") and new["role"] == "reviewer",
           "the secret is in the answer, once", new)
    r = s.get("/api/v1/tokens", token=tok["admin"])
    listed = r.json()["tokens"]
    tap.ok(any(t["id"] == new["id"] and t["label"] == "api" for t in listed)
           and all("token" not in t for t in listed),
           "tokens are listed without secrets", listed)
    r = s.get("/api/v1/tokens", token=tok["c1"])
    tap.ok(is_error(r, 403, "forbidden"), "listing needs admin", r)
    r = s.delete(f"/api/v1/tokens/{new['id']}", token=tok["admin"])
    tap.eq(r.status, 204, "admin revokes it")
    r = s.post("/api/v1/tm/units/1/approve", token=new["token"])
    tap.ok(is_error(r, 403, "forbidden"), "a revoked token: 403", r)
    r = s.delete("/api/v1/tokens/999999", token=tok["admin"])
    tap.ok(is_error(r, 404, "not_found"), "revoking an unknown token: 404", r)


def main():
    with Server(tap) as s:
        tok = {"c1": s.token("contributor", "booth A"),
               "c2": s.token("contributor", "booth B"),
               "reviewer": s.token("reviewer", "reviewer"),
               "admin": s.token("admin", "admin"),
               "revoked": s.token("contributor", "gone")}
        s.tm("token", "revoke", str(s.token_id(tok["revoked"])))
        for fn in (basics, preflight, keep_alive):
            tap.run(fn, s)
        for fn in (auth, units, bad_input, limits, memory_io, search,
                   glossaries, tokens_api, operations):
            tap.run(fn, s, tok)
    tap.done()


main()
