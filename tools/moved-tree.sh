#!/bin/sh
# A built tree that is copied elsewhere (a USB stick, `cp -a` to a home folder)
# must test its own programs, not the ones of the tree it was built in.
# Copies this tree's sources and build/native + build/win to a temporary
# folder, puts a wrapper in place of the copy's ch01 that leaves a mark, runs
# the copy's tests there, and checks:
#   - the copy's ch01 ran (and the original's did not),
#   - the copy's Windows program results were written into the copy.
# Usage: tools/moved-tree.sh        (needs make build first)
set -u
cd "$(dirname "$0")/.."
here=$(pwd)
[ -x build/native/tests/test-ch01 ] || { echo "moved-tree: build first (make build)" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/moved-tree.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
copy="$tmp/elsewhere"
mkdir -p "$copy/build"
tar -cf - --exclude=./build . | tar -xf - -C "$copy"
cp -a build/native "$copy/build/"
[ -d build/win ] && cp -a build/win "$copy/build/" && rm -rf "$copy/build/win/results"
[ -d build/wine ] && ln -s "$here/build/wine" "$copy/build/wine"   # the Wine prefix, shared

mv "$copy/build/native/bin/ch01" "$copy/build/native/bin/ch01.real"
printf '#!/bin/sh\ntouch "%s/ran"\nexec "%s/build/native/bin/ch01.real" "$@"\n' "$tmp" "$copy" \
    > "$copy/build/native/bin/ch01"
chmod +x "$copy/build/native/bin/ch01"

fail=0
(cd /; "$copy/build/native/tests/test-ch01" --filter 'ch01_blocking/usage_errors_exit_2') \
    > "$tmp/native.log" 2>&1 || { echo "moved-tree: the copy's ch01 tests failed:"; tail -5 "$tmp/native.log"; fail=1; }
if [ -f "$tmp/ran" ]; then
    echo "moved-tree: the copied tree's tests ran the copy's ch01 (from /, not from the tree)"
else
    echo "moved-tree: the copied tree's tests did NOT run the copy's ch01"; fail=1
fi

if [ -d "$copy/build/win/bin" ] && [ -f "$copy/build/win/bin/win_quirks.exe" ]; then
    before=$(ls build/win/results 2>/dev/null | wc -l)
    (cd /; "$copy/build/native/tests/test-ch04" --filter 'ch04_poll/wine_fd_setsize_is_64') \
        > "$tmp/wine.log" 2>&1 || { echo "moved-tree: the copy's Wine test failed:"; tail -5 "$tmp/wine.log"; fail=1; }
    after=$(ls build/win/results 2>/dev/null | wc -l)
    if ls "$copy"/build/win/results/win_quirks.exe.*.txt >/dev/null 2>&1 && [ "$before" = "$after" ]; then
        echo "moved-tree: the copy's Windows program ran under Wine and wrote its results in the copy"
    else
        echo "moved-tree: the copy's Wine test did not use the copy's programs"; fail=1
    fi
fi
exit $fail
