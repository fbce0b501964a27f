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

log=$state/tinybootd.log
"$here/build/tinybootd" --listen 127.0.0.1:0 --state "$state" --recipes "$here/images" \
	--kernel-config "$here/kernel-config" --rootfs "$here/rootfs" --sources "$here/etc/sources.conf" \
	--machines "$here/etc/machines.conf" > "$state/tinybootd.out" 2> "$log" &
pid=$!
if [[ -z ${KEEP_DAEMON:-} ]]; then trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT; fi
for _ in $(seq 100); do grep -q listening "$state/tinybootd.out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's|.*listening on \(http://.*\)/$|\1|p' "$state/tinybootd.out")
[[ -n $url ]] || { cat "$log" >&2; exit 1; }
echo "tinyboot: daemon $url (state $state, log $log)"
echo "tinyboot: building $variant (a cold build takes several minutes; later runs reuse it)"
"$here/build/tinyboot" --server "$url" build "$variant"
echo "tinyboot: booting $variant in QEMU ($nic)"
rc=0
"$here/build/tinyboot" --server "$url" boot "$variant" --nic "$nic" || rc=$?
curl -s "$url/api/v1/machines"
[[ -n ${KEEP_DAEMON:-} ]] && echo "tinyboot: daemon still running at $url (pid $pid)"
exit $rc
