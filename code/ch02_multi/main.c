/* ch02: fetch URLs concurrently; libcurl runs its own loop (multi_perform + multi_poll).
 * Demo: -n 4 /delay/300 /bytes/65536   (what make ch02 passes; the server is $SERVER)
 * Run: make ch02   or   SERVER=http://127.0.0.1:PORT build/native/bin/ch02 -n 16 /delay/300 */
#include "multi.h"
#include "../jobs/cli.h"

int main(int argc, char **argv)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = cli_main(argc, argv, "multi_poll", multi_run, NULL);
    curl_global_cleanup();
    return rc;
}
