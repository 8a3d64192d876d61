/* The bench report's verdicts (tools/bench-report.sh): the committed report
 * is what the committed CSV says, and each target follows the chapter's rule,
 * "reached" only when every round reaches it, "missed" only when none does.
 * The script run is this build's copy of it (the Makefile puts it in
 * tools/ beside bin/), so a breaker can swap it. */
#include "../common/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Relative to the test binary's directory (see t_path). */
#ifndef ROOT_REL
#define ROOT_REL "../../.."
#endif
#define SCRIPT_REL "../tools/bench-report.sh"

static char report_out[1 << 16];

static char *make_dir(void)
{
    static char dir[64];
    snprintf(dir, sizeof dir, "/tmp/t_reportXXXXXX");
    cr_assert_not_null(mkdtemp(dir), "mkdtemp failed");
    return dir;
}

static void remove_dir(const char *dir)
{
    char out[256], err[256];
    const char *args[] = {"-rf", dir, NULL};
    t_run("/bin/rm", args, out, sizeof out, err, sizeof err, 10);
}

/* tools/bench-report.sh CSV DIR (its plots go to DIR), then DIR removed: its
 * stdout. */
static const char *report(const char *csv, const char *dir)
{
    char script[1100], err[4096];
    const char *args[] = {t_path(SCRIPT_REL, script, sizeof script), csv, dir, NULL};
    int rc = t_run("/bin/sh", args, report_out, sizeof report_out, err, sizeof err, 60);
    remove_dir(dir);
    cr_assert_eq(rc, 0, "bench-report.sh %s exited %d: %s", csv, rc, err);
    return report_out;
}

/* A whole file in @buf (NUL-terminated). */
static void read_file(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot open %s", path);
    size_t n = fread(buf, 1, len - 1, f);
    buf[n] = '\0';
    cr_assert(feof(f), "%s is larger than %zu bytes", path, len - 1);
    fclose(f);
}

/* Split @text into its lines, in place: how many (at most @max). */
static int lines_of(char *text, char **line, int max)
{
    int n = 0;
    for (char *p = text; *p && n < max; ) {
        char *nl = strchr(p, '\n');
        line[n++] = p;
        if (!nl)
            break;
        *nl = '\0';
        p = nl + 1;
    }
    return n;
}

/* The lines of the "== targets" section, without its header: how many. */
static int targets_of(char **line, int n, char ***first)
{
    int i = 0, k;
    while (i < n && strncmp(line[i], "== targets", 10) != 0)
        i++;
    *first = line + i + 1;
    for (k = 0; i + 1 + k < n && line[i + 1 + k][0]; k++)
        ;
    return i < n ? k : -1;
}

/* The section header (a "== " line) above line @i. */
static const char *section_of(char **line, int i)
{
    while (i >= 0 && strncmp(line[i], "== ", 3) != 0)
        i--;
    return i >= 0 ? line[i] : "(before any section)";
}

/* Each line of @a that no line of @b matches (each line of @b used once);
 * the output directory's line ("bench: ...") is not compared. */
static void each_in(char **a, int na, char **b, int nb, const char *a_is, const char *b_is)
{
    char *used = calloc((size_t)nb, 1);
    for (int i = 0; i < na; i++) {
        if (strncmp(a[i], "bench: ", 7) == 0)
            continue;
        int j = 0;
        while (j < nb && (used[j] || strcmp(a[i], b[j]) != 0))
            j++;
        cr_assert_lt(j, nb, "%s has a row that %s has not, in section \"%s\":\n%s\n"
                     "(a changed script: regenerate the report from the committed CSV, "
                     "tools/bench-report.sh docs/figures/results.csv build/bench with "
                     "syscalls.csv there; or find what changed its arithmetic)", a_is, b_is,
                     section_of(a, i), a[i]);
        used[j] = 1;
    }
    free(used);
}

/* The targets exactly, row by row and in order; every other row of the report
 * too, in any order (some sections list an awk array, whose order awks may
 * choose); only the last line, which names the output directory, differs. */
static void committed_report(const char *fig)
{
    static char want[1 << 16], got[1 << 16], calls[1 << 14];
    char root[1024], path[1200], *wl[512], *gl[512], **wt, **gt;
    t_path(ROOT_REL, root, sizeof root);
    /* the system-call section reads syscalls.csv beside the plots */
    snprintf(path, sizeof path, "%s/%s/syscalls.csv", root, fig);
    read_file(path, calls, sizeof calls);
    char *dir = make_dir();
    snprintf(path, sizeof path, "%s/syscalls.csv", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(calls, f);
    fclose(f);
    snprintf(path, sizeof path, "%s/%s/results.csv", root, fig);
    snprintf(got, sizeof got, "%s", report(path, dir));
    snprintf(path, sizeof path, "%s/%s/report.txt", root, fig);
    read_file(path, want, sizeof want);
    int nw = lines_of(want, wl, 512), ng = lines_of(got, gl, 512);
    int tw = targets_of(wl, nw, &wt), tg = targets_of(gl, ng, &gt);
    cr_assert_gt(tw, 0, "%s/report.txt has no \"== targets\" rows", fig);
    cr_assert_eq(tg, tw, "the committed report has %d target rows, the report regenerated from "
                 "%s/results.csv %d", tw, fig, tg);
    for (int i = 0; i < tw; i++)
        cr_expect_str_eq(gt[i], wt[i], "target row %d differs:\ncommitted:   %s\nregenerated: %s\n"
                         "(verdict rule: reached only when every round reaches the target, "
                         "missed only when none does)", i + 1, wt[i], gt[i]);
    char committed[200];
    snprintf(committed, sizeof committed, "%s/report.txt", fig);
    each_in(wl, nw, gl, ng, committed, "the regenerated report");
    each_in(gl, ng, wl, nw, "the regenerated report", committed);
}

Test(ch09_measuring, the_committed_report_is_what_the_committed_csv_says, .timeout = 60)
{
    committed_report("docs/figures");
}

/* The same for the run on libcurl 8.14.1 (make bench LIBCURL=8). */
Test(ch09_measuring, the_committed_report_on_libcurl_8_is_what_its_csv_says, .timeout = 60)
{
    committed_report("docs/figures/curl8");
}

/* ---- hand-made rounds: each target's verdict from rounds chosen for it */
static const struct target {
    const char *a, *b;          /* the runners; a loop backend is "loop,NAME" in the CSV */
    int want;                   /* the target ratio, in thousandths */
    const char *label;          /* how the report names it */
} targets[] = {
    {"loop,epoll", "loop,poll", 1000, "epoll >= 1x poll"},
    {"loop,epoll", "multi_poll,-", 1000, "epoll >= 1x multi_poll"},
    {"loop,epoll", "uv,-", 1300, "epoll >= 1.3x uv"},
    {"loop,epoll", "curl_parallel,-", 2000, "epoll >= 2x curl_parallel"},
    {"loop,epoll", "wrk,-", 600, "epoll >= 0.6x wrk"},
    {"loop,select", "curl_parallel,-", 1000, "select >= 1x curl_parallel"},
    {"loop,poll", "curl_parallel,-", 1000, "poll >= 1x curl_parallel"},
};
#define NTARGETS (int)(sizeof targets / sizeof targets[0])

/* Write each target's three rounds (its own round numbers, so no two targets
 * share one): in round j the second runner does 1000/s and the first
 * want * at[k][j] / 1000 of it, at[k] in thousandths of the target. Run the
 * report and check that each target's row ends with @verdict. */
static void verdicts(const int at[][3], const char *verdict)
{
    char *dir = make_dir(), csv[128], *l[512], **t;
    snprintf(csv, sizeof csv, "%s/results.csv", dir);
    FILE *f = fopen(csv, "w");
    cr_assert_not_null(f);
    fprintf(f, "workload,runner,backend,total,inflight,ok,failed,wall_ms,rate_per_s,"
               "iterations,cpu_ms,rss_kb_per_transfer,note\n");
    for (int k = 0; k < NTARGETS; k++)
        for (int j = 0; j < 3; j++) {
            int r = 10 * (k + 1) + j + 1;
            fprintf(f, "throughput_r%d,%s,40000,100,40000,0,1000,%.1f,100,1000,18.0,\n", r,
                    targets[k].a, targets[k].want * at[k][j] / 1000.0);
            fprintf(f, "throughput_r%d,%s,40000,100,40000,0,1000,1000.0,100,1000,18.0,\n", r,
                    targets[k].b);
        }
    fclose(f);
    static char out[1 << 16];
    snprintf(out, sizeof out, "%s", report(csv, dir));
    int n = lines_of(out, l, 512), nt = targets_of(l, n, &t);
    cr_assert_eq(nt, NTARGETS, "%d target rows, not %d:\n%s", nt, NTARGETS, report_out);
    for (int k = 0; k < NTARGETS; k++) {
        size_t len = strlen(targets[k].label);
        int i = 0;
        while (i < nt && !(strncmp(t[i] + 2, targets[k].label, len) == 0 && t[i][2 + len] == ' '))
            i++;
        cr_assert_lt(i, nt, "no row for the target %s:\n%s", targets[k].label, report_out);
        const char *v = strstr(t[i], "]  ");
        cr_assert_not_null(v, "no verdict in the row: %s", t[i]);
        cr_expect_str_eq(v + 3, verdict, "%s with rounds at %.2f, %.2f and %.2f times the "
                         "target: the report says \"%s\", not \"%s\" (reached only when every "
                         "round reaches the target, missed only when none does)",
                         targets[k].label, at[k][0] / 1000.0, at[k][1] / 1000.0,
                         at[k][2] / 1000.0, v + 3, verdict);
    }
}

/* One round exactly at the target: reaching it counts. */
Test(ch09_measuring, a_target_every_round_reaches_is_reached, .timeout = 60)
{
    static const int at[NTARGETS][3] = {
        {1000, 1100, 1500}, {1000, 1100, 1500}, {1000, 1100, 1500}, {1000, 1100, 1500},
        {1000, 1100, 1500}, {1000, 1100, 1500}, {1000, 1100, 1500}};
    verdicts(at, "reached");
}

Test(ch09_measuring, a_target_no_round_reaches_is_missed, .timeout = 60)
{
    static const int at[NTARGETS][3] = {
        {500, 900, 990}, {500, 900, 990}, {500, 900, 990}, {500, 900, 990},
        {500, 900, 990}, {500, 900, 990}, {500, 900, 990}};
    verdicts(at, "MISSED");
}

/* Two of three rounds reach some targets, one of three (exactly at the
 * target) the others. */
Test(ch09_measuring, a_target_some_rounds_reach_is_not_decided, .timeout = 60)
{
    static const int at[NTARGETS][3] = {
        {990, 1000, 1200}, {500, 900, 1000}, {990, 1000, 1200}, {500, 900, 1000},
        {990, 1000, 1200}, {500, 900, 1000}, {990, 1000, 1200}};
    verdicts(at, "not decided: the rounds disagree");
}
