#!/bin/bash
# test_static_cache.sh - static files answered with kept responses (http/filecache.c): the same
# validators, ranges and bytes as a fresh answer, and never the old ETag or bytes once the file
# is replaced, rewritten or removed on disk. Also the per-address connection limit's default
# and the drain's count of requests in flight.
source "$(dirname "$0")/../lib.sh"

# Fixtures. Files changed within the last 2 s are never kept (a rewrite in the same clock tick
# keeps size, mtime and ctime), so the fixtures age first: every request below may be reused.
mkdir -p "$T/payloads" "$T/state/artifacts"
ART=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
mkdir "$T/state/artifacts/$ART"
head -c 150000 /dev/urandom > "$T/state/artifacts/$ART/initrd"
for f in a b c d e g; do head -c 100000 /dev/urandom > "$T/payloads/$f.bin"; done
head -c $((1 << 20)) /dev/urandom > "$T/payloads/mapped.bin"   # a mapped body, populated
head -c $((16 << 20)) /dev/urandom > "$T/payloads/big.bin"     # mapped, faulted in by sendmsg
head -c $((65 << 20)) /dev/urandom > "$T/payloads/large.bin"   # over 64 MiB: sent with sendfile
sleep 2.5

tb_start || exit 1

metric() {
	curl -s "$TB_URL/metrics" | awk -v k="$1" '$1 == k { v = $2 } END { print (v == "" ? 0 : v) }'
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

# kept PATH: two GETs; the second must be answered with the kept response (the counter moves)
expect_kept() {
	local before
	req GET "$1"
	expect_status 200
	before=$(metric tinyboot_http_file_responses_reused_total)
	req GET "$1"
	expect_status 200
	[[ $(metric tinyboot_http_file_responses_reused_total) -gt $before ]] ||
		fail "GET $1 was not answered with a kept response"
}

test_kept_response_same_validators() {
	local f=$T/payloads/a.bin etag modified
	req GET /payloads/a.bin
	expect_status 200
	etag=$(header ETag)
	modified=$(header Last-Modified)
	expect_eq "$etag" "\"$(sha "$f")\"" ETag
	expect_kept /payloads/a.bin
	expect_body_file "$f"
	expect_header ETag "$etag"
	expect_header Last-Modified "$modified"
	expect_header Content-Length 100000
	expect_header Content-Type application/octet-stream
	expect_header Accept-Ranges bytes
	expect_header Cache-Control no-cache
	req HEAD /payloads/a.bin
	expect_status 200
	expect_header ETag "$etag"
	expect_header Content-Length 100000
	[[ ! -s $T/body ]] || fail "HEAD sent a body"
	req GET /payloads/a.bin -H "If-None-Match: $etag"
	expect_status 304
	expect_header ETag "$etag"
	req GET /payloads/a.bin -H "If-Modified-Since: $modified"
	expect_status 304
	req GET /payloads/a.bin -H 'Range: bytes=10-19'
	expect_status 206
	expect_header Content-Range 'bytes 10-19/100000'
	expect_body_file <(tail -c +11 "$f" 2>/dev/null | head -c 10)
	req GET /payloads/a.bin -H 'Range: bytes=10-19' -H "If-Range: $etag"
	expect_status 206
	req GET /payloads/a.bin -H 'Range: bytes=10-19' -H 'If-Range: "0000"'
	expect_status 200
	expect_body_file "$f"
	req GET /payloads/a.bin -H 'Range: bytes=200000-'
	expect_status 416
	# and the kept response is still the whole file afterwards
	expect_kept /payloads/a.bin
	expect_body_file "$f"
}

test_renamed_over_new_etag() {
	local f=$T/payloads/b.bin
	expect_kept /payloads/b.bin
	head -c 100000 /dev/urandom > "$T/payloads/.b.new"
	mv "$T/payloads/.b.new" "$f"
	req GET /payloads/b.bin
	expect_status 200
	expect_body_file "$f"
	expect_header ETag "\"$(sha "$f")\""
}

test_rewritten_in_place_new_etag() {
	local f=$T/payloads/c.bin mtime
	expect_kept /payloads/c.bin
	# truncated and rewritten, another size: the same inode
	head -c 50000 /dev/urandom > "$f"
	req GET /payloads/c.bin
	expect_status 200
	expect_body_file "$f"
	expect_header ETag "\"$(sha "$f")\""
	expect_header Content-Length 50000
	# the same size and, put back by touch, the same mtime: the ctime still tells
	sleep 2.5
	expect_kept /payloads/c.bin
	mtime=$(stat -c %y "$f")
	head -c 50000 /dev/urandom > "$f"
	touch -d "$mtime" "$f"
	req GET /payloads/c.bin
	expect_status 200
	expect_body_file "$f"
	expect_header ETag "\"$(sha "$f")\""
}

test_removed_is_404() {
	expect_kept /payloads/d.bin
	rm "$T/payloads/d.bin"
	req GET /payloads/d.bin
	expect_status 404
	req HEAD /payloads/d.bin
	expect_status 404
}

# A kept response of a removed file is let go within ~11 s even when no request comes: the
# daemon's mappings no longer hold the file.
test_removed_file_let_go_without_requests() {
	local f=$T/payloads/g.bin
	expect_kept /payloads/g.bin
	grep -q "$f" "/proc/$TB_PID/maps" || fail "g.bin is not mapped while kept"
	rm "$f"
	wait_until 15 eval "! grep -q '$f' /proc/$TB_PID/maps" ||
		fail "the removed g.bin is still mapped: $(grep "$f" "/proc/$TB_PID/maps" | head -2)"
}

test_replaced_by_symlink_is_404() {
	expect_kept /payloads/e.bin
	mv "$T/payloads/e.bin" "$T/e.bin"
	ln -s "$T/e.bin" "$T/payloads/e.bin"
	req GET /payloads/e.bin
	expect_status 404
}

test_artifact_kept() {
	local f=$T/state/artifacts/$ART/initrd
	expect_kept "/artifacts/$ART/initrd"
	expect_body_file "$f"
	expect_header ETag "\"$(sha "$f")\""
	expect_header Cache-Control 'public, max-age=31536000, immutable'
	# an artifact directory reached through a link is never served, kept response or not
	ln -s "$T/state/artifacts/$ART" "$T/state/artifacts/${ART//0/f}"
	req GET "/artifacts/${ART//0/f}/initrd"
	expect_status 404
	mv "$f" "$T/initrd.gone"
	req GET "/artifacts/$ART/initrd"
	expect_status 404
}

# Clients at once, each with several requests on one keep-alive connection, of a populated
# mapping (8 x 12), a mapping faulted in while sending (4 x 3) and a sendfile body (2 x 2):
# every copy has the exact bytes.
test_parallel_keep_alive_exact_bytes() {
	local spec name clients each i j pids=() urls
	local specs="mapped:8:12 big:4:3 large:2:2"
	for spec in $specs; do
		IFS=: read -r name clients each <<<"$spec"
		expect_kept "/payloads/$name.bin"
		for i in $(seq "$clients"); do
			urls=()
			for j in $(seq "$each"); do urls+=(-o "$T/par.$name.$i.$j" "$TB_URL/payloads/$name.bin"); done
			curl -s --max-time 60 "${urls[@]}" &
			pids+=($!)
			own_pid "$!"
		done
	done
	for i in "${pids[@]}"; do wait "$i" || fail "curl $i failed"; done
	# the path each size took: up to 64 MiB a kept mapping, above it an open file
	grep -q "/payloads/big.bin$" "/proc/$TB_PID/maps" || fail "the 16 MiB big.bin is not mapped"
	! grep -q "/payloads/large.bin$" "/proc/$TB_PID/maps" || fail "the 65 MiB large.bin is mapped"
	for spec in $specs; do
		IFS=: read -r name clients each <<<"$spec"
		local want bad=0 n=$((clients * each))
		want=$(sha "$T/payloads/$name.bin")
		for f in "$T"/par."$name".*; do [[ $(sha "$f") == "$want" ]] || bad=$((bad + 1)); done
		[[ $bad -eq 0 ]] || fail "$name: $bad of $n copies differ"
		[[ $(ls "$T"/par."$name".* | wc -l) -eq $n ]] || fail "$name: $(ls "$T"/par."$name".* | wc -l) copies, want $n"
		rm -f "$T"/par."$name".*
	done
}

# A rack behind one NAT address: 150 connections from 127.0.0.1 are all served on the default
# limits (before: libmicrohttpd reset every connection past 128 from one address).
test_one_address_many_connections() {
	local fds=() fd i ok=0
	for i in $(seq 150); do
		exec {fd}<>"/dev/tcp/${TB%:*}/${TB##*:}" || break
		fds+=("$fd")
	done
	[[ ${#fds[@]} -eq 150 ]] || fail "opened ${#fds[@]} of 150 sockets"
	sleep 0.3
	req GET /healthz --max-time 5
	expect_status 200
	# the early ones are still open and served too
	for fd in "${fds[@]:0:3}" "${fds[@]: -3}"; do
		printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&"$fd" 2>/dev/null || continue
		IFS= read -r -t 5 -u "$fd" line && [[ $line == *" 200 "* ]] && ok=$((ok + 1))
	done
	[[ $ok -eq 6 ]] || fail "$ok of 6 held connections answered 200"
	for fd in "${fds[@]}"; do exec {fd}<&-; done
}

run_tests
status=$?
tb_stop
[[ $CURRENT_FAILED -eq 0 ]] || { echo "test_static_cache.sh: daemon shutdown failed"; echo "test_static_cache.sh: $TESTS_PASSED passed, $((TESTS_FAILED + 1)) failed"; exit 1; }
exit $status
