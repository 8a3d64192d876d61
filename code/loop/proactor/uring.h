/**
 * @file uring.h
 * @brief io_uring as a proactor (Linux): the same shape as proactor.h's IOCP API.
 *
 * Create the loop with loop_new("uring"). An operation's ur_op_t and buffer
 * belong to the kernel until its callback runs. loop_new("uring-poll") is the
 * reactor built on IORING_OP_POLL_ADD, which the glue can drive.
 */
#ifndef URING_H
#define URING_H
#if defined(LOOP_HAVE_URING) || defined(DOXYGEN)

#include "../loop.h"
#include <stddef.h>
#include <sys/socket.h>

typedef struct ur_op ur_op_t;   /**< One submitted operation. */

/** It completed: @p res is bytes moved or 0, or -errno. */
typedef void (*ur_done_cb)(loop_t *loop, ur_op_t *op, int res, void *arg);

/** One operation's state; the caller owns it, the kernel borrows it. */
struct ur_op {
    int fd;                          /**< The socket. */
    ur_done_cb cb;                   /**< Called once, on completion. */
    void *arg;                       /**< Its argument. */
    struct sockaddr_storage addr;    /**< CONNECT's address, kept alive for the kernel. */
};

/** IORING_OP_CONNECT. */
int ur_connect(loop_t *loop, ur_op_t *op, int fd, const struct sockaddr *to, socklen_t len,
               ur_done_cb cb, void *arg);
/** IORING_OP_RECV into @p buf: the data arrives in your buffer. */
int ur_recv(loop_t *loop, ur_op_t *op, int fd, void *buf, size_t len, ur_done_cb cb, void *arg);
/** IORING_OP_SEND from @p buf. */
int ur_send(loop_t *loop, ur_op_t *op, int fd, const void *buf, size_t len,
            ur_done_cb cb, void *arg);
/** Can this process use io_uring at all? 0 if so, else -errno (and a message in @p why). */
int ur_available(char *why, size_t len);

#endif
#endif
