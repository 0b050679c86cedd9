"""pywac's mechanics on libwac's deterministic ``dummy`` backend: errors and
bad input, chunk sizes, timeouts, fileno readiness, end of stream, callbacks
(thread, exceptions, stop/close inside), signals, the GIL, many captures,
reference counting, interpreter exit. The dummy's samples encode a frame
counter (f32: (n mod (2^24-1) + 1) / 2^24), so continuity is exact."""
from __future__ import annotations

import asyncio
import gc
import os
import pickle
import select
import signal
import subprocess
import sys
import threading
import time
import tracemalloc

import numpy as np
import pytest

import pywac

DUMMY = dict(system=True, backend="dummy")


def counters(x) -> np.ndarray:
    """The dummy's frame counters from f32 samples."""
    return np.rint(np.asarray(x, dtype=np.float64) * 2**24).astype(np.int64) - 1


# ---- errors and bad input ---------------------------------------------------------


def test_error_tree():
    assert issubclass(pywac.TargetNotFound, pywac.Error)
    assert issubclass(pywac.InvalidArgument, ValueError) and issubclass(pywac.FormatError, ValueError)
    e = pywac.error_class(pywac._wac.ERR_SERVER_LOST)(pywac._wac.ERR_SERVER_LOST, "server went away")
    assert isinstance(e, pywac.Disconnected)
    assert (e.code, e.name) == (-13, "SERVER_LOST")
    assert str(e) == "connection to the audio server lost: server went away"
    again = pickle.loads(pickle.dumps(e))
    assert type(again) is pywac.Disconnected and again.detail == "server went away"
    for code in range(-1, -18, -1):
        cls = pywac.error_class(code)
        assert cls is not pywac.Error and cls(code).name == pywac._wac.error_name(code)


@pytest.mark.parametrize("kwargs, exc, words", [
    (dict(pid="123"), TypeError, "pid must be an int, not str"),
    (dict(pid=True), TypeError, "pid must be an int, not bool"),
    (dict(pid=-5), pywac.InvalidArgument, "pid must be a positive process id, got -5"),
    (dict(pid=0), pywac.InvalidArgument, "positive process id"),
    (dict(name=42), TypeError, "name must be a str"),
    (dict(name=""), pywac.InvalidArgument, "name must not be empty"),
    (dict(name="a/b", backend="dummy"), pywac.InvalidArgument, "basename"),
    (dict(pid=1, name="x"), pywac.InvalidArgument, "conflicting targets: pid and name"),
    (dict(pid=1, system=True), pywac.InvalidArgument, "conflicting targets: pid and system=True"),
    (dict(), pywac.InvalidArgument, "no target"),
    (dict(system=1), TypeError, "system must be a bool"),
    (dict(system=True, exclude=True, backend="dummy"), pywac.InvalidArgument, "exclude needs a pid or name"),
    (dict(system=True, rate=0), pywac.FormatError, "rate 0 Hz"),
    (dict(system=True, rate=-8000), pywac.FormatError, "rate -8000 Hz"),
    (dict(system=True, rate=5, backend="dummy"), pywac.FormatError, "supported rates are 8000..192000"),
    (dict(system=True, rate="16k"), TypeError, "rate must be an int, not str"),
    (dict(system=True, rate=16000.0), TypeError, "rate must be an int, not float"),
    (dict(system=True, channels=0), pywac.FormatError, "0 channels"),
    (dict(system=True, channels=9, backend="dummy"), pywac.FormatError, "supported are 1..8"),
    (dict(system=True, format="u8"), pywac.FormatError, "format 'u8'"),
    (dict(system=True, format=32), TypeError, "format must be a str"),
    (dict(system=True, chunk_ms=0), pywac.InvalidArgument, "chunk_ms must be a positive"),
    (dict(system=True, chunk_ms="100"), TypeError, "chunk_ms must be a number"),
    (dict(system=True, ring_ms=50, chunk_ms=100, backend="dummy"), pywac.InvalidArgument, "smaller than one chunk"),
    (dict(system=True, callback=3), TypeError, "callback must be callable"),
    (dict(system=True, backend="nope"), pywac.UnknownBackend, 'backend "nope" is not one of'),
    (dict(system=True, backend=None), TypeError, "backend must be a str"),
    (dict(system=True, tree="yes"), TypeError, "tree must be a bool"),
])
def test_bad_input(kwargs, exc, words):
    with pytest.raises(exc) as info:
        pywac.Capture(**kwargs)
    assert words in str(info.value)


def test_pid_that_does_not_exist():
    with pytest.raises(pywac.TargetNotFound, match="no such process") as info:
        pywac.Capture(pid=2**22 + 12345, backend="dummy")
    assert info.value.code == pywac._wac.ERR_TARGET_NOT_FOUND and info.value.name == "TARGET_NOT_FOUND"


def test_failed_opens_on_threads_keep_their_own_reasons():
    # Captures of one backend share a libwac context; each failure's reason
    # must be the failing thread's own, with no lock in pywac to pair them.
    cases = [(dict(system=True, rate=5, backend="dummy"), pywac.FormatError, "supported rates"),
             (dict(name="a/b", backend="dummy"), pywac.InvalidArgument, "basename")]
    wrong = []

    def fail_often(kwargs, exc, words):
        for _ in range(300):
            try:
                pywac.Capture(**kwargs)
            except exc as e:
                if words not in str(e):
                    wrong.append(str(e))
            else:
                wrong.append("opened")

    threads = [threading.Thread(target=fail_often, args=case) for case in cases * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []


@pytest.mark.parametrize("timeout, exc", [("1", TypeError), (-1, ValueError), (float("nan"), ValueError)])
def test_bad_timeout(timeout, exc):
    with pywac.Capture(**DUMMY) as cap:
        with pytest.raises(exc, match="timeout"):
            cap.read(timeout)


def test_state_errors():
    cap = pywac.Capture(**DUMMY)
    with pytest.raises(pywac.StateError, match="not started"):
        cap.read(0)
    with pytest.raises(pywac.StateError, match="not started"):
        cap.stop()
    cap.start()
    with pytest.raises(pywac.StateError, match="already started"):
        cap.start()
    cap.stop()
    with pytest.raises(pywac.StateError, match="already stopped"):
        cap.stop()
    cap.close()
    cap.close()  # idempotent
    for call in (cap.start, cap.stop, lambda: cap.read(0), cap.fileno, lambda: cap.stats):
        with pytest.raises(pywac.Closed, match="the capture is closed"):
            call()
    assert cap.state == "closed" and cap.closed


# ---- chunks, formats, timeouts ---------------------------------------------------


@pytest.mark.parametrize("rate, chunk_ms", [(16000, 10), (16000, 100), (48000, 250), (8000, 1000 / 3)])
def test_chunk_sizes_and_continuity(rate, chunk_ms):
    with pywac.Capture(rate=rate, chunk_ms=chunk_ms, **DUMMY) as cap:
        frames = round(rate * chunk_ms / 1000)
        assert cap.chunk_frames == frames
        position = 0
        parts = []
        for _ in range(4):
            chunk = cap.read_chunk(timeout=3)
            assert chunk.frames == frames == len(chunk) and chunk.position == position
            assert chunk.flags == 0 and chunk.time_ns > 0
            parts.append(pywac.samples(chunk))
            position += frames
        n = counters(np.concatenate(parts))
        assert (np.diff(n) == 1).all()


@pytest.mark.parametrize("fmt, channels, dtype", [("f32", 1, np.float32), ("f32", 2, np.float32),
                                                  ("s16", 1, np.int16), ("s16", 3, np.int16)])
def test_formats(fmt, channels, dtype):
    with pywac.Capture(format=fmt, channels=channels, **DUMMY) as cap:
        x = cap.read(timeout=3)
        assert (cap.format, cap.channels, cap.rate) == (fmt, channels, 16000)
        assert x.dtype == dtype
        assert x.shape == ((1600,) if channels == 1 else (1600, channels))
        assert x.flags.writeable and x.base is not None  # a view of the chunk, not a copy
        if fmt == "s16":
            n = x.reshape(1600, -1)[:, 0].astype(np.int64) - 1
            assert (np.diff(n) == 1).all()  # (n mod 32767) + 1, no wrap this early
        if channels > 1:
            assert (x == x[:, :1]).all()  # every channel carries the counter


def test_read_timeout():
    with pywac.Capture(chunk_ms=500, **DUMMY) as cap:
        t = time.monotonic()
        assert cap.read(timeout=0) is None
        assert cap.read(timeout=0.1) is None
        waited = time.monotonic() - t
        assert 0.09 < waited < 0.4
        assert len(cap.read(timeout=2)) == 8000


def test_fileno_readiness():
    with pywac.Capture(chunk_ms=300, **DUMMY) as cap:
        fd = cap.fileno()
        assert fd == cap.fileno()
        # Readable at once after fileno(); reading nothing re-arms it.
        select.select([fd], [], [], 1)
        while cap.read(0) is not None:
            pass
        assert select.select([fd], [], [], 0.05)[0] == []
        t = time.monotonic()
        assert select.select([fd], [], [], 2)[0] == [fd]
        assert time.monotonic() - t < 0.6
        assert len(cap.read(0)) == 4800


@pytest.mark.skipif(sys.platform == "win32", reason="the POSIX side of the platform split")
def test_event_handle_is_windows_only():
    # The asyncio path on Windows waits on this HANDLE; here the descriptor
    # is the way, and asking for a HANDLE is a clear error, not a crash.
    with pywac.Capture(**DUMMY) as cap:
        with pytest.raises(pywac.NotSupported):
            cap._cap.event_handle()


def test_clean_end():
    cap = pywac.Capture(**DUMMY)
    cap.start()
    chunks = [cap.read(3) for _ in range(2)]
    time.sleep(0.05)
    cap.stop()
    rest = list(cap)  # the buffered audio, then the end
    assert sum(len(c) for c in rest) < 1600 * 2
    assert rest == [] or len(rest[-1]) <= 1600
    assert cap.read(0) is None and cap.read() is None and cap.ended
    types = [e.type for e in cap.events()]
    assert types[0] == "started" and types[-1] == "ended"
    assert cap.events() == []
    assert len(chunks) == 2
    cap.close()


def test_end_by_error_raises_and_reconnects():
    cap = pywac.Capture(**DUMMY)
    cap.start()
    cap.read(3)
    cap._cap.inject(pywac._wac.DUMMY_DISCONNECT, 0)
    with pytest.raises(pywac.Disconnected, match="connection to the server lost"):
        while True:
            cap.read(3)
    with pytest.raises(pywac.Disconnected):  # again: the stream stays ended by that error
        cap.read(0)
    assert "server-lost" in [e.type for e in cap.events()]
    cap.close()
    # The shared dummy connection is dead; a new capture gets a new one.
    with pywac.Capture(**DUMMY) as again:
        assert again.read(3) is not None


def test_overrun_is_an_event_not_an_exception():
    with pywac.Capture(ring_ms=300, **DUMMY) as cap:
        cap.read(3)
        cap._cap.inject(pywac._wac.DUMMY_OVERRUN, 16000)
        time.sleep(0.1)
        for _ in range(10):
            cap.read(3)
        events = cap.events()
        overruns = [e for e in events if e.type == "overrun"]
        assert overruns and overruns[0].frames > 0
        stats = cap.stats
        assert stats.overruns >= 1 and stats.frames_lost == sum(e.frames for e in overruns)


# ---- signals and the GIL -----------------------------------------------------------


def test_keyboard_interrupt_during_read():
    # Python installs its Ctrl-C handler only when SIGINT is not ignored at
    # start-up, and a suite started in the background by a non-interactive
    # shell inherits SIGINT ignored: install the handler a terminal user has,
    # so the outcome does not depend on how pytest was started.
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pywac.Capture(chunk_ms=5000, ring_ms=10000, **DUMMY) as cap:
            timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
            t = time.monotonic()
            timer.start()
            with pytest.raises(KeyboardInterrupt):
                cap.read()
            waited = time.monotonic() - t
            timer.join()
            # Interrupted inside read: not before it (the signal is sent at
            # 0.3 s), and long before the 5 s chunk would have been complete.
            assert 0.25 < waited < 2
            assert cap.read(0) is None  # still usable
    finally:
        signal.signal(signal.SIGINT, old)


def test_signal_handler_that_returns_lets_read_resume():
    seen = []
    old = signal.signal(signal.SIGUSR1, lambda *a: seen.append(1))
    try:
        with pywac.Capture(chunk_ms=5000, ring_ms=10000, **DUMMY) as cap:
            timer = threading.Timer(0.15, os.kill, (os.getpid(), signal.SIGUSR1))
            t = time.monotonic()
            timer.start()
            assert cap.read(timeout=0.6) is None  # resumed after the handler, timed out on time
            waited = time.monotonic() - t
            timer.join()
        assert seen == [1] and 0.55 < waited < 1.5
    finally:
        signal.signal(signal.SIGUSR1, old)


def test_gil_released_while_read_waits():
    progress = 0
    stop = threading.Event()

    def spin():
        nonlocal progress
        while not stop.is_set():
            progress += 1

    with pywac.Capture(chunk_ms=5000, ring_ms=10000, **DUMMY) as cap:
        worker = threading.Thread(target=spin)
        worker.start()
        time.sleep(0.05)
        before = progress
        assert cap.read(timeout=0.5) is None
        during = progress - before
        stop.set()
        worker.join()
    # A held GIL would allow the worker only a switch interval (5 ms) or so.
    assert during > 50000, during


def test_blocked_reader_woken_by_close_from_another_thread():
    cap = pywac.Capture(chunk_ms=5000, ring_ms=10000, **DUMMY)
    cap.start()
    result = []

    def reader():
        try:
            cap.read()
        except pywac.Error as e:
            result.append(e)

    t = threading.Thread(target=reader)
    t.start()
    time.sleep(0.2)
    cap.close()
    t.join(3)
    assert not t.is_alive() and isinstance(result[0], pywac.Closed)


# ---- callbacks ----------------------------------------------------------------------


def test_callback_runs_on_the_dispatch_thread_and_chunks_stay_valid():
    got, threads = [], set()
    done = threading.Event()

    def on_chunk(x):
        threads.add(threading.get_ident())
        got.append(x)
        if len(got) == 5:
            done.set()

    with pywac.Capture(chunk_ms=20, callback=on_chunk, **DUMMY):
        assert done.wait(5)
    assert threading.get_ident() not in threads and len(threads) == 1
    n = counters(np.concatenate(got))  # still valid after the callbacks returned
    assert (np.diff(n) == 1).all() and n[0] == 0


def test_read_and_fileno_on_a_callback_capture():
    with pywac.Capture(callback=lambda x: None, **DUMMY) as cap:
        with pytest.raises(pywac.StateError, match="on_audio callback"):
            cap.read(0)
        with pytest.raises(pywac.StateError, match="on_audio callback"):
            cap.fileno()


class Boom(Exception):
    pass


def make_failing_callback(fail_at):
    calls = []
    failed = threading.Event()

    def on_chunk(x):
        calls.append(len(x))
        if len(calls) == fail_at:
            failed.set()
            raise Boom(f"chunk {fail_at}")

    return on_chunk, calls, failed


def test_callback_exception_stops_and_is_raised_by_stop_once():
    on_chunk, calls, failed = make_failing_callback(3)
    cap = pywac.Capture(chunk_ms=20, callback=on_chunk, **DUMMY)
    cap.start()
    assert failed.wait(5)
    time.sleep(0.2)
    assert len(calls) == 3  # nothing after the failure
    assert cap.state == "ended"
    with pytest.raises(Boom, match="chunk 3") as info:
        cap.stop()
    assert any(frame.name == "on_chunk" for frame in info.traceback)
    cap.stop()  # raised once; the capture is stopped already
    cap.close()
    assert [e.type for e in cap.events()][-1] == "ended"


def test_callback_exception_raised_by_close_and_by_with():
    on_chunk, _, failed = make_failing_callback(1)
    cap = pywac.Capture(callback=on_chunk, **DUMMY)
    cap.start()
    assert failed.wait(5)
    with pytest.raises(Boom):
        cap.close()
    assert cap.closed
    cap.close()

    on_chunk, _, failed = make_failing_callback(2)
    with pytest.raises(Boom):
        with pywac.Capture(chunk_ms=20, callback=on_chunk, **DUMMY):
            assert failed.wait(5)


def test_callback_exception_raised_by_read():
    on_chunk, _, failed = make_failing_callback(1)
    with pywac.Capture(callback=on_chunk, **DUMMY) as cap:
        assert failed.wait(5)
        with pytest.raises(Boom):
            cap.read(0)
        with pytest.raises(pywac.StateError):
            cap.read(0)


def test_stop_inside_callback():
    calls = []
    ended = threading.Event()
    cap = None

    def on_chunk(x):
        calls.append(len(x))
        if len(calls) == 2:
            cap.stop()
            ended.set()

    cap = pywac.Capture(chunk_ms=20, callback=on_chunk, **DUMMY)
    cap.start()
    assert ended.wait(5)
    time.sleep(0.2)
    n = len(calls)
    time.sleep(0.2)
    assert len(calls) == n <= 3  # the buffered rest, if any, then nothing
    assert [e.type for e in cap.events()][-1] == "ended"
    cap.close()


def test_close_inside_callback():
    calls = []
    closed = threading.Event()
    cap = None

    def on_chunk(x):
        calls.append(len(x))
        cap.close()
        closed.set()

    cap = pywac.Capture(chunk_ms=20, callback=on_chunk, **DUMMY)
    cap.start()
    assert closed.wait(5)
    time.sleep(0.2)
    assert calls == [320] and cap.closed
    cap.close()


class Holder:
    pass


def start_capture_in_a_cycle(calls):
    holder = Holder()

    def on_chunk(x, holder=holder):  # holder -> capture -> callback -> holder
        calls.append(1)

    holder.cap = pywac.Capture(chunk_ms=10, callback=on_chunk, **DUMMY)
    holder.cap.start()


def test_capture_in_a_reference_cycle_is_closed_by_gc():
    calls = []
    start_capture_in_a_cycle(calls)
    time.sleep(0.1)
    assert calls
    gc.collect()
    n = len(calls)
    time.sleep(0.2)
    assert len(calls) == n


# ---- many captures, asyncio ------------------------------------------------------------


def test_many_captures_at_once():
    readers = [pywac.Capture(chunk_ms=50, **DUMMY) for _ in range(16)]
    hits = [0] * 8
    events = [threading.Event() for _ in range(8)]

    def make(i):
        def on_chunk(x):
            hits[i] += 1
            if hits[i] == 3:
                events[i].set()
        return on_chunk

    pushers = [pywac.Capture(chunk_ms=50, callback=make(i), **DUMMY) for i in range(8)]
    for c in readers + pushers:
        c.start()
    for c in readers:
        for _ in range(3):
            assert len(c.read(3)) == 800
    assert all(e.wait(5) for e in events)
    assert readers[0]._ctx is pushers[0]._ctx  # one shared connection
    for c in readers + pushers:
        c.close()


def test_async_iteration_without_threads():
    async def main():
        loop = asyncio.get_running_loop()
        before = threading.active_count()
        got = []
        async with pywac.Capture(chunk_ms=50, **DUMMY) as cap:
            async for x in cap:
                got.append(x)
                if len(got) == 6:
                    break
            # a ticking coroutine runs while we wait: the loop is not blocked
            ticks = 0

            async def tick():
                nonlocal ticks
                while True:
                    ticks += 1
                    await asyncio.sleep(0.005)

            ticker = asyncio.create_task(tick())
            chunk = await cap.aread()
            ticker.cancel()
        assert threading.active_count() == before
        assert getattr(loop, "_default_executor", None) is None
        return got, chunk, ticks

    got, chunk, ticks = asyncio.run(main())
    n = counters(np.concatenate(got + [chunk]))
    assert (np.diff(n) == 1).all() and ticks >= 3


def test_async_iteration_ends_with_the_stream():
    async def main():
        cap = pywac.Capture(chunk_ms=50, **DUMMY)
        cap.start()
        got = []
        async for x in cap:
            got.append(len(x))
            if len(got) == 2:
                cap.stop()
        cap.close()
        return got

    got = asyncio.run(main())
    assert got[:2] == [800, 800] and len(got) <= 4


def test_async_iteration_registers_its_descriptor_once():
    """The loop watches the descriptor for the whole iteration: one
    add_reader, not one per chunk (each was two epoll_ctl and a new future,
    ~200 µs a chunk)."""
    calls = {"add": 0, "remove": 0}

    async def main():
        loop = asyncio.get_running_loop()
        add, remove = loop.add_reader, loop.remove_reader

        def counting_add(*a):
            calls["add"] += 1
            return add(*a)

        def counting_remove(*a):
            calls["remove"] += 1
            return remove(*a)

        loop.add_reader, loop.remove_reader = counting_add, counting_remove
        got = []
        with pywac.Capture(chunk_ms=10, **DUMMY) as cap:
            async for x in cap:
                got.append(x)
                if len(got) == 30:
                    break
        return got

    got = asyncio.run(main())
    assert (np.diff(counters(np.concatenate(got))) == 1).all()
    assert calls["add"] <= 2 and calls["remove"] <= 2, calls


def test_chunks_taken_for_async_reach_the_next_read_in_order():
    """An iteration left (break) while the loop runs on: the callback takes at
    most a few chunks, then leaves the rest to the ring; the next read of any
    style gets them first, so nothing is lost or reordered."""
    async def main(cap):
        got = []
        async for x in cap:
            got.append(x)
            if len(got) == 3:
                break
        await asyncio.sleep(0.3)  # 30 chunks arrive; the loop keeps turning
        return got

    with pywac.Capture(chunk_ms=10, ring_ms=2000, **DUMMY) as cap:
        got = asyncio.run(main(cap))
        taker = cap._taker
        assert taker is not None and len(taker.chunks) <= taker.LIMIT
        assert not taker.registered  # it stopped taking once full
        got += [cap.read(1) for _ in range(20)]
        assert cap.stats.overruns == 0
    n = counters(np.concatenate(got))
    assert (np.diff(n) == 1).all()


# ---- memory ----------------------------------------------------------------------


# AddressSanitizer keeps freed memory in quarantine: RSS says nothing then.
UNDER_ASAN = "libasan" in os.environ.get("LD_PRELOAD", "")


def rss_kb() -> int:
    if UNDER_ASAN:
        return 0
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_no_leaks_over_thousands_of_chunks():
    with pywac.Capture(chunk_ms=0.5, ring_ms=500, **DUMMY) as cap:
        for _ in range(500):  # warm up: caches, free lists
            cap.read(3)
        gc.collect()
        tracemalloc.start()
        snap = tracemalloc.take_snapshot()
        rss = rss_kb()
        objects = len(gc.get_objects())
        for _ in range(6000):
            x = cap.read(3)
            assert len(x) == 8
            chunk = cap.read_chunk(3)
            assert chunk.frames == 8
        del x, chunk
        gc.collect()
        grown = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(snap, "filename"))
        tracemalloc.stop()
        assert grown < 64 * 1024, grown
        assert len(gc.get_objects()) - objects < 100
        assert rss_kb() - rss < 2048


def test_no_leaks_in_callbacks_and_open_close():
    done = threading.Event()
    n = 0

    def on_chunk(x):
        nonlocal n
        n += 1
        if n == 3000:
            done.set()

    gc.collect()
    tracemalloc.start()
    snap = tracemalloc.take_snapshot()
    refs = sys.getrefcount(on_chunk)
    with pywac.Capture(chunk_ms=1, callback=on_chunk, **DUMMY) as cap:
        assert done.wait(20)
        assert sys.getrefcount(on_chunk) == refs + 1  # held once, by the capture
    del cap
    assert sys.getrefcount(on_chunk) == refs
    rss = rss_kb()
    shared = pywac._capture._context("dummy")
    for _ in range(300):  # opened and closed on one context: each keeps a small handle
        pywac.Capture(**DUMMY).close()
    assert pywac._capture._context("dummy") is shared  # not recycled
    gc.collect()
    grown = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(snap, "filename"))
    tracemalloc.stop()
    assert grown < 64 * 1024, grown
    assert rss_kb() - rss < 8192


# ---- without numpy, and at interpreter exit ----------------------------------------------


def run_python(code: str, timeout: float = 20) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)


def test_numpy_is_imported_lazily():
    result = run_python("import sys, pywac; print('numpy' in sys.modules, pywac.has_numpy(), 'numpy' in sys.modules)")
    assert result.stdout.split() == ["False", "True", "True"], result.stderr


def test_without_numpy_chunks_are_memoryviews():
    result = run_python("""
import sys, threading
sys.modules['numpy'] = None  # import numpy fails
import pywac
assert not pywac.has_numpy()
with pywac.Capture(system=True, backend='dummy', channels=2) as cap:
    x = cap.read(3)
    assert isinstance(x, memoryview) and x.format == 'f' and x.shape == (1600, 2), (x.format, x.shape)
    assert x.tolist()[1][0] > x.tolist()[0][0]
got = []
done = threading.Event()
with pywac.Capture(system=True, backend='dummy', callback=lambda m: (got.append(m), done.set())):
    done.wait(3)
assert isinstance(got[0], memoryview) and len(got[0]) == 1600
try:
    pywac.ProcessAudioSource()
except ImportError as e:
    assert 'numpy' in str(e)
else:
    raise AssertionError('ProcessAudioSource without numpy')
print('ok')
""")
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_interpreter_exit_with_running_captures():
    # Captures left running (a callback one, and a daemon thread blocked in
    # read) must not hang or crash the interpreter's exit.
    result = run_python("""
import threading, time, pywac
busy = []
cb = pywac.Capture(system=True, backend='dummy', chunk_ms=10, callback=lambda x: busy.append(len(x)))
cb.start()
reader = pywac.Capture(system=True, backend='dummy', chunk_ms=5000, ring_ms=10000)
reader.start()
threading.Thread(target=reader.read, daemon=True).start()
time.sleep(0.3)
assert busy
print('exiting')
""")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "exiting"


# ---- ProcessAudioSource's contract (on the dummy; the PipeWire tests use real players) ----


def test_process_audio_source_contract():
    source = pywac.ProcessAudioSource(sample_rate=16000, chunk_ms=100, backend="dummy")
    assert source.chunk_size == 1600 and not source.is_active and source.read() is None
    with source:
        assert source.is_active
        x = source.read(timeout=2)
        assert x.dtype == np.float32 and x.shape == (1600,)
        # stop() from another thread ends a blocked read with None, not an error
        threading.Timer(0.1, source.stop).start()
        got = list(source)
        assert all(len(c) == 1600 for c in got) and len(got) <= 3
        assert not source.is_active and source.read() is None
    source.start()  # a stopped source starts again, on a new capture
    assert len(source.read(timeout=2)) == 1600
    source.stop()
    with pytest.raises(pywac.InvalidArgument, match="conflicting"):
        pywac.ProcessAudioSource(pid=1, name="x")
    with pytest.raises(TypeError, match="sample_rate"):
        pywac.ProcessAudioSource(sample_rate="16000")
    with pytest.raises(pywac.FormatError, match="rate 0"):
        pywac.ProcessAudioSource(sample_rate=0, chunk_ms=100, backend="dummy")
