#!/bin/sh
# The claims ledger. Every chapter has a "What the tests prove" table; every
# row names at least one test, and every test it names exists (a name ending
# in * names every test that starts with it). In chapters 3-8 the table has a
# third column: the breakers, patches under tests/breakers/ that remove the
# mechanism the claim is about. Every breaker must be cited by a row whose
# tests it names, and (unless CLAIMS_NO_RUN=1) tools/breakers.sh then applies
# each one and requires its tests to fail.
# Usage: tools/claims.sh BUILD_TESTS_DIR chapters/*.md
set -u
dir="$1"; shift
min_breakers=${CLAIMS_MIN_BREAKERS:-30}
known=$(mktemp); bks=$(mktemp); cited=$(mktemp)
trap 'rm -f "$known" "$known.err" "$bks" "$cited"' EXIT
for t in "$dir"/test-*; do
    [ -x "$t" ] && "$t" --list 2>/dev/null | sed -n 's/^[^a-z_]* \([a-z0-9_]*\)$/\1/p'
done | sort -u > "$known"
[ -s "$known" ] || { echo "claims: no test programs in $dir" >&2; exit 1; }
# one line per breaker: NAME TEST TEST ...
for p in tests/breakers/*.patch; do
    [ -f "$p" ] || continue
    echo "$(basename "$p" .patch) $(sed -n 's/^Tests: *//p' "$p" | head -1 | tr ' ' '\n' | sed 's|.*/||' | tr '\n' ' ')"
done > "$bks"
bad=0; rows=0; names=0; withb=0
for md in "$@"; do
    awk -v md="$md" -v known="$known" -v bks="$bks" -v cited="$cited" '
    BEGIN { while ((getline k < known) > 0) have[k] = 1
            while ((getline l < bks) > 0) { n = split(l, f, " "); isb[f[1]] = 1
                for (i = 2; i <= n; i++) brk[f[1] "/" f[i]] = 1 } }
    /^## / { insec = ($0 ~ /^## What the tests prove/); if (insec) found = 1; next }
    insec && /^\|/ && !/^\|[- |]*\|$/ && !/^\| *claim *\|/ {
        n = split($0, cell, "|")
        three = (n >= 5)
        tcell = three ? cell[n - 2] : cell[n - 1]; bcell = three ? cell[n - 1] : ""
        cites = 0; delete rowt
        while (match(tcell, /`[a-z0-9_*]+`/)) {
            name = substr(tcell, RSTART + 1, RLENGTH - 2); tcell = substr(tcell, RSTART + RLENGTH)
            cites++; total++; rowt[name] = 1
            ok = 0
            if (name ~ /\*$/) { pre = substr(name, 1, length(name) - 1)
                for (k in have) if (index(k, pre) == 1) { ok = 1; break } }
            else ok = (name in have)
            if (!ok) { printf "%s: the test `%s` does not exist\n", md, name > "/dev/stderr"; bad = 1 }
        }
        rows++
        if (!cites) { printf "%s: a claim cites no test: %s\n", md, $0 > "/dev/stderr"; bad = 1 }
        nb = 0
        while (match(bcell, /`[a-z0-9_]+`/)) {
            b = substr(bcell, RSTART + 1, RLENGTH - 2); bcell = substr(bcell, RSTART + RLENGTH)
            nb++
            if (!(b in isb)) { printf "%s: no breaker tests/breakers/%s.patch\n", md, b > "/dev/stderr"; bad = 1; continue }
            hit = 0
            for (t in rowt) if ((b "/" t) in brk) hit = 1
            if (!hit) { printf "%s: breaker %s names none of its row'"'"'s tests: %s\n", md, b, $0 > "/dev/stderr"; bad = 1 }
            print b >> cited
        }
        if (nb) withb++
    }
    END {
        if (!found) { printf "%s: no \"What the tests prove\" section\n", md > "/dev/stderr"; bad = 1 }
        printf "%d %d %d\n", rows, total, withb > "/dev/stderr"
        exit bad
    }' "$md" 2> "$known.err" || bad=1
    grep -v '^[0-9]* [0-9]* [0-9]*$' "$known.err" >&2
    set -- $(grep '^[0-9]* [0-9]* [0-9]*$' "$known.err") ; rows=$((rows + ${1:-0})); names=$((names + ${2:-0})); withb=$((withb + ${3:-0}))
done
nbrk=$(wc -l < "$bks")
for b in $(cut -d' ' -f1 "$bks"); do
    grep -qx "$b" "$cited" || { echo "claims: breaker $b is cited by no claim" >&2; bad=1; }
done
if [ "$withb" -lt "$min_breakers" ]; then
    echo "claims: only $withb claims name a breaker; at least $min_breakers must" >&2; bad=1
fi
[ $bad -eq 0 ] || exit 1
echo "claims: $rows claims, $names test citations, all tests exist; $withb claims name one of $nbrk breakers"
[ "${CLAIMS_NO_RUN:-0}" = 1 ] && exit 0
# one line per breaker as it ends, so a person sees where the run is
cd "$(dirname "$0")/.." && { tools/breakers.sh 2>&1; echo $? > build/brk-summary.rc; } | tee build/brk-summary.txt
rc=$(cat build/brk-summary.rc)
[ $rc -eq 0 ] && echo "claims: $withb claims, $nbrk breakers, all caught" || echo "claims: some breakers were NOT caught (see above)"
exit $rc
