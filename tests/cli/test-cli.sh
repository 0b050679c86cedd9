#!/usr/bin/env bash
# test-cli.sh WAC — end-to-end tests of the wac tool on the dummy backend,
# in TAP. Each test runs wac as a user would and checks its exit code, its
# message, and the files it wrote (with soxi, and python3 for JSON and raw
# samples). The dummy's samples count frames (see wac_dummy_inject in wac.h),
# so a file's content shows whether frames went missing.
set -u
wac=${1:?usage: test-cli.sh PATH-TO-WAC}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
py=/usr/bin/python3
export WAC_DUMMY_PERIOD_MS=${WAC_DUMMY_PERIOD_MS:-10}
unset WAC_BACKEND

echo "1..57"
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
    n=$((n + 1))
    echo "not ok $n - $1"
    echo "# exit code: $rc"
    sed 's/^/# stderr: /' "$tmp/err" 2>/dev/null | head -20
}
# check DESCRIPTION COMMAND...: ok if COMMAND succeeds.
check() {
    local what=$1
    shift
    if "$@"; then ok "$what"; else not_ok "$what"; fi
}
# run ARGS...: wac ARGS, stdout in $tmp/out, stderr in $tmp/err, exit code in $rc.
run() {
    "$wac" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
}
# expect_error CODE TEXT: exit code CODE and a "wac: error:" line containing TEXT.
expect_error() {
    [ "$rc" -eq "$1" ] && grep -q "^wac: error: .*$2" "$tmp/err"
}
frames_of() { soxi -s "$1" 2>/dev/null; }
dummy=(--backend dummy -q)

# ---- version and help ---------------------------------------------------------
run --version
check "--version names wac and libwac" eval '[ $rc -eq 0 ] && grep -Eq "^wac [0-9]+\.[0-9]+\.[0-9]+ \(libwac [0-9]+\.[0-9]+\.[0-9]+\)$" "$tmp/out"'
run --help
check "--help lists the commands and the exit codes" eval '[ $rc -eq 0 ] && grep -q "record" "$tmp/out" && grep -q "Exit codes" "$tmp/out"'
run record --help
check "record --help documents -o and the exit codes" eval '[ $rc -eq 0 ] && grep -q -- "--output FILE" "$tmp/out" && grep -q "5  an output file" "$tmp/out"'
run list --help
check "list --help documents --json" eval '[ $rc -eq 0 ] && grep -q -- "--json" "$tmp/out"'

# ---- list ------------------------------------------------------------------------
run list --json --backend dummy
check "list --json is valid JSON with backend \"dummy\"" eval '[ $rc -eq 0 ] && $py -c "import json,sys; d=json.load(sys.stdin); assert d[\"backend\"]==\"dummy\"; assert isinstance(d[\"sessions\"], list); s=d[\"sessions\"][0]; assert set(s)=={\"pid\",\"executable\",\"app_name\",\"streams\",\"playing\",\"volume\",\"muted\",\"app_id\"}; assert s[\"volume\"]==1.0 and s[\"muted\"] is False and s[\"app_id\"]==\"\"" <"$tmp/out"'
WAC_BACKEND=dummy run list
check "list (backend from WAC_BACKEND) prints the backend, then the table" eval '[ $rc -eq 0 ] && [ "$(head -1 "$tmp/out")" = "backend: dummy" ] && sed -n 2p "$tmp/out" | grep -q "PID.*EXECUTABLE.*APP.*STREAMS.*PLAYING.*VOLUME" && grep -q "wac-dummy-player.* 1.00$" "$tmp/out"'

# ---- volume, mute, unmute (the dummy's player is the wac process itself) -------------
run volume --backend dummy --name wac-dummy-player
check "volume prints the player's level" eval '[ $rc -eq 0 ] && [ "$(cat "$tmp/out")" = "1.00" ]'
run volume --backend dummy --name wac-dummy-player 50%
check "volume LEVEL as a percentage is accepted (exit 0, prints nothing)" eval '[ $rc -eq 0 ] && [ ! -s "$tmp/out" ]'
run volume --backend dummy --name wac-dummy-player 0.25
check "volume LEVEL as a factor is accepted" eval '[ $rc -eq 0 ]'
for level in 1.5 101% abc 0.5x nan; do
    run volume --backend dummy --name wac-dummy-player "$level"
    check "volume $level is a usage error (exit 2)" expect_error 2 "bad level"
done
run volume --backend dummy --name wac-dummy-player -- -0.1
check "volume -0.1 (after --) is a usage error (exit 2)" expect_error 2 "bad level"
run volume --backend dummy --name no-such-player
check "volume of an unknown name: exit 3 with the detail" expect_error 3 "no process named \"no-such-player\""
run mute --backend dummy --pid 999999999
check "mute of a pid that plays nothing: exit 3" expect_error 3 "target process not found"
run unmute --backend dummy --name wac-dummy-player
check "unmute of the player: exit 0" eval '[ $rc -eq 0 ]'
run volume --backend dummy
check "volume without a target is a usage error" expect_error 2 "exactly one --pid or --name"
run volume --backend dummy --pid 1 --name x
check "volume with two targets is a usage error" expect_error 2 "exactly one --pid or --name"
run mute --backend dummy --name x 0.5
check "mute takes no level" expect_error 2 "unexpected argument '0.5'"
run volume --help
check "volume --help documents LEVEL and mute" eval '[ $rc -eq 0 ] && grep -q "LEVEL" "$tmp/out" && grep -q "wac mute" "$tmp/out"'

# ---- record: files ------------------------------------------------------------------
run record "${dummy[@]}" --system -r 16000 -c 1 -d 1.5 -o "$tmp/speech.wav"
check "16 kHz mono WAV of 1.5 s has exactly 24000 frames" eval '[ $rc -eq 0 ] && [ "$(frames_of "$tmp/speech.wav")" = 24000 ]'
check "... at 16000 Hz, 1 channel, 32-bit float" eval '[ "$(soxi -r "$tmp/speech.wav")" = 16000 ] && [ "$(soxi -c "$tmp/speech.wav")" = 1 ] && soxi -e "$tmp/speech.wav" | grep -qi "floating"'
check "... holding the dummy's signal, not silence" eval '[ "$(sox "$tmp/speech.wav" -n stat 2>&1 | awk "/Maximum amplitude/ {print (\$3 > 0)}")" = 1 ]'

run record "${dummy[@]}" --system -f s16 -r 8000 -c 2 -d 0.25 -o "$tmp/s16.wav"
check "s16 WAV: 16-bit PCM, 2000 frames, 2 channels" eval '[ $rc -eq 0 ] && [ "$(soxi -b "$tmp/s16.wav")" = 16 ] && [ "$(frames_of "$tmp/s16.wav")" = 2000 ] && [ "$(soxi -c "$tmp/s16.wav")" = 2 ]'

run record "${dummy[@]}" --system -r 16000 -c 1 -d 1 -o "$tmp/float.flac"
check "f32 into FLAC: 24-bit, exactly 16000 frames" eval '[ $rc -eq 0 ] && [ "$(soxi -t "$tmp/float.flac")" = flac ] && [ "$(soxi -b "$tmp/float.flac")" = 24 ] && [ "$(frames_of "$tmp/float.flac")" = 16000 ]'
run record "${dummy[@]}" --system -f s16 -r 44100 -d 0.5 -o "$tmp/s16.FLAC"
check "s16 into FLAC (extension in capitals): 16-bit, 22050 frames" eval '[ $rc -eq 0 ] && [ "$(soxi -b "$tmp/s16.FLAC")" = 16 ] && [ "$(frames_of "$tmp/s16.FLAC")" = 22050 ]'

# ---- record: raw stdout -------------------------------------------------------------------
"$wac" record "${dummy[@]}" --system -r 48000 -c 2 -f s16 -d 0.5 -o - >"$tmp/raw.s16" 2>"$tmp/err"
rc=$?
check "-o - writes exactly rate*duration*channels*2 bytes of s16" eval '[ $rc -eq 0 ] && [ "$(stat -c %s "$tmp/raw.s16")" = 96000 ]'
check "... and the dummy's frame counter runs on without a gap" eval '$py - "$tmp/raw.s16" <<EOF
import array, sys
a = array.array("h"); a.frombytes(open(sys.argv[1], "rb").read())
left = a[0::2]
assert a[0::2] == a[1::2], "channels differ"
nonzero = [v for v in left if v]
assert len(nonzero) > 20000, len(nonzero)
for x, y in zip(nonzero, nonzero[1:]):
    assert y == x % 32767 + 1, (x, y)
EOF'
"$wac" record "${dummy[@]}" --system -r 16000 -c 1 -d 0.3 -o - 2>"$tmp/err" | "$wac" --version >/dev/null
rc=${PIPESTATUS[0]}
check "a pipe whose reader exits early ends the recording quietly (exit 0)" eval '[ $rc -eq 0 ]'

# ---- record: several targets --------------------------------------------------------------
sleep 30 &
player=$!
run record "${dummy[@]}" --pid "$player" -o "$tmp/a.wav" --name some-player -o "$tmp/b.flac" -r 16000 -c 1 -d 1
check "two targets at once: two files of exactly 16000 frames each" eval '[ $rc -eq 0 ] && [ "$(frames_of "$tmp/a.wav")" = 16000 ] && [ "$(frames_of "$tmp/b.flac")" = 16000 ]'
run record --backend dummy --pid "$player" --events -d 0.2 -o "$tmp/ev.wav"
check "--events prints started and target-attached lines with the pid" eval '[ $rc -eq 0 ] && grep -q "^wac: event: pid $player: 0.000 s  position 0  started" "$tmp/err" && grep -q "target-attached  pid $player" "$tmp/err" && grep -q "ended" "$tmp/err"'
run record --backend dummy --pid "$player" -d 0.2 -o "$tmp/quiet.wav"
check "not a terminal: no status line (no escape sequences, no meter)" eval '[ $rc -eq 0 ] && ! grep -q $'"'"'\033'"'"' "$tmp/err" && ! grep -q dBFS "$tmp/err"'
if command -v script >/dev/null; then
    TERM=xterm script -qec "\"$wac\" record --backend dummy --pid $player -d 0.5 -o \"$tmp/tty.wav\"" /dev/null >"$tmp/tty" 2>&1
    rc=$?
    check "on a terminal: a status line with the level in dBFS and the streams" eval '[ $rc -eq 0 ] && grep -q "dBFS  1 stream  0 overruns" "$tmp/tty"'
else
    ok "# SKIP script(1) not installed"
fi
kill "$player" 2>/dev/null
wait "$player" 2>/dev/null

# ---- usage errors (exit 2) ------------------------------------------------------------------
run record --backend dummy --system --frobnicate -o "$tmp/x.wav"
check "unknown option: exit 2" eval 'expect_error 2 "unknown option .--frobnicate."'
run record --backend dummy --system --system -o "$tmp/x.wav" -o "$tmp/y.wav"
check "--system twice: exit 2" eval 'expect_error 2 "--system given more than once"'
run record --backend dummy --system --device dummy-mic --one-file -o "$tmp/x.wav" -o "$tmp/y.wav"
check "--one-file with two -o: exit 2" eval 'expect_error 2 "one -o FILE"'
run record --backend dummy --system --one-file -o "$tmp/x.wav"
check "--one-file with one target: exit 2" eval 'expect_error 2 "two targets or more"'
run record --backend dummy --device nosuch -d 0.1 -o "$tmp/x.wav"
check "--device of an unknown device: exit 3 with its name" eval 'expect_error 3 "nosuch"'
run list --devices --json --backend dummy
check "list --devices --json: the dummy's microphone, the default input" eval '[ $rc -eq 0 ] && $py -c "import json,sys; d=json.load(sys.stdin); (m,)=d[\"devices\"]; assert m[\"name\"]==\"dummy-mic\" and m[\"default\"] is True and m[\"monitor\"] is False and set(m)=={\"name\",\"description\",\"monitor\",\"default\",\"rate\",\"channels\"}" <"$tmp/out"'
run list --devices --backend dummy
check "list --devices: a table with KIND and NAME" eval '[ $rc -eq 0 ] && sed -n 2p "$tmp/out" | grep -q "KIND.*DEFAULT.*NAME" && grep -q "^input  *yes.*dummy-mic" "$tmp/out"'
run record "${dummy[@]}" --device default -o "$tmp/mic.wav" --system -o "$tmp/sys.wav" --pid $$ -o "$tmp/me.wav" -r 16000 -c 1 -d 0.5
check "--device with --system and --pid: three files of exactly 8000 frames" eval '[ $rc -eq 0 ] && [ "$(frames_of "$tmp/mic.wav")" = 8000 ] && [ "$(frames_of "$tmp/sys.wav")" = 8000 ] && [ "$(frames_of "$tmp/me.wav")" = 8000 ]'
run record "${dummy[@]}" --device dummy-mic --system --one-file -o "$tmp/one.wav" -r 16000 -c 1 -d 0.5
check "--one-file: one 2-channel file of exactly 8000 frames" eval '[ $rc -eq 0 ] && [ "$(frames_of "$tmp/one.wav")" = 8000 ] && [ "$(soxi -c "$tmp/one.wav")" = 2 ]'
run record --backend dummy --system
check "missing -o: exit 2" eval 'expect_error 2 "1 target but 0 -o"'
run record --backend dummy --system -o "$tmp/x.wav" -o "$tmp/y.wav"
check "more -o than targets: exit 2" eval 'expect_error 2 "1 target but 2 -o"'
run record --backend dummy --system -f s24 -o "$tmp/x.wav"
check "bad -f value: exit 2" eval 'expect_error 2 "--format s24: use f32 or s16"'
run record --backend dummy --system -r fast -o "$tmp/x.wav"
check "rate that is not a number: exit 2" eval 'expect_error 2 "--rate fast: not a number"'
run record --backend dummy --system --exclude -o "$tmp/x.wav"
check "--exclude with --system: exit 2" eval 'expect_error 2 "--exclude needs exactly one"'
run record --backend dummy --system -o "$tmp/x.mp3"
check "unknown output extension: exit 2" eval 'expect_error 2 "unknown file type"'
run record --backend dummy --system -r 0 -o "$tmp/rate0.wav"
check "rate 0: the library's format error, exit 2, no file" eval 'expect_error 2 "system: audio format not supported (rate 0 Hz" && [ ! -e "$tmp/rate0.wav" ]'

# ---- other failures ----------------------------------------------------------------------------
sleep 0.1 &
gone=$!
wait "$gone"
run record --backend dummy --pid "$gone" -o "$tmp/x.wav"
check "unknown pid: exit 3 with the library's message" eval 'expect_error 3 "pid $gone: target process not found (pid $gone: no such process)"'
run record --backend dummy --system -o /nonexistent/dir/x.wav
check "unwritable output path: exit 5" eval 'expect_error 5 "cannot write /nonexistent/dir/x.wav"'
WAC_BACKEND=nosuch run record --system -o "$tmp/x.wav"
check "WAC_BACKEND=nosuch: the unknown-backend error, exit 4" eval 'expect_error 4 "backend \"nosuch\": unknown backend, or not built into this libwac"'
WAC_BACKEND=nosuch run record --backend dummy -q --system -d 0.1 -o "$tmp/x.wav"
check "--backend wins over WAC_BACKEND" eval '[ $rc -eq 0 ]'

# ---- signals -------------------------------------------------------------------------------------
# Job control, so that the background job does not start with SIGINT ignored.
for sig in INT TERM; do
    set -m
    "$wac" record --backend dummy -q --system -r 16000 -c 1 -o "$tmp/sig$sig.wav" 2>"$tmp/err" &
    recorder=$!
    set +m
    sleep 1
    kill -s "$sig" "$recorder"
    wait "$recorder"
    rc=$?
    check "SIG$sig ends an open-ended recording: exit 0, a valid file of about 1 s" eval '[ $rc -eq 0 ] && frames=$(frames_of "$tmp/sig$sig.wav") && [ "$frames" -ge 8000 ] && [ "$frames" -le 48000 ]'
done

exit 0
