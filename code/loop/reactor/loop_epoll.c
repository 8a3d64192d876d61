/* epoll(7) backend, level-triggered: the kernel keeps the interest set. */
#ifdef __linux__
#include "../loop_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define EP_QUEUED 4u    /* in watch->slot: the fd is in the change list */

struct ep {
    int fd;
    struct epoll_event *events;
    size_t cap;
    int *changes;               /* fds whose interest changed since the last wait */
    size_t nchanges, changes_cap;
    size_t ndead;               /* after apply: changes[0..ndead) are closed fds */
    unsigned char *kept;        /* by fd number: the interest the kernel still holds */
    size_t kept_cap;            /* for a watch dropped since (ep_rewatch) */
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
    free(e->changes);
    free(e->kept);
    free(e);
}

/* Room in e->kept for fd, the new part zeroed. */
static int kept_room(struct ep *e, int fd)
{
    size_t had = e->kept_cap;
    if (loop_reserve(&e->kept, &e->kept_cap, (size_t)fd + 1, 1) != LOOP_OK)
        return LOOP_ENOMEM;             /* then no rewatch for fd: a check, as before */
    memset(e->kept + had, 0, e->kept_cap - had);
    return LOOP_OK;
}

/* tag::epoll_set */
/* Only note the change: the kernel is told at the next wait, once, so a
 * transfer's OUT-then-IN, or a REMOVE followed by a new transfer on the same
 * kept-alive connection, costs one epoll_ctl or none instead of several. */
static int ep_set(loop_t *loop, loop_fd_t fd, unsigned old, unsigned mask)
{
    struct ep *e = loop->bk;
    struct loop_watch *w = loop_watch_find(loop, fd);
    if (mask == 0 && (w->slot & 3u) && kept_room(e, fd) == LOOP_OK)
        e->kept[fd] = (unsigned char)(w->slot & 3u);  /* dropped: the kernel keeps it */
    if (old == mask)            /* asked again: the fd may be a new one under an old number */
        w->slot &= ~(size_t)3u; /* so forget what the kernel had, and ADD (or MOD) afresh */
    if (w->slot & EP_QUEUED)
        return LOOP_OK;
    if (loop_reserve(&e->changes, &e->changes_cap, e->nchanges + 1, sizeof *e->changes))
        return loop_fail(loop, LOOP_ENOMEM, "epoll: out of memory");
    e->changes[e->nchanges++] = fd;
    w->slot |= EP_QUEUED;
    return LOOP_OK;
}
/* end::epoll_set */

/* tag::epoll_rewatch */
/* A new watch on an fd the kernel still holds from a dropped one: libcurl
 * REMOVEs a kept-alive connection's socket at the end of each transfer and
 * asks for it again at the start of the next. One MOD sets the interest; if
 * it works, fd is open and epoll takes it (no file, no directory), so it
 * needs no fstat. If fd was closed since, and its number perhaps reused, the
 * MOD fails (the kernel's entry was for the old file), and the caller checks
 * fd and ADDs it as any new watch. */
static int ep_rewatch(loop_t *loop, loop_fd_t fd, unsigned mask)
{
    struct ep *e = loop->bk;
    if ((size_t)fd >= e->kept_cap || !e->kept[fd])
        return LOOP_ENOENT;
    e->kept[fd] = 0;
    struct epoll_event ev = {0};
    ev.events = ((mask & LOOP_READABLE) ? EPOLLIN : 0u) | ((mask & LOOP_WRITABLE) ? EPOLLOUT : 0u);
    ev.data.fd = fd;
    loop->handed++;
    if (epoll_ctl(e->fd, EPOLL_CTL_MOD, fd, &ev) != 0)
        return LOOP_ENOENT;
    loop_watch_find(loop, fd)->slot = mask;     /* what the kernel has; nothing queued */
    return LOOP_OK;
}
/* end::epoll_rewatch */

/* tag::epoll_apply */
/* watch->slot holds what the kernel has (EP_IN, EP_OUT) and EP_QUEUED. */
static int apply(loop_t *loop, struct ep *e)
{
    for (size_t i = 0; i < e->nchanges; i++) {
        int fd = e->changes[i];
        struct loop_watch *w = loop_watch_find(loop, fd);
        if (!w || !(w->slot & EP_QUEUED))   /* dropped (closing it unregisters it), or an */
            continue;                       /* fd dropped and watched again: applied once */
        w->slot &= ~(size_t)EP_QUEUED;
        unsigned have = (unsigned)w->slot & 3u, want = w->mask & 3u;
        if (have == want)
            continue;
        loop->handed++;         /* only what changed: the kernel keeps the rest */
        /* tag::exercise ch05 */
        struct epoll_event ev = {0};
        ev.events = ((want & LOOP_READABLE) ? EPOLLIN : 0u) | ((want & LOOP_WRITABLE) ? EPOLLOUT : 0u);
        ev.data.fd = fd;
        /* ADD or MOD: the kernel may still hold an fd we stopped watching */
        int failed = epoll_ctl(e->fd, have ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) != 0 &&
                     epoll_ctl(e->fd, errno == EEXIST ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) != 0;
        /* end::exercise */
        if (failed) {           /* closed while watched, or refused: report it once (loop.h) */
            if (errno != EBADF)
                loop_fail(loop, LOOP_ESYS, "epoll_ctl(fd %d): %s", fd, strerror(errno));
            e->changes[e->ndead++] = fd;
            continue;
        }
        w->slot = want;
    }
    e->nchanges = 0;
    return LOOP_OK;
}
/* end::epoll_apply */

/* tag::epoll_wait */
static int ep_wait(loop_t *loop, long timeout_ms)
{
    struct ep *e = loop->bk;
    int rc = apply(loop, e);
    if (rc != LOOP_OK)
        return rc;
    if (e->ndead) {                      /* the dead-fd rule (loop.h): no wait this time */
        size_t n = e->ndead;
        for (size_t i = 0; i < n; i++)
            loop->fired[i] = (struct loop_fired){e->changes[i],
                                                 LOOP_READABLE | LOOP_WRITABLE | LOOP_DEAD};
        e->ndead = 0;
        return (int)n;
    }
    if (!e->events || e->cap < loop->fired_cap) {
        free(e->events);
        e->cap = loop->fired_cap > 16 ? loop->fired_cap : 16;
        if (!(e->events = malloc(e->cap * sizeof *e->events)))
            return loop_fail(loop, LOOP_ENOMEM, "epoll: out of memory");
    }
    int r = epoll_wait(e->fd, e->events, (int)e->cap, (int)timeout_ms);
    if (r < 0)
        return errno == EINTR ? 0 : loop_fail(loop, LOOP_ESYS, "epoll_wait: %s", strerror(errno));
    int n = 0;
    for (int i = 0; i < r; i++) {    /* only the ready fds come back: no scan */
        uint32_t re = e->events[i].events;
        int fd = e->events[i].data.fd;
        if (!loop_watch_find(loop, fd)) {       /* a kept-alive fd nobody watches now */
            loop->handed++;
            epoll_ctl(e->fd, EPOLL_CTL_DEL, fd, NULL);
            if ((size_t)fd < e->kept_cap)
                e->kept[fd] = 0;
            continue;
        }
        loop->fired[n].fd = fd;
        loop->fired[n++].mask = ((re & (EPOLLIN | EPOLLERR | EPOLLHUP)) ? LOOP_READABLE : 0) |
                                ((re & (EPOLLOUT | EPOLLERR | EPOLLHUP)) ? LOOP_WRITABLE : 0);
    }
    return n;
}
/* end::epoll_wait */

const struct loop_backend loop_backend_epoll = {
    "epoll", LOOP_CAP_FD_WATCH | LOOP_CAP_TIMERS,
    ep_init, ep_fini, ep_set, ep_wait, ep_rewatch,
};
#endif
