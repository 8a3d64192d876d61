/* ch05: the same glue on epoll: the kernel keeps the interest set, and a wait
 * returns only the ready descriptors.
 * Requires: linux
 * Demo: -n 4 /delay/300 /bytes/65536   (what make ch05 passes; the server is $SERVER)
 * Run: make ch05   or   SERVER=... build/native/bin/ch05 -n 16 /delay/300 */
#include "../jobs/cli.h"

int main(int argc, char **argv)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = cli_main(argc, argv, "loop", job_run_loop, "epoll");
    curl_global_cleanup();
    return rc;
}
