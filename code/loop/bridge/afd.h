/**
 * @file afd.h
 * @brief The undocumented AFD poll interface, as wepoll, libuv, mio and trio use it.
 *
 * Winsock's sockets are files of the AFD driver. IOCTL_AFD_POLL, issued on a
 * handle to \\Device\\Afd, completes when one of the listed sockets has one of
 * the listed events: readiness, delivered through a completion port.
 */
#ifndef AFD_H
#define AFD_H
#if defined(_WIN32) || defined(DOXYGEN)

#include <winsock2.h>
#include <windows.h>
#include <winternl.h>

#define IOCTL_AFD_POLL 0x00012024u          /**< The poll request. */

/** @name AFD poll events */
/** @{ */
#define AFD_POLL_RECEIVE           0x0001u  /**< Data to read. */
#define AFD_POLL_RECEIVE_EXPEDITED 0x0002u  /**< Out-of-band data. */
#define AFD_POLL_SEND              0x0004u  /**< Room to write. */
#define AFD_POLL_DISCONNECT        0x0008u  /**< The peer shut down its side. */
#define AFD_POLL_ABORT             0x0010u  /**< The connection was reset. */
#define AFD_POLL_LOCAL_CLOSE       0x0020u  /**< This socket was closed here. */
#define AFD_POLL_ACCEPT            0x0080u  /**< A connection to accept. */
#define AFD_POLL_CONNECT_FAIL      0x0100u  /**< A non-blocking connect failed. */
/** @} */

/** One socket in a poll request. */
typedef struct {
    HANDLE Handle;      /**< The socket's base handle (SIO_BASE_HANDLE). */
    ULONG Events;       /**< In: events wanted. Out: events that happened. */
    NTSTATUS Status;    /**< Out: e.g. the connect error. */
} AFD_POLL_HANDLE_INFO;

/** A poll request; this tutorial always polls one socket per request, as wepoll does. */
typedef struct {
    LARGE_INTEGER Timeout;            /**< INT64_MAX: no timeout. */
    ULONG NumberOfHandles;            /**< In: 1. Out: how many have events (0 if cancelled). */
    ULONG Exclusive;                  /**< TRUE displaces other polls on the same socket. */
    AFD_POLL_HANDLE_INFO Handles[1];  /**< The socket. */
} AFD_POLL_INFO;

/** ntdll's entry points, looked up at run time. */
struct afd_api {
    /** NtCreateFile. */
    NTSTATUS (NTAPI *create)(PHANDLE, ACCESS_MASK, POBJECT_ATTRIBUTES, PIO_STATUS_BLOCK,
                             PLARGE_INTEGER, ULONG, ULONG, ULONG, ULONG, PVOID, ULONG);
    /** NtDeviceIoControlFile. */
    NTSTATUS (NTAPI *ioctl)(HANDLE, HANDLE, PVOID, PVOID, PIO_STATUS_BLOCK, ULONG, PVOID,
                            ULONG, PVOID, ULONG);
    /** NtCancelIoFileEx. */
    NTSTATUS (NTAPI *cancel)(HANDLE, PIO_STATUS_BLOCK, PIO_STATUS_BLOCK);
};

/** Load the ntdll functions; 0 on success. */
int afd_load(struct afd_api *api);
/** Open a \\Device\\Afd handle and associate it with @p port under @p key. */
HANDLE afd_open(const struct afd_api *api, HANDLE port, ULONG_PTR key);
/** The base (provider) handle of a socket, which AFD poll needs. */
SOCKET afd_base(SOCKET s);
/** How long closing an iocp-afd loop waits for its cancelled polls to complete. */
#define AFD_DRAIN_MS 5000
/** Polls whose completion never came within AFD_DRAIN_MS of closing a loop: their
 *  state was leaked, not freed, because the kernel may still write into it. */
extern size_t afd_leaked_polls;
/** Issue a poll for @p events on @p base; @p iosb is also the completion's context. */
NTSTATUS afd_poll(const struct afd_api *api, HANDLE afd, SOCKET base, ULONG events,
                  BOOL exclusive, AFD_POLL_INFO *info, IO_STATUS_BLOCK *iosb);

#ifndef STATUS_PENDING
#define STATUS_PENDING ((NTSTATUS)0x00000103L)   /**< Still in flight. */
#endif
#ifndef STATUS_CANCELLED
#define STATUS_CANCELLED ((NTSTATUS)0xC0000120L) /**< Completed by a cancel. */
#endif

#endif
#endif
