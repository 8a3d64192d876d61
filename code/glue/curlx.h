/**
 * @file curlx.h
 * @brief The libcurl glue, written once against loop.h.
 *
 * CURLMOPT_SOCKETFUNCTION becomes add/remove reader and writer,
 * CURLMOPT_TIMERFUNCTION becomes loop_call_later(), readiness becomes
 * curl_multi_socket_action(). This is what curl_cffi's asyncio glue does;
 * the chapters only swap the loop underneath.
 */
#ifndef CURLX_H
#define CURLX_H

#include "../loop/loop.h"
#include <curl/curl.h>
#include <stddef.h>

typedef struct curlx curlx_t;   /**< A multi handle driven by a loop. */

/** A transfer finished (or was aborted): @p easy is no longer in the multi. */
typedef void (*curlx_done_cb)(CURL *easy, CURLcode result, void *arg);
/** One line of what libcurl asked the glue to do, e.g. "socket 5 OUT". */
typedef void (*curlx_trace_cb)(const char *event, void *arg);

/** Attach even to a loop without LOOP_CAP_FD_WATCH, to see it fail. */
#define CURLX_FORCE 1u
/** curl_cffi 0.5.x's mistake, for chapter 6: its socket callback was declared
 *  void, so a refused add_reader was printed ("Exception ignored") and libcurl
 *  read back an undefined value, in practice not -1, so it carried on. With
 *  this flag the glue does the same, defined: it reports each refusal to the
 *  trace callback as "ignored: ..." and returns 0. */
#define CURLX_VOID_CALLBACK 2u
/** curl_cffi 0.5.x also called socket_action(CURL_SOCKET_TIMEOUT) every
 *  second, whatever libcurl's timer said; this flag adds that tick. */
#define CURLX_TICK_1S 4u

/** Attach libcurl to @p loop. Refuses a loop that cannot watch fds unless
 *  @p flags has #CURLX_FORCE: NULL, with the reason and the fixes in @p err. */
curlx_t *curlx_attach(loop_t *loop, curlx_done_cb done, void *arg,
                      unsigned flags, char *err, size_t errlen);
/** Start a transfer; @p done is called once when it ends. */
CURLMcode curlx_add(curlx_t *cx, CURL *easy);
/** Transfers added and not yet done. */
size_t curlx_pending(const curlx_t *cx);
/** Receive every socket and timer request libcurl makes. */
void curlx_trace(curlx_t *cx, curlx_trace_cb cb, void *arg);
/** Why the glue failed, or "" (e.g. the loop refused add_reader). */
const char *curlx_error(const curlx_t *cx);
/** The first CURLMcode other than CURLM_OK that libcurl returned, or CURLM_OK. */
CURLMcode curlx_mcode(const curlx_t *cx);
/** How many socket requests the loop refused (each one a line in void mode). */
size_t curlx_refusals(const curlx_t *cx);
/** The multi handle, for options such as CURLMOPT_MAX_HOST_CONNECTIONS. */
CURLM *curlx_multi(curlx_t *cx);
/** Detach: removes what is left (each live transfer reported once, as aborted),
 *  runs libcurl's cleanup callbacks, frees. Safe from a done callback: the
 *  free then happens when the glue's own frame returns. */
void curlx_free(curlx_t *cx);

#endif
