#!/usr/bin/env bash
# pa-daemon-for-wine.sh — a private, headless PulseAudio 16 daemon with a null
# sink playing a steady sine tone, for the Windows build's tests under Wine:
# Wine's winepulse driver makes the null sink's monitor Wine's default capture
# endpoint, which the WASAPI backend then records (tests/wine/test-wasapi.c).
#
#   tests/servers/pa-daemon-for-wine.sh run CMD ARGS...   start, run CMD, stop; CMD's exit code
#
# Started the way /work/shared/PLATFORM-NOTES.md describes (as root too: the
# warnings about root and D-Bus are harmless). Exported to CMD:
#   PULSE_SERVER        unix:<private socket>
#   WAC_TEST_PULSE_PID  the daemon's pid (the silence test freezes it with SIGSTOP)
#   WAC_TEST_TONE_HZ    the tone's frequency (WAC_TONE_HZ, default 440)
#   WAC_TEST_TONE_AMP   its amplitude (WAC_TONE_AMP, default 0.5 = -6 dBFS)
# Every wait has a timeout (10 s); on failure the daemon's log is printed.
set -u

HZ=${WAC_TONE_HZ:-440}
AMP=${WAC_TONE_AMP:-0.5}
TIMEOUT=10

log() { printf 'pa-daemon-for-wine: %s\n' "$*" >&2; }

[ "${1:-}" = run ] && [ $# -ge 2 ] || { echo "usage: $0 run CMD [ARGS...]" >&2; exit 2; }
shift
for tool in pulseaudio pacat pactl sox; do
    command -v "$tool" >/dev/null || { log "error: $tool is not installed (scripts/install-deps.sh)"; exit 1; }
done

dir=$(mktemp -d "${TMPDIR:-/tmp}/wac-pa-wine.XXXXXX")
chmod 700 "$dir"
mkdir -p "$dir/runtime" "$dir/home" "$dir/config" -m 700
pa_pid= tone_pid=
cleanup() {
    [ -n "$tone_pid" ] && kill "$tone_pid" 2>/dev/null
    if [ -n "$pa_pid" ]; then
        kill -CONT "$pa_pid" 2>/dev/null # in case a test left it frozen
        kill "$pa_pid" 2>/dev/null
        wait "$pa_pid" 2>/dev/null
    fi
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export XDG_RUNTIME_DIR=$dir/runtime PULSE_RUNTIME_PATH=$dir/runtime/pulse HOME=$dir/home XDG_CONFIG_HOME=$dir/config
unset DISPLAY PULSE_SERVER PIPEWIRE_REMOTE
socket=$dir/runtime/native
cat >"$dir/server.pa" <<EOF
load-module module-null-sink sink_name=wac_wine_sink rate=48000 channels=2
load-module module-native-protocol-unix auth-anonymous=1 socket=$socket
set-default-sink wac_wine_sink
set-default-source wac_wine_sink.monitor
EOF
pulseaudio --daemonize=no --exit-idle-time=-1 --use-pid-file=no --system=no -n -F "$dir/server.pa" \
    >"$dir/pulseaudio.log" 2>&1 &
pa_pid=$!
export PULSE_SERVER=unix:$socket
deadline=$((SECONDS + TIMEOUT))
until pactl info >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ] || ! kill -0 "$pa_pid" 2>/dev/null; then
        log "error: the PulseAudio daemon did not answer within ${TIMEOUT}s"
        tail -n 40 "$dir/pulseaudio.log" >&2
        exit 1
    fi
    sleep 0.05
done

# The tone: 10 minutes of float stereo from sox into the null sink.
sox -q -n -t raw -r 48000 -c 2 -e floating-point -b 32 - synth 600 sine "$HZ" vol "$AMP" |
    pacat --raw --format=float32le --rate=48000 --channels=2 --latency-msec=20 --client-name=wac-wine-tone &
tone_pid=$!
deadline=$((SECONDS + TIMEOUT))
until pactl list short sink-inputs 2>/dev/null | grep -q .; do
    if [ "$SECONDS" -ge "$deadline" ]; then
        log "error: the tone player did not connect within ${TIMEOUT}s"
        exit 1
    fi
    sleep 0.05
done

export WAC_TEST_PULSE_PID=$pa_pid WAC_TEST_TONE_HZ=$HZ WAC_TEST_TONE_AMP=$AMP
"$@"
rc=$?
[ $rc -ne 0 ] && { log "the command failed ($rc); the daemon's log:"; tail -n 20 "$dir/pulseaudio.log" >&2; }
exit $rc
