#!/bin/sh
# Run chapters' Criterion suites and print one summary for all of them.
# Usage: tools/run-tests.sh [--variants native,asan] [--only-native "ID..."]
#                           [--check NAME=CMD]... ID...
set -u
variants=native
checks=""
only_native=""      # chapters whose tests drive Windows programs: no sanitizer run
while [ $# -gt 0 ]; do
    case "$1" in
        --variants) variants="$2"; shift 2 ;;
        --only-native) only_native="$2"; shift 2 ;;
        --check)    checks="$checks
$2"; shift 2 ;;
        *) break ;;
    esac
done
[ $# -gt 0 ] || { echo "usage: $0 [--variants V,V] [--check NAME=CMD] ID..." >&2; exit 2; }

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$(pwd)/tools/lsan.supp:print_suppressions=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
log=build/test-logs; mkdir -p "$log"
table=""; total_pass=0; total_fail=0; total_skip=0; rc=0

for v in $(echo "$variants" | tr , ' '); do
    for id in "$@"; do
        case " $only_native " in *" $id "*) [ "$v" = native ] || continue ;; esac
        t="build/$v/tests/test-$id"
        if [ ! -x "$t" ]; then
            echo "run-tests: $t is not built" >&2; rc=1
            table="$table
$id $v missing"; continue
        fi
        echo "== $id ($v)"
        out="$log/$id-$v.txt"
        touch "$log/.start-$id"
        # each test's name and result as it finishes, failures with their messages
        timeout 900 "$t" -j2 --verbose 2>&1 | tee "$out" |
            grep --line-buffered -E '^\[(----|PASS|FAIL|SKIP|====)\]|Synthesis' >&2
        # the Winsock/AFD facts the Windows programs printed for this suite
        facts=$(find build/win/results -name '*.txt' -newer "$log/.start-$id" 2>/dev/null)
        if [ -n "$facts" ]; then
            echo "-- facts the Windows programs printed (under Wine):" >&2
            cat $facts | tr -d '\r' | grep '^FACT ' | sort -u | sed 's/^/   /' >&2
        fi
        syn=$(grep 'Synthesis:' "$out" | tail -1)
        if [ -z "$syn" ]; then
            echo "run-tests: $t printed no synthesis (crash or timeout), see $out" >&2
            table="$table
$id $v crashed"; rc=1; total_fail=$((total_fail + 1)); continue
        fi
        tested=$(echo "$syn" | sed -n 's/.*Tested: \([0-9]*\).*/\1/p')
        pass=$(echo "$syn" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
        fail=$(( tested - pass ))
        skip=$(grep -c '^\[SKIP\]' "$out" || true)
        why=$(grep -m1 '^\[SKIP\]' "$out" | sed 's/^[^:]*::[^:]*: //')
        total_pass=$((total_pass + pass)); total_fail=$((total_fail + fail))
        total_skip=$((total_skip + skip))
        [ "$fail" -eq 0 ] || { rc=1; echo "run-tests: $fail failed in $id ($v); the whole log: $out" >&2; }
        # a failing test is named in the summary, with its first message
        failed=$(awk '/^\[FAIL\]/ { sub(/^\[FAIL\] /, ""); sub(/: \(.*/, ""); f = f $0 " " }
                      /Assertion Failed$/ { want = 1; next }
                      want && /^\[----\]   [^ ]/ { sub(/^\[----\]   /, ""); if (m == "") m = $0; want = 0 }
                      END { if (f != "") printf "%s(%s)", f, m }' "$out" | cut -c1-300)
        table="$table
$id $v $pass/$tested $( [ "$skip" -gt 0 ] && echo "skipped=$skip ($why)")$( [ "$fail" -gt 0 ] && echo " FAILED: $failed")"
    done
done

checks_out=""
old_ifs=$IFS; IFS='
'
for c in $checks; do
    [ -n "$c" ] || continue
    name=${c%%=*}; cmd=${c#*=}
    IFS=$old_ifs
    if sh -c "$cmd"; then res=ok; else res=FAILED; rc=1; fi
    IFS='
'
    checks_out="$checks_out
$name $res"
done
IFS=$old_ifs

echo
echo "== summary (all chapters)"
echo "$table" | awk 'NF { id = $1; v = $2; $1 = ""; $2 = ""; sub(/^ +/, ""); printf "  %-8s %-7s %s\n", id, v, $0 }'
echo "$checks_out" | awk 'NF { printf "  %-16s %s\n", $1, $2 }'
echo "summary: $total_pass passed, $total_fail failed, $total_skip skipped"
exit $rc
