#!/usr/bin/env python3
"""Hostile input to the `tm` command line (issue #8, part 4).

Each hostile file is imported with `tm import`, and each hostile argument
given to the command that takes it; every time: a non-zero exit (never a
signal), one clear message on stderr naming FILE:LINE where the error is
in a file, no sanitizer report, and a database that is as it was (its
stats, the default memory and glossary as TSV, and the token list compare
equal before and after).

usage: test_hostile_cli.py PATH/TO/tm   (prints TAP)
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "api"))
from harness import Bait, Tap, db_bytes, tbx, tmx  # noqa: E402

TM = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="tm-hostile-cli-")
DB = os.path.join(TMP, "tm.sqlite")
BAIT = Bait(TMP, "tm-hostile-cli-")
SECRET, SECRET_FILE, SECRET_DTD = BAIT.secret, BAIT.file, BAIT.dtd
TEXT_MAX = 1 << 20
TERM_MAX = 1000
CRASH = ("Traceback", "runtime error", "AddressSanitizer", "LeakSanitizer",
         "Segmentation", "core dumped", "Assertion")

tap = Tap()

UNIT = ('<tu><tuv xml:lang="en"><seg>{en}</seg></tuv>'
        '<tuv xml:lang="ko"><seg>안녕 친구.</seg></tuv></tu>')
EN = "Hello there friend."
ENTRY = ('<termEntry><langSet xml:lang="en"><tig><term>{en}</term></tig>'
         '</langSet><langSet xml:lang="ko"><tig><term>드론</term></tig>'
         '</langSet></termEntry>')


def tm(*args):
    return subprocess.run([TM, "--db", DB, *args], capture_output=True,
                          timeout=300)


def snapshot():
    return [tm(*a).stdout for a in (
        ("stats", "--json"),
        ("export", "--memory", "default", "--format", "tsv"),
        ("export", "--glossary", "default", "--format", "tsv"),
        ("token", "list"))]


class State:
    before = None


def write(name, data):
    path = os.path.join(TMP, name)
    with open(path, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    return path


def clean_failure(p, what, where=None):
    """P failed with a clear message (WHERE: a pattern it must hold)."""
    err = p.stderr.decode("utf-8", "replace")
    # One line "tm: why" (1), or "tm COMMAND: why" and the usage (2).
    first = err.split("\n", 1)[0]
    ok = (p.returncode in (1, 2) and re.match(r"tm( \w+)?: \S", first)
          and (p.returncode == 2 or err.count("\n") == 1)
          and not any(c in err for c in CRASH)
          and SECRET not in err + p.stdout.decode("utf-8", "replace")
          and (where is None or re.search(where, err)))
    tap.ok(ok, f"{what}: exit {p.returncode}, {first[:70]!r}",
           f"stderr: {err[:600]}\nstdout: {p.stdout[:200]!r}")


def unchanged(what):
    now = snapshot()
    same = now == State.before
    tap.ok(same, f"{what}: the database is unchanged",
           [i for i, (a, b) in enumerate(zip(now, State.before)) if a != b])
    State.before = now


def refused_import(name, data, what, *opts, line=True):
    path = write(name, data)
    p = tm("import", path, *opts)
    clean_failure(p, what, re.escape(name) + r":\d+: " if line else None)
    unchanged(what)


def imported_or_refused(name, data, what, *opts):
    """At a limit: imported, or refused cleanly; never a crash."""
    path = write(name, data)
    p = tm("import", path, *opts)
    if p.returncode == 0:
        tap.ok(b"1 " in p.stdout and not p.stderr, f"{what}: imported",
               p.stdout[:200])
    else:
        clean_failure(p, what, re.escape(name) + r":\d+: ")
    State.before = snapshot()


def xml_files(trap_port):
    net = f"http://127.0.0.1:{trap_port}"
    laughs = ('<!DOCTYPE {root} [\n<!ENTITY lol "lol">\n' + "".join(
        '<!ENTITY lol{} "{}">\n'.format(
            i, ("&lol{};".format(i - 1) if i > 1 else "&lol;") * 10)
        for i in range(1, 10)) + "]>")
    entity_cases = [
        ("xxe", '<!DOCTYPE {root} [<!ENTITY xxe SYSTEM "file://'
         + SECRET_FILE + '">]>', "&xxe;"),
        ("xxe-net", '<!DOCTYPE {root} [<!ENTITY xxe SYSTEM "' + net
         + '/x">]>', "&xxe;"),
        ("pe", '<!DOCTYPE {root} [<!ENTITY % pe SYSTEM "file://'
         + SECRET_FILE + '"> %pe;]>', EN),
        ("pe-net", '<!DOCTYPE {root} [<!ENTITY % pe SYSTEM "' + net
         + '/p.dtd"> %pe;]>', EN),
        ("dtd-net", '<!DOCTYPE {root} SYSTEM "' + net + '/x.dtd">', "&leak;"),
        ("dtd-file", '<!DOCTYPE {root} SYSTEM "file://' + SECRET_DTD + '">',
         "&leak;"),
        ("laughs", laughs, "&lol9;"),
        ("quadratic", '<!DOCTYPE {root} [<!ENTITY a "' + "a" * 50000
         + '">]>', "&a;" * 20000),
        ("undeclared", "", "caf&eacute;"),
    ]
    for name, doctype, seg in entity_cases:
        refused_import(f"{name}.tmx", tmx(UNIT.format(en=seg),
                                          doctype.replace("{root}", "tmx")),
                       f"TMX {name}", "--memory", "hostile")
        refused_import(f"{name}.tbx", tbx(ENTRY.format(en=seg),
                                          doctype.replace("{root}", "tbx")),
                       f"TBX {name}", "--glossary", "hostile")

    deep = "<hi>" * 100000 + "x" + "</hi>" * 100000
    refused_import("deep.tmx", tmx(UNIT.format(en=deep)),
                   "TMX 100k nested elements", "--memory", "hostile")
    refused_import("deep.tbx", tbx(ENTRY.format(en=deep)),
                   "TBX 100k nested elements", "--glossary", "hostile")
    big = "a" * (11 << 20)
    refused_import("attr.tmx", tmx(UNIT.format(en=EN).replace(
        "<tu>", f'<tu tuid="{big}">')), "TMX an 11 MiB attribute")
    refused_import("attr.tbx", tbx(ENTRY.format(en="drone").replace(
        "<termEntry>", f'<termEntry id="{big}">')),
        "TBX an 11 MiB attribute", "--glossary", "default")
    del big
    under = "a" * (9 << 20)
    imported_or_refused("attr9.tmx", tmx(UNIT.format(en="under attr").replace(
        "<tu>", f'<tu tuid="{under}">')), "TMX a 9 MiB attribute",
        "--memory", "under")
    del under
    refused_import("long.tmx", tmx(UNIT.format(en="a" * (TEXT_MAX + 1))),
                   "TMX a segment over 1 MiB")
    imported_or_refused("long1m.tmx", tmx(UNIT.format(en="b" * TEXT_MAX)),
                        "TMX a segment of exactly 1 MiB", "--memory", "under")
    refused_import("long.tbx", tbx(ENTRY.format(en="a" * (TERM_MAX + 1))),
                   "TBX a term over 1000 bytes", "--glossary", "default")
    imported_or_refused("long1k.tbx", tbx(ENTRY.format(en="b" * TERM_MAX)),
                        "TBX a term of exactly 1000 bytes",
                        "--glossary", "under")

    for ext, doc, body in (("tmx", tmx, UNIT.format(en=EN)),
                           ("tbx", tbx, ENTRY.format(en="there drone"))):
        good = doc(body).encode()
        coll = ("--memory", "hostile") if ext == "tmx" else (
            "--glossary", "hostile")
        for name, data in (
                ("utf8", good.replace(b"there", b"th\xe9re")),
                ("overlong", good.replace(b"there", b"th\xc0\xaere")),
                ("surrogate", good.replace(b"there", b"th\xed\xa0\x80re")),
                ("cut", good[:good.rindex(b"<")] + "친".encode()[:2]),
                ("utf16decl", doc(body, decl='<?xml version="1.0" '
                                  'encoding="UTF-16"?>\n').encode()),
                ("unknownenc", doc(body, decl='<?xml version="1.0" '
                                   'encoding="x-no-such"?>\n').encode()),
                # iconv fails on the first non-ASCII byte, and libxml2
                # would print that on stderr too.
                ("utf7decl", doc(body, decl='<?xml version="1.0" '
                                 'encoding="UTF-7"?>\n').encode()),
                ("bom16", b"\xff\xfe" + good),
                ("nul", good.replace(b"there", b"th\x00re")),
                ("truncated", good[:len(good) // 2]),
                ("ctrl", good.replace(b"there", b"th&#x1b;re"))):
            refused_import(f"{name}.{ext}", data, f"{ext.upper()} {name}",
                           *coll)
        for tag in ("xx-", "en_", "EN--GB", "k" * 300, "und", "한국", "*"):
            data = doc(body).replace('"ko"', f'"{tag}"')
            refused_import(f"lang.{ext}", data,
                           f"{ext.upper()} xml:lang={tag[:12]!r}", *coll)


def dsv_files():
    for fmt, name, data in (
            ("csv", "open quote", b'en,ko\n"hello,world\nmore,text\n'),
            ("csv", "NUL", b"en,ko\nhel\x00lo,world\n"),
            ("tsv", "NUL", b"en\tko\nhel\x00lo\tworld\n"),
            ("tsv", "NUL in the header", b"en\x00\tko\nhello\tworld\n"),
            ("csv", "invalid UTF-8", b"en,ko\ncaf\xe9,world\n"),
            ("tsv", "invalid UTF-8", b"en\tko\ncaf\xe9\tworld\n"),
            ("tsv", "cut UTF-8", b"en\tko\nhello\t\xea\xb0"),
            ("tsv", "UTF-16", "en\tko\nhello\tworld\n".encode("utf-16")),
            ("tsv", "unknown escape", b"en\tko\nhello\\q\tworld\n"),
            ("tsv", "extra cells", b"en\tko\nhello\tworld\tx\n"),
            ("tsv", "bad language", b"en\txx-\nhello\tworld\n"),
            ("csv", "language en_", b"en_,ko\nhello,world\n"),
            ("tsv", "300-character language",
             b"en\t" + b"k" * 300 + b"\nhello\tworld\n"),
            ("tsv", "a cell over 1 MiB",
             b"en\tko\n" + b"a" * (TEXT_MAX + 1) + b"\tb\n")):
        for coll in (("--memory", "default"), ("--glossary", "hostile")):
            refused_import(f"bad.{fmt}", data,
                           f"{fmt.upper()} {name} into {coll[0][2:]}", *coll)


def other_files():
    # Not a file to read.
    p = tm("import", os.path.join(TMP, "missing.tmx"))
    clean_failure(p, "a missing file", r"missing\.tmx")
    unchanged("a missing file")
    os.mkdir(os.path.join(TMP, "dir.tmx"))
    p = tm("import", os.path.join(TMP, "dir.tmx"))
    clean_failure(p, "a directory", r"dir\.tmx")
    unchanged("a directory")
    refused_import("empty.tmx", b"", "an empty TMX")
    refused_import("empty.tbx", b"", "an empty TBX", "--glossary", "default")
    refused_import("text.tmx", b"hello, world\n", "text named .tmx")
    refused_import("tmx.tsv", tmx(UNIT.format(en=EN)).encode("utf-16"),
                   "UTF-16 XML named .tsv")
    p = tm("import", write("x.docx", b"PK\x03\x04"))
    clean_failure(p, "an unknown extension", r"x\.docx")
    unchanged("an unknown extension")
    p = tm("import", write("ok.tmx", tmx(UNIT.format(en=EN))), "--format",
           "exe")
    clean_failure(p, "an unknown --format")
    unchanged("an unknown --format")


META = ["'", '"', ";", "--", "%", "_", "*", "' OR 1=1 --", "\\",
        "'; DROP TABLE units; --"]
BAD_TAGS = ["xx-", "en_", "EN--GB", "a" * 300, "und", "한국어", "*", "en-GB-"]


def arguments():
    """Hostile text where the command line takes text, names, tags."""
    for m in META:
        for args in (("match", "war " + m, "--from", "en", "--to", "ko"),
                     ("concordance", m, "--lang", "en"),
                     ("terms", m, "--lang", "en", "--json")):
            p = tm(*args)
            err = p.stderr.decode("utf-8", "replace")
            tap.ok(p.returncode in (0, 1, 2) and not any(c in err
                                                         for c in CRASH)
                   and (p.returncode == 0 or err.startswith("tm")),
                   f"tm {' '.join(args)[:40]!r}: exit {p.returncode}, "
                   "no crash", err[:400])
        name_ok = re.fullmatch(r"[A-Za-z0-9._-]{1,64}", m)
        for args in (("export", "--memory", m, "--format", "tsv"),
                     ("export", "--glossary", m, "--format", "tbx"),
                     *((("import", write("m.tsv", b"en\tko\na\tb\n"),
                         "--memory", m),
                        ("import", write("g.tsv", b"en\tko\na\tb\n"),
                         "--glossary", m)) if not name_ok else ()),
                     ("token", "revoke", m),
                     ("token", "create", "--role", m)):
            what = " ".join(a for a in args if not a.startswith(TMP))
            clean_failure(tm(*args), f"tm {what[:50]}")
        unchanged(f"metacharacter {m!r} in arguments")
    for tag in BAD_TAGS:
        for args in (("match", "x", "--from", tag, "--to", "ko"),
                     ("match", "x", "--from", "en", "--to", tag),
                     ("match", "x", "--from", "en", "--to", "ko," + tag),
                     ("concordance", "x", "--lang", tag),
                     ("concordance", "x", "--lang", "en", "--to", tag),
                     ("terms", "x", "--lang", tag),
                     ("export", "--memory", "default", "--format", "tsv",
                      "--langs", tag),
                     ("export", "--glossary", "default", "--format", "tsv",
                      "--sort", tag),
                     ("analyze", write("doc.txt", "A text."), "--lang", tag,
                      "--to", "ko"),
                     ("analyze", write("doc.txt", "A text."), "--lang", "en",
                      "--to", tag)):
            clean_failure(tm(*args), f"tm {args[0]} with {tag[:12]!r}")
        unchanged(f"language {tag[:12]!r} in arguments")
    # Invalid UTF-8 in an argument.
    for args in ((b"match", b"caf\xe9", b"--from", b"en"),
                 (b"terms", b"\xea\xb0"),
                 (b"concordance", b"\xff", b"--lang", b"en")):
        p = subprocess.run([TM.encode(), b"--db", DB.encode(), *args],
                           capture_output=True, timeout=300)
        clean_failure(p, f"tm {args[0].decode()} with invalid UTF-8")
    unchanged("invalid UTF-8 in arguments")


def main():
    t0 = time.monotonic()
    try:
        p = tm("init")
        tap.ok(p.returncode == 0, "tm init", p.stderr)
        seed = write("seed.tmx", tmx(UNIT.format(en=EN)))
        tap.ok(tm("import", seed).returncode == 0, "a memory to keep")
        seed = write("seed.tsv", "en\tko\ndrone\t드론\n")
        tap.ok(tm("import", seed, "--glossary", "default").returncode == 0,
               "a glossary to keep")
        tm("token", "create", "--role", "admin", "--label", "keep")
        State.before = snapshot()
        tap.run(xml_files, BAIT.port)
        tap.run(dsv_files)
        tap.run(other_files)
        tap.run(arguments)
        tap.ok(not BAIT.fetched(), "nothing was fetched from the network")
        stored = db_bytes(DB)
        tap.ok(stored and SECRET.encode() not in stored,
               "the database does not hold the secret")
    finally:
        BAIT.close()
        shutil.rmtree(TMP, ignore_errors=True)
    print(f"# {time.monotonic() - t0:.1f} s", flush=True)
    tap.done()


main()
