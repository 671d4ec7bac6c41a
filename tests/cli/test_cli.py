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
    for cmd in ["init", "import", "export", "token", "stats", "tokens",
                "match", "terms", "concordance"]:
        if cmd not in p.stdout:
            continue  # commands of later work are checked where they exist
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
