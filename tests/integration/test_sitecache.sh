#!/bin/bash
# test_sitecache.sh - issue 13's site caches: with artifact-base-url, per-machine scripts send
# kernel and initrd through etc/nginx-site-cache.conf run by a real nginx (checked with nginx -t),
# the bytes are exact, a miss then a hit, and a second machine boots from the cache while
# tinybootd cannot serve the files; its script and report still go to tinybootd.
# No kernel is built: the state directory is private, every source URL points nowhere, and the
# built variant is faked (an index entry and an artifact of random bytes), as test_hostile_misc does.
source "$(dirname "$0")/../lib.sh"

NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
ART=5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c
MAC_A=52:54:00:00:13:0a
MAC_B=52:54:00:00:13:0b
mkdir -p "$T/recipes" "$T/kconfig" "$T/state/sources"
cp "$ROOT"/images/*.image "$T/recipes/"
cp -r "$ROOT"/kernel-config/. "$T/kconfig/"
# the real recipes' sources, but every URL points nowhere: a build that starts fails at its fetch
sed 's|^url = .*|url = file:///nonexistent/tinyboot-test/source.tar.xz|' "$ROOT/etc/sources.conf" > "$T/sources.conf"
cat > "$T/machines.conf" <<CONF
$MAC_A  name=site-a  variant=net ip=10.0.2.15/24 gw=10.0.2.2
$MAC_B  name=site-b  variant=net ip=10.0.2.15/24 gw=10.0.2.2
CONF
head -c 300000 /dev/urandom > "$T/bzImage"
head -c 150000 /dev/urandom > "$T/initrd"

sc_start_tb() {
	tb_start --recipes "$T/recipes" --kernel-config "$T/kconfig" --rootfs "$ROOT/rootfs" \
		--sources "$T/sources.conf" --machines "$T/machines.conf" --artifact-base-url "$CACHE_URL" "$@"
}

# Fake the built net variant with this test's kernel and initrd.
sc_fake_build() { tb_fake_build "$T/state" net "$ART" "$T/bzImage" "$T/initrd"; }

# sc_start_nginx DIR: the shipped config, pointed at this tinybootd, $CACHE_PORT and DIR: only
# the lines that name a place change; every caching line is tested as shipped. nginx runs as root
# here (its workers must reach $T, which is 0700) and in the foreground, owned by this test.
sc_start_nginx() {
	local d=$1
	mkdir -p "$d/cache" "$d/tmp"
	sed -e "s|server tinyboot.lab.example:8080;|server $TB;|" \
		-e "s|listen 8080;|listen 127.0.0.1:$CACHE_PORT;|" -e '/listen \[::\]:8080;/d' \
		-e "s|/var/cache/nginx/tinyboot|$d/cache|" \
		-e "s|/var/log/nginx/tinyboot-cache.log|$d/access.log|" \
		"$ROOT/etc/nginx-site-cache.conf" > "$d/site-cache.conf"
	cat > "$d/nginx.conf" <<CONF
user root;
worker_processes 1;
error_log $d/error.log info;
events { worker_connections 64; }
http {
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    include $d/site-cache.conf;
}
CONF
	"$NGINX" -t -q -e "$d/error.log" -p "$d" -c "$d/nginx.conf" -g "pid $d/nginx.pid;" 2> "$d/t.out" ||
		{ fail "nginx -t refuses the config: $(cat "$d/t.out")"; return 1; }
	"$NGINX" -e "$d/error.log" -p "$d" -c "$d/nginx.conf" -g "daemon off; pid $d/nginx.pid;" > "$d/out" 2>&1 &
	NGINX_PID=$!
	own_pid "$NGINX_PID"
	wait_until 10 curl -s -o /dev/null "http://127.0.0.1:$CACHE_PORT/" ||
		{ fail "nginx did not answer: $(tail -5 "$d/error.log")"; return 1; }
}

sc_stop_nginx() {
	daemon_kill "$NGINX_PID" 5
	grep -E '\[(alert|emerg|crit)\]' "$1/error.log" && fail "nginx complained"
	return 0
}

# cache_get URL FILE: fetch URL through the cache into FILE; prints the X-Cache-Status.
cache_get() {
	local status
	status=$(curl -s --max-time 10 -o "$2" -D "$T/cache.headers" -w '%{http_code}' "$1") || true
	[[ $status == 200 ]] || fail "GET $1 through the cache: $status ($(head -c 200 "$2"))"
	tr -d '\r' < "$T/cache.headers" | sed -n 's/^[Xx]-[Cc]ache-[Ss]tatus: //p'
}

# The URL after "kernel " or "initrd --name initrd " in a script.
script_url() { awk -v w="$1" '$1 == w { print ($2 == "--name" ? $4 : $2) }' "$2"; }
machine_json() { curl -s --max-time 5 "$TB_URL/api/v1/machines" | jq ".\"$1\""; }
report_json() {
	printf '{"id":"%s","boot":"%s","kernel":"6.1.0","arch":"x86_64","ok":true,"uptime":{"net":1.5,"report":3.25},"addresses":[],"payloads":[]}' "$1" "$2"
}

CACHE_PORT=$(free_port)
CACHE_URL=http://127.0.0.1:$CACHE_PORT

test_bad_artifact_base_urls_are_refused() {
	local u out
	for u in 'ftp://cache' 'http://' 'http://cache/' 'http://cache/x?y=1' 'http://cache/#f' \
		'http://u@cache' 'http://a b' 'http://cache:99999' 'http://-cache' 'http://cache/${x}' \
		'http://cache/a;b' $'http://cache/a\nchain' 'http://[::1' 'http://cache/a+b'; do
		out=$("$TINYBOOTD" -n --state "$T/check-state" --artifact-base-url "$u" 2>&1) &&
			fail "artifact-base-url '$u' taken: $out"
		grep -q 'artifact-base-url: want http:// or https://' <<<"$out" || fail "'$u': $out"
	done
	for u in 'http://cache.lab:3128' 'https://[::1]:8443/tinyboot' 'http://10.1.2.3/a/b_c-d.e'; do
		out=$("$TINYBOOTD" -n --state "$T/check-state" --artifact-base-url "$u" 2>&1) ||
			fail "artifact-base-url '$u' refused: $out"
	done
}

# The option is read from the file and a SIGHUP changes it; a bad value is refused and the old
# one kept; without it, scripts name tinybootd for everything again.
test_cache_url_follows_reload() {
	local t0 base=/artifacts/$ART/bzImage?boot=
	echo 'artifact-base-url = http://cache-one.lab:3128' > "$T/cache.conf"
	tb_start --recipes "$T/recipes" --kernel-config "$T/kconfig" --rootfs "$ROOT/rootfs" \
		--sources "$T/sources.conf" --machines "$T/machines.conf" --config "$T/cache.conf" || return
	sc_fake_build || { tb_stop; return; }
	req GET "/ipxe?mac=${MAC_B//:/-}&platform=pcbios"
	[[ $(script_url kernel "$T/body") == "http://cache-one.lab:3128$base"* ]] || fail "from the file: $(cat "$T/body")"
	echo 'artifact-base-url = https://cache-two.lab/tinyboot' > "$T/cache.conf"
	t0=$(grep -c 'configuration reloaded' "$TB_LOG")
	kill -HUP "$TB_PID"
	wait_until 30 test "$(grep -c 'configuration reloaded' "$TB_LOG")" -gt "$t0" || fail "no reload"
	req GET "/ipxe?mac=${MAC_B//:/-}&platform=pcbios"
	[[ $(script_url kernel "$T/body") == "https://cache-two.lab/tinyboot$base"* ]] || fail "after SIGHUP: $(cat "$T/body")"
	echo 'artifact-base-url = https://cache-two.lab/x?y' > "$T/cache.conf"
	kill -HUP "$TB_PID"
	wait_until 30 grep -q "reload: $T/cache.conf:1: artifact-base-url: want http" "$TB_LOG" ||
		fail "bad value not reported: $(tail -3 "$TB_LOG")"
	req GET "/ipxe?mac=${MAC_B//:/-}&platform=pcbios"
	[[ $(script_url kernel "$T/body") == "https://cache-two.lab/tinyboot$base"* ]] || fail "after a bad value: $(cat "$T/body")"
	: > "$T/cache.conf"
	t0=$(grep -c 'configuration reloaded' "$TB_LOG")
	kill -HUP "$TB_PID"
	wait_until 30 test "$(grep -c 'configuration reloaded' "$TB_LOG")" -gt "$t0" || fail "no reload"
	req GET "/ipxe?mac=${MAC_B//:/-}&platform=pcbios"
	[[ $(script_url kernel "$T/body") == "$TB_URL$base"* ]] || fail "without the option: $(cat "$T/body")"
	tb_stop
}

# (1) machine A: its script names the cache for kernel and initrd and tinybootd for the rest;
# the first fetch through nginx is a MISS that reaches tinybootd with A's token, the second a
# HIT, the bytes exact both times.
test_machine_a_boots_through_the_cache() {
	local k i token
	sc_start_tb || return
	sc_fake_build || return
	sc_start_nginx "$T/nginx" || return
	req GET "/ipxe?mac=${MAC_A//:/-}&platform=pcbios&buildarch=x86_64"
	expect_status 200
	cp "$T/body" "$T/script-a"
	token=$(grep -o 'tinyboot.boot=[0-9a-f]*' "$T/script-a" | cut -d= -f2)
	k=$(script_url kernel "$T/script-a")
	i=$(script_url initrd "$T/script-a")
	expect_eq "$k" "$CACHE_URL/artifacts/$ART/bzImage?boot=$token" "A's kernel URL"
	expect_eq "$i" "$CACHE_URL/artifacts/$ART/initrd?boot=$token" "A's initrd URL"
	grep -q " tinyboot.server=$TB_URL " "$T/script-a" || fail "A's server is not tinybootd: $(cat "$T/script-a")"
	expect_eq "$(cache_get "$k" "$T/a.kernel")" MISS "first kernel fetch"
	cmp -s "$T/a.kernel" "$T/bzImage" || fail "kernel through the cache differs"
	expect_eq "$(cache_get "$i" "$T/a.initrd")" MISS "first initrd fetch"
	cmp -s "$T/a.initrd" "$T/initrd" || fail "initrd through the cache differs"
	expect_eq "$(cache_get "$k" "$T/a.kernel2")" HIT "second kernel fetch"
	cmp -s "$T/a.kernel2" "$T/bzImage" || fail "cached kernel differs"
	expect_eq "$(cache_get "$i" "$T/a.initrd2")" HIT "second initrd fetch"
	cmp -s "$T/a.initrd2" "$T/initrd" || fail "cached initrd differs"
	# the misses reached tinybootd with the token, the hits did not
	expect_eq "$(machine_json site-a | jq -r '[.events[].state] | join(",")')" \
		"boot created,script served,kernel sent,initrd sent" "A's events"
	expect_eq "$(grep -c "GET /artifacts/$ART/.*cache_status=MISS" "$T/nginx/access.log")" 2 "MISS lines in nginx's log"
	expect_eq "$(grep -c "GET /artifacts/$ART/.*cache_status=HIT" "$T/nginx/access.log")" 2 "HIT lines in nginx's log"
	# the cache serves artifacts only
	expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$CACHE_URL/ipxe?mac=${MAC_A//:/-}")" 404 "/ipxe at the cache"
	# the API answer names the cache too, and keeps its paths on tinybootd
	req POST /api/v1/boots -d "{\"mac\": \"$MAC_A\", \"server\": \"http://10.0.2.2:8080\"}"
	expect_status 201
	token=$(jq -r .boot "$T/body")
	expect_eq "$(jq -r .kernel "$T/body")" "/artifacts/$ART/bzImage?boot=$token" "API kernel"
	expect_eq "$(jq -r .kernel_url "$T/body")" "$CACHE_URL/artifacts/$ART/bzImage?boot=$token" "API kernel_url"
	expect_eq "$(jq -r .initrd_url "$T/body")" "$CACHE_URL/artifacts/$ART/initrd?boot=$token" "API initrd_url"
}

# (2) machine B: tinybootd's artifact files are replaced by directories, so tinybootd answers
# 404 for them (the index still names the artifact: the variant is still built); B's script
# still names the cache, its kernel and initrd come from it (HIT) byte-exact, and its script and
# report go to tinybootd: the timeline ends in the report.
test_machine_b_boots_from_the_cache_while_tinybootd_cannot_serve() {
	local k i token name
	[[ -n ${NGINX_PID:-} ]] && daemon_alive "$NGINX_PID" || { fail "needs the cache of the test before"; return; }
	for name in bzImage initrd; do
		mv "$T/state/artifacts/$ART/$name" "$T/$name.away" && mkdir "$T/state/artifacts/$ART/$name"
		req GET "/artifacts/$ART/$name"
		expect_status 404
	done
	req GET "/ipxe?mac=${MAC_B//:/-}&platform=pcbios&buildarch=x86_64"
	expect_status 200
	cp "$T/body" "$T/script-b"
	token=$(grep -o 'tinyboot.boot=[0-9a-f]*' "$T/script-b" | cut -d= -f2)
	k=$(script_url kernel "$T/script-b")
	i=$(script_url initrd "$T/script-b")
	expect_eq "$k" "$CACHE_URL/artifacts/$ART/bzImage?boot=$token" "B's kernel URL"
	expect_eq "$i" "$CACHE_URL/artifacts/$ART/initrd?boot=$token" "B's initrd URL"
	grep -q " tinyboot.server=$TB_URL " "$T/script-b" || fail "B's server is not tinybootd: $(cat "$T/script-b")"
	expect_eq "$(cache_get "$k" "$T/b.kernel")" HIT "B's kernel fetch"
	cmp -s "$T/b.kernel" "$T/bzImage" || fail "B's kernel from the cache differs"
	expect_eq "$(cache_get "$i" "$T/b.initrd")" HIT "B's initrd fetch"
	cmp -s "$T/b.initrd" "$T/initrd" || fail "B's initrd from the cache differs"
	req POST /api/v1/reports -H 'Content-Type: application/json' --data-binary "$(report_json site-b "$token")"
	expect_status 201
	expect_eq "$(machine_json site-b | jq -r '[.events[].state] | join(",")')" \
		"boot created,script served,report: payloads ok" "B's events"
	expect_eq "$(machine_json site-b | jq -r .result)" ok "B's result"
	for name in bzImage initrd; do
		rmdir "$T/state/artifacts/$ART/$name" && mv "$T/$name.away" "$T/state/artifacts/$ART/$name"
	done
}

# A variant still building: the script keeps tinybootd's stable /images/ URL, not the cache.
test_unbuilt_variant_is_fetched_from_tinybootd() {
	local k
	[[ -n ${NGINX_PID:-} && -z ${TB_STOPPED:-} ]] && daemon_alive "$TB_PID" ||
		{ fail "needs the daemon and cache of the tests before"; return; }
	rm -rf "$T/state/index"
	req GET "/ipxe?mac=${MAC_B//:/-}&platform=pcbios&buildarch=x86_64"
	expect_status 200
	k=$(script_url kernel "$T/body")
	[[ $k == "$TB_URL/images/net/bzImage?boot="* ]] || fail "kernel of an unbuilt variant: '$k'"
	tb_stop
	sc_stop_nginx "$T/nginx"
}

# Real guests: QEMU (TCG) iPXE boots machine A through the nginx cache (a MISS that reaches
# tinybootd), then machine B (a HIT: tinybootd sees no download); both timelines end in their
# reports. The built net variant comes from the shared build cache (as test_boot's), which this
# waits for like test_boot does; the guest reaches nginx and tinybootd at 10.0.2.2.
CACHE=${TINYBOOT_CACHE:-/var/cache/tinyboot}
BUILD_WAIT=${BUILD_WAIT:-2700}
vm_boot() { # vm_boot NAME MAC: tinyboot boot net --ipxe; sets BOOT_RC
	BOOT_RC=0
	timeout 600 "$TINYBOOT_CLI" --server "$TB_URL" boot net --ipxe --nic virtio --mac "$2" \
		> "$T/$1.console" 2>&1 || BOOT_RC=$?
}

test_vm_boots_through_the_cache() {
	local m name mac
	CACHE_PORT=$(free_port)
	mkdir -p "$CACHE/test-state"
	tb_start --state "$CACHE/test-state" --recipes "$ROOT/images" --kernel-config "$ROOT/kernel-config" \
		--rootfs "$ROOT/rootfs" --sources "$ROOT/etc/sources.conf" --machines "$T/machines.conf" \
		--report-timeout 60 --artifact-base-url "http://10.0.2.2:$CACHE_PORT" || return
	req GET "/images/net/bzImage?wait=1" --max-time "$BUILD_WAIT"
	expect_status 200
	sc_start_nginx "$T/vm-nginx" || { tb_stop; return; }
	for name in site-a site-b; do
		[[ $name == site-a ]] && mac=$MAC_A || mac=$MAC_B
		vm_boot "$name" "$mac"
		expect_eq "$BOOT_RC" 0 "$name: tinyboot boot --ipxe exit code ($(tail -c 300 "$T/$name.console"))"
		m=$(machine_json "$name")
		expect_eq "$(jq -r .result <<<"$m")" ok "$name result"
		expect_eq "$(jq -r '.events[-1].state' <<<"$m")" "report: payloads ok" "$name last state"
	done
	# A's downloads missed and reached tinybootd with its token; B's were hits and did not
	expect_eq "$(machine_json site-a | jq -r '[.events[].state] | join(",")')" \
		"boot created,script served,kernel sent,initrd sent,report: payloads ok" "A's events"
	expect_eq "$(machine_json site-b | jq -r '[.events[].state] | join(",")')" \
		"boot created,script served,report: payloads ok" "B's events"
	expect_eq "$(grep -c 'GET /artifacts/.*cache_status=MISS' "$T/vm-nginx/access.log")" 2 "misses"
	expect_eq "$(grep -c 'GET /artifacts/.*cache_status=HIT' "$T/vm-nginx/access.log")" 2 "hits"
	tb_stop
	sc_stop_nginx "$T/vm-nginx"
}

run_tests
