"""PyWAC 1.0's ``AudioData``: recorded samples with their rate and channel
count, as PyWAC's recording functions return them.

Samples are ``(frames, channels)`` arrays (``(frames,)`` for mono); float
samples are nominally in -1..1, int16/int32 ones come from WAV files.
Recording through this layer yields float32 frames of exactly the requested
duration (WAC keeps silence), which PyWAC could not promise.
"""
from __future__ import annotations

import os
import wave
from dataclasses import dataclass
from typing import Any, Union

from ._compat import require_numpy

np = require_numpy("pywac.audio_data")

__all__ = ["AudioData"]

# Full-scale values of the integer sample types: dividing by them maps to -1..1.
_INT_SCALE = {np.dtype(np.int16): 32768.0, np.dtype(np.int32): 2147483648.0}


@dataclass(eq=False)
class AudioData:
    """Audio samples, their sample rate (Hz) and channel count.

    A 1-D ``samples`` array with ``channels`` > 1 is read as interleaved
    (L0 R0 L1 R1 ...) and reshaped to ``(frames, channels)``, dropping an
    incomplete last frame; a 2-D one must have ``channels`` columns.
    """

    samples: Any
    sample_rate: int
    channels: int

    def __post_init__(self) -> None:
        if not isinstance(self.samples, np.ndarray):
            self.samples = np.asarray(self.samples)
        if isinstance(self.channels, bool) or not isinstance(self.channels, int) or self.channels < 1:
            raise ValueError(f"channels must be a positive int, got {self.channels!r}")
        if self.samples.ndim == 1:
            if self.channels > 1:
                whole = len(self.samples) - len(self.samples) % self.channels
                self.samples = self.samples[:whole].reshape(-1, self.channels)
        elif self.samples.ndim == 2:
            if self.samples.shape[1] != self.channels:
                raise ValueError(f"samples have {self.samples.shape[1]} channels but channels={self.channels}")
        else:
            raise ValueError(f"samples must be 1-D or 2-D, got shape {self.samples.shape}")

    # ---- facts ----

    @property
    def num_frames(self) -> int:
        """Frames (samples per channel)."""
        return int(self.samples.shape[0])

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.num_frames / self.sample_rate

    @property
    def dtype(self) -> Any:
        """The samples' numpy dtype."""
        return self.samples.dtype

    # ---- conversions ----

    def to_float32(self) -> "AudioData":
        """float32 samples in -1..1 (integer samples divided by their full
        scale); ``self`` when already float32."""
        if self.dtype == np.float32:
            return self
        scale = _INT_SCALE.get(self.dtype)
        converted = self.samples.astype(np.float32)
        if scale is not None:
            converted /= np.float32(scale)
        return AudioData(converted, self.sample_rate, self.channels)

    def to_int16(self) -> "AudioData":
        """int16 samples: floats clipped to -1..1 and scaled by 32767 (as
        PyWAC, truncating); ``self`` when already int16."""
        if self.dtype == np.int16:
            return self
        if np.issubdtype(self.dtype, np.floating):
            converted = (np.clip(self.samples, -1.0, 1.0) * 32767).astype(np.int16)
        else:
            converted = self.samples.astype(np.int16)
        return AudioData(converted, self.sample_rate, self.channels)

    def to_interleaved(self) -> Any:
        """The samples as one 1-D array, frames one after another (L0 R0 L1 R1 ...)."""
        return self.samples.reshape(-1)

    def to_mono(self) -> "AudioData":
        """One channel, the mean of all; ``self`` when already mono."""
        if self.channels == 1:
            return self
        return AudioData(self.samples.mean(axis=1), self.sample_rate, 1)

    # ---- files ----

    def save(self, filename: Union[str, "os.PathLike[str]"]) -> None:
        """Write a 16-bit PCM WAV file (see :meth:`to_int16`)."""
        pcm = self.to_int16().to_interleaved().astype("<i2", copy=False)
        # wave.open(path) would leave a broken object behind when the open fails (CPython 3.11)
        with open(os.fspath(filename), "wb") as file, wave.open(file, "wb") as out:
            out.setnchannels(self.channels)
            out.setsampwidth(2)
            out.setframerate(self.sample_rate)
            out.writeframes(pcm.tobytes())

    @classmethod
    def load(cls, filename: Union[str, "os.PathLike[str]"]) -> "AudioData":
        """Read a 16- or 32-bit PCM WAV file; the samples keep their integer
        type (int16 or int32). Other sample widths raise ValueError."""
        with open(os.fspath(filename), "rb") as file, wave.open(file, "rb") as inp:
            width = inp.getsampwidth()
            channels = inp.getnchannels()
            rate = inp.getframerate()
            raw = inp.readframes(inp.getnframes())
        types = {2: "<i2", 4: "<i4"}
        if width not in types:
            raise ValueError(f"{os.fspath(filename)}: {8 * width}-bit WAV is not supported (16 or 32 bits)")
        # A native-endian copy: writable, unlike a view of the bytes.
        samples = np.frombuffer(raw, dtype=types[width]).astype(types[width][1:])
        return cls(samples, rate, channels)

    @classmethod
    def from_interleaved(cls, data: Any, sample_rate: int = 48000, channels: int = 2) -> "AudioData":
        """From interleaved samples (a list or 1-D array)."""
        return cls(np.array(data), sample_rate, channels)

    # ---- measurements ----

    def get_statistics(self) -> dict[str, Any]:
        """Levels of the whole signal (all channels): ``rms``, ``peak`` (0..1
        of full scale), ``rms_db``, ``peak_db`` (dBFS; -inf when empty),
        ``duration``, ``num_frames``, ``sample_rate``, ``channels``."""
        if self.num_frames == 0:
            rms = peak = 0.0
            rms_db = peak_db = float("-inf")
        else:
            x = self.to_float32().samples.astype(np.float64)
            rms = float(np.sqrt(np.mean(x * x)))
            peak = float(np.max(np.abs(x)))
            # The 1e-10 floor keeps digital silence finite, as in PyWAC.
            rms_db = float(20 * np.log10(rms + 1e-10))
            peak_db = float(20 * np.log10(peak + 1e-10))
        return {"rms": rms, "peak": peak, "rms_db": rms_db, "peak_db": peak_db, "duration": self.duration,
                "num_frames": self.num_frames, "sample_rate": self.sample_rate, "channels": self.channels}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AudioData):
            return NotImplemented
        return (self.sample_rate == other.sample_rate and self.channels == other.channels
                and np.array_equal(self.samples, other.samples))

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by content

    def __repr__(self) -> str:
        return (f"AudioData(duration={self.duration:.2f}s, sample_rate={self.sample_rate}Hz, "
                f"channels={self.channels}, dtype={self.dtype})")
