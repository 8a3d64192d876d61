/* IOCP backend: a proactor. It completes operations; it cannot watch fds.
 *
 * This is where completion and readiness part ways. select, poll and epoll
 * answer "is this socket ready?" and leave the I/O to you. A completion port
 * answers "which of the operations you started have finished?": data arrives
 * into *your* buffer, posted before it came. libcurl owns its sockets and does
 * its own recv() when told a socket is readable; a completion port has no way
 * to say that without posting an operation that takes the bytes first (or a
 * zero-byte read, which works for reading only). So add_reader/add_writer
 * return LOOP_ENOTSUP, and the glue refuses this loop at attach time.
 * Chapter 7 builds the two escapes: a selector thread, and AFD poll.
 */
#ifdef _WIN32
#include "iocp_impl.h"
#include "proactor.h"

#include <stdlib.h>
#include <string.h>

int iocp_open(loop_t *loop, struct iocp *c)
{
    c->port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1);
    if (!c->port)
        return loop_fail(loop, LOOP_ESYS, "CreateIoCompletionPort: error %lu", GetLastError());
    return LOOP_OK;
}

/* Every IOCP-family backend's state starts with struct iocp. */
static struct iocp *iocp_of(loop_t *loop)
{
    return (loop->be->caps & LOOP_CAP_COMPLETION) ? loop->bk : NULL;
}

size_t iocp_leaked_ops;

static void op_link(struct iocp *c, px_op_t *op)
{
    op->prev = NULL;
    op->next = c->live;
    if (c->live)
        c->live->prev = op;
    c->live = op;
}

static void op_unlink(struct iocp *c, px_op_t *op)
{
    if (op->prev)
        op->prev->next = op->next;
    else if (c->live == op)
        c->live = op->next;
    if (op->next)
        op->next->prev = op->prev;
    op->prev = op->next = NULL;
}

void iocp_forget_op(loop_t *loop, struct iocp *c, OVERLAPPED_ENTRY *e)
{
    op_unlink(c, CONTAINING_RECORD(e->lpOverlapped, px_op_t, ov));
    loop->busy--;
}

/* tag::iocp_close */
void iocp_close(loop_t *loop, struct iocp *c)
{
    for (px_op_t *op = c->live; op; op = op->next)
        CancelIoEx((HANDLE)op->s, &op->ov);        /* each still completes, aborted */
    uint64_t deadline = loop_now_ms() + IOCP_DRAIN_MS;
    for (uint64_t now; c->live && (now = loop_now_ms()) < deadline;) {
        OVERLAPPED_ENTRY ev[64];
        int n = iocp_dequeue(loop, c, ev, 64, (long)(deadline - now));
        for (int i = 0; i < n; i++)
            if (ev[i].lpCompletionKey == IOCP_KEY_OP && ev[i].lpOverlapped)
                iocp_forget_op(loop, c, &ev[i]);
        if (n < 0)
            break;
    }
    for (; c->live; op_unlink(c, c->live))
        iocp_leaked_ops++;                          /* the kernel may still write there */
    CloseHandle(c->port);
}
/* end::iocp_close */

int iocp_dequeue(loop_t *loop, struct iocp *c, OVERLAPPED_ENTRY *ev, ULONG max, long timeout_ms)
{
    ULONG n = 0;
    if (GetQueuedCompletionStatusEx(c->port, ev, max, &n,
                                    timeout_ms < 0 ? INFINITE : (DWORD)timeout_ms, FALSE))
        return (int)n;
    DWORD e = GetLastError();
    return e == WAIT_TIMEOUT ? 0 : loop_fail(loop, LOOP_ESYS, "GQCSEx: error %lu", e);
}

void iocp_complete_op(loop_t *loop, OVERLAPPED_ENTRY *e)
{
    px_op_t *op = CONTAINING_RECORD(e->lpOverlapped, px_op_t, ov);
    DWORD bytes = 0, flags = 0, err = 0;
    op_unlink(iocp_of(loop), op);
    if (!WSAGetOverlappedResult(op->s, &op->ov, &bytes, FALSE, &flags))
        err = (DWORD)WSAGetLastError();
    loop->busy--;
    op->cb(loop, op, bytes, err, op->arg);
}

static int ic_init(loop_t *loop)
{
    struct iocp *c = calloc(1, sizeof *c);
    if (!c)
        return LOOP_ENOMEM;
    if (iocp_open(loop, c) != LOOP_OK) {
        free(c);
        return LOOP_ESYS;
    }
    loop->bk = c;
    return LOOP_OK;
}

static void ic_fini(loop_t *loop)
{
    iocp_close(loop, loop->bk);
    free(loop->bk);
}

/* Never reached: loop.c refuses readers first, because caps lack FD_WATCH. */
static int ic_set(loop_t *loop, loop_fd_t fd, unsigned old, unsigned mask)
{
    (void)fd; (void)old; (void)mask;
    return loop_fail(loop, LOOP_ENOTSUP, "iocp cannot watch readiness");
}

/* tag::iocp_wait */
static int ic_wait(loop_t *loop, long timeout_ms)
{
    OVERLAPPED_ENTRY ev[64];
    int n = iocp_dequeue(loop, loop->bk, ev, 64, timeout_ms);
    for (int i = 0; i < n; i++)
        if (ev[i].lpCompletionKey == IOCP_KEY_OP && ev[i].lpOverlapped)
            iocp_complete_op(loop, &ev[i]);      /* the data is already in its buffer */
    return n < 0 ? n : 0;                        /* nothing for the reactor dispatch */
}
/* end::iocp_wait */

const struct loop_backend loop_backend_iocp = {
    "iocp", LOOP_CAP_COMPLETION | LOOP_CAP_TIMERS,
    ic_init, ic_fini, ic_set, ic_wait, NULL,
};

/* ---- the proactor API */


HANDLE px_port(loop_t *loop) { return iocp_of(loop) ? iocp_of(loop)->port : NULL; }

int px_tcp_pair(SOCKET *a, SOCKET *b)
{
    SOCKET l = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    struct sockaddr_in sa = {0};
    int len = sizeof sa;
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    *a = *b = INVALID_SOCKET;
    if (l != INVALID_SOCKET && !bind(l, (struct sockaddr *)&sa, sizeof sa) && !listen(l, 1) &&
        !getsockname(l, (struct sockaddr *)&sa, &len) &&
        (*a = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)) != INVALID_SOCKET &&
        !connect(*a, (struct sockaddr *)&sa, sizeof sa))
        *b = accept(l, NULL, NULL);
    closesocket(l);
    if (*b == INVALID_SOCKET && *a != INVALID_SOCKET) {
        closesocket(*a);
        *a = INVALID_SOCKET;
    }
    return *b == INVALID_SOCKET ? -1 : 0;
}

int px_associate(loop_t *loop, SOCKET s)
{
    struct iocp *c = iocp_of(loop);
    if (!c)
        return loop_fail(loop, LOOP_EINVAL, "px: not an iocp loop");
    if (!CreateIoCompletionPort((HANDLE)s, c->port, IOCP_KEY_OP, 0))
        return loop_fail(loop, LOOP_ESYS, "associate socket: error %lu", GetLastError());
    return LOOP_OK;
}

static void op_init(px_op_t *op, SOCKET s, px_done_cb cb, void *arg)
{
    memset(&op->ov, 0, sizeof op->ov);
    op->s = s;
    op->cb = cb;
    op->arg = arg;
    op->flags = 0;
}

/* tag::px_started */
/* Success now or later, a completion will be queued: count it as in flight. */
static int started(loop_t *loop, px_op_t *op, BOOL ok, const char *what)
{
    /* tag::exercise ch06 */
    int e = ok ? 0 : WSAGetLastError();
    if (!ok && e != WSA_IO_PENDING && e != ERROR_IO_PENDING)
        return loop_fail(loop, LOOP_ESYS, "%s: WSA error %d", what, e);
    loop->busy++;
    /* end::exercise */
    op_link(iocp_of(loop), op);       /* so closing the loop can cancel it */
    return LOOP_OK;
}
/* end::px_started */

static void *extension(SOCKET s, GUID id)
{
    void *fn = NULL;
    DWORD got = 0;
    WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &id, sizeof id, &fn, sizeof fn,
             &got, NULL, NULL);
    return fn;
}

int px_connect(loop_t *loop, px_op_t *op, SOCKET s, const struct sockaddr *to, int len,
               px_done_cb cb, void *arg)
{
    struct iocp *c = iocp_of(loop);
    GUID id = WSAID_CONNECTEX;
    if (!c || (!c->connect_ex && !(c->connect_ex = extension(s, id))))
        return loop_fail(loop, LOOP_ENOTSUP, "ConnectEx is not available");
    op_init(op, s, cb, arg);
    return started(loop, op, c->connect_ex(s, to, len, NULL, 0, NULL, &op->ov), "ConnectEx");
}

int px_accept(loop_t *loop, px_op_t *op, SOCKET listener, SOCKET accepted,
              px_done_cb cb, void *arg)
{
    struct iocp *c = iocp_of(loop);
    GUID id = WSAID_ACCEPTEX;
    DWORD got = 0;
    if (!c || (!c->accept_ex && !(c->accept_ex = extension(listener, id))))
        return loop_fail(loop, LOOP_ENOTSUP, "AcceptEx is not available");
    op_init(op, listener, cb, arg);
    const DWORD half = sizeof op->addrs / 2;
    return started(loop, op, c->accept_ex(listener, accepted, op->addrs, 0, half, half, &got,
                                      &op->ov), "AcceptEx");
}

/* tag::px_recv */
int px_recv(loop_t *loop, px_op_t *op, SOCKET s, char *buf, ULONG len,
            px_done_cb cb, void *arg)
{
    op_init(op, s, cb, arg);
    op->buf.buf = buf;
    op->buf.len = len;
    int rc = WSARecv(s, &op->buf, 1, NULL, &op->flags, &op->ov, NULL);
    return started(loop, op, rc == 0, "WSARecv");
}
/* end::px_recv */

int px_send(loop_t *loop, px_op_t *op, SOCKET s, const char *buf, ULONG len,
            px_done_cb cb, void *arg)
{
    op_init(op, s, cb, arg);
    op->buf.buf = (char *)buf;
    op->buf.len = len;
    int rc = WSASend(s, &op->buf, 1, NULL, 0, &op->ov, NULL);
    return started(loop, op, rc == 0, "WSASend");
}

int px_cancel(loop_t *loop, px_op_t *op)
{
    if (CancelIoEx((HANDLE)op->s, &op->ov) || GetLastError() == ERROR_NOT_FOUND)
        return LOOP_OK;                  /* not found: it already completed */
    return loop_fail(loop, LOOP_ESYS, "CancelIoEx: error %lu", GetLastError());
}
#endif
