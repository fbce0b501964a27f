# bench-lib.sh - sourced by the benchmarks: one way to start and stop a tinybootd.
# Needs $here (the repository), $work (a scratch directory) and $state (the daemon's state
# directory); sets bench_url and bench_pid.

bench_pid=
bench_url=

# bench_daemon_start ARGS...: start tinybootd on a free loopback port, wait until it listens
bench_daemon_start() {
	"$here/build/tinybootd" --listen 127.0.0.1:0 --log-level warn "$@" > "$work/daemon.out" 2> "$work/daemon.log" &
	bench_pid=$!
	for _ in $(seq 100); do grep -q listening "$work/daemon.out" && break; sleep 0.1; done
	bench_url=$(sed -n 's|.*listening on \(http://.*\)/$|\1|p' "$work/daemon.out")
	[[ -n $bench_url ]] || { echo "bench: tinybootd did not start: $(tail -3 "$work/daemon.log")" >&2; exit 1; }
}

# bench_daemon_stop: SIGTERM and wait (a no-op when none runs)
bench_daemon_stop() {
	[[ -n $bench_pid ]] || return 0
	kill "$bench_pid" 2>/dev/null || true
	wait "$bench_pid" 2>/dev/null || true
	bench_pid=
}

# bench_build VARIANT: build through the daemon, print the artifact's manifest.json path
bench_build() {
	"$here/build/tinyboot" --server "$bench_url" build "$1" > /dev/null 2> "$work/build.err" ||
		{ cat "$work/build.err" >&2; exit 1; }
	echo "$state/artifacts/$(curl -fs "$bench_url/images/$1/manifest.json" | jq -r .artifact)/manifest.json"
}
