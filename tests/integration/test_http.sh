#!/bin/bash
# test_http.sh - the HTTP core against the real daemon over real sockets, with real curl.
source "$(dirname "$0")/../lib.sh"

# Fixtures: payloads of odd sizes, a gzip file, an artifact, and things that must not be served.
mkdir -p "$T/payloads" "$T/state/artifacts" "$T/outside"
head -c 100000 /dev/urandom > "$T/payloads/blob.bin"
printf 'hello\n' > "$T/payloads/hello.txt"
: > "$T/payloads/empty.bin"
printf 'compressed bytes stay compressed\n' | gzip -n > "$T/payloads/initrd.cpio.gz"
echo secret > "$T/outside/secret"
ln -s "$T/outside/secret" "$T/payloads/link"
mkdir "$T/payloads/subdir"
mkfifo "$T/payloads/fifo"
ART=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
mkdir "$T/state/artifacts/$ART"
head -c 4099 /dev/urandom > "$T/state/artifacts/$ART/bzImage"
ln -s "$T/state/artifacts/$ART" "$T/state/artifacts/fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
BLOB_SHA=$(sha256sum "$T/payloads/blob.bin" | cut -d' ' -f1)
BLOB_DATE=$(TZ=GMT date -r "$T/payloads/blob.bin" '+%a, %d %b %Y %H:%M:%S GMT')

tb_start || exit 1

test_healthz() {
	req GET /healthz
	expect_status 200
	expect_header Content-Type application/json
	expect_eq "$(jq -r .status "$T/body")" ok status
	expect_eq "$(jq -r .draining "$T/body")" false draining
}

test_version() {
	req GET /api/v1/version
	expect_status 200
	expect_header Content-Type application/json
	expect_eq "$(jq -r .name "$T/body")" tinybootd name
	expect_eq "$(jq -r .version "$T/body")" "$("$TINYBOOTD" --version | cut -d' ' -f2)" version
	expect_eq "$(jq -r .libraries.libmicrohttpd "$T/body")" 0.9.75 libmicrohttpd
}

test_get_payload() {
	req GET /payloads/blob.bin
	expect_status 200
	expect_header Content-Length 100000
	expect_header Content-Type application/octet-stream
	expect_header ETag "\"$BLOB_SHA\""
	expect_header Last-Modified "$BLOB_DATE"
	expect_header Accept-Ranges bytes
	expect_header Cache-Control no-cache
	expect_no_header Content-Encoding
	expect_body_file "$T/payloads/blob.bin"
}

test_get_text_and_empty() {
	req GET /payloads/hello.txt
	expect_status 200
	expect_header Content-Type "text/plain; charset=utf-8"
	expect_body 'hello\n'
	req GET /payloads/empty.bin
	expect_status 200
	expect_header Content-Length 0
	expect_header ETag "\"$(sha256sum < /dev/null | cut -d' ' -f1)\""
	expect_body ''
}

test_head() {
	req HEAD /payloads/blob.bin
	expect_status 200
	expect_header Content-Length 100000
	expect_header ETag "\"$BLOB_SHA\""
	expect_body ''
}

test_gzip_is_not_content_encoded() {
	req GET /payloads/initrd.cpio.gz -H 'Accept-Encoding: gzip'
	expect_status 200
	expect_header Content-Type application/gzip
	expect_no_header Content-Encoding
	expect_body_file "$T/payloads/initrd.cpio.gz"
}

test_range_first_bytes() {
	req GET /payloads/blob.bin -H 'Range: bytes=0-99'
	expect_status 206
	expect_header Content-Range 'bytes 0-99/100000'
	expect_header Content-Length 100
	head -c 100 "$T/payloads/blob.bin" > "$T/want"
	expect_body_file "$T/want"
}

test_range_middle_open_ended_and_suffix() {
	req GET /payloads/blob.bin -H 'Range: bytes=99990-'
	expect_status 206
	expect_header Content-Range 'bytes 99990-99999/100000'
	tail -c 10 "$T/payloads/blob.bin" > "$T/want"
	expect_body_file "$T/want"
	req GET /payloads/blob.bin -H 'Range: bytes=-7'
	expect_status 206
	expect_header Content-Range 'bytes 99993-99999/100000'
	tail -c 7 "$T/payloads/blob.bin" > "$T/want"
	expect_body_file "$T/want"
	req GET /payloads/blob.bin -H 'Range: bytes=4096-8191'
	expect_status 206
	dd if="$T/payloads/blob.bin" bs=4096 skip=1 count=1 status=none > "$T/want"
	expect_body_file "$T/want"
}

test_range_clamped() {
	req GET /payloads/blob.bin -H 'Range: bytes=99995-200000'
	expect_status 206
	expect_header Content-Range 'bytes 99995-99999/100000'
	expect_header Content-Length 5
	req GET /payloads/blob.bin -H 'Range: bytes=-500000'
	expect_status 206
	expect_header Content-Range 'bytes 0-99999/100000'
	expect_body_file "$T/payloads/blob.bin"
}

test_range_unsatisfiable() {
	req GET /payloads/blob.bin -H 'Range: bytes=100000-'
	expect_status 416
	expect_header Content-Range 'bytes */100000'
	expect_body '416 Range Not Satisfiable\n'
	req GET /payloads/empty.bin -H 'Range: bytes=0-'
	expect_status 416
	expect_header Content-Range 'bytes */0'
}

test_range_ignored_when_multiple_or_invalid() {
	req GET /payloads/blob.bin -H 'Range: bytes=0-1,5-6'
	expect_status 200
	expect_no_header Content-Range
	expect_body_file "$T/payloads/blob.bin"
	req GET /payloads/blob.bin -H 'Range: bytes=9-2'
	expect_status 200
	expect_body_file "$T/payloads/blob.bin"
}

test_if_none_match() {
	req GET /payloads/blob.bin -H "If-None-Match: \"$BLOB_SHA\""
	expect_status 304
	expect_header ETag "\"$BLOB_SHA\""
	expect_body ''
	req GET /payloads/blob.bin -H "If-None-Match: \"nope\", W/\"$BLOB_SHA\""
	expect_status 304
	req GET /payloads/blob.bin -H 'If-None-Match: *'
	expect_status 304
	req GET /payloads/blob.bin -H 'If-None-Match: "0000"'
	expect_status 200
	expect_body_file "$T/payloads/blob.bin"
}

test_if_modified_since() {
	req GET /payloads/blob.bin -H "If-Modified-Since: $BLOB_DATE"
	expect_status 304
	expect_body ''
	req GET /payloads/blob.bin -H 'If-Modified-Since: Thu, 01 Jan 1998 00:00:00 GMT'
	expect_status 200
	req GET /payloads/blob.bin -H 'If-Modified-Since: garbage'
	expect_status 200
	# If-None-Match wins over If-Modified-Since
	req GET /payloads/blob.bin -H "If-Modified-Since: $BLOB_DATE" -H 'If-None-Match: "x"'
	expect_status 200
}

test_if_range() {
	req GET /payloads/blob.bin -H 'Range: bytes=0-9' -H "If-Range: \"$BLOB_SHA\""
	expect_status 206
	req GET /payloads/blob.bin -H 'Range: bytes=0-9' -H 'If-Range: "stale"'
	expect_status 200
	expect_body_file "$T/payloads/blob.bin"
}

test_artifact_is_immutable() {
	req GET "/artifacts/$ART/bzImage"
	expect_status 200
	expect_header Cache-Control 'public, max-age=31536000, immutable'
	expect_header ETag "\"$(sha256sum "$T/state/artifacts/$ART/bzImage" | cut -d' ' -f1)\""
	expect_body_file "$T/state/artifacts/$ART/bzImage"
	req GET "/artifacts/${ART^^}/bzImage"
	expect_status 404
	expect_body '404 Not Found: no such artifact\n'
	req GET /artifacts/0123/bzImage
	expect_status 404
	req GET /artifacts/fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210/bzImage
	expect_status 404
}

test_bad_names_are_400() {
	local p long
	long=$(printf 'a%.0s' $(seq 256))
	for p in /payloads/.. /payloads/../../etc/passwd /payloads/%2e%2e /payloads/%2E%2e/x \
		/payloads/.%2e /payloads/hello.txt%00.bin /payloads/a%0ab /payloads/a%0d%0aX:1 \
		/payloads/.hidden /payloads/a%20b "/payloads/$long" //payloads/hello.txt \
		/payloads/./hello.txt /payloads/a%zz /payloads/%2fetc%2fpasswd '/payloads/$%7Bx%7D'; do
		req GET "$p"
		[[ $STATUS == 400 ]] || fail "$p: status $STATUS, want 400"
		[[ $(cat "$T/body") == '400 Bad Request: invalid name in path' ]] ||
			fail "$p: body '$(cat "$T/body")'"
	done
	req GET "/$(printf 'a/%.0s' $(seq 1100))x"
	expect_status 400
	expect_body '400 Bad Request: path too long\n'
}

test_not_served_outside_or_special() {
	req GET /payloads/link
	expect_status 404
	expect_body "404 Not Found: no such file 'link'\n"
	grep -q secret "$T/body" && fail "symlink target leaked"
	req GET /payloads/subdir
	expect_status 404
	req GET /payloads/fifo --max-time 5
	expect_status 404
	req GET /payloads/missing.bin
	expect_status 404
	expect_body "404 Not Found: no such file 'missing.bin'\n"
	req GET /nope
	expect_status 404
	expect_body '404 Not Found: no such resource\n'
}

test_method_not_allowed() {
	req POST /payloads/hello.txt -d x
	expect_status 405
	expect_header Allow 'GET, HEAD'
	req DELETE /payloads/hello.txt
	expect_status 405
}

# Reports come from guests: bodies over 16 KiB are refused on every spelling of the path.
test_report_body_limit_with_trailing_slash() {
	head -c 20000 /dev/zero | tr '\0' x > "$T/big"
	req POST /api/v1/reports --data-binary @"$T/big"
	expect_status 413
	expect_body '413 Content Too Large: body over 16384 bytes\n'
	req POST /api/v1/reports/ --data-binary @"$T/big"
	expect_status 413
	expect_body '413 Content Too Large: body over 16384 bytes\n'
}

test_keep_alive_reuses_connection() {
	local out
	out=$(curl -sv -o /dev/null -o /dev/null "$TB_URL/payloads/hello.txt" "$TB_URL/payloads/blob.bin" 2>&1)
	grep -q 'Re-using existing connection' <<<"$out" || fail "connection not reused: $out"
	# iPXE's request shape: HTTP/1.1, keep-alive, no Accept
	req GET /payloads/hello.txt -H 'Connection: keep-alive' -H 'User-Agent: iPXE/1.0.0+git' -H 'Accept:'
	expect_status 200
	expect_no_header Connection
}

test_cli() {
	local out
	out=$("$TINYBOOT_CLI" --server "$TB_URL" version) || fail "tinyboot version failed"
	expect_eq "$(jq -r .name <<<"$out")" tinybootd "cli version"
	"$TINYBOOT_CLI" --server "$TB_URL" get /payloads/blob.bin -o "$T/cli.bin" || fail "cli get failed"
	cmp -s "$T/cli.bin" "$T/payloads/blob.bin" || fail "cli get bytes differ"
	"$TINYBOOT_CLI" --server "$TB_URL" get /payloads/missing -o "$T/cli.missing" 2>/dev/null &&
		fail "cli get of a missing file succeeded"
	[[ -e $T/cli.missing ]] && fail "cli left a partial file"
	return 0
}

run_tests
status=$?
tb_stop
[[ $CURRENT_FAILED -eq 0 ]] || { echo "test_http.sh: daemon shutdown failed"; echo "test_http.sh: $TESTS_PASSED passed, $((TESTS_FAILED + 1)) failed"; exit 1; }
exit $status
