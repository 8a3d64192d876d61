/**
 * @file uring_demo.h
 * @brief Chapter 8's two experiments: io_uring as a proactor on its own socket,
 *        and a RECV posted on libcurl's socket.
 */
#ifndef URING_DEMO_H
#define URING_DEMO_H

#include <curl/curl.h>
#include <stddef.h>

/** GET @p path from 127.0.0.1:@p port with CONNECT, SEND and RECV on the "uring"
 *  loop. Returns the bytes received (headers and body), or -errno. */
long uring_get(unsigned short port, const char *path);

/** Run one libcurl transfer of @p url on the epoll loop while a RECV is posted
 *  on its socket through io_uring. Returns libcurl's result; the bytes the
 *  RECV took are copied into @p stolen (NUL-terminated), their count into @p n. */
CURLcode uring_steal(const char *url, char *stolen, size_t len, long *n);

#endif
