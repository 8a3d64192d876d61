/* io_uring backend: Linux's proactor. Like IOCP it completes operations and
 * cannot watch fds: a RECV posted on someone else's socket takes their bytes.
 * The ring here is also the base of the uring-poll reactor (loop_uring_poll.c). */
#ifdef LOOP_HAVE_URING
#include "uring.h"
#include "uring_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int uring_open(loop_t *loop, struct uring *u, unsigned entries)
{
    int rc = io_uring_queue_init(entries, &u->ring, 0);
    if (rc < 0)
        return loop_fail(loop, LOOP_ENOTSUP, "io_uring_queue_init: %s (io_uring is "
                         "unavailable here, e.g. blocked in a container)", strerror(-rc));
    return LOOP_OK;
}

void uring_close(struct uring *u) { io_uring_queue_exit(&u->ring); }

struct io_uring_sqe *uring_sqe(struct uring *u)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    if (!sqe) {                          /* the submission queue is full: flush it */
        io_uring_submit(&u->ring);
        sqe = io_uring_get_sqe(&u->ring);
    }
    u->sqes += sqe != NULL;
    return sqe;
}

int ur_available(char *why, size_t len)
{
    struct io_uring ring;
    int rc = io_uring_queue_init(2, &ring, 0);
    if (rc < 0) {
        snprintf(why, len, "io_uring_queue_init: %s", strerror(-rc));
        return rc;
    }
    io_uring_queue_exit(&ring);
    return 0;
}

/* tag::uring_wait */
int uring_wait(loop_t *loop, struct uring *u, long timeout_ms, uring_cqe_fn fn)
{
    struct io_uring_cqe *cqe;
    struct __kernel_timespec ts = {timeout_ms / 1000, (timeout_ms % 1000) * 1000000L};
    int rc = io_uring_submit_and_wait_timeout(&u->ring, &cqe, 1, timeout_ms < 0 ? NULL : &ts,
                                              NULL);
    if (rc < 0 && rc != -ETIME && rc != -EINTR)
        return loop_fail(loop, LOOP_ESYS, "io_uring wait: %s", strerror(-rc));
    unsigned head, seen = 0;
    int fired = 0;
    io_uring_for_each_cqe(&u->ring, head, cqe) {
        uint64_t ud = cqe->user_data;
        seen++;
        if (ud & URING_TAG_OP) {                 /* a proactor operation finished */
            ur_op_t *op = (ur_op_t *)(uintptr_t)(ud & ~(uint64_t)URING_TAG_OP);
            loop->busy--;
            op->cb(loop, op, cqe->res, op->arg);
        } else if (ud && fn) {
            fn(loop, (void *)(uintptr_t)ud, cqe, &fired);
        }
    }
    io_uring_cq_advance(&u->ring, seen);
    return fired;
}
/* end::uring_wait */

static int ur_init(loop_t *loop)
{
    struct uring *u = calloc(1, sizeof *u);
    if (!u)
        return LOOP_ENOMEM;
    if (uring_open(loop, u, 256) != LOOP_OK) {
        free(u);
        return LOOP_ENOTSUP;
    }
    loop->bk = u;
    return LOOP_OK;
}

static void ur_fini(loop_t *loop)
{
    uring_close(loop->bk);
    free(loop->bk);
}

/* Never reached: loop.c refuses readers first, because caps lack FD_WATCH. */
static int ur_set(loop_t *loop, loop_fd_t fd, unsigned old, unsigned mask)
{
    (void)fd; (void)old; (void)mask;
    return loop_fail(loop, LOOP_ENOTSUP, "uring cannot watch readiness");
}

static int ur_wait(loop_t *loop, long timeout_ms)
{
    int n = uring_wait(loop, loop->bk, timeout_ms, NULL);
    return n < 0 ? n : 0;
}

const struct loop_backend loop_backend_uring = {
    "uring", LOOP_CAP_COMPLETION | LOOP_CAP_TIMERS, ur_init, ur_fini, ur_set, ur_wait, NULL,
};

/* ---- the proactor API */

static struct io_uring_sqe *start(loop_t *loop, ur_op_t *op, int fd, ur_done_cb cb, void *arg)
{
    if (strcmp(loop->be->name, loop_backend_uring.name) != 0) {   /* (LOOP_FAULT wraps be) */
        loop_fail(loop, LOOP_EINVAL, "ur_*: not a uring loop");
        return NULL;
    }
    struct io_uring_sqe *sqe = uring_sqe(loop->bk);
    if (!sqe) {
        loop_fail(loop, LOOP_ENOMEM, "io_uring: no free SQE");
        return NULL;
    }
    op->fd = fd;
    op->cb = cb;
    op->arg = arg;
    loop->busy++;
    return sqe;
}

static int tagged(struct io_uring_sqe *sqe, ur_op_t *op)
{
    io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)op | URING_TAG_OP);
    return LOOP_OK;
}

int ur_connect(loop_t *loop, ur_op_t *op, int fd, const struct sockaddr *to, socklen_t len,
               ur_done_cb cb, void *arg)
{
    struct io_uring_sqe *sqe = start(loop, op, fd, cb, arg);
    if (!sqe)
        return LOOP_ESYS;
    memcpy(&op->addr, to, len);
    io_uring_prep_connect(sqe, fd, (struct sockaddr *)&op->addr, len);
    return tagged(sqe, op);
}

/* tag::ur_recv */
int ur_recv(loop_t *loop, ur_op_t *op, int fd, void *buf, size_t len, ur_done_cb cb, void *arg)
{
    struct io_uring_sqe *sqe = start(loop, op, fd, cb, arg);
    if (!sqe)
        return LOOP_ESYS;
    io_uring_prep_recv(sqe, fd, buf, len, 0);
    return tagged(sqe, op);
}
/* end::ur_recv */

int ur_send(loop_t *loop, ur_op_t *op, int fd, const void *buf, size_t len,
            ur_done_cb cb, void *arg)
{
    struct io_uring_sqe *sqe = start(loop, op, fd, cb, arg);
    if (!sqe)
        return LOOP_ESYS;
    io_uring_prep_send(sqe, fd, buf, len, MSG_NOSIGNAL);
    return tagged(sqe, op);
}
#endif
