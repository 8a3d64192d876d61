/* Is libcurl's socket selected with WSAEventSelect while libcurl's own loop
 * (curl_multi_poll) waits? Asked from another thread, the way Winsock lets one
 * ask: a socket with a network-event selection cannot be made blocking again
 * (ioctlsocket FIONBIO 0 fails with WSAEINVAL); a socket without one can.
 * The same question while a select loop waits is the control.
 * Usage: win_multi.exe BASE_URL     Prints "FACT <name> <value>". */
#include "../../code/glue/curlx.h"
#include "../../code/jobs/job.h"
#include "../../code/loop/loop.h"

#include <stdio.h>
#include <string.h>

static volatile SOCKET seen = INVALID_SOCKET;

static int on_sockopt(void *arg, curl_socket_t s, curlsocktype purpose)
{
    (void)arg; (void)purpose;
    seen = s;
    return CURL_SOCKOPT_OK;
}

/* tag::selection_probe */
/* Halfway through the server's 1 s delay libcurl is waiting for the reply. */
static DWORD WINAPI probe(void *arg)
{
    int *error = arg;
    u_long zero = 0, one = 1;
    while (seen == INVALID_SOCKET)
        Sleep(5);
    Sleep(500);
    if (ioctlsocket(seen, FIONBIO, &zero) == 0) {
        *error = 0;                               /* no selection: it was allowed */
        ioctlsocket(seen, FIONBIO, &one);         /* and is undone at once */
    } else {
        *error = WSAGetLastError();               /* 10022: a selection is set */
    }
    return 0;
}
/* end::selection_probe */

static CURL *easy_for(struct job *j, const char *url)
{
    static const struct job_opts o = {10000, NULL, 0};
    j->url = url;
    CURL *e = job_easy(j, &o);
    curl_easy_setopt(e, CURLOPT_SOCKOPTFUNCTION, on_sockopt);
    return e;
}

/* libcurl's own loop, as chapter 2 runs it. */
static void own_loop(struct job *j, const char *url)
{
    CURLM *m = curl_multi_init();
    curl_multi_add_handle(m, easy_for(j, url));
    int running = 1, left;
    while (running) {
        curl_multi_perform(m, &running);
        for (CURLMsg *msg; (msg = curl_multi_info_read(m, &left));)
            if (msg->msg == CURLMSG_DONE) {
                CURL *e = msg->easy_handle;
                CURLcode rc = msg->data.result;
                curl_multi_remove_handle(m, e);
                job_finish(e, rc);
            }
        if (running)
            curl_multi_poll(m, NULL, 0, 1000, NULL);
    }
    curl_multi_cleanup(m);
}

static void done(CURL *easy, CURLcode result, void *arg)
{
    (void)arg;
    job_finish(easy, result);
}

/* The glue on a select loop: libcurl never selects the socket itself. */
static void select_loop(struct job *j, const char *url)
{
    char err[256];
    loop_t *loop = loop_new("select");
    curlx_t *cx = curlx_attach(loop, done, NULL, 0, err, sizeof err);
    curlx_add(cx, easy_for(j, url));
    loop_run(loop);
    curlx_free(cx);
    loop_free(loop);
}

static void ask(const char *name, void (*run)(struct job *, const char *), const char *url)
{
    struct job j;
    int error = -1;
    memset(&j, 0, sizeof j);
    seen = INVALID_SOCKET;
    HANDLE t = CreateThread(NULL, 0, probe, &error, 0, NULL);
    run(&j, url);
    WaitForSingleObject(t, INFINITE);
    CloseHandle(t);
    printf("FACT %s fionbio_error=%d ok=%d\n", name, error, job_ok(&j));
}

int main(int argc, char **argv)
{
    WSADATA wsa;
    char url[160];
    if (argc != 2) {
        fprintf(stderr, "usage: %s BASE_URL\n", argv[0]);
        return 2;
    }
    WSAStartup(MAKEWORD(2, 2), &wsa);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    snprintf(url, sizeof url, "%s/delay/1000", argv[1]);
    ask("own_loop_waiting", own_loop, url);
    ask("select_loop_waiting", select_loop, url);
    fflush(stdout);
    curl_global_cleanup();
    return 0;
}
