#!/usr/bin/env bash
# The seed workflow on a running Nubo (as root, with its openrc sourced): the test guest image, a
# key pair, a flavor, a private network behind a router to the external network, a server on it,
# a floating IP, and a command run in the guest over ssh. CLI=nubo runs it with nubo instead of
# openstack; the arguments are the same. NUBO_NETWORK_NETNS, when the cloud runs its network in a
# namespace of its own, is where ssh runs from. It leaves everything in place; scripts/demo.sh
# --delete removes what it made.
set -euo pipefail
cd "$(dirname "$0")/.."
cli=("${CLI:-openstack}")
# nubo from this checkout when it is not installed on the PATH (npm link puts it there).
if [ "${cli[0]}" = nubo ] && ! command -v nubo >/dev/null; then cli=(node "$PWD/bin/nubo.js"); fi
work=${DEMO_DIR:-${TMPDIR:-/tmp}/nubo-demo}
mkdir -p "$work"
say() { printf '\n$ %s\n' "$*" >&2; "$@"; }

if [ "${1:-}" = --delete ]; then
  say "${cli[@]}" server delete --wait vm-demo || true
  for ip in $("${cli[@]}" floating ip list -f value -c 'Floating IP Address'); do say "${cli[@]}" floating ip delete "$ip"; done
  # The two rules the demo added to the default group: ssh and icmp.
  for rule in $("${cli[@]}" security group rule list default -f value -c ID -c 'IP Protocol' -c 'Port Range' | awk '$2 == "tcp" && $3 == "22:22" || $2 == "icmp" { print $1 }'); do
    say "${cli[@]}" security group rule delete "$rule"
  done
  say "${cli[@]}" router remove subnet myrouter private-subnet || true
  say "${cli[@]}" router delete myrouter || true
  say "${cli[@]}" network delete private-net public-net || true
  say "${cli[@]}" keypair delete mykey || true
  say "${cli[@]}" flavor delete m1.nano || true
  say "${cli[@]}" image delete nubo-guest || true
  exit 0
fi

image=$(scripts/guest/build.sh | tail -n 1)
say "${cli[@]}" image create nubo-guest --file "$image" --disk-format qcow2 --container-format bare --public
say "${cli[@]}" keypair create mykey >"$work/mykey.pem"
chmod 600 "$work/mykey.pem"
say "${cli[@]}" flavor create --ram 256 --disk 1 --vcpus 1 m1.nano
say "${cli[@]}" network create private-net
say "${cli[@]}" subnet create --network private-net --subnet-range 192.168.10.0/24 private-subnet
say "${cli[@]}" network create public-net --external --provider-physical-network physnet1 --provider-network-type flat
say "${cli[@]}" subnet create --network public-net --subnet-range 172.24.4.0/24 --no-dhcp --gateway 172.24.4.1 \
  --allocation-pool start=172.24.4.10,end=172.24.4.200 public-subnet
say "${cli[@]}" router create myrouter
say "${cli[@]}" router set myrouter --external-gateway public-net
say "${cli[@]}" router add subnet myrouter private-subnet
net=$("${cli[@]}" network show private-net -f value -c id)
say "${cli[@]}" server create --flavor m1.nano --image nubo-guest --nic "net-id=$net" --security-group default --key-name mykey --wait vm-demo
say "${cli[@]}" security group rule create --proto tcp --dst-port 22 default
say "${cli[@]}" security group rule create --proto icmp default
fip=$("${cli[@]}" floating ip create public-net -f value -c floating_ip_address)
say "${cli[@]}" server add floating ip vm-demo "$fip"
for _ in $(seq 1 60); do
  "${cli[@]}" console log show vm-demo | grep -q 'nubo-guest ready' && break
  sleep 2
done
"${cli[@]}" console log show vm-demo | grep 'nubo-guest ready'
outside=()
[ -n "${NUBO_NETWORK_NETNS:-}" ] && outside=(ip netns exec "$NUBO_NETWORK_NETNS")
say "${outside[@]}" ssh -i "$work/mykey.pem" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5 "root@$fip" 'echo "hello from $(hostname)"'
echo "ssh -i $work/mykey.pem root@$fip  reaches the guest; scripts/demo.sh --delete removes it all" >&2
