#!/usr/bin/env bash
# The WAC demo: capture ONE application out of several, and prove it from the
# audio itself.
#
# On a fresh Debian machine: installs the packages, builds, and — when no audio
# server is running — starts a private PipeWire (the helper the tests use).
# Then it starts two players with different tones (440 Hz and 1000 Hz), shows
# `wac list`, records the first player alone by pid at 16 kHz mono for a few
# seconds, and prints the level of each player's tone in the capture.
#
#   scripts/demo.sh                 the demo with two tone players
#   scripts/demo.sh --pid PID       on a desktop: capture a real application instead
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${WAC_DEMO_SECONDS:-4}
user_pid=""
if [ "${1:-}" = "--pid" ]; then
  user_pid=${2:?--pid needs a process id}
fi

scripts/install-deps.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null
wac=$root/build/tools/wac
out=$(mktemp -d /tmp/wac-demo.XXXXXX)

session_started=0
players=()
cleanup() {
  for p in "${players[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ $session_started -eq 1 ]; then tests/servers/pw-session.sh stop || true; fi
}
trap cleanup EXIT

if [ -S "${XDG_RUNTIME_DIR:-/nonexistent}/pipewire-0" ] || [ -S "${XDG_RUNTIME_DIR:-/nonexistent}/pulse/native" ]; then
  echo "== using the audio server already running for this user"
else
  echo "== no audio server running: starting a private PipeWire + WirePlumber"
  session_env=$(tests/servers/pw-session.sh start) || exit 1
  eval "$session_env"
  session_started=1
fi

if [ -n "$user_pid" ]; then
  echo "== wac list"
  "$wac" list
  echo "== recording pid $user_pid for $seconds s at 16 kHz mono -> $out/capture.wav"
  "$wac" record --pid "$user_pid" -r 16000 -c 1 -d "$seconds" -o "$out/capture.wav"
  soxi "$out/capture.wav"
  exit 0
fi

echo "== starting two players: 440 Hz and 1000 Hz"
tests/servers/play-tone.sh 440 $((seconds + 20)) & players+=($!)
tests/servers/play-tone.sh 1000 $((seconds + 20)) & players+=($!)
sleep 1

echo "== wac list"
"$wac" list

target=${players[0]}
echo "== recording ONLY the 440 Hz player (pid $target) for $seconds s, 16 kHz mono float"
"$wac" record --pid "$target" -r 16000 -c 1 -f f32 -d "$seconds" -o "$out/capture.wav"
echo "   $(soxi -s "$out/capture.wav" 2>/dev/null) frames at $(soxi -r "$out/capture.wav" 2>/dev/null) Hz, $(soxi -c "$out/capture.wav" 2>/dev/null) channel(s)"

echo "== proof from the audio: level of each player's tone in the capture"
read -r _ l440 < <(/usr/bin/python3 scripts/tone-levels.py "$out/capture.wav" 440)
read -r _ l1000 < <(/usr/bin/python3 scripts/tone-levels.py "$out/capture.wav" 1000)
printf '   440 Hz  (captured player): %7.1f dBFS\n' "$l440"
printf '   1000 Hz (other player):    %7.1f dBFS\n' "$l1000"
isolation=$(/usr/bin/python3 -c "print(f'{$l440 - $l1000:.1f}')")
echo "   isolation: $isolation dB"
if /usr/bin/python3 -c "import sys; sys.exit(0 if $l440 - $l1000 >= 60 else 1)"; then
  echo "== OK: only the chosen application was captured ($out/capture.wav)"
else
  echo "== FAILED: the other player leaked into the capture" >&2
  exit 1
fi
