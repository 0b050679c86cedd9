#!/usr/bin/env bash
# play-tone.sh FREQ SECONDS [extra player args...] — play a sine tone.
#
# Generates a 48 kHz stereo float WAV with sox (amplitude WAC_TONE_AMP, default
# 0.4), then exec's the player on it, so the player's pid is this script's pid.
# The player is WAC_PLAYER: pw-play (the default; a native PipeWire client) or
# paplay (a PulseAudio client: the only one that works against a plain
# PulseAudio daemon, and a pulse-protocol client under pipewire-pulse).
# The stream's media.name is "wac-tone-FREQ" (pw-play 0.3.65 has no
# --media-name; -P sets it). The temp file is unlinked before the player
# starts: it reads it through an inherited descriptor.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 FREQ SECONDS [pw-play args...]" >&2; exit 2; }
freq=$1
secs=$2
shift 2
amp=${WAC_TONE_AMP:-0.4}
rate=${WAC_TONE_RATE:-48000}
channels=${WAC_TONE_CHANNELS:-2}
tmp=$(mktemp "${TMPDIR:-/tmp}/wac-tone.XXXXXX.wav")
sox -q -n -r "$rate" -c "$channels" -e floating-point -b 32 "$tmp" synth "$secs" sine "$freq" vol "$amp" ||
    { rm -f "$tmp"; echo "play-tone: sox failed" >&2; exit 1; }
exec 3<"$tmp"
rm -f "$tmp"
case ${WAC_PLAYER:-pw-play} in
# paplay's own default is a 2 s buffer, which makes a null sink render 2 s
# ahead; desktop applications ask for tens of milliseconds.
paplay) exec paplay --stream-name="wac-tone-$freq" --latency-msec="${WAC_PAPLAY_LATENCY_MS:-50}" "$@" /dev/fd/3 ;;
pw-play) ;;
*) echo "play-tone: WAC_PLAYER must be pw-play or paplay" >&2; exit 2 ;;
esac
exec pw-play -P "{ media.name = \"wac-tone-$freq\" node.name = \"wac-tone-$freq\" }" "$@" /dev/fd/3
