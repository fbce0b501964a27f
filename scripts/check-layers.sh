#!/bin/bash
# Check that includes between the daemon's folders point one way:
#   lib <- conf <- build, boot <- http <- tinybootd.c; cli/ stands alone (only lib/log beside it).
# Also: only http/ and tinybootd.c see libmicrohttpd. Prints every violation; exits 1 on any.
set -euo pipefail
cd "$(dirname "$0")/../daemon"

# folder -> the folders its files may include from (besides itself)
declare -A allowed=(
	[lib]=""
	[conf]="lib"
	[build]="lib conf"
	[boot]="lib conf"
	[http]="lib conf build boot root"
	[cli]=""
	[root]="lib conf build boot http"
)
bad=0
while IFS= read -r file; do
	folder=${file%%/*}
	[[ $file == */* ]] || folder=root
	while IFS=: read -r line inc; do
		case $inc in
		'<microhttpd.h>')
			[[ $folder == http || $file == tinybootd.c ]] && continue
			echo "$file:$line: <microhttpd.h> outside http/ and tinybootd.c"
			bad=1
			continue
			;;
		'<'*) continue ;;
		esac
		inc=${inc//\"/}
		target=${inc%%/*}
		[[ $inc == */* ]] || target=root
		[[ $target == "$folder" ]] && continue
		[[ $folder == cli && $inc == lib/log.h ]] && continue
		if [[ " ${allowed[$folder]-} " != *" $target "* ]]; then
			echo "$file:$line: $folder/ may not include \"$inc\""
			bad=1
		fi
		# A bare name would resolve next to the file, hiding which folder it comes from.
		if [[ $target == root && $inc != tinyboot.h ]]; then
			echo "$file:$line: include \"$inc\" without its folder"
			bad=1
		fi
	done < <(grep -n '^[[:space:]]*#[[:space:]]*include' "$file" |
		 sed 's/^\([0-9]*\):[[:space:]]*#[[:space:]]*include[[:space:]]*\([<"][^>"]*[>"]\).*/\1:\2/')
done < <(find . -name '*.[ch]' | sed 's|^\./||' | sort)
if [[ $bad -ne 0 ]]; then
	echo "check-layers: includes must point lib <- conf <- build, boot <- http <- tinybootd.c" >&2
	exit 1
fi
echo "check-layers: ok"
