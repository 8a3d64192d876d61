/* IOCP + AFD poll: readiness through the completion port (wepoll's way).
 *
 * One \Device\Afd handle is associated with the loop's port. For each watched
 * socket an IOCTL_AFD_POLL is issued on the socket's base handle; it completes
 * into the port when one of the events happens, with the IO_STATUS_BLOCK as
 * its context. A poll is one-shot: it is re-armed at the start of the next
 * wait, after the callbacks have read, which gives level-triggered readiness.
 * Changing or dropping interest cancels the poll in flight, and the state
 * (the IO_STATUS_BLOCK and poll info the kernel writes into) is freed only
 * after that poll's completion has been dequeued.
 */
#ifdef _WIN32
#include "afd.h"
#include "../proactor/iocp_impl.h"
#include "rearm.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int afd_load(struct afd_api *api)
{
    HMODULE nt = GetModuleHandleW(L"ntdll.dll");
    api->create = (void *)GetProcAddress(nt, "NtCreateFile");
    api->ioctl = (void *)GetProcAddress(nt, "NtDeviceIoControlFile");
    api->cancel = (void *)GetProcAddress(nt, "NtCancelIoFileEx");
    return api->create && api->ioctl && api->cancel ? 0 : -1;
}

HANDLE afd_open(const struct afd_api *api, HANDLE port, ULONG_PTR key)
{
    static WCHAR name[] = L"\\Device\\Afd\\IocpTutorial";
    UNICODE_STRING us = {sizeof name - sizeof name[0], sizeof name, name};
    OBJECT_ATTRIBUTES attr;
    memset(&attr, 0, sizeof attr);
    attr.Length = sizeof attr;
    attr.ObjectName = &us;
    IO_STATUS_BLOCK iosb;
    HANDLE h = NULL;
    if (api->create(&h, SYNCHRONIZE, &attr, &iosb, NULL, 0, FILE_SHARE_READ | FILE_SHARE_WRITE,
                    1 /* FILE_OPEN */, 0, NULL, 0) != 0)
        return NULL;
    if (!CreateIoCompletionPort(h, port, key, 0)) {
        CloseHandle(h);
        return NULL;
    }
    return h;
}

SOCKET afd_base(SOCKET s)
{
    SOCKET base = INVALID_SOCKET;
    DWORD got = 0;
    if (WSAIoctl(s, SIO_BASE_HANDLE, NULL, 0, &base, sizeof base, &got, NULL, NULL) != 0)
        return INVALID_SOCKET;
    return base;
}

/* tag::afd_poll */
NTSTATUS afd_poll(const struct afd_api *api, HANDLE afd, SOCKET base, ULONG events,
                  BOOL exclusive, AFD_POLL_INFO *info, IO_STATUS_BLOCK *iosb)
{
    info->Timeout.QuadPart = INT64_MAX;
    info->NumberOfHandles = 1;
    info->Exclusive = exclusive;
    info->Handles[0].Handle = (HANDLE)base;
    info->Handles[0].Events = events;
    info->Handles[0].Status = 0;
    iosb->Status = STATUS_PENDING;
    /* the IO_STATUS_BLOCK doubles as the APC context: the port hands it back */
    return api->ioctl(afd, NULL, NULL, iosb, iosb, IOCTL_AFD_POLL, info, sizeof *info,
                      info, sizeof *info);
}
/* end::afd_poll */

/* ---- the loop backend */

size_t afd_leaked_polls;

struct asock {
    IO_STATUS_BLOCK iosb;       /* the kernel's until the poll completes */
    AFD_POLL_INFO info;
    SOCKET s, base;
    unsigned want;              /* what the loop wants now */
    unsigned armed;             /* what the poll in flight asks for; 0 = none */
    int cancelling, closed, gone;
    struct rearm link;          /* on the all and dirty lists */
};

struct afd {
    struct iocp base;
    struct afd_api api;
    HANDLE afd;
    struct rearm_list list;
};

static ULONG afd_events(unsigned mask)
{
    ULONG e = AFD_POLL_ABORT | AFD_POLL_LOCAL_CLOSE | AFD_POLL_CONNECT_FAIL;
    if (mask & LOOP_READABLE)
        e |= AFD_POLL_RECEIVE | AFD_POLL_DISCONNECT | AFD_POLL_ACCEPT;
    if (mask & LOOP_WRITABLE)
        e |= AFD_POLL_SEND;
    return e;
}

static unsigned loop_events(ULONG e)
{
    unsigned m = 0;
    if (e & (AFD_POLL_RECEIVE | AFD_POLL_DISCONNECT | AFD_POLL_ACCEPT | AFD_POLL_ABORT |
             AFD_POLL_CONNECT_FAIL))
        m |= LOOP_READABLE;
    if (e & (AFD_POLL_SEND | AFD_POLL_ABORT | AFD_POLL_CONNECT_FAIL))
        m |= LOOP_WRITABLE;               /* a failed connect wakes the writer: libcurl asks */
    return m;
}

static void mark(struct afd *a, struct asock *k) { rearm_mark(&a->list, &k->link); }

static void forget(struct afd *a, struct asock *k)
{
    rearm_unlink(&a->list, &k->link);
    free(k);
}

static int af_init(loop_t *loop)
{
    struct afd *a = calloc(1, sizeof *a);
    if (!a)
        return LOOP_ENOMEM;
    loop->bk = a;
    if (afd_load(&a->api) || iocp_open(loop, &a->base))
        return loop_fail(loop, LOOP_ENOTSUP, "afd: ntdll's NtDeviceIoControlFile is missing");
    if (!(a->afd = afd_open(&a->api, a->base.port, IOCP_KEY_AFD)))
        return loop_fail(loop, LOOP_ENOTSUP, "afd: cannot open \\Device\\Afd (Windows, or Wine: "
                         "tested on 8.0)");
    return LOOP_OK;
}

/* tag::afd_fini */
static void af_fini(loop_t *loop)
{
    struct afd *a = loop->bk;
    IO_STATUS_BLOCK c;
    int pending = 0;
    for (struct rearm *r = a->list.all; r; r = r->next) {
        struct asock *k = REARM_ENTRY(r, struct asock);
        if (k->armed) {
            a->api.cancel(a->afd, &k->iosb, &c);
            pending++;
        }
    }
    /* Wait for each poll's own completion: the kernel writes its IO_STATUS_BLOCK. */
    uint64_t deadline = loop_now_ms() + AFD_DRAIN_MS;
    for (uint64_t now; pending > 0 && (now = loop_now_ms()) < deadline;) {
        OVERLAPPED_ENTRY ev[64];
        int n = iocp_dequeue(loop, &a->base, ev, 64, (long)(deadline - now));
        for (int i = 0; i < n; i++)
            if (ev[i].lpCompletionKey == IOCP_KEY_AFD) {
                CONTAINING_RECORD(ev[i].lpOverlapped, struct asock, iosb)->armed = 0;
                pending--;
            } else if (ev[i].lpCompletionKey == IOCP_KEY_OP && ev[i].lpOverlapped) {
                iocp_forget_op(loop, &a->base, &ev[i]);   /* iocp_close cancels the rest */
            }
        if (n < 0)
            break;
    }
    while (a->list.all) {
        struct asock *k = REARM_ENTRY(a->list.all, struct asock);
        if (k->armed) {                   /* still the kernel's: leak it, never free it */
            rearm_unlink(&a->list, &k->link);
            afd_leaked_polls++;
        } else {
            forget(a, k);
        }
    }
    if (a->afd)
        CloseHandle(a->afd);
    iocp_close(loop, &a->base);
    free(a);
}
/* end::afd_fini */

static int af_set(loop_t *loop, loop_fd_t fd, unsigned old, unsigned mask)
{
    struct afd *a = loop->bk;
    struct loop_watch *w = loop_watch_find(loop, fd);
    struct asock *k = w->bk;
    if (k && old == mask && mask) {       /* asked again: the handle may now name a new */
        k->gone = 1;                      /* socket; the old state waits for its poll's */
        mark(a, k);                       /* completion, and a new one is made */
        w->bk = k = NULL;
    }
    if (!k) {
        SOCKET base = afd_base(fd);
        if (base == INVALID_SOCKET)
            return loop_fail(loop, LOOP_ESYS, "afd: SIO_BASE_HANDLE failed (WSA %d)",
                             WSAGetLastError());
        if (!(k = calloc(1, sizeof *k)))
            return loop_fail(loop, LOOP_ENOMEM, "afd: out of memory");
        k->s = fd;
        k->base = base;
        rearm_add(&a->list, &k->link);
        w->bk = k;
    }
    k->want = mask;
    if (mask == 0) {                      /* the loop forgets the fd; we wait for the kernel */
        k->gone = 1;
        w->bk = NULL;
    }
    mark(a, k);
    return LOOP_OK;
}

/* tag::afd_update */
/* Before each wait: (re)arm what needs it, cancel what asks for the wrong thing. */
static int update(loop_t *loop, struct afd *a)
{
    IO_STATUS_BLOCK c;
    for (struct rearm *r; (r = rearm_pop(&a->list));) {
        struct asock *k = REARM_ENTRY(r, struct asock);
        if (k->armed) {
            if ((k->gone || k->closed || (k->want & ~k->armed)) && !k->cancelling) {
                a->api.cancel(a->afd, &k->iosb, &c);   /* then wait for its completion */
                k->cancelling = 1;
            }
        } else if (k->gone || k->closed) {
            if (k->gone)
                forget(a, k);
        } else if (k->want) {
            NTSTATUS st = afd_poll(&a->api, a->afd, k->base, afd_events(k->want), FALSE,
                                   &k->info, &k->iosb);
            if (st != 0 && st != STATUS_PENDING)
                return loop_fail(loop, LOOP_ESYS, "afd: poll failed (0x%lx)", (unsigned long)st);
            k->armed = k->want;
        }
    }
    return LOOP_OK;
}
/* end::afd_update */

/* tag::afd_wait */
static int af_wait(loop_t *loop, long timeout_ms)
{
    struct afd *a = loop->bk;
    OVERLAPPED_ENTRY ev[64];
    int rc = update(loop, a), fired = 0;
    if (rc != LOOP_OK)
        return rc;
    int n = iocp_dequeue(loop, &a->base, ev, 64, timeout_ms);
    for (int i = 0; i < n; i++) {
        if (ev[i].lpCompletionKey == IOCP_KEY_OP && ev[i].lpOverlapped) {
            iocp_complete_op(loop, &ev[i]);
            continue;
        }
        if (ev[i].lpCompletionKey != IOCP_KEY_AFD)
            continue;
        struct asock *k = CONTAINING_RECORD(ev[i].lpOverlapped, struct asock, iosb);
        ULONG got = (k->iosb.Status == 0 && k->info.NumberOfHandles) ? k->info.Handles[0].Events : 0;
        k->armed = 0;
        k->cancelling = 0;
        unsigned m = loop_events(got) & k->want;
        if (k->closed) {
            m = 0;                        /* reported already */
        } else if (got & AFD_POLL_LOCAL_CLOSE) {
            k->closed = 1;                /* closed while watched: never re-arm, and */
            m = LOOP_READABLE | LOOP_WRITABLE | LOOP_DEAD;  /* report it once (loop.h) */
        }
        if (m && !k->gone && (size_t)fired < loop->fired_cap)
            loop->fired[fired++] = (struct loop_fired){k->s, m};
        /* tag::exercise ch07 */
        mark(a, k);                       /* one-shot: re-arm next time round */
        /* end::exercise */
    }
    return n < 0 ? n : fired;
}
/* end::afd_wait */

const struct loop_backend loop_backend_iocp_afd = {
    "iocp-afd", LOOP_CAP_FD_WATCH | LOOP_CAP_COMPLETION | LOOP_CAP_TIMERS,
    af_init, af_fini, af_set, af_wait, NULL,
};
#endif
