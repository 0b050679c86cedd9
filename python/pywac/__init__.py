"""pywac — capture the audio that one application plays.

    import pywac
    for s in pywac.list_sessions():
        print(s.pid, s.name, s.playing)
    with pywac.Capture(pid=4242, rate=16000, channels=1) as cap:
        for chunk in cap:          # float32 numpy arrays of 1600 samples
            ...

See :class:`Capture` for the three ways to consume a stream (blocking read,
asyncio, callback), :class:`ProcessAudioSource` and :class:`MicrophoneSource`
for real-time captioning, :func:`list_devices` and ``Capture(device=...)``
for microphones and outputs' monitors, :class:`Aligned` to read several
captures on one timeline, and :func:`record` & co. for scripts. Every error
is a :class:`Error`.

PyWAC 1.0's API is here too (``record_to_file``, ``list_audio_sessions``,
``set_app_volume``, ``AudioData``, ``pywac.core``, ``pywac.capture``, ...;
see doc/pywac-compat.md): its names load their modules on first use, so
``import pywac`` stays cheap and needs no numpy; the compatibility layer
itself needs numpy, as PyWAC did.
"""
from importlib import import_module
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any

from . import _wac
from ._aligned import Aligned, AlignedChunk
from ._capture import (Capture, Chunk, Device, Event, Session, Stats, Volume, backends, get_volume, has_numpy,
                       list_devices, list_sessions, samples, set_mute, set_volume)
from ._errors import (BackendError, BackendUnavailable, Busy, Closed, Disconnected, Ended, Error,
                      FormatError, Interrupted, InvalidArgument, NoMemory, NotSupported, StateError,
                      SystemFailure, TargetExited, TargetNotFound, Timeout, UnknownBackend, error_class)
from ._record import record, record_process, record_process_id, record_system
from ._source import MicrophoneSource, ProcessAudioSource

__version__ = "0.1.0"
library_version: str = _wac.version

CHUNK_DISCONTINUOUS: int = _wac.CHUNK_DISCONTINUOUS
CHUNK_LAST: int = _wac.CHUNK_LAST

__all__ = [
    "Capture", "Chunk", "Event", "Session", "Stats", "Device", "ProcessAudioSource", "MicrophoneSource",
    "Aligned", "AlignedChunk", "Volume",
    "list_sessions", "list_devices", "backends", "has_numpy", "samples", "get_volume", "set_volume", "set_mute",
    "record", "record_process", "record_process_id", "record_system",
    "Error", "InvalidArgument", "NoMemory", "UnknownBackend", "BackendUnavailable", "TargetNotFound",
    "FormatError", "StateError", "Timeout", "Ended", "Closed", "Busy", "Interrupted", "Disconnected",
    "TargetExited", "NotSupported", "SystemFailure", "BackendError", "error_class",
    "CHUNK_DISCONTINUOUS", "CHUNK_LAST", "library_version",
]

# ---- PyWAC 1.0's names, loaded on first use (PEP 562) -------------------------

# name -> the module (pywac.<module>) that defines it; a module stands for itself.
_LAZY: dict[str, str] = {
    "CompatibilityWarning": "_compat",
    **{name: "api" for name in (
        "record_to_file", "record_audio", "record_with_callback", "list_audio_sessions",
        "list_recordable_processes", "find_audio_session", "find_app", "get_active_sessions", "get_active_apps",
        "refresh_sessions", "set_app_volume", "get_app_volume", "adjust_volume", "mute_app", "unmute_app")},
    "SessionManager": "sessions", "AudioSession": "sessions",
    "AudioRecorder": "recorder", "AsyncAudioRecorder": "recorder",
    "AudioData": "audio_data",
    "convert_float32_to_int16": "utils",
    **{module: module for module in ("api", "audio_data", "sessions", "recorder", "unified_recording", "utils",
                                      "core", "capture")},
}

if TYPE_CHECKING:  # what the lazy names are, for type checkers and IDEs
    from . import capture, core, utils
    from ._compat import CompatibilityWarning
    from .api import (adjust_volume, find_app, find_audio_session, get_active_apps, get_active_sessions,
                      get_app_volume, list_audio_sessions, list_recordable_processes, mute_app, record_audio,
                      record_to_file, record_with_callback, refresh_sessions, set_app_volume, unmute_app)
    from .audio_data import AudioData
    from .recorder import AsyncAudioRecorder, AudioRecorder
    from .sessions import AudioSession, SessionManager
    from .utils import convert_float32_to_int16

__all__ += ["CompatibilityWarning"]
if find_spec("numpy") is not None:  # PyWAC's names join `from pywac import *` only where they can load
    __all__ += [
        "record_to_file", "record_audio", "record_with_callback", "list_audio_sessions", "list_recordable_processes",
        "find_audio_session", "find_app", "get_active_sessions", "get_active_apps", "refresh_sessions",
        "set_app_volume", "get_app_volume", "adjust_volume", "mute_app", "unmute_app", "SessionManager",
        "AudioSession", "AudioRecorder", "AsyncAudioRecorder", "AudioData", "convert_float32_to_int16", "utils",
        "core", "capture",
    ]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pywac' has no attribute {name!r}")
    if module != "_compat" and not has_numpy():
        raise ImportError(f"pywac.{name} is part of pywac's PyWAC 1.0 compatibility layer, which needs numpy "
                          "(pip install numpy); WAC's own API (pywac.Capture, record, ...) works without it")
    loaded = import_module(f".{module}", __name__)
    value = loaded if name == module else getattr(loaded, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
