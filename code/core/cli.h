/**
 * @file cli.h
 * @brief The command line every chapter program shares.
 */
#ifndef CLI_H
#define CLI_H

#include "job.h"

/** Parse `[-n N] [-t MS] [-b BACKEND] [-q] [--trace] URL...`, run the jobs with
 *  @p run and print a row each and a total. @p backend is the default loop
 *  backend for loop chapters (NULL otherwise). A URL that starts with '/' is
 *  appended to $SERVER. Exit code: 0 all ok, 1 a transfer failed, 2 bad usage. */
int cli_main(int argc, char **argv, const char *model, job_runner run,
             const char *backend);

#endif
