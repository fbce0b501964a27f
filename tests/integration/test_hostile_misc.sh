#!/bin/bash
# test_hostile_misc.sh - issue 12's smaller hostile and unlucky cases against the real daemon: a
# FIFO where a file should be, a variant with '+' not built yet, boot scripts over IPv6 and
# without Host, a server URL that is not one, manifests of unknown machines, -n and NUL bytes.
# No kernel is ever built: the state directories are private, every source URL points nowhere,
# and a test that needs a build to stay "building" holds the source's lock while it looks.
source "$(dirname "$0")/../lib.sh"

KSRC=$(sed -n 's/^kernel-source = //p' "$ROOT/images/net.image")
mkdir -p "$T/payloads" "$T/recipes" "$T/kconfig"
printf 'hello\n' > "$T/payloads/hello.txt"
head -c 5000 /dev/urandom > "$T/payloads/blob.bin"
BLOB_SHA=$(sha256sum "$T/payloads/blob.bin" | cut -d' ' -f1)
# FIFOs where files belong: a payload's pin, a payload, a recipe, a kernel config fragment
FIFOS=("$T/payloads/blob.bin.sha256" "$T/payloads/fifo.bin" "$T/recipes/fifo.image" "$T/kconfig/fifo.config")
cp "$ROOT"/images/*.image "$T/recipes/"
cp -r "$ROOT"/kernel-config/. "$T/kconfig/"
for f in "${FIFOS[@]}"; do mkfifo "$f"; done
# the real recipes' sources, but every URL points nowhere: a build that starts fails at its fetch
sed 's|^url = .*|url = file:///nonexistent/tinyboot-test/source.tar.xz|' "$ROOT/etc/sources.conf" > "$T/sources.conf"
cat > "$T/machines.conf" <<CONF
52:54:00:00:00:07  name=fifo-pin     variant=net payloads=hello.txt,blob.bin
52:54:00:00:00:08  name=plus         variant=net+debug ip=10.0.2.15/24 gw=10.0.2.2
52:54:00:00:00:09  name=fifo-payload variant=net payloads=hello.txt,fifo.bin
52:54:00:00:00:0a  name=plain        variant=net ip=10.0.2.15/24 gw=10.0.2.2
default            variant=net payloads=hello.txt
CONF

# A daemon on the private state directory $T/NAME, with the recipes, fragments, sources and
# machines above; extra flags after NAME.
hm_start() {
	local name=$1
	shift
	hm_unlock_source # a lock a failed test kept must not reach the next daemon
	mkdir -p "$T/$name/sources"
	tb_start --state "$T/$name" --recipes "$T/recipes" --kernel-config "$T/kconfig" \
		--rootfs "$ROOT/rootfs" --sources "$T/sources.conf" --machines "$T/machines.conf" "$@"
}

# Hold (or let go of) the kernel source's lock in $T/NAME: a build that starts waits there, so it
# stays "building" for as long as a test looks. Taken after the daemon started, so the daemon
# does not inherit the descriptor.
hm_lock_source() {
	exec {HM_LOCK}>"$T/$1/sources/$KSRC.lock"
	flock -x -w 5 "$HM_LOCK" || fail "cannot lock $KSRC"
}
hm_unlock_source() {
	[[ -n ${HM_LOCK:-} ]] && exec {HM_LOCK}>&-
	HM_LOCK=
}

# A reader blocked on a FIFO wakes when a writer opens it: lets an old daemon go.
hm_unblock_fifos() {
	local f
	for f in "${FIFOS[@]}"; do timeout 1 bash -c 'exec 3>"$1"' _ "$f" 2>/dev/null; done
	return 0
}

# SIGTERM: the daemon must be gone within SECS and have exited 0, without sanitizer reports.
hm_stop_within() {
	local secs=$1 rc=0
	TB_STOPPED=1
	kill -TERM "$TB_PID" 2>/dev/null
	if ! wait_until "$secs" daemon_gone "$TB_PID"; then
		fail "still running $secs s after SIGTERM"
		hm_unblock_fifos
		hm_unlock_source
		daemon_kill "$TB_PID" 5
	fi
	wait "$TB_PID" 2>/dev/null || rc=$?
	expect_eq "$rc" 0 "exit code after SIGTERM"
	tb_check_sanitizers "$TB_LOG"
}

machines_json() { curl -s --max-time 5 "$TB_URL/api/v1/machines" | jq -S .; }

# ---- item 7: a FIFO is refused, never waited on ----

test_fifo_pin_and_payload_do_not_hang() {
	hm_start fifo-state || return
	# a FIFO pin is ignored: the file's own checksum stands
	req GET '/payloads/manifest?id=fifo-pin' --max-time 5
	expect_status 200
	expect_body "$(sha256sum < "$T/payloads/hello.txt" | cut -d' ' -f1) 6 hello.txt\n$BLOB_SHA 5000 blob.bin\n"
	# a FIFO payload is no payload
	req GET '/payloads/manifest?id=fifo-payload' --max-time 5
	expect_status 404
	expect_body "404 Not Found: payload 'fifo.bin' of fifo-payload: No such file or directory\n"
	req GET /payloads/blob.bin.sha256 --max-time 5
	expect_status 404
	# a FIFO recipe and a FIFO fragment: answered at once, and no build starts
	req GET /images/fifo/bzImage --max-time 5
	[[ $STATUS == 4* || $STATUS == 5* ]] || fail "FIFO recipe: status $STATUS"
	grep -q 'not a regular file' "$T/body" || fail "FIFO recipe: body '$(cat "$T/body")'"
	req GET /images/net+fifo/bzImage --max-time 5
	expect_status 404
	req GET /healthz --max-time 5
	expect_status 200
	grep -q 'build .*: queued' "$TB_LOG" && fail "a build was started"
	hm_stop_within 10
	hm_unblock_fifos
}

# ---- item 8: a variant with '+' that is not built yet ----

test_plus_variant_gets_stable_urls() {
	local before script kernel token
	hm_start plus-state || return
	hm_lock_source plus-state
	before=$(machines_json)
	req GET '/ipxe?mac=52-54-00-00-00-08&platform=pcbios' --max-time 10
	expect_status 200
	script=$(cat "$T/body")
	kernel=$(sed -n 's|^kernel \([^ ]*\) .*|\1|p' <<<"$script")
	token=${kernel##*boot=}
	[[ $kernel =~ ^$TB_URL/images/net\+debug/bzImage\?boot=[0-9a-f]{32}$ ]] || fail "kernel URL '$kernel' in: $script"
	grep -qx "initrd --name initrd $TB_URL/images/net+debug/initrd?boot=$token" <<<"$script" ||
		fail "no stable initrd URL in: $script"
	grep -q " tinyboot.boot=$token " <<<"$script" || fail "the command line names another boot"
	# the kernel is still building: 503 and Retry-After, which iPXE waits on by itself
	req GET "${kernel#"$TB_URL"}" --max-time 10
	expect_status 503
	[[ $(header Retry-After) =~ ^[0-9]+$ ]] || fail "Retry-After '$(header Retry-After)'"
	grep -q 'net+debug is being built' "$T/body" || fail "503 body '$(cat "$T/body")'"
	# the one boot is the one the script names, and its script was served: no orphan
	# (the public view shows a boot by its id: the first 16 hex digits of the token's SHA-256)
	expect_eq "$(machines_json | jq -r .plus.boot)" "$(printf %s "$token" | sha256sum | cut -c1-16)" "boot of plus"
	expect_eq "$(machines_json | jq -r '[.plus.events[].state] | join(",")')" "boot created,script served" events
	[[ $before != "$(machines_json)" ]] || fail "no boot recorded"
	hm_unlock_source # the build goes on to its fetch, which fails at once
	hm_stop_within 20
}

# ---- item 9: boot scripts over IPv6, and without Host ----

hm_have_ipv6() { [[ -e /proc/net/if_inet6 ]] && ip -6 addr show dev lo 2>/dev/null | grep -q '::1/128'; }

test_ipv6_listen_scripts() {
	if ! hm_have_ipv6; then
		echo "    (no IPv6 loopback here: skipped)"
		return 0
	fi
	local port script kernel
	hm_start v6-state --listen '[::1]:0' || return
	[[ $TB == \[::1\]:* ]] || fail "listening on '$TB'"
	port=${TB##*:}
	req GET /boot.ipxe -g
	expect_status 200
	grep -q "^chain --replace --autofree http://\[::1\]:$port/ipxe?mac=" "$T/body" ||
		fail "generic script: $(cat "$T/body")"
	hm_lock_source v6-state
	req GET '/ipxe?mac=52-54-00-00-00-0a&platform=pcbios' -g --max-time 10
	expect_status 200
	script=$(cat "$T/body")
	kernel=$(sed -n 's|^kernel \([^ ]*\) .*|\1|p' <<<"$script")
	[[ $kernel == "http://[::1]:$port/images/net/bzImage?boot="* ]] || fail "kernel URL '$kernel'"
	grep -q " tinyboot.server=http://\[::1\]:$port " <<<"$script" || fail "guest not told the server: $script"
	hm_unlock_source
	hm_stop_within 20
}

test_no_host_and_bad_host_use_the_local_address() {
	local listen='[::]:0' port
	hm_have_ipv6 || listen='0.0.0.0:0'
	hm_start nohost-state --listen "$listen" || return
	port=${TB##*:}
	# HTTP/1.0 without Host: the address the request came in on, not the wildcard
	STATUS=$(curl -s -0 -H 'Host:' -o "$T/body" -w '%{http_code}' "http://127.0.0.1:$port/boot.ipxe")
	expect_status 200
	grep -q "^chain --replace --autofree http://127.0.0.1:$port/ipxe?mac=" "$T/body" ||
		fail "HTTP/1.0 script: $(cat "$T/body")"
	if hm_have_ipv6; then
		STATUS=$(curl -s -g -0 -H 'Host:' -o "$T/body" -w '%{http_code}' "http://[::1]:$port/boot.ipxe")
		expect_status 200
		grep -q "^chain --replace --autofree http://\[::1\]:$port/ipxe?mac=" "$T/body" ||
			fail "HTTP/1.0 script over IPv6: $(cat "$T/body")"
	fi
	# a Host that is not HOST[:PORT] never reaches the script
	local h
	for h in 'evil;x' 'a b' '[x' '[::1' 'h:99999' 'h:80:80' '${x}' 'user@h' '-h' 'h/x'; do
		STATUS=$(curl -s -H "Host: $h" -o "$T/body" -w '%{http_code}' "http://127.0.0.1:$port/boot.ipxe")
		expect_status 200
		grep -q "^chain --replace --autofree http://127.0.0.1:$port/ipxe?mac=" "$T/body" ||
			fail "Host '$h': $(cat "$T/body")"
	done
	# a good one is used as sent
	req GET /boot.ipxe -H 'Host: boot.lab.example:8080'
	grep -q '^chain --replace --autofree http://boot.lab.example:8080/ipxe?mac=' "$T/body" ||
		fail "Host as sent: $(cat "$T/body")"
	hm_stop_within 10
}

# ---- item 11: the smaller ones ----

# POST /api/v1/boots with a server that is no URL: 400, and no boot. The variant must look
# built (else it is 503 before the server matters): an index entry and an artifact, made by
# hand under the id the daemon gives for it.
test_boot_with_bad_server_is_400_and_creates_nothing() {
	local art=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa before s
	hm_start server-state || return
	tb_fake_build "$T/server-state" net "$art" || { hm_stop_within 10; return; }
	before=$(machines_json)
	for s in 'http://[x' 'http://[::1' 'http://h:99999' 'http://h:80:80' 'http://a b' 'http://h/x'; do
		req POST /api/v1/boots -d "{\"mac\": \"52:54:00:00:00:0a\", \"server\": \"$s\"}"
		expect_status 400
		expect_body '400 Bad Request: server must be http://HOST[:PORT], an IPv6 address in brackets\n'
	done
	expect_eq "$(machines_json)" "$before" "machines after refused boots"
	# a good IPv6 server is taken, and the guest is told it
	req POST /api/v1/boots -d '{"mac": "52:54:00:00:00:0a", "server": "http://[::1]:8080"}'
	expect_status 201
	grep -q ' tinyboot.server=http://\[::1\]:8080 ' <<<"$(jq -r .cmdline "$T/body")" ||
		fail "cmdline '$(jq -r .cmdline "$T/body")'"
	expect_eq "$(jq -r .kernel "$T/body")" "/artifacts/$art/bzImage?boot=$(jq -r .boot "$T/body")" kernel
	hm_stop_within 10
}

test_manifest_of_unknown_machine_is_404() {
	hm_start manifest-state || return
	local id
	for id in mac-0200000000zz mac-0200000000AA mac-02000000000g nobody; do
		req GET "/payloads/manifest?id=$id"
		expect_status 404
		expect_body "404 Not Found: no machine named '$id'\n"
	done
	# a machine of the default entry, named as the daemon names it: once it has booted
	req GET '/payloads/manifest?id=mac-0200000000aa'
	expect_status 404
	expect_body "404 Not Found: no boot of 'mac-0200000000aa' is known: a machine on the default entry has a manifest once it boots\n"
	req GET '/ipxe?mac=02:00:00:00:00:aa'
	expect_status 200
	req GET '/payloads/manifest?id=mac-0200000000aa'
	expect_status 200
	expect_body "$(sha256sum < "$T/payloads/hello.txt" | cut -d' ' -f1) 6 hello.txt\n"
	hm_stop_within 10
}

# -n checks and changes nothing: a state directory that is not there stays so, one that is stays
# as it was (no payloads/ made in it).
test_check_changes_nothing_on_disk() {
	local out rc=0 snap
	out=$("$TINYBOOTD" -n --listen 127.0.0.1:0 --state "$T/nx/state" --payloads "$T/payloads" 2>&1) || rc=$?
	expect_eq "$rc" 0 "exit code"
	expect_eq "$out" "configuration OK" output
	[[ -e $T/nx ]] && fail "-n created $(find "$T/nx" | tr '\n' ' ')"
	rc=0
	out=$(cd "$T" && "$TINYBOOTD" -n --listen 127.0.0.1:0 --state nx-relative 2>&1) || rc=$?
	expect_eq "$rc" 0 "exit code (relative, no payloads)"
	[[ -e $T/nx-relative ]] && fail "-n created $T/nx-relative"
	mkdir -p "$T/existing/sub"
	echo x > "$T/existing/sub/file"
	touch -d '2020-01-01 00:00' "$T/existing/sub/file" "$T/existing/sub" "$T/existing"
	snap=$(find "$T/existing" -printf '%p %y %m %s %T@\n' | sort)
	rc=0
	out=$("$TINYBOOTD" -n --listen 127.0.0.1:0 --state "$T/existing" 2>&1) || rc=$?
	expect_eq "$rc" 0 "exit code (existing)"
	expect_eq "$out" "configuration OK" "output (existing)"
	expect_eq "$(find "$T/existing" -printf '%p %y %m %s %T@\n' | sort)" "$snap" "existing state directory"
	# a state directory that cannot be made is still an error
	: > "$T/afile"
	rc=0
	out=$("$TINYBOOTD" -n --listen 127.0.0.1:0 --state "$T/afile/state" 2>&1) || rc=$?
	expect_eq "$rc" 2 "exit code (under a file)"
	expect_eq "$out" "tinybootd: create $T/afile/state: Not a directory" "output (under a file)"
}

test_nul_byte_in_config_is_named() {
	local out rc=0
	{ printf 'listen = 127.0.0.1:0\n'; head -c 5000 /dev/zero; printf '\n'; } > "$T/nul.conf"
	out=$("$TINYBOOTD" -n --config "$T/nul.conf" --state "$T/nul-state" 2>&1) || rc=$?
	expect_eq "$rc" 1 "exit code"
	expect_eq "$out" "tinybootd: $T/nul.conf:2: NUL byte in line" output
	printf 'listen = 127.0.0.1:0\nstate = %s\0x\n' "$T/nul-state" > "$T/nul2.conf"
	rc=0
	out=$("$TINYBOOTD" -n --config "$T/nul2.conf" 2>&1) || rc=$?
	expect_eq "$rc" 1 "exit code (short line)"
	expect_eq "$out" "tinybootd: $T/nul2.conf:2: NUL byte in line" "output (short line)"
	# a FIFO in place of the file is refused at once
	mkfifo "$T/fifo.conf"
	rc=0
	out=$(timeout 10 "$TINYBOOTD" -n --config "$T/fifo.conf" 2>&1) || rc=$?
	expect_eq "$rc" 1 "exit code (FIFO)"
	expect_eq "$out" "tinybootd: $T/fifo.conf: not a regular file" "output (FIFO)"
}

run_tests
