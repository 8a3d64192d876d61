/* Helpers for the native Criterion suites: the in-process server, a refused
 * port, running a chapter program, and the contract as Criterion tests. */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <criterion/criterion.h>
#include <stddef.h>
#include "contract.h"
#include "../../code/loop/loop.h"

extern char t_base[64];                 /* http://127.0.0.1:PORT */
extern unsigned short t_refused_port;   /* nobody listens there */

void tsrv_up(void);                     /* .init: start the server, curl_global_init */
void tsrv_down(void);                   /* .fini: stop it */
unsigned short t_free_port(void);       /* a loopback port with no listener */

/* @rel (a path relative to the test binary's directory) as a path that works
 * from anywhere, in @buf. */
const char *t_path(const char *rel, char *buf, size_t len);

/* Run this build's bin/prog with args (NULL-terminated) and $SERVER set; capture
 * stdout and stderr; kill it after timeout_s. Returns the exit code, or -1. */
int t_run(const char *prog, const char *const args[], char *out, size_t outlen,
          char *err, size_t errlen, int timeout_s);

/* Watch an fd, close it, get its number back for a new pipe, watch it again:
 * the new pipe must fire. For backends that keep kernel-side state (epoll,
 * uring-poll), where the old registration can hide the new file. */
void t_reused_fd_number(const char *backend);

/* Level-triggered: three bytes wait, the reader takes one per call, so each
 * call leaves data unread and the backend must call it again: 3 calls. An
 * edge-triggered or never re-armed backend stops after the first. */
void t_unread_data_calls_the_reader_again(const char *backend);

/* A done callback that frees the glue: once at the last transfer's end, and
 * once at the first of three (the other two are then reported once each, as
 * aborted). Run it under ASan: the glue must not touch itself afterwards. */
void t_free_glue_from_done_callback(const char *backend);

/* The glue freed from outside with three live transfers, by a program whose
 * done callback calls curlx_free for every result: each is reported once, as
 * aborted, and the frees from inside the free change nothing (run it under
 * ASan: a nested free would free the glue under the outer one). */
void t_free_glue_ignores_frees_from_its_callbacks(const char *backend);

/* A signal every 5 ms (SIGALRM, no SA_RESTART) while the loop waits on an
 * idle fd for a 300 ms timer: the wait is interrupted again and again (EINTR),
 * and the loop must carry on, fire the timer, and fire it late by well under
 * a second. */
void t_signals_do_not_end_the_loop(const char *backend);

/* An fd watched (and waited on once, so the backend has told its kernel),
 * then removed, then made readable: no callback, and the loop does not keep
 * waking for it (at most 5 wake-ups in 100 ms). */
void t_removed_fd_stops_waking_the_loop(const char *backend);

/* An fd watched, waited on, removed, then watched again for the same open
 * file (libcurl's REMOVE, then IN on the kept-alive connection): it fires.
 * A backend whose kernel still holds the fd must change it, not add it. */
void t_rewatch_after_remove(const char *backend);

/* A pipe's write end, full, watched for writing; its read end is closed: the
 * error (no readers) wakes the writer, though there is still no room. */
void t_error_wakes_the_writer(const char *backend);

/* A socket watched for reading and writing (libcurl's INOUT), its send buffer
 * full; the reader removed (the watch keeps its old callback pointer), then
 * the peer hangs up, which also means "readable": the removed reader must not
 * run, the writer runs once. Dispatch's mask by interest is what stops it. */
void t_removed_reader_is_not_called_on_a_hang_up(const char *backend);

/* A pipe with room, its write end watched for writing and its empty read end
 * for reading: the writer is called (once: it removes itself), the reader never. */
void t_writable_fd_wakes_its_writer(const char *backend);

/* Three fds watched, the first removed (a packed backend moves the last into
 * its place), then the moved one removed too; the middle one and the moved
 * one made readable: the middle one fires once, the removed ones never. */
void t_removal_leaves_the_others_watched(const char *backend);

/* The dead-fd rule (loop.h): an fd closed while watched, before the backend
 * told its kernel, is reported once, its callback runs once, then the loop
 * forgets it, and another watched fd still fires; an fd that is not open is
 * refused by add_reader with LOOP_EINVAL. */
void t_closed_fd_is_reported_once_then_dropped(const char *backend);

/* Whether @name is an executable on $PATH (a skip checks its reason with it). */
int t_have_command(const char *name);

/* Raise RLIMIT_NOFILE's soft limit toward @want; returns what it is now. */
long t_raise_nofile(long want);

/* Skip the test, with the loop's reason, when @backend cannot start here
 * (io_uring blocked in a container, say). NULL: nothing to check. */
void t_require_backend(const char *backend);

/* The loop-level cases every reactor backend must pass, as Criterion tests. */
#define LOOP_BACKEND_TESTS(suite, backend)                                         \
    Test(suite, signals_do_not_end_the_loop, .timeout = 30) {                      \
        t_signals_do_not_end_the_loop(backend); }                                  \
    Test(suite, a_removed_fd_stops_waking_the_loop, .timeout = 30) {               \
        t_removed_fd_stops_waking_the_loop(backend); }                             \
    Test(suite, an_fd_watched_again_after_removal_fires, .timeout = 30) {          \
        t_rewatch_after_remove(backend); }                                         \
    Test(suite, an_error_wakes_the_writer, .timeout = 30) {                        \
        t_error_wakes_the_writer(backend); }                                       \
    Test(suite, a_removed_reader_is_not_called_on_a_hang_up, .timeout = 30) {      \
        t_removed_reader_is_not_called_on_a_hang_up(backend); }                    \
    Test(suite, removing_one_fd_leaves_the_others_watched, .timeout = 30) {        \
        t_removal_leaves_the_others_watched(backend); }                            \
    Test(suite, a_writable_fd_wakes_its_writer, .timeout = 30) {                   \
        t_writable_fd_wakes_its_writer(backend); }                                 \
    Test(suite, a_closed_fd_is_reported_once_then_dropped, .timeout = 30) {        \
        t_closed_fd_is_reported_once_then_dropped(backend); }                      \
    Test(suite, the_glue_can_be_freed_from_its_done_callback, .init = tsrv_up,     \
         .fini = tsrv_down, .timeout = 30) {                                       \
        t_free_glue_from_done_callback(backend); }                                 \
    Test(suite, freeing_the_glue_ignores_frees_from_its_done_callbacks,            \
         .init = tsrv_up, .fini = tsrv_down, .timeout = 30) {                      \
        t_free_glue_ignores_frees_from_its_callbacks(backend); }

#define CONTRACT_TEST(suite, name, runner, backend)                          \
    Test(suite, name, .init = tsrv_up, .fini = tsrv_down, .timeout = 60) {   \
        t_require_backend(backend);                                          \
        struct contract_env env = {t_base, t_refused_port, runner, backend}; \
        char why[512] = "";                                                  \
        cr_assert(contract_run(#name, &env, why, sizeof why) == 0, "%s", why); \
    }

/* Every contract case as one Criterion test in @suite. */
#define CONTRACT_SUITE(suite, runner, backend) \
    CONTRACT_CASES(CONTRACT_EACH_, (suite, runner, backend))
#define CONTRACT_EACH_(ctx, name) CONTRACT_EACH_X_(name, CONTRACT_UNPACK_ ctx)
#define CONTRACT_UNPACK_(suite, runner, backend) suite, runner, backend
#define CONTRACT_EACH_X_(...) CONTRACT_EACH_Y_(__VA_ARGS__)
#define CONTRACT_EACH_Y_(name, suite, runner, backend) CONTRACT_TEST(suite, name, runner, backend)

#endif
