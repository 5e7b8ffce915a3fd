#!/usr/bin/env bash
# Stops the cluster scripts/ceph/up.sh made under DIR (only the daemons its pid files name) and
# removes DIR. With --keep the daemons stop and DIR stays, for `up.sh DIR` to start them again.
set -euo pipefail

die() { echo "ceph down: $*" >&2; exit 1; }
keep=false
if [ "${1:-}" = --keep ]; then keep=true; shift; fi
[ $# -eq 1 ] || die "usage: $0 [--keep] DIR"
[ -d "$1" ] || exit 0
DIR=$(cd "$1" && pwd)
[ -f "$DIR/ceph.conf" ] || [ -z "$(ls -A "$DIR")" ] || die "$DIR holds no ceph.conf: not a cluster up.sh made, left alone"

# Every daemon gets TERM at once, then up to 10 s before KILL.
pids=()
for pidfile in "$DIR"/run/*.pid; do
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if [ -n "$pid" ] && grep -qE "ceph|radosgw" "/proc/$pid/comm" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
  fi
done
for pid in "${pids[@]}"; do
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
done
$keep || rm -rf "$DIR"
