"""PyWAC 1.0's ``pywac.unified_recording``: one recording function for the
whole system, an application name or a pid, to an :class:`AudioData`, a WAV
file or a callback - and the ``UnifiedRecorder`` class around it. PyWAC's
top-level recording functions (``record_audio``, ``record_to_file``, ...) are
built on it.

Recordings are 48 kHz stereo float32 of exactly the requested duration:
silence is kept (PyWAC dropped silent chunks, so its recordings came out
shorter and out of time). Failures give an empty AudioData, False or an
empty callback result, with a :class:`pywac.CompatibilityWarning` saying why.
"""
from __future__ import annotations

import threading
from typing import Any, Callable, Optional, Union, cast

from . import _compat
from ._capture import Capture, samples
from ._compat import require_numpy
from ._errors import Error, TargetNotFound
from ._record import name_target, pump, to_file
from . import _wac
from .audio_data import AudioData

np = require_numpy("pywac.unified_recording")

__all__ = ["record", "UnifiedRecorder", "Recorder", "capture_system_audio", "capture_app_audio",
           "capture_process_audio"]

RATE = 48000
CHANNELS = 2

Target = Union[None, str, int]


def empty_audio(rate: int = RATE, channels: int = CHANNELS) -> AudioData:
    """A recording of no frames (float32), what failed recordings return."""
    shape = (0,) if channels == 1 else (0, channels)
    return AudioData(np.zeros(shape, dtype=np.float32), rate, channels)


def resolve(target: Target, backend: str, what: str) -> Optional[tuple[dict[str, Any], bool]]:
    """The Capture target keywords for PyWAC's ``target`` (None: the whole
    system, an int: a pid, 0 being the system, a str: an application name),
    and whether a process of that name must play for the recording to count.
    None (with a warning) for an ambiguous name."""
    if target is None:
        return {"system": True}, False
    if isinstance(target, bool) or not isinstance(target, (int, str)):
        raise TypeError(f"target must be None, a process name or a pid, not {type(target).__name__}")
    if isinstance(target, int):
        if target == 0:
            _compat.pid_zero_means_system(what)
            return {"system": True}, False
        return {"pid": target}, False
    named = name_target(target, backend, what)
    return None if named is None else (named, True)


def capture_audio(target: dict[str, Any], duration: float, backend: str, what: str, needs_player: bool,
                  rate: int = RATE, channels: int = CHANNELS) -> Optional[AudioData]:
    """Exactly ``duration`` seconds of the target as float32 AudioData, or
    None with a warning."""
    parts: list[Any] = []
    try:
        capture = Capture(rate=rate, channels=channels, format="f32", backend=backend, **target)
        _, attached = pump(capture, duration, lambda chunk, frames: parts.append(samples(chunk)[:frames]))
    except Error as e:
        _compat.failed(what, e)
        return None
    if needs_player and not attached:
        _compat.failed(what, TargetNotFound(_wac.ERR_TARGET_NOT_FOUND, f"no process named {target['name']!r} "
                                            f"played during the {duration:g} s recording"))
        return None
    if not parts:
        return empty_audio(rate, channels)
    return AudioData(np.concatenate(parts), rate, channels)


def _describe(name: str, *args: Any) -> str:
    return f"{name}({', '.join(repr(a) for a in args)})"


def run(duration: float, target: Target, output_file: Optional[str], on_complete: Optional[Callable[[AudioData], None]],
        what: str) -> Union[AudioData, bool, None]:
    """:func:`record` with the name of the public call for its warnings."""
    backend = _compat.use_backend(None)
    if on_complete is not None:
        if not callable(on_complete):
            raise TypeError(f"on_complete must be callable, not {type(on_complete).__name__}")

        def finish() -> None:
            audio = cast(AudioData, run(duration, target, None, None, what))
            if output_file is not None:
                try:
                    audio.save(output_file)
                except OSError as e:
                    _compat.failed(f"{what}: cannot write {output_file!r}", e)
            # Not caught: an exception here ends the thread with a traceback,
            # as in PyWAC (threading.excepthook reports it).
            on_complete(audio)

        threading.Thread(target=finish, name="pywac-record", daemon=True).start()
        return None
    resolved = resolve(target, backend, what)
    if output_file is not None:
        if resolved is None:
            return False
        return to_file(resolved[0], output_file, duration, rate=RATE, channels=CHANNELS, backend=backend,
                       what=what, needs_player=resolved[1])
    if resolved is None:
        return empty_audio()
    audio = capture_audio(resolved[0], duration, backend, what, resolved[1])
    return empty_audio() if audio is None else audio


def record(duration: float, target: Target = None, output_file: Optional[str] = None,
           on_complete: Optional[Callable[[AudioData], None]] = None,
           fallback_enabled: bool = True) -> Union[AudioData, bool, None]:
    """Record ``duration`` seconds of ``target`` (None: the whole system; a
    str: every process of that executable name; an int: that pid and its
    children, 0 meaning the whole system).

    Returns an :class:`AudioData` (48 kHz stereo float32, exactly
    ``duration`` long; empty on failure); with ``output_file``, writes a
    16-bit WAV and returns True or False; with ``on_complete``, returns None
    at once and calls ``on_complete(audio)`` once from a daemon thread when
    done (after writing ``output_file`` too if given). Failures come with a
    :class:`pywac.CompatibilityWarning`. ``fallback_enabled`` is accepted
    and has no effect: WAC has one engine, with nothing to fall back to.
    """
    return run(duration, target, output_file, on_complete, _describe("record", duration, target))


class UnifiedRecorder:
    """:func:`record` for one fixed target (None, an application name or a pid)."""

    def __init__(self, target: Target = None) -> None:
        self.target = target

    def record(self, duration: float) -> AudioData:
        """``duration`` seconds of the target (empty AudioData on failure)."""
        return cast(AudioData, run(duration, self.target, None, None, _describe("UnifiedRecorder.record", duration)))

    def record_to_file(self, duration: float, filename: str) -> bool:
        """Record into a 16-bit WAV file (note PyWAC's order: duration first)."""
        result = run(duration, self.target, filename, None, _describe("UnifiedRecorder.record_to_file", duration,
                                                                          filename))
        return result is True

    def record_async(self, duration: float, callback: Callable[[AudioData], None]) -> None:
        """Record in a daemon thread, then call ``callback(audio)`` once."""
        run(duration, self.target, None, callback, _describe("UnifiedRecorder.record_async", duration))

    def is_available(self) -> bool:
        """True when the target can be recorded now: the system always; a
        pid or an application name when it plays audio now (WAC would also
        record a quiet process, as silence, until it plays)."""
        if self.target is None or self.target == 0:
            return True
        try:
            sessions = _compat.real_sessions(_compat.use_backend(None))
        except Error as e:
            _compat.failed("UnifiedRecorder.is_available()", e)
            return False
        if isinstance(self.target, int) and not isinstance(self.target, bool):
            return any(s.pid == self.target for s in sessions)
        if isinstance(self.target, str):
            return bool(_compat.match_name(self.target, sessions).exact)
        return False


Recorder = UnifiedRecorder
"""PyWAC's alias of :class:`UnifiedRecorder`."""


def capture_system_audio(duration: float, **kwargs: Any) -> Union[AudioData, bool, None]:
    """:func:`record` of the whole system."""
    return record(duration, target=None, **kwargs)


def capture_app_audio(app_name: str, duration: float, **kwargs: Any) -> Union[AudioData, bool, None]:
    """:func:`record` of the application ``app_name``."""
    return record(duration, target=app_name, **kwargs)


def capture_process_audio(pid: int, duration: float, **kwargs: Any) -> Union[AudioData, bool, None]:
    """:func:`record` of process ``pid``."""
    return record(duration, target=pid, **kwargs)
