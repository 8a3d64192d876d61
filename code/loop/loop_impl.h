/**
 * @file loop_impl.h
 * @brief What a backend implements, and the loop state it may touch.
 *
 * A backend is one file with four functions, like redis's aeApi* set:
 * init/fini its state, set the interest mask of one fd, and wait for events,
 * writing the ready fds into loop->fired. loop.c owns the fd table, the
 * timers and the dispatch, so every backend shares one set of rules.
 */
#ifndef LOOP_IMPL_H
#define LOOP_IMPL_H

#include "loop.h"
#include <stddef.h>

#define LOOP_READABLE 1u   /**< Fire when the fd is readable. */
#define LOOP_WRITABLE 2u   /**< Fire when the fd is writable. */
/** In a backend's loop_fired mask: the fd is invalid (the dead-fd rule in
 *  loop.h): dispatch runs its callbacks once, then forgets it. */
#define LOOP_DEAD     0x100u

/** Whether @p fd is an open descriptor (Windows: a socket). */
int loop_fd_is_open(loop_fd_t fd);

/** One backend: a name, its caps, and its four operations. */
struct loop_backend {
    const char *name;                      /**< "select", "poll", ... */
    unsigned caps;                         /**< LOOP_CAP_* bits. */
    int  (*init)(loop_t *loop);            /**< Set up loop->bk. */
    void (*fini)(loop_t *loop);            /**< Free loop->bk. */
    /** Change fd's interest from @p old to @p mask (0 = forget the fd). */
    int  (*set)(loop_t *loop, loop_fd_t fd, unsigned old, unsigned mask);
    /** Wait up to @p timeout_ms (-1 = forever); fill loop->fired; return the count. */
    int  (*wait)(loop_t *loop, long timeout_ms);
    /** Optional (epoll): watch @p fd for @p mask again, for a new watch (slot 0)
     *  on an fd whose earlier watch the kernel still holds. LOOP_OK only if the
     *  kernel took the change, which shows the fd is open and watchable, so the
     *  new watch needs no other check; else the caller checks and sets as usual. */
    int  (*rewatch)(loop_t *loop, loop_fd_t fd, unsigned mask);
};

/** A ready fd, as a backend reports it. */
struct loop_fired {
    loop_fd_t fd;      /**< The descriptor. */
    unsigned mask;     /**< LOOP_READABLE | LOOP_WRITABLE. */
};

/** One watched fd: its interest and its two callbacks. */
struct loop_watch {
    loop_fd_t fd;                 /**< The descriptor. */
    unsigned mask;                /**< What is watched. */
    loop_io_cb rcb;               /**< The reader. */
    loop_io_cb wcb;               /**< The writer. */
    void *rarg;                   /**< The reader's argument. */
    void *warg;                   /**< The writer's argument. */
    size_t slot;                  /**< The backend's index for this fd (poll's array). */
    void *bk;                     /**< The backend's per-fd state (AFD poll). */
    uint64_t gen;                 /**< Which watch this is: a new one on a reused number differs. */
    struct loop_watch *next;      /**< Hash chain. */
};

/** A pending timer, kept in a list sorted by due time. */
struct loop_timer {
    uint64_t id;                  /**< Handle, from loop_call_later(). */
    uint64_t due;                 /**< Due time, in loop_now_ms(). */
    loop_timer_cb cb;             /**< What to call. */
    void *arg;                    /**< Its argument. */
    struct loop_timer *next;      /**< Next due. */
};

/** The loop: the backend, the fd table, the timers. */
struct loop {
    const struct loop_backend *be;   /**< Operations. */
    void *bk;                        /**< Backend state. */
    struct loop_watch **buckets;     /**< fd table, a chained hash. */
    size_t nbuckets;                 /**< Its size, a power of two. */
    size_t nwatch;                   /**< fds watched. */
    struct loop_fired *fired;        /**< Ready fds from the last wait. */
    size_t fired_cap;                /**< Room in fired, always >= nwatch. */
    uint64_t *fired_gen;             /**< Which watch each of fired was for (loop_run fills it). */
    size_t fired_gen_cap;            /**< Room in fired_gen, always >= nwatch. */
    struct loop_timer *timers;       /**< Sorted by (due, id). */
    uint64_t next_timer;             /**< The next timer id. */
    uint64_t next_gen;               /**< The last watch's gen. */
    size_t busy;                     /**< Operations a proactor has in flight. */
    int stopped;                     /**< loop_stop() was called. */
    uint64_t waits;                  /**< Backend waits so far. */
    uint64_t callbacks;              /**< Reader and writer callbacks run. */
    uint64_t helper_waits;           /**< A helper thread's wake-ups, if the backend has one. */
    uint64_t handed;                 /**< Descriptors handed to the kernel (loop_stats). */
    uint64_t made;                   /**< New watches made (loop_stats). */
    uint64_t rewatched;              /**< Of them, taken by the backend's rewatch (loop_stats). */
    int fault_op;                    /**< LOOP_FAULT's operation (LOOP_FAULT_*), 0 for none. */
    long fault_left;                 /**< Calls of it until the one that fails. */
    struct loop_backend fault_be;    /**< LOOP_FAULT=wait: the backend, its wait wrapped. */
    const struct loop_backend *real_be; /**< ... and the real one. */
    char err[256];                   /**< loop_error()'s text. */
};

/** Operations LOOP_FAULT=OP:N can make fail, for tests of the failure paths. */
enum { LOOP_FAULT_ADD = 1, LOOP_FAULT_TIMER, LOOP_FAULT_WAIT };

/** Record a formatted message for loop_error() and return @p code. */
int loop_fail(loop_t *loop, int code, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/** Grow the array that @p arrp points to (capacity @p *cap elements of
 *  @p elem bytes) to hold @p need, doubling. LOOP_OK or LOOP_ENOMEM. */
int loop_reserve(void *arrp, size_t *cap, size_t need, size_t elem);

/** The watch for @p fd, or NULL. */
struct loop_watch *loop_watch_find(const loop_t *loop, loop_fd_t fd);

#endif
