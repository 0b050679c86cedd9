#!/bin/sh
# wine-prefix.sh PREFIX STAMP — make the Wine prefix the Windows build's tests
# run in (tests/meson.build gives them WINEPREFIX=PREFIX), wait until Wine has
# finished setting it up, then touch STAMP. Run by `meson test` before the
# tests that need it: creating a prefix takes 23 s on an idle two-core
# machine and up to a minute beside other tests, which the first tests to
# run would otherwise pay inside their timeouts.
set -eu
prefix=$1
stamp=$2
mkdir -p "$prefix"
# Wine's notes on a new prefix go to a log, shown only if it fails.
if ! { WINEPREFIX=$prefix WINEDEBUG=-all /usr/lib/wine/wine64 wineboot --init &&
    WINEPREFIX=$prefix /usr/lib/wine/wineserver -w; } >"$stamp.log" 2>&1; then
    cat "$stamp.log" >&2
    echo "wine-prefix.sh: cannot make the Wine prefix $prefix" >&2
    exit 1
fi
touch "$stamp"
