/* Runner self-test: a test with no timeout of its own hangs; the runner's
 * limit (RUN_TESTS_LIMIT) must kill the program and say so. */
#include <criterion/criterion.h>
#include <unistd.h>

Test(runner_hang, hangs) { sleep(60); }
