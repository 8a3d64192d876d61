/* Windows programs under Wine, from Criterion: each program runs once per
 * test run (the first test that needs it runs it; the others read its output). */
#ifndef WINE_H
#define WINE_H

#include <stddef.h>

/* Skip the calling test (with the apt line) when the Windows programs were not built. */
void wine_require(const char *exe);

/* The output of this build's Windows program @exe run under Wine with args, once per test run.
 * Returns a static buffer; the test fails, with how it ended, unless the
 * program ran to its end and exited 0. */
const char *wine_output(const char *exe, const char *const args[]);

/* The same, but what it printed is returned even when it hung or died:
 * wine_failure() then says how it ended (NULL when it ran to its end). */
const char *wine_partial_output(const char *exe, const char *const args[]);
const char *wine_failure(void);

/* The rest of the first line of @out that starts with @prefix, or NULL. */
const char *wine_line(const char *out, const char *prefix, char *line, size_t len);

/* The value of "FACT <name> <value>" printed by @exe (run once per test run);
 * skips the test when the exe is not built, fails it when the fact is missing
 * (saying how the program ended, if it did not run to its end). A fact
 * printed before a later step hung is still judged on its values: each
 * program's "runs every step to its end" test fails for the hang. */
const char *wine_fact(const char *exe, const char *const args[], const char *name,
                      char *line, size_t len);

/* The same for a program run in parts, one run per test run and @part: the part
 * is among @args (win_bridges.exe's usage names its parts). */
const char *wine_part_fact(const char *exe, const char *part, const char *const args[],
                           const char *name, char *line, size_t len);

/* Assert the contract case @name passed on @backend in win_contract.exe's output. */
void wine_contract_case(const char *backend, const char *name);

#endif
