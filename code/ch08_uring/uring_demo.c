/* Chapter 8's experiments: io_uring works for its own sockets, and takes
 * libcurl's bytes if it is pointed at libcurl's socket. */
#include "uring_demo.h"
#include "../glue/curlx.h"
#include "../jobs/job.h"
#include "../loop/proactor/uring.h"

#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct get {
    int fd;
    ur_op_t op;
    char req[160], buf[16384];
    long total;
};

static void on_recv(loop_t *loop, ur_op_t *op, int res, void *arg);

static void on_sent(loop_t *loop, ur_op_t *op, int res, void *arg)
{
    struct get *g = arg;
    if (res < 0)
        g->total = res;
    else
        ur_recv(loop, op, g->fd, g->buf, sizeof g->buf, on_recv, g);
}

/* tag::uring_on_recv */
static void on_recv(loop_t *loop, ur_op_t *op, int res, void *arg)
{
    struct get *g = arg;
    if (res <= 0) {                           /* error, or the server closed: done */
        if (res < 0)
            g->total = res;
        return;
    }
    g->total += res;                          /* the data is already in g->buf */
    ur_recv(loop, op, g->fd, g->buf, sizeof g->buf, on_recv, g);
}
/* end::uring_on_recv */

static void on_connected(loop_t *loop, ur_op_t *op, int res, void *arg)
{
    struct get *g = arg;
    if (res < 0)
        g->total = res;
    else
        ur_send(loop, op, g->fd, g->req, strlen(g->req), on_sent, g);
}

long uring_get(unsigned short port, const char *path)
{
    loop_t *loop = loop_new("uring");
    if (!loop)
        return -ENOSYS;
    struct get g = {.fd = socket(AF_INET, SOCK_STREAM, 0)};
    struct sockaddr_in to = {0};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    snprintf(g.req, sizeof g.req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             "Connection: close\r\n\r\n", path);
    ur_connect(loop, &g.op, g.fd, (struct sockaddr *)&to, sizeof to, on_connected, &g);
    loop_run(loop);
    close(g.fd);
    loop_free(loop);
    return g.total;
}

/* ---- a RECV on libcurl's socket */

struct theft {
    struct io_uring ring;
    int fd;
    char buf[8192];
};

static int note_socket(void *arg, curl_socket_t s, curlsocktype purpose)
{
    struct theft *t = arg;
    (void)purpose;
    t->fd = s;                                /* libcurl shows us its socket */
    return CURL_SOCKOPT_OK;
}

/* tag::uring_steal */
/* Connected, request not sent yet: post a RECV on libcurl's socket. */
static int steal(void *arg, char *ip, char *local_ip, int port, int local_port)
{
    struct theft *t = arg;
    (void)ip; (void)local_ip; (void)port; (void)local_port;
    struct io_uring_sqe *sqe = io_uring_get_sqe(&t->ring);
    io_uring_prep_recv(sqe, t->fd, t->buf, sizeof t->buf - 1, 0);
    io_uring_submit(&t->ring);
    return CURL_PREREQFUNC_OK;
}
/* end::uring_steal */

static void on_done(CURL *easy, CURLcode rc, void *arg)
{
    (void)arg;
    job_finish(easy, rc);
}

CURLcode uring_steal(const char *url, char *stolen, size_t len, long *n)
{
    struct theft t = {.fd = -1};
    struct job j = {.url = url};
    struct job_opts o = {2000, "epoll", 0};
    char err[400];
    *n = 0;
    stolen[0] = '\0';
    if (io_uring_queue_init(4, &t.ring, 0) < 0)
        return CURLE_FAILED_INIT;
    loop_t *loop = loop_new("epoll");
    curlx_t *cx = curlx_attach(loop, on_done, NULL, 0, err, sizeof err);
    CURL *easy = job_easy(&j, &o);
    curl_easy_setopt(easy, CURLOPT_SOCKOPTFUNCTION, note_socket);
    curl_easy_setopt(easy, CURLOPT_SOCKOPTDATA, &t);
    curl_easy_setopt(easy, CURLOPT_PREREQFUNCTION, steal);
    curl_easy_setopt(easy, CURLOPT_PREREQDATA, &t);
    curlx_add(cx, easy);
    loop_run(loop);                           /* libcurl waits for a reply it never sees */
    curlx_free(cx);
    loop_free(loop);
    struct io_uring_cqe *cqe;
    struct __kernel_timespec ts = {1, 0};
    if (io_uring_wait_cqe_timeout(&t.ring, &cqe, &ts) == 0) {
        *n = cqe->res;
        if (cqe->res > 0)
            snprintf(stolen, len, "%.*s", cqe->res, t.buf);
        io_uring_cqe_seen(&t.ring, cqe);
    }
    io_uring_queue_exit(&t.ring);
    return j.result;
}
