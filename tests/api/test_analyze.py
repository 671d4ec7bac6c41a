#!/usr/bin/env python3
"""End-to-end tests of POST /api/v1/analyze (../shared/API.md, "Preparing a
document"; docs/analyze.md): JSON and text bodies, Markdown and HTML
offsets, memory matches, the prep sheet as HTML and as a TSV that imports
back as a glossary, and every error.

Usage: test_analyze.py TM_SERVER TM   (prints TAP)
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SOURCE_ROOT, Server, Tap, is_error, q  # noqa: E402

tap = Tap()
DATA = os.path.join(SOURCE_ROOT, "tests", "data", "analyze")

TMX = """<?xml version="1.0" encoding="UTF-8"?>
<tmx version="1.4"><header srclang="en" datatype="plaintext" segtype="sentence"
 adminlang="en" o-tmf="test" creationtool="test" creationtoolversion="1"/>
<body>
<tu><tuv xml:lang="en"><seg>The ICRC must be able to visit the prisoners.</seg></tuv>
<tuv xml:lang="ko"><seg>국제적십자위원회는 포로를 방문할 수 있어야 한다.</seg></tuv>
<tuv xml:lang="uk"><seg>МКЧХ повинен мати змогу відвідати полонених.</seg></tuv></tu>
</body></tmx>
"""


def read(name):
    with open(os.path.join(DATA, name), encoding="utf-8") as f:
        return f.read()


def entry_with(analysis, lang, text):
    """The analysis's term whose entry has TEXT among its LANG terms."""
    for t in analysis["terms"]:
        if any(x["text"] == text for x in t["terms"].get(lang, [])):
            return t
    return None


def analyze(s, body, params="", ctype=None, **kw):
    headers = {"Content-Type": ctype} if ctype else None
    return s.post("/api/v1/analyze" + (f"?{params}" if params else ""),
                  body, headers=headers, **kw)


def json_body(s):
    text = read("en.txt")
    r = analyze(s, {"text": text, "lang": "en", "to": ["ko", "uk"]})
    tap.eq(r.status, 200, "a JSON body: 200")
    tap.eq(r.header("content-type"), "application/json; charset=utf-8",
           "answered as JSON")
    a = r.json()
    tap.ok({"terms", "sentences", "candidates"} <= set(a), "the contract's "
           "members", a.keys())
    pow_ = entry_with(a, "en", "prisoner of war")
    tap.ok(pow_ and pow_["count"] == 3
           and pow_["surface"] == "Prisoners of war",
           "prisoners of war, POWs: one entry, three times", pow_)
    s0, e0 = pow_["offsets"][0]
    tap.eq(text[s0:e0], "Prisoners of war",
           "offsets in code points of the text")
    gc3 = entry_with(a, "en", "Third Geneva Convention")
    s0, e0 = gc3["offsets"][0]
    tap.eq(text[s0:e0], "Third Geneva\nConvention", "a term over a line break")
    tap.ok(all(set(t["terms"]) <= {"en", "ko", "uk"} for t in a["terms"]),
           "each entry's terms in the document's and the target languages")
    tap.ok(all(x["match"] is None for x in a["sentences"]),
           "no memory has these sentences")
    tap.ok(all(0 <= c["score"] <= 1 and isinstance(c["count"], int)
               for c in a["candidates"]), "candidates scored 0-1")
    tap.ok(not any(c["abbreviation"] == "NKDB" for c in a["candidates"]),
           "what a glossary has is no candidate")
    r = analyze(s, {"text": text, "lang": "en", "to": "ko,uk", "limit": 2})
    tap.ok(r.status == 200 and len(r.json()["candidates"]) <= 2,
           "to as a comma list; limit caps the candidates", r)


def text_bodies(s):
    text = read("en.txt")
    a = analyze(s, {"text": text, "lang": "en"}).json()
    r = analyze(s, text, q(lang="en"), "text/plain; charset=utf-8")
    tap.eq(r.status, 200, "a text/plain body with ?lang=")
    tap.eq([t["offsets"] for t in r.json()["terms"]],
           [t["offsets"] for t in a["terms"]], "the same terms either way")
    md = read("doc.md")
    r = analyze(s, md, q(lang="en"), "text/markdown")
    t = entry_with(r.json(), "en", "prisoner of war")
    s0, e0 = t["offsets"][1]
    tap.eq(md[s0:e0], "prisoners of\nwar", "Markdown: offsets in the source")
    html = read("doc.html")
    r = analyze(s, html, q(lang="en"), "text/html")
    t = entry_with(r.json(), "en", "Third Geneva Convention")
    s0, e0 = t["offsets"][0]
    tap.eq(html[s0:e0], "Third</b> Geneva Convention",
           "HTML: the span covers the markup inside")
    r = analyze(s, {"text": html, "lang": "en", "input": "html"})
    tap.eq(r.json()["terms"], analyze(s, html, q(lang="en"),
                                      "text/html").json()["terms"],
           "input=html in a JSON body")


def matches(s, tok):
    r = s.post("/api/v1/memories/brief/import?format=tmx", TMX,
               token=tok["admin"])
    tap.eq(r.status, 200, "a memory to match against")
    r = analyze(s, {"text": "The ICRC must be able to visit the prisoners. "
                    "Nobody has ever said this sentence before anywhere.",
                    "lang": "en", "to": ["ko", "uk"], "memory": "brief"})
    sents = r.json()["sentences"]
    first = sents[0]["match"] if sents else None
    tap.ok(len(sents) == 2 and first and first["score"] == 100
           and first["targets"]["ko"].startswith("국제적십자위원회"),
           "a sentence the memory has: its match and translations", sents)
    tap.ok(sents[1]["match"] is None, "no match below min: null")
    tap.eq((sents[0]["start"], sents[0]["end"]), (0, 45),
           "sentence offsets")


def prep_sheet(s, tok):
    text = read("en.txt")
    r = analyze(s, text, q(lang="en", to="ko,uk", format="html",
                           title="Briefing <1>"), "text/plain")
    tap.eq(r.status, 200, "format=html: the prep sheet")
    tap.eq(r.header("content-type"), "text/html; charset=utf-8", "as HTML")
    body = r.body.decode("utf-8")
    tap.ok(body.startswith("<!DOCTYPE html>") and "size:A4" in body
           and "Briefing &lt;1&gt;" in body and "<script" not in body,
           "printable, escaped, no script")
    tap.ok("default-src 'none'" in (r.header("content-security-policy") or ""),
           "nothing fetched")
    r = analyze(s, {"text": text, "lang": "en", "to": ["ko", "uk"],
                    "format": "tsv"})
    tap.eq(r.header("content-type"),
           "text/tab-separated-values; charset=utf-8", "format=tsv")
    tsv = r.body.decode("utf-8")
    tap.ok(tsv.startswith("id\tdomain\tpos\ten\tko\tuk\tdefinition\tnote\t"
                          "source\tstatus\n"), "the glossary columns")
    rows = len(tsv.strip("\n").split("\n")) - 1
    r = s.post("/api/v1/glossaries/prep/import?format=tsv", tsv,
               token=tok["admin"])
    tap.ok(r.status == 200 and r.json()["imported"] == rows,
           "the TSV imports back as a glossary", r)


def errors(s):
    r = analyze(s, {"text": "x"})
    tap.ok(is_error(r, 400, "missing_parameter"), "no lang: 400", r)
    r = analyze(s, {"text": "x", "lang": "not a tag"})
    tap.ok(is_error(r, 400, "invalid_language"), "a bad lang: 400", r)
    r = analyze(s, {"text": "x", "lang": "en", "to": ["ko", 3]})
    tap.ok(is_error(r, 400, "invalid_parameter"), "a bad to: 400", r)
    r = analyze(s, {"text": "x", "lang": "en", "format": "pdf"})
    tap.ok(is_error(r, 400, "invalid_parameter"), "a bad format: 400", r)
    r = analyze(s, {"text": "x", "lang": "en", "min": 500})
    tap.ok(is_error(r, 400, "invalid_parameter"), "min out of range: 400", r)
    r = analyze(s, {"text": "x", "lang": "en", "glossary": "nope"})
    tap.ok(is_error(r, 404, "not_found"), "an unknown glossary: 404", r)
    r = analyze(s, {"text": 3, "lang": "en"})
    tap.ok(is_error(r, 400, "invalid_parameter"), "text not a string: 400", r)
    r = analyze(s, {"lang": "en"})
    tap.ok(is_error(r, 400, "missing_parameter"), "no text: 400", r)
    r = analyze(s, "", q(lang="en"), "text/plain")
    tap.ok(is_error(r, 400, "missing_parameter"), "an empty body: 400", r)
    r = analyze(s, "[1, 2]", q(lang="en"), "application/json")
    tap.ok(is_error(r, 400, "invalid_json"), "JSON but no object: 400", r)
    r = analyze(s, "{\"text\": ", q(lang="en"), "application/json")
    tap.ok(is_error(r, 400, "invalid_json"), "broken JSON: 400", r)
    r = analyze(s, b"caf\xc3", q(lang="en"), "text/plain")
    tap.ok(is_error(r, 400, "invalid_utf8"), "invalid UTF-8: 400", r)
    r = analyze(s, b"%PDF-1.4", q(lang="en"), "application/pdf")
    tap.ok(is_error(r, 415, "unsupported_format"), "a PDF: 415", r)
    r = analyze(s, "word " * 500000, q(lang="en"), "text/plain")
    tap.ok(is_error(r, 413, "payload_too_large")
           and "2097152 bytes" in r.json()["error"]["message"],
           "over 2 MiB of text: 413 saying the limit", r)
    r = analyze(s, "a " * 200001, q(lang="en"), "text/plain")
    tap.ok(is_error(r, 413, "payload_too_large")
           and "words" in r.json()["error"]["message"],
           "over 200,000 words: 413", r)
    raw = s.raw(b"POST /api/v1/analyze?lang=en HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: text/plain\r\nContent-Length: 99999999\r\n"
                b"\r\n")
    tap.ok(raw.startswith(b"HTTP/1.1 413"),
           "a body announced too large: 413 before it is read", raw[:80])
    r = s.get("/api/v1/analyze")
    tap.ok(is_error(r, 405, "method_not_allowed"), "GET: 405", r)


def documented(s):
    doc = s.get("/openapi.json").json()
    op = doc["paths"].get("/api/v1/analyze", {}).get("post", {})
    body = op.get("requestBody", {}).get("content", {})
    tap.ok({"application/json", "text/plain", "text/markdown",
            "text/html"} <= set(body), "OpenAPI: the body's types", body)
    ok = op.get("responses", {}).get("200", {}).get("content", {})
    tap.ok(ok.get("application/json", {}).get("schema", {}).get("$ref")
           == "#/components/schemas/Analysis" and "text/html" in ok,
           "OpenAPI: the JSON answer and the prep sheets", ok)


def main():
    with Server(tap) as s:
        tok = {"admin": s.token("admin", "admin")}
        for fn in (json_body, text_bodies, errors, documented):
            tap.run(fn, s)
        for fn in (matches, prep_sheet):
            tap.run(fn, s, tok)
    tap.done()


main()
