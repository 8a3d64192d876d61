/* The local HTTP server as a program, for demos and for the Windows programs
 * under Wine. Prints its base URL on the first line, runs until SIGINT or
 * SIGTERM, then stops cleanly (exit 0).
 * Usage: server [PORT]     (0 or nothing: any free port) */
#include "server.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

/* As many descriptors as the hard limit allows: one per connection. */
static void raise_open_files(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int main(int argc, char **argv)
{
    char *end = NULL;
    long port = argc > 1 ? strtol(argv[1], &end, 10) : 0;
    if (argc > 2 || (end && *end) || port < 0 || port > 65535) {
        fprintf(stderr, "usage: server [PORT]   (PORT 0-65535, 0 = any free port)\n");
        return 2;
    }
    /* Blocked before any thread starts, so every thread inherits the mask and
     * the signals wait for sigwait below: none can land on a thread that
     * does not handle it. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    raise_open_files();
    srv_t *s = srv_start((unsigned short)port);
    if (!s)
        return 1;
    printf("http://127.0.0.1:%u\n", srv_port(s));
    fflush(stdout);
    fprintf(stderr, "server: listening on http://127.0.0.1:%u (up to %u connections)\n",
            srv_port(s), srv_capacity(s));
    int sig;
    sigwait(&stop, &sig);
    srv_stop(s);
    return 0;
}
