/* Runner self-test: a test dies of a signal. */
#include <criterion/criterion.h>
#include <signal.h>

Test(runner_crash, dies) { raise(SIGSEGV); }
