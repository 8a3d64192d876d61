/**
 * @file job.h
 * @brief One transfer's request and result, shared by every chapter's program and test.
 */
#ifndef JOB_H
#define JOB_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/** A transfer to run and, once done, what happened. */
struct job {
    const char *url;                  /**< What to fetch. */
    CURLcode result;                  /**< libcurl's verdict. */
    long status;                      /**< HTTP status, 0 if none arrived. */
    size_t bytes;                     /**< Body bytes received. */
    int body_ok;                      /**< Every byte matched pattern_byte(). */
    int done;                         /**< Reported exactly once: 1. */
    uint64_t start_ms;                /**< loop_now_ms() at the start. */
    uint64_t end_ms;                  /**< loop_now_ms() at the end. */
    char error[CURL_ERROR_SIZE];      /**< libcurl's error text, or "". */
};

/** How to run a batch of jobs. */
struct job_opts {
    long timeout_ms;                  /**< Per transfer; 0 = none. */
    const char *backend;              /**< The loop backend, for loop runners. */
    int trace;                        /**< Print libcurl's socket/timer requests. */
};

/** A way to run jobs: serially, on curl_multi_poll, on a loop...
 *  Returns 0 when every job was reported, or a negative setup error. */
typedef int (*job_runner)(struct job *jobs, size_t n, const struct job_opts *o);

/** An easy handle set up for @p j: URL, body check, error buffer, timeout. */
CURL *job_easy(struct job *j, const struct job_opts *o);
/** Record @p result and the status of @p easy in its job; cleans up @p easy. */
void job_finish(CURL *easy, CURLcode result);
/** Did the transfer succeed: no libcurl error and a status below 400. */
int job_ok(const struct job *j);
/** Print one row per job, and return how many failed. */
size_t job_report(FILE *out, const struct job *jobs, size_t n);

/** Catch SIGINT (Ctrl-C) from now on (not on Windows): a run then stops, every
 *  unfinished transfer ends once with CURLE_ABORTED_BY_CALLBACK and the error
 *  "interrupted", and the runner returns. A second SIGINT ends the program.
 *  0, or -1 when it cannot. */
int job_catch_interrupt(void);
/** 1 once a SIGINT has arrived after job_catch_interrupt(). */
int job_interrupted(void);

/** Run @p jobs on the loop backend named in @p o, through the glue. */
int job_run_loop(struct job *jobs, size_t n, const struct job_opts *o);

#endif
