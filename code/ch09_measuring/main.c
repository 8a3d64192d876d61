/* ch09: the benchmark driver: one workload on one runner, one CSV line out.
 * Usage: ch09 RUNNER [BACKEND] URL TOTAL INFLIGHT [HOLD_URL HOLD_N]   (make bench drives it)
 *   RUNNER: blocking | multi_poll | loop (with BACKEND) | uv (libcurl's multi-uv pattern)
 *   HOLD_URL HOLD_N (multi_poll and loop): first HOLD_N transfers of HOLD_URL (a
 *           reply that never comes in time) are started and left waiting; the
 *           clock starts once every one has sent its request, and they are
 *           ended when the TOTAL transfers are done. Many idle, a few busy.
 *   or:     ch09 idle BACKEND N ROUNDS   (no libcurl: the loop's own cost per
 *           iteration with N idle sockets watched and one always ready)
 * Keeps INFLIGHT transfers running until TOTAL have finished, reusing easy
 * handles (and so connections). Prints:
 *   runner,backend,total,inflight,ok,failed,wall_ms,rate_per_s,iterations,cpu_ms,rss_kb_per_transfer,note
 * and, for loop and idle, on stderr (counted after the set-up and warm-up):
 *   counts: W waits, H descriptors handed to the kernel (H/W per wait), M watches made, R rewatched
 * (M: add_reader or add_writer on an fd not watched until then, each one fstat, but R of
 * them: fds epoll still held, checked by one epoll_ctl instead; loop_stats in loop.h) */
#include "../jobs/cli.h"
#include "../glue/curlx.h"
#include "../loop/loop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

struct feed {
    const char *url;
    long total, inflight, started, ok, failed;
    uint64_t iterations;
    uint64_t handed;                      /* the loop runner: descriptors handed to the kernel */
    uint64_t made, rewatched;             /* and new watches made, and of them rewatched */
    const char *hold_url;                 /* HOLD_URL, or NULL */
    long hold, held_waiting, held_lost;   /* HOLD_N; how many sent their request; ended early */
    CURL **held;                          /* the held transfers still running, or NULL */
    loop_t *loop;                         /* the loop runner's loop: stopped at each phase's end */
    uint64_t t0, t1;                      /* the clock: start and stop (0: running), */
    double c0, c1;                        /* and the CPU then */
    char note[160];
};

static double cpu_ms(void);

static size_t discard(char *d, size_t s, size_t n, void *a) { (void)d; (void)a; return s * n; }

static CURL *easy_for(struct feed *f)
{
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, f->url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(e, CURLOPT_TIMEOUT, 120L);
    if (f->total <= f->inflight) {
        /* Every transfer has its own handle and its own connection: there is
         * nothing to reuse. Saying so keeps libcurl 7.88 out of its connection
         * cache, which it walks for each new transfer (ConnectionExists) and
         * each finished one (close_connect_only, extract_oldest): with 10,000
         * connections to one host that walk was half the CPU of every runner
         * (docs/figures/perf-10000-slow.txt). */
        curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    }
    f->started++;
    return e;
}

/* libcurl is about to send a held transfer's request: one more is waiting. */
static int held_sent(void *arg, char *ip, char *local_ip, int port, int local_port)
{
    struct feed *f = arg;
    (void)ip; (void)local_ip; (void)port; (void)local_port;
    if (++f->held_waiting == f->hold && f->loop)
        loop_stop(f->loop);
    return CURL_PREREQFUNC_OK;
}

/* A held transfer's CURLOPT_PRIVATE is its slot in f->held. */
static CURL *held_for(struct feed *f, long i)
{
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, f->hold_url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(e, CURLOPT_PRIVATE, &f->held[i]);
    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, held_sent);
    curl_easy_setopt(e, CURLOPT_PREREQDATA, f);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);   /* one connection each, never reused */
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    return e;
}

/* A held transfer ended: before the busy ones are done, that is a loss. */
static int held_end(struct feed *f, CURL *e, CURLcode rc)
{
    char *p = NULL;
    curl_easy_getinfo(e, CURLINFO_PRIVATE, &p);
    if (!f->held || p < (char *)f->held || p >= (char *)(f->held + f->hold))
        return 0;
    *(CURL **)(void *)p = NULL;
    if (f->held_waiting < f->hold && f->loop)   /* still setting up: stop, with the loss */
        loop_stop(f->loop);
    if (f->t1 == 0) {
        f->held_lost++;
        if (!f->note[0])
            snprintf(f->note, sizeof f->note, "a held transfer ended early: %s",
                     curl_easy_strerror(rc));
    }
    curl_easy_cleanup(e);
    return 1;
}

/* main starts the clock before the run and stops it after, unless the run
 * holds transfers: then it restarts once every held request has been sent and
 * stops when the TOTAL transfers are done, before the held ones are ended. */
static void clock_start(struct feed *f)
{
    f->t0 = loop_now_ms();
    f->c0 = cpu_ms();
}

static void clock_stop(struct feed *f)
{
    f->t1 = loop_now_ms();
    f->c1 = cpu_ms();
}

/* One finished: count it; start the next on the same handle, or free it. */
static CURL *next(struct feed *f, CURL *e, CURLcode rc)
{
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    if (rc == CURLE_OK && status == 200)
        f->ok++;
    else
        f->failed++;
    if (rc != CURLE_OK && !f->note[0])
        snprintf(f->note, sizeof f->note, "%s", curl_easy_strerror(rc));
    else if (rc == CURLE_OK && status != 200 && !f->note[0])   /* the server said no */
        snprintf(f->note, sizeof f->note, "HTTP %ld from the server", status);
    /* tag::exercise ch09 */
    if (f->started < f->total) {
        f->started++;
        return e;                         /* same handle: its connection is reused */
    }
    /* end::exercise */
    curl_easy_cleanup(e);
    return NULL;
}

/* ---- blocking: one after another */
static void run_blocking(struct feed *f)
{
    CURL *e = easy_for(f);
    while (e) {
        CURLcode rc = curl_easy_perform(e);
        f->iterations++;
        e = next(f, e, rc);
    }
}

/* ---- multi_poll: libcurl's own loop */
static void drain(CURLM *m, struct feed *f)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m, &left)))
        if (msg->msg == CURLMSG_DONE) {
            CURL *e = msg->easy_handle;
            CURLcode rc = msg->data.result;
            curl_multi_remove_handle(m, e);
            if (held_end(f, e, rc))
                continue;
            if ((e = next(f, e, rc)))
                curl_multi_add_handle(m, e);
        }
}

static void run_multi(struct feed *f)
{
    CURLM *m = curl_multi_init();
    int running = 1;
    for (long i = 0; i < f->hold; i++)
        curl_multi_add_handle(m, f->held[i] = held_for(f, i));
    while (f->held_waiting < f->hold && f->held_lost == 0) {   /* not measured */
        curl_multi_perform(m, &running);
        drain(m, f);
        curl_multi_poll(m, NULL, 0, 1000, NULL);
    }
    if (f->hold && f->held_lost == 0)
        clock_start(f);
    for (long i = 0; i < f->inflight && f->started < f->total && f->held_lost == 0; i++)
        curl_multi_add_handle(m, easy_for(f));
    while (f->started) {                  /* none started: a held one failed in set-up */
        curl_multi_perform(m, &running);
        drain(m, f);                      /* may re-add handles: running is stale now */
        if (f->ok + f->failed == f->total)
            break;
        curl_multi_poll(m, NULL, 0, 1000, NULL);
        f->iterations++;
    }
    if (f->hold)
        clock_stop(f);
    for (long i = 0; i < f->hold; i++)   /* the held ones still waiting: end them */
        if (f->held[i]) {
            curl_multi_remove_handle(m, f->held[i]);
            curl_easy_cleanup(f->held[i]);
        }
    curl_multi_cleanup(m);
}

/* ---- loop: the chapters' glue on any backend */
struct lf { struct feed *f; curlx_t *cx; };

static void on_done(CURL *e, CURLcode rc, void *arg)
{
    struct lf *l = arg;
    if (held_end(l->f, e, rc))
        return;
    if ((e = next(l->f, e, rc)))
        curlx_add(l->cx, e);
    else if (l->f->hold && l->f->ok + l->f->failed == l->f->total)
        loop_stop(l->f->loop);            /* the held ones are still watched */
}

/* Ends the one wait that applies the set-up's last changes. */
static void settle_stop(loop_t *loop, void *arg) { (void)arg; loop_stop(loop); }

static int run_loop(struct feed *f, const char *backend)
{
    char err[400];
    loop_t *loop = loop_new(backend);
    if (!loop)
        return -1;
    struct lf l = {f, NULL};
    l.cx = curlx_attach(loop, on_done, &l, 0, err, sizeof err);
    if (!l.cx) {
        snprintf(f->note, sizeof f->note, "refused: %.100s", err);
        loop_free(loop);
        return -1;
    }
    struct loop_stats st = {0};
    if (f->hold) {                        /* set-up: every held transfer waiting */
        f->loop = loop;
        for (long i = 0; i < f->hold; i++)
            curlx_add(l.cx, f->held[i] = held_for(f, i));
        if (loop_run(loop) == 0 && f->held_lost == 0) {
            /* The last requests' changes of interest (OUT to IN) are still queued in
             * backends that apply them at the next wait (epoll, io_uring): one wait
             * that returns at once applies them, so the set-up's 5,000 are not
             * counted in the run (without it, 1,000 held put 1,000 in the count,
             * on libcurl 7.88.1 and 8.14.1 alike). */
            loop_call_later(loop, 0, settle_stop, NULL);
            loop_run(loop);
            loop_stats(loop, &st);
            clock_start(f);
        }
    }
    if (f->held_lost == 0) {
        struct loop_stats end;
        for (long i = 0; i < f->inflight && f->started < f->total; i++)
            curlx_add(l.cx, easy_for(f));
        loop_run(loop);
        loop_stats(loop, &end);           /* counted from the end of the set-up */
        f->iterations = end.waits - st.waits;
        f->handed = end.handed - st.handed;
        f->made = end.made - st.made;
        f->rewatched = end.rewatched - st.rewatched;
    }
    if (f->hold)
        clock_stop(f);
    if (curlx_error(l.cx)[0])
        snprintf(f->note, sizeof f->note, "%.150s", curlx_error(l.cx));
    curlx_free(l.cx);                     /* ends the held ones still waiting */
    loop_free(loop);
    return 0;
}

/* ---- uv: the pattern of curl's docs/examples/multi-uv.c on Debian's libuv */
struct uvctx { uv_loop_t *loop; uv_timer_t timer; CURLM *m; struct feed *f; };
struct uvsock { uv_poll_t poll; curl_socket_t fd; struct uvctx *c; };

static void uv_check(struct uvctx *c)
{
    drain(c->m, c->f);
}

static void on_uv_poll(uv_poll_t *h, int status, int events)
{
    struct uvsock *s = (struct uvsock *)h;
    int flags = (status < 0 ? CURL_CSELECT_ERR : 0) | ((events & UV_READABLE) ? CURL_CSELECT_IN : 0) |
                ((events & UV_WRITABLE) ? CURL_CSELECT_OUT : 0);
    int running;
    struct uvctx *c = s->c;
    curl_multi_socket_action(c->m, s->fd, flags, &running);
    uv_check(c);
}

static void on_uv_timeout(uv_timer_t *t)
{
    struct uvctx *c = t->data;
    int running;
    curl_multi_socket_action(c->m, CURL_SOCKET_TIMEOUT, 0, &running);
    uv_check(c);
}

static int on_curl_timer(CURLM *m, long ms, void *arg)
{
    struct uvctx *c = arg;
    (void)m;
    if (ms < 0)
        uv_timer_stop(&c->timer);
    else
        uv_timer_start(&c->timer, on_uv_timeout, (uint64_t)ms, 0);
    return 0;
}

static void uv_free_sock(uv_handle_t *h) { free(h); }

static int on_curl_socket(CURL *e, curl_socket_t fd, int what, void *arg, void *sockp)
{
    struct uvctx *c = arg;
    struct uvsock *s = sockp;
    (void)e;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            uv_poll_stop(&s->poll);
            uv_close((uv_handle_t *)&s->poll, uv_free_sock);
            curl_multi_assign(c->m, fd, NULL);
        }
        return 0;
    }
    if (!s) {
        s = calloc(1, sizeof *s);
        s->fd = fd;
        s->c = c;
        uv_poll_init_socket(c->loop, &s->poll, fd);
        curl_multi_assign(c->m, fd, s);
    }
    int ev = (what != CURL_POLL_OUT ? UV_READABLE : 0) | (what != CURL_POLL_IN ? UV_WRITABLE : 0);
    uv_poll_start(&s->poll, ev, on_uv_poll);
    return 0;
}

static void run_uv(struct feed *f)
{
    struct uvctx c = {uv_default_loop(), {0}, curl_multi_init(), f};
    uv_timer_init(c.loop, &c.timer);
    c.timer.data = &c;
    curl_multi_setopt(c.m, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(c.m, CURLMOPT_SOCKETDATA, &c);
    curl_multi_setopt(c.m, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(c.m, CURLMOPT_TIMERDATA, &c);
    for (long i = 0; i < f->inflight && f->started < f->total; i++)
        curl_multi_add_handle(c.m, easy_for(f));
    while (f->ok + f->failed < f->total && uv_run(c.loop, UV_RUN_ONCE))
        f->iterations++;
    curl_multi_cleanup(c.m);
    uv_timer_stop(&c.timer);
    uv_close((uv_handle_t *)&c.timer, NULL);
    uv_run(c.loop, UV_RUN_DEFAULT);
}

static double cpu_ms(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* ---- idle: N sockets watched, one made ready again by its own callback */
struct idle { int sv[2]; long left; };

static void on_ping(loop_t *loop, loop_fd_t fd, void *arg)
{
    struct idle *d = arg;
    char c;
    if (read(fd, &c, 1) != 1 || --d->left <= 0) {
        loop_stop(loop);
        return;
    }
    if (write(d->sv[1], "x", 1) != 1)             /* readable again next iteration */
        loop_stop(loop);
}

/* Counts behind a loop or idle row, on stderr: what the model predicts, not a time. */
static void counts(uint64_t waits, uint64_t handed, uint64_t made, uint64_t rewatched)
{
    fprintf(stderr, "counts: %llu waits, %llu descriptors handed to the kernel (%.1f per wait), "
            "%llu watches made, %llu rewatched\n", (unsigned long long)waits,
            (unsigned long long)handed, waits ? (double)handed / (double)waits : 0.0,
            (unsigned long long)made, (unsigned long long)rewatched);
}

static void never(loop_t *l, loop_fd_t fd, void *arg) { (void)l; (void)fd; (void)arg; }

static int run_idle(const char *backend, long n, long rounds)
{
    loop_t *loop = loop_new(backend);
    if (!loop)
        return 1;
    struct idle d = {{-1, -1}, rounds};
    int *fds = calloc((size_t)n, sizeof *fds), rc = 0;
    long got = 0;
    if (!fds)
        return 1;
    /* idle: N distinct files that nobody ever signals. (N dups of one socket
     * would share one wait queue, and each wake-up would walk all N entries:
     * the probe would measure itself, not the backend.) */
    for (; got < n; got++) {
        fds[got] = eventfd(0, EFD_NONBLOCK);
        if (fds[got] < 0 || (rc = loop_add_reader(loop, fds[got], never, NULL)) != LOOP_OK)
            break;
    }
    socketpair(AF_UNIX, SOCK_STREAM, 0, d.sv);
    loop_add_reader(loop, d.sv[0], on_ping, &d);
    if (write(d.sv[1], "x", 1) != 1)
        return 1;
    if (got == n) {                  /* warm-up: the backend registers the N fds with */
        d.left = 2;                  /* its kernel at its first wait; not measured */
        loop_run(loop);
        d.left = rounds;
        if (write(d.sv[1], "x", 1) != 1)
            return 1;
    }
    struct loop_stats s0, s1;
    loop_stats(loop, &s0);
    uint64_t t0 = loop_now_ms();
    double c0 = cpu_ms();
    if (got == n)
        loop_run(loop);
    uint64_t wall = loop_now_ms() - t0;
    loop_stats(loop, &s1);
    counts(s1.waits - s0.waits, s1.handed - s0.handed, s1.made - s0.made,
           s1.rewatched - s0.rewatched);
    long done = rounds - d.left;
    printf("idle,%s,%ld,1,%ld,%ld,%llu,%.3f,%ld,%.1f,0,%s\n", backend, n, got == n ? done : 0,
           got == n ? 0 : rounds, (unsigned long long)wall,
           done ? (cpu_ms() - c0) * 1000.0 / (double)done : 0.0, done, cpu_ms() - c0,
           got == n ? "" : loop_error(loop));
    loop_free(loop);
    for (long i = 0; i < got; i++)
        close(fds[i]);
    free(fds);
    return 0;
}

static long rss_kb(void)
{
    long kb = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, res = 0;
    if (f && fscanf(f, "%ld %ld", &pages, &res) == 2)
        kb = res * 4;
    if (f)
        fclose(f);
    return kb;
}

static int usage(const char *prog, const char *why, const char *what)
{
    fprintf(stderr, "%s: %s%s%s%s\n"
                    "usage: %s blocking|multi_poll|uv URL TOTAL INFLIGHT\n"
                    "       %s loop BACKEND URL TOTAL INFLIGHT\n"
                    "       (multi_poll and loop: HOLD_URL HOLD_N after, to hold HOLD_N idle)\n"
                    "       %s idle BACKEND N ROUNDS\n",
            prog, why, what ? " '" : "", what ? what : "", what ? "'" : "", prog, prog, prog);
    return 2;
}

/* A whole positive number, or -1. */
static long positive(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    return *s && !*end && v > 0 ? v : -1;
}

int main(int argc, char **argv)
{
    const char *runner = argc > 1 ? argv[1] : "";
    int has_backend = !strcmp(runner, "loop") || !strcmp(runner, "idle");
    int want = !strcmp(runner, "idle") ? 5 : has_backend ? 6 : 5;
    int can_hold = !strcmp(runner, "loop") || !strcmp(runner, "multi_poll");
    if (!has_backend && strcmp(runner, "blocking") && strcmp(runner, "multi_poll") &&
        strcmp(runner, "uv"))
        return usage(argv[0], argc > 1 ? "unknown runner" : "no runner given",
                     argc > 1 ? runner : NULL);
    if (argc != want && !(can_hold && argc == want + 2))
        return usage(argv[0], "wrong number of arguments for", runner);
    if (has_backend && !cli_backend_known("ch09", argv[2]))
        return 2;
    for (int k = want - 2; k < argc; k++)   /* the counts: every argument from TOTAL on */
        if (k != want && positive(argv[k]) < 0)   /* but HOLD_URL */
            return usage(argv[0], "TOTAL, INFLIGHT, N, ROUNDS and HOLD_N are whole numbers above 0, not",
                         argv[k]);
    if (!strcmp(runner, "idle")) {
        struct rlimit rl;
        getrlimit(RLIMIT_NOFILE, &rl);
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        return run_idle(argv[2], positive(argv[3]), positive(argv[4]));
    }
    const char *backend = has_backend ? argv[2] : "-";
    struct feed f = {.url = argv[2 + has_backend]};
    f.total = positive(argv[3 + has_backend]);
    f.inflight = positive(argv[4 + has_backend]);
    if (argc == want + 2) {
        f.hold_url = argv[want];
        f.hold = positive(argv[want + 1]);
        if (!(f.held = calloc((size_t)f.hold, sizeof *f.held)))
            return 1;
    }
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    long rss0 = rss_kb(), peak = rss0;
    clock_start(&f);
    if (!strcmp(runner, "blocking"))
        run_blocking(&f);
    else if (!strcmp(runner, "multi_poll"))
        run_multi(&f);
    else if (!strcmp(runner, "uv"))
        run_uv(&f);
    else if (run_loop(&f, backend) == 0)
        counts(f.iterations, f.handed, f.made, f.rewatched);
    if (!f.t1)
        clock_stop(&f);
    uint64_t wall = f.t1 - f.t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    peak = ru.ru_maxrss > peak ? ru.ru_maxrss : peak;
    printf("%s,%s,%ld,%ld,%ld,%ld,%llu,%.1f,%llu,%.1f,%.2f,%s\n", runner, backend, f.total,
           f.inflight, f.ok, f.total - f.ok, (unsigned long long)wall,
           wall ? (double)f.ok * 1000.0 / (double)wall : 0.0, (unsigned long long)f.iterations,
           f.c1 - f.c0, (double)(peak - rss0) / (double)(f.inflight + f.hold), f.note);
    free(f.held);
    curl_global_cleanup();
    return 0;
}
