/* Chapter 4's claims: the glue on poll natively, and on select and WSAPoll as
 * real Windows programs under Wine, with what Winsock really reports. */
#include "../common/testutil.h"
#include "../common/loop_faults.h"
#include "../common/wine.h"
#include "../../code/glue/curlx.h"

#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

CONTRACT_SUITE(ch04_poll, job_run_loop, "poll")


static int ready_fd, ready_calls, wrong_calls;
static void read_one(loop_t *l, loop_fd_t fd, void *arg)
{
    char c;
    (void)arg;
    if (fd == ready_fd && read(fd, &c, 1) == 1)
        ready_calls++;
    else
        wrong_calls++;
    loop_stop(l);
}
static void give_up(loop_t *l, void *arg) { (void)arg; loop_stop(l); }

/* FD_SETSIZE + 200 descriptors watched (dups of a pipe nobody writes to), and
 * one more, above them all, made readable: poll calls back once, for that one. */
Test(ch04_poll, poll_holds_more_sockets_than_fd_setsize)
{
    enum { N = FD_SETSIZE + 200 };
    static int fds[N];
    int idle[2], live[2], refused = 0;
    cr_assert_geq(t_raise_nofile(N + 64), N + 16, "RLIMIT_NOFILE too low for this test");
    cr_assert_eq(pipe(idle), 0);
    cr_assert_eq(pipe(live), 0);
    loop_t *loop = loop_new("poll");
    for (int i = 0; i < N; i++) {
        fds[i] = i < N - 1 ? dup(idle[0]) : dup(live[0]);
        refused += loop_add_reader(loop, fds[i], read_one, NULL) != LOOP_OK;
    }
    ready_fd = fds[N - 1];
    cr_expect_gt(ready_fd, FD_SETSIZE, "the last fd is %d", ready_fd);
    cr_expect_eq(refused, 0, "poll refused %d descriptors", refused);
    cr_assert_eq(write(live[1], "x", 1), 1);
    loop_call_later(loop, 3000, give_up, NULL);
    cr_expect_eq(loop_run(loop), LOOP_OK, "%s", loop_error(loop));
    cr_expect_eq(ready_calls, 1, "the ready fd %d was called back %d times", ready_fd,
                 ready_calls);
    cr_expect_eq(wrong_calls, 0, "%d callbacks for fds that were not ready", wrong_calls);
    for (int i = 0; i < N; i++)
        cr_expect_eq(loop_remove_reader(loop, fds[i]), LOOP_OK);
    loop_free(loop);
    for (int i = 0; i < N; i++)
        close(fds[i]);
    close(idle[0]); close(idle[1]); close(live[0]); close(live[1]);
}

/* Ten pipes watched, nine removed: every wait after that hands poll() one
 * descriptor. An array that keeps removed entries (fd -1) hands it ten. */
Test(ch04_poll, poll_is_handed_only_the_watched_fds)
{
    int p[10][2];
    struct loop_stats st0, st1;
    loop_t *loop = loop_new("poll");
    for (int i = 0; i < 10; i++) {
        cr_assert_eq(pipe(p[i]), 0);
        cr_assert_eq(loop_add_reader(loop, p[i][0], read_one, NULL), LOOP_OK);
    }
    for (int i = 0; i < 9; i++)
        cr_assert_eq(loop_remove_reader(loop, p[i][0]), LOOP_OK);
    loop_stats(loop, &st0);
    loop_call_later(loop, 20, give_up, NULL);
    cr_expect_eq(loop_run(loop), LOOP_OK, "%s", loop_error(loop));
    loop_stats(loop, &st1);
    unsigned long long waits = st1.waits - st0.waits, handed = st1.handed - st0.handed;
    cr_expect_gt(waits, 0);
    cr_expect_eq(handed, waits, "10 pipes watched, 9 removed: poll() was handed %llu "
                 "descriptors in %llu waits, not 1 a wait", handed, waits);
    loop_free(loop);
    for (int i = 0; i < 10; i++) {
        close(p[i][0]);
        close(p[i][1]);
    }
}

Test(ch04_poll, transfer_on_a_socket_above_fd_setsize_succeeds, .init = tsrv_up,
     .fini = tsrv_down, .timeout = 30)
{
    enum { N = FD_SETSIZE + 16 };
    static int fds[N];
    cr_assert_geq(t_raise_nofile(N + 64), N + 16);
    int s = socket(AF_INET, SOCK_STREAM, 0), n = 0;
    fds[n++] = s;
    while (fds[n - 1] < FD_SETSIZE)
        fds[n++] = dup(s);
    char url[96];
    snprintf(url, sizeof url, "%s/bytes/5000", t_base);
    struct job j = {.url = url};
    struct job_opts o = {10000, "poll", 0};
    cr_assert_eq(job_run_loop(&j, 1, &o), 0);
    cr_expect(job_ok(&j) && j.bytes == 5000 && j.body_ok, "result %d: %s", (int)j.result, j.error);
    for (int i = 0; i < n; i++)
        close(fds[i]);
}

Test(ch04_poll, program_runs_on_poll, .init = tsrv_up, .fini = tsrv_down, .timeout = 60)
{
    char out[8192], err[4096];
    const char *args[] = {"-q", "-n", "16", "/delay/300", NULL};
    cr_assert_eq(t_run("ch04", args, out, sizeof out, err, sizeof err, 30), 0, "%s%s", out, err);
    cr_expect(strstr(out, "model=poll transfers=16 ok=16") != NULL, "%s", out);
}

#ifndef SANITIZED   /* the Windows programs are the same under either native build */

/* ---- the unchanged contract as Windows programs under Wine */
#define WINE_CASE(backend, name) \
    Test(ch04_poll, wine_##backend##_##name, .init = tsrv_up, .fini = tsrv_down, .timeout = 700) \
    { wine_contract_case(#backend, #name); }
CONTRACT_CASES(WINE_CASE, select)
CONTRACT_CASES(WINE_CASE, wsapoll)

/* ---- Winsock facts, as Wine shows them */
static const char *fact(const char *name, char *line, size_t len)
{
    char sport[16], rport[16];
    snprintf(sport, sizeof sport, "%s", strrchr(t_base, ':') + 1);
    snprintf(rport, sizeof rport, "%u", t_refused_port);
    const char *args[] = {sport, rport, NULL};
    return wine_fact("win_quirks.exe", args, name, line, len);
}

#define FACT_TEST(name) \
    Test(ch04_poll, name, .init = tsrv_up, .fini = tsrv_down, .timeout = 700)

/* The facts and the contract cases are judged one by one, even those printed
 * before a later step hung; these fail if a program did not run to its end. */
FACT_TEST(win_quirks_runs_every_step_to_its_end)
{
    char l[256];
    fact("fd_setsize", l, sizeof l);
    cr_expect_null(wine_failure(), "%s", wine_failure());
}

Test(ch04_poll, win_contract_runs_every_case_to_its_end, .init = tsrv_up, .fini = tsrv_down,
     .timeout = 700)
{
    wine_contract_case("select", "contract_bytes_and_status_are_right");
    cr_expect_null(wine_failure(), "%s", wine_failure());
}

FACT_TEST(wine_fd_setsize_is_64)
{
    char l[256];
    cr_expect_str_eq(fact("fd_setsize", l, sizeof l), "64");
}

FACT_TEST(wine_select_backend_refuses_the_65th_socket)
{
    char l[256];
    fact("select_accepts", l, sizeof l);
    cr_expect(strncmp(l, "64 of 65 rc=-2 ", 15) == 0, "%s", l);
    cr_expect(strstr(l, "FD_SETSIZE (64)") != NULL, "%s", l);
}

/* 1,000 listening sockets watched, one connected to: one callback, for it. */
FACT_TEST(wine_wsapoll_backend_takes_1000_sockets)
{
    char l[256];
    cr_expect(strncmp(fact("wsapoll_accepts", l, sizeof l), "1000 of 1000 rc=0", 17) == 0, "%s", l);
    fact("wsapoll_one_ready_of_1000", l, sizeof l);
    cr_expect(strncmp(l, "watched=1000 rc=0 ready_calls=1 wrong_calls=0 ", 46) == 0, "%s", l);
}

/* The dead-fd rule (loop.h): a socket closed while watched is reported once
 * (WSAENOTSOCK from select, POLLNVAL from WSAPoll), then forgotten. */
FACT_TEST(wine_select_reports_a_closed_socket_once_then_forgets_it)
{
    char l[256];
    cr_expect_str_eq(fact("select_closed_while_watched", l, sizeof l),
                     "run=0 dead_calls=1 forgotten=1 other_fired=1");
}

FACT_TEST(wine_wsapoll_reports_a_closed_socket_once_then_forgets_it)
{
    char l[256];
    cr_expect_str_eq(fact("wsapoll_closed_while_watched", l, sizeof l),
                     "run=0 dead_calls=1 forgotten=1 other_fired=1");
}

FACT_TEST(wine_select_backend_waits_on_64_sockets_one_ready)
{
    char l[256];
    fact("select_one_ready_of_64", l, sizeof l);
    cr_expect(strncmp(l, "watched=64 rc=0 ready_calls=1 wrong_calls=0 ", 44) == 0, "%s", l);
}

FACT_TEST(wine_wsapoll_reports_a_refused_connect_as_pollerr)
{
    char l[256];
    unsigned long ms = 99999;
    fact("wsapoll_refused_connect", l, sizeof l);
    cr_expect(strncmp(l, "rc=1 revents=POLLERR ", 21) == 0, "Wine showed: %s", l);
    cr_expect_eq(sscanf(l, "rc=1 revents=POLLERR ms=%lu", &ms), 1, "%s", l);
    cr_expect(ms < 1000, "WSAPoll took %lu ms of its 3 s to report the refusal", ms);
}

FACT_TEST(wine_refused_connect_leaves_wsaeconnrefused_in_so_error)
{
    char l[256];
    cr_expect_str_eq(fact("refused_so_error", l, sizeof l), "10061");
}

FACT_TEST(wine_select_reports_a_refused_connect_in_the_except_set)
{
    char l[256];
    cr_expect_str_eq(fact("select_refused_connect", l, sizeof l), "rc=1 write=0 except=1");
}

/* A socket with one ordinary byte waiting: POLLPRI alone finds nothing (there
 * is no urgent data), POLLIN | POLLPRI reports the byte as POLLRDNORM; no error. */
FACT_TEST(wine_wsapoll_accepts_pollpri_without_an_error)
{
    char l[256];
    cr_expect_str_eq(fact("wsapoll_pollpri", l, sizeof l), "rc=0 err=0 revents=none");
    cr_expect_str_eq(fact("wsapoll_pollin_pollpri", l, sizeof l),
                     "rc=1 err=0 revents=POLLRDNORM");
}
#endif

LOOP_BACKEND_TESTS(ch04_poll, "poll")
LOOP_FAULT_TESTS(ch04_poll, "poll")
