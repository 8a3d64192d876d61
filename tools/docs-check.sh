#!/bin/sh
# The site as a reader sees it: load the start page, every chapter, the
# workshop and the glossary in headless Chromium (Debian's), fail on an image
# that does not load, a broken link, a console error, a picture wider than the
# page, a "--" shown as an en dash or an HTML tag shown as text; screenshots
# of every page go to build/docs/shots/.
# Usage: tools/docs-check.sh      (after doxygen has written build/docs/html)
set -u
cd "$(dirname "$0")/.."
tools/bootstrap.sh docs || exit 1
if [ ! -d tools/docs-check/node_modules/playwright-core ]; then
    echo "docs-check: installing playwright-core (npm, once) to drive Chromium"
    mkdir -p build/docs
    (cd tools/docs-check && npm ci --no-audit --no-fund) > build/docs/npm-ci.log 2>&1 || {
        echo "docs-check: npm ci failed in tools/docs-check; what it said:" >&2
        grep -v '^npm verb' build/docs/npm-ci.log | tail -8 | sed 's/^/  /' >&2; exit 1; }
fi
node tools/docs-check/check.mjs build/docs/html build/docs/shots
