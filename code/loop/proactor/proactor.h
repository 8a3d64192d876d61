/**
 * @file proactor.h
 * @brief A small proactor over an I/O completion port (Windows).
 *
 * You start an operation (connect, accept, recv, send) with a buffer; the
 * kernel does the I/O; the loop calls you back when it has *completed*. That is
 * the whole model, and why it has no add_reader: nothing in it waits for a
 * socket to become ready without an operation in flight.
 *
 * Create the loop with loop_new("iocp"). A px_op_t and its buffer belong to
 * the kernel from the start call until its callback runs, even after
 * px_cancel(): the callback always comes, with ERROR_OPERATION_ABORTED.
 */
#ifndef PROACTOR_H
#define PROACTOR_H
#if defined(_WIN32) || defined(DOXYGEN)

#include "../loop.h"
#include <winsock2.h>
#include <ws2tcpip.h>

typedef struct px_op px_op_t;   /**< One overlapped operation. */

/** An operation completed: @p bytes moved, @p error 0 or a Win32/WSA code. */
typedef void (*px_done_cb)(loop_t *loop, px_op_t *op, DWORD bytes, DWORD error, void *arg);

/** One operation's state; the caller owns it, the kernel borrows it. */
struct px_op {
    OVERLAPPED ov;               /**< First: a completion hands back &ov. */
    SOCKET s;                    /**< The socket the operation runs on. */
    px_done_cb cb;               /**< Called once, when it completes. */
    void *arg;                   /**< The callback's argument. */
    WSABUF buf;                  /**< The buffer for recv and send. */
    DWORD flags;                 /**< WSARecv's flags. */
    char addrs[2 * (sizeof(struct sockaddr_in6) + 16)]; /**< AcceptEx's address block. */
    px_op_t *prev;               /**< The loop's list of operations in flight. */
    px_op_t *next;               /**< The loop's list of operations in flight. */
};

/** Associate @p s with the loop's completion port (once per socket, for good). */
int px_associate(loop_t *loop, SOCKET s);
/** ConnectEx: @p s must be bound first (ConnectEx does not bind for you). */
int px_connect(loop_t *loop, px_op_t *op, SOCKET s, const struct sockaddr *to, int len,
               px_done_cb cb, void *arg);
/** AcceptEx: @p accepted is a fresh socket that becomes the connection. */
int px_accept(loop_t *loop, px_op_t *op, SOCKET listener, SOCKET accepted,
              px_done_cb cb, void *arg);
/** WSARecv into @p buf; @p len 0 is the "zero-byte read" readiness trick. */
int px_recv(loop_t *loop, px_op_t *op, SOCKET s, char *buf, ULONG len,
            px_done_cb cb, void *arg);
/** WSASend from @p buf. */
int px_send(loop_t *loop, px_op_t *op, SOCKET s, const char *buf, ULONG len,
            px_done_cb cb, void *arg);
/** CancelIoEx; the callback still comes, with ERROR_OPERATION_ABORTED. */
int px_cancel(loop_t *loop, px_op_t *op);
/** A connected loopback TCP pair: @p a connected to a listener, @p b accepted
 *  from it (Windows has no socketpair). 0, or -1 with both set to INVALID_SOCKET. */
int px_tcp_pair(SOCKET *a, SOCKET *b);
/** The loop's completion port, for experiments with the raw API. */
HANDLE px_port(loop_t *loop);

#endif
#endif
