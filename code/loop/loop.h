/**
 * @file loop.h
 * @brief The event-loop contract, named after asyncio's loop methods.
 *
 * One interface, many backends (select, poll, epoll, IOCP, ...), in the way
 * redis keeps ae_select.c and ae_epoll.c behind ae.h. A backend that cannot
 * watch descriptors says so through loop_caps() and returns #LOOP_ENOTSUP,
 * the C twin of asyncio's NotImplementedError.
 */
#ifndef LOOP_H
#define LOOP_H

#include <stdint.h>

#ifdef _WIN32
#include <winsock2.h>
typedef SOCKET loop_fd_t;   /**< A socket: SOCKET on Windows, an int elsewhere. */
#else
typedef int loop_fd_t;      /**< A socket: SOCKET on Windows, an int elsewhere. */
#endif

/** @name Result codes: 0 is success, negatives are errors. */
/** @{ */
#define LOOP_OK        0   /**< Done. */
#define LOOP_ENOTSUP  -1   /**< This backend cannot do that (a proactor asked for readers). */
#define LOOP_ERANGE   -2   /**< The fd does not fit the backend (select and FD_SETSIZE). */
#define LOOP_ENOMEM   -3   /**< Out of memory. */
#define LOOP_ESYS     -4   /**< The OS call failed; loop_error() has errno's text. */
#define LOOP_ENOENT   -5   /**< Nothing registered under that fd or timer: harmless. */
#define LOOP_EINVAL   -6   /**< A bad argument (an unknown backend name, a NULL callback). */
/** @} */

/** @name Capabilities, as returned by loop_caps(). */
/** @{ */
#define LOOP_CAP_FD_WATCH   1u  /**< add_reader / add_writer work: a reactor. */
#define LOOP_CAP_TIMERS     2u  /**< call_later works. */
#define LOOP_CAP_COMPLETION 4u  /**< Overlapped operations: a proactor. */
/** @} */

typedef struct loop loop_t;     /**< An event loop; one backend each. */

/** Called when @p fd is ready: readable for a reader, writable for a writer. */
typedef void (*loop_io_cb)(loop_t *loop, loop_fd_t fd, void *arg);
/** Called once when a timer's delay has passed. */
typedef void (*loop_timer_cb)(loop_t *loop, void *arg);

/** A new loop on the backend called @p backend ("select", "poll", ...);
 *  NULL asks the policy for the default. Returns NULL and prints why on failure. */
loop_t *loop_new(const char *backend);
/** Frees the loop; registrations and timers are dropped without callbacks. */
void loop_free(loop_t *loop);

/** Watch @p fd for reading; replaces an earlier reader for the same fd.
 *  An fd that is not open, or a regular file or a directory (always ready to
 *  poll, refused by epoll), is refused with #LOOP_EINVAL on every backend.
 *
 *  The dead-fd rule, on every backend whose kernel reports it (see below): a
 *  watched fd found invalid (closed while still watched, which is the
 *  caller's bug) is reported once as readable and
 *  writable, so its callbacks run and meet the error themselves, and then the
 *  loop forgets it; the other watches go on. A backend finds it when its kernel
 *  says so: select (EBADF, WSAENOTSOCK), poll and WSAPoll (POLLNVAL), epoll
 *  and io_uring when they are told about a closed fd, AFD poll when the
 *  socket is closed under a poll (LOCAL_CLOSE), iocp-event when a wait times
 *  out (a closed socket sets no WSAEventSelect event). epoll and io_uring hold the
 *  file, not the number: an fd closed after they were told is never reported
 *  (epoll drops it; io_uring keeps polling the file). A watch the kernel
 *  refuses later (epoll: EPERM on a device without readiness) is reported the
 *  same way, once, with loop_error() saying why; the loop goes on.
 *  "Forgets it" means that watch: a callback may watch a new fd on the same
 *  number, and an event reported for the old watch never reaches the new one. */
int loop_add_reader(loop_t *loop, loop_fd_t fd, loop_io_cb cb, void *arg);
/** Watch @p fd for writing; replaces an earlier writer for the same fd. */
int loop_add_writer(loop_t *loop, loop_fd_t fd, loop_io_cb cb, void *arg);
/** Stop reading @p fd. #LOOP_ENOENT (harmless) when nothing was registered. */
int loop_remove_reader(loop_t *loop, loop_fd_t fd);
/** Stop writing @p fd. #LOOP_ENOENT (harmless) when nothing was registered. */
int loop_remove_writer(loop_t *loop, loop_fd_t fd);

/** Run @p cb once, @p ms milliseconds from now. Returns a timer id, 0 on failure. */
uint64_t loop_call_later(loop_t *loop, long ms, loop_timer_cb cb, void *arg);
/** Cancel a timer. #LOOP_ENOENT when it already fired or never was: harmless. */
int loop_cancel(loop_t *loop, uint64_t timer);

/** Run until loop_stop() or until nothing is watched and no timer is left. */
int loop_run(loop_t *loop);
/** Make loop_run() return after the current iteration. */
void loop_stop(loop_t *loop);

/** What the backend can do: a mask of LOOP_CAP_* bits. */
unsigned loop_caps(const loop_t *loop);
/** The backend's name, as given to loop_new(). */
const char *loop_name(const loop_t *loop);
/** The last error's message, with the detail the code cannot carry. */
const char *loop_error(const loop_t *loop);
/** A short text for a LOOP_* code. */
const char *loop_strerror(int code);
/** What a loop has done so far, for measurements. */
struct loop_stats {
    uint64_t waits;          /**< Times the loop thread waited and woke. */
    uint64_t callbacks;      /**< Reader and writer callbacks run. */
    uint64_t helper_waits;   /**< Times a helper thread woke (the selector-thread bridge). */
    /** Descriptors handed to the kernel for the waits: the whole set at every
     *  wait for select (up to the highest fd) and poll; only each change of
     *  interest for epoll and uring-poll, whose kernel keeps the set. 0 on the
     *  other backends. */
    uint64_t handed;
    /** New watches made: an add_reader or add_writer on an fd not watched
     *  until then. Each is checked with one fstat (a closed fd, a file)... */
    uint64_t made;
    /** ...but these: epoll still held the fd from a dropped watch, and one
     *  epoll_ctl(MOD) both checked it and set the new interest. */
    uint64_t rewatched;
};
/** Fill @p st with the loop's counters. */
void loop_stats(const loop_t *loop, struct loop_stats *st);
/** Milliseconds on a monotonic clock. */
uint64_t loop_now_ms(void);

/** @name The default-loop policy, the twin of asyncio.set_event_loop_policy(). */
/** @{ */
#define LOOP_POLICY_DEFAULT  0  /**< The platform's default: the proactor on Windows. */
#define LOOP_POLICY_SELECTOR 1  /**< A readiness loop (select/poll/epoll). */
#define LOOP_POLICY_PROACTOR 2  /**< A completion loop (IOCP, io_uring). */
/** Choose what loop_new(NULL) builds. */
void loop_policy_set(int policy);
/** The backend name loop_new(NULL) would use now. */
const char *loop_policy_backend(void);
/** @} */

/** The names of the backends built into this program, NULL-terminated. */
const char *const *loop_backends(void);

#endif
