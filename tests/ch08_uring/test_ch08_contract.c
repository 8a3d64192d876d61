/* The unchanged transfer contract on the uring-poll loop (skipped, with the
 * reason, where io_uring cannot start). */
#include "../common/testutil.h"

CONTRACT_SUITE(ch08_uring, job_run_loop, "uring-poll")
