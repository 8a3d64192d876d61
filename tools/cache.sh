# Sourced by tools/win-curl.sh and tools/curl-build.sh: the cache of built
# libcurls takes one build at a time, so two first builds on one machine (two
# clones, a workshop's shared machine) cannot delete each other's files; and
# both ask apt through a private state in it, so the machine's apt is not changed.

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

# private_apt apt-get|apt-cache ARGS...: apt with its sources, lists and cache in
# $apt_dir (sources.list, and the deb822 or one-line files in parts/); no root needed
private_apt() {
    tool="$1"; shift
    "$tool" -o Dir::Etc::SourceList="$apt_dir/sources.list" -o Dir::Etc::SourceParts="$apt_dir/parts" \
        -o Dir::State::Lists="$apt_dir/lists" -o Dir::Cache="$apt_dir/cache" \
        -o Debug::NoLocking=1 -o APT::Sandbox::User="$(id -un)" "$@"
}
