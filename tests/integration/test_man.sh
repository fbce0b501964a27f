#!/bin/bash
# test_man.sh - the manual pages: clean under groff and man, in step with --help and the option
# table (options, defaults, file keys, CLI commands), examples accepted, installed where man finds them.
source "$(dirname "$0")/../lib.sh"

# MAN_DIR=DIR runs the checks against other copies of the pages (e.g. one with an entry removed).
MAN_DIR=${MAN_DIR:-$ROOT/man}
PAGES=(tinybootd.8 tinyboot.1 tinybootd.conf.5 machines.conf.5)

# man_text PAGE: the page as man shows it on an 80-column terminal, plain text, ASCII dashes.
man_text() {
	LC_ALL=C.UTF-8 MANWIDTH=80 MANPAGER=cat PAGER=cat man -l "$1" 2>/dev/null |
		sed 's/\xe2\x80\x90/-/g; s/\xe2\x88\x92/-/g'
}

# man_entries SECTION < TEXT: one line "TAG<TAB>DEFAULT" per tagged paragraph (.TP) of SECTION
# in man_text's output. A tag starts at column 7 and its body at column 14: on the next line, or
# on the same line after a tag shorter than 7 columns (TAG then holds the body's first line too:
# callers take the name from its start). DEFAULT is the first word of a body line that starts
# with "Default:", its final '.' dropped; empty when none. Other lines at column 7 (prose) may
# come out as tags too; the callers' patterns for names leave them out.
man_entries() {
	awk -v sec="$1" '
	{ l[NR] = $0 }
	function flush() { if (tag != "") print tag "\t" def; tag = ""; def = "" }
	END {
		for (i = 1; i <= NR; i++) {
			s = l[i]
			if (s ~ /^[A-Z]/) { flush(); insec = (s == sec); continue }
			if (!insec) continue
			if (s ~ /^       [^ ]/) {
				flush()
				if (l[i + 1] ~ /^              [^ ]/ ||
				    (substr(s, 8, 7) ~ /^[^ ]+ +$/ && substr(s, 15, 1) ~ /[^ ]/))
					tag = substr(s, 8)
				continue
			}
			if (tag != "" && s ~ /^              Default: /) {
				d = s; sub(/^ *Default: */, "", d); sub(/ .*/, "", d); sub(/\.$/, "", d)
				def = d
			}
		}
		flush()
	}'
}

# help_options: "NAME<TAB>DEFAULT" for every long option of tinybootd --help ([default] at the end).
help_options() {
	"$TINYBOOTD" --help | sed -nE 's/^ +(-[A-Za-z], +)?--([a-z][a-z0-9-]*)( V)? .*\[([^]]*)\]( \(restart to change\))?$/\2\t\4/p; t
		s/^ +(-[A-Za-z], +)?--([a-z][a-z0-9-]*)( V)? .*/\2\t/p'
}

# page_options PAGE SECTION: "NAME<TAB>DEFAULT" for every tag of SECTION holding a --long option.
page_options() {
	man_text "$1" | man_entries "$2" |
		sed -nE 's/^(-[A-Za-z], )?--([a-z][a-z0-9-]*)[^\t]*\t(.*)$/\2\t\3/p'
}

# page_keys PAGE SECTION: "NAME<TAB>DEFAULT" for every "key = VALUE" tag of SECTION (and its
# subsections, which man_entries sees as lines of their own at column 3: they do not end it).
page_keys() {
	man_text "$1" | sed '/^   [A-Z]/d' | man_entries "$2" |
		sed -nE 's/^([a-z][a-z0-9-]*) = [^\t]*\t(.*)$/\1\t\2/p'
}

# file_keys: the long options tinybootd accepts in a configuration file, asked of tinybootd
# itself: a key it does not take there is "unknown key 'NAME'".
file_keys() {
	local name _ out
	mkdir -p "$T/probe/state" "$T/probe/payloads"
	while IFS=$'\t' read -r name _; do
		printf '%s = x\n' "$name" > "$T/probe/tinybootd.conf"
		out=$("$TINYBOOTD" -n --config "$T/probe/tinybootd.conf" --state "$T/probe/state" \
			--payloads "$T/probe/payloads" --listen 127.0.0.1:0 2>&1)
		[[ $out == *"unknown key '$name'"* ]] || printf '%s\n' "$name"
	done < <(help_options)
}

# same_set WHAT_A FILE_A WHAT_B FILE_B: the first columns of both files hold the same names;
# otherwise each difference is shown, by name, and 1 returned.
same_set() {
	local diff rc=0
	diff=$(comm -23 <(cut -f1 "$2" | sort -u) <(cut -f1 "$4" | sort -u))
	[[ -z $diff ]] || { echo "in $1, not in $3: $(echo $diff)"; rc=1; }
	diff=$(comm -13 <(cut -f1 "$2" | sort -u) <(cut -f1 "$4" | sort -u))
	[[ -z $diff ]] || { echo "in $3, not in $1: $(echo $diff)"; rc=1; }
	return $rc
}

# same_defaults WHAT_A FILE_A WHAT_B FILE_B: for every name in both, the same default (or none).
same_defaults() {
	local out
	out=$(join -t $'\t' <(sort -t $'\t' -k1,1 "$2") <(sort -t $'\t' -k1,1 "$4") |
		awk -F'\t' -v a="$1" -v b="$3" '$2 != $3 {
			printf "--%s: %s says %s, %s says %s\n", $1, a, ($2 == "" ? "no default" : "[" $2 "]"),
				b, ($3 == "" ? "no default" : "[" $3 "]") }')
	[[ -z $out ]] || { echo "$out"; return 1; }
}

# check_options PAGE_DIR: tinybootd(8)'s OPTIONS against --help: names and defaults.
check_options() {
	local out rc=0
	help_options > "$T/help.tsv"
	page_options "$1/tinybootd.8" OPTIONS > "$T/page8.tsv"
	[[ -s $T/page8.tsv ]] || { echo "no options found in $1/tinybootd.8"; return 1; }
	out=$(same_set "tinybootd --help" "$T/help.tsv" "tinybootd(8) OPTIONS" "$T/page8.tsv") || rc=1
	[[ -z $out ]] || echo "$out"
	out=$(same_defaults "tinybootd --help" "$T/help.tsv" "tinybootd(8)" "$T/page8.tsv") || rc=1
	[[ -z $out ]] || echo "$out"
	return $rc
}

# check_keys PAGE_DIR: tinybootd.conf(5)'s KEYS against the options tinybootd takes in a file.
check_keys() {
	local out rc=0
	help_options > "$T/help.tsv"
	# asked once per run: the answer depends on tinybootd, not on the pages
	[[ -s $T/filekeys.txt ]] || file_keys > "$T/filekeys.txt"
	awk -F'\t' 'NR == FNR { k[$1] = 1; next } ($1 in k)' "$T/filekeys.txt" "$T/help.tsv" > "$T/file.tsv"
	page_keys "$1/tinybootd.conf.5" KEYS > "$T/page5.tsv"
	[[ -s $T/page5.tsv ]] || { echo "no keys found in $1/tinybootd.conf.5"; return 1; }
	out=$(same_set "the keys tinybootd takes in a file" "$T/file.tsv" "tinybootd.conf(5) KEYS" "$T/page5.tsv") || rc=1
	[[ -z $out ]] || echo "$out"
	out=$(same_defaults "tinybootd --help" "$T/file.tsv" "tinybootd.conf(5)" "$T/page5.tsv") || rc=1
	[[ -z $out ]] || echo "$out"
	return $rc
}

# check_commands PAGE_DIR: tinyboot(1)'s COMMANDS against tinyboot --help, and every option
# --help names is in its OPTIONS.
check_commands() {
	local out rc=0 help
	help=$("$TINYBOOT_CLI" --help)
	sed -n '/^commands:/,/^$/p' <<<"$help" | sed -nE 's/^  ([a-z][a-z0-9-]*)( .*)?$/\1/p' > "$T/cmds-help.txt"
	man_text "$1/tinyboot.1" | man_entries COMMANDS | cut -f1 | awk '$1 ~ /^[a-z][a-z0-9-]*$/ { print $1 }' > "$T/cmds-page.txt"
	[[ -s $T/cmds-page.txt ]] || { echo "no commands found in $1/tinyboot.1"; return 1; }
	out=$(same_set "tinyboot --help" "$T/cmds-help.txt" "tinyboot(1) COMMANDS" "$T/cmds-page.txt") || rc=1
	[[ -z $out ]] || echo "$out"
	grep -oE -- '--[a-z][a-z0-9-]*' <<<"$help" | sed 's/^--//' | sort -u > "$T/cliopts-help.txt"
	page_options "$1/tinyboot.1" OPTIONS | cut -f1 | sort -u > "$T/cliopts-page.txt"
	out=$(comm -23 "$T/cliopts-help.txt" "$T/cliopts-page.txt")
	[[ -z $out ]] || { echo "in tinyboot --help, not in tinyboot(1) OPTIONS: $(echo $out)"; rc=1; }
	return $rc
}

# have_pages: every page is there (else the current test fails, once).
have_pages() {
	local p missing=()
	for p in "${PAGES[@]}"; do [[ -f $MAN_DIR/$p ]] || missing+=("$p"); done
	[[ ${#missing[@]} -eq 0 ]] || { fail "missing in $MAN_DIR: ${missing[*]}"; return 1; }
}

test_pages_are_clean() {
	local p err
	for p in "${PAGES[@]}"; do
		[[ -f $MAN_DIR/$p ]] || { fail "$MAN_DIR/$p is missing"; continue; }
		err=$(groff -ww -man -Tutf8 -z "$MAN_DIR/$p" 2>&1 >/dev/null)
		[[ -z $err ]] || fail "groff -ww $p: $err"
		err=$(LC_ALL=C.UTF-8 MANWIDTH=80 MANPAGER=cat man --warnings -l "$MAN_DIR/$p" 2>&1 >/dev/null)
		[[ -z $err ]] || fail "man --warnings $p: $err"
		# pure ASCII source: anything else is written as a roff escape
		err=$(LC_ALL=C grep -nP '[^\x00-\x7F]' "$MAN_DIR/$p")
		[[ -z $err ]] || fail "$p: non-ASCII bytes: $err"
		# nothing runs off an 80-column terminal
		err=$(man_text "$MAN_DIR/$p" | awk 'length > 80')
		[[ -z $err ]] || fail "$p: lines over 80 columns: $err"
	done
}

test_tinybootd_options_match_help() {
	local out
	out=$(check_options "$MAN_DIR") || fail "tinybootd(8) drifted from tinybootd --help:"$'\n'"$out"
	# each option once, and the parsers read the defaults on both sides
	out=$(cut -f1 "$T/page8.tsv" | sort | uniq -d)
	[[ -z $out ]] || fail "tinybootd(8) documents these options twice: $(echo $out)"
	grep -qx $'listen\t127.0.0.1:8080' "$T/page8.tsv" || fail "listen's default not read from tinybootd(8)"
	grep -qx $'connection-memory\t64K' "$T/help.tsv" || fail "connection-memory's default not read from --help"
}

test_conf_keys_match_file_options() {
	local out
	out=$(check_keys "$MAN_DIR") || fail "tinybootd.conf(5) drifted from the options tinybootd takes in a file:"$'\n'"$out"
	# command-line-only options are not keys; every other option is
	for k in config check help version; do
		grep -qx "$k" "$T/filekeys.txt" && fail "$k is accepted in a configuration file"
	done
	grep -qx listen "$T/filekeys.txt" || fail "listen is not accepted in a configuration file"
}

test_cli_commands_match_help() {
	local out
	out=$(check_commands "$MAN_DIR") || fail "tinyboot(1) drifted from tinyboot --help:"$'\n'"$out"
	grep -qx pxe-config "$T/cmds-page.txt" || fail "pxe-config not read from tinyboot(1)"
	grep -qx health "$T/cmds-page.txt" || fail "health (a short tag) not read from tinyboot(1)"
}

# drop_entry FILE TEXT: FILE without the tagged paragraph (.TP up to the next .TP, .SH or .SS)
# that holds TEXT (roff source, as written).
drop_entry() {
	DROP=$2 awk '
	function out() { if (buf != "" && !index(buf, ENVIRON["DROP"])) printf "%s", buf; buf = "" }
	/^\.(TP|SH|SS)/ { out(); inblk = 0 }
	/^\.TP$/ { inblk = 1 }
	inblk { buf = buf $0 "\n"; next }
	{ print }
	END { out() }' "$1" > "$1.new" && mv "$1.new" "$1"
}

# set_default FILE TEXT OLD NEW: in the paragraph that holds TEXT, the line OLD becomes NEW.
set_default() {
	TEXT=$2 OLD=$3 NEW=$4 awk '
	/^\.TP$/ { inblk = 0 }
	index($0, ENVIRON["TEXT"]) { inblk = 1 }
	inblk && $0 == ENVIRON["OLD"] { $0 = ENVIRON["NEW"] }
	{ print }' "$1" > "$1.new" && mv "$1.new" "$1"
}

# named OUT LEAD NAME: a line of OUT starts with LEAD and names NAME after it (among others:
# drift elsewhere, e.g. an option being added in a branch, may be listed too).
named() {
	local line
	line=$(grep -F -- "$2" <<<"$1" | head -1)
	[[ -n $line && " ${line#*"$2"} " == *" $3 "* ]]
}

# The checks above fail, by name, on a page that lost an option, a key or a command, or shows a
# wrong default: proven on copies of the pages, every run.
test_drift_is_detected() {
	local d=$T/drifted out rc
	have_pages || return
	mkdir -p "$d"
	cp "$MAN_DIR"/*.[158] "$d/"
	# tinybootd(8) without its --drain-timeout entry, and with connection-timeout's default changed
	drop_entry "$d/tinybootd.8" '\fB\-\-drain\-timeout\fR'
	set_default "$d/tinybootd.8" '\fB\-\-connection\-timeout\fR' '.BR 30 .' '.BR 31 .'
	grep -q 'drain\\-timeout\\fR \\fI' "$d/tinybootd.8" && fail "the drain-timeout entry was not removed"
	rc=0
	out=$(check_options "$d") || rc=$?
	[[ $rc -ne 0 ]] || fail "check_options passed on a page without --drain-timeout"
	named "$out" "in tinybootd --help, not in tinybootd(8) OPTIONS:" drain-timeout ||
		fail "missing option not named: $out"
	[[ $out == *"--connection-timeout: tinybootd --help says [30], tinybootd(8) says [31]"* ]] ||
		fail "changed default not named: $out"
	# tinybootd.conf(5) without the pxe-router key
	drop_entry "$d/tinybootd.conf.5" '\fBpxe\-router\fR = '
	out=$(check_keys "$d")
	named "$out" "not in tinybootd.conf(5) KEYS:" pxe-router || fail "missing key not named: $out"
	# tinyboot(1) without its size command
	drop_entry "$d/tinyboot.1" '.BI size " VARIANT"'
	out=$(check_commands "$d")
	named "$out" "in tinyboot --help, not in tinyboot(1) COMMANDS:" size ||
		fail "missing command not named: $out"
}

# What the pages show as examples is accepted by the parsers they document.
test_examples_are_accepted() {
	local out
	have_pages || return
	mkdir -p "$T/ex/state" "$T/ex/payloads"
	awk '/^\.SH EXAMPLES/ { e = 1 } e && /^\.EX/ { x = 1; next } x && /^\.EE/ { exit } x' \
		"$MAN_DIR/machines.conf.5" | sed 's/\\-/-/g' > "$T/ex/machines.conf"
	grep -q '^default ' "$T/ex/machines.conf" || fail "no example found in machines.conf(5)"
	out=$("$TINYBOOTD" -n --state "$T/ex/state" --machines "$T/ex/machines.conf" 2>&1) ||
		fail "machines.conf(5) example: $out"
	# tinybootd.conf(5)'s examples with pxe = off (no eth1 here) and this test's directories
	awk '/^\.SH EXAMPLES/ { e = 1 } /^\.SH FILES/ { e = 0 } e && /^\.EX/ { x = 1; next } x && /^\.EE/ { x = 0 } x' \
		"$MAN_DIR/tinybootd.conf.5" | sed 's/\\-/-/g' > "$T/ex/tinybootd.conf"
	grep -q '^pxe-range = ' "$T/ex/tinybootd.conf" || fail "no example found in tinybootd.conf(5)"
	out=$("$TINYBOOTD" -n --config "$T/ex/tinybootd.conf" --pxe off --state "$T/ex/state" \
		--machines "$T/ex/machines.conf" 2>&1) || fail "tinybootd.conf(5) examples: $out"
}

test_make_install_puts_pages_where_man_finds_them() {
	local root=$T/root mp p want got
	make -s -C "$ROOT" install DESTDIR="$root" > "$T/install.log" 2>&1 ||
		{ fail "make install failed: $(tail -5 "$T/install.log")"; return; }
	mp=$root/usr/local/share/man
	for p in "1 tinyboot" "8 tinybootd" "5 tinybootd.conf" "5 machines.conf"; do
		set -- $p
		want=$mp/man$1/$2.$1
		got=$(man -M "$mp" -w "$1" "$2" 2>&1)
		expect_eq "$got" "$want" "man -w $1 $2"
		cmp -s "$want" "$ROOT/man/$2.$1" || fail "$want differs from man/$2.$1"
	done
	got=$(LC_ALL=C.UTF-8 MANWIDTH=80 MANPAGER=cat man -M "$mp" 8 tinybootd 2>&1 | sed -n 4p)
	[[ $got == *"tinybootd - build tiny Linux kernels"* ]] || fail "man 8 tinybootd shows: $got"
}

run_tests
