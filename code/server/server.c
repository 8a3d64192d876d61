/* The local HTTP server: libmicrohttpd with one internal polling thread and
 * one waker thread, whatever the number of connections. A delayed, dripping
 * or stalled reply does not sleep in a thread: its connection is suspended
 * (MHD_suspend_connection) and the waker resumes it when it is due.
 *
 * libmicrohttpd does not watch a suspended connection's socket, so it cannot
 * see a client hang up. Once a second the waker polls the suspended sockets
 * itself and resumes those whose peer has gone, marked "gone": the reply ends
 * there and the descriptor is freed, not held for the rest of a 60 s stall. */
#include "server.h"
#include "pattern.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

enum { CHECK_MS = 1000 };            /* how often the waker looks for clients that left */

struct due {
    uint64_t at;                      /* ms, CLOCK_MONOTONIC */
    struct MHD_Connection *c;
    int fd;                           /* its socket, polled while it is suspended */
    int *gone;                        /* set when the client has hung up */
};

struct srv {
    struct MHD_Daemon *d;
    unsigned short port;
    pthread_t waker;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct due *heap;                 /* suspended connections, earliest first */
    size_t n, cap;
    int stopping;                     /* under mu */
    unsigned capacity;                /* connections at once (the open-file limit's share) */
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Move heap[i] up to where its time belongs (a smaller time only). */
static void sift_up(srv_t *s, size_t i)
{
    struct due d = s->heap[i];
    while (i > 0 && s->heap[(i - 1) / 2].at > d.at) {
        s->heap[i] = s->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    s->heap[i] = d;
}

/* Suspend @c until @at; the caller then returns to MHD at once. -1 when it
 * cannot wait (the server is stopping, or no memory): answer now instead.
 * The check of stopping matters: a connection the stopping waker resumed can
 * come back here, and one suspended after the waker has gone would still be
 * suspended in MHD_stop_daemon, which then aborts the process. */
static int sleep_until(srv_t *s, struct MHD_Connection *c, uint64_t at, int *gone)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    pthread_mutex_lock(&s->mu);
    if (s->stopping) {
        pthread_mutex_unlock(&s->mu);
        return -1;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        struct due *h = realloc(s->heap, cap * sizeof *h);
        if (!h) {
            pthread_mutex_unlock(&s->mu);
            return -1;
        }
        s->heap = h;
        s->cap = cap;
    }
    MHD_suspend_connection(c);
    s->heap[s->n] = (struct due){at, c, ci ? ci->connect_fd : -1, gone};
    sift_up(s, s->n++);
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

static struct due pop(srv_t *s)
{
    struct due top = s->heap[0], last = s->heap[--s->n];
    size_t i = 0;
    for (;;) {                        /* sift down */
        size_t k = 2 * i + 1;
        if (k >= s->n)
            break;
        if (k + 1 < s->n && s->heap[k + 1].at < s->heap[k].at)
            k++;
        if (s->heap[k].at >= last.at)
            break;
        s->heap[i] = s->heap[k];
        i = k;
    }
    if (s->n)
        s->heap[i] = last;
    return top;
}

/* The suspended replies whose client has hung up (a FIN or a reset on the
 * socket) are marked gone and made due now. Under mu. A sift up only moves
 * entries at or above i, so the ones after i are still where poll saw them. */
static void find_gone(srv_t *s)
{
    struct pollfd *p = malloc(s->n * sizeof *p);
    if (!p)
        return;                       /* they end when due, as before */
    for (size_t i = 0; i < s->n; i++)
        p[i] = (struct pollfd){.fd = s->heap[i].fd, .events = POLLRDHUP};
    if (poll(p, (nfds_t)s->n, 0) > 0)
        for (size_t i = 0; i < s->n; i++)
            if (p[i].revents & (POLLRDHUP | POLLHUP | POLLERR)) {
                *s->heap[i].gone = 1;
                s->heap[i].at = 0;
                sift_up(s, i);
            }
    free(p);
}

/* The waker: resumes each suspended connection when it is due (all of them
 * when the server stops), and every CHECK_MS those whose client has gone. */
static void *waker(void *arg)
{
    srv_t *s = arg;
    uint64_t check = 0;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        uint64_t now = now_ms();
        if (s->n && now >= check) {
            find_gone(s);
            check = now + CHECK_MS;
        }
        while (s->n && (s->stopping || s->heap[0].at <= now))
            MHD_resume_connection(pop(s).c);
        if (s->stopping)
            break;
        if (!s->n) {
            pthread_cond_wait(&s->cv, &s->mu);
        } else {
            struct timespec ts;
            uint64_t until = s->heap[0].at < check ? s->heap[0].at : check;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            uint64_t ns = (uint64_t)ts.tv_nsec + (until > now ? until - now : 0) * 1000000u;
            ts.tv_sec += (time_t)(ns / 1000000000u);
            ts.tv_nsec = (long)(ns % 1000000000u);
            pthread_cond_timedwait(&s->cv, &s->mu, &ts);
        }
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

enum body_kind { BODY_BYTES, BODY_DRIP, BODY_STALL, BODY_ABORT };

struct body {
    srv_t *srv;
    struct MHD_Connection *c;
    enum body_kind kind;
    size_t size;        /* the Content-Length announced */
    long ms;            /* drip: between bytes */
    uint64_t next;      /* drip: when the next byte is due; stall: when to give up */
    int gone;           /* the waker saw the client hang up */
};

static ssize_t body_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct body *b = cls;
    switch (b->kind) {
    case BODY_STALL:                            /* headers sent; then nothing */
        if (!b->gone && now_ms() < b->next && sleep_until(b->srv, b->c, b->next, &b->gone) == 0)
            return 0;
        return MHD_CONTENT_READER_END_WITH_ERROR;
    case BODY_ABORT:
        if (pos >= b->size / 2)
            return MHD_CONTENT_READER_END_WITH_ERROR;  /* close mid-body */
        if (max > b->size / 2 - pos)
            max = b->size / 2 - pos;
        break;
    case BODY_DRIP:
        if (b->gone)
            return MHD_CONTENT_READER_END_WITH_ERROR;
        if (now_ms() < b->next)
            return sleep_until(b->srv, b->c, b->next, &b->gone) == 0 ? 0
                                                                      : MHD_CONTENT_READER_END_WITH_ERROR;
        b->next = now_ms() + (uint64_t)b->ms;
        max = 1;
        break;
    case BODY_BYTES:
        break;
    }
    if (max > b->size - pos)
        max = b->size - pos;
    for (size_t i = 0; i < max; i++)
        buf[i] = pattern_byte(pos + i);
    return (ssize_t)max;
}

/* Near its connection limit the server asks each client to close after its
 * reply, as busy servers do: kept-alive connections would otherwise hold
 * every slot while new clients wait in the listen queue until they time out. */
static void close_when_full(struct MHD_Connection *c, srv_t *s, struct MHD_Response *r)
{
    const union MHD_ConnectionInfo *d = MHD_get_connection_info(c, MHD_CONNECTION_INFO_DAEMON);
    const union MHD_DaemonInfo *i =
        d ? MHD_get_daemon_info(d->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS) : NULL;
    if (i && i->num_connections >= s->capacity / 4 * 3)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
}

static enum MHD_Result reply_text(struct MHD_Connection *c, srv_t *s, unsigned code,
                                  const char *text)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "text/plain");
    close_when_full(c, s, r);
    enum MHD_Result ok = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result reply_body(struct MHD_Connection *c, srv_t *s,
                                  enum body_kind kind, size_t size, long ms)
{
    struct body *b = malloc(sizeof *b);
    if (!b)
        return MHD_NO;
    *b = (struct body){s, c, kind, size, ms, now_ms() + (uint64_t)(kind == BODY_STALL ? 60000 : ms), 0};
    struct MHD_Response *r = MHD_create_response_from_callback(
        size, kind == BODY_BYTES ? 32 * 1024 : 1024, body_read, b, free);
    MHD_add_response_header(r, "Content-Type", "application/octet-stream");
    close_when_full(c, s, r);
    enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ok;
}

/* A number in [0, 10^9] spelled in digits only ("+5", " 5", "5x" are not). */
static const char *digits(const char *p, long *v)
{
    long n = 0;
    const char *q = p;
    while (*q >= '0' && *q <= '9' && q - p < 10)
        n = n * 10 + (*q++ - '0');
    if (q == p || (*q >= '0' && *q <= '9'))
        return NULL;
    *v = n;
    return q;
}

/* Parse "/name", "/name/N" or "/name/N/M" exactly; anything else after the
 * name is a bad request (-1); another name is not this route (0). */
static int route(const char *url, const char *name, int nargs, long *a, long *b)
{
    size_t n = strlen(name);
    if (strncmp(url, name, n) != 0 || (url[n] != '/' && url[n] != '\0'))
        return 0;
    const char *p = url + n;
    long *args[2] = {a, b};
    for (int i = 0; i < nargs; i++)
        if (*p++ != '/' || !(p = digits(p, args[i])))
            return -1;
    return *p == '\0' ? 1 : -1;
}

/* The state of one request, kept across the access handler's calls. */
struct req {
    int delayed;        /* /delay: suspended once already */
    int gone;           /* the waker saw the client hang up */
};

static void request_done(void *cls, struct MHD_Connection *c, void **state,
                         enum MHD_RequestTerminationCode why)
{
    (void)cls; (void)c; (void)why;
    free(*state);
    *state = NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **state)
{
    srv_t *s = cls;
    struct req *q = *state;
    long a = 0, b = 0;
    int r;
    char msg[160];
    (void)version; (void)upload;
    if (!q) {                          /* headers only so far */
        if (!(*state = calloc(1, sizeof *q)))
            return MHD_NO;
        return MHD_YES;
    }
    if (*upload_size) {                /* a body nobody asked for: read and drop it */
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return reply_text(c, s, 405, "only GET and HEAD\n");
    if ((r = route(url, "/bytes", 1, &a, &b)) == 1 && a >= 0 && a <= (1L << 30))
        return reply_body(c, s, BODY_BYTES, (size_t)a, 0);
    if (r == 0 && (r = route(url, "/delay", 1, &a, &b)) == 1 && a >= 0 && a <= 60000) {
        if (!q->delayed++ && a > 0 && sleep_until(s, c, now_ms() + (uint64_t)a, &q->gone) == 0)
            return MHD_YES;            /* MHD calls us again when it is resumed */
        if (q->gone)
            return MHD_NO;             /* nobody to answer: MHD closes the connection */
        snprintf(msg, sizeof msg, "delayed %ld ms\n", a);
        return reply_text(c, s, 200, msg);
    }
    if (r == 0 && (r = route(url, "/drip", 2, &a, &b)) == 1 &&
        a >= 0 && a <= 100000 && b >= 0 && b <= 10000)
        return reply_body(c, s, BODY_DRIP, (size_t)a, b);
    if (r == 0 && (r = route(url, "/stall", 0, &a, &b)) == 1)
        return reply_body(c, s, BODY_STALL, 1024, 0);
    if (r == 0 && (r = route(url, "/abort", 0, &a, &b)) == 1)
        return reply_body(c, s, BODY_ABORT, 2000, 0);
    if (r == 0 && (r = route(url, "/status", 1, &a, &b)) == 1 && a >= 200 && a <= 599) {
        snprintf(msg, sizeof msg, "status %ld\n", a);
        return reply_text(c, s, (unsigned)a, msg);
    }
    if (r == 0) {
        snprintf(msg, sizeof msg, "no such route: %.80s (try /bytes/N /delay/MS "
                 "/drip/N/MS /stall /abort /status/CODE)\n", url);
        return reply_text(c, s, 404, msg);
    }
    snprintf(msg, sizeof msg, "bad parameter in %.80s\n", url);
    return reply_text(c, s, 400, msg);
}

/* The routes are plain ASCII: nothing is decoded, so "%2B5" or "1%00x" stay
 * as sent and are refused as bad parameters instead of turning into numbers. */
static size_t keep_escaped(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls; (void)c;
    return strlen(s);
}

/* What a fault raises in the thread that made it: never blocked. */
static const int sync_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS};

/* Connections at once: the open-file limit less a few descriptors for the
 * listening socket, libmicrohttpd's epoll and wake-up pipe, stdio. */
static unsigned capacity(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= 20000 + 32)
        return 20000;
    return rl.rlim_cur > 64 ? (unsigned)rl.rlim_cur - 32 : (unsigned)rl.rlim_cur / 2;
}

srv_t *srv_start(unsigned short port)
{
    srv_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    s->capacity = capacity();
    /* Signals are the program's: the threads started here (libmicrohttpd's
     * and the waker) inherit a mask that blocks them, so a SIGINT or SIGTERM
     * sent to the process reaches a thread that handles it. */
    sigset_t async, old;
    sigfillset(&async);
    for (int i = 0; i < (int)(sizeof sync_signals / sizeof *sync_signals); i++)
        sigdelset(&async, sync_signals[i]);
    pthread_sigmask(SIG_BLOCK, &async, &old);
    s->d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_ALLOW_SUSPEND_RESUME,
        port, NULL, NULL, on_request, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_CONNECTION_LIMIT, s->capacity,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)4096,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)8192,   /* small requests, many connections */
        MHD_OPTION_NOTIFY_COMPLETED, request_done, NULL,
        MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, NULL,
        MHD_OPTION_END);
    int started = s->d && pthread_create(&s->waker, NULL, waker, s) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!started) {
        fprintf(stderr, "server: cannot listen on 127.0.0.1:%u\n", port);
        if (s->d)
            MHD_stop_daemon(s->d);
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : port;
    return s;
}

unsigned short srv_port(const srv_t *s) { return s->port; }
unsigned srv_capacity(const srv_t *s) { return s->capacity; }

void srv_stop(srv_t *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;                   /* the waker resumes everyone, then ends */
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->waker, NULL);
    MHD_stop_daemon(s->d);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s->heap);
    free(s);
}
