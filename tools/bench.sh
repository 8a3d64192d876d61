#!/bin/sh
# make bench: every backend measured side by side, with curl --parallel, a
# libuv loop and wrk in the same run, against nginx on loopback.
# QUICK=1: small counts, for a fast look or the docs build. Output: build/bench/.
set -u
cd "$(dirname "$0")/.."
QUICK="${QUICK:-0}"
bin=${BENCH_BIN:-build/native/bin}       # make bench LIBCURL=8: build/curl8/bin
out=${BENCH_OUT:-build/bench}             # and build/bench-curl8
mkdir -p "$out"
csv="$out/results.csv"
say() { printf '%s\n' "$*" >&2; }

if [ "$QUICK" = 1 ]; then
    TOTAL=3000; REPS=1; TREPS=1; SCALES="200 1000"; WRK_S=2; WIDE=1000; WIDE_TOTAL=5000; HOLDS="1000"; BUSY=300
else
    TOTAL=40000; REPS=3; TREPS=5; SCALES="1000 5000 10000"; WRK_S=2; WIDE=5000; WIDE_TOTAL=50000
    HOLDS="1000 5000 10000"; BUSY=1000
fi
INFLIGHT=100
# "1 run each" or "3 runs each, median"
times_said() { if [ "$1" = 1 ]; then echo "1 $2"; else echo "$1 $3"; fi; }
BACKENDS="select poll epoll"

free_port() {
    p=18080
    while ss -ltn 2>/dev/null | grep -q ":$p "; do p=$((p + 1)); done
    echo $p
}

# ---- nginx, generated config, on loopback
nport=$(free_port)
pre="$(pwd)/$out/nginx"
rm -rf "$pre"; mkdir -p "$pre/logs" "$pre/www"
head -c 1024 /dev/zero | tr '\0' 'a' > "$pre/www/1k"
head -c 4096 /dev/zero | tr '\0' 'b' > "$pre/www/slow"
write_conf() {
cat > "$pre/nginx.conf" <<CONF
worker_processes 1;
worker_rlimit_nofile 20000;
pid $pre/nginx.pid;
error_log $pre/logs/error.log warn;
events { worker_connections 20000; multi_accept on; }
http {
    access_log off;
    # 10,000 slow transfers at once: without a shared descriptor per file each
    # request opens its own, and connections plus files pass the open-file limit
    # (nginx then answers 500 to the last few)
    open_file_cache max=16 inactive=600s;
    open_file_cache_valid 600s;
    keepalive_requests 10000000;
    keepalive_timeout 300s;
    server {
        listen 127.0.0.1:$nport backlog=8192;
        root $pre/www;
        location /slow { limit_rate_after 1k; limit_rate 2k; }
    }
}
CONF
}
# another run may take the port between ss's look and nginx's bind (two make
# test runs on one machine): the next port, up to 20 times
tries=0
until write_conf && nginx -p "$pre" -c "$pre/nginx.conf" -e "$pre/logs/error.log" 2>> "$pre/logs/start.log"; do
    tries=$((tries + 1))
    if [ $tries -ge 20 ] || ! grep -q 'in use' "$pre/logs/start.log" "$pre/logs/error.log" 2>/dev/null; then
        say "bench: nginx did not start:"; tail -3 "$pre/logs/start.log" >&2; exit 1
    fi
    nport=$((nport + 1))
done
main_spid=
# $spid is the server of the moment; $main_spid the main one while a held run has its own.
# ^C reaches every step in the terminal's process group at once; INT or TERM
# sent to this script alone ends it when the current step returns. Either
# way nginx and the servers are stopped, and the exit status is 130 or 143.
trap 'kill $(cat "$pre/nginx.pid" 2>/dev/null) 2>/dev/null; kill ${spid:-} $main_spid 2>/dev/null' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
NG="http://127.0.0.1:$nport"
sleep 0.3
if [ "$("$bin/ch09" loop uring-poll "$NG/1k" 1 1 2>/dev/null | cut -d, -f5)" = 1 ]; then
    BACKENDS="$BACKENDS uring-poll"
else
    say "bench: io_uring is unavailable here; the uring-poll rows are skipped"
fi

# ---- the project's own server, for the delay route: its URL in $OWN, its pid in $spid
own_server() {
    fifo=$(mktemp -u); mkfifo "$fifo"
    "$bin/server" > "$fifo" & spid=$!
    read -r OWN < "$fifo"; rm -f "$fifo"
}
own_server

if [ "${BENCH_PART:-}" = profile ]; then     # make bench-profile: the profiles alone
    NG=$NG BIN=$bin OUT=$out tools/bench-profile.sh
    exit
fi

# ch09 with N connections held open, on a server of their own: a suspended
# reply outlives its client by up to a second (the server's waker looks for
# hung-up clients once a second), so one run's held connections would still
# count against the next run's
ch09_holding() {
    n="$1"; shift
    main_spid=$spid; main_own=$OWN
    own_server
    "$bin/ch09" "$@" "$OWN/delay/60000" "$n"
    kill $spid 2>/dev/null; wait $spid 2>/dev/null
    spid=$main_spid; OWN=$main_own
}

echo "workload,runner,backend,total,inflight,ok,failed,wall_ms,rate_per_s,iterations,cpu_ms,rss_kb_per_transfer,note" > "$csv"

# median of REPS runs of one bench line, by rate
bench_median() {
    wl="$1"; shift
    i=0; : > "$out/reps.tmp"
    while [ $i -lt $REPS ]; do
        ${RUN:-"$bin/ch09"} "$@" >> "$out/reps.tmp" 2>/dev/null
        i=$((i + 1))
    done
    line=$(sort -t, -k8 -g "$out/reps.tmp" | sed -n "$(( (REPS + 1) / 2 ))p")
    [ -n "$line" ] && echo "$wl,$line" >> "$csv"
    echo "$line"
}

# curl --parallel and wrk, as rows in ch09's format
cfg="$out/curl.cfg"
awk -v n="$TOTAL" -v u="$NG/1k" 'BEGIN { for (i = 0; i < n; i++) printf "url = \"%s\"\noutput = \"/dev/null\"\n", u }' > "$cfg"
curl_parallel_row() {
    t0=$(date +%s%N)
    curl -s --no-progress-meter --parallel --parallel-max "$INFLIGHT" -K "$cfg" >/dev/null 2>&1
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    echo "curl_parallel,-,$TOTAL,$INFLIGHT,$TOTAL,0,$ms,$(awk -v n=$TOTAL -v ms=$ms 'BEGIN { printf "%.1f", n * 1000 / ms }'),0,0,0,"
}
# one thread like the rest: the machine's limit for this request
wrk_row() {
    w=$(wrk -t1 -c"$INFLIGHT" -d"${WRK_S}s" "$NG/1k" 2>/dev/null | awk '/Requests\/sec/ { print $2 }')
    echo "wrk,-,0,$INFLIGHT,0,0,$((WRK_S * 1000)),$w,0,0,0,not libcurl"
}

# Rounds: every runner once per round, REPS rounds, then each runner's median
# by rate. Interleaved, a slow spell of this shared machine falls on every
# runner alike instead of on the three runs of one.
say "== throughput: $TOTAL x 1 KiB from nginx, $INFLIGHT in flight, connections reused ($(times_said "$TREPS" "round of every runner" "rounds of every runner, median"))"
set -- "multi_poll $NG/1k $TOTAL $INFLIGHT" "uv $NG/1k $TOTAL $INFLIGHT"
for b in $BACKENDS; do set -- "$@" "loop $b $NG/1k $TOTAL $INFLIGHT"; done
set -- "$@" "blocking $NG/1k $((TOTAL / 4)) 1" curl_parallel_row wrk_row
round=0
while [ $round -lt $TREPS ]; do
    k=0
    for spec in "$@"; do
        k=$((k + 1))
        line=$(case $spec in *_row) $spec ;; *) "$bin/ch09" $spec 2>/dev/null ;; esac)
        echo "$line" >> "$out/round.$k"
        [ -n "$line" ] && echo "throughput_r$((round + 1)),$line" >> "$csv"
    done
    round=$((round + 1))
done
k=0
for spec in "$@"; do
    k=$((k + 1))
    line=$(sort -t, -k8 -g "$out/round.$k" | sed -n "$(( (TREPS + 1) / 2 ))p"); rm -f "$out/round.$k"
    [ -n "$line" ] && echo "throughput,$line" >> "$csv"
    say "   $(echo "$line" | awk -F, '{ print ($1 == "loop" ? $2 : $1) ": " $8 "/s" }')"
done

# System calls per transfer: a count, not a time, so it holds still on a
# shared machine where the rates above move by a third from run to run.
# Counted by the kernel at each call's entry (perf stat), so the client runs at
# full speed; under strace it runs slower, replies are more often there already,
# and fewer transfers go through the loop (chapter 9). strace where perf cannot.
SYS_N=$((TOTAL / 4))
if perf stat -x, -o /dev/null -e raw_syscalls:sys_enter true >/dev/null 2>&1; then
    counter=perf
    say "== system calls per transfer: $SYS_N x 1 KiB from nginx, $INFLIGHT in flight (perf stat -e raw_syscalls:sys_enter)"
else
    counter=strace
    say "== system calls per transfer: $SYS_N x 1 KiB from nginx, $INFLIGHT in flight (strace -c: perf cannot count system calls here; strace slows the client)"
fi
echo "runner,backend,transfers,system_calls,per_transfer,loop_waits" > "$out/syscalls.csv"
for spec in multi_poll uv $(for b in $BACKENDS; do echo "loop:$b"; done); do
    if [ $counter = perf ]; then
        row=$(perf stat -x, -o "$out/strace.txt" -e raw_syscalls:sys_enter "$bin/ch09" $(echo "$spec" | tr : ' ') "$NG/1k" "$SYS_N" "$INFLIGHT" 2>/dev/null)
        calls=$(awk -F, '$3 == "raw_syscalls:sys_enter" { print $1 }' "$out/strace.txt")
    else
        row=$(strace -f -c -o "$out/strace.txt" "$bin/ch09" $(echo "$spec" | tr : ' ') "$NG/1k" "$SYS_N" "$INFLIGHT" 2>/dev/null)
        calls=$(awk '$NF == "total" { print $4 }' "$out/strace.txt")
    fi
    echo "$row" | awk -F, -v c="${calls:-0}" '{ printf "%s,%s,%d,%d,%.2f,%d\n", $1, $2, $5, c, ($5 ? c / $5 : 0), $9 }' >> "$out/syscalls.csv"
    say "   ${spec#loop:}: $(tail -1 "$out/syscalls.csv" | cut -d, -f5) per transfer"
done
rm -f "$out/strace.txt"

say "== throughput at $WIDE in flight: $WIDE_TOTAL x 1 KiB from nginx, connections reused"
for r in multi_poll uv; do
    l=$(REPS=1 bench_median "throughput_wide" "$r" "$NG/1k" "$WIDE_TOTAL" "$WIDE"); say "   $r: $(echo "$l" | cut -d, -f8)/s"
done
for b in $BACKENDS; do
    l=$(REPS=1 bench_median "throughput_wide" loop "$b" "$NG/1k" "$WIDE_TOTAL" "$WIDE"); say "   $b: $(echo "$l" | cut -d, -f8)/s $(echo "$l" | cut -d, -f12)"
done

say "== fan-out latency: 16 x /delay/300 from the project's server"
for r in blocking multi_poll uv; do
    l=$(REPS=1 bench_median fanout "$r" "$OWN/delay/300" 16 16); say "   $r: $(echo "$l" | cut -d, -f7) ms"
done
for b in $BACKENDS; do
    l=$(REPS=1 bench_median fanout loop "$b" "$OWN/delay/300" 16 16); say "   $b: $(echo "$l" | cut -d, -f7) ms"
done

say "== scale: N concurrent slow transfers (4 KiB at 2 KiB/s after the first 1 KiB) from nginx ($(times_said "$REPS" "run each" "runs each, median"))"
for n in $SCALES; do
    for r in multi_poll uv; do
        l=$(bench_median "scale_$n" "$r" "$NG/slow" "$n" "$n"); say "   N=$n $r: $(echo "$l" | cut -d, -f5) ok, $(echo "$l" | cut -d, -f7) ms wall, $(echo "$l" | cut -d, -f10) ms cpu, $(echo "$l" | cut -d, -f11) KiB/transfer $(echo "$l" | cut -d, -f12)"
    done
    for b in $BACKENDS; do
        l=$(bench_median "scale_$n" loop "$b" "$NG/slow" "$n" "$n"); say "   N=$n $b: $(echo "$l" | cut -d, -f5) ok, $(echo "$l" | cut -d, -f7) ms wall, $(echo "$l" | cut -d, -f10) ms cpu, $(echo "$l" | cut -d, -f11) KiB/transfer $(echo "$l" | cut -d, -f12)"
    done
done

say "== many idle, a few busy: $BUSY x 1 KiB from nginx, 10 in flight, beside N held connections ($(times_said "$REPS" "run each" "runs each, median"))"
for n in $HOLDS; do
    for r in multi_poll $(for b in $BACKENDS; do echo "loop:$b"; done); do
        l=$(RUN="ch09_holding $n" bench_median "held_$n" $(echo "$r" | tr : ' ') "$NG/1k" "$BUSY" 10)
        say "   N=$n ${r#loop:}: $(echo "$l" | cut -d, -f5) ok, $(echo "$l" | cut -d, -f7) ms wall, $(echo "$l" | cut -d, -f10) ms cpu, $(echo "$l" | cut -d, -f9) iterations $(echo "$l" | cut -d, -f12)"
    done
done

say "== the loop's own cost: one ready socket among N idle ones (no libcurl)"
IDLE_NS="10 100 1000 5000 10000"
[ "$QUICK" = 1 ] && IDLE_NS="10 100 1000"
for b in $BACKENDS; do
    for n in $IDLE_NS; do
        rounds=$((2000000 / n)); [ $rounds -gt 20000 ] && rounds=20000; [ $rounds -lt 200 ] && rounds=200
        l=$("$bin/ch09" idle "$b" "$n" "$rounds")
        echo "idle,$l" >> "$csv"
        say "   $b N=$n: $(echo "$l" | cut -d, -f8) us/iteration $(echo "$l" | cut -d, -f12)"
    done
done

tools/bench-report.sh "$csv" "$out"
# where the time goes, with libcurl's function names (a few minutes)
[ "$QUICK" = 1 ] || NG=$NG BIN=$bin OUT=$out tools/bench-profile.sh
