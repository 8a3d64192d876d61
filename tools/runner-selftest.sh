#!/bin/sh
# The runner judged: small Criterion programs (tests/runner/) that each go
# wrong in one way are run through tools/run-tests.sh, which must say red, and
# why, for every one, and green for the one that is right.
# Usage: tools/runner-selftest.sh        (part of make test)
set -u
cd "$(dirname "$0")/.."
b=build/runner
mkdir -p "$b/native/tests"
libs=$(pkg-config --libs criterion 2>/dev/null || echo -lcriterion)
have_win=$(command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 && command -v wine >/dev/null 2>&1 && echo yes)
bad=0; n=0
# CASE  EXPECTED-EXIT  WORDS THE SUMMARY ROW MUST HOLD
while read -r name want words; do
    [ -n "$name" ] || continue
    if [ "$name" = false_skip ] && [ "$have_win" != yes ]; then
        want=0; words="skipped=1"            # the reason is true on this machine
    fi
    t="$b/native/tests/test-$name"
    if ! cc -std=c11 -Wall -Wextra -Werror "tests/runner/$name.c" -o "$t" $libs 2> "$b/$name.cc.txt"; then
        echo "runner-selftest: tests/runner/$name.c does not build:"; cat "$b/$name.cc.txt"; bad=1; continue
    fi
    RUN_TESTS_BUILD=$b RUN_TESTS_LOGS=$b/logs RUN_TESTS_LIMIT=3 \
        tools/run-tests.sh "$name" > "$b/$name.out" 2>&1
    got=$?; n=$((n + 1))
    row=$(grep "^  $name " "$b/$name.out")
    if [ "$got" -ne "$want" ] || ! echo "$row" | grep -qF "$words"; then
        echo "runner-selftest: $name: exit $got (want $want), row '$row' (want '$words')"; bad=1
    fi
done <<'CASES'
green        0 1/1 skipped=1
fini_abort   1 CRASHED in setup or teardown: runner_fini_abort::passes
exit_nonzero 1 EXIT 3 after every test passed
test_timeout 1 FAILED: runner_test_timeout::sleeps_past_its_timeout timed out after
hang         1 TIMED OUT: the program was killed after 3 s
crash        1 FAILED: runner_crash::dies: CRASH!
false_skip   1 FALSE SKIP
CASES
# a lane (run beside the suites) or a check that fails makes the run red and counts as a failure
RUN_TESTS_BUILD=$b RUN_TESTS_LOGS=$b/logs RUN_TESTS_LIMIT=3 \
    tools/run-tests.sh --lane "lane=echo a lane line; exit 3" --check "check=true" green > "$b/lane.out" 2>&1
got=$?; n=$((n + 1))
if [ "$got" -ne 1 ] || ! grep -q '^  lane  *FAILED' "$b/lane.out" || ! grep -q '^  check  *ok' "$b/lane.out" ||
   ! grep -q '^a lane line$' "$b/lane.out" || ! grep -q '^summary: 1 passed, 1 failed, 1 skipped$' "$b/lane.out"; then
    echo "runner-selftest: a failing lane: exit $got (want 1), output:"; sed 's/^/    /' "$b/lane.out"; bad=1
fi
[ $bad -eq 0 ] && echo "runner-selftest: $n runs, each judged as it should be (green only for the right one)"
exit $bad
