"""pywac against a real, private PipeWire + WirePlumber (tests/servers/
pw-session.sh): players are real processes playing sine tones at amplitude
0.4 (-8 dBFS), and every test measures the tones in the captured audio."""
from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
import wave

import numpy as np
import pytest

import pywac
from conftest import RATE, ROOT, record, tone_dbfs, wait_playing

pytestmark = pytest.mark.pipewire

TONE_DB = -8.0  # 0.4 amplitude
SETTLE = 0.3    # seconds of capture skipped while links are made


def capture_tone_levels(capture: pywac.Capture, seconds: float, freqs) -> list[float]:
    x = record(capture, SETTLE + seconds)[round(SETTLE * capture.rate):]
    if x.dtype == np.int16:
        x = x / 32768.0
    if x.ndim > 1:
        x = x.mean(axis=1)
    return [tone_dbfs(x, capture.rate, f) for f in freqs]


def test_backend_and_sessions(players):
    pid = players.tone(440)
    wait_playing(pid)
    sessions = pywac.list_sessions()
    mine = [s for s in sessions if s.pid == pid]
    assert mine and mine[0].name == "pw-cat" and mine[0].playing and mine[0].streams == 1
    with pywac.Capture(pid) as cap:
        assert cap.backend == "pipewire"


def test_isolation_by_pid(players):
    a, b = players.tone(440), players.tone(1000)
    wait_playing(a, b)
    with pywac.Capture(a) as cap:
        la, lb = capture_tone_levels(cap, 1.0, (440, 1000))
    assert abs(la - TONE_DB) < 1.0 and lb < -90, (la, lb)
    with pywac.Capture(b) as cap:
        la, lb = capture_tone_levels(cap, 1.0, (440, 1000))
    assert abs(lb - TONE_DB) < 1.0 and la < -90, (la, lb)


def test_exclude_and_system(players):
    a, b = players.tone(440), players.tone(1000)
    wait_playing(a, b)
    with pywac.Capture(a, exclude=True) as cap:
        la, lb = capture_tone_levels(cap, 1.0, (440, 1000))
    assert la < -90 and abs(lb - TONE_DB) < 1.0, (la, lb)
    with pywac.Capture(system=True) as cap:
        la, lb = capture_tone_levels(cap, 1.0, (440, 1000))
    assert abs(la - TONE_DB) < 1.5 and abs(lb - TONE_DB) < 1.5, (la, lb)


def test_process_tree_and_name(players):
    shell = players.tone(700, tree=True)
    other = players.tone(1300)
    time.sleep(0.5)
    with pywac.Capture(shell) as cap:  # the player is the shell's child
        l7, l13 = capture_tone_levels(cap, 1.0, (700, 1300))
    assert abs(l7 - TONE_DB) < 1.0 and l13 < -90, (l7, l13)
    with pywac.Capture(name="pw-cat") as cap:  # both players run pw-cat
        l7, l13 = capture_tone_levels(cap, 1.0, (700, 1300))
    assert abs(l7 - TONE_DB) < 1.5 and abs(l13 - TONE_DB) < 1.5, (l7, l13)
    assert other


@pytest.mark.parametrize("rate, channels, fmt", [(16000, 1, "f32"), (48000, 2, "f32"), (22050, 1, "s16"),
                                                 (44100, 2, "s16"), (8000, 1, "f32")])
def test_formats(players, rate, channels, fmt):
    pid = players.tone(1000)
    wait_playing(pid)
    with pywac.Capture(pid, rate=rate, channels=channels, format=fmt, chunk_ms=50) as cap:
        assert (cap.rate, cap.channels, cap.format, cap.chunk_frames) == (rate, channels, fmt, round(rate / 20))
        x = cap.read(timeout=3)
        assert x.dtype == (np.float32 if fmt == "f32" else np.int16)
        assert x.shape == ((cap.chunk_frames,) if channels == 1 else (cap.chunk_frames, channels))
        (level,) = capture_tone_levels(cap, 1.0, (1000,))
    assert abs(level - TONE_DB) < 1.0, level


def test_async_iteration(players):
    pid = players.tone(440)
    wait_playing(pid)

    async def main():
        before = threading.active_count()
        got = []
        async with pywac.Capture(pid, chunk_ms=100) as cap:
            t = time.monotonic()
            async for x in cap:
                got.append(x)
                if len(got) == 15:
                    break
            elapsed = time.monotonic() - t
        assert threading.active_count() == before  # no executor, no helper threads
        return np.concatenate(got), elapsed

    x, elapsed = asyncio.run(main())
    assert 1.0 < elapsed < 3.0  # paced by the audio clock, not by polling
    assert abs(tone_dbfs(x[round(SETTLE * RATE):], RATE, 440) - TONE_DB) < 1.0


def test_callback_delivery(players):
    pid = players.tone(440)
    wait_playing(pid)
    got, threads = [], set()
    done = threading.Event()

    def on_chunk(x):
        threads.add(threading.get_ident())
        got.append(x)
        if len(got) == 15:
            done.set()

    with pywac.Capture(pid, callback=on_chunk):
        assert done.wait(5)
    assert threading.get_ident() not in threads
    x = np.concatenate(got[3:15])
    assert abs(tone_dbfs(x, RATE, 440) - TONE_DB) < 1.0


def test_many_captures_at_once(players):
    freqs = (440, 1000, 2500)
    pids = [players.tone(f) for f in freqs]
    wait_playing(*pids)
    caps = [pywac.Capture(pid) for pid in pids] + [pywac.Capture(system=True)]
    for c in caps:
        c.start()
    recordings = [[] for _ in caps]
    for _ in range(13):  # round-robin: ~1.3 s each, all at once
        for c, rec in zip(caps, recordings):
            rec.append(np.array(c.read(timeout=3)))
    for c in caps:
        c.close()
    skip = 3
    for i, rec in enumerate(recordings):
        x = np.concatenate(rec[skip:])
        levels = [tone_dbfs(x, RATE, f) for f in freqs]
        for j, level in enumerate(levels):
            if i == len(pids) or i == j:  # the system capture hears all
                assert abs(level - TONE_DB) < 1.5, (i, levels)
            else:
                assert level < -90, (i, levels)


def test_process_audio_source(players):
    pid = players.tone(440)
    wait_playing(pid)
    devices = pywac.ProcessAudioSource.list_devices()
    assert any(d["id"] == pid and d["name"] == "pw-cat" and d["playing"] for d in devices)

    source = pywac.ProcessAudioSource(pid=pid, sample_rate=16000, chunk_ms=100)
    assert source.chunk_size == 1600 and not source.is_active
    assert source.read() is None  # not started
    source.start()
    assert source.is_active
    chunks = [source.read(timeout=2) for _ in range(12)]
    assert all(c.dtype == np.float32 and c.shape == (1600,) for c in chunks)
    source.stop()
    assert not source.is_active and source.read() is None
    assert abs(tone_dbfs(np.concatenate(chunks[3:]), 16000, 440) - TONE_DB) < 1.0

    with pywac.ProcessAudioSource(pid=pid, chunk_ms=20) as source:  # restartable, sync iteration
        assert source.chunk_size == 320
        got = []
        for chunk in source:
            got.append(chunk)
            if len(got) == 5:
                break
    assert not source.is_active and all(len(c) == 320 for c in got)

    async def main():
        got = []
        async with pywac.ProcessAudioSource(name="pw-cat") as source:
            async for chunk in source:
                got.append(chunk)
                if len(got) == 5:
                    break
        return got

    assert [len(c) for c in asyncio.run(main())] == [1600] * 5


def read_wav(path):
    with wave.open(str(path)) as w:
        frames = w.readframes(w.getnframes())
        return w.getframerate(), w.getnchannels(), np.frombuffer(frames, dtype="<i2").reshape(-1, w.getnchannels())


def test_record_functions(players, tmp_path):
    a, b = players.tone(440), players.tone(1000)
    wait_playing(a, b)
    stats = pywac.record(tmp_path / "a.wav", 1.5, pid=a)
    assert stats.frames_delivered >= 72000
    rate, channels, x = read_wav(tmp_path / "a.wav")
    assert (rate, channels, len(x)) == (48000, 2, 72000)
    mono = x[12000:].mean(axis=1) / 32768
    assert abs(tone_dbfs(mono, rate, 440) - TONE_DB) < 1.0 and tone_dbfs(mono, rate, 1000) < -70

    # PyWAC's record_process_id / record_process answer True or False (tests/python/test_pywac_compat.py)
    assert pywac.record_process_id(b, tmp_path / "b.wav", 1.0) is True
    rate, channels, x = read_wav(tmp_path / "b.wav")
    assert (rate, channels, len(x)) == (48000, 2, 48000)
    mono = x[12000:].mean(axis=1) / 32768
    assert abs(tone_dbfs(mono, rate, 1000) - TONE_DB) < 1.0 and tone_dbfs(mono, rate, 440) < -70

    assert pywac.record_process("pw-cat", str(tmp_path / "n.wav"), 1.0, rate=16000, channels=1) is True
    rate, channels, x = read_wav(tmp_path / "n.wav")
    assert (rate, channels, len(x)) == (16000, 1, 16000)
    pywac.record(tmp_path / "m.wav", 0.5, name="pw-cat", rate=22050, channels=1)
    rate, channels, x = read_wav(tmp_path / "m.wav")
    assert (rate, channels, len(x)) == (22050, 1, 11025)

    pywac.record_system(tmp_path / "s.wav", 1.0)
    rate, channels, x = read_wav(tmp_path / "s.wav")
    mono = x[12000:].mean(axis=1) / 32768
    assert abs(tone_dbfs(mono, rate, 440) - TONE_DB) < 1.5 and abs(tone_dbfs(mono, rate, 1000) - TONE_DB) < 1.5

    with pytest.raises(pywac.InvalidArgument, match="duration"):
        pywac.record_system(tmp_path / "x.wav", 0)
    with pytest.raises(pywac.InvalidArgument, match="no target"):
        pywac.record(tmp_path / "x.wav", 1.0)
    assert not (tmp_path / "x.wav").exists()


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_example_vad(mode):
    """examples/vad.py finds one 1 s burst of tone in 3.5 s of a named target."""
    cmd = [sys.executable, str(ROOT / "examples" / "vad.py"), "--name", "pw-cat", "--seconds", "3.5"]
    if mode == "async":
        cmd.append("--async")
    vad = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert vad.stdout.readline().strip() == "listening"
        time.sleep(1.0)
        player = subprocess.Popen([str(ROOT / "tests" / "servers" / "play-tone.sh"), "440", "1"],
                                  stdout=subprocess.DEVNULL)
        player.wait(timeout=10)
        out, err = vad.communicate(timeout=20)
    finally:
        vad.kill()
    assert vad.returncode == 0, err
    segments = [tuple(map(float, line.split()[1:])) for line in out.splitlines() if line.startswith("speech")]
    assert len(segments) == 1, out
    start, end = segments[0]
    assert 0.8 < start < 2.0 and 0.7 < end - start < 1.3, segments
