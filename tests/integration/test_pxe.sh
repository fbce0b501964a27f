#!/bin/bash
# test_pxe.sh - the PXE service for real, in network namespaces that this suite creates and always
# removes (tests/integration/netns.sh): tinybootd and the dnsmasq it supervises on br0
# (192.0.2.1/24) of the "lab" namespace, a site DHCP server and PXE clients on veth pairs, QEMU
# guests on taps. Clients: dhcp-probe.pl (a PXE client's DHCP steps), busybox udhcpc and tftp,
# SeaBIOS guests (their NIC ROM is iPXE) and OVMF (its own PXE client). Needs root.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/netns.sh"
# the daemons first (SIGTERM: they stop their dnsmasq), then whatever is left in the namespaces
trap 'lib_cleanup; netns_cleanup' EXIT

CACHE=${TINYBOOT_CACHE:-/var/cache/tinyboot}
STATE=$CACHE/test-state # the built images, shared with test_boot
BUILD_WAIT=${BUILD_WAIT:-2700}
BOOT_WAIT=${BOOT_WAIT:-900}
PROBE=$ROOT/tests/integration/dhcp-probe.pl
REAL_TINYBOOTD=$TINYBOOTD
IPXE=/usr/lib/ipxe
LAB_ADDR=192.0.2.1
# dnsmasq, started as root, drops to nobody, who must be able to walk down to the TFTP root
chmod 0755 "$T"
mkdir -p "$T/payloads" "$STATE"
printf 'hello from the payload directory\n' > "$T/payloads/hello.txt"

netns_setup --taps 2 --site || { echo "test_pxe.sh: 0 passed, 1 failed"; exit 1; }
SITE_PID=

# tinybootd runs inside the lab namespace: daemon_start (lib.sh) starts this wrapper, which
# becomes tinybootd (exec), so TB_PID is the daemon. TB_PRIV: a setpriv prefix (another user).
cat > "$T/tinybootd-lab" <<EOF
#!/bin/bash
exec ip netns exec $NETNS_LAB \${TB_PRIV:-} $REAL_TINYBOOTD "\$@"
EOF
chmod +x "$T/tinybootd-lab"
TINYBOOTD=$T/tinybootd-lab
export TB_PRIV=

# Requests (lib.sh's req, and every curl here) go from inside the lab namespace.
curl() { ip netns exec "$NETNS_LAB" /usr/bin/curl "$@"; }
lab() { ip netns exec "$NETNS_LAB" "$@"; }

site_start() { [[ -n $SITE_PID ]] || { netns_site_dhcp && SITE_PID=$NETNS_SITE_PID; }; }
site_stop() { [[ -z $SITE_PID ]] || { netns_stop "$SITE_PID"; SITE_PID=; }; }

# A client host on the segment, made once: CLIENT (namespace), its eth0 has no address.
netns_host client || exit 1
CLIENT=$NETNS_HOST
probe() { ip netns exec "$CLIENT" "$PROBE" --iface eth0 "$@"; }
client_addr() { ip -n "$CLIENT" addr flush dev eth0; [[ -z ${1:-} ]] || ip -n "$CLIENT" addr add "$1" dev eth0; }

# The daemon for PXE without guests: a state of its own, no images.
pxe_light() { # pxe_light MODE [FLAGS...]
	local mode=$1
	shift
	tb_use --state "$T/state" --listen "$LAB_ADDR:0" --pxe "$mode" --pxe-interface br0 "$@"
}

# The daemon for guests: the shared image state, recipes, machines.conf.
pxe_boot() { # pxe_boot MODE [FLAGS...]
	local mode=$1
	shift
	tb_use --state "$STATE" --recipes "$ROOT/images" --kernel-config "$ROOT/kernel-config" \
		--rootfs "$ROOT/rootfs" --sources "$ROOT/etc/sources.conf" --machines "$T/machines.conf" \
		--listen "$LAB_ADDR:0" --pxe "$mode" --pxe-interface br0 --report-timeout 600 "$@"
}

cat > "$T/machines.conf" <<CONF
# PXE test machines
default            variant=net net=dhcp payloads=hello.txt
52:54:00:00:0a:01  name=pxe-bios   variant=net net=dhcp payloads=hello.txt
52:54:00:00:0b:01  name=dhcp-fixed variant=net ip=192.0.2.77/24 payloads=hello.txt
CONF

# The dnsmasq tinybootd runs (a child of TB_PID), or nothing.
dnsmasq_pid() {
	local p
	for p in /proc/[0-9]*; do
		[[ $(cat "$p/comm" 2>/dev/null) == dnsmasq ]] || continue
		[[ $(awk '{print $4}' "$p/stat" 2>/dev/null) == "$TB_PID" ]] && { echo "${p#/proc/}"; return 0; }
	done
	return 1
}

machine() { curl -s "$TB_URL/api/v1/machines" | jq --arg m "$1" '.[$m]'; }
# The token of the machine's last boot ("null" when none): the state is shared across runs, so
# a boot counts only when its token is new.
last_boot() { machine "$1" | jq -r '.boot'; }
machine_done() { # machine_done NAME OLD_TOKEN
	local m
	m=$(machine "$1")
	[[ $(jq -r .boot <<<"$m") != "$2" && $(jq -r '.result // empty' <<<"$m") =~ ^(ok|failed|timed\ out)$ ]]
}

# await_report NAME QEMU_PID OLD_TOKEN: a new boot of NAME reported (result ok); QEMU is
# stopped after.
await_report() {
	local name=$1 qemu=$2 old=$3
	if ! wait_until "$BOOT_WAIT" machine_done "$name" "$old"; then
		fail "$name: no report within $BOOT_WAIT s: $(machine "$name" | jq -c '[.events[]?.state]'); console: $(tail -c 600 "$NETNS_DIR/$name.console" 2>/dev/null)"
	fi
	netns_stop "$qemu"
	expect_eq "$(machine "$name" | jq -r .result)" ok "$name result"
}

# ---- without guests ----

test_01_systemd_units() {
	"$ROOT/scripts/check-systemd.sh" "$ROOT/build/tinybootd" > "$T/units.out" 2>&1 ||
		fail "check-systemd: $(cat "$T/units.out")"
}

# tinybootd -n: each bad set-up says what to do, exit 1, and nothing is written.
test_02_check_errors() {
	local out rc
	check() { # check WANT_RC WANT_TEXT FLAGS...
		local want_rc=$1 want=$2
		shift 2
		rc=0
		out=$("$TINYBOOTD" -n --state "$T/check-state" --payloads "$T/payloads" "$@" 2>&1) || rc=$?
		expect_eq "$rc" "$want_rc" "exit code for $*"
		[[ $out == *"$want"* ]] || fail "-n $*: '$out' lacks '$want'"
	}
	local ok=(--listen "$LAB_ADDR:8080" --pxe proxy --pxe-interface br0)
	check 0 "configuration OK" "${ok[@]}"
	check 0 "configuration OK" --listen "0.0.0.0:8080" --pxe dhcp --pxe-interface br0 \
		--pxe-range 192.0.2.100,192.0.2.150 --pxe-router 192.0.2.254 --pxe-dns 192.0.2.53
	check 1 "pxe = proxy needs pxe-interface = NAME" --listen "$LAB_ADDR:8080" --pxe proxy
	check 1 "pxe = dhcp needs pxe-range = FIRST,LAST" "${ok[@]}" --pxe dhcp
	check 1 "pxe-interface nosuch0: no such interface" --listen "0.0.0.0:8080" --pxe proxy --pxe-interface nosuch0
	check 1 "pxe-interface tap1 has no IPv4 address" --listen "0.0.0.0:8080" --pxe proxy --pxe-interface tap1
	check 1 "pxe-range 10.0.0.1,10.0.0.9 is not inside br0's subnet 192.0.2.0/24" "${ok[@]}" \
		--pxe dhcp --pxe-range 10.0.0.1,10.0.0.9
	check 1 "holds br0's own address 192.0.2.1" "${ok[@]}" --pxe dhcp --pxe-range 192.0.2.1,192.0.2.9
	check 1 "install dnsmasq (apt-get install dnsmasq-base) or fix the path" "${ok[@]}" \
		--pxe-dnsmasq /nonexistent/dnsmasq
	check 1 "tinybootd listens on 127.0.0.1 only, so PXE clients cannot reach 192.0.2.1:8080" \
		--listen 127.0.0.1:8080 --pxe proxy --pxe-interface br0
	check 1 "pxe-interface: 'br0,lo' is not an interface name" "${ok[@]}" --pxe-interface br0,lo
	check 1 "pxe-range: '192.0.2.9,192.0.2.1': the first address comes after the last" "${ok[@]}" \
		--pxe dhcp --pxe-range 192.0.2.9,192.0.2.1
	check 1 "no boot programs in $T/payloads" "${ok[@]}" --pxe-boot-programs "$T/payloads"
	check 1 "pxe: 'on' is not one of off, proxy, dhcp" --pxe on
	out=$("$REAL_TINYBOOTD" --help)
	local opt
	for opt in --pxe --pxe-interface --pxe-server-address --pxe-range --pxe-lease-time --pxe-router \
		--pxe-dns --pxe-dnsmasq --pxe-boot-programs "5 the PXE service (dnsmasq) failed to start"; do
		grep -q -- "$opt" <<<"$out" || fail "--help does not mention $opt"
	done
	[[ -e $T/check-state/pxe || -e $T/check-state/tftp ]] && fail "-n wrote into the state directory"
	# not root: dnsmasq would lack the capabilities; with them as ambient ones (what the systemd
	# drop-in grants) it is fine
	mkdir -p "$T/nobody-state"
	chown 65534:65534 "$T/nobody-state"
	TB_PRIV="setpriv --reuid=65534 --regid=65534 --clear-groups" \
		check 1 "dnsmasq would lack CAP_NET_BIND_SERVICE CAP_NET_RAW CAP_NET_ADMIN" \
		--state "$T/nobody-state" "${ok[@]}"
	TB_PRIV="setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=+net_bind_service,+net_raw,+net_admin --ambient-caps=+net_bind_service,+net_raw,+net_admin" \
		check 0 "configuration OK" --state "$T/nobody-state" "${ok[@]}"
	unset -f check
}

# Ports already taken: tinybootd exits 5 and names the port and what to do.
test_03_ports_taken() {
	local rc out holder
	# a DHCP server on the wildcard address (not bind-interfaces): port 67 is gone
	netns_spawn "$NETNS_LAB" "$T/other-dhcp.log" dnsmasq --keep-in-foreground --conf-file=/dev/null \
		--port=0 --pid-file= --log-facility=- --dhcp-range=192.0.2.200,192.0.2.210 \
		--dhcp-leasefile="$T/other.leases"
	holder=$NETNS_PID
	wait_until 10 grep -q 'DHCP, IP range' "$T/other-dhcp.log" || fail "other DHCP: $(cat "$T/other-dhcp.log")"
	rc=0
	out=$(timeout 60 "$TINYBOOTD" --state "$T/state" --payloads "$T/payloads" --listen "$LAB_ADDR:0" \
		--pxe proxy --pxe-interface br0 2>&1) || rc=$?
	netns_stop "$holder"
	expect_eq "$rc" 5 "exit code with port 67 taken"
	[[ $out == *"port 67 (DHCP) is already taken by another DHCP server on this host"* ]] ||
		fail "port 67: $(tail -3 <<<"$out")"
	# a TFTP server's socket on port 69
	netns_spawn "$NETNS_LAB" "$T/other-tftp.log" perl -MIO::Socket::INET -e \
		'my $s = IO::Socket::INET->new(LocalPort => 69, Proto => "udp") or die "bind: $!"; $| = 1; print "bound\n"; sleep 120'
	holder=$NETNS_PID
	wait_until 10 grep -q bound "$T/other-tftp.log" || fail "other TFTP: $(cat "$T/other-tftp.log")"
	rc=0
	out=$(timeout 60 "$TINYBOOTD" --state "$T/state" --payloads "$T/payloads" --listen "$LAB_ADDR:0" \
		--pxe proxy --pxe-interface br0 2>&1) || rc=$?
	netns_stop "$holder"
	expect_eq "$rc" 5 "exit code with port 69 taken"
	[[ $out == *"port 69 (TFTP) is already taken by another TFTP server"* ]] || fail "port 69: $(tail -3 <<<"$out")"
}

# proxy mode beside the site's DHCP server: what each kind of client is offered.
test_10_proxy_offers() {
	site_start || { fail "no site DHCP server"; return; }
	pxe_light proxy || return
	local port=${TB##*:} out
	client_addr
	# a plain BIOS PXE client (vendor class PXEClient:Arch:00000, option 93 = 0)
	out=$(probe --wait 6)
	grep -q "^OFFER server=$LAB_ADDR yiaddr=0.0.0.0 siaddr=$LAB_ADDR file=undionly.kpxe vendor=PXEClient control=3 menu=8000:tinyboot BIOS$" <<<"$out" ||
		fail "BIOS PXE offer: $out"
	grep -q "^OFFER server=192.0.2.2 yiaddr=192.0.2.1[0-5][0-9] .* router=192.0.2.2$" <<<"$out" ||
		fail "the site's offer: $out"
	# iPXE: the boot script over HTTP, no menu, no TFTP
	out=$(probe --userclass iPXE --wait 2)
	# (with siaddr: Debian's iPXE ignores a proxy offer without one)
	grep -q "^OFFER server=$LAB_ADDR yiaddr=0.0.0.0 siaddr=$LAB_ADDR file=http://$LAB_ADDR:$port/boot.ipxe vendor=PXEClient control=8$" <<<"$out" ||
		fail "iPXE offer: $out"
	# x86_64 UEFI PXE: sent on to port 4011
	out=$(probe --arch 7 --vendor PXEClient:Arch:00007:UNDI:003000 --wait 2)
	grep -q "^OFFER server=$LAB_ADDR yiaddr=0.0.0.0 siaddr=$LAB_ADDR vendor=PXEClient$" <<<"$out" ||
		fail "UEFI PXE offer: $out"
	# UEFI HTTP Boot: the EFI boot program by URL, vendor class HTTPClient back
	out=$(probe --arch 16 --vendor HTTPClient:Arch:00016:UNDI:003000 --wait 2)
	grep -q "^OFFER server=$LAB_ADDR yiaddr=0.0.0.0 siaddr=$LAB_ADDR file=http://$LAB_ADDR:$port/pxe/ipxe.efi vendor=HTTPClient$" <<<"$out" ||
		fail "HTTP Boot offer: $out"
	# an HTTP Boot client of another architecture (ARM64, 19): not given the x86_64 program
	out=$(probe --arch 19 --vendor HTTPClient:Arch:00019:UNDI:003000 --wait 2)
	grep -q "ipxe.efi" <<<"$out" && fail "ARM64 HTTP Boot client offered ipxe.efi: $out"
	# a client that is no PXE client at all: the proxy stays silent
	out=$(probe --vendor udhcp-1.35 --wait 4)
	grep -q "server=$LAB_ADDR" <<<"$out" && fail "proxy answered a plain DHCP client: $out"
	# with the site's address, the boot server on port 4011, as a PXE ROM asks after the menu
	client_addr 192.0.2.60/24
	out=$(probe --request "$LAB_ADDR" --ciaddr 192.0.2.60 --item 8000:0000 --wait 2)
	grep -q "^ACK server=$LAB_ADDR yiaddr=192.0.2.60 siaddr=$LAB_ADDR file=undionly.kpxe vendor=PXEClient$" <<<"$out" ||
		fail "BIOS boot server: $out"
	out=$(probe --request "$LAB_ADDR" --ciaddr 192.0.2.60 --arch 7 --vendor PXEClient:Arch:00007:UNDI:003000 --wait 2)
	grep -q "^ACK server=$LAB_ADDR .* file=snponly.efi vendor=PXEClient$" <<<"$out" || fail "UEFI 4011: $out"
	grep -q 'dnsmasq: dhcp: .*PXE(br0) 192.0.2.60 .* undionly.kpxe' "$TB_LOG" || fail "no PXE line in the log: $(grep 'dnsmasq: dhcp' "$TB_LOG" | tail -5)"
}

# TFTP serves the boot programs byte-exact, and nothing else.
test_11_proxy_tftp() {
	pxe_light proxy || return
	client_addr 192.0.2.60/24
	local f
	for f in undionly.kpxe snponly.efi; do
		rm -f "$T/got"
		ip netns exec "$CLIENT" busybox tftp -g -r "$f" -l "$T/got" "$LAB_ADDR" 2> "$T/tftp.err" ||
			fail "tftp $f: $(cat "$T/tftp.err")"
		cmp -s "$T/got" "$IPXE/$f" || fail "$f over TFTP differs from $IPXE/$f"
	done
	for f in ../pxe/dnsmasq.conf /etc/passwd ipxe.lkrn; do
		ip netns exec "$CLIENT" busybox tftp -g -r "$f" -l "$T/got" "$LAB_ADDR" 2>/dev/null &&
			fail "TFTP served '$f'"
	done
	grep -q "dnsmasq: tftp: sent $T/state/tftp/undionly.kpxe to 192.0.2.60" "$TB_LOG" || fail "no TFTP line in the log"
	# tftp-secure: the files belong to the user dnsmasq runs as (dnsmasq-base's system user)
	expect_eq "$(stat -c '%U %a' "$T/state/tftp/undionly.kpxe")" "$(sed -n 's/^user=//p' "$T/state/pxe/dnsmasq.conf") 444" "owner and mode"
	getent passwd dnsmasq > /dev/null && ! grep -qx 'user=dnsmasq' "$T/state/pxe/dnsmasq.conf" &&
		fail "dnsmasq exists, but is not the user dnsmasq drops to"
	expect_eq "$(ls "$T/state/tftp" | tr '\n' ' ')" "ipxe.efi snponly.efi undionly.kpxe " "TFTP root"
}

# HTTP: /pxe/NAME immutable with a strong ETag, /api/v1/pxe/config = the file dnsmasq reads.
test_12_http_programs_and_config() {
	pxe_light proxy || return
	req GET /pxe/ipxe.efi
	expect_status 200
	expect_body_file "$IPXE/ipxe.efi"
	expect_header Cache-Control "public, max-age=31536000, immutable"
	expect_header ETag "\"$(sha256sum "$IPXE/ipxe.efi" | cut -d' ' -f1)\""
	req GET /pxe/ipxe.efi -H "If-None-Match: $(header ETag)"
	expect_status 304
	req HEAD /pxe/undionly.kpxe
	expect_status 200
	expect_header Content-Length "$(stat -c %s "$IPXE/undionly.kpxe")"
	local p
	for p in /pxe/ipxe.lkrn /pxe/undionly.kkpxe /pxe/dnsmasq.conf; do
		req GET "$p"
		expect_status 404
	done
	for p in /pxe/.undionly.kpxe /pxe/..%2fpxe%2fdnsmasq.conf /pxe/%2e%2e; do
		req GET "$p"
		[[ $STATUS == 400 || $STATUS == 404 ]] || fail "$p: status $STATUS"
	done
	req GET /api/v1/pxe/config
	expect_status 200
	expect_header Content-Type "text/plain; charset=utf-8"
	expect_body_file "$T/state/pxe/dnsmasq.conf"
	grep -qx "dhcp-boot=tag:ipxe,http://$TB/boot.ipxe,,$LAB_ADDR" "$T/body" || fail "boot URL: $(grep boot.ipxe "$T/body")"
	lab "$TINYBOOT_CLI" --server "$TB_URL" pxe-config > "$T/cli.out" 2> "$T/cli.err" || fail "pxe-config: $(cat "$T/cli.err")"
	cmp -s "$T/cli.out" "$T/state/pxe/dnsmasq.conf" || fail "tinyboot pxe-config differs from dnsmasq.conf"
}

# dnsmasq killed: restarted after the backoff, and logged; PXE works again.
test_13_dnsmasq_killed_restarted() {
	pxe_light proxy || return
	local first second out starts
	first=$(dnsmasq_pid) || { fail "no dnsmasq under tinybootd $TB_PID"; return; }
	starts=$(grep -c 'dnsmasq: started, version' "$TB_LOG")
	kill -KILL "$first"
	wait_until 10 grep -q 'error: dnsmasq was killed by signal 9 (Killed); restarting in 1000 ms' "$TB_LOG" ||
		fail "no restart logged: $(grep dnsmasq "$TB_LOG" | tail -3)"
	wait_until 10 eval 'second=$(dnsmasq_pid)' || fail "dnsmasq not restarted"
	[[ -n $second && $second != "$first" ]] || fail "dnsmasq pid $second after $first"
	expect_eq "$(grep -c 'dnsmasq: started, version' "$TB_LOG")" $((starts + 1)) "dnsmasq starts"
	client_addr
	wait_until 10 eval 'out=$(probe --wait 1); grep -q "file=undionly.kpxe" <<<"$out"' ||
		fail "no offer after the restart: $out"
}

# tinybootd killed with SIGKILL leaves its dnsmasq running (dnsmasq dropped to another user, which
# clears the parent-death signal) on ports 67/69; the next tinybootd on that state directory stops
# it and starts its own instead of failing with "port 67 taken".
test_17_orphan_dnsmasq_after_sigkill() {
	pxe_light proxy || return
	local orphan out
	orphan=$(dnsmasq_pid) || { fail "no dnsmasq under tinybootd $TB_PID"; return; }
	kill -KILL "$TB_PID"
	wait "$TB_PID" 2>/dev/null
	TB_STOPPED=1
	kill -0 "$orphan" 2>/dev/null || { fail "dnsmasq $orphan died with tinybootd: nothing left to stop"; return; }
	pxe_light proxy || { kill -KILL "$orphan" 2>/dev/null; fail "restart: $(tail -3 "$TB_LOG")"; return; }
	wait_until 10 daemon_gone "$orphan" || { kill -KILL "$orphan" 2>/dev/null; fail "orphan dnsmasq $orphan still runs"; }
	grep -q "PXE: stopped dnsmasq $orphan, left running by an earlier tinybootd on this state directory" "$TB_LOG" ||
		fail "not logged: $(grep PXE "$TB_LOG" | tail -3)"
	dnsmasq_pid > /dev/null || fail "no dnsmasq of its own"
	client_addr
	wait_until 10 eval 'out=$(probe --wait 1); grep -q "file=undionly.kpxe" <<<"$out"' ||
		fail "no offer from the new dnsmasq: $out"
}

# pxe = off: tinybootd runs no dnsmasq; /api/v1/pxe/config gives an example for a dnsmasq of
# one's own once pxe-interface is set, else 409 saying what to set.
test_14_off_example() {
	pxe_light off || return
	dnsmasq_pid > /dev/null && fail "dnsmasq runs with pxe = off"
	req GET /api/v1/pxe/config
	expect_status 200
	grep -q "^# tinyboot's PXE lines (proxy mode on br0) for a dnsmasq of your own" "$T/body" || fail "example: $(head -2 "$T/body")"
	grep -qx "tftp-root=$IPXE" "$T/body" || fail "example's TFTP root"
	grep -q "^tftp-secure\|^user=\|^pid-file" "$T/body" && fail "example carries tinybootd's own settings"
	req GET /pxe/snponly.efi
	expect_status 200
	expect_body_file "$IPXE/snponly.efi"
	tb_use --state "$T/state" --listen "$LAB_ADDR:0" --pxe off || return
	req GET /api/v1/pxe/config
	expect_status 409
	grep -q "set pxe-interface = NAME" "$T/body" || fail "409 body: $(cat "$T/body")"
	local rc=0
	lab "$TINYBOOT_CLI" --server "$TB_URL" pxe-config > "$T/cli.out" 2> "$T/cli.err" || rc=$?
	expect_eq "$rc" 1 "pxe-config exit code"
	grep -q "409 Conflict: pxe = off and pxe-interface is not set" "$T/cli.err" || fail "cli: $(cat "$T/cli.err")"
}

# Not root, with the capabilities as ambient ones (what systemd/tinybootd-pxe.conf grants):
# dnsmasq keeps that user (no user= line), tftp-secure serves the files that user wrote.
test_15_unprivileged_with_capabilities() {
	mkdir -p "$T/nobody-run"
	chown 65534:65534 "$T/nobody-run"
	TB_PRIV="setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=+net_bind_service,+net_raw,+net_admin --ambient-caps=+net_bind_service,+net_raw,+net_admin" \
		tb_use --state "$T/nobody-run" --listen "$LAB_ADDR:0" --pxe proxy --pxe-interface br0 || return
	grep -q '^user=' "$T/nobody-run/pxe/dnsmasq.conf" && fail "user= written when not root"
	expect_eq "$(stat -c %u "/proc/$(dnsmasq_pid)")" 65534 "dnsmasq's user"
	client_addr 192.0.2.61/24
	ip netns exec "$CLIENT" busybox tftp -g -r undionly.kpxe -l "$T/got" "$LAB_ADDR" 2> "$T/tftp.err" ||
		fail "tftp: $(cat "$T/tftp.err")"
	cmp -s "$T/got" "$IPXE/undionly.kpxe" || fail "undionly.kpxe differs"
	tb_stop
}

# dhcp mode with a DHCP client of the real kind (busybox udhcpc as a BIOS PXE client): a
# machine listed by MAC with ip= leases that address, an unlisted one a range address; both
# are told the boot file and the TFTP server.
test_16_dhcp_leases() {
	site_stop
	pxe_light dhcp --pxe-range 192.0.2.100,192.0.2.150 --machines "$T/machines.conf" || return
	cat > "$T/udhcpc.sh" <<'SCRIPT'
#!/bin/sh
[ "$1" = bound ] && echo "lease ip=$ip siaddr=$siaddr boot_file=$boot_file router=${router:-none}"
exit 0
SCRIPT
	chmod +x "$T/udhcpc.sh"
	local out
	client_addr
	ip -n "$CLIENT" link set eth0 address 52:54:00:00:0b:01
	out=$(ip netns exec "$CLIENT" busybox udhcpc -f -q -n -i eth0 -s "$T/udhcpc.sh" -t 4 -T 2 \
		-V PXEClient:Arch:00000:UNDI:002001 -x 0x5d:0000 2>&1)
	grep -q "^lease ip=192.0.2.77 siaddr=$LAB_ADDR boot_file=undionly.kpxe router=none$" <<<"$out" ||
		fail "listed machine's lease: $out"
	grep -q '^[0-9]* 52:54:00:00:0b:01 192.0.2.77 ' "$T/state/pxe/dnsmasq.leases" || fail "lease file: $(cat "$T/state/pxe/dnsmasq.leases")"
	ip -n "$CLIENT" link set eth0 address 52:54:00:00:0b:08
	out=$(ip netns exec "$CLIENT" busybox udhcpc -f -q -n -i eth0 -s "$T/udhcpc.sh" -t 4 -T 2 2>&1)
	grep -q "^lease ip=192.0.2.1[0-5][0-9] siaddr=$LAB_ADDR boot_file= router=none$" <<<"$out" ||
		fail "unlisted machine's lease (no PXE client: no boot file): $out"
	tb_stop
}

# ---- guests ----

test_20_images_are_built() {
	pxe_boot proxy || return
	req GET "/images/net/bzImage?wait=1" --max-time "$BUILD_WAIT"
	expect_status 200
}

# SeaBIOS + e1000: its iPXE ROM gets the site's address and tinyboot's boot URL from the
# proxyDHCP, chains /boot.ipxe, boots the machine's variant, and the guest reports.
test_21_proxy_bios_guest_reports() {
	site_start || { fail "no site DHCP server"; return; }
	pxe_boot proxy || return
	local old
	old=$(last_boot pxe-bios)
	netns_qemu pxe-bios bios e1000 tap0 52:54:00:00:0a:01 || { fail "qemu"; return; }
	await_report pxe-bios "$NETNS_PID" "$old"
	local m
	m=$(machine pxe-bios)
	jq -r '[.events[].state] | join(",")' <<<"$m" | grep -q 'script served' || fail "no 'script served'"
	[[ $(jq -r '.report.addresses[0]' <<<"$m") == 192.0.2.1[0-5][0-9]/24 ]] ||
		fail "guest address $(jq -r '.report.addresses[0]' <<<"$m") is not the site's"
	grep -q 'dnsmasq: dhcp: .*PXE(br0) 52:54:00:00:0a:01 proxy' "$TB_LOG" || fail "no proxy answer logged"
}

# dhcp mode, no other DHCP server; two guests at once: the one listed by MAC with ip= gets that
# address (in its firmware's lease and in the guest), the unlisted one a range address and the
# default entry.
test_22_dhcp_two_guests() {
	site_stop
	pxe_boot dhcp --pxe-range 192.0.2.100,192.0.2.150 || return
	grep -qx '52:54:00:00:0b:01,192.0.2.77' "$STATE/pxe/dnsmasq.hosts" || fail "no reservation"
	# a DHCP client first: the reservation, and the boot file for a BIOS PXE client
	client_addr
	ip -n "$CLIENT" link set eth0 address 52:54:00:00:0b:01
	local out
	out=$(probe --wait 3)
	grep -q "^OFFER server=$LAB_ADDR yiaddr=192.0.2.77 siaddr=$LAB_ADDR file=undionly.kpxe" <<<"$out" || fail "reserved offer: $out"
	ip -n "$CLIENT" link set eth0 address 52:54:00:00:0b:09
	out=$(probe --wait 6) # dnsmasq pings a range address before it offers it (~3 s)
	grep -q "^OFFER server=$LAB_ADDR yiaddr=192.0.2.1[0-5][0-9] siaddr=$LAB_ADDR file=undionly.kpxe" <<<"$out" || fail "range offer: $out"
	local old1 old2 q1 q2
	old1=$(last_boot dhcp-fixed)
	old2=$(last_boot mac-525400000b02)
	netns_qemu dhcp-fixed bios e1000 tap0 52:54:00:00:0b:01 || { fail "qemu"; return; }
	q1=$NETNS_PID
	netns_qemu dhcp-other bios e1000 tap1 52:54:00:00:0b:02 || { fail "qemu"; return; }
	q2=$NETNS_PID
	await_report dhcp-fixed "$q1" "$old1"
	await_report mac-525400000b02 "$q2" "$old2"
	expect_eq "$(machine dhcp-fixed | jq -r '.report.addresses[0]')" 192.0.2.77/24 "listed guest's address"
	expect_eq "$(machine dhcp-fixed | jq -r .variant)" net "listed guest's variant"
	[[ $(machine mac-525400000b02 | jq -r '.report.addresses[0]') == 192.0.2.1[0-5][0-9]/24 ]] ||
		fail "unlisted guest's address $(machine mac-525400000b02 | jq -r '.report.addresses[0]')"
	grep -q 'dnsmasq: dhcp: .*DHCPACK(br0) 192.0.2.77 52:54:00:00:0b:01' "$TB_LOG" || fail "firmware lease of the listed guest"
}

# SIGHUP: a new machine in machines.conf becomes a reservation in dnsmasq.hosts and the running
# dnsmasq reads it again (SIGHUP: no restart, so TFTP transfers in flight go on) and offers the
# address; removing the machine is applied the same way; a reload that changes nothing leaves
# dnsmasq alone (not even a SIGHUP).
test_23_dhcp_reload() {
	pxe_boot dhcp --pxe-range 192.0.2.100,192.0.2.150 || return
	local hosts=$STATE/pxe/dnsmasq.hosts starts first reads lines out ns
	local read_re="dnsmasq: dhcp: read $hosts\$"
	starts=$(grep -c 'dnsmasq: started, version' "$TB_LOG")
	reads=$(grep -c "$read_re" "$TB_LOG")
	first=$(dnsmasq_pid) || { fail "no dnsmasq under tinybootd $TB_PID"; return; }
	echo "52:54:00:00:0b:03  name=dhcp-new variant=net ip=192.0.2.78/24" >> "$T/machines.conf"
	kill -HUP "$TB_PID"
	wait_until 10 grep -qx '52:54:00:00:0b:03,192.0.2.78' "$hosts" || fail "no new reservation in $hosts"
	wait_until 10 eval '[[ $(grep -c "$read_re" "$TB_LOG") -gt $reads ]]' ||
		fail "dnsmasq did not read $hosts again: $(grep 'dnsmasq:' "$TB_LOG" | tail -3)"
	grep -q 'info: PXE: 2 DHCP reservations loaded without restarting dnsmasq' "$TB_LOG" ||
		fail "no reload logged: $(grep 'PXE' "$TB_LOG" | tail -3)"
	expect_eq "$(grep -c 'dnsmasq: started, version' "$TB_LOG")" "$starts" "dnsmasq starts after a new reservation"
	expect_eq "$(dnsmasq_pid)" "$first" "dnsmasq after a new reservation"
	grep -qx "dhcp-hostsfile=$hosts" "$STATE/pxe/dnsmasq.conf" || fail "dnsmasq.conf does not name $hosts"
	grep -q '^dhcp-host=' "$STATE/pxe/dnsmasq.conf" && fail "reservations inline in dnsmasq.conf"
	# served: a DHCP DISCOVER from that MAC (a host of its own on the segment) is offered it
	ns=
	netns_host resv "" 52:54:00:00:0b:03 && ns=$NETNS_HOST || fail "no host with MAC 52:54:00:00:0b:03"
	out=$([[ -z $ns ]] || ip netns exec "$ns" "$PROBE" --iface eth0 --wait 3)
	grep -q "^OFFER server=$LAB_ADDR yiaddr=192.0.2.78 siaddr=$LAB_ADDR file=undionly.kpxe" <<<"$out" ||
		fail "no offer of the reserved address after the reload: $out"
	# the admin sees the reservation beside the configuration
	req GET /api/v1/pxe/config
	grep -qx '# 52:54:00:00:0b:03,192.0.2.78' "$T/body" || fail "/api/v1/pxe/config lacks the reservation"
	# a reload without change: dnsmasq alone
	reads=$(grep -c "$read_re" "$TB_LOG")
	lines=$(grep -c 'PXE: dhcp mode on br0' "$TB_LOG")
	kill -HUP "$TB_PID"
	wait_until 10 eval '[[ $(grep -c "PXE: dhcp mode on br0" "$TB_LOG") -gt $lines ]]' || fail "no reload"
	sleep 1
	expect_eq "$(grep -c 'dnsmasq: started, version' "$TB_LOG")" "$starts" "starts after a reload without change"
	expect_eq "$(dnsmasq_pid)" "$first" "dnsmasq after a reload without change"
	expect_eq "$(grep -c "$read_re" "$TB_LOG")" "$reads" "reads of $hosts after a reload without change"
	# the machine removed: applied without a restart too; its MAC gets a range address now
	sed -i '/dhcp-new/d' "$T/machines.conf"
	kill -HUP "$TB_PID"
	wait_until 10 eval '[[ $(grep -c "$read_re" "$TB_LOG") -gt $reads ]]' ||
		fail "dnsmasq did not read $hosts after the removal"
	grep -q '0b:03' "$hosts" && fail "reservation still in $hosts after the removal"
	grep -q 'info: PXE: 1 DHCP reservation loaded without restarting dnsmasq' "$TB_LOG" ||
		fail "no reload logged after the removal"
	expect_eq "$(grep -c 'dnsmasq: started, version' "$TB_LOG")" "$starts" "dnsmasq starts after the removal"
	expect_eq "$(dnsmasq_pid)" "$first" "dnsmasq after the removal"
	out=$([[ -z $ns ]] || ip netns exec "$ns" "$PROBE" --iface eth0 --wait 6) # pinged first (~3 s)
	grep -q "^OFFER server=$LAB_ADDR yiaddr=192.0.2.1[0-5][0-9] " <<<"$out" ||
		fail "the removed machine's offer: $out"
	tb_stop
}

# OVMF's own PXE client (no iPXE ROM on the NIC) in proxy mode: snponly.efi over TFTP, then iPXE
# chains tinyboot's script, gets the net+efi kernel (the EFI stub) and the guest reports.
test_24_proxy_uefi_pxe_guest_reports() {
	[[ -e $NETNS_OVMF_CODE ]] || { fail "no OVMF ($NETNS_OVMF_CODE): apt-get install ovmf"; return; }
	site_start || { fail "no site DHCP server"; return; }
	pxe_boot proxy || return
	local old q
	old=$(last_boot mac-525400000a02)
	netns_qemu pxe-uefi uefi virtio-norom tap0 52:54:00:00:0a:02 || { fail "qemu"; return; }
	q=$NETNS_PID
	wait_until 600 grep -q "dnsmasq: tftp: sent $STATE/tftp/snponly.efi" "$TB_LOG" ||
		fail "snponly.efi not sent over TFTP: $(grep dnsmasq "$TB_LOG" | tail -5)"
	# snponly.efi is iPXE for UEFI: it chains /boot.ipxe, which asks for the EFI kernel
	await_report mac-525400000a02 "$q" "$old"
	expect_eq "$(machine mac-525400000a02 | jq -r '.variant + " " + .firmware')" "net+efi uefi" \
		"UEFI PXE guest's variant and firmware"
}

# UEFI HTTP Boot: OVMF's HttpBootDxe (its PXE switched off, so HTTP Boot is the first entry) asks
# with vendor class HTTPClient, gets ipxe.efi by URL from tinyboot's proxyDHCP, fetches it over HTTP
# from /pxe/ipxe.efi (no TFTP at all), and iPXE boots the net+efi kernel to a report.
test_25_proxy_uefi_http_boot_guest_reports() {
	[[ -e $NETNS_OVMF_CODE ]] || { fail "no OVMF ($NETNS_OVMF_CODE): apt-get install ovmf"; return; }
	site_start || { fail "no site DHCP server"; return; }
	pxe_boot proxy || return
	local old q tftp_before
	old=$(last_boot mac-525400000a03)
	tftp_before=$(grep -c 'dnsmasq: tftp: sent' "$TB_LOG")
	netns_qemu http-uefi uefi virtio-norom tap1 52:54:00:00:0a:03 \
		-fw_cfg name=opt/org.tianocore/IPv4PXESupport,string=n \
		-fw_cfg name=opt/org.tianocore/IPv6PXESupport,string=n || { fail "qemu"; return; }
	q=$NETNS_PID
	wait_until 600 grep -q "dnsmasq: dhcp: .*bootfile name: http://$LAB_ADDR:[0-9]*/pxe/ipxe.efi" "$TB_LOG" ||
		fail "no HTTP boot URL offered: $(grep dnsmasq "$TB_LOG" | tail -5)"
	await_report mac-525400000a03 "$q" "$old"
	grep -q 'Start HTTP Boot over IPv4' "$NETNS_DIR/http-uefi.console" || fail "the firmware did not use HTTP Boot"
	expect_eq "$(grep -c 'dnsmasq: tftp: sent' "$TB_LOG")" "$tftp_before" "TFTP transfers during an HTTP boot"
	expect_eq "$(machine mac-525400000a03 | jq -r '.variant + " " + .firmware')" "net+efi uefi" \
		"UEFI HTTP Boot guest's variant and firmware"
}

# The last daemon stops cleanly (exit 0, its dnsmasq gone, no sanitizer report).
test_99_stops_cleanly() {
	[[ -n ${TB_PID:-} && -z ${TB_STOPPED:-} ]] || return 0
	local d
	d=$(dnsmasq_pid)
	tb_stop
	[[ -z $d ]] || ! kill -0 "$d" 2>/dev/null || fail "dnsmasq $d outlived tinybootd"
}

run_tests
