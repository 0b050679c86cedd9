#!/usr/bin/env bash
# Build and install pywac into a fresh venv with Debian's Python (pip install .
# through meson-python, offline), then run its pytest suite inside a private
# PipeWire + WirePlumber session. WAC_REQUIRE_PW=1: a test that needs the
# session fails instead of skipping when it is missing.
#   scripts/test-python.sh [pytest args...]
#   scripts/test-python.sh --asan [pytest args...]   the extension built with
#       ASan+UBSan (gcc), preloaded into Python only (not into the servers)
set -euo pipefail
cd "$(dirname "$0")/.."
asan=0
[ "${1:-}" = "--asan" ] && { asan=1; shift; }
venv=build-python/venv
rm -rf build-python
/usr/bin/python3 -m venv --system-site-packages "$venv"
"$venv/bin/pip" install -q --no-build-isolation --no-index .
# The wheel must carry the extension module alone: a shared library beside it
# would need patchelf at build time and could shadow an installed libwac.
stray=$("$venv/bin/pip" show -f pywac | sed -n '/^Files:/,$p' | tail -n +2 |
  grep -vE '^ *(pywac/|pywac-[^/]*\.dist-info/)' || true)
if [ -n "$stray" ]; then
  echo "test-python: error: the pywac wheel installed files outside its package:" >&2
  echo "$stray" >&2
  exit 1
fi
run=("../../$venv/bin/python" -m pytest -ra -p no:cacheprovider)
if [ $asan -eq 1 ]; then
  meson setup build-python/asan -Db_sanitize=address,undefined -Db_lundef=false \
    -Dtests=false -Dtools=disabled -Dpython=enabled >/dev/null
  ninja -C build-python/asan python/_wac.abi3.so
  cp build-python/asan/python/_wac.abi3.so "$(echo "$venv"/lib/python3*/site-packages/pywac)/"
  run=(env "LD_PRELOAD=$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
    ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "${run[@]}")
fi
# Run from the tests' directory: the package under test is the installed one.
cd tests/python
WAC_REQUIRE_PW=1 ../servers/pw-session.sh run "${run[@]}" "$@"
