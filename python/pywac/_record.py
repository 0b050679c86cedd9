"""Record to a WAV file: WAC's :func:`record` and :func:`record_system`
(which raise WAC errors and return the capture's :class:`pywac.Stats`), and
PyWAC 1.0's :func:`record_process` / :func:`record_process_id` (which return
True or False, with a :class:`pywac.CompatibilityWarning` saying why).

WAV is written with the standard library's ``wave`` module as 16-bit PCM:
libwac delivers s16 directly (the engine converts), so neither numpy nor
libsndfile is needed - these work without numpy. For float samples use
:class:`pywac.Capture` with ``format="f32"``.
"""
from __future__ import annotations

import os
import threading
import wave
from typing import Any, Callable, Optional, Union

from . import _wac
from ._capture import Capture, Chunk, Stats
from ._errors import Error, TargetNotFound, Timeout, invalid

PathLike = Union[str, "os.PathLike[str]"]

# A capture delivers silence while its target is quiet, so the audio never
# pauses: this long without a chunk means the engine is stuck.
_STALL_S = 5.0


def _frames_for(duration: Any, rate: int) -> int:
    if isinstance(duration, bool) or not isinstance(duration, (int, float)) or not duration > 0:
        raise invalid(f"duration must be a positive number of seconds, got {duration!r}")
    return round(duration * rate)


def pump(capture: Capture, duration: float, consume: Callable[[Chunk, int], None]) -> tuple[Stats, set[int]]:
    """Start ``capture`` and hand exactly ``duration`` seconds of it to
    ``consume(chunk, frames)`` (the last chunk is cut: only its first
    ``frames`` count). Returns the final stats and the pids the capture
    attached to (its ``target-attached`` events). Closes the capture."""
    try:
        want = _frames_for(duration, capture.rate)
        attached: set[int] = set()
        got = 0
        capture.start()
        while got < want:
            chunk = capture.read_chunk(timeout=_STALL_S + capture.chunk_frames / capture.rate)
            attached.update(e.pid for e in capture.events() if e.type == "target-attached")
            if chunk is None:
                if capture.ended:  # stopped from elsewhere
                    break
                raise Timeout(_wac.ERR_TIMEOUT, f"no audio from the capture for {_STALL_S:g} s")
            frames = min(chunk.frames, want - got)
            consume(chunk, frames)
            got += frames
        stats = capture.stats
    finally:
        capture.close()
    return stats, attached


def _write(capture: Capture, path: PathLike, duration: float) -> tuple[Stats, set[int]]:
    frame_bytes = 2 * capture.channels
    try:
        # Checked before the file is created: a bad duration leaves no file behind.
        _frames_for(duration, capture.rate)
        # Opened here, not by wave.open: a failed open there leaves a
        # half-made Wave_write whose __del__ raises (CPython 3.11).
        with open(os.fspath(path), "wb") as file, wave.open(file, "wb") as out:
            out.setnchannels(capture.channels)
            out.setsampwidth(2)
            out.setframerate(capture.rate)
            return pump(capture, duration,
                        lambda chunk, frames: out.writeframes(memoryview(chunk).cast("B")[: frames * frame_bytes]))
    finally:
        capture.close()


# ---- WAC's calls: errors raise ----------------------------------------------------


def record(path: PathLike, duration: float, *, pid: Optional[int] = None, name: Optional[str] = None,
           system: bool = False, rate: int = 48000, channels: int = 2, tree: bool = True,
           backend: str = "auto") -> Stats:
    """Record ``duration`` seconds of one target - ``pid`` (with its process
    tree unless ``tree=False``), ``name`` (an executable's basename; it may
    start later) or ``system=True`` - into the WAV file ``path`` (16-bit PCM,
    ``rate`` Hz, ``channels`` channels). Silence is recorded while the target
    plays nothing, so the file is exactly ``duration`` long. Raises
    :class:`pywac.Error` subclasses; returns the capture's final
    :class:`pywac.Stats`."""
    capture = Capture(pid, name, system=system, tree=tree, rate=rate, channels=channels, format="s16",
                      backend=backend)
    return _write(capture, path, duration)[0]


def record_system(path: PathLike, duration: float, *, rate: int = 48000, channels: int = 2,
                  backend: str = "auto") -> Stats:
    """Record everything played on the default output for ``duration`` seconds
    into the WAV file ``path``."""
    return record(path, duration, system=True, rate=rate, channels=channels, backend=backend)


# ---- PyWAC's calls: True or False, and a warning that says why --------------------


def to_file(target: dict[str, Any], filename: PathLike, duration: float, *, rate: int, channels: int,
            backend: str, what: str, needs_player: bool) -> bool:
    """PyWAC's file recording: True once ``filename`` holds the recording.

    ``target`` holds the Capture keywords (pid=, name= or system=True). The
    audio goes to a temporary file beside ``filename`` that replaces it only
    on success, so a False leaves no file (and an older file untouched), as
    in PyWAC, which wrote the file only after a successful capture. With
    ``needs_player`` (a name target), the recording fails when no process of
    that name played during it."""
    from . import _compat

    if isinstance(filename, bytes) or not isinstance(filename, (str, os.PathLike)):
        raise TypeError(f"filename must be a str or path, not {type(filename).__name__}")
    path = os.fspath(filename)
    # Beside the file, so that the rename is atomic; unique per thread.
    part = f"{path}.{os.getpid()}-{threading.get_ident()}.part"
    try:
        capture = Capture(format="s16", rate=rate, channels=channels, backend=backend, **target)
        _, attached = _write(capture, part, duration)
        if needs_player and not attached:
            error = TargetNotFound(_wac.ERR_TARGET_NOT_FOUND, f"no process named {target['name']!r} "
                                   f"played during the {duration:g} s recording")
            _compat.failed(what, error)
            return False
        os.replace(part, path)
        return True
    except Error as e:
        _compat.failed(what, e)
        return False
    except OSError as e:
        _compat.warn(f"{what}: cannot write {path!r}: {e.strerror or e}", e)
        return False
    finally:
        try:
            os.unlink(part)
        except OSError:  # renamed, or never created
            pass


def name_target(process_name: str, backend: str, what: str) -> Optional[dict[str, Any]]:
    """The Capture target for PyWAC's process name, or None (with a warning)
    when the name is ambiguous: no executable is named exactly so but some
    contain it. A name nobody plays yet is a name target all the same: WAC
    attaches to the application if it starts during the recording."""
    from . import _compat

    try:
        match = _compat.find_name(process_name, backend)
    except RuntimeError as e:
        _compat.failed(what, e.__cause__ or e)
        return None
    executables = match.executables
    if len(executables) > 1:  # e.g. "Foo" and "foo" on Linux: which one?
        _compat.failed(what, invalid(f"{process_name!r} names several executables: {executables}"))
        return None
    if executables:
        return {"name": executables[0]}
    if match.similar:
        _compat.failed(what, match.not_found())
        return None
    return {"name": _compat.target_name(process_name)}


def record_process(process_name: str, filename: PathLike, duration: float, *, rate: int = 48000,
                   channels: int = 2, tree: bool = True, backend: Optional[str] = None) -> bool:
    """PyWAC's ``record_process``: record what the application
    ``process_name`` plays for ``duration`` seconds into the WAV file
    ``filename`` (16-bit PCM, 48 kHz stereo unless ``rate``/``channels`` say
    otherwise). Returns True, or False with a
    :class:`pywac.CompatibilityWarning` saying why.

    The name is an executable's name, matched exactly and case-insensitively,
    with or without ``.exe``: not PyWAC's first substring match. A name that
    only part of some executables' names matches is reported, not guessed.
    Every process by that name is recorded (with its child processes unless
    ``tree=False``), also one that starts during the recording; silence is
    recorded while none plays, so the file is exactly ``duration`` long. When
    no process by that name played at all, it returns False and writes no
    file. For WAC's exceptions and stats use :func:`pywac.record`.
    """
    from . import _compat

    b = _compat.use_backend(backend)
    what = f"record_process({process_name!r})"
    target = name_target(process_name, b, what)
    if target is None:
        return False
    target["tree"] = tree
    return to_file(target, filename, duration, rate=rate, channels=channels, backend=b, what=what,
                   needs_player=True)


def record_process_id(pid: int, filename: PathLike, duration: float, *, rate: int = 48000, channels: int = 2,
                      tree: bool = True, backend: Optional[str] = None) -> bool:
    """PyWAC's ``record_process_id``: record what process ``pid`` (and its
    children unless ``tree=False``) plays for ``duration`` seconds into the
    WAV file ``filename``. Returns True, or False with a
    :class:`pywac.CompatibilityWarning` saying why (e.g. no such process).
    A process that plays nothing is recorded as silence (True). pid 0 records
    the whole system, as in PyWAC, with a warning that says so."""
    from . import _compat

    b = _compat.use_backend(backend)
    what = f"record_process_id({pid!r})"
    if isinstance(pid, bool) or not isinstance(pid, int):
        raise TypeError(f"pid must be an int, not {type(pid).__name__}")
    if pid == 0:
        _compat.pid_zero_means_system(what)
        target: dict[str, Any] = {"system": True}
    else:
        target = {"pid": pid, "tree": tree}
    return to_file(target, filename, duration, rate=rate, channels=channels, backend=b, what=what,
                   needs_player=False)
