/* Runner self-test: every test passes and the Synthesis line is printed,
 * then the program exits 3 (a leak report or a late error would do that). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <unistd.h>

static void bye(void) { _exit(3); }
ReportHook(POST_ALL)(struct criterion_global_stats *st) { (void)st; atexit(bye); }
Test(runner_exit_nonzero, passes) { cr_expect_eq(1 + 1, 2); }
