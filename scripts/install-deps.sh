#!/usr/bin/env bash
# Install everything WAC builds, tests and demos with, from Debian's packages.
# Idempotent; needs root (or sudo). Debian 12 (bookworm).
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
packages=(
  # build (clang and its sanitizer runtimes for the ASan/UBSan and TSan runs)
  build-essential meson ninja-build pkg-config clang libclang-rt-14-dev
  libpipewire-0.3-dev libpulse-dev libsndfile1-dev
  # gst/: the wacsrc GStreamer plugin, and the elements its pipeline tests use
  # (gst-launch-1.0, gst-inspect-1.0; audioconvert; wavenc, udpsink, rtpL16pay;
  # GStreamer's Python bindings for the pause test)
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-tools
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good python3-gi gir1.2-gstreamer-1.0
  # private audio servers and players for the integration tests and the demo
  # (not pipewire-alsa: it would remove pulseaudio)
  pipewire pipewire-bin wireplumber pipewire-pulse dbus pulseaudio pulseaudio-utils sox
  # Windows: the mingw-w64 cross compiler, and Wine to run the Windows build's tests
  gcc-mingw-w64-x86-64 mingw-w64-x86-64-dev wine64
  # python face
  python3-dev python3-numpy python3-pytest python3-mesonpy python3-venv
  # examples/live_captions.py and its test: speech recognition, and speakers to recognize
  python3-pocketsphinx pocketsphinx-en-us flite
  # benchmarks: the report's plots
  python3-matplotlib
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  echo "install-deps: installing ${#missing[@]} Debian packages: ${missing[*]}"
  log=$(mktemp)
  if ! $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    rm -f "$log"
    echo "install-deps: error: apt-get install failed" >&2
    exit 1
  fi
  rm -f "$log"
fi
