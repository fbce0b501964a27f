#!/bin/bash
# bench-http: tinybootd against Debian's nginx serving the same files, driven by wrk in the same
# run, alternating (nginx, tinybootd, nginx, tinybootd, ...) so neither always runs on a warmer
# or quieter machine. Prints req/s and MB/s of every run, the medians and the tinybootd/nginx
# ratio of the medians (and of each round), and the load average before and after.
# When $CEILING names bench/ceiling built (make bench-http does), the same rounds also measure
# it in its two modes: the least work any server could do per request on this machine, which
# tells how far tinybootd and nginx are from what the machine allows.
# BENCH_DURATION (10s), BENCH_ROUNDS (2), BENCH_THREADS (2), BENCH_CONNECTIONS (64) and
# BENCH_FILES ("150k 1m 16m") set the run; BENCH_TINYBOOTD_ARGS adds daemon flags (e.g.
# "--connection-memory 16K"). BENCH_SERVER_CPUS and BENCH_CLIENT_CPUS (e.g. 1 and 0) pin both
# servers and wrk to separate CPUs (taskset), so the client does not take the servers' cores.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
duration=${BENCH_DURATION:-10s}
rounds=${BENCH_ROUNDS:-2}
threads=${BENCH_THREADS:-2}
connections=${BENCH_CONNECTIONS:-64}
files=${BENCH_FILES:-150k 1m 16m}
work=$(mktemp -d /tmp/tinyboot-bench.XXXXXX)
source "$here/scripts/bench-lib.sh"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	bench_daemon_stop
	rm -rf "$work"
}
trap cleanup EXIT

command -v wrk >/dev/null || { echo "bench-http: wrk missing (make deps)" >&2; exit 1; }
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || { echo "bench-http: nginx missing (make deps)" >&2; exit 1; }

mkdir -p "$work/files" "$work/state" "$work/nginx"
chmod 0755 "$work" "$work/files" # nginx workers run unprivileged
for f in $files; do
	case $f in
	150k) bytes=$((150 << 10)) ;; # 150 KiB: an initrd
	1m) bytes=$((1 << 20)) ;;      # 1 MiB: a kernel
	16m) bytes=$((16 << 20)) ;;
	*) echo "bench-http: unknown file size $f (150k, 1m, 16m)" >&2; exit 1 ;;
	esac
	head -c "$bytes" /dev/urandom > "$work/files/file-$f.bin"
done
created=$EPOCHSECONDS

# nginx (bench_nginx_conf) serving the same files under /payloads/
nginx_port=$(free_port)
bench_nginx_conf "$nginx_port" "$work/files" "location /payloads/ { alias $work/files/; }"
server_pin=() client_pin=()
[[ -n ${BENCH_SERVER_CPUS:-} ]] && server_pin=(taskset -c "$BENCH_SERVER_CPUS")
[[ -n ${BENCH_CLIENT_CPUS:-} ]] && client_pin=(taskset -c "$BENCH_CLIENT_CPUS")
"${server_pin[@]}" /usr/sbin/nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
pids+=($!)

# the yardstick, in both modes, pinned like the servers
ceiling_ports=() ceiling_pids=()
if [[ -n ${CEILING:-} ]]; then
	for mode in copy sendfile; do
		port=$(free_port)
		"${server_pin[@]}" "$CEILING" "$port" "$mode" "$work"/files/file-*.bin &
		pids+=($!)
		ceiling_pids+=($!)
		ceiling_ports+=("$port")
	done
fi

# shellcheck disable=SC2086 # flags, split on purpose
bench_daemon_start --state "$work/state" --payloads "$work/files" ${BENCH_TINYBOOTD_ARGS:-}
tb_addr=$bench_addr
# every thread of the running daemon (its pool is started by now)
[[ -n ${BENCH_SERVER_CPUS:-} ]] && taskset -a -p -c "$BENCH_SERVER_CPUS" "$bench_pid" > /dev/null
wait_until 10 curl -fs -o /dev/null "http://127.0.0.1:$nginx_port/payloads/file-${files%% *}.bin" ||
	{ echo "bench-http: nginx did not start: $(tail -3 "$work/nginx/error.log" 2>/dev/null)" >&2; exit 1; }
# tinybootd keeps a ready response only for files unchanged for 2 s (http/filecache.c); a boot
# server's kernels and initrds are older than that
while (( EPOCHSECONDS - created < 3 )); do sleep 0.5; done

# cpu_ticks PID...: user + system clock ticks of every thread of the processes
cpu_ticks() {
	local p t sum=0 f
	for p in "$@"; do
		for t in /proc/"$p"/task/*/stat; do
			read -r -a f < "$t" 2>/dev/null || continue
			sum=$((sum + f[13] + f[14]))
		done
	done
	echo "$sum"
}

# run_wrk URL PID...: wrk prints "N requests in", "Requests/sec: N" and "Transfer/sec:
# N{KB,MB,GB}"; the server's CPU time per request (µs) comes from its processes' ticks, a
# measure the other load on the machine disturbs less than req/s.
run_wrk() {
	local url=$1 out t0 t1
	shift
	curl -fs -o /dev/null "$url" # warm the page cache and the ETag cache
	t0=$(cpu_ticks "$@")
	out=$("${client_pin[@]}" wrk -t"$threads" -c"$connections" -d"$duration" "$url")
	t1=$(cpu_ticks "$@")
	local rps mbs n
	rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
	n=$(awk '/requests in/ {print $1}' <<<"$out")
	mbs=$(awk '/^Transfer\/sec:/ {v=$2; u=substr(v, length(v)-1); n=substr(v, 1, length(v)-2);
		if (u=="GB") n*=1024; else if (u=="KB") n/=1024; printf "%.1f", n}' <<<"$out")
	echo "$rps $mbs $(awk -v t=$((t1 - t0)) -v n="$n" -v hz="$(getconf CLK_TCK)" \
		'BEGIN {printf "%.0f", n ? t * 1e6 / hz / n : 0}')"
}

median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR] = $1} END {print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b ? a / b : 0}'; }

nginx_workers=$(pgrep -P "${pids[0]}" | tr '\n' ' ')
# the servers each round measures, in this order: name, address, PIDs whose CPU time counts
names=(nginx tinybootd) addrs=("127.0.0.1:$nginx_port" "$tb_addr") cpu_pids=("$nginx_workers" "$bench_pid")
if [[ ${#ceiling_ports[@]} -eq 2 ]]; then
	names+=(ceil-copy ceil-sendfile)
	addrs+=("127.0.0.1:${ceiling_ports[0]}" "127.0.0.1:${ceiling_ports[1]}")
	cpu_pids+=("${ceiling_pids[@]}")
	for a in "${addrs[@]:2}"; do
		wait_until 10 curl -fs -o /dev/null "http://$a/payloads/file-${files%% *}.bin" ||
			{ echo "bench-http: the yardstick did not start on $a" >&2; exit 1; }
	done
fi
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-14s %5s %-13s %12s %10s %12s\n' file round server req/s MB/s cpu_us/req
summary=()
for f in $files; do
	declare -A all=() cpu=()
	per_round=
	for r in $(seq "$rounds"); do
		declare -A rps=()
		for i in "${!names[@]}"; do
			# shellcheck disable=SC2086 # one PID per word
			read -r v_rps v_mbs v_us < <(run_wrk "http://${addrs[i]}/payloads/file-$f.bin" ${cpu_pids[i]})
			printf '%-14s %5s %-13s %12s %10s %12s\n' "file-$f.bin" "$r" "${names[i]}" "$v_rps" "$v_mbs" "$v_us"
			rps[${names[i]}]=$v_rps
			all[${names[i]}]+=" $v_rps" cpu[${names[i]}]+=" $v_us"
		done
		per_round+=" $(ratio "${rps[tinybootd]}" "${rps[nginx]}")"
	done
	n_med=$(median <<<"${all[nginx]}") t_med=$(median <<<"${all[tinybootd]}")
	n_cmed=$(median <<<"${cpu[nginx]}") t_cmed=$(median <<<"${cpu[tinybootd]}")
	summary+=("$(printf '%-14s nginx %10.1f  tinybootd %10.1f  ratio %s  (rounds:%s)  cpu_us/req %s vs %s: nginx/tinybootd %s' \
		"file-$f.bin" "$n_med" "$t_med" "$(ratio "$t_med" "$n_med")" "$per_round" "$n_cmed" "$t_cmed" "$(ratio "$n_cmed" "$t_cmed")")")
	if [[ -n ${all[ceil-copy]:-} ]]; then
		c_med=$(median <<<"${all[ceil-copy]}") s_med=$(median <<<"${all[ceil-sendfile]}")
		best=$(awk -v a="$c_med" -v b="$s_med" 'BEGIN {print (a > b ? a : b)}')
		summary+=("$(printf '%-14s yardstick copy %10.1f (%sx nginx)  sendfile %10.1f (%sx nginx)  tinybootd/best yardstick %s' \
			"" "$c_med" "$(ratio "$c_med" "$n_med")" "$s_med" "$(ratio "$s_med" "$n_med")" "$(ratio "$t_med" "$best")")")
	fi
	unset all cpu
done
echo "medians, tinybootd/nginx (req/s) and nginx/tinybootd (server CPU per request, > 1: tinybootd spends less):"
printf '%s\n' "${summary[@]}"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "wrk -t$threads -c$connections -d$duration, $rounds rounds alternating, $(nproc) cores, tinybootd flags: ${BENCH_TINYBOOTD_ARGS:-defaults}, servers on CPUs ${BENCH_SERVER_CPUS:-any}, wrk on ${BENCH_CLIENT_CPUS:-any}, $(date -u +%Y-%m-%dT%H:%MZ)"
