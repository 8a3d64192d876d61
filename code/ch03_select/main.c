/* ch03: you own the loop. The glue puts libcurl on loop.h; the backend is select.
 * Demo: -n 4 /delay/300 /bytes/65536   (what make ch03 passes; the server is $SERVER)
 * Run: make ch03   or   SERVER=... build/native/bin/ch03 [-b select] [--trace] -n 16 /delay/300
 * Descriptors at or above FD_SETSIZE are refused with a clear error. */
#include "../jobs/cli.h"

int main(int argc, char **argv)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = cli_main(argc, argv, "loop", job_run_loop, "select");
    curl_global_cleanup();
    return rc;
}
