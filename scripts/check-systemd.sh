#!/bin/bash
# Check the systemd units offline: tinybootd.service alone, and with the PXE drop-in
# (tinybootd-pxe.conf) as /etc/systemd/system/tinybootd.service.d/ would hold it. Both must pass
# `systemd-analyze verify` without a single warning; the drop-in must grant the PXE capabilities
# and netlink, the unit alone none of them. No systemd needs to run (works in a container).
# usage: scripts/check-systemd.sh [TINYBOOTD]  (the binary ExecStart= names; default build/tinybootd)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-build/tinybootd}")
command -v systemd-analyze >/dev/null ||
	{ echo "check-systemd: systemd-analyze is missing: apt-get install systemd (make deps)" >&2; exit 2; }
[[ -x $bin ]] || { echo "check-systemd: $bin is not built (make all)" >&2; exit 2; }
dir=$(mktemp -d /tmp/tinyboot-units.XXXXXX)
trap 'rm -rf "$dir"' EXIT
# the unit names the installed binary; verify checks that it exists, so point it at this build
sed "s|/usr/local/sbin/tinybootd|$bin|g" systemd/tinybootd.service > "$dir/tinybootd.service"
bad=0

verify() { # verify WHAT: no output at all, exit 0
	local out rc=0
	out=$(systemd-analyze verify "$dir/tinybootd.service" 2>&1) || rc=$?
	if [[ $rc -ne 0 || -n $out ]]; then
		echo "check-systemd: $1: systemd-analyze verify (exit $rc):" >&2
		echo "$out" >&2
		bad=1
	fi
}

# security WHAT YES|NO LINE...: whether the offline security report flags each LINE's setting
security() {
	local what=$1 want=$2 report line
	shift 2
	report=$(systemd-analyze security --offline=yes --no-pager "$dir/tinybootd.service" 2>&1) || true
	for line in "$@"; do
		if grep -qF -- "✗ $line" <<<"$report"; then
			[[ $want == yes ]] && continue
			echo "check-systemd: $what grants $line" >&2
		else
			[[ $want == no ]] && continue
			echo "check-systemd: $what does not grant $line" >&2
		fi
		bad=1
	done
}

pxe_grants=("CapabilityBoundingSet=~CAP_NET_ADMIN" "CapabilityBoundingSet=~CAP_NET_(BIND_SERVICE|BROADCAST|RAW)"
	"RestrictAddressFamilies=~AF_NETLINK")
verify tinybootd.service
security tinybootd.service no "${pxe_grants[@]}" "RestrictAddressFamilies=~AF_PACKET"
mkdir "$dir/tinybootd.service.d"
cp systemd/tinybootd-pxe.conf "$dir/tinybootd.service.d/pxe.conf"
verify "tinybootd.service + tinybootd-pxe.conf"
security "tinybootd.service + tinybootd-pxe.conf" yes "${pxe_grants[@]}"
security "tinybootd.service + tinybootd-pxe.conf" no "RestrictAddressFamilies=~AF_PACKET"
[[ $bad -eq 0 ]] || exit 1
echo "check-systemd: ok (tinybootd.service, and with tinybootd-pxe.conf)"
