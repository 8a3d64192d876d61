/* The local HTTP server: libmicrohttpd, one thread per connection, so a
 * delayed or stalled reply can simply sleep. */
#include "server.h"
#include "pattern.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct srv {
    struct MHD_Daemon *d;
    unsigned short port;
    volatile int stopping;
};

enum body_kind { BODY_BYTES, BODY_DRIP, BODY_STALL, BODY_ABORT };

struct body {
    srv_t *srv;
    enum body_kind kind;
    size_t size;        /* the Content-Length announced */
    long ms;            /* drip: between bytes */
};

/* Sleep in slices so srv_stop() never waits on a sleeping reply. */
static void nap(srv_t *s, long ms)
{
    while (ms > 0 && !s->stopping) {
        long step = ms < 10 ? ms : 10;
        struct timespec ts = {0, step * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
}

static ssize_t body_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct body *b = cls;
    switch (b->kind) {
    case BODY_STALL:
        nap(b->srv, 60000);                     /* headers sent; then nothing */
        return MHD_CONTENT_READER_END_WITH_ERROR;
    case BODY_ABORT:
        if (pos >= b->size / 2)
            return MHD_CONTENT_READER_END_WITH_ERROR;  /* close mid-body */
        if (max > b->size / 2 - pos)
            max = b->size / 2 - pos;
        break;
    case BODY_DRIP:
        nap(b->srv, b->ms);
        if (b->srv->stopping)
            return MHD_CONTENT_READER_END_WITH_ERROR;
        max = 1;
        break;
    case BODY_BYTES:
        break;
    }
    if (max > b->size - pos)
        max = b->size - pos;
    for (size_t i = 0; i < max; i++)
        buf[i] = pattern_byte(pos + i);
    return (ssize_t)max;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned code, const char *text)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "text/plain");
    enum MHD_Result ok = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result reply_body(struct MHD_Connection *c, srv_t *s,
                                  enum body_kind kind, size_t size, long ms)
{
    struct body *b = malloc(sizeof *b);
    if (!b)
        return MHD_NO;
    *b = (struct body){s, kind, size, ms};
    struct MHD_Response *r = MHD_create_response_from_callback(
        size, kind == BODY_BYTES ? 32 * 1024 : 1024, body_read, b, free);
    MHD_add_response_header(r, "Content-Type", "application/octet-stream");
    enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ok;
}

/* Parse "/name/%ld" or "/name/%ld/%ld" exactly; trailing junk is a bad request. */
static int route(const char *url, const char *name, int nargs, long *a, long *b)
{
    size_t n = strlen(name);
    if (strncmp(url, name, n) != 0 || (url[n] != '/' && url[n] != '\0'))
        return 0;
    int used = -1;
    if (nargs == 0)
        return url[n] == '\0' ? 1 : -1;
    if (nargs == 1 && sscanf(url + n, "/%ld%n", a, &used) == 1 && url[n + used] == '\0')
        return 1;
    if (nargs == 2 && sscanf(url + n, "/%ld/%ld%n", a, b, &used) == 2 && url[n + used] == '\0')
        return 1;
    return -1;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **state)
{
    static int first_call;
    srv_t *s = cls;
    long a = 0, b = 0;
    int r;
    char msg[160];
    (void)version; (void)upload; (void)upload_size;
    if (*state == NULL) {              /* headers only so far */
        *state = &first_call;
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return reply_text(c, 405, "only GET and HEAD\n");
    if ((r = route(url, "/bytes", 1, &a, &b)) == 1 && a >= 0 && a <= (1L << 30))
        return reply_body(c, s, BODY_BYTES, (size_t)a, 0);
    if (r == 0 && (r = route(url, "/delay", 1, &a, &b)) == 1 && a >= 0 && a <= 60000) {
        nap(s, a);
        snprintf(msg, sizeof msg, "delayed %ld ms\n", a);
        return reply_text(c, 200, msg);
    }
    if (r == 0 && (r = route(url, "/drip", 2, &a, &b)) == 1 &&
        a >= 0 && a <= 100000 && b >= 0 && b <= 10000)
        return reply_body(c, s, BODY_DRIP, (size_t)a, b);
    if (r == 0 && (r = route(url, "/stall", 0, &a, &b)) == 1)
        return reply_body(c, s, BODY_STALL, 1024, 0);
    if (r == 0 && (r = route(url, "/abort", 0, &a, &b)) == 1)
        return reply_body(c, s, BODY_ABORT, 2000, 0);
    if (r == 0 && (r = route(url, "/status", 1, &a, &b)) == 1 && a >= 200 && a <= 599) {
        snprintf(msg, sizeof msg, "status %ld\n", a);
        return reply_text(c, (unsigned)a, msg);
    }
    if (r == 0) {
        snprintf(msg, sizeof msg, "no such route: %.80s (try /bytes/N /delay/MS "
                 "/drip/N/MS /stall /abort /status/CODE)\n", url);
        return reply_text(c, 404, msg);
    }
    snprintf(msg, sizeof msg, "bad parameter in %.80s\n", url);
    return reply_text(c, 400, msg);
}

srv_t *srv_start(unsigned short port)
{
    srv_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL,
        port, NULL, NULL, on_request, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)20000,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)4096,
        MHD_OPTION_THREAD_STACK_SIZE, (size_t)(128 * 1024),
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
        MHD_OPTION_END);
    if (!s->d) {
        fprintf(stderr, "server: cannot listen on 127.0.0.1:%u\n", port);
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : port;
    return s;
}

unsigned short srv_port(const srv_t *s) { return s->port; }

void srv_stop(srv_t *s)
{
    if (!s)
        return;
    s->stopping = 1;
    MHD_stop_daemon(s->d);
    free(s);
}
