"""PyWAC 1.0's ``pywac.utils``: small helpers on plain sample lists
(interleaved floats), kept for scripts written against PyWAC. New code is
better served by :class:`pywac.AudioData` and numpy.

The list-in, list-out signatures are PyWAC's; numpy arrays are accepted too.
"""
from __future__ import annotations

import math
import os
import warnings
import wave
from typing import Any, Sequence, Union

from ._compat import require_numpy

np = require_numpy("pywac.utils")

__all__ = ["convert_float32_to_int16", "save_to_wav", "load_wav", "calculate_rms", "calculate_db",
           "normalize_audio", "get_audio_duration", "split_channels", "merge_channels"]

Samples = Union[Sequence[float], Any]  # a list of floats or a numpy array


def convert_float32_to_int16(audio_data: Samples) -> list[int]:
    """Float samples (-1..1) to int16 values: clipped to -1..1, scaled by
    32767 and truncated toward zero (PyWAC's conversion, kept bit for bit)."""
    x = np.clip(np.asarray(audio_data, dtype=np.float64).reshape(-1), -1.0, 1.0)
    return np.trunc(x * 32767).astype(np.int64).tolist()


def save_to_wav(audio_data: Samples, filename: Union[str, "os.PathLike[str]"], sample_rate: int = 48000,
                channels: int = 2) -> None:
    """Deprecated (as in PyWAC): use :meth:`pywac.AudioData.save`. Writes
    interleaved samples as a 16-bit WAV file; float samples are converted
    with :func:`convert_float32_to_int16`, integer ones written as they are."""
    warnings.warn("save_to_wav is deprecated, use AudioData.save()", DeprecationWarning, stacklevel=2)
    x = np.asarray(audio_data).reshape(-1)
    if np.issubdtype(x.dtype, np.floating):
        pcm = np.asarray(convert_float32_to_int16(x), dtype="<i2")
    else:
        pcm = x.astype("<i2")
    with open(os.fspath(filename), "wb") as file, wave.open(file, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm.tobytes())


def load_wav(filename: Union[str, "os.PathLike[str]"]) -> tuple[list[float], int, int]:
    """Deprecated (as in PyWAC): use :meth:`pywac.AudioData.load`. Reads a
    16-bit WAV file as ``(interleaved floats in -1..1, sample_rate, channels)``."""
    warnings.warn("load_wav is deprecated, use AudioData.load()", DeprecationWarning, stacklevel=2)
    with open(os.fspath(filename), "rb") as file, wave.open(file, "rb") as inp:
        if inp.getsampwidth() != 2:
            raise ValueError(f"{os.fspath(filename)}: only 16-bit WAV is supported")
        raw = inp.readframes(inp.getnframes())
        rate, channels = inp.getframerate(), inp.getnchannels()
    return (np.frombuffer(raw, dtype="<i2") / 32768.0).tolist(), rate, channels


def calculate_rms(audio_data: Samples) -> float:
    """Root mean square of the samples (0.0 when empty)."""
    x = np.asarray(audio_data, dtype=np.float64)
    return float(np.sqrt(np.mean(x * x))) if x.size else 0.0


def calculate_db(audio_data: Samples) -> float:
    """RMS level in dB (20·log10 of :func:`calculate_rms`); -inf when empty
    or silent."""
    rms = calculate_rms(audio_data)
    return 20 * math.log10(rms + 1e-10) if rms > 0 else float("-inf")


def normalize_audio(audio_data: Samples, target_level: float = 0.9) -> Samples:
    """Scale the samples so the peak is ``target_level``; empty or silent
    input comes back unchanged."""
    x = np.asarray(audio_data, dtype=np.float64)
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak == 0:
        return audio_data
    return (x * (target_level / peak)).tolist()


def get_audio_duration(audio_data: Samples, sample_rate: int = 48000, channels: int = 2) -> float:
    """Seconds of interleaved audio: samples / (rate × channels)."""
    return len(audio_data) / (sample_rate * channels)


def split_channels(audio_data: Samples, channels: int = 2) -> list[list[float]]:
    """Interleaved samples to one list per channel (sample i goes to channel
    i mod ``channels``)."""
    items = list(audio_data)
    return [items[c::channels] for c in range(channels)]


def merge_channels(channel_data: Sequence[Sequence[float]]) -> list[float]:
    """One list per channel to interleaved samples. Runs as long as the first
    channel; a shorter channel simply has nothing at the positions it lacks."""
    if not channel_data:
        return []
    out: list[float] = []
    for i in range(len(channel_data[0])):
        out.extend(ch[i] for ch in channel_data if i < len(ch))
    return out
