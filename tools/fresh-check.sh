#!/bin/sh
# make fresh-check: a newcomer's first run, on a machine that has only what
# the README installs. Builds a minimal Debian 12 root with mmdebstrap (minbase
# with gcc and make, nothing else), mounts /proc, /sys and /dev into it, copies
# a clean clone of HEAD in, and runs the README's two commands there as printed,
# as root: make demo, then make test (and make doctor between them, which must
# say the machine is ready). Prints each command's time and verdict,
# then the summary line of make test, and appends one line to
# docs/figures/fresh-runs.txt. Everything it mounts is unmounted and every
# process left in the root is ended, on every exit path.
# Then, in the same root, two first builds of the Windows libcurl at once into
# an empty cache: both must succeed (tools/win-curl.sh takes a lock).
# Usage: tools/fresh-check.sh [--backports] [--keep] [--only-demo]
#   --backports  bookworm-backports in the root's apt sources (deb and deb-src),
#                as on a machine that has enabled it
#   --keep       leave the root (unmounted) for a look: /var/tmp/iocp-tutorial-fresh/root,
#                or FRESH_DIR/root; the logs are in build/fresh-logs/NAME (FRESH_DIR's name)
#   --only-demo  make demo only (a quick look at the install steps)
# Exit: 0 when every step is green, 1 when one is red, 2 when it cannot run here.
set -u
cd "$(dirname "$0")/.."
here=$(pwd)
backports=0; keep=0; only_demo=0
for a in "$@"; do
    case "$a" in
        --backports) backports=1 ;;
        --keep) keep=1 ;;
        --only-demo) only_demo=1 ;;
        *) echo "usage: tools/fresh-check.sh [--backports] [--keep] [--only-demo]" >&2; exit 2 ;;
    esac
done
say() { echo "fresh-check: $*"; }
[ "$(id -u)" = 0 ] || { say "needs root (mmdebstrap, chroot and mounts); run it as root" >&2; exit 2; }
[ "$(uname -s)" = Linux ] || { say "needs Linux" >&2; exit 2; }
command -v mmdebstrap >/dev/null 2>&1 || tools/bootstrap.sh fresh || exit 2

# The root lives outside the clone, never under build/: a make clean or a
# search of the tree must not walk into the /dev and /sys mounted in it.
work=${FRESH_DIR:-/var/tmp/iocp-tutorial-fresh}
case "$work" in "$here"|"$here"/*) say "FRESH_DIR must be outside the clone" >&2; exit 2 ;; esac
root=$work/root
logs=$here/build/fresh-logs/$(basename "$work")     # two roots at once keep two logs
record=docs/figures/fresh-runs.txt

in_root() {   # the pids whose root directory is inside the fresh root
    for p in /proc/[0-9]*; do
        r=$(readlink "$p/root" 2>/dev/null) || continue
        case "$r" in "$root"|"$root"/*) echo "${p#/proc/}" ;; esac
    done
}
unmount_all() {   # deepest first, so nothing under a mount point is left busy
    grep -o " $root/[^ ]*" /proc/mounts | sed 's/^ //' | sort -r | while read -r m; do
        umount -l "$m" 2>/dev/null || umount -f "$m" 2>/dev/null
    done
}
cleanup() {
    pids=$(in_root)
    [ -n "$pids" ] && kill -9 $pids 2>/dev/null
    unmount_all
    if grep -q " $root/" /proc/mounts; then say "could not unmount everything under $root" >&2; fi
    [ "$keep" = 1 ] || rm -rf --one-file-system "$root"
}
trap 'cleanup' EXIT
trap 'say "interrupted"; exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# A root left by a run that was killed: unmount it before removing it.
unmount_all
rm -rf --one-file-system "$root" "$logs"
mkdir -p "$work" "$logs"

commit=$(git rev-parse --short HEAD)
git diff --quiet HEAD 2>/dev/null || say "note: tests HEAD ($commit); uncommitted changes are not in it"

# The root's apt sources: the archive this machine's apt uses, for bookworm and
# its security suite (another machine's mirror works the same).
uri_for() {   # uri_for SUITE: the first URI this machine's apt reads SUITE from
    { cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk -v s="$1" '
        /^Types:/ { deb = ($0 ~ /(^| )deb( |$)/) } /^URIs:/ { u = $2 }
        /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s && deb) { print u; exit } }'
      grep -h "^deb [^ ]* $1 " /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        awk '{ print $2 }'; } | head -1
}
main=$(uri_for bookworm); sec=$(uri_for bookworm-security)
[ -n "$main" ] || main=http://deb.debian.org/debian
[ -n "$sec" ] || sec=http://deb.debian.org/debian-security
set -- "deb $main bookworm main" "deb $main bookworm-updates main" "deb $sec bookworm-security main"
[ "$backports" = 1 ] && set -- "$@" "deb $main bookworm-backports main" "deb-src $main bookworm-backports main"
what="minbase+gcc+make$( [ "$backports" = 1 ] && echo ', bookworm-backports enabled')"

say "building a minimal Debian 12 root ($what) in $root"
t0=$(date +%s)
if ! mmdebstrap --quiet --variant=minbase --include=gcc,make,libc6-dev bookworm "$root" "$@" \
        > "$logs/mmdebstrap.log" 2>&1; then
    say "mmdebstrap failed; its log:" >&2; tail -20 "$logs/mmdebstrap.log" >&2; exit 1
fi
say "root made in $(( $(date +%s) - t0 )) s"
# what a machine on this network has: a resolver, localhost in /etc/hosts, and
# the certificate authorities this machine's administrator added for it (a
# network that inspects TLS needs its own; ca-certificates takes them in when
# the README's commands install it)
cp /etc/resolv.conf "$root/etc/resolv.conf"
[ -s "$root/etc/hosts" ] || printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' > "$root/etc/hosts"
if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
    mkdir -p "$root/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
fi

mount -t proc proc "$root/proc" &&
    mount --rbind /sys "$root/sys" && mount --make-rslave "$root/sys" &&
    mount --rbind /dev "$root/dev" && mount --make-rslave "$root/dev" ||
    { say "could not mount /proc, /sys and /dev into the root" >&2; exit 1; }

src=/root/iocp-tutorial
git clone -q --no-hardlinks "$here" "$root$src" ||
    { say "could not clone HEAD into the root" >&2; exit 1; }

# What the root can do that the chapters need: say it plainly, and the run is red.
chroot "$root" sh -c 'test -r /proc/self/status && test -c /dev/null && test -d /sys/kernel' ||
    { say "the root has no working /proc, /dev or /sys" >&2; exit 1; }

# run NAME CMD: CMD as a newcomer types it, in the clone, as root with a login's
# environment; prints its time and verdict
run() {
    name=$1; cmd=$2
    say "running '$cmd' in the root (log: $logs/$name.log)"
    t=$(date +%s)
    { chroot "$root" /usr/bin/env -i HOME=/root USER=root LOGNAME=root SHELL=/bin/sh \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TERM=dumb \
        sh -c "cd $src && $cmd" < /dev/null 2>&1; echo $? > "$logs/$name.rc"; } | tee "$logs/$name.log"
    rc=$(cat "$logs/$name.rc")
    secs=$(( $(date +%s) - t ))
    # nothing may outlive the command: give stragglers 10 s, then name and end them
    n=0; while [ -n "$(in_root)" ] && [ $n -lt 10 ]; do sleep 1; n=$((n + 1)); done
    left=$(in_root)
    if [ -n "$left" ]; then
        say "'$cmd' left processes running:" >&2
        for p in $left; do echo "  $p $(tr '\0' ' ' < /proc/$p/cmdline 2>/dev/null | cut -c1-120)" >&2; done
        kill -9 $left 2>/dev/null; [ "$rc" = 0 ] && rc=1     # green only with nothing left
    fi
    eval "${name}_rc=$rc ${name}_s=$secs"
    say "'$cmd': $( [ "$rc" = 0 ] && echo green || echo "red (exit $rc)"), $secs s"
}

run demo "make demo"
# Wine and io_uring must work in the root, or the chapters that need them
# cannot show anything there: say which, and the run is red
can_rc=0
if [ "$demo_rc" = 0 ]; then
    grep -q '^ch03.exe  *select (Wine)  *16  *16 ' "$logs/demo.log" ||
        { say "Wine does not work in the root: make demo has no ch03.exe row with 16 of 16" >&2; can_rc=1; }
    grep -q '^ch08  *uring-poll  *16  *16 ' "$logs/demo.log" ||
        { say "io_uring does not work in the root: make demo has no ch08 row with 16 of 16" >&2; can_rc=1; }
fi
# the workshop's first screen: right after make demo, make doctor is ready (exit 0)
doctor_rc=skipped; doctor_s=0
[ "$demo_rc" = 0 ] && run doctor "make doctor"
test_rc=skipped; test_s=0; summary=""
if [ "$only_demo" = 0 ]; then
    run test "make test"
    summary=$(grep '^summary: ' "$logs/test.log" | tail -1)
    [ -n "$summary" ] || summary="summary: make test printed none"
    # a skip in a fresh root is something the README's commands did not make work
    case "$summary" in
        *", 0 skipped") ;;
        *) say "make test skipped tests in the root:" >&2
           grep -h '^\[SKIP\]' "$root$src"/build/test-logs/*.txt 2>/dev/null | sort -u | head -5 >&2
           can_rc=1 ;;
    esac
fi

# Two first builds of the Windows libcurl at once, into one empty cache: both
# must succeed and name the same prefix.
lock_rc=skipped
if [ "$only_demo" = 0 ] && [ "$demo_rc" = 0 ]; then
    say "two first builds of the Windows libcurl at once, into an empty cache"
    t=$(date +%s)
    chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 sh -c "
        cd $src; export CURL_WIN_CACHE=/root/two-builds; rm -rf \$CURL_WIN_CACHE
        tools/win-curl.sh > /root/one.out 2> /root/one.err & a=\$!
        tools/win-curl.sh > /root/two.out 2> /root/two.err & b=\$!
        wait \$a; ra=\$?; wait \$b; rb=\$?
        echo \"first exit \$ra: \$(cat /root/one.out)\"; echo \"second exit \$rb: \$(cat /root/two.out)\"
        grep -h 'waiting for it' /root/one.err /root/two.err
        [ \$ra = 0 ] && [ \$rb = 0 ] && [ -s /root/one.out ] && cmp -s /root/one.out /root/two.out &&
            [ -f \"\$(cat /root/one.out)/lib/libcurl.a\" ]" < /dev/null > "$logs/two-builds.log" 2>&1
    lock_rc=$?
    cat "$logs/two-builds.log"
    say "two first builds at once: $( [ $lock_rc = 0 ] && echo 'both succeeded' || echo 'RED'), $(( $(date +%s) - t )) s"
fi

verdict=green
[ "$demo_rc" = 0 ] && [ "$doctor_rc" = 0 ] && [ "$can_rc" = 0 ] || verdict=red
[ "$only_demo" = 1 ] || { [ "$test_rc" = 0 ] && [ "$lock_rc" = 0 ]; } || verdict=red
mem=$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
line="$commit $(date -u +%Y-%m-%dT%H:%MZ) $verdict; Debian 12 root ($what) on $(uname -r), $(nproc) cores, $mem;"
line="$line make demo ${demo_s} s exit $demo_rc; make doctor exit $doctor_rc; Wine, io_uring, no skips: $( [ "$can_rc" = 0 ] && echo ok || echo NO)"
[ "$only_demo" = 1 ] || line="$line; make test ${test_s} s exit $test_rc; two first builds: $( [ "$lock_rc" = 0 ] && echo ok || echo "exit $lock_rc"); $summary"
echo "$line" >> "$record"
say "recorded in $record:"
echo "  $line"
[ -z "$summary" ] || echo "$summary"
[ "$verdict" = green ]
