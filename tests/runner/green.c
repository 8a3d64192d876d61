/* Runner self-test: every test passes, one skips for a reason that is true
 * anywhere: the runner must say green. */
#include <criterion/criterion.h>

Test(runner_green, passes) { cr_expect_eq(1 + 1, 2); }
Test(runner_green, skips_for_a_true_reason) { cr_skip_test("this case only shows a skip"); }
