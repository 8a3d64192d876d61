/* Facts about WSAEventSelect and registered waits, the pieces of the
 * iocp-event bridge, printed for the ch07 tests.
 * Usage: win_events.exe REFUSED_PORT     Prints "FACT <name> <value>". */
#include "../../code/loop/loop.h"
#include "../../code/loop/proactor/proactor.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tlhelp32.h>

/* The events recorded for @s within @ms, read (and the record cleared) by
 * WSAEnumNetworkEvents; 0 when the event object was not set. */
static long events_within(SOCKET s, HANDLE ev, DWORD ms, WSANETWORKEVENTS *ne)
{
    memset(ne, 0, sizeof *ne);
    if (WaitForSingleObject(ev, ms) != WAIT_OBJECT_0)
        return 0;
    WSAEnumNetworkEvents(s, ev, ne);             /* also resets the (manual) event */
    return ne->lNetworkEvents;
}

static int has(long got, long bit) { return (got & bit) != 0; }

/* tag::fact_read_per_recv */
/* Five bytes in five sends, no recv: one FD_READ. A recv re-enables it, and
 * with bytes left it is recorded again; with none left, not. */
static void read_is_reenabled_by_recv(void)
{
    SOCKET a, b;
    WSANETWORKEVENTS ne;
    char buf[16];
    px_tcp_pair(&a, &b);
    HANDLE ev = WSACreateEvent();
    WSAEventSelect(a, ev, FD_READ | FD_CLOSE);
    for (int i = 0; i < 5; i++) {
        send(b, "x", 1, 0);
        Sleep(20);
    }
    int first = has(events_within(a, ev, 1000, &ne), FD_READ);
    int again = has(events_within(a, ev, 300, &ne), FD_READ);      /* 4 more bytes came */
    int got1 = recv(a, buf, 1, 0);
    int partial = has(events_within(a, ev, 1000, &ne), FD_READ);   /* 4 bytes left */
    int got4 = recv(a, buf, sizeof buf, 0);
    int drained = has(events_within(a, ev, 300, &ne), FD_READ);
    printf("FACT evt_read_per_recv first=%d without_recv=%d recv=%d after_partial_recv=%d "
           "recv=%d after_draining=%d\n", first, again, got1, partial, got4, drained);
    WSACloseEvent(ev);
    closesocket(a);
    closesocket(b);
}
/* end::fact_read_per_recv */

static SOCKET listener(struct sockaddr_in *sa)
{
    SOCKET l = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    int len = sizeof *sa;
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(l, (struct sockaddr *)sa, sizeof *sa);
    listen(l, 4);
    getsockname(l, (struct sockaddr *)sa, &len);
    return l;
}

/* Send until the buffers are full; the bytes sent. */
static long fill(SOCKET s)
{
    static char chunk[65536];
    long total = 0;
    for (int i = 0; i < 4096; i++) {
        int n = send(s, chunk, sizeof chunk, 0);
        if (n < 0)
            return WSAGetLastError() == WSAEWOULDBLOCK ? total : -1;
        total += n;
    }
    return -2;                                   /* never blocked */
}

static void drain(SOCKET peer, long bytes)
{
    static char buf[65536];
    for (long got = 0; got < bytes;) {
        int n = recv(peer, buf, sizeof buf, 0);
        if (n <= 0)
            break;
        got += n;
    }
}

/* tag::fact_write_edge */
/* FD_WRITE: recorded once the connect completes, then not again (a send that
 * succeeds does not record it) until a send has failed with WSAEWOULDBLOCK
 * and room came back. */
static void write_is_an_edge(void)
{
    struct sockaddr_in sa;
    WSANETWORKEVENTS ne;
    SOCKET l = listener(&sa), s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    HANDLE ev = WSACreateEvent();
    WSAEventSelect(s, ev, FD_CONNECT | FD_WRITE | FD_READ | FD_CLOSE);
    int rc = connect(s, (struct sockaddr *)&sa, sizeof sa);
    int cerr = rc ? WSAGetLastError() : 0;
    SOCKET peer = accept(l, NULL, NULL);
    long first = events_within(s, ev, 2000, &ne);
    int connect_error = ne.iErrorCode[FD_CONNECT_BIT];
    int again = has(events_within(s, ev, 300, &ne), FD_WRITE);
    send(s, "x", 1, 0);
    int after_send = has(events_within(s, ev, 300, &ne), FD_WRITE);
    long sent = fill(s);
    int while_full = has(events_within(s, ev, 300, &ne), FD_WRITE);
    drain(peer, sent + 1);
    int after_drain = has(events_within(s, ev, 2000, &ne), FD_WRITE);
    printf("FACT evt_write connect=%d after_connect=0x%lx connect_error=%d again=%d "
           "after_a_send=%d blocked_after=%s while_full=%d after_drain=%d\n", cerr, first,
           connect_error, again, after_send, sent > 0 ? "yes" : "no", while_full, after_drain);
    WSACloseEvent(ev);
    closesocket(s);
    closesocket(peer);
    closesocket(l);
}
/* end::fact_write_edge */

/* Asking again (WSAEventSelect once more) and libcurl's zero-byte send: does
 * either record FD_WRITE on a writable socket, or FD_READ on unread data? */
static void asking_again(void)
{
    SOCKET a, b;
    WSANETWORKEVENTS ne;
    px_tcp_pair(&a, &b);
    HANDLE ev = WSACreateEvent();
    WSAEventSelect(a, ev, FD_READ | FD_WRITE | FD_CLOSE);
    events_within(a, ev, 300, &ne);               /* whatever the first selection records */
    WSAEventSelect(a, ev, FD_READ | FD_WRITE | FD_CLOSE);
    int write_reselect = has(events_within(a, ev, 300, &ne), FD_WRITE);
    send(a, NULL, 0, 0);                          /* lib/multi.c: reset_socket_fdwrite */
    int write_zero_send = has(events_within(a, ev, 300, &ne), FD_WRITE);
    send(b, "x", 1, 0);
    int read_first = has(events_within(a, ev, 1000, &ne), FD_READ);
    WSAEventSelect(a, ev, FD_READ | FD_WRITE | FD_CLOSE);    /* the byte is still unread */
    int read_reselect = has(events_within(a, ev, 300, &ne), FD_READ);
    printf("FACT evt_ask_again write_on_reselect=%d write_after_zero_byte_send=%d "
           "read=%d read_on_reselect=%d\n", write_reselect, write_zero_send, read_first,
           read_reselect);
    WSACloseEvent(ev);
    closesocket(a);
    closesocket(b);
}

static void refused_connect(unsigned short refused)
{
    struct sockaddr_in sa = {0};
    WSANETWORKEVENTS ne;
    SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    HANDLE ev = WSACreateEvent();
    sa.sin_family = AF_INET;
    sa.sin_port = htons(refused);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    WSAEventSelect(s, ev, FD_CONNECT | FD_WRITE | FD_READ | FD_CLOSE);
    connect(s, (struct sockaddr *)&sa, sizeof sa);
    long got = events_within(s, ev, 3000, &ne);
    printf("FACT evt_connect_refused events=0x%lx connect_error=%d\n", got,
           ne.iErrorCode[FD_CONNECT_BIT]);
    WSACloseEvent(ev);
    closesocket(s);
}

/* The peer's close, graceful and abortive (SO_LINGER 0: a reset). */
static void peer_close(void)
{
    SOCKET a, b, c, d;
    WSANETWORKEVENTS ne;
    struct linger lg = {1, 0};
    px_tcp_pair(&a, &b);
    px_tcp_pair(&c, &d);
    HANDLE ev = WSACreateEvent(), ev2 = WSACreateEvent();
    WSAEventSelect(a, ev, FD_READ | FD_CLOSE);
    WSAEventSelect(c, ev2, FD_READ | FD_CLOSE);
    closesocket(b);
    long g1 = events_within(a, ev, 2000, &ne);
    int e1 = ne.iErrorCode[FD_CLOSE_BIT];
    setsockopt(d, SOL_SOCKET, SO_LINGER, (char *)&lg, sizeof lg);
    closesocket(d);
    long g2 = events_within(c, ev2, 2000, &ne);
    int e2 = ne.iErrorCode[FD_CLOSE_BIT];
    printf("FACT evt_close graceful=%d error=%d abortive=%d error=%d\n", has(g1, FD_CLOSE), e1,
           has(g2, FD_CLOSE), e2);
    WSACloseEvent(ev);
    WSACloseEvent(ev2);
    closesocket(a);
    closesocket(c);
}

/* Closing the watched socket itself: is the event set? */
static void local_close(void)
{
    SOCKET a, b;
    px_tcp_pair(&a, &b);
    HANDLE ev = WSACreateEvent();
    WSAEventSelect(a, ev, FD_READ | FD_WRITE | FD_CLOSE);
    WaitForSingleObject(ev, 300);
    ResetEvent(ev);                               /* forget FD_WRITE from the selection */
    closesocket(a);
    printf("FACT evt_local_close event_set=%d\n", WaitForSingleObject(ev, 300) == WAIT_OBJECT_0);
    WSACloseEvent(ev);
    closesocket(b);
}

/* WSAEventSelect makes the socket non-blocking, for good, and a second
 * selection replaces the first. */
static void nonblocking_and_replaced(void)
{
    SOCKET a, b;
    char c;
    u_long zero = 0;
    px_tcp_pair(&a, &b);                          /* blocking sockets */
    HANDLE e1 = WSACreateEvent(), e2 = WSACreateEvent();
    WSAEventSelect(a, e1, FD_READ);
    int r = recv(a, &c, 1, 0);
    int recv_error = r < 0 ? WSAGetLastError() : 0;
    int back = ioctlsocket(a, FIONBIO, &zero);
    int back_error = back ? WSAGetLastError() : 0;
    WSAEventSelect(a, e2, FD_READ);               /* replaces the first */
    send(b, "x", 1, 0);
    int second = WaitForSingleObject(e2, 1000) == WAIT_OBJECT_0;
    int first = WaitForSingleObject(e1, 0) == WAIT_OBJECT_0;
    WSAEventSelect(a, NULL, 0);                   /* cancelled: blocking mode allowed again */
    int unselected = ioctlsocket(a, FIONBIO, &zero);
    printf("FACT evt_nonblocking recv_error=%d to_blocking_error=%d\n", recv_error, back_error);
    printf("FACT evt_replaced first_event_set=%d second_event_set=%d "
           "to_blocking_after_cancel=%d\n", first, second, unselected);
    WSACloseEvent(e1);
    WSACloseEvent(e2);
    closesocket(a);
    closesocket(b);
}

/* ---- registered waits */
static volatile LONG calls;
static void CALLBACK count_cb(PVOID arg, BOOLEAN timed_out)
{
    (void)arg; (void)timed_out;
    InterlockedIncrement(&calls);
}

static int signalled_twice(ULONG flags)
{
    HANDLE e = CreateEventW(NULL, FALSE, FALSE, NULL), w = NULL;
    calls = 0;
    RegisterWaitForSingleObject(&w, e, count_cb, NULL, INFINITE, flags);
    SetEvent(e);
    Sleep(100);
    SetEvent(e);
    Sleep(100);
    UnregisterWaitEx(w, INVALID_HANDLE_VALUE);
    CloseHandle(e);
    return (int)calls;
}

static void wait_once_or_persistent(void)
{
    int once = signalled_twice(WT_EXECUTEINWAITTHREAD | WT_EXECUTEONLYONCE);
    int persistent = signalled_twice(WT_EXECUTEINWAITTHREAD);
    printf("FACT wait_once_or_persistent once=%d persistent=%d\n", once, persistent);
}

static volatile LONG slow_done;
static void CALLBACK slow_cb(PVOID arg, BOOLEAN timed_out)
{
    (void)arg; (void)timed_out;
    Sleep(200);
    InterlockedExchange(&slow_done, 1);
}

/* tag::fact_unregister */
/* UnregisterWaitEx(w, INVALID_HANDLE_VALUE) returns only once a callback that
 * is running has returned: then the event, and the state the callback uses,
 * can go. With NULL it returns at once, ERROR_IO_PENDING, the callback still
 * running. */
static int unregister_while_running(HANDLE how, int *error)
{
    HANDLE e = CreateEventW(NULL, FALSE, FALSE, NULL), w = NULL;
    slow_done = 0;
    RegisterWaitForSingleObject(&w, e, slow_cb, NULL, INFINITE, WT_EXECUTEINWAITTHREAD);
    SetEvent(e);
    Sleep(50);                                   /* the callback is running now */
    *error = UnregisterWaitEx(w, how) ? 0 : (int)GetLastError();
    int done = (int)slow_done;
    while (!slow_done)
        Sleep(10);
    CloseHandle(e);
    return done;
}
/* end::fact_unregister */

static void wait_teardown(void)
{
    int e1 = 0, e2 = 0;
    int blocking = unregister_while_running(INVALID_HANDLE_VALUE, &e1);
    int nonblocking = unregister_while_running(NULL, &e2);
    printf("FACT wait_unregister blocking_error=%d callback_done=%d nonblocking_error=%d "
           "callback_done=%d\n", e1, blocking, e2, nonblocking);
}

/* tag::fact_through_the_port */
/* The whole channel, by hand: WSAEventSelect sets an event, a registered wait
 * posts a packet to the port, and the owner calls recv itself. */
struct chan { HANDLE port; SOCKET s; };

static void CALLBACK post_cb(PVOID arg, BOOLEAN timed_out)
{
    struct chan *c = arg;
    (void)timed_out;
    PostQueuedCompletionStatus(c->port, 0, 7, NULL);       /* "look at c->s" */
}

static long next_events(struct chan *c, HANDLE ev, DWORD ms)
{
    DWORD n;
    ULONG_PTR key = 0;
    OVERLAPPED *ov;
    WSANETWORKEVENTS ne = {0};
    if (!GetQueuedCompletionStatus(c->port, &n, &key, &ov, ms) || key != 7)
        return 0;
    WSAEnumNetworkEvents(c->s, ev, &ne);
    return ne.lNetworkEvents;
}

static void through_the_port(void)
{
    SOCKET b;
    struct chan c = {CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1), INVALID_SOCKET};
    char buf[16];
    HANDLE ev = CreateEventW(NULL, FALSE, FALSE, NULL), w = NULL;
    px_tcp_pair(&c.s, &b);
    RegisterWaitForSingleObject(&w, ev, post_cb, &c, INFINITE, WT_EXECUTEINWAITTHREAD);
    WSAEventSelect(c.s, ev, FD_READ | FD_WRITE | FD_CLOSE);
    int write = has(next_events(&c, ev, 1000), FD_WRITE);
    send(b, "hello", 5, 0);
    int read = has(next_events(&c, ev, 1000), FD_READ);
    int got = recv(c.s, buf, sizeof buf, 0);                /* the owner reads: all 5 */
    closesocket(b);
    int close = has(next_events(&c, ev, 1000), FD_CLOSE);
    UnregisterWaitEx(w, INVALID_HANDLE_VALUE);              /* first the wait, then the event */
    CloseHandle(ev);
    printf("FACT evt_through_the_port write=%d read=%d recv=%d close=%d\n", write, read, got,
           close);
    closesocket(c.s);
    CloseHandle(c.port);
}
/* end::fact_through_the_port */

/* Windows 8's way to wait on a handle through a port without a wait thread. */
static void wait_completion_packet(void)
{
    FARPROC f = GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "NtAssociateWaitCompletionPacket");
    printf("FACT nt_associate_wait_completion_packet %s\n", f ? "exported" : "missing");
}

int main(int argc, char **argv)
{
    WSADATA wsa;
    if (argc != 2) {
        fprintf(stderr, "usage: %s REFUSED_PORT\n", argv[0]);
        return 2;
    }
    WSAStartup(MAKEWORD(2, 2), &wsa);
    read_is_reenabled_by_recv();
    write_is_an_edge();
    asking_again();
    refused_connect((unsigned short)atoi(argv[1]));
    peer_close();
    local_close();
    nonblocking_and_replaced();
    wait_once_or_persistent();
    wait_teardown();
    through_the_port();
    wait_completion_packet();
    fflush(stdout);
    WSACleanup();
    return 0;
}
