#!/usr/bin/env bash
# A multi-host Nubo on one machine, for development and tests: a controller on PostgreSQL
# (`nubo up --no-agents`, on 127.0.0.1) and N hypervisor hosts, each a network namespace of its own
# with its own underlay address, each with its own `nubo agent` and data directory.
#
#   scripts/multihost/up.sh DIR N     (as root)
#
# Layout (K is derived from DIR, so that two clouds on one machine do not meet):
#   - underlay: a bridge mhK-ul in the machine's namespace, 10.213.K.254/24; host I is the namespace
#     mhK-hI with the address 10.213.K.I/24 on a veth to that bridge: its VXLAN tunnel end
#     (4789/udp between these addresses);
#   - host1 is the network host (DHCP, routers, SNAT, floating IPs) and carries the external
#     network: NUBO_PHYSICAL_NETWORKS (default physnet1:br-ex:10.214.K.1/24), whose subnet the
#     machine routes through host1's underlay address, so that floating IPs answer from here;
#   - each agent runs in the machine's namespace (PostgreSQL is on loopback) with --network-netns
#     mhK-hI: its bridges, taps, guests and VXLAN devices live in the host's namespace; its console
#     relay, in the agent's own, listens on loopback for the controller;
#   - the database: nubo_multihost_K on NUBO_MULTIHOST_POSTGRES (postgres://postgres@127.0.0.1:5432).
# Other NUBO_* settings in the environment apply to the controller and every agent (for instance
# NUBO_COMPUTE_DRIVER=fake). Writes DIR/openrc (the admin), DIR/cloud.env (what down.sh and tests
# read) and a log per process in DIR. scripts/multihost/down.sh DIR removes it all.
set -euo pipefail

die() { echo "multihost up: $*" >&2; exit 1; }
[ $# -eq 2 ] || die "usage: $0 DIR N"
[[ $2 =~ ^[1-9][0-9]?$ ]] || die "N: a number of hosts from 1 to 99, not '$2'"
[ "$(id -u)" = 0 ] || die "run as root: it makes namespaces, bridges and routes"
for tool in ip bridge psql node; do command -v "$tool" >/dev/null || die "$tool is missing"; done
mkdir -p "$1"
DIR=$(cd "$1" && pwd)
N=$2
[ -e "$DIR/cloud.env" ] && die "$DIR already holds a cloud: scripts/multihost/down.sh $DIR first"
REPO=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO"
started=$(date +%s%N)

K=$(( $(printf %s "$DIR" | cksum | cut -d' ' -f1) % 250 ))
TAG=mh$K
UNDERLAY=10.213.$K
PG=${NUBO_MULTIHOST_POSTGRES:-postgres://postgres@127.0.0.1:5432}
DB=nubo_multihost_$K
PHYSNETS=${NUBO_PHYSICAL_NETWORKS:-physnet1:br-ex:10.214.$K.1/24}
# The external subnet the machine reaches through the network host: the first physical network's address.
EXT=$(printf %s "$PHYSNETS" | tr ',' '\n' | awk -F: 'NF == 3 { print $3; exit }')
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# What down.sh needs, written first so that it can undo a start that failed half-way.
cat >"$DIR/cloud.env" <<ENV
TAG=$TAG
N=$N
UNDERLAY=$UNDERLAY
PG=$PG
DB=$DB
EXT=$EXT
URL=http://127.0.0.1:$PORT
ENV

# The build when it is newer than every source, the sources through tsx otherwise.
if [ -f "$REPO/dist/cli/nubo.js" ] && [ -z "$(find "$REPO/src" -name '*.ts' -newer "$REPO/dist/cli/nubo.js" | head -1)" ]; then
  NUBO=(node "$REPO/bin/nubo.js")
else
  NUBO=(node --import tsx "$REPO/src/cli/nubo.ts")
fi

# Starts a nubo command in the background, logging to DIR/NAME.log.
launch() {
  local name=$1
  shift
  NUBO_LOG_LEVEL=${NUBO_LOG_LEVEL:-warn} setsid "${NUBO[@]}" "$@" >"$DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$DIR/$name.pid"
}

# Waits for a launched command's banner.
ready() {
  local name=$1 banner=$2 pid
  pid=$(cat "$DIR/$name.pid")
  for _ in $(seq 1 900); do
    grep -q "$banner" "$DIR/$name.log" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { tail -n 20 "$DIR/$name.log" >&2; die "$name exited; see $DIR/$name.log"; }
    sleep 0.2
  done
  die "$name did not start within 180 s; see $DIR/$name.log"
}

psql "$PG/postgres" -qc "CREATE DATABASE $DB" >/dev/null || die "could not create database $DB on $PG"

# The underlay, and each host's namespace on it.
ip link add "$TAG-ul" type bridge
ip addr add "$UNDERLAY.254/24" dev "$TAG-ul"
ip link set "$TAG-ul" up
for i in $(seq 1 "$N"); do
  ns=$TAG-h$i
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip link add "$TAG-u$i" type veth peer name ul0 netns "$ns"
  ip link set "$TAG-u$i" master "$TAG-ul" up
  ip -n "$ns" addr add "$UNDERLAY.$i/24" dev ul0
  ip -n "$ns" link set ul0 up
done
# The network host routes between the machine and its external network.
ip netns exec "$TAG-h1" sysctl -qw net.ipv4.ip_forward=1
[ -n "$EXT" ] && ip route add "$(python3 -c "import ipaddress,sys; print(ipaddress.ip_interface(sys.argv[1]).network)" "$EXT")" via "$UNDERLAY.1"

launch controller up --database "$PG/$DB" --no-agents --host 127.0.0.1 --port "$PORT" --data-dir "$DIR/controller" --compute-host controller \
  --volume-export-address "$UNDERLAY.254"
ready controller 'Nubo is up'
cp "$DIR/controller/openrc" "$DIR/openrc"

# The hosts start side by side.
for i in $(seq 1 "$N"); do
  physnets=$PHYSNETS
  # Only the network host has an address on the external network.
  [ "$i" = 1 ] || physnets=$(printf %s "$PHYSNETS" | tr ',' '\n' | cut -d: -f1,2 | paste -sd,)
  NUBO_PHYSICAL_NETWORKS=$physnets launch "host$i" agent --database "$PG/$DB" --data-dir "$DIR/host$i" --compute-host "host$i" \
    --host-ip "$UNDERLAY.$i" --network-netns "$TAG-h$i" --network-host host1 --image-data-dir "$DIR/controller" \
    --console-relay-address 127.0.0.1
done
for i in $(seq 1 "$N"); do ready "host$i" 'Nubo agent is up'; done

ms=$((($(date +%s%N) - started) / 1000000))
printf 'multihost up: controller at http://127.0.0.1:%s, %d hosts (%s-h1…h%d on %s.0/24), network host host1, in %d.%d s; source %s/openrc\n' \
  "$PORT" "$N" "$TAG" "$N" "$UNDERLAY" $((ms / 1000)) $((ms % 1000 / 100)) "$DIR"
