#!/bin/bash
# test_size.sh - GET /api/v1/images/VARIANT/size and `tinyboot size`: the real net kernel in the
# shared test state (checked against its vmlinux and size(1)), then throw-away state directories
# where real ELF files are published through the state layout (index -> artifact -> manifest ->
# kernels/KEY/vmlinux) to test fragment deltas, missing bases and broken vmlinux files without
# compiling anything.
source "$(dirname "$0")/../lib.sh"

CACHE=${TINYBOOT_CACHE:-/var/cache/tinyboot}
STATE=$CACHE/test-state
BUILD_WAIT=${BUILD_WAIT:-2700}
mkdir -p "$STATE"
REPO_INPUTS=(--recipes "$ROOT/images" --kernel-config "$ROOT/kernel-config" --rootfs "$ROOT/rootfs"
	--sources "$ROOT/etc/sources.conf")
ID_RE='s/.*(build \([0-9a-f]\{64\}\)).*/\1/p'

cli() { "$TINYBOOT_CLI" --server "$TB_URL" "$@"; }

# fake_built STATE VARIANT ELF BZIMAGE_BYTES: make VARIANT look built in STATE. The daemon (already
# running on STATE) names the build id in its 409; the rest is the layout a real build publishes.
fake_built() {
	local state=$1 v=$2 elf=$3 bz=$4 id art key
	req GET "/api/v1/images/$v/size"
	id=$(sed -n "$ID_RE" "$T/body")
	[[ $STATUS == 409 && -n $id ]] || { fail "fake_built $v: $STATUS $(cat "$T/body")"; return 1; }
	art=$(printf 'artifact %s %s' "$state" "$v" | sha256sum | cut -c1-64)
	key=$(printf 'kernel %s %s' "$state" "$v" | sha256sum | cut -c1-64)
	mkdir -p "$state/artifacts/$art" "$state/kernels/$key" "$state/index"
	head -c "$bz" /dev/zero > "$state/artifacts/$art/bzImage"
	cp "$elf" "$state/kernels/$key/vmlinux"
	jq -n --arg v "$v" --arg k "$key" --arg a "$art" --arg id "$id" --argjson bz "$bz" \
		--argjson vm "$(stat -c %s "$elf")" \
		'{variant: $v, id: $id, artifact: $a, kernel_key: $k,
		  sizes: {bzImage: $bz, initrd: 1000, busybox: 2000, vmlinux: $vm}}' \
		> "$state/artifacts/$art/manifest.json"
	printf '%s' "$art" > "$state/index/$id"
	FAKE_KEY=$key
}

# Each test names the daemon it needs (tb_use): the one on the shared test state, or the one on
# the throw-away state; consecutive tests share it.
net_daemon() { tb_use --state "$STATE" "${REPO_INPUTS[@]}"; }
fake_daemon() { tb_use --state "$T/fake" "${REPO_INPUTS[@]}"; }

NET_JSON=$T/net.json
NET_KEY=

# net_size: the net variant built in the shared state (a no-op once built), its size answer in
# $NET_JSON and its kernel key in NET_KEY (what test_00 checks).
net_size() {
	net_daemon || return
	req GET "/images/net/bzImage?wait=1" --max-time "$BUILD_WAIT"
	[[ $STATUS == 200 ]] || { fail "net is not built: status $STATUS"; return 1; }
	req GET /api/v1/images/net/size
	[[ $STATUS == 200 ]] || { fail "net size: status $STATUS ($(head -c 200 "$T/body"))"; return 1; }
	cp "$T/body" "$NET_JSON"
	NET_KEY=$(jq -r .kernel_key "$NET_JSON")
}

# ---- the real net build in the shared test state ----

test_00_net_is_built() {
	net_daemon || return
	# the build suite builds it first; on its own this suite asks for it (a no-op when built)
	req GET "/images/net/bzImage?wait=1" --max-time "$BUILD_WAIT"
	expect_status 200
	req GET /api/v1/images/net/size
	expect_status 200
	expect_header Content-Type application/json
	cp "$T/body" "$NET_JSON"
	NET_KEY=$(jq -r .kernel_key "$NET_JSON")
	expect_eq "$(jq -r .variant "$NET_JSON")" net variant
	[[ -f $STATE/kernels/$NET_KEY/vmlinux ]] || fail "no vmlinux for kernel '$NET_KEY'"
}

test_01_sections_match_the_vmlinux() {
	net_size || return
	local vmlinux=$STATE/kernels/$NET_KEY/vmlinux berkeley
	[[ -f $vmlinux ]] || { fail "no net kernel"; return; }
	expect_eq "$(jq -r .sizes.vmlinux "$NET_JSON")" "$(stat -c %s "$vmlinux")" "manifest vmlinux bytes"
	expect_eq "$(jq '[.sections[] | select(.name == ".text")] | length' "$NET_JSON")" 1 ".text listed once"
	jq -e '.sections[] | select(.name == ".text") | .size > 0 and .exec and (.write | not) and .group == "text"' \
		"$NET_JSON" > /dev/null || fail ".text: $(jq -c '.sections[] | select(.name == ".text")' "$NET_JSON")"
	jq -e '[.sections[] | select(.name == ".bss")][0] | .size > 0 and .group == "bss"' "$NET_JSON" > /dev/null ||
		fail ".bss missing or empty"
	jq -e '[.sections[] | select(.name == ".symtab" or .name == ".comment")] | length == 0' "$NET_JSON" > /dev/null ||
		fail "non-SHF_ALLOC sections listed"
	# totals are the sections summed by group; what the file holds cannot exceed the file
	expect_eq "$(jq '[.sections[].size] | add' "$NET_JSON")" "$(jq '.totals | add' "$NET_JSON")" "sections vs totals"
	jq -e --argjson file "$(stat -c %s "$vmlinux")" '.totals.text + .totals.rodata + .totals.data <= $file' \
		"$NET_JSON" > /dev/null || fail "totals over the file size"
	for g in text rodata data bss; do
		expect_eq "$(jq --arg g "$g" '[.sections[] | select(.group == $g) | .size] | add // 0' "$NET_JSON")" \
			"$(jq --arg g "$g" '.totals[$g]' "$NET_JSON")" "total $g"
	done
	# the same grouping as binutils' size(1), when it is installed
	if command -v size > /dev/null; then
		berkeley=$(size "$vmlinux" | awk 'NR == 2 { print $1, $2, $3 }')
		expect_eq "$(jq -r '"\(.totals.text + .totals.rodata) \(.totals.data) \(.totals.bss)"' "$NET_JSON")" \
			"$berkeley" "text data bss as size(1) counts them"
	fi
}

test_02_symbols_largest_first() {
	net_size || return
	local n total
	expect_eq "$(jq '.symbols | length' "$NET_JSON")" 20 "default top"
	total=$(jq .symbols_total "$NET_JSON")
	[[ $total -gt 1000 ]] || fail "symbols_total $total"
	for n in 1 7 200; do
		req GET "/api/v1/images/net/size?top=$n"
		expect_status 200
		expect_eq "$(jq '.symbols | length' "$T/body")" "$n" "top=$n count"
		jq -e '[.symbols[].size] | . == (sort | reverse) and all(. > 0)' "$T/body" > /dev/null ||
			fail "top=$n not sorted by size: $(jq -c '[.symbols[].size]' "$T/body" | head -c 300)"
		jq -e 'all(.symbols[]; (.type == "func" or .type == "object") and (.name | length > 0))' \
			"$T/body" > /dev/null || fail "top=$n: bad type or name"
		# every symbol lies in a section that is listed (or is absolute)
		jq -e '[.sections[].name] as $s | all(.symbols[]; .section as $x | $s | index([$x]) != null or $x == "*ABS*")' \
			"$T/body" > /dev/null || fail "top=$n: symbol in an unlisted section"
	done
	# the first 7 of the largest 200 are the largest 7
	expect_eq "$(jq -c '.symbols[:7]' "$T/body")" "$(req GET '/api/v1/images/net/size?top=7'; jq -c .symbols "$T/body")" \
		"top=7 is a prefix of top=200"
}

test_03_top_rejects_junk() {
	net_daemon || return
	local q
	for q in top=0 top=abc top=99999 top=201 top= top=-1 top=1e2 'top=%20'; do
		req GET "/api/v1/images/net/size?$q"
		expect_status 400
		expect_body "400 Bad Request: top is a whole number from 1 to 200\n"
	done
}

test_04_unknown_names_and_methods() {
	net_daemon || return
	req GET /api/v1/images/net+bogus/size
	expect_status 404
	expect_body "404 Not Found: unknown fragment 'bogus'; valid fragments: base, debug, e1000, efi, i386, net, patched, rtl8139, virtio, x86_64\n"
	req GET /api/v1/images/nope/size
	expect_status 404
	expect_body "404 Not Found: unknown recipe 'nope'; valid recipes: net, net32, tiny\n"
	req GET '/api/v1/images/net+-x/size'
	expect_status 400
	req POST /api/v1/images/net/size
	expect_status 405
	expect_header Allow "GET, HEAD"
	req GET /api/v1/images/net/sizes
	expect_status 404
}

test_05_size_json_is_the_cache() {
	net_size || return
	local cache=$STATE/kernels/$NET_KEY/size.json inode
	rm -f "$cache"
	req GET /api/v1/images/net/size
	expect_status 200
	[[ -f $cache ]] || { fail "no $cache"; return; }
	expect_eq "$(jq -r '"\(.format) \(.kernel_key) \(.symbols | length)"' "$cache")" "1 $NET_KEY 200" "size.json"
	inode=$(stat -c %i "$cache")
	req GET /api/v1/images/net/size?top=3
	expect_status 200
	expect_eq "$(stat -c %i "$cache")" "$inode" "size.json rewritten by a cached request"
	expect_eq "$(ls "$STATE/kernels/$NET_KEY" | grep -c '\.tmp\.')" 0 "temp files left"
}

test_06_cli_tables() {
	net_size || return
	local out=$T/cli.out rc=0
	cli size net --top 5 > "$out" 2> "$T/cli.err" || rc=$?
	expect_eq "$rc" 0 "tinyboot size net exit code ($(cat "$T/cli.err"))"
	grep -q '^sizes: bzImage [0-9]* *initrd [0-9]* *busybox [0-9]* *vmlinux [0-9]*$' "$out" || fail "no sizes line"
	grep -q '^section  *size  flags  *group$' "$out" || fail "no sections table header"
	grep -qE '^\.text +[1-9][0-9]* +AX +text$' "$out" || fail "no .text row"
	grep -q '^largest 5 of [0-9]* symbols$' "$out" || fail "no symbols table"
	expect_eq "$(sed -n '/^largest/,/^$/p' "$out" | grep -cE '^ *[0-9]+  (func|object) ')" 5 "symbol rows"
	grep -q 'net has no extra fragments' "$out" || fail "no note on fragments"
	cli size net --json > "$out" || fail "--json exit code"
	expect_eq "$(jq -r '"\(.variant) \(.symbols | length)"' "$out")" "net 20" "--json"
	rc=0
	cli size nope > "$out" 2> "$T/cli.err" || rc=$?
	[[ $rc -ne 0 ]] || fail "unknown variant exits 0"
	grep -q "unknown recipe 'nope'" "$T/cli.err" || fail "stderr: $(cat "$T/cli.err")"
	rc=0
	cli size net --top x > /dev/null 2>&1 || rc=$?
	expect_eq "$rc" 2 "--top x exit code"
}

# The size targets of the shipped images (issue: busybox <= 300 KB, initramfs <= 200 KB,
# bzImage <= 1.0 MB); a regression fails here with the figure.
SIZE_BUSYBOX_MAX=300000
SIZE_INITRD_MAX=200000
SIZE_KERNEL_MAX=1000000

# Every shipped image builds busybox against musl (net32 with musl-dev:i386), so each one is held
# to the busybox, initramfs and kernel targets.
test_07_shipped_images_meet_the_size_targets() {
	net_daemon || return
	local v m
	for v in net net32; do
		req GET "/images/$v/manifest.json?wait=1" --max-time "$BUILD_WAIT"
		[[ $STATUS == 200 ]] || { fail "$v: status $STATUS ($(head -c 200 "$T/body"))"; continue; }
		m=$T/manifest-$v.json
		cp "$T/body" "$m"
		expect_eq "$(jq -r .libc "$m")" musl "$v libc"
		(( $(jq .sizes.bzImage "$m") <= SIZE_KERNEL_MAX )) ||
			fail "$v: bzImage is $(jq .sizes.bzImage "$m") B, target $SIZE_KERNEL_MAX"
		(( $(jq .sizes.busybox "$m") <= SIZE_BUSYBOX_MAX )) ||
			fail "$v: busybox is $(jq .sizes.busybox "$m") B, target $SIZE_BUSYBOX_MAX"
		(( $(jq .sizes.initrd "$m") <= SIZE_INITRD_MAX )) ||
			fail "$v: initramfs is $(jq .sizes.initrd "$m") B, target $SIZE_INITRD_MAX"
	done
}

# libc = glibc stays a recipe option though no shipped recipe uses it: net32 with glibc builds
# (its kernel is net32's, from the memo) a static 32-bit glibc busybox that runs on the host.
test_08_glibc_recipe_still_builds() {
	local m bb musl_bb out rc=0
	# the musl busybox to compare with: net32 as shipped (test_07 builds it; a no-op then)
	net_daemon || return
	req GET "/images/net32/manifest.json?wait=1" --max-time "$BUILD_WAIT"
	[[ $STATUS == 200 ]] || { fail "net32: status $STATUS ($(head -c 200 "$T/body"))"; return; }
	cp "$T/body" "$T/musl-net32.json"
	mkdir -p "$T/recipes-glibc"
	sed 's/^libc = musl$/libc = glibc/' "$ROOT/images/net32.image" > "$T/recipes-glibc/net32-glibc.image"
	tb_use --state "$STATE" --recipes "$T/recipes-glibc" --kernel-config "$ROOT/kernel-config" \
		--rootfs "$ROOT/rootfs" --sources "$ROOT/etc/sources.conf" || return
	req GET "/images/net32-glibc/manifest.json?wait=1" --max-time "$BUILD_WAIT"
	expect_status 200
	m=$T/glibc.json
	cp "$T/body" "$m"
	expect_eq "$(jq -r .libc "$m")" glibc libc
	bb=$STATE/busybox/$(jq -r .busybox_key "$m")/busybox
	file "$bb" | grep -q 'ELF 32-bit LSB executable, Intel 80386.*statically linked' ||
		fail "busybox: $(file "$bb")"
	out=$("$bb" echo glibc busybox runs 2>&1) || rc=$?
	# 126: a host kernel without IA32 emulation cannot execute it (rootfs/busybox/README.md), which is no failure
	[[ $rc -eq 126 ]] || expect_eq "$out" "glibc busybox runs" "running it (exit $rc)"
	# glibc's static busybox is several times musl's (README, "Sizes")
	musl_bb=$(jq .sizes.busybox "$T/musl-net32.json" 2>/dev/null || echo 0)
	(( $(jq .sizes.busybox "$m") > musl_bb )) || fail "glibc busybox $(jq .sizes.busybox "$m") B, musl $musl_bb B"
	tb_stop
	net_daemon
}

# ---- a throw-away state: nothing built until the tests publish it ----

test_10_not_built_is_409_and_builds_nothing() {
	local id rc=0
	fake_daemon || return
	req GET /api/v1/images/net+debug/size
	expect_status 409
	id=$(sed -n "$ID_RE" "$T/body")
	expect_body "409 Conflict: net+debug has not been built (build $id); POST /api/v1/builds {\"variant\": \"net+debug\"} builds it\n"
	req GET "/api/v1/builds/$id"
	expect_status 404 # the GET started nothing
	cli size net+debug > /dev/null 2> "$T/cli.err" || rc=$?
	expect_eq "$rc" 1 "CLI exit code for a variant not built"
	grep -q -- 'net+debug --build' "$T/cli.err" || fail "no --build hint: $(cat "$T/cli.err")"
}

test_11_fragment_deltas() {
	local rc=0 out=$T/cli.out
	fake_daemon || return
	# two different real ELF files with symbols: the CLI for the recipe, the daemon for the rest
	fake_built "$T/fake" net "$TINYBOOT_CLI" 1000000 || return
	fake_built "$T/fake" net+debug "$TINYBOOTD" 1100000 || return
	fake_built "$T/fake" net+debug+rtl8139 "$TINYBOOTD" 1250000 || return
	req GET /api/v1/images/net+rtl8139+debug/size
	expect_status 200
	cp "$T/body" "$T/both.json"
	expect_eq "$(jq -r .variant "$T/both.json")" net+debug+rtl8139 "normalised variant"
	req GET /api/v1/images/net/size
	cp "$T/body" "$T/net-fake.json"
	req GET /api/v1/images/net+debug/size
	cp "$T/body" "$T/debug.json"
	expect_eq "$(jq -c '.fragments | map(.fragment)' "$T/both.json")" '["debug","rtl8139"]' "fragments"
	expect_eq "$(jq -r '.fragments[0] | "\(.state) \(.variant) \(.base) \(.delta.bzImage)"' "$T/both.json")" \
		"built net+debug net 100000" "debug entry"
	# each delta is the difference of the two builds' own answers
	expect_eq "$(jq -c '.fragments[0].delta | [.text, .rodata, .data, .bss, .vmlinux]' "$T/both.json")" \
		"$(jq -cs '[.[0].totals.text - .[1].totals.text, .[0].totals.rodata - .[1].totals.rodata,
			    .[0].totals.data - .[1].totals.data, .[0].totals.bss - .[1].totals.bss,
			    .[0].sizes.vmlinux - .[1].sizes.vmlinux]' "$T/debug.json" "$T/net-fake.json")" "debug delta"
	expect_eq "$(jq -c '.fragments[1] | [.state, .variant, .missing]' "$T/both.json")" \
		'["not built","net+rtl8139",["net+rtl8139"]]' "rtl8139 entry"
	jq -e '.fragments[1] | has("delta") | not' "$T/both.json" > /dev/null || fail "invented a delta"
	expect_eq "$(jq -r '.total | "\(.state) \(.variant) \(.base) \(.delta.bzImage)"' "$T/both.json")" \
		"built net+debug+rtl8139 net 250000" "total entry"
	expect_eq "$(jq -c '.fragments, .total' "$T/net-fake.json" | tr '\n' ' ')" '[] null ' "plain recipe"
	# the CLI shows what it has, names what is missing, and fails
	cli size net+debug+rtl8139 > "$out" 2> "$T/cli.err" || rc=$?
	expect_eq "$rc" 1 "CLI exit code with a base missing"
	grep -qE '^\+debug +net +\+100000 ' "$out" || fail "no +debug row: $(grep debug "$out")"
	grep -qE '^\+rtl8139 +net +not built: net\+rtl8139$' "$out" || fail "no rtl8139 row: $(grep rtl "$out")"
	grep -qE '^all fragments +net +\+250000 ' "$out" || fail "no total row"
	grep -q 'not built, so some deltas are missing: \["net+rtl8139"\]; --build builds them' "$T/cli.err" ||
		fail "stderr: $(cat "$T/cli.err")"
}

test_12_broken_vmlinux_is_a_clean_500() {
	local tiny_key
	fake_daemon || return
	printf 'not an ELF file at all\n' > "$T/garbage"
	head -c 200000 "$TINYBOOTD" > "$T/truncated"
	fake_built "$T/fake" tiny "$T/garbage" 5000 || return
	tiny_key=$FAKE_KEY
	req GET /api/v1/images/tiny/size
	expect_status 500
	expect_body "500 Internal Server Error: $T/fake/kernels/$tiny_key/vmlinux: not an ELF file\n"
	[[ ! -e $T/fake/kernels/$tiny_key/size.json ]] || fail "size.json written for a broken vmlinux"
	fake_built "$T/fake" net32 "$T/truncated" 5000 || return
	req GET /api/v1/images/net32/size
	expect_status 500
	grep -q "vmlinux: corrupt ELF file: no section header table, or one past the end of the file" "$T/body" ||
		fail "truncated: $(cat "$T/body")"
	if command -v strip > /dev/null; then
		strip -o "$T/stripped" "$TINYBOOT_CLI"
		fake_built "$T/fake" tiny+debug "$T/stripped" 5000 || return
		req GET /api/v1/images/tiny+debug/size
		expect_status 500
		grep -q 'vmlinux: no .symtab (the file is stripped)' "$T/body" || fail "stripped: $(cat "$T/body")"
	fi
	# a broken base shows up in the delta entry, not as a failed request
	fake_built "$T/fake" tiny+rtl8139 "$TINYBOOTD" 6000 || return
	req GET /api/v1/images/tiny+rtl8139/size?top=1
	expect_status 200
	expect_eq "$(jq -r '.fragments[0].state' "$T/body")" error "entry state"
	jq -e '.fragments[0].error | test("vmlinux: not an ELF file$")' "$T/body" > /dev/null ||
		fail "entry error: $(jq -c .fragments[0] "$T/body")"
	req GET /healthz
	expect_status 200
}

test_13_concurrent_first_requests() {
	local key i pids=()
	fake_daemon || return
	fake_built "$T/fake" net+rtl8139 "$TINYBOOTD" 1100000 || return
	key=$FAKE_KEY
	for i in $(seq 20); do
		curl -s -o "$T/par.$i" -w '%{http_code}\n' "$TB_URL/api/v1/images/net+rtl8139/size" > "$T/par.$i.status" &
		pids+=($!)
	done
	wait "${pids[@]}" # not a bare wait: the daemon is a child too
	for i in $(seq 20); do
		expect_eq "$(cat "$T/par.$i.status")" 200 "request $i"
	done
	expect_eq "$(jq -r .kernel_key "$T/fake/kernels/$key/size.json")" "$key" "size.json after 20 racing writers"
	expect_eq "$(ls "$T/fake/kernels/$key" | grep -c '\.tmp\.')" 0 "temp files left"
}

test_14_cli_build_asks_the_build_api() {
	local rc=0 id
	# sources whose kernel tarball fails its checksum: the build fails at once, nothing compiles
	mkdir -p "$T/fake-src/linux-x"
	echo 'not a kernel' > "$T/fake-src/linux-x/README"
	tar -C "$T/fake-src" -czf "$T/fake-linux.tar.gz" linux-x
	printf '[linux-6.1-debian]\nsha256 = %064d\nurl = file://%s\nstrip = linux-x\n\n[busybox-1.35.0]\nsha256 = %064d\nurl = file://%s\nstrip = linux-x\n' \
		0 "$T/fake-linux.tar.gz" 1 "$T/fake-linux.tar.gz" > "$T/broken-sources.conf"
	tb_use --state "$T/state-broken" --recipes "$ROOT/images" --kernel-config "$ROOT/kernel-config" \
		--rootfs "$ROOT/rootfs" --sources "$T/broken-sources.conf" || return
	req GET /api/v1/images/net/size
	id=$(sed -n "$ID_RE" "$T/body")
	timeout 120 "$TINYBOOT_CLI" --server "$TB_URL" size net --build > /dev/null 2> "$T/cli.err" || rc=$?
	expect_eq "$rc" 1 "exit code when the build fails"
	grep -q 'build of net failed' "$T/cli.err" || fail "stderr: $(cat "$T/cli.err")"
	req GET "/api/v1/builds/$id"
	expect_status 200
	expect_eq "$(jq -r .state "$T/body")" failed "the build --build asked for"
}

run_tests
status=$?
CURRENT_FAILED=0
[[ -z ${TB_PID:-} ]] || tb_stop # the daemon the last test used
[[ $CURRENT_FAILED -eq 0 ]] || { echo "test_size.sh: daemon shutdown failed"; echo "test_size.sh: $TESTS_PASSED passed, $((TESTS_FAILED + 1)) failed"; exit 1; }
exit $status
