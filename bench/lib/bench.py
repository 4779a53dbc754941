"""bench — agentcast against the retake.tv seed's stack, side by side on one machine.

Run through bench/run (see bench/README.md). For each scenario: one quality run per tool (the
encoded pictures dumped raw, PSNR/SSIM of what the ingest recorded against them), then PAIRS
measured runs alternating agentcast and the baseline (A B A B …). Medians over the pairs, the
agentcast/baseline ratio and the product target go into one JSON document; a table goes to
stdout.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procs  # noqa: E402
import quality  # noqa: E402
import report  # noqa: E402
from ingest import Ingest  # noqa: E402
from scenarios import Runner, display_taken  # noqa: E402

TITLES = {
    "A": "terminal: a log growing one line every 0.5 s (seed: Xvfb+openbox+xterm+x11grab)",
    "B": "moving content: agentcast testsrc vs ffmpeg lavfi testsrc2,realtime",
    "C": "same X display: both capture one Xvfb display",
    "D": "encoder floor: agentcast (scenario B) vs x264 alone on agentcast's own frames",
}
BASELINE = {"A": "seed", "B": "ffmpeg", "D": "x264"}


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def _out(argv):
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=10,
                           stdin=subprocess.DEVNULL)
        return (r.stdout + r.stderr).strip().splitlines()[0] if (r.stdout + r.stderr).strip() \
            else None
    except (OSError, subprocess.TimeoutExpired):
        return None


def machine(agentcast, src):
    model = None
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpu_model": model,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "os": _out(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"]),
        "memory_mb": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20,
        "loadavg_at_start": list(os.getloadavg()),
        "agentcast": _out([agentcast, "stream", "--version"]),
        "agentcast_source": _out(["git", "-C", src, "describe", "--always", "--dirty"]),
        "ffmpeg": _out(["ffmpeg", "-version"]),
        "x264": _out(["x264", "--version"]),
        "nginx": _out(["nginx", "-v"]),
        "xvfb": _out(["dpkg-query", "-W", "-f", "${Version}", "xvfb"]),
        "xterm": _out(["xterm", "-v"]),
        "openbox": _out(["openbox", "--version"]),
    }


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="bench/run", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="smoke run, about a minute: 1 pair, 6 s runs, 5 s quality runs")
    ap.add_argument("--long", action="store_true",
                    help="add a 10-minute agentcast soak reporting RSS drift")
    ap.add_argument("--scenarios", default="A,B,C,D", help="comma list of A,B,C,D or none")
    ap.add_argument("--pairs", type=int, help="measured pairs per scenario (default 3)")
    ap.add_argument("--seconds", type=float, help="seconds per measured run (default 60)")
    ap.add_argument("--quality-seconds", type=float, help="seconds per quality run (20)")
    ap.add_argument("--soak-seconds", type=float, default=600)
    ap.add_argument("--json", default=None,
                    help="where the JSON goes (default bench-DATE.json; - = stdout, and the "
                    "table then goes to stderr)")
    ap.add_argument("--rtmp-port", type=int, default=19350)
    ap.add_argument("--http-port", type=int, default=19351)
    ap.add_argument("--display", type=int, default=99, help="Xvfb display number (99)")
    ap.add_argument("--agentcast", required=True)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args(argv)
    quick = a.quick
    a.pairs = a.pairs or (1 if quick else 3)
    a.seconds = a.seconds or (6 if quick else 60)
    a.quality_seconds = a.quality_seconds or (5 if quick else 20)
    a.scenarios = [] if a.scenarios == "none" else [s.strip().upper()
                                                    for s in a.scenarios.split(",")]
    bad = [s for s in a.scenarios if s not in TITLES]
    if bad:
        ap.error(f"unknown scenario {bad}")
    return a


def _quality_pass(runner, sc, tag, a, notes):
    qual, runs = {}, []
    for tool in ("agentcast", "baseline"):
        key = f"{sc}-{tool}-quality-{tag}"
        dump = os.path.join(runner.workdir, key + ".yuv")
        log(f"{sc}: quality run, {tool}, {a.quality_seconds:g} s")
        r = runner.run(sc, tool, key, a.quality_seconds, dump=dump)
        q = quality.compare(runner.ingest.recording(key), dump,
                            os.path.join(runner.workdir, key))
        r["quality"] = q
        runs.append(r)
        qual[tool] = q
        if "error" in q:
            notes.append(f"quality ({tool}): {q['error']}")
    return qual, runs


def run_scenario(runner, sc, a, state):
    notes = []
    res = {"title": TITLES[sc], "baseline_name": BASELINE.get(sc, "-"), "pairs": a.pairs,
           "run_seconds": a.seconds, "notes": notes}
    qual, qruns = _quality_pass(runner, sc, "q", a, notes)
    if sc == "B":
        dump = os.path.join(runner.workdir, "B-agentcast-quality-q.yuv")
        state["dump"] = dump
    runs, d_runs = [], []
    for i in range(1, a.pairs + 1):
        for tool in ("agentcast", "baseline"):
            log(f"{sc}: pair {i}/{a.pairs}, {tool}, {a.seconds:g} s")
            r = runner.run(sc, tool, f"{sc}-{tool}-{i}", a.seconds)
            runs.append(r)
            if tool == "agentcast" and sc == "B" and state.get("want_d"):
                d_runs.append(r)
        if sc == "B" and state.get("want_d"):
            log(f"D: pair {i}/{a.pairs}, x264 alone on {os.path.basename(state['dump'])}")
            d_runs.append(runner.run_x264(f"D-x264-{i}", state["dump"]))
    state["d_runs"] = d_runs
    res["commands"] = {
        "agentcast": " ".join(runner._agentcast_argv(sc, "URL", "STATS", "LOG", None)[1:]),
        "baseline": " ".join(runner._ffmpeg_argv(sc, "URL", None)),
    }
    res["quality"] = qual
    res["quality_runs"] = qruns
    res["runs"] = runs
    res["summary"] = report.summarize(sc, runs, qual)
    if sc == "B":
        notes.append("complexity matched by construction: platform/testsrc.c is built to cost "
                     "x264 what testsrc2 costs (same CRF 23 bitrate, encode CPU within ~10 %); "
                     "compare the video kbit/s and PSNR rows")
    return res


def run_d(state, a):
    runs = state.get("d_runs") or []
    res = {"title": TITLES["D"], "baseline_name": "x264", "pairs": a.pairs,
           "run_seconds": a.seconds, "runs": runs,
           "commands": {"baseline": "x264 " + " ".join(
               __import__("scenarios").X264_CLI[1:]) + " --frames N DUMP.yuv"},
           "notes": ["x264 runs unpaced on the raw dump of agentcast's scenario-B quality run "
                     "(the same testsrc pictures agentcast encodes in every B run); its CPU is "
                     "per minute of stream it encoded"]}
    res["summary"] = report.summarize("D", runs, {}, only=("cpu_s_per_min", "peak_rss_mb"))
    return res


def agentcast_has_x11(agentcast):
    r = subprocess.run([agentcast, "stream", "--help"], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL)
    return "x11" in r.stdout


def main(argv):
    a = parse_args(argv)
    src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for tool in ("ffmpeg", "ffprobe", "Xvfb", "xterm", "openbox", "x264"):
        if not shutil.which(tool):
            log(f"{tool} not found: run sh packaging/install-build-deps")
            return 2
    if "A" in a.scenarios and display_taken(a.display):
        log(f"X display :{a.display} is taken: the bench refuses to run (use --display N)")
        return 2

    def on_signal(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    procs.become_subreaper()
    workdir = tempfile.mkdtemp(prefix="agentcast-bench.")
    ingest = Ingest(workdir, a.rtmp_port, a.http_port)
    started = datetime.datetime.now(datetime.timezone.utc)
    doc = {"schema": "agentcast-bench/1",
           "date": started.isoformat(timespec="seconds"),
           "mode": "quick" if a.quick else "full",
           "config": {"pairs": a.pairs, "run_seconds": a.seconds,
                      "quality_seconds": a.quality_seconds, "scenarios": a.scenarios,
                      "long": a.long, "picture": "1280x720@30",
                      "encode": "x264 veryfast zerolatency 1500k/1500k/3000k keyint 2 s "
                                "yuv420p, AAC stereo 44.1 kHz"},
           "machine": machine(a.agentcast, src), "scenarios": {}}
    rc = 0
    try:
        ingest.start()
        runner = Runner(a.agentcast, ingest, workdir, a.display, log)
        state = {"want_d": "D" in a.scenarios}
        order = [s for s in ("A", "B", "C") if s in a.scenarios]
        if "D" in a.scenarios and "B" not in order:
            order.append("B")  # D is measured inside B's loop
        for sc in order:
            if sc == "C":
                doc["scenarios"]["C"] = {
                    "title": TITLES["C"],
                    "skipped": "agentcast has no x11 source yet" if not
                    agentcast_has_x11(a.agentcast) else
                    "not implemented in this runner yet (the x11 source exists)"}
                continue
            doc["scenarios"][sc] = run_scenario(runner, sc, a, state)
        if "D" in a.scenarios:
            doc["scenarios"]["D"] = run_d(state, a)
        if "B" not in a.scenarios and "B" in doc["scenarios"]:
            doc["scenarios"]["B"]["notes"].append("run only to feed scenario D")
        if a.long:
            log(f"soak: agentcast terminal for {a.soak_seconds:g} s")
            doc["soak"] = runner.soak("soak", a.soak_seconds,
                                      lambda t: t % 60 < 1 and log(f"soak: {t:.0f} s"))
    except KeyboardInterrupt as e:
        log(f"interrupted ({e}): cleaning up")
        doc["interrupted"] = True
        rc = 130
    except RuntimeError as e:
        log(f"error: {e}")
        doc["error"] = str(e)
        rc = 1
    finally:
        procs.cleanup_all()
        ingest.stop()
        if a.keep or rc:
            log(f"work files kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    doc["machine"]["loadavg_at_end"] = list(os.getloadavg())
    doc["elapsed_s"] = round((datetime.datetime.now(datetime.timezone.utc) - started)
                             .total_seconds(), 1)
    text = json.dumps(doc, indent=1)
    tab = report.table(doc)
    if a.json == "-":
        print(tab, file=sys.stderr)
        print(text)
    else:
        path = a.json or f"bench-{started.strftime('%Y%m%d-%H%M%S')}.json"
        with open(path, "w") as f:
            f.write(text + "\n")
        print(tab)
        print(f"JSON: {path}")
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
