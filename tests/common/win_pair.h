/* For the Windows test programs: a connected loopback TCP pair. */
#ifndef WIN_PAIR_H
#define WIN_PAIR_H
#include <winsock2.h>

/* *a is the side under test (overlapped-capable), *b the peer. */
void tcp_pair(SOCKET *a, SOCKET *b);

#endif
