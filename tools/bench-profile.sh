#!/bin/sh
# make bench's profiles: where the time goes, with libcurl's function names.
# Called by tools/bench.sh (after the rates, or alone: make bench-profile) with
# NG (the bench's nginx), BIN (the programs) and OUT; writes $OUT/profile.txt.
#
#   1. 100 in flight, connections reused: libcurl's own loop (multi_poll)
#      against the socket API (poll, epoll), three ways:
#      - system calls per transfer, counted by the kernel at each call's entry
#        (perf stat on raw_syscalls:sys_enter): the client runs at full speed.
#        Under strace it does not, and the counts differ (chapter 9);
#      - instructions per transfer, by function, in user space (valgrind's
#        callgrind, 4,000 transfers): a count, the same from run to run;
#      - perf record, three runs each, samples per 1,000 transfers by library,
#        and the functions that differ most from multi_poll.
#   2. 5,000 in flight (connections reused) and 10,000 slow transfers (fresh
#      connections): perf record, by library and the top functions.
#
# libcurl: LIBCURL=8's build has its symbols. Debian's own 7.88.1 is stripped,
# so for it the profiles load 7.88.1 built from Debian's source the same way
# as 8.14.1 (tools/curl-build.sh 7) with LD_LIBRARY_PATH; the rates in the
# bench's table are Debian's own build.
set -u
: "${NG:?}" "${BIN:?}" "${OUT:?}"
say() { printf '%s\n' "$*" >&2; }
f="$OUT/profile.txt"
tmp="$OUT/profile.tmp"; mkdir -p "$tmp"
libpath=
if ! ldd "$BIN/ch09" | grep "libcurl.so" | grep -q "/curl-[0-9.]*-.*-native/"; then   # Debian's own
    p7=$(tools/curl-build.sh 7) || { say "bench: no libcurl 7.88.1 with symbols; profiles skipped"; exit 1; }
    libpath="$p7/lib"
fi
run() {   # run ARGS...: the bench program on the profiled libcurl (stderr: its counts line)
    LD_LIBRARY_PATH="$libpath" "$BIN/ch09" "$@" 2>"$tmp/err"
}
ver=$(LD_LIBRARY_PATH="$libpath" ldd "$BIN/ch09" 2>/dev/null | awk '/libcurl.so.* => / { print $3 }')
N=${PROFILE_N:-40000}; CG_N=$((N / 10)); R=3
perf_ok=; perf stat -o /dev/null true >/dev/null 2>&1 && perf_ok=1
{
    echo "# make bench's profiles (tools/bench-profile.sh), this machine: $(nproc) cores"
    echo "# libcurl: $ver$( [ -n "$libpath" ] && echo " (Debian 12's 7.88.1 built with symbols by tools/curl-build.sh 7, loaded with LD_LIBRARY_PATH)")"
    echo "# Row format (ch09): RUNNER,BACKEND,TOTAL,INFLIGHT,ok,failed,wall ms,rate/s,iterations,CPU ms,KiB per transfer,"
} > "$f"

say "== profiles: 100 in flight, multi_poll against poll and epoll"
{
    echo
    echo "== 1. 100 in flight, 1 KiB from nginx, connections reused"
    echo
    echo "-- system calls per transfer, $N transfers (perf stat -e raw_syscalls:sys_enter and per call)"
    printf "   %-11s %6s %6s %10s %11s %9s %7s %8s %6s\n" runner total poll epoll_ctl newfstatat recvfrom sendto connect other
} >> "$f"
ev="raw_syscalls:sys_enter"
for c in poll epoll_ctl newfstatat recvfrom sendto connect; do ev="$ev,syscalls:sys_enter_$c"; done
sys_row() {   # sys_row NAME TRANSFERS: a row of the table from $tmp/stat
    awk -F, -v r="$1" -v n="$2" '!/^#/ && NF > 2 { c[$3] = $1 }
        END { t = c["raw_syscalls:sys_enter"]; o = t
              split("poll epoll_ctl newfstatat recvfrom sendto connect", k, " ")
              split("6 10 11 9 7 8", w, " ")
              printf "   %-11s %6.2f", r, t / n
              for (i = 1; i <= 6; i++) { v = c["syscalls:sys_enter_" k[i]]; o -= v; printf " %*.2f", w[i], v / n }
              printf " %6.2f\n", o / n }' "$tmp/stat" >> "$f"
}
for s in multi_poll "loop poll" "loop epoll"; do
    if LD_LIBRARY_PATH="$libpath" perf stat -x, -o "$tmp/stat" -e "$ev" "$BIN/ch09" $s "$NG/1k" $N 100 >/dev/null 2>&1; then
        sys_row "${s#loop }" $N
    else
        echo "   ${s#loop }: perf stat could not count system calls here (perf_event_paranoid, or no tracepoints)" >> "$f"
    fi
done
# wrk, the machine's limit for this request (not libcurl), counted the same way
# (it reads and writes with read and write: they are in "other")
if command -v wrk >/dev/null 2>&1 &&
   perf stat -x, -o "$tmp/stat" -e "$ev" wrk -t1 -c100 -d2s "$NG/1k" > "$tmp/wrk" 2>/dev/null; then
    req=$(awk '/requests in/ { print $1 }' "$tmp/wrk")
    [ "${req:-0}" -gt 0 ] && sys_row wrk "$req"
fi
run loop epoll "$NG/1k" 4000 100 >/dev/null
echo "   (the loop's counts, epoll, 4,000 transfers: $(sed -n 's/^counts: //p' "$tmp/err"))" >> "$f"

# How often nginx went to sleep per transfer (its worker's voluntary context
# switches): each sleep is a wake-up the client pays for in a later sendto.
worker=$(pgrep -P "$(cat "$OUT/nginx/nginx.pid" 2>/dev/null)" 2>/dev/null | head -1)
sleeps() { awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$worker/status" 2>/dev/null; }
if [ -n "$worker" ] && [ -n "$(sleeps)" ]; then
    echo >> "$f"
    echo "-- nginx's sleeps per transfer (its worker's voluntary context switches), $R runs of $N each" >> "$f"
    for s in multi_poll "loop poll" "loop epoll"; do
        line="   $(printf '%-11s' "${s#loop }")"
        i=0
        while [ $i -lt $R ]; do
            i=$((i + 1)); a=$(sleeps)
            rate=$(run $s "$NG/1k" $N 100 | cut -d, -f8)
            line="$line $(awk -v a="$a" -v b="$(sleeps)" -v n=$N 'BEGIN { printf "%.2f", (b - a) / n }') (${rate%.*}/s)"
        done
        echo "$line" >> "$f"
    done
fi

# callgrind: instructions per transfer by function, and the difference from multi_poll
cg_table() {   # cg_table FILE: "function object instructions" lines
    callgrind_annotate --threshold=100 --tree=none "$1" 2>/dev/null | awk '
        /^ *[0-9,]+ +\( *[0-9.]+%\) / {
            n = $1; gsub(",", "", n); line = $0; sub(/^[^)]*\) +/, "", line)
            obj = "?"; if (match(line, / \[[^]]*\]$/)) { obj = substr(line, RSTART + 2, RLENGTH - 3); line = substr(line, 1, RSTART - 1) }
            sub(/.*\//, "", obj); k = split(line, part, ":"); fn = part[k]
            if (fn == "" || line ~ /PROGRAM TOTALS/) next
            s[fn " " obj] += n }
        END { for (x in s) print x, s[x] }'
}
if command -v valgrind >/dev/null 2>&1; then
    echo >> "$f"
    echo "-- instructions per transfer in user space, $CG_N transfers (valgrind --tool=callgrind)" >> "$f"
    for s in multi_poll "loop poll" "loop epoll"; do
        n=$(echo "$s" | tr ' ' _)
        LD_LIBRARY_PATH="$libpath" valgrind -q --tool=callgrind --callgrind-out-file="$tmp/cg.$n" \
            "$BIN/ch09" $s "$NG/1k" $CG_N 100 >/dev/null 2>&1
        cg_table "$tmp/cg.$n" > "$tmp/cg.$n.txt"
    done
    for n in multi_poll loop_poll loop_epoll; do
        awk -v r="${n#loop_}" -v t=$CG_N '{ s += $3; if ($2 ~ /libcurl/) c += $3; else if ($2 ~ /^libc|^ld-/) l += $3; else if ($2 == "ch09") p += $3 }
            END { printf "   %-11s %8.0f in all: libcurl %6.0f, libc %6.0f, the program %5.0f\n", r, s / t, c / t, l / t, p / t }' "$tmp/cg.$n.txt" >> "$f"
    done
    # calls per transfer of the functions that look through the connection cache
    # for one to reuse, and of the socket API's own
    echo "   calls per transfer: Curl_conn_is_connected (once per cached connection looked at for reuse), curl_multi_socket_action, Curl_hash_add" >> "$f"
    for n in multi_poll loop_poll loop_epoll; do
        awk -v r="${n#loop_}" -v t=$CG_N '
            /^c?fn=\(/ { id = $1; sub(/^c?fn=/, "", id); name = $0; sub(/^[^)]*\) ?/, "", name)
                         if (name != "") nm[id] = name; if ($0 ~ /^cfn=/) callee = nm[id]; next }
            /^calls=/ { split($0, c, /[= ]/); calls[callee] += c[2] }
            END { printf "     %-11s %7.2f %7.2f %7.2f\n", r, calls["Curl_conn_is_connected"] / t,
                         calls["curl_multi_socket_action"] / t, calls["Curl_hash_add"] / t }' "$tmp/cg.$n" >> "$f"
    done
    for n in loop_poll loop_epoll; do
        echo "   the functions that differ most, ${n#loop_} minus multi_poll (instructions per transfer):" >> "$f"
        awk -v t=$CG_N 'FNR == NR { a[$1 " " $2] = $3; next } { b[$1 " " $2] = $3 }
            END { for (k in a) d[k] = (k in b ? b[k] : 0) - a[k]; for (k in b) if (!(k in a)) d[k] = b[k]
                  for (k in d) printf "%+9.0f %9.0f %9.0f  %s\n", d[k] / t, a[k] / t, (k in b ? b[k] : 0) / t, k }' \
            "$tmp/cg.multi_poll.txt" "$tmp/cg.$n.txt" | sort -k1,1 -g -r | head -14 |
            awk '{ printf "     %9s  (%s -> %s)  %s %s\n", $1, $2, $3, $4, $5 }' >> "$f"
    done
else
    echo "   (valgrind is not installed: no instruction counts)" >> "$f"
fi

if [ -z "$perf_ok" ]; then
    echo >> "$f"; echo "(perf is not usable here: no sampled profiles)" >> "$f"
    rm -rf "$tmp"; say "bench: $f (no perf)"; exit 0
fi
# perf record: samples per 1,000 transfers, R runs each
perf_table() {   # perf_table DATA: "function object samples" lines
    perf report -i "$1" --sort dso,sym -n --stdio 2>/dev/null | awk '
        /^#/ || NF < 5 { next } { obj = $3; sub(/^.*\//, "", obj); fn = $5; for (i = 6; i <= NF; i++) fn = fn "_" $i; s[fn " " obj] += $2 }
        END { for (x in s) print x, s[x] }'
}
echo >> "$f"
echo "-- perf record, $R runs of $N transfers each: samples per 1,000 transfers (the mean of the runs)" >> "$f"
for s in multi_poll "loop poll" "loop epoll"; do
    n=$(echo "$s" | tr ' ' _); : > "$tmp/pr.$n.txt"
    i=0
    while [ $i -lt $R ]; do
        i=$((i + 1))
        row=$(LD_LIBRARY_PATH="$libpath" perf record -q -F 2000 -o "$tmp/perf.data" "$BIN/ch09" $s "$NG/1k" $N 100 2>/dev/null)
        echo "   row: $row" >> "$f"
        perf_table "$tmp/perf.data" >> "$tmp/pr.$n.txt"
    done
done
for n in multi_poll loop_poll loop_epoll; do
    awk -v r="${n#loop_}" -v k=$((N * R / 1000)) '{ s += $3; if ($2 ~ /libcurl/) c += $3; else if ($2 ~ /^libc|^ld-/) l += $3
        else if ($2 == "ch09") p += $3; else if ($2 ~ /kernel/) kk += $3; else o += $3 }
        END { printf "   %-11s %7.1f in all: kernel %6.1f, libcurl %6.1f, libc %5.1f, the program %4.1f, other %4.1f\n", r, s / k, kk / k, c / k, l / k, p / k, o / k }' \
        "$tmp/pr.$n.txt" >> "$f"
done
for n in loop_poll loop_epoll; do
    echo "   the functions that differ most, ${n#loop_} minus multi_poll (samples per 1,000 transfers):" >> "$f"
    awk -v k=$((N * R / 1000)) 'FNR == NR { a[$1 " " $2] += $3; next } { b[$1 " " $2] += $3 }
        END { for (x in a) d[x] = (x in b ? b[x] : 0) - a[x]; for (x in b) if (!(x in a)) d[x] = b[x]
              for (x in d) printf "%+7.1f %7.1f %7.1f  %s\n", d[x] / k, a[x] / k, (x in b ? b[x] : 0) / k, x }' \
        "$tmp/pr.multi_poll.txt" "$tmp/pr.$n.txt" | sort -k1,1 -g -r | head -12 |
        awk '{ printf "     %7s  (%s -> %s)  %s %s\n", $1, $2, $3, $4, $5 }' >> "$f"
done

if command -v wrk >/dev/null 2>&1; then
    perf record -q -F 2000 -o "$tmp/perf.data" wrk -t1 -c100 -d2s "$NG/1k" > "$tmp/wrk" 2>/dev/null
    req=$(awk '/requests in/ { print $1 }' "$tmp/wrk")
    perf_table "$tmp/perf.data" > "$tmp/w.txt"
    [ "${req:-0}" -gt 0 ] && awk -v k="$req" '{ s += $3; if ($2 ~ /kernel/) kk += $3; else if ($2 ~ /^libc|^ld-/) l += $3; else o += $3 }
        END { printf "   %-11s %7.1f in all: kernel %6.1f, libc %5.1f, wrk itself and the rest %4.1f  (%d requests in 2 s)\n", "wrk", s * 1000 / k, kk * 1000 / k, l * 1000 / k, o * 1000 / k, k }' \
        "$tmp/w.txt" >> "$f"
fi

# thousands in flight, and thousands of slow transfers: by library and the top functions
wide() {   # wide TITLE ARGS...
    title="$1"; shift
    echo >> "$f"
    echo "== $title" >> "$f"
    for s in multi_poll "loop epoll"; do
        row=$(LD_LIBRARY_PATH="$libpath" perf record -q -F 1000 -o "$tmp/perf.data" "$BIN/ch09" $s "$@" 2>/dev/null)
        echo "-- ${s#loop }: $row" >> "$f"
        perf_table "$tmp/perf.data" > "$tmp/w.txt"
        awk '{ s += $3; by[$2] += $3 } END { for (o in by) if (by[o] * 100 >= s) printf "   %6.2f%%  %s\n", 100 * by[o] / s, o }' "$tmp/w.txt" | sort -r -g | head -5 >> "$f"
        echo "   top functions:" >> "$f"
        awk '{ s += $3; v[$1 " " $2] = $3 } END { for (x in v) printf "   %6.2f%%  %s\n", 100 * v[x] / s, x }' "$tmp/w.txt" | sort -r -g | head -8 >> "$f"
    done
}
say "== profiles: 5,000 in flight and 10,000 slow transfers"
wide "2. 5,000 in flight, 50,000 x 1 KiB from nginx, connections reused (one run each)" "$NG/1k" 50000 5000
wide "3. 10,000 slow transfers at once (4 KiB at 2 KiB/s after the first KiB), fresh connections (one run each)" "$NG/slow" 10000 10000
rm -rf "$tmp"
say "bench: $f"
