"""The audio server dies under running captures (SIGKILL to the private
PipeWire): reads raise pywac.Disconnected, callbacks see the end, and a new
capture says the backend is unavailable. It kills the session's server, so
it runs last (pytest takes files in name order)."""
from __future__ import annotations

import os
import signal
import threading
import time

import pytest

import pywac
from conftest import wait_playing

pytestmark = pytest.mark.pipewire


def test_server_loss(players):
    pid = players.tone(440, secs=60)
    wait_playing(pid)
    reader = pywac.Capture(pid)
    reader.start()
    events = []
    ended = threading.Event()

    def on_chunk(x):
        pass

    pushed = pywac.Capture(system=True, callback=on_chunk)
    pushed.start()
    assert reader.read(timeout=3) is not None

    os.kill(int(os.environ["WAC_PW_PIPEWIRE_PID"]), signal.SIGKILL)
    t = time.monotonic()
    with pytest.raises(pywac.Disconnected) as info:
        while True:
            reader.read(timeout=5)
    assert time.monotonic() - t < 5
    assert info.value.code == pywac._wac.ERR_SERVER_LOST
    types = [e.type for e in reader.events()]
    assert types[-2:] == ["server-lost", "ended"], types

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not ended.is_set():
        events += pushed.events()
        if events and events[-1].type == "ended":
            ended.set()
        time.sleep(0.05)
    assert ended.is_set() and events[-1].error == pywac._wac.ERR_SERVER_LOST, events
    reader.close()
    pushed.close()

    with pytest.raises(pywac.BackendUnavailable, match="pipewire"):
        pywac.Capture(pid)
