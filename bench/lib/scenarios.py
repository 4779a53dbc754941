"""scenarios — one measured run of one tool on one scenario, and the commands each one runs.

A run: start the tool's processes (t0 = just before the first one starts), time "start →
publisher visible" on the ingest's stat page, let it stream for the run's duration, stop it the
way an operator would (SIGINT for ffmpeg, SIGTERM for agentcast and the X stack), reap every
process of the tree, and read: CPU (rusage of the reaped tree), peak summed RSS (sampler), the
tool's own counters, and what the ingest recorded.
"""
import json
import os
import random
import re
import signal
import socket
import threading
import time

import procs
import quality

SEED_X264 = ["-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency",
             "-b:v", "1500k", "-maxrate", "1500k", "-bufsize", "3000k",
             "-pix_fmt", "yuv420p", "-g", "60"]
SEED_AUDIO_IN = ["-f", "lavfi", "-i", "anullsrc=channel_layout=stereo:sample_rate=44100"]
SEED_AUDIO_OUT = ["-c:a", "aac", "-b:a", "128k"]
X264_CLI = ["x264", "--preset", "veryfast", "--tune", "zerolatency", "--bitrate", "1500",
            "--vbv-maxrate", "1500", "--vbv-bufsize", "3000", "--keyint", "60",
            "--profile", "high", "--input-csp", "i420", "--input-res", "1280x720", "--fps", "30",
            "--quiet", "--muxer", "raw", "-o", "/dev/null"]
FRAME_BYTES = 1280 * 720 * 3 // 2


class LogWriter(threading.Thread):
    """Scenario A's content: the same deterministic log, one line every 0.5 s from t0."""

    WORDS = ("build", "test", "fetch", "parse", "compile", "link", "deploy", "retry", "ok",
             "cache", "module", "agent", "step", "plan", "tool", "call", "result", "error=0")

    def __init__(self, path, t0):
        super().__init__(daemon=True)
        self.path, self.t0 = path, t0
        self._halt = threading.Event()
        self.lines = 0

    def line(self, i):
        rnd = random.Random(i)
        words = " ".join(rnd.choice(self.WORDS) for _ in range(rnd.randint(4, 16)))
        return f"[{i:05d}] {i * 0.5:8.1f}s agent: {words}\n"

    def run(self):
        with open(self.path, "a") as f:
            i = 0
            while True:
                delay = self.t0 + 0.5 * (i + 1) - time.monotonic()
                if self._halt.wait(max(0.0, delay)):
                    return
                i += 1
                f.write(self.line(i))
                f.flush()
                self.lines = i

    def finish(self):
        self._halt.set()
        self.join()


def display_taken(n):
    lock = f"/tmp/.X{n}-lock"
    if os.path.exists(lock):
        try:
            pid = int(open(lock).read().strip())
            os.kill(pid, 0)
            return True
        except (ValueError, OSError):
            pass
    sock = f"/tmp/.X11-unix/X{n}"
    if os.path.exists(sock):
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(sock)
            return True
        except OSError:
            return False
        finally:
            s.close()
    return False


def _wait_x(n, proc, timeout=10):
    sock = f"/tmp/.X11-unix/X{n}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"Xvfb :{n} exited with {proc.returncode}")
        if os.path.exists(sock):
            s = socket.socket(socket.AF_UNIX)
            try:
                s.connect(sock)
                return
            except OSError:
                pass
            finally:
                s.close()
        time.sleep(0.005)
    raise RuntimeError(f"Xvfb :{n} did not accept connections")


def _agentcast_stats(path):
    rows = []
    try:
        with open(path) as f:
            rows = [json.loads(line) for line in f if line.strip()]
    except (OSError, ValueError):
        pass
    out = [r["outputs"][0] for r in rows if r.get("outputs")]
    p50 = sorted(o["latency_p50_ms"] for o in out if o.get("latency_p50_ms") is not None)
    p99 = [o["latency_p99_ms"] for o in out if o.get("latency_p99_ms") is not None]
    last = rows[-1] if rows else {}
    return {
        "latency_p50_ms": p50[len(p50) // 2] if p50 else None,
        "latency_p99_ms": max(p99) if p99 else None,
        "dropped_reported": (out[-1]["dropped"] + last.get("frames_skipped", 0)) if out else None,
        "copied_bytes_per_frame": last.get("copied_bytes_per_frame"),
        "encoder": last.get("encoder"),
    }


def _ffmpeg_drops(path):
    try:
        text = open(path, errors="replace").read()
    except OSError:
        return None
    m = re.findall(r"drop=\s*(\d+)", text)
    return int(m[-1]) if m else 0


class Runner:
    def __init__(self, agentcast, ingest, workdir, display, log):
        self.agentcast, self.ingest, self.workdir = agentcast, ingest, workdir
        self.display, self.log = display, log
        self.keep = {ingest.proc.pid}

    # -- command lines ------------------------------------------------------------------------
    def _agentcast_argv(self, scenario, url, stats, logfile, dump):
        argv = [self.agentcast, "stream", "--output", url, "--stats-json", stats]
        if scenario == "A":
            argv += ["--source", "terminal", "--text-file", logfile]
        else:
            argv += ["--source", "testsrc"]
        if dump:
            argv += ["--dump-raw", dump]
        return argv

    def _ffmpeg_argv(self, scenario, url, dump):
        if scenario == "A":
            vin = ["-thread_queue_size", "512", "-f", "x11grab", "-video_size", "1280x720",
                   "-framerate", "30", "-i", f":{self.display}"]
        else:
            vin = ["-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30,realtime"]
        argv = ["ffmpeg"] + vin + SEED_AUDIO_IN + SEED_X264 + SEED_AUDIO_OUT + ["-f", "flv", url]
        if dump:
            # Quality runs only: the very pictures given to libx264 (converted to yuv420p by the
            # same scaler), as a second output; never in the runs whose CPU is reported.
            argv += ["-map", "0:v", "-c:v", "rawvideo", "-pix_fmt", "yuv420p", "-fps_mode",
                     "vfr", "-f", "rawvideo", dump]
        return argv

    # -- one run ------------------------------------------------------------------------------
    def run(self, scenario, tool, key, duration, dump=None):
        rdir = os.path.join(self.workdir, key)
        os.makedirs(rdir, exist_ok=True)
        url = f"{self.ingest.url}/{key}"
        logfile = os.path.join(rdir, "stream.log")
        open(logfile, "w").close()
        procs.reap_orphans(2, keep=self.keep)
        cpu0 = procs.children_cpu_s()
        sampler = procs.TreeSampler([], exclude=self.keep)
        writer = None
        started = []
        t0 = time.monotonic()
        if scenario == "A":
            writer = LogWriter(logfile, t0)
            writer.start()
        try:
            if tool == "agentcast":
                stats = os.path.join(rdir, "stats.jsonl")
                main = procs.spawn(self._agentcast_argv(scenario, url, stats, logfile, dump),
                                   stderr=os.path.join(rdir, "agentcast.err"))
                started.append(main)
            else:
                env = dict(os.environ, DISPLAY=f":{self.display}")
                if scenario == "A":
                    x = procs.spawn(["Xvfb", f":{self.display}", "-screen", "0", "1280x720x24",
                                     "-ac"], stderr=os.path.join(rdir, "xvfb.err"))
                    started.append(x)
                    sampler.add_root(x.pid)
                    _wait_x(self.display, x)
                    started.append(procs.spawn(["openbox"], env=env,
                                               stderr=os.path.join(rdir, "openbox.err")))
                    started.append(procs.spawn(
                        ["xterm", "-fa", "Monospace", "-fs", "12", "-bg", "black", "-fg",
                         "#00ff00", "-geometry", "160x45+0+0", "-e", f"tail -f {logfile}"],
                        env=env, stderr=os.path.join(rdir, "xterm.err")))
                main = procs.spawn(self._ffmpeg_argv(scenario, url, dump), env=env,
                                   stderr=os.path.join(rdir, "ffmpeg.err"))
                started.append(main)
            for p in started:
                sampler.add_root(p.pid)
            sampler.sample()
            sampler.start()
            to_pub = self.ingest.wait_publisher(key, t0, min(15, duration),
                                                lambda: main.poll() is None)
            end = t0 + duration
            while time.monotonic() < end and main.poll() is None:
                time.sleep(0.05)
            if main.poll() is not None:
                raise RuntimeError(f"{tool} ended early with status {main.returncode} "
                                   f"(see {rdir})")
            stream_s = time.monotonic() - t0
            procs.stop(main, signal.SIGINT if tool != "agentcast" else signal.SIGTERM, 10)
            for p in reversed(started[:-1]):
                procs.stop(p, signal.SIGTERM, 5)
            procs.reap_orphans(3, keep=self.keep)
        finally:
            if sampler.is_alive():
                sampler.finish()
            if writer:
                writer.finish()
            for p in started:
                procs.stop(p, signal.SIGKILL, 2)
        cpu = procs.children_cpu_s() - cpu0
        res = {
            "tool": tool, "scenario": scenario, "key": key,
            "stream_s": round(stream_s, 3),
            "cpu_s": round(cpu, 3),
            "cpu_s_per_min": round(cpu / stream_s * 60, 3),
            "peak_rss_mb": round(sampler.peak_kb / 1024, 2),
            "rss_hwm_sum_mb": round(sum(sampler.hwm_kb.values()) / 1024, 2),
            "start_to_publisher_s": round(to_pub, 4) if to_pub is not None else None,
            "processes": sampler.process_names(),
        }
        if tool == "agentcast":
            res.update(_agentcast_stats(os.path.join(rdir, "stats.jsonl")))
        else:
            res.update(latency_p50_ms=None, latency_p99_ms=None,
                       dropped_reported=_ffmpeg_drops(os.path.join(rdir, "ffmpeg.err")))
        res["received"] = quality.received(self.ingest.recording(key))
        if writer:
            res["log_lines"] = writer.lines
        return res

    def run_x264(self, key, dump):
        """Scenario D's baseline: the x264 command-line encoder alone on agentcast's frames."""
        rdir = os.path.join(self.workdir, key)
        os.makedirs(rdir, exist_ok=True)
        frames = os.path.getsize(dump) // FRAME_BYTES
        procs.reap_orphans(2, keep=self.keep)
        cpu0 = procs.children_cpu_s()
        t0 = time.monotonic()
        p = procs.spawn(X264_CLI + ["--frames", str(frames), dump],
                        stderr=os.path.join(rdir, "x264.err"))
        sampler = procs.TreeSampler([p.pid], exclude=self.keep)
        sampler.sample()
        sampler.start()
        rc = p.wait()
        wall = time.monotonic() - t0
        sampler.finish()
        procs.stop(p)
        procs.reap_orphans(1, keep=self.keep)
        cpu = procs.children_cpu_s() - cpu0
        if rc != 0:
            raise RuntimeError(f"x264 exited {rc} (see {rdir}/x264.err)")
        stream_s = frames / 30
        return {
            "tool": "x264", "scenario": "D", "key": key, "frames": frames,
            "stream_s": round(stream_s, 3), "wall_s": round(wall, 3),
            "cpu_s": round(cpu, 3), "cpu_s_per_min": round(cpu / stream_s * 60, 3),
            "peak_rss_mb": round(sampler.peak_kb / 1024, 2),
            "rss_hwm_sum_mb": round(sum(sampler.hwm_kb.values()) / 1024, 2),
            "processes": sampler.process_names(),
        }

    def soak(self, key, duration, progress):
        """--long: agentcast alone on scenario A's content for duration s; RSS once a second."""
        rdir = os.path.join(self.workdir, key)
        os.makedirs(rdir, exist_ok=True)
        logfile = os.path.join(rdir, "stream.log")
        open(logfile, "w").close()
        t0 = time.monotonic()
        writer = LogWriter(logfile, t0)
        writer.start()
        stats = os.path.join(rdir, "stats.jsonl")
        p = procs.spawn(self._agentcast_argv("A", f"{self.ingest.url}/{key}", stats, logfile,
                                             None), stderr=os.path.join(rdir, "agentcast.err"))
        sampler = procs.TreeSampler([p.pid], exclude=self.keep, period=1.0)
        sampler.start()
        try:
            while time.monotonic() < t0 + duration and p.poll() is None:
                time.sleep(1)
                progress(time.monotonic() - t0)
            alive = p.poll() is None
            procs.stop(p, signal.SIGTERM, 10)
        finally:
            sampler.finish()
            writer.finish()
            procs.stop(p, signal.SIGKILL, 2)
        series = sampler.series

        def median_between(a, b):
            v = sorted(kb for t, kb in series if a <= t < b)
            return v[len(v) // 2] / 1024 if v else None
        early = median_between(60, 90)
        late = median_between(duration - 30, duration)
        return {
            "duration_s": duration, "ran_to_end": alive,
            "rss_mb_60_90s": round(early, 2) if early else None,
            "rss_mb_last_30s": round(late, 2) if late else None,
            "rss_drift_mb": round(late - early, 3) if early and late else None,
            "rss_series_mb": [[round(t), round(kb / 1024, 2)] for t, kb in series[::10]],
            **_agentcast_stats(stats),
        }
