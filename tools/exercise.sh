#!/bin/sh
# Exercises: make exercise-chNN builds the learner's version of one function's
# file and runs the tests that judge it, with a short message, not a wall of output.
# The part the learner writes is marked in the project's file with
# /* tag::exercise chNN */ ... /* end::exercise */; the starter is that file with
# the part replaced by exercises/chNN_*/todo.txt (and chapters show it elided).
# exercises/chNN_*/wrong/NAME.txt are wrong answers learners write, made the same
# way; their first line says the mistake. Each must fail its checker.
# Usage: tools/exercise.sh chNN [work|starter|solution]
#        tools/exercise.sh chNN wrong NAME   check the wrong answer NAME
#        tools/exercise.sh chNN hint 1|2|3   a question, the idea, the answer
#        tools/exercise.sh chNN reset        a fresh copy (the old one kept as FILE.1, .2, ...)
#        tools/exercise.sh --verify     every starter and wrong answer must fail, every solution pass
# EXERCISE_WORK=DIR: keep the learner's copy in DIR instead of exercises/chNN_*/work.
set -u
cd "$(dirname "$0")/.."

now_ms() { date +%s%3N; }
secs() { awk -v ms="$1" 'BEGIN { printf "%.1f", ms / 1000 }'; }

# One round of the checker: exit status in $round_rc, output in $round_out, seconds in $round_s.
round() {
    t0=$(now_ms)
    round_out=$("$0" "$@" 2>&1); round_rc=$?
    round_s=$(secs $(( $(now_ms) - t0 )))
}

# Rounds above these seconds fail --verify: a starter's message must come at once,
# and no round (failing ones included) may keep a learner waiting.
LIMIT_STARTER=${LIMIT_STARTER:-10}; LIMIT_NATIVE=${LIMIT_NATIVE:-20}; LIMIT_WINE=${LIMIT_WINE:-60}
over() {   # over SECONDS LIMIT: true when the round took longer
    awk -v s="$1" -v l="$2" 'BEGIN { exit !(s > l) }'
}
# Every round over its limit fails --verify. Measured with two make test runs at once
# on 2 cores (docs/figures/make-test-runs.txt, runs 8-12): native starters 0.7-5.9 s,
# other native rounds up to 6.8 s, Wine rounds up to 28.4 s once ch07 checks only its
# own backend; run 23 (win_bridges.exe in parts): native up to 5.6 s, Wine up to 19.5 s.
aim() {   # aim SECONDS LIMIT WHAT
    over "$1" "$2" || return 0
    overrun="$overrun $3 $1 s > $2 s;"
    return 0
}
verdict() {   # verdict WANT_FAIL: the word for this round's outcome
    if [ "$round_rc" = 0 ]; then [ "$1" = 1 ] && echo PASSES || echo passes
    else [ "$1" = 1 ] && echo fails || echo FAILS; fi
}

# RESET=1 keeps every old copy: reset twice in a scratch work directory, check both survive.
verify_reset() {
    w=$(mktemp -d "${TMPDIR:-/tmp}/exercise-reset.XXXXXX")
    ok=1
    EXERCISE_WORK="$w" "$0" ch01 reset >/dev/null 2>&1 || ok=0
    f=$(ls "$w" | head -1)
    echo "first try" > "$w/$f"
    EXERCISE_WORK="$w" "$0" ch01 reset >/dev/null 2>&1 || ok=0
    echo "second try" > "$w/$f"
    said=$(EXERCISE_WORK="$w" "$0" ch01 reset 2>&1) || ok=0
    [ "$(cat "$w/$f.1" 2>/dev/null)" = "first try" ] || ok=0
    [ "$(cat "$w/$f.2" 2>/dev/null)" = "second try" ] || ok=0
    case "$said" in *"$w/$f.2"*) ;; *) ok=0 ;; esac
    rm -rf "$w"
    if [ "$ok" = 1 ]; then
        echo "exercise reset: RESET=1 keeps each old copy (FILE.1, FILE.2) and names it"
    else
        echo "exercise reset: RESET=1 lost or overwrote an old copy, or did not say where it is"
        return 1
    fi
}

verify() {
    rc=0
    verify_reset || rc=1
    for d in exercises/ch*/; do
        id=$(basename "$d" | cut -d_ -f1)
        limit=$LIMIT_NATIVE; starter_limit=$LIMIT_STARTER; wine=0
        grep -q '^WINDOWS=1' "$d/exercise.conf" && { limit=$LIMIT_WINE; starter_limit=$LIMIT_WINE; wine=1; }
        overrun=""
        "$0" "$id" prepare > /dev/null 2>&1   # the first build is not a round: a learner's
        round "$id" starter                   # rounds rebuild one file
        line="exercise $id: starter $(verdict 1) ${round_s} s"
        if [ "$round_rc" = 0 ]; then
            echo "exercise $id: the starter PASSES its checker (it should fail)"; rc=1
        elif ! echo "$round_out" | grep -q '^  FAILED '; then
            echo "exercise $id: the starter fails without a failing assertion:"
            echo "$round_out" | head -5 | sed 's/^/    /'; rc=1
        fi
        aim "$round_s" "$starter_limit" starter
        round "$id" solution
        line="$line, solution $(verdict 0) ${round_s} s"
        if [ "$round_rc" != 0 ]; then
            echo "exercise $id: the solution FAILS its checker:"
            echo "$round_out" | head -12 | sed 's/^/    /'; rc=1
        fi
        aim "$round_s" "$limit" solution
        n=0; nfail=0; times=""
        for w in "$d"wrong/*.txt; do
            [ -f "$w" ] || continue
            name=$(basename "$w" .txt)
            n=$((n + 1))
            round "$id" wrong "$name"
            times="${times:+$times, }$name ${round_s} s"
            [ "$round_rc" = 0 ] || nfail=$((nfail + 1))
            if [ "$round_rc" = 0 ]; then
                echo "exercise $id: the wrong answer $name PASSES its checker (it should fail):"
                head -1 "$w" | sed 's/^ */    /'; rc=1
            elif ! echo "$round_out" | grep -q '^  FAILED '; then
                echo "exercise $id: the wrong answer $name fails without a failing assertion:"
                echo "$round_out" | head -5 | sed 's/^/    /'; rc=1
            fi
            aim "$round_s" "$limit" "$name"
        done
        [ "$n" -gt 0 ] || { echo "exercise $id: no wrong answers in ${d}wrong/"; rc=1; }
        echo "$line, $nfail of $n wrong answers fail${times:+ ($times)}"
        [ -z "$overrun" ] || { echo "exercise $id: too slow ($LIMIT_STARTER s for a native starter, $LIMIT_NATIVE s native, $LIMIT_WINE s under Wine):$overrun"; rc=1; }
    done
    return $rc
}
[ "${1:-}" = --verify ] && { mkdir -p build; verify; exit $?; }

id="${1:?usage: tools/exercise.sh chNN [work|starter|solution|wrong NAME]}"
mode="${2:-work}"
dir=$(ls -d exercises/"$id"_*/ 2>/dev/null | head -1)
[ -n "$dir" ] || { echo "exercise: no exercise for $id (see exercises/)"; exit 2; }
slug=$(basename "$dir")
WINDOWS=0; WIN_EXES=""; WINE_ONLY=""
. "$dir/exercise.conf"
base=$(basename "$FILE")
variant="ex-$id"
out="build/$variant"
work="${EXERCISE_WORK:-${dir}work}"
mkdir -p "$out"

compose() {   # compose TEXT OUT: the project's file with the exercise's part replaced by TEXT
    grep -q "tag::exercise $id " "$FILE" && grep -q 'end::exercise ' "$FILE" ||
        { echo "exercise: $FILE has no /* tag::exercise $id */ ... /* end::exercise */"; exit 2; }
    awk -v todo="$1" '
        /tag::exercise / { while ((getline l < todo) > 0) print l; skip = 1; next }
        /end::exercise / { skip = 0; next }
        !skip' "$FILE" > "$2"
}
starter() { compose "$dir/todo.txt" "$1"; }   # the starter: the part taken out
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
        src="$work/$base"
        if [ -f "$src" ]; then   # never overwrite an old copy: the next free number
            k=1
            while [ -e "$src.$k" ]; do k=$((k + 1)); done
            mv "$src" "$src.$k" && echo "exercise $id: your old copy is kept as $src.$k"
        fi
        mkdir -p "$work"; starter "$src"
        echo "exercise $id: a fresh copy is $src. $TASK"
        exit 0 ;;
    work)
        src="$work/$base"
        if [ ! -f "$src" ]; then
            mkdir -p "$work"; starter "$src"
            echo "exercise $id: $TASK"
            echo "  Your copy is $src: find the TODO, fill it in, run make exercise-$id again."
        fi ;;
    starter)  src="$out/starter-$base"; starter "$src" ;;
    solution) src="$FILE" ;;
    prepare)  src="$FILE" ;;   # --verify: build the tree once, so rounds time what a learner waits for
    wrong)
        name="${3:?usage: tools/exercise.sh $id wrong NAME (one of: $(ls "$dir"wrong 2>/dev/null | sed 's/\.txt$//' | tr '\n' ' '))}"
        [ -f "$dir/wrong/$name.txt" ] || { echo "exercise $id: no wrong answer $dir""wrong/$name.txt"; exit 2; }
        src="$out/wrong-$name-$base"; compose "$dir/wrong/$name.txt" "$src"
        echo "exercise $id: the wrong answer $name: $(head -1 "$dir/wrong/$name.txt" | sed 's/^ *\/\* *//; s/ *\*\/ *$//')" ;;
    *) echo "usage: tools/exercise.sh chNN [work|starter|solution|wrong NAME]"; exit 2 ;;
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
[ "$mode" = prepare ] && exit 0
rm -rf "$out/win/results"
# shorter limits than the full suite's: a wrong answer that stalls fails in seconds
# and a Windows program runs only the backend the exercise is about (WINE_ONLY)
WINE_TIMEOUT=30 CONTRACT_JOB_MS=2000 WINE_CONTRACT_BACKENDS="$WINE_ONLY" \
    "$out/tests/test-$id" --filter "$TESTS" -j2 --verbose > "$log" 2>&1
syn=$(grep 'Synthesis:' "$log" | tail -1)
tested=$(echo "$syn" | sed -n 's/.*Tested: \([0-9]*\).*/\1/p')
pass=$(echo "$syn" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
skipped=$(grep '^\[SKIP\]' "$log" | grep -vc ': Test is disabled')   # --filter disables the rest
if [ "$skipped" -gt 0 ]; then   # a test that did not run judged nothing: no verdict
    echo "exercise $id: cannot judge your $base: $skipped of the tests did not run:"
    grep '^\[SKIP\]' "$log" | grep -v ': Test is disabled' | head -5 | sed 's/^\[SKIP\] */  SKIPPED /'
    echo "  Full output: $log"
    exit 2
fi
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
echo "  Start again: make exercise-$id RESET=1 (your copy is kept).   Full output: $log"
exit 1
