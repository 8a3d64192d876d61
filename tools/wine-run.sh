#!/bin/sh
# Run a Windows program under Wine, with a time limit and a private prefix.
# Usage: tools/wine-run.sh SECONDS PROGRAM.exe ARGS...
#        tools/wine-run.sh --hold SECONDS    start a persistent wineserver (see below)
#        tools/wine-run.sh --release         end it
# The program's stdout and stderr pass through; Wine's own messages go to build/wine.log.
# Runs are serialised on one lock, and every run ends with wineserver -k, so no
# wineserver outlives it holding the caller's descriptors; unless a run of many
# programs (make test, the breakers) holds the server: --hold starts it with no
# descriptor of a caller's (it exits by itself SECONDS after its last client)
# and boots Wine's services in it, the holder exports WINE_HELD=1 and ends it
# with --release on its way out. Each program then starts in about 0.5 s, not
# 2.6 s (this machine, idle, one run each, not kept).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
# WINE_PREFIX_NAME: another prefix under build/ (a breaker worker's own, so two
# programs run at once); made from build/wine by hard links, its registry copied
name=${WINE_PREFIX_NAME:-wine}
export WINEPREFIX="$root/build/$name"
export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml="
export WINEARCH=win64
log="$root/build/wine.log"
mkdir -p "$WINEPREFIX"
command -v wine >/dev/null 2>&1 || { echo "wine-run: wine is not installed (apt-get install wine64 wine)" >&2; exit 125; }
exec 9>"$root/build/$name.lock"
flock 9
if [ "$name" != wine ] && [ ! -f "$WINEPREFIX/system.reg" ] && [ -f "$root/build/wine/system.reg" ]; then
    rm -rf "$WINEPREFIX"
    (flock 8; cp -al "$root/build/wine" "$WINEPREFIX") 8>"$root/build/wine.lock"
    for f in "$root"/build/wine/*.reg; do cp --remove-destination "$f" "$WINEPREFIX/"; done
fi
if [ ! -f "$WINEPREFIX/system.reg" ]; then
    echo "wine-run: first start of the Wine prefix in build/$name (about 10 s)" >&2
    timeout -k 5 180 wineboot -i >>"$log" 2>&1 </dev/null
    wineserver -k >/dev/null 2>&1
fi
# hold SECONDS: start the server unless one runs (wineserver exits 2 then), and
# boot Wine's services in it from here, so no program's run starts them with its
# caller's descriptors
hold() {
    wineserver -p"$1" </dev/null >/dev/null 2>&1 9>&- || return 0
    timeout -k 5 60 wine cmd /c exit </dev/null >>"$log" 2>&1 9>&-
}
case "$1" in
    --hold)
        hold "$2"
        exit 0 ;;
    --release)
        wineserver -k >/dev/null 2>&1
        exit 0 ;;
esac
secs="$1"; shift
# held: make sure the server still runs (it may have timed out), started here
# with no descriptor of the caller's, as --hold does
[ "${WINE_HELD:-}" = 1 ] && hold 900
# The program's own stderr (usage and URL errors) reaches the caller's stderr;
# Wine's messages ("wine: ...", "0024:fixme:...") go to the log.
rcfile=$(mktemp "${TMPDIR:-/tmp}/wine-rc.XXXXXX")
{ { timeout -k 5 "$secs" wine "$@" </dev/null 2>&1 1>&3 3>&-; echo $? > "$rcfile"; } |
    awk -v logf="$log" '/^(wine: |wine client error|[0-9a-f]+:(fixme|err|warn|trace):|(fixme|err|warn):)/ {
                           print >> logf; fflush(logf); next }
                       { print > "/dev/stderr"; fflush("/dev/stderr") }'; } 3>&1
rc=$(cat "$rcfile"); rm -f "$rcfile"
[ "${WINE_HELD:-}" = 1 ] || wineserver -k >/dev/null 2>&1
[ $rc -eq 124 ] && echo "wine-run: $1 did not finish within $secs s and was killed" >&2
exit $rc
