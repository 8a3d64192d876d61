/**
 * @file multi.h
 * @brief Chapter 2: the multi handle driving its own loop.
 */
#ifndef MULTI_H
#define MULTI_H
#include "../jobs/job.h"
/** Run the jobs concurrently with curl_multi_perform() and curl_multi_poll(). */
int multi_run(struct job *jobs, size_t n, const struct job_opts *o);
#endif
