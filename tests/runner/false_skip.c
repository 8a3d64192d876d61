/* Runner self-test: a Windows test that skips, saying mingw-w64 and Wine are
 * missing. Where both are installed that reason is false: red. */
#include <criterion/criterion.h>

Test(runner_false_skip, skips) {
    cr_skip_test("x.exe is not built: the Windows chapters need mingw-w64 and Wine");
}
