/* Chapter 7's claims: libcurl works on IOCP through a selector thread and
 * through AFD poll, and AFD poll behaves as the chapter says, under Wine. */
#include "../common/testutil.h"
#include "../common/wine.h"

#include <stdio.h>
#include <string.h>

TestSuite(ch07_bridges, .init = tsrv_up, .fini = tsrv_down, .timeout = 700);

static const char *fact(const char *name, char *line, size_t len)
{
    char rport[16];
    snprintf(rport, sizeof rport, "%u", t_refused_port);
    const char *args[] = {t_base, rport, NULL};
    return wine_fact("win_bridges.exe", args, name, line, len);
}

#define FACT_IS(test, name, want) \
    Test(ch07_bridges, test) { char l[256]; cr_expect_str_eq(fact(name, l, sizeof l), want); }

/* ---- the unchanged transfer contract on both bridges */
#define WINE_THREAD(_, name) \
    Test(ch07_bridges, wine_thread_##name) { wine_contract_case("iocp-thread", #name); }
#define WINE_AFD(_, name) \
    Test(ch07_bridges, wine_afd_##name) { wine_contract_case("iocp-afd", #name); }
CONTRACT_CASES(WINE_THREAD, _)
CONTRACT_CASES(WINE_AFD, _)

/* ---- AFD facts */
/* Tested on Wine 8.0 only; which earlier Wine first had it is not asserted here. */
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

/* ---- both bridges: removal, close, scale, leaks */
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
    }
BRIDGE_TESTS("iocp-thread", thread)
BRIDGE_TESTS("iocp-afd", afd)

/* ---- the ch07 program: three rows */
static const char *ch07(void)
{
    const char *args[] = {t_base, NULL};
    wine_require("ch07.exe");
    const char *out = wine_output("ch07.exe", args);
    cr_assert_not_null(out);
    return out;
}

Test(ch07_bridges, program_shows_the_proactor_refused_and_both_bridges_working)
{
    char l[512];
    const char *out = ch07();
    cr_assert_not_null(wine_line(out, "iocp ", l, sizeof l), "%s", out);
    cr_expect(strncmp(l, "refused at attach:", 18) == 0, "%s", l);
    cr_assert_not_null(wine_line(out, "iocp-thread ", l, sizeof l), "%s", out);
    cr_expect(strncmp(l, "32/32 transfers ok", 18) == 0, "%s", l);
    cr_assert_not_null(wine_line(out, "iocp-afd ", l, sizeof l), "%s", out);
    cr_expect(strncmp(l, "32/32 transfers ok", 18) == 0, "%s", l);
}

Test(ch07_bridges, program_reports_every_readiness_event_with_its_cost)
{
    const char *p = ch07();
    int rows = 0;
    while ((p = strstr(p, "   readiness: "))) {
        int n = 0;
        double loop_w = 0, helper_w = 0;
        cr_assert_eq(sscanf(p, "   readiness: %d events; wake-ups per event: loop %lf, "
                               "helper thread %lf", &n, &loop_w, &helper_w), 3, "%.200s", p);
        cr_expect_eq(n, 300, "every round trip arrived");
        cr_expect(loop_w >= 0.9 && loop_w < 3.0, "loop wake-ups per event %.2f", loop_w);
        if (rows == 0)      /* iocp-thread: the helper polls once per event, in lock step */
            cr_expect(helper_w >= 0.5 && helper_w < 3.0, "helper wake-ups per event %.2f",
                      helper_w);
        else                /* iocp-afd: no helper thread at all */
            cr_expect(helper_w == 0, "AFD poll has no helper, yet %.2f", helper_w);
        rows++;
        p++;
    }
    cr_expect_eq(rows, 2, "one readiness row per bridge");
}
