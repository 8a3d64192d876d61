# Sourced by tools/win-curl.sh and tools/curl-build.sh: the cache of built
# libcurls takes one build at a time, so two first builds on one machine (two
# clones, a workshop's shared machine) cannot delete each other's files.

# built DIR PATTERN: print the first finished build (a folder with .built) in
# DIR whose name matches PATTERN; false when there is none
built() {
    for p in "$1"/$2; do
        [ -f "$p/.built" ] && { echo "$p"; return 0; }
    done
    return 1
}

# lock_cache DIR NAME WHO: hold DIR's lock NAME (on descriptor 8) until exit,
# saying so when another build holds it and this one waits
lock_cache() {
    exec 8>"$1/.$2.lock"
    flock -n 8 && return 0
    echo "$3: another build is running into $1; waiting for it" >&2
    flock 8
}
