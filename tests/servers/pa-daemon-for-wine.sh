#!/usr/bin/env bash
# pa-daemon-for-wine.sh — the private PulseAudio daemon of pulse-session.sh,
# with a steady sine tone playing into its default null sink, for the Windows
# build's tests under Wine: Wine's winepulse driver makes that sink's monitor
# Wine's default capture endpoint, which the WASAPI backend then records
# (tests/wine/test-wasapi.c).
#
#   tests/servers/pa-daemon-for-wine.sh run CMD ARGS...   start, run CMD, stop; CMD's exit code
#
# Exported to CMD, besides what pulse-session.sh exports:
#   WAC_TEST_PULSE_PID  the daemon's pid (the silence test freezes it with SIGSTOP)
#   WAC_TEST_TONE_HZ    the tone's frequency (WAC_TONE_HZ, default 440)
#   WAC_TEST_TONE_AMP   its amplitude (WAC_TONE_AMP, default 0.5 = -6 dBFS)
# Every wait has a timeout (10 s); on failure the daemon's log is printed.
set -u

HZ=${WAC_TONE_HZ:-440}
AMP=${WAC_TONE_AMP:-0.5}
TIMEOUT=10
here=$(cd "$(dirname "$0")" && pwd)

log() { printf 'pa-daemon-for-wine: %s\n' "$*" >&2; }

case ${1:-} in
run)
    [ $# -ge 2 ] || { echo "usage: $0 run CMD [ARGS...]" >&2; exit 2; }
    shift
    exec "$here/pulse-session.sh" run "$0" --with-tone "$@"
    ;;
--with-tone) shift ;; # inside the session: play the tone, then run CMD
*)
    echo "usage: $0 run CMD [ARGS...]" >&2
    exit 2
    ;;
esac

for tool in pacat pactl sox; do
    command -v "$tool" >/dev/null || { log "error: $tool is not installed (scripts/install-deps.sh)"; exit 1; }
done
# Wine records from the default source: make it the default sink's monitor.
pactl set-default-source "$WAC_PULSE_SINK.monitor" || { log "error: cannot set the default source"; exit 1; }

# The tone: 10 minutes of float stereo from sox into the default sink.
sox -q -n -t raw -r 48000 -c 2 -e floating-point -b 32 - synth 600 sine "$HZ" vol "$AMP" |
    pacat --raw --format=float32le --rate=48000 --channels=2 --latency-msec=20 --client-name=wac-wine-tone &
tone_pid=$!
trap 'kill "$tone_pid" 2>/dev/null' EXIT
deadline=$((SECONDS + TIMEOUT))
until pactl list short sink-inputs 2>/dev/null | grep -q .; do
    if [ "$SECONDS" -ge "$deadline" ]; then
        log "error: the tone player did not connect within ${TIMEOUT}s"
        exit 1
    fi
    sleep 0.05
done

export WAC_TEST_PULSE_PID=$WAC_PULSE_PID WAC_TEST_TONE_HZ=$HZ WAC_TEST_TONE_AMP=$AMP
"$@"
