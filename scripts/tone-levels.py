#!/usr/bin/python3
"""tone-levels.py FILE FREQ [FREQ...] — the level of each pure tone in an audio
file, in dBFS (amplitude of the tone's sinusoid, 0 dBFS = amplitude 1.0), read
through sox and measured with a Hann-windowed DFT at each frequency.

Prints one line per frequency: "FREQ LEVEL_DBFS". Exit 1 if the file has no
frames. Used by the demo and the integration tests to prove isolation from the
audio itself."""
import subprocess
import sys

import numpy as np


def read_mono(path):
    raw = subprocess.run(
        ["sox", path, "-t", "raw", "-e", "floating-point", "-b", "32", "-c", "1", "-"],
        check=True, capture_output=True).stdout
    rate = int(subprocess.run(["soxi", "-r", path], check=True, capture_output=True, text=True).stdout)
    # sox averages channels when it mixes down to one: the same rule WAC uses.
    return np.frombuffer(raw, dtype="<f4").astype(np.float64), rate


def tone_level_dbfs(x, rate, freq):
    n = len(x)
    window = np.hanning(n)
    t = np.arange(n) / rate
    # Correlate with the tone; a Hann window's coherent gain is 0.5.
    amplitude = 2 * abs(np.sum(x * window * np.exp(-2j * np.pi * freq * t))) / (0.5 * n)
    return 20 * np.log10(max(amplitude, 1e-12))


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    x, rate = read_mono(sys.argv[1])
    if len(x) == 0:
        sys.exit("tone-levels: no audio in " + sys.argv[1])
    for f in sys.argv[2:]:
        print(f"{float(f):g} {tone_level_dbfs(x, rate, float(f)):.1f}")


if __name__ == "__main__":
    main()
