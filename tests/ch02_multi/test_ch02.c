/* Chapter 2's claims: libcurl's own loop runs the transfer contract. */
#include "../common/testutil.h"
#include "../../code/ch02_multi/multi.h"

#include <string.h>

CONTRACT_SUITE(ch02_multi, multi_run, NULL)

Test(ch02_multi, program_runs_sixteen_delays_concurrently, .init = tsrv_up, .fini = tsrv_down,
     .timeout = 60)
{
    char out[8192], err[4096];
    const char *args[] = {"-q", "-n", "16", "/delay/300", NULL};
    cr_assert_eq(t_run("ch02", args, out, sizeof out, err, sizeof err, 30), 0, "%s%s", out, err);
    unsigned long long wall = 0;
    const char *t = strstr(out, "wall=");
    cr_assert_not_null(t, "no total line: %s", out);
    sscanf(t, "wall=%llu", &wall);
    cr_expect_lt(wall, 2400, "16 x 300 ms took %llu ms", wall);
    cr_expect(strstr(out, "transfers=16 ok=16 failed=0") != NULL, "%s", out);
}
