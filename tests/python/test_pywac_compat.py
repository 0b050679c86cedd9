"""PyWAC 1.0's API on WAC (issue 14), used the way PyWAC's README and
examples use it: `import pywac`, then `pywac.record_to_file(...)`,
`pywac.list_audio_sessions()`, `pywac.capture.QueueBasedProcessCapture()`...,
by position and by keyword.

Two kinds of tests, as in the rest of the suite:
- on WAC's `dummy` backend (no server; the compatibility layer's backend is
  switched by the private `pywac._compat.backend`): its player is this very
  process, executable "wac-dummy-player", and its samples encode a frame
  counter, so continuity (no dropped silence) and gain are exact;
- marked `pipewire`: real pw-play players (executable "pw-cat") of sine
  tones at -8 dBFS in a private PipeWire session, and the tones measured in
  what was recorded.
"""
from __future__ import annotations

import inspect
import os
import subprocess
import sys
import threading
import time
import wave
import warnings

import numpy as np
import pytest

import pywac
import pywac._compat
from conftest import tone_dbfs, wait_playing

PLAYER = "wac-dummy-player"  # the dummy backend's one application
TONE_DB = -8.0
RATE = 48000


def run_python(code: str, timeout: float = 30, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, cwd=cwd)


def read_wav(path):
    with wave.open(str(path)) as w:
        raw = w.readframes(w.getnframes())
        x = np.frombuffer(raw, dtype="<i2").reshape(-1, w.getnchannels())
        return w.getframerate(), w.getnchannels(), w.getsampwidth(), x


def counters(x) -> np.ndarray:
    """The dummy's frame counters from f32 samples (see test_core.py)."""
    return np.rint(np.asarray(x, dtype=np.float64) * 2**24).astype(np.int64) - 1


def s16_counters(x) -> np.ndarray:
    """The dummy's s16 samples are (n mod 32767) + 1."""
    return np.asarray(x, dtype=np.int64) - 1


def continuous(n: np.ndarray, modulo: int) -> bool:
    return bool((np.diff(n) % modulo == 1).all())


def compat_warnings(record) -> list:
    return [w.message for w in record if issubclass(w.category, pywac.CompatibilityWarning)]


@pytest.fixture
def dummy(monkeypatch):
    """The compatibility layer on the dummy backend; the player's volume is
    put back afterwards (the dummy's context is shared by the process)."""
    monkeypatch.setattr(pywac._compat, "backend", "dummy")
    yield
    if hasattr(pywac._wac.Context, "set_volume"):
        pywac.set_volume(1.0, name=PLAYER, backend="dummy")
        pywac.set_mute(False, name=PLAYER, backend="dummy")


needs_volume = pytest.mark.skipif(not hasattr(pywac._wac.Context, "set_volume"),
                                  reason="libwac's application volume (wac_context_set_volume) is not built in")


# ---- import: cheap, lazy, and everything PyWAC exports ---------------------------------

PYWAC_ALL = ["SessionManager", "AudioSession", "AudioRecorder", "AsyncAudioRecorder", "AudioData", "record_to_file",
             "record_audio", "record_process", "record_process_id", "record_with_callback", "list_audio_sessions",
             "list_recordable_processes", "find_audio_session", "find_app", "get_active_sessions", "get_active_apps",
             "refresh_sessions", "set_app_volume", "get_app_volume", "adjust_volume", "mute_app", "unmute_app",
             "convert_float32_to_int16", "utils", "core", "capture"]


def test_import_pywac_loads_no_compat_module_and_no_numpy():
    result = run_python("import sys, pywac; print(' '.join(sorted(m for m in sys.modules "
                        "if m == 'numpy' or m.startswith('pywac.'))))")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["pywac._aligned", "pywac._capture", "pywac._errors", "pywac._record",
                                     "pywac._source", "pywac._wac"]
    # first use loads the name's module (and numpy), and only that
    result = run_python("import sys, pywac; pywac.AudioData; print(' '.join(sorted(m for m in sys.modules "
                        "if m == 'numpy' or m.startswith('pywac.'))))")
    assert set(result.stdout.split()) == {"numpy", "pywac._aligned", "pywac._capture", "pywac._compat",
                                          "pywac._errors", "pywac._record", "pywac._source", "pywac._wac",
                                          "pywac.audio_data"}


def test_every_pywac_name_is_there():
    for name in PYWAC_ALL:
        assert getattr(pywac, name) is not None, name
        assert name in dir(pywac) and name in pywac.__all__, name
    from pywac import capture, core, utils  # PyWAC's public native modules
    from pywac.api import record_to_file
    from pywac.unified_recording import Recorder, UnifiedRecorder, record
    assert pywac.record_to_file is record_to_file and pywac.AudioData is pywac.audio_data.AudioData
    assert pywac.convert_float32_to_int16 is utils.convert_float32_to_int16
    assert core.SimpleLoopback and capture.QueueBasedProcessCapture and Recorder is UnifiedRecorder and record
    assert issubclass(pywac.CompatibilityWarning, UserWarning)
    with pytest.raises(AttributeError):
        pywac.no_such_name


def test_star_import_gives_pywac_names():
    result = run_python("from pywac import *\nprint(record_to_file.__module__, AudioData.__name__, core.__name__, "
                        "Capture.__name__)")
    assert result.stdout.split() == ["pywac.api", "AudioData", "pywac.core", "Capture"], result.stderr


def test_without_numpy_wac_works_and_compat_names_say_why():
    result = run_python(f"""
import sys, os, tempfile, warnings
sys.modules['numpy'] = None  # import numpy fails
import pywac
from pywac import *            # WAC's names only
for name in ('record_to_file', 'AudioData', 'core', 'capture'):
    try:
        getattr(pywac, name)
    except ImportError as e:
        assert 'numpy' in str(e) and name in str(e), e
    else:
        raise AssertionError(name)
try:
    import pywac.api
except ImportError as e:
    assert 'numpy' in str(e)
else:
    raise AssertionError('pywac.api')
# record_process(_id) write WAV with the standard library: no numpy needed
path = os.path.join(tempfile.mkdtemp(), 'x.wav')
assert pywac.record_process('{PLAYER}', path, 0.2, backend='dummy') is True
assert issubclass(pywac.CompatibilityWarning, UserWarning)
print('ok')
""")
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


# PyWAC 1.0's parameter names and defaults (doc/pywac-1.0-api-notes.md): scripts call them by keyword.
SIGNATURES = {
    "record_to_file": "(filename, duration)", "record_audio": "(duration)",
    "record_process": "(process_name, filename, duration)", "record_process_id": "(pid, filename, duration)",
    "record_with_callback": "(duration, callback)", "list_audio_sessions": "(active_only=False)",
    "list_recordable_processes": "()", "find_audio_session": "(app_name)", "find_app": "(app_name)",
    "get_active_sessions": "()", "get_active_apps": "()", "refresh_sessions": "()",
    "set_app_volume": "(app_name, volume)", "get_app_volume": "(app_name)", "adjust_volume": "(app_name, delta)",
    "mute_app": "(app_name)", "unmute_app": "(app_name)", "convert_float32_to_int16": "(audio_data)",
    "AudioRecorder": "(sample_rate=48000, channels=2)",
    "AsyncAudioRecorder": "(sample_rate=48000, channels=2, callback=None)",
    "AudioData": "(samples, sample_rate, channels)",
}


def positional(func) -> str:
    """The signature without WAC's keyword-only extras and annotations."""
    params = [p.replace(annotation=inspect.Parameter.empty) for p in inspect.signature(func).parameters.values()
              if p.kind is not p.KEYWORD_ONLY]
    return str(inspect.Signature(params))


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_pywac_signatures(name):
    assert positional(getattr(pywac, name)) == SIGNATURES[name]


def test_class_and_module_signatures():
    from pywac import capture, core, unified_recording, utils
    expect = {
        pywac.SessionManager.list_sessions: "(self, active_only=False)",
        pywac.SessionManager.set_volume: "(self, app_name, volume)",
        pywac.SessionManager.set_mute: "(self, app_name, mute)",
        pywac.AudioRecorder.start: "(self, duration=None)",
        pywac.AudioRecorder.record_to_file: "(self, filename, duration)",
        pywac.AudioRecorder.save: "(self, filename=None)",
        pywac.AsyncAudioRecorder.start_async: "(self, duration)",
        pywac.AudioData.from_interleaved: "(data, sample_rate=48000, channels=2)",
        unified_recording.record: "(duration, target=None, output_file=None, on_complete=None, fallback_enabled=True)",
        unified_recording.UnifiedRecorder.record_to_file: "(self, duration, filename)",
        capture.QueueBasedProcessCapture: "(queue_size=1000)",
        capture.QueueBasedProcessCapture.start: "(self, process_id)",
        capture.QueueBasedProcessCapture.pop_chunks: "(self, max_chunks=10, timeout_ms=10)",
        capture.QueueBasedProcessCapture.pop_chunk: "(self, timeout_ms=10)",
        capture.QueueBasedProcessCapture.set_chunk_size: "(self, frames)",
        core.SessionEnumerator.set_session_volume: "(self, process_id, volume)",
        utils.save_to_wav: "(audio_data, filename, sample_rate=48000, channels=2)",
        utils.normalize_audio: "(audio_data, target_level=0.9)",
        utils.get_audio_duration: "(audio_data, sample_rate=48000, channels=2)",
        utils.split_channels: "(audio_data, channels=2)",
    }
    for func, sig in expect.items():
        assert positional(func) == sig, func


# ---- AudioData and utils: pure logic ----------------------------------------------------


def test_audio_data_shapes_and_conversions():
    a = pywac.AudioData(np.arange(7, dtype=np.float32), 48000, 2)  # interleaved, odd sample dropped
    assert a.samples.shape == (3, 2) and a.num_frames == 3 and a.samples[1].tolist() == [2.0, 3.0]
    assert a.to_interleaved().tolist() == [0, 1, 2, 3, 4, 5]
    assert a.duration == 3 / 48000 and a.dtype == np.float32
    with pytest.raises(ValueError):
        pywac.AudioData(np.zeros((4, 3)), 48000, 2)
    f = pywac.AudioData(np.array([[0.5, -1.5], [1.0, -0.25]], dtype=np.float32), 16000, 2)
    i16 = f.to_int16()
    assert i16.dtype == np.int16 and i16.samples.tolist() == [[16383, -32767], [32767, -8191]]
    back = pywac.AudioData(np.array([16384, -32768], dtype=np.int16), 8000, 1).to_float32()
    assert back.dtype == np.float32 and back.samples.tolist() == [0.5, -1.0]
    assert f.to_float32() is f and i16.to_int16() is i16
    mono = f.to_mono()
    assert mono.channels == 1 and mono.samples.tolist() == pytest.approx([-0.5, 0.375])
    c = pywac.AudioData.from_interleaved([0.1, 0.2, 0.3, 0.4])
    assert (c.sample_rate, c.channels, c.samples.shape) == (48000, 2, (2, 2))
    assert c == pywac.AudioData.from_interleaved([0.1, 0.2, 0.3, 0.4]) and c != f
    assert repr(c) == "AudioData(duration=0.00s, sample_rate=48000Hz, channels=2, dtype=float64)"
    six = pywac.AudioData(np.arange(12), 48000, 6)  # any channel count (WAC records up to 8)
    assert six.samples.shape == (2, 6)


def test_audio_data_save_load_roundtrip(tmp_path):
    t = np.arange(4800) / 48000
    x = np.stack([0.5 * np.sin(2 * np.pi * 440 * t), 0.25 * np.sin(2 * np.pi * 1000 * t)], axis=1).astype(np.float32)
    audio = pywac.AudioData(x, 48000, 2)
    audio.save(str(tmp_path / "a.wav"))
    rate, channels, width, pcm = read_wav(tmp_path / "a.wav")
    assert (rate, channels, width, len(pcm)) == (48000, 2, 2, 4800)
    loaded = pywac.AudioData.load(str(tmp_path / "a.wav"))
    assert loaded.dtype == np.int16 and loaded.samples.shape == (4800, 2) and loaded.sample_rate == 48000
    assert loaded == audio.to_int16()
    assert np.abs(loaded.to_float32().samples - x).max() < 2 / 32768
    with wave.open(str(tmp_path / "b.wav"), "wb") as w:  # 32-bit PCM loads as int32
        w.setnchannels(1)
        w.setsampwidth(4)
        w.setframerate(8000)
        w.writeframes(np.array([1 << 30, -(1 << 31)], dtype="<i4").tobytes())
    b = pywac.AudioData.load(tmp_path / "b.wav")
    assert b.dtype == np.int32 and b.to_float32().samples.tolist() == [0.5, -1.0]


def test_audio_data_statistics():
    t = np.arange(48000) / 48000
    stats = pywac.AudioData(np.stack([0.5 * np.sin(2 * np.pi * 100 * t)] * 2, axis=1).astype(np.float32),
                            48000, 2).get_statistics()
    assert set(stats) == {"rms", "peak", "rms_db", "peak_db", "duration", "num_frames", "sample_rate", "channels"}
    assert stats["rms"] == pytest.approx(0.5 / np.sqrt(2), rel=1e-4)
    assert stats["peak"] == pytest.approx(0.5, rel=1e-4) and stats["peak_db"] == pytest.approx(-6.02, abs=0.01)
    assert stats["rms_db"] == pytest.approx(-9.03, abs=0.01)
    assert (stats["duration"], stats["num_frames"], stats["sample_rate"], stats["channels"]) == (1.0, 48000, 48000, 2)
    empty = pywac.AudioData(np.array([]), 48000, 2).get_statistics()
    assert empty["rms"] == 0.0 and empty["peak_db"] == -np.inf and empty["num_frames"] == 0


def test_utils(tmp_path):
    from pywac import utils
    assert pywac.convert_float32_to_int16([0.5, -1.5, 1.0, -0.00001, 0.99999]) == [16383, -32767, 32767, 0, 32766]
    samples = [0.5, -0.5, 0.25, -0.25]
    with pytest.warns(DeprecationWarning):
        utils.save_to_wav(samples, str(tmp_path / "u.wav"), sample_rate=8000, channels=2)
    rate, channels, width, pcm = read_wav(tmp_path / "u.wav")
    assert (rate, channels, width) == (8000, 2, 2) and pcm.reshape(-1).tolist() == [16383, -16383, 8191, -8191]
    with pytest.warns(DeprecationWarning):
        data, rate, channels = utils.load_wav(str(tmp_path / "u.wav"))
    assert (rate, channels) == (8000, 2) and data == pytest.approx([16383 / 32768, -16383 / 32768,
                                                                     8191 / 32768, -8191 / 32768])
    assert utils.calculate_rms([0.5, -0.5]) == pytest.approx(0.5) and utils.calculate_rms([]) == 0.0
    assert utils.calculate_db([0.5, -0.5]) == pytest.approx(-6.0206, abs=1e-3)
    assert utils.calculate_db([0.0, 0.0]) == -float("inf")
    assert utils.normalize_audio([0.1, -0.2], target_level=0.8) == pytest.approx([0.4, -0.8])
    assert utils.normalize_audio([]) == []
    assert utils.get_audio_duration([0.0] * 96000) == 1.0
    assert utils.split_channels([1, 2, 3, 4, 5, 6], channels=3) == [[1, 4], [2, 5], [3, 6]]
    assert utils.merge_channels([[1, 3], [2, 4]]) == [1, 2, 3, 4] and utils.merge_channels([]) == []


# ---- recording on the dummy backend -----------------------------------------------------


def test_record_process_by_exact_name(dummy, tmp_path):
    assert pywac.record_process(PLAYER, str(tmp_path / "a.wav"), 0.5) is True
    rate, channels, width, x = read_wav(tmp_path / "a.wav")
    assert (rate, channels, width, len(x)) == (48000, 2, 2, 24000)  # exactly 0.5 s
    assert continuous(s16_counters(x[:, 0]), 32767)  # every frame, none dropped
    # case-insensitive, with or without .exe, by keyword
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert pywac.record_process(process_name="WAC-Dummy-Player.EXE", filename=tmp_path / "b.wav",
                                    duration=0.2) is True
    assert read_wav(tmp_path / "b.wav")[3].shape == (9600, 2)


def test_record_process_reports_a_near_miss_instead_of_guessing(dummy, tmp_path):
    (tmp_path / "old.wav").write_bytes(b"keep me")
    t = time.monotonic()
    with pytest.warns(pywac.CompatibilityWarning, match="similar names: 'wac-dummy-player'") as record:
        assert pywac.record_process("dummy-player", str(tmp_path / "old.wav"), 5.0) is False
    assert time.monotonic() - t < 2  # refused at once, nothing recorded
    (warning,) = compat_warnings(record)
    assert isinstance(warning.error, pywac.TargetNotFound) and "dummy-player" in str(warning)
    assert record[0].filename == __file__  # the warning points at the caller's line
    assert (tmp_path / "old.wav").read_bytes() == b"keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.wav"]  # no temporary left behind


def test_record_process_id(dummy, tmp_path):
    assert pywac.record_process_id(os.getpid(), str(tmp_path / "p.wav"), 0.3) is True
    assert read_wav(tmp_path / "p.wav")[3].shape == (14400, 2)
    assert pywac.record_process_id(pid=os.getpid(), filename=str(tmp_path / "q.wav"), duration=0.1,
                                   rate=16000, channels=1) is True
    assert read_wav(tmp_path / "q.wav")[:3] == (16000, 1, 2)
    with pytest.warns(pywac.CompatibilityWarning, match="no such process") as record:
        assert pywac.record_process_id(2**22 + 12345, str(tmp_path / "n.wav"), 0.2) is False
    assert isinstance(compat_warnings(record)[0].error, pywac.TargetNotFound)
    assert not (tmp_path / "n.wav").exists()


def test_pid_zero_records_the_system_with_a_warning(dummy, tmp_path):
    with pytest.warns(pywac.CompatibilityWarning, match="pid 0 records the whole system") as record:
        assert pywac.record_process_id(0, str(tmp_path / "s.wav"), 0.2) is True
    assert compat_warnings(record)[0].error is None  # nothing failed
    assert "Capture(system=True)" in str(compat_warnings(record)[0])
    assert read_wav(tmp_path / "s.wav")[3].shape == (9600, 2)


def test_record_to_file_and_failures(dummy, tmp_path):
    assert pywac.record_to_file(str(tmp_path / "sys.wav"), 0.25) is True
    rate, channels, width, x = read_wav(tmp_path / "sys.wav")
    assert (rate, channels, width, len(x)) == (48000, 2, 2, 12000)
    assert pywac.record_to_file(filename=str(tmp_path / "kw.wav"), duration=0.1) is True
    with pytest.warns(pywac.CompatibilityWarning, match="cannot write"):
        assert pywac.record_to_file(str(tmp_path / "no" / "dir.wav"), 0.1) is False
    with pytest.warns(pywac.CompatibilityWarning, match="duration") as record:
        assert pywac.record_to_file(str(tmp_path / "zero.wav"), 0) is False
    assert isinstance(compat_warnings(record)[0].error, pywac.InvalidArgument)
    assert not (tmp_path / "zero.wav").exists()


def test_failures_print_nothing(tmp_path):
    result = run_python("""
import pywac, pywac._compat, os
pywac._compat.backend = 'dummy'
pywac.record_process('dummy-player', 'x.wav', 1)
pywac.record_process_id(2**22 + 12345, 'x.wav', 1)
pywac.find_audio_session('nothing')
pywac.capture.QueueBasedProcessCapture().start(2**22 + 12345)
""", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout == "", result.stderr
    assert result.stderr.count("CompatibilityWarning") == 4  # and the reasons go to the warnings
    assert list(tmp_path.iterdir()) == []


def test_compatibility_warning_can_be_an_error(dummy, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", pywac.CompatibilityWarning)
        with pytest.raises(pywac.CompatibilityWarning) as info:
            pywac.record_process("dummy-player", str(tmp_path / "x.wav"), 1.0)
    assert isinstance(info.value.error, pywac.TargetNotFound)


def test_record_audio(dummy):
    audio = pywac.record_audio(0.3)
    assert isinstance(audio, pywac.AudioData)
    assert (audio.sample_rate, audio.channels, audio.dtype, audio.samples.shape) == (48000, 2, np.float32, (14400, 2))
    assert continuous(counters(audio.samples[:, 0]), 2**24 - 1)
    with pytest.warns(pywac.CompatibilityWarning, match="duration"):
        empty = pywac.record_audio(duration=-1)
    assert empty.samples.shape == (0, 2) and empty.sample_rate == 48000


def test_record_with_callback(dummy):
    got, threads = [], []
    done = threading.Event()

    def on_complete(audio):
        got.append(audio)
        threads.append(threading.current_thread())
        done.set()

    t = time.monotonic()
    assert pywac.record_with_callback(0.3, on_complete) is None
    assert time.monotonic() - t < 0.2  # returns at once
    assert done.wait(5)
    time.sleep(0.1)
    assert len(got) == 1 and got[0].samples.shape == (14400, 2) and got[0].dtype == np.float32
    assert threads[0] is not threading.current_thread() and threads[0].daemon


def test_audio_recorder_honours_rate_and_channels(dummy, tmp_path):
    audio = pywac.AudioRecorder().record(0.25)
    assert (audio.sample_rate, audio.channels, audio.samples.shape, audio.dtype) == (48000, 2, (12000, 2), np.float32)
    assert continuous(counters(audio.samples[:, 0]), 2**24 - 1)
    mono = pywac.AudioRecorder(sample_rate=16000, channels=1).record(0.25)
    assert (mono.sample_rate, mono.channels, mono.samples.shape) == (16000, 1, (4000,))

    rec = pywac.AudioRecorder(sample_rate=22050, channels=2)
    assert not rec.is_recording and rec.recording_time == 0.0
    assert rec.start() is True
    assert rec.is_recording
    with pytest.raises(RuntimeError, match="already"):
        rec.start()
    time.sleep(0.3)
    assert rec.recording_time > 0.25 and rec.sample_count > 0 and rec.sample_count % 2 == 0
    assert rec.get_audio().num_frames > 0 and rec.is_recording
    name = rec.save(str(tmp_path / "snap"))
    assert name.endswith("snap.wav") and read_wav(name)[0] == 22050
    audio = rec.stop()
    assert not rec.is_recording and audio.sample_rate == 22050 and audio.num_frames >= 0.25 * 22050
    assert continuous(counters(audio.samples[:, 0]), 2**24 - 1)
    assert rec.stop().num_frames == 0  # nothing more
    with pytest.raises(ValueError, match="No audio"):
        rec.save(str(tmp_path / "empty.wav"))
    assert rec.record_to_file(str(tmp_path / "r.wav"), 0.2) is True
    assert read_wav(tmp_path / "r.wav")[3].shape == (4410, 2)


def test_async_audio_recorder(dummy):
    got = []
    done = threading.Event()
    rec = pywac.AsyncAudioRecorder(callback=lambda audio: (got.append(audio), done.set()))
    assert rec.start_async(0.2) is None
    assert done.wait(5)
    assert len(got) == 1 and got[0].samples.shape == (9600, 2)


def test_unified_recording(dummy, tmp_path):
    from pywac import unified_recording as ur
    audio = ur.record(0.2, target=PLAYER)
    assert audio.samples.shape == (9600, 2)
    assert ur.record(0.2, target=os.getpid(), output_file=str(tmp_path / "u.wav")) is True
    with pytest.warns(pywac.CompatibilityWarning, match="similar names"):
        assert ur.record(0.2, target="dummy").num_frames == 0
    recorder = ur.Recorder(PLAYER)
    assert recorder.is_available() and recorder.record_to_file(0.1, str(tmp_path / "v.wav")) is True
    assert not ur.UnifiedRecorder("no-such-app").is_available() and ur.UnifiedRecorder().is_available()
    got = []
    done = threading.Event()
    ur.UnifiedRecorder(PLAYER).record_async(0.1, lambda a: (got.append(a), done.set()))
    assert done.wait(5) and got[0].num_frames == 4800
    assert ur.capture_app_audio(PLAYER, 0.1, fallback_enabled=False).num_frames == 4800


# ---- sessions on the dummy backend ------------------------------------------------------

SESSION_KEYS = {"process_id", "process_name", "state", "is_active", "volume", "volume_percent", "is_muted"}


def test_list_audio_sessions_and_friends(dummy):
    # A fresh process: no capture of an earlier test keeps the dummy player playing.
    result = run_python("""
import os, pywac, pywac._compat
pywac._compat.backend = 'dummy'
(idle,) = pywac.list_audio_sessions()
assert idle == {'process_id': os.getpid(), 'process_name': 'wac-dummy-player', 'state': 'Inactive',
                'is_active': False, 'volume': idle['volume'], 'volume_percent': idle['volume_percent'],
                'is_muted': False}, idle
assert pywac.list_audio_sessions(active_only=True) == [] and pywac.get_active_sessions() == []
print('ok')
""")
    assert result.stdout.strip() == "ok", result.stderr
    (s,) = pywac.list_audio_sessions()
    assert set(s) == SESSION_KEYS and s["process_id"] == os.getpid() and s["process_name"] == PLAYER
    with pywac.Capture(system=True, backend="dummy"):  # the dummy player plays while a capture runs
        (active,) = pywac.list_audio_sessions(active_only=True)
        assert active["state"] == "Active" and active["is_active"] is True
        assert pywac.get_active_sessions() == [PLAYER]
        with pytest.warns(DeprecationWarning):
            assert pywac.get_active_apps() == [PLAYER]
        objects = pywac.SessionManager().get_active_session_objects()
        assert objects[0].is_active and objects[0].state_name == "Active"
    assert pywac.list_recordable_processes() == [{"pid": os.getpid(), "name": PLAYER}]
    assert pywac.refresh_sessions() is None


def test_find_audio_session(dummy):
    info = pywac.find_audio_session(app_name="wac-dummy-player.exe")
    assert set(info) == SESSION_KEYS | {"display_name"}
    assert info["process_id"] == os.getpid() and info["display_name"] == "WAC dummy player"
    with pytest.warns(pywac.CompatibilityWarning, match="similar names: 'wac-dummy-player'"):
        assert pywac.find_audio_session("dummy") is None  # PyWAC would have taken it
    with pytest.warns(pywac.CompatibilityWarning, match="no application named 'firefox'"):
        assert pywac.find_audio_session("firefox") is None
    with pytest.warns(DeprecationWarning):
        assert pywac.find_app(PLAYER)["process_name"] == PLAYER
    session = pywac.SessionManager().find_session(PLAYER)
    assert isinstance(session, pywac.AudioSession) and session.process_name == PLAYER
    assert "wac-dummy-player (PID: " in str(session)


def test_unknown_app_volume_calls_fail_with_a_warning(dummy):
    for call, result in [(lambda: pywac.set_app_volume("no-such-app", 0.5), False),
                         (lambda: pywac.get_app_volume("no-such-app"), None),
                         (lambda: pywac.adjust_volume("no-such-app", 0.1), None),
                         (lambda: pywac.mute_app("no-such-app"), False),
                         (lambda: pywac.unmute_app("no-such-app"), False)]:
        with pytest.warns(pywac.CompatibilityWarning, match="no application named 'no-such-app'") as record:
            assert call() is result
        assert isinstance(compat_warnings(record)[0].error, pywac.TargetNotFound)
    with pytest.raises(ValueError, match="between 0.0 and 1.0"):
        pywac.set_app_volume(PLAYER, 1.5)


@needs_volume
def test_volume_and_mute_on_the_dummy(dummy):
    assert pywac.set_app_volume(PLAYER, 0.5) is True
    assert pywac.get_app_volume(PLAYER) == 0.5
    (s,) = pywac.list_audio_sessions()
    assert (s["volume"], s["volume_percent"], s["is_muted"]) == (0.5, 50, False)
    loud = pywac.record_audio(0.1).samples[:, 0]
    assert continuous(counters(loud / 0.5), 2**24 - 1)  # the ramp at half its amplitude: the gain is applied
    assert pywac.mute_app(PLAYER) is True
    assert pywac.list_audio_sessions()[0]["is_muted"] is True and pywac.SessionManager().is_muted(PLAYER) is True
    assert not pywac.record_audio(0.1).samples.any()
    assert pywac.unmute_app(PLAYER) is True  # PyWAC's always failed
    assert pywac.get_app_volume(PLAYER) == 0.5 and pywac.list_audio_sessions()[0]["is_muted"] is False
    assert pywac.record_audio(0.1).samples.all()
    assert pywac.adjust_volume(PLAYER, 0.25) == 0.75 and pywac.get_app_volume(PLAYER) == 0.75
    assert pywac.adjust_volume(PLAYER, 1.0) == 1.0 and pywac.adjust_volume(PLAYER, -2) == 0.0
    from pywac import core
    assert core.SessionEnumerator().set_session_volume(os.getpid(), 0.25) is True
    assert pywac.get_app_volume(PLAYER) == 0.25
    assert core.SessionEnumerator().set_session_mute(os.getpid(), True) is True
    assert core.SessionEnumerator().enumerate_sessions()[0].muted is True
    with pytest.warns(pywac.CompatibilityWarning) as record:
        assert core.SessionEnumerator().set_session_volume(os.getpid() + 1, 0.5) is False
    assert isinstance(compat_warnings(record)[0].error, pywac.TargetNotFound)


def test_volume_percent_truncates_but_forgives_float_error():
    from pywac._compat import volume_percent
    assert volume_percent(0.5) == 50 and volume_percent(0.999) == 99 and volume_percent(1.0) == 100
    assert volume_percent(float(np.float32(0.29))) == 29  # 28.999999...: PyWAC said 28
    assert volume_percent(0.4998) == 49 and volume_percent(0.49999) == 50 and volume_percent(0.4999999) == 50 and volume_percent(None) is None


# ---- pywac.core and pywac.capture on the dummy backend ------------------------------------


def test_core_session_enumerator(dummy):
    from pywac import core
    (info,) = core.SessionEnumerator().enumerate_sessions()
    assert isinstance(info, core.AudioSessionInfo)
    assert (info.process_id, info.process_name, info.display_name) == (os.getpid(), PLAYER, "WAC dummy player")
    assert info.state == core.SessionState.Inactive == 0 and info.muted is False
    assert [s.name for s in core.SessionState] == ["Inactive", "Active", "Expired"]
    with pytest.raises(AttributeError):
        info.volume = 0.3


def test_core_simple_loopback(dummy):
    from pywac import core
    loop = core.SimpleLoopback()
    assert loop.get_buffer().size == 0  # not started
    assert loop.start() is True
    with pytest.warns(pywac.CompatibilityWarning, match="already started"):
        assert loop.start() is False
    time.sleep(0.3)
    first = loop.get_buffer()
    time.sleep(0.1)
    second = loop.get_buffer()
    loop.stop()
    assert first.dtype == np.float32 and first.ndim == 1 and first.size % 2 == 0
    assert 0.25 * 96000 <= first.size <= 0.4 * 96000 and second.size > 0
    both = np.concatenate([first, second])
    assert continuous(counters(both[0::2]), 2**24 - 1) and (both[0::2] == both[1::2]).all()  # interleaved
    assert loop.get_buffer().size == 0


def test_queue_capture(dummy):
    from pywac import capture
    cap = capture.QueueBasedProcessCapture()
    assert not cap.is_capturing() and cap.pop_chunks() == [] and cap.pop_chunk() is None
    assert cap.start(os.getpid()) is True
    assert cap.is_capturing()
    with pytest.warns(pywac.CompatibilityWarning, match="already capturing"):
        assert cap.start(os.getpid()) is False
    chunks = []
    deadline = time.monotonic() + 5
    while len(chunks) < 30 and time.monotonic() < deadline:
        chunks += cap.pop_chunks(max_chunks=100, timeout_ms=100)
    now_us = time.monotonic_ns() // 1000
    metrics = cap.get_metrics()
    cap.stop()
    assert not cap.is_capturing()
    assert len(chunks) >= 30
    for c in chunks:
        assert set(c) == {"data", "silent", "timestamp"}
        assert c["data"].dtype == np.float32 and c["data"].shape == (480, 2) and c["silent"] is False
    data = np.concatenate([c["data"] for c in chunks])
    assert continuous(counters(data[:, 0]), 2**24 - 1)  # a continuous timeline
    stamps = np.array([c["timestamp"] for c in chunks])
    assert (np.abs(np.diff(stamps) - 10000) <= 1).all()  # 480 frames = 10 ms, on the stream's clock
    assert abs(int(stamps[-1]) - now_us) < 2_000_000  # monotonic µs, as std::steady_clock
    assert set(metrics) >= {"capturing", "total_frames", "total_silent_frames", "capture_errors", "elapsed_seconds",
                            "queue_size", "total_chunks", "dropped_chunks", "chunk_size", "event_driven",
                            "event_signals", "timeouts", "frames_per_second"}
    assert metrics["capturing"] is True and metrics["chunk_size"] == 480 and metrics["dropped_chunks"] == 0
    assert metrics["total_frames"] == 480 * metrics["total_chunks"] and metrics["total_silent_frames"] == 0
    assert metrics["total_chunks"] >= len(chunks)


def test_queue_capture_chunk_size_overflow_and_system(dummy):
    from pywac import capture
    cap = capture.QueueBasedProcessCapture(queue_size=5)
    cap.set_chunk_size(960)
    assert cap.start(os.getpid())
    with pytest.warns(pywac.CompatibilityWarning, match="ignored while capturing"):
        cap.set_chunk_size(100)
    time.sleep(0.4)  # ~20 chunks of 20 ms into a queue of 5: the oldest go
    assert cap.queue_size() == 5
    chunks = cap.pop_chunks(max_chunks=3)
    assert len(chunks) == 3 and all(c["data"].shape == (960, 2) for c in chunks)
    assert cap.get_metrics()["dropped_chunks"] >= 10
    cap.stop()
    assert len(cap.pop_chunks(max_chunks=10)) >= 2  # queued chunks stay poppable after stop

    system = capture.QueueBasedProcessCapture()
    with pytest.warns(pywac.CompatibilityWarning, match="pid 0 records the whole system"):
        assert system.start(0) is True
    assert system.pop_chunk(timeout_ms=2000)["data"].shape == (480, 2)
    system.stop()
    with pytest.warns(pywac.CompatibilityWarning, match="no such process") as record:
        assert capture.QueueBasedProcessCapture().start(2**22 + 12345) is False
    assert isinstance(compat_warnings(record)[0].error, pywac.TargetNotFound)


@needs_volume
def test_queue_capture_silent_is_honest(dummy):
    from pywac import capture
    assert pywac.mute_app(PLAYER)
    cap = capture.QueueBasedProcessCapture()
    assert cap.start(os.getpid())
    chunks = [cap.pop_chunk(timeout_ms=2000) for _ in range(10)]
    cap.stop()
    assert all(c["silent"] and not c["data"].any() for c in chunks)  # silent, and still delivered
    assert cap.get_metrics()["total_silent_frames"] >= 4800


def test_list_audio_processes(dummy):
    from pywac import capture
    (proc,) = capture.list_audio_processes()
    assert (proc.pid, proc.name) == (os.getpid(), PLAYER)
    assert repr(proc) == f"<ProcessInfo pid={os.getpid()} name='{PLAYER}'>"


# ---- against a real PipeWire: pw-play players (executable "pw-cat") -------------------------


def tone_level(samples: np.ndarray, freq: float, skip: float = 0.3) -> float:
    """Level of the tone in a (frames, 2) float or int16 recording, dBFS."""
    x = np.asarray(samples, dtype=np.float64)
    if samples.dtype == np.int16:
        x = x / 32768
    return tone_dbfs(x[round(skip * RATE):].mean(axis=1), RATE, freq)


@pytest.mark.pipewire
def test_pw_list_audio_sessions(players):
    pid = players.tone(440)
    wait_playing(pid)
    sessions = pywac.list_audio_sessions()
    (mine,) = [s for s in sessions if s["process_id"] == pid]
    assert set(mine) == SESSION_KEYS
    assert mine["process_name"] == "pw-cat" and mine["state"] == "Active" and mine["is_active"] is True
    assert mine["is_muted"] is False
    assert isinstance(mine["volume"], float) and 0.0 <= mine["volume"] <= 1.0
    assert mine["volume_percent"] == int(mine["volume"] * 100 + 0.01)
    assert {"pid": pid, "name": "pw-cat"} in pywac.list_recordable_processes()
    assert any(p.pid == pid and p.name == "pw-cat" for p in pywac.capture.list_audio_processes())
    assert "pw-cat" in pywac.get_active_sessions()
    assert pywac.find_audio_session("PW-CAT")["process_id"] == pid


@pytest.mark.pipewire
def test_pw_record_process(players, tmp_path):
    pid = players.tone(440)
    wait_playing(pid)
    assert pywac.record_process("pw-cat", str(tmp_path / "a.wav"), 2.0) is True
    rate, channels, width, x = read_wav(tmp_path / "a.wav")
    assert (rate, channels, width, len(x)) == (48000, 2, 2, 96000)  # exactly 2.0 s, 16-bit 48 kHz stereo
    assert abs(tone_level(x, 440) - TONE_DB) < 1.0 and tone_level(x, 1000) < -70
    assert pywac.record_process(process_name="PW-CAT.exe", filename=str(tmp_path / "b.wav"), duration=0.5) is True
    assert len(read_wav(tmp_path / "b.wav")[3]) == 24000


@pytest.mark.pipewire
def test_pw_record_process_names_that_do_not_play(players, tmp_path):
    pid = players.tone(440)
    wait_playing(pid)
    t = time.monotonic()
    with pytest.warns(pywac.CompatibilityWarning, match="similar names: 'pw-cat'"):
        assert pywac.record_process("pw-ca", str(tmp_path / "x.wav"), 3.0) is False
    assert time.monotonic() - t < 1.0
    t = time.monotonic()
    with pytest.warns(pywac.CompatibilityWarning, match="no process named 'no-such-app' played during") as record:
        assert pywac.record_process("no-such-app", str(tmp_path / "y.wav"), 0.5) is False
    assert time.monotonic() - t >= 0.4  # it waited for the app for the whole recording (less the latency)
    assert isinstance(compat_warnings(record)[0].error, pywac.TargetNotFound)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.pipewire
def test_pw_record_process_catches_an_app_that_starts_later(players, tmp_path):
    result: list[bool] = []
    worker = threading.Thread(target=lambda: result.append(
        pywac.record_process("pw-cat", str(tmp_path / "late.wav"), 3.0)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning: the app did play
        worker.start()
        time.sleep(0.8)
        players.tone(1000, secs=5)
        worker.join(10)
    assert result == [True]
    x = read_wav(tmp_path / "late.wav")[3]
    assert len(x) == 3 * RATE and not x[:RATE // 2].any()  # silence until it started: time kept
    assert abs(tone_level(x, 1000, skip=2.0) - TONE_DB) < 1.0


@pytest.mark.pipewire
def test_pw_record_process_id(players, tmp_path):
    a, b = players.tone(440), players.tone(1000)
    wait_playing(a, b)
    assert pywac.record_process_id(a, str(tmp_path / "a.wav"), 1.0) is True
    rate, channels, width, x = read_wav(tmp_path / "a.wav")
    assert (rate, channels, width, len(x)) == (48000, 2, 2, 48000)
    assert abs(tone_level(x, 440) - TONE_DB) < 1.0 and tone_level(x, 1000) < -70


@pytest.mark.pipewire
def test_pw_record_audio_and_callback(players):
    pid = players.tone(440)
    wait_playing(pid)
    audio = pywac.record_audio(1.0)
    assert isinstance(audio, pywac.AudioData) and audio.dtype == np.float32 and audio.samples.shape == (48000, 2)
    assert audio.sample_rate == 48000 and abs(tone_level(audio.samples, 440) - TONE_DB) < 1.5
    got = []
    done = threading.Event()
    pywac.record_with_callback(1.0, lambda a: (got.append(a), done.set()))
    assert done.wait(10)
    time.sleep(0.2)
    assert len(got) == 1 and got[0].samples.shape == (48000, 2)
    assert abs(tone_level(got[0].samples, 440) - TONE_DB) < 1.5


@pytest.mark.pipewire
def test_pw_volume_and_mute(players):
    pid = players.tone(440)
    wait_playing(pid)
    before = tone_level(pywac.record_audio(1.0).samples, 440)
    assert abs(before - TONE_DB) < 1.5
    try:
        assert pywac.set_app_volume("pw-cat", 0.5) is True
        assert pywac.get_app_volume("pw-cat") == pytest.approx(0.5, abs=0.01)
        time.sleep(0.2)
        half = tone_level(pywac.record_audio(1.0).samples, 440)
        assert abs(half - (before - 6.02)) < 0.5, (before, half)

        assert pywac.mute_app("pw-cat") is True
        (mine,) = [s for s in pywac.list_audio_sessions() if s["process_id"] == pid]
        assert mine["is_muted"] is True and mine["volume"] == pytest.approx(0.5, abs=0.01)
        time.sleep(0.2)
        assert tone_level(pywac.record_audio(1.0).samples, 440) < -90

        assert pywac.unmute_app("pw-cat") is True
        assert pywac.get_app_volume("pw-cat") == pytest.approx(0.5, abs=0.01)
        (mine,) = [s for s in pywac.list_audio_sessions() if s["process_id"] == pid]
        assert mine["is_muted"] is False and mine["volume_percent"] == 50
        time.sleep(0.2)
        assert abs(tone_level(pywac.record_audio(1.0).samples, 440) - half) < 0.5
    finally:  # WirePlumber restores a volume by application: leave pw-cat as it was
        pywac.set_mute(False, name="pw-cat")
        pywac.set_volume(1.0, name="pw-cat")
    with pytest.warns(pywac.CompatibilityWarning, match="no application named 'no-such-app'"):
        assert pywac.set_app_volume("no-such-app", 0.5) is False
    with pytest.warns(pywac.CompatibilityWarning, match="similar names: 'pw-cat'"):
        assert pywac.get_app_volume("pw") is None


@pytest.mark.pipewire
def test_pw_queue_capture(players):
    pid = players.tone(440)
    wait_playing(pid)
    cap = pywac.capture.QueueBasedProcessCapture()
    assert cap.start(pid) is True
    chunks = []
    deadline = time.monotonic() + 5
    while len(chunks) < 150 and time.monotonic() < deadline:
        chunks += cap.pop_chunks(max_chunks=50, timeout_ms=50)
    metrics = cap.get_metrics()
    cap.stop()
    assert len(chunks) >= 150
    assert all(c["data"].shape == (480, 2) and c["data"].dtype == np.float32 for c in chunks)
    assert not any(c["silent"] for c in chunks[40:])
    assert abs(tone_level(np.concatenate([c["data"] for c in chunks]), 440) - TONE_DB) < 1.0
    assert metrics["capturing"] and metrics["total_frames"] >= 150 * 480 and metrics["capture_errors"] == 0


@pytest.mark.pipewire
def test_pw_simple_loopback(players):
    pid = players.tone(440)
    wait_playing(pid)
    loop = pywac.core.SimpleLoopback()
    assert loop.start()
    time.sleep(1.2)
    x = loop.get_buffer()
    loop.stop()
    assert x.dtype == np.float32 and x.ndim == 1 and 1.0 * 96000 <= x.size <= 1.4 * 96000
    assert abs(tone_level(x.reshape(-1, 2), 440) - TONE_DB) < 1.5
