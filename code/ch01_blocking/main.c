/* ch01: fetch URLs one after another with a blocking easy handle.
 * Demo: -n 4 /delay/300 /bytes/65536   (what make ch01 passes; the server is $SERVER)
 * Run: make ch01   or   SERVER=http://127.0.0.1:PORT build/native/bin/ch01 -n 4 /delay/300
 * Shows that N transfers take N times as long. Bodies are checked and discarded. */
#include "blocking.h"
#include "../jobs/cli.h"

int main(int argc, char **argv)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = cli_main(argc, argv, "blocking", blocking_run, NULL);
    curl_global_cleanup();
    return rc;
}
