/* Chapter 7's claims: libcurl works on IOCP through a selector thread,
 * through AFD poll and through WSAEventSelect with a registered wait, and AFD
 * poll and WSAEventSelect behave as the chapter says, under Wine. */
#include "../common/testutil.h"
#include "../common/wine.h"

#include <stdio.h>
#include <string.h>

TestSuite(ch07_bridges, .init = tsrv_up, .fini = tsrv_down, .timeout = 700);

/* The part of win_bridges.exe that prints the fact @p name (its usage names them). */
static const char *part_of(const char *name)
{
    static const char *const bridges[] = {"iocp-thread", "iocp-afd", "iocp-event"};
    static const char *const many[] = {"iocp-thread-500", "iocp-afd-500", "iocp-event-500"};
    size_t n = strlen(name);
    if (n > 8 && strcmp(name + n - 8, "_threads") == 0)
        return "threads";
    if (strcmp(name, "event_close_pending") == 0)
        return "close";
    for (int i = 0; i < 3; i++) {
        size_t b = strlen(bridges[i]);
        if (strncmp(name, bridges[i], b) == 0 && name[b] == '_')     /* B_500, B_leaks: B-500 */
            return strcmp(name + b, "_500") == 0 || strcmp(name + b, "_leaks") == 0 ? many[i]
                                                                                  : bridges[i];
    }
    return "afd";                  /* afd_*, and wine_version and afd_open, which every part prints */
}

static const char *fact(const char *name, char *line, size_t len)
{
    char rport[16];
    snprintf(rport, sizeof rport, "%u", t_refused_port);
    const char *args[] = {t_base, rport, part_of(name), NULL};
    return wine_part_fact("win_bridges.exe", part_of(name), args, name, line, len);
}

#define FACT_IS(test, name, want) \
    Test(ch07_bridges, test) { char l[256]; cr_expect_str_eq(fact(name, l, sizeof l), want); }

static const char *event_fact(const char *name, char *line, size_t len)
{
    char rport[16];
    snprintf(rport, sizeof rport, "%u", t_refused_port);
    const char *args[] = {rport, NULL};
    return wine_fact("win_events.exe", args, name, line, len);
}

#define EVENT_FACT_IS(test, name, want) \
    Test(ch07_bridges, test) { char l[256]; cr_expect_str_eq(event_fact(name, l, sizeof l), want); }

/* ---- the unchanged transfer contract on both bridges */
#define WINE_THREAD(_, name) \
    Test(ch07_bridges, wine_thread_##name) { wine_contract_case("iocp-thread", #name); }
#define WINE_AFD(_, name) \
    Test(ch07_bridges, wine_afd_##name) { wine_contract_case("iocp-afd", #name); }
#define WINE_EVENT(_, name) \
    Test(ch07_bridges, wine_event_##name) { wine_contract_case("iocp-event", #name); }
CONTRACT_CASES(WINE_THREAD, _)
CONTRACT_CASES(WINE_AFD, _)
CONTRACT_CASES(WINE_EVENT, _)

/* ---- AFD facts */
/* Tested on Wine 8.0 only; which earlier Wine first had it is not asserted here. */
/* The facts are judged one by one, even those printed before a later step
 * hung; this test fails if a part of win_bridges.exe did not run every step
 * to its end. */
Test(ch07_bridges, win_bridges_runs_every_step_to_its_end)
{
    char l[256];
    const char *first[] = {"afd_one_shot", "iocp-thread_level_triggered", "iocp-afd_level_triggered",
                           "iocp-event_level_triggered", "iocp-thread_500", "iocp-afd_500",
                           "iocp-event_500", "event_close_pending", "iocp-event_threads"};
    for (int i = 0; i < 9; i++) {
        fact(first[i], l, sizeof l);
        cr_expect_null(wine_failure(), "part %s: %s", part_of(first[i]), wine_failure());
    }
}

Test(ch07_bridges, afd_device_opens_under_wine)
{
    char l[256];
    int major = 0;
    fact("wine_version", l, sizeof l);
    cr_expect_eq(sscanf(l, "%d.", &major), 1, "not Wine? %s", l);
    cr_expect_str_eq(fact("afd_open", l, sizeof l), "ok");
}

/* 0x1 is AFD_POLL_RECEIVE */
FACT_IS(afd_polls_are_one_shot_until_rearmed, "afd_one_shot",
        "first=1 again_without_rearm=0 after_rearm=1 events=0x1")
/* status 0 and no handles: completed by the newcomer, not cancelled */
FACT_IS(an_exclusive_poll_displaces_an_earlier_exclusive_one, "afd_exclusive_after_exclusive",
        "displaced=first status=0x0 handles=0")
FACT_IS(an_exclusive_poll_leaves_an_earlier_shared_one_under_wine, "afd_exclusive_after_shared",
        "displaced=none status=0x0 handles=0")
/* 0x20 is AFD_POLL_LOCAL_CLOSE */
FACT_IS(closing_a_socket_completes_its_poll, "afd_local_close", "completed=1 events=0x20")
/* 0xc0000120 is STATUS_CANCELLED */
FACT_IS(a_cancelled_poll_still_completes, "afd_cancel",
        "cancel=0x0 completed=1 status=0xc0000120 handles=1")
/* 0x100 is AFD_POLL_CONNECT_FAIL, 0xc0000236 STATUS_CONNECTION_REFUSED */
FACT_IS(a_refused_connect_gives_connect_fail, "afd_connect_fail",
        "completed=1 events=0x100 connect_fail=1 status=0xc0000236")

/* Closing an iocp-afd loop with 8 polls in flight waits for each one's own
 * completion before freeing its state: none leaked, no handle left open. */
Test(ch07_bridges, closing_the_afd_loop_waits_for_every_pending_poll)
{
    char l[256];
    int polls = 0, h0 = 0, h1 = 0;
    unsigned long long ms = 0;
    size_t leaked = 1;
    cr_assert_eq(sscanf(fact("afd_close_pending", l, sizeof l),
                        "polls=%d leaked=%zu ms=%llu handles_before=%d handles_after=%d",
                        &polls, &leaked, &ms, &h0, &h1), 5, "%s", l);
    cr_expect_eq(polls, 8, "%s", l);
    cr_expect_eq(leaked, 0, "polls whose completion never came: %s", l);
    cr_expect(ms < 2000, "closing took %llu ms", ms);
    cr_expect_eq(h1, h0, "handles: %s", l);
}

/* One event, a 100 ms callback: the helper polls again only after the loop has
 * run it (lock step), so a handful of wake-ups, not one per spin of WSAPoll. */
Test(ch07_bridges, the_selector_thread_waits_while_the_loop_runs_callbacks)
{
    char l[256];
    unsigned long long wakes = 0;
    cr_assert_eq(sscanf(fact("iocp-thread_slow_reader", l, sizeof l), "helper_wakes=%llu",
                        &wakes), 1, "%s", l);
    cr_expect(wakes >= 1 && wakes <= 4, "the helper woke %llu times for one event", wakes);
    cr_expect_str_eq(fact("iocp-afd_slow_reader", l, sizeof l), "helper_wakes=0");
}

/* ---- WSAEventSelect and registered waits, as Wine 8.0 shows them */
/* Five bytes in five sends: one FD_READ; a recv re-enables it, recorded again
 * while bytes are left (level-triggered per recv, as Microsoft documents). */
EVENT_FACT_IS(fd_read_is_recorded_once_per_recv_not_per_byte, "evt_read_per_recv",
              "first=1 without_recv=0 recv=1 after_partial_recv=1 recv=4 after_draining=0")
/* 0x12 is FD_CONNECT | FD_WRITE; 10035 WSAEWOULDBLOCK (the connect in progress) */
EVENT_FACT_IS(fd_write_comes_after_connect_and_again_only_after_a_send_would_block, "evt_write",
              "connect=10035 after_connect=0x12 connect_error=0 again=0 after_a_send=0 "
              "blocked_after=yes while_full=0 after_drain=1")
/* Microsoft: a new selection records what already holds; Wine 8.0 records
 * neither, nor FD_WRITE after libcurl's zero-byte send (lib/multi.c). */
EVENT_FACT_IS(asking_again_records_nothing_under_wine, "evt_ask_again",
              "write_on_reselect=0 write_after_zero_byte_send=0 read=1 read_on_reselect=0")
/* 0x10 is FD_CONNECT, 10061 WSAECONNREFUSED */
EVENT_FACT_IS(a_refused_connect_gives_fd_connect_with_its_error, "evt_connect_refused",
              "events=0x10 connect_error=10061")
/* Microsoft lists WSAECONNRESET for a reset; Wine 8.0 reports 0 for both. */
EVENT_FACT_IS(the_peers_close_gives_fd_close_error_0_under_wine, "evt_close",
              "graceful=1 error=0 abortive=1 error=0")
EVENT_FACT_IS(closing_the_watched_socket_sets_no_event, "evt_local_close", "event_set=0")
/* 10035 WSAEWOULDBLOCK, 10022 WSAEINVAL */
EVENT_FACT_IS(wsaeventselect_makes_the_socket_non_blocking, "evt_nonblocking",
              "recv_error=10035 to_blocking_error=10022")
EVENT_FACT_IS(a_second_selection_replaces_the_first, "evt_replaced",
              "first_event_set=0 second_event_set=1 to_blocking_after_cancel=0")
EVENT_FACT_IS(a_registered_wait_is_one_shot_or_persistent, "wait_once_or_persistent",
              "once=1 persistent=2")
/* 997 is ERROR_IO_PENDING */
EVENT_FACT_IS(unregister_with_invalid_handle_value_waits_for_the_callback, "wait_unregister",
              "blocking_error=0 callback_done=1 nonblocking_error=997 callback_done=0")
EVENT_FACT_IS(readiness_reaches_the_port_and_the_owner_reads_every_byte,
              "evt_through_the_port", "write=1 read=1 recv=5 close=1")
EVENT_FACT_IS(nt_associate_wait_completion_packet_is_not_in_wine_8,
              "nt_associate_wait_completion_packet", "missing")

/* Closing an iocp-event loop with 8 waits registered and their events set:
 * each wait is unregistered before its event is closed; nothing is left. */
Test(ch07_bridges, closing_the_event_loop_unregisters_every_wait)
{
    char l[256];
    int waits = 0, h0 = 0, h1 = 0, t0 = 0, t1 = 0;
    unsigned long long ms = 0;
    cr_assert_eq(sscanf(fact("event_close_pending", l, sizeof l),
                        "waits=%d ms=%llu handles_before=%d handles_after=%d threads_before=%d "
                        "threads_after=%d", &waits, &ms, &h0, &h1, &t0, &t1), 6, "%s", l);
    cr_expect_eq(waits, 8, "%s", l);
    cr_expect_eq(h1, h0, "handles: %s", l);
    cr_expect_eq(t1, t0, "threads: %s", l);
    cr_expect(ms < 2000, "closing took %llu ms", ms);
}

/* The thread cost: Wine's thread pool gives each wait thread at most 63 waits
 * (MAXIMUM_WAIT_OBJECTS - 1), so 1,000 watched sockets take at least 16 wait
 * threads; the selector thread stays at one. */
Test(ch07_bridges, registered_waits_cost_a_thread_per_63_sockets_under_wine)
{
    char l[256];
    int e1 = 0, e64 = 0, e1000 = 0, s1 = 0, s64 = 0, s1000 = 0;
    cr_assert_eq(sscanf(fact("iocp-event_threads", l, sizeof l),
                        "watched_1=%d watched_64=%d watched_1000=%d", &e1, &e64, &e1000), 3,
                 "%s", l);
    cr_expect(e1 >= 1 && e64 >= 2 && e1000 >= 16, "iocp-event threads: %s", l);
    cr_assert_eq(sscanf(fact("iocp-thread_threads", l, sizeof l),
                        "watched_1=%d watched_64=%d watched_1000=%d", &s1, &s64, &s1000), 3,
                 "%s", l);
    cr_expect(s1 == 1 && s64 == 1 && s1000 == 1, "iocp-thread threads: %s", l);
}

/* ---- all three bridges: removal, close, scale, leaks, the writer */
#define BRIDGE_TESTS(backend, id) \
    FACT_IS(id##_unread_data_keeps_calling_the_reader, backend "_level_triggered", \
            "called_again=1") \
    Test(ch07_bridges, id##_remove_reader_while_a_poll_is_pending) { \
        char l[256]; \
        unsigned long long waits = 0; \
        fact(backend "_remove_while_pending", l, sizeof l); \
        cr_expect(strncmp(l, "rm=0 run=0 calls=0 ms=0 ", 24) == 0, "%s", l); \
        cr_assert_eq(sscanf(l, "rm=0 run=0 calls=0 ms=0 quiet_waits=%llu", &waits), 1, "%s", l); \
        cr_expect_leq(waits, 5, "the removed socket, readable, woke the loop %llu times in " \
                      "200 ms: %s", waits, l); \
    } \
    FACT_IS(id##_closing_a_socket_with_a_poll_pending, backend "_close_while_pending", \
            "calls_after_close=1 forgotten=1 other_fired=1") \
    FACT_IS(id##_a_reused_handle_watched_again_fires, backend "_reused_handle", \
            "same_value=1 fired=1 again=1 still_watched=1") \
    Test(ch07_bridges, id##_500_concurrent_transfers) { \
        char l[256]; \
        fact(backend "_500", l, sizeof l); \
        cr_expect(strncmp(l, "ok=500 of=500 ", 14) == 0, "%s", l); \
    } \
    Test(ch07_bridges, id##_leaks_no_threads_or_handles) { \
        char l[256]; \
        int t0, t1, h0, h1; \
        fact(backend "_leaks", l, sizeof l); \
        cr_assert_eq(sscanf(l, "threads_before=%d threads_after=%d handles_before=%d " \
                               "handles_after=%d", &t0, &t1, &h0, &h1), 4, "%s", l); \
        cr_expect_eq(t1, t0, "threads: %s", l); \
        cr_expect_eq(h1, h0, "handles: %s", l); \
        cr_expect_gt(h0, 0, "the handle count works: %s", l); \
    } \
    FACT_IS(id##_a_writer_added_to_a_connected_socket_fires, backend "_writer_added_late", \
            "fired=1") \
    FACT_IS(id##_a_writer_is_called_until_a_send_would_block, backend "_writer_until_would_block", \
            "while_writable=1 blocked=1 stale_at_most_one=1 while_full=0 after_drain=1")
BRIDGE_TESTS("iocp-thread", thread)
BRIDGE_TESTS("iocp-afd", afd)
BRIDGE_TESTS("iocp-event", event)

/* ---- the ch07 program: four rows */
static const char *ch07(void)
{
    const char *args[] = {t_base, NULL};
    wine_require("ch07.exe");
    const char *out = wine_output("ch07.exe", args);
    cr_assert_not_null(out);
    return out;
}

Test(ch07_bridges, program_shows_the_proactor_refused_and_three_bridges_working)
{
    char l[512];
    const char *out = ch07();
    cr_assert_not_null(wine_line(out, "iocp ", l, sizeof l), "%s", out);
    cr_expect(strncmp(l, "refused at attach:", 18) == 0, "%s", l);
    const char *bridges[] = {"iocp-thread ", "iocp-afd ", "iocp-event "};
    for (int i = 0; i < 3; i++) {
        cr_assert_not_null(wine_line(out, bridges[i], l, sizeof l), "%s", out);
        cr_expect(strncmp(l, "32/32 transfers ok", 18) == 0, "%s%s", bridges[i], l);
    }
}

Test(ch07_bridges, program_reports_every_readiness_event_with_its_cost)
{
    const char *p = ch07();
    int rows = 0;
    while ((p = strstr(p, "   readiness: "))) {
        int n = 0, threads = -1;
        double loop_w = 0, helper_w = 0, p50 = 0, p99 = 0;
        cr_assert_eq(sscanf(p, "   readiness: %d events; wake-ups per event: loop %lf, "
                               "helper thread %lf; latency p50 %lf us, p99 %lf us; threads used %d",
                            &n, &loop_w, &helper_w, &p50, &p99, &threads), 6, "%.200s", p);
        cr_expect_eq(n, 900, "every round trip of the three runs arrived");
        cr_expect(loop_w >= 0.9 && loop_w < 3.0, "loop wake-ups per event %.2f", loop_w);
        if (rows == 1) {    /* iocp-afd: no helper thread at all */
            cr_expect(helper_w == 0, "AFD poll has no helper, yet %.2f", helper_w);
            cr_expect_eq(threads, 0, "AFD poll used %d threads", threads);
        } else {            /* the selector thread, and the thread pool's wait thread */
            cr_expect(helper_w >= 0.5 && helper_w < 3.0, "helper wake-ups per event %.2f",
                      helper_w);
            cr_expect_geq(threads, 1, "row %d used no thread", rows);
        }
        rows++;
        p++;
    }
    cr_expect_eq(rows, 3, "one readiness row per bridge");
}
