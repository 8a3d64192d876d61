#!/bin/sh
# Exercises: make exercise-chNN builds the learner's version of one function's
# file and runs the tests that judge it, with a short message, not a wall of output.
# Usage: tools/exercise.sh chNN [work|starter|solution]
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
    patch -s -o "$1" "$FILE" "$dir/starter.patch" || { echo "exercise: $dir/starter.patch no longer applies to $FILE"; exit 2; }
}
case "$mode" in
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
echo "exercise $id: not yet. $TASK"
echo "  Failing: $(sed -n 's/^\[FAIL\] \([^ ]*\): .*/\1/p' "$log" | tr '\n' ' ')"
[ -z "$tested" ] && echo "  (the test program crashed before reporting)"
echo "  Hint: $HINT"
echo "  Full output: $log"
exit 1
