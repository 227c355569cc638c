#!/bin/bash
# Start a throw-away single-node Ceph cluster (1 mon, 1 memstore OSD, no mgr)
# plus radosgw (beast) on 127.0.0.1, and create one S3 user.
#
# Needs (Debian 12 bookworm, as root):
#   apt-get install -y --no-install-recommends radosgw ceph-mon ceph-osd ceph-common curl
#
# Usage:
#   s3-server.sh            # start; prints S3 endpoint + keys; PIDs in $RGW_DIR/pids
#   s3-server.sh stop       # kill exactly the PIDs recorded in $RGW_DIR/pids
#   s3-server.sh stop-rgw   # stop only radosgw (the cluster and its objects stay), as an outage would
#   s3-server.sh start-rgw  # start radosgw again on the same port and wait until it answers
#
# Env overrides: RGW_DIR MON_PORT RGW_PORT S3_ACCESS_KEY S3_SECRET_KEY MEMSTORE_BYTES START_TIMEOUT
# Several instances can run side by side (distinct RGW_DIR/MON_PORT/RGW_PORT; OSD ports auto-pick from 6800).
set -euo pipefail

D=${RGW_DIR:-${TMPDIR:-/tmp}/warren-rgw}
MON_PORT=${MON_PORT:-40789}
RGW_PORT=${RGW_PORT:-47480}
AK=${S3_ACCESS_KEY:-TESTACCESSKEY0000001}
SK=${S3_SECRET_KEY:-testsecretkey0000000000000000000000000001}
MEMSTORE_BYTES=${MEMSTORE_BYTES:-4294967296}   # reported capacity; RAM is used only as data is written

stop() {
  if [ -f "$D/pids" ]; then
    # reverse order: rgw, osd, mon
    for pid in $(tac "$D/pids"); do kill "$pid" 2>/dev/null || true; done
    for pid in $(tac "$D/pids"); do
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    done
    rm -f "$D/pids"
  fi
}

if [ "${1:-}" = stop ]; then stop; exit 0; fi

# radosgw's pid is kept in rgw.pid (and pids); its port is in the configuration written below.
rgw_port() { sed -n 's/^rgw frontends = beast endpoint=127.0.0.1:\([0-9]*\).*/\1/p' "$D/ceph.conf"; }
if [ "${1:-}" = stop-rgw ]; then
  pid=$(tail -1 "$D/rgw.pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  exit 0
fi
if [ "${1:-}" = start-rgw ]; then
  sed -i "/^$(cat "$D/rgw.pid")\$/d" "$D/pids"
  radosgw -c "$D/ceph.conf" -n client.rgw.a -f >>"$D/log/rgw.a.out" 2>&1 &
  echo $! >> "$D/pids"
  echo $! > "$D/rgw.pid"
  for _ in $(seq 300); do
    curl -sf -o /dev/null "http://127.0.0.1:$(rgw_port)/" && exit 0
    kill -0 "$(cat "$D/rgw.pid")" 2>/dev/null || { echo "radosgw died; logs in $D/log" >&2; exit 1; }
    sleep 0.1
  done
  echo "radosgw not answering after 30 s" >&2
  exit 1
fi

C="-c $D/ceph.conf"
stop
# any failure below (set -e) stops the daemons already started
trap 'rc=$?; [ $rc -eq 0 ] || stop' EXIT
rm -rf "$D"
mkdir -p "$D"/{run,log,mon.a,osd.0,rgw}
FSID=$(cat /proc/sys/kernel/random/uuid)
t0=$(date +%s.%N)
# wait_for NAME CMD...: poll CMD until it succeeds; fail if the last started daemon died or after 60s
wait_for() {
  local name=$1; shift; local deadline=$((SECONDS + ${START_TIMEOUT:-60}))
  until "$@" >/dev/null 2>&1; do
    kill -0 "$(tail -1 "$D/pids")" 2>/dev/null || { echo "$name died; logs in $D/log" >&2; tail -20 "$D/log/"*"$name"*.log >&2 || true; stop; exit 1; }
    [ $SECONDS -lt $deadline ] || { echo "$name not ready after ${START_TIMEOUT:-60}s; logs in $D/log" >&2; stop; exit 1; }
    sleep 0.2
  done
}
ts() { awk -v a="$t0" -v b="$(date +%s.%N)" -v m="$*" 'BEGIN{printf "[%6.2fs] %s\n", b-a, m}' >&2; }

cat > "$D/ceph.conf" <<EOF
[global]
fsid = $FSID
mon host = [v2:127.0.0.1:$MON_PORT]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind msgr1 = false
ms bind msgr2 = true
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = $D/keyring
run dir = $D/run
admin socket = $D/run/\$name.asok
pid file = $D/run/\$name.pid
log file = $D/log/\$name.log
log to stderr = false
err to stderr = true
crash dir = $D/crash
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
mon warn on insecure global id reclaim allowed = false

[mon]
# commit map changes fast (default 1s batching makes each rgw pool creation cost ~2s)
paxos propose interval = 0.05
paxos min wait = 0.01
mon data = $D/mon.\$id
mon cluster log file = $D/log/cluster.log
mon data avail warn = 1
mon data avail crit = 0

[osd]
osd data = $D/osd.\$id
keyring = $D/osd.\$id/keyring
osd objectstore = memstore
memstore device bytes = $MEMSTORE_BYTES
osd op num shards = 1
osd op num threads per shard = 2

[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT tcp_nodelay=1
rgw data = $D/rgw
rgw thread pool size = 64
# no reshard worker: buckets here stay small, and radosgw 16's worker can abort at start
# while reading its configuration (seen once in a test run: RGWBucketReshardLock)
rgw dynamic resharding = false
# memstore keeps everything in RAM: reclaim deleted multipart tails quickly
rgw gc obj min wait = 30
rgw gc processor period = 30
EOF

# --- keys + monitor ---------------------------------------------------------
ceph-authtool --create-keyring "$D/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool "$D/keyring" --gen-key -n client.admin \
  --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' --cap mds 'allow *' >/dev/null
monmaptool --create --clobber --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_PORT]" "$D/monmap" >/dev/null
ceph-mon $C --mkfs -i a --monmap "$D/monmap" --keyring "$D/keyring"
ceph-mon $C -i a -f >"$D/log/mon.a.out" 2>&1 &
echo $! >> "$D/pids"
wait_for mon ceph $C --connect-timeout 3 mon stat
ts "mon up"

# --- osd (memstore) ---------------------------------------------------------
OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
OSD_KEY=$(ceph-authtool --gen-print-key)
OSD_ID=$(echo "{\"cephx_secret\": \"$OSD_KEY\"}" | ceph $C osd new "$OSD_UUID" -i -)
[ "$OSD_ID" = 0 ] || { echo "unexpected osd id $OSD_ID" >&2; exit 1; }
printf '[osd.0]\n\tkey = %s\n' "$OSD_KEY" > "$D/osd.0/keyring"
ceph-osd $C -i 0 --mkfs --osd-uuid "$OSD_UUID" >"$D/log/osd.0.mkfs" 2>&1
ceph-osd $C -i 0 -f >"$D/log/osd.0.out" 2>&1 &
echo $! >> "$D/pids"
osd_up() { ceph $C osd stat -f json | grep -q '"num_up_osds":1'; }
wait_for osd osd_up
ts "osd up"

# --- radosgw ----------------------------------------------------------------
ceph $C auth get-or-create client.rgw.a mon 'allow rw' osd 'allow rwx' mgr 'allow rw' >> "$D/keyring"
radosgw $C -n client.rgw.a -f >"$D/log/rgw.a.out" 2>&1 &
echo $! >> "$D/pids"
echo $! > "$D/rgw.pid"
wait_for rgw curl -sf -o /dev/null "http://127.0.0.1:$RGW_PORT/"
ts "rgw answering on 127.0.0.1:$RGW_PORT"

radosgw-admin $C user create --uid=test --display-name=test \
  --access-key="$AK" --secret-key="$SK" >"$D/user.json"
ts "S3 user created"

cat <<EOF
S3_ENDPOINT=http://127.0.0.1:$RGW_PORT
AWS_ACCESS_KEY_ID=$AK
AWS_SECRET_ACCESS_KEY=$SK
AWS_REGION=us-east-1   # any region name is accepted by default zonegroup 'default'
PIDS=$(tr '\n' ' ' < "$D/pids")
STOP="$0 stop"
EOF
