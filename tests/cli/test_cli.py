#!/usr/bin/env python3
"""End-to-end tests of the `tm` command line, printing TAP.

usage: test_cli.py PATH/TO/tm

Each case runs the real binary on a temporary database.  The corpus round
trip needs the shared data ($TM_SHARED_DIR) and is skipped without it.
"""
import json
import os
import subprocess
import sys
import tempfile
import unicodedata
import xml.etree.ElementTree as ET

TM = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="tm-cli-")
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
cases = []


def case(fn):
    cases.append(fn)
    return fn


class Skip(Exception):
    pass


def tm(*args, db="cli.sqlite", check=True, stdin=None):
    cmd = [TM, "--db", os.path.join(TMP, db), *args]
    p = subprocess.run(cmd, capture_output=True, text=True, input=stdin,
                       timeout=600)
    if check and p.returncode != 0:
        raise AssertionError(f"{cmd} exited {p.returncode}: {p.stderr}")
    return p


def write(name, text):
    path = os.path.join(TMP, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


@case
def help_on_every_command():
    p = tm("--help")
    assert "usage:" in p.stdout
    listed = p.stdout.split("Commands:")[1].split("\n\n")[0].split()
    commands = [w for w in listed[::1] if w.isalpha() and w.islower()]
    for cmd in ["init", "import", "export", "token", "stats", "tokens",
                "match", "terms", "concordance", "analyze"]:
        assert cmd in commands, (cmd, p.stdout)
        q = tm(cmd, "--help")
        assert q.stdout.startswith("usage:"), (cmd, q.stdout)
    p = tm("frobnicate", check=False)
    assert p.returncode == 2 and "unknown command" in p.stderr


@case
def init_creates_database_with_defaults():
    p = tm("init", db="new/dir/fresh.sqlite")
    assert "schema version" in p.stdout
    stats = json.loads(tm("stats", "--json", db="new/dir/fresh.sqlite").stdout)
    names = [m["name"] for m in stats["memories"]]
    assert "default" in names, stats
    assert any(g["name"] == "default" for g in stats["glossaries"])
    for g in stats["glossaries"]:
        assert set(g) == {"name", "entries", "languages"}, g


@case
def import_export_tsv_and_stats():
    src = write("units.tsv", "en\tko\tuk\torigin\n"
                "Prisoner of war\t전쟁포로\tВійськовополонений\tseed\n"
                "Kursk region\t쿠르스크 지역\tКурська область\tseed\n")
    p = tm("import", src, "--memory", "event")
    assert "2 units imported" in p.stdout, p.stdout
    stats = json.loads(tm("stats", "--json").stdout)
    event = [m for m in stats["memories"] if m["name"] == "event"][0]
    assert event["units"] == 2
    assert event["languages"] == {"en": 2, "ko": 2, "uk": 2}, event
    out = os.path.join(TMP, "out.tsv")
    tm("export", "--memory", "event", "--format", "tsv", "-o", out)
    with open(out, encoding="utf-8") as f:
        lines = f.read().splitlines()
    assert lines[0] == "en\tko\tuk\torigin\tnote", lines[0]
    assert "Kursk region\t쿠르스크 지역\tКурська область\tseed\t" in lines


@case
def bad_import_fails_clearly_and_stores_nothing():
    src = write("bad.tsv", "en\tko\nfine\t좋아\nbroken\t\\q\n")
    p = tm("import", src, "--memory", "bad", check=False)
    assert p.returncode == 1, p.returncode
    assert "bad.tsv:3:" in p.stderr, p.stderr
    stats = json.loads(tm("stats", "--json").stdout)
    assert not any(m["name"] == "bad" for m in stats["memories"]), stats
    p = tm("import", os.path.join(TMP, "missing.tmx"), check=False)
    assert p.returncode == 1 and "missing.tmx" in p.stderr
    p = tm("import", src, "--format", "docx", check=False)
    assert p.returncode == 2 and "unknown format" in p.stderr


@case
def tokens_create_list_revoke():
    p = tm("token", "create", "--role", "reviewer", "--label", "booth A")
    token = p.stdout.strip()
    assert token.startswith("tm_") and "\n" not in token
    listing = tm("token", "list").stdout
    assert "reviewer" in listing and "booth A" in listing
    assert token not in listing
    tid = token.split("_")[1]
    assert f"token {tid} revoked" in tm("token", "revoke", tid).stdout
    assert tm("token", "revoke", tid, check=False).returncode == 1
    p = tm("token", "create", "--role", "king", check=False)
    assert p.returncode == 2 and "unknown role" in p.stderr


@case
def text_pipeline_is_visible():
    p = tm("tokens", "Військо́вополонені з’їзд", "--lang", "uk")
    assert "folded    військовополонені з'їзд" in p.stdout, p.stdout
    assert "latin     viiskovopoloneni zizd" in p.stdout
    p = tm("tokens", "전쟁 포로를")
    assert "initials  ㅈㅈㅍㄹㄹ" in p.stdout, p.stdout
    p = subprocess.run([TM.encode(), b"tokens", b"caf\xff"],
                       capture_output=True)
    assert p.returncode == 1 and b"invalid UTF-8 at byte 3" in p.stderr, p


@case
def search_terms_matches_and_concordance():
    gloss = write("event.tsv", "id\tdomain\ten\tko\tuk\tstatus\n"
                  "pow\tihl\tprisoner of war | POW {abbreviation}\t전쟁포로\t"
                  "військовополонений\tapproved\n")
    tm("import", gloss, "--glossary", "event", db="search.sqlite")
    mem = write("mem.tsv", "en\tko\tuk\n"
                "Two North Korean soldiers were captured in Kursk.\t"
                "북한군 병사 두 명이 쿠르스크에서 생포되었다.\t"
                "Двох північнокорейських солдатів взяли в полон у Курську.\n")
    tm("import", mem, "--memory", "event", db="search.sqlite")
    for query in ["ㅈㅈㅍㄹ", "prisoners of war",
                  "전쟁포로를", "viiskovopolonenyi", "військовополонених"]:
        p = tm("terms", query, db="search.sqlite")
        first = p.stdout.splitlines()[0]
        assert "entry" in first and ("전쟁포로" in first or
                                     "prisoner of war" in first or
                                     "військовополонений" in first), (query,
                                                                       p.stdout)
    p = tm("match", "North Korean soldiers were captured in Kursk.",
           "--from", "en", "--to", "ko", db="search.sqlite")
    lines = p.stdout.splitlines()
    assert lines[0].lstrip().split("%")[0].isdigit(), p.stdout
    assert 70 <= int(lines[0].lstrip().split("%")[0]) < 100, p.stdout
    assert "[Two ]" in p.stdout and "ko: 북한군" in p.stdout, p.stdout
    p = tm("concordance", "북한", "--lang", "ko", db="search.sqlite")
    assert "[북한]" in p.stdout, p.stdout
    p = tm("match", "x", db="search.sqlite", check=False)
    assert p.returncode == 2 and "--from" in p.stderr
    # --json prints what the API answers
    j = json.loads(tm("terms", "ㅈㅈㅍㄹ", "--json", db="search.sqlite").stdout)
    hit = j["results"][0]
    assert j["query"] == "ㅈㅈㅍㄹ" and hit["matched"]["how"] == "initials", j
    assert hit["terms"]["ko"][0]["text"] == "전쟁포로", hit
    assert {"entry", "glossary", "score", "definition", "status"} <= set(hit)
    j = json.loads(tm("match", "North Korean soldiers were captured in Kursk.",
                      "--from", "en", "--json", db="search.sqlite").stdout)
    m = j["matches"][0]
    assert j["from"] == "en" and 70 <= m["score"] < 100, j
    assert m["changes"][0]["op"] == "insert" and m["targets"]["ko"], m
    j = json.loads(tm("concordance", "북한", "--lang", "ko", "--json",
                      db="search.sqlite").stdout)
    assert j["matches"][0]["hits"] == [[0, 2]], j


def tmx_units(path):
    """(en, ko, uk) of every <tu>, in file order, NFC."""
    units = []
    for _, el in ET.iterparse(path):
        if el.tag == "tu":
            v = {}
            for tuv in el.findall("tuv"):
                seg = tuv.find("seg")
                lang = tuv.get(XML_LANG) or tuv.get("lang")
                v[lang] = unicodedata.normalize(
                    "NFC", "".join(seg.itertext()) if seg is not None else "")
            # An empty <seg> is no text (the corpus has one such Korean
            # segment); the import leaves it out, so the export does too.
            units.append(tuple(v.get(k) or None for k in ("en", "ko", "uk")))
            el.clear()
    return units


@case
def corpus_round_trip():
    shared = os.environ.get("TM_SHARED_DIR", "")
    src = os.path.join(shared, "data", "corpus", "en-ko-uk.tmx")
    if not shared or not os.path.exists(src):
        raise Skip("the shared corpus is absent")
    if os.environ.get("TM_SANITIZED"):
        raise Skip("the full corpus runs in the normal build only")
    p = tm("import", src, "--memory", "corpus", db="corpus.sqlite")
    assert "224689 units imported" in p.stdout, p.stdout
    out = os.path.join(TMP, "corpus-out.tmx")
    tm("export", "--memory", "corpus", "--format", "tmx", "-o", out,
       db="corpus.sqlite")
    before, after = tmx_units(src), tmx_units(out)
    assert len(before) == len(after) == 224689, (len(before), len(after))
    diff = [i for i, (a, b) in enumerate(zip(before, after)) if a != b]
    assert not diff, f"{len(diff)} units differ, first {before[diff[0]]!r}"


@case
def analyze_document_and_prep_sheet():
    doc = write("brief.md", "# Briefing\n\nThe **Third Geneva Convention** "
                "protects [prisoners of\nwar](https://x.org) (POWs). The "
                "Database Center for Testing Things (DCTT) met twice; the "
                "DCTT reported.\n")
    p = tm("analyze", doc, "--lang", "en", "--to", "ko,uk", "--no-memories",
           db="analyze.sqlite")
    a = json.loads(p.stdout)
    assert set(a) >= {"terms", "sentences", "candidates"}, a.keys()
    src = open(doc, encoding="utf-8").read()
    pows = [t for t in a["terms"]
            if any(x["text"] == "prisoner of war" for x in t["terms"]["en"])]
    assert pows and pows[0]["count"] == 2, a["terms"]
    s, e = pows[0]["offsets"][0]
    assert src[s:e] == "prisoners of\nwar", src[s:e]
    assert all(x["match"] is None for x in a["sentences"])
    dctt = [c for c in a["candidates"] if c["abbreviation"] == "DCTT"]
    assert dctt and dctt[0]["text"] == "Database Center for Testing Things"
    out = os.path.join(TMP, "prep.tsv")
    tm("analyze", doc, "--lang", "en", "--to", "ko,uk", "--no-memories",
       "--format", "tsv", "-o", out, db="analyze.sqlite")
    p = tm("import", out, "--glossary", "prep", db="analyze.sqlite")
    n = len(a["terms"]) + len(a["candidates"])
    assert f"{n} entries imported" in p.stdout, p.stdout
    p = tm("analyze", doc, "--lang", "en", "--no-memories", "--format", "html",
           db="analyze.sqlite")
    assert p.stdout.startswith("<!DOCTYPE html>") and "size:A4" in p.stdout
    p = tm("analyze", doc, db="analyze.sqlite", check=False)
    assert p.returncode == 2 and "--lang" in p.stderr
    p = tm("analyze", write("x.pdf", "x"), "--lang", "en", check=False,
           db="analyze.sqlite")
    assert p.returncode == 2 and "input format" in p.stderr
    big = write("big.txt", "word " * 500000)
    p = tm("analyze", big, "--lang", "en", "--no-memories", check=False,
           db="analyze.sqlite")
    assert p.returncode == 1 and "larger than" in p.stderr, p.stderr


def main():
    print(f"1..{len(cases)}")
    failed = 0
    for n, fn in enumerate(cases, 1):
        try:
            fn()
            print(f"ok {n} - {fn.__name__}")
        except Skip as e:
            print(f"ok {n} - {fn.__name__} # SKIP {e}")
        except Exception as e:  # noqa: BLE001 - report every failure
            failed += 1
            print(f"not ok {n} - {fn.__name__}")
            for line in str(e).splitlines() or [repr(e)]:
                print(f"# {line}")
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
