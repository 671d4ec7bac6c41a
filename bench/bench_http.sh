#!/bin/sh
# bench_http.sh - tm-server over HTTP, measured with wrk on loopback, for
# issue 4's targets:
#
#   term search:  at least 70% of the requests/s of a minimal
#                 libmicrohttpd handler (bench/http_minimal.c, same thread
#                 settings), in the same run;
#   fuzzy match:  at least 5,000 requests/s at 8 connections on the full
#                 corpus, p99 under 20 ms.
#
# It imports the full corpus (en-ko-uk.tmx) into a temporary database with
# `tm import`, starts tm-server (--quiet) and http_minimal on free ports,
# and runs `wrk -t2 -c8 -d10s --latency` RUNS times against each of:
# the minimal server, term search (a rotation of booth queries) and fuzzy
# match (queries made from corpus sentences with one word deleted).  It
# prints the median requests/s and p99 of each, and the ratio.
#
#   bench/bench_http.sh            (after `meson compile -C build`)
#
# Environment: BUILD (build), TM_SHARED_DIR (../shared), RUNS (3),
# DURATION (10s), CONNS (8), WRK_THREADS (2), THREADS (the processors: the
# server's and the minimal handler's worker threads).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
BUILD=${BUILD:-$root/build}
SHARED=${TM_SHARED_DIR:-$root/../shared}
RUNS=${RUNS:-3}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-8}
WRK_THREADS=${WRK_THREADS:-2}
THREADS=${THREADS:-$(nproc)}
CORPUS=$SHARED/data/corpus/en-ko-uk.tmx
TSV=$SHARED/data/corpus/en-ko-uk.tsv

for f in "$CORPUS" "$TSV" "$BUILD/server/tm-server" "$BUILD/cli/tm" \
  "$BUILD/bench/http_minimal"; do
  if [ ! -e "$f" ]; then
    echo "bench_http: $f is missing (build first; TM_SHARED_DIR for the corpus)" >&2
    exit 1
  fi
done
command -v wrk >/dev/null || {
  echo "bench_http: wrk is missing: apt-get install wrk (scripts/deps.sh bench)" >&2
  exit 1
}

me=bench_http
. "$here/servers.sh"

echo "importing $CORPUS ..."
"$BUILD/cli/tm" --db "$tmp/tm.sqlite" import "$CORPUS" --memory corpus
start tm-server "$BUILD/server/tm-server" --db "$tmp/tm.sqlite" \
  --listen 127.0.0.1:0 --threads "$THREADS" --quiet
tm_url=$url
tm_pid=$pid
start minimal "$BUILD/bench/http_minimal" --listen 127.0.0.1:0 \
  --threads "$THREADS"
min_url=$url
min_pid=$pid

# The wrk scripts: each rotates through a list of prepared requests.
python3 - "$TSV" "$tmp" "$tm_url" "$here/booth_queries.txt" <<'EOF'
import random, sys, urllib.parse, urllib.request, json

tsv, tmp, base, booth_file = sys.argv[1:5]
quote = lambda s: urllib.parse.quote(s, safe="")

with open(booth_file, encoding="utf-8") as f:
    booth = [line.rstrip("\n") for line in f if line.strip()]
terms = [f"/api/v1/terms?q={quote(t)}" for t in booth]

def unescape(s):
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s):
            out.append({"t": "\t", "n": "\n", "r": "\r"}.get(s[i + 1], s[i + 1]))
            i += 2
        else:
            out.append(s[i])
            i += 1
    return "".join(out)

rng = random.Random(4)
rows = []
with open(tsv, encoding="utf-8") as f:
    next(f)
    for line in f:
        en = unescape(line.split("\t", 1)[0])
        words = en.split()
        if 6 <= len(words) <= 25 and "\n" not in en:
            rows.append(words)
queries = []
for words in rng.sample(rows, 400):
    del words[rng.randrange(1, len(words))]
    queries.append(" ".join(words))
match = [f"/api/v1/tm/match?q={quote(t)}&from=en&to=ko,uk" for t in queries]

def lua(name, paths):
    with open(f"{tmp}/{name}.lua", "w", encoding="utf-8") as f:
        f.write("local paths = {\n")
        for p in paths:
            f.write('  "' + p.replace("\\", "\\\\").replace('"', '\\"') + '",\n')
        f.write("}\nlocal reqs, i = {}, 0\n"
                "init = function()\n"
                "  for k, p in ipairs(paths) do reqs[k] = wrk.format('GET', p) end\n"
                "end\n"
                "request = function()\n"
                "  i = i % #reqs + 1\n"
                "  return reqs[i]\n"
                "end\n")

lua("terms", terms)
lua("match", match)

# How many queries find something: a benchmark of empty answers would
# flatter the server.
def hits(paths, key):
    n = 0
    for p in paths:
        with urllib.request.urlopen(base + p) as r:
            n += bool(json.load(r)[key])
    return n
print(f"term queries with results:  {hits(terms, 'results')}/{len(terms)}")
print(f"match queries with matches: {hits(match, 'matches')}/{len(match)}")
EOF

# The CPU time (clock ticks, user + system) a process has used.
cpu() {
  awk '{ print $14 + $15 }' "/proc/$1/stat"
}

run_wrk() { # URL SCRIPT|"" DURATION [PID]: wrk's report, then the server's
  # CPU ticks during the run (a measure that other load on the machine
  # disturbs less than requests per second)
  before=$(cpu "${4:-$$}")
  if [ -n "$2" ]; then
    wrk -t"$WRK_THREADS" -c"$CONNS" -d"$3" --latency -s "$2" "$1"
  else
    wrk -t"$WRK_THREADS" -c"$CONNS" -d"$3" --latency "$1"
  fi
  echo "cpu ticks: $(($(cpu "${4:-$$}") - before)) of $(getconf CLK_TCK)/s"
}

echo "warming up ..."
run_wrk "$min_url/" "" 2s >/dev/null
run_wrk "$tm_url" "$tmp/terms.lua" 2s >/dev/null
run_wrk "$tm_url" "$tmp/match.lua" 2s >/dev/null

r=1
while [ $r -le "$RUNS" ]; do
  echo "run $r of $RUNS: wrk -t$WRK_THREADS -c$CONNS -d$DURATION --latency"
  run_wrk "$min_url/" "" "$DURATION" "$min_pid" >"$tmp/minimal.$r"
  run_wrk "$tm_url" "$tmp/terms.lua" "$DURATION" "$tm_pid" >"$tmp/terms.$r"
  run_wrk "$tm_url" "$tmp/match.lua" "$DURATION" "$tm_pid" >"$tmp/match.$r"
  r=$((r + 1))
done

python3 - "$tmp" "$RUNS" <<'EOF'
import re, statistics, sys

tmp, runs = sys.argv[1], int(sys.argv[2])
unit = {"us": 1e-3, "ms": 1.0, "s": 1e3}

def parse(path):
    text = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    v, u = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", text, re.M).groups()
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    total = int(re.search(r"(\d+) requests in", text).group(1))
    ticks, hz = map(int, re.search(r"cpu ticks: (-?\d+) of (\d+)", text).groups())
    return (rps, float(v) * unit[u], int(errors.group(1)) if errors else 0,
            ticks / hz / max(total, 1) * 1e6)

res = {}
for name in ("minimal", "terms", "match"):
    rows = [parse(f"{tmp}/{name}.{r}") for r in range(1, runs + 1)]
    res[name] = (statistics.median(r[0] for r in rows),
                 statistics.median(r[1] for r in rows),
                 sum(r[2] for r in rows), [r[0] for r in rows],
                 statistics.median(r[3] for r in rows))
print()
print(f"{'':24} {'median req/s':>12} {'median p99':>11} {'server CPU/req':>15}"
      "  runs (req/s)")
for name, label in (("minimal", "minimal libmicrohttpd"),
                    ("terms", "term search"), ("match", "fuzzy match")):
    rps, p99, errors, all_, cpu = res[name]
    extra = f"  {errors} non-2xx!" if errors else ""
    print(f"{label:24} {rps:12.0f} {p99:9.2f}ms {cpu:12.1f} us  "
          + ", ".join(f"{x:.0f}" for x in all_) + extra)
ratio = res["terms"][0] / res["minimal"][0]
print()
print(f"term search / minimal: {ratio:.0%} (target >= 70%); by server CPU "
      f"per request: {res['minimal'][4] / res['terms'][4]:.0%}")
print(f"fuzzy match: {res['match'][0]:.0f} req/s (target >= 5000), "
      f"p99 {res['match'][1]:.2f} ms (target < 20 ms)")
EOF
