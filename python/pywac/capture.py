"""PyWAC 1.0's low-level ``pywac.capture`` (a native module there): one
process's audio as a queue of chunk dicts to pop - what captioning apps
built on PyWAC use - and the list of processes to pick from.

Here a WAC capture of the pid (with its child processes) at 48 kHz stereo
float32 feeds the queue from a thread blocked in the capture's read. Each
chunk is ``{"data": float32 array (frames, 2), "silent": bool, "timestamp":
µs}``: ``silent`` is True when every sample is zero, and silent chunks are
queued like the others (PyWAC used WASAPI's silent flag), so the chunks are
a continuous timeline. ``timestamp`` is the monotonic time of the chunk's
first frame (CLOCK_MONOTONIC / QueryPerformanceCounter, as std::steady_clock).
Nothing is printed (PyWAC wrote diagnostics to stdout); failures come with a
:class:`pywac.CompatibilityWarning`.
"""
from __future__ import annotations

import collections
import threading
import time
from typing import Any, Optional

from . import _compat
from ._capture import Capture, samples
from ._compat import require_numpy
from ._errors import Closed, Error, invalid

np = require_numpy("pywac.capture")

__all__ = ["QueueBasedProcessCapture", "ProcessInfo", "list_audio_processes"]

RATE = 48000
CHANNELS = 2


class ProcessInfo:
    """A process that owns an audio stream (read-only ``pid`` and ``name``)."""

    __slots__ = ("_pid", "_name")

    def __init__(self, pid: int, name: str) -> None:
        self._pid, self._name = pid, name

    @property
    def pid(self) -> int:
        return self._pid

    @property
    def name(self) -> str:
        """The executable's name (``"firefox"``; ``"firefox.exe"`` on Windows)."""
        return self._name

    def __repr__(self) -> str:
        return f"<ProcessInfo pid={self._pid} name='{self._name}'>"


def list_audio_processes() -> list[ProcessInfo]:
    """The processes that own an audio stream now. PyWAC listed every
    process it could open, most of which play nothing; a pid from here is
    one worth capturing. Raises RuntimeError when the server cannot be asked."""
    seen: dict[int, ProcessInfo] = {}
    for s in _compat.listed(_compat.use_backend(None)):
        seen.setdefault(s.pid, ProcessInfo(s.pid, s.name))
    return list(seen.values())


class _Queue:
    """The chunk queue and its counters, shared by a capture's owner and its
    thread. The thread holds this, not the owner, so a capture object that
    is dropped without stop() is collected (and its capture closed)."""

    def __init__(self, max_chunks: int) -> None:
        self.max = max_chunks
        self.items: collections.deque[dict[str, Any]] = collections.deque()
        self.cond = threading.Condition()
        self.capturing = False
        self.started_at = time.monotonic()
        self.reset()

    def reset(self) -> None:
        self.items.clear()
        self.total_frames = 0
        self.silent_frames = 0
        self.total_chunks = 0
        self.dropped = 0
        self.errors = 0
        self.reads = 0

    def feed(self, capture: Capture) -> None:
        """The capture thread: read each chunk as it comes and queue it."""
        try:
            while (chunk := capture.read_chunk()) is not None:
                data = samples(chunk)
                item = {"data": data, "silent": not data.any(), "timestamp": chunk.time_ns // 1000}
                with self.cond:
                    if len(self.items) >= self.max:
                        self.items.popleft()
                        self.dropped += 1
                    self.items.append(item)
                    self.total_chunks += 1
                    self.total_frames += chunk.frames
                    self.reads += 1
                    if item["silent"]:
                        self.silent_frames += chunk.frames
                    self.cond.notify_all()
        except Closed:
            pass
        except Error as e:  # server lost, target exited: the capture is over
            with self.cond:
                self.errors += 1
            _compat.failed("QueueBasedProcessCapture: the capture ended", e)
        with self.cond:
            self.capturing = False
            self.cond.notify_all()


class QueueBasedProcessCapture:
    """Capture one process (``start(pid)``) into a queue of at most
    ``queue_size`` chunks of ``set_chunk_size`` frames (480 = 10 ms by
    default); when the queue is full, the oldest chunk is dropped and
    counted (``get_metrics()["dropped_chunks"]``)."""

    def __init__(self, queue_size: int = 1000) -> None:
        if isinstance(queue_size, bool) or not isinstance(queue_size, int) or queue_size < 1:
            raise invalid(f"queue_size must be a positive int, got {queue_size!r}")
        self._q = _Queue(queue_size)
        self._chunk_size = 480
        self._capture: Optional[Capture] = None
        self._thread: Optional[threading.Thread] = None

    # ---- control ----

    def start(self, process_id: int) -> bool:
        """Start capturing process ``process_id`` and its children (pid 0:
        the whole system, with a warning). True; False with a warning when it
        is already capturing or the process cannot be captured (no such
        process, no audio server)."""
        if isinstance(process_id, bool) or not isinstance(process_id, int):
            raise TypeError(f"process_id must be an int, not {type(process_id).__name__}")
        what = f"QueueBasedProcessCapture.start({process_id})"
        if self._q.capturing:
            _compat.warn(f"{what}: already capturing")
            return False
        self._finish()
        if process_id == 0:
            _compat.pid_zero_means_system(what)
            target: dict[str, Any] = {"system": True}
        else:
            target = {"pid": process_id}
        chunk_ms = self._chunk_size * 1000 / RATE
        try:
            capture = Capture(rate=RATE, channels=CHANNELS, format="f32", chunk_ms=chunk_ms,
                              ring_ms=max(2000, int(4 * chunk_ms)), backend=_compat.use_backend(None), **target)
        except Error as e:
            _compat.failed(what, e)
            return False
        try:
            capture.start()
        except Error as e:
            capture.close()
            _compat.failed(what, e)
            return False
        q = self._q
        with q.cond:
            q.reset()
            q.started_at = time.monotonic()
            q.capturing = True
        self._capture = capture
        self._thread = threading.Thread(target=q.feed, args=(capture,), name="pywac-queue-capture", daemon=True)
        self._thread.start()
        return True

    def stop(self) -> None:
        """Stop capturing. Chunks already queued can still be popped."""
        capture = self._capture
        if capture is None:
            return
        try:
            capture.stop()
        except Error as e:
            _compat.failed("QueueBasedProcessCapture.stop()", e)
        self._finish()

    def _finish(self) -> None:
        capture, thread = self._capture, self._thread
        self._capture = self._thread = None
        if capture is not None and thread is not None:
            if capture.state == "running":
                capture.stop()
            thread.join()  # it queues what the capture still had, then ends
        if capture is not None:
            capture.close()

    def set_chunk_size(self, frames: int) -> None:
        """Frames per chunk (at 48 kHz); takes effect at the next start().
        While capturing it is ignored, with a warning (as PyWAC ignored it)."""
        if isinstance(frames, bool) or not isinstance(frames, int) or frames < 1:
            raise invalid(f"chunk size must be a positive number of frames, got {frames!r}")
        if self._q.capturing:
            _compat.warn("QueueBasedProcessCapture.set_chunk_size(): ignored while capturing; call it before start()")
            return
        self._chunk_size = frames

    # ---- popping ----

    def pop_chunks(self, max_chunks: int = 10, timeout_ms: int = 10) -> list[dict[str, Any]]:
        """Up to ``max_chunks`` chunks, oldest first, waiting up to
        ``timeout_ms`` for the first one; [] when none came."""
        q = self._q
        with q.cond:
            q.cond.wait_for(lambda: q.items or not q.capturing, max(timeout_ms, 0) / 1000)
            count = min(max(max_chunks, 0), len(q.items))
            return [q.items.popleft() for _ in range(count)]

    def pop_chunk(self, timeout_ms: int = 10) -> Optional[dict[str, Any]]:
        """The oldest chunk, waiting up to ``timeout_ms`` for one; None when none came."""
        chunks = self.pop_chunks(1, timeout_ms)
        return chunks[0] if chunks else None

    # ---- state ----

    def queue_size(self) -> int:
        """Chunks waiting in the queue."""
        with self._q.cond:
            return len(self._q.items)

    def is_capturing(self) -> bool:
        """True from start() until stop() or the end of the capture (the
        process tree exited, the server went away)."""
        return self._q.capturing

    def get_metrics(self) -> dict[str, Any]:
        """PyWAC's counters: ``capturing``, ``total_frames``,
        ``total_silent_frames``, ``capture_errors``, ``elapsed_seconds``,
        ``queue_size``, ``total_chunks``, ``dropped_chunks``, ``chunk_size``,
        ``event_driven`` (always True: WAC wakes the reader per chunk),
        ``event_signals`` (chunks read), ``timeouts`` (0: the reader never
        polls) and ``frames_per_second``; plus WAC's ``frames_lost`` (audio
        the capture itself dropped because the queue thread fell behind)."""
        capture, lost = self._capture, 0
        if capture is not None:
            try:
                lost = capture.stats.frames_lost
            except Closed:  # stopped meanwhile by another thread
                pass
        q = self._q
        with q.cond:
            elapsed = time.monotonic() - q.started_at
            metrics: dict[str, Any] = {
                "capturing": q.capturing, "total_frames": q.total_frames, "total_silent_frames": q.silent_frames,
                "capture_errors": q.errors, "elapsed_seconds": elapsed, "queue_size": len(q.items),
                "total_chunks": q.total_chunks, "dropped_chunks": q.dropped, "chunk_size": self._chunk_size,
                "event_driven": True, "event_signals": q.reads, "timeouts": 0, "frames_lost": lost,
            }
        if elapsed > 0:
            metrics["frames_per_second"] = metrics["total_frames"] / elapsed
        return metrics

    def __del__(self) -> None:
        # Dropped while capturing: closing the capture ends its thread (no
        # join here: a collection may run on that very thread).
        capture = getattr(self, "_capture", None)
        if capture is not None:
            capture.close()
