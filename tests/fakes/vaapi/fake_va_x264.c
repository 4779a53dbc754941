/*
 * fake_va_x264 — the "hardware" of the fake driver: x264 encodes the surface's NV12 pixels with
 * the profile of the config and the rate control, frame rate and IDR placement the caller gave,
 * and writes one Annex B access unit (x264's own SPS/PPS in front of each IDR) into the coded
 * buffer. Test-only (fake_va.h).
 */
#include "fake_va.h"

#include <stdio.h>
#include <string.h>

#include <x264.h>

static const char *fake_x264_profile(VAProfile p)
{
    return p == VAProfileH264High ? "high" : p == VAProfileH264Main ? "main" : "baseline";
}

static VAStatus fake_x264_open(struct fake_driver *d, struct fake_context *c,
                               const struct fake_config *cfg)
{
    x264_param_t p;
    if (x264_param_default_preset(&p, "veryfast", "zerolatency") < 0)
        return fake_error(d, 0, "x264: no veryfast preset");
    p.i_log_level = X264_LOG_ERROR;
    p.i_threads = 1;
    p.i_width = c->width;
    p.i_height = c->height;
    p.i_csp = X264_CSP_NV12;
    unsigned num = c->fr.framerate & 0xffff, den = c->fr.framerate >> 16;
    p.i_fps_num = num;
    p.i_fps_den = den ? den : 1;
    p.i_timebase_num = p.i_fps_den;
    p.i_timebase_den = p.i_fps_num;
    p.b_vfr_input = 0;
    /* IDRs come exactly where the caller's picture parameters put them. */
    p.i_keyint_max = X264_KEYINT_MAX_INFINITE;
    p.i_scenecut_threshold = 0;
    p.i_bframe = 0;
    p.i_frame_reference = 1;
    p.rc.i_rc_method = X264_RC_ABR;
    p.rc.i_bitrate = (int)((uint64_t)c->rc.bits_per_second * c->rc.target_percentage / 100 / 1000);
    p.rc.i_vbv_max_bitrate = (int)(c->rc.bits_per_second / 1000);
    p.rc.i_vbv_buffer_size =
        c->have_hrd ? (int)(c->hrd.buffer_size / 1000) : p.rc.i_vbv_max_bitrate;
    p.rc.b_filler = cfg->rc_mode == VA_RC_CBR;
    p.b_repeat_headers = 1;
    p.b_annexb = 1;
    p.b_aud = 0;
    if (x264_param_apply_profile(&p, fake_x264_profile(cfg->profile)) < 0)
        return fake_error(d, 0, "x264: profile %s refused", fake_x264_profile(cfg->profile));
    c->x264 = x264_encoder_open(&p);
    if (!c->x264)
        return fake_error(d, 0, "x264: encoder_open refused %dx%d %u/%u fps %d kbit/s", c->width,
                          c->height, num, den, p.rc.i_bitrate);
    return VA_STATUS_SUCCESS;
}

VAStatus fake_x264_encode(struct fake_driver *d, struct fake_context *c, struct fake_surface *s,
                          struct fake_buffer *coded)
{
    struct fake_config *cfg = fake_obj_get(d, c->config, FK_CONFIG, "encode (config)");
    if (!cfg)
        return VA_STATUS_ERROR_INVALID_CONFIG;
    if (!c->x264) {
        VAStatus st = fake_x264_open(d, c, cfg);
        if (st != VA_STATUS_SUCCESS)
            return st;
    }
    bool idr = c->cur.pic.pic_fields.bits.idr_pic_flag;
    x264_picture_t in, out;
    x264_picture_init(&in);
    in.img.i_csp = X264_CSP_NV12;
    in.img.i_plane = 2;
    in.img.plane[0] = s->data;
    in.img.plane[1] = s->data + s->uv_offset;
    in.img.i_stride[0] = in.img.i_stride[1] = (int)s->pitch;
    in.i_pts = (int64_t)c->pictures;
    in.i_type = idr ? X264_TYPE_IDR : X264_TYPE_P;
    x264_nal_t *nals;
    int n;
    int bytes = x264_encoder_encode(c->x264, &nals, &n, &in, &out);
    if (bytes <= 0)
        return fake_error(d, VA_STATUS_ERROR_ENCODING_ERROR,
                          "x264 returned %d bytes for picture %llu", bytes,
                          (unsigned long long)c->pictures);
    if ((uint64_t)bytes > (uint64_t)coded->size * coded->num_elements)
        return fake_error(d, VA_STATUS_ERROR_NOT_ENOUGH_BUFFER,
                          "coded buffer %#x of %u bytes is too small for %d bytes", coded->o.id,
                          coded->size, bytes);
    memcpy(coded->data, nals[0].p_payload, (size_t)bytes);
    coded->coded_used = (uint32_t)bytes;
    d->stats.frames_encoded++;
    if (idr)
        d->stats.idr_frames++;
    return VA_STATUS_SUCCESS;
}
