/* A transfer's set-up and its result, and the one loop runner every reactor shares. */
#include "job.h"
#include "../glue/curlx.h"
#include "../server/pattern.h"

#include <signal.h>
#include <string.h>
#ifndef _WIN32
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#endif

/* ---- Ctrl-C: the run stops, and every unfinished transfer ends once, as
 * "interrupted". A transfer libcurl drives itself (ch01, ch02) is aborted by
 * its progress callback; the loop runner watches a pipe the handler writes
 * to (the self-pipe trick), since a loop that waits on sockets and timers
 * does not see a flag. */
static volatile sig_atomic_t interrupted;
static int catching;                  /* job_catch_interrupt() was called */
#ifndef _WIN32
static int intr_pipe[2] = {-1, -1};

static void on_interrupt(int sig)
{
    int e = errno;
    (void)sig;
    interrupted = 1;
    if (write(intr_pipe[1], "", 1) < 0) {
        /* full already: the loop will see the bytes there */
    }
    errno = e;
}
#endif

int job_catch_interrupt(void)
{
#ifndef _WIN32
    if (intr_pipe[0] < 0) {
        if (pipe(intr_pipe) != 0)
            return -1;
        for (int i = 0; i < 2; i++) {
            fcntl(intr_pipe[i], F_SETFL, O_NONBLOCK);
            fcntl(intr_pipe[i], F_SETFD, FD_CLOEXEC);
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;
    sa.sa_flags = SA_RESETHAND;           /* a second ^C ends the program at once */
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) != 0)
        return -1;
    catching = 1;
#endif
    return 0;
}

int job_interrupted(void) { return interrupted; }

static int on_progress(void *arg, curl_off_t dlt, curl_off_t dl, curl_off_t ult, curl_off_t ul)
{
    (void)arg; (void)dlt; (void)dl; (void)ult; (void)ul;
    return interrupted;                   /* non-zero: CURLE_ABORTED_BY_CALLBACK */
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct job *j = arg;
    size_t n = size * nmemb;
    for (size_t i = 0; i < n && j->body_ok; i++)
        if (data[i] != pattern_byte(j->bytes + i))
            j->body_ok = 0;
    j->bytes += n;
    return n;
}

CURL *job_easy(struct job *j, const struct job_opts *o)
{
    CURL *easy = curl_easy_init();
    if (!easy)
        return NULL;
    j->result = CURLE_OK;
    j->status = 0;
    j->bytes = 0;
    j->body_ok = 1;
    j->done = 0;
    j->error[0] = '\0';
    j->start_ms = loop_now_ms();
    curl_easy_setopt(easy, CURLOPT_URL, j->url);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, j);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, j->error);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, j);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_NOPROXY, "*");    /* tests talk to loopback only */
#if LIBCURL_VERSION_NUM >= 0x075500                   /* 7.85.0 */
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    if (o && o->timeout_ms > 0)
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, o->timeout_ms);
    if (catching) {
        curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
    }
    return easy;
}

void job_finish(CURL *easy, CURLcode result)
{
    struct job *j = NULL;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&j);
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &j->status);
    j->result = result;
    j->end_ms = loop_now_ms();
    j->done++;
    if (result == CURLE_ABORTED_BY_CALLBACK && interrupted)
        snprintf(j->error, sizeof j->error, "interrupted");
    else if (result != CURLE_OK && !j->error[0])
        snprintf(j->error, sizeof j->error, "%s", curl_easy_strerror(result));
    curl_easy_cleanup(easy);
}

int job_ok(const struct job *j)
{
    return j->done && j->result == CURLE_OK && j->status > 0 && j->status < 400;
}

size_t job_report(FILE *out, const struct job *jobs, size_t n)
{
    size_t failed = 0;
    for (size_t i = 0; i < n; i++) {
        const struct job *j = &jobs[i];
        fprintf(out, "%4zu  %3ld  %8zu B  %6llu ms  %s", i + 1, j->status, j->bytes,
                (unsigned long long)(j->end_ms - j->start_ms), j->url);
        if (!job_ok(j)) {
            failed++;
            if (j->result != CURLE_OK)
                fprintf(out, "  error %d: %s", (int)j->result, j->error);
            else
                fprintf(out, "  error: HTTP status %ld", j->status);
        }
        fputc('\n', out);
    }
    return failed;
}

/* ---- the loop runner: the glue on any backend */

static void on_done(CURL *easy, CURLcode result, void *arg)
{
    (void)arg;
    job_finish(easy, result);
}

#ifndef _WIN32
/* Ctrl-C while the loop waits: stop it; curlx_free then ends what is left. */
static void on_interrupt_byte(loop_t *loop, loop_fd_t fd, void *arg)
{
    char b[16];
    (void)arg;
    while (read(fd, b, sizeof b) > 0)
        ;
    loop_stop(loop);
}
#endif

/* Watch the interrupt pipe while transfers are pending (@on), or stop (!@on).
 * With nothing pending the run would otherwise wait on the pipe alone. */
static void watch_interrupt(loop_t *loop, curlx_t *cx, int on)
{
#ifndef _WIN32
    if (catching && on && curlx_pending(cx) > 0)
        loop_add_reader(loop, intr_pipe[0], on_interrupt_byte, NULL);
    else if (catching && !on)
        loop_remove_reader(loop, intr_pipe[0]);
#else
    (void)loop; (void)cx; (void)on;
#endif
}

/* "socket ..." and "timer ..." are libcurl's requests; the rest is the glue's. */
static void on_trace(const char *event, void *arg)
{
    int asked = strncmp(event, "socket ", 7) == 0 || strncmp(event, "timer ", 6) == 0;
    fprintf(arg, "  %s: %s\n", asked ? "libcurl" : "glue", event);
}

/* tag::job_run_loop */
int job_run_loop(struct job *jobs, size_t n, const struct job_opts *o)
{
    char err[400];
    loop_t *loop = loop_new(o->backend);
    if (!loop)
        return -1;
    curlx_t *cx = curlx_attach(loop, on_done, NULL, 0, err, sizeof err);
    if (!cx) {
        fprintf(stderr, "error: %s\n", err);
        loop_free(loop);
        return -1;
    }
    if (o->trace)
        curlx_trace(cx, on_trace, stdout);
    for (size_t i = 0; i < n; i++) {
        CURL *easy = job_easy(&jobs[i], o);
        CURLMcode mc = easy ? curlx_add(cx, easy) : CURLM_OUT_OF_MEMORY;
        if (mc != CURLM_OK && easy) {        /* never started: end it here, with why */
            snprintf(jobs[i].error, sizeof jobs[i].error, "curl_multi_add_handle: %s",
                     curl_multi_strerror(mc));
            job_finish(easy, CURLE_FAILED_INIT);
        }
    }
    watch_interrupt(loop, cx, 1);            /* Ctrl-C stops the run */
    int rc = loop_run(loop);
    watch_interrupt(loop, cx, 0);
    if (rc < 0)
        fprintf(stderr, "error: the %s loop failed: %s\n", loop_name(loop), loop_error(loop));
    if (curlx_error(cx)[0])
        fprintf(stderr, "error: %s\n", curlx_error(cx));
    curlx_free(cx);
    loop_free(loop);
    return rc;
}
/* end::job_run_loop */
