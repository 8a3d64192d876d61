/* Chapter 6's claims, each proved by a Windows program under Wine: the
 * proactor works for sockets it owns, and cannot serve libcurl's. */
#include "../common/testutil.h"
#include "../common/wine.h"

#include <stdio.h>
#include <string.h>

TestSuite(ch06_iocp, .init = tsrv_up, .fini = tsrv_down, .timeout = 700);

static const char *fact(const char *name, char *line, size_t len)
{
    const char *args[] = {t_base, NULL};
    return wine_fact("win_iocp.exe", args, name, line, len);
}

/* A test that one fact reads exactly as Wine printed it. */
#define FACT_IS(test, name, want) \
    Test(ch06_iocp, test) { char l[256]; cr_expect_str_eq(fact(name, l, sizeof l), want); }

/* The ch06 program's output, which `make ch06` shows. */
static const char *ch06(void)
{
    const char *args[] = {t_base, NULL};
    wine_require("ch06.exe");
    const char *out = wine_output("ch06.exe", args);
    cr_assert_not_null(out);
    return out;
}

/* The facts are judged one by one, even those printed before a later step
 * hung; this test fails if win_iocp.exe did not run every step to its end. */
Test(ch06_iocp, win_iocp_runs_every_step_to_its_end)
{
    char l[256];
    fact("completion_is_not_readiness", l, sizeof l);
    cr_expect_null(wine_failure(), "%s", wine_failure());
}

/* 5 bytes wait in the socket, and the port has nothing to say: 258 is WAIT_TIMEOUT */
FACT_IS(completion_is_not_readiness, "completion_is_not_readiness",
        "fionread=5 dequeued=0 err=258")

/* 10035 is WSAEWOULDBLOCK: the owner's recv finds nothing */
FACT_IS(a_posted_wsarecv_takes_the_owners_bytes, "wsarecv_steals",
        "completed=1 stolen=5 data=hello owner_recv=-1 err=10035")

Test(ch06_iocp, a_wsarecv_on_libcurls_socket_makes_the_transfer_time_out)
{
    char l[256];
    fact("libcurl_loses_its_response", l, sizeof l);
    cr_expect(strncmp(l, "result=28 status=0 stolen=", 26) == 0, "%s", l);
    cr_expect(strstr(l, "starts=HTTP/1.1") != NULL, "the stolen bytes are the reply: %s", l);
}

/* 87 is ERROR_INVALID_PARAMETER, for another port and for the same one */
FACT_IS(association_with_a_port_is_permanent, "association_is_permanent",
        "first=1 other=0 err=87 same=0 err=87")

FACT_IS(a_zero_byte_wsarecv_completes_and_leaves_the_data, "zero_byte_recv",
        "completed=1 bytes=0 then_recv=3")

Test(ch06_iocp, a_zero_byte_wsasend_waits_for_room_under_wine)
{
    char l[256];
    fact("zero_byte_send", l, sizeof l);
    /* 997 is WSA_IO_PENDING: pending while the buffer is full, done once it drains */
    cr_expect(strstr(l, "fill_err=10035 rc=-1 rc_err=997 completed_while_full=0 "
                        "completed_after_drain=1") != NULL, "%s", l);
}

FACT_IS(skip_completion_port_on_success_drops_the_queued_completion, "skip_on_success",
        "without_flag=1 with_flag=0")

/* 10022 is WSAEINVAL unbound; bound, it is pending (997) */
FACT_IS(connectex_needs_a_bound_socket, "connectex_bound", "unbound_err=10022 bound_err=997")

/* 995 is ERROR_OPERATION_ABORTED: the OVERLAPPED is the kernel's until then */
FACT_IS(a_cancelled_operation_still_completes, "cancel_completes",
        "cancel_ok=1 dequeued=1 err=995")

FACT_IS(one_call_dequeues_a_batch, "batch_dequeue", "posted=5 one_call=5")

Test(ch06_iocp, the_iocp_loop_refuses_readers_and_writers)
{
    char l[256];
    fact("iocp_readers", l, sizeof l);
    /* caps 6 = TIMERS | COMPLETION, no FD_WATCH; -1 is LOOP_ENOTSUP */
    cr_expect(strncmp(l, "caps=6 reader=-1 writer=-1 null_cb=-1 ", 38) == 0, "%s", l);
    cr_expect(strstr(l, "msg=iocp is a proactor") != NULL, "%s", l);
}

FACT_IS(accept_and_echo_over_the_proactor, "accept_and_echo", "accept=0 connect=0 echoed=ping")

/* 10057 is WSAENOTCONN: the WSARecv failed at once, so no completion will come */
FACT_IS(an_operation_that_fails_at_once_is_reported_not_waited_for, "failed_op_not_in_flight",
        "recv=-4 in_flight=0 msg=WSARecv: WSA error 10057")

/* a WSASend that succeeds at once still queues its completion: 1 in flight until it is in */
FACT_IS(loop_run_returns_once_the_last_completion_is_in, "run_returns_after_the_last_completion",
        "send=0 in_flight=1 run=0 calls=1 guard_fired=0 left=0 leaked=0")

Test(ch06_iocp, http_get_over_the_proactor)
{
    char l[512];
    cr_assert_not_null(wine_line(ch06(), "1. proactor GET /bytes/1000:", l, sizeof l));
    unsigned long n = 0;
    sscanf(l, "%lu bytes", &n);
    cr_expect_gt(n, 1000, "headers and a 1000-byte body: %s", l);
    cr_expect(strstr(l, "error 0") != NULL, "%s", l);
}

Test(ch06_iocp, libcurl_is_refused_at_attach_with_the_fixes_named)
{
    char l[512];
    const char *out = ch06();
    cr_expect_not_null(wine_line(out, "2. libcurl on the 'iocp' loop:", l, sizeof l),
                       "the default loop on Windows is the proactor:\n%s", out);
    cr_assert_not_null(wine_line(out, "   refused at attach:", l, sizeof l), "%s", out);
    cr_expect(strstr(l, "LOOP_POLICY_SELECTOR") && strstr(l, "AFD poll"), "%s", l);
}

/* Wine 8.0's ws2_32 does not export it; Windows has it from build 20348 (not run here). */
/* loop_free cancels a WSARecv in flight and waits for it: the buffer is never
 * written, no callback runs, and the peer's 5 bytes are still in the socket. */
FACT_IS(freeing_the_iocp_loop_cancels_and_drains_its_operations, "iocp_free_with_recv_pending",
        "recv=0 buf=untouched callbacks=0 leaked=0 still_in_socket=5")
FACT_IS(freeing_the_thread_loop_cancels_and_drains_its_operations,
        "iocp-thread_free_with_recv_pending",
        "recv=0 buf=untouched callbacks=0 leaked=0 still_in_socket=5")
FACT_IS(freeing_the_afd_loop_cancels_and_drains_its_operations, "iocp-afd_free_with_recv_pending",
        "recv=0 buf=untouched callbacks=0 leaked=0 still_in_socket=5")
FACT_IS(process_socket_notifications_is_not_in_wine_8, "process_socket_notifications", "missing")

/* One numbered section of ch06's output: its ignored-refusal lines, each
 * transfer's CURLcode and time, and the summary line. */
struct section {
    int ignored, transfers, codes[8], ok, of, mcode;
    unsigned long ms[8], total_ms, refused;
};

static struct section section(const char *head)
{
    struct section sc = {0};
    const char *out = ch06(), *p = strstr(out, head);
    cr_assert_not_null(p, "no section \"%s\" in:\n%s", head, out);
    for (p = strchr(p, '\n'); p && p[1] == ' '; p = strchr(p + 1, '\n')) {
        int i, code = 0;
        long status;
        unsigned long bytes, ms;
        const char *e = strchr(p + 1, '\n');
        if (strncmp(p + 1, "   ignored: ", 12) == 0)
            sc.ignored++;
        else if (sscanf(p + 1, "%d %ld %lu B %lu ms", &i, &status, &bytes, &ms) == 4 &&
                 i >= 1 && i <= 8) {               /* a job_report() row */
            const char *err = strstr(p + 1, "  error ");
            if (err && (!e || err < e))
                sscanf(err, "  error %d", &code);
            sc.codes[i - 1] = code;
            sc.ms[i - 1] = ms;
            sc.transfers++;
        } else
            sscanf(p + 1, "   %d/%d ok in %lu ms; refused requests %lu; CURLMcode %d", &sc.ok,
                   &sc.of, &sc.total_ms, &sc.refused, &sc.mcode);
    }
    cr_assert_eq(sc.transfers, 4, "section \"%s\" shows %d transfers", head, sc.transfers);
    cr_assert_eq(sc.of, 4, "section \"%s\" has no summary line", head);
    return sc;
}

/* curl_cffi 0.5.x: refusals printed and swallowed; libcurl never hears of them.
 * Under Wine 8.0 with libcurl 7.88: two refused requests per transfer (OUT, then
 * IN once libcurl's own 200 ms connect check finds the connect done), then
 * nothing moves until each transfer's 3 s timeout. */
static void expect_the_flood(const char *head)
{
    struct section sc = section(head);
    cr_expect_gt(sc.ignored, 1, "more than one error line: %d", sc.ignored);
    cr_expect_eq((unsigned long)sc.ignored, sc.refused, "each refusal printed once");
    cr_expect_eq(sc.mcode, CURLM_OK, "libcurl was never told: CURLMcode %d", sc.mcode);
    cr_expect_eq(sc.ok, 0, "%d transfers finished", sc.ok);
    for (int i = 0; i < 4; i++) {
        cr_expect_eq(sc.codes[i], CURLE_OPERATION_TIMEDOUT, "transfer %d: CURLcode %d", i + 1,
                     sc.codes[i]);
        cr_expect(sc.ms[i] >= 2900, "transfer %d ended after %lu ms, before its 3 s timeout",
                  i + 1, sc.ms[i]);
    }
}

Test(ch06_iocp, swallowed_refusals_flood_and_stall_every_transfer_until_its_timeout)
{
    expect_the_flood("3. curl_cffi 0.5.x's flood: forced, refusals ignored (void callback)");
}

Test(ch06_iocp, the_one_second_forced_timeout_does_not_rescue_the_flood)
{
    expect_the_flood("4. the same, with curl_cffi 0.5.x's forced timeout every second");
}

Test(ch06_iocp, forced_past_the_check_the_first_socket_request_aborts_every_transfer)
{
    struct section sc = section("5. forced, the glue returns -1 (this project's glue)");
    cr_expect_eq(sc.mcode, CURLM_ABORTED_BY_CALLBACK, "CURLMcode %d", sc.mcode);
    cr_expect_eq(sc.refused, 1, "libcurl stopped at the first refusal: %lu", sc.refused);
    cr_expect_eq(sc.ignored, 0);
    for (int i = 0; i < 4; i++)
        cr_expect_eq(sc.codes[i], CURLE_ABORTED_BY_CALLBACK, "transfer %d: CURLcode %d", i + 1,
                     sc.codes[i]);
    cr_expect_lt(sc.total_ms, 1000, "the abort is immediate: %lu ms", sc.total_ms);
}

Test(ch06_iocp, the_selector_policy_makes_the_same_program_work)
{
    struct section sc = section("6. libcurl after loop_policy_set(LOOP_POLICY_SELECTOR) on "
                                "the 'select' loop:");
    cr_expect_eq(sc.ok, 4, "%d of 4 ok", sc.ok);
    cr_expect_eq(sc.refused, 0);
    cr_expect_lt(sc.total_ms, 2900, "4 x /delay/300 concurrently: %lu ms", sc.total_ms);
}
