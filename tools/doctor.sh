#!/bin/sh
# make doctor: what this machine has for the workshop, and what is missing.
# Exit status: 0 when every chapter can run, 1 when something a chapter needs is missing.
set -u
cd "$(dirname "$0")/.."
miss=0; warn=0
row() { printf '  %-34s %s\n' "$1" "$2"; }
ok()   { row "$1" "ok   $2"; }
bad()  { row "$1" "MISSING  $2"; miss=1; }
soft() { row "$1" "optional, missing  $2"; warn=1; }
have() { command -v "$1" >/dev/null 2>&1; }
pc()   { pkg-config --modversion "$1" 2>/dev/null; }

echo "doctor: $(uname -sr), $(nproc 2>/dev/null || echo '?') cores, open-file limit $(ulimit -n)"
echo "chapters 1-5 (native)"
for t in cc make pkg-config; do have $t && ok "$t" "" || bad "$t" "(apt-get install gcc make pkg-config)"; done
v=$(pc libcurl) && ok "libcurl (the default)" "$v" || bad "libcurl" "(apt-get install libcurl4-openssl-dev)"
home="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
cache8="${CURL_CACHE:-${XDG_CACHE_HOME:-$home/.cache}/iocp-tutorial}"
c8=$(ls -d "$cache8"/curl-8.14.1-*-native 2>/dev/null | head -1)
[ -n "$c8" ] && [ -f "$c8/.built" ] &&
    ok "libcurl 8.14.1 (LIBCURL=8, cached)" "$c8" ||
    soft "libcurl 8.14.1 (LIBCURL=8)" "built by the first make ... LIBCURL=8, about 2 minutes (tools/curl-build.sh 8)"
w8=$(ls -d "$cache8"/curl-8.14.1-*-x86_64-w64-mingw32 2>/dev/null | head -1)
[ -n "$w8" ] && [ -f "$w8/.built" ] &&
    ok "libcurl 8.14.1 Windows (cached)" "$w8" ||
    soft "libcurl 8.14.1 Windows" "cross-built by the first make ... LIBCURL=8 with mingw-w64, a few minutes (tools/curl-build.sh 8 win)"
c7=$(ls -d "$cache8"/curl-7.88.1-*-native 2>/dev/null | head -1)
[ -n "$c7" ] && [ -f "$c7/.built" ] &&
    ok "libcurl 7.88.1 symbols (cached)" "$c7 (make bench profiles)" ||
    soft "libcurl 7.88.1 symbols" "built by the first full make bench, about a minute (tools/curl-build.sh 7)"
v=$(pc criterion) && ok "Criterion" "$v" || bad "Criterion" "(apt-get install libcriterion-dev)"
v=$(pc libmicrohttpd) && ok "libmicrohttpd" "$v" || bad "libmicrohttpd" "(apt-get install libmicrohttpd-dev)"
have doxygen && ok "doxygen" "$(doxygen --version)" || bad "doxygen" "(apt-get install doxygen)"
have dot && ok "graphviz" "" || bad "graphviz" "(apt-get install graphviz)"
c=$(command -v chromium || command -v chromium-browser || true)
[ -n "$c" ] && ok "Chromium (make docs site check)" "$c" ||
    soft "Chromium (make docs site check)" "installed by the first make test or make docs (tools/bootstrap.sh docs)"
have npm && ok "npm (make docs, once)" "$(npm --version 2>/dev/null)" ||
    soft "npm (make docs, once)" "installed by the first make test or make docs (tools/bootstrap.sh docs)"
[ -d tools/docs-check/node_modules/playwright-core ] &&
    ok "playwright-core" "tools/docs-check/node_modules" ||
    soft "playwright-core" "fetched from the npm registry by the first make docs"
[ "$(uname -s)" = Linux ] && ok "epoll (chapter 5)" "" || soft "epoll (chapter 5)" "Linux only: chapter 5 is skipped"
[ "$(ulimit -n)" -ge 10064 ] 2>/dev/null && ok "fd limit for 10,000 descriptors" "" ||
    soft "fd limit for 10,000 descriptors" "(ulimit -n is $(ulimit -n); the 10k test uses what it can)"

echo "chapters 4, 6, 7 (Windows programs under Wine)"
have x86_64-w64-mingw32-gcc && ok "mingw-w64" "" || bad "mingw-w64" "(apt-get install gcc-mingw-w64-x86-64)"
if have wine; then
    wv=$(wine --version 2>/dev/null | sed 's/^wine-//; s/ .*//')
    major=${wv%%.*}
    if [ "${major:-0}" -ge 8 ]; then
        ok "wine (chapters tested on 8.0)" "$wv"
    else
        bad "wine (chapters tested on 8.0)" "$wv is older than what chapter 7 was tested on"
    fi
else
    bad "wine" "(apt-get install wine64 wine)"
fi
home="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
cache="${CURL_WIN_CACHE:-${XDG_CACHE_HOME:-$home/.cache}/iocp-tutorial}"
ls -d "$cache"/curl-*-x86_64-w64-mingw32/.built >/dev/null 2>&1 &&
    ok "Windows libcurl (cached)" "$(ls -d "$cache"/curl-*-x86_64-w64-mingw32 | head -1)" ||
    soft "Windows libcurl (cached)" "built by the first make, a few minutes (tools/win-curl.sh)"
[ -f build/wine/system.reg ] && ok "Wine prefix" "build/wine" || soft "Wine prefix" "booted on first use, about 10 s"

echo "chapter 8 (io_uring)"
v=$(pc liburing) && ok "liburing" "$v" || bad "liburing" "(apt-get install liburing-dev)"
if [ -x build/native/bin/ch08 ]; then
    r=$(build/native/bin/ch08 --available 2>/dev/null | head -1)
    case "$r" in skip:*) soft "io_uring in this kernel" "${r#skip: }" ;; *) ok "io_uring in this kernel" "" ;; esac
elif [ -r /proc/sys/kernel/io_uring_disabled ] && [ "$(cat /proc/sys/kernel/io_uring_disabled)" != 0 ]; then
    soft "io_uring in this kernel" "disabled by kernel.io_uring_disabled: chapter 8 skips"
else
    ok "io_uring in this kernel" "(checked for real after make)"
fi

echo "chapter 9 (make bench)"
for t in nginx wrk gnuplot curl; do
    have $t && ok "$t" "" || soft "$t" "installed by the first make bench (tools/bootstrap.sh bench)"
done
v=$(pc libuv) && ok "libuv" "$v" || soft "libuv" "(apt-get install libuv1-dev)"

echo
if [ $miss -eq 0 ]; then
    echo "doctor: ready for every chapter$( [ $warn -eq 1 ] && echo ' (see the optional lines)')"
else
    echo "doctor: something a chapter needs is missing; as root: tools/bootstrap.sh all (or make demo)"
fi
exit $miss
