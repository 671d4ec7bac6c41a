#!/usr/bin/env python3
"""End-to-end tests of the compatibility endpoints, with the exact request
shapes their clients send:

- Weblate's tmserver machinery: languages/ first (trailing slash), codes
  lower-cased with `_`, the text cut to 500 characters, \\r replaced by a
  space, percent-encoded with nothing safe (`/` becomes %2F);
- Virtaal's tmclient: GET unit/<quote(text, safe='')>, PUT (JSON, no
  Content-Type) and POST (JSON labelled as a form) on unit/, POST and PUT on
  store/;
- MyMemory: get?q=&langpair=en|ko and get/post set?seg=&tra=&key=.

Usage: test_compat.py TM_SERVER TM   (prints TAP)
"""

import json
import os
import sys
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server, Tap, is_error, q  # noqa: E402

tap = Tap()

SEGMENTS = [
    ("North Korean soldiers were captured in Kursk.",
     "북한군 병사들이 쿠르스크에서 포로로 잡혔다."),
    ("The soldiers were sent to the front in Kursk/Donetsk.",
     "병사들은 쿠르스크/도네츠크 전선으로 보내졌다."),
    ("Prisoners of war must be treated humanely.",
     "전쟁포로는 인도적으로 대우받아야 한다."),
]


def weblate_url(slang, tlang, text):
    """What Weblate's TMServerTranslation builds."""
    def code(c):
        return c.replace("-", "_").lower()
    parts = (code(slang), code(tlang), "unit",
             text[:500].replace("\r", " ").encode())
    return "/tmserver/" + "/".join(urllib.parse.quote(p, b"") for p in parts)


def seed(s, tok):
    for en, ko in SEGMENTS:
        r = s.post("/api/v1/tm/units", {"variants": {"en": en, "ko": ko}},
                   token=tok["c"])
        tap.eq(r.status, 201, f"seeded: {en[:30]}")
    r = s.post("/api/v1/tm/units", {"variants": {
        "en-GB": "The armoured column stopped.", "pt-BR": "A coluna parou."}},
        token=tok["c"])
    tap.eq(r.status, 201, "seeded en-GB and pt-BR")


def weblate(s, tok):
    r = s.get("/tmserver/languages/")
    tap.eq(r.status, 200, "languages/ answers")
    langs = r.json()
    tap.ok(set(langs) == {"sourceLanguages", "targetLanguages"},
           "amaGama's shape", langs)
    src = langs.get("sourceLanguages", [])
    tap.ok({"en", "ko", "en_gb", "pt_br", "pt"} <= set(src),
           "codes lower-cased with _ (and their base languages)", src)
    tap.ok(("en", "ko") in [(a, b) for a in src
                            for b in langs["targetLanguages"]],
           "Weblate's is_supported(en, ko) holds")
    r = s.get("/tmserver/languages")
    tap.eq(r.status, 200, "languages without the slash too")

    text = "North Korean soldiers were captured in Kursk!\r"
    r = s.get(weblate_url("en", "ko", text))
    tap.eq(r.status, 200, "Weblate's unit lookup answers")
    tap.eq(r.header("cache-control"), "max-age=3600, public",
           "cacheable for an hour, as amaGama")
    body = r.json()
    tap.ok(isinstance(body, list) and body and
           set(body[0]) == {"source", "target", "quality", "rank"},
           "a JSON array of {source, target, quality, rank}", body)
    if body:
        tap.ok(body[0]["target"] == SEGMENTS[0][1]
               and isinstance(body[0]["quality"], int)
               and 70 <= body[0]["quality"] < 100,
               "the fuzzy suggestion with an integer quality", body[0])
    r = s.get(weblate_url("en", "ko", SEGMENTS[1][0]))
    tap.ok(r.json() and r.json()[0]["quality"] == 100
           and r.json()[0]["target"] == SEGMENTS[1][1],
           "a text with an encoded slash (%2F)", r)
    r = s.get("/tmserver/en/ko/unit/" + urllib.parse.quote(SEGMENTS[1][0]))
    tap.ok(r.json() and r.json()[0]["quality"] == 100,
           "a text with a literal slash (the rest of the path)", r)
    long_text = SEGMENTS[2][0] + " " + "word " * 150
    r = s.get(weblate_url("en", "ko", long_text))
    tap.eq(r.status, 200, "a text cut to 500 characters")
    r = s.get(weblate_url("en_GB", "ko", "The armoured column stopped."))
    tap.eq(r.status, 200, "a code like en_GB")
    r = s.get(weblate_url("EN", "PT_BR", "The armoured column stopped."))
    tap.ok(r.json() and r.json()[0]["target"] == "A coluna parou.",
           "codes in any case (EN, PT_BR) find en-GB/pt-BR units", r)
    r = s.get("/tmserver/en/ko/unit/?" + q(source=SEGMENTS[0][0]))
    tap.ok(r.json() and r.json()[0]["quality"] == 100, "?source= form", r)
    r = s.get("/tmserver/en/ko/unit?" + q(source=SEGMENTS[0][0]))
    tap.ok(r.json() and r.json()[0]["quality"] == 100,
           "?source= without the slash", r)
    r = s.get(weblate_url("en", "ko", "Soldiers were captured.") + "?" +
              q(min_similarity=100))
    tap.eq(r.json(), [], "min_similarity=100 keeps only exact matches")
    r = s.get(weblate_url("en", "ko", "soldiers were captured in Kursk") +
              "?" + q(max_candidates=1, min_similarity=30))
    tap.ok(len(r.json()) <= 1, "max_candidates=1", r)
    r = s.get(weblate_url("en", "ko", SEGMENTS[0][0]) + "?" +
              q(jsoncallback="jQuery123_cb"))
    text = r.body.decode()
    tap.ok(text.startswith("jQuery123_cb([") and text.endswith(");")
           and r.header("content-type", ).startswith("application/javascript"),
           "JSONP with jsoncallback", text[:80])
    r = s.get(weblate_url("en", "ko", "x") + "?" +
              q(jsoncallback="alert(1)//"))
    tap.ok(is_error(r, 400, "invalid_parameter"), "a bad callback: 400", r)
    r = s.get(weblate_url("en", "ko", "nothing like this at all, zebra"))
    tap.eq(r.json(), [], "no suggestion: an empty array")
    r = s.get(weblate_url("en", "en", SEGMENTS[0][0]))
    tap.eq(r.json(), [], "en to en: nothing, as amaGama")
    r = s.get("/tmserver/e!/ko/unit/x")
    tap.ok(is_error(r, 400, "invalid_language"), "a malformed code: 400", r)
    r = s.get("/tmserver/en/ko/unit/%FF%FE")
    tap.ok(is_error(r, 400, "invalid_utf8"), "invalid UTF-8 in the path", r)


def virtaal(s, tok):
    source = "The exchange of prisoners / took place."
    target = "포로 교환은 / 이루어졌다."
    url = "/tmserver/en/ko/unit/" + urllib.parse.quote(source, safe="")
    unit = {"source": source, "target": target, "context": "",
            "source_lang": "en", "target_lang": "ko"}
    r = s.put(url, json.dumps(unit))
    tap.ok(is_error(r, 401, "unauthorized"), "PUT unit without a token", r)
    r = s.put(url, json.dumps(unit), token=tok["c"])
    tap.eq(r.status, 201, "Virtaal's PUT unit adds it")
    r = s.post(url, json.dumps(unit), token=tok["c"], headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    tap.ok(r.status == 200 and r.json()["created"] is False,
           "Virtaal's POST (JSON labelled as a form): already there", r)
    r = s.get(url)
    tap.ok(r.json() and r.json()[0]["target"] == target,
           "the contribution is found at once", r)
    r = s.post("/tmserver/en/uk/unit/" + urllib.parse.quote(source, safe=""),
               q(target="Обмін полоненими відбувся."), token=tok["c"],
               headers={"Content-Type": "application/x-www-form-urlencoded"})
    tap.eq(r.status, 201, "form fields: the source from the path")
    r = s.post("/tmserver/en/ko/unit/x", json.dumps({"source": "x"}),
               token=tok["c"])
    tap.ok(is_error(r, 400, "missing_parameter"), "no target: 400", r)
    r = s.post("/tmserver/en/ko/store/webinar.po", json.dumps([
        {"source": "Ceasefire", "target": "휴전"},
        {"source": "Untranslated", "target": ""}]), token=tok["c"])
    tap.ok(r.status == 200 and r.json()["added"] == 1,
           "POST store: a list of units (untranslated skipped)", r)
    tmx = ('<?xml version="1.0"?><tmx version="1.4"><header srclang="en" '
           'datatype="plaintext" segtype="sentence" adminlang="en" o-tmf="x" '
           'creationtool="x" creationtoolversion="1"/><body><tu>'
           '<tuv xml:lang="en"><seg>Armistice</seg></tuv>'
           '<tuv xml:lang="ko"><seg>정전</seg></tuv></tu></body></tmx>')
    r = s.put("/tmserver/en/ko/store/old.tmx", tmx, token=tok["c"])
    tap.ok(is_error(r, 403, "forbidden"), "PUT store is an import: admin", r)
    r = s.put("/tmserver/en/ko/store/old.tmx", tmx, token=tok["admin"])
    tap.ok(r.status == 200 and r.json()["imported"] == 1,
           "PUT store imports the file", r)
    r = s.put("/tmserver/en/ko/store/old.po", tmx, token=tok["admin"])
    tap.ok(is_error(r, 415, "unsupported_format"), "a PO store: 415", r)
    r = s.get(weblate_url("en", "ko", "Armistice"))
    tap.ok(r.json() and r.json()[0]["target"] == "정전",
           "the imported store is found", r)


def mymemory(s, tok):
    r = s.get("/mymemory/get?" + q(q=SEGMENTS[0][0][:-1] + "!",
                                   langpair="en|ko"))
    tap.eq(r.status, 200, "MyMemory get answers")
    body = r.json()
    tap.ok(body.get("responseStatus") == 200 and
           set(body.get("responseData", {})) == {"translatedText", "match"},
           "MyMemory's envelope", body)
    tap.ok(body["responseData"]["translatedText"] == SEGMENTS[0][1]
           and 0 < body["responseData"]["match"] < 1,
           "translatedText and match as a fraction", body["responseData"])
    m = body.get("matches", [])
    tap.ok(m and set(m[0]) >= {"id", "segment", "translation", "source",
                               "target", "quality", "match", "created-by",
                               "create-date", "last-update-date"},
           "a match has MyMemory's fields", m[:1])
    if m:
        tap.ok(isinstance(m[0]["quality"], str) and
               isinstance(m[0]["match"], float) and 0 <= m[0]["match"] <= 1,
               "quality a string, match a fraction", m[0])
        tap.ok(m[0]["source"] == "en" and m[0]["target"] == "ko",
               "the languages of the match", m[0])
    r = s.get("/mymemory/get?" + q(q="zebra crossing", langpair="en|ko"))
    tap.ok(r.json()["matches"] == [] and
           r.json()["responseData"]["translatedText"] == "",
           "no match: an empty list", r)
    r = s.get("/mymemory/get?" + q(q="x", langpair="en"))
    tap.ok(is_error(r, 400, "invalid_parameter"), "langpair without |", r)
    r = s.get("/mymemory/get?" + q(q="x"))
    tap.ok(is_error(r, 400, "missing_parameter"), "no langpair", r)

    seg, tra = "Humanitarian corridor", "인도주의 통로"
    r = s.get("/mymemory/set?" + q(seg=seg, tra=tra, langpair="en|ko"))
    tap.ok(is_error(r, 401, "unauthorized"), "set without a key: 401", r)
    r = s.get("/mymemory/set?" + q(seg=seg, tra=tra, langpair="en|ko",
                                   key="tm_1_bad"))
    tap.ok(is_error(r, 401, "unauthorized"), "set with a bad key: 401", r)
    r = s.request("HEAD", "/mymemory/set?" + q(seg=seg, tra=tra,
                                                langpair="en|ko",
                                                key=tok["c"]))
    tap.eq(r.status, 405, "HEAD never writes: 405 on set")
    r = s.get("/mymemory/set?" + q(seg=seg, tra=tra, langpair="en|ko",
                                   key=tok["c"]))
    tap.ok(r.status == 200 and r.json()["responseData"] == "OK"
           and r.json()["responseStatus"] == 200, "GET set with key", r)
    r = s.post("/mymemory/set", q(seg="Frontline", tra="전선",
                                  langpair="en|ko", key=tok["c"]),
               headers={"Content-Type": "application/x-www-form-urlencoded"})
    tap.ok(r.status == 200 and r.json()["created"] is True,
           "POST set with the key in the form", r)
    r = s.post("/mymemory/set", q(seg="Frontline", tra="전선",
                                  langpair="en|ko"),
               headers={"Content-Type": "application/x-www-form-urlencoded"})
    tap.ok(is_error(r, 401, "unauthorized"), "POST set without a key", r)
    r = s.get("/mymemory/get?" + q(q=seg, langpair="en|ko"))
    tap.ok(r.json()["matches"] and r.json()["matches"][0]["translation"] == tra
           and r.json()["responseData"]["match"] == 1,
           "a contribution is found at once, match 1", r)
    uid = r.json()["matches"][0]["id"]
    h = s.get(f"/api/v1/tm/units/{uid}/history").json()["changes"]
    tap.ok("mymemory" in h[0]["by"], "its history names the token", h[0])


def main():
    with Server(tap) as s:
        tok = {"c": s.token("contributor", "mymemory"),
               "admin": s.token("admin")}
        tap.run(seed, s, tok)
        tap.run(weblate, s, tok)
        tap.run(virtaal, s, tok)
        tap.run(mymemory, s, tok)
    tap.done()


main()
