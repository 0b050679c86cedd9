# Type stubs for pywac._wac, the C extension under pywac (see python/_wac.c).
from typing import Any, Callable, Optional, Sequence

version: str
TARGET_PID: int
TARGET_NAME: int
TARGET_SYSTEM: int
TARGET_DEVICE: int
ALIGNED_MAX: int
SAMPLE_F32: int
SAMPLE_S16: int
CHUNK_DISCONTINUOUS: int
CHUNK_LAST: int
DUMMY_STALL: int
DUMMY_OVERRUN: int
DUMMY_DISCONNECT: int
DUMMY_TARGET_EXIT: int
ERR_INVALID_ARGUMENT: int
ERR_NO_MEMORY: int
ERR_UNKNOWN_BACKEND: int
ERR_BACKEND_UNAVAILABLE: int
ERR_TARGET_NOT_FOUND: int
ERR_FORMAT_UNSUPPORTED: int
ERR_STATE: int
ERR_TIMEOUT: int
ERR_ENDED: int
ERR_CLOSED: int
ERR_BUSY: int
ERR_INTERRUPTED: int
ERR_SERVER_LOST: int
ERR_TARGET_EXITED: int
ERR_NOT_SUPPORTED: int
ERR_SYSTEM: int
ERR_BACKEND: int

def strerror(code: int) -> str: ...
def error_name(code: int) -> str: ...
def backends() -> list[str]: ...
def _set_errors(base: type, classes: dict[int, type]) -> None: ...
def _shutdown() -> None: ...

class Chunk:
    """Captured samples in a buffer the module owns (buffer protocol, writable)."""
    position: int
    time_ns: int
    flags: int
    frames: int
    channels: int
    format: str
    def __len__(self) -> int: ...
    def __buffer__(self, flags: int) -> memoryview: ...

class Context:
    backend: str
    closed: bool
    live: int
    opened: int
    def __init__(self, backend: str = "auto", reconnect: bool = True) -> None: ...
    def list_sessions(self) -> list[tuple[int, str, str, int, bool, Optional[float], bool]]: ...
    def list_devices(self) -> list[tuple[str, str, bool, bool, int, int]]: ...
    def get_volume(self, kind: int, pid: int, name: Optional[str], tree: bool, /) -> tuple[float, bool, int]: ...
    def set_volume(self, kind: int, pid: int, name: Optional[str], tree: bool, level: float, /) -> None: ...
    def set_mute(self, kind: int, pid: int, name: Optional[str], tree: bool, muted: bool, /) -> None: ...
    def close(self) -> None: ...

class Capture:
    state: str
    ended: bool
    end_error: Optional[int]
    rate: int
    channels: int
    format: str
    chunk_frames: int
    closed: bool
    callback_failed: bool
    def __init__(self, context: Context, kind: int, pid: int = 0, name: Optional[str] = None, tree: bool = True,
                 exclude: bool = False, *, rate: int = 16000, channels: int = 1, sample: int = 1,
                 chunk_frames: int = 0, ring_ms: int = 2000, fill_silence: bool = True, latency_ms: int = 0,
                 callback: Optional[Callable[[Chunk], Any]] = None) -> None: ...
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def close(self) -> None: ...
    def read(self, timeout_ms: int) -> Optional[Chunk]: ...
    def events(self) -> list[tuple[str, int, int, int, int, int, int, str]]: ...
    def fileno(self) -> int: ...
    def event_handle(self) -> int: ...
    def stats(self) -> tuple[int, int, int, int, int, int, int, int, int, int]: ...
    def available(self) -> int: ...
    def inject(self, fault: int, amount: int) -> None: ...

class Aligned:
    """Read-style captures read as one timeline (libwac's wac_aligned_*)."""
    captures: tuple[Capture, ...]
    rate: int
    max_frames: int
    closed: bool
    ended: bool
    def __init__(self, captures: Sequence[Capture], max_frames: int) -> None: ...
    def read(self, frames: int, timeout_ms: int, /) -> Optional[tuple[Chunk, ...]]: ...
    def close(self) -> None: ...
