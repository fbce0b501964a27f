# daemon-lib.sh - one way to start, wait for and stop a tinybootd, and one wait_until; sourced by
# tests/lib.sh, scripts/run.sh and the benchmarks (scripts/bench-lib.sh). Defines functions only:
# it changes no shell option, sets no trap and prints nothing on its own.

# wait_until TIMEOUT CMD [ARGS...]: run CMD (a command or a shell function, run in this shell so
# it may set variables) every 0.05 s until it succeeds; 0 then, 1 when TIMEOUT seconds (a whole
# number) passed first. CMD runs at least once.
wait_until() {
	local _wu_deadline=$(( ${EPOCHREALTIME//[.,]/} + $1 * 1000000 ))
	shift
	until "$@"; do
		(( ${EPOCHREALTIME//[.,]/} < _wu_deadline )) || return 1
		sleep 0.05
	done
}

# daemon_alive PID: the process is still there.
daemon_alive() { kill -0 "$1" 2>/dev/null; }
daemon_gone() { ! kill -0 "$1" 2>/dev/null; }

# The address is printed, or the daemon is gone (no point waiting longer).
daemon_lib_ready() { # daemon_lib_ready OUT PID
	grep -q 'listening on http://' "$1" 2>/dev/null || daemon_gone "$2"
}

# daemon_start BINARY OUT LOG [ARGS...]: start BINARY --listen 127.0.0.1:0 ARGS in the background
# (a later --listen in ARGS wins), stdout to OUT, stderr to LOG, and wait until it prints the
# address it listens on (DAEMON_START_TIMEOUT, 10 s). Sets DAEMON_PID, DAEMON_ADDR (host:port)
# and DAEMON_URL (http://host:port). Returns 1 when it exits or stays silent instead (a silent
# one is stopped); DAEMON_PID is then still set and LOG says why.
daemon_start() {
	local bin=$1 out=$2 log=$3
	shift 3
	DAEMON_ADDR=
	DAEMON_URL=
	"$bin" --listen 127.0.0.1:0 "$@" > "$out" 2> "$log" &
	DAEMON_PID=$!
	wait_until "${DAEMON_START_TIMEOUT:-10}" daemon_lib_ready "$out" "$DAEMON_PID" || true
	DAEMON_ADDR=$(sed -n 's|.*listening on http://\(.*\)/$|\1|p' "$out" 2>/dev/null)
	if [[ -z $DAEMON_ADDR ]]; then
		daemon_kill "$DAEMON_PID"
		return 1
	fi
	DAEMON_URL=http://$DAEMON_ADDR
}

# daemon_stop PID: SIGTERM (the daemon drains, then exits) and wait for it; returns its exit
# status. Waits as long as the drain takes.
daemon_stop() {
	local rc=0
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || rc=$?
	return $rc
}

# daemon_kill PID [GRACE]: SIGTERM, SIGKILL after GRACE seconds (5), then reap it. For clean-up
# paths: whatever PID is (a daemon, a curl, a QEMU) it is gone afterwards.
daemon_kill() {
	kill -TERM "$1" 2>/dev/null || true
	wait_until "${2:-5}" daemon_gone "$1" || kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
