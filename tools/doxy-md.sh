#!/bin/sh
# Doxygen input filter for Markdown: give each chapter its page id (chNN_slug,
# from the file name) and turn links between chapter files into @ref links,
# so the files stay plain GitHub Markdown.
f="$1"
id=$(basename "$f" .md)
case "$id" in
    ch[0-9][0-9]_*) sed -e "1s/\$/ {#$id}/" \
                        -e 's/(\(ch[0-9][0-9]_[a-z0-9_]*\)\.md)/(@ref \1)/g' \
                        -e 's/(\.\.\/README\.md)/(index.html)/g' "$f" ;;
    *) sed -e 's/(chapters\/\(ch[0-9][0-9]_[a-z0-9_]*\)\.md)/(@ref \1)/g' "$f" ;;
esac
