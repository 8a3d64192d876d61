/* The bench's feed on short runs, for chapter 9's exercise (next()): each
 * runner does exactly TOTAL transfers and stops. The limits are short, so a
 * run that never stops is reported in seconds, with what it was doing. */
#include "../common/testutil.h"

#include <stdio.h>
#include <string.h>

/* 40 small transfers, 4 at a time, take well under a second on every runner. */
Test(ch09_measuring, each_runner_does_exactly_total_transfers_and_stops, .timeout = 60)
{
    static const char *const runners[][2] = {
        {"blocking", NULL}, {"multi_poll", NULL}, {"uv", NULL}, {"loop", "select"},
        {"loop", "poll"}, {"loop", "epoll"}};
    char url[96], out[4096], err[4096], who[32];
    snprintf(url, sizeof url, "%s/bytes/1024", t_base);
    for (size_t i = 0; i < sizeof runners / sizeof runners[0]; i++) {
        const char *args[6];
        int k = 0;
        args[k++] = runners[i][0];
        if (runners[i][1])
            args[k++] = runners[i][1];
        args[k++] = url;
        args[k++] = "40";
        args[k++] = "4";
        args[k] = NULL;
        snprintf(who, sizeof who, "%s%s%s", runners[i][0], runners[i][1] ? " " : "",
                 runners[i][1] ? runners[i][1] : "");
        int rc = t_run("ch09", args, out, sizeof out, err, sizeof err, 5);
        cr_assert_neq(rc, -1, "ch09 %s, TOTAL 40, INFLIGHT 4: still running after 5 s (40 "
                      "small transfers take well under one): it never stopped starting "
                      "transfers, or waits for one that never started", who);
        cr_assert_eq(rc, 0, "ch09 %s exited %d: %s%s", who, rc, out, err);
        long total = 0, inflight = 0, ok = 0, failed = 0;
        double wall, rate, iterations = 0;
        cr_assert_eq(sscanf(out, "%*[^,],%*[^,],%ld,%ld,%ld,%ld,%lf,%lf,%lf", &total,
                            &inflight, &ok, &failed, &wall, &rate, &iterations), 7,
                     "ch09 %s: not a CSV line: %s", who, out);
        if (strcmp(runners[i][0], "blocking") == 0)   /* one perform per transfer */
            cr_expect_eq((long)iterations, 40, "ch09 blocking, TOTAL 40: %ld transfers "
                         "performed, not 40", (long)iterations);
        cr_assert_eq(ok, 40, "ch09 %s, TOTAL 40: %ld transfers ok, not 40 (the run said "
                     "\"%.*s\")", who, ok, (int)strcspn(out, "\n"), out);
    }
}
