"""report — medians over a scenario's pairs, agentcast/baseline ratios, targets, the table."""
import statistics

# (metric, label, unit, lower is better)
METRICS = [
    ("cpu_s_per_min", "CPU s per stream minute", "s", True),
    ("peak_rss_mb", "peak RSS, whole tree", "MB", True),
    ("start_to_publisher_s", "start -> publisher", "s", True),
    ("latency_p50_ms", "capture->socket p50", "ms", True),
    ("latency_p99_ms", "capture->socket p99", "ms", True),
    ("fps", "fps at ingest", "", False),
    ("video_kbps", "video kbit/s at ingest", "", None),
    ("dropped", "frames dropped", "", True),
    ("psnr_db", "PSNR vs own source", "dB", False),
    ("ssim", "SSIM vs own source", "", False),
]

TARGETS = {
    "A": {"cpu_s_per_min": ("ratio", 0.15), "peak_rss_mb": ("ratio", 0.15),
          "psnr_db": ("no_worse", None), "ssim": ("no_worse", None),
          "start_to_publisher_s": ("agentcast_max", 0.15),
          "latency_p99_ms": ("agentcast_max", 50.0)},
    "B": {"cpu_s_per_min": ("ratio", 0.7), "start_to_publisher_s": ("agentcast_max", 0.15),
          "latency_p99_ms": ("agentcast_max", 50.0)},
    "D": {"cpu_s_per_min": ("ratio", 1.05)},
}


def _flat(run):
    r = dict(run)
    rec = run.get("received") or {}
    r["fps"] = rec.get("fps")
    r["video_kbps"] = rec.get("video_kbps")
    dr, miss = run.get("dropped_reported"), rec.get("missing_frames")
    r["dropped"] = None if dr is None and miss is None else (dr or 0) + (miss or 0)
    return r


def _median(vals):
    vals = [v for v in vals if v is not None]
    return round(statistics.median(vals), 4) if vals else None


def summarize(scenario, runs, qual, only=None):
    """runs: list of per-run dicts (tool agentcast / baseline); qual: {tool: compare() dict};
    only: the metric keys to keep (default all)."""
    out = {}
    by_tool = {}
    for run in runs:
        by_tool.setdefault("agentcast" if run["tool"] == "agentcast" else "baseline",
                           []).append(_flat(run))
    for key, label, unit, lower in METRICS:
        if only and key not in only:
            continue
        if key in ("psnr_db", "ssim"):
            a = (qual.get("agentcast") or {}).get(key)
            b = (qual.get("baseline") or {}).get(key)
        else:
            a = _median(r.get(key) for r in by_tool.get("agentcast", []))
            b = _median(r.get(key) for r in by_tool.get("baseline", []))
        if a is None and b is None:
            continue
        ratio = round(a / b, 3) if a is not None and b not in (None, 0) else None
        m = {"agentcast": a, "baseline": b, "ratio": ratio, "label": label, "unit": unit}
        t = TARGETS.get(scenario, {}).get(key)
        if t:
            kind, val = t
            m["target"] = {"ratio": f"ratio <= {val}", "no_worse": "agentcast >= baseline",
                           "agentcast_max": f"agentcast <= {val}"}[kind]
            if kind == "ratio":
                m["met"] = ratio is not None and ratio <= val
            elif kind == "no_worse":
                m["met"] = a is not None and b is not None and a >= b
            else:
                m["met"] = a is not None and a <= val
        out[key] = m
    return out


def _fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        if 0.99 < v < 1:
            return f"{v:.6f}"  # SSIM near 1: the digits that differ
        return f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"
    return str(v)


def table(doc):
    lines = []
    for name, sc in doc["scenarios"].items():
        lines.append(f"== {name}: {sc['title']}")
        if sc.get("skipped"):
            lines.append(f"   skipped: {sc['skipped']}")
            continue
        lines.append(f"   {'figure':26} {'agentcast':>10} {sc['baseline_name']:>10} "
                     f"{'ratio':>7}  target")
        for key, m in sc["summary"].items():
            tgt = ""
            if "target" in m:
                tgt = f"{m['target']} {'MET' if m['met'] else 'MISSED'}"
            label = m["label"] + (f" ({m['unit']})" if m["unit"] else "")
            lines.append(f"   {label:26} {_fmt(m['agentcast']):>10} {_fmt(m['baseline']):>10} "
                         f"{_fmt(m['ratio']):>7}  {tgt}")
        lines.append(f"   pairs: {sc['pairs']}, {sc['run_seconds']} s per run")
        for n in sc.get("notes", []):
            lines.append(f"   note: {n}")
    if doc.get("soak"):
        s = doc["soak"]
        lines.append(f"== soak: agentcast terminal {s.get('duration_s')} s: RSS "
                     f"{_fmt(s.get('rss_mb_60_90s'))} MB at 60-90 s, "
                     f"{_fmt(s.get('rss_mb_last_30s'))} MB at the end, drift "
                     f"{_fmt(s.get('rss_drift_mb'))} MB (target < 1 MB)")
    return "\n".join(lines)
