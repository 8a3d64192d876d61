#!/bin/sh
# Cross-build a static libcurl for x86_64-w64-mingw32 (Schannel) from Debian's
# own curl source package, once per machine, into a cache outside the clone.
# Prints the install prefix on stdout; progress goes to stderr.
set -eu

host=x86_64-w64-mingw32
home="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
cache="${CURL_WIN_CACHE:-${XDG_CACHE_HOME:-$home/.cache}/iocp-tutorial}"
mkdir -p "$cache"
say() { echo "win-curl: $*" >&2; }

ensure_deb_src() {
    if apt-get indextargets --no-release-info 2>/dev/null | grep -q 'Created-By: Sources'; then
        return 0
    fi
    [ "$(id -u)" = 0 ] || { say "no deb-src entry; as root add one for your release's main and run apt-get update"; exit 1; }
    say "adding a deb-src entry (a copy of the deb entries) and updating apt"
    out=/etc/apt/sources.list.d/iocp-tutorial-src
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] && [ "$f" != "$out.sources" ] || continue
        sed '/^Types:/s/^Types:.*/Types: deb-src/' "$f"; echo
    done > "$out.tmp"
    mv "$out.tmp" "$out.sources"
    [ -s "$out.sources" ] || rm -f "$out.sources"
    [ -f /etc/apt/sources.list ] && grep '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' > "$out.list" || true
    [ -s "$out.list" ] || rm -f "$out.list"
    apt-get update -qq >/dev/null
}

ensure_deb_src
ver=$(apt-cache showsrc curl 2>/dev/null | sed -n 's/^Version: //p' | sort -V | tail -1)
[ -n "$ver" ] || { say "apt knows no curl source package"; exit 1; }
prefix="$cache/curl-$ver-$host"
if [ -f "$prefix/.built" ]; then echo "$prefix"; exit 0; fi

work="$cache/src-$ver"
rm -rf "$work" "$prefix"; mkdir -p "$work"
say "fetching Debian's curl $ver source"
(cd "$work" && apt-get source -qq --download-only curl >/dev/null 2>&1 && dpkg-source -x --no-check curl_*.dsc src >/dev/null)
start=$(date +%s)
say "configuring for $host (Schannel, static, HTTP only); takes a few minutes"
cd "$work/src"
./configure -q --host=$host --prefix="$prefix" \
    --disable-shared --enable-static --with-schannel \
    --disable-pthreads --enable-threaded-resolver \
    --disable-ftp --disable-file --disable-ldap --disable-ldaps --disable-rtsp \
    --disable-dict --disable-telnet --disable-tftp --disable-pop3 --disable-imap \
    --disable-smtp --disable-gopher --disable-mqtt --disable-smb --disable-manual \
    --without-zlib --without-brotli --without-zstd --without-libpsl \
    --without-libidn2 --without-nghttp2 --without-librtmp --without-libssh2 \
    >"$work/configure.log" 2>&1 || { say "configure failed, see $work/configure.log"; exit 1; }
say "compiling libcurl"
make -j"$(nproc)" -C lib >"$work/make.log" 2>&1 || { say "make failed, see $work/make.log"; exit 1; }
make -C lib install >/dev/null 2>&1
make -C include install >/dev/null 2>&1
touch "$prefix/.built"
say "built in $(( $(date +%s) - start )) s into $prefix"
rm -rf "$work"
echo "$prefix"
