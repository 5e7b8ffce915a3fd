#!/usr/bin/env bash
# radosgw on the cluster scripts/ceph/up.sh made under DIR: the Swift and S3 APIs on a free port of
# 127.0.0.1, trusting the Keystone at KEYSTONE_URL (Nubo's, e.g. http://127.0.0.1:8770/identity)
# for Swift tokens and, through s3tokens, for S3 requests signed with EC2 credentials.
#
#   scripts/ceph/radosgw.sh DIR KEYSTONE_URL   starts it, or does nothing when it already runs
#
# Writes DIR/radosgw.env, the NUBO_* settings that make `nubo up` put radosgw in the catalog
# (object-store and s3) and create the Keystone user radosgw logs in as (`radosgw`, role `service`
# on project `service`) with the password in DIR/radosgw/keystone-password, which both read.
# Keystone need not be up yet: radosgw logs in at its first request. down.sh DIR stops it.
set -euo pipefail

die() { echo "radosgw: $*" >&2; exit 1; }
[ $# -eq 2 ] || die "usage: $0 DIR KEYSTONE_URL"
command -v radosgw >/dev/null || die "radosgw is missing (apt-get install radosgw)"
[ -f "$1/ceph.conf" ] || die "$1 holds no ceph.conf: run scripts/ceph/up.sh $1 first"
DIR=$(cd "$1" && pwd)
KEYSTONE_URL=${2%/}
CONF=$DIR/ceph.conf
NAME=client.rgw.nubo
PIDFILE=$DIR/run/$NAME.pid
started=$(date +%s%N)
umask 077

pid=$(cat "$PIDFILE" 2>/dev/null || true)
if [ -n "$pid" ] && grep -qx radosgw "/proc/$pid/comm" 2>/dev/null; then
  echo "radosgw: already running (pid $pid), settings in $DIR/radosgw.env"
  exit 0
fi

# Its cephx user may create and write the pools radosgw keeps its buckets, indexes and logs in.
if [ ! -f "$DIR/keyring/$NAME.keyring" ]; then
  ceph --conf "$CONF" --connect-timeout 20 auth get-or-create "$NAME" mon 'allow rw' osd 'allow rwx' -o "$DIR/keyring/$NAME.keyring" ||
    die "could not create the cephx user $NAME (is the cluster up?)"
fi
mkdir -p "$DIR/radosgw"
PASSWORD_FILE=$DIR/radosgw/keystone-password
[ -s "$PASSWORD_FILE" ] || head -c 24 /dev/urandom | base64 | tr -d '/+=\n' >"$PASSWORD_FILE"

# The same port again after a restart, so that the catalog Nubo keeps stays right.
port=$(sed -n 's|^NUBO_OBJECT_STORE_URL=http://127.0.0.1:\([0-9]*\)$|\1|p' "$DIR/radosgw.env" 2>/dev/null || true)
[ -n "$port" ] || port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# Swift accounts are AUTH_<project id> in the URL, and every project is a tenant of its own, so
# that two projects may each have a container of the same name and never see each other's. The
# members and admins of a project may use its storage; readers may not write, so they get none.
radosgw --conf "$CONF" --name "$NAME" \
  --rgw-data "$DIR/radosgw" \
  --log-file "$DIR/log/$NAME.log" \
  --pid-file "$PIDFILE" \
  --rgw-frontends "beast endpoint=127.0.0.1:$port" \
  --rgw-keystone-url "$KEYSTONE_URL" \
  --rgw-keystone-api-version 3 \
  --rgw-keystone-admin-user radosgw \
  --rgw-keystone-admin-password-path "$PASSWORD_FILE" \
  --rgw-keystone-admin-project service \
  --rgw-keystone-admin-domain Default \
  --rgw-keystone-accepted-roles member,admin \
  --rgw-keystone-implicit-tenants true \
  --rgw-keystone-verify-ssl false \
  --rgw-s3-auth-use-keystone true \
  --rgw-swift-account-in-url true ||
  die "radosgw did not start; see $DIR/log/$NAME.log"

# It forks at once and listens once it has made its pools.
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }
for _ in $(seq 1 120); do
  listening && break
  sleep 0.5
done
listening || die "radosgw did not answer on 127.0.0.1:$port within 60 s; see $DIR/log/$NAME.log"

cat >"$DIR/radosgw.env" <<EOF
# Made by scripts/ceph/radosgw.sh: source it before \`nubo up\` to serve object storage from radosgw.
NUBO_OBJECT_STORE_URL=http://127.0.0.1:$port
NUBO_OBJECT_STORE_PASSWORD_FILE=$PASSWORD_FILE
EOF
ms=$((($(date +%s%N) - started) / 1000000))
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$(cat "$PIDFILE")/status")
printf 'radosgw: http://127.0.0.1:%d up in %d.%d s, RSS %d MiB, trusting %s\n' "$port" $((ms / 1000)) $((ms % 1000 / 100)) $((rss / 1024)) "$KEYSTONE_URL"
