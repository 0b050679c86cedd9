#!/usr/bin/env bash
# test-wacsrc.sh MODE PLUGIN_DIR TONE_LEVELS PLAY_TONE — wacsrc in real
# gst-launch-1.0 pipelines, in TAP.
#
#   MODE unit:   no server: gst-inspect-1.0 documents every property; the
#                dummy backend negotiates 16 kHz mono S16; bad settings and a
#                missing pid are element errors with WAC's detail; SIGINT
#                (EOS through unlock) ends a pipeline at once.
#   MODE server: against the private server the suite runs in
#                (tests/servers/pw-session.sh or pulse-session.sh run ...;
#                skips itself without one), with real players: isolation of
#                one player by pid, 16 kHz mono caps reaching the engine's
#                stream, EOS when the pid exits, a late-started executable
#                target, RTP over udpsink to a second pipeline, an
#                overrun counted exactly against the gap in the buffers, and
#                a pause and resume from Python (pause-resume.py).
#
# The backend is $WAC_TEST_BACKEND (the suites set it), the player
# $WAC_PLAYER (play-tone.sh's). The plugin is found through GST_PLUGIN_PATH
# and a registry of this run's own, never the user's.
set -u
mode=${1:?usage: test-wacsrc.sh unit|server PLUGIN_DIR TONE_LEVELS PLAY_TONE}
plugin_dir=${2:?}
levels=${3:?}
play_tone=${4:?}

tmp=$(mktemp -d)
players=()
cleanup() {
    for p in "${players[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
export GST_PLUGIN_PATH=$plugin_dir GST_REGISTRY=$tmp/registry.bin GST_DEBUG_NO_COLOR=1
unset GST_PLUGIN_SYSTEM_PATH_1_0

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
    n=$((n + 1))
    failed=1
    echo "not ok $n - $1"
    # Also on stderr: meson prints a failed test's stderr in the CI log.
    echo "not ok $n - $1" >&2
    [ -f "$tmp/last.out" ] && grep -v "state-changed\|stream-status\|property-notify\|last-message\|^Got message #[0-9]* from element .*(latency)" "$tmp/last.out" |
        sed 's/^/# /' | head -30 | tee /dev/stderr
}
check() {
    local what=$1
    shift
    if "$@"; then ok "$what"; else not_ok "$what"; fi
}
# launch SECONDS PIPELINE...: gst-launch-1.0 -m, output in $tmp/last.out, exit code in $rc.
launch() {
    local secs=$1
    shift
    timeout -s KILL "$secs" gst-launch-1.0 -m "$@" >"$tmp/last.out" 2>&1
    rc=$?
}
has() { grep -q -- "$1" "$tmp/last.out"; }
# level FILE FREQ: the tone's level in dBFS, rounded to an integer.
level() { "$levels" "$1" "$2" | awk '{ printf "%d", $2 }'; }
# isolated FILE OWN OTHER: OWN's tone near -8 dBFS (amplitude 0.4), OTHER's 60 dB below it.
isolated() {
    local own other
    own=$(level "$1" "$2") && other=$(level "$1" "$3") || return 1
    echo "# $(basename "$1"): $2 Hz at $own dBFS, $3 Hz at $other dBFS"
    [ "$own" -ge -10 ] && [ "$own" -le -6 ] && [ "$other" -le $((own - 60)) ]
}
start_player() { # FREQ SECONDS: sets $player
    "$play_tone" "$1" "$2" &
    player=$!
    players+=("$player")
}
# wait_stream FREQ: wait (up to 5 s) until the server shows play-tone.sh's
# stream of FREQ (pw-play names its node, paplay its stream wac-tone-FREQ).
wait_stream() {
    for _ in $(seq 100); do
        pactl list sink-inputs 2>/dev/null | grep -q "= \"wac-tone-$1\"" && return 0
        sleep 0.05
    done
    return 1
}
props=(pid executable system exclude tree device backend ring-ms latency-ms)

if [ "$mode" = unit ]; then
    echo "1..$((${#props[@]} + 5))"
    gst-inspect-1.0 wacsrc >"$tmp/inspect" 2>&1
    for p in "${props[@]}"; do
        # "  NAME  : a description" (not an empty one), then its flags line.
        check "gst-inspect-1.0 wacsrc documents $p" grep -Eq "^  $p +: [A-Za-z].{20,}" "$tmp/inspect"
    done

    launch 20 wacsrc backend=dummy system=true num-buffers=10 '!' \
        audio/x-raw,rate=16000,channels=1,format=S16LE '!' fakesink
    check "dummy backend: 16 kHz mono S16 negotiated and asked of WAC" \
        eval '[ "$rc" -eq 0 ] && has "type=(string)started.*rate=(uint)16000, channels=(uint)1, sample=(string)S16"'

    launch 20 wacsrc backend=dummy '!' fakesink
    check "no target: an element error that says what to set" \
        eval '[ "$rc" -ne 0 ] && has "wacsrc needs exactly one target"'

    true &
    gone=$!
    wait "$gone"
    launch 20 wacsrc backend=dummy pid="$gone" '!' fakesink
    check "a pid that does not exist: WAC's error and detail" \
        eval '[ "$rc" -ne 0 ] && has "wac: target process not found: .*$gone"'

    launch 20 wacsrc backend=nosuch system=true '!' fakesink
    check "an unknown backend: WAC's error" eval '[ "$rc" -ne 0 ] && has "wac: cannot open backend \"nosuch\""'

    # -e turns SIGINT into an EOS event, which unlocks create(): the
    # pipeline must end at once, cleanly.
    timeout -s KILL 20 gst-launch-1.0 -e wacsrc backend=dummy system=true '!' fakesink >"$tmp/last.out" 2>&1 &
    g=$!
    sleep 1
    start=$(date +%s%N)
    kill -INT "$g"
    wait "$g"
    rc=$?
    ms=$((($(date +%s%N) - start) / 1000000))
    echo "# SIGINT to exit: $ms ms"
    check "SIGINT (EOS) ends a running pipeline within 2 s, exit 0" eval '[ "$rc" -eq 0 ] && [ "$ms" -lt 2000 ]'
    exit $failed
fi

if [ -z "${WAC_PW_SESSION_DIR:-}" ] && [ -z "${WAC_PULSE_SESSION_DIR:-}" ]; then
    echo "1..0 # SKIP no private audio server: run under tests/servers/pw-session.sh or pulse-session.sh"
    exit 0
fi
backend=${WAC_TEST_BACKEND:-auto}
player_name=${WAC_PLAYER:-pw-play}
echo "# backend $backend, player $player_name"
echo "1..14"

start_player 440 60; a=$player
start_player 1000 60; b=$player
check "player A plays" wait_stream 440
check "player B plays" wait_stream 1000

# (a) One player's tone, isolated, through audioconvert and wavenc.
launch 30 wacsrc backend="$backend" pid="$a" num-buffers=100 '!' audioconvert '!' wavenc '!' \
    filesink location="$tmp/a.wav"
check "pid A: pipeline ends after num-buffers, exit 0" [ "$rc" -eq 0 ]
check "pid A: 440 Hz only" isolated "$tmp/a.wav" 440 1000
launch 30 wacsrc backend="$backend" pid="$b" num-buffers=100 '!' audioconvert '!' wavenc '!' \
    filesink location="$tmp/b.wav"
check "pid B: 1000 Hz only" eval '[ "$rc" -eq 0 ] && isolated "$tmp/b.wav" 1000 440'

# (b) 16 kHz mono from downstream: the pad's caps, WAC's format, and the
# engine's stream (what the server shows WAC's capture stream asking for).
timeout -s KILL 30 gst-launch-1.0 -m -v wacsrc backend="$backend" pid="$a" num-buffers=150 '!' \
    audio/x-raw,rate=16000,channels=1 '!' wavenc '!' filesink location="$tmp/a16.wav" >"$tmp/last.out" 2>&1 &
g=$!
sleep 1.5
pactl list source-outputs >"$tmp/outputs" 2>&1
wait "$g"
rc=$?
check "16 kHz mono: wacsrc's pad caps" eval '[ "$rc" -eq 0 ] && has "wacsrc0.GstPad:src: caps = audio/x-raw, format=(string)F32LE, layout=(string)interleaved, rate=(int)16000, channels=(int)1"'
check "16 kHz mono: WAC delivers 16000 Hz, 1 channel" \
    has "type=(string)started.*rate=(uint)16000, channels=(uint)1, sample=(string)F32"
# WAC asks the engine for the rate; fewer channels than the source it
# averages itself (wac.h), so the engine's stream keeps the source's two.
check "16 kHz mono: the engine's stream is 16000 Hz" \
    eval 'grep -q "Sample Specification: float32le [0-9]ch 16000Hz" "$tmp/outputs" || { sed "s/^/# /" "$tmp/outputs" | head -20; false; }'
check "16 kHz mono: the file is 16 kHz mono with A's tone alone" \
    eval '[ "$(soxi -r "$tmp/a16.wav")" = 16000 ] && [ "$(soxi -c "$tmp/a16.wav")" = 1 ] && isolated "$tmp/a16.wav" 440 1000'

# (c) RTP to a second pipeline on this machine.
port=$((20000 + RANDOM % 20000))
rtp_caps="application/x-rtp,media=audio,clock-rate=48000,encoding-name=L16,channels=2,payload=96"
timeout -s KILL 30 gst-launch-1.0 -e udpsrc address=127.0.0.1 port="$port" caps="$rtp_caps" num-buffers=300 '!' \
    rtpjitterbuffer '!' rtpL16depay '!' audioconvert '!' wavenc '!' filesink location="$tmp/rtp.wav" \
    >"$tmp/rx.out" 2>&1 &
rx=$!
sleep 0.5
launch 30 wacsrc backend="$backend" pid="$b" num-buffers=200 '!' audioconvert '!' \
    audio/x-raw,format=S16BE,rate=48000,channels=2 '!' rtpL16pay '!' udpsink host=127.0.0.1 port="$port"
wait "$rx"
rxrc=$?
echo "# rtp sender exit $rc, receiver exit $rxrc, port $port"
check "RTP over udpsink 127.0.0.1: the receiver gets B's tone alone" \
    eval '[ "$rc" -eq 0 ] && [ "$rxrc" -eq 0 ] && isolated "$tmp/rtp.wav" 1000 440'

# (d) A stalled downstream: identity sleeps 100 ms per 20 ms buffer, the
# ring holds ~170 ms. Every gap in the buffers' offsets must be one overrun
# message with exactly its frame count, at exactly its position, and the
# buffer after it DISCONT. (The last overrun may lie past the last buffer.)
launch 30 -v wacsrc backend="$backend" pid="$a" ring-ms=100 num-buffers=40 '!' \
    identity sleep-time=100000 silent=false '!' fakesink sync=false
sed -n 's/.*type=(string)overrun, position=(guint64)\([0-9]*\),.*frames=(guint64)\([0-9]*\).*/\1 \2/p' \
    "$tmp/last.out" >"$tmp/overruns"
sed -n 's/.*chain .*offset: *\([0-9]*\), offset_end: *\([0-9]*\), flags: [0-9a-f]* \([a-z -]*\),.*/\1 \2 \3/p' \
    "$tmp/last.out" >"$tmp/buffers"
verdict=$(awk '
    FNR == 1 { file++ }
    file == 1 { # buffers: offset offset_end flags...
        if (FNR > 1 && $1 != end) { gap[end] = $1 - end; if ($0 !~ / discont/) bad++ }
        end = $2; next }
    { # overruns: position frames
        lost += $2
        if ($1 == end) { trailing++; next }
        if (gap[$1] == $2) { matched++; delete gap[$1] } else bad++ }
    END { for (g in gap) bad++
          printf "%d %d %d %d\n", matched, trailing, bad, lost }' "$tmp/buffers" "$tmp/overruns")
read -r matched trailing bad lost <<<"$verdict"
echo "# $(wc -l <"$tmp/buffers") buffers, $(wc -l <"$tmp/overruns") overruns, $lost frames lost;" \
    "$matched gaps matched exactly, $trailing past the last buffer, $bad mismatches"
check "stalled downstream: each gap is one overrun message with its exact frame count" \
    eval '[ "$rc" -eq 0 ] && [ "$matched" -gt 0 ] && [ "$bad" -eq 0 ]'
# (e) Paused and resumed by an application: a new capture, no stale audio.
"$(dirname "$0")/pause-resume.py" "$a" "$backend" >"$tmp/last.out" 2>&1
rc=$?
grep '^#' "$tmp/last.out"
check "PLAYING, PAUSED 3 s, PLAYING: resumes at the pause's running time, no overrun" [ "$rc" -eq 0 ]
for p in "${players[@]}"; do kill "$p" 2>/dev/null; done
wait 2>/dev/null
players=()

# (f) EOS when the pid's tree has exited.
start_player 440 2
p=$player
launch 30 wacsrc backend="$backend" pid="$p" '!' fakesink
check "pid target exits: EOS, exit 0" eval '[ "$rc" -eq 0 ] && has "Got EOS from element" && has "type=(string)target-detached.*pid=(uint)$p"'

# (g) An executable target that starts later is picked up.
timeout -s KILL 30 gst-launch-1.0 -m wacsrc backend="$backend" executable="$player_name" num-buffers=200 '!' \
    audioconvert '!' wavenc '!' filesink location="$tmp/late.wav" >"$tmp/last.out" 2>&1 &
g=$!
sleep 1
start_player 440 2
late=$player
wait "$g"
rc=$?
head_peak=$(sox "$tmp/late.wav" -n trim 0 0.5 stat 2>&1 | awk '/Maximum amplitude/ { print $3 }')
echo "# first 0.5 s peak $head_peak; 440 Hz over the 4 s: $(level "$tmp/late.wav" 440) dBFS"
check "late executable target: attached, its tone recorded after silence" \
    eval '[ "$rc" -eq 0 ] && has "type=(string)target-attached.*pid=(uint)$late" &&
        [ "$(level "$tmp/late.wav" 440)" -ge -20 ] && awk "BEGIN { exit !($head_peak < 0.001) }"'
exit $failed
