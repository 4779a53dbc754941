#!/usr/bin/env python3
"""fake_clawcast — a fake ClawCast.tv server for agentcast's tests. Test-only: never installed.

Serves the API of /work/shared/seeds/clawcast.md under /api/ (bookSlot, publishFrame,
publishBatch, endSlot, pollResults, vote, requestDuet, duetRequests, acceptDuet, duetReply, chat,
now, getQueue) with its rules: one slot on air at a time and a queue, 1-3 minute slots, the 30 s
idle cut, HS256 slot JWTs that expire ~60 s after the slot ends, claimed names and x-api-key,
batches, every content type's validation, polls, duets. A test-control API under /__fake/ (no
auth) reads the call log and the state, changes knobs, injects faults and moves the clock.

All times are kept on a fake clock in "document seconds": real elapsed time divided by the
time_scale knob (0.1: a "1 minute" slot lasts 6 real seconds), plus whatever POST
/__fake/advance added. Where the document is silent the choice made here is marked "CHOICE"
and listed in README-clawcast.md; the document's own sentences are quoted where they decide.

Only Python 3 standard library; listens on 127.0.0.1 only. Prints "READY port=N" when it
accepts. Usage and knobs: tests/fakes/README-clawcast.md, or --help.
"""
import argparse
import base64
import hashlib
import hmac
import json
import math
import os
import re
import secrets
import select
import socket
import struct
import sys
import threading
import time
import traceback
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

MAX_BODY = 4 << 20

# "Duration per slide defaults by type (text=5s, data=6s, terminal=10s, image=8s, poll=15s,
# build=15s)". "duet" is the fake's own type for the three turns of a duet ("Each turn shows
# for 6 seconds"); clients cannot send it.
DEFAULT_SECONDS = {"text": 5, "data": 6, "terminal": 10, "image": 8, "poll": 15, "build": 15}
DUET_TURN_SECONDS = 6
GIF_DOMAINS = ("media.giphy.com", "i.giphy.com", "media.tenor.com", "i.imgur.com")
IMAGE_DOMAINS = GIF_DOMAINS + ("images.unsplash.com", "upload.wikimedia.org", "pbs.twimg.com")
NAME_RE = re.compile(r"[A-Za-z0-9_.\-]{1,50}")   # "alphanumeric, underscores, dots, dashes"
COLOR_RE = re.compile(r"#[0-9A-Fa-f]{6}")        # CHOICE: the only form the document shows
# CHOICE (the document is silent): limits of our own, the same as src/clawcast/validate.h.
URL_MAX, TEXT_MAX, SCREEN_MAX, ROWS_MAX = 2048, 1000, 65536, 20
DUET_TEXT_MAX, CHAT_TEXT_MAX, ID_MAX = 1000, 500, 128

CONFIG_DEFAULTS = {
    "time_scale": 1.0,        # real seconds per document second
    "frozen": False,          # the clock moves only by POST /__fake/advance
    "idle_timeout_s": 30,     # "Idle timeout: 30 seconds with no frames = you get cut."
    "jwt_grace_s": 60,        # "Your JWT expires ~60s after your slot ends."
    "viewers": 0,             # viewer_count in /api/now
    "claims": {},             # claimed name -> API key
    "max_bookings_per_name": 0,   # live+queued slots one name may hold (0: no limit)
    "hang_max_s": 600,        # real seconds a "hang" fault holds a connection at most
}
FAULT_KINDS = ("status", "hang", "drop", "reset", "malformed", "empty", "delay")
FAULT_BODY_MALFORMED = b'{"ok": true, "slot_jwt" [unterminated'
ENDPOINTS = {  # path under /api/ -> method
    "bookSlot": "POST", "publishFrame": "POST", "publishBatch": "POST", "endSlot": "POST",
    "pollResults": "GET", "vote": "POST", "requestDuet": "POST", "duetRequests": "GET",
    "acceptDuet": "POST", "duetReply": "POST", "chat": "POST", "now": "GET", "getQueue": "GET",
}


class ApiError(Exception):
    # CHOICE: the document shows no error body; errors are {"ok": false, "error": <reason>}
    # with the reason naming the field (the success bodies it shows all carry "ok").
    def __init__(self, status, message):
        super().__init__(message)
        self.status, self.message = status, message

    def body(self):
        return {"ok": False, "error": self.message}


def bad(message):
    return ApiError(400, message)


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def iso(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ============================ validation ========================================================

def fields(d, path, allowed, required=()):
    if not isinstance(d, dict):
        raise bad(f"{path or 'body'}: an object is required")
    for k in d:
        # CHOICE: unknown fields are refused (a typo such as "headlne" would vanish silently).
        if k not in allowed:
            raise bad(f"{path + '.' if path else ''}{k}: unknown field")
    for k in required:
        if k not in d:
            raise bad(f"{path + '.' if path else ''}{k}: missing")


def string(d, key, path, lo, hi, required=True, single_line=True):
    """d[key] as a string of lo..hi characters (code points), or None when absent and optional."""
    v = d.get(key)
    where = f"{path}.{key}" if path else key
    if v is None:
        if required:
            raise bad(f"{where}: missing")
        return None
    if not isinstance(v, str):
        raise bad(f"{where}: must be a string")
    if len(v) < lo or len(v) > hi:
        raise bad(f"{where}: {len(v)} characters, must be {lo}-{hi}")
    # CHOICE: single-line fields refuse control characters; text fields allow \n and \t.
    bad_chars = [c for c in v if ord(c) < 32 and (single_line or c not in "\n\t")]
    if bad_chars or "\x7f" in v:
        raise bad(f"{where}: control characters are not allowed")
    return v


def name_field(d, key, path=""):
    v = d.get(key)
    where = f"{path}.{key}" if path else key
    if v is None:
        raise bad(f"{where}: missing")
    # "streamer_name — alphanumeric, underscores, dots, dashes. 1–50 chars."
    # CHOICE: duet and chat names follow the same rule.
    if not isinstance(v, str) or not NAME_RE.fullmatch(v):
        raise bad(f"{where}: 1-50 characters of letters, digits, '_', '.', '-'")
    return v


def url_field(d, key, path="", required=True):
    v = string(d, key, path, 1, URL_MAX, required)
    if v is not None and not re.fullmatch(r"https?://[^\s/?#@]+(?:[/?#]\S*)?", v):
        # CHOICE: streamer_url and duet urls must be http(s) URLs.
        raise bad(f"{path + '.' if path else ''}{key}: must be an http(s) URL")
    return v


def hosted_url(d, key, path, domains):
    v = string(d, key, path, 1, URL_MAX)
    m = re.fullmatch(r"([A-Za-z][A-Za-z0-9+.\-]*)://([^/?#]*)(.*)", v)
    if not m:
        raise bad(f"{path}.{key}: not a URL")
    # Images: "HTTPS required". CHOICE: gif_url must be https as well.
    if m.group(1).lower() != "https":
        raise bad(f"{path}.{key}: HTTPS required")
    host = m.group(2).lower()
    if "@" in host:
        raise bad(f"{path}.{key}: user info is not allowed")
    host = host.split(":")[0]
    # CHOICE: the host must be one of the allowed domains exactly (no subdomains).
    if host not in domains:
        raise bad(f"{path}.{key}: domain {host} is not allowed (allowed: {', '.join(domains)})")
    return v


def validate_content(kind, c, path):
    if kind == "terminal":
        fields(c, path, ("screen",), ("screen",))
        if not isinstance(c["screen"], str):
            raise bad(f"{path}.screen: must be a string")
        if len(c["screen"].encode()) > SCREEN_MAX or "\0" in c["screen"]:
            raise bad(f"{path}.screen: at most {SCREEN_MAX} bytes, no NUL")
    elif kind == "text":
        fields(c, path, ("headline", "body", "meta", "bg_color", "text_color", "accent_color",
                         "gif_url", "theme"))
        for k in ("headline", "body", "meta"):
            string(c, k, path, 0, TEXT_MAX, required=False, single_line=False)
        # CHOICE: a text slide needs a non-empty headline or body.
        if not (c.get("headline") or c.get("body")):
            raise bad(f"{path}: a headline or a body is required")
        for k in ("bg_color", "text_color", "accent_color"):
            if k in c and not (isinstance(c[k], str) and COLOR_RE.fullmatch(c[k])):
                raise bad(f"{path}.{k}: must be #rrggbb")
        if "gif_url" in c:
            hosted_url(c, "gif_url", path, GIF_DOMAINS)
        if "theme" in c:
            # CHOICE: "meme" is the only theme the document names; it needs a gif_url.
            if c["theme"] != "meme":
                raise bad(f"{path}.theme: only \"meme\" is known")
            if "gif_url" not in c:
                raise bad(f"{path}.theme: \"meme\" needs a gif_url")
    elif kind == "data":
        fields(c, path, ("rows",), ("rows",))
        rows = c["rows"]
        if not isinstance(rows, list) or not 1 <= len(rows) <= ROWS_MAX:
            raise bad(f"{path}.rows: 1-{ROWS_MAX} rows")
        for i, r in enumerate(rows):
            p = f"{path}.rows[{i}]"
            fields(r, p, ("label", "value", "change"), ("label", "value"))
            string(r, "label", p, 1, TEXT_MAX)
            string(r, "value", p, 0, TEXT_MAX)
            string(r, "change", p, 0, TEXT_MAX, required=False)
    elif kind == "image":
        fields(c, path, ("image_url", "caption"), ("image_url",))
        hosted_url(c, "image_url", path, IMAGE_DOMAINS)
        string(c, "caption", path, 0, TEXT_MAX, required=False, single_line=False)
    elif kind == "poll":
        # "Question: 1–200 characters", "Options: 2–6 items, each 1–100 characters"
        fields(c, path, ("question", "options"), ("question", "options"))
        string(c, "question", path, 1, 200)
        opts = c["options"]
        if not isinstance(opts, list) or not 2 <= len(opts) <= 6:
            n = len(opts) if isinstance(opts, list) else "not a list:"
            raise bad(f"{path}.options: {n} options, must be 2-6")
        for i, o in enumerate(opts):
            if not isinstance(o, str) or not 1 <= len(o) <= 100:
                raise bad(f"{path}.options[{i}]: must be 1-100 characters")
    elif kind == "build":
        fields(c, path, ("steps",), ("steps",))
        steps = c["steps"]
        # "1–10 steps per build."
        if not isinstance(steps, list) or not 1 <= len(steps) <= 10:
            raise bad(f"{path}.steps: 1-10 steps")
        for i, s in enumerate(steps):
            p = f"{path}.steps[{i}]"
            fields(s, p, ("type", "content"), ("type", "content"))
            if s["type"] not in ("log", "milestone", "preview"):
                raise bad(f"{p}.type: one of log, milestone, preview")
            string(s, "content", p, 1, TEXT_MAX, single_line=False)
    else:
        raise bad(f"{path.rsplit('.', 1)[0]}.type: one of {', '.join(DEFAULT_SECONDS)}")


def content_type(d, path):
    t = d.get("type")
    if t not in DEFAULT_SECONDS:
        raise bad(f"{path}.type: one of {', '.join(DEFAULT_SECONDS)}" if path else
                  f"type: one of {', '.join(DEFAULT_SECONDS)}")
    return t


def validate_slides(slides, path="slides"):
    """Normalised copies of a valid slides array: {type, content, seconds}."""
    # "Max 10 slides." CHOICE: bookSlot's slides follow the same rule ("Same format"), and an
    # empty array is refused (omit the field to push content yourself).
    if not isinstance(slides, list) or not 1 <= len(slides) <= 10:
        n = len(slides) if isinstance(slides, list) else "not a list:"
        raise bad(f"{path}: {n} slides, must be 1-10")
    out = []
    for i, s in enumerate(slides):
        p = f"{path}[{i}]"
        fields(s, p, ("type", "content", "duration_seconds"), ("type", "content"))
        t = content_type(s, p)
        validate_content(t, s["content"], p + ".content")
        secs = s.get("duration_seconds", DEFAULT_SECONDS[t])
        # "you can override with duration_seconds (3–30s)"
        if "duration_seconds" in s and (type(secs) is not int or not 3 <= secs <= 30):
            raise bad(f"{p}.duration_seconds: must be an integer 3-30")
        out.append({"type": t, "content": s["content"], "seconds": secs})
    return out


# ============================ state =============================================================

class Slot:
    def __init__(self, sid, name, url, minutes, booked_at, kind="booking"):
        self.id, self.name, self.url, self.minutes = sid, name, url, minutes
        self.kind = kind                  # booking | duet
        self.booked_at = booked_at
        self.status = "queued"            # queued | live | ended
        self.started_at = self.ends_at = self.ended_at = None
        self.end_reason = None            # expired | ended | idle | slides_done | cancelled
        self.exp = None                   # the JWT's exp claim (fake unix seconds)
        self.slides = None                # booked or batch slides (normalised)
        self.slides_from = None           # "book" | "batch" | "duet"
        self.batch_start = None
        self.last_content_at = None
        self.frames = 0
        self.screen = ""
        self.content = None               # the last frame {type, content}
        self.polls = []                   # poll ids, oldest first

    def batch_total(self):
        return sum(s["seconds"] for s in self.slides) if self.slides else 0

    def batch_active(self, now):
        return self.slides is not None and self.batch_start is not None and \
            now < self.batch_start + self.batch_total()

    def deadline(self, idle):
        """(time, reason) at which this live slot leaves the air."""
        # "Booking with slides avoids this entirely." CHOICE: so does a batch, from when it is
        # published (the slot then ends with it).
        if self.slides is None and self.last_content_at + idle < self.ends_at:
            return self.last_content_at + idle, "idle"
        if self.slides is not None and self.batch_start + self.batch_total() <= self.ends_at:
            return self.ends_at, "slides_done"
        return self.ends_at, "expired"


class Fake:
    """All state; everything that touches it holds self.lock."""

    def __init__(self, args):
        self.lock = threading.RLock()
        self.config = dict(CONFIG_DEFAULTS)
        self.config.update(time_scale=args.time_scale, viewers=args.viewers, frozen=args.frozen,
                           claims=dict(c.split(":", 1) for c in args.claim))
        self.secret = (args.jwt_secret or secrets.token_hex(32)).encode()
        self.port = 0
        self.t0_wall = time.time()
        self.base_real = time.monotonic()
        self.base_doc = 0.0
        self.slots = []                   # booking order
        self.polls = {}                   # poll id -> poll
        self.duets = {}                   # request id -> duet
        self.pending = {}                 # pending id -> request id
        self.chat = []
        self.faults = []
        self.fault_ids = 0
        self.log = []
        self.history = []                 # on-air transitions {t, slot, event}
        self.hanging = 0
        self.counter = 0

    def new_id(self, prefix):
        self.counter += 1
        return f"{prefix}_{self.counter}_{secrets.token_hex(4)}"

    # --- the fake clock --------------------------------------------------------------------
    def now(self):
        if self.config["frozen"]:
            return self.base_doc
        return self.base_doc + (time.monotonic() - self.base_real) / self.config["time_scale"]

    def unix(self, doc_t):
        return self.t0_wall + doc_t

    def rebase(self):
        self.base_doc, self.base_real = self.now(), time.monotonic()

    # --- the queue ---------------------------------------------------------------------------
    def live_slot(self):
        return next((s for s in self.slots if s.status == "live"), None)

    def queued(self):
        return [s for s in self.slots if s.status == "queued"]

    def go_live(self, s, at):
        s.status, s.started_at, s.last_content_at = "live", at, at
        s.ends_at = at + s.minutes * 60
        if s.slides is not None:
            s.batch_start = at
            # "Your slot auto-shortens to match total slide duration." CHOICE: never lengthens.
            s.ends_at = min(s.ends_at, at + s.batch_total())
        self.history.append({"t": round(at, 3), "slot": s.id, "event": "live"})

    def finish(self, s, at, reason):
        s.status, s.ended_at, s.end_reason = "ended", at, reason
        self.history.append({"t": round(at, 3), "slot": s.id, "event": reason})

    def tick(self):
        """Plays the schedule up to now: expiries and idle cuts at their own instants, each
        followed at once by the next queued slot ("the next booking goes live when the current
        slot ends or expires")."""
        now, last_end = self.now(), None
        while True:
            live = self.live_slot()
            if live:
                t, reason = live.deadline(self.config["idle_timeout_s"])
                if now < t:
                    return
                self.finish(live, t, reason)
                last_end = t
                continue
            q = self.queued()
            if not q:
                return
            self.go_live(q[0], max(q[0].booked_at, last_end if last_end is not None else now))

    def eta(self, slot):
        """Expected start of a queued slot: every slot ahead plays its whole (shortened) time."""
        now = self.now()
        live = self.live_slot()
        t = live.ends_at if live else now
        for s in self.queued():
            if s is slot:
                return t
            t += min(s.minutes * 60, s.batch_total() or s.minutes * 60)
        return t

    def position(self, slot):
        if slot.status == "live":
            return 0
        if slot.status == "queued":
            return self.queued().index(slot) + 1
        return None

    # --- slot JWTs -----------------------------------------------------------------------------
    def jwt(self, slot, exp):
        head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        body = b64url(json.dumps({"sub": slot.id, "name": slot.name, "iat": int(self.unix(
            self.now())), "exp": math.ceil(exp)}).encode())
        sig = hmac.new(self.secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
        return f"{head}.{body}.{b64url(sig)}"

    def check_jwt(self, header):
        """(auth state, slot): none | malformed | invalid | expired | valid."""
        if header is None:
            return "none", None
        scheme, _, token = header.partition(" ")
        parts = token.strip().split(".")
        if scheme.lower() != "bearer" or len(parts) != 3:
            return "malformed", None
        try:
            head, claims = json.loads(unb64url(parts[0])), json.loads(unb64url(parts[1]))
            sig = unb64url(parts[2])
        except (ValueError, TypeError):
            return "malformed", None
        want = hmac.new(self.secret, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
        if not isinstance(head, dict) or head.get("alg") != "HS256" or \
                not hmac.compare_digest(sig, want) or not isinstance(claims, dict):
            return "invalid", None
        slot = next((s for s in self.slots if s.id == claims.get("sub")), None)
        if slot is None:
            return "invalid", None
        now = self.now()
        # The exp claim, and "Your JWT expires ~60s after your slot ends" for a slot that ended
        # before its booked end (endSlot, idle cut, slides done).
        if self.unix(now) >= claims.get("exp", 0) or \
                (slot.ended_at is not None and now >= slot.ended_at + self.config["jwt_grace_s"]):
            return "expired", slot
        return "valid", slot

    def new_poll(self, slot, content, shown_at, frame=False):
        """shown_at: absolute for a frame, the offset in the slides for a slide."""
        pid = self.new_id("poll")
        self.polls[pid] = {"poll_id": pid, "slot": slot.id, "question": content["question"],
                           "options": list(content["options"]),
                           "results": [0] * len(content["options"]), "voters": set(),
                           "shown_at": shown_at, "frame": frame}
        slot.polls.append(pid)
        return pid

    def slide_polls(self, slot):
        """Creates the polls of slot's slides; shown_at is when each slide starts (None while
        the slot waits: the start is not known yet)."""
        ids, t = [], 0
        for s in slot.slides:
            if s["type"] == "poll":
                ids.append(self.new_poll(slot, s["content"], t))
            t += s["seconds"]
        return ids

    def poll_shown_at(self, p, slot):
        if not p["frame"]:
            return None if slot.batch_start is None else slot.batch_start + p["shown_at"]
        return p["shown_at"]

    def on_air(self, slot, now):
        """What a live slot shows now: the slide playing, else the last frame."""
        if slot.batch_active(now):
            t = slot.batch_start
            for i, s in enumerate(slot.slides):
                if now < t + s["seconds"]:
                    return {"slide": i, "type": s["type"], "content": s["content"]}
                t += s["seconds"]
        if slot.content and slot.content["type"] == "terminal":
            return {"type": "terminal", "content": {"screen": slot.screen}}
        return slot.content


FAKE = None


# ============================ the API ===========================================================

class Ctx:
    """One API call as the handlers see it (FAKE.lock held)."""

    def __init__(self, method, query, body, headers, auth, slot):
        self.method, self.query, self.body, self.headers = method, query, body, headers
        self.auth, self.slot = auth, slot

    def json(self, allowed, required=()):
        # CHOICE: a JSON body must be sent as Content-Type: application/json (the document's
        # requests.post(json=...) does so).
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise bad("Content-Type: application/json is required")
        try:
            d = json.loads(self.body or b"")
        except ValueError:
            raise bad("body: not valid JSON") from None
        if not isinstance(d, dict):
            raise bad("body: a JSON object is required")
        fields(d, "", allowed, required)
        return d

    def need_slot(self):
        # CHOICE: every JWT failure is 401 with the reason (missing, malformed, invalid, expired).
        if self.auth != "valid":
            raise ApiError(401, {"none": "Authorization: Bearer <slot_jwt> is required",
                                 "malformed": "malformed Authorization header or slot_jwt",
                                 "invalid": "invalid slot_jwt",
                                 "expired": "slot_jwt expired"}[self.auth])
        return self.slot


def secs(t):
    # CHOICE: remaining/wait times are whole seconds, rounded up (0 only when nothing is left).
    return max(0, math.ceil(t - 1e-9))


def slot_timing(s):
    now = FAKE.now()
    if s.status == "live":
        # The booked (or shortened) end; an idle cut may come earlier.
        start, end = s.started_at, s.ends_at
    elif s.status == "queued":
        start = FAKE.eta(s)
        end = start + min(s.minutes * 60, s.batch_total() or s.minutes * 60)
    else:
        start, end = s.started_at, s.ended_at
    out = {"slot_id": s.id, "streamer_name": s.name, "status": s.status,
           "position_in_queue": FAKE.position(s), "duration_minutes": s.minutes,
           "starts_at": iso(FAKE.unix(start)) if start is not None else None,
           "ends_at": iso(FAKE.unix(end)) if end is not None else None,
           "starts_in_seconds": secs(start - now) if start is not None else None,
           "seconds_remaining": secs(end - now) if s.status != "ended" else 0}
    if start is not None and end is not None:
        out["duration_seconds"] = secs(end - start)
    return out


def h_book_slot(ctx):
    d = ctx.json(("streamer_name", "streamer_url", "duration_minutes", "slides"),
                 ("streamer_name", "streamer_url", "duration_minutes"))
    name = name_field(d, "streamer_name")
    url = url_field(d, "streamer_url")
    minutes = d["duration_minutes"]
    # "duration_minutes — 1, 2, or 3."
    if type(minutes) is not int or minutes not in (1, 2, 3):
        raise bad("duration_minutes: must be 1, 2, or 3")
    slides = validate_slides(d["slides"]) if "slides" in d else None
    # "Claimed names return 401 without a key, 403 with a wrong key."
    # CHOICE: checked after the body is valid; a key sent for an unclaimed name is ignored.
    key = FAKE.config["claims"].get(name)
    if key is not None:
        given = ctx.headers.get("x-api-key")
        if given is None:
            raise ApiError(401, f"streamer_name {name} is claimed: x-api-key required")
        if not hmac.compare_digest(given.encode(), key.encode()):
            raise ApiError(403, f"x-api-key does not match the key of {name}")
    limit = FAKE.config["max_bookings_per_name"]
    held = [s for s in FAKE.slots if s.name == name and s.status != "ended"]
    if limit and len(held) >= limit:
        raise ApiError(409, f"{name} already holds {len(held)} live or queued slot(s)")
    return 200, book(name, url, minutes, slides, "book")


def book(name, url, minutes, slides, source, kind="booking"):
    now = FAKE.now()
    s = Slot(FAKE.new_id("slot"), name, url, minutes, now, kind)
    FAKE.slots.append(s)
    poll_ids = []
    if slides is not None:
        s.slides, s.slides_from = slides, source
        poll_ids = FAKE.slide_polls(s)
    FAKE.tick()                     # goes live at once when nothing is on air or waiting
    t = slot_timing(s)
    s.exp = FAKE.unix(FAKE.now() + t["starts_in_seconds"] + t["duration_seconds"] +
                      FAKE.config["jwt_grace_s"])
    FAKE.history.append({"t": round(now, 3), "slot": s.id, "event": "booked"})
    out = {"ok": True, **t, "slot_jwt": FAKE.jwt(s, s.exp), "jwt_expires_at": iso(s.exp)}
    if poll_ids:
        out["poll_ids"] = poll_ids
    return out


def live_or_409(s, what):
    if s.status == "queued":
        raise ApiError(409, f"{what}: slot is not active yet (position {FAKE.position(s)} in "
                            "the queue)")
    if s.status == "ended":
        raise ApiError(409, f"{what}: slot has ended ({s.end_reason})")


def h_publish_frame(ctx):
    s = ctx.need_slot()
    d = ctx.json(("type", "content", "delta"), ("type", "content"))
    t = content_type(d, "")
    validate_content(t, d["content"], "content")
    delta = d.get("delta", False)
    if not isinstance(delta, bool):
        raise bad("delta: must be true or false")
    # CHOICE: "delta" is a top-level field beside type/content, for terminal frames only.
    if delta and t != "terminal":
        raise bad("delta: only terminal frames append")
    # "Requires your slot to be active." CHOICE: 409 while queued or after the end.
    live_or_409(s, "publishFrame")
    now = FAKE.now()
    if s.batch_active(now):
        # "Returns 409 if a batch is active — one mode at a time."
        raise ApiError(409, "a batch is active: one mode at a time")
    s.frames += 1
    s.last_content_at = now
    if t == "terminal":
        s.screen = (s.screen + d["content"]["screen"]) if delta else d["content"]["screen"]
        s.screen = s.screen[-SCREEN_MAX:]
    s.content = {"type": t, "content": d["content"]}
    out = {"ok": True, "frame": s.frames,
           "seconds_remaining": secs(s.ends_at - now)}
    if t == "poll":
        out["poll_id"] = FAKE.new_poll(s, d["content"], now, frame=True)
    return 200, out


def h_publish_batch(ctx):
    s = ctx.need_slot()
    d = ctx.json(("slides",), ("slides",))
    slides = validate_slides(d["slides"])
    if s.status == "ended":
        raise ApiError(409, f"publishBatch: slot has ended ({s.end_reason})")
    # "One batch per slot." CHOICE: slides given to bookSlot count as the slot's batch.
    if s.slides is not None:
        raise ApiError(409, "one batch per slot: this slot already has its slides")
    # CHOICE: a queued slot may publish its batch; it plays when the slot goes live.
    s.slides, s.slides_from = slides, "batch"
    now = FAKE.now()
    if s.status == "live":
        s.batch_start = now
        s.ends_at = min(s.ends_at, now + s.batch_total())
    out = {"ok": True, "slides": len(slides), "total_seconds": s.batch_total(),
           **{k: v for k, v in slot_timing(s).items()
              if k in ("ends_at", "seconds_remaining", "position_in_queue")}}
    ids = FAKE.slide_polls(s)
    if ids:
        out["poll_ids"] = ids
    return 200, out


def h_end_slot(ctx):
    s = ctx.need_slot()
    if s.status == "ended":
        # CHOICE: ending twice is a 409 (the JWT still works for ~60 s after the end).
        raise ApiError(409, f"slot has already ended ({s.end_reason})")
    was = s.status
    # CHOICE: a queued slot may end too: it leaves the queue.
    FAKE.finish(s, FAKE.now(), "ended" if was == "live" else "cancelled")
    FAKE.tick()
    return 200, {"ok": True, "slot_id": s.id, "was": was}


def h_poll_results(ctx):
    s = ctx.need_slot()
    now = FAKE.now()
    polls = [FAKE.polls[p] for p in s.polls]
    want = ctx.query.get("poll_id")
    if want is not None:
        # CHOICE: ?poll_id= picks one of the slot's polls.
        polls = [p for p in polls if p["poll_id"] == want]
    if not polls:
        raise ApiError(404, "no poll in this slot" if want is None else "poll_id: not found")
    # CHOICE: the poll most recently on air, else the next to come.
    shown = [(FAKE.poll_shown_at(p, s), i) for i, p in enumerate(polls)]
    past = [x for x in shown if x[0] is not None and x[0] <= now]
    p = polls[max(past)[1] if past else 0 if all(x[0] is None for x in shown)
              else min(x for x in shown if x[0] is not None)[1]]
    return 200, {"ok": True, "poll_id": p["poll_id"], "question": p["question"],
                 "options": p["options"], "results": list(p["results"]),
                 "total_votes": sum(p["results"])}


def h_vote(ctx):
    d = ctx.json(("poll_id", "option_index", "viewer_id"),
                 ("poll_id", "option_index", "viewer_id"))
    pid = string(d, "poll_id", "", 1, ID_MAX)
    viewer = string(d, "viewer_id", "", 1, ID_MAX)   # CHOICE: viewer_id is required
    p = FAKE.polls.get(pid)
    if p is None:
        raise ApiError(404, "poll_id: no such poll")
    i = d["option_index"]
    if type(i) is not int or not 0 <= i < len(p["options"]):
        raise bad(f"option_index: must be an integer 0-{len(p['options']) - 1}")
    # "Each viewer_id can vote once per poll." CHOICE: a second vote is 409 and not counted.
    if viewer in p["voters"]:
        raise ApiError(409, "this viewer_id has already voted in this poll")
    p["voters"].add(viewer)
    p["results"][i] += 1
    return 200, {"ok": True, "results": list(p["results"])}


def h_request_duet(ctx):
    d = ctx.json(("name", "url", "question"), ("name", "url", "question"))
    name, url = name_field(d, "name"), url_field(d, "url")
    q = string(d, "question", "", 1, DUET_TEXT_MAX, single_line=False)
    rid = FAKE.new_id("duet")
    FAKE.duets[rid] = {"id": rid, "host_name": name, "host_url": url, "question": q,
                       "created_at": iso(FAKE.unix(FAKE.now())), "state": "open"}
    # CHOICE: the answer is {ok, request_id}.
    return 200, {"ok": True, "request_id": rid}


def h_duet_requests(ctx):
    keys = ("id", "host_name", "host_url", "question", "created_at")
    return 200, {"ok": True, "requests": [{k: r[k] for k in keys}
                                          for r in FAKE.duets.values() if r["state"] == "open"]}


def h_accept_duet(ctx):
    d = ctx.json(("request_id", "name", "url", "answer"), ("request_id", "name", "url", "answer"))
    rid = string(d, "request_id", "", 1, ID_MAX)
    name, url = name_field(d, "name"), url_field(d, "url")
    answer = string(d, "answer", "", 1, DUET_TEXT_MAX, single_line=False)
    r = FAKE.duets.get(rid)
    if r is None:
        raise ApiError(404, "request_id: no such duet request")
    if r["state"] != "open":
        raise ApiError(409, "this duet request has already been accepted")
    if name == r["host_name"]:
        raise bad("name: the guest must not be the host")   # CHOICE
    pid = FAKE.new_id("pending")
    r.update(state="accepted", guest_name=name, guest_url=url, answer=answer, pending_id=pid)
    FAKE.pending[pid] = rid
    return 200, {"ok": True, "pending_id": pid}


def h_duet_reply(ctx):
    d = ctx.json(("request_id", "name", "reply"), ("request_id", "name", "reply"))
    pid = string(d, "request_id", "", 1, ID_MAX)
    name = name_field(d, "name")
    reply = string(d, "reply", "", 1, DUET_TEXT_MAX, single_line=False)
    rid = FAKE.pending.get(pid)
    if rid is None:
        # CHOICE: the open request's own id is not a pending_id either.
        raise ApiError(404, "request_id: no such pending duet (use acceptDuet's pending_id)")
    r = FAKE.duets[rid]
    if r["state"] != "accepted":
        raise ApiError(409, "this duet is already complete")
    if name != r["host_name"]:
        raise ApiError(403, "name: only the host replies")   # CHOICE
    turns = [("host", r["host_name"], r["question"]), ("guest", r["guest_name"], r["answer"]),
             ("host", r["host_name"], reply)]
    # "This auto-books a slot with 3 duet slides and joins the queue." "Each turn shows for 6
    # seconds." CHOICE: the slot is the host's, 1 minute shortened to the 18 s of the turns, and
    # no JWT is given out for it (duetReply needs none).
    slides = [{"type": "duet", "seconds": DUET_TURN_SECONDS,
               "content": {"role": role, "name": who, "text": text}} for role, who, text in turns]
    out = book(r["host_name"], r["host_url"], 1, slides, "duet", kind="duet")
    r.update(state="complete", reply=reply, slot_id=out["slot_id"])
    return 200, {"ok": True, "duet_id": rid, "slot_id": out["slot_id"],
                 "position_in_queue": out["position_in_queue"],
                 "starts_in_seconds": out["starts_in_seconds"]}


def h_chat(ctx):
    d = ctx.json(("name", "text"), ("name", "text"))
    name = name_field(d, "name")
    text = string(d, "text", "", 1, CHAT_TEXT_MAX)
    mid = FAKE.new_id("msg")
    FAKE.chat.append({"id": mid, "name": name, "text": text,
                      "at": iso(FAKE.unix(FAKE.now()))})
    return 200, {"ok": True, "id": mid}         # CHOICE: the document shows no answer


def h_now(ctx):
    s = FAKE.live_slot()
    # "GET /api/now → { live, streamer_name, seconds_remaining, viewer_count }"
    # CHOICE: with nothing on air: live false, streamer_name null, seconds_remaining 0.
    return 200, {"live": s is not None, "streamer_name": s.name if s else None,
                 "seconds_remaining": slot_timing(s)["seconds_remaining"] if s else 0,
                 "viewer_count": FAKE.config["viewers"]}


def h_get_queue(ctx):
    # "GET /api/getQueue → { live, queue }". CHOICE: live is the slot on air or null; queue
    # lists the waiting slots in order, position 1 first.
    def row(s):
        t = slot_timing(s)
        return {"streamer_name": s.name, "streamer_url": s.url, "kind": s.kind,
                "position": t["position_in_queue"], "duration_minutes": s.minutes,
                "starts_in_seconds": t["starts_in_seconds"],
                "seconds_remaining": t["seconds_remaining"]}
    s = FAKE.live_slot()
    return 200, {"live": row(s) if s else None, "queue": [row(q) for q in FAKE.queued()]}


HANDLERS = {"bookSlot": h_book_slot, "publishFrame": h_publish_frame,
            "publishBatch": h_publish_batch, "endSlot": h_end_slot,
            "pollResults": h_poll_results, "vote": h_vote, "requestDuet": h_request_duet,
            "duetRequests": h_duet_requests, "acceptDuet": h_accept_duet,
            "duetReply": h_duet_reply, "chat": h_chat, "now": h_now, "getQueue": h_get_queue}


# ============================ test control (/__fake/, no auth) ================================

def apply_config(d):
    if not isinstance(d, dict):
        raise bad("config: a JSON object is required")
    faults = d.pop("faults", [])
    for k, v in d.items():
        if k not in CONFIG_DEFAULTS:
            raise bad(f"config: unknown key {k}")
        if k == "time_scale" and (not isinstance(v, (int, float)) or isinstance(v, bool) or
                                  v <= 0):
            raise bad("config: time_scale must be a positive number")
        if k in ("idle_timeout_s", "jwt_grace_s", "viewers", "max_bookings_per_name",
                 "hang_max_s") and (type(v) not in (int, float) or v < 0):
            raise bad(f"config: {k} must be a non-negative number")
        if k == "frozen" and not isinstance(v, bool):
            raise bad("config: frozen must be true or false")
        if k == "claims" and (not isinstance(v, dict) or
                              not all(isinstance(x, str) for x in v.values())):
            raise bad("config: claims must map names to API keys")
    if not isinstance(faults, list):
        raise bad("config: faults must be a list")
    with FAKE.lock:
        FAKE.tick()                 # the old time scale decides what happened so far
        if "time_scale" in d or "frozen" in d:
            FAKE.rebase()
        FAKE.config.update(d)
        for f in faults:
            add_fault(f)
        return config_view()


def config_view():
    return {**FAKE.config, "claims": dict(FAKE.config["claims"])}


def add_fault(d):
    """A fault for the next `count` calls (-1: every call) of `endpoint` (the name after /api/,
    e.g. "publishFrame", or "*"), optionally only for `method`."""
    if not isinstance(d, dict):
        raise bad("fault: an object is required")
    kind = d.get("kind", "status")
    if kind not in FAULT_KINDS:
        raise bad(f"kind: one of {', '.join(FAULT_KINDS)}")
    endpoint = d.get("endpoint")
    if endpoint != "*" and endpoint not in ENDPOINTS:
        raise bad(f"endpoint: one of {', '.join(ENDPOINTS)} or *")
    count, status, delay = d.get("count", 1), d.get("status", 500), d.get("delay_ms", 0)
    if type(count) is not int or count == 0 or count < -1:
        raise bad("count: a positive integer or -1 (every call)")
    if type(status) is not int or not 100 <= status <= 599:
        raise bad("status: an HTTP status code")
    if type(delay) not in (int, float) or delay < 0:
        raise bad("delay_ms: a non-negative number")
    with FAKE.lock:
        FAKE.fault_ids += 1
        f = {"id": FAKE.fault_ids, "endpoint": endpoint, "method": d.get("method"),
             "kind": kind, "status": status, "message": d.get("message"), "count": count,
             "delay_ms": delay, "body": d.get("body"), "hits": 0}
        FAKE.faults.append(f)
        return dict(f)


def take_fault(method, endpoint):
    with FAKE.lock:
        for f in FAKE.faults:
            if f["method"] and f["method"].upper() != method:
                continue
            if f["endpoint"] not in ("*", endpoint):
                continue
            f["hits"] += 1
            if f["count"] > 0:
                f["count"] -= 1
                if f["count"] == 0:
                    FAKE.faults.remove(f)
            return dict(f)
    return None


def slot_view(s, now):
    v = {"id": s.id, "name": s.name, "url": s.url, "kind": s.kind, "status": s.status,
         "position_in_queue": FAKE.position(s), "duration_minutes": s.minutes,
         "booked_at": round(s.booked_at, 3),
         "started_at": None if s.started_at is None else round(s.started_at, 3),
         "ends_at": None if s.ends_at is None else round(s.ends_at, 3),
         "ended_at": None if s.ended_at is None else round(s.ended_at, 3),
         "end_reason": s.end_reason, "jwt_exp": s.exp, "frames": s.frames,
         "last_content_at": None if s.last_content_at is None else round(s.last_content_at, 3),
         "screen": s.screen[-4000:], "last_frame": s.content,
         "slides": None if s.slides is None else [
             {"type": x["type"], "seconds": x["seconds"]} for x in s.slides],
         "slides_from": s.slides_from,
         "batch_start": None if s.batch_start is None else round(s.batch_start, 3),
         "batch_active": s.batch_active(now), "polls": list(s.polls)}
    if s.status == "live":
        v["on_air"] = FAKE.on_air(s, now)
    return v


def state_view():
    with FAKE.lock:
        FAKE.tick()
        now = FAKE.now()
        live = FAKE.live_slot()
        return {"config": config_view(), "now": round(now, 3), "unix": FAKE.unix(now),
                "live": live.id if live else None, "queue": [s.id for s in FAKE.queued()],
                "slots": [slot_view(s, now) for s in FAKE.slots],
                "polls": [{**{k: v for k, v in p.items() if k != "voters"},
                           "voters": sorted(p["voters"])} for p in FAKE.polls.values()],
                "duets": list(FAKE.duets.values()), "chat": list(FAKE.chat),
                "history": list(FAKE.history), "faults": [dict(f) for f in FAKE.faults],
                "hanging": FAKE.hanging}


def control(method, path, query, body):
    """The /__fake/ API: (status, obj)."""
    what = path[len("/__fake/"):].strip("/")

    def obj():
        try:
            d = json.loads(body or b"{}")
        except ValueError:
            raise bad("body: not valid JSON") from None
        if not isinstance(d, dict):
            raise bad("body: not a JSON object")
        return d

    if method == "GET" and what == "state":
        return 200, state_view()
    if method == "GET" and what == "log":
        try:
            since = int(query.get("since") or 0)
        except ValueError:
            raise bad("since: not an integer") from None
        with FAKE.lock:
            return 200, {"calls": [dict(e) for e in FAKE.log if e["seq"] > since]}
    if method == "DELETE" and what == "log":
        with FAKE.lock:
            FAKE.log.clear()
        return 200, {"cleared": True}
    if method == "POST" and what == "config":
        return 200, apply_config(obj())
    if method == "POST" and what == "advance":
        n = obj().get("seconds")
        if type(n) not in (int, float) or n < 0:
            raise bad("seconds: a non-negative number")
        with FAKE.lock:
            FAKE.base_doc += n
            FAKE.tick()
            live = FAKE.live_slot()
            return 200, {"now": round(FAKE.now(), 3), "live": live.id if live else None,
                         "queue": [s.id for s in FAKE.queued()]}
    if method == "POST" and what == "clear":
        # Takes every live and queued slot off the air (end_reason "cleared"), so that one test
        # can start from an empty queue; everything else stays.
        with FAKE.lock:
            FAKE.tick()
            gone = [s for s in FAKE.slots if s.status != "ended"]
            for s in gone:
                FAKE.finish(s, FAKE.now(), "cleared")
            return 200, {"cleared": [s.id for s in gone]}
    if method == "POST" and what == "fault":
        return 200, add_fault(obj())
    if method == "DELETE" and what == "fault":
        with FAKE.lock:
            FAKE.faults.clear()
        return 200, {"cleared": True}
    raise ApiError(404, f"no control endpoint {method} {path}")


# ============================ HTTP =============================================================

def summary(v, depth=0):
    """A loggable copy of a JSON value: strings cut to 200 characters, lists to 12 items."""
    if isinstance(v, str):
        return v if len(v) <= 200 else v[:200] + f"…({len(v)} chars)"
    if isinstance(v, list):
        return [summary(x, depth + 1) for x in v[:12]] + (["…"] if len(v) > 12 else [])
    if isinstance(v, dict) and depth < 6:
        return {k: summary(x, depth + 1) for k, x in v.items()}
    return v


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-clawcast/1"

    def log_message(self, fmt, *args):
        pass            # one line per call is printed by api()

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            raise bad("body too large")
        return self.rfile.read(n) if n else b""

    def send_raw(self, status, body, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, status, obj, extra=()):
        self.send_raw(status, json.dumps(obj).encode(), extra)

    def dispatch(self):
        url = urlsplit(self.path)
        try:
            body = self.read_body()
        except (ApiError, ValueError):
            self.close_connection = True
            self.send_json(400, {"ok": False, "error": "unreadable body"})
            return
        if url.path.startswith("/__fake/"):
            try:
                out = control(self.command, url.path,
                              {k: v[0] for k, v in parse_qs(url.query).items()}, body)
            except ApiError as e:
                out = (e.status, e.body())
            self.send_json(*out)
            return
        self.api(url, body)

    def api(self, url, body):
        method, path = self.command, url.path
        endpoint = path[len("/api/"):] if path.startswith("/api/") else None
        if endpoint not in ENDPOINTS:
            endpoint = None
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        key = self.headers.get("x-api-key")
        start = time.time()
        with FAKE.lock:
            FAKE.tick()
            auth, slot = FAKE.check_jwt(self.headers.get("Authorization"))
            try:
                parsed = json.loads(body) if body else None
            except ValueError:
                parsed = None
            name = parsed.get("streamer_name") if isinstance(parsed, dict) else None
            claimed = FAKE.config["claims"].get(name) if isinstance(name, str) else None
            entry = {"seq": len(FAKE.log) + 1, "t": round(start - FAKE.t0_wall, 3),
                     "clock": round(FAKE.now(), 3), "method": method, "path": path,
                     "query": url.query, "endpoint": endpoint, "auth": auth,
                     "slot": slot.id if slot else None,
                     # absent | present (not a claimed name) | valid | wrong
                     "api_key": "absent" if key is None else "present" if claimed is None
                     else "valid" if key == claimed else "wrong",
                     "content_type": self.headers.get("Content-Type"),
                     "body": summary(parsed) if parsed is not None else
                     ({"bytes": len(body)} if body else None),
                     "status": None, "fault": None}
            FAKE.log.append(entry)
        fault = take_fault(method, endpoint) if endpoint else None
        try:
            self.answer(entry, fault, endpoint, query, body, auth, slot)
        finally:
            with FAKE.lock:
                entry["ms"] = int((time.time() - start) * 1000)
            print(f"fake-clawcast: #{entry['seq']} {method} {path} auth={auth} "
                  f"fault={entry['fault']} -> {entry['status']}", file=sys.stderr, flush=True)

    def process(self, endpoint, query, body, auth, slot):
        if endpoint is None:
            return 404, {"ok": False, "error": f"no such endpoint: {self.path}"}, ()
        if self.command != ENDPOINTS[endpoint]:
            # CHOICE: a known path with the wrong method is 405 with Allow.
            return 405, {"ok": False, "error": f"{endpoint} takes {ENDPOINTS[endpoint]}"}, \
                (("Allow", ENDPOINTS[endpoint]),)
        with FAKE.lock:
            try:
                FAKE.tick()
                st, obj = HANDLERS[endpoint](Ctx(self.command, query, body, self.headers,
                                                 auth, slot))
                return st, obj, ()
            except ApiError as e:
                return e.status, e.body(), ()
            except Exception as e:      # a bug here must not look like a network fault
                traceback.print_exc()
                return 500, {"ok": False, "error": f"fake_clawcast bug: {e!r}"}, ()

    def answer(self, entry, fault, endpoint, query, body, auth, slot):
        if fault:
            entry["fault"] = fault["kind"]
            if fault["delay_ms"]:
                time.sleep(fault["delay_ms"] / 1000)
        if not fault or fault["kind"] == "delay":
            st, obj, extra = self.process(endpoint, query, body, auth, slot)
            raw = json.dumps(obj)
            with FAKE.lock:
                entry["status"] = st
                entry["response"] = obj if len(raw) <= 4096 else {"bytes": len(raw)}
            self.send_json(st, obj, extra)
            return
        kind = fault["kind"]            # faults act before auth and the endpoint
        if kind == "status":
            st = fault["status"]
            entry["status"] = st
            self.send_json(st, {"ok": False, "error": fault["message"] or f"injected {st}"})
        elif kind == "hang":
            self.hang()
        elif kind in ("drop", "reset"):
            self.close_connection = True
            if kind == "reset":
                # SO_LINGER 0: close() sends RST instead of FIN.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
            self.connection.close()
        else:                           # malformed | empty
            entry["status"] = 200
            raw = b"" if kind == "empty" else (fault["body"] or "").encode() or \
                FAULT_BODY_MALFORMED
            self.send_raw(200, raw)

    def hang(self):
        """Accepts and never answers, until the client closes or hang_max_s passes."""
        self.close_connection = True
        with FAKE.lock:
            FAKE.hanging += 1
            limit = time.time() + FAKE.config["hang_max_s"]
        try:
            while time.time() < limit:
                ready, _, _ = select.select([self.connection], [], [], 0.2)
                if ready:
                    try:
                        if not self.connection.recv(65536):
                            break
                    except OSError:
                        break
        finally:
            with FAKE.lock:
                FAKE.hanging -= 1


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, BrokenPipeError)):
            return          # clients that give up mid-answer are expected in fault tests
        super().handle_error(request, client_address)


def watch_parent(pid):
    """Exits when the test shell that started us is gone (it may be SIGKILLed by ctest)."""
    start_ppid = os.getppid()
    while True:
        time.sleep(0.5)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:
            pass
        if pid == start_ppid and os.getppid() != start_ppid:
            os._exit(0)


def main():
    global FAKE
    p = argparse.ArgumentParser(description="fake ClawCast.tv API server for agentcast tests")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free)")
    p.add_argument("--port-file", help="write the port here (atomically) once listening")
    p.add_argument("--time-scale", type=float, default=1.0,
                   help="real seconds per document second (0.1: a 1-minute slot lasts 6 s)")
    p.add_argument("--frozen", action="store_true",
                   help="the clock moves only by POST /__fake/advance")
    p.add_argument("--claim", action="append", default=[], metavar="NAME:KEY",
                   help="NAME is claimed: bookSlot needs x-api-key KEY (repeatable)")
    p.add_argument("--viewers", type=int, default=0, help="viewer_count in /api/now")
    p.add_argument("--jwt-secret", help="HS256 secret for slot JWTs (default: random)")
    p.add_argument("--parent-pid", type=int, help="exit when this process is gone")
    args = p.parse_args()
    if args.time_scale <= 0:
        p.error("--time-scale must be positive")
    for c in args.claim:
        if ":" not in c or not NAME_RE.fullmatch(c.split(":", 1)[0]) or not c.split(":", 1)[1]:
            p.error(f"--claim {c}: NAME:KEY expected")
    FAKE = Fake(args)
    server = Server(("127.0.0.1", args.port), Handler)
    FAKE.port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{FAKE.port}\n")
        os.replace(tmp, args.port_file)
    if args.parent_pid:
        threading.Thread(target=watch_parent, args=(args.parent_pid,), daemon=True).start()
    print(f"READY port={FAKE.port}", flush=True)
    server.serve_forever(poll_interval=0.2)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
