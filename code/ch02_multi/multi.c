/* Chapter 2: all transfers at once, libcurl owning the loop. */
#include "multi.h"

/* tag::multi_drain */
static void drain(CURLM *multi)
{
    /* tag::exercise ch02 */
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode result = msg->data.result;
        curl_multi_remove_handle(multi, easy);
        job_finish(easy, result);
    }
    /* end::exercise */
}
/* end::multi_drain */

/* tag::multi_run */
int multi_run(struct job *jobs, size_t n, const struct job_opts *o)
{
    CURLM *multi = curl_multi_init();
    if (!multi)
        return -1;
    for (size_t i = 0; i < n; i++)
        curl_multi_add_handle(multi, job_easy(&jobs[i], o));
    int running = 1;
    CURLMcode mc = CURLM_OK;
    while (running && mc == CURLM_OK) {
        mc = curl_multi_perform(multi, &running);    /* do what can be done */
        drain(multi);
        if (running && mc == CURLM_OK)
            mc = curl_multi_poll(multi, NULL, 0, 1000, NULL);  /* sleep on all sockets */
    }
    curl_multi_cleanup(multi);
    return mc == CURLM_OK ? 0 : -1;
}
/* end::multi_run */
