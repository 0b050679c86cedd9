#!/usr/bin/env bash
# test-cli-pipewire.sh WAC TONE_LEVELS PLAY_TONE — the wac tool against a
# real, private PipeWire (run under tests/servers/pw-session.sh run) or
# PulseAudio (tests/servers/pulse-session.sh run; "auto" picks it there), in TAP.
# Real player processes; every recording is checked from its audio (levels
# of each player's tone, by scripts/tone-levels.py) and every failure by its
# exit code and its "wac: error:" line. Skips itself without a private session,
# so a desktop's own server is never used.
set -u
wac=${1:?usage: test-cli-pipewire.sh WAC TONE_LEVELS PLAY_TONE}
levels=${2:?}
play_tone=${3:?}
if [ -z "${WAC_PW_SESSION_DIR:-}" ] && [ -z "${WAC_PULSE_SESSION_DIR:-}" ]; then
    echo "1..0 # SKIP no private audio server: run under tests/servers/pw-session.sh or pulse-session.sh"
    exit 0
fi
tmp=$(mktemp -d)
players=()
cleanup() {
    for p in "${players[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
unset WAC_BACKEND

echo "1..13"
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
    n=$((n + 1))
    echo "not ok $n - $1"
    echo "# exit code: $rc"
    sed 's/^/# stderr: /' "$tmp/err" 2>/dev/null | head -20
}
check() {
    local what=$1
    shift
    if "$@"; then ok "$what"; else not_ok "$what"; fi
}
run() {
    "$wac" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
}
expect_error() { [ "$rc" -eq "$1" ] && grep -q "^wac: error: .*$2" "$tmp/err"; }
# level FILE FREQ: the tone's level in dBFS, rounded to an integer.
level() { "$levels" "$1" "$2" | awk '{ printf "%d", $2 }'; }
# isolated FILE OWN OTHER: OWN's tone near -8 dBFS (amplitude 0.4), OTHER's 60 dB below it.
isolated() {
    local own other
    own=$(level "$1" "$2") && other=$(level "$1" "$3") || return 1
    echo "# $1: $2 Hz at $own dBFS, $3 Hz at $other dBFS"
    [ "$own" -ge -10 ] && [ "$own" -le -6 ] && [ "$other" -le $((own - 60)) ]
}
start_player() { # FREQ SECONDS: sets $player
    "$play_tone" "$1" "$2" &
    player=$!
    players+=("$player")
}
# wait_listed PID: wait until wac list shows the pid playing.
wait_listed() {
    for _ in $(seq 80); do
        "$wac" list --json 2>/dev/null | /usr/bin/python3 -c '
import json, sys
pid = int(sys.argv[1])
sessions = json.load(sys.stdin)["sessions"]
sys.exit(0 if any(s["pid"] == pid and s["playing"] for s in sessions) else 1)' "$1" && return 0
        sleep 0.1
    done
    return 1
}

start_player 440 30; a=$player
start_player 1000 30; b=$player
check "wac list shows both players playing" wait_listed "$a"
check "... and the second one" wait_listed "$b"

# Two targets at once, from one context, each into its own file.
run record --pid "$a" -o "$tmp/a.wav" --pid "$b" -o "$tmp/b.flac" -r 16000 -c 1 -d 2 -q
check "two targets at once: exit 0" [ "$rc" -eq 0 ]
check "... each file holds only its target" eval 'isolated "$tmp/a.wav" 440 1000 && isolated "$tmp/b.flac" 1000 440'
check "... exactly 2 s each" eval '[ "$(soxi -s "$tmp/a.wav")" = 32000 ] && [ "$(soxi -s "$tmp/b.flac")" = 32000 ]'

# Raw samples to stdout, for pipelines.
"$wac" record --pid "$a" -o - -r 16000 -c 1 -f s16 -d 1 -q 2>"$tmp/err" | wc -c >"$tmp/bytes"
rc=${PIPESTATUS[0]}
check "raw s16 to stdout: exactly 1 s of samples" eval '[ "$rc" -eq 0 ] && [ "$(cat "$tmp/bytes")" -eq 32000 ]'

# The target exits mid-recording: a normal end, a complete file.
start_player 440 2; short=$player
wait_listed "$short"
run record --pid "$short" -o "$tmp/short.wav" -r 16000 -c 1
check "target exits: exit 0 and a notice" eval '[ "$rc" -eq 0 ] && grep -q "target exited" "$tmp/err"'
frames=$(soxi -s "$tmp/short.wav" 2>/dev/null || echo 0)
echo "# $frames frames recorded until the target exited"
check "... the file is valid and holds what it played" \
    eval '[ "$frames" -ge 16000 ] && [ "$frames" -le 64000 ] && [ "$(level "$tmp/short.wav" 440)" -ge -12 ]'

# Bad input against the real server: a clear error and a documented code.
run record --pid 2147483000 -o "$tmp/x.wav" -d 1
check "unknown pid: exit 3" expect_error 3 "no such process"
start=$(date +%s%N)
run record --name no-such-app-wac --wait-timeout 1 -o "$tmp/y.wav"
took=$((($(date +%s%N) - start) / 1000000))
echo "# gave up after $took ms"
check "unknown name with --wait-timeout 1: exit 3 within 4 s" eval 'expect_error 3 "no-such-app-wac" && [ "$took" -lt 4000 ]'
run record --pid "$a" -o "$tmp/z.wav" -r 5 -d 1
check "rate 5 Hz: exit 2" expect_error 2 "rate"
run record --pid "$a" -o /nonexistent-dir/z.wav -d 1
check "unwritable output path: exit 5" expect_error 5 "/nonexistent-dir/z.wav"
run record --system --pid "$a" -o "$tmp/z.wav" -d 1
check "--system with --pid: exit 2" expect_error 2 ""
