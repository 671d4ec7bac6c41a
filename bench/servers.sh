# servers.sh - sourced by the HTTP benchmarks: a temporary folder ($tmp),
# servers started in the background and waited for, and a cleanup that
# stops them and removes the folder on exit, INT or TERM.  The sourcing
# script sets $me (its name, for messages) first.

tmp=$(mktemp -d)
pids=""
cleanup() {
  for p in $pids; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME COMMAND...: runs COMMAND in the background and waits (two
# minutes at most) for its "listening on URL" line; sets $url and $pid.
start() {
  name=$1
  shift
  "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  pid=$!
  pids="$pids $pid"
  i=0
  until grep -q '^listening on ' "$tmp/$name.out" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 1200 ]; then
      echo "$me: $name did not start" >&2
      cat "$tmp/$name.err" >&2
      exit 1
    fi
    sleep 0.1
  done
  url=$(sed -n 's/^listening on //p' "$tmp/$name.out")
}
