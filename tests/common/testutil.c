/* Native test helpers; see testutil.h. */
#include "testutil.h"
#include "../../code/server/server.h"
#include "../../code/glue/curlx.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Where this build's programs are, relative to the test binary (the Makefile
 * says; a tree that is copied or moved keeps finding its own programs). */
#ifndef BIN_REL
#define BIN_REL "../bin"
#endif

const char *t_path(const char *rel, char *buf, size_t len)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        snprintf(buf, len, "%s", rel);         /* no /proc: relative to the cwd */
        return buf;
    }
    exe[n] = '\0';
    *strrchr(exe, '/') = '\0';               /* the test binary's directory */
    snprintf(buf, len, "%s/%s", exe, rel);
    return buf;
}

char t_base[64];
unsigned short t_refused_port;
static srv_t *srv;

unsigned short t_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    socklen_t sl = sizeof sa;
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *)&sa, sizeof sa);
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    close(fd);                       /* bound, never listened: connects are refused */
    return ntohs(sa.sin_port);
}

void tsrv_up(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    srv = srv_start(0);
    cr_assert_not_null(srv, "the local server did not start");
    snprintf(t_base, sizeof t_base, "http://127.0.0.1:%u", srv_port(srv));
    t_refused_port = t_free_port();
    setenv("SERVER", t_base, 1);
}

void tsrv_down(void)
{
    srv_stop(srv);
    srv = NULL;
    curl_global_cleanup();
}

static void slurp(int fd, char *buf, size_t len)
{
    size_t n = 0;
    ssize_t r;
    lseek(fd, 0, SEEK_SET);
    while (n + 1 < len && (r = read(fd, buf + n, len - n - 1)) > 0)
        n += (size_t)r;
    buf[n] = '\0';
    close(fd);
}

int t_run(const char *prog, const char *const args[], char *out, size_t outlen,
          char *err, size_t errlen, int timeout_s)
{
    char path[512], o_tmp[] = "/tmp/t_outXXXXXX", e_tmp[] = "/tmp/t_errXXXXXX";
    const char *argv[32] = {path};
    int ofd = mkstemp(o_tmp), efd = mkstemp(e_tmp), status = 0;
    unlink(o_tmp);
    unlink(e_tmp);
    if (prog[0] == '/')
        snprintf(path, sizeof path, "%s", prog);
    else
    {
        char dir[400];
        snprintf(path, sizeof path, "%s/%s", t_path(BIN_REL, dir, sizeof dir), prog);
    }
    for (int i = 0; args[i] && i < 30; i++)
        argv[i + 1] = args[i];
    pid_t pid = fork();
    if (pid == 0) {
        dup2(ofd, 1);
        dup2(efd, 2);
        execv(path, (char *const *)argv);
        _exit(127);
    }
    int waited = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (waited++ > timeout_s * 100) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            status = -1;
            break;
        }
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    slurp(ofd, out, outlen);
    slurp(efd, err, errlen);
    return status == -1 ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int t_have_command(const char *name)
{
    const char *path = getenv("PATH");
    char full[1024];
    while (path && *path) {
        size_t n = strcspn(path, ":");
        snprintf(full, sizeof full, "%.*s/%s", (int)n, path, name);
        if (n && access(full, X_OK) == 0)
            return 1;
        path += n + (path[n] == ':');
    }
    return 0;
}

long t_raise_nofile(long want)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if ((rlim_t)want > rl.rlim_cur) {
        rl.rlim_cur = (rlim_t)want < rl.rlim_max ? (rlim_t)want : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    return (long)rl.rlim_cur;
}

void t_require_backend(const char *backend)
{
    if (!backend)
        return;
    loop_t *loop = loop_new(backend);       /* prints why on stderr when it cannot */
    if (!loop)
        cr_skip_test("the %s loop cannot start on this machine (see the line above)", backend);
    loop_free(loop);
}

/* ---- see t_unread_data_calls_the_reader_again in testutil.h */
static int sips;
static void sip_one_byte(loop_t *loop, loop_fd_t fd, void *arg)
{
    char c;
    (void)loop; (void)arg;
    if (read(fd, &c, 1) == 1)                 /* leave the rest for later */
        sips++;
}

static void stop_soon(loop_t *loop, void *arg) { (void)arg; loop_stop(loop); }

void t_unread_data_calls_the_reader_again(const char *backend)
{
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    loop_t *loop = loop_new(backend);
    cr_assert_not_null(loop);
    cr_assert_eq(write(sv[1], "xyz", 3), 3);
    loop_add_reader(loop, sv[0], sip_one_byte, NULL);
    loop_call_later(loop, 200, stop_soon, NULL);
    sips = 0;
    loop_run(loop);
    cr_expect_eq(sips, 3, "3 bytes, one read per call: the reader ran %d times", sips);
    loop_free(loop);
    close(sv[0]);
    close(sv[1]);
}

/* ---- see t_reused_fd_number in testutil.h */
static int reuse_hits;
static loop_fd_t reuse_fd;
static void reuse_ready(loop_t *loop, loop_fd_t fd, void *arg)
{
    (void)arg;
    reuse_hits++;
    reuse_fd = fd;
    loop_stop(loop);
}
static void reuse_stop(loop_t *l, void *arg) { (void)arg; loop_stop(l); }

void t_reused_fd_number(const char *backend)
{
    int a[2], b[2];
    cr_assert_eq(pipe(a), 0);
    loop_t *loop = loop_new(backend);
    cr_assert_eq(loop_add_reader(loop, a[0], reuse_ready, NULL), LOOP_OK);
    loop_call_later(loop, 0, reuse_stop, NULL);
    loop_run(loop);                   /* one wait: now the kernel holds a[0] */
    int num = a[0];
    close(a[0]);                      /* closed while watched; its peer stays open */
    cr_assert_eq(pipe(b), 0);
    cr_assert_eq(b[0], num, "the fd number was not reused");
    /* the loop still has a watch for this number; watching it again must reach the kernel */
    cr_expect_eq(loop_add_reader(loop, b[0], reuse_ready, NULL), LOOP_OK, "%s", loop_error(loop));
    cr_assert_eq(write(b[1], "x", 1), 1);
    loop_call_later(loop, 2000, reuse_stop, NULL);   /* a safety net */
    reuse_hits = 0;
    cr_expect_eq(loop_run(loop), LOOP_OK, "%s", loop_error(loop));
    cr_expect_eq(reuse_hits, 1, "%s: fd %d closed while watched, the number reused by a "
                 "new pipe with a byte waiting, watched again: it fired %d times, not once",
                 backend, num, reuse_hits);
    if (reuse_hits)
        cr_expect_eq(reuse_fd, num, "%s: the callback was for fd %d, not %d", backend,
                     reuse_fd, num);
    loop_free(loop);
    close(a[1]);
    close(b[0]);
    close(b[1]);
}


/* ---- see t_free_glue_from_done_callback in testutil.h */
struct freer {
    curlx_t *cx;
    int done, ok, aborted, free_at;
};

static void free_when_told(CURL *easy, CURLcode rc, void *arg)
{
    struct freer *f = arg;
    f->ok += rc == CURLE_OK;
    f->aborted += rc == CURLE_ABORTED_BY_CALLBACK;
    curl_easy_cleanup(easy);
    if (++f->done == f->free_at)
        curlx_free(f->cx);                 /* inside the glue's own call stack */
}

static size_t sink(char *d, size_t s, size_t n, void *a) { (void)d; (void)a; return s * n; }

static void free_at(const char *backend, int at)
{
    char url[96], err[400];
    struct freer f = {0};
    f.free_at = at;
    loop_t *loop = loop_new(backend);
    cr_assert_not_null(loop);
    f.cx = curlx_attach(loop, free_when_told, &f, 0, err, sizeof err);
    cr_assert_not_null(f.cx, "%s", err);
    for (int i = 0; i < 3; i++) {          /* one fast, two that wait */
        snprintf(url, sizeof url, "%s%s", t_base, i ? "/delay/200" : "/bytes/10");
        CURL *easy = curl_easy_init();
        curl_easy_setopt(easy, CURLOPT_URL, url);
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, sink);
        curlx_add(f.cx, easy);
    }
    int rc = loop_run(loop);               /* returns once the glue is gone */
    cr_expect_eq(rc, LOOP_OK, "%s: loop_run: %s", backend, loop_error(loop));
    cr_expect_eq(f.done, 3, "%s, freed at transfer %d: %d of 3 transfers reported", backend,
                 at, f.done);
    if (at == 3)
        cr_expect_eq(f.ok, 3, "%s: %d of 3 ok before the free", backend, f.ok);
    else
        cr_expect(f.ok == 1 && f.aborted == 2, "%s, freed at the first: %d ok, %d aborted",
                  backend, f.ok, f.aborted);
    loop_free(loop);
}

void t_free_glue_from_done_callback(const char *backend)
{
    t_require_backend(backend);
    free_at(backend, 3);
    free_at(backend, 1);
}

/* ---- see t_free_glue_ignores_frees_from_its_callbacks in testutil.h */
static void free_again(CURL *easy, CURLcode rc, void *arg)
{
    struct freer *f = arg;
    f->done++;
    f->aborted += rc == CURLE_ABORTED_BY_CALLBACK;
    curl_easy_cleanup(easy);
    curlx_free(f->cx);                     /* the glue is being freed already */
}

void t_free_glue_ignores_frees_from_its_callbacks(const char *backend)
{
    char url[96], err[400];
    struct freer f = {0};
    t_require_backend(backend);
    loop_t *loop = loop_new(backend);
    cr_assert_not_null(loop);
    f.cx = curlx_attach(loop, free_again, &f, 0, err, sizeof err);
    cr_assert_not_null(f.cx, "%s", err);
    snprintf(url, sizeof url, "%s/delay/300", t_base);
    for (int i = 0; i < 3; i++) {
        CURL *easy = curl_easy_init();
        curl_easy_setopt(easy, CURLOPT_URL, url);
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, sink);
        curlx_add(f.cx, easy);
    }
    loop_call_later(loop, 50, stop_soon, NULL);   /* connected, waiting for the replies */
    cr_assert_eq(loop_run(loop), LOOP_OK, "%s: %s", backend, loop_error(loop));
    cr_assert_eq(curlx_pending(f.cx), 3, "%s: %zu of 3 transfers live before the free",
                 backend, curlx_pending(f.cx));
    curlx_free(f.cx);                      /* from outside: each done callback frees it again */
    cr_expect_eq(f.done, 3, "%s: %d of 3 transfers reported by the free", backend, f.done);
    cr_expect_eq(f.aborted, 3, "%s: %d of 3 reported as aborted", backend, f.aborted);
    loop_free(loop);
}

/* ---- see t_signals_do_not_end_the_loop in testutil.h */
static volatile sig_atomic_t alarms;
static void on_alarm(int sig) { (void)sig; alarms++; }
static void never_called(loop_t *l, loop_fd_t fd, void *arg) { (void)l; (void)fd; (void)arg; }
static uint64_t fired_at;
static void note_and_stop(loop_t *l, void *arg) { (void)arg; fired_at = loop_now_ms(); loop_stop(l); }

void t_signals_do_not_end_the_loop(const char *backend)
{
    t_require_backend(backend);
    int p[2];
    cr_assert_eq(pipe(p), 0);
    struct sigaction sa = {0}, old;
    sa.sa_handler = on_alarm;                 /* no SA_RESTART: waits return EINTR */
    sigaction(SIGALRM, &sa, &old);
    loop_t *loop = loop_new(backend);
    loop_add_reader(loop, p[0], never_called, NULL);
    uint64_t t0 = loop_now_ms();
    fired_at = 0;
    loop_call_later(loop, 300, note_and_stop, NULL);
    struct itimerval it = {{0, 5000}, {0, 5000}}, off = {{0, 0}, {0, 0}};
    alarms = 0;
    setitimer(ITIMER_REAL, &it, NULL);
    int rc = loop_run(loop);
    setitimer(ITIMER_REAL, &off, NULL);
    sigaction(SIGALRM, &old, NULL);
    cr_expect_eq(rc, LOOP_OK, "%s: a signal ended the loop: %s", backend, loop_error(loop));
    cr_expect_gt(alarms, 5, "%s: only %d signals arrived", backend, (int)alarms);
    cr_expect_neq(fired_at, 0, "%s: the 300 ms timer never fired", backend);
    if (fired_at)
        cr_expect(fired_at - t0 >= 299 && fired_at - t0 < 900, "%s: the 300 ms timer fired "
                  "after %llu ms", backend, (unsigned long long)(fired_at - t0));
    loop_free(loop);
    close(p[0]);
    close(p[1]);
}

/* ---- removal, re-watching and errors, on any reactor backend */
static int io_calls;
static void count_io(loop_t *l, loop_fd_t fd, void *arg) { (void)l; (void)fd; (void)arg; io_calls++; }
static void stop_now_cb(loop_t *l, void *arg) { (void)arg; loop_stop(l); }

static void run_for(loop_t *loop, long ms)
{
    loop_call_later(loop, ms, stop_now_cb, NULL);
    cr_expect_eq(loop_run(loop), LOOP_OK, "%s: %s", loop_name(loop), loop_error(loop));
}

void t_removed_fd_stops_waking_the_loop(const char *backend)
{
    int p[2], q[2];
    struct loop_stats st0, st1;
    t_require_backend(backend);
    cr_assert_eq(pipe(p), 0);
    cr_assert_eq(pipe(q), 0);
    loop_t *loop = loop_new(backend);
    io_calls = 0;
    loop_add_reader(loop, p[0], count_io, NULL);
    loop_add_reader(loop, q[0], count_io, NULL);
    run_for(loop, 10);                           /* the backend has told its kernel */
    cr_assert_eq(loop_remove_reader(loop, p[0]), LOOP_OK);
    cr_assert_eq(write(p[1], "x", 1), 1);        /* ready, but nobody asked any more */
    loop_stats(loop, &st0);
    run_for(loop, 100);
    loop_stats(loop, &st1);
    cr_expect_eq(io_calls, 0, "%s: a removed fd's callback ran", backend);
    cr_expect_leq(st1.waits - st0.waits, 5, "%s: the loop woke %llu times in 100 ms for a "
                  "removed fd", backend, (unsigned long long)(st1.waits - st0.waits));
    loop_free(loop);
    close(p[0]); close(p[1]); close(q[0]); close(q[1]);
}

void t_rewatch_after_remove(const char *backend)
{
    int p[2];
    t_require_backend(backend);
    cr_assert_eq(pipe(p), 0);
    loop_t *loop = loop_new(backend);
    io_calls = 0;
    loop_add_reader(loop, p[0], count_io, NULL);
    run_for(loop, 10);
    loop_remove_reader(loop, p[0]);
    run_for(loop, 10);                           /* nothing fired: a kernel may keep it */
    cr_assert_eq(loop_add_reader(loop, p[0], count_io, NULL), LOOP_OK);
    cr_assert_eq(write(p[1], "x", 1), 1);
    run_for(loop, 100);
    cr_expect_gt(io_calls, 0, "%s: the fd watched again never fired", backend);
    /* and it is watched, not reported once as refused and forgotten */
    cr_expect_eq(loop_remove_reader(loop, p[0]), LOOP_OK, "%s: the fd watched again was "
                 "dropped after %d calls (%s)", backend, io_calls, loop_error(loop));
    loop_free(loop);
    close(p[0]); close(p[1]);
}

static void writer_done(loop_t *l, loop_fd_t fd, void *arg)
{
    (void)arg;
    io_calls++;
    loop_remove_writer(l, fd);
}

void t_error_wakes_the_writer(const char *backend)
{
    int p[2];
    char buf[4096] = {0};
    t_require_backend(backend);
    cr_assert_eq(pipe(p), 0);
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    while (write(p[1], buf, sizeof buf) > 0)     /* full: not writable */
        ;
    signal(SIGPIPE, SIG_IGN);
    loop_t *loop = loop_new(backend);
    io_calls = 0;
    loop_add_writer(loop, p[1], writer_done, NULL);
    close(p[0]);                                  /* no reader left: an error, no room */
    run_for(loop, 300);
    cr_expect_eq(io_calls, 1, "%s: the error woke the writer %d times", backend, io_calls);
    loop_free(loop);
    close(p[1]);
}

/* ---- see t_removed_reader_is_not_called_on_a_hang_up in testutil.h */
static int removed_reader_calls;
static void removed_reader(loop_t *l, loop_fd_t fd, void *arg)
{
    (void)l; (void)fd; (void)arg;
    removed_reader_calls++;
}

void t_removed_reader_is_not_called_on_a_hang_up(const char *backend)
{
    int sv[2];
    char buf[4096] = {0};
    t_require_backend(backend);
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    while (send(sv[0], buf, sizeof buf, MSG_NOSIGNAL) > 0)   /* full: not writable */
        ;
    loop_t *loop = loop_new(backend);
    io_calls = removed_reader_calls = 0;
    cr_assert_eq(loop_add_reader(loop, sv[0], removed_reader, NULL), LOOP_OK);
    cr_assert_eq(loop_add_writer(loop, sv[0], writer_done, NULL), LOOP_OK);
    run_for(loop, 10);                            /* the backend has told its kernel */
    cr_assert_eq(loop_remove_reader(loop, sv[0]), LOOP_OK);    /* writer only, from now */
    close(sv[1]);                                 /* a hang-up: "readable" too */
    run_for(loop, 300);
    cr_expect_eq(removed_reader_calls, 0, "%s: the reader removed before the hang-up ran "
                 "%d times", backend, removed_reader_calls);
    cr_expect_eq(io_calls, 1, "%s: the hang-up woke the writer %d times", backend, io_calls);
    loop_free(loop);
    close(sv[0]);
}

/* ---- see t_writable_fd_wakes_its_writer in testutil.h */
static int reader_calls;
static void count_reader(loop_t *l, loop_fd_t fd, void *arg) { (void)l; (void)fd; (void)arg; reader_calls++; }

void t_writable_fd_wakes_its_writer(const char *backend)
{
    int p[2];
    t_require_backend(backend);
    cr_assert_eq(pipe(p), 0);
    loop_t *loop = loop_new(backend);
    io_calls = reader_calls = 0;
    cr_assert_eq(loop_add_reader(loop, p[0], count_reader, NULL), LOOP_OK);
    cr_assert_eq(loop_add_writer(loop, p[1], writer_done, NULL), LOOP_OK);
    run_for(loop, 100);
    cr_expect_eq(io_calls, 1, "%s: a pipe with room, watched for writing: the writer was "
                 "called %d times, not once", backend, io_calls);
    cr_expect_eq(reader_calls, 0, "%s: an empty pipe, watched for reading: the reader was "
                 "called %d times", backend, reader_calls);
    loop_free(loop);
    close(p[0]);
    close(p[1]);
}

/* ---- see t_removal_leaves_the_others_watched in testutil.h */
static int calls_of[3];
static void count_which(loop_t *l, loop_fd_t fd, void *arg)
{
    char c;
    (void)l;
    if (read(fd, &c, 1) == 1)                 /* one call per byte: counts are exact */
        calls_of[(intptr_t)arg]++;
}

void t_removal_leaves_the_others_watched(const char *backend)
{
    int p[3][2];
    t_require_backend(backend);
    loop_t *loop = loop_new(backend);
    for (intptr_t i = 0; i < 3; i++) {
        cr_assert_eq(pipe(p[i]), 0);
        calls_of[i] = 0;
        cr_assert_eq(loop_add_reader(loop, p[i][0], count_which, (void *)i), LOOP_OK);
    }
    run_for(loop, 10);                            /* the backend has told its kernel */
    cr_assert_eq(loop_remove_reader(loop, p[0][0]), LOOP_OK);   /* the last moves here */
    cr_assert_eq(loop_remove_reader(loop, p[2][0]), LOOP_OK);   /* then it goes too */
    cr_assert_eq(write(p[1][1], "x", 1), 1);
    cr_assert_eq(write(p[2][1], "x", 1), 1);
    run_for(loop, 100);
    cr_expect_eq(calls_of[1], 1, "%s: pipes A, B, C watched, A then C removed: B, still "
                 "watched and readable, was called back %d times, not once", backend,
                 calls_of[1]);
    cr_expect_eq(calls_of[2], 0, "%s: pipes A, B, C watched, A then C removed: C was "
                 "called back %d times", backend, calls_of[2]);
    cr_expect_eq(loop_remove_reader(loop, p[1][0]), LOOP_OK, "%s: B is not watched any "
                 "more", backend);
    loop_free(loop);
    for (int i = 0; i < 3; i++) {
        close(p[i][0]);
        close(p[i][1]);
    }
}

/* ---- see t_closed_fd_is_reported_once_then_dropped in testutil.h */
static int dead_calls;
static void count_dead(loop_t *l, loop_fd_t fd, void *arg)
{
    char c;
    (void)l; (void)arg;
    dead_calls++;
    cr_expect_eq(read(fd, &c, 1), -1, "reading the closed fd %d did not fail", fd);
}

void t_closed_fd_is_reported_once_then_dropped(const char *backend)
{
    int p[2], q[2];
    t_require_backend(backend);
    cr_assert_eq(pipe(p), 0);
    cr_assert_eq(pipe(q), 0);
    loop_t *loop = loop_new(backend);
    dead_calls = io_calls = 0;
    cr_assert_eq(loop_add_reader(loop, p[0], count_dead, NULL), LOOP_OK);
    loop_add_reader(loop, q[0], count_io, NULL);
    close(p[0]);                                  /* the caller's bug: still watched */
    cr_assert_eq(write(q[1], "x", 1), 1);
    run_for(loop, 200);
    cr_expect_eq(dead_calls, 1, "%s: the closed fd's callback ran %d times", backend, dead_calls);
    cr_expect_gt(io_calls, 0, "%s: the other fd never fired", backend);
    cr_expect_eq(loop_remove_reader(loop, p[0]), LOOP_ENOENT, "%s: the closed fd is still "
                 "watched", backend);
    int rc = loop_add_reader(loop, p[0], count_dead, NULL);
    cr_expect_eq(rc, LOOP_EINVAL, "%s: add_reader of a closed fd returned %d", backend, rc);
    loop_free(loop);
    close(p[1]); close(q[0]); close(q[1]);
}
