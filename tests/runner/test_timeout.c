/* Runner self-test: one test runs past its own .timeout. */
#include <criterion/criterion.h>
#include <unistd.h>

Test(runner_test_timeout, passes) { cr_expect_eq(1 + 1, 2); }
Test(runner_test_timeout, sleeps_past_its_timeout, .timeout = 1) { sleep(10); }
