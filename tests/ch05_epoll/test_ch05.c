/* Chapter 5's claims: the glue on epoll, and 10,000 descriptors watched at once. */
#include "../common/testutil.h"
#include "../common/loop_faults.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

CONTRACT_SUITE(ch05_epoll, job_run_loop, "epoll")

static int hits;
static loop_fd_t hit_fd;
static void on_ready(loop_t *loop, loop_fd_t fd, void *arg)
{
    (void)arg;
    hits++;
    hit_fd = fd;
    loop_stop(loop);
}

Test(ch05_epoll, ten_thousand_descriptors_one_ready_one_callback, .timeout = 60)
{
    enum { WANT = 10000 };
    static int fds[WANT];
    long lim = t_raise_nofile(WANT + 64);
    int n = lim >= WANT + 64 ? WANT : (int)lim - 64;
    if (n < WANT)
        cr_log_warn("RLIMIT_NOFILE hard limit is %ld: watching %d descriptors, not %d",
                    lim, n, WANT);
    cr_assert_gt(n, 1000, "RLIMIT_NOFILE (%ld) leaves too few descriptors", lim);
    loop_t *loop = loop_new("epoll");
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    fds[0] = sv[0];
    int refused = loop_add_reader(loop, sv[0], on_ready, NULL) != LOOP_OK;
    for (int i = 1; i < n; i++) {
        fds[i] = dup(sv[1]);          /* never readable: nobody writes to sv[0] */
        refused += loop_add_reader(loop, fds[i], on_ready, NULL) != LOOP_OK;
    }
    cr_expect_eq(refused, 0, "%d descriptors refused: %s", refused, loop_error(loop));
    cr_assert_eq(write(fds[n - 1], "x", 1), 1);   /* sv[0] becomes readable */
    hits = 0;
    loop_run(loop);
    cr_expect_eq(hits, 1);
    cr_expect_eq(hit_fd, sv[0]);
    loop_free(loop);
    for (int i = 0; i < n; i++)
        close(fds[i]);
    close(sv[1]);
}

static void stop_after(loop_t *l, void *arg) { (void)arg; loop_stop(l); }

Test(ch05_epoll, a_ready_fd_wakes_the_loop_at_once)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    loop_t *loop = loop_new("epoll");
    cr_assert_eq(write(p[1], "x", 1), 1);
    loop_add_reader(loop, p[0], on_ready, NULL);
    loop_call_later(loop, 2000, stop_after, NULL);   /* a safety net, never reached */
    hits = 0;
    uint64_t t0 = loop_now_ms();
    loop_run(loop);
    cr_expect_eq(hits, 1, "the reader was not called");
    cr_expect_lt(loop_now_ms() - t0, 1000, "the loop slept instead of waking");
    loop_free(loop);
    close(p[0]);
    close(p[1]);
}

/* Level-triggered: with EPOLLET the second byte would wait for new data
 * that never comes. */
Test(ch05_epoll, data_left_unread_calls_the_reader_again)
{
    t_unread_data_calls_the_reader_again("epoll");
}

Test(ch05_epoll, a_closed_and_reused_fd_number_can_be_watched_again)
{
    t_reused_fd_number("epoll");
}

/* libcurl REMOVEs a kept-alive connection's socket at the end of each
 * transfer and asks for it again at the start of the next. epoll still holds
 * it then (the loop DELs a dropped fd only if it fires): one epoll_ctl(MOD)
 * watches it again, and its success is the check, so no fstat. */
Test(ch05_epoll, a_socket_watched_again_after_a_remove_costs_one_epoll_ctl_and_no_check)
{
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    loop_t *loop = loop_new("epoll");
    cr_assert_eq(loop_add_reader(loop, sv[0], on_ready, NULL), LOOP_OK);
    loop_call_later(loop, 0, stop_after, NULL);
    loop_run(loop);                          /* one wait: now the kernel holds sv[0] */
    cr_assert_eq(loop_remove_reader(loop, sv[0]), LOOP_OK);
    struct loop_stats s0, s1;
    loop_stats(loop, &s0);
    cr_assert_eq(loop_add_reader(loop, sv[0], on_ready, NULL), LOOP_OK, "%s", loop_error(loop));
    loop_stats(loop, &s1);
    cr_expect_eq(s1.made - s0.made, 1);
    cr_expect_eq(s1.rewatched - s0.rewatched, 1, "the socket the kernel still held was checked "
                 "with an fstat and queued, not watched again by one epoll_ctl");
    cr_expect_eq(s1.handed - s0.handed, 1, "one change handed to the kernel, not %llu",
                 (unsigned long long)(s1.handed - s0.handed));
    cr_assert_eq(write(sv[1], "x", 1), 1);
    loop_call_later(loop, 2000, stop_after, NULL);   /* a safety net */
    hits = 0;
    cr_expect_eq(loop_run(loop), LOOP_OK, "%s", loop_error(loop));
    cr_expect_eq(hits, 1, "the socket watched again did not fire");
    loop_stats(loop, &s0);
    cr_expect_eq(s0.handed - s1.handed, 0, "the wait handed the kernel %llu more changes",
                 (unsigned long long)(s0.handed - s1.handed));
    loop_free(loop);
    close(sv[0]);
    close(sv[1]);
}

/* libcurl may announce the same interest again for a socket already watched
 * (the glue then asks add_reader again). The number may name a new file by
 * then, so the backend forgets what the kernel had and ADDs; for the same
 * open file the kernel answers EEXIST, and MOD must follow: no error. */
Test(ch05_epoll, the_same_interest_asked_again_is_changed_with_mod_and_fires)
{
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    loop_t *loop = loop_new("epoll");
    cr_assert_eq(loop_add_reader(loop, sv[0], on_ready, NULL), LOOP_OK);
    loop_call_later(loop, 0, stop_after, NULL);
    loop_run(loop);                          /* the kernel holds sv[0] */
    cr_assert_eq(loop_add_reader(loop, sv[0], on_ready, NULL), LOOP_OK);
    cr_assert_eq(write(sv[1], "x", 1), 1);
    loop_call_later(loop, 2000, stop_after, NULL);
    hits = 0;
    loop_run(loop);
    cr_expect_str_empty(loop_error(loop), "asking again was taken for a failure: %s",
                        loop_error(loop));
    cr_expect_eq(hits, 1);
    loop_free(loop);
    close(sv[0]);
    close(sv[1]);
}

/* The same, but the fd was closed after its remove, and its number reused:
 * by a regular file, which must be refused as any file is; then by a new
 * pipe, which must be watched (added, not changed) and fire. */
Test(ch05_epoll, a_removed_fd_closed_and_its_number_reused_is_checked_again)
{
    int p[2], q[2];
    cr_assert_eq(pipe(p), 0);
    loop_t *loop = loop_new("epoll");
    cr_assert_eq(loop_add_reader(loop, p[0], on_ready, NULL), LOOP_OK);
    loop_call_later(loop, 0, stop_after, NULL);
    loop_run(loop);                          /* the kernel holds p[0] */
    cr_assert_eq(loop_remove_reader(loop, p[0]), LOOP_OK);
    int num = p[0];
    close(p[0]);
    int file = open("/proc/self/exe", O_RDONLY);
    cr_assert_eq(file, num, "the fd number was not reused");
    struct loop_stats s0, s1;
    loop_stats(loop, &s0);
    cr_expect_eq(loop_add_reader(loop, file, on_ready, NULL), LOOP_EINVAL,
                 "a regular file under the number of a removed socket was accepted");
    cr_expect(strstr(loop_error(loop), "file"), "%s", loop_error(loop));
    close(file);
    cr_assert_eq(pipe(q), 0);
    cr_assert_eq(q[0], num, "the fd number was not reused");
    cr_expect_eq(loop_add_reader(loop, q[0], on_ready, NULL), LOOP_OK, "%s", loop_error(loop));
    loop_stats(loop, &s1);
    cr_expect_eq(s1.rewatched - s0.rewatched, 0, "a new file was taken for the old one");
    cr_assert_eq(write(q[1], "x", 1), 1);
    loop_call_later(loop, 2000, stop_after, NULL);
    hits = 0;
    cr_expect_eq(loop_run(loop), LOOP_OK, "%s", loop_error(loop));
    cr_expect_eq(hits, 1, "the new pipe under the old number did not fire");
    loop_free(loop);
    close(p[1]);
    close(q[0]);
    close(q[1]);
}

Test(ch05_epoll, selector_policy_picks_epoll_on_linux)
{
    loop_policy_set(LOOP_POLICY_SELECTOR);
    cr_expect_str_eq(loop_policy_backend(), "epoll");
    loop_policy_set(LOOP_POLICY_DEFAULT);
    loop_t *loop = loop_new(NULL);
    cr_expect_str_eq(loop_name(loop), "epoll", "the default on Linux is a reactor");
    loop_free(loop);
}

Test(ch05_epoll, program_runs_on_epoll, .init = tsrv_up, .fini = tsrv_down, .timeout = 60)
{
    char out[8192], err[4096];
    const char *args[] = {"-q", "-n", "16", "/delay/300", NULL};
    cr_assert_eq(t_run("ch05", args, out, sizeof out, err, sizeof err, 30), 0, "%s%s", out, err);
    cr_expect(strstr(out, "model=epoll transfers=16 ok=16") != NULL, "%s", out);
}

LOOP_BACKEND_TESTS(ch05_epoll, "epoll")
LOOP_FAULT_TESTS(ch05_epoll, "epoll")

static int threads_now(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/task");
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static int mid_run_threads;
static void *count_mid_run(void *arg)
{
    (void)arg;
    struct timespec ts = {0, 300 * 1000000L};  /* every reply is still delayed then */
    nanosleep(&ts, NULL);
    mid_run_threads = threads_now();
    return NULL;
}

/* The local server suspends a delayed reply instead of sleeping in a thread:
 * 1,000 x /delay/500 at once finish in well under the serial 500 s, and in
 * the middle of the run the process (server, test, the counting thread) has
 * a handful of threads, not one per connection. */
Test(ch05_epoll, the_server_holds_a_thousand_delayed_replies_with_a_few_threads,
     .init = tsrv_up, .fini = tsrv_down, .timeout = 60)
{
    enum { N = 1000 };
    static struct job jobs[N];
    char url[96];
    cr_assert_geq(t_raise_nofile(2 * N + 64), 2 * N + 16);
    snprintf(url, sizeof url, "%s/delay/500", t_base);
    for (int i = 0; i < N; i++)
        jobs[i] = (struct job){.url = url};
    struct job_opts o = {20000, "epoll", 0};
    int before = threads_now();
    pthread_t counter;
    pthread_create(&counter, NULL, count_mid_run, NULL);
    uint64_t t0 = loop_now_ms();
    cr_assert_eq(job_run_loop(jobs, N, &o), 0);
    pthread_join(counter, NULL);
    uint64_t ms = loop_now_ms() - t0;
    int ok = 0;
    for (int i = 0; i < N; i++)
        ok += job_ok(&jobs[i]);
    cr_expect_eq(ok, N, "%d of %d delayed replies", ok, N);
    cr_expect_lt(ms, 10000, "1,000 x 500 ms took %llu ms", (unsigned long long)ms);
    cr_expect_leq(mid_run_threads, before + 8, "threads: %d before the run, %d in the middle "
                  "of it", before, mid_run_threads);
}

/* epoll refuses a device that has no readiness (/dev/null: EPERM), which
 * poll would call always ready. loop.h's rule: the refused fd is reported
 * once, as the dead-fd rule reports a closed one, with loop_error saying
 * why; every other watch goes on, and the next run is not a failure. */
static int null_calls, pipe_calls;
static void on_null(loop_t *l, loop_fd_t fd, void *arg) { (void)l; (void)fd; (void)arg; null_calls++; }
static void on_pipe(loop_t *l, loop_fd_t fd, void *arg)
{
    char c;
    (void)arg;
    if (read(fd, &c, 1) == 1)
        pipe_calls++;
    loop_stop(l);
}
static void stop_it(loop_t *l, void *arg) { (void)arg; loop_stop(l); }

Test(ch05_epoll, a_device_epoll_refuses_is_reported_once_and_the_loop_goes_on, .timeout = 30)
{
    int p[2], dn = open("/dev/null", O_RDONLY);
    cr_assert_geq(dn, 0);
    cr_assert_eq(pipe(p), 0);
    loop_t *loop = loop_new("epoll");
    cr_assert_eq(loop_add_reader(loop, dn, on_null, NULL), LOOP_OK);
    cr_assert_eq(loop_add_reader(loop, p[0], on_pipe, NULL), LOOP_OK);
    for (int round = 0; round < 2; round++) {    /* the second run must work as well */
        cr_assert_eq(write(p[1], "x", 1), 1);
        uint64_t t = loop_call_later(loop, 1000, stop_it, NULL);
        int rc = loop_run(loop);
        cr_expect_eq(rc, LOOP_OK, "run %d failed: %s", round + 1, loop_error(loop));
        loop_cancel(loop, t);
    }
    cr_expect_eq(null_calls, 1, "/dev/null's reader ran %d times (want once)", null_calls);
    cr_expect_eq(pipe_calls, 2, "the pipe fired in %d of 2 runs", pipe_calls);
    cr_expect(strstr(loop_error(loop), "epoll_ctl") != NULL, "loop_error: '%s'", loop_error(loop));
    loop_free(loop);
    close(dn); close(p[0]); close(p[1]);
}
