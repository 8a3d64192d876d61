/* The chapter programs' shared command line: parse, check URLs, run, report. */
#include "cli.h"
#include "loop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(const char *prog, const char *why)
{
    if (why)
        fprintf(stderr, "%s: %s\n", prog, why);
    fprintf(stderr,
            "usage: %s [-n N] [-t MS] [-b BACKEND] [-q] [--trace] URL...\n"
            "  -n N        fetch each URL N times (default 1)\n"
            "  -t MS       per-transfer timeout in milliseconds\n"
            "  -b BACKEND  loop backend for loop chapters (select, poll, ...)\n"
            "  -q          print only the total line\n"
            "  --trace     print each socket/timer request libcurl makes\n"
            "  A URL starting with '/' is appended to $SERVER (the local server).\n",
            prog);
    return 2;
}

static long number(const char *s, long min, long max)
{
    char *end;
    long v = s ? strtol(s, &end, 10) : -1;
    return (s && *s && !*end && v >= min && v <= max) ? v : -1;
}

/* A URL libcurl's own parser accepts, or an error naming the URL. */
static char *checked_url(const char *prog, const char *arg)
{
    char *url;
    if (arg[0] == '/') {
        const char *base = getenv("SERVER");
        if (!base || !*base) {
            fprintf(stderr, "%s: '%s' needs $SERVER (e.g. http://127.0.0.1:8080)\n", prog, arg);
            return NULL;
        }
        url = malloc(strlen(base) + strlen(arg) + 1);
        if (url)
            strcat(strcpy(url, base), arg);
    } else {
        url = strdup(arg);
    }
    CURLU *u = curl_url();
    CURLUcode uc = url && u ? curl_url_set(u, CURLUPART_URL, url, 0) : CURLUE_OUT_OF_MEMORY;
    curl_url_cleanup(u);
    if (uc != CURLUE_OK) {
        fprintf(stderr, "%s: bad URL '%s': %s\n", prog, arg, curl_url_strerror(uc));
        free(url);
        return NULL;
    }
    return url;
}

int cli_main(int argc, char **argv, const char *model, job_runner run,
             const char *backend)
{
    const char *prog = argv[0];
    struct job_opts o = {0, backend, 0};
    long repeat = 1;
    int quiet = 0, i;
    for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-n") && (repeat = number(argv[++i], 1, 100000)) > 0) continue;
        if (!strcmp(a, "-t") && (o.timeout_ms = number(argv[++i], 1, 86400000)) > 0) continue;
        if (!strcmp(a, "-b") && (o.backend = argv[++i])) continue;
        if (!strcmp(a, "-q")) { quiet = 1; continue; }
        if (!strcmp(a, "--trace")) { o.trace = 1; continue; }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return usage(prog, NULL), 0;
        return usage(prog, "bad option or value");
    }
    if (i == argc)
        return usage(prog, "no URL given");
    size_t nurl = (size_t)(argc - i), n = nurl * (size_t)repeat;
    struct job *jobs = calloc(n, sizeof *jobs);
    char **urls = calloc(nurl, sizeof *urls);
    int rc = 2;
    if (!jobs || !urls)
        goto out;
    for (size_t k = 0; k < nurl; k++)
        if (!(urls[k] = checked_url(prog, argv[i + (int)k])))
            goto out;
    for (size_t k = 0; k < n; k++)
        jobs[k].url = urls[k % nurl];
    uint64_t t0 = loop_now_ms();
    if (run(jobs, n, &o) < 0) {
        rc = 1;
        goto out;
    }
    uint64_t wall = loop_now_ms() - t0;
    size_t failed = job_report(quiet ? NULL : stdout, jobs, quiet ? 0 : n);
    if (quiet)
        for (size_t k = 0; k < n; k++)
            failed += !job_ok(&jobs[k]);
    printf("total: model=%s transfers=%zu ok=%zu failed=%zu wall=%llu ms\n",
           o.backend ? o.backend : model, n, n - failed, failed, (unsigned long long)wall);
    rc = failed ? 1 : 0;
out:
    for (size_t k = 0; urls && k < nurl; k++)
        free(urls[k]);
    free(urls);
    free(jobs);
    return rc;
}
