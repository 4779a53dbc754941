#!/bin/bash
# compare-ffmpeg.sh — CPU seconds and peak RSS of `agentcast stream --source testsrc` against the
# seed's ffmpeg command (testsrc2 standing in for x11grab), both pushing 1280x720@30 with the
# seed's encode options to the same local nginx-rtmp ingest, alternated A B A B … in one run.
#
#   bench/compare-ffmpeg.sh [SECONDS] [PAIRS]     (defaults: 60 s, 2 pairs)
#
# Needs a built agentcast (AGENTCAST, default build/agentcast), nginx + the rtmp module, ffmpeg and
# GNU time. Everything runs on 127.0.0.1. The full bench (issue 5) supersedes this.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-60}
PAIRS=${2:-2}
AGENTCAST=${AGENTCAST:-$PWD/build/agentcast}
[ -x "$AGENTCAST" ] || { echo "build agentcast first (cmake --build build)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs GNU time (apt-get install time)" >&2; exit 2; }
source tests/integration/lib/ingest.sh
ingest_start >/dev/null
TMP=$(mktemp -d)
ingest_at_exit "rm -rf '$TMP'"

run_agentcast() {
    /usr/bin/time -f "%U %S %M" -o "$TMP/time" "$AGENTCAST" stream --source testsrc \
        --duration "$SECONDS_PER_RUN" --output "$INGEST_RTMP_URL/agentcast$1" 2>"$TMP/log" ||
        { cat "$TMP/log" >&2; exit 1; }
}
run_ffmpeg() {
    /usr/bin/time -f "%U %S %M" -o "$TMP/time" ffmpeg -nostdin -hide_banner -loglevel error \
        -f lavfi -i "testsrc2=size=1280x720:rate=30,realtime" \
        -f lavfi -i anullsrc=channel_layout=stereo:sample_rate=44100 \
        -c:v libx264 -preset veryfast -tune zerolatency \
        -b:v 1500k -maxrate 1500k -bufsize 3000k -pix_fmt yuv420p -g 60 \
        -c:a aac -b:a 128k -t "$SECONDS_PER_RUN" -f flv "$INGEST_RTMP_URL/ffmpeg$1" 2>"$TMP/log" ||
        { cat "$TMP/log" >&2; exit 1; }
}

printf "%-10s %4s %10s %10s\n" tool pair cpu_s peak_rss_mb
declare -A cpu rss
for i in $(seq "$PAIRS"); do
    for tool in agentcast ffmpeg; do
        "run_$tool" "$i"
        read -r user sys maxkb <"$TMP/time"
        c=$(awk -v u="$user" -v s="$sys" 'BEGIN {print u + s}')
        cpu[$tool]="${cpu[$tool]:-} $c"
        rss[$tool]="${rss[$tool]:-} $maxkb"
        printf "%-10s %4d %10.2f %10.1f\n" "$tool" "$i" "$c" "$(awk -v k="$maxkb" 'BEGIN {print k / 1024}')"
    done
done
python3 - "${cpu[agentcast]}" "${cpu[ffmpeg]}" "${rss[agentcast]}" "${rss[ffmpeg]}" <<'PY'
import statistics as st, sys
a_cpu, f_cpu, a_rss, f_rss = ([float(x) for x in s.split()] for s in sys.argv[1:5])
print(f"median CPU s: agentcast {st.median(a_cpu):.2f}  ffmpeg {st.median(f_cpu):.2f}  ratio {st.median(a_cpu)/st.median(f_cpu):.2f}")
print(f"median peak RSS MB: agentcast {st.median(a_rss)/1024:.1f}  ffmpeg {st.median(f_rss)/1024:.1f}  ratio {st.median(a_rss)/st.median(f_rss):.2f}")
PY
