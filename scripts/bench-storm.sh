#!/bin/bash
# bench-storm: a boot storm. N simulated iPXE clients (bench/storm.c), each on one keep-alive
# connection: GET /ipxe?mac=UNIQUE (tinybootd writes and journals a boot per request), then the
# kernel and initrd URLs from that script; no think time. The same against nginx serving the same
# kernel, initrd and a static script, in the same run. Prints per N: boots/s, p50/p99 boot time
# (script request start -> initrd fully received), errors by kind, tinybootd's ratio to nginx.
# Nothing is built: the kernel (1 MiB) and initrd (150 KB) of variant net are a faked artifact.
#
# Modes (BENCH_STORM_MODES, default "spread one"):
#   spread  client i connects from its own address 127.0.(i/200).(i%200+2): a rack of machines,
#           the daemon on its default limits
#   one     every client from 127.0.0.1 (a rack behind one NAT address, or a site cache), the
#           daemon on its default limits (max-connections-per-ip 0: no limit of its own)
#   one128  every client from 127.0.0.1, the daemon with --max-connections-per-ip 128 (the old
#           default): the clients past it are reset
#   static  as one, but tinybootd too answers the script from a static file (its own script,
#           saved in its payload directory): static serving alone, the same work as nginx's
# Errors count failed attempts by kind (reset, eof-before-response, http-503, timeout (10 s
# without progress), kernel-size, ...); after one a client reconnects 100 ms later and starts a
# new boot. "journaled" is the number of boots tinybootd made durable in STATE/boots.log
# meanwhile (its /ipxe 200s, each sent only after its boot's record was synced; counted from
# /metrics, since the journal may be rotated during a run): the boots completed plus those cut
# off by the end of the run. BENCH_STORM_SECONDS (10) and
# BENCH_STORM_CLIENTS ("100 300 500") set the rest.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
seconds=${BENCH_STORM_SECONDS:-10}
clients=${BENCH_STORM_CLIENTS:-100 300 500}
modes=${BENCH_STORM_MODES:-spread one}
kernel_bytes=$((1 << 20))
initrd_bytes=150000
work=$(mktemp -d /tmp/tinyboot-storm.XXXXXX)
source "$here/scripts/bench-lib.sh"
nginx_pid=
cleanup() {
	if [[ -n $nginx_pid ]]; then
		kill "$nginx_pid" 2>/dev/null || true
		wait "$nginx_pid" 2>/dev/null || true
	fi
	bench_daemon_stop
	rm -rf "$work"
}
trap cleanup EXIT

command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || { echo "bench-storm: nginx missing (make deps)" >&2; exit 1; }
storm=${STORM:-$here/build/storm}
[[ -x $storm ]] || { echo "bench-storm: $storm missing (make bench-storm builds it)" >&2; exit 1; }

mkdir -p "$work/files" "$work/state" "$work/www" "$work/nginx" "$work/payloads"
chmod 0755 "$work" "$work/files" "$work/www" # nginx workers run unprivileged
head -c "$kernel_bytes" /dev/urandom > "$work/files/bzImage"
head -c "$initrd_bytes" /dev/urandom > "$work/files/initrd"
printf 'default variant=net\n' > "$work/machines.conf"
# the real recipes' sources, but every URL points nowhere: nothing is ever built
sed 's|^url = .*|url = file:///nonexistent/tinyboot-bench/source.tar.xz|' "$here/etc/sources.conf" > "$work/sources.conf"

# tinybootd ARGS...: (re)start the daemon on the private state directory
tb_start_daemon() {
	bench_daemon_stop
	bench_daemon_start --state "$work/state" --recipes "$here/images" --kernel-config "$here/kernel-config" \
		--rootfs "$here/rootfs" --sources "$work/sources.conf" --machines "$work/machines.conf" \
		--payloads "$work/payloads" "$@"
}

# Fake a built net: the store's index entry for its build id and an artifact directory holding
# the kernel and initrd (as tests/integration/test_hostile_misc.sh does).
tb_start_daemon
id=$(curl -s "$bench_url/api/v1/images/net/size" | grep -o 'build [0-9a-f]\{64\}' | head -1 | cut -d' ' -f2)
[[ -n $id ]] || { echo "bench-storm: no build id for net" >&2; exit 1; }
art=$(sha256sum "$work/files/bzImage" | cut -d' ' -f1)
mkdir -p "$work/state/index" "$work/state/artifacts/$art" "$work/www/artifacts/$art"
printf '%s' "$art" > "$work/state/index/$id"
for f in bzImage initrd; do
	cp "$work/files/$f" "$work/state/artifacts/$art/$f"
	cp "$work/files/$f" "$work/www/artifacts/$art/$f"
done
script=$(curl -fs "$bench_url/ipxe?mac=02:ff:ff:ff:ff:ff") ||
	{ echo "bench-storm: tinybootd serves no script: $(tail -3 "$work/daemon.log")" >&2; exit 1; }

script_addr=$bench_addr # the address in the script's URLs

# nginx (bench_nginx_conf) serving the same files. /ipxe is one static script (tinybootd's,
# pointing at nginx), whatever the query string.
nginx_port=$(free_port)
printf '%s\n' "${script//$bench_addr/127.0.0.1:$nginx_port}" > "$work/www/ipxe"
bench_nginx_conf "$nginx_port" "$work/www" "location = /ipxe { default_type text/plain; }"
/usr/sbin/nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
nginx_pid=$!
wait_until 10 curl -fs -o /dev/null "http://127.0.0.1:$nginx_port/ipxe?mac=x" ||
	{ echo "bench-storm: nginx did not start: $(tail -3 "$work/nginx/error.log" 2>/dev/null)" >&2; exit 1; }
for u in "http://127.0.0.1:$nginx_port" "$bench_url"; do # warm the page cache
	curl -fs -o /dev/null "$u/artifacts/$art/bzImage" -o /dev/null "$u/artifacts/$art/initrd"
done

journaled() {
	curl -s --max-time 10 "$bench_url/metrics" |
		awk '$1 == "tinyboot_http_requests_total{route=\"/ipxe\",status=\"200\"}" { n = $2 } END { print n + 0 }'
}

# run ADDR N SPREAD [SCRIPT_PREFIX]: one storm; prints "boots/s p50 p99 errors kinds"
run() {
	local out
	out=$("$storm" "$1" "$2" "$seconds" "$kernel_bytes" "$initrd_bytes" "${4:-/ipxe?mac=}" "$3")
	sed -n 's/.*boots_per_s=\([^ ]*\) p50_ms=\([^ ]*\) p99_ms=\([^ ]*\) errors=\([^ ]*\) .* clients_booted=\([^ ]*\) kinds=\(.*\)/\1 \2 \3 \4 booted=\5,\6/p' <<<"$out"
}

fmt='%-7s %5s %-10s %9s %9s %9s %8s  %s\n'
turn=0
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf "$fmt" mode N server boots/s p50_ms p99_ms errors "clients booted, error kinds; journaled boots"
for mode in $modes; do
	case $mode in
	spread) spread=1; tb_start_daemon ;;
	one) spread=0; tb_start_daemon ;;
	one128) spread=0; tb_start_daemon --max-connections-per-ip 128 ;;
	static) # the script's URLs name this daemon's address; files younger than 2 s are not
		# kept as ready responses (http/filecache.c): a boot server's files are older
		spread=0; tb_start_daemon
		printf '%s\n' "${script//$script_addr/$bench_addr}" > "$work/payloads/ipxe"
		sleep 2.5 ;;
	*) echo "bench-storm: unknown mode $mode" >&2; exit 1 ;;
	esac
	for n in $clients; do
		# the order alternates (A B, B A, ...) so that neither always runs on a warmer machine
		if (( turn++ % 2 == 0 )); then
			read -r n_bps n_p50 n_p99 n_err n_kinds < <(run "127.0.0.1:$nginx_port" "$n" "$spread")
		fi
		before=$(journaled)
		prefix=/ipxe?mac=
		[[ $mode != static ]] || prefix=/payloads/ipxe?mac=
		read -r t_bps t_p50 t_p99 t_err t_kinds < <(run "$bench_addr" "$n" "$spread" "$prefix")
		after=$(journaled)
		if (( turn % 2 == 0 )); then
			read -r n_bps n_p50 n_p99 n_err n_kinds < <(run "127.0.0.1:$nginx_port" "$n" "$spread")
		fi
		partial= # p50/p99 cover the clients that booted only: marked when some never did
		[[ $t_kinds == booted=$n/$n,* && $n_kinds == booted=$n/$n,* ]] || { partial='*'; any_partial=1; }
		printf "$fmt" "$mode" "$n" nginx "$n_bps" "$n_p50" "$n_p99" "$n_err" "$n_kinds"
		printf "$fmt" "$mode" "$n" tinybootd "$t_bps" "$t_p50" "$t_p99" "$t_err" "$t_kinds journaled=$((after - before))"
		printf "$fmt" "$mode" "$n" ratio "$(awk -v a="$t_bps" -v b="$n_bps" 'BEGIN {printf "%.2f", b ? a / b : 0}')" - \
			"$(awk -v a="$t_p99" -v b="$n_p99" 'BEGIN {printf "%.2f", b ? a / b : 0}')$partial" - "(tinybootd/nginx)"
	done
	bench_daemon_stop # its log (warnings and errors only) is overwritten by the next start
	if [[ -s $work/daemon.log ]]; then
		echo "tinybootd log ($mode): $(grep -c . "$work/daemon.log") lines, first: $(grep -m3 . "$work/daemon.log" | tr '\n' ' ')"
	fi
done
[[ -z ${any_partial:-} ]] || echo "* p99 over the clients that booted only (some never did): not comparable"
echo "$seconds s per run, kernel $kernel_bytes B, initrd $initrd_bytes B, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ)"
