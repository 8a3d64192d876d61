/* Chapter 3's claims: the loop interface, the select backend, and the glue. */
#include "../common/testutil.h"
#include "../common/loop_faults.h"
#include "../../code/glue/curlx.h"
#include "../../code/loop/loop.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <unistd.h>

CONTRACT_SUITE(ch03_select, job_run_loop, "select")

/* ---- timers */

static char order[16];
static void mark(loop_t *l, void *arg) { (void)l; strncat(order, arg, 1); }

Test(ch03_select, timers_fire_in_order)
{
    loop_t *loop = loop_new("select");
    order[0] = '\0';
    uint64_t t0 = loop_now_ms();          /* before the 30 ms timer's deadline is taken */
    loop_call_later(loop, 30, mark, "d");
    loop_call_later(loop, 10, mark, "b");
    loop_call_later(loop, 0, mark, "a");
    loop_call_later(loop, 20, mark, "c");
    cr_assert_eq(loop_run(loop), LOOP_OK);
    cr_expect_str_eq(order, "abcd");
    cr_expect_geq(loop_now_ms() - t0, 30, "the 30 ms timer fired early");
    loop_free(loop);
}

Test(ch03_select, equal_timers_keep_fifo_order)
{
    loop_t *loop = loop_new("select");
    order[0] = '\0';
    loop_call_later(loop, 5, mark, "x");
    loop_call_later(loop, 5, mark, "y");
    loop_call_later(loop, 5, mark, "z");
    loop_run(loop);
    cr_expect_str_eq(order, "xyz");
    loop_free(loop);
}

Test(ch03_select, cancelled_timer_never_fires)
{
    loop_t *loop = loop_new("select");
    order[0] = '\0';
    uint64_t t = loop_call_later(loop, 10, mark, "x");
    loop_call_later(loop, 20, mark, "y");
    cr_expect_eq(loop_cancel(loop, t), LOOP_OK);
    cr_expect_eq(loop_cancel(loop, t), LOOP_ENOENT, "a second cancel is harmless");
    loop_run(loop);
    cr_expect_str_eq(order, "y");
    loop_free(loop);
}

/* ---- readers */

struct pair { int a[2], b[2]; int calls; loop_t *loop; };

static void read_and_remove(loop_t *loop, loop_fd_t fd, void *arg)
{
    struct pair *p = arg;
    char c;
    p->calls++;
    cr_expect_eq(read(fd, &c, 1), 1);
    cr_expect_eq(loop_remove_reader(loop, fd), LOOP_OK);
    loop_remove_reader(loop, p->b[0]);        /* also ready, now gone: never called */
}

Test(ch03_select, removing_a_reader_inside_its_callback_is_safe)
{
    struct pair p = {.calls = 0};
    cr_assert_eq(pipe(p.a), 0);
    cr_assert_eq(pipe(p.b), 0);
    loop_t *loop = loop_new("select");
    cr_assert_eq(loop_add_reader(loop, p.a[0], read_and_remove, &p), LOOP_OK);
    cr_assert_eq(loop_add_reader(loop, p.b[0], read_and_remove, &p), LOOP_OK);
    cr_assert_eq(write(p.a[1], "x", 1), 1);
    cr_assert_eq(write(p.b[1], "y", 1), 1);
    cr_expect_eq(loop_run(loop), LOOP_OK, "returns once nothing is watched");
    cr_expect_eq(p.calls, 1, "the removed reader was called anyway");
    loop_free(loop);
}

static int writer_calls;
static void count_writer(loop_t *l, loop_fd_t fd, void *arg) { (void)l; (void)fd; (void)arg; writer_calls++; }
static void remove_both(loop_t *loop, loop_fd_t fd, void *arg)
{
    (void)arg;
    loop_remove_reader(loop, fd);
    loop_remove_writer(loop, fd);             /* the watch is freed here */
}

/* Readable and writable at once; the reader removes both: the writer must not
 * run, and dispatch must not touch the freed watch (ASan checks that). */
Test(ch03_select, a_reader_that_removes_its_writer_stops_the_writer)
{
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    cr_assert_eq(write(sv[1], "x", 1), 1);
    loop_t *loop = loop_new("select");
    writer_calls = 0;
    loop_add_reader(loop, sv[0], remove_both, NULL);
    loop_add_writer(loop, sv[0], count_writer, NULL);
    cr_expect_eq(loop_run(loop), LOOP_OK);
    cr_expect_eq(writer_calls, 0, "the removed writer ran %d times", writer_calls);
    loop_free(loop);
    close(sv[0]);
    close(sv[1]);
}

/* Removing what was never watched changes nothing: LOOP_ENOENT, and no watch
 * is left behind for it, so the loop, with nothing watched and no timer,
 * returns without a single wait (an alarm stops it after 1 s if it does wait).
 * A watched fd's other side, never asked for, is refused too, and its reader
 * still fires. */
static loop_t *alarm_loop;
static void stop_on_alarm(int sig) { (void)sig; loop_stop(alarm_loop); }
static int unknown_calls;
static void count_unknown(loop_t *l, loop_fd_t fd, void *arg)
{
    char c;
    (void)arg;
    unknown_calls += read(fd, &c, 1) == 1;
    loop_remove_reader(l, fd);
}

Test(ch03_select, removing_an_unknown_fd_is_harmless, .timeout = 30)
{
    int p[2];
    struct loop_stats st;
    struct sigaction sa, old;
    struct itimerval one_s = {{0, 0}, {1, 0}}, off = {{0, 0}, {0, 0}};
    loop_t *loop = loop_new("select");
    cr_assert_eq(pipe(p), 0);
    unknown_calls = 0;
    cr_assert_eq(loop_add_reader(loop, p[0], count_unknown, NULL), LOOP_OK);
    cr_expect_eq(loop_remove_writer(loop, p[0]), LOOP_ENOENT, "a writer that was never added");
    cr_assert_eq(write(p[1], "x", 1), 1);
    cr_expect_eq(loop_run(loop), LOOP_OK, "%s", loop_error(loop));   /* the reader removes itself */
    cr_expect_eq(unknown_calls, 1, "the reader ran %d times after its writer's removal",
                 unknown_calls);
    cr_expect_eq(loop_remove_reader(loop, 777), LOOP_ENOENT);
    cr_expect_eq(loop_remove_writer(loop, 777), LOOP_ENOENT);
    cr_expect_eq(loop_remove_reader(loop, -1), LOOP_ENOENT);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = stop_on_alarm;                /* no SA_RESTART: the wait ends */
    alarm_loop = loop;
    sigaction(SIGALRM, &sa, &old);
    setitimer(ITIMER_REAL, &one_s, NULL);
    loop_stats(loop, &st);
    uint64_t waits0 = st.waits;
    cr_expect_eq(loop_run(loop), LOOP_OK, "%s", loop_error(loop));
    setitimer(ITIMER_REAL, &off, NULL);
    sigaction(SIGALRM, &old, NULL);
    loop_stats(loop, &st);
    cr_expect_eq(st.waits - waits0, 0, "with nothing watched the loop waited %llu times: the "
                 "removals left watches behind", (unsigned long long)(st.waits - waits0));
    loop_free(loop);
    close(p[0]);
    close(p[1]);
}

Test(ch03_select, caps_name_and_unknown_backend)
{
    loop_t *loop = loop_new("select");
    cr_expect_str_eq(loop_name(loop), "select");
    cr_expect(loop_caps(loop) & LOOP_CAP_FD_WATCH);
    cr_expect(!(loop_caps(loop) & LOOP_CAP_COMPLETION));
    loop_free(loop);
    cr_expect_null(loop_new("no-such-backend"));
}

/* ---- FD_SETSIZE */

static void never(loop_t *l, loop_fd_t fd, void *arg) { (void)l; (void)fd; (void)arg; }

/* Fill the descriptor table until the next socket lands at or above FD_SETSIZE. */
static int fill_below_fd_setsize(int *fds, int max)
{
    int n = 0;
    cr_assert_geq(t_raise_nofile(FD_SETSIZE + 64), FD_SETSIZE + 16, "RLIMIT_NOFILE too low");
    int s = socket(AF_INET, SOCK_STREAM, 0);
    fds[n++] = s;
    while (n < max && fds[n - 1] < FD_SETSIZE)
        fds[n++] = dup(s);
    return n;
}

Test(ch03_select, fd_at_or_above_fd_setsize_is_refused)
{
    static int fds[FD_SETSIZE + 16];
    int n = fill_below_fd_setsize(fds, FD_SETSIZE + 16);
    cr_assert_gt(n, FD_SETSIZE / 2, "could not open enough descriptors");
    int high = fds[n - 1], low = fds[0];
    cr_assert_geq(high, FD_SETSIZE);
    loop_t *loop = loop_new("select");
    int rc = loop_add_reader(loop, low, never, NULL);
    cr_expect_eq(rc, LOOP_OK, "add_reader(fd %d, below FD_SETSIZE %d) returned %d, not LOOP_OK",
                 low, FD_SETSIZE, rc);
    rc = loop_add_reader(loop, high, never, NULL);
    cr_expect_eq(rc, LOOP_ERANGE, "add_reader(fd %d, FD_SETSIZE is %d) returned %d, not "
                 "LOOP_ERANGE (%d)", high, FD_SETSIZE, rc, LOOP_ERANGE);
    rc = loop_add_writer(loop, high, never, NULL);
    cr_expect_eq(rc, LOOP_ERANGE, "add_writer(fd %d, FD_SETSIZE is %d) returned %d, not "
                 "LOOP_ERANGE (%d)", high, FD_SETSIZE, rc, LOOP_ERANGE);
    cr_expect(strstr(loop_error(loop), "FD_SETSIZE") != NULL,
              "the loop's message should name FD_SETSIZE; it is \"%s\"", loop_error(loop));
    rc = loop_remove_reader(loop, high);
    cr_expect_eq(rc, LOOP_ENOENT, "fd %d was registered after all (remove_reader returned %d)",
                 high, rc);
    loop_free(loop);
    for (int i = 0; i < n; i++)
        close(fds[i]);
}

static void done_record(CURL *easy, CURLcode rc, void *arg)
{
    *(CURLcode *)arg = rc;
    curl_easy_cleanup(easy);
}

static CURLcode results[2];
static void done_nth(CURL *easy, CURLcode rc, void *arg)
{
    (void)arg;
    long i = 0;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&i);
    results[i] = rc;
    curl_easy_cleanup(easy);
}

/* The glue's -1 reaches libcurl, which aborts every transfer in the multi at
 * once (libcurl 7.81.0 and later): CURLM_ABORTED_BY_CALLBACK is libcurl's
 * verdict, CURLE_ABORTED_BY_CALLBACK on each transfer the glue's. */
Test(ch03_select, transfer_on_a_socket_above_fd_setsize_fails_clearly, .init = tsrv_up,
     .fini = tsrv_down, .timeout = 30)
{
    static int fds[FD_SETSIZE + 16];
    int n = fill_below_fd_setsize(fds, FD_SETSIZE + 16);
    close(fds[--n]);                  /* the next socket is FD_SETSIZE itself */
    char url[96], err[400];
    snprintf(url, sizeof url, "%s/bytes/10", t_base);
    loop_t *loop = loop_new("select");
    curlx_t *cx = curlx_attach(loop, done_nth, NULL, 0, err, sizeof err);
    for (long i = 0; i < 2; i++) {
        results[i] = CURLE_OK;
        CURL *easy = curl_easy_init();
        curl_easy_setopt(easy, CURLOPT_URL, url);
        curl_easy_setopt(easy, CURLOPT_PRIVATE, (void *)i);
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 2000L);   /* a backend that takes the fd: */
        curlx_add(cx, easy);                                  /* its values, in seconds */
    }
    uint64_t t0 = loop_now_ms();
    int rc = loop_run(loop);
    cr_expect_eq(rc, LOOP_OK, "loop_run returned %d: %s", rc, loop_error(loop));
    cr_expect_eq(curlx_pending(cx), 0, "%zu transfers were never ended", curlx_pending(cx));
    cr_expect_eq(curlx_mcode(cx), CURLM_ABORTED_BY_CALLBACK, "libcurl said CURLMcode %d, not "
                 "CURLM_ABORTED_BY_CALLBACK (%d): did the socket callback return -1?",
                 (int)curlx_mcode(cx), (int)CURLM_ABORTED_BY_CALLBACK);
    for (int i = 0; i < 2; i++)
        cr_expect_eq(results[i], CURLE_ABORTED_BY_CALLBACK, "transfer %d got %d", i,
                     (int)results[i]);
    cr_expect_lt(loop_now_ms() - t0, 1000, "the abort is immediate");
    cr_expect(strstr(curlx_error(cx), "FD_SETSIZE") != NULL,
              "the glue's message should name FD_SETSIZE; it is \"%s\"", curlx_error(cx));
    curlx_free(cx);
    loop_free(loop);
    for (int i = 0; i < n; i++)
        close(fds[i]);
}

/* ---- the glue's contract with libcurl */

static size_t discard(char *d, size_t s, size_t n, void *a) { (void)d; (void)a; return s * n; }

static char trace_buf[4096];
static void collect(const char *ev, void *arg)
{
    (void)arg;
    strncat(trace_buf, ev, sizeof trace_buf - strlen(trace_buf) - 2);
    strcat(trace_buf, "\n");
}

/* The first "socket FD @what" line in trace_buf: where it starts, and its FD. */
static const char *trace_request(const char *what, long *fd)
{
    char tail[16];
    snprintf(tail, sizeof tail, " %s\n", what);
    const char *at = strstr(trace_buf, tail);
    cr_assert_not_null(at, "no %s request:\n%s", what, trace_buf);
    while (at > trace_buf && at[-1] != '\n')
        at--;
    cr_assert_eq(sscanf(at, "socket %ld ", fd), 1, "%s", at);
    return at;
}

/* One transfer of @path on @loop through the glue, its requests traced into
 * trace_buf; its CURLcode lands in @result. @timeout_ms 0: none. */
static curlx_t *traced_transfer(loop_t *loop, const char *path, long timeout_ms,
                                CURLcode *result)
{
    char url[96], err[400];
    snprintf(url, sizeof url, "%s%s", t_base, path);
    curlx_t *cx = curlx_attach(loop, done_record, result, 0, err, sizeof err);
    cr_assert_not_null(cx, "%s", err);
    trace_buf[0] = '\0';
    curlx_trace(cx, collect, NULL);
    CURL *easy = curl_easy_init();
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard);
    if (timeout_ms > 0)
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
    curlx_add(cx, easy);
    return cx;
}

/* One transfer whose reply takes 50 ms: timer 0 first, then OUT (connecting), IN
 * (waiting for the reply), REMOVE, and no timer left at the end (the last timer
 * request is -1). libcurl 7.88.1 asks "timer 199" after OUT and deletes it after
 * REMOVE; 8.14.1 deletes it after OUT. A reply that is already there when the
 * request has gone may be read by 8.14.1 in the same call, with no IN asked:
 * a race, so the reply here is delayed. */
Test(ch03_select, one_transfer_asks_timer_out_in_remove, .init = tsrv_up,
     .fini = tsrv_down, .timeout = 30)
{
    char want[64];
    CURLcode result = CURLE_FAILED_INIT;
    loop_t *loop = loop_new("select");
    curlx_t *cx = traced_transfer(loop, "/delay/50", 0, &result);
    loop_run(loop);
    cr_assert_eq(result, CURLE_OK);
    long fd = -1;
    const char *out = trace_request("OUT", &fd);
    snprintf(want, sizeof want, "socket %ld IN\n", fd);
    const char *in = strstr(out, want);
    snprintf(want, sizeof want, "socket %ld REMOVE\n", fd);
    const char *rm = in ? strstr(in, want) : NULL;
    cr_expect(in && rm, "expected OUT, IN, REMOVE for fd %ld in:\n%s", fd, trace_buf);
    const char *last = NULL;
    for (const char *p = trace_buf; (p = strstr(p, "timer ")); p++)
        last = p;
    cr_expect(last && strncmp(last, "timer -1\n", 9) == 0,
              "the last timer request deletes the timer (-1):\n%s", trace_buf);
    cr_expect(strncmp(trace_buf, "timer 0\n", 8) == 0, "the first request is a 0 ms timer:\n%s",
              trace_buf);
    curlx_free(cx);
    loop_free(loop);
}

/* What libcurl asks after OUT for a connect to 127.0.0.1 (one address family).
 * 7.88.1 arms its happy-eyeballs timer (200 ms) at every connect, so it asks
 * "timer 199"-ish: the deadline at which it checks the socket itself, which is
 * what rescues a connect whose writability the loop never reports. 8.14.1 arms
 * it only when a second address family is there (lib/connect.c, since 8.4.0):
 * "timer -1", and no rescue. */
Test(ch03_select, the_connect_check_timer_is_armed_by_7_88_not_by_8_14, .init = tsrv_up,
     .fini = tsrv_down, .timeout = 30)
{
    CURLcode result = CURLE_FAILED_INIT;
    loop_t *loop = loop_new("select");
    curlx_t *cx = traced_transfer(loop, "/delay/50", 0, &result);
    loop_run(loop);
    cr_assert_eq(result, CURLE_OK);
    long fd = -1, ms = 0;
    const char *out = trace_request("OUT", &fd);
    const char *t = strstr(out, "timer ");
    cr_assert_not_null(t, "no timer request after OUT:\n%s", trace_buf);
    cr_assert_eq(sscanf(t, "timer %ld", &ms), 1, "%s", t);
    unsigned v = curl_version_info(CURLVERSION_NOW)->version_num;
    if (v < 0x080400)   /* 8.4.0: "connect: only start the happy eyeballs timer when needed" */
        cr_expect(ms > 100 && ms <= 200, "libcurl %s: after OUT, timer %ld (want the 200 ms "
                  "happy-eyeballs deadline):\n%s", curl_version(), ms, trace_buf);
    else
        cr_expect_eq(ms, -1, "libcurl %s: after OUT, timer %ld (want -1: no timer for one "
                     "address family):\n%s", curl_version(), ms, trace_buf);
    curlx_free(cx);
    loop_free(loop);
}

static void stop_now(loop_t *loop, void *arg) { (void)arg; loop_stop(loop); }

/* libcurl's timer -1 deletes the pending timer: a stale one would call libcurl
 * back for nothing (and, after curlx_free, into freed memory). The transfer
 * ends at ~100 ms; its 199 ms connect timer and its 800 ms timeout must not fire. */
Test(ch03_select, a_deleted_timer_never_fires, .init = tsrv_up, .fini = tsrv_down, .timeout = 30)
{
    CURLcode result = CURLE_FAILED_INIT;
    loop_t *loop = loop_new("select");
    curlx_t *cx = traced_transfer(loop, "/delay/100", 800, &result);
    loop_run(loop);                            /* stops when the transfer is done */
    cr_assert_eq(result, CURLE_OK);
    const char *del = strstr(trace_buf, "timer -1\n");
    cr_assert_not_null(del, "libcurl never deleted its timer:\n%s", trace_buf);
    loop_call_later(loop, 1200, stop_now, NULL);
    loop_run(loop);                            /* time for any stale timer to fire */
    cr_expect_null(strstr(del, "timeout fired"), "a deleted timer fired:\n%s", trace_buf);
    curlx_free(cx);
    loop_free(loop);
}

/* Rule: libcurl is never called from inside its timer callback. Its first
 * request, timer 0, comes from inside curl_multi_add_handle; the glue only
 * schedules it, and libcurl hears of it on the loop's next turn. */
Test(ch03_select, a_zero_ms_timer_waits_for_the_loop, .init = tsrv_up, .fini = tsrv_down,
     .timeout = 30)
{
    CURLcode result = CURLE_FAILED_INIT;
    loop_t *loop = loop_new("select");
    curlx_t *cx = traced_transfer(loop, "/bytes/10", 0, &result);
    cr_expect_str_eq(trace_buf, "timer 0\n", "the glue called libcurl before the loop ran");
    loop_run(loop);
    cr_expect_eq(result, CURLE_OK);
    cr_expect(strncmp(trace_buf, "timer 0\ntimeout fired\n", 22) == 0,
              "the 0 ms timer fires from the loop:\n%s", trace_buf);
    curlx_free(cx);
    loop_free(loop);
}

static long connects[2];
static CURLcode reuse_results[2];
static void done_connects(CURL *easy, CURLcode rc, void *arg)
{
    char *p = NULL;
    (void)arg;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &p);
    long i = (long)(intptr_t)p;
    reuse_results[i] = rc;
    curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &connects[i]);
    curl_easy_cleanup(easy);
}

/* Rule: CURL_POLL_REMOVE only stops watching. After the first transfer libcurl
 * says REMOVE but keeps the connection; the second transfer reuses it (no new
 * connect) and asks for the same socket again. */
Test(ch03_select, remove_only_stops_watching_the_socket_is_reused, .init = tsrv_up,
     .fini = tsrv_down, .timeout = 30)
{
    char url[2][96], err[400], want[64];
    long fd = -1;
    snprintf(url[0], sizeof url[0], "%s/bytes/10", t_base);
    snprintf(url[1], sizeof url[1], "%s/delay/50", t_base);   /* it must wait: IN */
    loop_t *loop = loop_new("select");
    trace_buf[0] = '\0';
    curlx_t *cx = curlx_attach(loop, done_connects, NULL, 0, err, sizeof err);
    cr_assert_not_null(cx, "%s", err);
    curlx_trace(cx, collect, NULL);
    for (long i = 0; i < 2; i++) {
        CURL *easy = curl_easy_init();
        curl_easy_setopt(easy, CURLOPT_URL, url[i]);
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(easy, CURLOPT_PRIVATE, (char *)(intptr_t)i);
        curlx_add(cx, easy);
        loop_run(loop);                        /* one transfer at a time */
    }
    cr_expect_eq(reuse_results[0], CURLE_OK);
    cr_expect_eq(reuse_results[1], CURLE_OK);
    cr_expect_eq(connects[0], 1, "the first transfer connects");
    cr_expect_eq(connects[1], 0, "the second transfer reused the connection: %ld connects",
                 connects[1]);
    const char *rm = trace_request("REMOVE", &fd);
    snprintf(want, sizeof want, "socket %ld ", fd);
    cr_expect_not_null(strstr(strchr(rm, '\n'), want),
                       "the socket libcurl removed is asked for again:\n%s", trace_buf);
    curlx_free(cx);
    loop_free(loop);
}

static int done_count;
static void done_count_cb(CURL *easy, CURLcode rc, void *arg)
{
    (void)arg;
    cr_expect_eq(rc, CURLE_ABORTED_BY_CALLBACK);
    done_count++;
    curl_easy_cleanup(easy);
}

static size_t trace_at_free;
static void free_later(loop_t *loop, void *cx)
{
    trace_at_free = strlen(trace_buf);
    curlx_free(cx);                   /* libcurl calls back into the glue here */
    loop_stop(loop);
}

Test(ch03_select, freeing_the_glue_mid_transfer_reports_each_once, .init = tsrv_up,
     .fini = tsrv_down, .timeout = 30)
{
    char url[96], err[400];
    snprintf(url, sizeof url, "%s/stall", t_base);
    loop_t *loop = loop_new("select");
    curlx_t *cx = curlx_attach(loop, done_count_cb, NULL, 0, err, sizeof err);
    done_count = 0;
    trace_buf[0] = '\0';
    curlx_trace(cx, collect, NULL);
    for (int i = 0; i < 3; i++) {
        CURL *easy = curl_easy_init();
        curl_easy_setopt(easy, CURLOPT_URL, url);
        curlx_add(cx, easy);
    }
    loop_call_later(loop, 200, free_later, cx);
    cr_expect_eq(loop_run(loop), LOOP_OK);
    cr_expect_eq(done_count, 3);
    cr_expect_not_null(strstr(trace_buf + trace_at_free, " REMOVE\n"),
                       "libcurl called the socket callback during cleanup:\n%s", trace_buf);
    loop_free(loop);
}

/* More transfers at once than the process may open files: said up front, with
 * the limit and what to do, before any transfer starts. (This test process,
 * a fork of its own, lowers its hard limit to 200; the program inherits it.) */
Test(ch03_select, program_says_when_n_exceeds_the_open_file_limit, .init = tsrv_up,
     .fini = tsrv_down)
{
    char out[4096], err[4096];
    struct rlimit rl = {200, 200};
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
    const char *args[] = {"-n", "500", "/delay/1", NULL};
    cr_expect_eq(t_run("ch03", args, out, sizeof out, err, sizeof err, 20), 2);
    cr_expect(strstr(err, "500 transfers at once need about 564 open files, and this process "
                          "may open 200") != NULL, "stderr: %s", err);
    cr_expect_eq(out[0], '\0', "transfers ran: %s", out);
}

Test(ch03_select, program_refuses_an_unknown_backend, .init = tsrv_up, .fini = tsrv_down)
{
    char out[4096], err[4096];
    const char *args[] = {"-b", "kqueue-on-linux", "/bytes/1", NULL};
    cr_expect_eq(t_run("ch03", args, out, sizeof out, err, sizeof err, 10), 2, "usage: exit 2");
    cr_expect(strstr(err, "unknown backend 'kqueue-on-linux'; this build has:") != NULL,
              "stderr: %s", err);
    cr_expect(strstr(err, " select") != NULL, "the backends are named: %s", err);
}


/* An injected failure mid-run (LOOP_FAULT: the Nth add_reader/writer, timer or
 * wait fails) ends every transfer with a message that says why, and leaks
 * nothing (the ASan build checks). */
static void run_with_fault(const char *fault, struct job *jobs, size_t n)
{
    char url[96];
    snprintf(url, sizeof url, "%s/delay/100", t_base);
    for (size_t i = 0; i < n; i++)
        jobs[i] = (struct job){.url = strdup(url)};
    struct job_opts o = {5000, "select", 0};
    setenv("LOOP_FAULT", fault, 1);
    job_run_loop(jobs, n, &o);
    unsetenv("LOOP_FAULT");
    for (size_t i = 0; i < n; i++) {
        cr_expect_eq(jobs[i].done, 1, "%s: transfer %zu reported %d times", fault, i,
                     jobs[i].done);
        free((char *)jobs[i].url);
    }
}

Test(ch03_select, injected_failures_end_every_transfer_with_a_reason, .init = tsrv_up,
     .fini = tsrv_down, .timeout = 30)
{
    struct job jobs[3];
    run_with_fault("add:2", jobs, 3);            /* the loop refuses a socket */
    for (int i = 0; i < 3; i++) {
        cr_expect_eq(jobs[i].result, CURLE_ABORTED_BY_CALLBACK, "add: transfer %d got %d", i,
                     (int)jobs[i].result);
        cr_expect(strstr(jobs[i].error, "injected by LOOP_FAULT") != NULL ||
                  strstr(jobs[i].error, "aborted") != NULL, "add: %s", jobs[i].error);
    }
    run_with_fault("wait:3", jobs, 3);           /* the wait itself fails */
    for (int i = 0; i < 3; i++)
        cr_expect_neq(jobs[i].result, CURLE_OK, "wait: transfer %d still succeeded", i);
    run_with_fault("timer:2", jobs, 3);          /* no memory for libcurl's timer */
    int failed = 0;
    for (int i = 0; i < 3; i++)
        failed += jobs[i].result != CURLE_OK;
    cr_expect_gt(failed, 0, "timer: no transfer noticed its timer was lost");
}

/* The program says the loop failed, prints the rows it has, and exits 1. */
Test(ch03_select, program_reports_a_loop_failure_and_the_rows_so_far, .init = tsrv_up,
     .fini = tsrv_down, .timeout = 30)
{
    char out[4096], err[4096];
    const char *args[] = {"-n", "2", "/delay/100", NULL};
    setenv("LOOP_FAULT", "wait:3", 1);
    int rc = t_run("ch03", args, out, sizeof out, err, sizeof err, 20);
    unsetenv("LOOP_FAULT");
    cr_expect_eq(rc, 1, "exit %d\n%s%s", rc, out, err);
    cr_expect(strstr(err, "the select loop failed: the wait failed (injected by LOOP_FAULT)"),
              "stderr: %s", err);
    cr_expect(strstr(out, "total: model=select transfers=2 ok=0 failed=2") != NULL, "%s", out);
}


static uint64_t due_fired;
static void note_due(loop_t *l, void *arg) { (void)arg; due_fired = loop_now_ms(); loop_stop(l); }

/* The wait ends when the next timer is due: a 100 ms timer, with an idle fd
 * watched, fires between 100 and 500 ms (a generous bound: shared machines). */
Test(ch03_select, a_timer_fires_on_time_while_the_loop_waits)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    loop_t *loop = loop_new("select");
    loop_add_reader(loop, p[0], never, NULL);
    uint64_t t0 = loop_now_ms();
    due_fired = 0;
    loop_call_later(loop, 100, note_due, NULL);
    cr_expect_eq(loop_run(loop), LOOP_OK);
    cr_expect(due_fired - t0 >= 99 && due_fired - t0 < 500, "the 100 ms timer fired after %llu ms",
              (unsigned long long)(due_fired - t0));
    loop_free(loop);
    close(p[0]);
    close(p[1]);
}

LOOP_BACKEND_TESTS(ch03_select, "select")
LOOP_FAULT_TESTS(ch03_select, "select")
