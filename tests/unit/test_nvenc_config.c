/*
 * test_nvenc_config — agentcast's knobs → NVENC settings (hwenc/nvenc_config.c), without a
 * driver: the preset table, tuning, profile fallback, rate control, VBV, GOP/IDR, frame rate.
 * Issue 4: "the same rate-control knobs; presets P1–P7 mapped from --preset; low-latency tuning".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hwenc/nvenc_internal.h"

static bool guid_eq(const GUID *a, const GUID *b)
{
    return memcmp(a, b, sizeof(*a)) == 0;
}

static void test_preset_table(void **state)
{
    (void)state;
    /* ultrafast → P1 … placebo → P7; medium = P4 (both libraries' default); veryfast = P3. */
    const struct {
        const char *name;
        int level;
    } want[] = {{"ultrafast", 1}, {"superfast", 2}, {"veryfast", 3}, {"faster", 3},
                {"fast", 4},      {"medium", 4},    {"slow", 5},     {"slower", 6},
                {"veryslow", 7},  {"placebo", 7}};
    int prev = 0;
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        int level = nvenc_config_preset_level(want[i].name);
        assert_int_equal(level, want[i].level);
        assert_true(level >= prev); /* never faster for a slower x264 preset */
        prev = level;
    }
    assert_int_equal(nvenc_config_preset_level(NULL), 4);
    assert_int_equal(nvenc_config_preset_level("warp"), 0);
    assert_true(guid_eq(nvenc_config_preset_guid(1), &NV_ENC_PRESET_P1_GUID));
    assert_true(guid_eq(nvenc_config_preset_guid(3), &NV_ENC_PRESET_P3_GUID));
    assert_true(guid_eq(nvenc_config_preset_guid(7), &NV_ENC_PRESET_P7_GUID));
    assert_null(nvenc_config_preset_guid(0));
    assert_null(nvenc_config_preset_guid(8));
}

static void test_tuning(void **state)
{
    (void)state;
    assert_int_equal(nvenc_config_tuning("zerolatency"), NV_ENC_TUNING_INFO_ULTRA_LOW_LATENCY);
    assert_int_equal(nvenc_config_tuning("film,zerolatency"), NV_ENC_TUNING_INFO_ULTRA_LOW_LATENCY);
    assert_int_equal(nvenc_config_tuning(NULL), NV_ENC_TUNING_INFO_LOW_LATENCY);
    assert_int_equal(nvenc_config_tuning("film"), NV_ENC_TUNING_INFO_LOW_LATENCY);
}

static void test_profile_fallback(void **state)
{
    (void)state;
    const unsigned all = 7, main_base = 3, base = 1, high_only = 4;
    assert_int_equal(nvenc_config_profile_parse(NULL), NVENC_PROFILE_HIGH);
    assert_int_equal(nvenc_config_profile_parse("main"), NVENC_PROFILE_MAIN);
    assert_int_equal(nvenc_config_profile_parse("baseline"), NVENC_PROFILE_BASELINE);
    assert_int_equal(nvenc_config_profile_parse("high10"), -1);
    assert_int_equal(nvenc_config_profile_pick(NVENC_PROFILE_HIGH, all), NVENC_PROFILE_HIGH);
    assert_int_equal(nvenc_config_profile_pick(NVENC_PROFILE_HIGH, main_base), NVENC_PROFILE_MAIN);
    assert_int_equal(nvenc_config_profile_pick(NVENC_PROFILE_HIGH, base), NVENC_PROFILE_BASELINE);
    assert_int_equal(nvenc_config_profile_pick(NVENC_PROFILE_MAIN, all), NVENC_PROFILE_MAIN);
    /* Never upwards: Baseline asked, only High offered → nothing. */
    assert_int_equal(nvenc_config_profile_pick(NVENC_PROFILE_BASELINE, high_only), -1);
    assert_int_equal(nvenc_config_profile_pick(NVENC_PROFILE_HIGH, 0), -1);
    for (int p = NVENC_PROFILE_BASELINE; p <= NVENC_PROFILE_HIGH; p++)
        assert_int_equal(nvenc_config_profile_from_guid(nvenc_config_profile_guid(p)), p);
    assert_true(
        guid_eq(nvenc_config_profile_guid(NVENC_PROFILE_HIGH), &NV_ENC_H264_PROFILE_HIGH_GUID));
    assert_int_equal(nvenc_config_profile_from_guid(&NV_ENC_CODEC_H264_GUID), -1);
    assert_string_equal(nvenc_config_profile_name(NVENC_PROFILE_MAIN), "main");
}

/* A configuration as a preset would hand it back, with values agentcast must overwrite. */
static void preset_like(NV_ENC_CONFIG *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->version = NV_ENC_CONFIG_VER;
    cfg->gopLength = 250;
    cfg->frameIntervalP = 3;
    cfg->rcParams.version = NV_ENC_RC_PARAMS_VER;
    cfg->rcParams.rateControlMode = NV_ENC_PARAMS_RC_CONSTQP;
    cfg->rcParams.enableLookahead = 1;
    cfg->rcParams.lookaheadDepth = 8;
    cfg->encodeCodecConfig.h264Config.idrPeriod = 250;
    cfg->encodeCodecConfig.h264Config.repeatSPSPPS = 1;
}

static void test_seed_defaults(void **state)
{
    (void)state;
    struct hwenc_params p;
    hwenc_params_default(&p); /* 1280x720@30, VBR 1500k/1500k/3000k, keyint 60, High */
    NV_ENC_CONFIG cfg;
    preset_like(&cfg);
    nvenc_config_apply(&cfg, &p, NVENC_PROFILE_HIGH);
    assert_int_equal(cfg.version, NV_ENC_CONFIG_VER);
    assert_true(guid_eq(&cfg.profileGUID, &NV_ENC_H264_PROFILE_HIGH_GUID));
    assert_int_equal(cfg.gopLength, 60);
    assert_int_equal(cfg.encodeCodecConfig.h264Config.idrPeriod, 60);
    assert_int_equal(cfg.frameIntervalP, 1); /* no B-frames */
    const NV_ENC_RC_PARAMS *rc = &cfg.rcParams;
    assert_int_equal(rc->version, NV_ENC_RC_PARAMS_VER);
    assert_int_equal(rc->rateControlMode, NV_ENC_PARAMS_RC_VBR);
    assert_int_equal(rc->averageBitRate, 1500000);
    assert_int_equal(rc->maxBitRate, 1500000);
    assert_int_equal(rc->vbvBufferSize, 3000000);
    assert_int_equal(rc->enableLookahead, 0);
    assert_int_equal(rc->zeroReorderDelay, 1);
    const NV_ENC_CONFIG_H264 *h = &cfg.encodeCodecConfig.h264Config;
    assert_int_equal(h->repeatSPSPPS, 0); /* SPS/PPS only in the FLV sequence header */
    assert_int_equal(h->enableFillerDataInsertion, 0);
    assert_int_equal(h->chromaFormatIDC, 1);
    assert_int_equal(h->h264VUIParameters.colourDescriptionPresentFlag, 1);
    assert_int_equal(h->h264VUIParameters.colourMatrix, 6);
    assert_int_equal(h->h264VUIParameters.videoFullRangeFlag, 0);

    NV_ENC_INITIALIZE_PARAMS ip;
    nvenc_config_init_params(&ip, &cfg, &p, nvenc_config_preset_level(p.preset));
    assert_int_equal(ip.version, NV_ENC_INITIALIZE_PARAMS_VER);
    assert_true(guid_eq(&ip.encodeGUID, &NV_ENC_CODEC_H264_GUID));
    assert_true(guid_eq(&ip.presetGUID, &NV_ENC_PRESET_P3_GUID));
    assert_int_equal(ip.tuningInfo, NV_ENC_TUNING_INFO_ULTRA_LOW_LATENCY);
    assert_int_equal(ip.encodeWidth, 1280);
    assert_int_equal(ip.encodeHeight, 720);
    assert_int_equal(ip.frameRateNum, 30);
    assert_int_equal(ip.frameRateDen, 1);
    assert_int_equal(ip.enablePTD, 1);
    assert_int_equal(ip.enableEncodeAsync, 0);
    assert_int_equal(ip.bufferFormat, NV_ENC_BUFFER_FORMAT_NV12);
    assert_ptr_equal(ip.encodeConfig, &cfg);
}

static void test_cbr_and_vbv(void **state)
{
    (void)state;
    struct hwenc_params p;
    hwenc_params_default(&p);
    p.rc_mode = HWENC_RC_CBR;
    p.bitrate_kbps = 2500;
    p.maxrate_kbps = 4000; /* ignored by CBR: the rate is the bitrate */
    p.bufsize_kbit = 0;    /* → two seconds of the rate */
    p.keyint_frames = 50;
    p.fps_num = 25;
    p.fps_den = 1;
    p.profile = "main";
    p.tune = NULL;
    p.preset = "slow";
    NV_ENC_CONFIG cfg;
    preset_like(&cfg);
    nvenc_config_apply(&cfg, &p, NVENC_PROFILE_MAIN);
    assert_int_equal(cfg.rcParams.rateControlMode, NV_ENC_PARAMS_RC_CBR);
    assert_int_equal(cfg.rcParams.averageBitRate, 2500000);
    assert_int_equal(cfg.rcParams.maxBitRate, 2500000);
    assert_int_equal(cfg.rcParams.vbvBufferSize, 5000000);
    assert_int_equal(cfg.encodeCodecConfig.h264Config.enableFillerDataInsertion, 1);
    assert_int_equal(cfg.gopLength, 50);
    assert_int_equal(cfg.encodeCodecConfig.h264Config.idrPeriod, 50);
    assert_true(guid_eq(&cfg.profileGUID, &NV_ENC_H264_PROFILE_MAIN_GUID));
    NV_ENC_INITIALIZE_PARAMS ip;
    nvenc_config_init_params(&ip, &cfg, &p, nvenc_config_preset_level(p.preset));
    assert_true(guid_eq(&ip.presetGUID, &NV_ENC_PRESET_P5_GUID));
    assert_int_equal(ip.tuningInfo, NV_ENC_TUNING_INFO_LOW_LATENCY);
    assert_int_equal(ip.frameRateNum, 25);

    /* VBR without a cap: no VBV at all, as x264 does with maxrate 0. */
    p.rc_mode = HWENC_RC_VBR;
    p.maxrate_kbps = 0;
    p.bufsize_kbit = 0;
    preset_like(&cfg);
    nvenc_config_apply(&cfg, &p, NVENC_PROFILE_MAIN);
    assert_int_equal(cfg.rcParams.rateControlMode, NV_ENC_PARAMS_RC_VBR);
    assert_int_equal(cfg.rcParams.maxBitRate, 0);
    assert_int_equal(cfg.rcParams.vbvBufferSize, 0);
    assert_int_equal(cfg.encodeCodecConfig.h264Config.enableFillerDataInsertion, 0);

    /* Fractional frame rates pass through as a ratio. */
    p.fps_num = 30000;
    p.fps_den = 1001;
    nvenc_config_init_params(&ip, &cfg, &p, 1);
    assert_int_equal(ip.frameRateNum, 30000);
    assert_int_equal(ip.frameRateDen, 1001);
    assert_true(guid_eq(&ip.presetGUID, &NV_ENC_PRESET_P1_GUID));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_preset_table),     cmocka_unit_test(test_tuning),
        cmocka_unit_test(test_profile_fallback), cmocka_unit_test(test_seed_defaults),
        cmocka_unit_test(test_cbr_and_vbv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
