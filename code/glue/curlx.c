/* The libcurl glue: libcurl's socket and timer requests onto loop.h. */
#include "curlx.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct curlx {
    loop_t *loop;
    CURLM *multi;
    uint64_t timer;          /* the one libcurl timer, 0 when unset */
    uint64_t tick;           /* CURLX_TICK_1S's timer, 0 when unset */
    unsigned flags;
    CURLMcode mcode;         /* the first error libcurl returned */
    size_t refusals;         /* socket requests the loop refused */
    curlx_done_cb done;
    void *arg;
    CURL **live;             /* transfers added and not done, to abort them */
    size_t nlive, cap;
    curlx_trace_cb trace;
    void *trace_arg;
    int depth;               /* glue frames on the stack: libcurl or a done callback may run */
    int free_asked;          /* curlx_free() was called inside one: free on the way out */
    int freeing;
    char err[320];
};

static void trace(curlx_t *cx, const char *fmt, ...)
{
    char line[400];               /* "ignored: " and the loop's whole message */
    va_list ap;
    if (!cx->trace)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    cx->trace(line, cx->trace_arg);
}

static void finish(curlx_t *cx, CURL *easy, CURLcode result)
{
    /* Newest first: a transfer that ends soon after it was added is found at
     * once, however many long-lived ones sit at the front (10,000 idle
     * connections beside a few busy ones: ch09). Removal swaps in the last. */
    size_t i = cx->nlive;
    while (i > 0 && cx->live[i - 1] != easy)
        i--;
    if (i == 0)
        return;
    cx->live[i - 1] = cx->live[--cx->nlive];
    curl_multi_remove_handle(cx->multi, easy);
    cx->done(easy, result, cx->arg);
}

/* tag::curlx_check_done */
static void check_done(curlx_t *cx)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(cx->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;   /* msg dies with remove_handle */
        finish(cx, easy, msg->data.result);
    }
    if (cx->nlive == 0)
        loop_stop(cx->loop);             /* like asyncio's run_until_complete */
}
/* end::curlx_check_done */

/* The loop refused a socket: libcurl has aborted every transfer, so end them. */
static void abort_all(curlx_t *cx, CURLMcode mc)
{
    if (cx->mcode == CURLM_OK)
        cx->mcode = mc;
    if (!cx->err[0])
        snprintf(cx->err, sizeof cx->err, "curl_multi_socket_action: %s",
                 curl_multi_strerror(mc));
    while (cx->nlive)
        finish(cx, cx->live[cx->nlive - 1], CURLE_ABORTED_BY_CALLBACK);
}

/* tag::curlx_action */
static void action(curlx_t *cx, curl_socket_t fd, int ev)
{
    int running;
    cx->depth++;                         /* a done callback may call curlx_free() */
    CURLMcode mc = curl_multi_socket_action(cx->multi, fd, ev, &running);
    if (mc != CURLM_OK)
        abort_all(cx, mc);
    check_done(cx);
    if (--cx->depth == 0 && cx->free_asked)
        curlx_free(cx);                  /* now nothing below us uses cx */
}

static void on_readable(loop_t *l, loop_fd_t fd, void *cx)
{
    (void)l;
    action(cx, (curl_socket_t)fd, CURL_CSELECT_IN);
}

static void on_writable(loop_t *l, loop_fd_t fd, void *cx)
{
    (void)l;
    action(cx, (curl_socket_t)fd, CURL_CSELECT_OUT);
}

static void on_timeout(loop_t *l, void *arg)
{
    curlx_t *cx = arg;
    (void)l;
    cx->timer = 0;
    trace(cx, "timeout fired");
    action(cx, CURL_SOCKET_TIMEOUT, 0);
}
/* end::curlx_action */

/* CURLX_TICK_1S: curl_cffi 0.5.x's forced timeout, every second. */
static void on_tick(loop_t *l, void *arg)
{
    curlx_t *cx = arg;
    cx->tick = cx->nlive ? loop_call_later(l, 1000, on_tick, cx) : 0;
    trace(cx, "tick");
    action(cx, CURL_SOCKET_TIMEOUT, 0);
}

/* tag::curlx_on_socket */
/* CURLMOPT_SOCKETFUNCTION: what libcurl wants watched on one socket. */
static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *sockp)
{
    static const char *names[] = {"NONE", "IN", "OUT", "INOUT", "REMOVE"};
    curlx_t *cx = userp;
    loop_fd_t fd = (loop_fd_t)s;
    int rc = LOOP_OK;
    (void)easy; (void)sockp;
    trace(cx, "socket %ld %s", (long)s, names[what]);
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        rc = loop_add_reader(cx->loop, fd, on_readable, cx);
    else
        loop_remove_reader(cx->loop, fd);       /* unknown fd: harmless */
    if (rc == LOOP_OK && (what == CURL_POLL_OUT || what == CURL_POLL_INOUT))
        rc = loop_add_writer(cx->loop, fd, on_writable, cx);
    else
        loop_remove_writer(cx->loop, fd);
    /* CURL_POLL_REMOVE: stop watching; libcurl may keep the socket open. */
    if (rc != LOOP_OK) {
        cx->refusals++;
        snprintf(cx->err, sizeof cx->err, "%s loop cannot watch socket %ld: %s",
                 loop_name(cx->loop), (long)s, loop_error(cx->loop));
        if (cx->flags & CURLX_VOID_CALLBACK) {  /* curl_cffi 0.5.x: printed, not returned */
            trace(cx, "ignored: %s", cx->err);
            return 0;
        }
        return -1;                              /* libcurl aborts the transfers */
    }
    return 0;
}
/* end::curlx_on_socket */

/* tag::curlx_on_timer */
/* CURLMOPT_TIMERFUNCTION: only schedule; libcurl must not be called from here. */
static int on_timer(CURLM *multi, long ms, void *userp)
{
    curlx_t *cx = userp;
    (void)multi;
    trace(cx, "timer %ld", ms);
    if (cx->timer)
        loop_cancel(cx->loop, cx->timer);
    cx->timer = 0;
    if (ms < 0)                                 /* -1: delete the timer */
        return 0;
    cx->timer = loop_call_later(cx->loop, ms, on_timeout, cx);
    return cx->timer ? 0 : -1;
}
/* end::curlx_on_timer */

/* The readiness loops this build has beside its proactor: the fixes to name. */
#if defined(_WIN32)
#define CURLX_BRIDGES "a bridge loop (a selector thread, or AFD poll; chapter 7)"
#elif defined(LOOP_HAVE_URING)
#define CURLX_BRIDGES "the uring-poll loop (io_uring's POLL_ADD; chapter 8)"
#else
#define CURLX_BRIDGES "a reactor loop by name (epoll, poll, select)"
#endif

/* tag::curlx_attach */
curlx_t *curlx_attach(loop_t *loop, curlx_done_cb done, void *arg,
                      unsigned flags, char *err, size_t errlen)
{
    if (!(loop_caps(loop) & LOOP_CAP_FD_WATCH) && !(flags & CURLX_FORCE)) {
        snprintf(err, errlen, "the '%s' loop is a proactor: it cannot watch "
                 "libcurl's sockets (add_reader/add_writer are not supported). "
                 "Fixes: loop_policy_set(LOOP_POLICY_SELECTOR), the twin of "
                 "asyncio's WindowsSelectorEventLoopPolicy; or " CURLX_BRIDGES,
                 loop_name(loop));
        return NULL;
    }
    /* end::curlx_attach */
    curlx_t *cx = calloc(1, sizeof *cx);
    if (!cx || !(cx->multi = curl_multi_init())) {
        snprintf(err, errlen, "out of memory");
        free(cx);
        return NULL;
    }
    cx->loop = loop;
    cx->done = done;
    cx->arg = arg;
    cx->flags = flags;
    curl_multi_setopt(cx->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(cx->multi, CURLMOPT_SOCKETDATA, cx);
    curl_multi_setopt(cx->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(cx->multi, CURLMOPT_TIMERDATA, cx);
    return cx;
}

CURLMcode curlx_add(curlx_t *cx, CURL *easy)
{
    if (cx->nlive == cx->cap) {
        size_t cap = cx->cap ? cx->cap * 2 : 16;
        CURL **p = realloc(cx->live, cap * sizeof *p);
        if (!p)
            return CURLM_OUT_OF_MEMORY;
        cx->live = p;
        cx->cap = cap;
    }
    CURLMcode mc = curl_multi_add_handle(cx->multi, easy);
    if (mc == CURLM_OK)
        cx->live[cx->nlive++] = easy;
    if (mc == CURLM_OK && (cx->flags & CURLX_TICK_1S) && !cx->tick)
        cx->tick = loop_call_later(cx->loop, 1000, on_tick, cx);
    return mc;
}

size_t curlx_pending(const curlx_t *cx) { return cx->nlive; }
const char *curlx_error(const curlx_t *cx) { return cx->err; }
CURLMcode curlx_mcode(const curlx_t *cx) { return cx->mcode; }
size_t curlx_refusals(const curlx_t *cx) { return cx->refusals; }
CURLM *curlx_multi(curlx_t *cx) { return cx->multi; }

void curlx_trace(curlx_t *cx, curlx_trace_cb cb, void *arg)
{
    cx->trace = cb;
    cx->trace_arg = arg;
}

/* Cleanup may call on_socket (REMOVE for cached connections): keep cx valid. */
void curlx_free(curlx_t *cx)
{
    if (!cx || cx->freeing)
        return;                          /* a done callback during the free below */
    if (cx->depth > 0) {                 /* called from a done callback: the glue's */
        cx->free_asked = 1;              /* frames still use cx; action() frees it */
        return;
    }
    cx->freeing = 1;
    while (cx->nlive)
        finish(cx, cx->live[cx->nlive - 1], CURLE_ABORTED_BY_CALLBACK);
    curl_multi_cleanup(cx->multi);
    if (cx->timer)
        loop_cancel(cx->loop, cx->timer);
    if (cx->tick)
        loop_cancel(cx->loop, cx->tick);
    free(cx->live);
    free(cx);
}
