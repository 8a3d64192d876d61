/* The backend-independent half of the loop: fd table, timers, dispatch. */
#include "loop_impl.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _WIN32
#include <windows.h>
#else
#include <time.h>
#include <fcntl.h>
#include <errno.h>
#include <sys/stat.h>
#endif

#ifdef __linux__
#define LOOP_HAVE_EPOLL
#endif
#ifdef _WIN32
#define LOOP_HAVE_IOCP
#endif

extern const struct loop_backend loop_backend_select;
extern const struct loop_backend loop_backend_poll;
#ifdef LOOP_HAVE_EPOLL
extern const struct loop_backend loop_backend_epoll;
#endif
#ifdef LOOP_HAVE_URING
extern const struct loop_backend loop_backend_uring_poll;
extern const struct loop_backend loop_backend_uring;
#endif
#ifdef LOOP_HAVE_IOCP
extern const struct loop_backend loop_backend_iocp;
extern const struct loop_backend loop_backend_iocp_thread;
extern const struct loop_backend loop_backend_iocp_afd;
extern const struct loop_backend loop_backend_iocp_event;
#endif

/* Best first: loop_new(NULL) under the selector policy takes the first.
 * On Windows that is select, as in asyncio's WindowsSelectorEventLoop. */
static const struct loop_backend *const backends[] = {
#ifdef LOOP_HAVE_EPOLL
    &loop_backend_epoll,
#endif
#ifdef LOOP_HAVE_URING
    &loop_backend_uring_poll,
#endif
#ifdef _WIN32
    &loop_backend_select,
    &loop_backend_poll,
#ifdef LOOP_HAVE_IOCP
    &loop_backend_iocp,
    &loop_backend_iocp_thread,
    &loop_backend_iocp_afd,
    &loop_backend_iocp_event,
#endif
#else
    &loop_backend_poll,
    &loop_backend_select,
#endif
#ifdef LOOP_HAVE_URING
    &loop_backend_uring,
#endif
    NULL,
};

static int policy = LOOP_POLICY_DEFAULT;

uint64_t loop_now_ms(void)
{
#ifdef _WIN32
    return GetTickCount64();
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
#endif
}

int loop_fail(loop_t *loop, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(loop->err, sizeof loop->err, fmt, ap);
    va_end(ap);
    return code;
}

const char *loop_strerror(int code)
{
    switch (code) {
    case LOOP_OK:      return "ok";
    case LOOP_ENOTSUP: return "not supported by this backend";
    case LOOP_ERANGE:  return "descriptor out of the backend's range";
    case LOOP_ENOMEM:  return "out of memory";
    case LOOP_ESYS:    return "system call failed";
    case LOOP_ENOENT:  return "not registered";
    case LOOP_EINVAL:  return "invalid argument";
    default:           return "unknown error";
    }
}

const char *const *loop_backends(void)
{
    static const char *names[sizeof backends / sizeof backends[0]];
    for (size_t i = 0; backends[i]; i++)
        names[i] = backends[i]->name;
    return names;
}

void loop_policy_set(int p) { policy = p; }

static const struct loop_backend *first_with(unsigned caps)
{
    for (size_t i = 0; backends[i]; i++)
        if (backends[i]->caps & caps)
            return backends[i];
    return NULL;
}

const char *loop_policy_backend(void)
{
    int p = policy;
#ifdef _WIN32
    if (p == LOOP_POLICY_DEFAULT)       /* as asyncio since Python 3.8 */
        p = LOOP_POLICY_PROACTOR;
#endif
    const struct loop_backend *be = first_with(
        p == LOOP_POLICY_PROACTOR ? LOOP_CAP_COMPLETION : LOOP_CAP_FD_WATCH);
    return be ? be->name : NULL;
}

static int faulty(loop_t *loop, int op)
{
    return loop->fault_op == op && --loop->fault_left == 0;
}

static int faulty_wait(loop_t *loop, long timeout_ms)
{
    if (faulty(loop, LOOP_FAULT_WAIT))
        return loop_fail(loop, LOOP_ESYS, "the wait failed (injected by LOOP_FAULT)");
    return loop->real_be->wait(loop, timeout_ms);
}

/* Why fd cannot be watched, or NULL: not open, or a regular file or a
 * directory (poll and select call it always ready, epoll refuses it with
 * EPERM: one rule on every backend, add_reader refuses it). One fstat tells
 * both: it fails with EBADF on a closed fd. A system call per new watch;
 * libcurl re-announces a reused connection's socket for every transfer. */
static const char *loop_fd_unwatchable(loop_fd_t fd)
{
#ifdef _WIN32
    return loop_fd_is_open(fd) ? NULL : "is not open";   /* Winsock watches sockets only */
#else
    struct stat st;
    if (fstat(fd, &st) != 0)
        return errno == EBADF ? "is not open" : NULL;
    return S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)
               ? "is a file or a directory: it is always ready, and epoll refuses it" : NULL;
#endif
}

int loop_fd_is_open(loop_fd_t fd)
{
#ifdef _WIN32
    int type = 0, len = sizeof type;
    return getsockopt(fd, SOL_SOCKET, SO_TYPE, (char *)&type, &len) == 0;
#else
    return fcntl(fd, F_GETFD) != -1 || errno != EBADF;
#endif
}

/* LOOP_FAULT=add:N, timer:N or wait:N: the Nth loop_add_reader/writer,
 * loop_call_later or backend wait of each loop fails as if out of memory (or,
 * for wait, as a failed system call). For tests of what the glue and the
 * programs do then; unset, it costs one comparison per call. */
static void fault_setup(loop_t *loop)
{
    static const char *const ops[] = {"", "add", "timer", "wait"};
    const char *f = getenv("LOOP_FAULT");
    char op[8];
    long n = 0;
    if (!f || sscanf(f, "%7[a-z]:%ld", op, &n) != 2 || n < 1)
        return;
    for (int i = 1; i < 4; i++)
        if (!strcmp(op, ops[i])) {
            loop->fault_op = i;
            loop->fault_left = n;
        }
    if (loop->fault_op == LOOP_FAULT_WAIT) {   /* wrap the backend's wait */
        loop->real_be = loop->be;
        loop->fault_be = *loop->be;
        loop->fault_be.wait = faulty_wait;
        loop->be = &loop->fault_be;
    }
}

loop_t *loop_new(const char *name)
{
    if (!name && !(name = loop_policy_backend())) {
        fprintf(stderr, "loop: no backend in this build fits the policy\n");
        return NULL;
    }
    const struct loop_backend *be = NULL;
    for (size_t i = 0; backends[i] && !be; i++)
        if (strcmp(backends[i]->name, name) == 0)
            be = backends[i];
    if (!be) {
        fprintf(stderr, "loop: unknown backend '%s'; this build has:", name);
        for (size_t i = 0; backends[i]; i++)
            fprintf(stderr, " %s", backends[i]->name);
        fprintf(stderr, "\n");
        return NULL;
    }
    loop_t *loop = calloc(1, sizeof *loop);
    if (!loop)
        return NULL;
    loop->be = be;
    loop->next_timer = 1;
    fault_setup(loop);
    loop->nbuckets = 64;
    loop->buckets = calloc(loop->nbuckets, sizeof *loop->buckets);
    if (!loop->buckets || be->init(loop) != LOOP_OK) {
        fprintf(stderr, "loop: %s: %s\n", name, loop->err[0] ? loop->err : "out of memory");
        free(loop->buckets);
        free(loop);
        return NULL;
    }
    return loop;
}

void loop_free(loop_t *loop)
{
    if (!loop)
        return;
    loop->be->fini(loop);
    for (size_t i = 0; i < loop->nbuckets; i++)
        for (struct loop_watch *w = loop->buckets[i], *next; w; w = next) {
            next = w->next;
            free(w);
        }
    for (struct loop_timer *t = loop->timers, *next; t; t = next) {
        next = t->next;
        free(t);
    }
    free(loop->buckets);
    free(loop->fired);
    free(loop->fired_gen);
    free(loop);
}

unsigned loop_caps(const loop_t *loop) { return loop->be->caps; }
const char *loop_name(const loop_t *loop) { return loop->be->name; }
const char *loop_error(const loop_t *loop) { return loop->err; }

int loop_reserve(void *arrp, size_t *cap, size_t need, size_t elem)
{
    void *arr, *grown;
    if (need <= *cap)
        return LOOP_OK;
    size_t c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    memcpy(&arr, arrp, sizeof arr);
    if (!(grown = realloc(arr, c * elem)))
        return LOOP_ENOMEM;
    memcpy(arrp, &grown, sizeof grown);
    *cap = c;
    return LOOP_OK;
}

/* ---- the fd table: a chained hash, since a Windows SOCKET is no small int */

static size_t bucket_of(const loop_t *loop, loop_fd_t fd)
{
    return (size_t)(((uint64_t)fd * 0x9E3779B97F4A7C15ull) >> 32) & (loop->nbuckets - 1);
}

struct loop_watch *loop_watch_find(const loop_t *loop, loop_fd_t fd)
{
    struct loop_watch *w = loop->buckets[bucket_of(loop, fd)];
    while (w && w->fd != fd)
        w = w->next;
    return w;
}

static int table_grow(loop_t *loop)
{
    size_t old_n = loop->nbuckets;
    struct loop_watch **old = loop->buckets;
    struct loop_watch **nb = calloc(old_n * 2, sizeof *nb);
    if (!nb)
        return LOOP_ENOMEM;
    loop->buckets = nb;
    loop->nbuckets = old_n * 2;
    for (size_t i = 0; i < old_n; i++)
        for (struct loop_watch *w = old[i], *next; w; w = next) {
            next = w->next;
            size_t b = bucket_of(loop, w->fd);
            w->next = nb[b];
            nb[b] = w;
        }
    free(old);
    return LOOP_OK;
}

static struct loop_watch *watch_get(loop_t *loop, loop_fd_t fd)
{
    struct loop_watch *w = loop_watch_find(loop, fd);
    if (w)
        return w;
    if (loop_reserve(&loop->fired, &loop->fired_cap, loop->nwatch + 1, sizeof *loop->fired) ||
        loop_reserve(&loop->fired_gen, &loop->fired_gen_cap, loop->nwatch + 1, sizeof *loop->fired_gen))
        return NULL;
    if (loop->nwatch >= loop->nbuckets && table_grow(loop) != LOOP_OK)
        return NULL;
    if (!(w = calloc(1, sizeof *w)))
        return NULL;
    size_t b = bucket_of(loop, fd);
    w->fd = fd;
    w->gen = ++loop->next_gen;
    w->next = loop->buckets[b];
    loop->buckets[b] = w;
    loop->nwatch++;
    return w;
}

static void watch_drop(loop_t *loop, struct loop_watch *gone)
{
    struct loop_watch **p = &loop->buckets[bucket_of(loop, gone->fd)];
    while (*p != gone)
        p = &(*p)->next;
    *p = gone->next;
    loop->nwatch--;
    free(gone);
}

/* A new watch of fd for bit. epoll may still hold fd from a dropped watch:
 * then one epoll_ctl both checks fd and sets the interest (its rewatch).
 * Else one fstat checks it (loop_fd_unwatchable), and the backend is told. */
static int watch_new(loop_t *loop, loop_fd_t fd, unsigned bit, struct loop_watch **out)
{
    struct loop_watch *w = watch_get(loop, fd);
    if (!w)
        return loop_fail(loop, LOOP_ENOMEM, "out of memory");
    loop->made++;
    int rc = LOOP_OK;
    if (loop->be->rewatch && loop->be->rewatch(loop, fd, bit) == LOOP_OK) {
        loop->rewatched++;
    } else {
        const char *why = loop_fd_unwatchable(fd);
        rc = why ? loop_fail(loop, LOOP_EINVAL, "fd %ld %s", (long)fd, why)
                 : loop->be->set(loop, fd, 0, bit);
    }
    if (rc != LOOP_OK) {
        watch_drop(loop, w);
        return rc;
    }
    *out = w;
    return LOOP_OK;
}

/* tag::loop_add */
static int watch_add(loop_t *loop, loop_fd_t fd, unsigned bit,
                     loop_io_cb cb, void *arg)
{
    if (!(loop->be->caps & LOOP_CAP_FD_WATCH))
        return loop_fail(loop, LOOP_ENOTSUP, "%s is a proactor: it completes "
                         "operations and cannot watch fd readiness", loop->be->name);
    if (!cb)
        return loop_fail(loop, LOOP_EINVAL, "NULL callback");
    if (faulty(loop, LOOP_FAULT_ADD))
        return loop_fail(loop, LOOP_ENOMEM, "out of memory (injected by LOOP_FAULT)");
    struct loop_watch *w = loop_watch_find(loop, fd);   /* its mask is never 0 */
    int rc = w ? loop->be->set(loop, fd, w->mask, w->mask | bit)
               : watch_new(loop, fd, bit, &w);           /* closed fds, files refused */
    if (rc != LOOP_OK)
        return rc;
    w->mask |= bit;
    if (bit == LOOP_READABLE) { w->rcb = cb; w->rarg = arg; }
    else                      { w->wcb = cb; w->warg = arg; }
    return LOOP_OK;
}
/* end::loop_add */

static int watch_remove(loop_t *loop, loop_fd_t fd, unsigned bit)
{
    struct loop_watch *w = loop_watch_find(loop, fd);
    if (!w || !(w->mask & bit))
        return LOOP_ENOENT;          /* asyncio returns False; never a crash */
    int rc = loop->be->set(loop, fd, w->mask, w->mask & ~bit);
    w->mask &= ~bit;
    if (w->mask == 0)
        watch_drop(loop, w);
    return rc;
}

int loop_add_reader(loop_t *l, loop_fd_t fd, loop_io_cb cb, void *arg)
{
    return watch_add(l, fd, LOOP_READABLE, cb, arg);
}

int loop_add_writer(loop_t *l, loop_fd_t fd, loop_io_cb cb, void *arg)
{
    return watch_add(l, fd, LOOP_WRITABLE, cb, arg);
}

int loop_remove_reader(loop_t *l, loop_fd_t fd) { return watch_remove(l, fd, LOOP_READABLE); }
int loop_remove_writer(loop_t *l, loop_fd_t fd) { return watch_remove(l, fd, LOOP_WRITABLE); }

/* ---- timers: a sorted list; loops here hold a handful at most */

uint64_t loop_call_later(loop_t *loop, long ms, loop_timer_cb cb, void *arg)
{
    struct loop_timer *t = faulty(loop, LOOP_FAULT_TIMER) ? NULL : calloc(1, sizeof *t);
    if (!t || !cb) {
        free(t);
        loop_fail(loop, cb ? LOOP_ENOMEM : LOOP_EINVAL, cb ? "out of memory for a timer"
                  : "NULL callback");
        return 0;
    }
    t->id = loop->next_timer++;
    t->due = loop_now_ms() + (uint64_t)(ms > 0 ? ms : 0);
    t->cb = cb;
    t->arg = arg;
    struct loop_timer **p = &loop->timers;
    while (*p && (*p)->due <= t->due)     /* equal due times keep FIFO order */
        p = &(*p)->next;
    t->next = *p;
    *p = t;
    return t->id;
}

int loop_cancel(loop_t *loop, uint64_t id)
{
    for (struct loop_timer **p = &loop->timers; *p; p = &(*p)->next)
        if ((*p)->id == id) {
            struct loop_timer *t = *p;
            *p = t->next;
            free(t);
            return LOOP_OK;
        }
    return LOOP_ENOENT;
}

static long next_timeout(const loop_t *loop)
{
    if (!loop->timers)
        return -1;
    uint64_t now = loop_now_ms(), d = loop->timers->due > now ? loop->timers->due - now : 0;
    return d > INT_MAX ? INT_MAX : (long)d;   /* backends wait in an int of ms: clamp, never wrap */
}

/* Timers added by a callback wait for the next pass: no endless 0 ms loop. */
static void run_timers(loop_t *loop)
{
    uint64_t now = loop_now_ms(), limit = loop->next_timer;
    while (loop->timers && loop->timers->due <= now && loop->timers->id < limit) {
        struct loop_timer *t = loop->timers;
        loop->timers = t->next;
        loop_timer_cb cb = t->cb;
        void *arg = t->arg;
        free(t);
        cb(loop, arg);
    }
}

/* The watch an event was reported for, if it is still there: a callback may
 * have removed it, and even watched a new fd that got the same number. */
static struct loop_watch *still(const loop_t *loop, int i)
{
    struct loop_watch *w = loop_watch_find(loop, loop->fired[i].fd);
    return w && w->gen == loop->fired_gen[i] ? w : NULL;
}

/* tag::loop_dispatch */
/* A callback may remove any watch, so look the fd up again before each call. */
static void dispatch(loop_t *loop, int n)
{
    for (int i = 0; i < n; i++) {
        loop_fd_t fd = loop->fired[i].fd;
        unsigned ev = loop->fired[i].mask;
        struct loop_watch *w = still(loop, i);
        if (w && (ev & w->mask & LOOP_READABLE)) {
            loop->callbacks++;
            w->rcb(loop, fd, w->rarg);
        }
        w = still(loop, i);
        if (w && (ev & w->mask & LOOP_WRITABLE)) {
            loop->callbacks++;
            w->wcb(loop, fd, w->warg);
        }
        if ((ev & LOOP_DEAD) && still(loop, i)) {   /* once, then forgotten */
            loop_remove_reader(loop, fd);
            loop_remove_writer(loop, fd);
        }
    }
}
/* end::loop_dispatch */

/* Which watch each event is for, before any callback can change the table. */
static void stamp(loop_t *loop, int n)
{
    for (int i = 0; i < n; i++) {
        struct loop_watch *w = loop_watch_find(loop, loop->fired[i].fd);
        loop->fired_gen[i] = w ? w->gen : 0;
    }
}

/* tag::loop_run */
int loop_run(loop_t *loop)
{
    loop->stopped = 0;
    while (!loop->stopped && (loop->nwatch > 0 || loop->timers || loop->busy)) {
        int n = loop->be->wait(loop, next_timeout(loop));
        loop->waits++;
        if (n < 0)
            return n;
        stamp(loop, n);
        dispatch(loop, n);
        run_timers(loop);
    }
    return LOOP_OK;
}
/* end::loop_run */

void loop_stop(loop_t *loop) { loop->stopped = 1; }

void loop_stats(const loop_t *loop, struct loop_stats *st)
{
    st->waits = loop->waits;
    st->callbacks = loop->callbacks;
    st->helper_waits = loop->helper_waits;
    st->handed = loop->handed;
    st->made = loop->made;
    st->rewatched = loop->rewatched;
}
