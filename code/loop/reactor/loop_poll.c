/* poll(2) backend; on Windows the same code runs on WSAPoll. */
#include "../loop_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#ifdef _WIN32
#define poll(fds, n, ms) WSAPoll((fds), (ULONG)(n), (ms))
typedef WSAPOLLFD pollfd_t;
#define POLL_NAME "wsapoll"
#else
#include <poll.h>
typedef struct pollfd pollfd_t;
#define POLL_NAME "poll"
#endif

struct pl {
    pollfd_t *fds;     /* one entry per watched fd, packed; watch->slot indexes it */
    size_t n, cap;
};

static int pl_init(loop_t *loop)
{
    loop->bk = calloc(1, sizeof(struct pl));
    return loop->bk ? LOOP_OK : LOOP_ENOMEM;
}

static void pl_fini(loop_t *loop)
{
    struct pl *p = loop->bk;
    free(p->fds);
    free(p);
}

/* tag::poll_set */
static int pl_set(loop_t *loop, loop_fd_t fd, unsigned old, unsigned mask)
{
    struct pl *p = loop->bk;
    struct loop_watch *w = loop_watch_find(loop, fd);
    if (old == 0) {                              /* a new fd: append */
        if (loop_reserve(&p->fds, &p->cap, p->n + 1, sizeof *p->fds))
            return loop_fail(loop, LOOP_ENOMEM, "poll: out of memory");
        w->slot = p->n++;
        p->fds[w->slot].fd = fd;
    }
    if (mask == 0) {                             /* gone: move the last into its slot */
        /* tag::exercise ch04 */
        p->fds[w->slot] = p->fds[--p->n];
        if (w->slot < p->n)
            loop_watch_find(loop, p->fds[w->slot].fd)->slot = w->slot;
        /* end::exercise */
        return LOOP_OK;
    }
    p->fds[w->slot].events = (short)(((mask & LOOP_READABLE) ? POLLIN : 0) |
                                     ((mask & LOOP_WRITABLE) ? POLLOUT : 0));
    p->fds[w->slot].revents = 0;
    return LOOP_OK;
}
/* end::poll_set */

/* tag::poll_wait */
static int pl_wait(loop_t *loop, long timeout_ms)
{
    struct pl *p = loop->bk;
#ifdef _WIN32
    if (p->n == 0) {                  /* WSAPoll rejects an empty set */
        Sleep(timeout_ms < 0 ? INFINITE : (DWORD)timeout_ms);
        return 0;
    }
#endif
    loop->handed += p->n;             /* the whole array, at every wait */
    int r = poll(p->fds, p->n, (int)timeout_ms);
    if (r < 0) {
#ifdef _WIN32
        return loop_fail(loop, LOOP_ESYS, "WSAPoll: WSA error %d", WSAGetLastError());
#else
        return errno == EINTR ? 0 : loop_fail(loop, LOOP_ESYS, "poll: %s", strerror(errno));
#endif
    }
    int n = 0;
    for (size_t i = 0; i < p->n && n < r; i++) {
        short re = p->fds[i].revents;
        if (!re)
            continue;
        /* errors and hang-ups wake both sides: libcurl reads the error itself */
        unsigned m = ((re & (POLLIN | POLLERR | POLLHUP | POLLNVAL)) ? LOOP_READABLE : 0) |
                     ((re & (POLLOUT | POLLERR | POLLHUP | POLLNVAL)) ? LOOP_WRITABLE : 0);
        if (re & POLLNVAL)
            m |= LOOP_DEAD;                      /* closed while watched: loop.h's rule */
        loop->fired[n++] = (struct loop_fired){p->fds[i].fd, m};
    }
    return n;
}
/* end::poll_wait */

const struct loop_backend loop_backend_poll = {
    POLL_NAME, LOOP_CAP_FD_WATCH | LOOP_CAP_TIMERS,
    pl_init, pl_fini, pl_set, pl_wait, NULL,
};
