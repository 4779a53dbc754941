# retake_cli.sh — helpers for the tests of the one-shot retake.tv commands (source after
# common.sh): start tests/fakes/fake_retake.py, run agentcast against it, read the fake's call
# log and state.
#
#   fake_start [fake options]   start the fake (no ingest needed); exports PORT API CTL PY
#   ac ARGS...                  run agentcast ARGS --api-base $API; stdout in ./out, stderr in
#                               ./err, exit status in RC; every output is also appended to
#                               ./all_output (checked for the token at the end)
#   expect_rc WHAT CODE         RC is CODE (prints out/err otherwise)
#   ctl METHOD PATH [JSON]      a /__fake/ control call; its body in ./ctl.json
#   fake_calls [PYEXPR]         the number of logged API calls c for which PYEXPR holds
#   pycheck FILE PYEXPR         PYEXPR holds for d = JSON of FILE (E = the environment)

FAKE_PY=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../fakes" && pwd)/fake_retake.py
PY=$(python3 -c 'import sys; print(sys.executable)')

fake_start() {
    "$PY" "$FAKE_PY" --parent-pid $$ "$@" >"$TEST_TMP/fake.out" 2>"$TEST_TMP/fake.err" &
    FAKE_PID=$!
    at_exit "kill $FAKE_PID 2>/dev/null; wait $FAKE_PID 2>/dev/null
        [ \"\$rc\" = 0 ] || tail -n 20 '$TEST_TMP/fake.err' >&2"
    wait_for 5 grep -q '^READY port=[0-9]*$' "$TEST_TMP/fake.out" || fail "fake printed no READY"
    export PORT API CTL
    PORT=$(sed -n 's/^READY port=//p' "$TEST_TMP/fake.out")
    API=http://127.0.0.1:$PORT/api/v1
    CTL=http://127.0.0.1:$PORT/__fake
}

ac() {
    RC=0
    "$AGENTCAST" "$@" --api-base "$API" >out 2>err </dev/null || RC=$?
    cat out err >>all_output
}

expect_rc() {
    [ "$RC" = "$2" ] || {
        sed 's/^/    out| /' out >&2
        sed 's/^/    err| /' err >&2
        fail "$1: exit status $RC, expected $2"
    }
}

ctl() {
    local data=()
    [ $# -lt 3 ] || data=(-H 'Content-Type: application/json' --data "$3")
    curl -sS --noproxy '*' --max-time 10 -X "$1" "${data[@]}" "$CTL/$2" -o ctl.json ||
        fail "control call $1 $2"
}

pycheck() {
    "$PY" -c 'import json, os, sys
d, E = json.load(open(sys.argv[1])), os.environ
sys.exit(0 if eval("(" + sys.argv[2] + "\n)") else 1)' "$1" "$2"
}

fake_calls() {
    ctl GET log
    "$PY" -c 'import json, os, sys
E = os.environ
calls = json.load(open("ctl.json"))["calls"]
print(sum(1 for c in calls if eval("(" + sys.argv[1] + "\n)")))' "${1:-True}"
}

# no_calls WHAT: the command sent nothing (the log is cleared before each use).
no_calls() {
    local n
    n=$(fake_calls)
    [ "$n" = 0 ] || { cat ctl.json >&2; fail "$1: $n call(s) sent, expected none"; }
}
