"""A pywac consumer for the benchmarks, in the two styles of issue 4.

    pywac_consumer.py --pids P1,P2,... --style async|read [--duration S] [--chunk-ms 100]

  async  one asyncio loop, one task per capture: `async for chunk in cap`
         (driven by the capture's descriptor, no threads, no polling);
  read   one thread per capture: `cap.read(timeout=1.0)` in a loop (the GIL is
         released while it waits).
Each capture: pywac.Capture(pid=P, rate=16000, channels=1, chunk_ms=100).
Prints "ready" once every capture has delivered a chunk, and at the end
"total captures=N chunks=C".
"""
import argparse
import asyncio
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

import pywac


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pids", required=True)
    ap.add_argument("--style", choices=["async", "read"], default="async")
    ap.add_argument("--duration", type=float, default=0)
    ap.add_argument("--chunk-ms", type=int, default=100)
    args = ap.parse_args()
    pids = [int(p) for p in args.pids.split(",") if p]
    caps = [pywac.Capture(pid=p, rate=16000, channels=1, chunk_ms=args.chunk_ms) for p in pids]
    # Named only now: threads inherit their creator's name, and PipeWire's
    # threads (created with the captures) are the engine's, not the consumer's.
    name_thread("wb-main")
    counts = [0] * len(caps)
    t0 = time.monotonic()
    lock = threading.Lock()
    seen = set()

    def got(i, chunk):
        counts[i] += 1
        if counts[i] == 1:
            with lock:
                seen.add(i)
                if len(seen) == len(caps):
                    print("ready after_ms=%.1f" % ((time.monotonic() - t0) * 1000), flush=True)

    if args.style == "async":
        async def one(i, cap):
            async for chunk in cap:
                got(i, chunk)

        async def run():
            loop = asyncio.get_running_loop()
            done = asyncio.Event()
            loop.add_signal_handler(signal.SIGTERM, done.set)
            loop.add_signal_handler(signal.SIGINT, done.set)
            for cap in caps:
                cap.start()
            tasks = [asyncio.create_task(one(i, c)) for i, c in enumerate(caps)]
            try:
                await asyncio.wait_for(done.wait(), args.duration if args.duration > 0 else None)
            except asyncio.TimeoutError:
                pass
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run(run())
    else:
        stop = threading.Event()

        def reader(i, cap):
            name_thread("wb-reader")
            while not stop.is_set():
                chunk = cap.read(timeout=1.0)
                if chunk is not None:
                    got(i, chunk)

        for cap in caps:
            cap.start()
        threads = [threading.Thread(target=reader, args=(i, c), name="wb-reader") for i, c in enumerate(caps)]
        for t in threads:
            t.start()
        signal.signal(signal.SIGTERM, lambda *a: stop.set())
        signal.signal(signal.SIGINT, lambda *a: stop.set())
        stop.wait(args.duration if args.duration > 0 else None)
        stop.set()
        for t in threads:
            t.join()
    for cap in caps:
        cap.close()
    print("total captures=%d chunks=%d" % (len(caps), sum(counts)), flush=True)


if __name__ == "__main__":
    sys.exit(main())
