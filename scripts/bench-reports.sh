#!/bin/bash
# bench-reports: a report burst. N guests (bench/reports.c) POST their report at the same moment,
# each on its own connection from its own loopback address; a 201 must mean the report is on
# disk. Prints per N: p50/p99/max answer time, errors, journal syncs per report (from /metrics),
# then SIGKILLs the daemon, starts it again on the same state and counts the reports that came
# back (in STATE/boots.log and as results in /api/v1/machines): all N must be there.
# The boots are written into STATE/boots.log before the daemon starts (as test_reports.sh does),
# so nothing is built. BENCH_REPORTS_N ("100 500") sets the bursts.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
counts=${BENCH_REPORTS_N:-100 500}
work=$(mktemp -d /tmp/tinyboot-reports.XXXXXX)
source "$here/scripts/bench-lib.sh"
cleanup() {
	bench_daemon_stop
	rm -rf "$work"
}
trap cleanup EXIT

reports=${REPORTS:-$here/build/reports}
[[ -x $reports ]] || { echo "bench-reports: $reports missing (build bench/reports.c)" >&2; exit 1; }

# start_daemon: tinybootd on the private state directory; nothing is ever built
start_daemon() {
	bench_daemon_start --state "$work/state" --recipes "$here/images" --kernel-config "$here/kernel-config" \
		--rootfs "$here/rootfs" --sources "$here/etc/sources.conf" --machines "$work/machines.conf"
}
metric() { curl -fs "$bench_url/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
stored() { grep -c '"type":"report"' "$work/state/boots.log" || true; }
reported_ok() { curl -fs "$bench_url/api/v1/machines?limit=1000" | jq '[.. | objects | select(.result? == "ok")] | length'; }

: > "$work/machines.conf"
fmt='%5s %8s %8s %8s %7s %12s %9s %9s  %s\n'
printf "$fmt" N p50_ms p99_ms max_ms errors syncs/report stored api_ok statuses
failed=0
for n in $counts; do
	rm -rf "$work/state"
	mkdir -p "$work/state"
	now=$(date +%s)
	# N boots of machines b0000..: seeded as an earlier run would have written them
	od -An -tx1 -v -N $((16 * n)) /dev/urandom | tr -d ' \n' | fold -w 32 | awk -v now="$now" -v tok="$work/tokens" '{
		m = sprintf("b%04d", NR - 1)
		printf "{\"artifact\":\"\",\"at\":%d,\"firmware\":\"bios\",\"mac\":\"\",\"machine\":\"%s\",\"timeout_s\":600,\"token\":\"%s\",\"type\":\"boot\",\"variant\":\"net\"}\n", now, m, $1
		print m, $1 > tok
	}' > "$work/state/boots.log"
	start_daemon
	before=$(metric tinyboot_journal_syncs_total)
	out=$("$reports" "$bench_addr" "$work/tokens" 1 30) || failed=1
	after=$(metric tinyboot_journal_syncs_total)
	syncs=n/a
	[[ -z $before || -z $after ]] || syncs=$(awk -v a="$after" -v b="$before" -v n="$n" 'BEGIN { printf "%.3f", (a - b) / n }')
	kill -KILL "$bench_pid"
	wait "$bench_pid" 2>/dev/null || true
	bench_pid=
	start_daemon
	got=$(stored) api=$(reported_ok)
	bench_daemon_stop
	(( got == n && api == n )) || failed=1
	get() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $out"; }
	printf "$fmt" "$n" "$(get p50_ms)" "$(get p99_ms)" "$(get max_ms)" "$(get errors)" "$syncs" "$got/$n" "$api/$n" "$(get statuses)"
done
echo "$(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ); stored/api_ok: after SIGKILL and a restart"
exit $failed
