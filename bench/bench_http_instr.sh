#!/bin/sh
# bench_http_instr.sh - what one term search costs tm-server, in
# instructions counted by callgrind: a figure that other load on the
# machine does not move, unlike the requests per second of bench_http.sh.
#
# It starts tm-server under valgrind on a new database (the shipped
# glossaries: term search reads nothing else), sends the booth queries of
# bench_http.sh once to warm the caches, then, counted, ROUNDS more times
# on one keep-alive connection, and prints the instructions per request
# spent in the access handler (routing, parameters, the search, the JSON,
# the response) and in the functions that cost most within it.
#
#   bench/bench_http_instr.sh          (after `meson compile -C build`)
#
# Environment: BUILD (build), ROUNDS (50).  Needs valgrind.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
BUILD=${BUILD:-$root/build}
ROUNDS=${ROUNDS:-50}

command -v valgrind >/dev/null || {
  echo "bench_http_instr: valgrind is missing: apt-get install valgrind" >&2
  exit 1
}
[ -x "$BUILD/server/tm-server" ] || {
  echo "bench_http_instr: $BUILD/server/tm-server is missing (build first)" >&2
  exit 1
}

me=bench_http_instr
. "$here/servers.sh"

start tm-server env TM_GLOSSARY_DIR="${TM_GLOSSARY_DIR:-$root/glossaries}" \
  valgrind --tool=callgrind --toggle-collect=on_access \
  --callgrind-out-file="$tmp/cg.out" \
  "$BUILD/server/tm-server" --db "$tmp/tm.sqlite" --listen 127.0.0.1:0 \
  --threads 1 --quiet

# The same queries as bench_http.sh (booth_queries.txt).
cat >"$tmp/client.py" <<'PY'
import http.client, sys, urllib.parse

url, rounds = sys.argv[1], int(sys.argv[2])
u = urllib.parse.urlsplit(url)
with open(sys.argv[3], encoding="utf-8") as f:
    booth = [line.rstrip("\n") for line in f if line.strip()]
paths = ["/api/v1/terms?q=" + urllib.parse.quote(t, safe="") for t in booth]
c = http.client.HTTPConnection(u.hostname, u.port)
for r in range(rounds):
    for p in paths:
        c.request("GET", p)
        resp = c.getresponse()
        resp.read()
        if resp.status != 200:
            sys.exit(f"bench_http_instr: {p}: {resp.status}")
print(rounds * len(paths))
PY
# The first round fills the entry cache; the count starts after it.
python3 "$tmp/client.py" "$url" 1 "$here/booth_queries.txt" >/dev/null
if ! callgrind_control -z "$pid" >"$tmp/z" 2>&1; then
  echo "bench_http_instr: callgrind_control cannot reset the counts:" >&2
  cat "$tmp/z" >&2
  exit 1
fi
python3 "$tmp/client.py" "$url" "$ROUNDS" "$here/booth_queries.txt" >"$tmp/n"
# SIGINT: tm-server stops cleanly and callgrind writes its counts.
kill -INT "$pid"
wait "$pid" || true

callgrind_annotate --inclusive=yes --threshold=100 "$tmp/cg.out" 2>/dev/null |
  python3 -c '
import re, sys
total = int(sys.argv[1])
rows = {}
for line in sys.stdin:
    m = re.match(r"\s*([\d,]+) \([\s\d.]+%\)\s+\S+:(\S+) \[", line)
    if m:
        n = int(m.group(1).replace(",", ""))
        rows[m.group(2)] = max(rows.get(m.group(2), 0), n)
print(f"{total} term requests on one connection, after one round to warm up")
handler = rows.get("on_access", 0) / total
print(f"instructions per request in the access handler: {handler:,.0f}")
for fn in ("route_begin", "param_text", "tm_terms_find", "tm_text_fold",
           "find_keys", "entry_cache_get", "jt_hit_members", "http_send"):
    if fn in rows:
        print(f"  {fn:18} {rows[fn] / total:8,.0f}")
' "$(cat "$tmp/n")"
