#!/bin/sh
# Run a command with the local server up: starts BIN_DIR/server on a free
# port, exports SERVER=http://127.0.0.1:PORT, runs the command, stops the server.
# On SIGINT or SIGTERM it passes the signal on to the command (a chapter
# program then prints its rows), stops the server and exits 130 or 143:
# nothing it started is left running.
# Usage: tools/with-server.sh BIN_DIR COMMAND...
set -u
bin="$1"; shift
pid=; cmd=
stop() {   # SIGNAL EXIT_CODE
    trap '' INT TERM
    if [ -n "$cmd" ]; then
        kill -"$1" "$cmd" 2>/dev/null
        i=0                  # a command that ignores the signal gets TERM after 2 s
        while kill -0 "$cmd" 2>/dev/null && [ $i -lt 20 ]; do sleep 0.1; i=$((i + 1)); done
        kill "$cmd" 2>/dev/null; wait "$cmd" 2>/dev/null
    fi
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    exit "$2"
}
trap 'stop INT 130' INT
trap 'stop TERM 143' TERM
fifo=$(mktemp -u "${TMPDIR:-/tmp}/srv.XXXXXX")
mkfifo "$fifo"
"$bin/server" > "$fifo" &
pid=$!
read -r SERVER < "$fifo"
rm -f "$fifo"
[ -n "$SERVER" ] || { echo "with-server: the local server did not start" >&2; exit 1; }
export SERVER
# In the background, so a signal is handled at once, not when the command
# ends; its stdin is ours (a background command would get /dev/null).
exec 3<&0
"$@" <&3 3<&- &
cmd=$!
wait "$cmd"; rc=$?
cmd=
kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
exit $rc
