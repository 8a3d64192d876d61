/* IOCP + a selector thread: tornado's SelectorThread, in C.
 *
 * The loop thread waits on the completion port, so proactor operations keep
 * working. A helper thread runs WSAPoll on the sockets the glue asked for and
 * posts "readiness is waiting" into the port with PostQueuedCompletionStatus.
 * Every libcurl call stays on the loop thread. The two threads go in lock
 * step: after a post, the helper waits until the loop comes back to wait()
 * (so the callbacks have read what was ready) before it polls again;
 * otherwise level-triggered readiness would be reported twice. A loopback
 * socket pair wakes the helper when the interest set changes.
 */
#ifdef _WIN32
#include "../proactor/iocp_impl.h"
#include "../proactor/proactor.h"

#include <stdlib.h>
#include <string.h>

struct sth {
    struct iocp base;               /* first: the port, shared with the proactor API */
    CRITICAL_SECTION lock;          /* guards want, ready */
    WSAPOLLFD *want;                /* interest: slot 0 is the waker */
    size_t nwant, cap;
    struct loop_fired *ready;       /* what the helper found, for the loop to take */
    size_t nready, ready_cap;
    SOCKET wake_r, wake_w;          /* a byte on wake_w interrupts WSAPoll */
    HANDLE go;                      /* the loop consumed the last batch */
    HANDLE thread;
    volatile LONG stop;
    volatile LONG wakes;            /* the helper's WSAPoll returns, for measurements */
    int outstanding;                /* a batch was handed to the loop */
};

static void wake(struct sth *t) { send(t->wake_w, "w", 1, 0); }

/* tag::selector_thread */
static DWORD WINAPI helper(void *arg)
{
    struct sth *t = arg;
    WSAPOLLFD *fds = NULL;
    size_t cap = 0;
    int handed_over = 0;
    while (!t->stop) {
        if (handed_over && WaitForSingleObject(t->go, INFINITE) == WAIT_OBJECT_0)
            handed_over = 0;                   /* the loop has run the callbacks */
        if (t->stop)
            break;
        EnterCriticalSection(&t->lock);        /* copy the interest set */
        size_t n = t->nwant;
        if (loop_reserve(&fds, &cap, n, sizeof *fds)) {
            LeaveCriticalSection(&t->lock);
            Sleep(1);                          /* out of memory: try again */
            continue;
        }
        memcpy(fds, t->want, n * sizeof *fds);
        LeaveCriticalSection(&t->lock);
        int r = WSAPoll(fds, (ULONG)n, -1);
        InterlockedIncrement(&t->wakes);
        if (r < 0) {                           /* a socket closed under us: retry */
            Sleep(1);
            continue;
        }
        char drain[64];
        while (recv(t->wake_r, drain, sizeof drain, 0) > 0)
            ;
        EnterCriticalSection(&t->lock);
        t->nready = 0;
        for (size_t i = 1; i < n; i++) {
            short re = fds[i].revents;
            unsigned m = ((re & (POLLRDNORM | POLLERR | POLLHUP | POLLNVAL)) ? LOOP_READABLE : 0) |
                         ((re & (POLLWRNORM | POLLERR | POLLHUP | POLLNVAL)) ? LOOP_WRITABLE : 0) |
                         ((re & POLLNVAL) ? LOOP_DEAD : 0);
            if (m && t->nready < t->ready_cap)
                t->ready[t->nready++] = (struct loop_fired){fds[i].fd, m};
        }
        handed_over = t->nready > 0;
        LeaveCriticalSection(&t->lock);
        if (handed_over)                       /* every libcurl call stays on the loop */
            PostQueuedCompletionStatus(t->base.port, 0, IOCP_KEY_READY, NULL);
    }
    free(fds);
    return 0;
}
/* end::selector_thread */

static int st_init(loop_t *loop)
{
    struct sth *t = calloc(1, sizeof *t);
    if (!t)
        return LOOP_ENOMEM;
    loop->bk = t;
    InitializeCriticalSection(&t->lock);
    u_long on = 1;
    if (iocp_open(loop, &t->base) || px_tcp_pair(&t->wake_w, &t->wake_r) ||
        loop_reserve(&t->want, &t->cap, 1, sizeof *t->want))
        return loop_fail(loop, LOOP_ESYS, "selector thread: set-up failed (WSA %d)",
                         WSAGetLastError());
    ioctlsocket(t->wake_r, FIONBIO, &on);
    ioctlsocket(t->wake_w, FIONBIO, &on);
    t->want[0] = (WSAPOLLFD){t->wake_r, POLLRDNORM, 0};
    t->nwant = 1;
    t->go = CreateEventW(NULL, FALSE, FALSE, NULL);
    t->thread = CreateThread(NULL, 0, helper, t, 0, NULL);
    return t->thread ? LOOP_OK : loop_fail(loop, LOOP_ESYS, "CreateThread failed");
}

/* tag::selector_thread_fini */
static void st_fini(loop_t *loop)
{
    struct sth *t = loop->bk;
    if (t->thread) {
        InterlockedExchange(&t->stop, 1);
        SetEvent(t->go);                       /* if it waits for the loop */
        wake(t);                               /* if it sits in WSAPoll */
        WaitForSingleObject(t->thread, INFINITE);
        CloseHandle(t->thread);
    }
    if (t->go)
        CloseHandle(t->go);
    closesocket(t->wake_r);
    closesocket(t->wake_w);
    if (t->base.port)
        iocp_close(loop, &t->base);
    DeleteCriticalSection(&t->lock);
    free(t->want);
    free(t->ready);
    free(t);
}
/* end::selector_thread_fini */

static int st_set(loop_t *loop, loop_fd_t fd, unsigned old, unsigned mask)
{
    struct sth *t = loop->bk;
    struct loop_watch *w = loop_watch_find(loop, fd);
    EnterCriticalSection(&t->lock);
    if (old == 0) {
        if (loop_reserve(&t->want, &t->cap, t->nwant + 1, sizeof *t->want) ||
            loop_reserve(&t->ready, &t->ready_cap, t->nwant + 1, sizeof *t->ready)) {
            LeaveCriticalSection(&t->lock);
            return loop_fail(loop, LOOP_ENOMEM, "selector thread: out of memory");
        }
        w->slot = t->nwant++;
        t->want[w->slot].fd = fd;
    }
    if (mask == 0) {
        t->want[w->slot] = t->want[--t->nwant];
        if (w->slot < t->nwant)
            loop_watch_find(loop, t->want[w->slot].fd)->slot = w->slot;
    } else {
        t->want[w->slot].events = (short)(((mask & LOOP_READABLE) ? POLLRDNORM : 0) |
                                          ((mask & LOOP_WRITABLE) ? POLLWRNORM : 0));
    }
    LeaveCriticalSection(&t->lock);
    wake(t);                                   /* poll again with the new set */
    return LOOP_OK;
}

/* tag::selector_thread_wait */
static int st_wait(loop_t *loop, long timeout_ms)
{
    struct sth *t = loop->bk;
    OVERLAPPED_ENTRY ev[64];
    if (t->outstanding) {                      /* the last batch's callbacks have run */
        t->outstanding = 0;
        SetEvent(t->go);
    }
    int n = iocp_dequeue(loop, &t->base, ev, 64, timeout_ms), fired = 0;
    loop->helper_waits = (uint64_t)t->wakes;
    for (int i = 0; i < n; i++) {
        if (ev[i].lpCompletionKey == IOCP_KEY_OP && ev[i].lpOverlapped)
            iocp_complete_op(loop, &ev[i]);
        else if (ev[i].lpCompletionKey == IOCP_KEY_READY) {
            EnterCriticalSection(&t->lock);
            for (size_t k = 0; k < t->nready && (size_t)fired < loop->fired_cap; k++)
                if (!(t->ready[k].mask & LOOP_DEAD) || !loop_fd_is_open(t->ready[k].fd))
                    loop->fired[fired++] = t->ready[k];   /* (a number reused since: stale) */
            t->nready = 0;
            LeaveCriticalSection(&t->lock);
            t->outstanding = 1;
        }
    }
    return n < 0 ? n : fired;
}
/* end::selector_thread_wait */

const struct loop_backend loop_backend_iocp_thread = {
    "iocp-thread", LOOP_CAP_FD_WATCH | LOOP_CAP_COMPLETION | LOOP_CAP_TIMERS,
    st_init, st_fini, st_set, st_wait, NULL,
};
#endif
