/* The transfer contract: cases every runner that claims concurrency must pass.
 * Plain C (no Criterion), so the Windows programs under Wine run the same cases. */
#ifndef CONTRACT_H
#define CONTRACT_H

#include "../../code/jobs/job.h"

struct contract_env {
    const char *base;               /* http://127.0.0.1:PORT of the local server */
    unsigned short refused_port;    /* a loopback port nobody listens on */
    job_runner run;                 /* how the jobs are run */
    const char *backend;            /* loop backend for job_run_loop, else NULL */
};

/* Run the case called @name: 0 when it holds, else 1 with the reason in @why. */
int contract_run(const char *name, const struct contract_env *env, char *why, size_t len);

/* The case names, NULL-terminated, in the order a report lists them. */
extern const char *const contract_names[];

/* Every case, for X(ctx, name): ctx is passed through unchanged. */
#define CONTRACT_CASES(X, ctx) \
    X(ctx, contract_bytes_and_status_are_right) \
    X(ctx, contract_concurrent_delays_beat_serial) \
    X(ctx, contract_one_failure_leaves_others_alone) \
    X(ctx, contract_refused_connect_is_reported_at_once) \
    X(ctx, contract_every_result_is_reported_once) \
    X(ctx, contract_stall_times_out_without_hanging) \
    X(ctx, contract_drip_arrives_whole) \
    X(ctx, contract_malformed_url_is_reported)

#endif
