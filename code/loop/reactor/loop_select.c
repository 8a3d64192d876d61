/* select(2) backend: fd_sets of interest, copied for every wait. */
#include "../loop_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <sys/select.h>
#endif

struct sel {
    fd_set rd, wr;      /* interest; select() gets copies */
    loop_fd_t maxfd;    /* POSIX: highest fd watched, or -1 */
    unsigned count;     /* fds watched (Windows' real limit) */
};

static int sel_init(loop_t *loop)
{
    struct sel *s = calloc(1, sizeof *s);
    if (!s)
        return LOOP_ENOMEM;
    FD_ZERO(&s->rd);
    FD_ZERO(&s->wr);
    s->maxfd = (loop_fd_t)-1;
    loop->bk = s;
    return LOOP_OK;
}

static void sel_fini(loop_t *loop) { free(loop->bk); }

/* tag::select_refuse */
static int sel_fits(loop_t *loop, struct sel *s, loop_fd_t fd, unsigned old)
{
#ifdef _WIN32
    /* Winsock's fd_set is a counted array: the limit is how many, not which. */
    if (old == 0 && s->count >= FD_SETSIZE)
        return loop_fail(loop, LOOP_ERANGE, "select: already watching FD_SETSIZE "
                         "(%d) sockets; Winsock's fd_set holds no more", FD_SETSIZE);
    (void)fd;
#else
    /* tag::exercise ch03 */
    /* POSIX fd_set is a bitmap indexed by fd: FD_SET beyond it corrupts memory. */
    if (fd < 0 || fd >= FD_SETSIZE)
        return loop_fail(loop, LOOP_ERANGE, "select: fd %d is at or above FD_SETSIZE "
                         "(%d); an fd_set cannot hold it (use poll or epoll)",
                         (int)fd, FD_SETSIZE);
    (void)s; (void)old;
    /* end::exercise */
#endif
    return LOOP_OK;
}
/* end::select_refuse */

static int sel_set(loop_t *loop, loop_fd_t fd, unsigned old, unsigned mask)
{
    struct sel *s = loop->bk;
    int rc = sel_fits(loop, s, fd, old);
    if (rc != LOOP_OK)
        return rc;
    if (mask & LOOP_READABLE) FD_SET(fd, &s->rd); else FD_CLR(fd, &s->rd);
    if (mask & LOOP_WRITABLE) FD_SET(fd, &s->wr); else FD_CLR(fd, &s->wr);
    if (old == 0 && mask) s->count++;
    if (old && mask == 0) s->count--;
#ifndef _WIN32
    if (mask && fd > s->maxfd)
        s->maxfd = fd;
    while (s->maxfd >= 0 && !FD_ISSET(s->maxfd, &s->rd) && !FD_ISSET(s->maxfd, &s->wr))
        s->maxfd--;
#endif
    return LOOP_OK;
}

#ifdef _WIN32
/* The index of @fd in loop->fired[0..*n), added (mask 0) if it is not there:
 * Windows returns the ready sockets themselves, in three arrays to merge. */
static int slot_of(loop_t *loop, int *n, SOCKET fd)
{
    int j = 0;
    while (j < *n && loop->fired[j].fd != fd)
        j++;
    if (j == *n)
        loop->fired[(*n)++] = (struct loop_fired){fd, 0};
    return j;
}

static void sel_collect(loop_t *loop, int *n, const fd_set *set, unsigned mask)
{
    for (u_int i = 0; i < set->fd_count; i++)
        loop->fired[slot_of(loop, n, set->fd_array[i])].mask |= mask;
}

/* The sockets of @set that are no longer sockets: reported dead (loop.h). */
static void dead_ones(loop_t *loop, int *n, const fd_set *set)
{
    for (u_int i = 0; i < set->fd_count; i++)
        if (!loop_fd_is_open(set->fd_array[i]))
            loop->fired[slot_of(loop, n, set->fd_array[i])].mask |=
                LOOP_READABLE | LOOP_WRITABLE | LOOP_DEAD;
}
#endif

static int sel_wait(loop_t *loop, long timeout_ms)
{
    struct sel *s = loop->bk;
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    fd_set r = s->rd, w = s->wr;
#ifdef _WIN32
    fd_set e = s->wr;     /* a failed connect shows up here, not in w */
    if (s->count == 0) {  /* Winsock's select rejects three empty sets */
        Sleep(timeout_ms < 0 ? INFINITE : (DWORD)timeout_ms);
        return 0;
    }
    int n = 0;
    loop->handed += s->count;
    if (select(0, &r, &w, &e, timeout_ms < 0 ? NULL : &tv) == SOCKET_ERROR) {
        if (WSAGetLastError() != WSAENOTSOCK)
            return loop_fail(loop, LOOP_ESYS, "select: WSA error %d", WSAGetLastError());
        dead_ones(loop, &n, &s->rd);           /* a socket closed while watched */
        dead_ones(loop, &n, &s->wr);
        return n;
    }
    sel_collect(loop, &n, &r, LOOP_READABLE);
    sel_collect(loop, &n, &w, LOOP_WRITABLE);
    sel_collect(loop, &n, &e, LOOP_READABLE | LOOP_WRITABLE);
    return n;
#else
    int n = 0;
    loop->handed += (uint64_t)(s->maxfd + 1);   /* the kernel reads every bit up to it */
    if (select(s->maxfd + 1, &r, &w, NULL, timeout_ms < 0 ? NULL : &tv) < 0) {
        if (errno == EINTR)
            return 0;
        if (errno != EBADF)
            return loop_fail(loop, LOOP_ESYS, "select: %s", strerror(errno));
        for (int fd = 0; fd <= s->maxfd; fd++)   /* which one was closed while watched? */
            if ((FD_ISSET(fd, &s->rd) || FD_ISSET(fd, &s->wr)) && !loop_fd_is_open(fd))
                loop->fired[n++] = (struct loop_fired){fd, LOOP_READABLE | LOOP_WRITABLE | LOOP_DEAD};
        return n;
    }
    for (int fd = 0; fd <= s->maxfd; fd++) {
        unsigned m = (FD_ISSET(fd, &r) ? LOOP_READABLE : 0) |
                     (FD_ISSET(fd, &w) ? LOOP_WRITABLE : 0);
        if (m)
            loop->fired[n++] = (struct loop_fired){fd, m};
    }
    return n;
#endif
}

const struct loop_backend loop_backend_select = {
    "select", LOOP_CAP_FD_WATCH | LOOP_CAP_TIMERS,
    sel_init, sel_fini, sel_set, sel_wait, NULL,
};
