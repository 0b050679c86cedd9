"""pywac's exception tree: one class per libwac error code, all under Error.

Every exception carries the library's ``code`` (a negative int from
``WAC_ERROR_MAP``), its ``name`` (``"TARGET_NOT_FOUND"``), the library's
``message`` for the code and the ``detail`` the failing handle recorded
(``"pid 4242: no such process"``). Errors about a bad argument also derive
from :class:`ValueError`, so ``except ValueError`` works as Python users
expect.
"""
from __future__ import annotations

from . import _wac


class Error(Exception):
    """Base class of every pywac error.

    Attributes:
        code: the libwac error code (negative int).
        name: its symbolic name, e.g. ``"TARGET_NOT_FOUND"``.
        message: the library's message for the code.
        detail: what the failing call said about it (may be empty).
    """

    code: int
    name: str
    message: str
    detail: str

    def __init__(self, code: int, detail: str = "") -> None:
        self.code = int(code)
        self.name = _wac.error_name(self.code)
        self.message = _wac.strerror(self.code)
        self.detail = detail or ""
        text = f"{self.message}: {self.detail}" if self.detail else self.message
        super().__init__(text)

    def __reduce__(self):  # keep pickling (multiprocessing) working
        return (type(self), (self.code, self.detail))


class InvalidArgument(Error, ValueError):
    """An argument is out of range or conflicts with another (WAC_ERR_INVALID_ARGUMENT)."""


class NoMemory(Error, MemoryError):
    """Out of memory (WAC_ERR_NO_MEMORY)."""


class UnknownBackend(Error, ValueError):
    """No backend of that name is built in (WAC_ERR_UNKNOWN_BACKEND)."""


class BackendUnavailable(Error):
    """The audio server did not answer (WAC_ERR_BACKEND_UNAVAILABLE)."""


class TargetNotFound(Error):
    """No such process (WAC_ERR_TARGET_NOT_FOUND)."""


class FormatError(Error, ValueError):
    """Rate, channels or sample format not supported (WAC_ERR_FORMAT_UNSUPPORTED)."""


class StateError(Error):
    """Not valid in the capture's state, e.g. start after stop (WAC_ERR_STATE)."""


class Timeout(Error):
    """Timed out (WAC_ERR_TIMEOUT); ``read`` returns None instead of raising it."""


class Ended(Error):
    """The stream has ended (WAC_ERR_ENDED)."""


class Closed(Error):
    """The capture or its context is closed (WAC_ERR_CLOSED)."""


class Busy(Error):
    """Another thread is reading this capture (WAC_ERR_BUSY)."""


class Interrupted(Error):
    """Interrupted by a signal (WAC_ERR_INTERRUPTED); ``read`` handles it itself."""


class Disconnected(Error):
    """The connection to the audio server was lost (WAC_ERR_SERVER_LOST)."""


class TargetExited(Error):
    """The target process exited (WAC_ERR_TARGET_EXITED)."""


class NotSupported(Error):
    """Not supported by this backend or platform (WAC_ERR_NOT_SUPPORTED)."""


class SystemFailure(Error):
    """An operating-system call failed (WAC_ERR_SYSTEM)."""


class BackendError(Error):
    """The audio backend reported an error (WAC_ERR_BACKEND)."""


_BY_CODE: dict[int, type[Error]] = {
    _wac.ERR_INVALID_ARGUMENT: InvalidArgument,
    _wac.ERR_NO_MEMORY: NoMemory,
    _wac.ERR_UNKNOWN_BACKEND: UnknownBackend,
    _wac.ERR_BACKEND_UNAVAILABLE: BackendUnavailable,
    _wac.ERR_TARGET_NOT_FOUND: TargetNotFound,
    _wac.ERR_FORMAT_UNSUPPORTED: FormatError,
    _wac.ERR_STATE: StateError,
    _wac.ERR_TIMEOUT: Timeout,
    _wac.ERR_ENDED: Ended,
    _wac.ERR_CLOSED: Closed,
    _wac.ERR_BUSY: Busy,
    _wac.ERR_INTERRUPTED: Interrupted,
    _wac.ERR_SERVER_LOST: Disconnected,
    _wac.ERR_TARGET_EXITED: TargetExited,
    _wac.ERR_NOT_SUPPORTED: NotSupported,
    _wac.ERR_SYSTEM: SystemFailure,
    _wac.ERR_BACKEND: BackendError,
}

_wac._set_errors(Error, _BY_CODE)


def error_class(code: int) -> type[Error]:
    """The exception class pywac raises for a libwac error code."""
    return _BY_CODE.get(code, Error)


def invalid(detail: str) -> InvalidArgument:
    """An InvalidArgument for a check made in Python, before libwac sees it."""
    return InvalidArgument(_wac.ERR_INVALID_ARGUMENT, detail)
