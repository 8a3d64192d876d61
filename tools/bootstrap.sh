#!/bin/sh
# Install what the project needs, once: apt as root (or sudo), else print the apt line.
# Usage: tools/bootstrap.sh native|windows|bench|docs|test|fresh|all
#   make demo installs windows (which takes in native); make test installs test:
#   all that its checks run, the site check's Chromium and Node.js and make
#   bench's tools for chapter 9's short run (make ch09) among them
set -eu

want="${1:-native}"
pkgs_native="gcc make pkg-config libcurl4-openssl-dev libcriterion-dev libmicrohttpd-dev libuv1-dev doxygen graphviz liburing-dev"
pkgs_windows="gcc-mingw-w64-x86-64 wine64 wine dpkg-dev"
pkgs_bench="nginx-light wrk gnuplot-nox curl strace valgrind iproute2"
# perf is Debian's linux-perf; Ubuntu ships it per kernel (linux-tools-*), and
# without it make bench counts system calls with strace and skips perf's profiles
if command -v apt-cache >/dev/null 2>&1 && apt-cache show linux-perf >/dev/null 2>&1; then
    pkgs_bench="$pkgs_bench linux-perf"
fi
pkgs_docs="chromium ca-certificates"
pkgs_fresh="mmdebstrap"
command -v npm >/dev/null 2>&1 || pkgs_docs="$pkgs_docs nodejs npm"

case "$want" in
    native)  pkgs="$pkgs_native" ;;
    windows) pkgs="$pkgs_native $pkgs_windows" ;;
    bench)   pkgs="$pkgs_native $pkgs_bench" ;;
    docs)    pkgs="$pkgs_native $pkgs_docs" ;;
    test)    pkgs="$pkgs_native $pkgs_windows $pkgs_bench $pkgs_docs patch" ;;
    fresh)   pkgs="$pkgs_fresh" ;;
    all)     pkgs="$pkgs_native $pkgs_windows $pkgs_bench $pkgs_docs" ;;
    *) echo "bootstrap: unknown set '$want' (native|windows|bench|docs|test|fresh|all)" >&2; exit 2 ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
    # Not Debian/Ubuntu (macOS, MSYS2): nothing to install from here.
    [ -f build/.bootstrap-note ] || { mkdir -p build; touch build/.bootstrap-note
        echo "bootstrap: no apt here; needs libcurl, criterion, libmicrohttpd, doxygen, pkg-config" >&2; }
    exit 0
fi

missing=""
for p in $pkgs; do
    st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
    case "$st" in ii*) ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0

line="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" = 0 ]; then sudo=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo"
else
    echo "bootstrap: missing packages:$missing" >&2
    echo "bootstrap: run as root:  apt-get update && $line" >&2
    exit 1
fi
why() {
    case "$1" in
        nginx-light) echo "the server make bench measures against" ;;
        wrk) echo "make bench's non-libcurl reference client" ;;
        gnuplot-nox) echo "draws make bench's plots" ;;
        curl) echo "curl --parallel, a reference runner in make bench" ;;
        strace) echo "counts make bench's system calls per transfer where perf cannot" ;;
        linux-perf) echo "counts make bench's system calls at full speed, and records its profiles" ;;
        valgrind) echo "counts the instructions per transfer in make bench's profiles (callgrind)" ;;
        gcc-mingw-w64-x86-64) echo "builds the Windows programs" ;;
        wine64|wine) echo "runs the Windows programs" ;;
        dpkg-dev) echo "unpacks Debian's curl source for the Windows libcurl" ;;
        patch) echo "the breakers apply their one-line patches with it" ;;
        iproute2) echo "make bench checks with ss that its nginx port is free" ;;
        libcriterion-dev) echo "the test framework" ;;
        libmicrohttpd-dev) echo "the local HTTP server" ;;
        libuv1-dev) echo "the libuv reference loop" ;;
        liburing-dev) echo "io_uring, chapter 8" ;;
        doxygen|graphviz) echo "make docs" ;;
        chromium) echo "make docs loads every page in it (headless) to check the site" ;;
        ca-certificates) echo "npm fetches playwright-core over HTTPS" ;;
        mmdebstrap) echo "make fresh-check builds a minimal Debian 12 root with it" ;;
        nodejs|npm) echo "drives Chromium for the site check (playwright-core)" ;;
        libcurl4-openssl-dev) echo "libcurl" ;;
        *) echo "building" ;;
    esac
}
echo "bootstrap: installing these with apt-get, as root, before going on:"
for p in $missing; do printf '  %-24s %s\n' "$p" "$(why "$p")"; done
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends$missing >/dev/null
echo "bootstrap: done"
