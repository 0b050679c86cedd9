#!/usr/bin/env bash
# Compile pywac's extension (python/*.c) for Windows with mingw-w64,
# against CPython 3.11's own Windows headers (Include/ and PC/pyconfig.h from
# Debian's python3.11 source package, fetched with apt-get source into a
# private apt state: the system's package lists are not touched), with
# -Wall -Wextra -Werror, and with the POSIX calls MSVC lacks poisoned. It
# shows the extension is portable C for the limited API on Windows; it is
# compiled, not linked or run (there is no Windows CPython or MSVC here).
#   scripts/check-pywac-windows.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=${WAC_PYSRC_DIR:-$root/build-pywac-windows}
headers=$work/Python-3.11/Include
if [ ! -f "$headers/Python.h" ]; then
  rm -rf "$work"
  mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/src"
  echo "deb-src http://deb.debian.org/debian bookworm main" >"$work/apt/sources.list"
  apt_opts=(-o "Dir::Etc::SourceList=$work/apt/sources.list" -o Dir::Etc::SourceParts=/nonexistent
    -o "Dir::State::Lists=$work/apt/lists" -o "Dir::Cache=$work/apt/cache" -o APT::Sandbox::User=root)
  apt-get "${apt_opts[@]}" update -qq
  (cd "$work/src" && apt-get "${apt_opts[@]}" source --download-only -qq python3.11 >/dev/null)
  tarball=$(ls "$work"/src/python3.11_*.orig.tar.* | head -n 1)
  mkdir -p "$work/Python-3.11"
  tar -xf "$tarball" -C "$work/Python-3.11" --strip-components=1 --wildcards '*/Include' '*/PC/pyconfig.h'
fi
# mingw-w64 has POSIX time and thread calls (winpthreads) that MSVC lacks:
# poison them, so a POSIX-only call outside a platform branch fails here.
cat >"$work/no-posix.h" <<'H'
#include <time.h>
#include <windows.h>
#pragma GCC poison nanosleep clock_gettime usleep gettimeofday pthread_create pthread_mutex_lock pthread_cond_wait
H
for unit in _wac chunk context capture aligned; do
  x86_64-w64-mingw32-gcc -std=c11 -O2 -Wall -Wextra -Werror -Wno-unused-parameter -Wmissing-prototypes \
    -include "$work/no-posix.h" -I"$headers" -I"$work/Python-3.11/PC" -Iinclude -Ipython \
    -c "python/$unit.c" -o "$work/$unit.obj"
done
echo "check-pywac-windows: pywac's extension (python/*.c) compiles for Windows (mingw-w64, CPython 3.11 limited API headers)"
