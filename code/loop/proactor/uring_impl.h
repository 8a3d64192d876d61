/**
 * @file uring_impl.h
 * @brief What the io_uring backends share: one ring, and how completions are told apart.
 */
#ifndef URING_IMPL_H
#define URING_IMPL_H
#if defined(LOOP_HAVE_URING) || defined(DOXYGEN)

#include "../loop_impl.h"
#include <liburing.h>

/** user_data of a CQE: 0 = an internal request (update, remove), low bit 1 = a
 *  ur_op_t, anything else = a backend's per-fd state. */
#define URING_TAG_OP 1u

/** The first member of every io_uring backend's state. */
struct uring {
    struct io_uring ring;    /**< The submission and completion queues. */
    uint64_t sqes;           /**< Requests taken from uring_sqe() so far. */
};

/** Set up the ring. */
int uring_open(loop_t *loop, struct uring *u, unsigned entries);
/** Tear it down. */
void uring_close(struct uring *u);
/** A free SQE, submitting the queue first if it is full. */
struct io_uring_sqe *uring_sqe(struct uring *u);
/** Called for each CQE whose user_data is a backend's per-fd state. */
typedef void (*uring_cqe_fn)(loop_t *loop, void *state, struct io_uring_cqe *cqe, int *fired);
/** Submit, wait up to @p timeout_ms, run ur_op_t callbacks, hand the rest to @p fn. */
int uring_wait(loop_t *loop, struct uring *u, long timeout_ms, uring_cqe_fn fn);

#endif
#endif
