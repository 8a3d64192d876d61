/* ch06: the proactor. An HTTP GET over IOCP works (the proactor owns the
 * socket); libcurl on the same loop is refused at attach; forced past that,
 * it floods and stalls when the refusals are swallowed (curl_cffi 0.5.x),
 * aborts cleanly when they are returned; the selector policy makes it work.
 * Requires: windows
 * Run: make ch06   (under Wine)   or   ch06.exe http://127.0.0.1:PORT */
#include "../jobs/cli.h"
#include "../glue/curlx.h"
#include "../jobs/job.h"
#include "../loop/proactor/proactor.h"

#include <mswsock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- 1. a plain HTTP GET over the proactor: connect, send, recv until close */

struct get {
    SOCKET s;
    px_op_t op;
    char req[256], buf[16384];
    size_t total;
    DWORD error;
};

static void on_recv(loop_t *loop, px_op_t *op, DWORD bytes, DWORD err, void *arg);

static void on_sent(loop_t *loop, px_op_t *op, DWORD bytes, DWORD err, void *arg)
{
    struct get *g = arg;
    (void)bytes;
    if ((g->error = err) == 0)
        px_recv(loop, op, g->s, g->buf, sizeof g->buf, on_recv, g);
}

/* tag::ch06_on_recv */
static void on_recv(loop_t *loop, px_op_t *op, DWORD bytes, DWORD err, void *arg)
{
    struct get *g = arg;
    if ((g->error = err) != 0 || bytes == 0)   /* error, or the server closed: done */
        return;
    g->total += bytes;                         /* the data is already in g->buf */
    px_recv(loop, op, g->s, g->buf, sizeof g->buf, on_recv, g);
}
/* end::ch06_on_recv */

static void on_connected(loop_t *loop, px_op_t *op, DWORD bytes, DWORD err, void *arg)
{
    struct get *g = arg;
    (void)bytes;
    if ((g->error = err) == 0) {
        setsockopt(g->s, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, NULL, 0);
        px_send(loop, op, g->s, g->req, (ULONG)strlen(g->req), on_sent, g);
    }
}

static int proactor_get(const char *host, unsigned short port, const char *path)
{
    loop_t *loop = loop_new("iocp");
    struct get g = {0};
    struct sockaddr_in any = {0}, to = {0};
    any.sin_family = to.sin_family = AF_INET;
    to.sin_port = htons(port);
    inet_pton(AF_INET, host, &to.sin_addr);
    g.s = WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_OVERLAPPED);
    bind(g.s, (struct sockaddr *)&any, sizeof any);     /* ConnectEx needs it */
    snprintf(g.req, sizeof g.req, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
             path, host);
    px_associate(loop, g.s);
    if (px_connect(loop, &g.op, g.s, (struct sockaddr *)&to, sizeof to, on_connected, &g))
        printf("  connect failed: %s\n", loop_error(loop));
    loop_run(loop);
    printf("1. proactor GET %s: %zu bytes (headers and body), error %lu\n", path, g.total,
           g.error);
    closesocket(g.s);
    loop_free(loop);
    return g.error == 0 && g.total > 0 ? 0 : 1;
}

/* ---- 2-6. libcurl on the default loop: refused, the seed's flood (void
 * callback, with and without the forced tick), the clean abort, the fix */

static void on_done(CURL *easy, CURLcode result, void *arg)
{
    (void)arg;
    job_finish(easy, result);
}

/* In void mode the glue reports each refused request here, as cffi printed
 * "Exception ignored" for each NotImplementedError curl_cffi 0.5.x swallowed. */
static void on_trace(const char *event, void *arg)
{
    (void)arg;
    if (strncmp(event, "ignored: ", 9) == 0)
        printf("   %s\n", event);
}

#define BATCH 4

static int curl_on(const char *what, unsigned flags, const char *url)
{
    char err[512];
    struct job jobs[BATCH] = {{0}};
    struct job_opts o = {3000, NULL, 0};          /* the flood stalls: keep it short */
    loop_t *loop = loop_new(NULL);                /* whatever the policy says */
    curlx_t *cx = curlx_attach(loop, on_done, NULL, flags, err, sizeof err);
    printf("%s on the '%s' loop:\n", what, loop_name(loop));
    if (!cx) {
        printf("   refused at attach: %s\n", err);
        loop_free(loop);
        return 1;
    }
    curlx_trace(cx, on_trace, NULL);
    uint64_t t0 = loop_now_ms();
    for (int i = 0; i < BATCH; i++) {
        jobs[i].url = url;
        curlx_add(cx, job_easy(&jobs[i], &o));
    }
    loop_run(loop);
    int ok = BATCH - (int)job_report(stdout, jobs, BATCH);
    printf("   %d/%d ok in %llu ms; refused requests %zu; CURLMcode %d (%s)\n", ok, BATCH,
           (unsigned long long)(loop_now_ms() - t0), curlx_refusals(cx), (int)curlx_mcode(cx),
           curl_multi_strerror(curlx_mcode(cx)));
    if (curlx_error(cx)[0])
        printf("   glue: %s\n", curlx_error(cx));
    curlx_free(cx);
    loop_free(loop);
    return ok == BATCH ? 0 : 1;
}

int main(int argc, char **argv)
{
    char url[256];
    int port = cli_local_port(argv[0], argc > 1 ? argv[1] : NULL);
    if (port < 0)
        return 2;
    if (argc > 2) {
        fprintf(stderr, "%s: unexpected argument '%s' (one base URL only)\n", argv[0], argv[2]);
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);     /* also WSAStartup */
    int bad = proactor_get("127.0.0.1", (unsigned short)port, "/bytes/1000");
    snprintf(url, sizeof url, "%s/delay/300", argv[1]);
    bad += !curl_on("2. libcurl", 0, url);                     /* expected: refused */
    bad += !curl_on("3. curl_cffi 0.5.x's flood: forced, refusals ignored (void callback)",
                    CURLX_FORCE | CURLX_VOID_CALLBACK, url);
    bad += !curl_on("4. the same, with curl_cffi 0.5.x's forced timeout every second",
                    CURLX_FORCE | CURLX_VOID_CALLBACK | CURLX_TICK_1S, url);
    bad += !curl_on("5. forced, the glue returns -1 (this project's glue)", CURLX_FORCE, url);
    loop_policy_set(LOOP_POLICY_SELECTOR);                     /* the seed's workaround */
    bad += curl_on("6. libcurl after loop_policy_set(LOOP_POLICY_SELECTOR)", 0, url);
    curl_global_cleanup();
    return bad ? 1 : 0;
}
