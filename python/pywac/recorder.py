"""PyWAC 1.0's ``AudioRecorder`` and ``AsyncAudioRecorder``: record the
whole system's output, started and stopped by the program.

PyWAC read WASAPI's classic loopback in a polling thread and only labelled
the result with ``sample_rate``/``channels``; here a WAC system capture
delivers exactly that rate and channel count (the engine converts), and a
thread blocked in the capture's read collects it - no polling.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any, Callable, Optional

from . import _compat, _wac
from ._capture import Capture, samples
from ._compat import require_numpy
from ._errors import Closed, Error, Timeout, invalid
from .audio_data import AudioData

np = require_numpy("pywac.recorder")

__all__ = ["AudioRecorder", "AsyncAudioRecorder"]

_STALL_S = 5.0  # a system capture delivers silence too: no chunk this long means the engine is stuck


class AudioRecorder:
    """Records everything played on the default output as float32
    ``sample_rate`` Hz, ``channels``-channel :class:`AudioData`."""

    def __init__(self, sample_rate: int = 48000, channels: int = 2) -> None:
        self.sample_rate = sample_rate
        self.channels = channels
        self._lock = threading.Lock()
        self._capture: Optional[Capture] = None
        self._thread: Optional[threading.Thread] = None
        self._full = threading.Event()
        self._reset()

    def _reset(self) -> None:
        self._parts: list[Any] = []
        self._frames = 0
        self._limit: Optional[int] = None
        self._started_at: Optional[float] = None
        self._recording = False
        self._error: Optional[Error] = None
        self._full.clear()

    # ---- control ----

    def start(self, duration: Optional[float] = None) -> bool:
        """Start recording; with ``duration`` (seconds), recording ends by
        itself after exactly that much audio. Returns True; raises
        RuntimeError if already recording or the capture cannot start."""
        if self._capture is not None:
            if self._recording:
                raise RuntimeError("Recording is already in progress")
            self.stop()  # a recording that reached its duration: start over, as PyWAC did
        limit = None
        if duration:  # None or 0: until stop(), as in PyWAC
            if isinstance(duration, bool) or not isinstance(duration, (int, float)) or duration < 0:
                raise invalid(f"duration must be a positive number of seconds or None, got {duration!r}")
            limit = max(1, round(duration * self.sample_rate))
        try:
            capture = Capture(system=True, rate=self.sample_rate, channels=self.channels, format="f32",
                              chunk_ms=10, backend=_compat.use_backend(None))
        except Error as e:
            raise RuntimeError(f"Failed to start recording: {e}") from e
        try:
            capture.start()
        except Error as e:
            capture.close()
            raise RuntimeError(f"Failed to start recording: {e}") from e
        with self._lock:
            self._reset()
            self._limit = limit
            self._recording = True
            self._started_at = time.monotonic()
        self._capture = capture
        self._thread = threading.Thread(target=self._collect, args=(capture,), name="pywac-recorder", daemon=True)
        self._thread.start()
        return True

    def _collect(self, capture: Capture) -> None:
        """The recording thread: blocks in the capture's read until the limit,
        the end of the stream (stop) or an error."""
        error: Optional[Error] = None
        try:
            while True:
                chunk = capture.read_chunk(timeout=_STALL_S)
                if chunk is None:
                    if not capture.ended:
                        error = Timeout(_wac.ERR_TIMEOUT, f"no audio from the system capture for {_STALL_S:g} s")
                    break
                x = samples(chunk)
                with self._lock:
                    if self._limit is not None:
                        x = x[: self._limit - self._frames]
                    self._parts.append(x)
                    self._frames += len(x)
                    if self._limit is not None and self._frames >= self._limit:
                        break
        except Closed:
            pass
        except Error as e:
            error = e
        with self._lock:
            self._recording = False
            self._error = error
        self._full.set()

    def stop(self) -> AudioData:
        """Stop recording and return what was recorded (empty if nothing
        was). A recording cut short by an error comes with a
        :class:`pywac.CompatibilityWarning`."""
        capture, thread = self._capture, self._thread
        if capture is None or thread is None:
            return self._audio([])
        stop_error: Optional[Error] = None
        try:
            capture.stop()
        except Error as e:
            stop_error = e
        finally:
            thread.join()
            capture.close()
            self._capture = self._thread = None
        with self._lock:
            parts, error = self._parts, self._error or stop_error
            self._reset()
        if error is not None:
            _compat.failed("AudioRecorder: the recording ended early", error)
        return self._audio(parts)

    def record(self, duration: float) -> AudioData:
        """Record exactly ``duration`` seconds (blocking) and return them."""
        if isinstance(duration, bool) or not isinstance(duration, (int, float)) or not duration > 0:
            raise invalid(f"duration must be a positive number of seconds, got {duration!r}")
        self.start(duration)
        self._full.wait(duration + _STALL_S + 1.0)
        return self.stop()

    def record_to_file(self, filename: str, duration: float) -> bool:
        """Record ``duration`` seconds into a 16-bit WAV file. True; raises
        RuntimeError on failure (as PyWAC)."""
        try:
            self.record(duration).save(filename)
        except (Error, OSError, RuntimeError) as e:
            raise RuntimeError(f"Failed to record to file: {e}") from e
        return True

    # ---- what was recorded ----

    def _audio(self, parts: list[Any]) -> AudioData:
        if parts:
            return AudioData(np.concatenate(parts), self.sample_rate, self.channels)
        shape = (0,) if self.channels == 1 else (0, self.channels)
        return AudioData(np.zeros(shape, dtype=np.float32), self.sample_rate, self.channels)

    def get_audio(self) -> AudioData:
        """What has been recorded so far, without stopping."""
        with self._lock:
            parts = list(self._parts)
        return self._audio(parts)

    def save(self, filename: Optional[str] = None) -> str:
        """Save what has been recorded so far as a WAV file (named
        ``recording_YYYYmmdd_HHMMSS.wav`` by default; ``.wav`` is appended if
        missing); returns the file name. ValueError when nothing was recorded."""
        if not filename:
            filename = f"recording_{datetime.now():%Y%m%d_%H%M%S}.wav"
        if not filename.endswith(".wav"):
            filename += ".wav"
        audio = self.get_audio()
        if audio.num_frames == 0:
            raise ValueError("No audio data to save")
        audio.save(filename)
        return filename

    @property
    def is_recording(self) -> bool:
        """True from start() until stop(), the duration's end or an error."""
        return self._recording

    @property
    def recording_time(self) -> float:
        """Seconds since start() while recording, else 0.0."""
        with self._lock:
            start = self._started_at if self._recording else None
        return 0.0 if start is None else time.monotonic() - start

    @property
    def sample_count(self) -> int:
        """Samples recorded so far, all channels counted (frames × channels)."""
        return self._frames * self.channels


class AsyncAudioRecorder(AudioRecorder):
    """An :class:`AudioRecorder` that records in the background and hands
    the result to ``callback``."""

    def __init__(self, sample_rate: int = 48000, channels: int = 2,
                 callback: Optional[Callable[[AudioData], Any]] = None) -> None:
        super().__init__(sample_rate, channels)
        self.callback = callback

    def start_async(self, duration: float) -> None:
        """Record ``duration`` seconds in a daemon thread, then call
        ``callback(audio)`` on it (if a callback was given). Returns at once."""

        def work() -> None:
            audio = self.record(duration)
            if self.callback is not None:
                self.callback(audio)

        threading.Thread(target=work, name="pywac-async-recorder", daemon=True).start()
