#!/usr/bin/env python3
"""fake_retake — a fake retake.tv server for agentcast's tests. Test-only: never installed.

Serves the agent API under /api/v1 as the retake.tv skill document v2.1.2 describes it
(retake-skill.md sections 1-3 and 5, the error table and "Stream Crashes" at the end of
retake-skill-page.txt), /skill.json, and a test-control API under /__fake/ (no auth) with which
integration tests add viewer comments, set viewers, inject faults and read back every call.
Where the document is silent the choice made here is marked "CHOICE" and listed in README.md;
the document's own sentences are quoted where they decide a behaviour.

Only Python 3 standard library; listens on 127.0.0.1 only. Prints "READY port=N" when it
accepts. Usage and knobs: tests/fakes/README.md, or --help.
"""
import argparse
import hashlib
import json
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
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

DOC_VERSION = "2.1.2"
API_PREFIX = "/api/v1/"
MAX_BODY = 32 << 20
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
B58_INDEX = {c: i for i, c in enumerate(B58)}

# The error table: "| 400 | Bad input / name taken |", "| 401 | Invalid or missing access_token |",
# "| 404 | ID not found |", "| 409 | No active session |", "| 500 | Server error |".
# CHOICE: the document shows no error body; we answer {"error": <meaning>, "message": <detail
# naming the field>}. 502/503 exist only for fault injection.
MEANING = {400: "Bad input", 401: "Invalid or missing access_token", 404: "ID not found",
           409: "No active session", 500: "Server error", 502: "Bad gateway",
           503: "Service unavailable"}

# A real status URL: https://x.com/<handle>/status/<id> or twitter.com, www./mobile. hosts, and
# the handle-less /i/web/status/<id> form; an optional trailing slash, query or fragment.
TWEET_RE = re.compile(r"https://(?:www\.|mobile\.)?(?:x|twitter)\.com/"
                      r"(?:([A-Za-z0-9_]{1,15})|i/web)/status/(\d{1,20})/?(?:[?#].*)?")
# The document's own examples: "https://x.com/username/status/123..." and
# "https://twitter.com/username/status/1234567890". "Do not call /verify with a placeholder URL."
PLACEHOLDER_IDS = {"123", "1234567890"}

CONFIG_DEFAULTS = {
    "viewers": 0,                 # viewers reported while live
    "skill_version": DOC_VERSION,
    "rtmp_fields": "current",     # current: url/key; legacy: rtmp_url/stream_key; both
    "auto_verify": False,         # agents are verified from registration on
    "echo_own_messages": False,   # an agent's chat/send to itself shows in its own comments
    "force_live": None,           # true/false replaces the ingest check (key rules still hold)
    "comment_ids": "counter",     # counter: comment_8, comment_9, comment_10…; random: hex
    "list_shape": "object",       # object: {"users": [...]}; array: bare [...]
    "strict_slash": False,        # only the document's exact trailing-slash form matches
    "unknown_tweets": "accept",   # a tweet not registered via /__fake/tweet contains the code?
    "unverified_start": "no-token",   # stream/start when unverified: no-token | reject
    "session_required": ["agent/stream/stop"],  # routes answering 409 without a session
    "rtmp_url": "rtmp://127.0.0.1:1935/live",
    "stat_url": None,
    "hang_max_s": 600,
}
CONFIG_CHOICES = {"rtmp_fields": ("current", "legacy", "both"),
                  "comment_ids": ("counter", "random"), "list_shape": ("object", "array"),
                  "unknown_tweets": ("accept", "reject"),
                  "unverified_start": ("no-token", "reject")}
FAULT_KINDS = ("status", "hang", "drop", "reset", "malformed", "empty", "truncated", "partial",
               "delay", "redirect")
FAULT_BODY_MALFORMED = b'{"success": true, "oops" [unterminated'


def b58decode(text):
    """Bytes of a base58 string (Bitcoin/Solana alphabet), or None when not base58."""
    if not isinstance(text, str) or not text or any(c not in B58_INDEX for c in text):
        return None
    n = 0
    for c in text:
        n = n * 58 + B58_INDEX[c]
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def b58encode(raw):
    n, out = int.from_bytes(raw, "big"), ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + out


def iso(t):
    # The document's form: "timestamp": "2025-02-01T14:20:00Z".
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def stable_int(text, mod):
    return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16) % mod


class ApiError(Exception):
    def __init__(self, status, message=None, error=None):
        super().__init__(message)
        self.status = status
        self.error = error or MEANING.get(status, "Error")
        self.message = message or self.error

    def body(self):
        return {"error": self.error, "message": self.message}


def bad(message, error=None):
    return ApiError(400, message, error)


class Agent:
    def __init__(self, name, description, image_url, wallet, ticker, token):
        self.name, self.description, self.image_url = name, description, image_url
        self.wallet, self.ticker, self.token = wallet, ticker, token
        self.agent_id = "agent_" + secrets.token_hex(6)
        # CHOICE: the document shows "user_abc" but also "streamer_id=<uuid>" and "user_id in
        # results = userDbId", so userDbIds are UUIDs here; clients must treat them as opaque.
        self.user_id = str(uuid.uuid4())
        self.created = time.time()
        self.verified = False
        self.revoked = False
        self.verify_message = None
        self.keys = []            # {"key", "seq", "t"}, oldest first
        self.token_address = ""
        self.session = None
        self.past_sessions = []
        self.fid = 100000 + stable_int(self.user_id, 900000)

    def author(self):
        return {"walletAddress": self.wallet, "fusername": self.name, "fid": self.fid,
                "favatar": self.image_url}


class Ctx:
    """One API call as the handlers see it."""

    def __init__(self, method, path, params, query, body, headers, agent):
        self.method, self.path, self.params, self.query = method, path, params, query
        self.body, self.headers, self.agent = body, headers, agent

    def json_object(self):
        # chat/send says "Content-Type: application/json"; CHOICE: every JSON body must say so
        # (a server parsing JSON by content type would see an empty body otherwise).
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise bad("Content-Type: application/json is required")
        if not self.body:
            raise bad("body: a JSON object is required")
        try:
            obj = json.loads(self.body)
        except ValueError:
            raise bad("body: not valid JSON") from None
        if not isinstance(obj, dict):
            raise bad("body: not a JSON object")
        return obj

    def int_query(self, name, default, lo, hi):
        raw = self.query.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise bad(f"{name}: not an integer") from None
        if value < lo:
            raise bad(f"{name}: must be at least {lo}")
        return min(value, hi)


ROUTES = []


def route(method, pattern, auth=True):
    """Registers a handler for METHOD and a path written as in the document (relative to
    /api/v1, with its trailing slash or not). auth: Bearer token required."""
    def wrap(fn):
        ROUTES.append({"method": method, "segs": pattern.strip("/").split("/"),
                       "slash": pattern.endswith("/"), "name": pattern.strip("/"),
                       "auth": auth, "fn": fn})
        return fn
    return wrap


def match_route(method, rel, strict_slash):
    """(route, params) for a path relative to /api/v1/, or (None, None)."""
    segs = [unquote(s) for s in rel.strip("/").split("/")]
    for r in ROUTES:
        if r["method"] != method or len(r["segs"]) != len(segs):
            continue
        if strict_slash and rel.endswith("/") != r["slash"]:
            continue
        params = {}
        for want, got in zip(r["segs"], segs):
            if want.startswith(":"):
                if not got:
                    break
                params[want[1:]] = got
            elif want != got:
                break
        else:
            return r, params
    return None, None


def parse_multipart(content_type, body):
    """Parts of a multipart/form-data body: dicts name, filename, content_type, data."""
    m = re.search(r'boundary=(?:"([^"]+)"|([^;\s]+))', content_type or "")
    if not m:
        raise bad("Content-Type: multipart/form-data with a boundary is required")
    delim = b"\r\n--" + (m.group(1) or m.group(2)).encode("latin-1")
    chunks = (b"\r\n" + body).split(delim)
    parts = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            return parts
        head, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            raise bad("multipart: a part has no header end")
        headers = {}
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        disp = headers.get("content-disposition", "")
        name = re.search(r'(?:^|;)\s*name="([^"]*)"', disp)
        filename = re.search(r'filename="([^"]*)"', disp)
        parts.append({"name": name.group(1) if name else None,
                      "filename": filename.group(1) if filename else None,
                      "content_type": headers.get("content-type"), "data": data})
    raise bad("multipart: no closing boundary")


def image_type(data):
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    return None


class Fake:
    """All state; every method that touches it holds self.lock."""

    def __init__(self, args):
        self.lock = threading.RLock()
        self.config = dict(CONFIG_DEFAULTS)
        self.config.update(viewers=args.viewers, skill_version=args.skill_version,
                           auto_verify=args.verified, echo_own_messages=args.echo_own_messages,
                           comment_ids=args.comment_ids, list_shape=args.list_shape,
                           strict_slash=args.strict_slash,
                           rtmp_fields="legacy" if args.legacy_rtmp_fields else "current")
        if args.rtmp_url:
            self.config["rtmp_url"] = args.rtmp_url
        self.config["stat_url"] = args.stat_url
        self.thumb_dir = args.thumb_dir
        self.port = 0
        self.t0 = time.time()
        self.seq = 0
        self.agents = []                  # registration order
        self.comments = {}                # userDbId -> [comment], oldest first
        self.comment_counter = 7          # CHOICE: ids cross 9 -> 10 early (see new_comment)
        self.tweets = {}                  # status id -> text, from /__fake/tweet
        self.faults = []
        self.fault_ids = 0
        self.log = []
        self.thumbs = []
        self.thumb_data = {}              # file name -> bytes when there is no --thumb-dir
        self.token_elsewhere = []
        self.hanging = 0
        self.hangs_closed_by_client = 0
        self.last_stat_error = None

    def next_seq(self):
        self.seq += 1
        return self.seq

    # --- lookups -------------------------------------------------------------------------

    def agent_by_token(self, token):
        for a in self.agents:
            if a.token == token and not a.revoked:
                return a
        return None

    def agent_by_id(self, user_id):
        for a in self.agents:
            if a.user_id == user_id:
                return a
        return None

    def agent_by_name_or_id(self, ident):
        for a in self.agents:
            if a.user_id == ident or a.name.casefold() == ident.casefold():
                return a
        return None

    def all_tokens(self):
        return [a.token for a in self.agents]

    # --- the ingest ----------------------------------------------------------------------

    def publishing_keys(self):
        """Stream names with a publisher in the rtmp application of rtmp_url, read from the
        nginx-rtmp stat XML (application/live/stream/name + publishing); None if unknown."""
        with self.lock:
            stat_url, rtmp_url = self.config["stat_url"], self.config["rtmp_url"]
        if not stat_url:
            return None
        app = urlsplit(rtmp_url).path.strip("/").split("/")[-1]
        try:
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with opener.open(stat_url, timeout=2) as resp:
                root = ET.fromstring(resp.read())
        except (OSError, ET.ParseError) as e:
            with self.lock:
                self.last_stat_error = str(e)
            return None
        keys = set()
        for application in root.iter("application"):
            if application.findtext("name") != app:
                continue
            for stream in application.iter("stream"):
                if stream.find("publishing") is not None:
                    keys.add(stream.findtext("name"))
        return keys

    def is_live(self, agent, published=None):
        """The brief's rule: a publisher on the NEWEST key issued to this agent, and
        stream/start called after that key was issued (and no stream/stop since)."""
        with self.lock:
            forced = self.config["force_live"]
            session = agent.session
            newest = agent.keys[-1] if agent.keys else None
            if session is None or newest is None or session["start_seq"] < newest["seq"]:
                return False
            if forced is not None:
                return bool(forced)
        if published is None:
            published = self.publishing_keys() or set()
        return newest["key"] in published

    # --- comments ------------------------------------------------------------------------

    def new_comment(self, target, text, author, own=False, tip=None, sender_id=None):
        with self.lock:
            # "_id": "comment_123" is all the document shows. CHOICE: ids that do not sort as
            # strings in time order (comment_9 < comment_10 numerically, not as strings), or
            # random hex, so that a client comparing ids as strings fails.
            if self.config["comment_ids"] == "random":
                cid = secrets.token_hex(12)
            else:
                self.comment_counter += 1
                cid = f"comment_{self.comment_counter}"
            c = {"_id": cid, "streamId": target.user_id, "text": text, "t": time.time(),
                 "author": author, "own": own, "tip": tip, "sender_id": sender_id}
            self.comments.setdefault(target.user_id, []).append(c)
            return c

    @staticmethod
    def comment_view(c):
        return {"_id": c["_id"], "streamId": c["streamId"], "text": c["text"],
                "timestamp": iso(c["t"]), "author": dict(c["author"])}

    def viewer_author(self, fusername, fid=None, wallet=None):
        return {"walletAddress": wallet or b58encode(hashlib.sha256(fusername.encode()).digest()),
                "fusername": fusername,
                "fid": fid if fid is not None else 1000 + stable_int(fusername, 90000),
                "favatar": f"https://example.com/avatars/{fusername}.png"}

    def listing(self, key, items, **extra):
        """CHOICE: the document names list fields but not the envelope; we wrap lists in an
        object named after them ({"users": [...]}), or serve bare arrays (list_shape=array)."""
        if self.config["list_shape"] == "array" and not extra:
            return items
        return dict({key: items}, **extra)

    # --- registration and token creation ---------------------------------------------------

    def create_agent(self, d, token=None):
        """Validates a register body as the document states it; returns the new Agent."""
        def text(name, required=True):
            v = d.get(name)
            if v is None:
                raise bad(f"{name}: required")
            if not isinstance(v, str):
                raise bad(f"{name}: must be a string")
            if required and not v.strip():
                raise bad(f"{name}: must not be empty")
            return v
        # "agent_name | Unique. Your display name on the platform."
        name = text("agent_name")
        # "agent_description | Short bio shown on your profile." (may be empty: CHOICE)
        description = text("agent_description", required=False)
        # "image_url | Public URL, square (1:1), jpg/png."
        image_url = text("image_url")
        if not re.match(r"https?://[^\s/?#]+", image_url):
            raise bad("image_url: must be a public http(s) URL")
        # "wallet_address | Valid Solana base58 public key." — base58 of exactly 32 bytes.
        wallet = text("wallet_address")
        raw = b58decode(wallet)
        if raw is None or len(raw) != 32:
            raise bad("wallet_address: not a valid Solana base58 public key (32 bytes)")
        # "ticker | **Mandatory.** Max 10 characters."
        ticker = text("ticker")
        if len(ticker) > 10:
            raise bad("ticker: max 10 characters")
        with self.lock:
            # CHOICE: names are unique regardless of letter case.
            if any(a.name.casefold() == name.casefold() for a in self.agents):
                raise bad("agent_name: name taken", error="name taken")
            if token is not None and any(a.token == token for a in self.agents):
                raise bad("access_token: already in use")
            agent = Agent(name, description, image_url, wallet, ticker,
                          token or "rtk_" + secrets.token_urlsafe(24))
            agent.verified = bool(self.config["auto_verify"])
            self.agents.append(agent)
            self.comments[agent.user_id] = []
            return agent

    def market(self, agent):
        """Plausible, stable market numbers for an agent's token."""
        cap = 5000 + stable_int(agent.user_id + "cap", 495000) + stable_int(agent.name, 100) / 100
        return {"market_cap": round(cap, 2), "current_price": round(cap / 1e9, 9),
                "all_time_high": round(cap * 1.4, 2),
                "growth": {"1h": round(stable_int(agent.name + "1h", 200) / 10 - 10, 1),
                           "6h": round(stable_int(agent.name + "6h", 400) / 10 - 20, 1),
                           "24h": round(stable_int(agent.name + "24h", 800) / 10 - 40, 1)},
                "volume": round(cap * 0.3, 2), "earnings": round(cap * 0.003, 2)}

    def token_agents(self):
        with self.lock:
            tokened = [a for a in self.agents if a.token_address]
        return sorted(tokened, key=lambda a: -self.market(a)["market_cap"])

    def trades(self, agent):
        """Deterministic synthetic trades for one token, newest first. CHOICE: trade fields
        reuse the Socket.IO newtrade names (address, action, usdAmount, tokenTicker)."""
        out = []
        for i in range(30):
            h = stable_int(f"{agent.token_address}:{i}", 1 << 30)
            out.append({"id": f"trade_{agent.token_address[:6]}_{i}",
                        "address": agent.token_address, "tokenTicker": agent.ticker,
                        "action": "buy" if h % 3 else "sell",
                        "usdAmount": round(1 + h % 50000 / 100, 2),
                        "wallet_address": b58encode(hashlib.sha256(str(h).encode()).digest()),
                        "tx_hash": b58encode(hashlib.sha512(str(h).encode()).digest()),
                        "t": self.t0 - 60 * i - h % 50})
        return out


FAKE = None  # the one Fake instance, set in main()


# ============================ agent API (Bearer) ===========================================

@route("POST", "agent/register", auth=False)
def h_register(ctx):
    agent = FAKE.create_agent(ctx.json_object())
    # **Response:** access_token, agent_id, userDbId, wallet_address, token_address, token_ticker
    # — "`token_address` / `token_ticker` populate after first stream."
    return 200, {"access_token": agent.token, "agent_id": agent.agent_id,
                 "userDbId": agent.user_id, "wallet_address": agent.wallet,
                 "token_address": "", "token_ticker": ""}


@route("POST", "agent/prepare-verify")
def h_prepare_verify(ctx):
    # "No body required." CHOICE: every call makes a fresh code; only the newest one counts.
    code = secrets.token_hex(4).upper()
    msg = f"Claiming my Livestreaming Agent on @retakedottv. Code: {code}"
    with FAKE.lock:
        ctx.agent.verify_message = msg
    return 200, {"verification_message": msg}


@route("POST", "agent/verify")
def h_verify(ctx):
    # The document's error table lists causes only. CHOICE: each row answers 400 (Bad input)
    # with the cause as the message.
    d = ctx.json_object()
    with FAKE.lock:
        message = ctx.agent.verify_message
        unknown_ok = FAKE.config["unknown_tweets"] == "accept"
    if not message:
        raise bad("No verification message yet: call prepare-verify first")
    url = d.get("tweet_url")
    m = TWEET_RE.fullmatch(url) if isinstance(url, str) else None
    if not m:
        raise bad("Invalid tweet URL: use a real Twitter/X status URL")
    handle, status_id = m.group(1) or "", m.group(2)
    with FAKE.lock:
        text = FAKE.tweets.get(status_id)
    if handle.lower() == "username" or status_id in PLACEHOLDER_IDS:
        contains = False     # the document's placeholder: no such tweet
    elif text is not None:
        contains = message in text
    else:
        contains = unknown_ok
    if not contains:
        raise bad("Tweet doesn't contain the code: post the exact verification_message and retry")
    with FAKE.lock:
        ctx.agent.verified = True
    return 200, {"verified": True}


@route("GET", "agent/verification-status")
def h_verification_status(ctx):
    return 200, {"verified": bool(ctx.agent.verified)}


@route("POST", "agent/rtmp")
def h_rtmp(ctx):
    # "Call every time before streaming — keys may rotate between sessions." A fresh key on
    # every call; only the newest counts for is_live.
    key = "sk_" + secrets.token_urlsafe(18)
    with FAKE.lock:
        ctx.agent.keys.append({"key": key, "seq": FAKE.next_seq(), "t": time.time()})
        url, fields = FAKE.config["rtmp_url"], FAKE.config["rtmp_fields"]
    body = {}
    if fields in ("current", "both"):
        body.update(url=url, key=key)            # { "url": "rtmps://...", "key": "sk_..." }
    if fields in ("legacy", "both"):
        body.update(rtmp_url=url, stream_key=key)
    return 200, body


@route("POST", "agent/stream/start")
def h_stream_start(ctx):
    a = ctx.agent
    with FAKE.lock:
        if not a.verified and FAKE.config["unverified_start"] == "reject":
            raise bad("agent not verified: complete verification first")
        # "the platform will not deploy your token until the agent is verified";
        # "Your agent token is created automatically on first stream".
        if a.verified and not a.token_address:
            a.token_address = b58encode(secrets.token_bytes(32))
        if a.session is None:
            a.session = {"session_id": str(uuid.uuid4()), "started": time.time(), "starts": 0,
                         "title": f"{a.name} live", "live_reported": None}
        a.session["start_seq"] = FAKE.next_seq()
        a.session["starts"] += 1
        token = {"name": a.name, "ticker": a.ticker, "imageUrl": a.image_url,
                 "tokenAddress": a.token_address,
                 "tokenType": "meteora-dbc" if a.token_address else ""}
    return 200, {"success": True, "token": token}


@route("GET", "agent/stream/status")
def h_stream_status(ctx):
    a = ctx.agent
    live = FAKE.is_live(a)
    with FAKE.lock:
        s = a.session
        live = live and s is not None      # a stop may have come in meanwhile
        if live and s["live_reported"] is None:
            s["live_reported"] = time.time()
        # CHOICE: uptime counts from the session's first stream/start; 0 and no viewers
        # while not live.
        return 200, {"is_live": live, "viewers": FAKE.config["viewers"] if live else 0,
                     "uptime_seconds": int(time.time() - s["started"]) if live else 0,
                     "token_address": a.token_address, "userDbId": a.user_id}


@route("POST", "agent/update-thumbnail")
def h_update_thumbnail(ctx):
    # "Content-Type: multipart/form-data", "Field: `image` (JPEG/PNG)".
    ctype = ctx.headers.get("Content-Type", "")
    if not ctype.lower().startswith("multipart/form-data"):
        raise bad("Content-Type: must be multipart/form-data")
    parts = [p for p in parse_multipart(ctype, ctx.body) if p["name"] == "image"]
    if not parts:
        raise bad("image: multipart field missing")
    data = parts[0]["data"]
    kind = image_type(data)
    if kind is None:
        raise bad("image: not a JPEG or PNG")
    a = ctx.agent
    with FAKE.lock:
        n = len(FAKE.thumbs) + 1
        fname = f"thumb-{n:04d}.{'jpg' if kind == 'jpeg' else 'png'}"
        if FAKE.thumb_dir:
            with open(os.path.join(FAKE.thumb_dir, fname), "wb") as f:
                f.write(data)
        else:
            FAKE.thumb_data[fname] = data
        live_at = a.session["live_reported"] if a.session else None
        FAKE.thumbs.append({"seq": n, "file": fname, "type": kind, "bytes": len(data),
                            "sha256": hashlib.sha256(data).hexdigest(),
                            "t": round(time.time() - FAKE.t0, 3),
                            "time": iso(time.time()), "userDbId": a.user_id,
                            "filename": parts[0]["filename"],
                            "content_type": parts[0]["content_type"],
                            "jpeg_complete": kind != "jpeg" or data.endswith(b"\xff\xd9"),
                            "after_is_live": live_at is not None})
        url = f"http://127.0.0.1:{FAKE.port}/__fake/thumbs/{fname}"
    return 200, {"message": "Thumbnail updated", "thumbnail_url": url}


@route("POST", "agent/stream/stop")
def h_stream_stop(ctx):
    a = ctx.agent
    with FAKE.lock:
        s = a.session
        if s is None:
            # "| 409 | No active session | Call `/agent/stream/start` first |"
            raise ApiError(409, "No active session: call /agent/stream/start first")
        s["ended"] = time.time()
        a.past_sessions.append(s)
        a.session = None
        # CHOICE: viewers = the viewers knob at stop time.
        return 200, {"status": "stopped", "duration_seconds": int(s["ended"] - s["started"]),
                     "viewers": FAKE.config["viewers"]}


@route("POST", "agent/stream/chat/send")
def h_chat_send(ctx):
    d = ctx.json_object()
    msg, dest = d.get("message"), d.get("destination_user_id")
    if not isinstance(msg, str) or not msg.strip():
        raise bad("message: must be a non-empty string")
    if not isinstance(dest, str) or not dest:
        raise bad("destination_user_id: required")
    # The document puts "access_token" in this body. CHOICE: optional; when present it must be
    # the same token as the Bearer header, else 401.
    if "access_token" in d and d["access_token"] != ctx.agent.token:
        raise ApiError(401, "access_token in the body does not match the Bearer token")
    target = FAKE.agent_by_id(dest)
    if target is None:
        raise ApiError(404, "destination_user_id: no such user")
    c = FAKE.new_comment(target, msg, ctx.agent.author(), own=target is ctx.agent,
                         sender_id=ctx.agent.user_id)
    # CHOICE: the document shows no response body for chat/send.
    return 200, {"success": True, "_id": c["_id"]}


@route("GET", "agent/stream/comments")
def h_comments(ctx):
    uid = ctx.query.get("userDbId")
    if not uid:
        raise bad("userDbId: required")
    if FAKE.agent_by_id(uid) is None:
        raise ApiError(404, "userDbId: no such user")
    # "`limit`: Max messages (default 50, max 100)." Over 100 is clamped (CHOICE: not refused).
    limit = ctx.int_query("limit", 50, 1, 100)
    before = ctx.query.get("beforeId")
    with FAKE.lock:
        items = list(FAKE.comments.get(uid, []))
        echo = FAKE.config["echo_own_messages"]
    if before:
        # "`beforeId`: `_id` from oldest message in previous response (pagination)."
        idx = next((i for i, c in enumerate(items) if c["_id"] == before), None)
        if idx is None:
            raise bad("beforeId: unknown comment id")
        items = items[:idx]
    # CHOICE: an agent's own chat/send messages to its own stream stay out of its comments
    # unless echo_own_messages; other agents' messages are comments like a viewer's.
    items = [c for c in items if echo or not c["own"]]
    return 200, {"comments": [Fake.comment_view(c) for c in reversed(items[-limit:])]}


# ============================ public API (section 5, no auth) ================================

def user_row(a, live_keys, rank=None):
    m = FAKE.market(a) if a.token_address else {"market_cap": 0}
    row = {"user_id": a.user_id, "username": a.name, "ticker": a.ticker,
           "token_address": a.token_address, "market_cap": m["market_cap"],
           "profile_picture_url": a.image_url, "is_live": FAKE.is_live(a, live_keys),
           "created_at": iso(a.created)}
    if rank is not None:
        row["rank"] = rank
    return row


def snapshot_agents():
    with FAKE.lock:
        return list(FAKE.agents)


@route("GET", "users/search/:query", auth=False)
def h_users_search(ctx):
    q = ctx.params["query"].casefold()
    keys = FAKE.publishing_keys() or set()
    return 200, FAKE.listing("users", [user_row(a, keys) for a in snapshot_agents()
                                       if q in a.name.casefold()])


@route("GET", "users/live/", auth=False)
def h_users_live(ctx):
    keys = FAKE.publishing_keys() or set()
    live = [a for a in FAKE.token_agents() + [a for a in snapshot_agents() if not a.token_address]
            if FAKE.is_live(a, keys)]
    return 200, FAKE.listing("users", [user_row(a, keys, rank=i + 1) for i, a in enumerate(live)])


@route("GET", "users/newest/", auth=False)
def h_users_newest(ctx):
    keys = FAKE.publishing_keys() or set()
    newest = sorted(snapshot_agents(), key=lambda a: -a.created)
    return 200, FAKE.listing("users", [user_row(a, keys) for a in newest])


def agent_or_404(ident, what, by_name=False):
    a = FAKE.agent_by_name_or_id(ident) if by_name else FAKE.agent_by_id(ident)
    if a is None:
        raise ApiError(404, f"{what}: not found")
    return a


@route("GET", "users/metadata/:user_id", auth=False)
def h_users_metadata(ctx):
    a = agent_or_404(ctx.params["user_id"], "user_id")
    return 200, {"user_id": a.user_id, "username": a.name, "bio": a.description,
                 "wallet_address": a.wallet, "social_links": [],
                 "profile_picture_url": a.image_url}


def session_row(a, s):
    row = {"session_id": s["session_id"], "streamer_id": a.user_id, "title": s["title"],
           "username": a.name, "started_at": iso(s["started"])}
    if "ended" in s:
        row.update(ended_at=iso(s["ended"]), duration_seconds=int(s["ended"] - s["started"]))
    return row


@route("GET", "users/streamer/:identifier", auth=False)
def h_users_streamer(ctx):
    # "Lookup by username OR UUID. Returns streamer data + session info."
    a = agent_or_404(ctx.params["identifier"], "identifier", by_name=True)
    with FAKE.lock:
        s = dict(a.session) if a.session else None
    return 200, {"streamer_id": a.user_id, "username": a.name, "bio": a.description,
                 "ticker": a.ticker, "token_address": a.token_address,
                 "wallet_address": a.wallet, "profile_picture_url": a.image_url,
                 "is_live": FAKE.is_live(a), "session": session_row(a, s) if s else None}


def sessions(active, streamer=None):
    rows = []
    for a in snapshot_agents():
        if streamer is not None and a is not streamer:
            continue
        with FAKE.lock:
            ss = ([a.session] if a.session else []) if active else list(a.past_sessions)
            rows += [session_row(a, s) for s in ss]
    return rows


@route("GET", "sessions/active/", auth=False)
def h_sessions_active(ctx):
    # CHOICE: a session is active from stream/start to stream/stop, publishing or not.
    return 200, FAKE.listing("sessions", sessions(True))


@route("GET", "sessions/active/:streamer_id/", auth=False)
def h_sessions_active_one(ctx):
    rows = sessions(True, agent_or_404(ctx.params["streamer_id"], "streamer_id"))
    if not rows:
        raise ApiError(404, "streamer_id: no active session")
    return 200, rows[0]


@route("GET", "sessions/recorded/", auth=False)
def h_sessions_recorded(ctx):
    return 200, FAKE.listing("sessions", sessions(False))


@route("GET", "sessions/recorded/:streamer_id/", auth=False)
def h_sessions_recorded_one(ctx):
    return 200, FAKE.listing("sessions", sessions(
        False, agent_or_404(ctx.params["streamer_id"], "streamer_id")))


@route("GET", "sessions/scheduled/", auth=False)
def h_sessions_scheduled(ctx):
    return 200, FAKE.listing("sessions", [])     # nothing is ever scheduled here


@route("GET", "sessions/scheduled/:streamer_id/", auth=False)
def h_sessions_scheduled_one(ctx):
    agent_or_404(ctx.params["streamer_id"], "streamer_id")
    return 200, FAKE.listing("sessions", [])


@route("GET", "sessions/:id/join/", auth=False)
def h_sessions_join(ctx):
    sid = ctx.params["id"]
    for a in snapshot_agents():
        with FAKE.lock:
            s = a.session
        if s and s["session_id"] == sid:
            # "LiveKit viewer token". CHOICE: fields token, url, session_id, room.
            tok = ".".join(secrets.token_urlsafe(n) for n in (12, 48, 32))
            return 200, {"token": tok, "url": "wss://livekit.retake.tv.invalid",
                         "session_id": sid, "room": a.user_id}
    raise ApiError(404, "id: no active session with this id")


@route("GET", "tokens/top/", auth=False)
def h_tokens_top(ctx):
    rows = [{"user_id": a.user_id, "name": a.name, "ticker": a.ticker, "address": a.token_address,
             "current_market_cap": FAKE.market(a)["market_cap"], "rank": i + 1}
            for i, a in enumerate(FAKE.token_agents())]
    return 200, FAKE.listing("tokens", rows)


@route("GET", "tokens/trending/", auth=False)
def h_tokens_trending(ctx):
    agents = sorted(FAKE.token_agents(), key=lambda a: -FAKE.market(a)["growth"]["24h"])
    rows = [{"username": a.name, "ticker": a.ticker, "address": a.token_address,
             "growth_24h": FAKE.market(a)["growth"]["24h"],
             "market_cap": FAKE.market(a)["market_cap"]} for a in agents]
    return 200, FAKE.listing("tokens", rows)


def agent_by_token_address(address):
    for a in FAKE.token_agents():
        if a.token_address == address:
            return a
    raise ApiError(404, "address: no such token")


@route("GET", "tokens/:address/stats", auth=False)
def h_tokens_stats(ctx):
    a = agent_by_token_address(ctx.params["address"])
    return 200, dict(FAKE.market(a), address=a.token_address, ticker=a.ticker)


def trade_page(ctx, trades):
    # "Query: `limit` (max 100), `cursor`." CHOICE: the cursor is the id of the last trade
    # returned (next_cursor), null at the end.
    limit = ctx.int_query("limit", 50, 1, 100)
    trades.sort(key=lambda t: -t["t"])
    cursor = ctx.query.get("cursor")
    if cursor:
        idx = next((i for i, t in enumerate(trades) if t["id"] == cursor), None)
        if idx is None:
            raise bad("cursor: unknown")
        trades = trades[idx + 1:]
    page = [dict({k: v for k, v in t.items() if k != "t"}, timestamp=iso(t["t"]))
            for t in trades[:limit]]
    nxt = page[-1]["id"] if len(trades) > limit else None
    return 200, FAKE.listing("trades", page, next_cursor=nxt)


@route("GET", "trades/recent/", auth=False)
def h_trades_recent(ctx):
    return trade_page(ctx, [t for a in FAKE.token_agents() for t in FAKE.trades(a)])


@route("GET", "trades/recent/:token_address/", auth=False)
def h_trades_recent_one(ctx):
    return trade_page(ctx, FAKE.trades(agent_by_token_address(ctx.params["token_address"])))


@route("GET", "trades/top-volume/", auth=False)
def h_trades_top_volume(ctx):
    limit = ctx.int_query("limit", 50, 1, 100)
    window = ctx.query.get("window") or "24h"      # "`window` (default `24h`)"
    if not re.fullmatch(r"\d{1,3}[hd]", window):
        raise bad("window: expected e.g. 1h, 24h, 7d")
    rows = sorted(({"address": a.token_address, "ticker": a.ticker, "username": a.name,
                    "volume": FAKE.market(a)["volume"], "window": window}
                   for a in FAKE.token_agents()), key=lambda r: -r["volume"])
    return 200, FAKE.listing("tokens", rows[:limit])


@route("GET", "trades/top-count/", auth=False)
def h_trades_top_count(ctx):
    rows = sorted(({"address": a.token_address, "ticker": a.ticker, "username": a.name,
                    "trade_count": len(FAKE.trades(a)) + stable_int(a.user_id, 500)}
                   for a in FAKE.token_agents()), key=lambda r: -r["trade_count"])
    return 200, FAKE.listing("tokens", rows)


def chat_streamer(ctx):
    sid = ctx.query.get("streamer_id")
    if not sid:
        raise bad("streamer_id: required")
    return agent_or_404(sid, "streamer_id")


@route("GET", "chat/", auth=False)
def h_chat(ctx):
    # "Returns `chats[]` with `sender_username`, `text`, `type`, `tip_data`, `trade_data`."
    # CHOICE: the public chat shows every message, the streamer's own included.
    a = chat_streamer(ctx)
    limit = ctx.int_query("limit", 50, 1, 100)
    before = ctx.query.get("before_chat_event_id")
    with FAKE.lock:
        items = list(FAKE.comments.get(a.user_id, []))
    if before:
        idx = next((i for i, c in enumerate(items) if c["_id"] == before), None)
        if idx is None:
            raise bad("before_chat_event_id: unknown")
        items = items[:idx]
    chats = [{"chat_event_id": c["_id"], "streamer_id": a.user_id,
              "sender_username": c["author"]["fusername"], "text": c["text"],
              "type": "tip" if c["tip"] else "message",
              "tip_data": {"receiver_id": a.user_id, "amount": c["tip"]} if c["tip"] else None,
              "trade_data": None, "timestamp": iso(c["t"])} for c in reversed(items[-limit:])]
    return 200, {"chats": chats}


@route("GET", "chat/top-tippers", auth=False)
def h_chat_top_tippers(ctx):
    a = chat_streamer(ctx)
    totals = {}
    with FAKE.lock:
        for c in FAKE.comments.get(a.user_id, []):
            if c["tip"]:
                name = c["author"]["fusername"]
                amount, count = totals.get(name, (0, 0))
                totals[name] = (amount + c["tip"], count + 1)
    rows = [{"sender_username": n, "total_amount": v[0], "tip_count": v[1]}
            for n, v in sorted(totals.items(), key=lambda kv: -kv[1][0])]
    return 200, FAKE.listing("tippers", rows)


# ============================ test control (/__fake/, no auth) ================================

def apply_config(d):
    if not isinstance(d, dict):
        raise bad("config: a JSON object is required")
    for k, v in d.items():
        if k not in CONFIG_DEFAULTS:
            raise bad(f"config: unknown key {k}")
        if k in CONFIG_CHOICES and v not in CONFIG_CHOICES[k]:
            raise bad(f"config: {k} must be one of {', '.join(CONFIG_CHOICES[k])}")
        if k in ("viewers", "hang_max_s") and (not isinstance(v, int) or v < 0):
            raise bad(f"config: {k} must be a non-negative integer")
        if k in ("auto_verify", "echo_own_messages", "strict_slash") and not isinstance(v, bool):
            raise bad(f"config: {k} must be true or false")
        if k == "force_live" and v is not None and not isinstance(v, bool):
            raise bad("config: force_live must be true, false or null")
        if k == "session_required" and not isinstance(v, list):
            raise bad("config: session_required must be a list of route names")
    with FAKE.lock:
        FAKE.config.update(d)
        return dict(FAKE.config)


def add_fault(d):
    """A fault for the next `count` calls (-1: every call) of `endpoint` (a route name as in
    the document, e.g. "agent/stream/status", "users/search/:query", an exact path relative to
    /api/v1, "skill.json", or "*"), optionally only for `method`."""
    kind = d.get("kind", "status")
    if kind not in FAULT_KINDS:
        raise bad(f"kind: one of {', '.join(FAULT_KINDS)}")
    endpoint = d.get("endpoint")
    if not isinstance(endpoint, str) or not endpoint:
        raise bad("endpoint: required")
    count = d.get("count", 1)
    status = d.get("status", 500)
    delay = d.get("delay_ms", 0)
    if not isinstance(count, int) or count == 0 or count < -1:
        raise bad("count: a positive integer or -1 (every call)")
    if not isinstance(status, int) or not 100 <= status <= 599:
        raise bad("status: an HTTP status code")
    if not isinstance(delay, (int, float)) or delay < 0:
        raise bad("delay_ms: a non-negative number")
    with FAKE.lock:
        FAKE.fault_ids += 1
        f = {"id": FAKE.fault_ids, "endpoint": endpoint.strip("/"), "method": d.get("method"),
             "kind": kind, "status": status, "message": d.get("message"), "count": count,
             "delay_ms": delay, "apply": bool(d.get("apply", False)), "body": d.get("body"),
             "location": d.get("location"), "hits": 0}
        FAKE.faults.append(f)
        return dict(f)


def take_fault(method, rel, route_name):
    with FAKE.lock:
        for f in FAKE.faults:
            if f["method"] and f["method"].upper() != method:
                continue
            if f["endpoint"] not in ("*", rel.strip("/"), route_name):
                continue
            f["hits"] += 1
            if f["count"] > 0:
                f["count"] -= 1
                if f["count"] == 0:
                    FAKE.faults.remove(f)
            return dict(f)
    return None


def control(method, path, query, body):
    """The /__fake/ API. Returns (status, obj) or (status, bytes, content_type)."""
    parts = path[len("/__fake/"):].strip("/").split("/")
    what = parts[0]

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
    if method == "POST" and what == "fault":
        return 200, add_fault(obj())
    if method == "DELETE" and what == "fault":
        with FAKE.lock:
            FAKE.faults.clear()
        return 200, {"cleared": True}
    if method == "POST" and what == "comment":
        return 200, add_viewer_comments(obj())
    if method == "POST" and what == "tweet":
        d = obj()
        m = TWEET_RE.fullmatch(d.get("tweet_url") or "")
        if not m or not isinstance(d.get("text"), str):
            raise bad("tweet: tweet_url (a status URL) and text are required")
        with FAKE.lock:
            FAKE.tweets[m.group(2)] = d["text"]
        return 200, {"status_id": m.group(2)}
    if method == "POST" and what == "agent" and len(parts) == 1:
        d = obj()
        a = FAKE.create_agent(d, token=d.get("access_token"))
        with FAKE.lock:
            if "verified" in d:
                a.verified = bool(d["verified"])
        return 200, agent_view(a)
    if method == "POST" and what == "agent" and len(parts) == 2:
        a = agent_or_404(parts[1], "agent", by_name=True)
        d = obj()
        with FAKE.lock:
            for k in ("verified", "revoked"):
                if k in d:
                    setattr(a, k, bool(d[k]))
        return 200, agent_view(a)
    if method == "GET" and what == "thumbs" and len(parts) == 2:
        with FAKE.lock:
            data = FAKE.thumb_data.get(parts[1])
        if data is None and FAKE.thumb_dir and re.fullmatch(r"thumb-\d+\.(jpg|png)", parts[1]):
            try:
                with open(os.path.join(FAKE.thumb_dir, parts[1]), "rb") as f:
                    data = f.read()
            except OSError:
                data = None
        if data is None:
            raise ApiError(404, "no such thumbnail")
        return 200, data, "image/jpeg" if parts[1].endswith(".jpg") else "image/png"
    raise ApiError(404, f"no control endpoint {method} {path}")


def add_viewer_comments(d):
    """{userDbId, text | texts[], fusername?, fid?, walletAddress?, tip?}: viewer comments."""
    target = FAKE.agent_by_id(d.get("userDbId") or "")
    if target is None:
        raise ApiError(404, "userDbId: no such user")
    texts = d.get("texts", [d.get("text")])
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        raise bad("text: a string (or texts: a list of strings) is required")
    name = d.get("fusername") or "viewer1"
    author = FAKE.viewer_author(name, d.get("fid"), d.get("walletAddress"))
    made = [FAKE.new_comment(target, t, author, tip=d.get("tip")) for t in texts]
    return {"comments": [Fake.comment_view(c) for c in made]}


def agent_view(a):
    with FAKE.lock:
        s = dict(a.session) if a.session else None
        return {"agent_name": a.name, "agent_id": a.agent_id, "userDbId": a.user_id,
                "access_token": a.token, "wallet_address": a.wallet, "ticker": a.ticker,
                "verified": a.verified, "revoked": a.revoked,
                "verification_message": a.verify_message,
                "keys": [k["key"] for k in a.keys], "newest_key": a.keys[-1]["key"] if a.keys
                else None, "token_address": a.token_address, "session": s,
                "past_sessions": len(a.past_sessions)}


def state_view():
    agents = snapshot_agents()
    keys = FAKE.publishing_keys()
    views = []
    for a in agents:
        v = agent_view(a)
        v["is_live"] = FAKE.is_live(a, keys or set())
        with FAKE.lock:
            v["comments"] = len(FAKE.comments.get(a.user_id, []))
        views.append(v)
    with FAKE.lock:
        return {"port": FAKE.port, "config": dict(FAKE.config), "agents": views,
                "publishing_keys": sorted(keys) if keys is not None else None,
                "last_stat_error": FAKE.last_stat_error,
                "faults": [dict(f) for f in FAKE.faults], "thumbnails": list(FAKE.thumbs),
                "token_elsewhere": list(FAKE.token_elsewhere),
                "hanging": FAKE.hanging, "hangs_closed_by_client": FAKE.hangs_closed_by_client,
                "calls": len(FAKE.log)}


# ============================ HTTP =============================================================

def body_summary(headers, body):
    if not body:
        return None
    ctype = headers.get("Content-Type", "")
    if ctype.lower().startswith("multipart/form-data"):
        try:
            return {"multipart": [{"name": p["name"], "filename": p["filename"],
                                   "content_type": p["content_type"], "bytes": len(p["data"])}
                                  for p in parse_multipart(ctype, body)]}
        except ApiError as e:
            return {"bytes": len(body), "error": e.message}
    try:
        d = json.loads(body)
    except ValueError:
        return {"bytes": len(body), "content_type": ctype}
    if isinstance(d, dict):
        return {k: (v[:200] if isinstance(v, str) else v) for k, v in d.items()}
    return d


def token_places(path, query, headers, body, route_name):
    """Where, other than the Authorization header (and the chat/send body's access_token field,
    which the document puts there), an issued access token appears in a request."""
    with FAKE.lock:
        tokens = FAKE.all_tokens()
    if not tokens:
        return []
    found = []
    checks = [("path", unquote(path)), ("query", unquote(query))]
    checks += [("header:" + k, v) for k, v in headers.items() if k.lower() != "authorization"]
    raw = body or b""
    if route_name == "agent/stream/chat/send":
        try:
            d = json.loads(raw)
            if isinstance(d, dict):
                d.pop("access_token", None)
                raw = json.dumps(d).encode()
        except ValueError:
            pass
    text = raw.decode("latin-1")
    checks.append(("body", text))
    for where, value in checks:
        if any(t in value for t in tokens):
            found.append(where)
    return found


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-retake/1"

    def log_message(self, fmt, *args):
        pass            # one line per call is printed by dispatch()

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
                if len(out) > MAX_BODY:
                    raise bad("body too large")
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            raise bad("body too large")
        return self.rfile.read(n) if n else b""

    def send_raw(self, status, body, ctype="application/json; charset=utf-8", length=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, status, obj):
        self.send_raw(status, json.dumps(obj).encode())

    def dispatch(self):
        url = urlsplit(self.path)
        try:
            body = self.read_body()
        except (ApiError, ValueError):
            self.close_connection = True
            self.send_json(400, {"error": "Bad input", "message": "unreadable body"})
            return
        if url.path.startswith("/__fake/"):
            try:
                out = control(self.command, url.path,
                              {k: v[0] for k, v in parse_qs(url.query).items()}, body)
            except ApiError as e:
                out = (e.status, e.body())
            if len(out) == 3:
                self.send_raw(out[0], out[1], out[2])
            else:
                self.send_json(*out)
            return
        self.api(url, body)

    def auth_state(self):
        h = self.headers.get("Authorization")
        if h is None:
            return "none", None
        scheme, _, token = h.partition(" ")
        # "**Auth:** `Authorization: Bearer <access_token>` on every authenticated request."
        if scheme.lower() != "bearer" or not token.strip():
            return "malformed", None
        agent = FAKE.agent_by_token(token.strip())
        return ("valid", agent) if agent else ("invalid", None)

    def api(self, url, body):
        method, path = self.command, url.path
        if path == "/skill.json":
            r, params, rel = None, {}, "skill.json"
            name = "skill.json"
        elif path.startswith(API_PREFIX) or path + "/" == API_PREFIX:
            rel = path[len(API_PREFIX):]
            r, params = match_route(method, rel, FAKE.config["strict_slash"])
            name = r["name"] if r else None
        else:
            r, params, rel, name = None, {}, path, None
        auth, agent = self.auth_state()
        headers = self.headers
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        entry = {"method": method, "host": self.headers.get("Host"), "path": path,
                 "query": url.query, "route": name,
                 "auth": auth, "agent": agent.user_id if agent else None,
                 "body": body_summary(headers, body), "status": None, "fault": None}
        if name == "agent/stream/chat/send":
            try:
                bt = json.loads(body).get("access_token")
            except (ValueError, AttributeError):
                bt = None
            entry["body_token"] = ("absent" if bt is None else
                                   "valid" if agent and bt == agent.token else "invalid")
        where = token_places(path, url.query, headers, body, name)
        entry["token_elsewhere"] = where
        start = time.time()
        with FAKE.lock:
            entry.update(seq=len(FAKE.log) + 1, t=round(start - FAKE.t0, 3), time=iso(start))
            FAKE.log.append(entry)
            if where:
                FAKE.token_elsewhere.append({"seq": entry["seq"], "path": path, "where": where})
        fault = take_fault(method, rel, name)
        try:
            self.answer(entry, fault, r, params, query, body, headers, agent)
        finally:
            with FAKE.lock:
                entry["ms"] = int((time.time() - start) * 1000)
            print(f"fake-retake: #{entry['seq']} {method} {path} auth={auth} "
                  f"fault={entry['fault']} -> {entry['status']}", file=sys.stderr, flush=True)

    def answer(self, entry, fault, r, params, query, body, headers, agent):
        if fault:
            entry["fault"] = fault["kind"]
            if fault["delay_ms"]:
                time.sleep(fault["delay_ms"] / 1000)
        processed = None
        if not fault or fault["kind"] in ("delay", "truncated", "partial") or fault["apply"]:
            processed = self.process(entry["path"], r, params, query, body, headers, agent)
        if processed:
            raw = json.dumps(processed[1])
            entry["response"] = processed[1] if len(raw) <= 4096 else {"bytes": len(raw)}
        if not fault or fault["kind"] == "delay":
            entry["status"] = processed[0]
            self.send_json(*processed)
            return
        kind = fault["kind"]
        if kind == "status":
            st = fault["status"]
            entry["status"] = st
            self.send_json(st, {"error": MEANING.get(st, "Error"),
                                "message": fault["message"] or MEANING.get(st, "Error")})
        elif kind == "hang":
            self.hang()
        elif kind == "redirect":
            # Default target: this same fake under another origin (localhost instead of
            # 127.0.0.1), so the log shows whether a client followed it with the token.
            st = fault["status"] if 300 <= fault["status"] < 400 else 307
            target = fault["location"] or f"http://localhost:{FAKE.port}{self.path}"
            entry["status"] = st
            self.send_response(st)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif kind in ("drop", "reset"):
            self.close_connection = True
            if kind == "reset":
                # SO_LINGER 0: close() sends RST instead of FIN.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
            self.connection.close()
        elif kind in ("malformed", "empty"):
            entry["status"] = 200
            raw = b"" if kind == "empty" else (fault["body"] or "").encode() or \
                FAULT_BODY_MALFORMED
            self.send_raw(200, raw)
        else:           # truncated: valid HTTP, JSON cut; partial: fewer bytes than promised
            entry["status"] = processed[0]
            full = json.dumps(processed[1]).encode()
            half = full[:max(1, len(full) // 2)]
            if kind == "truncated":
                self.send_raw(processed[0], half)
            else:
                self.close_connection = True
                self.send_raw(processed[0], half, length=len(full))

    def process(self, path, r, params, query, body, headers, agent):
        """(status, obj) of the real handler."""
        if path == "/skill.json":
            with FAKE.lock:
                version = FAKE.config["skill_version"]
            return 200, {"name": "retake-tv-agent", "version": version,
                         "skills_url": "https://retake.tv/skill.md"}
        if r is None:
            return 404, {"error": "Not found", "message": f"no such endpoint: {path}"}
        if r["auth"] and agent is None:
            return 401, ApiError(401).body()
        try:
            with FAKE.lock:
                needs = r["name"] in FAKE.config["session_required"]
            if needs and agent.session is None:
                # "| 409 | No active session | Call `/agent/stream/start` first |"
                raise ApiError(409, "No active session: call /agent/stream/start first")
            return r["fn"](Ctx(self.command, path, params, query, body, headers, agent))
        except ApiError as e:
            return e.status, e.body()
        except Exception as e:      # a bug here must not look like a network fault
            traceback.print_exc()
            return 500, {"error": "Server error", "message": f"fake_retake bug: {e!r}"}

    def hang(self):
        """Accepts and never answers, until the client closes or hang_max_s passes."""
        self.close_connection = True
        with FAKE.lock:
            FAKE.hanging += 1
            limit = time.time() + FAKE.config["hang_max_s"]
        closed = False
        try:
            while time.time() < limit:
                ready, _, _ = select.select([self.connection], [], [], 0.2)
                if ready:
                    try:
                        if not self.connection.recv(65536):
                            closed = True
                            break
                    except OSError:
                        closed = True
                        break
        finally:
            with FAKE.lock:
                FAKE.hanging -= 1
                FAKE.hangs_closed_by_client += closed


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
    p = argparse.ArgumentParser(description="fake retake.tv API server for agentcast tests")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free)")
    p.add_argument("--port-file", help="write the port here (atomically) once listening")
    p.add_argument("--rtmp-url", help="RTMP base URL served by agent/rtmp")
    p.add_argument("--stat-url", help="nginx-rtmp stat URL deciding is_live")
    p.add_argument("--thumb-dir", help="save uploaded thumbnails here as thumb-NNNN.jpg|png")
    p.add_argument("--skill-version", default=DOC_VERSION, help="version in /skill.json")
    p.add_argument("--legacy-rtmp-fields", action="store_true",
                   help="agent/rtmp answers rtmp_url/stream_key instead of url/key")
    p.add_argument("--verified", action="store_true", help="agents are verified at registration")
    p.add_argument("--viewers", type=int, default=0, help="viewers reported while live")
    p.add_argument("--echo-own-messages", action="store_true",
                   help="an agent's own chat/send messages appear in its comments")
    p.add_argument("--comment-ids", choices=("counter", "random"), default="counter")
    p.add_argument("--list-shape", choices=("object", "array"), default="object")
    p.add_argument("--strict-slash", action="store_true",
                   help="paths must carry the document's trailing slash (or lack of it)")
    p.add_argument("--seed-agent", action="append", default=[], metavar="NAME[:TOKEN]",
                   help="register an agent at start (verified when --verified)")
    p.add_argument("--parent-pid", type=int, help="exit when this process is gone")
    args = p.parse_args()
    if args.thumb_dir:
        os.makedirs(args.thumb_dir, exist_ok=True)
    FAKE = Fake(args)
    for seed in args.seed_agent:
        name, _, token = seed.partition(":")
        try:
            FAKE.create_agent({"agent_name": name, "agent_description": f"{name} (seeded)",
                               "image_url": f"https://example.com/{name}.png",
                               "wallet_address": b58encode(hashlib.sha256(name.encode()).digest()),
                               "ticker": name[:10].upper()}, token=token or None)
        except ApiError as e:
            p.error(f"--seed-agent {seed}: {e.message}")
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
