/* Chapter 1's claims: a blocking easy handle is correct, serial, and fails clearly. */
#include "../common/testutil.h"
#include "../../code/ch01_blocking/blocking.h"

#include <stdio.h>
#include <string.h>

TestSuite(ch01_blocking, .init = tsrv_up, .fini = tsrv_down, .timeout = 60);

Test(ch01_blocking, bytes_and_status_are_right)
{
    char u[3][96];
    struct job jobs[3] = {{0}};
    snprintf(u[0], sizeof u[0], "%s/bytes/70000", t_base);
    snprintf(u[1], sizeof u[1], "%s/bytes/0", t_base);
    snprintf(u[2], sizeof u[2], "%s/status/404", t_base);
    for (int i = 0; i < 3; i++)
        jobs[i].url = u[i];
    struct job_opts o = {10000, NULL, 0};
    cr_assert_eq(blocking_run(jobs, 3, &o), 0);
    cr_expect(job_ok(&jobs[0]) && jobs[0].bytes == 70000 && jobs[0].body_ok);
    cr_expect(job_ok(&jobs[1]) && jobs[1].bytes == 0 && jobs[1].status == 200);
    cr_expect_eq(jobs[2].status, 404);
    cr_expect_eq(jobs[2].result, CURLE_OK);
    cr_expect(!job_ok(&jobs[2]), "a 404 is not a success");
}

Test(ch01_blocking, four_delays_take_four_times_as_long)
{
    char u[96];
    struct job jobs[4] = {{0}};
    snprintf(u, sizeof u, "%s/delay/300", t_base);
    for (int i = 0; i < 4; i++)
        jobs[i].url = u;
    struct job_opts o = {10000, NULL, 0};
    uint64_t t0 = loop_now_ms();
    cr_assert_eq(blocking_run(jobs, 4, &o), 0);
    uint64_t wall = loop_now_ms() - t0;
    for (int i = 0; i < 4; i++) {
        cr_expect(job_ok(&jobs[i]));
        if (i > 0)   /* each starts only after the one before it ended */
            cr_expect_geq(jobs[i].start_ms, jobs[i - 1].end_ms);
    }
    cr_expect_geq(wall, 1200, "4 x 300 ms serially took only %llu ms", (unsigned long long)wall);
}

Test(ch01_blocking, refused_port_is_a_clear_error_and_nonzero_exit)
{
    char url[96], out[4096], err[4096];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/bytes/10", t_refused_port);
    const char *args[] = {url, NULL};
    int rc = t_run("ch01", args, out, sizeof out, err, sizeof err, 30);
    cr_expect_eq(rc, 1, "exit code %d; out: %s", rc, out);
    cr_expect(strstr(out, "error 7:") != NULL, "no CURLE_COULDNT_CONNECT line in: %s", out);
    cr_expect(strstr(out, "failed=1") != NULL, "total line missing in: %s", out);
}

Test(ch01_blocking, stall_under_timeout_is_a_timeout_not_a_hang)
{
    char out[4096], err[4096];
    const char *args[] = {"-t", "500", "/stall", NULL};
    uint64_t t0 = loop_now_ms();
    int rc = t_run("ch01", args, out, sizeof out, err, sizeof err, 20);
    cr_expect_eq(rc, 1, "exit code %d (-1 means it hung); out: %s", rc, out);
    cr_expect(strstr(out, "error 28:") != NULL, "no CURLE_OPERATION_TIMEDOUT in: %s", out);
    cr_expect_lt(loop_now_ms() - t0, 10000);
}

Test(ch01_blocking, malformed_url_is_refused_before_any_transfer)
{
    char out[4096], err[4096];
    const char *args[] = {"/bytes/10", "http://[::1", NULL};
    int rc = t_run("ch01", args, out, sizeof out, err, sizeof err, 20);
    cr_expect_eq(rc, 2, "exit code %d", rc);
    cr_expect(strstr(err, "bad URL 'http://[::1'") != NULL, "stderr: %s", err);
    cr_expect_eq(out[0], '\0', "nothing should run: %s", out);
}

Test(ch01_blocking, malformed_url_in_a_job_is_reported)
{
    struct job j = {.url = "http://[::1"};
    struct job_opts o = {1000, NULL, 0};
    int rc = blocking_run(&j, 1, &o);
    cr_assert_eq(rc, 0, "blocking_run returned %d for one job whose URL is malformed: a "
                 "transfer that fails is recorded in its job, not an error of the run", rc);
    cr_expect_eq(j.result, CURLE_URL_MALFORMAT);
    cr_expect_eq(j.done, 1);
}

Test(ch01_blocking, usage_errors_exit_2)
{
    char out[4096], err[4096];
    const char *none[] = {NULL};
    const char *bad_n[] = {"-n", "zero", "/bytes/1", NULL};
    cr_expect_eq(t_run("ch01", none, out, sizeof out, err, sizeof err, 10), 2);
    cr_expect(strstr(err, "no URL given") != NULL, "stderr: %s", err);
    cr_expect_eq(t_run("ch01", bad_n, out, sizeof out, err, sizeof err, 10), 2);
    cr_expect(strstr(err, "-n needs a number from 1 to 100000, not 'zero'") != NULL, "%s", err);
}

/* Every wrong command line exits 2 and names what is wrong; nothing runs. */
Test(ch01_blocking, wrong_options_and_urls_exit_2_naming_them)
{
    static const struct { const char *args[4]; const char *says; } cases[] = {
        {{"-x", "/bytes/1"}, "unknown option '-x'"},
        {{"-b", "nosuch", "/bytes/1"}, "-b: the blocking model has no loop backend"},
        {{"--trace", "/bytes/1"}, "--trace: the blocking model has no loop"},
        {{"-t"}, "-t needs a number from 1 to 86400000, not nothing"},
        {{"file:///etc/hostname"}, "only http and https are fetched here"},
        {{"ftp://127.0.0.1/x"}, "only http and https are fetched here"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char out[4096], err[4096];
        int rc = t_run("ch01", cases[k].args, out, sizeof out, err, sizeof err, 10);
        cr_expect_eq(rc, 2, "%s: exit %d", cases[k].args[0], rc);
        cr_expect(strstr(err, cases[k].says) != NULL, "%s: stderr: %s", cases[k].args[0], err);
        cr_expect_eq(out[0], '\0', "%s ran something: %s", cases[k].args[0], out);
    }
}

/* A SERVER a reader mistypes (issue: silent 404s, "Bad scheme") is refused with a
 * message that names SERVER and the URL it would have made; so is a path without '/'. */
Test(ch01_blocking, a_bad_server_or_path_exits_2_naming_it)
{
    static const struct { const char *server, *arg, *says; } cases[] = {
        {"127.0.0.1:8080", "/bytes/10", "SERVER='127.0.0.1:8080' is not a server's address: it "
                                        "has no http:// or https:// in front (the URL would be "
                                        "'127.0.0.1:8080/bytes/10'"},
        {"http://127.0.0.1:8080/", "/bytes/10", "it ends with '/', so every path would start "
                                                "with '//' (and answer 404) (the URL would be "
                                                "'http://127.0.0.1:8080//bytes/10'"},
        {"http://127.0.0.1:8080/x", "/bytes/10", "SERVER='http://127.0.0.1:8080/x' is not a "
                                                 "server's address: it has a path"},
        {"http://", "/bytes/10", "it names no host"},
        {NULL, "bytes/10", "bad URL 'bytes/10': neither a URL (http://...) nor a path on "
                           "$SERVER (a path starts with '/': '/bytes/10')"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char out[4096], err[4096];
        const char *args[] = {cases[k].arg, NULL};
        setenv("SERVER", cases[k].server ? cases[k].server : t_base, 1);
        int rc = t_run("ch01", args, out, sizeof out, err, sizeof err, 10);
        cr_expect_eq(rc, 2, "SERVER=%s %s: exit %d", cases[k].server, cases[k].arg, rc);
        cr_expect(strstr(err, cases[k].says) != NULL, "SERVER=%s %s: stderr: %s",
                  cases[k].server, cases[k].arg, err);
        cr_expect_eq(out[0], '\0', "SERVER=%s %s ran something: %s", cases[k].server,
                     cases[k].arg, out);
    }
    setenv("SERVER", t_base, 1);
}

static size_t keep(char *d, size_t s, size_t n, void *buf)
{
    strncat(buf, d, s * n < 200 ? s * n : 200);
    return s * n;
}

/* The local server: a bad route or parameter is a 4xx with a message. */
Test(ch01_blocking, the_server_answers_bad_routes_and_parameters_with_a_4xx_message)
{
    static const struct { const char *path; long code; const char *says; const char *post; }
    cases[] = {
        {"/nope", 404, "no such route", NULL}, {"/bytes/abc", 400, "bad parameter", NULL},
        {"/bytes/-1", 400, "bad parameter", NULL}, {"/status/42", 400, "bad parameter", NULL},
        {"/delay/5/6", 400, "bad parameter", NULL}, {"/bytes/+5", 400, "bad parameter", NULL},
        {"/bytes/%20%2B5", 400, "bad parameter", NULL}, {"/bytes/1%00x", 400, "bad parameter", NULL},
        {"/bytes/5", 405, "only GET and HEAD", "a body nobody asked for"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char url[128], body[512] = "";
        long code = 0;
        snprintf(url, sizeof url, "%s%s", t_base, cases[i].path);
        CURL *e = curl_easy_init();
        curl_easy_setopt(e, CURLOPT_URL, url);
        if (cases[i].post)
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, cases[i].post);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);   /* no reply at all is a failure */
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, keep);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)body);   /* libcurl 8 checks the type */
        CURLcode rc = curl_easy_perform(e);
        cr_expect_eq(rc, CURLE_OK, "%s: %s", cases[i].path, curl_easy_strerror(rc));
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
        curl_easy_cleanup(e);
        cr_expect_eq(code, cases[i].code, "%s gave %ld", cases[i].path, code);
        cr_expect(strstr(body, cases[i].says) != NULL, "%s said: %s", cases[i].path, body);
    }
}
