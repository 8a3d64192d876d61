#!/bin/sh
# The claims ledger: every chapter has a "What the tests prove" table, every
# row of it names at least one test, and every test it names exists (a name
# ending in * names every test that starts with it). Test names come from the
# built test programs (criterion --list), so macro-made tests count.
# Usage: tools/claims.sh BUILD_TESTS_DIR chapters/*.md
set -u
dir="$1"; shift
known=$(mktemp)
for t in "$dir"/test-*; do
    [ -x "$t" ] && "$t" --list 2>/dev/null | sed -n 's/^[^a-z_]* \([a-z0-9_]*\)$/\1/p'
done | sort -u > "$known"
[ -s "$known" ] || { echo "claims: no test programs in $dir" >&2; exit 1; }
bad=0; rows=0; names=0
for md in "$@"; do
    awk -v md="$md" -v known="$known" '
    BEGIN { while ((getline k < known) > 0) have[k] = 1 }
    /^## / { insec = ($0 ~ /^## What the tests prove/); if (insec) found = 1; next }
    insec && /^\|/ && !/^\|[- |]*\|$/ && !/^\| *claim *\|/ {
        n = split($0, cell, "|"); last = cell[n - 1]
        cites = 0
        while (match(last, /`[a-z0-9_*]+`/)) {
            name = substr(last, RSTART + 1, RLENGTH - 2); last = substr(last, RSTART + RLENGTH)
            cites++; total++
            ok = 0
            if (name ~ /\*$/) { pre = substr(name, 1, length(name) - 1)
                for (k in have) if (index(k, pre) == 1) { ok = 1; break } }
            else ok = (name in have)
            if (!ok) { printf "%s: the test `%s` does not exist\n", md, name > "/dev/stderr"; bad = 1 }
        }
        rows++
        if (!cites) { printf "%s: a claim cites no test: %s\n", md, $0 > "/dev/stderr"; bad = 1 }
    }
    END {
        if (!found) { printf "%s: no \"What the tests prove\" section\n", md > "/dev/stderr"; bad = 1 }
        printf "%d %d\n", rows, total > "/dev/stderr"
        exit bad
    }' "$md" 2> "$known.err" || bad=1
    grep -v '^[0-9]* [0-9]*$' "$known.err" >&2
    set -- $(grep '^[0-9]* [0-9]*$' "$known.err") ; rows=$((rows + ${1:-0})); names=$((names + ${2:-0}))
done
rm -f "$known" "$known.err"
[ $bad -eq 0 ] && echo "claims: $rows claims, $names test citations, all tests exist"
exit $bad
