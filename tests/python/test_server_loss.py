"""The audio server dies under running captures (SIGKILL to the private
PipeWire). pywac's contexts reconnect (libwac's wac_context_set_reconnect):
reads and callbacks go on through the loss with silence, marked by a
server-lost event and no end, and a new capture while there is no server
says the backend is unavailable. (libwac's own test of a context that does
not reconnect is test-backends --server-loss; of a server that comes back,
--server-restart.) It kills the session's server, so it runs last."""
from __future__ import annotations

import os
import signal
import time

import pywac
from conftest import wait_playing

import pytest

pytestmark = pytest.mark.pipewire


def test_server_loss(players):
    pid = players.tone(440, secs=60)
    wait_playing(pid)
    reader = pywac.Capture(system=True)
    reader.start()
    pushed_frames = []
    pushed = pywac.Capture(system=True, callback=lambda x: pushed_frames.append(len(x)))
    pushed.start()
    assert reader.read(timeout=3) is not None

    os.kill(int(os.environ["WAC_PW_PIPEWIRE_PID"]), signal.SIGKILL)
    killed = time.monotonic()
    pushed_before = len(pushed_frames)
    frames = 0
    while time.monotonic() - killed < 3:
        chunk = reader.read(timeout=5)
        assert chunk is not None, "the capture ended; a reconnecting one goes on"
        frames += len(chunk)
    events = reader.events()
    types = [e.type for e in events]
    assert "server-lost" in types and "ended" not in types, types
    assert next(e for e in events if e.type == "server-lost").error == pywac._wac.ERR_SERVER_LOST
    # Three seconds of timeline went by, as silence once the server was gone.
    assert frames >= 2 * 16000, frames
    assert reader.stats.frames_silence > 0

    # The callback capture too: chunks after the loss, and no end.
    deadline = time.monotonic() + 3
    pushed_events = []
    while time.monotonic() < deadline and "server-lost" not in [e.type for e in pushed_events]:
        pushed_events += pushed.events()
        time.sleep(0.05)
    assert "server-lost" in [e.type for e in pushed_events], pushed_events
    assert "ended" not in [e.type for e in pushed_events], pushed_events
    assert len(pushed_frames) > pushed_before
    reader.close()
    pushed.close()

    with pytest.raises(pywac.BackendUnavailable, match="pipewire"):
        pywac.Capture(pid)
