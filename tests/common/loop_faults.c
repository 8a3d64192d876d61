/* See loop_faults.h. Every case counts calls or waits; none times anything
 * but a safety stop. */
#include "loop_faults.h"
#include "testutil.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

static void stop_cb(loop_t *l, void *arg) { (void)arg; loop_stop(l); }

/* Run until the loop ends by itself or @ms pass (a safety stop, not a bound). */
static void run_at_most(loop_t *loop, long ms)
{
    uint64_t t = loop_call_later(loop, ms, stop_cb, NULL);
    cr_assert_eq(loop_run(loop), LOOP_OK, "loop_run failed: %s", loop_error(loop));
    loop_cancel(loop, t);
}

static int calls, new_calls;
static void count(loop_t *l, loop_fd_t fd, void *arg) { (void)l; (void)fd; (void)arg; calls++; }
static void count_new(loop_t *l, loop_fd_t fd, void *arg) { (void)l; (void)fd; (void)arg; new_calls++; }

/* epoll queues a change per fd; a watch dropped and made again before the
 * wait queued it twice, and a closed fd was then reported (and written into
 * the loop's fired array) once per copy: 21 copies overran it. */
void t_rewatched_before_a_wait_then_closed_is_reported_once(const char *backend)
{
    int p[2];
    t_require_backend(backend);
    cr_assert_eq(pipe(p), 0);
    loop_t *loop = loop_new(backend);
    calls = 0;
    for (int i = 0; i < 20; i++) {              /* libcurl's IN, REMOVE, IN, ... */
        cr_assert_eq(loop_add_reader(loop, p[0], count, NULL), LOOP_OK);
        cr_assert_eq(loop_remove_reader(loop, p[0]), LOOP_OK);
    }
    cr_assert_eq(loop_add_reader(loop, p[0], count, NULL), LOOP_OK);
    close(p[0]);                                /* the caller's bug: still watched */
    run_at_most(loop, 300);
    cr_expect_eq(calls, 1, "%s: the closed fd's reader ran %d times (want once)", backend, calls);
    loop_free(loop);
    close(p[1]);
}

/* A dead fd's reader stops watching it and watches a new pipe that got the
 * same number: the loop's "then forget it" must forget the dead watch only. */
static int fresh[2] = {-1, -1};
static void on_new(loop_t *l, loop_fd_t fd, void *arg)
{
    char c;
    (void)arg;
    new_calls++;
    if (read(fd, &c, 1) != 1)
        cr_assert_fail("%s", "the new pipe's reader found no byte");
    loop_stop(l);
}
static void dead_then_rewatch(loop_t *l, loop_fd_t fd, void *arg)
{
    (void)arg;
    calls++;
    loop_remove_reader(l, fd);
    cr_assert_eq(pipe(fresh), 0);
    if (fresh[0] != fd) {                       /* the number comes back */
        cr_assert_eq(dup2(fresh[0], fd), fd);
        close(fresh[0]);
        fresh[0] = fd;
    }
    int rc = loop_add_reader(l, fd, on_new, NULL);
    cr_assert_eq(rc, LOOP_OK, "watching the new pipe on fd %d: %d (%s)", fd, rc, loop_error(l));
    cr_assert_eq(write(fresh[1], "x", 1), 1);
}

void t_dead_fds_callback_can_watch_a_new_fd_on_its_number(const char *backend)
{
    int p[2];
    t_require_backend(backend);
    cr_assert_eq(pipe(p), 0);
    loop_t *loop = loop_new(backend);
    calls = new_calls = 0;
    cr_assert_eq(loop_add_reader(loop, p[0], dead_then_rewatch, NULL), LOOP_OK);
    close(p[0]);
    run_at_most(loop, 1000);
    cr_expect_eq(calls, 1, "%s: the dead fd's reader ran %d times", backend, calls);
    cr_expect_eq(new_calls, 1, "%s: the new fd on the dead one's number fired %d times (its "
                 "watch was dropped with the dead one's)", backend, new_calls);
    loop_free(loop);
    close(p[1]);
    close(fresh[0]);
    close(fresh[1]);
}

/* Two fds ready in one wait; the first reader called replaces the other fd
 * with an empty pipe on the same number and watches it. The other's event
 * from that wait must not reach the new watch: it has nothing to read. */
static int pa[2], pb[2], spare[2] = {-1, -1};
static void replace_the_other(loop_t *l, loop_fd_t fd, void *arg)
{
    char c;
    (void)arg;
    calls++;
    loop_stop(l);
    if (read(fd, &c, 1) != 1 || spare[0] >= 0)
        return;                                 /* the second call, if the event survives */
    int other = fd == pa[0] ? pb[0] : pa[0];
    loop_remove_reader(l, other);
    cr_assert_eq(pipe(spare), 0);
    cr_assert_eq(dup2(spare[0], other), other);   /* closes the other: same number */
    close(spare[0]);
    spare[0] = other;
    int rc = loop_add_reader(l, other, count_new, NULL);
    cr_assert_eq(rc, LOOP_OK, "watching the new pipe on fd %d: %d (%s)", other, rc, loop_error(l));
}

void t_event_for_a_removed_watch_skips_a_new_one(const char *backend)
{
    t_require_backend(backend);
    cr_assert_eq(pipe(pa), 0);
    cr_assert_eq(pipe(pb), 0);
    loop_t *loop = loop_new(backend);
    calls = new_calls = 0;
    spare[0] = spare[1] = -1;
    cr_assert_eq(loop_add_reader(loop, pa[0], replace_the_other, NULL), LOOP_OK);
    cr_assert_eq(loop_add_reader(loop, pb[0], replace_the_other, NULL), LOOP_OK);
    cr_assert_eq(write(pa[1], "a", 1), 1);
    cr_assert_eq(write(pb[1], "b", 1), 1);
    struct loop_stats st;
    run_at_most(loop, 1000);                    /* the first reader stops it after this pass */
    loop_stats(loop, &st);
    cr_assert_geq(spare[0], 0, "%s: no reader ran in %llu waits", backend,
                  (unsigned long long)st.waits);
    cr_expect_eq(new_calls, 0, "%s: the new, empty pipe's reader ran %d times on the event of "
                 "the fd it replaced", backend, new_calls);
    cr_expect_eq(calls, 1, "%s: %d first readers ran", backend, calls);
    loop_free(loop);
    close(pa[0]); close(pa[1]); close(pb[1]); close(spare[0]); close(spare[1]);
}

/* poll and epoll wait in an int of milliseconds: a timer 2^32 ms (seven
 * weeks) away wrapped to 0, and 2^32 + 50 to 50: the loop woke and waited
 * again and again. Here the only other event is a timerfd 300 ms away. */
static void tick_stops(loop_t *l, loop_fd_t fd, void *arg)
{
    uint64_t n;
    (void)arg;
    if (read(fd, &n, sizeof n) == (ssize_t)sizeof n)
        loop_stop(l);
}
static void never_runs(loop_t *l, void *arg) { (void)l; (void)arg; cr_assert_fail("%s", "a far timer ran"); }

void t_timer_weeks_away_does_not_make_the_loop_spin(const char *backend)
{
    static const long long far[] = {4294967296LL, 4294967296LL + 50};
    t_require_backend(backend);
    for (int k = 0; k < 2; k++) {
        loop_t *loop = loop_new(backend);
        int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
        struct itimerspec its = {{0, 0}, {0, 300 * 1000000L}};
        cr_assert_eq(timerfd_settime(tfd, 0, &its, NULL), 0);
        uint64_t t = loop_call_later(loop, (long)far[k], never_runs, NULL);
        cr_assert_eq(loop_add_reader(loop, tfd, tick_stops, NULL), LOOP_OK);
        cr_assert_eq(loop_run(loop), LOOP_OK, "%s: %s", backend, loop_error(loop));
        struct loop_stats st;
        loop_stats(loop, &st);
        cr_expect_leq(st.waits, 3, "%s: with a timer %lld ms away the loop waited %llu times "
                      "in 300 ms", backend, far[k], (unsigned long long)st.waits);
        loop_cancel(loop, t);
        loop_free(loop);
        close(tfd);
    }
}

/* A regular file is always ready to poll and select, and epoll refuses it
 * (EPERM): one rule on every backend, add_reader refuses it up front; the
 * other watches go on. */
void t_file_is_refused_and_the_loop_goes_on(const char *backend)
{
    int p[2];
    t_require_backend(backend);
    FILE *f = tmpfile();
    cr_assert_not_null(f);
    cr_assert_eq(pipe(p), 0);
    loop_t *loop = loop_new(backend);
    calls = 0;
    int rc = loop_add_reader(loop, fileno(f), count, NULL);
    cr_expect_eq(rc, LOOP_EINVAL, "%s: add_reader of a regular file returned %d", backend, rc);
    cr_expect(strstr(loop_error(loop), "file") != NULL, "%s: the refusal says '%s'", backend,
              loop_error(loop));
    cr_assert_eq(loop_add_reader(loop, p[0], count, NULL), LOOP_OK);
    cr_assert_eq(write(p[1], "x", 1), 1);
    run_at_most(loop, 100);
    cr_expect_gt(calls, 0, "%s: the pipe beside the refused file never fired", backend);
    loop_free(loop);
    fclose(f);
    close(p[0]);
    close(p[1]);
}

/* The dead-fd rule for a watch that has only a writer: reported once, then
 * forgotten, so the loop ends by itself. */
void t_closed_writer_only_fd_is_reported_once(const char *backend)
{
    int p[2];
    t_require_backend(backend);
    cr_assert_eq(pipe(p), 0);
    loop_t *loop = loop_new(backend);
    calls = 0;
    cr_assert_eq(loop_add_writer(loop, p[1], count, NULL), LOOP_OK);
    close(p[1]);
    run_at_most(loop, 300);
    cr_expect_eq(calls, 1, "%s: the closed fd's writer ran %d times (want once)", backend, calls);
    cr_expect_eq(loop_remove_writer(loop, p[1]), LOOP_ENOENT, "%s: the closed fd is still "
                 "watched for writing", backend);
    loop_free(loop);
    close(p[0]);
}

/* A timer that sets a 0 ms timer runs it in the next pass, after a wait, not
 * in the same one: else a timer that re-arms itself never lets the loop wait. */
static int rearms;
static void rearm_zero(loop_t *l, void *arg)
{
    (void)arg;
    if (++rearms < 1000)
        loop_call_later(l, 0, rearm_zero, NULL);
}

void t_zero_ms_timer_from_a_timer_waits_for_the_next_pass(const char *backend)
{
    t_require_backend(backend);
    loop_t *loop = loop_new(backend);
    rearms = 0;
    loop_call_later(loop, 0, rearm_zero, NULL);
    run_at_most(loop, 50);
    struct loop_stats st;
    loop_stats(loop, &st);
    cr_expect_leq((uint64_t)rearms, st.waits, "%s: a self-re-arming 0 ms timer ran %d times in "
                  "%llu passes (want at most once a pass)", backend, rearms,
                  (unsigned long long)st.waits);
    loop_free(loop);
}
