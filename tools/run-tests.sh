#!/bin/sh
# Run chapters' Criterion suites and print one summary for all of them.
# Usage: tools/run-tests.sh [--variants native,asan] [--only-native "ID..."]
#                           [--lane NAME=CMD]... [--check NAME=CMD]... ID...
# A --check runs after the suites, one after another; a --lane starts at once
# and runs beside the suites and the checks (the breakers: mostly waiting, in
# trees and Wine prefixes of their own), its lines shown as they come. The
# summary gives each suite's, check's and lane's time.
# A suite is green only when every test passed, its program exited 0 and
# printed its Synthesis line within RUN_TESTS_LIMIT seconds (900), and no skip
# gave a reason that is false here. tools/runner-selftest.sh proves each case.
# RUN_TESTS_BUILD (build) and RUN_TESTS_LOGS (build/test-logs) move its files.
set -u
variants=native
checks=""
lanes=""
only_native=""      # chapters whose tests drive Windows programs: no sanitizer run
while [ $# -gt 0 ]; do
    case "$1" in
        --variants) variants="$2"; shift 2 ;;
        --only-native) only_native="$2"; shift 2 ;;
        --check)    checks="$checks
$2"; shift 2 ;;
        --lane)     lanes="$lanes
$2"; shift 2 ;;
        *) break ;;
    esac
done
[ $# -gt 0 ] || { echo "usage: $0 [--variants V,V] [--check NAME=CMD] ID..." >&2; exit 2; }

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$(pwd)/tools/lsan.supp:print_suppressions=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
log=${RUN_TESTS_LOGS:-build/test-logs}; mkdir -p "$log"
limit=${RUN_TESTS_LIMIT:-900}   # seconds for one test program, all its tests
have_win=$(command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 && command -v wine >/dev/null 2>&1 && echo yes)
# One wineserver for the whole run (tools/wine-run.sh --hold), ended on the way out.
if [ "$have_win" = yes ] && [ -z "${WINE_HELD:-}" ]; then
    tools/wine-run.sh --hold 900 && export WINE_HELD=1
    trap 'tools/wine-run.sh --release' EXIT
    trap 'exit 130' INT; trap 'exit 143' TERM
fi

# verdict LOG EXIT: prints "PASS/TESTED SKIPS@row text"; returns 1 when the
# program is red. Red is: a failing test, a non-zero exit (a crash or abort
# in setup or teardown that Criterion counts as a pass), no Synthesis line, a
# time-out, or a skip whose reason is false on this machine.
verdict() {
    o="$1"; x="$2"
    syn=$(grep 'Synthesis:' "$o" | tail -1)
    tested=$(echo "$syn" | sed -n 's/.*Tested: \([0-9]*\).*/\1/p'); tested=${tested:-0}
    pass=$(echo "$syn" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p'); pass=${pass:-0}
    skip=$(grep -c '^\[SKIP\]' "$o" || true)
    why=$(grep -m1 '^\[SKIP\]' "$o" | sed 's/^[^:]*::[^:]*: //')
    text="$pass/$tested"; red=0
    [ "$skip" -gt 0 ] && text="$text skipped=$skip ($why)"
    # a failing test is named, with its first message; a time-out says so
    failed=$(awk '/^\[FAIL\]/ { sub(/^\[FAIL\] /, ""); sub(/: \(.*/, ""); sub(/: Timed out\. \(/, " timed out after ("); f = f $0 " " }
                  /Assertion Failed$/ { want = 1; next }
                  want && /^\[----\]   [^ ]/ { sub(/^\[----\]   /, ""); if (m == "") m = $0; want = 0 }
                  END { if (f != "") printf "%s(%s)", f, m }' "$o" | cut -c1-300)
    [ "$pass" -lt "$tested" ] && { text="$text FAILED: $failed"; red=1; }
    if [ "$x" -eq 124 ] || [ "$x" -eq 137 ]; then
        text="$text TIMED OUT: the program was killed after $limit s"; red=1
    elif [ -z "$syn" ]; then
        text="$text CRASHED: no Synthesis line (exit $x)"; red=1
    elif [ "$x" -ne 0 ]; then
        teardown=$(sed -n 's/.*The test `\(.*\)` crashed during its setup or teardown.*/\1/p' "$o" | head -3 | tr '\n' ' ')
        if [ -n "$teardown" ]; then text="$text CRASHED in setup or teardown: $teardown(exit $x)"
        elif [ "$pass" -ge "$tested" ]; then text="$text EXIT $x after every test passed"
        fi
        red=1
    fi
    # a skip says why; the reason must be true here
    if [ "$have_win" = yes ] && grep -q '^\[SKIP\].*need[s]* mingw-w64 and Wine' "$o"; then
        text="$text FALSE SKIP: says it needs mingw-w64 and Wine, which are installed"; red=1
    fi
    echo "$pass/$tested $skip@$text"
    return $red
}
table=""; total_pass=0; total_fail=0; total_skip=0; rc=0
t_all=$(date +%s)
since() { echo "$(( $(date +%s) - $1 )) s"; }

# the lanes, in the background from the start; each one's exit status in a file
lane_names=""
old_ifs=$IFS; IFS='
'
for c in $lanes; do
    [ -n "$c" ] || continue
    IFS=$old_ifs
    name=${c%%=*}; cmd=${c#*=}
    lane_names="$lane_names $name"
    date +%s > "$log/lane-$name.start"
    { sh -c "$cmd" 2>&1; echo $? > "$log/lane-$name.rc"; date +%s > "$log/lane-$name.end"; } |
        tee "$log/lane-$name.txt" &
    IFS='
'
done
IFS=$old_ifs

for v in $(echo "$variants" | tr , ' '); do
    for id in "$@"; do
        case " $only_native " in *" $id "*) [ "$v" = "${variants%%,*}" ] || continue ;; esac
        t="${RUN_TESTS_BUILD:-build}/$v/tests/test-$id"
        if [ ! -x "$t" ]; then
            echo "run-tests: $t is not built" >&2; rc=1
            table="$table
$id $v missing"; continue
        fi
        echo "== $id ($v)"
        out="$log/$id-$v.txt"
        touch "$log/.start-$id"
        t_suite=$(date +%s)
        # each test's name and result as it finishes, failures with their messages;
        # the program's own exit status is kept, not lost in the pipe
        { timeout -k 10 "$limit" "$t" -j2 --verbose 2>&1; echo $? > "$out.rc"; } | tee "$out" |
            grep --line-buffered -E '^\[(----|PASS|FAIL|SKIP|====)\]|Synthesis' >&2
        prc=$(cat "$out.rc" 2>/dev/null || echo 125)
        # the Winsock/AFD facts the Windows programs printed for this suite
        facts=$(find build/win/results -name '*.txt' -newer "$log/.start-$id" 2>/dev/null)
        if [ -n "$facts" ]; then
            echo "-- facts the Windows programs printed (under Wine):" >&2
            cat $facts | tr -d '\r' | grep '^FACT ' | sort -u | sed 's/^/   /' >&2
        fi
        row=$(verdict "$out" "$prc")
        vrc=$?
        counts=${row%%@*}; pass=${counts%%/*}; tested=${counts#*/}; skip=${tested#* }; tested=${tested% *}
        fail=$(( tested - pass )); [ "$vrc" -ne 0 ] && [ "$fail" -eq 0 ] && fail=1
        total_pass=$((total_pass + pass)); total_fail=$((total_fail + fail))
        total_skip=$((total_skip + skip))
        if [ "$vrc" -ne 0 ]; then rc=1; echo "run-tests: $id ($v) is red; the whole log: $out" >&2; fi
        table="$table
$id $v ${row#*@} ($(since "$t_suite"))"
    done
done
t_suites=$(since "$t_all")

checks_out=""
old_ifs=$IFS; IFS='
'
for c in $checks; do
    [ -n "$c" ] || continue
    name=${c%%=*}; cmd=${c#*=}
    IFS=$old_ifs
    t_check=$(date +%s)
    if sh -c "$cmd"; then res=ok; else res=FAILED; rc=1; total_fail=$((total_fail + 1)); fi
    IFS='
'
    checks_out="$checks_out
$name $res ($(since "$t_check"))"
done
IFS=$old_ifs
for name in $lane_names; do
    [ -f "$log/lane-$name.rc" ] || echo "run-tests: waiting for the $name lane (its lines above)"
done
wait
for name in $lane_names; do
    lrc=$(cat "$log/lane-$name.rc" 2>/dev/null || echo 1)
    [ "$lrc" = 0 ] && res=ok || { res=FAILED; rc=1; total_fail=$((total_fail + 1)); }
    took=$(( $(cat "$log/lane-$name.end" 2>/dev/null || date +%s) - $(cat "$log/lane-$name.start") ))
    checks_out="$checks_out
$name $res ($took s, beside the rest; its log: $log/lane-$name.txt)"
done

echo
echo "== summary (all chapters)"
echo "$table" | awk 'NF { id = $1; v = $2; $1 = ""; $2 = ""; sub(/^ +/, ""); printf "  %-8s %-7s %s\n", id, v, $0 }'
echo "$checks_out" | awk 'NF { n = $1; $1 = ""; sub(/^ /, ""); printf "  %-16s %s\n", n, $0 }'
echo "  time: the suites $t_suites, all $(since "$t_all")"
# a red check or lane counts as one failure: the line is the run's verdict
echo "summary: $total_pass passed, $total_fail failed, $total_skip skipped"
exit $rc
