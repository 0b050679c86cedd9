#!/usr/bin/env bash
# bench/run.sh — build the benchmarks, start a private PipeWire + WirePlumber +
# pipewire-pulse (tests/servers/pw-session.sh), run every measurement
# (bench/bench.py) and write the report (bench/report.py).
#
#   bench/run.sh            the full run (about 35 minutes): bench/report/
#   bench/run.sh --smoke    a short run that checks the benchmarks still work
#                           (< 2 minutes; what scripts/test.sh runs): build-bench/smoke-report/
#   bench/run.sh [--smoke] --out DIR [bench.py options...]   e.g. --phases cpu --counts 1,4
#
# Self-contained: installs the Debian packages (scripts/install-deps.sh), builds
# in build-bench/ with -Dbench=true, and needs no running audio server.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
smoke=0
out=""
args=()
while [ $# -gt 0 ]; do
    case $1 in
    --smoke) smoke=1; args+=(--smoke) ;;
    --out) out=$2; shift ;;
    --no-deps) NO_DEPS=1 ;;
    *) args+=("$1") ;;
    esac
    shift
done
[ -n "${NO_DEPS:-}" ] || scripts/install-deps.sh
build=$root/build-bench
if [ ! -f "$build/meson-private/build.dat" ]; then
    # Absent, or left half-configured by an interrupted setup.
    rm -rf "$build"
    meson setup "$build" -Dbench=true
else
    meson configure "$build" -Dbench=true >/dev/null
fi
ninja -C "$build"
if [ -z "$out" ]; then
    if [ $smoke -eq 1 ]; then out=$build/smoke-report; else out=$root/bench/report; fi
fi
mkdir -p "$out"
# pywac as built in this tree: its Python layer (python/pywac) beside the
# extension built in $build/python, assembled as a package by symlinks.
pywac_path=""
if [ -d "$root/python/pywac" ] && [ -n "$(ls "$build"/python/_wac*.so 2>/dev/null)" ]; then
    pkg=$build/bench-pywac/pywac
    rm -rf "$build/bench-pywac"
    mkdir -p "$pkg"
    ln -s "$root"/python/pywac/* "$pkg"/
    ln -s "$build"/python/_wac*.so "$pkg"/
    pywac_path=$build/bench-pywac
fi
start=$(date +%s)
rc=0
WAC_PW_TIMEOUT=${WAC_PW_TIMEOUT:-20} tests/servers/pw-session.sh run \
    /usr/bin/python3 bench/bench.py --out "$out" --build "$build" --pywac-path "$pywac_path" "${args[@]}" || rc=$?
/usr/bin/python3 bench/report.py "$out"
echo "bench: report in $out/REPORT.md ($(( $(date +%s) - start )) s)"
[ $rc -eq 0 ] || echo "bench: FAILED (exit $rc): see the messages above" >&2
exit $rc
