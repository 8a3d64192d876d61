/* Chapter 9's program measures; these tests check that what it measures is
 * whole: every runner finishes every transfer, and a refusal is reported. */
#include "../common/testutil.h"

#include <stdio.h>
#include <string.h>

TestSuite(ch09_measuring, .init = tsrv_up, .fini = tsrv_down, .timeout = 120);

/* Run ch09 and split its CSV line: runner,backend,total,inflight,ok,failed,... */
static void run(const char *const args[], long *ok, long *failed, char *note, size_t len)
{
    char out[4096], err[4096], runner[32], backend[32];
    long total = 0, inflight = 0;
    int rc = t_run("ch09", args, out, sizeof out, err, sizeof err, 100);
    cr_assert_eq(rc, 0, "ch09 exited %d: %s%s", rc, out, err);
    cr_assert_eq(sscanf(out, "%31[^,],%31[^,],%ld,%ld,%ld,%ld", runner, backend, &total, &inflight,
                        ok, failed), 6, "not a CSV line: %s", out);
    const char *last = strrchr(out, ',');
    snprintf(note, len, "%s", last ? last + 1 : "");
}

Test(ch09_measuring, every_runner_finishes_every_transfer)
{
    static const char *const runners[][2] = {
        {"multi_poll", NULL}, {"uv", NULL}, {"loop", "select"}, {"loop", "poll"},
        {"loop", "epoll"}, {"blocking", NULL}};
    char url[96], note[256];
    snprintf(url, sizeof url, "%s/bytes/1024", t_base);
    for (size_t i = 0; i < sizeof runners / sizeof runners[0]; i++) {
        long ok = 0, failed = 0;
        const char *with[] = {runners[i][0], runners[i][1], url, "300", "25", NULL};
        const char *without[] = {runners[i][0], url, "300", "25", NULL};
        run(runners[i][1] ? with : without, &ok, &failed, note, sizeof note);
        cr_expect_eq(ok, 300, "%s %s: %ld ok, %ld failed (%s)", runners[i][0],
                     runners[i][1] ? runners[i][1] : "", ok, failed, note);
    }
}

Test(ch09_measuring, select_reports_its_refusal_instead_of_a_number)
{
    long ok = 0, failed = 0;
    char note[256];
    const char *args[] = {"idle", "select", "1100", "10", NULL};
    run(args, &ok, &failed, note, sizeof note);
    cr_expect_eq(ok, 0);
    cr_expect(strstr(note, "FD_SETSIZE") != NULL, "note: %s", note);
}

Test(ch09_measuring, the_idle_probe_runs_its_rounds_on_every_reactor)
{
    static const char *const backends[] = {"select", "poll", "epoll"};
    for (size_t i = 0; i < 3; i++) {
        long ok = 0, failed = 0;
        char note[256];
        const char *args[] = {"idle", backends[i], "100", "500", NULL};
        run(args, &ok, &failed, note, sizeof note);
        cr_expect_eq(ok, 500, "%s: %ld rounds", backends[i], ok);
    }
}

Test(ch09_measuring, bad_arguments_exit_2)
{
    static const struct { const char *args[7]; const char *says; } cases[] = {
        {{NULL}, "no runner given"},
        {{"frob", "http://127.0.0.1:1/", "1", "1"}, "unknown runner 'frob'"},
        {{"loop", "nosuch", "http://127.0.0.1:1/", "1", "1"}, "unknown backend 'nosuch'"},
        {{"idle", "nosuch", "10", "5"}, "unknown backend 'nosuch'"},
        {{"multi_poll", "http://127.0.0.1:1/", "0", "5"}, "whole numbers above 0, not '0'"},
        {{"loop", "epoll", "http://127.0.0.1:1/", "5", "1x"}, "whole numbers above 0, not '1x'"},
        {{"loop", "epoll", "http://127.0.0.1:1/", "5"}, "wrong number of arguments for 'loop'"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char out[1024], err[1024];
        const char *first = cases[k].args[0] ? cases[k].args[0] : "(none)";
        cr_expect_eq(t_run("ch09", cases[k].args, out, sizeof out, err, sizeof err, 10), 2,
                     "%s", first);
        cr_expect(strstr(err, cases[k].says) != NULL, "%s: %s", first, err);
        cr_expect_eq(out[0], '\0', "%s printed a row: %s", first, out);
    }
}

/* The CPU per iteration ("idle,backend,N,1,done,0,wall,us_per_iteration,...")
 * of the idle probe: one ready socket among @n idle ones. */
static double idle_cost(const char *backend, const char *n, const char *rounds)
{
    char out[1024], err[1024];
    const char *args[] = {"idle", backend, n, rounds, NULL};
    double us = -1;
    cr_assert_eq(t_run("ch09", args, out, sizeof out, err, sizeof err, 100), 0, "%s", err);
    cr_assert_eq(sscanf(out, "idle,%*[^,],%*d,%*d,%*d,%*d,%*d,%lf", &us), 1, "%s", out);
    return us;
}

/* Readiness that scales (chapter 5): with 5,000 idle descriptors (distinct
 * files) poll scans them all on every iteration and epoll does not. An order
 * of magnitude between them, not a timed bound. */
Test(ch09_measuring, at_5000_idle_sockets_poll_costs_ten_times_what_epoll_does, .timeout = 120)
{
    cr_assert_geq(t_raise_nofile(5200), 5100);
    double poll_us = idle_cost("poll", "5000", "300"), epoll_us = idle_cost("epoll", "5000", "300");
    cr_expect_gt(poll_us, 10 * epoll_us, "per iteration: poll %.1f us, epoll %.1f us", poll_us,
                 epoll_us);
}
