"""examples/live_captions.py end to end: two real speakers (pw-play of flite
speech) talk at the same time through the private PipeWire session; the
example, captioning speaker A by pid, must write A's words and not B's.

The reference: pocketsphinx on A's own WAV gives A's sentence word for word
(flite's awb and rms voices suit its US English model; espeak-ng's do not).
Both speakers mixed give neither sentence (about "please remember when i
lived in order ... please remember to buy him": B's words, none of A's), so
a capture that leaks B, or mixes the system, fails the test.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import wave

import numpy as np
import pytest

from conftest import ROOT, wait_playing

pytestmark = pytest.mark.pipewire

EXAMPLE = ROOT / "examples" / "live_captions.py"
A_TEXT = "open the window and close the door before the storm arrives"
B_TEXT = "please remember to buy milk eggs and bread at the market"
STOP_WORDS = {"the", "a", "and", "at", "to", "before"}
A_WORDS = set(A_TEXT.split()) - STOP_WORDS                  # open window close door storm arrives
B_ONLY = set(B_TEXT.split()) - STOP_WORDS - set(A_TEXT.split())  # please remember buy milk eggs bread market
CAPTION = re.compile(r"^\[ *(\d+\.\d\d)s\] (.+)$")
SECONDS = 12  # captioned: at least two of A's sentences whole (each 3.2 s, then 1 s of silence)


def need(module: str = "", program: str = "") -> None:
    """pocketsphinx and flite are test dependencies (scripts/install-deps.sh):
    missing, the test skips - but fails where WAC_REQUIRE_PW=1 (CI)."""
    missing = None
    if module:
        try:
            __import__(module)
        except ImportError:
            missing = f"python module {module}"
    if program and shutil.which(program) is None:
        missing = f"program {program}"
    if missing is None:
        return
    why = f"{missing} is missing: run scripts/install-deps.sh"
    if os.environ.get("WAC_REQUIRE_PW") == "1":
        pytest.fail(why)
    pytest.skip(why)


def speech_wav(path, voice: str, text: str, pause: float, repeat: int) -> None:
    """`text` spoken by flite's `voice`, then `pause` s of silence, `repeat` times."""
    one = path.with_suffix(".once.wav")
    subprocess.run(["flite", "-voice", voice, "-t", text, "-o", str(one)], check=True, timeout=30)
    with wave.open(str(one), "rb") as w:
        params, frames = w.getparams(), w.readframes(w.getnframes())
    silence = bytes(round(pause * params.framerate) * params.sampwidth * params.nchannels)
    with wave.open(str(path), "wb") as w:
        w.setparams(params)
        w.writeframes((frames + silence) * repeat)


def transcribe_wav(path) -> str:
    """pocketsphinx on a whole 16 kHz mono WAV, as the example sets it up."""
    sys.path.insert(0, str(EXAMPLE.parent))
    try:
        import live_captions
    finally:
        sys.path.pop(0)
    with wave.open(str(path), "rb") as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
        pcm = w.readframes(w.getnframes())
    decoder = live_captions.make_decoder(16000)
    decoder.start_utt()
    decoder.process_raw(pcm, False, True)
    decoder.end_utt()
    hyp = decoder.hyp()
    return hyp.hypstr if hyp is not None else ""


def speak(players, wav) -> int:
    """A real speaker: pw-play of `wav`, stopped with the test's players."""
    proc = subprocess.Popen(["pw-play", str(wav)], start_new_session=True, stdout=subprocess.DEVNULL)
    players.procs.append(proc)
    return proc.pid


def test_captions_one_speaker_of_two(players, tmp_path):
    need(module="pocketsphinx", program="flite")
    a_wav, b_wav = tmp_path / "a.wav", tmp_path / "b.wav"
    # A pauses 1 s between sentences (the captions' endpoints); B talks
    # almost without a break, so the two overlap all the time.
    speech_wav(a_wav, "awb", A_TEXT, pause=1.0, repeat=5)
    speech_wav(b_wav, "rms", B_TEXT, pause=0.4, repeat=6)

    reference = transcribe_wav(tmp_path / "a.once.wav")
    assert len(A_WORDS & set(reference.split())) >= 5, f"pocketsphinx on A's own WAV: {reference!r}"

    a, b = speak(players, a_wav), speak(players, b_wav)
    wait_playing(a, b)
    run = subprocess.run([sys.executable, str(EXAMPLE), "--pid", str(a), "--seconds", str(SECONDS)],
                         capture_output=True, text=True, timeout=60)
    report = f"A alone: {reference!r}\ncaptions:\n{run.stdout}stderr:\n{run.stderr}"
    assert run.returncode == 0, report

    captions = [CAPTION.match(line) for line in run.stdout.splitlines()]
    assert captions and all(captions), report
    times = [float(m.group(1)) for m in captions]
    assert len(times) >= 2 and times == sorted(times) and times[-1] < SECONDS, report
    heard = {word for m in captions for word in m.group(2).split()}
    # A's six content words, of which pocketsphinx gets all from A's own WAV
    # and from the capture; 5 leaves room for one misheard word. A capture
    # that mixes B in garbles A (none of them came through mixed).
    assert len(A_WORDS & heard) >= 5, f"A's words heard: {sorted(A_WORDS & heard)}\n{report}"
    # B's seven words never appear in captions of A alone; mixed, three or
    # more do (please, remember, buy).
    assert len(B_ONLY & heard) <= 1, f"B's words heard: {sorted(B_ONLY & heard)}\n{report}"


def test_captions_target_not_found():
    need(module="pocketsphinx")
    pid = 4 * 1024 * 1024 + 1  # above pid_max's ceiling on Linux: no such process
    run = subprocess.run([sys.executable, str(EXAMPLE), "--pid", str(pid), "--seconds", "1"],
                         capture_output=True, text=True, timeout=30)
    assert run.returncode == 3, (run.returncode, run.stderr)
    assert run.stdout == "" and run.stderr.count("\n") == 1 and "error:" in run.stderr, run.stderr
