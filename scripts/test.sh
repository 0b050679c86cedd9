#!/usr/bin/env bash
# Set up and run every test WAC has: install packages, build with -Werror, run
# the unit suite (core and CLI), the same suite under ASan+UBSan and under
# TSan, the Windows build's suites under Wine, then the integration suite
# against a private PipeWire, a private PulseAudio and pipewire-pulse with real
# player processes, and the demo.
#   scripts/test.sh            everything
#   scripts/test.sh --quick    the plain build's unit suite only
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
[ "${1:-}" = "--quick" ] && quick=1

scripts/install-deps.sh

step() { printf '\n=== %s ===\n' "$*"; }

step "build (gcc, -Werror)"
[ -d build ] || meson setup build
ninja -C build
step "unit tests"
meson test -C build --suite unit --print-errorlogs
[ $quick -eq 1 ] && exit 0

step "unit tests under ASan + UBSan"
[ -d build-asan ] || CC=clang meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false \
  -Dc_args=-fno-sanitize-recover=all
ninja -C build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  meson test -C build-asan --suite unit --print-errorlogs

step "unit tests under TSan"
[ -d build-tsan ] || CC=clang meson setup build-tsan -Db_sanitize=thread -Db_lundef=false
ninja -C build-tsan
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/tsan.supp \
  meson test -C build-tsan --suite unit --print-errorlogs

step "Windows: cross-build with mingw-w64, unit and WASAPI tests under Wine (private PulseAudio)"
[ -d build-win ] || meson setup build-win --cross-file cross/x86_64-w64-mingw32.txt
ninja -C build-win
meson test -C build-win --suite unit --print-errorlogs
# Twice: Wine's packet times are true below 25.6 h of uptime and wrap above
# it (tests/servers/at-clock.sh), so each run sets the clock, not the machine.
# A wineserver outlives its last client briefly; the next run must not meet
# one on the other clock.
for clock_s in 3600 108000; do
  echo "--- the WASAPI suite with the clock at $clock_s s"
  WINEPREFIX=$PWD/build-win/wine-prefix /usr/lib/wine/wineserver -w
  tests/servers/at-clock.sh $clock_s \
    tests/servers/pa-daemon-for-wine.sh run meson test -C build-win --suite wasapi --print-errorlogs
done
WINEPREFIX=$PWD/build-win/wine-prefix /usr/lib/wine/wineserver -w
step "Windows: pywac's extension compiles for Windows (mingw-w64, CPython's Windows headers)"
scripts/check-pywac-windows.sh

step "integration tests against a private PipeWire + WirePlumber"
tests/servers/pw-session.sh run meson test -C build --suite pipewire --print-errorlogs

step "integration tests: the PulseAudio backend against a private PulseAudio daemon"
tests/servers/pulse-session.sh run meson test -C build --suite pulse --print-errorlogs

step "integration tests: the PulseAudio backend through pipewire-pulse"
tests/servers/pw-session.sh run meson test -C build --suite pipewire-pulse --print-errorlogs

step "integration tests: the PulseAudio backend under ASan + UBSan (private PulseAudio daemon, ~2.5 min)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  tests/servers/pulse-session.sh run meson test -C build-asan --suite pulse --print-errorlogs

step "pywac: pip install into a venv, pytest against a private PipeWire"
scripts/test-python.sh

step "benchmarks, smoke run (checks they still work, not their speed)"
bench/run.sh --smoke --no-deps

step "the demo (README's first command), on its own private server"
env -u XDG_RUNTIME_DIR scripts/demo.sh

echo
echo "all tests passed"
