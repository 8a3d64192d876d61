/* Runner self-test: every test passes, then the suite's teardown aborts
 * (as libmicrohttpd does when a reply is resumed after the server stopped).
 * Criterion still counts the tests as passing; the exit status says 1. */
#include <criterion/criterion.h>
#include <stdlib.h>

static void fini(void) { abort(); }
TestSuite(runner_fini_abort, .fini = fini);
Test(runner_fini_abort, passes) { cr_expect_eq(1 + 1, 2); }
