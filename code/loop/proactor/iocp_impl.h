/**
 * @file iocp_impl.h
 * @brief What the IOCP family of backends shares: one completion port, the
 *        proactor operations on it, and the keys that tell completions apart.
 */
#ifndef IOCP_IMPL_H
#define IOCP_IMPL_H
#if defined(_WIN32) || defined(DOXYGEN)

#include "../loop_impl.h"
#include <mswsock.h>

/** @name Completion keys: who queued a completion. */
/** @{ */
#define IOCP_KEY_OP     0   /**< A proactor operation (px_op_t). */
#define IOCP_KEY_AFD    1   /**< An AFD poll on the \\Device\\Afd handle. */
#define IOCP_KEY_READY  2   /**< The selector thread's "readiness is waiting". */
#define IOCP_KEY_WAKE   3   /**< A bare wake-up. */
#define IOCP_KEY_EVENT  4   /**< A registered wait saw a socket's WSAEventSelect event. */
/** @} */

/** The first member of every IOCP-family backend's state. */
struct iocp {
    HANDLE port;                  /**< The completion port. */
    struct px_op *live;           /**< Operations in flight (started, not dequeued). */
    LPFN_CONNECTEX connect_ex;    /**< Fetched once, on first use. */
    LPFN_ACCEPTEX accept_ex;      /**< Fetched once, on first use. */
};

/** Create the port into @p c. */
int iocp_open(loop_t *loop, struct iocp *c);
/** Close it: cancel every operation still in flight and wait (up to
 *  IOCP_DRAIN_MS) for each one's completion, so the kernel writes into no
 *  caller's op or buffer after the loop is gone; no callback runs for them. */
void iocp_close(loop_t *loop, struct iocp *c);
/** How long iocp_close() waits for cancelled operations. */
#define IOCP_DRAIN_MS 5000
/** Operations whose completion never came within IOCP_DRAIN_MS of a close. */
extern size_t iocp_leaked_ops;
/** A completion with IOCP_KEY_OP dequeued while closing: take the operation
 *  off the list of those in flight, without its callback. */
void iocp_forget_op(loop_t *loop, struct iocp *c, OVERLAPPED_ENTRY *e);
/** Dequeue up to @p max completions into @p ev; 0 on timeout, <0 on error. */
int iocp_dequeue(loop_t *loop, struct iocp *c, OVERLAPPED_ENTRY *ev, ULONG max, long timeout_ms);
/** Run a proactor operation's callback for a completion with IOCP_KEY_OP. */
void iocp_complete_op(loop_t *loop, OVERLAPPED_ENTRY *e);

#endif
#endif
