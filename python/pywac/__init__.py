"""pywac — capture the audio that one application plays.

    import pywac
    for s in pywac.list_sessions():
        print(s.pid, s.name, s.playing)
    with pywac.Capture(pid=4242, rate=16000, channels=1) as cap:
        for chunk in cap:          # float32 numpy arrays of 1600 samples
            ...

See :class:`Capture` for the three ways to consume a stream (blocking read,
asyncio, callback), :class:`ProcessAudioSource` for real-time captioning, and
:func:`record_process` & co. for scripts. Every error is a :class:`Error`.
"""
from . import _wac
from ._capture import (Capture, Chunk, Event, Session, Stats, backends, has_numpy, list_sessions, samples)
from ._errors import (BackendError, BackendUnavailable, Busy, Closed, Disconnected, Ended, Error,
                      FormatError, Interrupted, InvalidArgument, NoMemory, NotSupported, StateError,
                      SystemFailure, TargetExited, TargetNotFound, Timeout, UnknownBackend, error_class)
from ._record import record_process, record_process_id, record_system
from ._source import ProcessAudioSource

__version__ = "0.1.0"
library_version: str = _wac.version

CHUNK_DISCONTINUOUS: int = _wac.CHUNK_DISCONTINUOUS
CHUNK_LAST: int = _wac.CHUNK_LAST

__all__ = [
    "Capture", "Chunk", "Event", "Session", "Stats", "ProcessAudioSource",
    "list_sessions", "backends", "has_numpy", "samples",
    "record_process", "record_process_id", "record_system",
    "Error", "InvalidArgument", "NoMemory", "UnknownBackend", "BackendUnavailable", "TargetNotFound",
    "FormatError", "StateError", "Timeout", "Ended", "Closed", "Busy", "Interrupted", "Disconnected",
    "TargetExited", "NotSupported", "SystemFailure", "BackendError", "error_class",
    "CHUNK_DISCONTINUOUS", "CHUNK_LAST", "library_version",
]
