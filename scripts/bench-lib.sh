# bench-lib.sh - sourced by the benchmarks: their daemon, started and stopped through
# scripts/daemon-lib.sh (as the tests and `make run` do), and a build through it.
# Needs $here (the repository), $work (a scratch directory) and, for bench_build, $state (the
# daemon's state directory); sets bench_pid, bench_url and bench_addr.
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
