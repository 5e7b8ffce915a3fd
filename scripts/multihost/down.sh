#!/usr/bin/env bash
# Removes what scripts/multihost/up.sh DIR made: the agents and the controller, every process left
# in the hosts' namespaces (guests, dnsmasq), the namespaces (hosts, DHCP, routers), the underlay
# bridge and route, the hosts' runtime state, the database, and DIR.
set -uo pipefail

die() { echo "multihost down: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: $0 DIR"
[ -d "$1" ] || exit 0
DIR=$(cd "$1" && pwd)
[ -f "$DIR/cloud.env" ] || die "$DIR was not made by scripts/multihost/up.sh (no cloud.env)"
# shellcheck disable=SC1091
. "$DIR/cloud.env"

stop() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
}
for i in $(seq 1 "$N"); do stop "$DIR/host$i.pid"; done
stop "$DIR/controller.pid"

# Every namespace of this cloud: the hosts', and the DHCP and router namespaces named after them.
for ns in $(ip netns list | awk '{print $1}' | grep "^$TAG-h[0-9]"); do
  pids=$(ip netns pids "$ns" 2>/dev/null)
  # shellcheck disable=SC2086
  [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
done
for ns in $(ip netns list | awk '{print $1}' | grep "^$TAG-h[0-9]"); do ip netns del "$ns"; done
for i in $(seq 1 "$N"); do rm -rf "/run/nubo/$TAG-h$i"; done
if [ -n "${EXT:-}" ]; then
  ip route del "$(python3 -c "import ipaddress,sys; print(ipaddress.ip_interface(sys.argv[1]).network)" "$EXT")" via "$UNDERLAY.1" 2>/dev/null
fi
ip link del "$TAG-ul" 2>/dev/null
psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
rm -rf "$DIR"
echo "multihost down: $DIR removed"
