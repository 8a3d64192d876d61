/**
 * @file server.h
 * @brief The local HTTP server on libmicrohttpd: routes that make each lesson visible.
 *
 * Routes: /bytes/N, /delay/MS, /drip/N/MS, /stall, /abort, /status/CODE.
 * It listens on 127.0.0.1 only; tests start it in-process on port 0.
 * A delayed, dripping or stalled reply whose client hangs up is ended within
 * about a second (suspended sockets are polled once a second). The threads it
 * starts block the asynchronous signals (SIGINT, SIGTERM...), so a signal sent
 * to the process reaches one of the caller's threads.
 */
#ifndef SERVER_H
#define SERVER_H

typedef struct srv srv_t;   /**< A running server. */

/** Start on 127.0.0.1:@p port (0 = any free port). NULL and a message on stderr on failure. */
srv_t *srv_start(unsigned short port);
/** The port it listens on. */
unsigned short srv_port(const srv_t *s);
/** How many connections it holds at once: 20,000, or less when the open-file
 *  limit (RLIMIT_NOFILE's soft limit at start) is lower. Near it, replies ask
 *  the client to close the connection, so clients queued behind get a turn. */
unsigned srv_capacity(const srv_t *s);
/** Stop it: stalled replies are cut, every thread is joined. */
void srv_stop(srv_t *s);

#endif
