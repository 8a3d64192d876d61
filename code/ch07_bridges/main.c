/* ch07: the same program on three IOCP loops: the proactor alone (refused),
 * a selector thread, and AFD poll. For each bridge it runs libcurl transfers,
 * then measures readiness: loop wake-ups per event and per-event latency.
 * Requires: windows
 * Run: make ch07   (under Wine: the timings are Wine's, not Windows')
 *      ch07.exe http://127.0.0.1:PORT */
#include "../core/cli.h"
#include "../core/curlx.h"
#include "../core/job.h"
#include "../core/loop.h"
#include "../core/proactor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ROUNDS = 300 };

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
    double lat_us[ROUNDS];
    int n;
};

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
    if (p->n == ROUNDS)
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

static void readiness(const char *backend)
{
    static struct pp p;
    memset(&p, 0, sizeof p);
    tcp_pair(&p.mine, &p.peer);
    loop_t *loop = loop_new(backend);
    loop_add_reader(loop, p.mine, on_byte, &p);
    HANDLE t = CreateThread(NULL, 0, peer, &p, 0, NULL);
    loop_run(loop);
    WaitForSingleObject(t, INFINITE);
    CloseHandle(t);
    struct loop_stats st;
    loop_stats(loop, &st);
    double ev = st.callbacks ? (double)st.callbacks : 1.0;
    qsort(p.lat_us, (size_t)p.n, sizeof p.lat_us[0], cmp);
    printf("   readiness: %d events; wake-ups per event: loop %.2f, helper thread %.2f; "
           "latency p50 %.0f us, p99 %.0f us\n", p.n, (double)st.waits / ev,
           (double)st.helper_waits / ev, p.n ? p.lat_us[p.n / 2] : 0.0,
           p.n ? p.lat_us[p.n * 99 / 100] : 0.0);
    loop_free(loop);
    closesocket(p.mine);
    closesocket(p.peer);
}

int main(int argc, char **argv)
{
    static const char *backends[] = {"iocp", "iocp-thread", "iocp-afd"};
    if (cli_local_port(argv[0], argc > 1 ? argv[1] : NULL) < 0)
        return 2;
    if (argc > 2) {
        fprintf(stderr, "%s: unexpected argument '%s' (one base URL only)\n", argv[0], argv[2]);
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    printf("32 transfers (16 x /delay/300, 16 x /bytes/65536) on each IOCP loop; "
           "%d readiness round trips (measured under Wine)\n", ROUNDS);
    int bad = 0;
    for (int i = 0; i < 3; i++) {
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
