#!/bin/bash
# bench-http: tinybootd against Debian's nginx (sendfile on) serving the same files, driven by wrk
# in the same run. Prints requests/s and MB/s for each and the tinybootd/nginx ratio.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
duration=${BENCH_DURATION:-10s}
threads=${BENCH_THREADS:-2}
connections=${BENCH_CONNECTIONS:-64}
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
head -c $((1 << 20)) /dev/urandom > "$work/files/file-1m.bin"
head -c $((16 << 20)) /dev/urandom > "$work/files/file-16m.bin"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# nginx: its own config, loopback, sendfile on, same worker count as tinybootd threads.
nginx_port=$(free_port)
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes $(nproc);
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
$( [[ $(id -u) -eq 0 ]] && echo "user nobody nogroup;" )
daemon off;
events { worker_connections 1024; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 100000;
	client_body_temp_path $work/nginx/body;
	proxy_temp_path $work/nginx/proxy;
	fastcgi_temp_path $work/nginx/fastcgi;
	uwsgi_temp_path $work/nginx/uwsgi;
	scgi_temp_path $work/nginx/scgi;
	types { application/octet-stream bin; }
	server {
		listen 127.0.0.1:$nginx_port;
		root $work/files;
		location /payloads/ { alias $work/files/; }
	}
}
CONF
/usr/sbin/nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
pids+=($!)

bench_daemon_start --state "$work/state" --payloads "$work/files"
tb_addr=$bench_addr
wait_until 10 curl -fs -o /dev/null "http://127.0.0.1:$nginx_port/payloads/file-1m.bin" ||
	{ echo "bench-http: nginx did not start: $(tail -3 "$work/nginx/error.log" 2>/dev/null)" >&2; exit 1; }

# wrk prints "Requests/sec: N" and "Transfer/sec: N{KB,MB,GB}".
run_wrk() {
	local url=$1 out
	curl -fs -o /dev/null "$url" # warm the page cache and the ETag cache
	out=$(wrk -t"$threads" -c"$connections" -d"$duration" "$url")
	local rps mbs
	rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
	mbs=$(awk '/^Transfer\/sec:/ {v=$2; u=substr(v, length(v)-1); n=substr(v, 1, length(v)-2);
		if (u=="GB") n*=1024; else if (u=="KB") n/=1024; printf "%.1f", n}' <<<"$out")
	echo "$rps $mbs"
}

printf '%-10s %-10s %12s %10s\n' file server req/s MB/s
fail=0
for f in file-1m.bin file-16m.bin; do
	read -r n_rps n_mbs < <(run_wrk "http://127.0.0.1:$nginx_port/payloads/$f")
	read -r t_rps t_mbs < <(run_wrk "http://$tb_addr/payloads/$f")
	printf '%-10s %-10s %12s %10s\n' "$f" nginx "$n_rps" "$n_mbs" "$f" tinybootd "$t_rps" "$t_mbs"
	ratio=$(awk -v a="$t_rps" -v b="$n_rps" 'BEGIN {printf "%.2f", a / b}')
	echo "$f tinybootd/nginx ratio: $ratio"
done
echo "wrk -t$threads -c$connections -d$duration on $(nproc) cores, $(date -u +%Y-%m-%d)"
exit $fail
