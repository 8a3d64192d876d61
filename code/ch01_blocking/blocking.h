/**
 * @file blocking.h
 * @brief Chapter 1: one easy handle, one transfer at a time.
 */
#ifndef BLOCKING_H
#define BLOCKING_H
#include "../jobs/job.h"
/** Run the jobs one after another with curl_easy_perform(). */
int blocking_run(struct job *jobs, size_t n, const struct job_opts *o);
#endif
