#!/bin/sh
# Build a libcurl from Debian's source, for this machine, once, into a cache
# outside the clone, beside Debian 12's own libcurl 7.88.1, which stays the
# default. Prints the install prefix on stdout; progress goes to stderr.
#   tools/curl-build.sh 8   today's libcurl, 8.14.1 from bookworm-backports:
#                           make ... LIBCURL=8 builds, tests and benches on it
#   tools/curl-build.sh 7   Debian 12's 7.88.1 from bookworm, built the same
#                           way: make bench's profiles load it (Debian's own
#                           libcurl is stripped, and names no function)
# Both with -g, frame pointers, HTTP only and OpenSSL: the two profiles
# compare like with like.
#   tools/curl-build.sh 8 win   8.14.1 for the Windows programs: static, Schannel,
#                           cross-built with mingw-w64 (make ... LIBCURL=8 builds
#                           them against it, into build/win-curl8). The default
#                           Windows libcurl stays tools/win-curl.sh's 7.88.1.
#
# apt is asked through a private state directory in the cache (its own sources
# list with one deb-src line for the suite, its own package lists), so
# the machine's apt sources, and so tools/win-curl.sh's choice of version, are
# not changed. The archive's signature is checked against the keys apt trusts.
set -eu

case "${1:-8}" in
    8) suite=bookworm-backports; want=8.14.1 ;;
    7) suite=bookworm; want=7.88.1 ;;
    *) echo "usage: tools/curl-build.sh 7|8 [win]" >&2; exit 2 ;;
esac
case "${2:-}" in
    "")  kind=native ;;
    win) kind=x86_64-w64-mingw32 ;;
    *) echo "usage: tools/curl-build.sh 7|8 [win]" >&2; exit 2 ;;
esac
home="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
cache="${CURL_CACHE:-${XDG_CACHE_HOME:-$home/.cache}/iocp-tutorial}"
mkdir -p "$cache"
say() { echo "curl-build: $*" >&2; }

. "$(dirname "$0")/cache.sh"
# the prefix of a finished build: the cheap path, taken by every make call after the first
built "$cache" "curl-$want-*-$kind" && exit 0
# one build at a time per cache: a second caller waits, then takes the first one's build
lock_cache "$cache" "curl-build-$want-$kind" curl-build
built "$cache" "curl-$want-*-$kind" && exit 0

cc=cc; [ "$kind" = native ] || cc=$kind-gcc
for t in apt-get $cc make pkg-config; do
    command -v "$t" >/dev/null 2>&1 ||
        { say "needs $t (as root: apt-get install build-essential pkg-config gcc-mingw-w64-x86-64)"; exit 1; }
done

apt_dir="$cache/apt-$suite"
mkdir -p "$apt_dir/parts" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
echo "deb-src http://deb.debian.org/debian $suite main" > "$apt_dir/sources.list"
say "asking $suite for curl's source package (private apt state in $apt_dir)"
private_apt apt-get update -qq >"$apt_dir/update.log" 2>&1 ||
    { say "apt-get update for $suite failed, see $apt_dir/update.log"; exit 1; }
ver=$(private_apt apt-cache showsrc curl 2>/dev/null | sed -n 's/^Version: //p' | grep "^$want-" | sort -V | tail -1)
[ -n "$ver" ] || { say "$suite has no curl $want source package (it has: $(private_apt apt-cache showsrc curl 2>/dev/null | sed -n 's/^Version: //p' | tr '\n' ' '))"; exit 1; }

prefix="$cache/curl-$ver-$kind"
work="$cache/src-$ver-$kind"
rm -rf "$work" "$prefix"; mkdir -p "$work"
# The upstream tarball the package is built from, checked against the SHA-256 in the
# suite's Sources index (which apt checked against the archive's signed InRelease).
# Only the tarball: the archive's mirror may lack the Debian revision's .dsc, and
# Debian's patches are packaging, not the transfer code the chapters are about.
orig="curl_$want.orig.tar.gz"
record=$(private_apt apt-cache showsrc curl 2>/dev/null |
         awk -v v="$ver" '/^Package: / { keep = 0 } $0 == "Version: " v { keep = 1 } keep')
sum=$(echo "$record" | awk -v f="$orig" '/^Checksums-Sha256:/ { on = 1; next } /^[^ ]/ { on = 0 }
                                        on && $3 == f { print $1; exit }')
dir=$(echo "$record" | sed -n 's/^Directory: //p' | head -1)
[ -n "$sum" ] && [ -n "$dir" ] || { say "the Sources index gives no checksum or directory for $orig"; exit 1; }
url="http://deb.debian.org/debian/$dir/$orig"
say "fetching $orig of Debian's curl $ver"
# apt's own downloader, which every apt machine has (curl and wget may be missing)
/usr/lib/apt/apt-helper download-file "$url" "$work/$orig" > "$work/fetch.log" 2>&1 ||
    { say "could not fetch $url:"; tail -3 "$work/fetch.log" >&2; exit 1; }
echo "$sum  $work/$orig" | sha256sum -c --quiet >/dev/null 2>&1 ||
    { say "$orig does not match the SHA-256 in $suite's Sources index; not building it"; exit 1; }
mkdir -p "$work/src" && tar -xzf "$work/$orig" -C "$work/src" --strip-components=1
start=$(date +%s)
cd "$work/src"
# the same small feature set as every other build here: HTTP only, no compression
features="--disable-ftp --disable-file --disable-ldap --disable-ldaps --disable-rtsp
    --disable-dict --disable-telnet --disable-tftp --disable-pop3 --disable-imap
    --disable-smtp --disable-gopher --disable-mqtt --disable-smb --disable-manual
    --disable-docs --without-zlib --without-brotli --without-zstd --without-libpsl
    --without-libidn2 --without-nghttp2 --without-nghttp3 --without-ngtcp2
    --without-librtmp --without-libssh2 --without-libssh"
if [ "$kind" = native ]; then
    ssl=--without-ssl
    pkg-config --exists openssl 2>/dev/null && ssl=--with-openssl
    say "configuring (HTTP, shared, with symbols, $ssl); takes a few minutes"
    # -g keeps the symbols a profile needs
    CFLAGS="-O2 -g -fno-omit-frame-pointer" ./configure -q --prefix="$prefix" \
        --enable-shared --disable-static $ssl --enable-threaded-resolver $features \
        >"$work/configure.log" 2>&1 || { say "configure failed, see $work/configure.log"; exit 1; }
else
    say "configuring for $kind (Schannel, static, HTTP only); takes a few minutes"
    ./configure -q --host="$kind" --prefix="$prefix" \
        --disable-shared --enable-static --with-schannel --enable-threaded-resolver $features \
        >"$work/configure.log" 2>&1 || { say "configure failed, see $work/configure.log"; exit 1; }
fi
say "compiling libcurl"
make -j"$(nproc)" -C lib >"$work/make.log" 2>&1 || { say "make failed, see $work/make.log"; exit 1; }
make -C lib install >/dev/null 2>&1
make -C include install >/dev/null 2>&1
if [ "$kind" = native ]; then
    make install-pkgconfigDATA >/dev/null 2>&1
    [ -f "$prefix/lib/pkgconfig/libcurl.pc" ] || { say "the install left out libcurl.pc"; exit 1; }
else
    [ -f "$prefix/lib/libcurl.a" ] || { say "the install left out libcurl.a"; exit 1; }
fi
touch "$prefix/.built"
say "built in $(( $(date +%s) - start )) s into $prefix"
rm -rf "$work"
echo "$prefix"
