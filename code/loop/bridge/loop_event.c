/* IOCP + WSAEventSelect + a registered wait: readiness through the completion
 * port from documented Win32 calls, the pieces asyncio's proactor already has
 * (its wait_for_handle is RegisterWaitForSingleObject posting to the port).
 *
 * Each watched socket gets an event, selected once for every FD_ event, and a
 * persistent thread-pool wait on it whose callback only posts the socket's
 * state to the port (at most one packet per socket in the port at a time).
 * The loop thread reads the record with WSAEnumNetworkEvents; libcurl keeps
 * calling recv and send itself.
 *
 * There's one tricky piece: the events are not levels. FD_READ is recorded
 * once until a recv, FD_WRITE once after connect and then only after a send
 * failed with WSAEWOULDBLOCK, and asking again (WSAEventSelect once more)
 * records nothing under Wine. libcurl's own loop (lib/multi.c, multi_wait)
 * pairs its events with a zero-timeout poll before it waits; so does this
 * backend, but only for the sockets that need it: before each wait, a socket
 * reported last time, or whose interest grew, is asked once with WSAPoll(0).
 * Still ready, it is reported again without sleeping: a reader that left data
 * is called again, and a writer stays writable until its send would block;
 * then FD_WRITE, recorded when room comes back, wakes it. A closed socket sets
 * no event, so when a wait times out the backend asks each socket whether it
 * is still open (the dead-fd rule of loop.h).
 */
#ifdef _WIN32
#include "../proactor/iocp_impl.h"
#include "rearm.h"

#include <stdlib.h>
#include <string.h>

#define EVT_ALL (FD_READ | FD_WRITE | FD_CONNECT | FD_CLOSE | FD_ACCEPT)

struct evl;

struct esock {
    struct evl *e;
    SOCKET s;
    HANDLE ev;                 /* auto-reset; Winsock sets it when it records an event */
    HANDLE wait;               /* the persistent registered wait on ev */
    volatile LONG posted;      /* a packet for this socket is in the port */
    unsigned want;             /* what the loop wants */
    unsigned hup;              /* FD_CLOSE seen: readable (EOF) from now on */
    int gone, closed;
    uint64_t round;            /* the wait that last reported it ... */
    size_t at;                 /* ... at this index of loop->fired */
    struct rearm link;         /* dirty: ask WSAPoll(0) before the next wait */
};

struct evl {
    struct iocp base;
    struct rearm_list list;
    uint64_t round;
    volatile LONG wakes;       /* wait callbacks run, for measurements */
};

/* tag::event_post */
/* On a thread-pool wait thread: post the socket's state, once. */
static VOID CALLBACK on_signal(PVOID arg, BOOLEAN timed_out)
{
    struct esock *k = arg;
    (void)timed_out;
    InterlockedIncrement(&k->e->wakes);
    if (InterlockedExchange(&k->posted, 1) == 0)
        PostQueuedCompletionStatus(k->e->base.port, 0, IOCP_KEY_EVENT, (OVERLAPPED *)(void *)k);
}
/* end::event_post */

static void mark(struct evl *e, struct esock *k) { rearm_mark(&e->list, &k->link); }

/* Free a dropped state once nothing refers to it: no packet, not queued. */
static void maybe_free(struct evl *e, struct esock *k)
{
    if (k->gone && !k->posted && !k->link.dirty) {
        rearm_unlink(&e->list, &k->link);
        CloseHandle(k->ev);
        free(k);
    }
}

/* Unregister k's wait and return once no callback of it runs or will run.
 * Not UnregisterWaitEx(INVALID_HANDLE_VALUE), which cancels a callback not
 * yet started: under load Wine 8.0 crashed in that cancel (tp_object_cancel)
 * for a wait signalled at that moment. With an event, a pending callback
 * runs instead (it posts a packet, which maybe_free waits for). Microsoft
 * documents the event as set once the wait is unregistered; that its
 * callbacks are done by then is what Wine 8.0 shows, not run on Windows. */
static void unregister(struct esock *k)
{
    HANDLE done = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (!done) {
        UnregisterWaitEx(k->wait, INVALID_HANDLE_VALUE);
        return;
    }
    if (UnregisterWaitEx(k->wait, done) || GetLastError() == ERROR_IO_PENDING)
        WaitForSingleObject(done, INFINITE);
    CloseHandle(done);
}

/* tag::event_drop */
static void drop(struct evl *e, struct esock *k)
{
    WSAEventSelect(k->s, NULL, 0);                 /* fails harmlessly if closed */
    unregister(k);                                 /* waits for its callbacks */
    k->gone = 1;                                   /* a packet may still be queued */
    maybe_free(e, k);
}
/* end::event_drop */

static int ev_init(loop_t *loop)
{
    struct evl *e = calloc(1, sizeof *e);
    if (!e)
        return LOOP_ENOMEM;
    loop->bk = e;
    return iocp_open(loop, &e->base);
}

static void ev_fini(loop_t *loop)
{
    struct evl *e = loop->bk;
    for (struct rearm *r = e->list.all; r; r = r->next) {
        struct esock *k = REARM_ENTRY(r, struct esock);
        if (!k->gone) {
            WSAEventSelect(k->s, NULL, 0);
            unregister(k);
        }
    }
    while (rearm_pop(&e->list))
        ;
    while (e->list.all) {                          /* no callback can run now: the */
        struct esock *k = REARM_ENTRY(e->list.all, struct esock);   /* packets die */
        rearm_unlink(&e->list, &k->link);                           /* with the port */
        CloseHandle(k->ev);
        free(k);
    }
    if (e->base.port)
        iocp_close(loop, &e->base);
    free(e);
}

static struct esock *state_new(loop_t *loop, struct evl *e, loop_fd_t fd)
{
    struct esock *k = calloc(1, sizeof *k);
    if (!k) {
        loop_fail(loop, LOOP_ENOMEM, "iocp-event: out of memory");
        return NULL;
    }
    k->e = e;
    k->s = fd;
    k->ev = CreateEventW(NULL, FALSE, FALSE, NULL);
    if (!k->ev || !RegisterWaitForSingleObject(&k->wait, k->ev, on_signal, k, INFINITE,
                                               WT_EXECUTEINWAITTHREAD)) {
        loop_fail(loop, LOOP_ESYS, "iocp-event: registered wait: error %lu", GetLastError());
        if (k->ev)
            CloseHandle(k->ev);
        free(k);
        return NULL;
    }
    rearm_add(&e->list, &k->link);
    return k;
}

static int ev_set(loop_t *loop, loop_fd_t fd, unsigned old, unsigned mask)
{
    struct evl *e = loop->bk;
    struct loop_watch *w = loop_watch_find(loop, fd);
    struct esock *k = w->bk;
    if (mask == 0) {
        if (k)
            drop(e, k);
        w->bk = NULL;
        return LOOP_OK;
    }
    if (!k && !(k = w->bk = state_new(loop, e, fd)))
        return LOOP_ESYS;
    if (old == 0 || old == mask) {                 /* new, or asked again: the handle may */
        k->closed = k->hup = 0;                    /* now name a new socket, whose */
        if (WSAEventSelect(fd, k->ev, EVT_ALL) != 0)   /* selection this is */
            return loop_fail(loop, LOOP_ESYS, "WSAEventSelect: WSA error %d",
                             WSAGetLastError());
    }
    k->want = mask;
    mark(e, k);                                    /* ready already? ask before waiting */
    return LOOP_OK;
}

/* Report @p m for @p k in this wait's list, once per socket. */
static int report(loop_t *loop, struct evl *e, struct esock *k, unsigned m, int fired)
{
    if (!m || k->gone)
        return fired;
    if (k->round == e->round) {
        loop->fired[k->at].mask |= m;
        return fired;
    }
    k->round = e->round;
    k->at = (size_t)fired;
    loop->fired[fired] = (struct loop_fired){k->s, m};
    return fired + 1;
}

static unsigned from_revents(short re)
{
    return ((re & (POLLRDNORM | POLLERR | POLLHUP | POLLNVAL)) ? LOOP_READABLE : 0) |
           ((re & (POLLWRNORM | POLLERR | POLLHUP | POLLNVAL)) ? LOOP_WRITABLE : 0) |
           ((re & POLLNVAL) ? LOOP_DEAD : 0);
}

/* tag::event_check */
/* Before each wait: is a socket reported last time (or newly watched for
 * more) still ready? The events only say what changed; this is the level. */
static int check(loop_t *loop, struct evl *e, int fired)
{
    for (struct rearm *r; (r = rearm_pop(&e->list));) {
        struct esock *k = REARM_ENTRY(r, struct esock);
        if (k->gone || k->closed) {
            maybe_free(e, k);
            continue;
        }
        WSAPOLLFD p = {k->s, (short)(((k->want & LOOP_READABLE) ? POLLRDNORM : 0) |
                                     ((k->want & LOOP_WRITABLE) ? POLLWRNORM : 0)), 0};
        if (WSAPoll(&p, 1, 0) < 0)
            p.revents = loop_fd_is_open(k->s) ? 0 : POLLNVAL;
        unsigned m = from_revents(p.revents);
        if (k->hup)
            m |= LOOP_READABLE;                    /* EOF stays readable */
        if (m & LOOP_DEAD)
            k->closed = 1;
        fired = report(loop, e, k, m & (k->want | LOOP_DEAD), fired);
    }
    return fired;
}
/* end::event_check */

/* A wait that timed out: a socket closed while watched set no event. */
static int sweep(loop_t *loop, struct evl *e, int fired)
{
    for (struct rearm *r = e->list.all; r; r = r->next) {
        struct esock *k = REARM_ENTRY(r, struct esock);
        if (!k->gone && !k->closed && !loop_fd_is_open(k->s)) {
            k->closed = 1;
            fired = report(loop, e, k, LOOP_READABLE | LOOP_WRITABLE | LOOP_DEAD, fired);
        }
    }
    return fired;
}

/* As lib/multi.c reads them; a failed connect wakes the reader too (libcurl asks). */
static unsigned from_network_events(const WSANETWORKEVENTS *ne)
{
    long ev = ne->lNetworkEvents;
    int failed = (ev & FD_CONNECT) && ne->iErrorCode[FD_CONNECT_BIT];
    return ((ev & (FD_READ | FD_ACCEPT | FD_CLOSE)) || failed ? LOOP_READABLE : 0) |
           ((ev & (FD_WRITE | FD_CONNECT | FD_CLOSE)) ? LOOP_WRITABLE : 0);
}

/* tag::event_wait */
static int ev_wait(loop_t *loop, long timeout_ms)
{
    struct evl *e = loop->bk;
    OVERLAPPED_ENTRY ev[64];
    e->round++;
    int fired = check(loop, e, 0);                 /* still ready: do not sleep */
    int n = iocp_dequeue(loop, &e->base, ev, 64, fired ? 0 : timeout_ms);
    for (int i = 0; i < n; i++) {
        if (ev[i].lpCompletionKey == IOCP_KEY_OP && ev[i].lpOverlapped) {
            iocp_complete_op(loop, &ev[i]);
            continue;
        }
        if (ev[i].lpCompletionKey != IOCP_KEY_EVENT)
            continue;
        struct esock *k = (struct esock *)(void *)ev[i].lpOverlapped;
        InterlockedExchange(&k->posted, 0);        /* before reading: a later event posts */
        if (k->gone) {
            maybe_free(e, k);
            continue;
        }
        WSANETWORKEVENTS ne = {0};
        if (WSAEnumNetworkEvents(k->s, NULL, &ne) != 0 || k->closed)
            continue;
        if (ne.lNetworkEvents & FD_CLOSE)
            k->hup = 1;
        fired = report(loop, e, k, from_network_events(&ne) & k->want, fired);
    }
    if (n == 0 && fired == 0 && timeout_ms != 0)
        fired = sweep(loop, e, fired);
    for (int i = 0; i < fired; i++) {              /* ask again after the callbacks */
        struct loop_watch *w = loop_watch_find(loop, loop->fired[i].fd);
        if (w && w->bk)
            mark(e, w->bk);
    }
    loop->helper_waits = (uint64_t)e->wakes;
    return n < 0 ? n : fired;
}
/* end::event_wait */

const struct loop_backend loop_backend_iocp_event = {
    "iocp-event", LOOP_CAP_FD_WATCH | LOOP_CAP_COMPLETION | LOOP_CAP_TIMERS,
    ev_init, ev_fini, ev_set, ev_wait, NULL,
};
#endif
