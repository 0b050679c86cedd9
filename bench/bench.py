#!/usr/bin/python3
"""The WAC benchmarks: run every measurement against the private PipeWire that
bench/run.sh started, and write raw CSV + meta.json into --out. report.py
turns them into REPORT.md and plots.

Run through bench/run.sh (it builds, starts the server, and calls this), not
directly: it needs the environment of tests/servers/pw-session.sh.

Phases (each can be picked with --phases):
  cpu        for each source count: N players, then each consumer kind alone,
             measuring CPU (on-CPU ns from /proc/PID/task/*/schedstat, with
             utime+stime ticks as a cross-check), voluntary context switches,
             RSS, the servers' CPU and wake-ups, the graph quantum; one
             "players-only" baseline per N for the servers' added cost.
  latency    wac-latency per delivery style with 1 and with max(N) sources.
  startup    open -> first frame (libwac), and spawn -> first byte for
             pw-record and parec.
  integrity  a long capture of a counter signal (48 kHz stereo, bit-exact)
             and of a sine (16 kHz mono, predictor check), then stalling
             consumers on the real backend and on the dummy backend.
"""
import argparse
import csv
import json
import os
import platform
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PY = "/usr/bin/python3"
TICK = os.sysconf("SC_CLK_TCK")

WAC_STYLES = ["read", "fd", "callback"]
KINDS = ["players-only", "wac-read", "wac-fd", "wac-callback", "wac-read-pulse", "wac-read-pulse-100", "wac-record", "pywac-async", "pywac-read",
         "pw-record", "parec", "oldpoll"]


def log(*a):
    print("bench:", *a, file=sys.stderr, flush=True)


# ---- /proc -------------------------------------------------------------------

def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def task_snapshot(pid):
    """Per thread: on-CPU ns, voluntary and involuntary switches, name."""
    out = {}
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return out
    for tid in tids:
        base = "/proc/%d/task/%s/" % (pid, tid)
        sched = read(base + "schedstat").split()
        status = read(base + "status")
        vol = invol = 0
        for line in status.splitlines():
            if line.startswith("voluntary_ctxt_switches:"):
                vol = int(line.split()[1])
            elif line.startswith("nonvoluntary_ctxt_switches:"):
                invol = int(line.split()[1])
        if not sched:
            continue
        out[tid] = {"ns": int(sched[0]), "vol": vol, "invol": invol, "comm": read(base + "comm").strip()}
    return out


def proc_ticks(pid):
    stat = read("/proc/%d/stat" % pid)
    if not stat:
        return 0
    fields = stat[stat.rfind(")") + 2:].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


def proc_rss_kb(pid):
    for line in read("/proc/%d/status" % pid).splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def snapshot(pids):
    return {pid: {"tasks": task_snapshot(pid), "ticks": proc_ticks(pid)} for pid in pids}


# Threads the consumers name (wac-bench, the Python consumers); the rest are
# the engine's (PipeWire's loops, libwac's thread loop) or the interpreter's.
CONSUMER_THREADS = ("wb-reader", "wb-fd", "wac-dispatch", "wb-main", "wb-poll")


def delta(s0, s1, pids):
    """Sum over pids of on-CPU ns, ticks, voluntary switches; and the part of
    the switches made by the consumer's own threads (named by wac-bench)."""
    ns = ticks = vol = invol = cvol = cns = 0
    for pid in pids:
        a, b = s0.get(pid), s1.get(pid)
        if not a or not b:
            continue
        ticks += b["ticks"] - a["ticks"]
        for tid, t1 in b["tasks"].items():
            t0 = a["tasks"].get(tid, {"ns": 0, "vol": 0, "invol": 0})
            ns += t1["ns"] - t0["ns"]
            vol += t1["vol"] - t0["vol"]
            invol += t1["invol"] - t0["invol"]
            if t1["comm"] in CONSUMER_THREADS:
                cvol += t1["vol"] - t0["vol"]
                cns += t1["ns"] - t0["ns"]
    return {"ns": ns, "ticks": ticks, "vol": vol, "invol": invol, "consumer_vol": cvol, "consumer_ns": cns}


def loadavg():
    return read("/proc/loadavg").strip()


# ---- the graph ----------------------------------------------------------------

def pw_nodes():
    try:
        dump = json.loads(subprocess.run(["pw-dump"], capture_output=True, text=True, timeout=10).stdout or "[]")
    except (subprocess.TimeoutExpired, ValueError):
        return {}
    nodes = {}
    for o in dump:
        if o.get("type") == "PipeWire:Interface:Node":
            props = (o.get("info") or {}).get("props") or {}
            if "node.name" in props:
                nodes[props["node.name"]] = props.get("object.serial")
    return nodes


def graph_quantum(seconds=1.0):
    """The driver's quantum in frames over `seconds`, from pw-profiler (which
    makes the server profile while it runs: take it outside measuring windows).
    Returns (min, max) or (None, None)."""
    d = tempfile.mkdtemp(prefix="wac-bench-prof.")
    path = os.path.join(d, "profiler.log")
    try:
        p = subprocess.Popen(["pw-profiler", "-o", path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             cwd=d)
        time.sleep(seconds)
        p.send_signal(signal.SIGINT)
        try:
            p.wait(3)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        qs = []
        for line in read(path).splitlines():
            f = line.split()
            if len(f) > 4 and f[3].isdigit():
                qs.append(round(int(f[3]) * 48000 / 1e6))  # column 4: the cycle's period in us
        return (min(qs), max(qs)) if qs else (None, None)
    finally:
        shutil.rmtree(d, ignore_errors=True)


# ---- processes ------------------------------------------------------------------

class Proc:
    """A child whose stdout lines are collected by a thread."""

    def __init__(self, argv, env=None, stdout=None):
        self.argv = argv
        self.lines = []
        self.ready = threading.Event()
        self.p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                  stdout=stdout if stdout is not None else subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=stdout is None, start_new_session=True)
        self.err = []
        if stdout is None:
            threading.Thread(target=self._pump, daemon=True).start()
        threading.Thread(target=self._pump_err, daemon=True).start()

    def _pump(self):
        for line in self.p.stdout:
            self.lines.append(line.rstrip("\n"))
            if line.startswith("ready"):
                self.ready.set()

    def _pump_err(self):
        for line in self.p.stderr:
            self.err.append(line.rstrip("\n") if isinstance(line, str) else line.decode(errors="replace").rstrip())

    @property
    def pid(self):
        return self.p.pid

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.p.poll() is None:
            try:
                self.p.send_signal(sig)
            except ProcessLookupError:
                pass
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        time.sleep(0.05)
        return self.p.returncode

    def field(self, prefix, key):
        for line in reversed(self.lines):
            if line.startswith(prefix):
                for kv in line.split()[1:]:
                    k, _, v = kv.partition("=")
                    if k == key:
                        return v
        return None


class Bench:
    def __init__(self, args):
        self.args = args
        self.out = args.out
        self.bin = os.path.join(args.build, "bench")
        self.wac = os.path.join(args.build, "tools", "wac")
        self.server_pids = {k: int(os.environ[v]) for k, v in
                            (("pipewire", "WAC_PW_PIPEWIRE_PID"), ("wireplumber", "WAC_PW_WIREPLUMBER_PID"),
                             ("pipewire-pulse", "WAC_PW_PULSE_PID")) if os.environ.get(v)}
        self.tmp = tempfile.mkdtemp(prefix="wac-bench.")
        self.players = []
        self.pywac_env = dict(os.environ)
        self.pywac_env["PYTHONPATH"] = os.pathsep.join(p for p in [args.pywac_path, os.environ.get("PYTHONPATH")]
                                                       if p)
        self.old_env = dict(os.environ)
        self.old_env["PYTHONPATH"] = self.bin
        self.pywac_ok = self._pywac_available()

    def _pywac_available(self):
        r = subprocess.run([PY, "-c", "import pywac; pywac.Capture"], env=self.pywac_env, capture_output=True,
                           text=True)
        if r.returncode != 0:
            log("pywac not available (%s): its rows are marked pending" % (r.stderr.strip().splitlines() or ["?"])[-1])
        return r.returncode == 0

    # ---- players ----

    def start_players(self, n, signal_kind="sine", base=0):
        players = []
        for i in range(n):
            name = "bench-src-%d" % (base + i)
            argv = [os.path.join(self.bin, "bench-player"), "--name", name, "--signal", signal_kind,
                    "--freq", str(self.freq(base + i))]
            players.append({"name": name, "proc": Proc(argv, stdout=subprocess.DEVNULL), "freq": self.freq(base + i)})
        deadline = time.time() + 20
        while time.time() < deadline:
            nodes = pw_nodes()
            if all(p["name"] in nodes for p in players):
                for p in players:
                    p["serial"] = int(nodes[p["name"]])
                    p["pid"] = p["proc"].pid
                time.sleep(0.5)
                return players
            time.sleep(0.2)
        raise RuntimeError("players did not appear in the graph")

    @staticmethod
    def freq(i):
        if i >= 100:
            return 997  # the integrity test's tone
        return 211 + 37 * i  # distinct tones, one per player

    def stop_players(self, players):
        for p in players:
            p["proc"].stop(signal.SIGTERM, 5)

    # ---- consumers ----

    def consumers(self, kind, players, seconds):
        """Start the consumer(s) of one kind for these players; returns Procs."""
        pids = ",".join(str(p["pid"]) for p in players)
        serials = ",".join(str(p["serial"]) for p in players)
        a = self.args
        fmt = ["--rate", "16000", "--channels", "1"]
        if kind.startswith("wac-") and kind[4:] in WAC_STYLES:
            return [Proc([os.path.join(self.bin, "wac-bench"), "--pids", pids, "--style", kind[4:], "--chunk-ms",
                          str(a.chunk_ms), "--duration", str(seconds)] + fmt)]
        if kind in ("wac-read-pulse", "wac-read-pulse-100"):
            # libwac's PulseAudio backend, through pipewire-pulse on the same
            # graph: the same players, the same chunks, the other protocol;
            # -100 with parec's 100 ms fragments (latency_ms) in place of
            # the default 25 ms.
            extra = ["--latency-ms", "100"] if kind.endswith("-100") else []
            return [Proc([os.path.join(self.bin, "wac-bench"), "--pids", pids, "--style", "read", "--backend",
                          "pulse", "--chunk-ms", str(a.chunk_ms), "--duration", str(seconds)] + extra + fmt)]
        if kind == "wac-record":
            argv = [self.wac, "record", "-q", "-r", "16000", "-c", "1", "-f", "f32"]
            for i, p in enumerate(players):
                argv += ["--pid", str(p["pid"]), "-o", os.path.join(self.tmp, "wac-%d.wav" % i)]
            return [Proc(argv, stdout=subprocess.DEVNULL)]
        if kind.startswith("pywac-"):
            return [Proc([PY, os.path.join(HERE, "py", "pywac_consumer.py"), "--pids", pids, "--style", kind[6:],
                          "--chunk-ms", str(a.chunk_ms), "--duration", str(seconds)], env=self.pywac_env)]
        if kind == "oldpoll":
            return [Proc([PY, os.path.join(HERE, "py", "oldpoll_consumer.py"), "--serials", serials, "--chunk-ms",
                          str(a.chunk_ms), "--duration", str(seconds)], env=self.old_env)]
        if kind == "pw-record":
            return [Proc(["pw-record", "--target", str(p["serial"]), "--rate", "16000", "--channels", "1",
                          "--format", "f32", os.path.join(self.tmp, "pw-%d.wav" % i)], stdout=subprocess.DEVNULL)
                    for i, p in enumerate(players)]
        if kind.startswith("hybrid-"):
            # One application (the player) and the virtual microphone (phase_hybrid).
            app, mic = players[0], self.mic
            if kind == "hybrid-wac":
                return [Proc([os.path.join(self.bin, "wac-bench"), "--pids", str(app["pid"]), "--device", mic,
                              "--style", "read", "--chunk-ms", str(a.chunk_ms), "--duration", str(seconds)] + fmt)]
            if kind == "hybrid-wac-record":
                return [Proc([self.wac, "record", "-q", "-r", "16000", "-c", "1", "-f", "f32",
                              "--pid", str(app["pid"]), "-o", os.path.join(self.tmp, "hy-app.wav"),
                              "--device", mic, "-o", os.path.join(self.tmp, "hy-mic.wav")], stdout=subprocess.DEVNULL)]
            if kind == "hybrid-pw-record":
                return [Proc(["pw-record", "--target", target, "--rate", "16000", "--channels", "1", "--format",
                              "f32", os.path.join(self.tmp, "hy-pw-%d.wav" % i)], stdout=subprocess.DEVNULL)
                        for i, target in enumerate((str(app["serial"]), mic))]
            if kind == "hybrid-oldpoll":
                return [Proc([PY, os.path.join(HERE, "py", "oldpoll_consumer.py"), "--serials",
                              "%d,%d" % (app["serial"], self.mic_serial), "--chunk-ms", str(a.chunk_ms),
                              "--duration", str(seconds)], env=self.old_env)]
        if kind == "parec":
            procs = []
            for i, p in enumerate(players):
                f = open(os.path.join(self.tmp, "parec-%d.raw" % i), "wb")
                # 100 ms of latency: chunks as large as everyone else's (parec's
                # default lets pipewire-pulse buffer for seconds).
                procs.append(Proc(["parec", "--monitor-stream=%d" % p["serial"], "--rate=16000", "--channels=1",
                                   "--format=float32le", "--raw", "--latency-msec=100"], stdout=f))
                f.close()
            return procs
        raise ValueError(kind)

    def measure(self, kind, players, writer, rnd=1):
        a = self.args
        n = len(players)
        row = {"kind": kind, "sources": n, "round": rnd, "measure_s": a.measure, "status": "ok", "chunks": "", "lost": "",
               "note": "", "start_all_ms": "", "ready_ms": ""}
        if kind.startswith("pywac-") and not self.pywac_ok:
            row["status"] = "pending pywac"
            writer.writerow(row)
            return row
        procs = []
        if kind != "players-only":
            procs = self.consumers(kind, players, a.warmup + a.measure + 60)
            if kind.startswith(("wac-read", "wac-fd", "wac-callback", "pywac", "oldpoll")):
                ok = all(p.ready.wait(120) for p in procs)
                if not ok:
                    row["status"] = "failed: not ready"
                    row["note"] = " | ".join(sum((p.err[-3:] for p in procs), []))[:300]
            else:
                time.sleep(1.5)
        time.sleep(a.warmup)
        cpids = [p.pid for p in procs]
        spids = list(self.server_pids.values())
        s0 = snapshot(cpids + spids)
        t0 = time.monotonic()
        time.sleep(a.measure)
        s1 = snapshot(cpids + spids)
        dt = time.monotonic() - t0
        rss = sum(proc_rss_kb(pid) for pid in cpids)
        qmin, qmax = graph_quantum(a.profile)
        if qmin is None:  # a busy server may answer pw-profiler late: once more, longer
            qmin, qmax = graph_quantum(3 * a.profile)
        alive = all(p.p.poll() is None for p in procs)
        for p in procs:
            p.stop(signal.SIGINT if kind in ("pw-record", "parec") else signal.SIGTERM)
        if procs and not alive and row["status"] == "ok":
            row["status"] = "failed: exited"
            row["note"] = " | ".join(sum((p.err[-3:] for p in procs), []))[:300]
        for f in os.listdir(self.tmp):
            os.unlink(os.path.join(self.tmp, f))
        d = delta(s0, s1, cpids)
        named = kind.startswith(("wac-read", "wac-fd", "wac-callback", "pywac", "oldpoll"))
        row.update({
            "cpu_pct": 100.0 * d["ns"] / (dt * 1e9),
            "cpu_pct_per_source": 100.0 * d["ns"] / (dt * 1e9) / n,
            "ticks_pct_per_source": 100.0 * d["ticks"] / TICK / dt / n,
            "wakeups_per_s_per_source": d["vol"] / dt / n,
            "consumer_wakeups_per_s_per_source": d["consumer_vol"] / dt / n if named else "",
            "consumer_cpu_pct_per_source": 100.0 * d["consumer_ns"] / (dt * 1e9) / n if named else "",
            "involuntary_per_s": d["invol"] / dt,
            "rss_kb": rss,
            "rss_kb_per_source": rss / n if procs else "",
            "processes": len(procs),
            "quantum_min": qmin if qmin is not None else "",
            "quantum_max": qmax if qmax is not None else "",
        })
        for name, pid in self.server_pids.items():
            sd = delta(s0, s1, [pid])
            row[name + "_cpu_pct"] = 100.0 * sd["ns"] / (dt * 1e9)
            row[name + "_wakeups_per_s"] = sd["vol"] / dt
        if procs and procs[0].lines:
            row["start_all_ms"] = procs[0].field("started", "after_ms") or ""
            row["ready_ms"] = procs[0].field("ready", "after_ms") or ""
            row["chunks"] = procs[0].field("total", "chunks") or ""
            row["lost"] = procs[0].field("total", "lost") or ""
            # Which captures lost frames, and when their audio began: the
            # report has the total only.
            for line in procs[0].lines:
                if line.startswith("result ") and (" lost=0 " not in line or os.environ.get("WAC_BENCH_ALL_RESULTS")):
                    log("  %s" % line)
        writer.writerow(row)
        log("%-13s N=%-3d cpu/source %.3f%%  wakeups/s/source %.1f  pipewire %.2f%%  quantum %s  %s" % (
            kind, n, row["cpu_pct_per_source"], row["wakeups_per_s_per_source"], row.get("pipewire_cpu_pct", 0),
            qmax, row["status"]))
        return row

    # ---- phases ----

    def phase_cpu(self):
        fields = ["kind", "sources", "round", "measure_s", "status", "cpu_pct", "cpu_pct_per_source", "ticks_pct_per_source",
                  "wakeups_per_s_per_source", "consumer_cpu_pct_per_source", "consumer_wakeups_per_s_per_source", "involuntary_per_s", "rss_kb",
                  "rss_kb_per_source", "processes", "quantum_min", "quantum_max", "start_all_ms", "ready_ms", "chunks", "lost"]
        for name in self.server_pids:
            fields += [name + "_cpu_pct", name + "_wakeups_per_s"]
        fields.append("note")
        with open(os.path.join(self.out, "cpu.csv"), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=fields)
            w.writeheader()
            for n in self.args.counts:
                log("cpu: %d sources" % n)
                players = self.start_players(n)
                try:
                    time.sleep(1)
                    # Rounds interleave the kinds, so that a slow minute of
                    # the machine touches one round of each, not every round
                    # of one; the report takes each cell's median.
                    for rnd in range(1, self.args.repeat + 1):
                        for kind in self.args.kinds:
                            self.measure(kind, players, w, rnd)
                            f.flush()
                finally:
                    self.stop_players(players)
                time.sleep(1)

    def phase_hybrid(self):
        """The seed's worst case: a microphone and one application captured
        together, in one process for WAC and the old design, two pw-record
        processes otherwise. The microphone is virtual (a null sink's monitor
        remapped as a source, fed by a tone player); its feed and the
        application play throughout, and the players-only row is the
        baseline for the servers' share. Rows go to hybrid.csv."""
        mods = []
        feed = "bench_mic_feed"
        self.mic = "bench_mic"
        try:
            for args in (["module-null-sink", "sink_name=" + feed],
                         ["module-remap-source", "master=%s.monitor" % feed, "source_name=" + self.mic]):
                mods.append(subprocess.run(["pactl", "load-module"] + args, check=True, capture_output=True,
                                           text=True).stdout.strip())
            env = dict(os.environ, WAC_TONE_RATE="16000", WAC_TONE_CHANNELS="1", WAC_PLAYER="pw-play")
            voice = Proc([os.path.join(ROOT, "tests", "servers", "play-tone.sh"), "300", "600", "--target", feed],
                         stdout=subprocess.DEVNULL, env=env)
            deadline = time.time() + 20
            while self.mic not in pw_nodes() and time.time() < deadline:
                time.sleep(0.2)
            self.mic_serial = int(pw_nodes()[self.mic])
            players = self.start_players(1)
            fields = ["kind", "sources", "round", "measure_s", "status", "cpu_pct", "cpu_pct_per_source",
                      "ticks_pct_per_source", "wakeups_per_s_per_source", "consumer_cpu_pct_per_source",
                      "consumer_wakeups_per_s_per_source", "involuntary_per_s", "rss_kb", "rss_kb_per_source",
                      "processes", "quantum_min", "quantum_max", "start_all_ms", "ready_ms", "chunks", "lost"]
            fields += [n + suffix for n in self.server_pids for suffix in ("_cpu_pct", "_wakeups_per_s")]
            fields.append("note")
            try:
                with open(os.path.join(self.out, "hybrid.csv"), "w", newline="") as f:
                    w = csv.DictWriter(f, fieldnames=fields)
                    w.writeheader()
                    for kind in ("players-only", "hybrid-wac", "hybrid-wac-record", "hybrid-pw-record",
                                 "hybrid-oldpoll"):
                        self.measure(kind, players, w)
                        f.flush()
            finally:
                self.stop_players(players)
                voice.stop(signal.SIGTERM, 5)
        finally:
            for m in reversed(mods):
                subprocess.run(["pactl", "unload-module", m], capture_output=True)

    def phase_latency(self):
        counts = sorted({1, max(self.args.counts)})
        samples = open(os.path.join(self.out, "latency_samples.csv"), "w", newline="")
        sw = csv.writer(samples)
        sw.writerow(["style", "sources", "capture", "t_ms", "latency_ns"])
        summary = []
        for n in counts:
            players = self.start_players(n)
            try:
                for style in WAC_STYLES:
                    path = os.path.join(self.tmp, "lat.csv")
                    pids = ",".join(str(p["pid"]) for p in players)
                    p = Proc([os.path.join(self.bin, "wac-latency"), "--pids", pids, "--style", style, "--rate",
                              "16000", "--channels", "1", "--chunk-ms", str(self.args.chunk_ms), "--duration",
                              str(self.args.latency), "--latency", path])
                    p.p.wait(self.args.latency + 60)
                    vals = []
                    with open(path) as lf:
                        r = csv.reader(lf)
                        next(r, None)
                        for cap, t_ms, ns in r:
                            vals.append(int(ns))
                            sw.writerow([style, n, cap, t_ms, ns])
                    os.unlink(path)
                    vals.sort()
                    row = {"style": style, "sources": n, "samples": len(vals),
                           "unmatched": p.field("total", "latency_unmatched") or "",
                           "lost": p.field("total", "lost") or ""}
                    if vals:
                        row.update({"p50_us": vals[len(vals) // 2] / 1e3,
                                    "p99_us": vals[min(len(vals) - 1, int(len(vals) * 0.99))] / 1e3,
                                    "max_us": vals[-1] / 1e3, "mean_us": sum(vals) / len(vals) / 1e3})
                    summary.append(row)
                    log("latency %-8s N=%-3d p50 %s us p99 %s us max %s us (%d samples)" % (
                        style, n, row.get("p50_us"), row.get("p99_us"), row.get("max_us"), len(vals)))
            finally:
                self.stop_players(players)
        samples.close()
        write_rows(os.path.join(self.out, "latency.csv"), summary)

    def phase_startup(self):
        rows = []
        players = self.start_players(1)
        try:
            pid, serial = players[0]["pid"], players[0]["serial"]
            p = Proc([os.path.join(self.bin, "wac-bench"), "--pids", str(pid), "--startup", str(self.args.startup)])
            p.p.wait(120)
            for line in p.lines:
                if line.startswith("startup "):
                    kv = dict(x.split("=") for x in line.split()[1:])
                    rows.append({"tool": "libwac", "what": "wac_context_open", "ms": kv["context_ms"]})
                    rows.append({"tool": "libwac", "what": "wac_capture_open -> first frame read",
                                 "ms": kv["first_frame_ms"]})
            tools = {
                "pw-record": ["pw-record", "--target", str(serial), "--rate", "16000", "--channels", "1",
                              "--format", "f32", "-"],
                "parec": ["parec", "--monitor-stream=%d" % serial, "--rate=16000", "--channels=1",
                          "--format=float32le", "--raw", "--latency-msec=100"],
            }
            for tool, argv in tools.items():
                for _ in range(min(self.args.startup, 10)):
                    t0 = time.monotonic()
                    q = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
                    first = None
                    if select.select([q.stdout], [], [], 5)[0]:
                        if q.stdout.read1(1) if hasattr(q.stdout, "read1") else os.read(q.stdout.fileno(), 1):
                            first = time.monotonic() - t0
                    q.send_signal(signal.SIGINT)
                    try:
                        q.wait(5)
                    except subprocess.TimeoutExpired:
                        q.kill()
                        q.wait()
                    rows.append({"tool": tool, "what": "process spawn -> first byte of audio",
                                 "ms": "%.3f" % (first * 1e3) if first is not None else ""})
            t0 = time.monotonic()
            q = Proc([os.path.join(self.bin, "wac-bench"), "--pids", str(pid), "--duration", "0.5", "--chunk-ms",
                      "10"])
            q.ready.wait(10)
            rows.append({"tool": "wac-bench", "what": "process spawn -> first 10 ms chunk",
                         "ms": "%.3f" % ((time.monotonic() - t0) * 1e3)})
            q.stop()
        finally:
            self.stop_players(players)
        write_rows(os.path.join(self.out, "startup.csv"), rows)

    def phase_integrity(self):
        a = self.args
        rows = []
        counter = self.start_players(1, "counter", base=100)
        sine = self.start_players(1, "sine", base=101)
        try:
            cpid, spid = counter[0]["pid"], sine[0]["pid"]
            sfreq = sine[0]["freq"]
            wb = os.path.join(self.bin, "wac-bench")
            log("integrity: %g s captures (counter at 48 kHz stereo, sine at 16 kHz mono)" % a.integrity)
            long_runs = [
                ("long capture, counter, 48 kHz stereo F32, read", [wb, "--pids", str(cpid), "--style", "read",
                                                                     "--rate", "48000", "--channels", "2",
                                                                     "--verify", "counter"]),
                ("long capture, sine %d Hz, 16 kHz mono F32, callback" % sfreq,
                 [wb, "--pids", str(spid), "--style", "callback", "--verify", "sine:%d" % sfreq]),
            ]
            procs = [(what, Proc(argv + ["--duration", str(a.integrity)])) for what, argv in long_runs]
            for what, p in procs:
                p.p.wait(a.integrity + 60)
                rows.append(self.integrity_row(what, "pipewire", p))
            log("integrity: stalling consumers")
            stall = ["--stall-at", "2", "--stall-for", "3", "--ring-ms", "1000", "--duration", "8"]
            stall_runs = [("stall 3 s > ring 1.37 s, counter 48 kHz stereo, %s" % st, "pipewire",
                           [wb, "--pids", str(cpid), "--style", st, "--rate", "48000", "--channels", "2",
                            "--verify", "counter"] + stall) for st in WAC_STYLES]
            stall_runs.append(("stall 3 s > ring 1.02 s, sine %d Hz 16 kHz mono, read (detector check)" % sfreq,
                               "pipewire", [wb, "--pids", str(spid), "--style", "read", "--verify",
                                            "sine:%d" % sfreq] + stall))
            stall_runs.append(("stall 3 s > ring 1.37 s, dummy backend counter 48 kHz stereo, read", "dummy",
                               [wb, "--backend", "dummy", "--pids", str(os.getpid()), "--style", "read", "--rate",
                                "48000", "--channels", "2", "--verify", "counter"] + stall))
            procs = [(what, be, Proc(argv)) for what, be, argv in stall_runs]
            for what, be, p in procs:
                p.p.wait(60)
                rows.append(self.integrity_row(what, be, p))
        finally:
            self.stop_players(counter + sine)
        write_rows(os.path.join(self.out, "integrity.csv"), rows)

    @staticmethod
    def integrity_row(what, backend, p):
        g = lambda k: p.field("result", k) or ""
        row = {"test": what, "backend": backend, "frames": g("frames"), "checked": g("checked"),
               "lost_reported_stats": g("lost"), "overrun_event_frames": g("reported_overrun_frames"),
               "position_jumps": g("position_jumps"), "missing_from_signal": g("missing_from_signal"),
               "counter_jumps": g("counter_jumps"), "zero_frames_after_start": g("zero_frames_after_start"),
               "sine_glitches": g("sine_glitches"), "exit": p.p.returncode}
        log("integrity: %s: %s" % (what, {k: v for k, v in row.items() if k != "test"}))
        return row


def rows(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return list(csv.DictReader(f))


def write_rows(path, rows):
    keys = []
    for r in rows:
        for k in r:
            if k not in keys:
                keys.append(k)
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        for r in rows:
            w.writerow(r)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--phases", default="cpu,latency,startup,integrity")
    ap.add_argument("--counts", default=None)
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--measure", type=float, default=None, help="seconds per CPU cell")
    ap.add_argument("--repeat", type=int, default=1, help="rounds of every CPU cell; the report takes medians")
    ap.add_argument("--warmup", type=float, default=None)
    ap.add_argument("--profile", type=float, default=1.0, help="seconds of pw-profiler per cell")
    ap.add_argument("--latency", type=float, default=None, help="seconds per latency run")
    ap.add_argument("--startup", type=int, default=None, help="start-up repetitions")
    ap.add_argument("--integrity", type=float, default=None, help="seconds of the long capture")
    ap.add_argument("--chunk-ms", type=int, default=100)
    ap.add_argument("--pywac-path", default="")
    a = ap.parse_args()
    smoke = a.smoke
    a.counts = [int(x) for x in (a.counts or ("1,2" if smoke else "1,4,16,64")).split(",")]
    a.kinds = a.kinds.split(",")
    a.measure = a.measure or (1.0 if smoke else 20.0)
    a.warmup = a.warmup or (0.5 if smoke else 3.0)
    a.latency = a.latency or (2.0 if smoke else 30.0)
    a.startup = a.startup or (3 if smoke else 20)
    a.integrity = a.integrity or (3.0 if smoke else 600.0)
    if smoke:
        a.profile = min(a.profile, 0.8)
    os.makedirs(a.out, exist_ok=True)
    b = Bench(a)
    meta = {"started": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "loadavg_start": loadavg(), "smoke": smoke,
            "cpus": os.cpu_count(), "kernel": platform.release(),
            "cpu_model": next((l.split(":", 1)[1].strip() for l in read("/proc/cpuinfo").splitlines()
                               if l.startswith("model name")), "?"),
            "pipewire": subprocess.run(["pipewire", "--version"], capture_output=True, text=True).stdout.strip()
            .splitlines()[-1] if shutil.which("pipewire") else "?",
            "counts": a.counts, "kinds": a.kinds, "repeat": a.repeat, "measure_s": a.measure, "warmup_s": a.warmup,
            "latency_s": a.latency, "startup_n": a.startup, "integrity_s": a.integrity, "chunk_ms": a.chunk_ms,
            "pywac": "available" if b.pywac_ok else "pending"}
    t0 = time.monotonic()
    failed = []
    try:
        for phase in a.phases.split(","):
            log("phase %s (loadavg %s)" % (phase, loadavg()))
            try:
                getattr(b, "phase_" + phase)()
            except Exception as e:  # keep going: a report with the other phases is still worth having
                log("phase %s failed: %r" % (phase, e))
                failed.append("%s: %r" % (phase, e))
    finally:
        shutil.rmtree(b.tmp, ignore_errors=True)
    if smoke:
        # The smoke run checks that everything still works: a consumer that
        # failed, or a stall whose reported loss differs from the signal's.
        for r in rows(os.path.join(a.out, "cpu.csv")):
            if r["status"] not in ("ok", "pending pywac"):
                failed.append("cpu: %s with %s sources: %s %s" % (r["kind"], r["sources"], r["status"], r["note"]))
        for r in rows(os.path.join(a.out, "integrity.csv")):
            if r["test"].startswith("stall") and "sine" not in r["test"] and not (
                    r["missing_from_signal"] == r["overrun_event_frames"] == r["lost_reported_stats"] != "0"):
                failed.append("integrity: %s: reported %s, missing %s" % (r["test"], r["overrun_event_frames"],
                                                                          r["missing_from_signal"]))
        for f in failed:
            log("FAILED: " + f)
    meta.update({"loadavg_end": loadavg(), "duration_s": round(time.monotonic() - t0, 1), "failed_phases": failed,
                 "finished": time.strftime("%Y-%m-%d %H:%M:%S %Z")})
    with open(os.path.join(a.out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
