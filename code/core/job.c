/* A transfer's set-up and its result, and the one loop runner every reactor shares. */
#include "job.h"
#include "curlx.h"
#include "pattern.h"

#include <string.h>

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
    if (result != CURLE_OK && !j->error[0])
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
    int rc = loop_run(loop);
    if (rc < 0)
        fprintf(stderr, "error: the %s loop failed: %s\n", loop_name(loop), loop_error(loop));
    if (curlx_error(cx)[0])
        fprintf(stderr, "error: %s\n", curlx_error(cx));
    curlx_free(cx);
    loop_free(loop);
    return rc;
}
/* end::job_run_loop */
