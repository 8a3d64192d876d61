/* epoll(7) backend, level-triggered: the kernel keeps the interest set. */
#ifdef __linux__
#include "loop_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

struct ep {
    int fd;
    struct epoll_event *events;
    size_t cap;
};

static int ep_init(loop_t *loop)
{
    struct ep *e = calloc(1, sizeof *e);
    if (!e)
        return LOOP_ENOMEM;
    if ((e->fd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
        free(e);
        return loop_fail(loop, LOOP_ESYS, "epoll_create1: %s", strerror(errno));
    }
    loop->bk = e;
    return LOOP_OK;
}

static void ep_fini(loop_t *loop)
{
    struct ep *e = loop->bk;
    close(e->fd);
    free(e->events);
    free(e);
}

/* tag::epoll_set */
static int ep_set(loop_t *loop, loop_fd_t fd, unsigned old, unsigned mask)
{
    struct ep *e = loop->bk;
    struct epoll_event ev = {0};
    ev.events = ((mask & LOOP_READABLE) ? EPOLLIN : 0u) | ((mask & LOOP_WRITABLE) ? EPOLLOUT : 0u);
    ev.data.fd = fd;
    int op = mask == 0 ? EPOLL_CTL_DEL : old == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    if (epoll_ctl(e->fd, op, fd, &ev) == 0)
        return LOOP_OK;
    if (op == EPOLL_CTL_DEL)        /* already closed: the kernel forgot it */
        return LOOP_OK;
    /* fd numbers are reused: a closed-and-reopened fd may need the other op */
    if (errno == ENOENT && epoll_ctl(e->fd, EPOLL_CTL_ADD, fd, &ev) == 0)
        return LOOP_OK;
    if (errno == EEXIST && epoll_ctl(e->fd, EPOLL_CTL_MOD, fd, &ev) == 0)
        return LOOP_OK;
    return loop_fail(loop, LOOP_ESYS, "epoll_ctl(fd %d): %s", fd, strerror(errno));
}
/* end::epoll_set */

/* tag::epoll_wait */
static int ep_wait(loop_t *loop, long timeout_ms)
{
    struct ep *e = loop->bk;
    if (!e->events || e->cap < loop->fired_cap) {
        free(e->events);
        e->cap = loop->fired_cap > 16 ? loop->fired_cap : 16;
        if (!(e->events = malloc(e->cap * sizeof *e->events)))
            return loop_fail(loop, LOOP_ENOMEM, "epoll: out of memory");
    }
    int r = epoll_wait(e->fd, e->events, (int)e->cap, (int)timeout_ms);
    if (r < 0)
        return errno == EINTR ? 0 : loop_fail(loop, LOOP_ESYS, "epoll_wait: %s", strerror(errno));
    for (int i = 0; i < r; i++) {    /* only the ready fds come back: no scan */
        uint32_t re = e->events[i].events;
        loop->fired[i].fd = e->events[i].data.fd;
        loop->fired[i].mask = ((re & (EPOLLIN | EPOLLERR | EPOLLHUP)) ? LOOP_READABLE : 0) |
                              ((re & (EPOLLOUT | EPOLLERR | EPOLLHUP)) ? LOOP_WRITABLE : 0);
    }
    return r;
}
/* end::epoll_wait */

const struct loop_backend loop_backend_epoll = {
    "epoll", LOOP_CAP_FD_WATCH | LOOP_CAP_TIMERS,
    ep_init, ep_fini, ep_set, ep_wait,
};
#endif
