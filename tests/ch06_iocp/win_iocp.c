/* What a completion port really does, printed as facts for the ch06 tests.
 * Usage: win_iocp.exe BASE_URL       Prints "FACT <name> <value>" lines. */
#include "../../code/glue/curlx.h"
#include "../../code/jobs/job.h"
#include "../../code/loop/proactor/proactor.h"
#include "../../code/loop/proactor/iocp_impl.h"

#include <mswsock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static HANDLE new_port(void) { return CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 0); }

/* Dequeue one completion within ms: 1 and its bytes/error, or 0 on timeout. */
static int dequeue(HANDLE port, DWORD ms, DWORD *bytes, DWORD *err)
{
    OVERLAPPED_ENTRY e;
    ULONG n = 0;
    if (!GetQueuedCompletionStatusEx(port, &e, 1, &n, ms, FALSE))
        return 0;
    *bytes = e.dwNumberOfBytesTransferred;
    *err = 0;
    DWORD fl = 0;
    OVERLAPPED *ov = e.lpOverlapped;
    SOCKET s = (SOCKET)e.lpCompletionKey;
    if (s && !WSAGetOverlappedResult(s, ov, bytes, FALSE, &fl))
        *err = (DWORD)WSAGetLastError();
    return 1;
}

/* tag::fact_not_readiness */
static void completion_is_not_readiness(void)
{
    SOCKET a, b;
    u_long avail = 0;
    HANDLE port = new_port();
    px_tcp_pair(&a, &b);
    CreateIoCompletionPort((HANDLE)a, port, (ULONG_PTR)a, 0);
    send(b, "hello", 5, 0);
    Sleep(50);
    ioctlsocket(a, FIONREAD, &avail);          /* the bytes are there... */
    OVERLAPPED_ENTRY e;
    ULONG n = 0;                               /* ...but no operation was posted */
    BOOL ok = GetQueuedCompletionStatusEx(port, &e, 1, &n, 200, FALSE);
    printf("FACT completion_is_not_readiness fionread=%lu dequeued=%lu err=%lu\n", avail,
           ok ? n : 0, ok ? 0 : GetLastError());
    closesocket(a);
    closesocket(b);
    CloseHandle(port);
}
/* end::fact_not_readiness */

/* tag::fact_steals */
static void wsarecv_takes_the_owners_bytes(void)
{
    SOCKET a, b;
    HANDLE port = new_port();
    char buf[64] = {0}, mine[64];
    WSABUF wb = {sizeof buf, buf};
    DWORD flags = 0, bytes = 0, err = 0;
    OVERLAPPED ov = {0};
    u_long on = 1;
    px_tcp_pair(&a, &b);
    CreateIoCompletionPort((HANDLE)a, port, (ULONG_PTR)a, 0);
    WSARecv(a, &wb, 1, NULL, &flags, &ov, NULL);   /* someone else's read, in flight */
    send(b, "hello", 5, 0);
    int got = dequeue(port, 1000, &bytes, &err);
    ioctlsocket(a, FIONBIO, &on);
    int owner = recv(a, mine, sizeof mine, 0);     /* the owner reads: nothing left */
    printf("FACT wsarecv_steals completed=%d stolen=%lu data=%.5s owner_recv=%d err=%d\n", got,
           bytes, buf, owner, owner < 0 ? WSAGetLastError() : 0);
    closesocket(a);
    closesocket(b);
    CloseHandle(port);
}
/* end::fact_steals */

/* ---- the same theft on a libcurl transfer: post a WSARecv once it connects */
static HANDLE theft_port;
static int theft_rc = -2, theft_err;
static SOCKET theft_sock = INVALID_SOCKET;

/* CURLOPT_SOCKOPTFUNCTION: libcurl shows us its socket as it creates it. */
static int note_socket(void *clientp, curl_socket_t s, curlsocktype purpose)
{
    (void)clientp; (void)purpose;
    theft_sock = s;
    return CURL_SOCKOPT_OK;
}
static char theft_buf[8192];
static OVERLAPPED theft_ov;
static WSABUF theft_wb;

static int steal_on_connect(void *clientp, char *ip, char *local_ip, int remote_port,
                            int local_port)
{
    SOCKET s = theft_sock;                  /* connected now; the request is not sent yet */
    DWORD flags = 0;
    (void)clientp; (void)ip; (void)local_ip; (void)remote_port; (void)local_port;
    CreateIoCompletionPort((HANDLE)s, theft_port, (ULONG_PTR)s, 0);
    theft_wb.buf = theft_buf;
    theft_wb.len = sizeof theft_buf - 1;
    theft_rc = WSARecv(s, &theft_wb, 1, NULL, &flags, &theft_ov, NULL);
    theft_err = theft_rc ? WSAGetLastError() : 0;
    return CURL_PREREQFUNC_OK;
}

static void on_done(CURL *easy, CURLcode rc, void *arg) { (void)arg; job_finish(easy, rc); }

static void libcurl_transfer_loses_its_response(const char *base)
{
    char url[256], err[400];
    snprintf(url, sizeof url, "%s/status/200", base);   /* a reply in one segment */
    struct job j = {.url = url};
    struct job_opts o = {2000, "select", 0};
    theft_port = new_port();
    loop_t *loop = loop_new("select");           /* libcurl's own loop works... */
    curlx_t *cx = curlx_attach(loop, on_done, NULL, 0, err, sizeof err);
    CURL *easy = job_easy(&j, &o);
    curl_easy_setopt(easy, CURLOPT_SOCKOPTFUNCTION, note_socket);
    curl_easy_setopt(easy, CURLOPT_PREREQFUNCTION, steal_on_connect);
    curl_easy_setopt(easy, CURLOPT_PREREQDATA, easy);
    curlx_add(cx, easy);
    loop_run(loop);                              /* ...until a WSARecv takes the reply */
    curlx_free(cx);
    loop_free(loop);
    DWORD bytes = 0, e = 0;
    OVERLAPPED_ENTRY ent;
    ULONG n = 0;
    if (GetQueuedCompletionStatusEx(theft_port, &ent, 1, &n, 500, FALSE))
        bytes = ent.dwNumberOfBytesTransferred;
    printf("FACT libcurl_loses_its_response result=%d status=%ld stolen=%lu starts=%.8s "
           "wsarecv=%d/%d\n", (int)j.result, j.status, bytes, bytes ? theft_buf : "-",
           theft_rc, theft_err);
    (void)e;
    CloseHandle(theft_port);
}

static void association_is_permanent(void)
{
    HANDLE p1 = new_port(), p2 = new_port();
    SOCKET s = WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_OVERLAPPED);
    HANDLE first = CreateIoCompletionPort((HANDLE)s, p1, 1, 0);
    HANDLE other = CreateIoCompletionPort((HANDLE)s, p2, 1, 0);
    DWORD e_other = other ? 0 : GetLastError();
    HANDLE same = CreateIoCompletionPort((HANDLE)s, p1, 1, 0);
    DWORD e_same = same ? 0 : GetLastError();
    printf("FACT association_is_permanent first=%d other=%d err=%lu same=%d err=%lu\n",
           first != NULL, other != NULL, e_other, same != NULL, e_same);
    closesocket(s);
    CloseHandle(p1);
    CloseHandle(p2);
}

/* tag::fact_zero_byte */
static void zero_byte_recv_leaves_the_data(void)
{
    SOCKET a, b;
    HANDLE port = new_port();
    WSABUF none = {0, NULL};
    DWORD flags = 0, bytes = 99, err = 0;
    OVERLAPPED ov = {0};
    char buf[16];
    px_tcp_pair(&a, &b);
    CreateIoCompletionPort((HANDLE)a, port, (ULONG_PTR)a, 0);
    WSARecv(a, &none, 1, NULL, &flags, &ov, NULL);   /* "tell me when there is data" */
    send(b, "abc", 3, 0);
    int got = dequeue(port, 1000, &bytes, &err);
    int then = recv(a, buf, sizeof buf, 0);          /* the data is still there */
    printf("FACT zero_byte_recv completed=%d bytes=%lu then_recv=%d\n", got, bytes, then);
    closesocket(a);
    closesocket(b);
    CloseHandle(port);
}
/* end::fact_zero_byte */

static void zero_byte_send_when_full(void)
{
    SOCKET a, b;
    HANDLE port = new_port();
    static char chunk[65536], sink[65536];
    u_long on = 1, off = 0;
    long filled = 0;
    int n;
    px_tcp_pair(&a, &b);
    ioctlsocket(a, FIONBIO, &on);
    while ((n = send(a, chunk, sizeof chunk, 0)) > 0 && filled < (64L << 20))
        filled += n;
    int fill_err = WSAGetLastError();
    ioctlsocket(a, FIONBIO, &off);
    CreateIoCompletionPort((HANDLE)a, port, (ULONG_PTR)a, 0);
    WSABUF none = {0, NULL};
    OVERLAPPED ov = {0};
    int rc = WSASend(a, &none, 1, NULL, 0, &ov, NULL);
    int rc_err = rc ? WSAGetLastError() : 0;
    DWORD bytes = 0, err = 0;
    int while_full = dequeue(port, 300, &bytes, &err);
    ioctlsocket(b, FIONBIO, &on);                  /* drain what the peer can read */
    for (int i = 0; i < 100; i++)
        if (recv(b, sink, sizeof sink, 0) <= 0)
            Sleep(10);
    int after = while_full ? -1 : dequeue(port, 1000, &bytes, &err);
    printf("FACT zero_byte_send filled=%ld fill_err=%d rc=%d rc_err=%d completed_while_full=%d "
           "completed_after_drain=%d\n", filled, fill_err, rc, rc_err, while_full, after);
    closesocket(a);
    closesocket(b);
    CloseHandle(port);
}

/* Is an immediate success queued? Without the flag: yes. With it: no. */
static int queued_after_immediate_success(BOOL skip)
{
    SOCKET a, b;
    HANDLE port = new_port();
    char buf[16];
    WSABUF wb = {sizeof buf, buf};
    DWORD flags = 0, got = 0, bytes = 0, err = 0;
    OVERLAPPED ov = {0};
    px_tcp_pair(&a, &b);
    CreateIoCompletionPort((HANDLE)a, port, (ULONG_PTR)a, 0);
    if (skip)
        SetFileCompletionNotificationModes((HANDLE)a, FILE_SKIP_COMPLETION_PORT_ON_SUCCESS);
    send(b, "x", 1, 0);
    Sleep(50);                                     /* data waiting: WSARecv succeeds now */
    int rc = WSARecv(a, &wb, 1, &got, &flags, &ov, NULL);
    int q = dequeue(port, 200, &bytes, &err);
    closesocket(a);
    closesocket(b);
    CloseHandle(port);
    return rc == 0 ? q : -1;
}

static void skip_completion_port_on_success(void)
{
    printf("FACT skip_on_success without_flag=%d with_flag=%d\n",
           queued_after_immediate_success(FALSE), queued_after_immediate_success(TRUE));
}

static void connectex_needs_a_bound_socket(void)
{
    SOCKET a, b;
    px_tcp_pair(&a, &b);                               /* only to learn a listening port */
    closesocket(a);
    closesocket(b);
    SOCKET l = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    struct sockaddr_in sa = {0}, any = {0};
    int len = sizeof sa;
    sa.sin_family = any.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(l, (struct sockaddr *)&sa, sizeof sa);
    listen(l, 2);
    getsockname(l, (struct sockaddr *)&sa, &len);
    SOCKET s = WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_OVERLAPPED);
    LPFN_CONNECTEX cx = NULL;
    GUID id = WSAID_CONNECTEX;
    DWORD got = 0;
    WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &id, sizeof id, &cx, sizeof cx, &got,
             NULL, NULL);
    OVERLAPPED ov = {0};
    BOOL ok = cx(s, (struct sockaddr *)&sa, sizeof sa, NULL, 0, NULL, &ov);
    int unbound_err = ok ? 0 : WSAGetLastError();
    bind(s, (struct sockaddr *)&any, sizeof any);
    memset(&ov, 0, sizeof ov);
    ok = cx(s, (struct sockaddr *)&sa, sizeof sa, NULL, 0, NULL, &ov);
    int bound_err = ok ? 0 : WSAGetLastError();
    printf("FACT connectex_bound unbound_err=%d bound_err=%d\n", unbound_err, bound_err);
    closesocket(s);
    closesocket(l);
}

static void cancelled_recv_still_completes(void)
{
    SOCKET a, b;
    HANDLE port = new_port();
    char buf[16];
    WSABUF wb = {sizeof buf, buf};
    DWORD flags = 0, bytes = 0, err = 0;
    OVERLAPPED ov = {0};
    px_tcp_pair(&a, &b);
    CreateIoCompletionPort((HANDLE)a, port, (ULONG_PTR)a, 0);
    WSARecv(a, &wb, 1, NULL, &flags, &ov, NULL);
    BOOL c = CancelIoEx((HANDLE)a, &ov);
    int got = dequeue(port, 1000, &bytes, &err);
    printf("FACT cancel_completes cancel_ok=%d dequeued=%d err=%lu\n", c, got, err);
    closesocket(a);
    closesocket(b);
    CloseHandle(port);
}

static void batch_dequeue(void)
{
    enum { N = 5 };
    SOCKET a[N], b[N];
    char buf[N][16];
    WSABUF wb[N];
    OVERLAPPED ov[N];
    DWORD flags = 0;
    HANDLE port = new_port();
    for (int i = 0; i < N; i++) {
        px_tcp_pair(&a[i], &b[i]);
        CreateIoCompletionPort((HANDLE)a[i], port, (ULONG_PTR)a[i], 0);
        wb[i].buf = buf[i];
        wb[i].len = sizeof buf[i];
        memset(&ov[i], 0, sizeof ov[i]);
        WSARecv(a[i], &wb[i], 1, NULL, &flags, &ov[i], NULL);
        send(b[i], "z", 1, 0);
    }
    Sleep(200);
    OVERLAPPED_ENTRY e[64];
    ULONG n = 0;
    GetQueuedCompletionStatusEx(port, e, 64, &n, 1000, FALSE);
    printf("FACT batch_dequeue posted=%d one_call=%lu\n", N, n);
    for (int i = 0; i < N; i++) {
        closesocket(a[i]);
        closesocket(b[i]);
    }
    CloseHandle(port);
}

static void iocp_loop_refuses_readers(void)
{
    loop_t *loop = loop_new("iocp");
    SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    int r = loop_add_reader(loop, s, NULL, NULL);
    int rr = loop_add_reader(loop, s, (loop_io_cb)1, NULL);
    int w = loop_add_writer(loop, s, (loop_io_cb)1, NULL);
    printf("FACT iocp_readers caps=%u reader=%d writer=%d null_cb=%d msg=%s\n", loop_caps(loop),
           rr, w, r, loop_error(loop));
    closesocket(s);
    loop_free(loop);
}

/* ---- accept and echo over the proactor API */
struct echo {
    SOCKET l, srv, cli;
    px_op_t acc, con, s_op, c_op;
    char s_buf[64], c_buf[64];
    uint64_t guard;
};

static void stop_cb(loop_t *loop, void *arg) { (void)arg; loop_stop(loop); }

static void srv_got(loop_t *loop, px_op_t *op, DWORD bytes, DWORD err, void *arg);
static void cli_got(loop_t *loop, px_op_t *op, DWORD bytes, DWORD err, void *arg)
{
    struct echo *e = arg;
    (void)op; (void)err;
    e->c_buf[bytes] = '\0';
    loop_stop(loop);          /* whatever the loop still counts: what_is_in_flight judges that */
}
static void srv_sent(loop_t *loop, px_op_t *op, DWORD bytes, DWORD err, void *arg)
{
    (void)loop; (void)op; (void)bytes; (void)err; (void)arg;
}
static void srv_got(loop_t *loop, px_op_t *op, DWORD bytes, DWORD err, void *arg)
{
    struct echo *e = arg;
    if (err || bytes == 0)
        return;
    px_send(loop, op, e->srv, e->s_buf, bytes, srv_sent, e);   /* echo it back */
}
static void accepted(loop_t *loop, px_op_t *op, DWORD bytes, DWORD err, void *arg)
{
    struct echo *e = arg;
    (void)op; (void)bytes;
    if (err)
        return;
    setsockopt(e->srv, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, (char *)&e->l, sizeof e->l);
    px_recv(loop, &e->s_op, e->srv, e->s_buf, sizeof e->s_buf, srv_got, e);
}
static void cli_sent(loop_t *loop, px_op_t *op, DWORD bytes, DWORD err, void *arg)
{
    struct echo *e = arg;
    (void)op; (void)bytes; (void)err;
    px_recv(loop, &e->c_op, e->cli, e->c_buf, sizeof e->c_buf - 1, cli_got, e);
}
static void connected(loop_t *loop, px_op_t *op, DWORD bytes, DWORD err, void *arg)
{
    struct echo *e = arg;
    (void)bytes;
    if (!err)
        px_send(loop, op, e->cli, "ping", 4, cli_sent, e);
}

/* loop_free with a WSARecv in flight: the loop cancels it and waits for its
 * completion, so the peer's later bytes stay in the socket and the buffer the
 * operation had is never written after the loop is gone. */
static void never_done(loop_t *l, px_op_t *op, DWORD bytes, DWORD err, void *arg)
{
    (void)l; (void)op; (void)bytes; (void)err;
    ++*(int *)arg;
}

static void free_with_recv_pending(const char *backend)
{
    SOCKET a, b;
    static px_op_t op;
    static char buf[64];
    int calls = 0;
    size_t leaked0 = iocp_leaked_ops;
    memset(buf, 0, sizeof buf);
    px_tcp_pair(&a, &b);
    loop_t *loop = loop_new(backend);
    px_associate(loop, a);
    int rc = px_recv(loop, &op, a, buf, sizeof buf, never_done, &calls);
    loop_free(loop);                              /* the recv is still in flight */
    send(b, "hello", 5, 0);
    Sleep(200);
    char left[16] = "";
    u_long nb = 1;
    ioctlsocket(a, FIONBIO, &nb);
    int got = recv(a, left, sizeof left - 1, 0);
    printf("FACT %s_free_with_recv_pending recv=%d buf=%s callbacks=%d leaked=%zu "
           "still_in_socket=%d\n", backend, rc, buf[0] ? buf : "untouched", calls,
           iocp_leaked_ops - leaked0, got);
    closesocket(a);
    closesocket(b);
}

static void accept_and_echo(void)
{
    struct echo e = {0};
    struct sockaddr_in sa = {0}, any = {0};
    int len = sizeof sa;
    loop_t *loop = loop_new("iocp");
    sa.sin_family = any.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    e.l = WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_OVERLAPPED);
    bind(e.l, (struct sockaddr *)&sa, sizeof sa);
    listen(e.l, 4);
    getsockname(e.l, (struct sockaddr *)&sa, &len);
    e.srv = WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_OVERLAPPED);
    e.cli = WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_OVERLAPPED);
    bind(e.cli, (struct sockaddr *)&any, sizeof any);
    px_associate(loop, e.l);
    px_associate(loop, e.srv);
    px_associate(loop, e.cli);
    int a = px_accept(loop, &e.acc, e.l, e.srv, accepted, &e);
    int c = px_connect(loop, &e.con, e.cli, (struct sockaddr *)&sa, sizeof sa, connected, &e);
    e.guard = loop_call_later(loop, 3000, stop_cb, NULL);   /* a safety net */
    loop_run(loop);
    printf("FACT accept_and_echo accept=%d connect=%d echoed=%s\n", a, c,
           e.c_buf[0] ? e.c_buf : "-");
    closesocket(e.cli);
    closesocket(e.srv);
    closesocket(e.l);
    loop_free(loop);
}

/* What loop_run waits for: an operation that fails at once (a WSARecv on a
 * socket never connected) queues no completion, so it is not in flight; one
 * that succeeds at once (a WSASend with room) still queues one, so it is.
 * Once its completion is in, nothing is in flight: the callback drops the 2 s
 * guard and loop_run returns. A loop still counting something keeps the guard,
 * which ends the run instead of a wait for a completion that never comes. */
struct in_flight { int calls, guard_fired; uint64_t guard; };
static void guard_cb(loop_t *loop, void *arg)
{
    ((struct in_flight *)arg)->guard_fired = 1;
    loop_stop(loop);
}
static void counted_done(loop_t *loop, px_op_t *op, DWORD bytes, DWORD err, void *arg)
{
    struct in_flight *f = arg;
    (void)op; (void)bytes; (void)err;
    f->calls++;
    if (loop->busy == 0)
        loop_cancel(loop, f->guard);
}

static void what_is_in_flight(void)
{
    static px_op_t r_op, s_op;
    static char buf[16];
    struct in_flight f = {0};
    char msg[128];
    SOCKET a, b;
    size_t leaked0 = iocp_leaked_ops;
    loop_t *loop = loop_new("iocp");
    SOCKET lone = WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_OVERLAPPED);
    px_associate(loop, lone);
    int recv_rc = px_recv(loop, &r_op, lone, buf, sizeof buf, counted_done, &f);
    snprintf(msg, sizeof msg, "%s", loop_error(loop));
    size_t after_fail = loop->busy;
    px_tcp_pair(&a, &b);
    px_associate(loop, a);
    int send_rc = px_send(loop, &s_op, a, "ping", 4, counted_done, &f);
    size_t after_send = loop->busy;
    f.guard = loop_call_later(loop, 2000, guard_cb, &f);
    int run = loop_run(loop);
    size_t left = loop->busy;
    loop_free(loop);
    printf("FACT failed_op_not_in_flight recv=%d in_flight=%zu msg=%s\n", recv_rc, after_fail,
           recv_rc ? msg : "-");
    printf("FACT run_returns_after_the_last_completion send=%d in_flight=%zu run=%d calls=%d "
           "guard_fired=%d left=%zu leaked=%zu\n", send_rc, after_send, run, f.calls,
           f.guard_fired, left, iocp_leaked_ops - leaked0);
    closesocket(lone);
    closesocket(a);
    closesocket(b);
}

/* ProcessSocketNotifications (Windows build 20348+) is the documented readiness
 * channel on a completion port. Is it there? Looked up at run time, so the same
 * program answers on Wine and on Windows. */
static void process_socket_notifications(void)
{
    HMODULE ws2 = GetModuleHandleW(L"ws2_32.dll");
    FARPROC f = ws2 ? GetProcAddress(ws2, "ProcessSocketNotifications") : NULL;
    printf("FACT process_socket_notifications %s\n", f ? "exported" : "missing");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s BASE_URL\n", argv[0]);
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);   /* also WSAStartup */
    completion_is_not_readiness();
    wsarecv_takes_the_owners_bytes();
    libcurl_transfer_loses_its_response(argv[1]);
    association_is_permanent();
    zero_byte_recv_leaves_the_data();
    zero_byte_send_when_full();
    skip_completion_port_on_success();
    connectex_needs_a_bound_socket();
    cancelled_recv_still_completes();
    batch_dequeue();
    iocp_loop_refuses_readers();
    accept_and_echo();
    what_is_in_flight();
    process_socket_notifications();
    free_with_recv_pending("iocp");
    free_with_recv_pending("iocp-thread");
    free_with_recv_pending("iocp-afd");
    fflush(stdout);
    curl_global_cleanup();
    return 0;
}
