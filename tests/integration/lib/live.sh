# live.sh — helpers for the `agentcast live` tests (source after common.sh and retake_cli.sh):
# the real ingest plus tests/fakes/fake_retake.py, a registered agent, `agentcast live` run in
# the background, and checks over the fake's call log.
#
#   live_setup [fake options]   ingest_start, fake_start (--verified, thumbnails in ./thumbs),
#                               register agent Nova; sets TOKEN (not exported), exports CREDS UID_N
#   live_start ARGS...          run `agentcast live ARGS` in the background (small, cheap video;
#                               --api-base and --credentials added); stdout in ./live.out, stderr
#                               in ./live.err; LIVE_PID, LIVE_T0 (ms)
#   live_wait [TIMEOUT_S]       wait for it to end; LIVE_RC, LIVE_MS (run time)
#   wait_call TIMEOUT PYEXPR    wait until a logged call c satisfies PYEXPR (see fake_calls)
#   live_calls                  the call log, one line per call (for failure messages)
#   newest_key                  the newest key the fake issued to the agent
#   check COND_CMD... / soft MSG  record a failure without stopping; live_done fails with all
#   no_token_in FILE...         the access token appears in none of FILE (only rtk_…last4)

LIVE_FAILS=()
SMALL_VIDEO=(--size 320x240 --fps 10 --bitrate 300k --maxrate 300k --bufsize 600k)
WALLET=11111111111111111111111111111112

live_setup() {
    # Our own HOME and runtime dir: the control socket of `live` (and its lock) lives there.
    export HOME=$TEST_TMP/home XDG_RUNTIME_DIR=$TEST_TMP/run
    mkdir -p "$HOME" "$XDG_RUNTIME_DIR"
    chmod 700 "$XDG_RUNTIME_DIR"
    ingest_start
    fake_start --rtmp-url "$INGEST_RTMP_URL" --stat-url "$INGEST_STAT_URL" --verified \
        --thumb-dir "$TEST_TMP/thumbs" "$@"
    CREDS=$TEST_TMP/home/.config/retake/credentials.json
    ac register --name Nova --description "live tests" --image-url https://example.com/n.png \
        --wallet "$WALLET" --ticker TST --credentials "$CREDS"
    expect_rc "register" 0
    export UID_N CREDS # not TOKEN: hooks must not find it in their environment
    TOKEN=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["access_token"])' \
        "$CREDS")
    UID_N=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["userDbId"])' "$CREDS")
    ctl DELETE log
}

live_start() {
    LIVE_T0=$(now_ms)
    "$AGENTCAST" live --api-base "$API" --credentials "$CREDS" "${SMALL_VIDEO[@]}" "$@" \
        >live.out 2>live.err </dev/null &
    LIVE_PID=$!
    at_exit "kill -KILL $LIVE_PID 2>/dev/null || true"
}

live_wait() {
    local timeout=${1:-30} deadline
    deadline=$(($(now_ms) + timeout * 1000))
    while kill -0 "$LIVE_PID" 2>/dev/null; do
        if [ "$(now_ms)" -ge "$deadline" ]; then
            kill -KILL "$LIVE_PID" 2>/dev/null || true
            wait "$LIVE_PID" 2>/dev/null || true
            live_dump
            fail "agentcast live still running after ${timeout}s"
        fi
        sleep 0.1
    done
    LIVE_RC=0
    wait "$LIVE_PID" || LIVE_RC=$?
    LIVE_MS=$(($(now_ms) - LIVE_T0))
    cat live.out live.err >>all_output
}

wait_call() {
    local timeout=$1 expr=$2 deadline
    deadline=$(($(now_ms) + timeout * 1000))
    while :; do
        [ "$(fake_calls "$expr")" -ge 1 ] && return 0
        [ "$(now_ms)" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}

live_calls() {
    curl -sS --noproxy '*' --max-time 5 "$CTL/log" -o calls.json || return 0
    "$PY" -c 'import json
for c in json.load(open("calls.json"))["calls"]:
    r = c.get("response")
    r = {k: r[k] for k in ("is_live", "key", "error") if isinstance(r, dict) and k in r}
    b = c.get("body")
    b = {k: b[k] for k in ("message",) if isinstance(b, dict) and k in b}
    print("    #%d %7.2fs %s %s%s -> %s%s %s %s" % (c["seq"], c["t"], c["method"], c["route"],
          "?" + c["query"] if c["query"] else "", c["status"],
          " fault=" + c["fault"] if c["fault"] else "", r or "", b or ""))'
}

live_dump() {
    echo "--- fake call log ---" >&2
    live_calls >&2
    echo "--- live stderr ---" >&2
    sed 's/^/    err| /' live.err >&2 2>/dev/null || true
    echo "--- live stdout ---" >&2
    sed 's/^/    out| /' live.out >&2 2>/dev/null || true
}

newest_key() {
    ctl GET state
    "$PY" -c 'import json; print(json.load(open("ctl.json"))["agents"][0]["newest_key"] or "")'
}

soft() {
    LIVE_FAILS+=("$*")
    echo "-- ${TEST_NAME}: FAILED CHECK: $*" >&2
}

# check MSG PYEXPR: PYEXPR over the call log holds (calls = the list, E = environment,
# R(route) = the calls of a route, idx(route) = their positions, first(route), fresh() = the
# comments polls that brought new comments).
check() {
    local msg=$1 expr=$2
    curl -sS --noproxy '*' --max-time 5 "$CTL/log" -o calls.json || fail "no call log"
    "$PY" -c 'import json, os, sys
E = os.environ
calls = json.load(open("calls.json"))["calls"]
R = lambda r: [c for c in calls if c["route"] == r]
idx = lambda r: [i for i, c in enumerate(calls) if c["route"] == r]
first = lambda r: (idx(r) or [10**9])[0]
def fresh():  # the comments polls that brought ids not seen in an earlier answer
    seen, out = set(), []
    for c in R("agent/stream/comments"):
        ids = {x["_id"] for x in (c.get("response") or {}).get("comments", [])} \
            if isinstance(c.get("response"), dict) else set()
        if ids - seen:
            out.append(c)
        seen |= ids
    return out
sys.exit(0 if eval("(" + sys.argv[1] + "\n)") else 1)' "$expr" || soft "$msg"
}

no_token_in() {
    local f
    for f in "$@"; do
        [ -e "$f" ] || continue
        if grep -qF -- "$TOKEN" "$f"; then
            soft "the access token appears in $f"
        fi
        # Only the redacted form rtk_…XXXX may show.
        if grep -oE 'rtk_[^ "…]{1,}' "$f" | grep -q .; then
            soft "token-like text in $f: $(grep -oE 'rtk_[^ "…]{1,}' "$f" | head -3 | tr '\n' ' ')"
        fi
    done
}

live_done() {
    if [ ${#LIVE_FAILS[@]} -gt 0 ]; then
        live_dump
        printf 'FAILED CHECK: %s\n' "${LIVE_FAILS[@]}" >&2
        fail "${#LIVE_FAILS[@]} check(s) failed"
    fi
    note "ok ($(($(now_ms) - TEST_T0)) ms)"
}
TEST_T0=$(now_ms)
