#!/bin/bash
# test_metrics.sh - GET /metrics against the real daemon: promtool finds no error and no lint
# problem, and the counters move by what the requests did (requests by route and status, body
# bytes, cache usage, boots by outcome, the report delay). No kernel is built: the state
# directory is private, every source URL points nowhere, and the one artifact is made by hand.
source "$(dirname "$0")/../lib.sh"

mkdir -p "$T/payloads" "$T/recipes" "$T/kconfig" "$T/state/sources"
printf 'hello\n' > "$T/payloads/hello.txt"
head -c 5000 /dev/urandom > "$T/payloads/blob.bin"
cp "$ROOT"/images/*.image "$T/recipes/"
cp -r "$ROOT"/kernel-config/. "$T/kconfig/"
sed 's|^url = .*|url = file:///nonexistent/tinyboot-test/source.tar.xz|' "$ROOT/etc/sources.conf" > "$T/sources.conf"
cat > "$T/machines.conf" <<CONF
52:54:00:00:00:0a  name=plain  variant=net ip=10.0.2.15/24 gw=10.0.2.2
CONF
ART=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa

tb_start --recipes "$T/recipes" --kernel-config "$T/kconfig" --rootfs "$ROOT/rootfs" \
	--sources "$T/sources.conf" --machines "$T/machines.conf" || exit 1

# Scrape into $T/metrics (the body of the last GET /metrics).
scrape() {
	req GET /metrics
	expect_status 200
	cp "$T/body" "$T/metrics"
}

# metric 'NAME{LABELS}': its value in the last scrape, 0 when the series is absent.
metric() {
	awk -v k="$1" '$1 == k { v = $2 } END { print (v == "" ? 0 : v) }' "$T/metrics"
}

# The variant net looks built: an artifact of two small files (14 bytes).
fake_artifact() {
	[[ -e $T/state/artifacts/$ART ]] || tb_fake_build "$T/state" net "$ART"
}

test_format_passes_promtool_without_lint_warnings() {
	local out rc=0
	req GET /payloads/hello.txt
	req GET /no/such/thing
	req POST /healthz
	scrape
	expect_header Content-Type 'text/plain; version=0.0.4; charset=utf-8'
	out=$(promtool check metrics < "$T/metrics" 2>&1) || rc=$?
	[[ $rc -eq 0 && -z $out ]] || fail "promtool check metrics: exit $rc: $out"
	# every family this daemon promises is there, with HELP and TYPE
	local name
	for name in tinyboot_http_requests_total tinyboot_http_response_bytes_total \
		tinyboot_http_connections_open tinyboot_builds tinyboot_build_duration_seconds \
		tinyboot_cache_bytes tinyboot_cache_objects tinyboot_boots \
		tinyboot_boot_report_delay_seconds tinyboot_start_time_seconds; do
		grep -q "^# HELP $name " "$T/metrics" || fail "no HELP for $name"
		grep -q "^# TYPE $name " "$T/metrics" || fail "no TYPE for $name"
	done
	# labels are route patterns, never the URL asked for
	grep -q 'no/such' "$T/metrics" && fail "a raw URL became a label: $(grep 'no/such' "$T/metrics")"
	expect_eq "$(metric 'tinyboot_http_requests_total{route="/healthz",status="405"}')" 1 "405 on /healthz"
	[[ $(metric tinyboot_http_connections_open) -ge 1 ]] ||
		fail "connections open: $(metric tinyboot_http_connections_open), want >= 1 (the scrape's own)"
	expect_eq "$(metric 'tinyboot_builds{state="queued"}')" 0 "builds queued"
	expect_eq "$(metric 'tinyboot_builds{state="running"}')" 0 "builds running"
	expect_eq "$(metric 'tinyboot_build_duration_seconds_count{result="done"}')" 0 "builds done"
	expect_eq "$(metric 'tinyboot_build_duration_seconds_bucket{result="failed",le="+Inf"}')" 0 "builds failed"
}

test_requests_and_bytes_count_by_route_and_status() {
	local ok0 nf0 none0 bytes0 ok1 nf1 none1 bytes1 i want
	scrape
	ok0=$(metric 'tinyboot_http_requests_total{route="/payloads/*",status="200"}')
	nf0=$(metric 'tinyboot_http_requests_total{route="/payloads/*",status="404"}')
	none0=$(metric 'tinyboot_http_requests_total{route="none",status="404"}')
	bytes0=$(metric 'tinyboot_http_response_bytes_total{route="/payloads/*"}')
	for i in 1 2 3; do
		req GET /payloads/blob.bin
		expect_status 200
	done
	req GET /payloads/hello.txt
	expect_status 200
	req GET /payloads/missing.bin
	expect_status 404
	req GET /nowhere/at/all
	expect_status 404
	scrape
	ok1=$(metric 'tinyboot_http_requests_total{route="/payloads/*",status="200"}')
	nf1=$(metric 'tinyboot_http_requests_total{route="/payloads/*",status="404"}')
	none1=$(metric 'tinyboot_http_requests_total{route="none",status="404"}')
	bytes1=$(metric 'tinyboot_http_response_bytes_total{route="/payloads/*"}')
	expect_eq "$((ok1 - ok0))" 4 "/payloads/* 200s"
	expect_eq "$((nf1 - nf0))" 1 "/payloads/* 404s"
	expect_eq "$((none1 - none0))" 1 "unrouted 404s"
	want=$((3 * 5000 + 6))
	[[ $((bytes1 - bytes0)) -ge $want ]] || fail "body bytes rose by $((bytes1 - bytes0)), want >= $want"
	# HEAD sends no body
	bytes0=$bytes1
	req HEAD /payloads/blob.bin
	expect_status 200
	scrape
	expect_eq "$(metric 'tinyboot_http_requests_total{route="/payloads/*",status="200"}')" $((ok1 + 1)) "/payloads/* 200s after HEAD"
	bytes1=$(metric 'tinyboot_http_response_bytes_total{route="/payloads/*"}')
	[[ $((bytes1 - bytes0)) -lt 5000 ]] || fail "HEAD counted $((bytes1 - bytes0)) body bytes"
}

test_cache_usage_by_kind() {
	fake_artifact || return
	scrape
	expect_eq "$(metric 'tinyboot_cache_objects{kind="artifacts"}')" 1 "artifacts"
	expect_eq "$(metric 'tinyboot_cache_bytes{kind="artifacts"}')" 14 "artifact bytes"
	expect_eq "$(metric 'tinyboot_cache_objects{kind="kernels"}')" 0 "kernels"
	expect_eq "$(metric 'tinyboot_cache_scan_truncated{kind="artifacts"}')" 0 "artifacts walk truncated"
}

test_boot_pending_then_ok_with_report_delay() {
	local pending0 ok0 delay0 token kernel out
	fake_artifact || return
	scrape
	pending0=$(metric 'tinyboot_boots{outcome="pending"}')
	ok0=$(metric 'tinyboot_boots{outcome="ok"}')
	delay0=$(metric tinyboot_boot_report_delay_seconds_count)
	req POST /api/v1/boots -d "{\"mac\": \"52:54:00:00:00:0a\", \"server\": \"$TB_URL\"}"
	expect_status 201
	token=$(jq -r .boot "$T/body")
	kernel=$(jq -r .kernel "$T/body")
	[[ $token =~ ^[0-9a-f]{32}$ ]] || { fail "no boot token in '$(cat "$T/body")'"; return; }
	scrape
	expect_eq "$(metric 'tinyboot_boots{outcome="pending"}')" $((pending0 + 1)) "boots pending"
	# the kernel sent for this boot, then the guest's report
	req GET "$kernel"
	expect_status 200
	req POST /api/v1/reports -d "{\"id\": \"plain\", \"boot\": \"$token\", \"kernel\": \"k\", \"ok\": true, \"uptime\": {\"init\": 0.5}, \"payloads\": []}"
	[[ $STATUS == 2* ]] || fail "report: $STATUS $(cat "$T/body")"
	scrape
	expect_eq "$(metric 'tinyboot_boots{outcome="pending"}')" "$pending0" "boots pending after the report"
	expect_eq "$(metric 'tinyboot_boots{outcome="ok"}')" $((ok0 + 1)) "boots ok"
	expect_eq "$(metric tinyboot_boot_report_delay_seconds_count)" $((delay0 + 1)) "report delays observed"
	expect_eq "$(metric 'tinyboot_boot_report_delay_seconds_bucket{le="+Inf"}')" $((delay0 + 1)) "report delay +Inf bucket"
	# a report within seconds of the kernel lands in a small bucket
	[[ $(metric 'tinyboot_boot_report_delay_seconds_bucket{le="60"}') -ge $((delay0 + 1)) ]] ||
		fail "report delay over 60 s: $(grep report_delay "$T/metrics")"
	out=$(promtool check metrics < "$T/metrics" 2>&1) || fail "promtool after a boot: $out"
}

run_tests
status=$?
CURRENT_FAILED=0 # what follows is about the shutdown alone
tb_stop
[[ $CURRENT_FAILED -eq 0 ]] || { echo "test_metrics.sh: daemon shutdown failed"; echo "test_metrics.sh: $TESTS_PASSED passed, $((TESTS_FAILED + 1)) failed"; exit 1; }
exit $status
