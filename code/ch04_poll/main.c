/* ch04: the same glue on poll(2); built for Windows, the same file runs on WSAPoll.
 * Demo: -n 4 /delay/300 /bytes/65536   (what make ch04 passes; the server is $SERVER)
 * Run: make ch04   (native poll, then ch04.exe under Wine on WSAPoll)
 *      SERVER=... build/native/bin/ch04 -n 16 /delay/300
 * poll has no FD_SETSIZE wall: any descriptor number is fine. */
#include "../jobs/cli.h"
#ifdef _WIN32
#include <winsock2.h>
#define BACKEND "wsapoll"
#else
#define BACKEND "poll"
#endif

int main(int argc, char **argv)
{
#ifdef _WIN32
    WSADATA wsa;
    WSAStartup(MAKEWORD(2, 2), &wsa);
#endif
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = cli_main(argc, argv, "loop", job_run_loop, BACKEND);
    curl_global_cleanup();
    return rc;
}
