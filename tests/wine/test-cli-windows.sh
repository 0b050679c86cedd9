#!/usr/bin/env bash
# test-cli-windows.sh WAC_EXE — the Windows build of the wac tool under Wine,
# on the dummy backend (TAP): it starts, lists, records WAV files (float and
# 16-bit, mono to 4 channels, with exact frame counts) and raw stdout, and
# refuses what this build cannot write (FLAC).
# Environment: WINE (default /usr/lib/wine/wine64), WINEPREFIX, WINEPATH.
set -u
exe=$1
wine=${WINE:-/usr/lib/wine/wine64}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name"; fi; }
wac() { "$wine" "$exe" "$@" 2>"$tmp/stderr"; }

# WAV header facts through Python's own parser (PCM) or the raw fields (float).
wav_facts() {
    /usr/bin/python3 - "$1" <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read()
assert data[:4] == b'RIFF' and data[8:12] == b'WAVE'
assert struct.unpack('<I', data[4:8])[0] == len(data) - 8, 'RIFF size'
pos, fmt, frames = 12, None, None
while pos < len(data):
    cid, size = data[pos:pos + 4], struct.unpack('<I', data[pos + 4:pos + 8])[0]
    body = data[pos + 8:pos + 8 + size]
    if cid == b'fmt ':
        tag, ch, rate, _, align, bits = struct.unpack('<HHIIHH', body[:16])
        if tag == 0xFFFE:
            tag = struct.unpack('<H', body[24:26])[0]
        fmt = (tag, ch, rate, bits)
    if cid == b'data':
        frames = size // align
        assert pos + 8 + size == len(data), 'data size'
    pos += 8 + size + (size & 1)
print('tag=%d channels=%d rate=%d bits=%d frames=%d' % (fmt + (frames,)))
PY
}

wac --version >"$tmp/version"
check "--version" grep -q "^wac [0-9]" "$tmp/version"
wac list --backend dummy >"$tmp/list"
check "list (dummy)" grep -q wac-dummy-player "$tmp/list"

wac record --backend dummy --system -r 16000 -c 1 -d 0.5 -q -o "$tmp/a.wav"
check "16 kHz mono float WAV, 0.5 s exactly" test "$(wav_facts "$tmp/a.wav")" = "tag=3 channels=1 rate=16000 bits=32 frames=8000"
wac record --backend dummy --system -f s16 -d 0.25 -q -o "$tmp/b.wav"
check "48 kHz stereo 16-bit WAV" test "$(wav_facts "$tmp/b.wav")" = "tag=1 channels=2 rate=48000 bits=16 frames=12000"
wac record --backend dummy --system -c 4 -d 0.1 -q -o "$tmp/c.WAV"
check "4 channels: WAVE_FORMAT_EXTENSIBLE float" test "$(wav_facts "$tmp/c.WAV")" = "tag=3 channels=4 rate=48000 bits=32 frames=4800"
wac record --backend dummy --system -r 8000 -c 1 -f s16 -d 0.5 -q -o - >"$tmp/raw"
check "raw stdout: 4000 frames of s16 mono" test "$(stat -c %s "$tmp/raw")" -eq 8000
wac record --backend dummy --system -d 0.1 -o "$tmp/x.flac"
rc=$?
check "FLAC is refused with a usage error" test "$rc" -eq 2
check "  ... saying why" grep -q "no FLAC" "$tmp/stderr"
wac record --backend wasapi --pid 999999 -d 0.1 -o "$tmp/y.wav"
rc=$?
check "a missing pid is exit code 3" test "$rc" -eq 3
echo "1..$n"
[ "$failed" -eq 0 ]
