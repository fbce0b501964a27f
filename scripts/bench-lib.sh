# bench-lib.sh - sourced by the benchmarks: their daemon, started and stopped through
# scripts/daemon-lib.sh (as the tests and `make run` do), and a build through it.
# Needs $here (the repository), $work (a scratch directory) and, for bench_build, $state (the
# daemon's state directory); sets bench_pid, bench_url and bench_addr. Also the nginx both
# HTTP benchmarks measure tinybootd against, and a free port for it.
source "$here/scripts/daemon-lib.sh"

bench_pid=
bench_url=
bench_addr=

# bench_daemon_start ARGS...: start tinybootd on a free loopback port, wait until it listens;
# exits the benchmark when it does not start
bench_daemon_start() {
	if ! daemon_start "$here/build/tinybootd" "$work/daemon.out" "$work/daemon.log" --log-level warn "$@"; then
		echo "bench: tinybootd did not start: $(tail -3 "$work/daemon.log")" >&2
		exit 1
	fi
	bench_pid=$DAEMON_PID
	bench_url=$DAEMON_URL
	bench_addr=$DAEMON_ADDR
}

# bench_daemon_stop: SIGTERM and wait (a no-op when none runs)
bench_daemon_stop() {
	[[ -n $bench_pid ]] || return 0
	daemon_stop "$bench_pid" || true
	bench_pid=
}

# bench_build VARIANT: build through the daemon, print the artifact's manifest.json path
bench_build() {
	"$here/build/tinyboot" --server "$bench_url" build "$1" > /dev/null 2> "$work/build.err" ||
		{ cat "$work/build.err" >&2; exit 1; }
	echo "$state/artifacts/$(curl -fs "$bench_url/images/$1/manifest.json" | jq -r .artifact)/manifest.json"
}

free_port() { perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1:0")->sockport'; }

# bench_nginx_conf PORT ROOT [SERVER_LINES]: write $work/nginx/nginx.conf, nginx with its own
# prefix on loopback, configured as well as it can be for static files: sendfile (2 MiB per
# call, nginx's own default since 1.21.4), nopush (head and file start in one segment),
# nodelay, open files and their metadata cached, one worker per core, keep-alive without a
# request limit. SERVER_LINES go into the server block.
bench_nginx_conf() {
	mkdir -p "$work/nginx"
	cat > "$work/nginx/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
$( [[ $(id -u) -eq 0 ]] && echo "user nobody nogroup;" )
daemon off;
events { worker_connections 4096; }
http {
	access_log off;
	sendfile on;
	sendfile_max_chunk 2m;
	tcp_nopush on;
	tcp_nodelay on;
	keepalive_requests 1000000;
	keepalive_timeout 75s;
	open_file_cache max=1000 inactive=60s;
	open_file_cache_valid 60s;
	open_file_cache_errors on;
	client_body_temp_path $work/nginx/body;
	proxy_temp_path $work/nginx/proxy;
	fastcgi_temp_path $work/nginx/fastcgi;
	uwsgi_temp_path $work/nginx/uwsgi;
	scgi_temp_path $work/nginx/scgi;
	default_type application/octet-stream;
	server {
		listen 127.0.0.1:$1;
		root $2;
		${3:-}
	}
}
CONF
}
