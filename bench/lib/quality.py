"""quality — what arrived at the ingest, and how close its pictures are to what was encoded.

received(): from the ingest's recording of a run, with ffprobe: video frames, their time span,
frame rate (frames - 1 over the span), video and audio bitrate over the span, frames missing
(frames a 30 fps stream of that span should hold minus those received), and whether every frame
decodes.

compare(): PSNR and SSIM of a recording against the raw yuv420p pictures the encoder was given
(agentcast's --dump-raw; for the baseline, the same ffmpeg command writing its converted input
frames to a second, rawvideo output). The two sequences are lined up by content: 32x18 grey
thumbnails of the first received frames are matched against the reference's at every offset
0..MAX_OFFSET and the offset with the smallest mean difference wins (a recording may begin a few
frames after the encoder's first picture). Then ffmpeg's psnr and ssim filters compare frame i of
the recording with frame i + offset of the reference, as many frames as both have.
"""
import json
import os
import re
import subprocess

W, H, FPS = 1280, 720, 30
SIG_W, SIG_H = 32, 18
MAX_OFFSET = 90
ALIGN_FRAMES = 150


def _run(argv, **kw):
    return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, **kw)


def received(path):
    """Dict of what the recording at path holds, or {"error": …}."""
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return {"error": "nothing recorded at the ingest"}
    r = _run(["ffprobe", "-v", "error", "-show_entries",
              "packet=stream_index,codec_type,pts_time,size", "-of", "json", path])
    if r.returncode != 0:
        return {"error": "ffprobe: " + r.stderr.decode(errors="replace")[-300:]}
    pkts = json.loads(r.stdout or b"{}").get("packets", [])
    v = [p for p in pkts if p.get("codec_type") == "video" and p.get("pts_time") not in
         (None, "N/A")]
    a = [p for p in pkts if p.get("codec_type") == "audio"]
    if len(v) < 2:
        return {"error": f"{len(v)} video frames recorded"}
    ts = sorted(float(p["pts_time"]) for p in v)
    span = ts[-1] - ts[0] + 1.0 / FPS
    vbytes = sum(int(p["size"]) for p in v)
    abytes = sum(int(p["size"]) for p in a)
    gaps = [b - a_ for a_, b in zip(ts, ts[1:])]
    d = _run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-map", "0:v:0", "-f", "null",
              "-"])
    return {
        "frames": len(v),
        "span_s": round(span, 3),
        "fps": round((len(v) - 1) / (ts[-1] - ts[0]), 3) if ts[-1] > ts[0] else None,
        "video_kbps": round(vbytes * 8 / span / 1000, 1),
        "audio_kbps": round(abytes * 8 / span / 1000, 1),
        "missing_frames": max(0, round(span * FPS) - len(v)),
        "max_gap_ms": round(max(gaps) * 1000, 1) if gaps else None,
        "decodes_cleanly": d.returncode == 0 and not d.stderr.strip(),
    }


def _signatures(argv_input, frames):
    r = _run(["ffmpeg", "-nostdin", "-v", "error"] + argv_input +
             ["-frames:v", str(frames), "-fps_mode", "passthrough", "-vf",
              f"scale={SIG_W}:{SIG_H}:flags=area,format=gray", "-f", "rawvideo", "-"])
    n = SIG_W * SIG_H
    data = r.stdout
    return [data[i:i + n] for i in range(0, len(data) - n + 1, n)]


def _raw_input(path):
    return ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{W}x{H}", "-r", str(FPS), "-i",
            path]


def align(recording, reference):
    """Offset k (reference frame k = first recorded frame) and its mean thumbnail difference."""
    rec = _signatures(["-i", recording], ALIGN_FRAMES)
    ref = _signatures(_raw_input(reference), ALIGN_FRAMES + MAX_OFFSET)
    best = None
    for k in range(0, max(1, len(ref) - 10)):
        if k > MAX_OFFSET:
            break
        n = min(len(rec), len(ref) - k)
        if n < 10:
            break
        cost = 0
        for i in range(n):
            cost += sum(map(abs, map(int.__sub__, rec[i], ref[i + k])))
        cost /= n * SIG_W * SIG_H
        if best is None or cost < best[1] - 1e-9:
            best = (k, cost)
    return best


def compare(recording, reference, workdir):
    """{"psnr_db", "ssim", "frames_compared", "offset", …} or {"error": …}."""
    if not os.path.exists(reference) or os.path.getsize(reference) < W * H * 3 // 2:
        return {"error": "no reference frames"}
    al = align(recording, reference)
    if al is None:
        return {"error": "could not line the recording up with the reference"}
    k, cost = al
    plog, slog = os.path.join(workdir, "psnr.log"), os.path.join(workdir, "ssim.log")
    graph = (f"[0:v]setpts=N/{FPS}/TB,split[a1][a2];"
             f"[1:v]trim=start_frame={k},setpts=N/{FPS}/TB,split[b1][b2];"
             f"[a1][b1]psnr=shortest=1:stats_file={plog}[o1];"
             f"[a2][b2]ssim=shortest=1:stats_file={slog}[o2]")
    r = _run(["ffmpeg", "-nostdin", "-hide_banner", "-i", recording]
             + _raw_input(reference) + ["-filter_complex", graph, "-map", "[o1]", "-f", "null",
                                        "-", "-map", "[o2]", "-f", "null", "-"])
    err = r.stderr.decode(errors="replace")
    mp = re.search(r"PSNR y:([\d.inf]+) u:([\d.inf]+) v:([\d.inf]+) average:([\d.inf]+)", err)
    ms = re.search(r"SSIM Y:([\d.]+).*?All:([\d.]+)", err)
    if r.returncode != 0 or not mp or not ms:
        return {"error": "ffmpeg psnr/ssim failed: " + err[-300:]}
    with open(plog) as f:
        frames = sum(1 for _ in f)
    return {
        "psnr_db": float(mp.group(4)),
        "psnr_y_db": float(mp.group(1)),
        "ssim": float(ms.group(2)),
        "ssim_y": float(ms.group(1)),
        "frames_compared": frames,
        "offset_frames": k,
        "align_mean_diff": round(cost, 3),
    }
