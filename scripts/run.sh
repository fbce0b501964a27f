#!/bin/bash
# The main job: start tinybootd with its state outside the repository, build the default
# variant, boot it in QEMU (software emulation) and show the guest's report. The daemon keeps
# running afterwards only with KEEP_DAEMON=1.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cache=${TINYBOOT_CACHE:-/var/cache/tinyboot}
state=${TINYBOOT_STATE:-$cache/state}
variant=${VARIANT:-net}
nic=${NIC:-virtio}
mkdir -p "$state/payloads"
[[ -e $state/payloads/hello.txt ]] || echo "hello from tinyboot" > "$state/payloads/hello.txt"

source "$here/scripts/daemon-lib.sh"

log=$state/tinybootd.log
daemon_start "$here/build/tinybootd" "$state/tinybootd.out" "$log" --state "$state" \
	--recipes "$here/images" --kernel-config "$here/kernel-config" --rootfs "$here/rootfs" \
	--sources "$here/etc/sources.conf" --machines "$here/etc/machines.conf" || { cat "$log" >&2; exit 1; }
pid=$DAEMON_PID
url=$DAEMON_URL
if [[ -z ${KEEP_DAEMON:-} ]]; then trap 'daemon_stop $pid || true' EXIT; fi
echo "tinyboot: daemon $url (state $state, log $log)"
echo "tinyboot: building $variant (a cold build takes several minutes; later runs reuse it)"
"$here/build/tinyboot" --server "$url" build "$variant"
echo "tinyboot: booting $variant in QEMU ($nic)"
rc=0
"$here/build/tinyboot" --server "$url" boot "$variant" --nic "$nic" || rc=$?
curl -s "$url/api/v1/machines"
[[ -n ${KEEP_DAEMON:-} ]] && echo "tinyboot: daemon still running at $url (pid $pid)"
exit $rc
