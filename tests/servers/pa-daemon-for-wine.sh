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

command -v pactl >/dev/null || { log "error: pactl is not installed (scripts/install-deps.sh)"; exit 1; }
# Wine records from the default source: make it the default sink's monitor.
pactl set-default-source "$WAC_PULSE_SINK.monitor" || { log "error: cannot set the default source"; exit 1; }

# The tone comes from the daemon itself (module-sine, amplitude 0.5), not
# from a client: a player at a short latency can underrun when the machine is
# busy, and its gap would reach the test as if Wine or WAC had made it. The
# sink-input volume scales it to $AMP.
case $HZ in '' | *[!0-9]*) log "error: WAC_TONE_HZ must be a whole number of Hz, not $HZ"; exit 1 ;; esac
case $AMP in '' | *[!0-9.]* | *.*.*) log "error: WAC_TONE_AMP must be a number like 0.5, not $AMP"; exit 1 ;; esac
pactl load-module module-sine sink="$WAC_PULSE_SINK" frequency="$HZ" >/dev/null ||
    { log "error: cannot load module-sine"; exit 1; }
deadline=$((SECONDS + TIMEOUT))
until input=$(pactl list short sink-inputs 2>/dev/null | awk '$4 == "module-sine.c" { print $1; exit }') && [ -n "$input" ]; do
    if [ "$SECONDS" -ge "$deadline" ]; then
        log "error: the tone did not start within ${TIMEOUT}s"
        exit 1
    fi
    sleep 0.05
done
factor=$(LC_ALL=C awk -v a="$AMP" 'BEGIN { printf "%.9f", a / 0.5 }')
pactl set-sink-input-volume "$input" "$factor" || { log "error: cannot set the tone's level"; exit 1; }

export WAC_TEST_PULSE_PID=$WAC_PULSE_PID WAC_TEST_TONE_HZ=$HZ WAC_TEST_TONE_AMP=$AMP
"$@"
