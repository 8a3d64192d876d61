/* The transfer contract as a Windows program, for Wine: one line per case.
 * Usage: win_contract.exe BASE_URL REFUSED_PORT BACKEND...
 * Prints "CASE <backend> <case> PASS" or "CASE <backend> <case> FAIL <why>". */
#include "../common/contract.h"
#include "../../code/loop/loop.h"

#include <stdio.h>
#include <stdlib.h>
#include <winsock2.h>

int main(int argc, char **argv)
{
    WSADATA wsa;
    if (argc < 4) {
        fprintf(stderr, "usage: %s BASE_URL REFUSED_PORT BACKEND...\n", argv[0]);
        return 2;
    }
    WSAStartup(MAKEWORD(2, 2), &wsa);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    for (int b = 3; b < argc; b++)
        for (size_t i = 0; contract_names[i]; i++) {
            struct contract_env env = {argv[1], (unsigned short)atoi(argv[2]),
                                       job_run_loop, argv[b]};
            char why[512] = "";
            int rc = contract_run(contract_names[i], &env, why, sizeof why);
            printf("CASE %s %s %s %s\n", argv[b], contract_names[i], rc ? "FAIL" : "PASS", why);
            fflush(stdout);
        }
    curl_global_cleanup();
    WSACleanup();
    return 0;
}
