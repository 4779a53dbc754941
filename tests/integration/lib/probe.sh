# ffprobe helpers (sourced after common.sh): what a recording or a pulled-back stream contains.

# probe_stream FILE SELECTOR ENTRIES: e.g. probe_stream x.flv v:0 codec_name,profile,width
# prints key=value lines.
probe_stream() {
    ffprobe -v error -select_streams "$2" -show_entries "stream=$3" -of default=noprint_wrappers=1 "$1"
}

# probe_field FILE SELECTOR FIELD: one value.
probe_field() {
    probe_stream "$1" "$2" "$3" | sed -n "s/^$3=//p" | head -1
}

# Times (seconds) of the video keyframes, one per line.
probe_keyframe_times() {
    ffprobe -v error -select_streams v:0 -skip_frame nokey -show_entries frame=pts_time \
        -of csv=p=0 "$1"
}

# Number of frames a full decode yields (and fails on any decode error).
decoded_frames() {
    local out
    out=$(ffmpeg -nostdin -v error -i "$1" -map 0:v:0 -f null - -progress pipe:1 2>"$1.decode-errors") ||
        { cat "$1.decode-errors" >&2; return 1; }
    if [ -s "$1.decode-errors" ]; then cat "$1.decode-errors" >&2; return 1; fi
    echo "$out" | sed -n 's/^frame=//p' | tail -1
}

# check_stream_properties FILE: the seed's format — h264 High 1280x720 30 fps yuv420p,
# keyframes 2 s apart, AAC stereo 44100.
check_stream_properties() {
    local f=$1
    expect_eq "video codec" h264 "$(probe_field "$f" v:0 codec_name)"
    expect_eq "profile" High "$(probe_field "$f" v:0 profile)"
    expect_eq "width" 1280 "$(probe_field "$f" v:0 width)"
    expect_eq "height" 720 "$(probe_field "$f" v:0 height)"
    expect_eq "pixel format" yuv420p "$(probe_field "$f" v:0 pix_fmt)"
    expect_eq "frame rate" 30/1 "$(probe_field "$f" v:0 r_frame_rate)"
    expect_eq "audio codec" aac "$(probe_field "$f" a:0 codec_name)"
    expect_eq "audio profile" LC "$(probe_field "$f" a:0 profile)"
    expect_eq "audio channels" 2 "$(probe_field "$f" a:0 channels)"
    expect_eq "audio sample rate" 44100 "$(probe_field "$f" a:0 sample_rate)"
    local prev="" gaps=0 t
    while read -r t; do
        if [ -n "$prev" ]; then
            # keyframes exactly 2 s apart (±1 frame of timestamp rounding)
            python3 -c "import sys; d=$t-$prev; sys.exit(0 if abs(d-2.0) <= 0.034 else 1)" ||
                fail "keyframes at $prev and $t are not 2 s apart"
            gaps=$((gaps + 1))
        fi
        prev=$t
    done < <(probe_keyframe_times "$f")
    expect_ge "keyframe intervals checked" 3 "$gaps"
}

# Largest gap (ms) between consecutive video packets' timestamps: a stream that stalled or
# restarted shows it here even when every frame decodes.
max_video_gap_ms() {
    ffprobe -v error -select_streams v:0 -show_entries packet=pts_time -of csv=p=0 "$1" |
        python3 -c '
import sys
# A packet carrying new parameter sets (an encoder switch) adds a side-data column: keep field 1.
ts = [float(f) for f in (l.split(",")[0].strip() for l in sys.stdin) if f and f != "N/A"]
print(int(round(max((b - a for a, b in zip(ts, ts[1:])), default=0) * 1000)))'
}
