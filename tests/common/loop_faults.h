/* Loop-level cases found by driving the loop with abuse: each one a fault that
 * was real (a buffer overrun, a dropped watch, a stale event, a spinning loop,
 * a sticky failure), run on every reactor backend. See loop_faults.c. */
#ifndef LOOP_FAULTS_H
#define LOOP_FAULTS_H

#include <criterion/criterion.h>

void t_rewatched_before_a_wait_then_closed_is_reported_once(const char *backend);
void t_dead_fds_callback_can_watch_a_new_fd_on_its_number(const char *backend);
void t_event_for_a_removed_watch_skips_a_new_one(const char *backend);
void t_timer_weeks_away_does_not_make_the_loop_spin(const char *backend);
void t_file_is_refused_and_the_loop_goes_on(const char *backend);
void t_closed_writer_only_fd_is_reported_once(const char *backend);
void t_zero_ms_timer_from_a_timer_waits_for_the_next_pass(const char *backend);

#define LOOP_FAULT_TESTS(suite, backend)                                                    \
    Test(suite, a_fd_watched_again_before_a_wait_then_closed_is_reported_once,             \
         .timeout = 30) { t_rewatched_before_a_wait_then_closed_is_reported_once(backend); } \
    Test(suite, a_dead_fds_callback_can_watch_a_new_fd_on_its_number, .timeout = 30) {      \
        t_dead_fds_callback_can_watch_a_new_fd_on_its_number(backend); }                   \
    Test(suite, an_event_for_a_removed_watch_never_reaches_a_new_one, .timeout = 30) {      \
        t_event_for_a_removed_watch_skips_a_new_one(backend); }                            \
    Test(suite, a_timer_weeks_away_does_not_make_the_loop_spin, .timeout = 30) {            \
        t_timer_weeks_away_does_not_make_the_loop_spin(backend); }                         \
    Test(suite, a_regular_file_is_refused_and_the_loop_goes_on, .timeout = 30) {            \
        t_file_is_refused_and_the_loop_goes_on(backend); }                                 \
    Test(suite, a_closed_fd_watched_for_writing_is_reported_once, .timeout = 30) {          \
        t_closed_writer_only_fd_is_reported_once(backend); }                               \
    Test(suite, a_zero_ms_timer_set_by_a_timer_waits_for_the_next_pass, .timeout = 30) {    \
        t_zero_ms_timer_from_a_timer_waits_for_the_next_pass(backend); }

#endif
