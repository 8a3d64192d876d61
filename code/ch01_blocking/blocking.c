/* Chapter 1: curl_easy_perform, one transfer after another. */
#include "blocking.h"

/* tag::blocking_run */
int blocking_run(struct job *jobs, size_t n, const struct job_opts *o)
{
    /* tag::exercise ch01 */
    for (size_t i = 0; i < n; i++) {
        CURL *easy = job_easy(&jobs[i], o);
        if (!easy)
            return -1;
        CURLcode rc = curl_easy_perform(easy);   /* blocks until done */
        job_finish(easy, rc);
    }
    /* end::exercise */
    return 0;
}
/* end::blocking_run */
