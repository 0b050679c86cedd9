"""PyWAC 1.0's convenience functions (``pywac.api``, all re-exported by
``pywac``): list the applications that play audio, set their volume and
mute, and record the system, an application or a process.

Their names, parameters and return values are PyWAC's, so scripts written
for PyWAC run unchanged. What WAC does differently (exact name matching,
silence kept, a real mute, warnings instead of silent failures) is listed in
doc/pywac-compat.md. Each False/None answer comes with a
:class:`pywac.CompatibilityWarning` whose ``error`` says why.
"""
from __future__ import annotations

import threading
import warnings
from typing import Any, Callable, Optional, cast

from . import _compat
from ._compat import require_numpy
from ._record import record_process, record_process_id
from .audio_data import AudioData
from .sessions import SessionManager
from .unified_recording import run

require_numpy("pywac.api")

__all__ = ["list_audio_sessions", "record_to_file", "record_audio", "record_process", "record_process_id",
           "list_recordable_processes", "set_app_volume", "get_app_volume", "mute_app", "unmute_app", "find_app",
           "find_audio_session", "get_active_apps", "get_active_sessions", "adjust_volume", "record_with_callback",
           "refresh_sessions"]

_lock = threading.Lock()
_manager: Optional[SessionManager] = None


def _sessions() -> SessionManager:
    """The SessionManager these functions share (made on first use)."""
    global _manager
    with _lock:
        if _manager is None:
            _manager = SessionManager()
        return _manager


def refresh_sessions() -> None:
    """Start over with a new shared SessionManager. Sessions are listed anew
    on every call anyway, so this is never needed; kept for PyWAC scripts."""
    global _manager
    with _lock:
        _manager = SessionManager()


# ---- sessions ----------------------------------------------------------------------


def list_audio_sessions(active_only: bool = False) -> list[dict[str, Any]]:
    """One dict per application with an audio stream (only those playing now
    with ``active_only``): ``process_id``, ``process_name`` (the executable,
    e.g. ``"firefox"``; ``"firefox.exe"`` on Windows), ``state``
    (``"Active"``/``"Inactive"``), ``is_active``, ``volume`` (0.0-1.0, None
    when the backend cannot tell), ``volume_percent`` (int) and ``is_muted``.
    Raises RuntimeError when the audio server cannot be asked."""
    keys = ("process_id", "process_name", "state", "is_active", "volume", "volume_percent", "is_muted")
    return [{k: info[k] for k in keys}
            for info in (s.info() for s in _sessions().list_sessions(active_only=active_only))]


def list_recordable_processes() -> list[dict[str, Any]]:
    """``{"pid": ..., "name": ...}`` for each process that owns an audio
    stream. PyWAC listed every process it could open; WAC lists those that
    play (or have a stream open): the others would record silence."""
    seen: dict[int, dict[str, Any]] = {}
    for s in _compat.listed(_compat.use_backend(None)):
        seen.setdefault(s.pid, {"pid": s.pid, "name": s.name})
    return list(seen.values())


def find_audio_session(app_name: str) -> Optional[dict[str, Any]]:
    """The session dict of the application named ``app_name`` (the keys of
    :func:`list_audio_sessions` plus ``display_name``), or None with a
    warning. The name matches an executable exactly (case-insensitively,
    with or without ``.exe``), not as PyWAC's substring."""
    session = _sessions()._find(app_name, f"find_audio_session({app_name!r})")
    return None if session is None else session.info()


def find_app(app_name: str) -> Optional[dict[str, Any]]:
    """Deprecated alias of :func:`find_audio_session` (as in PyWAC)."""
    warnings.warn("find_app() is deprecated, use find_audio_session()", DeprecationWarning, stacklevel=2)
    return find_audio_session(app_name)


def get_active_sessions() -> list[str]:
    """The executable names of the applications playing now."""
    return _sessions().get_active_sessions()


def get_active_apps() -> list[str]:
    """Deprecated alias of :func:`get_active_sessions` (as in PyWAC)."""
    warnings.warn("get_active_apps() is deprecated, use get_active_sessions()", DeprecationWarning, stacklevel=2)
    return get_active_sessions()


# ---- volume ------------------------------------------------------------------------


def set_app_volume(app_name: str, volume: float) -> bool:
    """Set the volume (0.0-1.0, a linear amplitude factor: 0.5 is -6 dB) of
    every process named ``app_name``. ValueError outside 0-1; False with a
    warning when it plays nothing now or the server refuses."""
    return _sessions().set_volume(app_name, volume)


def get_app_volume(app_name: str) -> Optional[float]:
    """The application's volume (0.0-1.0), or None with a warning."""
    return _sessions().get_volume(app_name)


def adjust_volume(app_name: str, delta: float) -> Optional[float]:
    """Add ``delta`` to the application's volume (clamped to 0.0-1.0);
    returns the new volume, or None with a warning."""
    manager = _sessions()
    current = manager.get_volume(app_name)
    if current is None:
        return None
    new = min(1.0, max(0.0, current + delta))
    return new if manager.set_volume(app_name, new) else None


def mute_app(app_name: str) -> bool:
    """Mute the application (its mute flag; the volume is kept)."""
    return _sessions().set_mute(app_name, True)


def unmute_app(app_name: str) -> bool:
    """Unmute the application: it plays at its volume again."""
    return _sessions().set_mute(app_name, False)


# ---- recording -----------------------------------------------------------------------


def record_audio(duration: float) -> AudioData:
    """Record the whole system for ``duration`` seconds: 48 kHz stereo
    float32 AudioData of exactly that length (empty, with a warning, on
    failure)."""
    return cast(AudioData, run(duration, None, None, None, f"record_audio({duration!r})"))


def record_to_file(filename: str, duration: float) -> bool:
    """Record the whole system for ``duration`` seconds into a 16-bit 48 kHz
    stereo WAV file. True, or False with a warning (and no file)."""
    return run(duration, None, filename, None, f"record_to_file({filename!r}, {duration!r})") is True


def record_with_callback(duration: float, callback: Callable[[AudioData], None]) -> None:
    """Record the whole system for ``duration`` seconds in a daemon thread,
    then call ``callback(audio)`` once, on that thread, with the whole
    AudioData (empty, with a warning, on failure). Returns at once."""
    run(duration, None, None, callback, f"record_with_callback({duration!r})")
