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
 *  appended to $SERVER. Exit code: 0 all ok, 1 a transfer failed, 2 bad usage,
 *  130 interrupted (SIGINT: every transfer not yet done is reported as "interrupted"). */
int cli_main(int argc, char **argv, const char *model, job_runner run,
             const char *backend);

/** 1 when this build has the loop backend @p name; else 0, after a message
 *  on stderr that names the backends it has (@p prog names the program). */
int cli_backend_known(const char *prog, const char *name);

/** The port of @p base when it is the local server's address
 *  (`http://127.0.0.1:PORT` or `http://localhost:PORT`, PORT 1 to 65535, an
 *  optional trailing '/'); otherwise -1, after a message and the usage line
 *  on stderr (@p prog names the program). For the programs that take one base URL. */
int cli_local_port(const char *prog, const char *base);

#endif
