"""The Python-side cost of a chunk in pywac's consumer styles, side by side.

    consumer_cost.py [--seconds S] [--chunk-ms M] [--captures N]

Runs N captures on the dummy backend (no server: what is measured is pywac's
and libwac's consumer path, not an engine) for S seconds in each style:
  read      one thread per capture, cap.read() in a loop;
  async     one asyncio loop, `async for chunk in cap` per capture;
  callback  Capture(callback=...): the dispatch thread calls Python.
and prints the process's CPU time per delivered chunk (µs) and chunks/s.
The dummy's producer thread costs the same in every style; differences are
the consumer path's. Set WAC_DUMMY_PERIOD_MS to the chunk length (default 10).
"""
import argparse
import asyncio
import os
import threading
import time

os.environ.setdefault("WAC_DUMMY_PERIOD_MS", "10")
import pywac  # noqa: E402


def run_read(caps, seconds):
    stop = threading.Event()
    counts = [0] * len(caps)

    def reader(i, cap):
        while not stop.is_set():
            if cap.read(timeout=0.5) is not None:
                counts[i] += 1

    threads = [threading.Thread(target=reader, args=(i, c)) for i, c in enumerate(caps)]
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    return sum(counts)


def run_async(caps, seconds):
    counts = [0] * len(caps)

    async def one(i, cap):
        async for _chunk in cap:
            counts[i] += 1

    async def main():
        tasks = [asyncio.create_task(one(i, c)) for i, c in enumerate(caps)]
        await asyncio.sleep(seconds)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(main())
    return sum(counts)


def measure(style, n, seconds, chunk_ms):
    counts = [0]
    lock = threading.Lock()

    def on_chunk(_samples):
        with lock:
            counts[0] += 1

    kw = dict(system=True, backend="dummy", rate=16000, channels=1, chunk_ms=chunk_ms)
    if style == "callback":
        caps = [pywac.Capture(callback=on_chunk, **kw) for _ in range(n)]
    else:
        caps = [pywac.Capture(**kw) for _ in range(n)]
    for c in caps:
        c.start()
    time.sleep(0.3)
    for c in caps:  # start from an empty ring
        while style != "callback" and c.read_chunk(timeout=0) is not None:
            pass
    counts[0] = 0
    cpu0, t0 = time.process_time(), time.monotonic()
    if style == "read":
        chunks = run_read(caps, seconds)
    elif style == "async":
        chunks = run_async(caps, seconds)
    else:
        time.sleep(seconds)
        chunks = counts[0]
    cpu, wall = time.process_time() - cpu0, time.monotonic() - t0
    for c in caps:
        c.close()
    return cpu / max(chunks, 1) * 1e6, chunks / wall


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--chunk-ms", type=int, default=10)
    ap.add_argument("--captures", type=int, default=1)
    ap.add_argument("--styles", default="read,async,callback")
    args = ap.parse_args()
    print("style     captures  us_cpu_per_chunk  chunks_per_s")
    for style in args.styles.split(","):
        us, rate = measure(style, args.captures, args.seconds, args.chunk_ms)
        print(f"{style:9s} {args.captures:8d}  {us:16.1f}  {rate:12.1f}", flush=True)


if __name__ == "__main__":
    main()
