"""Microphones and applications on one clock (issue 15): device targets
(``Capture(device=...)``, ``list_devices``, ``MicrophoneSource``) and the
aligned reader (``Aligned``).

On the ``dummy`` backend (no server): its one device "dummy-mic", and the
aligned reader over captures whose samples count their own frames (f32:
(n mod (2^24-1) + 1) / 2^24, silence = 0), so padding and continuity are
exact. Against a private PipeWire (marked ``pipewire``): a virtual
microphone made with pw-loopback, real players, and the tones and clicks
measured in what is captured."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
import wave

import numpy as np
import pytest

import pywac
from conftest import PLAY_TONE, RATE, record, tone_dbfs, wait_playing

DUMMY = dict(system=True, backend="dummy")


def counters(x) -> np.ndarray:
    """The dummy's frame counters from f32 samples (-1 for silence)."""
    return np.rint(np.asarray(x, dtype=np.float64) * 2**24).astype(np.int64) - 1


def assert_continuous(c: np.ndarray) -> int:
    """Leading silence, then every frame from 0 on, once, in order; returns
    the number of silent frames before the first one."""
    pad = int(np.argmax(c >= 0)) if (c >= 0).any() else len(c)
    assert (c[:pad] == -1).all()
    assert (c[pad:] == np.arange(len(c) - pad)).all(), c[pad:pad + 20]
    return pad


# ---- device targets on the dummy backend ----------------------------------------------


@pytest.mark.parametrize("kwargs, exc, words", [
    (dict(device=3), TypeError, "device must be a str"),
    (dict(device=""), pywac.InvalidArgument, "device must not be empty"),
    (dict(device="dummy-mic", pid=1), pywac.InvalidArgument, "conflicting targets: pid and device"),
    (dict(device="dummy-mic", system=True), pywac.InvalidArgument, "conflicting targets: system=True and device"),
    (dict(device="dummy-mic", name="x"), pywac.InvalidArgument, "conflicting targets: name and device"),
    (dict(device="dummy-mic", exclude=True), pywac.InvalidArgument, "not a device"),
    (dict(device="no-such-mic"), pywac.TargetNotFound, '"no-such-mic"'),
])
def test_device_bad_input(kwargs, exc, words):
    with pytest.raises(exc) as info:
        pywac.Capture(backend="dummy", **kwargs)
    assert words in str(info.value)


def test_list_devices_dummy():
    devices = pywac.list_devices("dummy")
    assert devices == [pywac.Device("dummy-mic", "WAC dummy microphone", False, True, 48000, 2)]
    d = devices[0]
    assert (d.name, d.monitor, d.default, d.rate, d.channels) == ("dummy-mic", False, True, 48000, 2)


@pytest.mark.parametrize("device", ["default", "dummy-mic"])
def test_device_capture_dummy(device):
    with pywac.Capture(device=device, backend="dummy", chunk_ms=20) as cap:
        x = np.concatenate([cap.read(timeout=2) for _ in range(5)])
    assert assert_continuous(counters(x)) == 0


def test_unknown_device_names_it():
    with pytest.raises(pywac.TargetNotFound) as info:
        pywac.Capture(device="wac-no-such-device", backend="dummy")
    assert "wac-no-such-device" in info.value.detail


def test_microphone_source_dummy():
    assert pywac.MicrophoneSource.list_devices("dummy") == [
        {"id": "dummy-mic", "name": "dummy-mic", "description": "WAC dummy microphone", "monitor": False,
         "default": True, "rate": 48000, "channels": 2}]
    source = pywac.MicrophoneSource(backend="dummy", chunk_ms=20)
    assert (source.device, source.chunk_size, source.sample_rate) == ("default", 320, 16000)
    assert repr(source) == "<pywac.MicrophoneSource device='default' 16000 Hz chunk 320>"
    assert source.read() is None and not source.is_active  # not started
    source.start()
    assert source.is_active and source.capture is not None
    chunks = [source.read(timeout=2) for _ in range(5)]
    assert all(c.dtype == np.float32 and c.shape == (320,) for c in chunks)
    assert assert_continuous(counters(np.concatenate(chunks))) == 0
    source.stop()
    assert not source.is_active and source.read() is None

    with pywac.MicrophoneSource("dummy-mic", 16000, 10, backend="dummy") as source:  # restartable, sync iteration
        got = []
        for chunk in source:
            got.append(chunk)
            if len(got) == 3:
                break
    assert [len(c) for c in got] == [160] * 3 and not source.is_active

    async def main():
        got = []
        async with pywac.MicrophoneSource(backend="dummy", chunk_ms=10) as source:
            async for chunk in source:
                got.append(chunk)
                if len(got) == 3:
                    break
        return got

    assert [len(c) for c in asyncio.run(main())] == [160] * 3

    with pytest.raises(pywac.TargetNotFound, match="nope"):
        pywac.MicrophoneSource("nope", backend="dummy").start()
    with pytest.raises(TypeError, match="device must be a str"):
        pywac.MicrophoneSource(None)
    with pytest.raises(pywac.InvalidArgument):
        pywac.MicrophoneSource("")


def test_new_names_are_exported_and_import_stays_cheap():
    for name in ("Aligned", "AlignedChunk", "Device", "MicrophoneSource", "list_devices"):
        assert name in pywac.__all__ and hasattr(pywac, name)
    assert pywac._wac.TARGET_DEVICE == 4
    out = subprocess.run([sys.executable, "-c", "import sys, pywac; print('numpy' in sys.modules)"],
                         capture_output=True, text=True, timeout=20)
    assert out.stdout.strip() == "False", out.stderr


# ---- the aligned reader on the dummy backend -------------------------------------------


def test_aligned_pads_a_late_start_with_silence():
    a = pywac.Capture(chunk_ms=10, **DUMMY)
    b = pywac.Capture(chunk_ms=10, channels=2, **DUMMY)
    a.start()
    t_a = time.monotonic_ns()
    time.sleep(0.05)
    b.start()
    t_b = time.monotonic_ns()
    with pywac.Aligned(a, b, chunk_ms=50) as aligned:
        assert (aligned.rate, aligned.chunk_frames, aligned.captures) == (16000, 800, (a, b))
        blocks = [aligned.read(timeout=2) for _ in range(20)]
    assert a.closed and b.closed and aligned.closed  # closed with the reader
    assert [blk.position for blk in blocks] == list(range(0, 16000, 800))
    assert all(blk.frames == 800 and len(blk) == 2 and blk.flags == (0, 0) for blk in blocks)
    assert all(blk[0].shape == (800,) and blk[1].shape == (800, 2) for blk in blocks)
    assert blocks[1].time_ns - blocks[0].time_ns == 50_000_000
    ca = counters(np.concatenate([blk[0] for blk in blocks]))
    xb = np.concatenate([blk[1] for blk in blocks])
    assert (xb[:, 0] == xb[:, 1]).all()
    cb = counters(xb[:, 0])
    assert assert_continuous(ca) == 0  # every frame of A, once, in order
    pad = assert_continuous(cb)        # B: silence, then every frame of its own
    assert (ca[pad:] - cb[pad:] == pad).all()  # one offset, for good
    started_ms, pad_ms = (t_b - t_a) / 1e6, pad * 1000 / RATE
    print(f"B padded by {pad} frames ({pad_ms:.2f} ms); the starts were {started_ms:.2f} ms apart")
    assert abs(pad_ms - started_ms) < 2.0


def test_aligned_starts_its_captures():
    a, b = pywac.Capture(chunk_ms=10, **DUMMY), pywac.Capture(chunk_ms=10, format="s16", **DUMMY)
    with pywac.Aligned(a, b, chunk_ms=20) as aligned:
        assert a.state == b.state == "running"
        blocks = [aligned.read(timeout=2) for _ in range(10)]
    assert blocks[0][1].dtype == np.int16 and blocks[0].chunks[1].format == "s16"
    ca = counters(np.concatenate([blk[0] for blk in blocks]))
    cb = np.concatenate([blk[1] for blk in blocks]).astype(np.int64) - 1  # s16: n mod 32767 + 1
    pa, pb = assert_continuous(ca), assert_continuous(cb)
    assert min(pa, pb) == 0 and max(pa, pb) < 80  # started one right after the other: < 5 ms apart


def test_aligned_timeout_keeps_frames():
    a, b = pywac.Capture(**DUMMY), pywac.Capture(**DUMMY)
    with pywac.Aligned(a, b, chunk_ms=1000) as aligned:
        t = time.monotonic()
        assert aligned.read(timeout=0.1) is None  # a second is not there yet
        assert 0.08 < time.monotonic() - t < 0.5
        assert aligned.read(timeout=0) is None
        block = aligned.read(timeout=3)
        assert block.frames == 16000 and block.position == 0
        nxt = aligned.read(timeout=3)
    # Nothing read before the timeouts went missing, nor anything after.
    assert assert_continuous(counters(np.concatenate([block[0], nxt[0]]))) < 80
    assert assert_continuous(counters(np.concatenate([block[1], nxt[1]]))) < 80


def test_aligned_iteration_and_the_end():
    a, b = pywac.Capture(**DUMMY), pywac.Capture(**DUMMY)
    aligned = pywac.Aligned(a, b, chunk_ms=100)
    assert aligned.read(timeout=2) is not None
    b.stop()
    last = []
    for i, block in enumerate(aligned):
        assert not block.flags[0] & pywac.CHUNK_LAST
        if block.flags[1] & pywac.CHUNK_LAST:
            last.append(i)
        elif last:
            assert not block[1].any()  # silence after its end
        if i == 5:
            break
    assert len(last) == 1
    assert any(e.type == "ended" for e in b.events())
    a.stop()
    assert list(aligned)  # what a had buffered, then the end
    assert aligned.ended and aligned.read() is None and list(aligned) == []
    assert not a.closed  # the reader ends, its captures stay until close
    aligned.close()
    assert a.closed and b.closed
    aligned.close()  # idempotent
    with pytest.raises(pywac.Closed):
        aligned.read()


def test_aligned_raises_the_error_that_ended_a_capture():
    app = pywac.Capture(os.getpid(), backend="dummy")
    other = pywac.Capture(**DUMMY)
    with pywac.Aligned(app, other) as aligned:
        aligned.read(timeout=2)
        app._cap.inject(pywac._wac.DUMMY_TARGET_EXIT, 0)
        for _ in range(50):
            block = aligned.read(timeout=2)
            if block.flags[0] & pywac.CHUNK_LAST:
                break
        else:
            raise AssertionError("the exited target's last block never came")
        assert not aligned.read(timeout=2)[0].any()  # silence from then on
        other.stop()
        with pytest.raises(pywac.TargetExited, match="capture 0"):
            while aligned.read(timeout=2) is not None:
                pass


def test_aligned_errors():
    with pytest.raises(pywac.InvalidArgument, match="at least one"):
        pywac.Aligned()
    with pytest.raises(TypeError, match="argument 1 is int"):
        pywac.Aligned(pywac.Capture(**DUMMY), 3)
    a = pywac.Capture(**DUMMY)
    with pytest.raises(pywac.FormatError, match="does not resample"):
        pywac.Aligned(a, pywac.Capture(rate=48000, **DUMMY))
    with pytest.raises(pywac.InvalidArgument, match="callback"):
        pywac.Aligned(a, pywac.Capture(callback=lambda chunk: None, **DUMMY))
    with pytest.raises(pywac.InvalidArgument, match="capture 1 is capture 0 again"):
        pywac.Aligned(a, a)
    assert pywac._wac.ALIGNED_MAX == 64
    with pytest.raises(pywac.InvalidArgument, match="at most 64 captures, not 65"):
        pywac.Aligned(*[pywac.Capture(**DUMMY) for _ in range(65)])
    with pytest.raises(pywac.InvalidArgument, match="chunk_ms"):
        pywac.Aligned(a, chunk_ms=0)
    with pytest.raises(TypeError, match="chunk_ms"):
        pywac.Aligned(a, chunk_ms="100")
    with pytest.raises(pywac.InvalidArgument, match="ring"):
        pywac.Aligned(pywac.Capture(ring_ms=500, **DUMMY), chunk_ms=1000)
    closed = pywac.Capture(**DUMMY)
    closed.close()
    with pytest.raises(pywac.Closed):
        pywac.Aligned(a, closed)
    # None of that touched a: it is neither started nor taken.
    assert a.state == "open"
    with a:
        assert a.read(timeout=2) is not None


def test_aligned_takes_its_captures_over():
    a, b = pywac.Capture(**DUMMY), pywac.Capture(**DUMMY)
    aligned = pywac.Aligned(a, b, chunk_ms=50)
    with pytest.raises(pywac.Busy, match="Aligned"):
        a.read(timeout=1)  # it would take frames off the timeline
    with pytest.raises(pywac.Busy, match="another aligned reader"):
        pywac.Aligned(b)
    assert isinstance(a.stats, pywac.Stats) and a.events() is not None
    with pytest.raises(pywac.Busy):
        pywac._wac.Aligned([a._cap], 800)
    # The low-level reader lets its captures go when it is closed or freed.
    aligned._aligned.close()
    assert aligned._aligned.captures == ()
    raw = pywac._wac.Aligned([a._cap], 800)
    assert raw.captures == (a._cap,)
    del raw
    assert a.read(timeout=2) is not None and b.read(timeout=2) is not None
    aligned.close()


def test_aligned_capture_closed_underneath():
    a, b = pywac.Capture(**DUMMY), pywac.Capture(**DUMMY)
    aligned = pywac.Aligned(a, b, chunk_ms=20)
    assert aligned.read(timeout=2) is not None
    b.close()
    with pytest.raises(pywac.Closed, match="capture 1 is closed"):
        aligned.read(timeout=1)
    aligned.close()

    # A reader blocked in another thread: woken by closing a capture, by
    # closing the reader, or by closing the captures' context.
    for how in ("capture", "reader", "context"):
        a, b = pywac.Capture(ring_ms=10000, **DUMMY), pywac.Capture(ring_ms=10000, **DUMMY)
        aligned = pywac.Aligned(a, b, chunk_ms=5000)
        result = []

        def reader():
            try:
                aligned.read()
            except pywac.Error as e:
                result.append(e)

        t = threading.Thread(target=reader)
        t.start()
        time.sleep(0.2)
        with pytest.raises(pywac.Busy):  # one reader at a time
            aligned.read(timeout=0)
        start = time.monotonic()
        if how == "capture":
            a.close()
        elif how == "reader":
            aligned.close()
        else:
            a._ctx.close()
        t.join(3)
        assert not t.is_alive() and isinstance(result[0], pywac.Closed), (how, result)
        assert time.monotonic() - start < 1.0, how
        with pytest.raises(pywac.Closed):
            aligned.read(timeout=0)
        aligned.close()


def test_aligned_gil_released_and_keyboard_interrupt():
    progress = 0
    stop = threading.Event()

    def spin():
        nonlocal progress
        while not stop.is_set():
            progress += 1

    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pywac.Aligned(pywac.Capture(ring_ms=10000, **DUMMY), pywac.Capture(ring_ms=10000, **DUMMY),
                           chunk_ms=5000) as aligned:
            worker = threading.Thread(target=spin)
            worker.start()
            time.sleep(0.05)
            before = progress
            assert aligned.read(timeout=0.5) is None
            during = progress - before
            stop.set()
            worker.join()
            assert during > 50000, during  # a held GIL would allow a switch interval or so

            timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
            t = time.monotonic()
            timer.start()
            with pytest.raises(KeyboardInterrupt):
                aligned.read()
            waited = time.monotonic() - t
            timer.join()
            assert 0.25 < waited < 2
            block = aligned.read(timeout=10)  # still usable, nothing lost
            assert block.position == 0
            assert assert_continuous(counters(block[0])) < 80
    finally:
        signal.signal(signal.SIGINT, old)


def test_aligned_async_iteration():
    async def main():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.005)
                ticks += 1

        tick = asyncio.ensure_future(ticker())
        blocks = []
        async with pywac.Aligned(pywac.Capture(**DUMMY), pywac.Capture(channels=2, **DUMMY),
                                 chunk_ms=20) as aligned:
            # A cancelled wait loses nothing: it never holds frames of its own.
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(aligned.aread(), 0.001)
            async for block in aligned:
                blocks.append(block)
                if len(blocks) == 10:
                    break
        tick.cancel()
        return blocks, ticks

    blocks, ticks = asyncio.run(main())
    assert [b.position for b in blocks] == list(range(0, 3200, 320))
    assert assert_continuous(counters(np.concatenate([b[0] for b in blocks]))) < 80
    assert ticks >= 10, ticks  # the loop ran while it waited


# ---- PipeWire: a virtual microphone, and an application on the monitor's clock -------------

TONE_DB = -8.0  # play-tone.sh's amplitude 0.4
SETTLE = 0.5    # seconds skipped while links are made
MIC = "wac_virtual_mic"
MONITOR = "wac_null_sink.monitor"  # the private session's default sink's monitor


def find_device(name: str):
    return next((d for d in pywac.list_devices() if d.name == name), None)


@pytest.fixture
def virtual_mic():
    """A virtual microphone: what is played into the sink wac_mic_feed comes
    out of the source wac_virtual_mic (pw-loopback, a real process)."""
    proc = subprocess.Popen(
        ["pw-loopback", "--capture-props=media.class=Audio/Sink node.name=wac_mic_feed",
         f"--playback-props=media.class=Audio/Source node.name={MIC}"],
        start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 8
        while find_device(MIC) is None:
            assert proc.poll() is None, "pw-loopback exited"
            assert time.monotonic() < deadline, f"{MIC} did not appear: {pywac.list_devices()}"
            time.sleep(0.05)
        yield MIC
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


def play_into_mic(players, freq: int) -> int:
    proc = subprocess.Popen([str(PLAY_TONE), str(freq), "30", "--target", "wac_mic_feed"],
                            start_new_session=True, stdout=subprocess.DEVNULL)
    players.procs.append(proc)  # stopped with the players
    return proc.pid


def levels(x: np.ndarray, *freqs: float) -> list[float]:
    x = x[round(SETTLE * RATE):]
    return [tone_dbfs(x, RATE, f) for f in freqs]


@pytest.mark.pipewire
def test_list_devices_pipewire(virtual_mic):
    mic, monitor = find_device(MIC), find_device(MONITOR)
    assert mic is not None and not mic.monitor, pywac.list_devices()
    assert monitor is not None and monitor.monitor and monitor.default, pywac.list_devices()
    assert {"id": MIC, "name": MIC}.items() <= next(
        d for d in pywac.MicrophoneSource.list_devices() if d["id"] == MIC).items()


@pytest.mark.pipewire
def test_capture_a_virtual_microphone(players, virtual_mic):
    play_into_mic(players, 700)
    app = players.tone(440)
    wait_playing(app)
    for device in (MIC, "default"):  # the session's only input is its default
        with pywac.Capture(device=device) as cap:
            mic, other = levels(record(cap, SETTLE + 1.0), 700, 440)
        assert abs(mic - TONE_DB) < 1.5 and other < mic - 40, (device, mic, other)
    # The application's tone is on the default output's monitor, not the mic's.
    with pywac.Capture(device=MONITOR) as cap:
        mic, other = levels(record(cap, SETTLE + 1.0), 700, 440)
    assert abs(other - TONE_DB) < 1.5 and mic < other - 40, (mic, other)


@pytest.mark.pipewire
def test_microphone_source_pipewire(players, virtual_mic):
    play_into_mic(players, 700)
    players.tone(440)
    with pywac.MicrophoneSource(MIC, sample_rate=16000, chunk_ms=100) as source:
        chunks = [source.read(timeout=3) for _ in range(15)]
    assert all(c.shape == (1600,) and c.dtype == np.float32 for c in chunks)
    mic, other = levels(np.concatenate(chunks), 700, 440)
    assert abs(mic - TONE_DB) < 1.5 and other < mic - 40, (mic, other)

    async def main():
        got = []
        async with pywac.MicrophoneSource(MIC, chunk_ms=50) as source:
            async for chunk in source:
                got.append(chunk)
                if len(got) == 30:
                    break
        return np.concatenate(got)

    mic, other = levels(asyncio.run(main()), 700, 440)
    assert abs(mic - TONE_DB) < 1.5 and other < mic - 40, (mic, other)


@pytest.mark.pipewire
def test_unknown_device_pipewire():
    with pytest.raises(pywac.TargetNotFound) as info:
        pywac.Capture(device="wac_no_such_device")
    assert "wac_no_such_device" in info.value.detail


def click_train(path, seconds: float = 20.0, rate: int = 48000) -> None:
    """Bursts of 2 ms of white noise at irregular intervals (150-400 ms): a
    sharp, unambiguous cross-correlation peak. 16-bit stereo WAV."""
    rng = np.random.default_rng(15)
    x = np.zeros(round(seconds * rate))
    t = 0.2
    while t < seconds - 0.1:
        start = round(t * rate)
        x[start:start + rate // 500] = rng.uniform(-0.6, 0.6, rate // 500)
        t += rng.uniform(0.15, 0.4)
    pcm = (np.repeat(x[:, None], 2, axis=1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def offset_by_correlation(x: np.ndarray, y: np.ndarray, max_lag: int) -> tuple[int, float]:
    """The lag (in samples) by which y follows x, from the peak of their
    cross-correlation within +-max_lag, and the peak's normalised height."""
    n = len(x) + len(y)
    r = np.fft.irfft(np.fft.rfft(y, n) * np.conj(np.fft.rfft(x, n)), n)
    lags = np.concatenate([np.arange(0, max_lag + 1), np.arange(-max_lag, 0)])
    window = np.concatenate([r[:max_lag + 1], r[-max_lag:]])
    best = int(np.argmax(window))
    return int(lags[best]), float(window[best] / np.sqrt(np.dot(x, x) * np.dot(y, y)))


@pytest.mark.pipewire
def test_aligned_application_and_monitor(players, tmp_path):
    wav = tmp_path / "clicks.wav"
    click_train(wav)
    app = subprocess.Popen(["pw-play", str(wav)], start_new_session=True, stdout=subprocess.DEVNULL)
    players.procs.append(app)
    wait_playing(app.pid)
    with pywac.Aligned(pywac.Capture(app.pid), pywac.Capture(device=MONITOR, channels=2), chunk_ms=100) as aligned:
        blocks = [aligned.read(timeout=3) for _ in range(40)]
    assert all(b is not None and b.frames == 1600 for b in blocks)
    assert all(b[0].shape == (1600,) and b[1].shape == (1600, 2) for b in blocks)
    assert [b.position for b in blocks] == list(range(0, 64000, 1600))
    x = np.concatenate([b[0] for b in blocks])[round(SETTLE * RATE):].astype(np.float64)
    y = np.concatenate([b[1] for b in blocks])[round(SETTLE * RATE):].mean(axis=1).astype(np.float64)
    assert np.abs(x).max() > 0.1 and np.abs(y).max() > 0.1  # clicks in both
    lag, peak = offset_by_correlation(x, y, max_lag=RATE // 2)
    print(f"the monitor follows the application by {lag} samples ({lag * 1000 / RATE:.2f} ms), "
          f"correlation {peak:.3f}")
    assert peak > 0.8, peak
    # 3 ms, as test-devices.c allows the PipeWire backend (0.0-0.44 ms in 40
    # runs, 1.9 ms once; bench/FINDINGS.md section 15): a sink-input's
    # monitor dated a graph cycle off would be 21-43 ms.
    assert abs(lag) <= 48, f"{lag} samples = {lag * 1000 / RATE:.2f} ms"
