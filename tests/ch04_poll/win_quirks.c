/* What Winsock really does, printed as facts for the ch04 tests to assert.
 * Usage: win_quirks.exe SERVER_PORT REFUSED_PORT
 * Prints "FACT <name> <value>" lines. Runs under Wine or on Windows. */
#include "../../code/loop/loop.h"
#include "../../code/loop/proactor/proactor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <winsock2.h>

static SOCKET nb_connect(unsigned short port)
{
    SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    u_long on = 1;
    struct sockaddr_in sa = {0};
    ioctlsocket(s, FIONBIO, &on);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(s, (struct sockaddr *)&sa, sizeof sa) == 0 || WSAGetLastError() == WSAEWOULDBLOCK)
        return s;
    printf("FACT connect_error %d\n", WSAGetLastError());
    return s;
}

static const char *flags(short re)
{
    static char buf[128];
    static const struct { short bit; const char *name; } f[] = {
        {POLLERR, "POLLERR"}, {POLLHUP, "POLLHUP"}, {POLLNVAL, "POLLNVAL"},
        {POLLRDNORM, "POLLRDNORM"}, {POLLRDBAND, "POLLRDBAND"}, {POLLPRI, "POLLPRI"},
        {POLLWRNORM, "POLLWRNORM"}, {POLLWRBAND, "POLLWRBAND"}};
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (re & f[i].bit) {
            if (buf[0])
                strcat(buf, "|");
            strcat(buf, f[i].name);
        }
    return buf[0] ? buf : "none";
}

/* tag::wsapoll_refused */
static void wsapoll_refused_connect(unsigned short refused)
{
    SOCKET s = nb_connect(refused);
    WSAPOLLFD p = {s, POLLOUT, 0};
    DWORD t0 = GetTickCount();
    int rc = WSAPoll(&p, 1, 3000);            /* 3 s: a refusal on loopback is instant */
    printf("FACT wsapoll_refused_connect rc=%d revents=%s ms=%lu\n", rc, flags(p.revents),
           (unsigned long)(GetTickCount() - t0));
    int err = 0, len = sizeof err;
    getsockopt(s, SOL_SOCKET, SO_ERROR, (char *)&err, &len);
    printf("FACT refused_so_error %d\n", err);
    closesocket(s);
}
/* end::wsapoll_refused */

/* tag::select_refused */
static void select_refused_connect(unsigned short refused)
{
    SOCKET s = nb_connect(refused);
    fd_set w, e;
    FD_ZERO(&w);
    FD_ZERO(&e);
    FD_SET(s, &w);
    FD_SET(s, &e);
    struct timeval tv = {3, 0};
    int rc = select(0, NULL, &w, &e, &tv);
    printf("FACT select_refused_connect rc=%d write=%d except=%d\n", rc,
           FD_ISSET(s, &w) ? 1 : 0, FD_ISSET(s, &e) ? 1 : 0);
    closesocket(s);
}
/* end::select_refused */

/* POLLPRI, alone and with POLLIN, on a connected socket with one byte waiting. */
static void wsapoll_pollpri(void)
{
    SOCKET a, b;
    px_tcp_pair(&a, &b);
    send(b, "x", 1, 0);
    WSAPOLLFD w = {a, POLLIN, 0};
    WSAPoll(&w, 1, 2000);                     /* wait until the byte is there */
    WSAPOLLFD p = {a, POLLPRI, 0};
    int rc = WSAPoll(&p, 1, 0);
    printf("FACT wsapoll_pollpri rc=%d err=%d revents=%s\n", rc,
           rc < 0 ? WSAGetLastError() : 0, flags(p.revents));
    WSAPOLLFD q = {a, POLLIN | POLLPRI, 0};
    rc = WSAPoll(&q, 1, 0);
    printf("FACT wsapoll_pollin_pollpri rc=%d err=%d revents=%s\n", rc,
           rc < 0 ? WSAGetLastError() : 0, flags(q.revents));
    closesocket(a);
    closesocket(b);
}

static void never(loop_t *l, loop_fd_t fd, void *arg) { (void)l; (void)fd; (void)arg; }

/* How many sockets a backend takes before it refuses one. */
static void backend_limit(const char *backend, int want)
{
    loop_t *loop = loop_new(backend);
    SOCKET *s = calloc((size_t)want, sizeof *s);
    int accepted = 0, rc = LOOP_OK;
    for (int i = 0; i < want && rc == LOOP_OK; i++) {
        s[i] = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
        if ((rc = loop_add_reader(loop, s[i], never, NULL)) == LOOP_OK)
            accepted++;
    }
    printf("FACT %s_accepts %d of %d rc=%d msg=%s\n", backend, accepted, want, rc,
           rc ? loop_error(loop) : "-");
    loop_free(loop);
    for (int i = 0; i < want; i++)
        if (s[i])
            closesocket(s[i]);
    free(s);
}

/* One ready socket among n listening ones: the backend calls back once, for it. */
static SOCKET ready_fd;
static int ready_calls, wrong_calls;
static void accept_one(loop_t *l, loop_fd_t fd, void *arg)
{
    (void)arg;
    if (fd == ready_fd) {
        closesocket(accept(fd, NULL, NULL));
        ready_calls++;
    } else {
        wrong_calls++;
    }
    loop_stop(l);
}
static void give_up(loop_t *l, void *arg) { (void)arg; loop_stop(l); }

static void one_ready_among(const char *backend, int n)
{
    loop_t *loop = loop_new(backend);
    SOCKET *s = calloc((size_t)n, sizeof *s);
    struct sockaddr_in sa = {0};
    int len = sizeof sa, watched = 0;
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < n; i++) {              /* listening: readable only on a connect */
        s[i] = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
        bind(s[i], (struct sockaddr *)&sa, sizeof sa);
        listen(s[i], 1);
        watched += loop_add_reader(loop, s[i], accept_one, NULL) == LOOP_OK;
    }
    ready_fd = s[n - 1];                       /* the last one added */
    getsockname(ready_fd, (struct sockaddr *)&sa, &len);
    SOCKET c = nb_connect(ntohs(sa.sin_port));
    ready_calls = wrong_calls = 0;
    loop_call_later(loop, 3000, give_up, NULL);
    DWORD t0 = GetTickCount();
    int rc = loop_run(loop);
    printf("FACT %s_one_ready_of_%d watched=%d rc=%d ready_calls=%d wrong_calls=%d ms=%lu\n",
           backend, n, watched, rc, ready_calls, wrong_calls, (unsigned long)(GetTickCount() - t0));
    loop_free(loop);
    closesocket(c);
    for (int i = 0; i < n; i++)
        closesocket(s[i]);
    free(s);
}

/* The dead-fd rule (loop.h): a socket closed while watched is reported once,
 * then forgotten; the other watched socket still fires. */
static int dead_calls, other_calls;
static void on_dead(loop_t *l, loop_fd_t fd, void *arg)
{
    char c;
    (void)l; (void)arg;
    dead_calls += recv(fd, &c, 1, 0) < 0;          /* the error is the caller's to meet */
}
static void on_other(loop_t *l, loop_fd_t fd, void *arg)
{
    char c;
    (void)l; (void)arg;
    other_calls += recv(fd, &c, 1, 0) == 1;
}

static void closed_while_watched(const char *backend)
{
    SOCKET a, b, c, d;
    u_long on = 1;
    px_tcp_pair(&a, &b);
    px_tcp_pair(&c, &d);
    ioctlsocket(c, FIONBIO, &on);                  /* a false report must not hang recv */
    loop_t *loop = loop_new(backend);
    dead_calls = other_calls = 0;
    loop_add_reader(loop, a, on_dead, NULL);
    loop_add_reader(loop, c, on_other, NULL);
    closesocket(a);                                /* the caller's bug: still watched */
    send(d, "y", 1, 0);
    loop_call_later(loop, 300, give_up, NULL);
    int rc = loop_run(loop);
    int gone = loop_remove_reader(loop, a) == LOOP_ENOENT;
    printf("FACT %s_closed_while_watched run=%d dead_calls=%d forgotten=%d other_fired=%d\n",
           backend, rc, dead_calls, gone, other_calls);
    loop_free(loop);
    closesocket(b); closesocket(c); closesocket(d);
}

int main(int argc, char **argv)
{
    WSADATA wsa;
    if (argc != 3) {
        fprintf(stderr, "usage: %s SERVER_PORT REFUSED_PORT\n", argv[0]);
        return 2;
    }
    WSAStartup(MAKEWORD(2, 2), &wsa);
    unsigned short refused = (unsigned short)atoi(argv[2]);  /* SERVER_PORT: kept, unused */
    printf("FACT fd_setsize %d\n", FD_SETSIZE);
    wsapoll_refused_connect(refused);
    select_refused_connect(refused);
    wsapoll_pollpri();
    backend_limit("select", FD_SETSIZE + 1);
    backend_limit("wsapoll", 1000);
    one_ready_among("select", FD_SETSIZE);
    one_ready_among("wsapoll", 1000);
    closed_while_watched("select");
    closed_while_watched("wsapoll");
    fflush(stdout);
    WSACleanup();
    return 0;
}
