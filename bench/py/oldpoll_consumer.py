"""The OLD design WAC replaces, modelled faithfully for the benchmarks.

    oldpoll_consumer.py --serials S1,S2,... [--duration S] [--chunk-ms 100]

Per source, as in the seed analysis (/work/shared/seed): a capture object whose
C side fills a mutex-guarded growable buffer from the engine's thread
(bench/oldpoll/_oldpoll.c), and a Python thread (PyWACProcessAudioSource.
_capture_loop) that every 5 ms calls get_buffer() -- a fresh numpy copy of
everything captured, the C buffer cleared -- appends it to an accumulation
buffer, and for each full 100 ms block converts stereo 48 kHz to mono 16 kHz
and hands the chunk to the application's callback, which puts it on a queue;
the application's thread takes chunks from the queue.

The conversion here is the cheapest reasonable one (channel mean, then the mean
of each 3 samples): the original used librosa.resample, which costs far more,
so this model's CPU is a lower bound for the old design.

Prints "ready" once every source has delivered a chunk, and at the end
"total captures=N chunks=C polls=P empty_polls=E".
"""
import argparse
import queue
import signal
import sys
import threading
import time
import ctypes

_libc = ctypes.CDLL(None)


def name_thread(name):
    """Name this OS thread (PR_SET_NAME) so the harness can tell the
    consumer's threads from the engine's."""
    _libc.prctl(15, name.encode(), 0, 0, 0)

import numpy as np

import _oldpoll

RATE_IN = 48000


class OldSource:
    """PyWACProcessAudioSource, as the seed shows it."""

    def __init__(self, serial, callback, chunk_ms):
        self.capture = _oldpoll.open(serial)
        self.callback = callback
        self.block = RATE_IN * chunk_ms // 1000 * 2  # interleaved stereo floats
        self.accum = np.zeros(0, dtype=np.float32)
        self.is_running = True
        self.polls = 0
        self.empty_polls = 0
        self.thread = threading.Thread(target=self._capture_loop, daemon=True)
        self.thread.start()

    def _capture_loop(self):
        name_thread("wb-poll")
        while self.is_running:
            audio_data = _oldpoll.get_buffer(self.capture)  # copy + clear
            self.polls += 1
            if len(audio_data) > 0:
                self.accum = np.concatenate((self.accum, audio_data))
                while len(self.accum) >= self.block:
                    block = self.accum[: self.block]
                    self.accum = self.accum[self.block:]
                    mono = block.reshape(-1, 2).mean(axis=1)
                    chunk = mono.reshape(-1, 3).mean(axis=1).astype(np.float32)  # 48 kHz -> 16 kHz
                    self.callback(chunk)
            else:
                self.empty_polls += 1
            time.sleep(0.005)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--serials", required=True)
    ap.add_argument("--duration", type=float, default=0)
    ap.add_argument("--chunk-ms", type=int, default=100)
    args = ap.parse_args()
    serials = [int(s) for s in args.serials.split(",") if s]

    audio_queue = queue.Queue()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    sources = [OldSource(s, (lambda i: lambda chunk: audio_queue.put((i, chunk)))(i), args.chunk_ms)
               for i, s in enumerate(serials)]
    # Named only now: threads inherit their creator's name, and the capture
    # threads (created with the sources) are the engine's, not the consumer's.
    name_thread("wb-main")
    seen = set()
    chunks = 0
    t0 = time.monotonic()
    end = t0 + args.duration if args.duration > 0 else float("inf")
    while not stop.is_set() and time.monotonic() < end:
        try:
            i, chunk = audio_queue.get(timeout=0.5)
        except queue.Empty:
            continue
        chunks += 1
        if i not in seen:
            seen.add(i)
            if len(seen) == len(sources):
                print("ready after_ms=%.1f" % ((time.monotonic() - t0) * 1000), flush=True)
    for s in sources:
        s.is_running = False
    for s in sources:
        s.thread.join()
    print("total captures=%d chunks=%d polls=%d empty_polls=%d" % (
        len(sources), chunks, sum(s.polls for s in sources), sum(s.empty_polls for s in sources)), flush=True)


if __name__ == "__main__":
    sys.exit(main())
