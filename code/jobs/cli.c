/* The chapter programs' shared command line: parse, check URLs, run, report. */
#include "cli.h"
#include "../loop/loop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <sys/resource.h>
#endif

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

/* $SERVER as a base for paths: http(s)://host[:port], no trailing '/'. NULL
 * when it is fine, or what is wrong with it. */
static const char *server_fault(const char *base)
{
    if (strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0)
        return "it has no http:// or https:// in front";
    const char *host = strstr(base, "://") + 3;
    if (!*host)
        return "it names no host";
    if (base[strlen(base) - 1] == '/')
        return "it ends with '/', so every path would start with '//' (and answer 404)";
    if (strchr(host, '/'))
        return "it has a path; give only http://HOST:PORT";
    return NULL;
}

/* A URL libcurl's own parser accepts, or an error naming the URL. */
static char *checked_url(const char *prog, const char *arg)
{
    char *url;
    if (arg[0] == '/') {
        const char *base = getenv("SERVER"), *fault;
        if (!base || !*base) {
            fprintf(stderr, "%s: '%s' needs $SERVER (e.g. http://127.0.0.1:8080)\n", prog, arg);
            return NULL;
        }
        if ((fault = server_fault(base))) {
            fprintf(stderr, "%s: SERVER='%s' is not a server's address: %s (the URL would be "
                    "'%s%s'; e.g. SERVER=http://127.0.0.1:8080)\n", prog, base, fault, base, arg);
            return NULL;
        }
        url = malloc(strlen(base) + strlen(arg) + 1);
        if (url)
            strcat(strcpy(url, base), arg);
    } else if (!strstr(arg, "://")) {
        fprintf(stderr, "%s: bad URL '%s': neither a URL (http://...) nor a path on $SERVER "
                "(a path starts with '/': '/%s')\n", prog, arg, arg);
        return NULL;
    } else {
        url = strdup(arg);
    }
    CURLU *u = curl_url();
    char *scheme = NULL;
    /* any scheme parses, so the check below names it whatever this libcurl was built with */
    CURLUcode uc = url && u ? curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME)
                            : CURLUE_OUT_OF_MEMORY;
    if (uc == CURLUE_OK)
        uc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    curl_url_cleanup(u);
    int web = scheme && (!strcmp(scheme, "http") || !strcmp(scheme, "https"));
    curl_free(scheme);
    if (uc != CURLUE_OK || !web) {
        fprintf(stderr, "%s: bad URL '%s': %s\n", prog, arg,
                uc != CURLUE_OK ? curl_url_strerror(uc) : "only http and https are fetched here");
        free(url);
        return NULL;
    }
    return url;
}

/* n transfers at once need n sockets: say so before starting, not after
 * thousands of "Couldn't connect". 0 when they fit (raising the soft limit
 * toward the hard one if needed). */
static int fits_open_files(const char *prog, size_t n)
{
#ifdef _WIN32
    (void)prog; (void)n;
    return 0;
#else
    struct rlimit rl;
    rlim_t want = (rlim_t)n + 64;            /* plus the server, stdio, libcurl's own */
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
        return 0;
    if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want) {
        rl.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
            return 0;
    }
    fprintf(stderr, "%s: %zu transfers at once need about %llu open files, and this "
            "process may open %llu (ulimit -n; the hard limit is %llu). Raise it "
            "(ulimit -n, or /etc/security/limits.conf), or ask for fewer with -n.\n",
            prog, n, (unsigned long long)want, (unsigned long long)rl.rlim_cur,
            (unsigned long long)rl.rlim_max);
    return -1;
#endif
}

/* The value after option argv[*i], as a number in [min, max]; -1 (and a
 * message naming the option) when it is missing or not such a number. */
static long option_number(const char *prog, char **argv, int argc, int *i, long min, long max)
{
    const char *opt = argv[*i], *v = *i + 1 < argc ? argv[++*i] : NULL;
    long n = number(v, min, max);
    if (n < 0)
        fprintf(stderr, "%s: %s needs a number from %ld to %ld, not %s%s%s\n", prog, opt, min,
                max, v ? "'" : "", v ? v : "nothing", v ? "'" : "");
    return n;
}

/* -b NAME: only for loop chapters (they have a default backend), and only a
 * backend this build has. */
static int backend_ok(const char *prog, const char *model, const char *deflt, const char *name)
{
    if (!deflt) {
        fprintf(stderr, "%s: -b: the %s model has no loop backend to choose\n", prog, model);
        return 0;
    }
    return cli_backend_known(prog, name);
}

int cli_backend_known(const char *prog, const char *name)
{
    for (const char *const *b = loop_backends(); *b; b++)
        if (!strcmp(*b, name))
            return 1;
    fprintf(stderr, "%s: unknown backend '%s'; this build has:", prog, name);
    for (const char *const *b = loop_backends(); *b; b++)
        fprintf(stderr, " %s", *b);
    fprintf(stderr, "\n");
    return 0;
}

int cli_local_port(const char *prog, const char *base)
{
    unsigned port = 0;
    int end = 0;
    if (base && (sscanf(base, "http://127.0.0.1:%5u%n", &port, &end) == 1 ||
                 sscanf(base, "http://localhost:%5u%n", &port, &end) == 1) &&
        (base[end] == '\0' || !strcmp(base + end, "/")) && port >= 1 && port <= 65535)
        return (int)port;
    if (base)
        fprintf(stderr, "%s: '%s' is not the local server's address\n", prog, base);
    fprintf(stderr, "usage: %s http://127.0.0.1:PORT   (or http://localhost:PORT); "
                    "PORT from 1 to 65535\n", prog);
    return -1;
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
        if (!strcmp(a, "-n")) {
            if ((repeat = option_number(prog, argv, argc, &i, 1, 100000)) < 0)
                return 2;
        } else if (!strcmp(a, "-t")) {
            if ((o.timeout_ms = option_number(prog, argv, argc, &i, 1, 86400000)) < 0)
                return 2;
        } else if (!strcmp(a, "-b")) {
            if (i + 1 == argc)
                return usage(prog, "-b needs a backend name");
            if (!backend_ok(prog, model, backend, argv[++i]))
                return 2;
            o.backend = argv[i];
        } else if (!strcmp(a, "-q")) {
            quiet = 1;
        } else if (!strcmp(a, "--trace")) {
            if (!backend)
                return fprintf(stderr, "%s: --trace: the %s model has no loop to trace\n", prog,
                               model), 2;
            o.trace = 1;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            return usage(prog, NULL), 0;
        } else {
            fprintf(stderr, "%s: unknown option '%s'\n", prog, a);
            return usage(prog, NULL);
        }
    }
    if (i == argc)
        return usage(prog, "no URL given");
    size_t nurl = (size_t)(argc - i), n = nurl * (size_t)repeat;
    if (strcmp(model, "blocking") != 0 && fits_open_files(prog, n) != 0)
        return 2;
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
    job_catch_interrupt();                   /* ^C: the rows so far, and exit 130 */
    int ran = run(jobs, n, &o);
    size_t ended = 0;
    for (size_t k = 0; k < n; k++)
        ended += jobs[k].done;
    if (ran < 0 && ended == 0) {             /* nothing started; the runner said why */
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
    rc = job_interrupted() ? 130 : failed || ran < 0 ? 1 : 0;
out:
    for (size_t k = 0; urls && k < nurl; k++)
        free(urls[k]);
    free(urls);
    free(jobs);
    return rc;
}
