#!/bin/sh
# wine-test.sh CMD... — run one test of the Windows build (CMD: Wine and the
# test program, or a script that calls Wine) with its prefix's wineserver
# already up and detached from the test's output. meson runs every such test
# through this (add_test_setup in tests/meson.build).
#
# Why: the first Wine process of a prefix starts the wineserver and Wine's own
# services (winedevice.exe and others). They inherit that process's stdout and
# stderr and hold them until the last Wine process of the prefix has ended, so
# meson counted whichever test started first as running until every other
# test had finished: test-ring, 1 s of work, took 47-57 s and once ran past
# its 60 s timeout. Here a Wine process with its output on /dev/null is the
# one that starts them (0.8 s once; 0.2 s when they already run).
if [ -n "${WINEPREFIX:-}" ]; then
    mkdir -p "$WINEPREFIX"
    WINEDEBUG=-all /usr/lib/wine/wine64 cmd /c exit </dev/null >/dev/null 2>&1
fi
exec "$@"
