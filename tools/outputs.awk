# tools/outputs.sh's matcher: does the output (second file) show, in order, a
# line of each shape in the chapter's block (first file)? Prints the first
# line that is missing, or nothing. -v e=… is the ellipsis.
function pattern(s,    r, c, i, n) {
    gsub(e, "\001", s)
    r = ""; n = length(s)
    for (i = 1; i <= n; i++) {
        c = substr(s, i, 1)
        if (c ~ /[0-9]/) { while (i < n && substr(s, i + 1, 1) ~ /[0-9]/) i++; r = r "[0-9]+" }
        else if (c == " ") { while (i < n && substr(s, i + 1, 1) == " ") i++; r = r " +" }
        else if (c == "\001") r = r ".*"
        else if (substr(s, i, 4) == "PORT") { r = r "[0-9]+"; i += 3 }
        else if (index("\\^$.|?*+(){}[]/", c)) r = r "\\" c
        else r = r c
    }
    return "^" r "$"
}
NR == FNR { want[++nw] = $0; re[nw] = pattern($0); next }
{ l = $0; sub(/^ +/, "", l); sub(/[ \r]+$/, "", l); got[++ng] = l }   # Windows programs end lines with CR LF
END {
    j = 1
    for (i = 1; i <= nw; i++) {
        while (j <= ng && got[j] !~ re[i]) j++
        if (j > ng) { print "line " i " of the chapter's block never printed: " want[i]; exit }
        j++
    }
}
