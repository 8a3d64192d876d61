/* Chapter 2's claims: libcurl's own loop runs the transfer contract. */
#include "../common/testutil.h"
#include "../common/wine.h"
#include "../../code/ch02_multi/multi.h"

#include <stdio.h>
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

#ifndef SANITIZED   /* the Windows programs are the same under either native build */

/* ---- libcurl's own loop as a Windows program, under Wine */
Test(ch02_multi, wine_program_runs_libcurls_own_loop, .init = tsrv_up, .fini = tsrv_down,
     .timeout = 700)
{
    char url[96], l[256];
    snprintf(url, sizeof url, "%s/delay/300", t_base);
    const char *args[] = {"-q", "-n", "16", url, NULL};
    wine_require("ch02.exe");
    const char *out = wine_output("ch02.exe", args);
    cr_assert_not_null(out);
    cr_assert_not_null(wine_line(out, "total:", l, sizeof l), "%s", out);
    cr_expect(strstr(l, "model=multi_poll transfers=16 ok=16 failed=0") != NULL, "%s", l);
}

/* lib/multi.c (USE_WINSOCK) selects each socket with WSAEventSelect before it
 * waits and cancels the selection after. Observed: while curl_multi_poll
 * waits, libcurl's socket cannot be made blocking (WSAEINVAL, 10022: a
 * selection is set); while a select loop waits for the same transfer, it can. */
Test(ch02_multi, libcurls_own_loop_selects_its_socket_with_wsaeventselect_under_wine,
     .init = tsrv_up, .fini = tsrv_down, .timeout = 700)
{
    char l[256];
    const char *args[] = {t_base, NULL};
    cr_expect_str_eq(wine_fact("win_multi.exe", args, "own_loop_waiting", l, sizeof l),
                     "fionbio_error=10022 ok=1");
    cr_expect_str_eq(wine_fact("win_multi.exe", args, "select_loop_waiting", l, sizeof l),
                     "fionbio_error=0 ok=1");
}
#endif
