#!/bin/sh
# Exercises: make exercise-chNN builds the learner's version of one function's
# file and runs the tests that judge it, with a short message, not a wall of output.
# The part the learner writes is marked in the project's file with
# /* tag::exercise chNN */ ... /* end::exercise */; the starter is that file with
# the part replaced by exercises/chNN_*/todo.txt (and chapters show it elided).
# Usage: tools/exercise.sh chNN [work|starter|solution]
#        tools/exercise.sh chNN hint 1|2|3   a question, the idea, the answer
#        tools/exercise.sh chNN reset        a fresh copy (the old one kept as .old)
#        tools/exercise.sh --verify     every starter must fail, every solution pass
set -u
cd "$(dirname "$0")/.."

verify() {
    rc=0
    for d in exercises/ch*/; do
        id=$(basename "$d" | cut -d_ -f1)
        if "$0" "$id" starter >/dev/null 2>&1; then
            echo "exercise $id: the starter PASSES its checker (it should fail)"; rc=1
        elif ! "$0" "$id" solution > "build/exercise-$id.log" 2>&1; then
            echo "exercise $id: the solution FAILS its checker:"; tail -5 "build/exercise-$id.log"; rc=1
        else
            echo "exercise $id: starter fails, solution passes"
        fi
    done
    return $rc
}
[ "${1:-}" = --verify ] && { mkdir -p build; verify; exit $?; }

id="${1:?usage: tools/exercise.sh chNN [work|starter|solution]}"
mode="${2:-work}"
dir=$(ls -d exercises/"$id"_*/ 2>/dev/null | head -1)
[ -n "$dir" ] || { echo "exercise: no exercise for $id (see exercises/)"; exit 2; }
slug=$(basename "$dir")
WINDOWS=0; WIN_EXES=""
. "$dir/exercise.conf"
base=$(basename "$FILE")
variant="ex-$id"
out="build/$variant"
mkdir -p "$out"

starter() {   # the starter: the project's file with the exercise's part taken out
    grep -q "tag::exercise $id " "$FILE" && grep -q 'end::exercise ' "$FILE" ||
        { echo "exercise: $FILE has no /* tag::exercise $id */ ... /* end::exercise */"; exit 2; }
    awk -v todo="$dir/todo.txt" '
        /tag::exercise / { while ((getline l < todo) > 0) print l; skip = 1; next }
        /end::exercise / { skip = 0; next }
        !skip' "$FILE" > "$1"
}
case "$mode" in
    hint)
        n="${3:-1}"
        case "$n" in
            1) echo "exercise $id, hint 1 of 3 (a question): $HINT1" ;;
            2) echo "exercise $id, hint 2 of 3 (the idea): $HINT2" ;;
            3) echo "exercise $id, hint 3 of 3 (the answer): $HINT3" ;;
            *) echo "exercise: HINT is 1 (a question), 2 (the idea) or 3 (the answer)"; exit 2 ;;
        esac
        [ "$n" -lt 3 ] && echo "  (make exercise-$id HINT=$((n + 1)) for the next one)"
        exit 0 ;;
    reset)
        src="$dir/work/$base"
        [ -f "$src" ] && mv "$src" "$src.old" && echo "exercise $id: your old copy is $src.old"
        mkdir -p "$dir/work"; starter "$src"
        echo "exercise $id: a fresh copy is $src. $TASK"
        exit 0 ;;
    work)
        src="$dir/work/$base"
        if [ ! -f "$src" ]; then
            mkdir -p "$dir/work"; starter "$src"
            echo "exercise $id: $TASK"
            echo "  Your copy is $src: find the TODO, fill it in, run make exercise-$id again."
        fi ;;
    starter)  src="$out/starter-$base"; starter "$src" ;;
    solution) src="$FILE" ;;
    *) echo "usage: tools/exercise.sh chNN [work|starter|solution]"; exit 2 ;;
esac

if [ "$WINDOWS" = 1 ] && ! command -v wine >/dev/null 2>&1; then
    echo "exercise $id: needs mingw-w64 and Wine (apt-get install gcc-mingw-w64-x86-64 wine64 wine)"; exit 2
fi
log="$out/exercise.log"
targets="$out/tests/test-$id"
[ "$WINDOWS" = 1 ] && targets="$targets win"
if ! make --no-print-directory VARIANT="$variant" EX_REPLACE="$FILE" EX_WITH="$src" \
        ${WIN_EXES:+WIN_EXES="$WIN_EXES"} $targets > "$log" 2>&1; then
    echo "exercise $id: your $base does not compile:"
    grep -m5 -E 'error|undefined' "$log" | sed 's/^/  /'
    exit 1
fi
rm -rf "$out/win/results"
WINE_TIMEOUT=30 "$out/tests/test-$id" --filter "$TESTS" -j2 --verbose > "$log" 2>&1
syn=$(grep 'Synthesis:' "$log" | tail -1)
tested=$(echo "$syn" | sed -n 's/.*Tested: \([0-9]*\).*/\1/p')
pass=$(echo "$syn" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
if [ -n "$tested" ] && [ "$tested" -gt 0 ] && [ "$pass" = "$tested" ]; then
    echo "exercise $id: passed ($pass tests: $TESTS)"
    exit 0
fi
if [ "$mode" = work ] && starter "$out/fresh-$base" && cmp -s "$out/fresh-$base" "$src"; then
    echo "exercise $id: nothing written yet: $src is still the starter. $TASK"
elif [ -n "$tested" ] && [ "${pass:-0}" -gt 0 ]; then
    echo "exercise $id: half right: $pass of $tested tests pass. $TASK"
else
    echo "exercise $id: not yet: none of the $tested tests passes. $TASK"
fi
[ -z "$tested" ] && echo "  (the test program crashed or hung before reporting)"
# each failing test, with what it asserted and the values it saw
awk '/^\[----\]/ { sub(/^\[----\] */, ""); if ($0 != "") msg = msg "      " $0 "\n"; next }
     /^\[FAIL\]/ { name = $2; sub(/:$/, "", name); printf "  FAILED %s\n%s", name, msg; msg = ""; next }
     /^\[(PASS|RUN |SKIP)/ { msg = "" }' "$log" | head -30
echo "  Stuck? make exercise-$id HINT=1 (a question), HINT=2 (the idea), HINT=3 (the answer)."
echo "  Start again: make exercise-$id RESET=1.   Full output: $log"
exit 1
