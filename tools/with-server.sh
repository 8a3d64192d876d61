#!/bin/sh
# Run a command with the local server up: starts BIN_DIR/server on a free
# port, exports SERVER=http://127.0.0.1:PORT, runs the command, stops the server.
# Usage: tools/with-server.sh BIN_DIR COMMAND...
set -u
bin="$1"; shift
fifo=$(mktemp -u "${TMPDIR:-/tmp}/srv.XXXXXX")
mkfifo "$fifo"
"$bin/server" > "$fifo" &
pid=$!
read -r SERVER < "$fifo"
rm -f "$fifo"
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT INT TERM
[ -n "$SERVER" ] || { echo "with-server: the local server did not start" >&2; exit 1; }
export SERVER
"$@"
