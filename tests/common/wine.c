/* See wine.h. */
#include "wine.h"
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Relative to the test binary's directory (see t_path). */
#ifndef WIN_BIN_REL
#define WIN_BIN_REL "../../win/bin"
#endif
#ifndef ROOT_REL
#define ROOT_REL "../../.."
#endif

static const char *win_bin(void)
{
    static char dir[1024];
    return dir[0] ? dir : t_path(WIN_BIN_REL, dir, sizeof dir);
}

void wine_require(const char *exe)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/%s", win_bin(), exe);
    if (access(path, R_OK) == 0)
        return;
    /* a skip must be true: with the tools here, a missing program is a build fault */
    cr_assert(!(t_have_command("x86_64-w64-mingw32-gcc") && t_have_command("wine")),
              "%s is not built, yet mingw-w64 and Wine are both installed: the build "
              "left it out (make win builds it)", exe);
    cr_skip_test("%s is not built: the Windows chapters need mingw-w64 and Wine "
                 "(as root: apt-get install gcc-mingw-w64-x86-64 wine64 wine)", exe);
}

/* How the last run of the program ended: "" when it ran to its end. */
static char failure[4600];

const char *wine_failure(void) { return failure[0] ? failure : NULL; }

/* The text that says how a run ended, from its exit status and output. */
static void describe(const char *exe, int rc, const char *out, const char *err)
{
    failure[0] = '\0';
    if (rc == 0)
        return;
    /* name the last thing it printed: the step after it is the one that hung or died */
    const char *last = NULL, *p = out;
    for (const char *nl; *p; p = nl + 1) {
        if (strncmp(p, "FACT ", 5) == 0 || strncmp(p, "CASE ", 5) == 0)
            last = p;
        if (!(nl = strchr(p, '\n')))
            break;
    }
    int len = last ? (int)strcspn(last, "\r\n") : 0;
    snprintf(failure, sizeof failure, "%s under Wine %s (exit %d); %s%.*s%s%s", exe,
             rc == 124 || rc < 0 ? "was killed: it did not finish in time" : "failed",
             rc, last ? "the last line it printed was \"" : "it printed nothing",
             len, last ? last : "", last ? "\", so the step after it hung or died. " : ". ", err);
}

/* The output of @exe with @args, run once per test run and @part (NULL: one part). */
static const char *part_output(const char *exe, const char *part, const char *const args[])
{
    static char out[1 << 16];
    char cache[1200], lockp[1220], err[4096], path[1100];
    int rc = 0;
    /* Criterion forks each test from one runner: its pid names this test run.
     * The arguments do not: each test's server has its own URL, and the first
     * test's run answers them all. */
    snprintf(cache, sizeof cache, "%s/../results/%s%s%s.%ld.txt", win_bin(), exe,
             part ? "." : "", part ? part : "", (long)getppid());
    snprintf(lockp, sizeof lockp, "%s.lock", cache);
    snprintf(path, sizeof path, "%s/../results", win_bin());
    mkdir(path, 0755);
    int lk = open(lockp, O_CREAT | O_RDWR, 0644);
    flock(lk, LOCK_EX);
    FILE *f = fopen(cache, "r");
    err[0] = '\0';
    if (f) {                       /* "RC n" and its stderr line, then what it printed */
        char head[32];             /* line by line: fscanf's "\n" would eat an empty stderr line */
        if (!fgets(head, sizeof head, f) || sscanf(head, "RC %d", &rc) != 1 ||
            !fgets(err, sizeof err, f))
            rc = -2;
        err[strcspn(err, "\n")] = '\0';
        size_t n = fread(out, 1, sizeof out - 1, f);
        out[n] = '\0';
        fclose(f);
    } else {
        /* WINE_TIMEOUT: the exercise checker's shorter limit; a hung exe fails the test */
        const char *limit = getenv("WINE_TIMEOUT") ? getenv("WINE_TIMEOUT") : "600";
        const char *argv[32] = {limit, path};
        snprintf(path, sizeof path, "%s/%s", win_bin(), exe);
        for (int i = 0; args[i] && i < 28; i++)
            argv[i + 2] = args[i];
        char root[1024], runner[1100];
        snprintf(runner, sizeof runner, "%s/tools/wine-run.sh", t_path(ROOT_REL, root, sizeof root));
        rc = t_run(runner, argv, out, sizeof out, err, sizeof err, atoi(limit) + 100);
        for (char *q = err; (q = strchr(q, '\n'));)
            *q = ' ';               /* one line in the cache */
        if ((f = fopen(cache, "w"))) {   /* kept even when it failed: the facts before it hold */
            fprintf(f, "RC %d\n%s\n%s", rc, err, out);
            fclose(f);
        }
    }
    flock(lk, LOCK_UN);
    close(lk);
    describe(exe, rc, out, err);
    return out;
}

const char *wine_partial_output(const char *exe, const char *const args[])
{
    return part_output(exe, NULL, args);
}

const char *wine_output(const char *exe, const char *const args[])
{
    const char *out = wine_partial_output(exe, args);
    if (wine_failure())
        cr_assert_fail("%s", wine_failure());
    return out;
}

const char *wine_line(const char *out, const char *prefix, char *line, size_t len)
{
    size_t pl = strlen(prefix);
    for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, prefix, pl) == 0) {
            const char *end = strchr(p, '\n');
            size_t n = end ? (size_t)(end - p) - pl : strlen(p) - pl;
            snprintf(line, len, "%.*s", (int)n, p + pl);
            line[strcspn(line, "\r")] = '\0';      /* Windows text mode: CRLF */
            while (line[0] == ' ')
                memmove(line, line + 1, strlen(line));
            return line;
        }
    return NULL;
}

void wine_contract_case(const char *backend, const char *name)
{
    char port[16], prefix[160], line[600];
    wine_require("win_contract.exe");
    snprintf(port, sizeof port, "%u", t_refused_port);
    /* WINE_CONTRACT_BACKENDS: the breakers run only the backend they break */
    char only[64];
    const char *args[8] = {t_base, port, "select", "wsapoll", "iocp-thread", "iocp-afd",
                            "iocp-event", NULL};
    const char *env = getenv("WINE_CONTRACT_BACKENDS");
    if (env && *env && sscanf(env, "%63s", only) == 1) {
        args[2] = only;
        args[3] = NULL;
    }
    const char *out = wine_partial_output("win_contract.exe", args);
    snprintf(prefix, sizeof prefix, "CASE %s %s ", backend, name);
    if (!wine_line(out, prefix, line, sizeof line) && wine_failure())
        cr_assert_fail("no result for %s on %s: %s", name, backend, wine_failure());
    cr_assert_not_null(wine_line(out, prefix, line, sizeof line),
                       "no result for %s on %s in:\n%s", name, backend, out);
    cr_assert(strncmp(line, "PASS", 4) == 0, "%s on %s under Wine: %s", name, backend, line);
}

const char *wine_fact(const char *exe, const char *const args[], const char *name,
                      char *line, size_t len)
{
    return wine_part_fact(exe, NULL, args, name, line, len);
}

const char *wine_part_fact(const char *exe, const char *part, const char *const args[],
                           const char *name, char *line, size_t len)
{
    char prefix[96];
    wine_require(exe);
    /* a fact printed before the program hung or died still holds: the test
     * judges its values; a fact it never reached fails with how it ended */
    const char *out = part_output(exe, part, args);
    snprintf(prefix, sizeof prefix, "FACT %s ", name);
    if (!wine_line(out, prefix, line, len) && wine_failure())
        cr_assert_fail("no FACT %s: %s", name, wine_failure());
    cr_assert_not_null(wine_line(out, prefix, line, len), "no FACT %s in:\n%s", name, out);
    return line;
}
