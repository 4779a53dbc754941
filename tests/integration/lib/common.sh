# Shared helpers for integration tests (sourced). Each test runs as `bash file.test` under ctest
# with AGENTCAST (the binary), AGENTCAST_BUILD_DIR and AGENTCAST_SOURCE_DIR set.
set -euo pipefail

: "${AGENTCAST:?run through ctest: AGENTCAST is the agentcast binary}"
TEST_NAME=$(basename "$0" .test)
TEST_TMP=$(mktemp -d "/tmp/agentcast-${TEST_NAME}.XXXXXX")
# ingest.sh owns the EXIT trap (it stops any nginx it started); our cleanup runs as its hook.
source "$(dirname "${BASH_SOURCE[0]}")/ingest.sh"
at_exit() { ingest_at_exit "$1"; }
# Runs inside ingest__exit, whose local $rc is the test's exit status: keep files on failure.
_common_cleanup() {
    if [ "${rc:-1}" -eq 0 ]; then rm -rf "$TEST_TMP"; else echo "(test files kept in $TEST_TMP)" >&2; fi
}
at_exit _common_cleanup

fail() { echo "FAIL ${TEST_NAME}: $*" >&2; exit 1; }
note() { echo "-- ${TEST_NAME}: $*" >&2; }

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() { [ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"; }
# expect_ge WHAT MIN ACTUAL (integers)
expect_ge() { [ "$3" -ge "$2" ] || fail "$1: expected at least $2, got $3"; }
# expect_le WHAT MAX ACTUAL (integers)
expect_le() { [ "$3" -le "$2" ] || fail "$1: expected at most $2, got $3"; }
# expect_contains WHAT NEEDLE FILE
expect_contains() { grep -qF -- "$2" "$3" || { sed 's/^/    | /' "$3" >&2; fail "$1: '$2' not found"; }; }

# Milliseconds of wall-clock time (bash's own clock: no process per call).
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

# wait_for SECONDS COMMAND...: polls COMMAND every 0.1 s until it succeeds or time runs out.
wait_for() {
    local deadline=$(( $(now_ms) + $1 * 1000 )); shift
    until "$@" >/dev/null 2>&1; do
        [ "$(now_ms)" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

# Peak resident set (kB) of a running process.
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
