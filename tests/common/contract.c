/* The transfer contract's cases. Each returns 0, or 1 with a reason. */
#include "contract.h"
#include "../../code/loop/loop.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXJ 64
#define URLLEN 160

struct batch {
    struct job jobs[MAXJ];
    char urls[MAXJ][URLLEN];
    size_t n;
};

static const char *add(struct batch *b, const struct contract_env *env, const char *path)
{
    snprintf(b->urls[b->n], URLLEN, "%s%s", env->base, path);
    b->jobs[b->n].url = b->urls[b->n];
    return b->urls[b->n++];
}

static void add_refused(struct batch *b, const struct contract_env *env)
{
    snprintf(b->urls[b->n], URLLEN, "http://127.0.0.1:%u/bytes/10", env->refused_port);
    b->jobs[b->n].url = b->urls[b->n];
    b->n++;
}

static int fail(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
    return 1;
}

static int run(struct batch *b, const struct contract_env *env, long timeout_ms,
               uint64_t *wall, char *why, size_t len)
{
    /* CONTRACT_JOB_MS: the exercise checker's shorter limit, so a loop that never
     * moves a transfer fails in seconds, with the same message */
    const char *cap = getenv("CONTRACT_JOB_MS");
    if (cap && atol(cap) > 0 && atol(cap) < timeout_ms)
        timeout_ms = atol(cap);
    struct job_opts o = {timeout_ms, env->backend, 0};
    uint64_t t0 = loop_now_ms();
    int rc = env->run(b->jobs, b->n, &o);
    if (wall)
        *wall = loop_now_ms() - t0;
    if (rc < 0)
        return fail(why, len, "the runner failed to start (%d)", rc);
    for (size_t i = 0; i < b->n; i++)
        if (b->jobs[i].done != 1)
            return fail(why, len, "job %zu (%s) reported %d times", i, b->jobs[i].url,
                        b->jobs[i].done);
    return 0;
}

#define EXPECT(cond, ...) do { if (!(cond)) return fail(why, len, __VA_ARGS__); } while (0)

static int contract_bytes_and_status_are_right(const struct contract_env *env, char *why, size_t len)
{
    static const size_t sizes[] = {0, 1, 1000, 100000, 1 << 20};
    struct batch *b = calloc(1, sizeof *b);
    int rc = 1;
    for (size_t i = 0; i < 5; i++) {
        char p[32];
        snprintf(p, sizeof p, "/bytes/%zu", sizes[i]);
        add(b, env, p);
    }
    add(b, env, "/status/404");
    if (run(b, env, 20000, NULL, why, len))
        goto out;
    for (size_t i = 0; i < 5; i++) {
        struct job *j = &b->jobs[i];
        if (!job_ok(j) || j->status != 200 || j->bytes != sizes[i] || !j->body_ok) {
            fail(why, len, "%s: result %d status %ld bytes %zu body_ok %d", j->url,
                 (int)j->result, j->status, j->bytes, j->body_ok);
            goto out;
        }
    }
    if (b->jobs[5].result != CURLE_OK || b->jobs[5].status != 404) {
        fail(why, len, "/status/404 gave result %d status %ld", (int)b->jobs[5].result,
             b->jobs[5].status);
        goto out;
    }
    rc = 0;
out:
    free(b);
    return rc;
}

static int contract_concurrent_delays_beat_serial(const struct contract_env *env, char *why, size_t len)
{
    struct batch *b = calloc(1, sizeof *b);
    uint64_t wall = 0;
    int rc = 1;
    for (int i = 0; i < 16; i++)
        add(b, env, "/delay/300");
    if (run(b, env, 20000, &wall, why, len))
        goto out;
    for (int i = 0; i < 16; i++)
        if (!job_ok(&b->jobs[i])) {
            fail(why, len, "delay %d failed: %s", i, b->jobs[i].error);
            goto out;
        }
    /* serial is 16 x 300 = 4800 ms; concurrent is ~300 ms; half of serial is generous */
    if (wall < 300 || wall >= 2400) {
        fail(why, len, "16 x /delay/300 took %llu ms; expected 300 <= t < 2400",
             (unsigned long long)wall);
        goto out;
    }
    rc = 0;
out:
    free(b);
    return rc;
}

static int contract_one_failure_leaves_others_alone(const struct contract_env *env, char *why, size_t len)
{
    struct batch b = {0};
    add(&b, env, "/bytes/5000");
    add_refused(&b, env);
    add(&b, env, "/abort");
    add(&b, env, "/bytes/5000");
    add(&b, env, "/status/500");
    add(&b, env, "/delay/100");
    if (run(&b, env, 20000, NULL, why, len))
        return 1;
    int good[] = {0, 3, 5};
    for (int k = 0; k < 3; k++) {
        struct job *j = &b.jobs[good[k]];
        EXPECT(job_ok(j) && (k == 2 || j->body_ok), "%s failed next to failures: %d %s", j->url,
               (int)j->result, j->error);
    }
    EXPECT(b.jobs[1].result == CURLE_COULDNT_CONNECT,
           "refused port gave %d (%s), expected CURLE_COULDNT_CONNECT",
           (int)b.jobs[1].result, b.jobs[1].error);
    EXPECT(b.jobs[2].result == CURLE_PARTIAL_FILE,
           "/abort gave %d (%s), expected CURLE_PARTIAL_FILE", (int)b.jobs[2].result,
           b.jobs[2].error);
    EXPECT(b.jobs[4].result == CURLE_OK && b.jobs[4].status == 500,
           "/status/500 gave %d status %ld", (int)b.jobs[4].result, b.jobs[4].status);
    return 0;
}

/* A refused connect must wake the loop at once: the backend has to turn the
 * error into readiness (Winsock select's except set, WSAPoll's POLLERR, AFD's
 * CONNECT_FAIL). Without that, libcurl still notices, but only when its own
 * 200 ms connect timer fires and it polls the socket itself. Best of three,
 * so one slow moment on a busy machine does not fail it. */
static int contract_refused_connect_is_reported_at_once(const struct contract_env *env,
                                                        char *why, size_t len)
{
    uint64_t best = UINT64_MAX;
    for (int round = 0; round < 3; round++) {
        struct batch b = {0};
        add_refused(&b, env);
        if (run(&b, env, 20000, NULL, why, len))
            return 1;
        EXPECT(b.jobs[0].result == CURLE_COULDNT_CONNECT,
               "refused port gave %d (%s), expected CURLE_COULDNT_CONNECT",
               (int)b.jobs[0].result, b.jobs[0].error);
        uint64_t took = b.jobs[0].end_ms - b.jobs[0].start_ms;
        if (took < best)
            best = took;
    }
    EXPECT(best < 150, "a refused connect took %llu ms at best of 3; libcurl's own "
           "200 ms connect check found it, not the loop", (unsigned long long)best);
    return 0;
}

static int contract_every_result_is_reported_once(const struct contract_env *env, char *why, size_t len)
{
    struct batch *b = calloc(1, sizeof *b);
    static const char *paths[] = {"/bytes/100", "/status/204", "/delay/50", "/abort", NULL};
    int rc = 1;
    for (int i = 0; i < 40; i++) {
        if (paths[i % 5])
            add(b, env, paths[i % 5]);
        else
            add_refused(b, env);
    }
    if (run(b, env, 20000, NULL, why, len) == 0)  /* checks done == 1 for each */
        rc = 0;
    for (int i = 0; i < 40 && rc == 0; i++)
        if ((i % 5 < 3) != (job_ok(&b->jobs[i]) != 0))
            rc = fail(why, len, "%s: unexpected outcome %d status %ld", b->jobs[i].url,
                      (int)b->jobs[i].result, b->jobs[i].status);
    free(b);
    return rc;
}

static int contract_stall_times_out_without_hanging(const struct contract_env *env, char *why, size_t len)
{
    struct batch b = {0};
    uint64_t wall = 0;
    add(&b, env, "/stall");
    add(&b, env, "/bytes/10");
    if (run(&b, env, 500, &wall, why, len))
        return 1;
    EXPECT(b.jobs[0].result == CURLE_OPERATION_TIMEDOUT,
           "/stall gave %d (%s), expected CURLE_OPERATION_TIMEDOUT", (int)b.jobs[0].result,
           b.jobs[0].error);
    EXPECT(job_ok(&b.jobs[1]), "/bytes/10 failed beside the stall");
    EXPECT(wall < 5000, "a 500 ms timeout took %llu ms", (unsigned long long)wall);
    return 0;
}

static int contract_drip_arrives_whole(const struct contract_env *env, char *why, size_t len)
{
    struct batch b = {0};
    add(&b, env, "/drip/20/10");
    add(&b, env, "/drip/20/10");
    if (run(&b, env, 20000, NULL, why, len))
        return 1;
    for (int i = 0; i < 2; i++)
        EXPECT(job_ok(&b.jobs[i]) && b.jobs[i].bytes == 20 && b.jobs[i].body_ok,
               "drip %d: result %d bytes %zu", i, (int)b.jobs[i].result, b.jobs[i].bytes);
    return 0;
}

static int contract_malformed_url_is_reported(const struct contract_env *env, char *why, size_t len)
{
    struct batch b = {0};
    b.jobs[0].url = "http://[::1";
    b.n = 1;
    add(&b, env, "/bytes/10");
    if (run(&b, env, 20000, NULL, why, len))
        return 1;
    EXPECT(b.jobs[0].result == CURLE_URL_MALFORMAT, "malformed URL gave %d (%s)",
           (int)b.jobs[0].result, b.jobs[0].error);
    EXPECT(job_ok(&b.jobs[1]), "/bytes/10 failed beside a malformed URL");
    return 0;
}

typedef int (*contract_fn)(const struct contract_env *, char *, size_t);
#define AS_NAME(ctx, c) #c,
#define AS_FN(ctx, c) c,
const char *const contract_names[] = {CONTRACT_CASES(AS_NAME, _) NULL};
static const contract_fn contract_fns[] = {CONTRACT_CASES(AS_FN, _) NULL};

int contract_run(const char *name, const struct contract_env *env, char *why, size_t len)
{
    for (size_t i = 0; contract_names[i]; i++)
        if (strcmp(contract_names[i], name) == 0)
            return contract_fns[i](env, why, len);
    return fail(why, len, "no contract case '%s'", name);
}
