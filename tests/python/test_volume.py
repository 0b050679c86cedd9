"""pywac's volume API: get_volume / set_volume / set_mute and the volume in
list_sessions. Argument checks and round trips on the dummy backend (its
player is this process); the audio itself on a private PipeWire."""
from __future__ import annotations

import math
import os
import time

import numpy as np
import pytest

import pywac
from conftest import RATE, record, tone_dbfs, wait_playing


def test_dummy_round_trip_and_mute_keeps_level():
    me = os.getpid()
    assert pywac.get_volume(me, backend="dummy") == pywac.Volume(1.0, False, 1)
    pywac.set_volume(0.5, pid=me, backend="dummy")
    # The dummy's context is shared per backend: the level stays for the next call.
    assert pywac.get_volume(name="wac-dummy-player", backend="dummy").level == 0.5
    pywac.set_mute(True, name="wac-dummy-player", backend="dummy")
    v = pywac.get_volume(me, backend="dummy")
    assert v.muted and v.level == 0.5
    (s,) = pywac.list_sessions("dummy")
    assert s.volume == 0.5 and s.muted
    pywac.set_mute(False, pid=me, backend="dummy")
    pywac.set_volume(1.0, pid=me, backend="dummy")
    assert pywac.get_volume(me, backend="dummy") == pywac.Volume(1.0, False, 1)


def test_dummy_volume_scales_the_audio():
    me = os.getpid()
    with pywac.Capture(system=True, backend="dummy", chunk_ms=100) as cap:
        before = np.array(cap.read(timeout=2))
        pywac.set_volume(0.25, pid=me, backend="dummy")
        try:
            for _ in range(3):  # what the ring held before the change
                cap.read(timeout=2)
            after = np.array(cap.read(timeout=2))
        finally:
            pywac.set_volume(1.0, pid=me, backend="dummy")
    # The dummy plays a ramp; a quarter of it is far below the unscaled ramp.
    assert after.max() < before.max() * 0.5 + 4 * 1600 / 2**24


@pytest.mark.parametrize("call, error", [
    (lambda: pywac.get_volume(backend="dummy"), pywac.InvalidArgument),
    (lambda: pywac.get_volume(1, name="x", backend="dummy"), pywac.InvalidArgument),
    (lambda: pywac.get_volume(0, backend="dummy"), pywac.InvalidArgument),
    (lambda: pywac.get_volume(name="", backend="dummy"), pywac.InvalidArgument),
    (lambda: pywac.set_volume(1.5, pid=os.getpid(), backend="dummy"), pywac.InvalidArgument),
    (lambda: pywac.set_volume(-0.1, pid=os.getpid(), backend="dummy"), pywac.InvalidArgument),
    (lambda: pywac.set_volume(math.nan, pid=os.getpid(), backend="dummy"), pywac.InvalidArgument),
    (lambda: pywac.set_volume("0.5", pid=os.getpid(), backend="dummy"), TypeError),
    (lambda: pywac.set_volume(True, pid=os.getpid(), backend="dummy"), TypeError),
    (lambda: pywac.set_mute(1, pid=os.getpid(), backend="dummy"), TypeError),
    (lambda: pywac.get_volume(os.getpid(), tree=1, backend="dummy"), TypeError),
    (lambda: pywac.get_volume(name="no-such-player", backend="dummy"), pywac.TargetNotFound),
    (lambda: pywac.set_mute(True, pid=1, backend="dummy"), pywac.TargetNotFound),
])
def test_bad_volume_calls_raise(call, error):
    with pytest.raises(error) as info:
        call()
    if isinstance(info.value, pywac.Error):
        assert info.value.detail  # the reason, not only the code


@pytest.mark.pipewire
def test_volume_and_mute_measured_from_the_audio(players):
    a, b = players.tone(440), players.tone(1000)
    wait_playing(a, b)

    def levels():
        with pywac.Capture(system=True, rate=RATE) as cap:
            x = record(cap, 1.5)[int(0.4 * RATE):]
        return tone_dbfs(x, RATE, 440), tone_dbfs(x, RATE, 1000)

    a0, b0 = levels()
    try:
        _measure_changes(a, a0, b0, levels)
    finally:
        # WirePlumber restores an application's last volume for its next
        # stream: leave the players at unity for the tests that follow.
        pywac.set_mute(False, pid=a)
        pywac.set_volume(1.0, pid=a)


def _measure_changes(a, a0, b0, levels):
    pywac.set_volume(0.5, pid=a)
    assert pywac.get_volume(a) == pywac.Volume(pytest.approx(0.5, abs=0.01), False, 1)
    time.sleep(0.3)
    a1, b1 = levels()
    assert a1 - a0 == pytest.approx(-6.02, abs=0.5)
    assert b1 - b0 == pytest.approx(0.0, abs=0.5)
    session = next(s for s in pywac.list_sessions() if s.pid == a)
    assert session.volume == pytest.approx(0.5, abs=0.01) and not session.muted

    pywac.set_mute(True, pid=a)
    time.sleep(0.3)
    a2, b2 = levels()
    assert a2 < -90 and b2 - b0 == pytest.approx(0.0, abs=0.5)
    assert next(s for s in pywac.list_sessions() if s.pid == a).muted

    pywac.set_mute(False, pid=a)
    time.sleep(0.3)
    a3, _ = levels()
    assert a3 - a0 == pytest.approx(-6.02, abs=0.5)


@pytest.mark.pipewire
def test_volume_of_a_pid_without_audio_says_so():
    with pytest.raises(pywac.TargetNotFound, match="plays no audio"):
        pywac.get_volume(os.getpid())
