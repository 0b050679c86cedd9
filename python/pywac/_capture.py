"""Capture, list_sessions, list_devices and the process-wide shared contexts."""
from __future__ import annotations

import asyncio
import atexit
import collections
import math
import sys
import threading
import weakref
from typing import Any, AsyncIterator, Callable, Iterator, NamedTuple, Optional, Union

from . import _wac
from ._errors import Disconnected, FormatError, invalid

__all__ = ["Capture", "Chunk", "Device", "Event", "Session", "Stats", "Volume", "list_sessions", "list_devices",
           "backends", "get_volume", "set_volume", "set_mute"]

Chunk = _wac.Chunk


class Session(NamedTuple):
    """One process that plays audio now."""

    pid: int
    """Process id (0 if the backend cannot tell)."""
    name: str
    """Executable basename, e.g. ``"firefox"``."""
    app: str
    """Application name the stream announced."""
    streams: int
    """Number of output streams it owns."""
    playing: bool
    """True if at least one of its streams runs now."""
    volume: Optional[float] = None
    """Volume of its output streams, a linear amplitude factor 0.0-1.0 (0.5 is
    -6 dB; the loudest stream's loudest channel); None when the backend cannot
    tell."""
    muted: bool = False
    """True when every one of its output streams is muted."""
    app_id: str = ""
    """Linux: the Flatpak application id of a sandboxed process (e.g.
    ``"org.mozilla.firefox"``), which ``Capture(name=...)`` also takes; ``""``
    when it has none."""


class Device(NamedTuple):
    """An input device, or an output's monitor, that ``Capture(device=...)`` takes."""

    name: str
    """What ``device=`` takes. PipeWire and PulseAudio: the node or source name
    (an output's monitor is ``"SINK.monitor"``); WASAPI: the endpoint id."""
    description: str
    """Human-readable, e.g. ``"Built-in Audio Analog Stereo"``."""
    monitor: bool
    """True for an output's monitor: what that output plays."""
    default: bool
    """The default input (for a monitor: the default output's)."""
    rate: int
    """Its native rate in Hz, 0 if unknown."""
    channels: int
    """Its native channels, 0 if unknown."""


class Volume(NamedTuple):
    """The volume of an application's output streams (:func:`get_volume`)."""

    level: float
    """Linear amplitude factor 0.0-1.0 (0.5 is -6.02 dB): the loudest channel of
    the loudest matching stream. A muted application keeps its level."""
    muted: bool
    """True when every matching stream is muted."""
    streams: int
    """How many output streams matched."""


class Event(NamedTuple):
    """An event of a capture, in order with the audio."""

    type: str
    """``"started"``, ``"target-attached"``, ``"overrun"``, ``"ended"``, ... (libwac's event names)."""
    position: int
    """Stream position (frames since start) where it happened."""
    time_ns: int
    """Monotonic time of that position, in ns."""
    frames: int
    """Overrun: frames lost; discontinuity: frames skipped; else 0."""
    pid: int
    """Target and stream events: the process; else 0."""
    stream_id: int
    """Stream events: the backend's stream id; else 0."""
    error: int
    """Server-lost, error, ended: a libwac error code (0 = stopped); else 0."""
    detail: str
    """Human-readable detail, may be empty."""


class Stats(NamedTuple):
    """Counters of a capture (each exact)."""

    frames_delivered: int
    frames_lost: int
    """Dropped because the reader fell behind; each loss is also an ``overrun`` event."""
    frames_silence: int
    """Silence WAC filled in where the engine delivered nothing (see wac.h): not the
    silent audio an engine delivers, so 0 on PipeWire while its graph runs."""
    frames_skipped: int
    overruns: int
    discontinuities: int
    ring_fill: int
    ring_capacity: int
    streams: int
    events_dropped: int
    frames_discarded: int
    """Frames of one of the target's streams dropped to keep its streams on one
    timeline (PulseAudio backend only; see wac.h)."""
    timestamps_rejected: int
    """Chunks whose engine time stamp was on no clock of this machine's (over
    1 s ahead of now or 10 min behind the stream), dated by their arrival
    instead; see wac.h."""


# ---- one context per backend, shared by every capture --------------------------

# A closed capture stays in its libwac context until the context closes, but
# only as a handle of a few hundred bytes (libwac frees its buffers at close),
# so one context serves a program that opens captures for hours: it is replaced
# only when it has closed (its server went away).

_lock = threading.Lock()
_shared: dict[str, _wac.Context] = {}
_every_context: "weakref.WeakSet[_wac.Context]" = weakref.WeakSet()


def _context(backend: str) -> _wac.Context:
    if not isinstance(backend, str):
        raise TypeError(f"backend must be a str, not {type(backend).__name__}")
    with _lock:
        ctx = _shared.get(backend)
        if ctx is not None and ctx.closed:
            del _shared[backend]
            ctx = None
        if ctx is None:
            ctx = _wac.Context(backend)
            _shared[backend] = ctx
            _every_context.add(ctx)
        return ctx


def _forget(backend: str, ctx: _wac.Context) -> None:
    with _lock:
        if _shared.get(backend) is ctx:
            del _shared[backend]


def _shutdown() -> None:
    """At interpreter exit: close every capture and context while Python is
    whole, then keep libwac's threads out of Python for good."""
    with _lock:
        _shared.clear()
        contexts = list(_every_context)
    for ctx in contexts:
        ctx.close()
    _wac._shutdown()


atexit.register(_shutdown)


def backends() -> list[str]:
    """Names of the backends built into this pywac (``"pipewire"``, ..., ``"dummy"``)."""
    return _wac.backends()


def list_sessions(backend: str = "auto") -> list[Session]:
    """The processes that play audio now, as :class:`Session` objects."""
    return [Session(*s) for s in _context(backend).list_sessions()]


def list_devices(backend: str = "auto") -> list[Device]:
    """The input devices (microphones, line-ins) and the outputs' monitors,
    as :class:`Device` objects; pass a ``name`` to ``Capture(device=...)``."""
    return [Device(*d) for d in _context(backend).list_devices()]


def _volume_target(pid: Any, name: Any, tree: Any) -> tuple[int, int, Optional[str], bool]:
    kind, target_pid, target_name = _target(pid, name, False)
    if not isinstance(tree, bool):
        raise TypeError(f"tree must be a bool, not {type(tree).__name__}")
    return kind, target_pid, target_name, tree


def get_volume(pid: Optional[int] = None, *, name: Optional[str] = None, tree: bool = True,
               backend: str = "auto") -> Volume:
    """The volume and mute flag of the output streams of process ``pid`` (with
    its process tree unless ``tree=False``) or of every process named ``name``.
    Raises :class:`pywac.TargetNotFound` when none of them plays through the
    audio server now."""
    target = _volume_target(pid, name, tree)
    return Volume(*_context(backend).get_volume(*target))


def set_volume(level: float, *, pid: Optional[int] = None, name: Optional[str] = None, tree: bool = True,
               backend: str = "auto") -> None:
    """Set the volume of the target's output streams (every channel) to
    ``level``, a linear amplitude factor 0.0-1.0 (0.5 is -6 dB). What the user
    hears and what a capture of the application or of the system gets both
    change (see libwac's wac.h for each backend); the mute flag is kept.
    Raises :class:`pywac.InvalidArgument` for a level outside 0-1 and
    :class:`pywac.TargetNotFound` when the target plays nothing now."""
    if isinstance(level, bool) or not isinstance(level, (int, float)):
        raise TypeError(f"level must be a number from 0.0 to 1.0, not {type(level).__name__}")
    if not 0.0 <= level <= 1.0:
        raise invalid(f"volume level {level!r} is outside 0.0-1.0")
    target = _volume_target(pid, name, tree)
    _context(backend).set_volume(*target, float(level))


def set_mute(muted: bool, *, pid: Optional[int] = None, name: Optional[str] = None, tree: bool = True,
             backend: str = "auto") -> None:
    """Mute (``True``) or unmute (``False``) the target's output streams. The
    volume level is kept, so unmuting restores it. Raises
    :class:`pywac.TargetNotFound` when the target plays nothing now."""
    if not isinstance(muted, bool):
        raise TypeError(f"muted must be a bool, not {type(muted).__name__}")
    target = _volume_target(pid, name, tree)
    _context(backend).set_mute(*target, muted)


# ---- samples: numpy when it is there, memoryview otherwise ------------------------

_numpy: Any = None
_numpy_checked = False


def _get_numpy() -> Any:
    global _numpy, _numpy_checked
    if not _numpy_checked:
        try:
            import numpy
        except ImportError:
            numpy = None
        _numpy, _numpy_checked = numpy, True
    return _numpy


def has_numpy() -> bool:
    """True if chunks come out as numpy arrays (numpy was importable)."""
    return _get_numpy() is not None


Samples = Any  # numpy.ndarray when numpy is present, memoryview otherwise


def samples(chunk: Chunk) -> Samples:
    """The samples of a chunk without copying: a numpy array (float32 or int16;
    shape ``(frames,)`` for mono, ``(frames, channels)`` otherwise) viewing the
    chunk's buffer, or a memoryview of it when numpy is not installed."""
    np = _get_numpy()
    if np is None:
        return memoryview(chunk)
    array = np.frombuffer(chunk, dtype=np.float32 if chunk.format == "f32" else np.int16)
    if chunk.channels > 1:
        array = array.reshape(-1, chunk.channels)
    return array


# ---- argument checks --------------------------------------------------------------


def _check_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    return value


def _timeout_ms(timeout: Optional[float]) -> int:
    if timeout is None:
        return -1
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a number of seconds or None, not {type(timeout).__name__}")
    if math.isnan(timeout) or timeout < 0:
        raise ValueError(f"timeout must be >= 0 seconds or None, got {timeout!r}")
    return min(math.ceil(timeout * 1000), 2**31 - 1)


_FORMATS = {"f32": _wac.SAMPLE_F32, "float32": _wac.SAMPLE_F32, "s16": _wac.SAMPLE_S16, "int16": _wac.SAMPLE_S16}


def _target(pid: Any, name: Any, system: Any, device: Any = None) -> tuple[int, int, Optional[str]]:
    if not isinstance(system, bool):
        raise TypeError(f"system must be a bool, not {type(system).__name__}")
    given = [what for what, on in (("pid", pid is not None), ("name", name is not None), ("system=True", system),
                                   ("device", device is not None)) if on]
    if len(given) > 1:
        raise invalid(f"conflicting targets: {' and '.join(given)}; "
                      "give exactly one of pid=, name=, system=True or device=")
    if not given:
        raise invalid("no target: give pid=, name=, system=True or device=")
    if device is not None:
        if not isinstance(device, str):
            raise TypeError(f"device must be a str (a device name, or \"default\"), not {type(device).__name__}")
        if not device:
            raise invalid('device must not be empty; "default" is the default input')
        # libwac takes NULL and "default" alike; NULL cannot be mistaken for a device's name.
        return _wac.TARGET_DEVICE, 0, None if device == "default" else device
    if pid is not None:
        _check_int(pid, "pid")
        if pid <= 0 or pid > 0xFFFFFFFF:
            raise invalid(f"pid must be a positive process id, got {pid}")
        return _wac.TARGET_PID, pid, None
    if name is not None:
        if not isinstance(name, str):
            raise TypeError(f"name must be a str (an executable's basename), not {type(name).__name__}")
        if not name:
            raise invalid("name must not be empty")
        return _wac.TARGET_NAME, 0, name
    return _wac.TARGET_SYSTEM, 0, None


class Capture:
    """The audio one application plays (or everything except it, the whole
    system, or an input device), as a continuous stream of chunks.

    Exactly one target: ``pid`` (with its process tree unless ``tree=False``),
    ``name`` (an executable's basename; it may start later and restart),
    ``system=True``, or ``device``: an input device or an output's monitor by
    its name from :func:`list_devices`, or ``"default"`` for the default input
    (followed when the user picks another one; ``device=None``, the default,
    means no device target). A named device that goes away ends the capture
    (:class:`pywac.TargetExited`). ``exclude=True`` captures everything except
    the target (pid or name only).

    The stream is delivered as ``rate`` Hz, ``channels`` channels, ``format``
    (``"f32"`` or ``"s16"``), in chunks of ``chunk_ms`` ms; the ring buffers
    ``ring_ms`` ms for a slow reader. With ``fill_silence`` (default), silence
    is delivered while the target plays nothing, so the timeline is continuous.

    Consume it in one of three ways:

    - ``read(timeout)`` / ``for chunk in capture`` (blocking; the GIL is released
      while waiting);
    - ``async for chunk in capture`` (event-driven via ``loop.add_reader`` on
      :meth:`fileno`);
    - ``callback=fn``: ``fn(chunk)`` is called on the context's dispatch thread
      (never the audio thread; it takes the GIL there). If ``fn`` raises, the
      capture is stopped, further chunks are dropped, and the exception is
      re-raised - once - by the next call of :meth:`read`, :meth:`stop` or
      :meth:`close` (including the ``close`` of a ``with`` block).

    Chunks are numpy ``float32``/``int16`` arrays viewing a buffer the module
    owns (zero copy; they stay valid as long as you keep them), or memoryviews
    when numpy is not installed. Overruns never raise: see :meth:`events` and
    :attr:`stats`.

    All captures of one ``backend`` share one connection to the audio server
    (a process-wide context opened on first use).
    """

    def __init__(
        self,
        pid: Optional[int] = None,
        name: Optional[str] = None,
        *,
        tree: bool = True,
        exclude: bool = False,
        system: bool = False,
        device: Optional[str] = None,
        rate: int = 16000,
        channels: int = 1,
        format: str = "f32",
        chunk_ms: Union[int, float] = 100,
        ring_ms: int = 2000,
        fill_silence: bool = True,
        callback: Optional[Callable[[Samples], Any]] = None,
        backend: str = "auto",
    ) -> None:
        kind, target_pid, target_name = _target(pid, name, system, device)
        for value, what in ((tree, "tree"), (exclude, "exclude"), (fill_silence, "fill_silence")):
            if not isinstance(value, bool):
                raise TypeError(f"{what} must be a bool, not {type(value).__name__}")
        _check_int(rate, "rate")
        if rate <= 0 or rate > 0xFFFFFFFF:
            raise FormatError(_wac.ERR_FORMAT_UNSUPPORTED, f"rate {rate} Hz: the rate must be a positive number of Hz")
        _check_int(channels, "channels")
        if channels <= 0 or channels > 0xFFFFFFFF:
            raise FormatError(_wac.ERR_FORMAT_UNSUPPORTED, f"{channels} channels: at least 1")
        if not isinstance(format, str):
            raise TypeError(f"format must be a str ('f32' or 's16'), not {type(format).__name__}")
        if format not in _FORMATS:
            raise FormatError(_wac.ERR_FORMAT_UNSUPPORTED, f"format {format!r}: use 'f32' or 's16'")
        if isinstance(chunk_ms, bool) or not isinstance(chunk_ms, (int, float)):
            raise TypeError(f"chunk_ms must be a number, not {type(chunk_ms).__name__}")
        if not chunk_ms > 0:
            raise invalid(f"chunk_ms must be a positive number of ms, got {chunk_ms!r}")
        # At least one frame; libwac itself says so if the rate is out of range.
        chunk_frames = min(max(1, round(rate * chunk_ms / 1000)), 0xFFFFFFFF)
        _check_int(ring_ms, "ring_ms")
        if ring_ms <= 0 or ring_ms > 0xFFFFFFFF:
            raise invalid(f"ring_ms must be a positive number of ms, got {ring_ms}")
        trampoline = None
        if callback is not None:
            if not callable(callback):
                raise TypeError(f"callback must be callable, not {type(callback).__name__}")

            def trampoline(chunk: Chunk, _user: Callable[[Samples], Any] = callback) -> None:
                _user(samples(chunk))

        self._taker: Optional[_AsyncTaker] = None
        for attempt in (1, 2):
            self._ctx = _context(backend)
            try:
                self._cap = _wac.Capture(
                    self._ctx, kind, target_pid, target_name, tree, exclude,
                    rate=rate, channels=channels, sample=_FORMATS[format], chunk_frames=chunk_frames,
                    ring_ms=ring_ms, fill_silence=fill_silence, callback=trampoline)
                break
            except Disconnected:
                # The shared connection died (server restarted): forget it and
                # try once on a new one.
                _forget(backend, self._ctx)
                if attempt == 2:
                    raise

    # ---- lifecycle ----

    def start(self) -> None:
        """Start the stream (a capture runs once: start, stop, close)."""
        self._cap.start()

    def stop(self) -> None:
        """Stop the stream. Audio already captured stays readable; then reads
        return None (iteration ends). Raises a pending callback exception."""
        self._cap.stop()

    def close(self) -> None:
        """Close the capture and free its buffers; unread audio is discarded. A
        reader blocked in another thread gets :class:`pywac.Closed`.
        Idempotent. Raises a pending callback exception (after closing)."""
        self._detach_taker()
        self._cap.close()

    def _detach_taker(self) -> None:
        taker, self._taker = self._taker, None
        if taker is not None:
            taker.detach()

    def __enter__(self) -> "Capture":
        if self._cap.state == "open":
            self._cap.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    async def __aenter__(self) -> "Capture":
        return self.__enter__()

    async def __aexit__(self, *exc_info: Any) -> None:
        self.close()

    # ---- reading ----

    def _take(self, timeout_ms: int) -> Optional[Chunk]:
        """The next chunk: one an ``async for`` already took off the ring
        (see :class:`_AsyncTaker`) first, so every style reads in order."""
        taker = self._taker
        if taker is not None and taker.ready:
            return taker.pop()
        return self._cap.read(timeout_ms)

    def read(self, timeout: Optional[float] = None) -> Optional[Samples]:
        """One chunk of ``chunk_frames`` frames, waiting up to ``timeout``
        seconds (None: as long as it takes). The GIL is released while
        waiting; a signal handler that raises (Ctrl-C: KeyboardInterrupt) ends
        the wait, others let it resume.

        Returns None on timeout, and at the end of a stream that was stopped
        (then :attr:`ended` is True). The last chunk of a stream may be shorter.
        When the stream ended because of an error (server lost, ...), raises
        that error, e.g. :class:`pywac.Disconnected`.
        """
        chunk = self._take(_timeout_ms(timeout))
        return None if chunk is None else samples(chunk)

    def read_chunk(self, timeout: Optional[float] = None) -> Optional[Chunk]:
        """As :meth:`read`, but the :class:`Chunk` itself: a buffer with its
        ``position``, ``time_ns`` and ``flags``."""
        return self._take(_timeout_ms(timeout))

    def fileno(self) -> int:
        """A descriptor that is readable when a chunk, an event or the end of
        the stream waits (for select/poll/asyncio). Notifications coalesce:
        on readiness, read with ``timeout=0`` until it returns None."""
        return self._cap.fileno()

    def events(self) -> list[Event]:
        """The events since the last call (started, target attached, stream
        added, overrun, ..., ended), in order with the audio read so far."""
        return [Event(*e) for e in self._cap.events()]

    @property
    def stats(self) -> Stats:
        """The capture's counters now."""
        return Stats(*self._cap.stats())

    def __iter__(self) -> Iterator[Samples]:
        """Chunks until the stream ends (starts the capture if needed)."""
        if self._cap.state == "open":
            self._cap.start()
        while True:
            chunk = self._take(-1)
            if chunk is None:
                return
            yield samples(chunk)

    def __aiter__(self) -> AsyncIterator[Samples]:
        if self._cap.state == "open":
            self._cap.start()
        return self

    async def __anext__(self) -> Samples:
        chunk = await self.aread_chunk()
        if chunk is None:
            raise StopAsyncIteration
        return samples(chunk)

    async def aread_chunk(self) -> Optional[Chunk]:
        """The next chunk, awaited without threads or polling: the descriptor
        is watched by the running loop (``loop.add_reader``, registered once
        and kept while chunks are awaited). None at the end of a stopped
        stream."""
        if sys.platform != "win32":
            loop = asyncio.get_running_loop()
            taker = self._taker
            if taker is None or taker.loop is not loop:
                if taker is not None:
                    taker.detach()
                taker = self._taker = _AsyncTaker(self._cap, loop)
            return await taker.next()
        while True:
            chunk = self._take(0)
            if chunk is not None or self._cap.ended:
                return chunk
            await _ready(self._cap)

    async def aread(self) -> Optional[Samples]:
        """As :meth:`read` without a timeout, for asyncio (use
        ``asyncio.wait_for`` for one)."""
        chunk = await self.aread_chunk()
        return None if chunk is None else samples(chunk)

    # ---- facts ----

    @property
    def rate(self) -> int:
        """Delivered rate, Hz."""
        return self._cap.rate

    @property
    def channels(self) -> int:
        """Delivered channels."""
        return self._cap.channels

    @property
    def format(self) -> str:
        """Delivered sample format: ``"f32"`` or ``"s16"``."""
        return self._cap.format

    @property
    def chunk_frames(self) -> int:
        """Frames per chunk."""
        return self._cap.chunk_frames

    @property
    def state(self) -> str:
        """``"open"``, ``"running"``, ``"ended"`` or ``"closed"``."""
        return self._cap.state

    @property
    def ended(self) -> bool:
        """True once a read has met the end of the stream."""
        return self._cap.ended

    @property
    def closed(self) -> bool:
        """True once closed (by :meth:`close`, or with its context at exit)."""
        return self._cap.closed

    @property
    def backend(self) -> str:
        """The backend in use, e.g. ``"pipewire"``."""
        return self._ctx.backend

    def __repr__(self) -> str:
        return (f"<pywac.Capture {self._cap.state} {self._cap.rate} Hz {self._cap.channels} ch "
                f"{self._cap.format} chunk {self._cap.chunk_frames}>")


class _AsyncTaker:
    """Chunks for ``await`` on a selector loop (POSIX), with the capture's
    descriptor registered once rather than per chunk.

    The descriptor is readable while a chunk, an event or the end waits; a
    read that leaves none of them waiting resets it. So the loop's callback
    reads one chunk and wakes the awaiting task; when more wait, the
    descriptor is still readable and the callback runs again at the loop's
    next turn. Registering and unregistering around every
    chunk (two ``epoll_ctl`` and a new future each) cost ~200 µs per chunk
    (bench/FINDINGS.md); now a chunk costs one wake-up of the loop. When
    ``LIMIT`` chunks wait untaken (the consumer is busy or gone), the
    descriptor is unregistered and the ring holds the rest, so a consumer
    that falls behind still meets the ring's overrun accounting, not a list
    that grows. Chunks taken and not yet awaited are handed to whichever read
    comes next (:meth:`Capture._take`), in order."""

    LIMIT = 4

    def __init__(self, cap: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.cap = cap
        self.loop = loop
        self.fd = cap.fileno()
        self.chunks: collections.deque = collections.deque()
        self.error: Optional[BaseException] = None
        self.waiter: Optional[asyncio.Future] = None
        self.registered = False

    @property
    def ready(self) -> bool:
        return bool(self.chunks) or self.error is not None

    def pop(self) -> Optional[Chunk]:
        if self.chunks:
            return self.chunks.popleft()
        error, self.error = self.error, None
        if error is not None:
            raise error
        return None

    def register(self) -> None:
        if not self.registered:
            self.loop.add_reader(self.fd, self.on_readable)
            self.registered = True

    def detach(self) -> None:
        if self.registered:
            self.registered = False
            try:
                self.loop.remove_reader(self.fd)
            except (ValueError, OSError, RuntimeError):
                pass  # the loop or the descriptor is gone already
        if self.waiter is not None and not self.waiter.done():
            self.waiter.cancel()

    def on_readable(self) -> None:
        try:
            chunk = self.cap.read(0)
            if chunk is not None:
                self.chunks.append(chunk)
                if len(self.chunks) >= self.LIMIT:
                    self.detach_reader()  # the ring holds the rest
            elif self.cap.ended:
                self.detach_reader()
        except BaseException as e:  # the stream's error: for the next read
            self.error = e
            self.detach_reader()
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def detach_reader(self) -> None:
        if self.registered:
            self.registered = False
            self.loop.remove_reader(self.fd)

    async def next(self) -> Optional[Chunk]:
        while True:
            if self.ready:
                return self.pop()
            if not self.registered:
                # What waits already, before the loop is asked to watch.
                chunk = self.cap.read(0)
                if chunk is not None or self.cap.ended:
                    return chunk
                self.register()
            self.waiter = self.loop.create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None


async def _ready(cap) -> None:
    """Wait until the capture has a chunk, an event or its end waiting,
    without a thread: the descriptor on the loop's selector (POSIX), or the
    event HANDLE on the Proactor loop, asyncio's default on Windows (it
    waits on handles with RegisterWaitForSingleObject). A selector loop on
    Windows cannot wait on a handle: one executor thread waits there."""
    if sys.platform != "win32":
        await _readable(cap.fileno())
        return
    loop = asyncio.get_running_loop()
    handle = cap.event_handle()
    proactor = getattr(loop, "_proactor", None)
    if proactor is not None and hasattr(proactor, "wait_for_handle"):
        await proactor.wait_for_handle(handle)
        return
    await loop.run_in_executor(None, _wait_handle, handle)


def _wait_handle(handle: int) -> None:
    import ctypes

    # 200 ms at a time: a capture closed meanwhile is noticed by the caller.
    ctypes.windll.kernel32.WaitForSingleObject(ctypes.c_void_p(handle), 200)


async def _readable(fd: int) -> None:
    """Wait until ``fd`` is readable, on the running loop's selector."""
    loop = asyncio.get_running_loop()
    future = loop.create_future()

    def ready() -> None:
        if not future.done():
            future.set_result(None)

    loop.add_reader(fd, ready)
    try:
        await future
    finally:
        loop.remove_reader(fd)
