"""PyWAC 1.0's ``AudioSession`` and ``SessionManager``: the applications
that play audio, and their volume and mute, looked up by name.

Built on :func:`pywac.list_sessions`, :func:`pywac.get_volume`,
:func:`pywac.set_volume` and :func:`pywac.set_mute`. A name is an
executable's name, matched exactly and case-insensitively, with or without
``.exe``; volume and mute act on every process by that name (with its child
processes). A "not found" (False/None) comes with a
:class:`pywac.CompatibilityWarning` saying why; a failure to list the
sessions raises RuntimeError, as in PyWAC.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional, TypeVar

from . import _compat
from ._capture import Session, get_volume, set_mute, set_volume
from ._compat import require_numpy
from ._errors import Error

require_numpy("pywac.sessions")

__all__ = ["AudioSession", "SessionManager"]

T = TypeVar("T")

_STATE_NAMES = {0: "Inactive", 1: "Active", 2: "Expired"}


@dataclass
class AudioSession:
    """One application playing audio (PyWAC's shape of a WAC :class:`pywac.Session`).

    ``state`` is 1 (Active) while a stream of it plays, else 0 (Inactive);
    WAC lists no expired sessions. ``volume`` is 0.0-1.0, or None when the
    backend cannot tell. ``display_name`` is the name the application
    announced.
    """

    process_id: int
    process_name: str
    display_name: str
    state: int
    volume: Optional[float]
    muted: bool

    @property
    def is_active(self) -> bool:
        """True while it plays."""
        return self.state == 1

    @property
    def is_muted(self) -> bool:
        """Its mute flag (a real one: see :meth:`SessionManager.set_mute`)."""
        return self.muted

    @property
    def state_name(self) -> str:
        """``"Inactive"``, ``"Active"`` or ``"Expired"``."""
        return _STATE_NAMES.get(self.state, "Unknown")

    @classmethod
    def from_session(cls, s: Session) -> "AudioSession":
        """From a WAC :class:`pywac.Session`."""
        volume = s.volume if s.volume is not None and s.volume >= 0 else None
        return cls(s.pid, s.name, s.app, 1 if s.playing else 0, volume, bool(s.muted))

    def info(self) -> dict[str, Any]:
        """PyWAC's session dict (``list_audio_sessions`` has these keys but
        ``display_name``)."""
        return {"process_id": self.process_id, "process_name": self.process_name,
                "display_name": self.display_name, "state": self.state_name, "is_active": self.is_active,
                "volume": self.volume, "volume_percent": _compat.volume_percent(self.volume),
                "is_muted": self.muted}

    def __str__(self) -> str:
        level = "Muted" if self.muted else (
            "Volume: unknown" if self.volume is None else f"Volume: {_compat.volume_percent(self.volume)}%")
        return f"{self.process_name} (PID: {self.process_id}) - {self.state_name} - {level}"


class SessionManager:
    """The audio sessions of the default backend, by application name.

    Nothing is cached: every call lists the sessions anew, so applications
    that started or stopped since are seen (PyWAC's ``refresh_sessions`` is
    not needed, and harmless). ``backend`` is a WAC extension (default: the
    compatibility layer's, WAC's automatic choice).
    """

    def __init__(self, backend: Optional[str] = None) -> None:
        self._backend_given = backend

    @property
    def _backend(self) -> str:
        return _compat.use_backend(self._backend_given)

    def list_sessions(self, active_only: bool = False) -> list[AudioSession]:
        """The applications that play audio (or have a stream open), as
        :class:`AudioSession`; only those playing now with ``active_only``.
        Raises RuntimeError when the sessions cannot be listed."""
        sessions = [AudioSession.from_session(s) for s in _compat.listed(self._backend)]
        return [s for s in sessions if s.is_active or not active_only]

    def _match(self, app_name: str, what: str) -> Optional[_compat.NameMatch]:
        match = _compat.find_name(app_name, self._backend)
        if not match.exact:
            _compat.failed(what, match.not_found())
            return None
        return match

    def find_session(self, app_name: str) -> Optional[AudioSession]:
        """The session of the application named ``app_name`` (the first
        process by that name), or None with a warning."""
        return self._find(app_name, f"find_session({app_name!r})")

    def _find(self, app_name: str, what: str) -> Optional[AudioSession]:
        match = self._match(app_name, what)
        return None if match is None else AudioSession.from_session(match.exact[0])

    def _each_name(self, app_name: str, what: str, act: Callable[[str], T]) -> Optional[list[T]]:
        """``act(executable)`` for each executable ``app_name`` matches; None
        (with a warning) when none does or an action fails."""
        match = self._match(app_name, what)
        if match is None:
            return None
        try:
            return [act(name) for name in match.executables]
        except Error as e:
            _compat.failed(what, e)
            return None

    def set_volume(self, app_name: str, volume: float) -> bool:
        """Set the volume (0.0-1.0, linear amplitude) of every process named
        ``app_name``. ValueError outside 0-1; False with a warning when no
        such application plays or the server refuses."""
        if isinstance(volume, bool) or not isinstance(volume, (int, float)) or not 0.0 <= volume <= 1.0:
            raise ValueError(f"Volume must be between 0.0 and 1.0, got {volume!r}")
        done = self._each_name(app_name, f"set_volume({app_name!r}, {volume!r})",
                               lambda name: set_volume(float(volume), name=name, backend=self._backend))
        return done is not None

    def get_volume(self, app_name: str) -> Optional[float]:
        """The volume (0.0-1.0) of the application: its loudest stream's;
        None with a warning when it plays nothing now."""
        levels = self._each_name(app_name, f"get_volume({app_name!r})",
                                 lambda name: get_volume(name=name, backend=self._backend).level)
        return None if levels is None else max(levels)

    def set_mute(self, app_name: str, mute: bool) -> bool:
        """Mute or unmute the application: its real mute flag, its volume is
        kept (PyWAC set the volume to 0 and could not unmute)."""
        done = self._each_name(app_name, f"set_mute({app_name!r}, {mute!r})",
                               lambda name: set_mute(bool(mute), name=name, backend=self._backend))
        return done is not None

    def is_muted(self, app_name: str) -> Optional[bool]:
        """True when every stream of the application is muted; None with a
        warning when it plays nothing now."""
        flags = self._each_name(app_name, f"is_muted({app_name!r})",
                                lambda name: get_volume(name=name, backend=self._backend).muted)
        return None if flags is None else all(flags)

    def get_active_sessions(self) -> list[str]:
        """The executable names of the applications playing now."""
        return [s.process_name for s in self.list_sessions(active_only=True)]

    def get_active_session_objects(self) -> list[AudioSession]:
        """The :class:`AudioSession` of each application playing now."""
        return self.list_sessions(active_only=True)

    def get_session_info(self, app_name: str) -> Optional[dict[str, Any]]:
        """PyWAC's dict for the application (``process_id``,
        ``process_name``, ``display_name``, ``state``, ``is_active``,
        ``volume``, ``volume_percent``, ``is_muted``), or None with a warning."""
        session = self._find(app_name, f"get_session_info({app_name!r})")
        return None if session is None else session.info()
