#!/usr/bin/env python3
"""vad.py — energy-based voice activity detection on the audio of one
application, the way a captioning app would feed its VAD: pywac's
ProcessAudioSource delivers 16 kHz mono float32 chunks, the detector marks
each 30 ms chunk as voiced when its level is above a threshold, and joins
voiced chunks into segments (with a hangover, so short pauses inside speech
don't split a segment).

    examples/vad.py --name firefox            # until Ctrl-C
    examples/vad.py --pid 4242 --seconds 10
    examples/vad.py --name pw-cat --async     # the same, driven by asyncio

Prints "listening" once capturing, then one line per segment:
"speech START END" in seconds of stream time (the capture's own clock).
"""
import argparse
import asyncio
import sys

import numpy as np

import pywac


class EnergyVAD:
    """Voiced when a chunk's RMS level exceeds `threshold_db` dBFS; a segment
    ends after `hangover` seconds below it."""

    def __init__(self, chunk_seconds: float, threshold_db: float = -40.0, hangover: float = 0.3):
        self.chunk_seconds = chunk_seconds
        self.threshold_db = threshold_db
        self.hangover_chunks = max(1, round(hangover / chunk_seconds))
        self.time = 0.0
        self.start = None
        self.last_voiced = 0.0
        self.quiet = 0

    def feed(self, chunk: np.ndarray):
        """Feed one chunk; returns a finished (start, end) segment or None."""
        level = 10 * np.log10(float(np.mean(np.square(chunk, dtype=np.float64))) + 1e-20)
        t, self.time = self.time, self.time + self.chunk_seconds
        if level > self.threshold_db:
            if self.start is None:
                self.start = t
            self.last_voiced, self.quiet = self.time, 0
            return None
        if self.start is None:
            return None
        self.quiet += 1
        if self.quiet < self.hangover_chunks:
            return None
        segment, self.start = (self.start, self.last_voiced), None
        return segment

    def flush(self):
        segment, self.start = (None if self.start is None else (self.start, self.last_voiced)), None
        return segment


def report(segment):
    if segment:
        print(f"speech {segment[0]:.2f} {segment[1]:.2f}", flush=True)


def run_sync(source: pywac.ProcessAudioSource, vad: EnergyVAD, seconds: float):
    with source:
        print("listening", flush=True)
        for chunk in source:
            report(vad.feed(chunk))
            if seconds and vad.time >= seconds:
                break
    report(vad.flush())


async def run_async(source: pywac.ProcessAudioSource, vad: EnergyVAD, seconds: float):
    async with source:
        print("listening", flush=True)
        async for chunk in source:
            report(vad.feed(chunk))
            if seconds and vad.time >= seconds:
                break
    report(vad.flush())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--pid", type=int, help="process id (with its children)")
    target.add_argument("--name", help="executable name, e.g. firefox (may start later)")
    parser.add_argument("--seconds", type=float, default=0, help="stop after this much audio (0: until Ctrl-C)")
    parser.add_argument("--threshold", type=float, default=-40.0, help="voiced above this RMS level, dBFS")
    parser.add_argument("--async", dest="use_async", action="store_true", help="use asyncio")
    args = parser.parse_args()

    source = pywac.ProcessAudioSource(pid=args.pid, name=args.name, sample_rate=16000, chunk_ms=30)
    vad = EnergyVAD(source.chunk_size / source.sample_rate, args.threshold)
    try:
        if args.use_async:
            asyncio.run(run_async(source, vad, args.seconds))
        else:
            run_sync(source, vad, args.seconds)
    except KeyboardInterrupt:
        report(vad.flush())
    except pywac.Error as e:
        print(f"vad: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
