#!/usr/bin/env python3
"""Hostile input against a real tm-server (issue #8, part 4).

Every case checks three things: the answer is a clear 4xx (the contract's
error shape, or, where libmicrohttpd answers before the server sees the
request, at least a 4xx status); the server stays up (alive, /healthz 200);
and nothing stored changes (the stats, the default memory and glossary as
TSV and the token list are the same after the request as before it).

XML: external entities (a secret file in the temporary folder must never
show, in a reply or in the database file), parameter entities, DTDs on a
local socket that must never see a connection, entity bombs, deep nesting,
huge attributes and segments (and just under the limits), invalid and
truncated UTF-8, wrong encodings; the same for TBX.  CSV and TSV: open
quotes, NUL bytes, invalid UTF-8.  JSON: malformed, wrong types, deep
nesting, huge numbers, duplicate keys, \\u0000, invalid UTF-8.  Limits:
bodies and headers over them, clients that stall half-way.  Paths: /web/
traversal.  SQL metacharacters in every parameter of every GET route, and
bad language tags in every language parameter, both enumerated from
/openapi.json, which is generated from the routing table.

Usage: test_hostile.py TM_SERVER TM   (prints TAP)
"""

import http.client
import json
import os
import re
import shutil
import socket
import sys
import tempfile
import time
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Bait, Server, Tap, db_bytes, tbx, tmx  # noqa: E402

tap = Tap()
TMP = tempfile.mkdtemp(prefix="tm-hostile-")
BAIT = Bait(TMP, "tm-hostile-")
SECRET, SECRET_FILE, SECRET_DTD = BAIT.secret, BAIT.file, BAIT.dtd
TEXT_MAX = 1 << 20  # libtm's TM_TEXT_MAX: bytes of one segment
TERM_MAX = 1000     # bytes of one glossary term

SEED_TMX = """<?xml version="1.0" encoding="UTF-8"?>
<tmx version="1.4"><header srclang="en" datatype="plaintext" segtype="sentence"
 adminlang="en" o-tmf="test" creationtool="test" creationtoolversion="1"/>
<body>
<tu><tuv xml:lang="en"><seg>Hello there friend.</seg></tuv>
<tuv xml:lang="ko"><seg>안녕 친구.</seg></tuv></tu>
<tu><tuv xml:lang="en"><seg>The prisoners were exchanged in January.</seg>
</tuv><tuv xml:lang="ko"><seg>포로들은 1월에 교환되었다.</seg></tuv>
<tuv xml:lang="uk"><seg>Полонених обміняли в січні.</seg></tuv></tu>
</body></tmx>
"""
SEED_GLOSSARY = "en\tko\tuk\ndrone\t드론\tдрон\nartillery\t포병\tартилерія\n"

# An existing unit and entry: a hostile file that carries one of them and
# is accepted must find it a duplicate, so that nothing changes.
UNIT = ('<tu><tuv xml:lang="en"><seg>{en}</seg></tuv>'
        '<tuv xml:lang="ko"><seg>안녕 친구.</seg></tuv></tu>')
EN = "Hello there friend."
ENTRY = ('<termEntry><langSet xml:lang="en"><tig><term>{en}</term></tig>'
         '</langSet><langSet xml:lang="ko"><tig><term>드론</term></tig>'
         '</langSet><langSet xml:lang="uk"><tig><term>дрон</term></tig>'
         '</langSet></termEntry>')
TERM = "drone"


def error_of(reply):
    """The error object when REPLY is the contract's error shape."""
    try:
        e = reply.json()["error"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None
    if (isinstance(e, dict) and e.get("status") == reply.status
            and isinstance(e.get("code"), str)
            and isinstance(e.get("message"), str)
            and reply.header("content-type")
            == "application/json; charset=utf-8"):
        return e
    return None


def raw_status(data):
    """The status of a raw HTTP answer, or 0."""
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", data)
    return int(m.group(1)) if m else 0


class Guard:
    """Snapshots what is stored and checks each hostile request."""

    def __init__(self, s, admin):
        self.s = s
        self.admin = admin
        self.before = self.snapshot()
        self.replies = []

    def snapshot(self):
        out = []
        for path, tok in (("/api/v1/stats", None),
                          ("/api/v1/memories/default/export?format=tsv", None),
                          ("/api/v1/glossaries/default/export?format=tsv",
                           None),
                          ("/api/v1/tokens", self.admin)):
            r = self.s.get(path, token=tok)
            out.append((path, r.status, r.body))
        return out

    def rebase(self):
        self.before = self.snapshot()

    def up(self):
        if self.s.proc.poll() is not None:
            return False
        try:
            return self.s.get("/healthz").status == 200
        except OSError:
            return False

    def after(self, what, body=b""):
        """Server up, nothing changed, no secret in BODY."""
        self.replies.append(body)
        up = self.up()
        now = self.snapshot() if up else None
        changed = [p for (p, a, b), (_, c, d) in zip(self.before, now or [])
                   if (a, b) != (c, d)] if now else ["(server down)"]
        tap.ok(up and not changed and SECRET.encode() not in body,
               f"{what}: server up, nothing stored changed",
               f"changed: {changed}\n" + self.s.log_text()[-1500:])
        if up and changed:
            self.before = now  # one failure, not every check after it

    def refused(self, r, what, statuses=(400,), codes=None, where=None):
        """R is a clear error with one of STATUSES (and CODES); WHERE, a
        pattern the message must match (the file and line)."""
        e = error_of(r)
        ok = (e is not None and r.status in statuses
              and (codes is None or e["code"] in codes)
              and (where is None or re.match(where, e["message"])))
        tap.ok(ok, f"{what}: {'/'.join(map(str, statuses))}"
               + (f" {'/'.join(codes)}" if codes else ""), r)
        self.after(what, r.body)

    def refused_or_noop(self, r, what, statuses=(400,), where=None):
        """A clear 4xx, or an import that found only duplicates."""
        e = error_of(r)
        noop = (r.status == 200 and r.json().get("imported") == 0
                and r.json().get("duplicates", 0) >= 1)
        ok = noop or (e is not None and r.status in statuses and
                      (where is None or re.match(where, e["message"])))
        tap.ok(ok, f"{what}: refused, or only a duplicate", r)
        self.after(what, r.body)


# ------------------------------------------------------------------- XML

def xml_imports(s, g, tok, dtd_port):
    mem = "/api/v1/memories/{}/import?format=tmx&filename=hostile.tmx"
    gl = "/api/v1/glossaries/{}/import?format=tbx&filename=hostile.tbx"
    where_tmx = r"^hostile\.tmx:\d+: "
    where_tbx = r"^hostile\.tbx:\d+: "
    net = f"http://127.0.0.1:{dtd_port}"
    file_url = "file://" + urllib.parse.quote(SECRET_FILE)
    dtd_url = "file://" + urllib.parse.quote(SECRET_DTD)
    laughs = ('<!DOCTYPE {root} [\n<!ENTITY lol "lol">\n' + "".join(
        '<!ENTITY lol{} "{}">\n'.format(
            i, ("&lol{};".format(i - 1) if i > 1 else "&lol;") * 10)
        for i in range(1, 10)) + "]>")
    quadratic = ('<!DOCTYPE {root} [<!ENTITY a "' + "a" * 50000 + '">]>')
    # (name, document type, segment text): each one refused
    entity_cases = [
        ("external entity to a local file",
         '<!DOCTYPE {root} [<!ENTITY xxe SYSTEM "' + file_url + '">]>',
         "&xxe;"),
        ("external entity over the network",
         '<!DOCTYPE {root} [<!ENTITY xxe SYSTEM "' + net + '/x">]>',
         "&xxe;"),
        ("parameter entity to a local file",
         '<!DOCTYPE {root} [<!ENTITY % pe SYSTEM "' + file_url + '"> %pe;]>',
         EN),
        ("parameter entity over the network",
         '<!DOCTYPE {root} [<!ENTITY % pe SYSTEM "' + net + '/p.dtd"> %pe;]>',
         EN),
        ("parameter entity defining a general one",
         '<!DOCTYPE {root} [<!ENTITY % d "<!ENTITY leak \'x\'>"> %d;]>',
         "&leak;"),
        ("an entity the network DTD would define",
         '<!DOCTYPE {root} SYSTEM "' + net + '/tmx14.dtd">', "&leak;"),
        ("an entity a local DTD defines",
         '<!DOCTYPE {root} SYSTEM "' + dtd_url + '">', "&leak;"),
        ("billion laughs", laughs, "&lol9;"),
        ("quadratic blowup", quadratic, "&a;" * 20000),
        ("an undeclared entity", "", "caf&eacute;"),
    ]
    for name, doctype, seg in entity_cases:
        body = tmx(UNIT.format(en=seg), doctype.replace("{root}", "tmx"))
        r = s.post(mem.format("hostile"), body, token=tok["admin"])
        g.refused(r, "TMX: " + name, codes=("malformed_input",),
                  where=where_tmx)
        body = tbx(ENTRY.format(en=seg), doctype.replace("{root}", "tbx"))
        r = s.post(gl.format("hostile"), body, token=tok["admin"])
        g.refused(r, "TBX: " + name, codes=("malformed_input",),
                  where=where_tbx)
    # An external entity in an attribute.
    body = tmx(UNIT.format(en=EN).replace("<tu>", '<tu tuid="&xxe;">'),
               '<!DOCTYPE tmx [<!ENTITY xxe SYSTEM "' + file_url + '">]>')
    g.refused(s.post(mem.format("default"), body, token=tok["admin"]),
              "TMX: external entity in an attribute",
              codes=("malformed_input",), where=where_tmx)
    # A DTD is never read: a document that only names one (as real TMX
    # files do) imports, here as a duplicate; nothing is fetched.
    idents = ('SYSTEM "' + net + '/tmx14.dtd"',
              'PUBLIC "-//LISA OSCAR:1998//DTD for TMX//EN" "' + net
              + '/tmx14.dtd"', 'SYSTEM "' + dtd_url + '"')
    for n, ident in enumerate(idents):
        label = ident.split()[0] + " " + ident.split('"')[-2][:40]
        body = tmx(UNIT.format(en=EN), "<!DOCTYPE tmx " + ident + ">")
        g.refused_or_noop(s.post(mem.format("default"), body,
                                 token=tok["admin"]),
                          "TMX naming a DTD " + label)
        # Glossaries keep no duplicate check: into a glossary of its own,
        # the entry is imported as written.
        body = tbx(ENTRY.format(en=TERM), "<!DOCTYPE tbx " + ident + ">")
        r = s.post(gl.format(f"dtd{n}"), body, token=tok["admin"])
        tap.ok(r.status == 200 and r.json().get("imported") == 1
               and s.get(f"/api/v1/glossaries/dtd{n}/export?format=tsv")
               .body.decode().split("\n")[1].split("\t")[3:6]
               == [TERM, "드론", "дрон"],
               "TBX naming a DTD " + label + ": imported as written", r)
        tap.ok(g.up(), "the server is up")
        g.rebase()
    # XInclude is not processed.
    body = tmx(UNIT.format(en='<xi:include xmlns:xi="http://www.w3.org/2001/'
                           'XInclude" href="' + file_url + '" parse="text"/>'))
    r = s.post(mem.format("default"), body, token=tok["admin"])
    ok = (error_of(r) is not None and r.status == 400) or (
        r.status == 200 and r.json().get("imported") == 0)
    tap.ok(ok, "TMX with an XInclude: refused or nothing imported", r)
    g.after("TMX with an XInclude", r.body)

    # Deep nesting, inside a segment and around the body.
    deep = "<hi>" * 100000 + "x" + "</hi>" * 100000
    r = s.post(mem.format("hostile"), tmx(UNIT.format(en=deep)),
               token=tok["admin"])
    g.refused(r, "TMX: 100k nested elements in a segment",
              codes=("malformed_input",), where=where_tmx)
    r = s.post(mem.format("hostile"),
               tmx("<x>" * 100000 + "</x>" * 100000), token=tok["admin"])
    g.refused(r, "TMX: 100k nested elements in the body",
              codes=("malformed_input",), where=where_tmx)
    r = s.post(gl.format("hostile"), tbx(ENTRY.format(en=deep)),
               token=tok["admin"])
    g.refused(r, "TBX: 100k nested elements in a term",
              codes=("malformed_input",), where=where_tbx)
    r = s.post(gl.format("hostile"),
               tbx("<termEntry>" + "<note>" * 100000 + "</note>" * 100000
                   + "</termEntry>"), token=tok["admin"])
    g.refused(r, "TBX: 100k nested elements in an entry",
              codes=("malformed_input",), where=where_tbx)

    # Huge attributes: over libxml2's 10 MB, and just under it.
    big = "a" * (11 << 20)
    r = s.post(mem.format("default"),
               tmx(UNIT.format(en=EN).replace("<tu>", f'<tu tuid="{big}">')),
               token=tok["admin"])
    g.refused(r, "TMX: an 11 MiB attribute", codes=("malformed_input",),
              where=where_tmx)
    r = s.post(gl.format("default"),
               tbx(ENTRY.format(en=TERM).replace(
                   "<termEntry>", f'<termEntry id="{big}">')),
               token=tok["admin"])
    g.refused(r, "TBX: an 11 MiB attribute", codes=("malformed_input",),
              where=where_tbx)
    del big
    under = "a" * (9 << 20)
    r = s.post(mem.format("default"),
               tmx(UNIT.format(en=EN).replace("<tu>", f'<tu tuid="{under}">')),
               token=tok["admin"])
    g.refused_or_noop(r, "TMX: a 9 MiB attribute",
                      statuses=(400, 413), where=where_tmx)
    r = s.post(gl.format("default"),
               tbx(ENTRY.format(en=TERM).replace(
                   "<termEntry>", f'<termEntry id="{under}">')),
               token=tok["admin"])
    g.refused_or_noop(r, "TBX: a 9 MiB attribute",
                      statuses=(400, 413), where=where_tbx)
    del under
    # A huge language attribute.
    r = s.post(mem.format("hostile"),
               tmx(UNIT.format(en=EN).replace('"ko"', '"' + "k" * 100000
                                              + '"')), token=tok["admin"])
    g.refused(r, "TMX: a 100k xml:lang", codes=("invalid_language",),
              where=where_tmx)

    # Huge segments: one byte over the limit, and exactly at it (that one
    # goes to a memory of its own, which the snapshot does not export).
    r = s.post(mem.format("default"),
               tmx(UNIT.format(en="a" * (TEXT_MAX + 1))), token=tok["admin"])
    g.refused(r, "TMX: a segment over 1 MiB", statuses=(413,),
              codes=("payload_too_large",), where=where_tmx)
    r = s.post(mem.format("under"),
               tmx(UNIT.format(en="b" * TEXT_MAX)), token=tok["admin"])
    just_under(s, g, r, "TMX: a segment of exactly 1 MiB", where_tmx)
    r = s.post(gl.format("default"),
               tbx(ENTRY.format(en="a" * (TERM_MAX + 1))), token=tok["admin"])
    g.refused(r, "TBX: a term over 1000 bytes", statuses=(413,),
              codes=("payload_too_large",), where=where_tbx)
    r = s.post(gl.format("under"),
               tbx(ENTRY.format(en="b" * TERM_MAX)), token=tok["admin"])
    just_under(s, g, r, "TBX: a term of exactly 1000 bytes", where_tbx)

    # Invalid and truncated UTF-8, wrong encodings.
    def enc_cases(doc, unit, decl):
        good = doc(unit, decl=decl).encode()
        return [
            ("invalid UTF-8", good.replace(b"there", b"th\xe9re")),
            ("an overlong UTF-8 form",
             good.replace(b"there", b"th\xc0\xaere")),
            ("a UTF-8 surrogate", good.replace(b"there", b"th\xed\xa0\x80re")),
            ("UTF-8 cut in a segment",
             good.replace("친구".encode(), "친구".encode()[:-1])
             .replace("드론".encode(), "드론".encode()[:-1])),
            ("UTF-8 cut at the end of the file",
             good[:good.rindex(b"<")] + "친".encode()[:2]),
            ("declared UTF-16, UTF-8 bytes",
             doc(unit, decl='<?xml version="1.0" encoding="UTF-16"?>\n')
             .encode()),
            ("an unknown encoding",
             doc(unit, decl='<?xml version="1.0" encoding="x-no-such"?>\n')
             .encode()),
            ("declared EBCDIC, UTF-8 bytes",
             doc(unit, decl='<?xml version="1.0" encoding="IBM037"?>\n')
             .encode()),
            ("a UTF-16 byte order mark on UTF-8 bytes", b"\xff\xfe" + good),
            ("a UTF-32 byte order mark", b"\x00\x00\xfe\xff"
             + doc(unit, decl="").encode("utf-32-be")),
            ("a NUL byte", good.replace(b"there", b"th\x00re")),
            ("a control character reference",
             good.replace(b"there", b"th&#x1b;re")),
        ]
    decl = '<?xml version="1.0" encoding="UTF-8"?>\n'
    for name, body in enc_cases(tmx, UNIT.format(en=EN), decl):
        r = s.post(mem.format("hostile"), body, token=tok["admin"])
        g.refused(r, "TMX: " + name, codes=("malformed_input", "invalid_utf8"),
                  where=where_tmx)
    for name, body in enc_cases(tbx, ENTRY.format(en="there"), decl):
        r = s.post(gl.format("hostile"), body, token=tok["admin"])
        g.refused(r, "TBX: " + name, codes=("malformed_input", "invalid_utf8"),
                  where=where_tbx)
    # UTF-16 without a byte order mark is recognised, and decodes to the
    # very unit that is stored already.
    for codec in ("utf-16-le", "utf-16-be"):
        r = s.post(mem.format("default"),
                   tmx(UNIT.format(en=EN), decl="").encode(codec),
                   token=tok["admin"])
        g.refused_or_noop(r, f"TMX in {codec} without a BOM")

    # Truncated and malformed documents.
    whole = tmx(UNIT.format(en=EN))
    for name, body in (("a file cut in a tag", whole[:whole.index("<seg>")
                                                     + 3]),
                       ("a file cut in the body", whole[:-20]),
                       ("mismatched tags", whole.replace("</seg>", "</sek>",
                                                         1)),
                       ("a second root", whole + "<tmx/>"),
                       ("not XML at all", "hello, world\n")):
        r = s.post(mem.format("hostile"), body, token=tok["admin"])
        g.refused(r, "TMX: " + name, codes=("malformed_input",),
                  where=where_tmx)

    # Bad language tags in files.
    for tag in ("xx-", "en_", "EN--GB", "k" * 300, "und", "한국", "*", ""):
        r = s.post(mem.format("hostile"),
                   tmx(UNIT.format(en=EN).replace('"ko"', f'"{tag}"')),
                   token=tok["admin"])
        g.refused(r, f"TMX: xml:lang={tag[:12]!r}",
                  codes=("invalid_language", "malformed_input"),
                  where=where_tmx)
        r = s.post(gl.format("hostile"),
                   tbx(ENTRY.format(en=TERM).replace('"ko"', f'"{tag}"')),
                   token=tok["admin"])
        g.refused(r, f"TBX: xml:lang={tag[:12]!r}",
                  codes=("invalid_language", "malformed_input"),
                  where=where_tbx)


def just_under(s, g, r, what, where):
    """At a limit: imported, or refused cleanly; never a crash."""
    e = error_of(r)
    ok = (r.status == 200 and r.json().get("imported") == 1) or (
        e is not None and r.status in (400, 413)
        and re.match(where, e["message"]))
    tap.ok(ok, f"{what}: imported or refused cleanly", r)
    tap.ok(g.up(), f"{what}: the server is up")
    g.rebase()


# --------------------------------------------------------------- CSV, TSV

def dsv_imports(s, g, tok):
    cases = [
        ("csv", "an unterminated quote", b'en,ko\n"hello,world\nmore,text\n',
         ("malformed_input",)),
        ("csv", "a NUL byte", b"en,ko\nhel\x00lo,world\n",
         ("malformed_input",)),
        ("tsv", "a NUL byte", b"en\tko\nhel\x00lo\tworld\n",
         ("malformed_input",)),
        ("tsv", "a NUL byte in the header", b"en\x00\tko\nhello\tworld\n",
         ("malformed_input",)),
        ("csv", "a NUL byte in quotes", b'en,ko\n"hel\x00lo",world\n',
         ("malformed_input",)),
        ("csv", "invalid UTF-8", b"en,ko\ncaf\xe9,world\n", ("invalid_utf8",)),
        ("tsv", "invalid UTF-8", b"en\tko\ncaf\xe9\tworld\n",
         ("invalid_utf8",)),
        ("tsv", "UTF-8 cut at the end", b"en\tko\nhello\t\xea\xb0",
         ("invalid_utf8",)),
        ("tsv", "invalid UTF-8 in the header", b"en\tk\xf0\nhello\tworld\n",
         ("invalid_utf8",)),
        ("tsv", "a UTF-16 file", "en\tko\nhello\tworld\n".encode("utf-16"),
         ("invalid_utf8", "malformed_input")),
        ("tsv", "an unknown escape", b"en\tko\nhello\\q\tworld\n",
         ("malformed_input",)),
        ("tsv", "more cells than columns", b"en\tko\nhello\tworld\tx\n",
         ("malformed_input",)),
        ("tsv", "a language twice", b"en\ten\nhello\tworld\n",
         ("malformed_input",)),
        ("tsv", "a bad language column", b"en\txx-\nhello\tworld\n",
         ("invalid_language",)),
        ("csv", "a language column en_", b"en_,ko\nhello,world\n",
         ("invalid_language",)),
        ("tsv", "a 300-character language column",
         b"en\t" + b"k" * 300 + b"\nhello\tworld\n", ("invalid_language",)),
        ("tsv", "a non-ASCII language column",
         "en\t한국어\nhello\tworld\n".encode(), ("invalid_language",)),
        ("tsv", "a cell over 1 MiB",
         b"en\tko\n" + b"a" * (TEXT_MAX + 1) + b"\tb\n",
         ("payload_too_large",)),
    ]
    for fmt, name, body, codes in cases:
        status = (413,) if "payload_too_large" in codes else (400,)
        for kind in ("memories", "glossaries"):
            r = s.post(f"/api/v1/{kind}/hostile/import?format={fmt}"
                       f"&filename=hostile.{fmt}", body, token=tok["admin"])
            g.refused(r, f"{fmt.upper()} into {kind}: {name}", statuses=status,
                      codes=codes, where=rf"^hostile\.{fmt}:\d+: ")
        # And into the default collections, which hold data.
        r = s.post(f"/api/v1/memories/default/import?format={fmt}"
                   f"&filename=hostile.{fmt}", body, token=tok["admin"])
        g.refused(r, f"{fmt.upper()} into the default memory: {name}",
                  statuses=status, codes=codes)


# ------------------------------------------------------------------ JSON

def json_bodies(s, g, tok, ids):
    # Each route with a body it accepts; PROBE marks a text member, where
    # the hostile text goes, so that a parser that let it through would
    # store it.
    routes = [
        ("POST", "/api/v1/tm/units", tok["c"],
         {"variants": {"en": "PROBE", "ko": "탐침"}}),
        ("PUT", f"/api/v1/tm/units/{ids['unit']}", tok["reviewer"],
         {"note": "PROBE"}),
        ("POST", "/api/v1/glossaries/default/entries", tok["c"],
         {"terms": {"en": ["PROBE"]}}),
        ("PUT", f"/api/v1/entries/{ids['entry']}", tok["reviewer"],
         {"note": "PROBE"}),
        ("POST", "/api/v1/memories", tok["admin"], {"name": "PROBE"}),
        ("POST", "/api/v1/tokens", tok["admin"],
         {"role": "contributor", "label": "PROBE"}),
        ("POST", "/api/v1/analyze", None, {"text": "PROBE", "lang": "en"}),
        ("POST", "/tmserver/en/ko/unit/hello", tok["c"],
         {"source": "PROBE", "target": "탐침"}),
    ]

    def cases(valid):
        v = json.dumps(valid, ensure_ascii=False).encode()
        first = json.dumps(dict([next(iter(valid.items()))]),
                           ensure_ascii=False).encode()[1:-1]
        put = v.replace
        return [
            ("malformed", b"{not json", ("invalid_json",)),
            ("cut short", v[:-1], ("invalid_json",)),
            ("cut in a string", v[:v.index(b"PROBE") + 2],
             ("invalid_json",)),
            ("an array", b"[" + v + b"]", ("invalid_json",
                                           "missing_parameter")),
            ("100k nested arrays", b"[" * 100000 + b"]" * 100000,
             ("invalid_json",)),
            ("100k nested objects", b'{"a":' * 100000 + b"1"
             + b"}" * 100000, ("invalid_json",)),
            ("3000 nested arrays in a member",
             v[:-1] + b', "x": ' + b"[" * 3000 + b"]" * 3000 + b"}",
             ("invalid_json",)),
            ("a 400-digit integer", v[:-1] + b', "n": 1' + b"0" * 400
             + b"}", ("invalid_json",)),
            ("a negative 400-digit integer", v[:-1] + b', "n": -1'
             + b"0" * 400 + b"}", ("invalid_json",)),
            ("a real overflowing a double", v[:-1] + b', "n": 1e999}',
             ("invalid_json",)),
            ("a key given twice", v[:-1] + b", " + first + b"}",
             ("invalid_json",)),
            ("\\u0000 in a string", put(b"PROBE", b"a\\u0000b"),
             ("invalid_json",)),
            ("a lone surrogate escape", put(b"PROBE", b"a\\ud800"),
             ("invalid_json",)),
            ("invalid UTF-8 in a string", put(b"PROBE", b"caf\xe9"),
             ("invalid_utf8",)),
            ("UTF-8 cut in a string", put(b"PROBE", b"\xea\xb0"),
             ("invalid_utf8",)),
            ("an overlong UTF-8 form", put(b"PROBE", b"\xc0\xaf"),
             ("invalid_utf8",)),
            ("invalid UTF-8 in a key", v[:-1] + b', "x\xff": "a"}',
             ("invalid_utf8",)),
            ("trailing garbage", v + b" trailing", ("invalid_json",)),
            ("a trailing NUL byte", v + b"\x00", ("invalid_json",)),
        ]

    h = {"Content-Type": "application/json"}
    for method, path, t, valid in routes:
        for name, body, codes in cases(valid):
            r = s.request(method, path, body=body, token=t, headers=h)
            if path.startswith(("/tmserver", "/mymemory")) and \
                    name == "an array":
                # A list is what tmserver's store takes; here it holds no
                # source and target.
                codes = codes + ("invalid_parameter",)
            g.refused(r, f"{method} {path}: {name}", codes=codes)
    r = s.post("/api/v1/tm/units", b'{"variants": {"en": "a", "en": "b", '
               b'"ko": "c"}}', token=tok["c"], headers=h)
    g.refused(r, "a language given twice in variants", codes=("invalid_json",))

    wrong_types = [
        ("POST", "/api/v1/tm/units", tok["c"], [
            {"variants": ["en", "ko"]},
            {"variants": "en"},
            {"variants": {"en": ["a"], "ko": "b"}},
            {"variants": {"en": 1, "ko": "b"}},
            {"variants": {"en": True, "ko": "b"}},
            {"variants": {"en": {"text": "a"}, "ko": "b"}},
            {"variants": {"en": "a", "ko": "b"}, "memory": 5},
            {"variants": {"en": "a", "ko": "b"}, "memory": ["default"]},
            {"variants": {"en": "a", "ko": "b"}, "note": {"x": 1}},
            {"variants": {"en": "a", "ko": "b"}, "origin": True},
            {"variants": {"en": "a", "ko": "b"}, "note": 1e308},
            {"variants": {"en": "a", "ko": "b"}, "status": 7},
            {"variants": {"en": "a", "ko": "b"}, "note": [[["deep"]]]},
        ]),
        ("PUT", f"/api/v1/tm/units/{ids['unit']}", tok["reviewer"], [
            {"variants": "x"}, {"variants": {"en": 5}}, {"note": 5},
            {"status": ["approved"]}, {"origin": {}},
        ]),
        ("POST", "/api/v1/glossaries/default/entries", tok["c"], [
            {"terms": ["drone"]}, {"terms": "drone"}, {"terms": {"en": 5}},
            {"terms": {"en": [5]}}, {"terms": {"en": [None]}},
            {"terms": {"en": [{"text": 5}]}},
            {"terms": {"en": [{"text": "x", "status": 1}]}},
            {"terms": {"en": [{"text": "x", "type": []}]}},
            {"terms": {"en": ["x"]}, "definition": 5},
            {"terms": {"en": ["x"]}, "domain": {}},
        ]),
        ("PUT", f"/api/v1/entries/{ids['entry']}", tok["reviewer"], [
            {"terms": "x"}, {"terms": {"en": 5}}, {"definition": []},
        ]),
        ("POST", "/api/v1/memories", tok["admin"], [
            {"name": 5}, {"name": ["x"]}, {"name": None}, {},
            {"name": "a" * 10000}, {"name": "x'; DROP TABLE units; --"},
        ]),
        ("POST", "/api/v1/tokens", tok["admin"], [
            {"role": 3}, {"role": ["admin"]}, {"role": "admin", "label": 5},
            {"role": "admin", "label": "x" * 1000}, {"role": "root"},
        ]),
        ("POST", "/api/v1/analyze", None, [
            {"text": 5, "lang": "en"}, {"text": ["a"], "lang": "en"},
            {"text": "a", "lang": 5}, {"text": "a", "lang": ["en"]},
            {"text": "a", "lang": "en", "to": 5},
            {"text": "a", "lang": "en", "to": [5]},
            {"text": "a", "lang": "en", "min": "high"},
            {"text": "a", "lang": "en", "limit": 1e300},
        ]),
    ]
    for method, path, t, bodies in wrong_types:
        for body in bodies:
            r = s.request(method, path, body=body, token=t)
            g.refused(r, f"{method} {path}: {json.dumps(body)[:50]}",
                      codes=("invalid_parameter", "missing_parameter",
                             "invalid_json"))
    # The same bodies without the hostile part are taken: the refusals
    # above are the hostile part's.
    for method, path, t, valid in routes:
        body = json.loads(json.dumps(valid).replace("PROBE", "probe ok"))
        if path == "/api/v1/memories":
            body["name"] = "probe-ok"
        r = s.request(method, path, body=body, token=t)
        tap.ok(r.status in (200, 201), f"{method} {path}: the control body "
               "is taken", r)
        g.rebase()


def forms(s, g, tok):
    """Form bodies (MyMemory's set, tmserver's unit)."""
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    mm = "seg={}&tra=%ED%83%90%EC%B9%A8&langpair=en%7Cko"
    tms = "source={}&target=%ED%83%90%EC%B9%A8"
    for path, template in (("/mymemory/set?memory=probe", mm),
                           ("/tmserver/en/ko/unit/hello?memory=probe", tms)):
        for name, body, codes in (
                ("a NUL byte in a field", template.format("a%00b"),
                 ("invalid_parameter",)),
                ("invalid UTF-8", template.format("caf%E9"),
                 ("invalid_utf8",)),
                ("UTF-8 cut short", template.format("%EA%B0"),
                 ("invalid_utf8",)),
                ("an overlong UTF-8 form", template.format("%C0%AF"),
                 ("invalid_utf8",)),
                ("SQL in a field and nothing else", "' OR 1=1 --",
                 ("missing_parameter",)),
                ("no fields", "", ("missing_parameter",)),
                ("a bad language", template.format("a").replace(
                    "en%7Cko", "en%7Cxx-"), ("invalid_language",
                                             "invalid_parameter"))):
            if name == "a bad language" and "tmserver" in path:
                continue
            r = s.post(path, body, token=tok["c"], headers=form)
            g.refused(r, f"POST {path.split('?')[0]}: {name}", codes=codes)
        if "mymemory" in path:
            body = template.format("a") + "&langpair=en%7Cko%00x"
            g.refused(s.post(path, body, token=tok["c"], headers=form),
                      f"POST {path.split('?')[0]}: NUL after a language",
                      codes=("invalid_parameter",))
        r = s.post(path, template.format("probe%20ok"), token=tok["c"],
                   headers=form)
        tap.ok(r.status in (200, 201), f"POST {path}: the control form is "
               "taken", r)
        g.rebase()


# ---------------------------------------------------------------- limits

def raw(port, data, timeout=30):
    """DATA on a new socket; everything read until the server closes."""
    with socket.create_connection(("127.0.0.1", port)) as c:
        c.settimeout(timeout)
        try:
            c.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before reading it all
        out = b""
        try:
            while True:
                chunk = c.recv(65536)
                if not chunk:
                    break
                out += chunk
        except (socket.timeout, ConnectionResetError):
            pass
        return out


def body_of(data):
    return data.partition(b"\r\n\r\n")[2]


def limits(s, g, small, tok):
    def head(method, path, length, t, ctype="application/json"):
        return (f"{method} {path} HTTP/1.1\r\nHost: x\r\n"
                f"Authorization: Bearer {t}\r\nContent-Type: {ctype}\r\n"
                f"Content-Length: {length}\r\nConnection: close\r\n\r\n"
                ).encode()

    # Refused from the Content-Length, before the body is read.
    for method, path, length, t in (
            ("POST", "/api/v1/tm/units", (1 << 20) + 1, tok["c"]),
            ("POST", "/api/v1/memories/default/import?format=tmx",
             (64 << 20) + 1, tok["admin"]),
            ("POST", "/api/v1/glossaries/default/import?format=tbx",
             1 << 40, tok["admin"]),
            ("POST", "/api/v1/analyze", 1 << 30, tok["c"]),
            ("POST", "/api/v1/tm/units", "99999999999999999999999", tok["c"]),
    ):
        out = raw(s.port, head(method, path, length, t))
        # A length past 64 bits is libmicrohttpd's to refuse, in HTML.
        mhd = len(str(length)) > 19
        tap.ok(raw_status(out) == 413 and (mhd or b'"payload_too_large"'
                                           in out),
               f"{method} {path} with Content-Length {length}: 413",
               out[:300])
        g.after(f"Content-Length {length} on {path}", out)
    # Counted while read: chunked bodies over the limits of a server whose
    # limits are small.
    for path, size, t in (("/api/v1/tm/units", 5000, tok["c"]),
                          ("/api/v1/memories/default/import?format=tsv",
                           70000, tok["admin"]),
                          ("/api/v1/glossaries/default/import?format=tsv",
                           70000, tok["admin"])):
        conn = http.client.HTTPConnection("127.0.0.1", small.port, timeout=60)
        body = b"en\tko\n" + b"a\tb\n" * (size // 4)
        if path == "/api/v1/tm/units":
            body = json.dumps({"variants": {"en": "x" * size, "ko": "y"}}
                              ).encode()
        conn.request("POST", path, body=iter([body[:1000], body[1000:]]),
                     headers={"Authorization": f"Bearer {t}"},
                     encode_chunked=True)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        tap.ok(resp.status == 413 and b'"payload_too_large"' in data,
               f"chunked {path} of {len(body)} bytes over a small limit: 413",
               data[:200])
        g.after(f"chunked {path} over the limit", data)

    # Headers over libmicrohttpd's limits: it answers itself, in HTML, 431
    # for the header fields and 414 for a request line; only the status
    # class can be checked there.
    for name, data in (
            ("a 100 KB header", b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: "
             + b"a" * 100000 + b"\r\nConnection: close\r\n\r\n"),
            ("5000 headers", b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
             + b"".join(b"X-H%d: v\r\n" % i for i in range(5000))
             + b"Connection: close\r\n\r\n"),
            ("a 100 KB request line", b"GET /healthz?" + b"a" * 100000
             + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
            ("a 100 KB token", b"POST /api/v1/tm/units HTTP/1.1\r\nHost: x\r\n"
             b"Authorization: Bearer " + b"t" * 100000
             + b"\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"),
            ("a 100 KB path", b"GET /api/v1/tm/units/" + b"1" * 100000
             + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")):
        out = raw(s.port, data)
        st = raw_status(out)
        tap.ok(400 <= st < 500, f"{name}: a 4xx ({st})", out[:200])
        g.after(name, out)
    # A token just too long for the server's own buffer: a clear 401.
    r = s.post("/api/v1/tm/units", {"variants": {"en": "a", "ko": "b"}},
               headers={"Authorization": "Bearer tm_1_" + "f" * 3000})
    g.refused(r, "a 3000-byte token", statuses=(401,), codes=("unauthorized",))
    # Query text over the limit of a search.
    r = s.get("/api/v1/tm/match?" + urllib.parse.urlencode(
        {"q": "a" * 5000, "from": "en"}))
    g.refused(r, "q of 5000 bytes", statuses=(414,), codes=("query_too_long",))
    r = s.get("/api/v1/tm/match?" + urllib.parse.urlencode(
        {"q": "a", "from": "en", "to": ",".join(["ko"] * 40)}))
    g.refused(r, "40 languages in `to`", codes=("invalid_parameter",
                                                 "invalid_language"))


def slow_clients(s, g, small, timeout, tok):
    """A client that stops half-way is closed after the connection
    timeout; others are served meanwhile."""
    partial = [
        ("half a request line", b"GET /api/v1/ter"),
        ("headers without their end", b"GET /healthz HTTP/1.1\r\nHost: x\r\n"),
        ("half a body",
         b"POST /api/v1/tm/units HTTP/1.1\r\nHost: x\r\nAuthorization: "
         b"Bearer " + tok["c"].encode() + b"\r\nContent-Type: application/"
         b"json\r\nContent-Length: 100\r\n\r\n{\"variants\": {\"en\": "),
        ("half a chunked import",
         b"POST /api/v1/memories/default/import?format=tsv HTTP/1.1\r\n"
         b"Host: x\r\nAuthorization: Bearer " + tok["admin"].encode()
         + b"\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nen\tko\nhel"),
    ]
    socks = []
    t0 = time.monotonic()
    for name, data in partial:
        c = socket.create_connection(("127.0.0.1", small.port))
        c.sendall(data)
        socks.append((name, c))
    # Meanwhile, others are served.
    served = all(small.get("/healthz", fresh=True).status == 200
                 for _ in range(3))
    tap.ok(served, "other clients are served while four stall")
    margin = 8
    for name, c in socks:
        left = timeout + margin - (time.monotonic() - t0)
        c.settimeout(max(left, 0.1))
        closed = False
        got = b""
        try:
            while True:
                chunk = c.recv(4096)
                if not chunk:
                    closed = True
                    break
                got += chunk
        except ConnectionResetError:
            closed = True
        except socket.timeout:
            pass
        took = time.monotonic() - t0
        c.close()
        tap.ok(closed and took >= timeout - 0.5,
               f"{name}: closed after the {timeout} s timeout "
               f"({took:.1f} s)", got[:200])
    tap.ok(small.proc.poll() is None
           and small.get("/healthz", fresh=True).status == 200,
           "the server with the short timeout is up")
    g.after("clients that stall")


# ----------------------------------------------------------------- paths

def traversal(s, g):
    asset = s.get("/web/app.js").body
    tap.ok(len(asset) > 0, "/web/app.js is served (the control case)")
    paths = [
        b"/web/../../etc/passwd", b"/web/../../../../../../etc/passwd",
        b"/web/%2e%2e/%2e%2e/etc/passwd", b"/web/%2E%2E/%2E%2E/etc/passwd",
        b"/web/..%2f..%2fetc%2fpasswd", b"/web/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        b"/web/..\\..\\etc\\passwd", b"/web/..%5c..%5cetc%5cpasswd",
        b"/web/%252e%252e/%252e%252e/etc/passwd",
        b"/web/%252e%252e%252f%252e%252e%252fetc%252fpasswd",
        b"/web/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
        b"/web/%e0%80%ae%e0%80%ae/etc/passwd",
        b"/web/....//....//etc/passwd", b"/web/.%2e/.%2e/etc/passwd",
        b"/web//etc/passwd", b"/web/%2fetc%2fpasswd", b"/web/./app.js",
        b"/web/app.js/../../../etc/passwd", b"/web/app.js%00.html",
        b"/web/../../etc/passwd%00app.js", b"/web/%00", b"/web/%",
        b"/web/%zz", b"/web/app.js%2500", b"/../../etc/passwd",
        b"/%2e%2e/%2e%2e/etc/passwd", b"/web/../server.h",
        b"/web/../../server/route.c", b"/web/..%2f..%2fmeson.build",
        b"/web/~root/.bashrc", b"/web/%7eroot",
        b"/web/file:%2f%2f%2fetc%2fpasswd", b"/web/app.js%0d%0aX-A: b",
    ]
    for p in paths:
        out = raw(s.port, b"GET " + p + b" HTTP/1.1\r\nHost: x\r\n"
                  b"Connection: close\r\n\r\n")
        st = raw_status(out)
        body = body_of(out)
        clean = b'"error"' in body and b"application/json" in out
        tap.ok(st in (400, 404) and clean and b"root:" not in body,
               f"GET {p.decode(errors='replace')}: {st}, a JSON error",
               out[:300])
        g.after(f"GET {p!r}", body)
    # A raw NUL byte in the request line: libmicrohttpd 0.9.75 ends the
    # path there, so the server sees only what comes before it.  Nothing
    # but a file of the page can come back.
    for p in (b"/web/app.js\x00../../etc/passwd", b"/web/\x00/etc/passwd",
              b"/web/..\x00/etc/passwd"):
        out = raw(s.port, b"GET " + p + b" HTTP/1.1\r\nHost: x\r\n"
                  b"Connection: close\r\n\r\n")
        st = raw_status(out)
        body = body_of(out)
        tap.ok((400 <= st < 500 or (st == 200 and body == asset))
               and b"root:" not in body,
               f"GET {p!r}: a 4xx, or the file named before the NUL",
               out[:300])
        g.after(f"GET {p!r}", body)


# ---------------------------------------------- parameters from the table

META = ["'", '"', ";", "--", "%", "_", "*", "' OR 1=1 --", "\\", "\x00",
        "'; DROP TABLE units; --", "%' OR '%'='", "\") OR (\"1\"=\"1",
        "1 UNION SELECT hash FROM tokens", "`", "/*", "$1", "?"]
LANG_PARAMS = {"from", "to", "lang", "sort", "langs", "slang", "tlang",
               "langpair"}
BAD_TAGS = ["xx-", "en_", "EN--GB", "a" * 300, "und", "ü", "한국어", "*",
            "-en", "e", "en-GB-", "en--", "en-" + "x" * 40, "\x00", "en us"]


def defaults(path, ids):
    """A valid value of every parameter of the GET routes."""
    return {
        "q": "prisoners", "from": "en", "lang": "en", "langpair": "en|ko",
        "seg": "hostile probe", "tra": "적대적 탐침", "memory": "probe",
        "name": "default", "slang": "en", "tlang": "ko", "text": "prisoners",
        "path": "app.js", "to": "ko", "langs": "en,ko", "sort": "en",
        "min": "70", "limit": "5", "exact_lang": "1", "status": "approved",
        "format": "tsv", "after": ids["cursor"], "glossary": "default",
        "domain": "x", "jsoncallback": "cb", "source": "prisoners",
        "min_similarity": "70", "max_candidates": "5", "numres": "5",
        "key": ids["key"],
        "id": str(ids["unit"] if "/units/" in path
                  else ids["entry"] if "/entries/" in path
                  else ids["token"] if "/tokens/" in path else 1),
    }


def build(path, params, values):
    """The URL of PATH with its path parameters and query VALUES."""
    url = path
    query = []
    for p in params:
        if p["name"] not in values:
            continue
        v = urllib.parse.quote(values[p["name"]], safe="")
        if p["in"] == "path":
            url = url.replace("{" + p["name"] + "}", v)
        else:
            query.append(f"{p['name']}={v}")
    return url + ("?" + "&".join(query) if query else "")


def swept_routes(doc):
    """The GET operations of the document with their parameters."""
    for path, ops in doc["paths"].items():
        if "get" in ops:
            yield path, ops["get"], ops["get"].get("parameters", [])


def role_token(op, tok):
    return {"contributor": tok["c"], "reviewer": tok["reviewer"],
            "admin": tok["admin"]}.get(op.get("x-required-role"))


def sql_metachars(s, g, doc, tok, ids):
    """Every parameter of every GET route takes each metacharacter: no
    5xx, an error in the contract's shape or an answer, and nothing
    stored changes (a write through GET stores the text as it was
    sent).  A NUL byte after a valid value is refused, never cut off."""
    n_routes = n_params = 0
    for path, op, params in swept_routes(doc):
        n_routes += 1
        known = defaults(path, ids)
        t = role_token(op, tok)
        unknown = [p["name"] for p in params if p["name"] not in known]
        tap.ok(not unknown, f"{path}: a valid value of every parameter is "
               "known", unknown)
        base = {p["name"]: known[p["name"]] for p in params
                if (p.get("required") or p["in"] == "path")
                and p["name"] in known}
        if path == "/mymemory/set":
            base["memory"] = "probe"  # what it writes stays out of default
        r = s.get(build(path, params, base), token=t)
        tap.ok(r.status in (200, 304), f"GET {path}: the control request "
               "answers", r)
        if path == "/mymemory/set":
            g.rebase()
        for p in params:
            n_params += 1
            bad = []
            for m in META:
                values = dict(base)
                values[p["name"]] = m
                r = s.get(build(path, params, values), token=t)
                e = error_of(r)
                fine = r.status < 500 and (r.status < 400 or e is not None)
                if fine and r.status == 200 and path == "/mymemory/set":
                    # A write through GET: the text is stored as sent.
                    fine = stored_literally(s, r, values)
                    g.rebase()
                if not fine:
                    bad.append((m, r))
            if p["name"] in known:
                values = dict(base)
                values[p["name"]] = known[p["name"]] + "\x00x"
                r = s.get(build(path, params, values), token=t)
                e = error_of(r)
                if not (r.status in (400, 404) and e):
                    bad.append(("a valid value, NUL, x", r))
            tap.ok(not bad, f"GET {path} ?{p['name']}= each metacharacter: "
                   "no 5xx, clear errors", bad[:3])
            g.after(f"GET {path} {p['name']}")
    tap.ok(n_routes >= 15 and n_params >= 50,
           f"{n_routes} GET routes, {n_params} parameters swept")
    # LIKE wildcards are not wildcards.
    for m in ("%", "_", "*", "%%"):
        r = s.get("/api/v1/tm/concordance?" + urllib.parse.urlencode(
            {"q": m, "lang": "en"}))
        tap.ok(r.status in (200, 400) and (r.status == 400 or
                                           r.json()["matches"] == []),
               f"concordance of {m!r} finds nothing", r)


def stored_literally(s, r, values):
    """A unit made through GET /mymemory/set holds the text as sent."""
    uid = r.json().get("id")
    u = s.get(f"/api/v1/tm/units/{uid}").json()
    v = u.get("variants", {})
    return (v.get("en") == values["seg"] and v.get("ko") == values["tra"]
            and u.get("memory") == "probe")


def language_tags(s, g, doc, tok, ids):
    """Malformed and unknown tags in every language parameter."""
    covered = set()
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            for p in op.get("parameters", []):
                if "language" in (p.get("description") or "").lower():
                    covered.add(p["name"])
    tap.ok(covered <= LANG_PARAMS,
           "every parameter the document calls a language is swept",
           covered - LANG_PARAMS)
    n = 0
    for path, op, params in swept_routes(doc):
        known = defaults(path, ids)
        t = role_token(op, tok)
        base = {p["name"]: known[p["name"]] for p in params
                if (p.get("required") or p["in"] == "path")
                and p["name"] in known}
        for p in params:
            if p["name"] not in LANG_PARAMS:
                continue
            bad = []
            for tag in BAD_TAGS:
                values = dict(base)
                if p["name"] == "langpair":
                    values[p["name"]] = tag + "|ko"
                else:
                    values[p["name"]] = tag
                r = s.get(build(path, params, values), token=t)
                e = error_of(r)
                if not (r.status == 400 and e and e["code"] in (
                        "invalid_language", "invalid_parameter")):
                    bad.append((tag, r))
                n += 1
            tap.ok(not bad, f"GET {path} ?{p['name']}= bad tags: 400", bad[:3])
            g.after(f"GET {path} {p['name']} bad tags")
    # The POST routes that take languages: analyze (query and JSON),
    # units and entries (JSON keys), tmserver (path).
    for tag in BAD_TAGS:
        q = urllib.parse.quote(tag, safe="")
        checks = [
            s.post(f"/api/v1/analyze?lang={q}", "text",
                   headers={"Content-Type": "text/plain"}),
            s.post(f"/api/v1/analyze?lang=en&to={q}", "text",
                   headers={"Content-Type": "text/plain"}),
            s.post(f"/api/v1/analyze?lang=en&sort={q}&format=html", "text",
                   headers={"Content-Type": "text/plain"}),
            s.post("/api/v1/analyze", {"text": "a", "lang": tag}),
            s.post("/api/v1/analyze",
                   {"text": "a", "lang": "en", "to": [tag]}),
            s.post("/api/v1/tm/units", {"variants": {"en": "a", tag: "b"}},
                   token=tok["c"]),
            s.post("/api/v1/glossaries/default/entries",
                   {"terms": {tag: ["x"]}}, token=tok["c"]),
            s.put(f"/api/v1/tm/units/{ids['unit']}",
                  {"variants": {tag: "x"}}, token=tok["reviewer"]),
            s.post(f"/tmserver/{q}/ko/unit/hello", {"source": "a",
                                                    "target": "b"},
                   token=tok["c"]),
            s.post(f"/tmserver/en/{q}/unit/hello", {"source": "a",
                                                    "target": "b"},
                   token=tok["c"]),
            s.post("/mymemory/set", f"seg=a&tra=b&langpair=en%7C{q}",
                   token=tok["c"], headers={
                       "Content-Type": "application/x-www-form-urlencoded"}),
        ]
        bad = [r for r in checks
               if not (r.status == 400 and error_of(r) and error_of(r)["code"]
                       in ("invalid_language", "invalid_parameter",
                           "invalid_json"))]
        tap.ok(not bad, f"language {tag[:12]!r} in bodies and paths of "
               "writes and analyze: 400", bad[:3])
        g.after(f"language {tag[:12]!r} in bodies")
        n += len(checks)
    tap.ok(n > 200, f"{n} bad language tags sent")


# ------------------------------------------------------------------ main

def seed(s, tok):
    r = s.post("/api/v1/memories/default/import?format=tmx", SEED_TMX,
               token=tok["admin"])
    assert r.status == 200 and r.json()["imported"] == 2, r
    r = s.post("/api/v1/glossaries/default/import?format=tsv", SEED_GLOSSARY,
               token=tok["admin"])
    assert r.status == 200 and r.json()["imported"] == 2, r
    r = s.post("/api/v1/memories", {"name": "probe"}, token=tok["admin"])
    assert r.status == 201, r
    unit = s.get("/api/v1/tm/match?" + urllib.parse.urlencode(
        {"q": EN, "from": "en"})).json()["matches"][0]["unit"]
    entry = s.get("/api/v1/terms?q=drone").json()["results"][0]["entry"]
    token = s.token_id(tok["c"])
    cursor = s.get("/api/v1/glossaries/default/entries?limit=1").json()[
        "next"]
    assert cursor, "a cursor"
    return {"unit": unit, "entry": entry, "token": token, "cursor": cursor,
            "key": tok["c"]}


def main():
    t_start = time.monotonic()
    timeout = 2
    try:
        with Server(tap) as s:
            tok = {"admin": s.token("admin", "admin"),
                   "reviewer": s.token("reviewer", "reviewer"),
                   "c": s.token("contributor", "booth")}
            ids = seed(s, tok)
            g = Guard(s, tok["admin"])
            doc = s.get("/openapi.json").json()
            tap.run(xml_imports, s, g, tok, BAIT.port)
            tap.run(dsv_imports, s, g, tok)
            tap.run(json_bodies, s, g, tok, ids)
            tap.run(forms, s, g, tok)
            tap.run(traversal, s, g)
            tap.run(sql_metachars, s, g, doc, tok, ids)
            tap.run(language_tags, s, g, doc, tok, ids)
            # A second server on the same database, with small limits and a
            # short timeout.
            with Server(tap, args=["--timeout", str(timeout), "--max-body",
                                   "4096", "--max-import", "65536"],
                        db=s.db) as small:
                tap.run(limits, s, g, small, tok)
                tap.run(slow_clients, s, g, small, timeout, tok)
            tap.ok(not BAIT.fetched(), "no DTD or entity was ever fetched")
            leaked = [i for i, b in enumerate(g.replies) if SECRET.encode()
                      in b]
            tap.ok(not leaked, f"the secret file's text is in none of "
                   f"{len(g.replies)} replies")
            s.stop()
            stored = db_bytes(s.db)
            tap.ok(len(stored) > 0 and SECRET.encode() not in stored,
                   "the database file does not hold the secret")
            tap.ok(s.proc.returncode == 0, "tm-server exits cleanly")
    finally:
        BAIT.close()
        shutil.rmtree(TMP, ignore_errors=True)
    print(f"# {time.monotonic() - t_start:.1f} s", flush=True)
    tap.done()


main()
