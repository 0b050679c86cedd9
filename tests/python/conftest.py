"""Shared fixtures of pywac's tests.

Two kinds of tests:
- tests on the ``dummy`` backend (deterministic, clock-driven fake) run
  everywhere;
- tests marked ``pipewire`` need a private PipeWire + WirePlumber started by
  ``tests/servers/pw-session.sh run ...`` (it exports WAC_PW_SESSION_DIR).
  Outside such a session they are skipped with that reason - unless
  WAC_REQUIRE_PW=1 (CI), where a missing session is an error: CI never
  counts a skipped test as a pass.

Players are real processes (tests/servers/play-tone.sh: pw-play of a sine
tone), and tests check the captured audio itself.
"""
from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import time

import numpy as np
import pytest

import pywac

ROOT = pathlib.Path(__file__).resolve().parents[2]
PLAY_TONE = ROOT / "tests" / "servers" / "play-tone.sh"
RATE = 16000


def pytest_configure(config):
    config.addinivalue_line("markers", "pipewire: needs a private PipeWire session (tests/servers/pw-session.sh)")


def pytest_collection_modifyitems(config, items):
    # The server-loss test kills the private server: whatever order the files
    # come in, it runs after every other test.
    items.sort(key=lambda item: item.module.__name__ == "test_server_loss")
    if os.environ.get("WAC_PW_SESSION_DIR"):
        return
    if os.environ.get("WAC_REQUIRE_PW") == "1":
        raise pytest.UsageError("WAC_REQUIRE_PW=1 but no private PipeWire session: "
                                "run under tests/servers/pw-session.sh run ...")
    skip = pytest.mark.skip(reason="needs a private PipeWire: run under tests/servers/pw-session.sh run pytest ...")
    for item in items:
        if "pipewire" in item.keywords:
            item.add_marker(skip)


class Players:
    """Tone players started by a test; all stopped when it ends."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []

    def tone(self, freq: int, secs: int = 30, tree: bool = False) -> int:
        """Start a player of a `freq` Hz tone; returns the pid to capture.
        With tree, a shell runs the player as its child (the shell's pid is
        returned)."""
        if tree:
            cmd = ["/bin/sh", "-c", f"'{PLAY_TONE}' {freq} {secs}; true"]
        else:
            cmd = [str(PLAY_TONE), str(freq), str(secs)]
        proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL)
        self.procs.append(proc)
        return proc.pid

    def stop(self) -> None:
        for proc in self.procs:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for proc in self.procs:
            proc.wait(timeout=10)
        self.procs.clear()


@pytest.fixture
def players():
    p = Players()
    yield p
    p.stop()


def wait_playing(*pids: int, timeout: float = 8.0) -> None:
    """Wait until every pid plays audio (as libwac's session listing says)."""
    deadline = time.monotonic() + timeout
    while True:
        sessions = pywac.list_sessions()
        playing = {s.pid for s in sessions if s.playing}
        if all(pid in playing for pid in pids):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"players {pids} not playing after {timeout}s: {sessions}")
        time.sleep(0.05)


def tone_dbfs(x: np.ndarray, rate: int, freq: float) -> float:
    """Level of the tone at `freq` in a mono signal, dBFS (amplitude 1.0 =
    0 dBFS), by a Hann-windowed FFT: the peak bin near freq."""
    x = np.asarray(x, dtype=np.float64)
    window = np.hanning(len(x))
    spectrum = np.abs(np.fft.rfft(x * window)) * 2 / window.sum()
    freqs = np.fft.rfftfreq(len(x), 1 / rate)
    near = np.abs(freqs - freq) <= 3 * rate / len(x)
    return 20 * np.log10(max(spectrum[near].max(), 1e-12))


def record(capture: pywac.Capture, seconds: float) -> np.ndarray:
    """`seconds` of audio from a started capture, as one array."""
    want = round(seconds * capture.rate)
    parts, got = [], 0
    while got < want:
        chunk = capture.read(timeout=3)
        assert chunk is not None, "no audio for 3 s"
        parts.append(np.array(chunk))
        got += len(chunk)
    return np.concatenate(parts)[:want]
