#!/bin/sh
# Doxygen input filter for Markdown. The files stay plain GitHub Markdown;
# for Doxygen, each chapter gets its page id (chNN_slug, from the file name),
# links between chapter files become @ref links, and ```dot blocks (shown as
# source on GitHub) become \dot ... \enddot, drawn by graphviz; ```msc blocks
# become \msc ... \endmsc (Doxygen's built-in mscgen); chapters get a [TOC].
# Bold that starts with `code` or a quote becomes <b>...</b> (Doxygen shows
# the asterisks otherwise). The <!-- run: --> and <!-- norun: --> marks of tools/outputs.sh are dropped, and headings lose
# their backticks (Doxygen shows them as a literal <tt> in titles and the TOC).
# docs/glossary.md gets the page id glossary; links to it from any file, and
# its links back to the chapters (../chapters/chNN_slug.md), become @ref links.
f="$1"
id=$(basename "$f" .md)
awk -v id="$id" '
    NR == 1 && id ~ /^ch[0-9][0-9]_/ { print $0 " {#" id "}"; print ""; print "[TOC]"; next }
    NR == 1 && id == "glossary" { print $0 " {#glossary}"; next }
    /^<!-- (no)?run: .* -->$/ { print ""; next }    # tools/outputs.sh marks; Doxygen would not see the block after one
    /^#+ / && /`/ { gsub(/`/, "") }                  # code in a heading shows as a literal <tt> in titles
    /^```dot$/ { indot = 1; print "\\dot"; next }
    indot && /^```$/ { indot = 0; print "\\enddot"; next }
    /^```msc$/ { inmsc = 1; print "\\msc"; next }
    inmsc && /^```$/ { inmsc = 0; print "\\endmsc"; next }
    {
        while (match($0, /\*\*[`"][^*]*\*\*/))   # bold that starts with code or a quote
            $0 = substr($0, 1, RSTART - 1) "<b>" substr($0, RSTART + 2, RLENGTH - 4) "</b>" substr($0, RSTART + RLENGTH)
        gsub(/\(\.\.\/chapters\//, "(")
        gsub(/\(chapters\//, "(")
        gsub(/\((\.\.\/)*(docs\/)?glossary\.md\)/, "(@ref glossary)")
        while (match($0, /\(ch[0-9][0-9]_[a-z0-9_]*\.md\)/))
            $0 = substr($0, 1, RSTART) "@ref " substr($0, RSTART + 1, RLENGTH - 5) ")" substr($0, RSTART + RLENGTH)
        gsub(/\(\.\.\/README\.md\)/, "(index.html)")
        gsub(/\(\.\.\/docs\/figures\//, "(")
        print
    }' "$f"
