"""ProcessAudioSource and MicrophoneSource: pywac as a drop-in audio source
for real-time captioning (LiveCap's ``AudioSource`` contract)."""
from __future__ import annotations

from typing import Any, AsyncIterator, Iterator, Optional, TypeVar

from ._capture import Capture, _get_numpy, list_devices, list_sessions
from . import _wac
from ._errors import Closed, FormatError, invalid

_Source = TypeVar("_Source", bound="_CaptureSource")


class _CaptureSource:
    """The ``AudioSource`` contract over one :class:`Capture`; subclasses say
    what to capture (``_open``) and what can be captured (``list_devices``)."""

    def __init__(self, sample_rate: int, chunk_ms: Any, backend: str) -> None:
        if _get_numpy() is None:
            raise ImportError(f"pywac.{type(self).__name__} delivers numpy arrays: install numpy")
        if isinstance(sample_rate, bool) or not isinstance(sample_rate, int):
            raise TypeError(f"sample_rate must be an int, not {type(sample_rate).__name__}")
        if isinstance(chunk_ms, bool) or not isinstance(chunk_ms, (int, float)):
            raise TypeError(f"chunk_ms must be a number, not {type(chunk_ms).__name__}")
        if sample_rate <= 0:
            raise FormatError(_wac.ERR_FORMAT_UNSUPPORTED, f"rate {sample_rate} Hz: the rate must be a positive number of Hz")
        self._backend = backend
        self._sample_rate = sample_rate
        self._chunk_ms = chunk_ms
        self._chunk_size = int(sample_rate * chunk_ms / 1000)
        if self._chunk_size <= 0:
            raise invalid(f"chunk_ms {chunk_ms!r} at {sample_rate} Hz gives no samples per chunk")
        self._capture: Optional[Capture] = None

    def _open(self) -> Capture:
        raise NotImplementedError

    def _capture_args(self) -> dict[str, Any]:
        """The format every source delivers: mono float32 chunks of chunk_size."""
        return dict(rate=self._sample_rate, channels=1, format="f32",
                    chunk_ms=self._chunk_size * 1000 / self._sample_rate, backend=self._backend)

    @property
    def sample_rate(self) -> int:
        return self._sample_rate

    @property
    def chunk_ms(self) -> float:
        return self._chunk_ms

    @property
    def chunk_size(self) -> int:
        """Samples per chunk: ``sample_rate * chunk_ms / 1000``."""
        return self._chunk_size

    @property
    def is_active(self) -> bool:
        """True between ``start()`` and ``stop()`` while the stream runs."""
        cap = self._capture
        return cap is not None and not cap.closed and not cap.ended

    @property
    def capture(self) -> Optional[Capture]:
        """The underlying :class:`pywac.Capture` while started (for stats and events)."""
        return self._capture

    def start(self) -> None:
        """Start capturing (does nothing if already active)."""
        if self.is_active:
            return
        self.stop()
        capture = self._open()
        try:
            capture.start()
        except BaseException:
            capture.close()
            raise
        self._capture = capture

    def stop(self) -> None:
        """Stop capturing and release the capture; unread audio is dropped."""
        capture, self._capture = self._capture, None
        if capture is not None:
            capture.close()

    def _fit(self, chunk: Any) -> Any:
        np = _get_numpy()
        if len(chunk) < self._chunk_size:  # the stream's last chunk: pad to the contract's size
            chunk = np.concatenate([chunk, np.zeros(self._chunk_size - len(chunk), dtype=np.float32)])
        return chunk

    def read(self, timeout: Optional[float] = None) -> Optional[Any]:
        """The next chunk (float32 ndarray of exactly ``chunk_size`` samples),
        or None on timeout or when not active. ``timeout`` in seconds; None
        waits as long as it takes (the GIL is released meanwhile)."""
        capture = self._capture
        if capture is None or capture.closed:
            return None
        try:
            chunk = capture.read(timeout)
        except Closed:
            if self._capture is capture:
                raise
            return None  # stop() from another thread: not an error for the reader
        return None if chunk is None else self._fit(chunk)

    def __iter__(self) -> Iterator[Any]:
        while True:
            chunk = self.read()
            if chunk is None:
                return
            yield chunk

    async def _agen(self) -> AsyncIterator[Any]:
        while True:
            capture = self._capture
            if capture is None or capture.closed:
                return
            try:
                chunk = await capture.aread()
            except Closed:
                if self._capture is capture:
                    raise
                return
            if chunk is None:
                return
            yield self._fit(chunk)

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._agen()

    def __enter__(self: _Source) -> _Source:
        self.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    async def __aenter__(self: _Source) -> _Source:
        self.start()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        self.stop()


class ProcessAudioSource(_CaptureSource):
    """16 kHz (``sample_rate``) mono float32 chunks of one application's audio.

    ``pid`` (with its process tree) or ``name`` (an executable's basename,
    which may start later) selects the application; with neither, the whole
    system's output is captured. Chunks hold exactly :attr:`chunk_size`
    samples (``sample_rate * chunk_ms // 1000``) as float32 numpy arrays;
    numpy is required.

    ``start()`` opens and starts a capture (after ``stop()``, ``start()`` opens
    a new one); ``read(timeout)`` returns the next chunk or None (timeout, or
    not active); iteration (sync and async) yields chunks until ``stop()``.
    The async iterator is event-driven: it waits on the capture's descriptor
    with ``loop.add_reader`` - no threads, no sleeps.
    """

    def __init__(self, pid: Optional[int] = None, name: Optional[str] = None, sample_rate: int = 16000,
                 chunk_ms: int = 100, *, tree: bool = True, backend: str = "auto") -> None:
        super().__init__(sample_rate, chunk_ms, backend)
        if pid is not None and name is not None:
            raise invalid("conflicting targets: pid and name; give one (or neither, for the whole system)")
        self._pid, self._name, self._tree = pid, name, tree

    def _open(self) -> Capture:
        return Capture(self._pid, self._name, system=self._pid is None and self._name is None,
                       tree=self._tree, **self._capture_args())

    @classmethod
    def list_devices(cls, backend: str = "auto") -> list[dict[str, Any]]:
        """The applications that can be captured now: one dict per process
        playing audio, ``{"id": pid, "pid": pid, "name": executable,
        "app": application name, "streams": n, "playing": bool}``. Pass
        ``id`` as ``pid=`` (or ``name`` as ``name=``)."""
        return [{"id": s.pid, "pid": s.pid, "name": s.name, "app": s.app, "streams": s.streams,
                 "playing": s.playing} for s in list_sessions(backend)]

    def __repr__(self) -> str:
        target = f"pid={self._pid}" if self._pid is not None else (
            f"name={self._name!r}" if self._name is not None else "system")
        return f"<pywac.ProcessAudioSource {target} {self._sample_rate} Hz chunk {self._chunk_size}>"


class MicrophoneSource(_CaptureSource):
    """16 kHz (``sample_rate``) mono float32 chunks of an input device: the
    same contract as :class:`ProcessAudioSource` (start/stop, read, sync and
    async iteration, context managers, ``list_devices``), for a microphone.

    ``device`` is a name from :meth:`list_devices` (an input, or an output's
    monitor), or ``"default"``: the default input, followed when the user
    picks another one. An unknown name raises :class:`pywac.TargetNotFound`
    at ``start()``; a named device that goes away ends the stream (iteration
    raises :class:`pywac.TargetExited`).
    """

    def __init__(self, device: str = "default", sample_rate: int = 16000, chunk_ms: int = 100, *,
                 backend: str = "auto") -> None:
        super().__init__(sample_rate, chunk_ms, backend)
        if not isinstance(device, str):
            raise TypeError(f"device must be a str (a device name, or \"default\"), not {type(device).__name__}")
        if not device:
            raise invalid('device must not be empty; "default" is the default input')
        self._device = device

    @property
    def device(self) -> str:
        """The device captured: its name, or ``"default"``."""
        return self._device

    def _open(self) -> Capture:
        return Capture(device=self._device, **self._capture_args())

    @classmethod
    def list_devices(cls, backend: str = "auto") -> list[dict[str, Any]]:
        """The devices that can be captured now: one dict per input device or
        output monitor, ``{"id": name, "name": name, "description": text,
        "monitor": bool, "default": bool, "rate": Hz, "channels": n}`` (rate
        and channels 0 when unknown). Pass ``id`` as ``device=``."""
        return [{"id": d.name, "name": d.name, "description": d.description, "monitor": d.monitor,
                 "default": d.default, "rate": d.rate, "channels": d.channels} for d in list_devices(backend)]

    def __repr__(self) -> str:
        return f"<pywac.MicrophoneSource device={self._device!r} {self._sample_rate} Hz chunk {self._chunk_size}>"
