#!/bin/bash
# The main job: start tinybootd on the embedded default configuration, with its state kept
# outside the repository, and show where it serves. Ctrl-C (SIGINT) stops it cleanly.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
state=${TINYBOOT_STATE:-${XDG_CACHE_HOME:-$HOME/.cache}/tinyboot/state}
listen=${TINYBOOT_LISTEN:-127.0.0.1:8080}
mkdir -p "$state/payloads"
echo "tinyboot: state in $state; try: curl http://$listen/healthz"
exec "$here/build/tinybootd" --listen "$listen" --state "$state"
