#!/usr/bin/env bash
# Build and install pywac into a fresh venv with Debian's Python (pip install .
# through meson-python, offline), then run its pytest suite inside a private
# PipeWire + WirePlumber session. WAC_REQUIRE_PW=1: a test that needs the
# session fails instead of skipping when it is missing.
#   scripts/test-python.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
venv=build-python/venv
rm -rf build-python
/usr/bin/python3 -m venv --system-site-packages "$venv"
"$venv/bin/pip" install -q --no-build-isolation --no-index .
# Run from the tests' directory: the package under test is the installed one.
cd tests/python
WAC_REQUIRE_PW=1 ../servers/pw-session.sh run \
  "../../$venv/bin/python" -m pytest -ra -p no:cacheprovider "$@"
