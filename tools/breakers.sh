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
# Prints how many and about how long, then one line per breaker as it ends
# ("breakers 37/96, 5 min: breaker NAME: caught by ..."), and "breakers: M run,
# all caught" (exit 0), or names the survivors (exit 1).
#
# BREAKERS_JOBS (2) breakers run at a time, each worker in its own scratch tree
# (build/brk, build/brk2, ...), taking the next name from one queue, the
# slowest first (by the last run's times, build/brk-times.txt). Most of a
# breaker's time is waiting (a server's delay, a test's deadline, Wine), and
# each worker runs its Windows programs in a Wine prefix of its own
# (build/wine-brk, build/wine-brk2, ...), with one wineserver held for the
# worker's whole run.
set -u
cd "$(dirname "$0")/.."
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=0" UBSAN_OPTIONS="halt_on_error=1"

if [ $# -eq 0 ]; then
    set -- $(ls tests/breakers/*.patch 2>/dev/null | sed 's|.*/||; s|\.patch$||')
fi
[ $# -gt 0 ] || { echo "breakers: none in tests/breakers" >&2; exit 1; }

field() { sed -n "s/^$1: *//p" "$2" | head -1; }
have_win=$(command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 && command -v wine >/dev/null 2>&1 && echo yes)

# one NAME: apply the breaker, build the broken tree, run its tests; prints one line
one() {
    name=$1
    p="tests/breakers/$name.patch"
    [ -f "$p" ] || { echo "breakers: no $p" >&2; survivors="$survivors $name"; return; }
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
        survivors="$survivors $name"; return
    fi
    if [ -n "$exes" ] && [ "$have_win" != yes ]; then
        echo "breaker $name: skipped (needs mingw-w64 and Wine)"; skipped=$((skipped + 1)); return
    fi
    patched="$out/patched/$(basename "$file")"
    # -F0: the context must match exactly, so a stale breaker is named, not applied elsewhere
    if ! patch -F0 -s -o "$patched" "$file" "$p" >> "$log" 2>&1; then
        echo "breaker $name: the patch no longer applies exactly to $file (regenerate it)" >&2
        survivors="$survivors $name"; return
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
}

q=build/brk-queue
take() {   # the next name in the queue, or nothing (exit 1) when it is empty
    exec 7>>"$q/lock"; flock 7
    n=$(cat "$q/next"); echo $((n + 1)) > "$q/next"
    sed -n "$((n + 1))p" "$q/todo" | grep .
}
worker() {   # worker TREE: breakers from the queue until it is empty, in build/TREE
    tree=$1
    log=build/$tree/breakers.log
    mkdir -p "build/$tree"; : > "$log"
    run=0; caught=0; skipped=0; survivors=""
    while name=$(take); do one "$name"; done
    echo "$run $caught $skipped $survivors" > "$q/result-$tree"
    [ "$have_win" = yes ] && tools/wine-run.sh --release
}

# Each worker runs its Windows programs in a Wine prefix of its own
# (build/wine-TREE), so two run at once, each with one wineserver held for
# the worker's whole run (tools/wine-run.sh) and ended on the way out.
export WINE_HELD=1
release_all() {
    [ "$have_win" = yes ] || return 0
    for pfx in build/wine-brk*; do
        [ -f "$pfx/system.reg" ] && WINE_PREFIX_NAME=${pfx#build/} tools/wine-run.sh --release
    done
}
trap 'release_all' EXIT
trap 'exit 130' INT; trap 'exit 143' TERM

total=$#
jobs=${BREAKERS_JOBS:-2}
[ "$jobs" -ge 1 ] 2>/dev/null || { echo "breakers: BREAKERS_JOBS is a number of workers, not '$jobs'" >&2; exit 2; }
[ "$jobs" -le "$total" ] || jobs=$total
times=build/brk-times.txt
rm -rf "$q"; mkdir -p "$q"; echo 0 > "$q/next"
# the slowest first, so no worker is left with a long one at the end: by the
# last run's seconds, and a breaker with no time yet by the mean of its kind in
# a make test here (a Windows one 10.6 s, a native one 3.5 s: run 22)
for b in "$@"; do
    s=$(awk -v b="$b" '$1 == b { print $2 }' "$times" 2>/dev/null | tail -1)
    [ -n "$s" ] || { [ -n "$(field Exes "tests/breakers/$b.patch" 2>/dev/null)" ] && s=11 || s=4; }
    echo "$s $b"
done | sort -k1,1nr -k2 > "$q/timed"
cut -d' ' -f2 "$q/timed" > "$q/todo"
est=$(awk -v j="$jobs" '{ t += $1 } END { m = t / j / 60; printf "%.0f", m < 1 ? 1 : m + 0.5 }' "$q/timed")
from=$( [ -f "$times" ] && echo "the last run's times" || echo "a first guess: no run here yet")
echo "breakers: $total to run, $jobs at a time; about $est min ($from)"

t0=$(date +%s); pids=""
i=1
while [ $i -le "$jobs" ]; do
    tree=brk; [ $i -gt 1 ] && tree=brk$i
    (export WINE_PREFIX_NAME=wine-$tree; worker "$tree") > "$q/w$i.out" 2>&1 &
    pids="$pids $!"; i=$((i + 1))
done
done_n=0
show() {   # each new line of the workers' output, the ended breakers counted
    k=1
    while [ $k -le "$jobs" ]; do
        f=$q/w$k.out; k=$((k + 1))
        seen=$(cat "$f.seen" 2>/dev/null || echo 0)
        n=$(wc -l < "$f")
        [ "$n" -gt "$seen" ] || continue
        new=$(sed -n "$((seen + 1)),${n}p" "$f")
        echo "$new" | awk -v d="$done_n" -v t="$total" -v m="$(( ($(date +%s) - t0) / 60 ))" '
                /^breaker / { d++; printf "breakers %d/%d, %d min: %s\n", d, t, m, $0; next } { print }'
        done_n=$((done_n + $(echo "$new" | grep -c '^breaker ')))
        echo "$n" > "$f.seen"
    done
}
while :; do
    alive=0
    for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
    show
    [ $alive = 1 ] || break
    sleep 1
done
wait

run=0; caught=0; skipped=0; survivors=""
for r in "$q"/result-*; do
    [ -f "$r" ] || continue
    read -r a b c d < "$r"
    run=$((run + a)); caught=$((caught + b)); skipped=$((skipped + c)); survivors="$survivors${d:+ $d}"
done
# each breaker's seconds, for the next run's order and estimate
cat "$q"/w*.out | sed -n 's/^breaker \([a-z0-9_]*\): .*(\([0-9]*\) s)$/\1 \2/p' |
    { [ -f "$times" ] && cat "$times"; cat; } | awk '{ t[$1] = $2 } END { for (b in t) print b, t[b] }' |
    sort > "$times.new" && mv "$times.new" "$times"
took="$(( ($(date +%s) - t0) / 60 )) min $(( ($(date +%s) - t0) % 60 )) s, $jobs at a time"
if [ -n "$survivors" ]; then
    echo "breakers: $run run, $caught caught; NOT caught: $survivors ($took; logs: build/brk*/breakers.log)"
    exit 1
fi
[ "$run" -eq "$total" ] || [ "$skipped" -gt 0 ] ||
    { echo "breakers: only $run of $total ran ($took)"; exit 1; }
[ "$skipped" -gt 0 ] && echo "breakers: $run run, all caught, $skipped skipped (no Wine) ($took)" \
                     || echo "breakers: $run run, all caught ($took)"
exit 0
