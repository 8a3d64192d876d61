#!/bin/sh
# The breakers: for each mechanism a chapter explains, a one-line patch under
# tests/breakers/ that removes it. Each is built into one scratch tree
# (build/brk, with the exercise machinery: EX_REPLACE/EX_WITH), and the tests
# it names must then FAIL; the same tests pass in the ordinary run.
#
# A breaker's first lines, before the diff (patch ignores them):
#   Breaks: what the patch removes, in a reader's words
#   Tests:  suite/test ...      (each must fail with the patch applied)
#   Exes:   win_contract ...    (Windows programs to rebuild; optional)
#   Backends: select ...        (win_contract's backends; optional)
#   Variant: asan               (build the broken tree with ASan+UBSan; optional)
#
# A breaker is caught only when a named test fails by an assertion: a crash,
# a time-out or a Windows program that hung or crashed proves nothing about the
# claim (a Windows program that exits 1 or 2 has said why, and counts; with
# Variant: asan, a sanitizer's report is the claim's reason and counts).
#
# Usage: tools/breakers.sh [NAME...]     (default: every tests/breakers/*.patch)
# Prints one line per breaker and "breakers: M run, all caught" (exit 0), or
# names the survivors (exit 1).
set -u
cd "$(dirname "$0")/.."
tree=${BREAKERS_TREE:-brk}   # the scratch tree under build/ (another name runs beside it)
log=build/$tree/breakers.log
mkdir -p build/$tree
: > "$log"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=0" UBSAN_OPTIONS="halt_on_error=1"

if [ $# -eq 0 ]; then
    set -- $(ls tests/breakers/*.patch 2>/dev/null | sed 's|.*/||; s|\.patch$||')
fi
[ $# -gt 0 ] || { echo "breakers: none in tests/breakers" >&2; exit 1; }

field() { sed -n "s/^$1: *//p" "$2" | head -1; }
have_win=$(command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 && command -v wine >/dev/null 2>&1 && echo yes)

run=0; caught=0; skipped=0; survivors=""
for name in "$@"; do
    p="tests/breakers/$name.patch"
    [ -f "$p" ] || { echo "breakers: no $p" >&2; survivors="$survivors $name"; continue; }
    file=$(sed -n 's|^+++ b/\([^	 ]*\).*|\1|p' "$p" | head -1)
    tests=$(field Tests "$p")
    exes=$(field Exes "$p")
    backends=$(field Backends "$p")
    variant=$tree$( [ "$(field Variant "$p")" = asan ] && echo -asan)
    out=build/$variant
    mkdir -p "$out/patched"
    id=$(echo "$tests" | sed 's/^\(ch[0-9]*\)_.*/\1/')
    if [ -z "$file" ] || [ -z "$tests" ] || [ $(sed -n 's|^+++ b/||p' "$p" | wc -l) -ne 1 ]; then
        echo "breaker $name: needs a Tests: line and a diff of exactly one file" >&2
        survivors="$survivors $name"; continue
    fi
    if [ -n "$exes" ] && [ "$have_win" != yes ]; then
        echo "breaker $name: skipped (needs mingw-w64 and Wine)"; skipped=$((skipped + 1)); continue
    fi
    patched="$out/patched/$(basename "$file")"
    # -F0: the context must match exactly, so a stale breaker is named, not applied elsewhere
    if ! patch -F0 -s -o "$patched" "$file" "$p" >> "$log" 2>&1; then
        echo "breaker $name: the patch no longer applies exactly to $file (regenerate it)" >&2
        survivors="$survivors $name"; continue
    fi
    run=$((run + 1))
    targets="progs $out/tests/test-$id"
    [ -n "$exes" ] && targets="$targets win"
    t0=$(date +%s)
    if ! make --no-print-directory VARIANT="$variant" EX_REPLACE="$file" EX_WITH="$patched" \
            ${exes:+WIN_EXES="$exes"} $targets >> "$log" 2>&1; then
        echo "breaker $name: the broken tree does not build (see $log)" >&2
        survivors="$survivors $name"
    else
        suite=${tests%%/*}
        filter="$suite/@($(echo "$tests" | tr ' ' '\n' | sed 's|^.*/||' | paste -sd'|'))"
        res="$out/run-$name.txt"
        rm -rf "$out/win/results"
        WINE_TIMEOUT=90 WINE_CONTRACT_BACKENDS="$backends" timeout 600 "$out/tests/test-$id" --filter "$filter" \
            -j2 --verbose > "$res" 2>&1
        syn=$(grep 'Synthesis:' "$res" | tail -1)
        tested=$(echo "$syn" | sed -n 's/.*Tested: \([0-9]*\).*/\1/p')
        pass=$(echo "$syn" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
        want=$(echo "$tests" | wc -w)
        failed=$(sed -n 's/^\[\(FAIL\|----\)\] \([a-z0-9_]*::[a-z0-9_]*\).*/\2/p' "$res" | sort -u | tr '\n' ' ')
        # how each named test failed: by an assertion (the claim's reason), or by
        # a crash, a time-out or a Windows program that died (not a verdict on
        # the claim; a sanitizer report is one only for Variant: asan)
        kinds=$(awk -v asan="$(field Variant "$p")" '
            function close_block() {       # one assertion message: the claim, or a Windows program that ended badly
                if (!inblk) return
                if (m ~ /under Wine was killed/) n["wine-hung"]++
                else if (m ~ /under Wine failed/ && m !~ /under Wine failed \(exit [12]\)/) n["wine-crashed"]++
                else n["assertion"]++
                inblk = 0; m = "" }
            /Assertion Failed$/ { close_block(); inblk = 1; next }
            inblk && /^\[----\]   / { m = m $0; next }
            { close_block() }
            /^\[FAIL\] .*CRASH!$/ { n[asan == "asan" && san ? "sanitizer" : "crash"]++ }
            /^\[FAIL\] .*Timed out\./ { n["timeout"]++ }
            /(AddressSanitizer|LeakSanitizer|runtime error:)/ { san = 1 }
            END { close_block()
                  if (asan == "asan" && san && !n["sanitizer"]) n["sanitizer"]++   # ASan exits 1: no CRASH line
                  for (k in n) printf "%s%d %s", (sep++ ? ", " : ""), n[k], k }' "$res")
        [ -n "$kinds" ] || kinds="an exit with no assertion message"
        by_assert=$(echo "$kinds" | tr ',' '\n' | awk '$2 == "assertion" || $2 == "sanitizer" { n += $1 } END { print n + 0 }')
        if [ -z "$syn" ]; then
            verdict="NOT CAUGHT: the test program crashed or hung before its verdict (see $res)"
            survivors="$survivors $name"
        elif [ "${tested:-0}" -lt "$want" ]; then
            verdict="NOT RUN: $tested of $want named tests exist (see $res)"
            survivors="$survivors $name"
        elif [ "$pass" -lt "$tested" ] && [ "$by_assert" -gt 0 ]; then
            verdict="caught by $((tested - pass)) of $tested ($kinds)"; caught=$((caught + 1))
        elif [ "$pass" -lt "$tested" ]; then
            verdict="NOT CAUGHT by an assertion: the tests failed only by $kinds (see $res)"
            survivors="$survivors $name"
        else
            verdict="SURVIVED: all $tested tests pass with the mechanism removed"
            survivors="$survivors $name"
        fi
        echo "breaker $name: $verdict ($(( $(date +%s) - t0 )) s)"
    fi
    # put the tree back: the next breaker rebuilds the original object and programs
    rm -f "$out/obj/${file%.c}.o" "$out/win/obj/${file%.c}.o"
    for e in $exes; do rm -f "$out/win/bin/$e.exe"; done
done

if [ -n "$survivors" ]; then
    echo "breakers: $run run, $caught caught; NOT caught:$survivors (log: $log)"
    exit 1
fi
[ "$skipped" -gt 0 ] && echo "breakers: $run run, all caught, $skipped skipped (no Wine)" \
                     || echo "breakers: $run run, all caught"
exit 0
