"""Shared machinery of the PyWAC 1.0 compatibility layer (pywac.api,
pywac.sessions, pywac.capture, ...): the warning that says why a call
returned False or None, application-name matching, and the backend the
layer uses.

PyWAC's functions answer "did not work" with False or None. WAC keeps that
contract but never hides the reason: every such answer comes with a
:class:`CompatibilityWarning` whose ``error`` is the WAC exception. This
module imports neither numpy nor any other compatibility module, so
``record_process`` (in ``_record``) can use it without numpy.
"""
from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass, field
from typing import Any, Optional

from . import _wac
from ._capture import Session, list_sessions
from ._errors import Error, TargetNotFound

backend: str = "auto"
"""The backend every compatibility function uses. PyWAC had one engine and no
backend parameter, so the layer takes WAC's automatic choice; the tests set
this (private) attribute to ``"dummy"`` to run without an audio server. It
is deliberately not an environment variable: nothing outside the program can
change what a user's script does."""


def use_backend(explicit: Optional[str]) -> str:
    """The backend for one call: the caller's keyword if given, else :data:`backend`."""
    return backend if explicit is None else explicit


class CompatibilityWarning(UserWarning):
    """A PyWAC-compatible function returned False, None or an empty result,
    or did something PyWAC did silently (pid 0 records the whole system).

    ``error`` is the :class:`pywac.Error` behind it (None when nothing
    failed). Turn these into exceptions with
    ``warnings.simplefilter("error", pywac.CompatibilityWarning)``.
    """

    error: Optional[BaseException]

    def __init__(self, message: str, error: Optional[BaseException] = None) -> None:
        super().__init__(message)
        self.error = error


def _caller_stacklevel() -> int:
    """The stacklevel that points a warning at the first frame outside pywac,
    i.e. at the user's call however deep inside the layer it was raised."""
    level, frame = 2, sys._getframe(2)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module != "pywac" and not module.startswith("pywac."):
            break
        frame, level = frame.f_back, level + 1
    return level


def warn(message: str, error: Optional[BaseException] = None) -> None:
    """Emit a :class:`CompatibilityWarning` at the user's call site."""
    warnings.warn(CompatibilityWarning(message, error), stacklevel=_caller_stacklevel())


def failed(what: str, error: BaseException) -> None:
    """Warn that ``what`` did not work because of ``error``."""
    warn(f"{what}: {error}", error)


def require_numpy(module: str) -> Any:
    """numpy, or an ImportError that says the compatibility layer needs it."""
    try:
        import numpy
    except ImportError as e:
        raise ImportError(f"{module} is part of pywac's PyWAC 1.0 compatibility layer, which needs numpy "
                          f"(pip install numpy); WAC's own API (pywac.Capture, ...) works without it") from e
    return numpy


def pid_zero_means_system(where: str) -> None:
    """PyWAC's pid 0 meant the whole system: keep that, but say so."""
    warn(f"{where}: pid 0 records the whole system (as in PyWAC); say so explicitly with "
         "pywac.record_to_file() / pywac.record_audio() or pywac.Capture(system=True)")


# ---- application names ---------------------------------------------------------


def name_key(name: str) -> str:
    """How names compare: case-insensitively, with or without ``.exe``."""
    key = name.lower()
    return key[:-4] if key.endswith(".exe") and len(key) > 4 else key


@dataclass
class NameMatch:
    """The sessions an application name selects."""

    name: str
    exact: list[Session] = field(default_factory=list)
    """Sessions whose executable is the name (in listing order)."""
    similar: list[str] = field(default_factory=list)
    """Other executables whose name contains it: PyWAC would have taken the
    first of these; WAC names them instead of guessing."""

    @property
    def executables(self) -> list[str]:
        """The distinct executable names (as the backend spells them) matched exactly."""
        return list(dict.fromkeys(s.name for s in self.exact))

    def not_found(self) -> TargetNotFound:
        """The error that explains an empty match."""
        if self.similar:
            listed = ", ".join(repr(n) for n in self.similar)
            detail = (f"no application named exactly {self.name!r} plays audio now; similar names: {listed} "
                      "(names match an executable exactly, case-insensitively, with or without .exe)")
        else:
            detail = f"no application named {self.name!r} plays audio now"
        return TargetNotFound(_wac.ERR_TARGET_NOT_FOUND, detail)


def real_sessions(backend_name: str) -> list[Session]:
    """The listed sessions that have a process id: like PyWAC, which skipped
    pid 0 (there, the system sounds), since pid 0 cannot be targeted."""
    return [s for s in list_sessions(backend_name) if s.pid != 0]


def match_name(name: str, sessions: list[Session]) -> NameMatch:
    """Match ``name`` against ``sessions`` (see :func:`name_key`)."""
    if not isinstance(name, str):
        raise TypeError(f"the application name must be a str, not {type(name).__name__}")
    key = name_key(name)
    match = NameMatch(name)
    for s in sessions:
        other = name_key(s.name)
        if other == key:
            match.exact.append(s)
        elif key and key in other and s.name not in match.similar:
            match.similar.append(s.name)
    return match


def find_name(name: str, backend_name: str) -> NameMatch:
    """Match ``name`` against the sessions listed now. A failure to list
    raises RuntimeError (from the WAC error), as PyWAC's enumeration did."""
    return match_name(name, listed(backend_name))


def listed(backend_name: str) -> list[Session]:
    """:func:`real_sessions`, with a listing failure as PyWAC's RuntimeError."""
    try:
        return real_sessions(backend_name)
    except Error as e:
        raise RuntimeError(f"cannot list audio sessions: {e}") from e


def target_name(name: str) -> str:
    """The name to give a WAC name target for an application that does not
    play yet: as given, except that ``.exe`` names no executable outside
    Windows."""
    if sys.platform != "win32" and name.lower().endswith(".exe") and len(name) > 4:
        return name[:-4]
    return name


def volume_percent(volume: Optional[float]) -> Optional[int]:
    """PyWAC's ``volume_percent``: the volume in whole percent, truncated.
    Servers store volumes inexactly (float32; PulseAudio's cubic scale turns
    0.5 into 0.49999...), so a volume within 0.01 percent below a whole
    percent counts as that percent: 0.29 is 29, not 28."""
    if volume is None:
        return None
    return int(volume * 100 + 0.01)
