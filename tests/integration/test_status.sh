#!/bin/bash
# test_status.sh - the status page in a real browser: headless Chromium loads / from a running
# daemon with one built variant, one running build and two machines (one reported, one pending),
# runs the page's script against the JSON API, and the test asserts on the DOM it dumps; it keeps
# a screenshot ($T/status.png, with KEEP_TEST_DIR=1). Also /api/v1/builds and /static/.
source "$(dirname "$0")/../lib.sh"

CACHE=${TINYBOOT_CACHE:-/var/cache/tinyboot}
STATE=$CACHE/test-state # the built images, shared with test_boot
BUILD_WAIT=${BUILD_WAIT:-2700}
CHROMIUM=${CHROMIUM:-chromium}

# A source server that never finishes (slow-source.pl): a build of a recipe that names it stays
# in its "kernel source" step, running, for as long as the test needs.
perl "$ROOT/tests/integration/slow-source.pl" --parallel "$T/slow.port" 600 2> "$T/slow.log" &
SLOW_PID=$!
own_pid "$SLOW_PID"
wait_until 10 test -s "$T/slow.port"
SLOW_PORT=$(cat "$T/slow.port")

mkdir -p "$T/recipes"
cp "$ROOT"/images/*.image "$T/recipes/"
sed -e 's/^kernel-source = .*/kernel-source = linux-slow/' \
	-e 's/^description = .*/description = a build that waits for its kernel source/' \
	"$ROOT/images/net.image" > "$T/recipes/slow.image"
{
	cat "$ROOT/etc/sources.conf"
	printf '\n[linux-slow]\nsha256 = %064d\nsize-max = 200M\nurl = http://127.0.0.1:%s/linux-slow.tar.xz\nstrip = linux\n' 0 "$SLOW_PORT"
} > "$T/sources.conf"
cat > "$T/machines.conf" <<CONF
52:54:00:00:51:01  name=rack-a  variant=net ip=10.0.2.15/24 gw=10.0.2.2 payloads=hello.txt
52:54:00:00:51:02  name=rack-b  variant=net ip=10.0.2.16/24 gw=10.0.2.2 payloads=hello.txt
CONF
mkdir -p "$T/payloads"
printf 'hello from the payload directory\n' > "$T/payloads/hello.txt"

status_daemon() {
	tb_use --state "$STATE" --recipes "$T/recipes" --kernel-config "$ROOT/kernel-config" \
		--rootfs "$ROOT/rootfs" --sources "$T/sources.conf" --machines "$T/machines.conf" \
		--www "$ROOT/www" --report-timeout 3600
}

# chromium_dom URL: the DOM after the page's script ran (virtual time lets its polls run)
chromium_dom() {
	timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
		--disable-dev-shm-usage --user-data-dir="$T/chromium" --virtual-time-budget=6000 \
		--window-size=1280,900 "$@" 2> "$T/chromium.log"
}

test_01_static_files() {
	status_daemon || return
	req GET /
	expect_status 200
	expect_eq "$(header Content-Type)" "text/html; charset=utf-8" "/ Content-Type"
	cmp -s "$T/body" "$ROOT/www/index.html" || fail "/ is not www/index.html"
	req GET /static/status.js
	expect_status 200
	expect_eq "$(header Content-Type)" "text/javascript; charset=utf-8" "status.js Content-Type"
	req GET /static/status.css
	expect_eq "$(header Content-Type)" "text/css; charset=utf-8" "status.css Content-Type"
	req GET /static/..%2findex.html
	expect_status 400
	req GET /static/nosuch.js
	expect_status 404
}

test_02_builds_list() {
	status_daemon || return
	req GET "/images/net/bzImage?wait=1" --max-time "$BUILD_WAIT"
	expect_status 200
	req POST /api/v1/builds -H 'Content-Type: application/json' -d '{"variant": "slow"}'
	[[ $STATUS == 20[02] ]] || fail "POST /api/v1/builds slow: $STATUS $(cat "$T/body")"
	wait_until 30 eval 'curl -s "$TB_URL/api/v1/builds" | jq -e ".builds[] | select(.variant == \"slow\" and .state == \"running\" and .step == \"kernel source\")" > /dev/null' ||
		fail "no running build of slow: $(curl -s "$TB_URL/api/v1/builds")"
	req GET /api/v1/builds
	expect_status 200
	jq -e '.builds | length >= 1' "$T/body" > /dev/null || fail "builds: $(cat "$T/body")"
	jq -e '.builds[0] | has("progress") and has("elapsed_s") and has("id")' "$T/body" > /dev/null ||
		fail "build fields: $(jq -c '.builds[0]' "$T/body")"
}

# Two machines: rack-a booted and reported (its payload ok), rack-b's boot is pending.
test_03_machines_for_the_page() {
	status_daemon || return
	local a b
	a=$(curl -s -d '{"mac": "52:54:00:00:51:01", "server": "http://10.0.2.2:8080"}' "$TB_URL/api/v1/boots")
	b=$(curl -s -d '{"mac": "52:54:00:00:51:02", "server": "http://10.0.2.2:8080"}' "$TB_URL/api/v1/boots")
	[[ $(jq -r .boot <<<"$a") =~ ^[0-9a-f]{32}$ && $(jq -r .boot <<<"$b") =~ ^[0-9a-f]{32}$ ]] ||
		{ fail "boots: $a $b"; return; }
	local sum report
	sum=$(sha256sum "$T/payloads/hello.txt" | cut -d' ' -f1)
	report=$(jq -nc --arg boot "$(jq -r .boot <<<"$a")" --arg sum "$sum" \
		'{id: "rack-a", boot: $boot, kernel: "6.1", arch: "x86_64", ok: true,
		  uptime: {net: 0.5, start: 0.4, payloads: 0.6, report: 0.7}, addresses: ["10.0.2.15/24"],
		  payloads: [{name: "hello.txt", size: 33, expected_size: 33, sha256: $sum,
		              expected_sha256: $sum, ok: true, start: 0.5, end: 0.6}]}')
	req POST /api/v1/reports -H 'Content-Type: application/json' -d "$report"
	expect_status 201
}

test_04_page_in_chromium() {
	command -v "$CHROMIUM" > /dev/null || { fail "no $CHROMIUM: make deps installs it"; return; }
	status_daemon || return
	local dom=$T/status.dom
	chromium_dom --dump-dom "$TB_URL/" > "$dom" || fail "chromium exited $?: $(tail -5 "$T/chromium.log")"
	grep -q '<body data-loaded="[1-9]' "$dom" || { fail "the page's script never finished a poll: $(head -c 600 "$dom")"; return; }
	# the daemon itself
	grep -q '<span id="daemon">ok, up ' "$dom" || fail "daemon status: $(grep -o '<span id="daemon">[^<]*' "$dom")"
	# images: the recipes, and net built with its sizes
	grep -q '<tr data-recipe="slow">' "$dom" || fail "recipe slow not listed"
	grep -Eq '<span class="variant" data-variant="net"><a href="/artifacts/[0-9a-f]{64}/manifest.json"><code>net</code></a> <span class="size">bzImage [0-9.]+ KiB, initrd [0-9.]+ KiB' "$dom" ||
		fail "built variant net: $(grep -o '<tr data-recipe="net">.\{0,400\}' "$dom")"
	# the running build, with a progress bar
	grep -Eq '<tr data-build="[0-9a-f]{64}" data-variant="slow" data-state="running"><td><code>slow</code></td><td class="state-running">running</td><td>kernel source</td><td><progress' "$dom" ||
		fail "running build: $(grep -o '<tr data-build=[^>]*data-variant="slow"[^>]*>.\{0,300\}' "$dom")"
	# rack-a: reported ok, its timeline and payload verdict; rack-b pending
	grep -q '<tr data-machine="rack-a" data-result="ok">' "$dom" || fail "rack-a: $(grep -o '<tr data-machine="rack-a".\{0,200\}' "$dom")"
	grep -Eq 'data-machine="rack-a".*<li data-event="boot created">boot created \+0\.0 s</li>.*<span class="verdict-ok" data-payload="hello.txt">' "$dom" ||
		fail "rack-a's timeline and payloads: $(grep -o '<tr data-machine="rack-a".\{0,900\}' "$dom")"
	grep -q '<tr data-machine="rack-b" data-result="pending">' "$dom" || fail "rack-b: $(grep -o '<tr data-machine="rack-b".\{0,200\}' "$dom")"
	chromium_dom --screenshot="$T/status.png" "$TB_URL/" > /dev/null
	[[ $(head -c 8 "$T/status.png" 2>/dev/null | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]] ||
		fail "no PNG screenshot: $(tail -3 "$T/chromium.log")"
}

# The daemon must exit 0 with the build still fetching (its connection's server child then sees
# the peer gone and exits).
test_99_stops_cleanly() {
	[[ -n ${TB_PID:-} && -z ${TB_STOPPED:-} ]] || return 0
	tb_stop
}

run_tests
