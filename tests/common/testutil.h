/* Helpers for the native Criterion suites: the in-process server, a refused
 * port, running a chapter program, and the contract as Criterion tests. */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <criterion/criterion.h>
#include <stddef.h>
#include "contract.h"
#include "../../code/core/loop.h"

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

/* Raise RLIMIT_NOFILE's soft limit toward @want; returns what it is now. */
long t_raise_nofile(long want);

/* Skip the test, with the loop's reason, when @backend cannot start here
 * (io_uring blocked in a container, say). NULL: nothing to check. */
void t_require_backend(const char *backend);

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
