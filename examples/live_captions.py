#!/usr/bin/env python3
"""live_captions.py — live captions of what ONE application says, while
others talk too: pywac's ProcessAudioSource captures only that application's
audio (16 kHz mono float32, the rate speech recognizers want), a small energy
endpointer cuts it into utterances, and pocketsphinx transcribes each one.

    examples/live_captions.py --name firefox              # until Ctrl-C
    examples/live_captions.py --pid 4242 --seconds 30

Prints one line per utterance on stdout, "[  12.30s] the words", the time
being when the utterance started, in seconds of stream time (the capture's
own clock, counted from the start). Status and errors go to stderr. Exit
codes follow the wac CLI: 0 done (also after Ctrl-C, or when the target
exits), 1 runtime failure, 2 bad arguments, 3 target not found, 4 audio
server or backend unavailable.

Needs pocketsphinx and its US English model: on Debian 12
`apt-get install python3-pocketsphinx pocketsphinx-en-us`. Recognition is
pocketsphinx's: fine on clear synthetic or studio speech, rough on music or
noisy calls.
"""
import argparse
import os
import sys

import numpy as np

import pywac

PROG = "live_captions"
CHUNK_MS = 100         # one endpointer decision per chunk
PRE_ROLL_CHUNKS = 2    # audio kept from before an onset: soft first consonants, and the
                       # decoder wants a little silence before speech
MAX_UTTERANCE = 20.0   # seconds: a caption even when the talk (or music) never pauses


def make_decoder(rate: int):
    """A pocketsphinx decoder with the US English model, quiet."""
    from pocketsphinx import Decoder
    if hasattr(Decoder, "default_config"):
        # Debian 12's python3-pocketsphinx (0.1.15 on pocketsphinx 5prealpha):
        # the model's paths must be given; its log goes to stderr unless sent away.
        from pocketsphinx import get_model_path
        model = get_model_path()
        config = Decoder.default_config()
        config.set_string("-hmm", os.path.join(model, "en-us"))
        config.set_string("-lm", os.path.join(model, "en-us.lm.bin"))
        config.set_string("-dict", os.path.join(model, "cmudict-en-us.dict"))
        config.set_float("-samprate", float(rate))
        config.set_string("-logfn", os.devnull)
        return Decoder(config)
    # pocketsphinx 5 (pip): the model is built in. Not tested here: Debian 12 ships 0.1.15.
    return Decoder(samprate=rate, loglevel="FATAL")


class Captioner:
    """Feeds chunks to the decoder one utterance at a time. An utterance starts
    at the first chunk louder than `threshold_db` dBFS (RMS) and ends after
    `silence` seconds below it; then its words are one caption.

    Energy is enough here: a per-application capture has no other speaker in
    it, and between utterances it is silent (pywac delivers digital silence
    while the target plays nothing). pocketsphinx wants whole utterances:
    cutting on pauses keeps its language model's context."""

    def __init__(self, decoder, chunk_seconds: float, threshold_db: float, silence: float):
        self.decoder = decoder
        self.chunk_seconds = chunk_seconds
        self.threshold_db = threshold_db
        self.silence_chunks = max(1, round(silence / chunk_seconds))
        self.time = 0.0          # stream time at the end of the last chunk fed
        self.start = None        # stream time the current utterance started, None between them
        self.quiet = 0           # chunks below the threshold since the last loud one
        self.pre_roll = []       # the last chunks before an utterance, as int16 bytes

    def feed(self, chunk: np.ndarray):
        """Feed one float32 chunk; returns (start time, caption) when an utterance ended."""
        t, self.time = self.time, self.time + self.chunk_seconds
        level = 10 * np.log10(float(np.mean(np.square(chunk, dtype=np.float64))) + 1e-20)
        # pocketsphinx takes 16-bit little-endian PCM; clip first so a full-scale
        # float sample does not wrap around.
        pcm = (np.clip(chunk, -1.0, 1.0) * 32767).astype("<i2").tobytes()
        loud = level > self.threshold_db
        if self.start is None:
            if not loud:
                self.pre_roll = (self.pre_roll + [pcm])[-PRE_ROLL_CHUNKS:]
                return None
            self.start, self.quiet = t - len(self.pre_roll) * self.chunk_seconds, 0
            self.decoder.start_utt()
            for earlier in self.pre_roll:
                self.decoder.process_raw(earlier, False, False)
            self.pre_roll = []
        self.decoder.process_raw(pcm, False, False)
        self.quiet = 0 if loud else self.quiet + 1
        if self.quiet >= self.silence_chunks or self.time - self.start >= MAX_UTTERANCE:
            return self.flush()
        return None

    def flush(self):
        """End the utterance in progress, if any; returns (start time, caption) or None."""
        if self.start is None:
            return None
        start, self.start = self.start, None
        self.decoder.end_utt()
        hyp = self.decoder.hyp()
        text = hyp.hypstr.strip() if hyp is not None else ""
        return (start, text) if text else None


def show(caption) -> None:
    if caption:
        print(f"[{caption[0]:8.2f}s] {caption[1]}", flush=True)


def exit_code(error: pywac.Error) -> int:
    """The wac CLI's exit codes (tools/report.h)."""
    if isinstance(error, pywac.TargetNotFound):
        return 3
    if isinstance(error, (pywac.BackendUnavailable, pywac.UnknownBackend)):
        return 4
    if isinstance(error, (pywac.InvalidArgument, pywac.FormatError)):
        return 2
    return 1


def main() -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--pid", type=int, help="process id (with its children)")
    target.add_argument("--name", help="executable name, e.g. firefox (may start later)")
    parser.add_argument("--seconds", type=float, default=0, help="stop after this much audio (0: until Ctrl-C)")
    parser.add_argument("--backend", default="auto", help="pywac backend: auto, pipewire, pulse, ...")
    parser.add_argument("--threshold", type=float, default=-45.0, help="speech above this RMS level, dBFS")
    parser.add_argument("--silence", type=float, default=0.5, help="seconds of silence that end an utterance")
    args = parser.parse_args()

    try:
        source = pywac.ProcessAudioSource(pid=args.pid, name=args.name, sample_rate=16000,
                                          chunk_ms=CHUNK_MS, backend=args.backend)
    except pywac.Error as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return exit_code(e)
    try:
        decoder = make_decoder(source.sample_rate)
    except ImportError:
        print(f"{PROG}: error: pocketsphinx is not installed "
              "(Debian: apt-get install python3-pocketsphinx pocketsphinx-en-us)", file=sys.stderr)
        return 1
    captioner = Captioner(decoder, source.chunk_size / source.sample_rate, args.threshold, args.silence)
    who = f"pid {args.pid}" if args.pid is not None else f"'{args.name}'"
    try:
        with source:
            print(f"{PROG}: listening to {who}", file=sys.stderr, flush=True)
            for chunk in source:  # blocking reads; Ctrl-C interrupts them
                show(captioner.feed(chunk))
                if args.seconds and captioner.time >= args.seconds:
                    break
    except KeyboardInterrupt:
        pass
    except pywac.TargetExited:
        # A --pid target that exits ends the stream; what it said still counts.
        print(f"{PROG}: {who} exited", file=sys.stderr)
    except pywac.Error as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        show(captioner.flush())
        return exit_code(e)
    show(captioner.flush())
    return 0


if __name__ == "__main__":
    sys.exit(main())
