/* ch07: the same program on four IOCP loops: the proactor alone (refused),
 * a selector thread, AFD poll, and WSAEventSelect with a registered wait. For
 * each bridge it runs libcurl transfers, then measures readiness over three
 * runs: wake-ups per event, per-event latency, and the threads it used.
 * Requires: windows
 * Run: make ch07   (under Wine: the timings are Wine's, not Windows')
 *      ch07.exe http://127.0.0.1:PORT */
#include "../jobs/cli.h"
#include "../glue/curlx.h"
#include "../jobs/job.h"
#include "../loop/loop.h"
#include "../loop/proactor/proactor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tlhelp32.h>

enum { ROUNDS = 300, RUNS = 3 };

static int transfers(const char *backend, const char *base, uint64_t *ms)
{
    enum { N = 32 };
    static struct job jobs[N];
    char urls[2][128];
    struct job_opts o = {10000, backend, 0};
    snprintf(urls[0], sizeof urls[0], "%s/delay/300", base);
    snprintf(urls[1], sizeof urls[1], "%s/bytes/65536", base);
    for (int i = 0; i < N; i++)
        jobs[i] = (struct job){.url = urls[i % 2]};
    char err[400];
    loop_t *loop = loop_new(backend);             /* ask the glue first, as ch06 does */
    curlx_t *cx = curlx_attach(loop, NULL, NULL, 0, err, sizeof err);
    curlx_free(cx);
    loop_free(loop);
    if (!cx) {
        printf("refused at attach: %.60s...\n", err);
        return -1;
    }
    uint64_t t0 = loop_now_ms();
    if (job_run_loop(jobs, N, &o) < 0)
        return -1;
    *ms = loop_now_ms() - t0;
    int ok = 0;
    for (int i = 0; i < N; i++)
        ok += job_ok(&jobs[i]);
    return ok;
}

/* ---- ping-pong: a peer thread sends one byte, the loop's reader echoes it */

struct pp {
    SOCKET mine, peer;
    LARGE_INTEGER sent;           /* when the peer sent the byte in flight */
    double lat_us[ROUNDS * RUNS];
    int n, end;                   /* this run ends at n == end */
    int threads;                  /* the process's threads, halfway through */
};

static int threads_now(void)
{
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
    THREADENTRY32 te;
    int n = 0;
    memset(&te, 0, sizeof te);
    te.dwSize = sizeof te;
    for (BOOL ok = Thread32First(snap, &te); ok; ok = Thread32Next(snap, &te))
        n += te.th32OwnerProcessID == GetCurrentProcessId();
    CloseHandle(snap);
    return n;
}

static double qpc_us(LARGE_INTEGER a, LARGE_INTEGER b)
{
    LARGE_INTEGER f;
    QueryPerformanceFrequency(&f);
    return (double)(b.QuadPart - a.QuadPart) * 1e6 / (double)f.QuadPart;
}

/* tag::ch07_echo */
static void on_byte(loop_t *loop, loop_fd_t fd, void *arg)
{
    struct pp *p = arg;
    LARGE_INTEGER now;
    char c;
    QueryPerformanceCounter(&now);
    if (recv(fd, &c, 1, 0) != 1)
        return;
    p->lat_us[p->n++] = qpc_us(p->sent, now);   /* readiness reached the callback */
    send(fd, &c, 1, 0);
    if (p->n == p->end - ROUNDS / 2)
        p->threads = threads_now();
    if (p->n == p->end)
        loop_remove_reader(loop, fd);
}
/* end::ch07_echo */

static DWORD WINAPI peer(void *arg)
{
    struct pp *p = arg;
    char c = 'x';
    for (int i = 0; i < ROUNDS; i++) {
        Sleep(1);                               /* let the loop go back to sleep */
        QueryPerformanceCounter(&p->sent);
        send(p->peer, &c, 1, 0);
        if (recv(p->peer, &c, 1, 0) != 1)
            break;
    }
    return 0;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* mine: the loop's end, non-blocking; peer: the thread's. No Nagle delay on either. */
static void tcp_pair(SOCKET *mine, SOCKET *peer)
{
    int one = 1;
    u_long on = 1;
    px_tcp_pair(peer, mine);
    setsockopt(*mine, IPPROTO_TCP, TCP_NODELAY, (char *)&one, sizeof one);
    setsockopt(*peer, IPPROTO_TCP, TCP_NODELAY, (char *)&one, sizeof one);
    ioctlsocket(*mine, FIONBIO, &on);
}

/* RUNS runs of ROUNDS round trips, each on a new loop; the latencies pooled.
 * Threads used: the process's threads halfway through a run, less the main
 * and peer threads (the most of the runs). */
static void readiness(const char *backend)
{
    static struct pp p;
    uint64_t waits = 0, helper = 0, calls = 0;
    int threads = 0;
    memset(&p, 0, sizeof p);
    for (int r = 0; r < RUNS; r++) {
        tcp_pair(&p.mine, &p.peer);
        p.end = p.n + ROUNDS;
        loop_t *loop = loop_new(backend);
        loop_add_reader(loop, p.mine, on_byte, &p);
        HANDLE t = CreateThread(NULL, 0, peer, &p, 0, NULL);
        loop_run(loop);
        WaitForSingleObject(t, INFINITE);
        CloseHandle(t);
        struct loop_stats st;
        loop_stats(loop, &st);
        waits += st.waits;
        helper += st.helper_waits;
        calls += st.callbacks;
        threads = p.threads - 2 > threads ? p.threads - 2 : threads;
        loop_free(loop);
        closesocket(p.mine);
        closesocket(p.peer);
    }
    double ev = calls ? (double)calls : 1.0;
    qsort(p.lat_us, (size_t)p.n, sizeof p.lat_us[0], cmp);
    printf("   readiness: %d events; wake-ups per event: loop %.2f, helper thread %.2f; "
           "latency p50 %.0f us, p99 %.0f us; threads used %d\n", p.n, (double)waits / ev,
           (double)helper / ev, p.n ? p.lat_us[p.n / 2] : 0.0,
           p.n ? p.lat_us[p.n * 99 / 100] : 0.0, threads);
}

int main(int argc, char **argv)
{
    static const char *backends[] = {"iocp", "iocp-thread", "iocp-afd", "iocp-event"};
    if (cli_local_port(argv[0], argc > 1 ? argv[1] : NULL) < 0)
        return 2;
    if (argc > 2) {
        fprintf(stderr, "%s: unexpected argument '%s' (one base URL only)\n", argv[0], argv[2]);
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    printf("32 transfers (16 x /delay/300, 16 x /bytes/65536) on each IOCP loop; "
           "%d readiness round trips in %d runs (measured under Wine)\n", ROUNDS * RUNS, RUNS);
    int bad = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t ms = 0;
        printf("%-12s ", backends[i]);
        fflush(stdout);
        int ok = transfers(backends[i], argv[1], &ms);
        if (ok < 0) {                             /* expected for the proactor alone */
            bad += i != 0;
            continue;
        }
        printf("%d/32 transfers ok in %llu ms\n", ok, (unsigned long long)ms);
        bad += ok != 32;
        readiness(backends[i]);
    }
    curl_global_cleanup();
    return bad ? 1 : 0;
}
