"""PyWAC 1.0's low-level ``pywac.core`` (a native module there): session
enumeration with per-process volume, and a system-wide loopback to poll.

Here it is Python over WAC: ``SessionEnumerator`` lists WAC's sessions and
sets volumes through :func:`pywac.set_volume`; ``SimpleLoopback`` is a WAC
system capture at 48 kHz stereo float32. Failures that PyWAC reported as
False come with a :class:`pywac.CompatibilityWarning`.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Optional

from . import _compat
from ._capture import Capture, samples, set_mute, set_volume
from ._compat import require_numpy
from ._errors import Error

np = require_numpy("pywac.core")

__all__ = ["SessionState", "AudioSessionInfo", "SessionEnumerator", "SimpleLoopback"]


class SessionState(enum.IntEnum):
    """A session's state; compares equal to PyWAC's ints (0, 1, 2)."""

    Inactive = 0
    Active = 1
    Expired = 2


@dataclass(frozen=True)
class AudioSessionInfo:
    """One application with an audio stream (read-only). ``volume`` is
    0.0-1.0, or None when the backend cannot tell; ``state`` is Active while
    it plays."""

    process_id: int
    process_name: str
    display_name: str
    volume: Optional[float]
    muted: bool
    state: SessionState


class SessionEnumerator:
    """Lists the applications that play audio and sets their volume by pid."""

    def __init__(self) -> None:
        self._backend = _compat.use_backend(None)

    def enumerate_sessions(self) -> list[AudioSessionInfo]:
        """Every application with an audio stream (pid 0 left out, as in
        PyWAC). Raises RuntimeError when the server cannot be asked."""
        return [AudioSessionInfo(s.pid, s.name, s.app,
                                 s.volume if s.volume is not None and s.volume >= 0 else None, bool(s.muted),
                                 SessionState.Active if s.playing else SessionState.Inactive)
                for s in _compat.listed(self._backend)]

    def set_session_volume(self, process_id: int, volume: float) -> bool:
        """Set the volume (0.0-1.0) of process ``process_id``'s streams (that
        process only). False with a warning when it has none or the value is
        out of range."""
        try:
            set_volume(volume, pid=process_id, tree=False, backend=self._backend)
        except Error as e:
            _compat.failed(f"set_session_volume({process_id!r}, {volume!r})", e)
            return False
        return True

    def set_session_mute(self, process_id: int, mute: bool) -> bool:
        """Mute or unmute process ``process_id``'s streams. A WAC addition:
        PyWAC 1.0 had no mute here (its SessionManager looked for this method
        and fell back to volume 0)."""
        try:
            set_mute(bool(mute), pid=process_id, tree=False, backend=self._backend)
        except Error as e:
            _compat.failed(f"set_session_mute({process_id!r}, {mute!r})", e)
            return False
        return True


class SimpleLoopback:
    """The whole system's output, to poll: ``start()``, then ``get_buffer()``
    now and then for what arrived since, ``stop()``.

    48 kHz stereo float32, silence included (PyWAC skipped packets WASAPI
    flagged silent). The capture buffers 10 s between polls; audio that did
    not fit is lost and reported by a :class:`pywac.CompatibilityWarning`
    from the next ``get_buffer()``.
    """

    RATE = 48000
    CHANNELS = 2

    def __init__(self) -> None:
        self._capture: Optional[Capture] = None
        self._lost = 0

    def start(self) -> bool:
        """Start capturing. True; False with a warning if it is already
        running or cannot start."""
        if self._capture is not None:
            _compat.warn("SimpleLoopback.start(): already started")
            return False
        try:
            capture = Capture(system=True, rate=self.RATE, channels=self.CHANNELS, format="f32", chunk_ms=10,
                              ring_ms=10000, backend=_compat.use_backend(None))
        except Error as e:
            _compat.failed("SimpleLoopback.start()", e)
            return False
        try:
            capture.start()
        except Error as e:
            capture.close()
            _compat.failed("SimpleLoopback.start()", e)
            return False
        self._capture, self._lost = capture, 0
        return True

    def stop(self) -> None:
        """Stop capturing; audio not fetched yet is dropped."""
        capture, self._capture = self._capture, None
        if capture is not None:
            capture.close()

    def get_buffer(self) -> Any:
        """What was captured since the last call: a 1-D float32 array of
        interleaved samples (L0 R0 L1 R1 ...); empty when not started."""
        capture = self._capture
        if capture is None:
            return np.zeros(0, dtype=np.float32)
        parts: list[Any] = []
        try:
            while (chunk := capture.read_chunk(timeout=0)) is not None:
                parts.append(samples(chunk).reshape(-1))
        except Error as e:
            _compat.failed("SimpleLoopback.get_buffer(): the capture ended", e)
            self.stop()
        if not capture.closed:
            lost = capture.stats.frames_lost
            if lost > self._lost:
                _compat.warn(f"SimpleLoopback.get_buffer(): {lost - self._lost} frames were lost: "
                             "get_buffer() was not called for longer than the 10 s buffer")
                self._lost = lost
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
