#!/bin/bash
# test_keymemo.sh - the daemon remembers each variant's build id between requests (keymemo.c),
# yet the very next request after an edit of any input (a kernel-config fragment, a recipe, an
# overlay file in a directory made after start, sources.conf) names the new id: no sleep, no
# SIGHUP. Guards the semantics the memo must keep; it passes on code without the memo too.
source "$(dirname "$0")/../lib.sh"

ART=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa

# copies of the shipped inputs, which the tests edit
mkdir -p "$T/in"
cp -r "$ROOT/images" "$ROOT/kernel-config" "$ROOT/rootfs" "$T/in/"
# builds fail at once: connection refused
cat > "$T/in/sources.conf" <<CONF
[linux-6.1-debian]
sha256 = 0000000000000000000000000000000000000000000000000000000000000001
url = http://127.0.0.1:1/linux.tar.xz
strip = linux-source-6.1

[busybox-1.35.0]
sha256 = 0000000000000000000000000000000000000000000000000000000000000002
url = http://127.0.0.1:1/busybox.tar.bz2
strip = busybox-1.35.0
CONF

printf 'default  variant=net\n' > "$T/machines.conf"

# km_start [STATE]
km_start() {
	tb_use --state "$T/${1:-state}" --recipes "$T/in/images" --kernel-config "$T/in/kernel-config" \
		--rootfs "$T/in/rootfs" --sources "$T/in/sources.conf" --machines "$T/machines.conf"
}

# build_id VARIANT: the build id the daemon names for an unbuilt VARIANT (empty if none)
build_id() {
	req GET "/api/v1/images/$1/size"
	grep -o '[0-9a-f]\{64\}' "$T/body" | head -1
}

# same_then_new EDIT...: the id of net twice (the same), EDIT, then at once a different id
same_then_new() {
	local a b c
	a=$(build_id net)
	b=$(build_id net)
	[[ -n $a ]] || { fail "no build id in '$(cat "$T/body")'"; return 1; }
	expect_eq "$b" "$a" "the id asked again"
	"$@"
	c=$(build_id net)
	[[ -n $c && $c != "$a" ]] || fail "after '$*': id '$c', want a new one (was $a)"
}

test_fragment_edit() {
	km_start || return
	same_then_new sh -c "echo '# edited' >> '$T/in/kernel-config/net.config'"
	# an extra fragment of the variant name
	local a b
	a=$(build_id net+debug)
	printf '# edited\n' >> "$T/in/kernel-config/debug.config"
	b=$(build_id net+debug)
	[[ -n $a && -n $b && $a != "$b" ]] || fail "net+debug: '$a' then '$b'"
	# a patch, renamed over
	local p
	p=$(ls "$T/in/kernel-config/patches/" | head -1)
	same_then_new sh -c "cp '$T/in/kernel-config/patches/$p' '$T/p.tmp' && echo >> '$T/p.tmp' && mv '$T/p.tmp' '$T/in/kernel-config/patches/$p'"
}

test_recipe_edit() {
	km_start || return
	same_then_new sed -i 's/noapictimer/noapictimer loglevel=3/' "$T/in/images/net.image"
}

test_overlay_in_new_subdirectory() {
	km_start || return
	same_then_new mkdir -p "$T/in/rootfs/net/etc/km-new"
	same_then_new sh -c "echo one > '$T/in/rootfs/net/etc/km-new/file'"
	# made and filled between two requests
	same_then_new sh -c "mkdir -p '$T/in/rootfs/net/km2/deeper' && echo two > '$T/in/rootfs/net/km2/deeper/file'"
	same_then_new sh -c "echo three > '$T/in/rootfs/net/km2/deeper/file'"
	same_then_new chmod 0600 "$T/in/rootfs/net/km2/deeper/file"
}

test_sources_edit() {
	km_start || return
	same_then_new sed -i 's/^sha256 = 0*1$/sha256 = 0000000000000000000000000000000000000000000000000000000000000003/' \
		"$T/in/sources.conf"
}

# A machine's script names the artifact while the variant is built, and not a moment after a
# fragment changes (its build id has no artifact).
test_ipxe_after_edit() {
	km_start state-ipxe || return
	tb_fake_build "$T/state-ipxe" net "$ART" || return
	req GET '/ipxe?mac=52:54:00:00:4b:01'
	expect_status 200
	grep -q "/artifacts/$ART/" "$T/body" || fail "script names no artifact: $(head -c 300 "$T/body")"
	req GET '/ipxe?mac=52:54:00:00:4b:02'
	grep -q "/artifacts/$ART/" "$T/body" || fail "second script names no artifact: $(head -c 300 "$T/body")"
	printf '# edited\n' >> "$T/in/kernel-config/e1000.config"
	req GET '/ipxe?mac=52:54:00:00:4b:03'
	grep -q "/artifacts/$ART/" "$T/body" && fail "script after the edit still names $ART"
	# the new id remembered unbuilt (by /size), then a script that queues its build
	printf '# edited again\n' >> "$T/in/kernel-config/e1000.config"
	local id
	id=$(build_id net)
	req GET '/ipxe?mac=52:54:00:00:4b:04'
	grep -q "/artifacts/$ART/" "$T/body" && fail "script after the second edit still names $ART"
	expect_status 200
	req GET "/api/v1/builds/$id"
	expect_status 200 # the script queued the build of the remembered id (it fails: no sources)
	expect_eq "$(jq -r .id "$T/body")" "$id" "queued build"
	TB_FAKE_IDS=()
	tb_stop
}

run_tests
