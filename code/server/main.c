/* The local HTTP server as a program, for demos and for the Windows programs
 * under Wine. Prints its base URL on the first line, runs until killed.
 * Usage: server [PORT]     (0 or nothing: any free port) */
#include "../core/server.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static volatile sig_atomic_t done;
static void on_signal(int sig) { (void)sig; done = 1; }

int main(int argc, char **argv)
{
    char *end = NULL;
    long port = argc > 1 ? strtol(argv[1], &end, 10) : 0;
    if (argc > 2 || (end && *end) || port < 0 || port > 65535) {
        fprintf(stderr, "usage: server [PORT]   (PORT 0-65535, 0 = any free port)\n");
        return 2;
    }
    srv_t *s = srv_start((unsigned short)port);
    if (!s)
        return 1;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    printf("http://127.0.0.1:%u\n", srv_port(s));
    fflush(stdout);
    while (!done)
        pause();
    srv_stop(s);
    return 0;
}
