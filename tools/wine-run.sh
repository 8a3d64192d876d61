#!/bin/sh
# Run a Windows program under Wine, with a time limit and a private prefix.
# Usage: tools/wine-run.sh SECONDS PROGRAM.exe ARGS...
# The program's stdout and stderr pass through; Wine's own messages go to build/wine.log.
# Runs are serialised on one lock, and every run ends with wineserver -k, so no
# wineserver outlives it holding the caller's descriptors.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
secs="$1"; shift
export WINEPREFIX="$root/build/wine"
export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml="
export WINEARCH=win64
log="$root/build/wine.log"
mkdir -p "$WINEPREFIX"
command -v wine >/dev/null 2>&1 || { echo "wine-run: wine is not installed (apt-get install wine64 wine)" >&2; exit 125; }
exec 9>"$root/build/wine.lock"
flock 9
if [ ! -f "$WINEPREFIX/system.reg" ]; then
    echo "wine-run: first start of the Wine prefix in build/wine (about 10 s)" >&2
    timeout -k 5 180 wineboot -i >>"$log" 2>&1 </dev/null
    wineserver -k >/dev/null 2>&1
fi
# The program's own stderr (usage and URL errors) reaches the caller's stderr;
# Wine's messages ("wine: ...", "0024:fixme:...") go to the log.
rcfile=$(mktemp "${TMPDIR:-/tmp}/wine-rc.XXXXXX")
{ { timeout -k 5 "$secs" wine "$@" </dev/null 2>&1 1>&3 3>&-; echo $? > "$rcfile"; } |
    awk -v logf="$log" '/^(wine: |wine client error|[0-9a-f]+:(fixme|err|warn|trace):|(fixme|err|warn):)/ {
                           print >> logf; fflush(logf); next }
                       { print > "/dev/stderr"; fflush("/dev/stderr") }'; } 3>&1
rc=$(cat "$rcfile"); rm -f "$rcfile"
wineserver -k >/dev/null 2>&1
[ $rc -eq 124 ] && echo "wine-run: $1 did not finish within $secs s and was killed" >&2
exit $rc
