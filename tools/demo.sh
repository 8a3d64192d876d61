#!/bin/sh
# The demo: one workload (16 x /delay/300 on the local server) through every
# chapter's program, and a table of what each model took.
# Usage: tools/demo.sh BIN_DIR ID...
set -u
bin="$1"
[ -n "${SERVER:-}" ] || exec tools/with-server.sh "$bin" "$0" "$@"
shift
work="${DEMO_WORK:--n 16 /delay/300}"
echo "demo: $work on the local server at $SERVER ($(nproc) cores)"
printf '%-8s %-16s %9s %4s %12s\n' chapter model transfers ok "wall time"
rc=0
win="$bin/../../win/bin"
# ch08 has no loop program of its own: its uring-poll backend runs in ch05's.
extra=""
[ -x "$bin/ch08" ] && [ -x "$bin/ch05" ] && extra="ch08"
for id in "$@" $extra $(for e in ch02 ch03 ch04; do [ -f "$win/$e.exe" ] && echo "$e.exe"; done); do
    case "$id" in
        *.exe) line=$(tools/wine-run.sh 120 "$win/$id" -q $work | tr -d '\r' | grep '^total:')
               label="$id" ;;
        ch08)  line=$("$bin/ch05" -q -b uring-poll $work 2>/dev/null | grep '^total:'); label=ch08
               [ -n "$line" ] || { echo "ch08     skipped: io_uring is unavailable here"; continue; } ;;
        *)     line=$("$bin/$id" -q $work | grep '^total:'); label="$id" ;;
    esac
    [ -n "$line" ] || { echo "demo: $id printed no total" >&2; rc=1; continue; }
    model=$(echo "$line" | sed -n 's/.*model=\([^ ]*\).*/\1/p')
    n=$(echo "$line" | sed -n 's/.*transfers=\([0-9]*\).*/\1/p')
    ok=$(echo "$line" | sed -n 's/.* ok=\([0-9]*\).*/\1/p')
    wall=$(echo "$line" | sed -n 's/.*wall=\([0-9]*\) ms.*/\1/p')
    case "$id" in *.exe) model="$model (Wine)" ;; esac
    printf '%-8s %-16s %9s %4s %9s ms\n' "$label" "$model" "$n" "$ok" "$wall"
    [ "$ok" = "$n" ] || rc=1
done
exit $rc
