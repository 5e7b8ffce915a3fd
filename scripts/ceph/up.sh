#!/usr/bin/env bash
# A single-node Ceph for development and tests, all under DIR: one mon, one mgr, one BlueStore OSD on
# a sparse file, bound to 127.0.0.1 on a free port, no systemd, LVM or cephadm.
#
#   scripts/ceph/up.sh DIR   creates the cluster, or starts again the daemons of an existing DIR
#
# Writes DIR/ceph.conf (with a keyring per cephx user under DIR/keyring, so `rbd --conf DIR/ceph.conf
# --id nubo-volume …` needs nothing else) and DIR/nubo.env (the NUBO_* settings that make `nubo up`
# store images, volumes and instance disks on it). Prints one line of figures at the end.
# scripts/ceph/down.sh DIR stops it and removes DIR.
set -euo pipefail

die() { echo "ceph up: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: $0 DIR"
for tool in ceph-mon ceph-mgr ceph-osd ceph ceph-authtool monmaptool rbd uuidgen python3; do
  command -v "$tool" >/dev/null || die "$tool is missing (apt-get install ceph-mon ceph-mgr ceph-osd ceph-common)"
done
mkdir -p "$1"
DIR=$(cd "$1" && pwd)
CONF=$DIR/ceph.conf
started=$(date +%s%N)

# The pools OpenStack deployments use, and one cephx user per service with the capabilities the
# OpenStack docs give (Glance writes images; Cinder and Nova read images and write their pools).
POOLS=(images volumes vms backups)
declare -A CAPS=(
  [nubo-image]="osd=profile rbd pool=images;mgr=profile rbd pool=images"
  [nubo-volume]="osd=profile rbd pool=volumes, profile rbd pool=vms, profile rbd-read-only pool=images;mgr=profile rbd pool=volumes, profile rbd pool=vms"
  [nubo-compute]="osd=profile rbd pool=vms, profile rbd pool=volumes, profile rbd-read-only pool=images;mgr=profile rbd pool=vms, profile rbd pool=volumes"
  [nubo-backup]="osd=profile rbd pool=backups;mgr=profile rbd pool=backups"
)

admin() { ceph --conf "$CONF" --connect-timeout 20 "$@"; }

# A daemon counts as running when its pid file names a live ceph process.
running() {
  local pid
  pid=$(cat "$DIR/run/$1.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q ceph "/proc/$pid/comm" 2>/dev/null
}

# A port the kernel gives out as free right now; the mon binds it a moment later.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_daemons() {
  running mon.a || ceph-mon --conf "$CONF" -i a || die "the mon did not start; see $DIR/log/mon.a.log"
  running mgr.x || ceph-mgr --conf "$CONF" -i x || die "the mgr did not start; see $DIR/log/mgr.x.log"
  if [ -f "$DIR/osd/fsid" ]; then
    running osd.0 || ceph-osd --conf "$CONF" -i 0 || die "the OSD did not start; see $DIR/log/osd.0.log"
  fi
}

wait_health_ok() {
  local status
  for _ in $(seq 1 120); do
    status=$(admin health 2>/dev/null || true)
    [ "$status" = HEALTH_OK ] && return 0
    sleep 0.5
  done
  admin health detail >&2 || true
  die "the cluster did not reach HEALTH_OK within 60 s (last: ${status:-no answer}); logs in $DIR/log"
}

report() {
  local rss=0 pid
  for name in mon.a mgr.x osd.0; do
    pid=$(cat "$DIR/run/$name.pid")
    rss=$((rss + $(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")))
  done
  local ms=$((($(date +%s%N) - started) / 1000000))
  printf 'ceph up: %s HEALTH_OK in %d.%d s, daemons RSS %d MiB, conf %s\n' "$1" $((ms / 1000)) $((ms % 1000 / 100)) $((rss / 1024)) "$CONF"
}

# An existing cluster: start what is not running (after down.sh --keep, a reboot, a crash).
if [ -f "$DIR/nubo.env" ]; then
  start_daemons
  wait_health_ok
  report restarted
  exit 0
fi
[ -z "$(ls -A "$DIR")" ] || die "$DIR is neither empty nor a cluster this script made (after a failed start, scripts/ceph/down.sh DIR clears it)"
# A creation that fails stops the daemons it started, so that none outlives it; DIR stays for its logs.
trap '[ $? -eq 0 ] || "$(dirname "$0")/down.sh" --keep "$DIR"' EXIT

mkdir -p "$DIR"/{mon/a,mgr/x,osd,log,run,keyring}
fsid=$(uuidgen)
port=$(free_port)
cat >"$CONF" <<EOF
# A single-node development cluster made by scripts/ceph/up.sh; every path stays under $DIR.
[global]
fsid = $fsid
mon_host = [v2:127.0.0.1:$port]
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_msgr1 = false
run_dir = $DIR/run
keyring = $DIR/keyring/\$name.keyring
auth_allow_insecure_global_id_reclaim = false
# One OSD: every pool keeps one copy, and the warnings about that are expected here.
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_allow_pool_delete = true
mon_warn_on_pool_no_redundancy = false
mon_data_avail_warn = 5

[mon]
mon_data = $DIR/mon/\$id
keyring = $DIR/mon/\$id/keyring
log_file = $DIR/log/\$name.log
pid_file = $DIR/run/\$name.pid

[mgr]
mgr_data = $DIR/mgr/\$id
log_file = $DIR/log/\$name.log
pid_file = $DIR/run/\$name.pid

[osd]
osd_data = $DIR/osd
osd_objectstore = bluestore
# The block file sits beside the OSD directory so that the directory holds only metadata.
bluestore_block_path = $DIR/osd-block
bluestore_block_create = true
bluestore_block_size = 4294967296
osd_memory_target = 939524096
log_file = $DIR/log/\$name.log
pid_file = $DIR/run/\$name.pid
EOF

# Every key is made here and known to the mon from its mkfs, with its capabilities: no auth calls to
# the slow python ceph CLI later.
key() { # NAME CAP-ARGS…
  local name=$1; shift
  ceph-authtool --create-keyring "$DIR/keyring/$name.keyring" --gen-key -n "$name" "$@" >/dev/null
  ceph-authtool "$DIR/keyring/mon.keyring" --import-keyring "$DIR/keyring/$name.keyring" >/dev/null
}
ceph-authtool --create-keyring "$DIR/keyring/mon.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
key client.admin --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' --cap mds 'allow *'
key mgr.x --cap mon 'allow profile mgr' --cap osd 'allow *' --cap mds 'allow *'
key osd.0 --cap mon 'allow profile osd' --cap mgr 'allow profile osd' --cap osd 'allow *'
for user in "${!CAPS[@]}"; do
  IFS=';' read -r osd mgr <<<"${CAPS[$user]}"
  key "client.$user" --cap mon 'profile rbd' --cap osd "${osd#osd=}" --cap mgr "${mgr#mgr=}"
done

monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$port]" "$DIR/run/monmap" >/dev/null
ceph-mon --conf "$CONF" --mkfs -i a --monmap "$DIR/run/monmap" --keyring "$DIR/keyring/mon.keyring" 2>"$DIR/log/mkfs.log" ||
  die "ceph-mon --mkfs failed: $(cat "$DIR/log/mkfs.log")"
rm -f "$DIR/run/monmap" "$DIR/keyring/mon.keyring"
ceph-mon --conf "$CONF" -i a 2>>"$DIR/log/start.log" || die "the mon did not start on 127.0.0.1:$port; see $DIR/log/mon.a.log"
ceph-mgr --conf "$CONF" -i x 2>>"$DIR/log/start.log" || die "the mgr did not start; see $DIR/log/mgr.x.log"

# The OSD's store is made offline while the mgr loads its modules.
osd_uuid=$(uuidgen)
ceph-osd --conf "$CONF" -i 0 --mkfs --no-mon-config --osd-uuid "$osd_uuid" 2>>"$DIR/log/mkfs.log" ||
  die "ceph-osd --mkfs failed: $(tail -n 5 "$DIR/log/mkfs.log")"

# The python ceph CLI costs about a second a call: its commands go in one batch on stdin.
{
  echo "osd create $osd_uuid"
  for pool in "${POOLS[@]}"; do
    echo "osd pool create $pool 8 8"
    echo "osd pool application enable $pool rbd"
  done
} | admin >"$DIR/log/setup.log" 2>&1 || die "the mon at 127.0.0.1:$port refused the setup: $(cat "$DIR/log/setup.log")"
ceph-osd --conf "$CONF" -i 0 2>>"$DIR/log/start.log" || die "the OSD did not start; see $DIR/log/osd.0.log"

cat >"$DIR/nubo.env" <<EOF
# Made by scripts/ceph/up.sh: source it before \`nubo up\` to keep images, volumes and instance disks here.
NUBO_STORAGE=ceph
NUBO_CEPH_CONF=$CONF
NUBO_CEPH_IMAGE_USER=nubo-image
NUBO_CEPH_VOLUME_USER=nubo-volume
NUBO_CEPH_COMPUTE_USER=nubo-compute
NUBO_CEPH_BACKUP_USER=nubo-backup
EOF

wait_health_ok
report "$fsid"
