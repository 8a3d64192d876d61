#!/bin/sh
# Check (or, with --fix, refresh) the code excerpts in chapters.
# In a chapter:   <!-- excerpt: code/loop/loop.c#loop_run -->
#                 ```c
#                 ...exactly the lines between tag::loop_run and end::loop_run...
#                 ```
# A tag that does not exist, or an excerpt that differs from the code, fails.
# The lines of an exercise (/* tag::exercise chNN */ ... /* end::exercise */)
# are shown as one "left out" line.
set -u
fix=0
[ "${1:-}" = "--fix" ] && { fix=1; shift; }
status=0
for md in "$@"; do
    awk -v fix="$fix" -v md="$md" '
    function region(file, tag,    line, on, out, found, rc) {
        out = ""; on = 0; found = 0
        while ((rc = (getline line < file)) > 0) {
            if (line ~ ("end::" tag " ")) { on = 0; found = 2; break }
            # an exercise part is shown elided: the chapter does not print its answer
            if (on && line ~ /tag::exercise ch[0-9]+ /) {
                ex = line; sub(/.*tag::exercise /, "", ex); sub(/ .*/, "", ex)
                ind = line; sub(/[^ ].*/, "", ind)
                out = out ind "/* ... left out: it is the exercise (make exercise-" ex ") */\n"
                hide = 1; continue
            }
            if (hide) { if (line ~ /end::exercise /) hide = 0; continue }
            if (on) out = out line "\n"
            if (line ~ ("tag::" tag " ")) { on = 1; found = 1 }
        }
        close(file)
        if (rc < 0) { print md ": excerpt file " file " does not exist" > "/dev/stderr"; return "\001" }
        if (found != 2) { print md ": no tag::" tag " ... end::" tag " in " file > "/dev/stderr"; return "\001" }
        return out
    }
    {
        lines[NR] = $0
    }
    END {
        bad = 0; n = 0
        for (i = 1; i <= NR; i++) {
            out[++n] = lines[i]
            if (lines[i] !~ /^<!-- excerpt: [^ ]+#[A-Za-z0-9_]+ -->$/) continue
            spec = lines[i]; sub(/^<!-- excerpt: /, "", spec); sub(/ -->$/, "", spec)
            file = spec; sub(/#.*/, "", file); tag = spec; sub(/.*#/, "", tag)
            want = region(file, tag)
            if (want == "\001") { bad = 1; continue }
            if (lines[i + 1] !~ /^```/) { print md ":" i ": excerpt " spec " is not followed by a code fence" > "/dev/stderr"; bad = 1; continue }
            out[++n] = lines[++i]
            have = ""
            for (j = i + 1; j <= NR && lines[j] !~ /^```$/; j++) have = have lines[j] "\n"
            if (have != want) {
                if (fix) print md ": refreshed " spec > "/dev/stderr"
                else { print md ":" i ": excerpt " spec " differs from the code (run tools/excerpts.sh --fix)" > "/dev/stderr"; bad = 1 }
            }
            if (fix) { m = split(want, w, "\n"); for (k = 1; k < m; k++) out[++n] = w[k] }
            else for (k = i + 1; k < j; k++) out[++n] = lines[k]
            i = j - 1
        }
        if (fix) { for (k = 1; k <= n; k++) print out[k] > md }
        exit bad
    }' "$md" || status=1
done
[ $status -eq 0 ] && echo "excerpts: $(grep -h -c '^<!-- excerpt:' "$@" | awk '{s+=$1} END {print s}') checked, all match the code"
exit $status
