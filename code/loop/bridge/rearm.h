/**
 * @file rearm.h
 * @brief The bookkeeping that one-shot readiness backends share (AFD poll on
 *        Windows, io_uring POLL_ADD on Linux).
 *
 * Every per-fd state is on one list (so the loop can free them all), and the
 * states whose poll must be issued, changed, cancelled or freed are on a
 * second one, worked through just before each wait.
 */
#ifndef REARM_H
#define REARM_H

#include <stddef.h>

/** Embedded as `link` in a backend's per-fd state. */
struct rearm {
    struct rearm *prev;        /**< The list of all states. */
    struct rearm *next;        /**< The list of all states. */
    struct rearm *next_dirty;  /**< The list of states to work on. */
    int dirty;                 /**< On that list already. */
};

/** The two lists. */
struct rearm_list {
    struct rearm *all;         /**< Every state. */
    struct rearm *dirty;       /**< States to work on before the next wait. */
};

/** The state that embeds @p ptr as its member `link`. */
#define REARM_ENTRY(ptr, type) ((type *)(void *)((char *)(ptr) - offsetof(type, link)))

/** Put a new state on the list of all states. */
static inline void rearm_add(struct rearm_list *l, struct rearm *r)
{
    r->prev = NULL;
    r->next = l->all;
    if (l->all)
        l->all->prev = r;
    l->all = r;
}

/** Queue a state for the next update (once). */
static inline void rearm_mark(struct rearm_list *l, struct rearm *r)
{
    if (!r->dirty) {
        r->dirty = 1;
        r->next_dirty = l->dirty;
        l->dirty = r;
    }
}

/** The next queued state, off the queue; NULL when none is left. */
static inline struct rearm *rearm_pop(struct rearm_list *l)
{
    struct rearm *r = l->dirty;
    if (r) {
        l->dirty = r->next_dirty;
        r->dirty = 0;
    }
    return r;
}

/** Take a state off the list of all states (it must not be queued). */
static inline void rearm_unlink(struct rearm_list *l, struct rearm *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        l->all = r->next;
    if (r->next)
        r->next->prev = r->prev;
}

#endif
