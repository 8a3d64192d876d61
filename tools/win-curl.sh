#!/bin/sh
# Cross-build a static libcurl for x86_64-w64-mingw32 (Schannel) from Debian's
# own curl source package, once per machine, into a cache outside the clone.
# Prints the install prefix on stdout; progress goes to stderr.
# The version is pinned: the native libcurl's own source version (7.88.1-10+deb12u15
# on Debian 12 today), else the newest revision of its upstream version, whatever
# newer curl another suite (bookworm-backports) offers. One build at a time per cache:
# a second caller waits on the lock, then takes the first one's build.
set -eu

host=x86_64-w64-mingw32
home="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
cache="${CURL_WIN_CACHE:-${XDG_CACHE_HOME:-$home/.cache}/iocp-tutorial}"
mkdir -p "$cache"
say() { echo "win-curl: $*" >&2; }

# the version to build: the native libcurl's (what the chapters' native builds use)
up=$(pkg-config --modversion libcurl 2>/dev/null || true)
[ -n "$up" ] || up=7.88.1
. "$(dirname "$0")/cache.sh"
# the cheap path, taken by every make call after the first
built "$cache" "curl-$up-*-$host" && exit 0
lock_cache "$cache" win-curl win-curl
built "$cache" "curl-$up-*-$host" && exit 0     # the build we waited for

# apt is asked through a private state in the cache: a deb-src copy of this
# machine's own deb entries, less any backports suite, so the machine's apt
# sources are neither read for deb-src (a backports-only deb-src entry offers
# only backports' curl) nor changed, and no root is needed
apt_dir="$cache/apt-win-curl"
rm -rf "$apt_dir"; mkdir -p "$apt_dir/parts" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
[ -f /etc/apt/sources.list ] &&
    sed -n 's/^deb \(.*\)$/deb-src \1/p' /etc/apt/sources.list | grep -v -- '-backports' > "$apt_dir/sources.list"
touch "$apt_dir/sources.list"
for f in /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    sed -n 's/^deb \(.*\)$/deb-src \1/p' "$f" | grep -v -- '-backports' > "$apt_dir/parts/$(basename "$f")" || true
done
for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    # deb822: each stanza whose Types has deb, as deb-src, its backports suites left out
    awk 'function flush() { if (deb && suites != "") printf "%s", stanza "Suites:" suites "\n\n"; stanza = ""; deb = 0; suites = "" }
         /^[ \t]*$/ { flush(); next }
         /^Types:/ { deb = ($0 ~ /(^|[ :])deb( |$)/); stanza = stanza "Types: deb-src\n"; next }
         /^Suites:/ { for (i = 2; i <= NF; i++) if ($i !~ /-backports$/) suites = suites " " $i; next }
         { stanza = stanza $0 "\n" }
         END { flush() }' "$f" > "$apt_dir/parts/$(basename "$f")"
done
say "asking apt for curl's source packages (private apt state in $apt_dir)"
private_apt apt-get update -qq > "$apt_dir/update.log" 2>&1 ||
    { say "apt-get update failed:"; tail -5 "$apt_dir/update.log" >&2; exit 1; }
offered=$(private_apt apt-cache showsrc curl 2>/dev/null | sed -n 's/^Version: //p' | sort -uV)
# the source of the native libcurl itself when apt offers it, else the newest
# revision of its upstream version
ver=$(dpkg-query -W -f='${source:Version}' libcurl4-openssl-dev 2>/dev/null || true)
echo "$offered" | grep -qxF "$ver" || ver=$(echo "$offered" | grep "^$up-" | grep -v '~bpo' | tail -1 || true)
[ -n "$ver" ] || { say "apt offers no curl $up source package (it offers: $(echo $offered))"; exit 1; }
prefix="$cache/curl-$ver-$host"
work="$cache/src-$ver"
rm -rf "$work" "$prefix"; mkdir -p "$work"
say "fetching Debian's curl $ver source"
(cd "$work" && private_apt apt-get source -q --download-only "curl=$ver") > "$work/fetch.log" 2>&1 ||
    { say "apt-get source curl=$ver failed:"; tail -5 "$work/fetch.log" >&2; exit 1; }
(cd "$work" && dpkg-source -x --no-check "curl_${ver#*:}.dsc" src) >> "$work/fetch.log" 2>&1 ||
    { say "dpkg-source could not unpack curl $ver:"; tail -5 "$work/fetch.log" >&2; exit 1; }
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
{ make -C lib install && make -C include install; } >"$work/install.log" 2>&1 ||
    { say "make install failed, see $work/install.log"; exit 1; }
[ -f "$prefix/lib/libcurl.a" ] || { say "the install left out libcurl.a"; exit 1; }
touch "$prefix/.built"
say "built in $(( $(date +%s) - start )) s into $prefix"
rm -rf "$work"
echo "$prefix"
