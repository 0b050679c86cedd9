"""Convenience calls for scripts: record one application (or everything) to a
WAV file.

WAV is written with the standard library's ``wave`` module as 16-bit PCM:
libwac delivers s16 directly (the engine converts), so neither numpy nor
libsndfile is needed. For float samples use :class:`pywac.Capture` with
``format="f32"``.
"""
from __future__ import annotations

import os
import wave
from typing import Optional, Union

from ._capture import Capture, Stats
from ._errors import invalid

PathLike = Union[str, "os.PathLike[str]"]


def _record(capture: Capture, path: PathLike, duration: float) -> Stats:
    if isinstance(duration, bool) or not isinstance(duration, (int, float)) or not duration > 0:
        capture.close()
        raise invalid(f"duration must be a positive number of seconds, got {duration!r}")
    want = round(duration * capture.rate)
    written = 0
    try:
        with wave.open(os.fspath(path), "wb") as out:
            out.setnchannels(capture.channels)
            out.setsampwidth(2)
            out.setframerate(capture.rate)
            capture.start()
            while written < want:
                chunk = capture.read_chunk()
                if chunk is None:  # stopped from elsewhere
                    break
                frames = min(chunk.frames, want - written)
                out.writeframes(memoryview(chunk).cast("B")[: frames * 2 * capture.channels])
                written += frames
        stats = capture.stats
    finally:
        capture.close()
    return stats


def record_process(name: str, path: PathLike, duration: float, *, rate: int = 48000, channels: int = 2,
                   tree: bool = True, backend: str = "auto") -> Stats:
    """Record what the application named ``name`` (an executable's basename)
    plays, for ``duration`` seconds, into the WAV file ``path`` (16-bit PCM).
    Silence is recorded while it plays nothing or is not running yet.
    Returns the capture's final :class:`pywac.Stats`."""
    return _record(Capture(name=name, tree=tree, rate=rate, channels=channels, format="s16", backend=backend),
                   path, duration)


def record_process_id(pid: int, path: PathLike, duration: float, *, rate: int = 48000, channels: int = 2,
                      tree: bool = True, backend: str = "auto") -> Stats:
    """Record what process ``pid`` (and its children, unless ``tree=False``)
    plays, for ``duration`` seconds, into the WAV file ``path``."""
    return _record(Capture(pid, tree=tree, rate=rate, channels=channels, format="s16", backend=backend),
                   path, duration)


def record_system(path: PathLike, duration: float, *, rate: int = 48000, channels: int = 2,
                  backend: str = "auto") -> Stats:
    """Record everything played on the default output for ``duration`` seconds
    into the WAV file ``path``."""
    return _record(Capture(system=True, rate=rate, channels=channels, format="s16", backend=backend),
                   path, duration)
