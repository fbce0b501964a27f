# netns.sh - a lab network segment in network namespaces for PXE tests: bridge, taps, other hosts
# on veth pairs, processes and QEMU guests inside, and a cleanup that removes all of it.
# shellcheck disable=SC2034 # the NETNS_* results are read by the suites that source this
#
# Sourced after tests/lib.sh (or alone). Nothing here touches the host's network namespace: every
# link is created inside a namespace of ours (`ip -n`), every process runs in one (`ip netns
# exec`), so no packet can leave. Needs root, /dev/net/tun and iproute2; guests need
# qemu-system-x86, ipxe-qemu (NIC ROMs) and, for UEFI, ovmf.
#
#   netns_setup [--taps N] [--site]  the "lab" namespace: lo, br0 192.0.2.1/24, tap0..tapN-1
#                                   ports of br0 (default N=1); --site adds netns_host site
#                                   192.0.2.2/24 and sets NETNS_SITE
#   netns_host NAME [ADDR/LEN [MAC]] another host: namespace <tag>-NAME, its "eth0" a veth whose
#                                   peer "vNAME" is a port of br0; sets NETNS_HOST
#   netns_spawn NS LOG CMD...       CMD in NS in the background, output to LOG; sets NETNS_PID
#   netns_exec NS CMD...            CMD in NS in the foreground
#   netns_stop PID                  TERM, then KILL after 5 s: one process netns_spawn started
#   netns_site_dhcp [FIRST LAST]    a plain DHCP server (dnsmasq, no boot options) in the site
#                                   namespace: the site's server a proxyDHCP must coexist with
#   netns_qemu NAME FW NIC TAP MAC [QEMU ARGS...]
#                                   a guest that boots from the network (FW bios|uefi, NIC e1000|
#                                   virtio|e1000-norom|virtio-norom); console NETNS_DIR/NAME.console
#   netns_wait_log FILE REGEX SECS  wait until FILE has a line matching REGEX (grep -E)
#   netns_timeline SECS LABEL FILE REGEX...   when each event first appeared, from QEMU's start
#   netns_cleanup                   kill what we started (by PID), delete our namespaces;
#                                   idempotent: call it from the suite's EXIT trap
#
# Namespaces are named tbt-<PID of the shell>-<random>-<role>; netns_setup first removes tbt-*
# namespaces whose shell is gone (a suite killed with SIGKILL could not clean up).
#
# Example (a suite built on tests/lib.sh):
#   source "$(dirname "$0")/../lib.sh"; source "$(dirname "$0")/netns.sh"
#   trap 'netns_cleanup; lib_cleanup' EXIT
#   netns_setup --taps 1 --site || exit 1
#   netns_site_dhcp
#   netns_spawn "$NETNS_LAB" "$T/tb.log" "$TINYBOOTD" --listen 192.0.2.1:8080 --pxe proxy ...
#   netns_qemu bios bios e1000 tap0 52:54:00:00:01:01
#   netns_wait_log "$T/tb.log" 'report' 300 || fail "no report"

NETNS_LAB=''
NETNS_SITE=''
NETNS_HOST=''
NETNS_DIR=${NETNS_DIR:-}
NETNS_PID=''
NETNS_SITE_PID=''
NETNS_T0=''
NETNS_WAITED=''
NETNS_PIDS=()
NETNS_CREATED=()
NETNS_ADDR=192.0.2.1 # the lab host (tinybootd, its dnsmasq) on br0
NETNS_SITE_ADDR=192.0.2.2
NETNS_PREFIX=24
NETNS_OWN_DIR=0
NETNS_OVMF_CODE=${NETNS_OVMF_CODE:-/usr/share/OVMF/OVMF_CODE_4M.fd}
NETNS_OVMF_VARS=${NETNS_OVMF_VARS:-/usr/share/OVMF/OVMF_VARS_4M.fd}

netns_log() { echo "netns: $*" >&2; }

# Microseconds since the epoch, from bash's own clock (no fork).
netns_usec() {
	local t=${EPOCHREALTIME/[.,]/} # six decimals; the separator follows the locale
	echo $((10#$t))
}

# Remove tbt-* namespaces whose creating shell is no longer running, and the processes in them.
netns_reap_stale() {
	local ns owner p
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		[[ $ns =~ ^tbt-([0-9]+)- ]] || continue
		owner=${BASH_REMATCH[1]}
		kill -0 "$owner" 2>/dev/null && continue
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
		ip netns delete "$ns" 2>/dev/null && netns_log "removed stale namespace $ns"
	done
}

# netns_setup [--taps N] [--site]: build the segment. On failure it removes what it made and
# returns non-zero.
netns_setup() {
	local taps=1 site=0 i tag
	while [[ $# -gt 0 ]]; do
		case $1 in
		--taps) taps=$2; shift 2 ;;
		--site) site=1; shift ;;
		*) netns_log "netns_setup: unknown argument $1"; return 2 ;;
		esac
	done
	[[ $EUID -eq 0 ]] || { netns_log "needs root (network namespaces, taps)"; return 1; }
	[[ -c /dev/net/tun ]] || { netns_log "no /dev/net/tun"; return 1; }
	[[ -z $NETNS_LAB ]] || { netns_log "netns_setup called twice"; return 1; }
	netns_reap_stale
	if [[ -z $NETNS_DIR ]]; then
		if [[ -n ${T:-} && -d ${T:-} ]]; then
			NETNS_DIR=$T/netns
		else
			NETNS_DIR=$(mktemp -d /tmp/tinyboot-netns.XXXXXX) || return 1
			NETNS_OWN_DIR=1
		fi
	fi
	mkdir -p "$NETNS_DIR" || return 1
	tag=tbt-$$-$(printf '%04x' $((RANDOM % 65536)))
	NETNS_LAB=$tag-lab
	netns_add "$NETNS_LAB" || { netns_cleanup; return 1; }
	{
		ip -n "$NETNS_LAB" link set lo up &&
		ip -n "$NETNS_LAB" link add br0 type bridge forward_delay 0 stp_state 0 mcast_snooping 0 &&
		ip -n "$NETNS_LAB" addr add "$NETNS_ADDR/$NETNS_PREFIX" dev br0 &&
		ip -n "$NETNS_LAB" link set br0 up
	} || { netns_log "bridge set-up failed"; netns_cleanup; return 1; }
	for ((i = 0; i < taps; i++)); do
		{
			ip -n "$NETNS_LAB" tuntap add dev "tap$i" mode tap &&
			ip -n "$NETNS_LAB" link set "tap$i" master br0 &&
			ip -n "$NETNS_LAB" link set "tap$i" up
		} || { netns_log "tap$i set-up failed"; netns_cleanup; return 1; }
	done
	if [[ $site -eq 1 ]]; then
		netns_host site "$NETNS_SITE_ADDR/$NETNS_PREFIX" || { netns_cleanup; return 1; }
		NETNS_SITE=$NETNS_HOST
	fi
	# br0 shows NO-CARRIER until a port is up (a veth at once, a tap once QEMU opens it): fine,
	# dnsmasq binds to it anyway, and IPv4 has no duplicate address detection to wait for.
}

netns_add() {
	ip netns add "$1" || { netns_log "ip netns add $1 failed"; return 1; }
	NETNS_CREATED+=("$1")
	# No IPv6 on our side of the segment: no RA/DAD noise. Note: iPXE then spends ~13 s in
	# "Configuring" waiting for an IPv6 router that never answers (see the PXE findings).
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1 || true
}

# netns_host NAME [ADDR/LEN [MAC]]: another host on the segment: namespace <tag>-NAME whose
# "eth0" is one end of a veth pair, the other end ("vNAME") a port of br0. Sets NETNS_HOST.
# Without an address eth0 is up but unconfigured (for a DHCP client such as udhcpc).
netns_host() {
	local name=$1 addr=${2:-} mac=${3:-} ns
	[[ -n $NETNS_LAB ]] || { netns_log "netns_host: call netns_setup first"; return 1; }
	[[ $name =~ ^[a-z0-9]{1,10}$ ]] || { netns_log "netns_host: bad name '$name'"; return 1; }
	ns=${NETNS_LAB%-lab}-$name
	netns_add "$ns" || return 1
	{
		ip -n "$ns" link set lo up &&
		ip -n "$NETNS_LAB" link add "v$name" type veth peer name eth0 netns "$ns" &&
		ip -n "$NETNS_LAB" link set "v$name" master br0 &&
		ip -n "$NETNS_LAB" link set "v$name" up &&
		{ [[ -z $mac ]] || ip -n "$ns" link set eth0 address "$mac"; } &&
		{ [[ -z $addr ]] || ip -n "$ns" addr add "$addr" dev eth0; } &&
		ip -n "$ns" link set eth0 up
	} || { netns_log "netns_host $name: veth set-up failed"; return 1; }
	NETNS_HOST=$ns
	netns_wait_port "v$name"
}

# netns_wait_port PORT: wait until a port of br0 forwards (a veth: at once; a tap: once QEMU
# has opened it). iputils (ping) is not installed here; `busybox ping` is.
netns_wait_port() {
	local _
	for _ in $(seq 50); do
		bridge -n "$NETNS_LAB" link show dev "$1" 2>/dev/null | grep -q 'state forwarding' && return 0
		sleep 0.1
	done
	netns_log "bridge port $1 does not forward: $(bridge -n "$NETNS_LAB" link show dev "$1" 2>&1)"
	return 1
}

netns_exec() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# netns_spawn NS LOG CMD...: `ip netns exec` execs CMD, so $! is CMD's own PID.
netns_spawn() {
	local ns=$1 log=$2
	shift 2
	ip netns exec "$ns" "$@" > "$log" 2>&1 < /dev/null &
	NETNS_PID=$!
	NETNS_PIDS+=("$NETNS_PID")
}

# netns_stop PID: stop one process that netns_spawn started.
netns_stop() {
	local pid=$1 _
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# netns_site_dhcp [FIRST LAST]: the site's own DHCP server in the site namespace: plain dnsmasq,
# addresses only (router = itself), no boot options. Log $NETNS_DIR/site-dhcp.log; sets
# NETNS_SITE_PID. Like a real site server it pings an address before offering it (~3 s).
netns_site_dhcp() {
	local first=${1:-192.0.2.100} last=${2:-192.0.2.150}
	[[ -n $NETNS_SITE ]] || { netns_log "netns_site_dhcp: no site namespace (netns_setup --site)"; return 1; }
	netns_spawn "$NETNS_SITE" "$NETNS_DIR/site-dhcp.log" dnsmasq --keep-in-foreground \
		--conf-file=/dev/null --port=0 --pid-file= --log-facility=- --log-dhcp \
		--interface=eth0 --bind-interfaces --dhcp-range="$first,$last,1h" \
		--dhcp-leasefile="$NETNS_DIR/site-dhcp.leases"
	NETNS_SITE_PID=$NETNS_PID
	netns_wait_log "$NETNS_DIR/site-dhcp.log" 'DHCP, IP range|FAILED|bad|failed' 10
	if ! grep -q 'DHCP, IP range' "$NETNS_DIR/site-dhcp.log"; then
		netns_log "site DHCP server: $(cat "$NETNS_DIR/site-dhcp.log")"
		return 1
	fi
}

# netns_qemu NAME FW NIC TAP MAC [QEMU ARGS...]: a guest that boots from the network; its serial
# console in $NETNS_DIR/NAME.console, QEMU's own messages in NAME.qemu.log; NETNS_PID is QEMU,
# NETNS_T0 its start time. FW: bios (SeaBIOS, console on serial; QEMU's NIC ROM is iPXE, so the
# guest asks DHCP as iPXE) or uefi (OVMF with a private copy of the variable store). NIC: e1000
# or virtio with QEMU's iPXE ROM; virtio-norom for OVMF's own PXE/HTTP client (OVMF has no e1000
# driver, so e1000-norom only suits BIOS tests that expect no boot at all).
netns_qemu() {
	local name=$1 fw=$2 nic=$3 tap=$4 mac=$5
	shift 5
	local dev rom='' args=()
	case $nic in
	e1000 | virtio) ;;
	e1000-norom | virtio-norom) rom=",romfile=" ;;
	*) netns_log "netns_qemu: unknown NIC $nic"; return 2 ;;
	esac
	dev=${nic%-norom}
	[[ $dev == virtio ]] && dev=virtio-net-pci
	# shellcheck disable=SC2054 # commas inside QEMU option values
	case $fw in
	bios) args=(-machine pc,graphics=off) ;; # graphics=off: SeaBIOS and iPXE print on serial
	uefi)
		cp "$NETNS_OVMF_VARS" "$NETNS_DIR/$name.vars.fd" || return 1
		args=(-machine q35
			-drive "if=pflash,format=raw,unit=0,readonly=on,file=$NETNS_OVMF_CODE"
			-drive "if=pflash,format=raw,unit=1,file=$NETNS_DIR/$name.vars.fd") ;;
	*) netns_log "netns_qemu: unknown firmware $fw"; return 2 ;;
	esac
	NETNS_T0=$EPOCHREALTIME
	netns_spawn "$NETNS_LAB" "$NETNS_DIR/$name.qemu.log" qemu-system-x86_64 -accel tcg -m 256 \
		"${args[@]}" -display none -vga none -monitor none -no-reboot \
		-serial "file:$NETNS_DIR/$name.console" \
		-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no" \
		-device "$dev,netdev=n0,mac=$mac$rom" -boot n "$@"
}

# netns_wait_log FILE REGEX SECS: 0 once FILE has a line matching REGEX (grep -E); NETNS_WAITED
# holds the seconds waited.
netns_wait_log() {
	local file=$1 re=$2 secs=$3 t0
	t0=$(netns_usec)
	NETNS_WAITED=''
	while :; do
		if grep -qaE -- "$re" "$file" 2>/dev/null; then
			NETNS_WAITED=$(netns_secs "$t0")
			return 0
		fi
		(($(netns_usec) - t0 > secs * 1000000)) && return 1
		sleep 0.1
	done
}

# netns_secs USEC: seconds (one decimal) from USEC (a netns_usec value) to now.
netns_secs() {
	local d=$(($(netns_usec) - $1))
	printf '%d.%d' $((d / 1000000)) $((d % 1000000 / 100000))
}

# netns_seen FILE OFFSET REGEX: FILE has, after its first OFFSET bytes, a line matching REGEX.
netns_seen() {
	tail -c +"$(($2 + 1))" "$1" 2>/dev/null | grep -qaE -- "$3"
}

# netns_timeline SECS LABEL FILE REGEX [LABEL FILE REGEX]...: poll until the LAST event's REGEX
# has matched a line of its FILE (or SECS passed), then print "LABEL SECONDS" for each event:
# seconds from NETNS_T0 (netns_qemu sets it at QEMU's start) to when the poll first saw the line,
# "LABEL -" if it never came (an optional step, e.g. TFTP on an HTTP boot). Only lines written
# after the call count, so logs shared by several guests work: call it right after netns_qemu.
# Returns 0 if the last event came. Resolution about 0.1 s.
netns_timeline() {
	local secs=$1 i n start t0
	shift
	local -a label file re at off
	n=0
	while [[ $# -ge 3 ]]; do
		label[n]=$1 file[n]=$2 re[n]=$3 at[n]=
		off[n]=$(stat -c %s "$2" 2>/dev/null || echo 0)
		n=$((n + 1))
		shift 3
	done
	[[ $n -gt 0 ]] || return 2
	start=$(netns_usec)
	t0=$start
	[[ -n $NETNS_T0 ]] && t0=$((10#${NETNS_T0/[.,]/}))
	while :; do
		for ((i = 0; i < n; i++)); do
			[[ -z ${at[i]} ]] && netns_seen "${file[i]}" "${off[i]}" "${re[i]}" &&
				at[i]=$(netns_secs "$t0")
		done
		if [[ -n ${at[n - 1]} ]]; then
			# an earlier event may have come while this pass was checking later ones
			for ((i = 0; i < n - 1; i++)); do
				[[ -z ${at[i]} ]] && netns_seen "${file[i]}" "${off[i]}" "${re[i]}" &&
					at[i]=${at[n - 1]}
			done
			break
		fi
		(($(netns_usec) - start > secs * 1000000)) && break
		sleep 0.1
	done
	for ((i = 0; i < n; i++)); do echo "${label[i]} ${at[i]:--}"; done
	[[ -n ${at[n - 1]} ]]
}

# Kill every process we started (by PID, TERM then KILL), then any process still inside our
# namespaces (children of ours, e.g. the dnsmasq that tinybootd runs), then delete the namespaces.
netns_cleanup() {
	local p ns _
	for p in "${NETNS_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${NETNS_PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	NETNS_PIDS=()
	for ns in "${NETNS_CREATED[@]}"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
	done
	for ns in "${NETNS_CREATED[@]}"; do
		for _ in $(seq 20); do
			[[ -z $(ip netns pids "$ns" 2>/dev/null) ]] && break
			sleep 0.1
		done
		ip netns delete "$ns" 2>/dev/null || netns_log "could not delete namespace $ns"
	done
	NETNS_CREATED=()
	NETNS_LAB='' NETNS_SITE='' NETNS_HOST=''
	if [[ $NETNS_OWN_DIR -eq 1 && -z ${KEEP_TEST_DIR:-} ]]; then
		rm -rf "$NETNS_DIR"
		NETNS_DIR='' NETNS_OWN_DIR=0
	fi
	return 0
}
