# ingest.sh — a local RTMP/RTMPS ingest for integration tests (source it from bash).
#
# Runs nginx with libnginx-mod-rtmp in the foreground with its own prefix in a temp dir, on free
# loopback ports it picks itself:
#   rtmp      application "live" (live on; record off), any stream key, one publisher per key
#   http      /stat: the rtmp_stat XML (what tests assert on)
#   rtmps     an nginx stream{} TLS terminator proxying to the rtmp port, with a certificate for
#             "localhost" signed by a test CA made with openssl at start. Other certificates
#             (for another host name, or signed by an unknown CA) exercise verification.
#
# Functions
#   ingest_start [--tls-cert good|wrong-host|unknown-ca]   start nginx; exports the variables below
#   ingest_stop                    stop (SIGTERM: connections closed at once; SIGKILL after 5 s)
#   ingest_kill                    SIGKILL, as a crash would
#   ingest_restart [--tls-cert X]  start again on the same ports (after stop/kill, or running)
#   ingest_stall / ingest_resume   SIGSTOP / SIGCONT: the server stops answering, sockets stay
#   ingest_wait_publisher KEY [TIMEOUT_S]      wait until KEY is publishing on /stat (default 10)
#   ingest_wait_no_publisher KEY [TIMEOUT_S]   wait until KEY no longer publishes
#   ingest_stream_stat KEY         print KEY's /stat entry as key=value lines (publishing=1,
#                                  bytes_in, bw_in, time_ms, nclients, video_codec, width, height,
#                                  frame_rate, video_profile, audio_codec, sample_rate, channels)
#   ingest_silent_start            a TCP server on 127.0.0.1 that accepts and never answers;
#                                  exports SILENT_PORT, SILENT_PID
#   ingest_at_exit CMD...          run CMD at exit, before nginx is stopped, last registered
#                                  first (use this instead of trap … EXIT); CMD may read $rc,
#                                  the test's exit status
#   ingest_fail MSG                print "FAIL: MSG" (and the nginx error log tail), exit 1
#
# Exported after ingest_start
#   INGEST_RTMP_URL   rtmp://127.0.0.1:PORT/live        (append /KEY)
#   INGEST_RTMPS_URL  rtmps://localhost:PORT/live       (append /KEY)
#   INGEST_CA_FILE    the test CA (PEM) that signed the "good" and "wrong-host" certificates
#   INGEST_STAT_URL   http://127.0.0.1:PORT/stat
#   INGEST_PID        nginx's pid
#   INGEST_DIR        the temp dir (nginx prefix, logs, certs/); removed at exit unless
#                     INGEST_KEEP=1
#   INGEST_RTMP_PORT INGEST_RTMPS_PORT INGEST_HTTP_PORT INGEST_CERT_DIR INGEST_ERROR_LOG
#
#   INGEST_CERT_DIR holds ca.crt and {good,wrong-host,unknown-ca}.{crt,key}: good is for
#   localhost, wrong-host for wrong.example (both signed by ca.crt), unknown-ca for localhost
#   signed by a CA that is not in ca.crt.
#
# An EXIT trap (installed when this file is sourced) always stops nginx and the silent server,
# also when they are SIGSTOPped, so no test leaves a server running; a small guard process also
# kills them within a second if the test shell itself is SIGKILLed (e.g. a ctest timeout).
# Safe under `set -euo pipefail`.

INGEST_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
INGEST_NGINX=${INGEST_NGINX:-/usr/sbin/nginx}
INGEST_MODULES=${INGEST_MODULES:-/usr/lib/nginx/modules}
INGEST_DIR=
INGEST_PID=
SILENT_PID=
INGEST__EXIT_HOOKS=()

ingest_fail() {
    echo "FAIL: $*" >&2
    if [[ -n ${INGEST_ERROR_LOG:-} && -s ${INGEST_ERROR_LOG:-} ]]; then
        echo "--- nginx error log (last 20 lines) ---" >&2
        tail -n 20 "$INGEST_ERROR_LOG" >&2
    fi
    exit 1
}

ingest_at_exit() {
    INGEST__EXIT_HOOKS=("$*" "${INGEST__EXIT_HOOKS[@]}")
}

ingest__exit() {
    local rc=$?
    local hook
    for hook in "${INGEST__EXIT_HOOKS[@]}"; do
        eval "$hook" || true
    done
    ingest__kill_pid "$INGEST_PID"
    INGEST_PID=
    ingest__kill_pid "$SILENT_PID"
    SILENT_PID=
    if [[ -n $INGEST_DIR && -d $INGEST_DIR && ${INGEST_KEEP:-0} != 1 ]]; then
        rm -rf "$INGEST_DIR"
    elif [[ -n $INGEST_DIR ]]; then
        echo "ingest: kept $INGEST_DIR" >&2
    fi
    exit "$rc"
}
trap ingest__exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Stops a process for sure: resumed first in case it was SIGSTOPped.
ingest__kill_pid() {
    local pid=$1
    [[ -n $pid ]] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    kill -CONT "$pid" 2>/dev/null || true
    kill -TERM "$pid" 2>/dev/null || true
    local _i
    for _i in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    return 0
}

# If the test shell dies without running its EXIT trap (SIGKILL, e.g. a ctest timeout), kills
# the server pid anyway and removes the temp dir DIR (if given). Polls once a second; ends with
# either process.
ingest__guard() {
    local shell_pid=$$ server_pid=$1 dir=${2:-}
    (
        trap '' INT TERM HUP
        while kill -0 "$shell_pid" 2>/dev/null && kill -0 "$server_pid" 2>/dev/null; do
            sleep 1
        done
        kill -0 "$shell_pid" 2>/dev/null && exit 0
        kill -CONT "$server_pid"
        kill -KILL "$server_pid"
        [[ -z $dir || ${INGEST_KEEP:-0} == 1 ]] || rm -rf "$dir"
    ) </dev/null >/dev/null 2>&1 &
}

# Prints N distinct loopback TCP ports that are free right now.
ingest__free_ports() {
    python3 - "$1" <<'EOF'
import socket, sys
socks, ports = [], []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
    ports.append(s.getsockname()[1])
for s in socks:
    s.close()
print(" ".join(map(str, ports)))
EOF
}

# SO_REUSEADDR as nginx sets it: connections in TIME_WAIT do not make a port busy.
ingest__port_is_free() {
    python3 - "$1" 2>/dev/null <<'EOF'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
EOF
}

# Certificates in $INGEST_CERT_DIR: ca.crt (the test CA), good.{crt,key} for localhost,
# wrong-host.{crt,key} for wrong.example (same CA), unknown-ca.{crt,key} for localhost signed by
# a CA nobody trusts. EC P-256 keys: quick to make, and mbedTLS 2.28 handles them.
ingest__make_certs() {
    local d=$INGEST_CERT_DIR
    mkdir -p "$d" || return 1
    (
        set -e
        cd "$d"
        mk_ca() { # name subject
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
                -keyout "$1.key" -out "$1.crt" -days 2 -subj "$2" \
                -addext "basicConstraints=critical,CA:TRUE" \
                -addext "keyUsage=critical,keyCertSign,cRLSign"
        }
        mk_leaf() { # name cn san ca
            openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
                -keyout "$1.key" -out "$1.csr" -subj "/CN=$2"
            printf '%s\n' "basicConstraints=CA:FALSE" \
                "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" \
                "subjectAltName=$3" >"$1.ext"
            openssl x509 -req -in "$1.csr" -CA "$4.crt" -CAkey "$4.key" -CAcreateserial \
                -out "$1.crt" -days 2 -extfile "$1.ext"
        }
        mk_ca ca "/CN=agentcast test CA"
        mk_ca rogue-ca "/CN=agentcast unknown CA"
        mk_leaf good localhost "DNS:localhost" ca
        mk_leaf wrong-host wrong.example "DNS:wrong.example" ca
        mk_leaf unknown-ca localhost "DNS:localhost" rogue-ca
    ) >"$INGEST_DIR/logs/openssl.log" 2>&1 || {
        cat "$INGEST_DIR/logs/openssl.log" >&2
        return 1
    }
}

ingest__write_conf() {
    local cert=$1
    cat >"$INGEST_DIR/nginx.conf" <<EOF
load_module $INGEST_MODULES/ngx_rtmp_module.so;
load_module $INGEST_MODULES/ngx_stream_module.so;
daemon off;
master_process off;
worker_processes 1;
pid $INGEST_DIR/nginx.pid;
error_log $INGEST_ERROR_LOG info;
events { worker_connections 256; }
rtmp {
    server {
        listen 127.0.0.1:$INGEST_RTMP_PORT;
        chunk_size 4096;
        application live {
            live on;
            record off;
        }
    }
}
http {
    access_log off;
    client_body_temp_path $INGEST_DIR/tmp/body;
    proxy_temp_path $INGEST_DIR/tmp/proxy;
    fastcgi_temp_path $INGEST_DIR/tmp/fastcgi;
    uwsgi_temp_path $INGEST_DIR/tmp/uwsgi;
    scgi_temp_path $INGEST_DIR/tmp/scgi;
    server {
        listen 127.0.0.1:$INGEST_HTTP_PORT;
        location /stat { rtmp_stat all; }
    }
}
stream {
    server {
        listen 127.0.0.1:$INGEST_RTMPS_PORT ssl;
        ssl_certificate $INGEST_CERT_DIR/$cert.crt;
        ssl_certificate_key $INGEST_CERT_DIR/$cert.key;
        proxy_pass 127.0.0.1:$INGEST_RTMP_PORT;
    }
}
EOF
}

ingest__parse_cert_arg() {
    INGEST__CERT=${INGEST__CERT:-good}
    while (($#)); do
        case $1 in
        --tls-cert)
            INGEST__CERT=$2
            shift 2
            ;;
        --tls-cert=*)
            INGEST__CERT=${1#*=}
            shift
            ;;
        *)
            echo "ingest: unknown option $1" >&2
            return 2
            ;;
        esac
    done
    case $INGEST__CERT in
    good | wrong-host | unknown-ca) ;;
    *)
        echo "ingest: --tls-cert must be good, wrong-host or unknown-ca" >&2
        return 2
        ;;
    esac
}

# Waits until nginx answers on the stat page and accepts on the rtmp and rtmps ports.
ingest__wait_ready() {
    local _i
    for _i in $(seq 100); do
        if ! kill -0 "$INGEST_PID" 2>/dev/null; then
            wait "$INGEST_PID" 2>/dev/null || true
            INGEST_PID=
            return 1
        fi
        if curl -sf -o /dev/null --max-time 1 "$INGEST_STAT_URL" &&
            (exec 3<>"/dev/tcp/127.0.0.1/$INGEST_RTMP_PORT") 2>/dev/null &&
            (exec 3<>"/dev/tcp/127.0.0.1/$INGEST_RTMPS_PORT") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

ingest__launch() {
    ingest__write_conf "$INGEST__CERT" || return 1
    : >"$INGEST_ERROR_LOG"
    "$INGEST_NGINX" -p "$INGEST_DIR" -c "$INGEST_DIR/nginx.conf" -e "$INGEST_ERROR_LOG" \
        >>"$INGEST_DIR/logs/stdout.log" 2>&1 &
    INGEST_PID=$!
    export INGEST_PID
    ingest__guard "$INGEST_PID" "$INGEST_DIR"
    ingest__wait_ready
}

ingest_start() {
    ingest__parse_cert_arg "$@" || return 2
    [[ -x $INGEST_NGINX ]] || ingest_fail "nginx not found at $INGEST_NGINX"
    [[ -f $INGEST_MODULES/ngx_rtmp_module.so ]] ||
        ingest_fail "ngx_rtmp_module.so not in $INGEST_MODULES (install libnginx-mod-rtmp)"
    if [[ -n $INGEST_PID ]]; then
        echo "ingest: already running (pid $INGEST_PID)" >&2
        return 1
    fi
    INGEST_DIR=$(mktemp -d /tmp/agentcast-ingest.XXXXXX) || ingest_fail "mktemp failed"
    INGEST_CERT_DIR=$INGEST_DIR/certs
    INGEST_ERROR_LOG=$INGEST_DIR/logs/error.log
    mkdir -p "$INGEST_DIR/logs" "$INGEST_DIR/tmp"
    ingest__make_certs || ingest_fail "could not make test certificates"
    local _attempt
    for _attempt in 1 2 3; do
        read -r INGEST_RTMP_PORT INGEST_RTMPS_PORT INGEST_HTTP_PORT < <(ingest__free_ports 3)
        INGEST_RTMP_URL=rtmp://127.0.0.1:$INGEST_RTMP_PORT/live
        INGEST_RTMPS_URL=rtmps://localhost:$INGEST_RTMPS_PORT/live
        INGEST_STAT_URL=http://127.0.0.1:$INGEST_HTTP_PORT/stat
        INGEST_CA_FILE=$INGEST_CERT_DIR/ca.crt
        export INGEST_DIR INGEST_CERT_DIR INGEST_ERROR_LOG INGEST_RTMP_PORT INGEST_RTMPS_PORT \
            INGEST_HTTP_PORT INGEST_RTMP_URL INGEST_RTMPS_URL INGEST_STAT_URL INGEST_CA_FILE
        if ingest__launch; then
            return 0
        fi
        # Another process may have taken a port between our check and nginx's bind: retry.
        ingest__kill_pid "$INGEST_PID"
        INGEST_PID=
        grep -q "Address already in use" "$INGEST_ERROR_LOG" 2>/dev/null || break
    done
    ingest_fail "nginx did not start (ports $INGEST_RTMP_PORT/$INGEST_RTMPS_PORT/$INGEST_HTTP_PORT)"
}

# SIGTERM is nginx's fast shutdown: it closes every connection at once (SIGQUIT would wait for
# live publishers to leave, which they never do).
ingest_stop() {
    [[ -n $INGEST_PID ]] || return 0
    ingest__kill_pid "$INGEST_PID"
    INGEST_PID=
}

ingest_kill() {
    [[ -n $INGEST_PID ]] || return 0
    kill -KILL "$INGEST_PID" 2>/dev/null || true
    wait "$INGEST_PID" 2>/dev/null || true
    INGEST_PID=
}

ingest_restart() {
    [[ -n $INGEST_DIR ]] || ingest_fail "ingest_restart before ingest_start"
    ingest__parse_cert_arg "$@" || return 2
    ingest_stop
    local p
    for p in "$INGEST_RTMP_PORT" "$INGEST_RTMPS_PORT" "$INGEST_HTTP_PORT"; do
        local _i
        for _i in $(seq 50); do
            ingest__port_is_free "$p" && break
            sleep 0.1
        done
    done
    ingest__launch || ingest_fail "nginx did not restart on the same ports"
}

ingest_stall() {
    [[ -n $INGEST_PID ]] || ingest_fail "ingest_stall: nginx is not running"
    kill -STOP "$INGEST_PID"
}

ingest_resume() {
    [[ -n $INGEST_PID ]] || ingest_fail "ingest_resume: nginx is not running"
    kill -CONT "$INGEST_PID"
}

# The stat XML reduced to KEY's stream, as key=value lines; nothing if KEY is not on the page.
ingest_stream_stat() {
    local xml
    xml=$(curl -sf --max-time 2 "$INGEST_STAT_URL") || return 1
    python3 - "$1" "$xml" <<'EOF'
import sys
import xml.etree.ElementTree as ET
key, xml = sys.argv[1], sys.argv[2]
root = ET.fromstring(xml)
for app in root.iter("application"):
    if app.findtext("name") != "live":
        continue
    for st in app.iter("stream"):
        if st.findtext("name") != key:
            continue
        out = {
            "publishing": "1" if st.find("publishing") is not None else "0",
            "bytes_in": st.findtext("bytes_in", ""),
            "bw_in": st.findtext("bw_in", ""),
            "time_ms": st.findtext("time", ""),
            "nclients": st.findtext("nclients", ""),
        }
        video, audio = st.find("meta/video"), st.find("meta/audio")
        if video is not None:
            out.update(video_codec=video.findtext("codec", ""), width=video.findtext("width", ""),
                       height=video.findtext("height", ""),
                       frame_rate=video.findtext("frame_rate", ""),
                       video_profile=video.findtext("profile", ""))
        if audio is not None:
            out.update(audio_codec=audio.findtext("codec", ""),
                       sample_rate=audio.findtext("sample_rate", ""),
                       channels=audio.findtext("channels", ""))
        for k, v in out.items():
            print(f"{k}={v}")
        sys.exit(0)
EOF
}

ingest_wait_publisher() {
    local key=$1 timeout=${2:-10}
    local deadline=$((SECONDS + timeout))
    while ((SECONDS < deadline)); do
        if ingest_stream_stat "$key" 2>/dev/null | grep -qx 'publishing=1'; then
            return 0
        fi
        sleep 0.2
    done
    echo "ingest: no publisher on key $key after ${timeout}s" >&2
    return 1
}

# Waits until a player is attached to KEY (nginx-rtmp lists a waiting player on the stat page
# before any publisher): a test that starts its player first then receives the whole stream from
# its first keyframe, however slowly the player started.
ingest_wait_player() {
    local key=$1 timeout=${2:-10}
    local deadline=$((SECONDS + timeout))
    while ((SECONDS < deadline)); do
        if ingest_stream_stat "$key" 2>/dev/null | grep -q '^nclients=[1-9]'; then
            return 0
        fi
        sleep 0.1
    done
    echo "ingest: no player on key $key after ${timeout}s" >&2
    return 1
}

ingest_wait_no_publisher() {
    local key=$1 timeout=${2:-10}
    local deadline=$((SECONDS + timeout))
    while ((SECONDS < deadline)); do
        if ! ingest_stream_stat "$key" 2>/dev/null | grep -qx 'publishing=1'; then
            return 0
        fi
        sleep 0.2
    done
    echo "ingest: key $key still publishing after ${timeout}s" >&2
    return 1
}

ingest_silent_start() {
    [[ -z $SILENT_PID ]] || return 0
    local portfile
    portfile=$(mktemp /tmp/agentcast-silent.XXXXXX)
    python3 "$INGEST_LIB_DIR/silent_server.py" --port-file "$portfile" >/dev/null &
    SILENT_PID=$!
    ingest__guard "$SILENT_PID"
    local _i
    for _i in $(seq 50); do
        [[ -s $portfile ]] && break
        sleep 0.1
    done
    SILENT_PORT=$(cat "$portfile")
    rm -f "$portfile"
    [[ -n $SILENT_PORT ]] || ingest_fail "silent server did not start"
    export SILENT_PORT SILENT_PID
}
