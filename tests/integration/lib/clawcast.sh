# clawcast.sh — helpers for the `agentcast clawcast` tests (source after common.sh): start
# tests/fakes/fake_clawcast.py, run agentcast against it, read the fake's call log and state.
# Names are cc_* / CC_* so that a test may also source retake_cli.sh (the live mirror test).
#
#   cc_fake_start [fake options]  start the fake; exports CC_PORT CC_BASE CC_CTL CC_STATE PY
#   cc ARGS...             run `agentcast clawcast ARGS --clawcast-base $CC_BASE --state
#                          $CC_STATE`; stdout in ./out, stderr in ./err, exit status in RC; every
#                          output is also appended to ./all_output (checked for secrets)
#   expect_rc WHAT CODE    RC is CODE (prints out/err otherwise)
#   cc_ctl METHOD PATH [JSON]   a /__fake/ control call; its body in ./ctl.json
#   cc_state PYEXPR        PYEXPR holds for d = /__fake/state (slot(name) = the newest slot of
#                          that name, slots(name) = all of them, E = the environment)
#   cc_calls [PYEXPR]      the number of logged API calls c for which PYEXPR holds
#   cc_no_calls WHAT       nothing was sent since the log was cleared (cc_ctl DELETE log)
#   cc_advance SECONDS     move the fake clock (frozen or not)

FAKE_CC_PY=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../fakes" && pwd)/fake_clawcast.py
PY=$(python3 -c 'import sys; print(sys.executable)')

cc_fake_start() {
    "$PY" "$FAKE_CC_PY" --parent-pid $$ "$@" >"$TEST_TMP/cc_fake.out" 2>"$TEST_TMP/cc_fake.err" &
    CC_FAKE_PID=$!
    at_exit "kill $CC_FAKE_PID 2>/dev/null; wait $CC_FAKE_PID 2>/dev/null
        [ \"\$rc\" = 0 ] || tail -n 30 '$TEST_TMP/cc_fake.err' >&2"
    wait_for 5 grep -q '^READY port=[0-9]*$' "$TEST_TMP/cc_fake.out" || fail "fake printed no READY"
    export CC_PORT CC_BASE CC_CTL CC_STATE
    CC_PORT=$(sed -n 's/^READY port=//p' "$TEST_TMP/cc_fake.out")
    CC_BASE=http://127.0.0.1:$CC_PORT
    CC_CTL=http://127.0.0.1:$CC_PORT/__fake
    # The slot file lives in a 0700 directory of the test's own (state.h refuses others).
    mkdir -p "$TEST_TMP/state"
    chmod 700 "$TEST_TMP/state"
    CC_STATE=$TEST_TMP/state/clawcast-slot.json
}

cc() {
    RC=0
    "$AGENTCAST" clawcast "$@" --clawcast-base "$CC_BASE" --state "$CC_STATE" >out 2>err \
        </dev/null || RC=$?
    cat out err >>all_output
}

expect_rc() {
    [ "$RC" = "$2" ] || {
        sed 's/^/    out| /' out >&2
        sed 's/^/    err| /' err >&2
        fail "$1: exit status $RC, expected $2"
    }
}

cc_ctl() {
    local data=()
    [ $# -lt 3 ] || data=(-H 'Content-Type: application/json' --data "$3")
    curl -sS --noproxy '*' --max-time 10 -X "$1" "${data[@]}" "$CC_CTL/$2" -o ctl.json ||
        fail "control call $1 $2"
}

cc_advance() { cc_ctl POST advance "{\"seconds\": $1}"; }

cc_state() {
    cc_ctl GET state
    "$PY" -c 'import json, os, sys
d, E = json.load(open("ctl.json")), os.environ
slots = lambda n: [s for s in d["slots"] if s["name"] == n]
slot = lambda n: slots(n)[-1]
sys.exit(0 if eval("(" + sys.argv[1] + "\n)") else 1)' "$1" || {
        "$PY" -c 'import json; d = json.load(open("ctl.json"))
for s in d["slots"]:
    print("    slot", s["name"], s["status"], s["end_reason"], "frames=%s" % s["frames"],
          "screen=%r" % (s.get("screen") or "")[-120:])' >&2
        fail "state: ($1) is false"
    }
}

cc_calls() {
    cc_ctl GET log
    "$PY" -c 'import json, os, sys
E = os.environ
calls = json.load(open("ctl.json"))["calls"]
print(sum(1 for c in calls if eval("(" + sys.argv[1] + "\n)")))' "${1:-True}"
}

cc_no_calls() {
    local n
    n=$(cc_calls)
    [ "$n" = 0 ] || { cat ctl.json >&2; fail "$1: $n call(s) sent, expected none"; }
}

# cc_jwt: the slot JWT in the slot file (to check it never shows).
cc_jwt() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["slot_jwt"])' "$CC_STATE"; }
