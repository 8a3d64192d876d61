/* Chapter 9's program measures; these tests check that what it measures is
 * whole: every runner finishes every transfer, and a refusal is reported. */
#include "../common/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(ch09_measuring, .init = tsrv_up, .fini = tsrv_down, .timeout = 120);

/* What a loop or idle run counted (its stderr line "counts: W waits, H
 * descriptors handed to the kernel"), after its set-up. */
struct counts { unsigned long long waits, handed; };
static struct counts last_counts;

/* Run ch09 and split its CSV line:
 * runner,backend,total,inflight,ok,failed,wall_ms,rate,iterations,cpu_ms,...,note
 * Returns the CPU milliseconds; last_counts gets the counts, if it printed them. */
static double run(const char *const args[], long *ok, long *failed, char *note, size_t len)
{
    char out[4096], err[4096], runner[32], backend[32];
    long total = 0, inflight = 0;
    double wall = 0, rate = 0, iterations = 0, cpu = -1;
    int rc = t_run("ch09", args, out, sizeof out, err, sizeof err, 100);
    cr_assert_eq(rc, 0, "ch09 exited %d: %s%s", rc, out, err);
    const char *c = strstr(err, "counts: ");
    last_counts = (struct counts){0, 0};
    if (c)
        sscanf(c, "counts: %llu waits, %llu", &last_counts.waits, &last_counts.handed);
    cr_assert_eq(sscanf(out, "%31[^,],%31[^,],%ld,%ld,%ld,%ld,%lf,%lf,%lf,%lf", runner, backend,
                        &total, &inflight, ok, failed, &wall, &rate, &iterations, &cpu),
                 10, "not a CSV line: %s", out);
    const char *last = strrchr(out, ',');
    snprintf(note, len, "%s", last ? last + 1 : "");
    note[strcspn(note, "\r\n")] = '\0';
    return cpu;
}

/* One runner ({runner, backend or NULL}) on URL TOTAL INFLIGHT, and with
 * HOLD_URL HOLD_N when @hold is not NULL. Returns the CPU milliseconds. */
static double run_on(const char *const r[2], const char *url, const char *total,
                     const char *inflight, const char *hold, const char *hold_n, long *ok,
                     char *note, size_t len)
{
    const char *args[8];
    int k = 0;
    long failed = 0;
    args[k++] = r[0];
    if (r[1])
        args[k++] = r[1];
    args[k++] = url;
    args[k++] = total;
    args[k++] = inflight;
    if (hold) {
        args[k++] = hold;
        args[k++] = hold_n;
    }
    args[k] = NULL;
    return run(args, ok, &failed, note, len);
}

Test(ch09_measuring, every_runner_finishes_every_transfer)
{
    static const char *const runners[][2] = {
        {"multi_poll", NULL}, {"uv", NULL}, {"loop", "select"}, {"loop", "poll"},
        {"loop", "epoll"}, {"blocking", NULL}};
    char url[96], note[256];
    snprintf(url, sizeof url, "%s/bytes/1024", t_base);
    for (size_t i = 0; i < sizeof runners / sizeof runners[0]; i++) {
        long ok = 0;
        run_on(runners[i], url, "300", "25", NULL, NULL, &ok, note, sizeof note);
        cr_expect_eq(ok, 300, "%s %s: %ld ok (%s)", runners[i][0],
                     runners[i][1] ? runners[i][1] : "", ok, note);
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
    static const struct { const char *args[8]; const char *says; } cases[] = {
        {{NULL}, "no runner given"},
        {{"frob", "http://127.0.0.1:1/", "1", "1"}, "unknown runner 'frob'"},
        {{"loop", "nosuch", "http://127.0.0.1:1/", "1", "1"}, "unknown backend 'nosuch'"},
        {{"idle", "nosuch", "10", "5"}, "unknown backend 'nosuch'"},
        {{"multi_poll", "http://127.0.0.1:1/", "0", "5"}, "whole numbers above 0, not '0'"},
        {{"loop", "epoll", "http://127.0.0.1:1/", "5", "1x"}, "whole numbers above 0, not '1x'"},
        {{"loop", "epoll", "http://127.0.0.1:1/", "5"}, "wrong number of arguments for 'loop'"},
        {{"uv", "http://127.0.0.1:1/", "5", "1", "http://127.0.0.1:1/", "5"},
         "wrong number of arguments for 'uv'"},
        {{"loop", "epoll", "http://127.0.0.1:1/", "5", "1", "http://127.0.0.1:1/", "0"},
         "whole numbers above 0, not '0'"},
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

/* The idle probe's counts over its timed rounds: one ready socket among @n
 * idle ones, every one registered before the rounds start. */
static struct counts idle_counts(const char *backend, const char *n, const char *rounds)
{
    long ok = 0, failed = 0;
    char note[256];
    const char *args[] = {"idle", backend, n, rounds, NULL};
    run(args, &ok, &failed, note, sizeof note);
    cr_assert_eq(ok, atol(rounds), "%s: %ld rounds (%s)", backend, ok, note);
    return last_counts;
}

/* Readiness that scales (chapter 5), counted: with 5,000 idle descriptors
 * poll hands the kernel every one at every wait; epoll hands it nothing, as
 * its kernel keeps the set, registered before the rounds. Counts, not times:
 * the same on a loaded machine. */
Test(ch09_measuring, at_5000_idle_descriptors_poll_hands_the_kernel_all_at_every_wait_epoll_none,
     .timeout = 120)
{
    cr_assert_geq(t_raise_nofile(5200), 5100);
    struct counts p = idle_counts("poll", "5000", "300"), e = idle_counts("epoll", "5000", "300");
    cr_expect_geq(p.waits, 300, "poll waited %llu times for 300 rounds", p.waits);
    cr_expect_eq(p.handed, p.waits * 5001, "poll: %llu descriptors in %llu waits (want 5,001 each)",
                 p.handed, p.waits);
    cr_expect_eq(e.handed, 0, "epoll handed the kernel %llu descriptors in %llu waits (want 0: "
                 "all 5,001 were registered before the rounds)", e.handed, e.waits);
}

/* Each runner on t_base's BUSY (TOTAL of them, 5 in flight) beside HOLD_N
 * transfers of t_base's HELD; @check looks at its row. */
typedef void held_check(const char *const r[2], long ok, const char *note);
static void with_held(const char *const runners[][2], size_t n, const char *busy, const char *total,
                      const char *held, const char *hold_n, held_check *check)
{
    char url[96], hold[96], note[256];
    snprintf(url, sizeof url, "%s%s", t_base, busy);
    snprintf(hold, sizeof hold, "%s%s", t_base, held);
    for (size_t i = 0; i < n; i++) {
        long ok = 0;
        run_on(runners[i], url, total, "5", hold, hold_n, &ok, note, sizeof note);
        check(runners[i], ok, note);
    }
}

static void all_60_and_no_note(const char *const r[2], long ok, const char *note)
{
    cr_expect_eq(ok, 60, "%s %s: %ld ok (%s)", r[0], r[1] ? r[1] : "", ok, note);
    cr_expect_eq(note[0], '\0', "%s: %s", r[0], note);
}

/* ch09 RUNNER ... URL TOTAL INFLIGHT HOLD_URL HOLD_N: HOLD_N transfers wait
 * for a reply that is 20 s away while the TOTAL busy ones run; they are not
 * counted among the TOTAL and are ended when those are done. */
Test(ch09_measuring, held_connections_wait_beside_the_busy_ones)
{
    static const char *const runners[][2] = {{"multi_poll", NULL}, {"loop", "poll"},
                                             {"loop", "epoll"}};
    with_held(runners, 3, "/bytes/1024", "60", "/delay/20000", "100", all_60_and_no_note);
}

static void says_held_ended_early(const char *const r[2], long ok, const char *note)
{
    cr_expect(strstr(note, "a held transfer ended early") != NULL, "%s: %ld ok, note '%s'", r[0],
              ok, note);
}

/* A held transfer that ends before the busy ones are done (here its reply
 * comes at once) is named in the row: the measurement was not what it says. */
Test(ch09_measuring, a_held_transfer_that_ends_early_is_reported)
{
    static const char *const runners[][2] = {{"multi_poll", NULL}, {"loop", "epoll"}};
    with_held(runners, 2, "/delay/200", "20", "/bytes/10", "20", says_held_ended_early);
}

/* Chapter 5's model with libcurl in it: 5,000 connections wait while 200
 * busy transfers run one at a time. poll hands the kernel all of them at every
 * wait; epoll only what libcurl changed (a busy socket's OUT, IN, REMOVE: at
 * most three per transfer, fewer once changes made between two waits merge),
 * so fewer in the whole run than poll in one wait. The set-up (5,000 connects,
 * each an ADD, then a change to IN) is not counted. Counts, not the CPU ratio:
 * that depends on the machine and its load, and is make bench's. */
Test(ch09_measuring, with_5000_connections_held_poll_hands_the_kernel_all_at_every_wait,
     .timeout = 120)
{
    cr_assert_geq(t_raise_nofile(10400), 10300);   /* the server's 5,000 are in this process */
    char url[96], hold[96], note[256];
    snprintf(url, sizeof url, "%s/bytes/1024", t_base);
    snprintf(hold, sizeof hold, "%s/delay/30000", t_base);
    struct counts c[2];
    static const char *const runners[][2] = {{"loop", "poll"}, {"loop", "epoll"}};
    for (int i = 0; i < 2; i++) {
        long ok = 0;
        run_on(runners[i], url, "200", "1", hold, "5000", &ok, note, sizeof note);
        cr_assert_eq(ok, 200, "%s: %ld ok (%s)", runners[i][1], ok, note);
        c[i] = last_counts;
        cr_assert_geq(c[i].waits, 200, "%s: %llu waits for 200 transfers, one at a time",
                      runners[i][1], c[i].waits);
    }
    cr_expect_geq(c[0].handed, c[0].waits * 5000, "poll: %llu descriptors in %llu waits (want "
                  "at least the 5,000 held at each)", c[0].handed, c[0].waits);
    cr_expect_leq(c[1].handed, 3 * 200, "epoll: %llu descriptors in %llu waits (want at most "
                  "three per busy transfer, fewer in the whole run than poll hands the kernel "
                  "at each wait)", c[1].handed, c[1].waits);
}
