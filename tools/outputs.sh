#!/bin/sh
# Run every command a chapter shows, and check its output has the shape the
# chapter prints. In a chapter:
#
#     <!-- run: make ch08 -->
#         make ch08
#
#         1. io_uring GET /bytes/1000 on its own socket: 1137 bytes (headers and body)
#         …
#
# The command runs from the top of the tree (one that starts with
# "SERVER=http://127.0.0.1:PORT " runs with the local server up) and must exit
# 0. Each line of the indented block after the comment, in order, must match a
# line of its output: any number stands for any number, PORT for a port, runs
# of spaces for any spaces, and "…" for anything. Lines that start with
# "make ", "SERVER=", "build/" or "tools/" are the commands themselves; a line that
# starts with "…" only says lines were left out. With no block after the
# comment, the command must just succeed and print something.
# A command whose output starts with "skip:" (a chapter this machine cannot
# run) is reported as skipped. Any other block that shows a command (a line
# starting "make ", "build/", "tools/" or "SERVER=") must have
# <!-- norun: WHY --> on the line before it; the check lists each WHY.
#
# Usage: tools/outputs.sh CHAPTER.md...     (output: build/outputs/)
set -u
cd "$(dirname "$0")/.."
out=build/outputs
mkdir -p "$out"
status=0; ran=0; skipped=0

# "FILE<TAB>LINE<TAB>COMMAND" for each run comment
list=$(awk '/^<!-- run: .* -->$/ { c = $0; sub(/^<!-- run: /, "", c); sub(/ -->$/, "", c);
                                   printf "%s\t%d\t%s\n", FILENAME, FNR, c }' "$@")
[ -n "$list" ] || { echo "outputs: no <!-- run: ... --> in $*" >&2; exit 1; }

# The expected lines after the comment at FILE:LINE.
expected() {
    awk -v at="$2" -v e="…" 'FNR <= at { next }
        !started && /^$/ { next }
        !started && !/^    / { exit }
        { started = 1 }
        started && !/^    / && !/^$/ { exit }
        started && /^    / { l = substr($0, 5); sub(/^ +/, "", l); sub(/ +$/, "", l)
                             if (l ~ /^(make |SERVER=|build\/|tools\/)/ || index(l, e) == 1 || l == "") next
                             print l }' "$1"
}

tab=$(printf '\t')
echo "$list" | while IFS="$tab" read -r file line cmd; do
    name=$(basename "$file" .md)-$line
    log="$out/$name.txt"
    case "$cmd" in
        "SERVER=http://127.0.0.1:PORT "*)
            timeout -k 5 300 tools/with-server.sh build/native/bin sh -c "${cmd#SERVER=http://127.0.0.1:PORT }" > "$log" 2>&1 ;;
        *)  timeout -k 5 300 sh -c "$cmd" > "$log" 2>&1 ;;
    esac
    rc=$?
    if grep -q '^skip: ' "$log" && ! grep -qv '^\(skip: \|make\|  [A-Z][A-Z]* \)' "$log"; then
        echo "outputs: $file:$line: $cmd: $(grep -m1 '^skip: ' "$log")"
        continue
    fi
    if [ "$rc" -ne 0 ]; then
        echo "outputs: $file:$line: '$cmd' exited $rc (output: $log)"; echo FAIL; continue
    fi
    expected "$file" "$line" > "$out/$name.want"
    if [ ! -s "$out/$name.want" ]; then
        [ -s "$log" ] && echo "outputs: $file:$line: '$cmd' ok" \
                      || { echo "outputs: $file:$line: '$cmd' printed nothing"; echo FAIL; }
        continue
    fi
    miss=$(awk -v e="…" -f tools/outputs.awk "$out/$name.want" "$log")
    if [ -n "$miss" ]; then
        echo "outputs: $file:$line: '$cmd': $miss (output: $log)"; echo FAIL
    else
        echo "outputs: $file:$line: '$cmd' ok ($(wc -l < "$out/$name.want") lines checked)"
    fi
done > "$out/summary.txt"
# Every other block that shows a command must say why it is not run: the line
# before it is <!-- norun: WHY -->. So no command a reader is shown escapes both.
awk 'FNR == 1 { prev = ""; inblock = 0; fence = 0 }
     /^```/ { fence = !fence }
     fence { next }
     /^    / { if (!inblock) { inblock = 1; mark = prev; start = FNR; told = 0 }
              l = substr($0, 5); sub(/^ +/, "", l)
              if (!told && l ~ /^(make |build\/[^ ]|tools\/[^ ]|SERVER=)/) {
                  told = 1
                  if (mark ~ /^<!-- norun: .* -->$/) { w = mark; sub(/^<!-- norun: /, "", w); sub(/ -->$/, "", w)
                                                      printf "outputs: %s:%d: not run: %s\n", FILENAME, FNR, w }
                  else if (mark !~ /^<!-- run: /) printf "outputs: %s:%d: '"'"'%s'"'"' is shown but neither run (<!-- run: ... -->) nor marked <!-- norun: WHY -->\nFAIL\n", FILENAME, FNR, l
              }
              next }
     /^$/ { next }
     { inblock = 0; prev = $0 }' "$@" >> "$out/summary.txt"
cat "$out/summary.txt" | grep -v '^FAIL$'
n=$(grep '^outputs: ' "$out/summary.txt" | grep -vc ': not run: ')
norun=$(grep -c ': not run: ' "$out/summary.txt")
bad=$(grep -c '^FAIL$' "$out/summary.txt")
if [ "$bad" -gt 0 ]; then
    echo "outputs: $bad of $n commands shown in the chapters do not do what the text shows"
    exit 1
fi
echo "outputs: $n commands shown in the chapters run as shown; $norun blocks not run, each with its reason"
