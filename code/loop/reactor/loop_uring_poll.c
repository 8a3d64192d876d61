/* io_uring + IORING_OP_POLL_ADD: readiness through the ring, the io_uring
 * twin of AFD poll through a completion port.
 *
 * Each watched fd has one one-shot POLL_ADD in flight, whose user_data is the
 * fd's state. It is re-armed at the start of the next wait, after the
 * callbacks have read (level-triggered, like epoll). A changed mask is applied
 * in place with POLL_UPDATE; dropped interest is cancelled with POLL_REMOVE,
 * and the state is freed only when the poll's own CQE (-ECANCELED) arrives.
 */
#ifdef LOOP_HAVE_URING
#include "../bridge/rearm.h"
#include "../proactor/uring_impl.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>

struct upoll {
    int fd;
    unsigned want, armed;        /* armed: the mask of the poll in flight, 0 = none */
    int gone, removing;
    int stale;                   /* asked again: the poll in flight may hold an old file */
    struct rearm link;           /* on the all and dirty lists */
};

struct up {
    struct uring base;
    struct rearm_list list;
    size_t inflight;             /* polls the kernel still holds */
};

static unsigned poll_mask(unsigned m)
{
    return ((m & LOOP_READABLE) ? POLLIN : 0u) | ((m & LOOP_WRITABLE) ? POLLOUT : 0u);
}

static void mark(struct up *p, struct upoll *k) { rearm_mark(&p->list, &k->link); }

static void forget(struct up *p, struct upoll *k)
{
    rearm_unlink(&p->list, &k->link);
    free(k);
}

static int up_init(loop_t *loop)
{
    struct up *p = calloc(1, sizeof *p);
    if (!p)
        return LOOP_ENOMEM;
    if (uring_open(loop, &p->base, 1024) != LOOP_OK) {
        free(p);
        return LOOP_ENOTSUP;
    }
    loop->bk = p;
    return LOOP_OK;
}

static int up_set(loop_t *loop, loop_fd_t fd, unsigned old, unsigned mask)
{
    struct up *p = loop->bk;
    struct loop_watch *w = loop_watch_find(loop, fd);
    struct upoll *k = w->bk;
    if (!k) {
        if (!(k = calloc(1, sizeof *k)))
            return loop_fail(loop, LOOP_ENOMEM, "uring-poll: out of memory");
        k->fd = fd;
        rearm_add(&p->list, &k->link);
        w->bk = k;
    }
    k->want = mask;
    k->stale |= old == mask && k->armed;  /* a closed fd's poll keeps the old file */
    if (mask == 0) {                 /* the loop forgets the fd; the kernel may not yet */
        k->gone = 1;
        w->bk = NULL;
    }
    mark(p, k);
    return LOOP_OK;
}

/* tag::uring_poll_update */
static int update(loop_t *loop, struct up *p)
{
    for (struct rearm *r; (r = rearm_pop(&p->list));) {
        struct upoll *k = REARM_ENTRY(r, struct upoll);
        struct io_uring_sqe *sqe;
        if (k->armed && (k->gone || k->want == 0 || k->stale)) {
            if (k->removing)
                continue;
            if (!(sqe = uring_sqe(&p->base)))
                return loop_fail(loop, LOOP_ENOMEM, "uring-poll: no SQE");
            io_uring_prep_poll_remove(sqe, (uint64_t)(uintptr_t)k);   /* -> -ECANCELED */
            io_uring_sqe_set_data64(sqe, 0);
            k->removing = 1;
        } else if (k->armed && k->want != k->armed) {
            if (!(sqe = uring_sqe(&p->base)))
                return loop_fail(loop, LOOP_ENOMEM, "uring-poll: no SQE");
            /* the kernel wants USER_DATA too when new_user_data is non-zero */
            io_uring_prep_poll_update(sqe, (uint64_t)(uintptr_t)k, (uint64_t)(uintptr_t)k,
                                      poll_mask(k->want),
                                      IORING_POLL_UPDATE_EVENTS | IORING_POLL_UPDATE_USER_DATA);
            io_uring_sqe_set_data64(sqe, 0);
            k->armed = k->want;                                      /* changed in place */
        } else if (!k->armed && k->gone) {
            forget(p, k);
        } else if (!k->armed && k->want) {
            if (!(sqe = uring_sqe(&p->base)))
                return loop_fail(loop, LOOP_ENOMEM, "uring-poll: no SQE");
            io_uring_prep_poll_add(sqe, k->fd, poll_mask(k->want));  /* one-shot */
            io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)k);
            k->armed = k->want;
            k->stale = 0;
            p->inflight++;
        }
    }
    return LOOP_OK;
}
/* end::uring_poll_update */

/* tag::uring_poll_cqe */
static void on_cqe(loop_t *loop, void *state, struct io_uring_cqe *cqe, int *fired)
{
    struct up *p = loop->bk;
    struct upoll *k = state;
    unsigned re = cqe->res > 0 ? (unsigned)cqe->res : 0;
    k->armed = 0;                          /* one-shot: this poll is over */
    k->removing = 0;
    p->inflight--;
    unsigned m = ((re & (POLLIN | POLLERR | POLLHUP)) ? LOOP_READABLE : 0) |
                 ((re & (POLLOUT | POLLERR | POLLHUP)) ? LOOP_WRITABLE : 0);
    /* what the watch did not ask for is dropped once, by dispatch in loop.c */
    if (cqe->res == -EBADF)                /* a closed fd: once, then the loop forgets it */
        m = LOOP_READABLE | LOOP_WRITABLE | LOOP_DEAD;
    if (m && !k->gone && (size_t)*fired < loop->fired_cap)
        loop->fired[(*fired)++] = (struct loop_fired){k->fd, m};
    /* tag::exercise ch08 */
    mark(p, k);                            /* re-arm (or free) before the next wait */
    /* end::exercise */
}
/* end::uring_poll_cqe */

static int up_wait(loop_t *loop, long timeout_ms)
{
    struct up *p = loop->bk;
    uint64_t sqes = p->base.sqes;
    int rc = update(loop, p);
    loop->handed += p->base.sqes - sqes;   /* each re-arm and change: the kernel keeps the rest */
    return rc != LOOP_OK ? rc : uring_wait(loop, &p->base, timeout_ms, on_cqe);
}

static void up_fini(loop_t *loop)
{
    struct up *p = loop->bk;
    /* Closing the ring cancels every poll; freeing the states after it is safe. */
    uring_close(&p->base);
    while (p->list.all)
        forget(p, REARM_ENTRY(p->list.all, struct upoll));
    free(p);
}

const struct loop_backend loop_backend_uring_poll = {
    "uring-poll", LOOP_CAP_FD_WATCH | LOOP_CAP_TIMERS, up_init, up_fini, up_set, up_wait, NULL,
};
#endif
