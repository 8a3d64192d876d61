/* ch08: io_uring, Linux's proactor. RECV/SEND/CONNECT work for a socket the
 * ring owns; a RECV posted on libcurl's socket takes the reply and the transfer
 * times out; the uring-poll loop (POLL_ADD) runs libcurl with the unchanged glue.
 * Requires: uring
 * Run: make ch08   or   SERVER=http://127.0.0.1:PORT build/native/bin/ch08 */
#include "uring_demo.h"
#include "../jobs/cli.h"
#include "../jobs/job.h"
#include "../loop/loop.h"
#include "../loop/proactor/uring.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    const char *base = argc > 1 ? argv[1] : getenv("SERVER");
    char why[160], url[256], stolen[64];
    if (argc > 1 && !strcmp(argv[1], "--available")) {   /* for make doctor */
        int rc = ur_available(why, sizeof why);
        printf(rc ? "skip: io_uring is unavailable here (%s)\n" : "ok\n", why);
        return rc ? 1 : 0;
    }
    int port = cli_local_port(argv[0], base);          /* or $SERVER */
    if (port < 0)
        return 2;
    if (argc > 2) {
        fprintf(stderr, "%s: unexpected argument '%s' (one base URL only)\n", argv[0], argv[2]);
        return 2;
    }
    if (ur_available(why, sizeof why) != 0) {
        printf("skip: io_uring is unavailable here (%s)\n", why);
        return 0;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    long got = uring_get((unsigned short)port, "/bytes/1000");
    if (got < 0)
        printf("1. io_uring GET /bytes/1000 on its own socket failed: %s\n", strerror((int)-got));
    else
        printf("1. io_uring GET /bytes/1000 on its own socket: %ld bytes (headers and body)\n",
               got);
    long n = 0;
    snprintf(url, sizeof url, "%s/status/200", base);     /* a reply in one segment */
    CURLcode rc = uring_steal(url, stolen, sizeof stolen, &n);
    char *eol = strpbrk(stolen, "\r\n");
    if (eol)
        *eol = '\0';
    printf("2. libcurl with a RECV posted on its socket: CURLcode %d (%s); the RECV took "
           "%ld bytes: \"%s\"\n", (int)rc, curl_easy_strerror(rc), n, stolen);
    static struct job jobs[16];
    snprintf(url, sizeof url, "%s/delay/300", base);
    for (int i = 0; i < 16; i++)
        jobs[i] = (struct job){.url = url};
    struct job_opts o = {10000, "uring-poll", 0};
    uint64_t t0 = loop_now_ms();
    job_run_loop(jobs, 16, &o);
    int ok = 0;
    for (int i = 0; i < 16; i++)
        ok += job_ok(&jobs[i]);
    printf("3. libcurl on the uring-poll loop (POLL_ADD): %d/16 transfers ok in %llu ms\n", ok,
           (unsigned long long)(loop_now_ms() - t0));
    curl_global_cleanup();
    return got > 0 && ok == 16 && rc == CURLE_OPERATION_TIMEDOUT ? 0 : 1;
}
