/* Chapter 8's claims: io_uring is a proactor with IOCP's contradiction, and
 * POLL_ADD is its escape. Every test skips with the reason where io_uring is
 * unavailable (io_uring_queue_init fails, as in some containers). */
#include "../common/testutil.h"
#include "../common/loop_faults.h"
#include "../../code/ch08_uring/uring_demo.h"
#include "../../code/glue/curlx.h"
#include "../../code/loop/proactor/uring.h"

#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct io_uring ring;

static void ring_up(void)
{
    char why[160];
    if (ur_available(why, sizeof why) != 0)
        cr_skip_test("io_uring is unavailable here: %s", why);
    cr_assert_eq(io_uring_queue_init(8, &ring, 0), 0);
}

static void ring_down(void) { io_uring_queue_exit(&ring); }

TestSuite(ch08_uring, .init = ring_up, .fini = ring_down, .timeout = 30);

/* The next CQE within ms, or NULL (and the caller must not mark it seen). */
static struct io_uring_cqe *next_cqe(long ms)
{
    struct io_uring_cqe *cqe = NULL;
    struct __kernel_timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    io_uring_submit(&ring);
    return io_uring_wait_cqe_timeout(&ring, &cqe, &ts) == 0 ? cqe : NULL;
}

static void submit_poll(int fd, unsigned mask, uint64_t tag, int multishot)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
    if (multishot)
        io_uring_prep_poll_multishot(sqe, fd, mask);
    else
        io_uring_prep_poll_add(sqe, fd, mask);
    io_uring_sqe_set_data64(sqe, tag);
}

Test(ch08_uring, poll_add_is_one_shot)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    submit_poll(p[0], POLLIN, 7, 0);
    cr_assert_eq(write(p[1], "x", 1), 1);
    struct io_uring_cqe *c = next_cqe(1000);
    cr_assert_not_null(c);
    cr_expect_eq(c->user_data, 7);
    cr_expect(c->res & POLLIN);
    cr_expect_eq(c->flags & IORING_CQE_F_MORE, 0, "a one-shot poll is finished");
    io_uring_cqe_seen(&ring, c);
    cr_assert_eq(write(p[1], "y", 1), 1);
    cr_expect_null(next_cqe(200), "no second completion without a new POLL_ADD");
    close(p[0]);
    close(p[1]);
}

Test(ch08_uring, multishot_poll_sets_cqe_f_more)
{
    int p[2];
    char buf[4];
    cr_assert_eq(pipe(p), 0);
    submit_poll(p[0], POLLIN, 8, 1);
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(write(p[1], "x", 1), 1);
        struct io_uring_cqe *c = next_cqe(1000);
        cr_assert_not_null(c, "multishot completion %d", i);
        cr_expect(c->flags & IORING_CQE_F_MORE, "the poll stays armed");
        io_uring_cqe_seen(&ring, c);
        cr_assert_eq(read(p[0], buf, 1), 1);
    }
    close(p[0]);
    close(p[1]);
}

Test(ch08_uring, cancelling_a_poll_gives_ecanceled)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    submit_poll(p[0], POLLIN, 9, 0);
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
    io_uring_prep_poll_remove(sqe, 9);
    io_uring_sqe_set_data64(sqe, 10);
    int seen_poll = 0, seen_remove = 0;
    for (int i = 0; i < 2; i++) {
        struct io_uring_cqe *c = next_cqe(1000);
        cr_assert_not_null(c);
        if (c->user_data == 9) {
            cr_expect_eq(c->res, -ECANCELED);
            seen_poll = 1;
        } else {
            cr_expect_eq(c->res, 0, "the remove itself succeeds");
            seen_remove = 1;
        }
        io_uring_cqe_seen(&ring, c);
    }
    cr_expect(seen_poll && seen_remove);
    close(p[0]);
    close(p[1]);
}

Test(ch08_uring, poll_update_changes_the_mask_in_place)
{
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    submit_poll(sv[0], POLLIN, 11, 0);          /* nothing to read: stays pending */
    cr_expect_null(next_cqe(100));
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
    io_uring_prep_poll_update(sqe, 11, 11, POLLOUT, IORING_POLL_UPDATE_EVENTS | IORING_POLL_UPDATE_USER_DATA);
    io_uring_sqe_set_data64(sqe, 12);
    int got_poll = 0;
    for (int i = 0; i < 2; i++) {
        struct io_uring_cqe *c = next_cqe(1000);
        cr_assert_not_null(c);
        if (c->user_data == 11) {               /* the same poll, now for writing */
            cr_expect(c->res & POLLOUT, "res 0x%x", c->res);
            got_poll = 1;
        } else {
            cr_expect_eq(c->res, 0);
        }
        io_uring_cqe_seen(&ring, c);
    }
    cr_expect(got_poll);
    close(sv[0]);
    close(sv[1]);
}

Test(ch08_uring, recv_consumes_the_bytes_but_a_poll_does_not)
{
    int sv[2];
    char buf[16], mine[16];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    submit_poll(sv[0], POLLIN, 13, 0);
    cr_assert_eq(write(sv[1], "abc", 3), 3);
    struct io_uring_cqe *c = next_cqe(1000);
    cr_assert_not_null(c);
    io_uring_cqe_seen(&ring, c);
    cr_expect_eq(recv(sv[0], mine, sizeof mine, MSG_DONTWAIT), 3, "after a poll the data is there");
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
    io_uring_prep_recv(sqe, sv[0], buf, sizeof buf, 0);
    io_uring_sqe_set_data64(sqe, 14);
    io_uring_submit(&ring);
    cr_assert_eq(write(sv[1], "def", 3), 3);
    c = next_cqe(1000);
    cr_assert_not_null(c);
    cr_expect_eq(c->res, 3, "the RECV took the bytes");
    io_uring_cqe_seen(&ring, c);
    errno = 0;
    cr_expect_eq(recv(sv[0], mine, sizeof mine, MSG_DONTWAIT), -1);
    cr_expect_eq(errno, EAGAIN, "the owner finds nothing");
    close(sv[0]);
    close(sv[1]);
}

static void never(loop_t *l, loop_fd_t fd, void *arg) { (void)l; (void)fd; (void)arg; }

Test(ch08_uring, the_uring_loop_refuses_readers)
{
    loop_t *loop = loop_new("uring");
    cr_assert_not_null(loop);
    cr_expect_eq(loop_caps(loop) & LOOP_CAP_FD_WATCH, 0);
    cr_expect_eq(loop_add_reader(loop, 0, never, NULL), LOOP_ENOTSUP);
    loop_free(loop);
}

/* The glue refuses the uring proactor at attach, as it refuses IOCP on
 * Windows (chapter 6), and the message names the fixes that work here. */
Test(ch08_uring, libcurl_is_refused_on_the_uring_loop_at_attach_with_the_fixes_named)
{
    char err[400] = "";
    loop_t *loop = loop_new("uring");
    cr_assert_not_null(loop);
    curlx_t *cx = curlx_attach(loop, NULL, NULL, 0, err, sizeof err);
    cr_expect_null(cx, "the glue attached libcurl to the uring proactor");
    cr_expect(strstr(err, "the 'uring' loop is a proactor") != NULL, "message: '%s'", err);
    cr_expect(strstr(err, "LOOP_POLICY_SELECTOR") && strstr(err, "uring-poll"),
              "the message names no fix: '%s'", err);
    curlx_free(cx);
    loop_free(loop);
}

Test(ch08_uring, proactor_get_works_on_its_own_socket, .init = tsrv_up, .fini = tsrv_down)
{
    char why[160];
    if (ur_available(why, sizeof why) != 0)
        cr_skip_test("io_uring is unavailable here: %s", why);
    long n = uring_get((unsigned short)atoi(strrchr(t_base, ':') + 1), "/bytes/1000");
    cr_expect_gt(n, 1000, "headers and a 1000-byte body, got %ld", n);
}

Test(ch08_uring, a_recv_on_libcurls_socket_makes_the_transfer_time_out, .init = tsrv_up,
     .fini = tsrv_down)
{
    char url[128], stolen[64], why[160];
    long n = 0;
    if (ur_available(why, sizeof why) != 0)
        cr_skip_test("io_uring is unavailable here: %s", why);
    snprintf(url, sizeof url, "%s/status/200", t_base);   /* a reply in one segment */
    CURLcode rc = uring_steal(url, stolen, sizeof stolen, &n);
    cr_expect_eq(rc, CURLE_OPERATION_TIMEDOUT, "got %d", (int)rc);
    cr_expect_gt(n, 0, "the RECV took the reply: %ld bytes", n);
    cr_expect(strncmp(stolen, "HTTP/1.1 200", 12) == 0, "stolen: %s", stolen);
}

Test(ch08_uring, program_shows_the_theft_and_the_poll_add_success, .init = tsrv_up,
     .fini = tsrv_down, .timeout = 60)
{
    char out[4096], err[4096];
    const char *none[] = {NULL};
    cr_assert_eq(t_run("ch08", none, out, sizeof out, err, sizeof err, 30), 0, "%s%s", out, err);
    if (strncmp(out, "skip:", 5) == 0)
        cr_skip_test("%s", out);
    cr_expect(strstr(out, "2. libcurl with a RECV posted on its socket: CURLcode 28") != NULL,
              "%s", out);
    cr_expect(strstr(out, "3. libcurl on the uring-poll loop (POLL_ADD): 16/16") != NULL,
              "%s", out);
}

/* The base URL is checked before anything runs; a refused port is a failure
 * named by its errno text, never a negative byte count. */
Test(ch08_uring, program_checks_its_base_url, .init = tsrv_up, .fini = tsrv_down, .timeout = 60)
{
    char out[4096], err[4096], refused[64];
    static const char *const bad[] = {"http://127.0.0.1:99999", "http://example.com:80",
                                      "http://127.0.0.1:80x"};
    for (size_t k = 0; k < 3; k++) {
        const char *args[] = {bad[k], NULL};
        cr_expect_eq(t_run("ch08", args, out, sizeof out, err, sizeof err, 10), 2, "%s", bad[k]);
        cr_expect(strstr(err, "is not the local server's address") != NULL, "%s: %s", bad[k], err);
    }
    snprintf(refused, sizeof refused, "http://localhost:%u", t_refused_port);
    const char *args[] = {refused, NULL};
    int rc = t_run("ch08", args, out, sizeof out, err, sizeof err, 30);
    if (strncmp(out, "skip:", 5) == 0)
        cr_skip_test("%s", out);
    cr_expect_eq(rc, 1, "%s%s", out, err);
    cr_expect(strstr(out, "on its own socket failed: Connection refused") != NULL, "%s", out);
    cr_expect_null(strstr(out, "-111"), "%s", out);
}

Test(ch08_uring, the_uring_poll_loop_is_level_triggered)
{
    t_unread_data_calls_the_reader_again("uring-poll");
}

Test(ch08_uring, a_closed_and_reused_fd_number_can_be_watched_again)
{
    t_reused_fd_number("uring-poll");
}

LOOP_BACKEND_TESTS(ch08_uring, "uring-poll")
LOOP_FAULT_TESTS(ch08_uring, "uring-poll")
