#!/bin/sh
# The bench's table, ratios, targets and plots, from its CSV.
# Usage: tools/bench-report.sh build/bench/results.csv build/bench
set -u
csv="$1"; out="$2"

echo
echo "== throughput (requests per second: median of the rounds, and the lowest and highest round)"
awk -F, '$1 == "throughput" { rate[$2 == "loop" ? $3 : $2] = $9 }
$1 ~ /^throughput_r[0-9]+$/ { r = ($2 == "loop" ? $3 : $2)
    if (!(r in lo) || $9 < lo[r]) lo[r] = $9; if (!(r in hi) || $9 > hi[r]) hi[r] = $9 }
END {
    n = split("multi_poll uv select poll epoll uring-poll blocking curl_parallel wrk", order, " ")
    printf "  %-14s %10s %10s %10s\n", "runner", "rate/s", "lowest", "highest"
    for (i = 1; i <= n; i++) if (order[i] in rate)
        printf "  %-14s %10.0f %10.0f %10.0f\n", order[i], rate[order[i]], lo[order[i]], hi[order[i]]
}' "$csv"

# Each target from the rounds: the ratio of two runners within each round
# (they ran one after the other), its median and its range over the rounds.
# Reached only when every round says so, missed only when none does.
echo
echo "== targets (benchmark goals, not tests): ratio per round, median [lowest, highest]"
awk -F, '$1 ~ /^throughput_r[0-9]+$/ { r = substr($1, 13) + 0; rr[r] = 1
    rate[r, ($2 == "loop" ? $3 : $2)] = $9 }
END {
    t("epoll", "poll", 1.0, "at 100 in flight")
    t("epoll", "multi_poll", 1.0, "at 100 in flight")
    t("epoll", "uv", 1.3, "(the libuv loop)")
    t("epoll", "curl_parallel", 2.0, "")
    t("epoll", "wrk", 0.6, "")
    t("select", "curl_parallel", 1.0, "")
    t("poll", "curl_parallel", 1.0, "")
}
function t(a, b, want, what,    r, n, v, i, j, x, lo, hi, med, ok, verdict) {
    n = 0
    for (r in rr) if (((r, a) in rate) && ((r, b) in rate) && rate[r, b] > 0) v[++n] = rate[r, a] / rate[r, b]
    if (!n) return
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { x = v[i]; v[i] = v[j]; v[j] = x }
    lo = v[1]; hi = v[n]; med = (n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2)
    verdict = (lo >= want ? "reached" : (hi < want ? "MISSED" : "not decided: the rounds disagree"))
    printf "  %-46s %5.2fx [%.2f, %.2f]  %s\n", a " >= " want "x " b " " what, med, lo, hi, verdict
}' "$csv"

if [ -f "$out/syscalls.csv" ]; then
    echo
    echo "== system calls per transfer (100 in flight; perf stat, or strace -c where perf cannot): a count, steady where rates are not"
    awk -F, 'NR > 1 { printf "  %-12s %6.2f  (%d calls for %d transfers; the loop waited %d times)\n",
        ($1 == "loop" ? $2 : $1), $5, $4, $3, $6 }' "$out/syscalls.csv"
fi

echo
echo "== throughput with thousands in flight"
awk -F, '$1 == "throughput_wide" { r = ($2 == "loop" ? $3 : $2); rate[r] = $9; n = $5
    printf "  %-14s %10.0f/s  %d of %d ok, %d loop iterations  %s\n", r, $9, $6, $4, $10, $13 }
END { if (rate["multi_poll"] > 0 && ("epoll" in rate))
        printf "  epoll vs multi_poll at %d in flight: %.2fx (target 1.5x: %s)\n", n, rate["epoll"] / rate["multi_poll"], (rate["epoll"] / rate["multi_poll"] >= 1.5 ? "reached" : "MISSED")
      if (rate["multi_poll"] > 0 && ("uring-poll" in rate))
        printf "  uring-poll vs multi_poll at %d in flight: %.2fx\n", n, rate["uring-poll"] / rate["multi_poll"] }' "$csv"

echo
echo "== fan-out latency (16 x 300 ms): wall time"
awk -F, '$1 == "fanout" { printf "  %-14s %6d ms\n", ($2 == "loop" ? $3 : $2), $8 }' "$csv"

echo
echo "== scale: N slow transfers at once"
printf "  %-12s %6s %6s %6s %8s %8s %14s  %s\n" runner N ok lost wall_ms cpu_ms "KiB/transfer" note
awk -F, '$1 ~ /^scale_/ {
    r = ($2 == "loop" ? $3 : $2)
    printf "  %-12s %6d %6d %6d %8d %8.0f %14.2f  %s\n", r, $5, $6, $4 - $6, $8, $11, $12, $13
    if (r == "poll") { pc[$5] = $11; pw[$5] = $10 } if (r == "epoll") { ec[$5] = $11; ew[$5] = $10 }
    if ($5 > top) top = $5
}
END { if ((top in pc) && (top in ec) && pc[top] > 0)
        printf "  epoll total CPU vs poll at %d in flight: %.2fx (target <= 0.8x: %s; poll waited %d times, epoll %d: nearly every socket was ready at each wait)\n", top,
               ec[top] / pc[top], (ec[top] / pc[top] <= 0.8 ? "reached" : "MISSED"), pw[top], ew[top] }' "$csv"
awk -F, '$1 ~ /^scale_/ { r = ($2 == "loop" ? $3 : $2); n = $5
    if (r == "multi_poll") mp[n] = $9; if (r == "epoll") ep[n] = $9
    if (r == "multi_poll") mm[n] = $12; if (r == "epoll") em[n] = $12; if (r == "uv") um[n] = $12 }
END { for (n in ep) if (n in mm)
          printf "  loop overhead at %d in flight: %.2f KiB per transfer beyond multi_poll (target <= 1 KiB: %s); %.2f KiB beyond the libuv loop, which drives the same socket API\n", n, em[n] - mm[n], (em[n] - mm[n] <= 1 ? "reached" : "MISSED"), em[n] - um[n] }' "$csv"

echo
echo "== many idle, a few busy: 1 KiB transfers, 10 in flight, beside N held connections"
printf "  %-12s %6s %6s %6s %8s %8s %10s  %s\n" runner N ok lost wall_ms cpu_ms iterations note
awk -F, '$1 ~ /^held_/ {
    r = ($2 == "loop" ? $3 : $2); n = substr($1, 6) + 0
    printf "  %-12s %6d %6d %6d %8d %8.0f %10d  %s\n", r, n, $6, $4 - $6, $8, $11, $10, $13
    if ($6 == $4) cpu[r, n] = $11; if (n > top) top = n
}
END { if (((("epoll", top) in cpu)) && (("poll", top) in cpu) && cpu["poll", top] > 0)
        printf "  epoll total CPU vs poll with %d held: %.2fx (target <= 0.8x: %s)\n", top,
               cpu["epoll", top] / cpu["poll", top], (cpu["epoll", top] / cpu["poll", top] <= 0.8 ? "reached" : "MISSED")
      if ((("epoll", top) in cpu) && (("multi_poll", top) in cpu) && cpu["multi_poll", top] > 0)
        printf "  epoll total CPU vs multi_poll with %d held: %.2fx\n", top, cpu["epoll", top] / cpu["multi_poll", top] }' "$csv"

echo
echo "== the loop's own cost per iteration: one ready socket among N idle (microseconds)"
awk -F, '$1 == "idle" { v[$3, $4] = ($6 > 0 ? sprintf("%.2f", $9) : "refused"); ns[$4] = 1; bs[$3] = 1 }
END { printf "  %-12s", "backend"; n = 0
      for (k in ns) nn[++n] = k + 0
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (nn[j] < nn[i]) { t = nn[i]; nn[i] = nn[j]; nn[j] = t }
      for (i = 1; i <= n; i++) printf " %9s", "N=" nn[i]; printf "\n"
      split("select poll epoll uring-poll", order, " ")
      for (b = 1; b <= 4; b++) if (order[b] in bs) { printf "  %-12s", order[b]
          for (i = 1; i <= n; i++) printf " %9s", v[order[b], nn[i]]; printf "\n" } }' "$csv"

# ---- plots
# the report above is what the CSV says, gnuplot or not; only this last line differs
command -v gnuplot >/dev/null 2>&1 || { echo; echo "bench: $csv; no plots: gnuplot is missing (make bench installs it)"; exit 0; }
awk -F, '$1 == "throughput" { print ($2 == "loop" ? $3 : $2), $9 }' "$csv" > "$out/rate.dat"
for b in multi_poll uv select poll epoll uring-poll; do
    awk -F, -v b="$b" '$1 ~ /^scale_/ && ($2 == "loop" ? $3 : $2) == b && $6 == $5 {
        print $5, $12 }' "$csv" | sort -n > "$out/scale_$b.dat"
    awk -F, -v b="$b" '$1 == "idle" && $3 == b && $6 > 0 { print $4, $9 }' "$csv" | sort -n > "$out/idle_$b.dat"
    awk -F, -v b="$b" '$1 ~ /^held_/ && ($2 == "loop" ? $3 : $2) == b && $6 == $4 && $4 > 0 {
        print substr($1, 6), $11 }' "$csv" | sort -n > "$out/held_$b.dat"
done
for fmt in png svg; do
    case $fmt in png) term="pngcairo noenhanced size 800,480 font 'sans,10'" ;; svg) term="svg noenhanced size 800,480 font 'sans,10'" ;; esac
    gnuplot 2>/dev/null <<GP || gnuplot <<GP2
set terminal $term
set output "$out/rate.$fmt"
set title "1 KiB requests per second, 100 in flight (nginx on loopback, 2 cores)"
set style fill solid 0.6
set boxwidth 0.6
set ylabel "requests/s"
set xtics rotate by -30
set grid ytics
plot "$out/rate.dat" using 0:2:xtic(1) with boxes notitle
set output "$out/iteration.$fmt"
set title "loop CPU time per iteration: one ready socket among N watched (no libcurl)"
set xlabel "sockets watched"
set ylabel "microseconds per iteration"
set logscale xy
set xtics norotate
set key top left
plot for [b in "select poll epoll uring-poll"] "$out/idle_".b.".dat" using 1:2 with linespoints title b
set output "$out/memory.$fmt"
set title "resident memory per in-flight transfer (slow transfers from nginx)"
set xlabel "concurrent transfers"
set ylabel "KiB per transfer (the axis does not start at 0)"
unset logscale y
set yrange [*:*]
plot for [b in "multi_poll uv select poll epoll uring-poll"] "$out/scale_".b.".dat" using 1:2 with linespoints title b
set output "$out/held.$fmt"
set title "CPU for the same 1 KiB transfers, 10 in flight, beside N idle held connections"
set xlabel "held connections"
set ylabel "CPU milliseconds"
set logscale xy
set xrange [700:14000]
set yrange [*:*]
plot for [b in "multi_poll select poll epoll uring-poll"] "$out/held_".b.".dat" using 1:2 with linespoints title b
GP
set terminal ${fmt}
set output "$out/rate.$fmt"
plot "$out/rate.dat" using 0:2:xtic(1) with boxes notitle
GP2
done
echo
echo "bench: $csv, plots $out/rate.{png,svg} $out/iteration.{png,svg} $out/memory.{png,svg} $out/held.{png,svg}"
