/*
 * test_aac_silence — the silent AAC-LC frame and its AudioSpecificConfig, read back field by
 * field as ISO/IEC 14496-3 lays them out, and the audio frame timestamps.
 * (The frame was also decoded with FFmpeg's AAC decoder during development: 100 frames gave
 * 204800 samples, stereo 44100 Hz, no errors, max_volume -91 dB, i.e. all zero.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "media/aac_silence.h"

struct bits {
    const uint8_t *p;
    size_t size, pos; /* pos in bits */
};

static unsigned get(struct bits *b, int n)
{
    unsigned v = 0;
    for (int i = 0; i < n; i++, b->pos++) {
        assert_true(b->pos < b->size * 8);
        v = (v << 1) | ((b->p[b->pos / 8] >> (7 - b->pos % 8)) & 1);
    }
    return v;
}

/* AudioSpecificConfig: "audioObjectType 5 bslbf; samplingFrequencyIndex 4 bslbf;
 * channelConfiguration 4 bslbf", then GASpecificConfig "frameLengthFlag; dependsOnCoreCoder;
 * extensionFlag". Object type 2 is AAC LC, index 4 is 44100 Hz, configuration 2 is stereo. */
static void test_audio_specific_config(void **state)
{
    size_t size = 0;
    const uint8_t *asc = aac_silence_config(&size);
    assert_int_equal(size, 2);
    struct bits b = {asc, size, 0};
    assert_int_equal(get(&b, 5), 2);
    assert_int_equal(get(&b, 4), 4);
    assert_int_equal(get(&b, 4), 2);
    assert_int_equal(get(&b, 1), 0); /* frameLengthFlag: 1024 samples */
    assert_int_equal(get(&b, 1), 0); /* dependsOnCoreCoder */
    assert_int_equal(get(&b, 1), 0); /* extensionFlag */
    assert_int_equal(asc[0], 0x12);
    assert_int_equal(asc[1], 0x10);
}

/* raw_data_block(): one channel_pair_element (ID_CPE = 1) with common_window, ics_info with
 * window_sequence ONLY_LONG_SEQUENCE (0) and max_sfb 0 — no band, hence no section, scalefactor
 * or spectral data — then per channel global_gain and the three absent-tool flags, then ID_END
 * (7) and byte alignment. */
static void test_silent_frame_layout(void **state)
{
    size_t size = 0;
    const uint8_t *f = aac_silence_frame(&size);
    struct bits b = {f, size, 0};
    assert_int_equal(get(&b, 3), 1); /* id_syn_ele = ID_CPE */
    assert_int_equal(get(&b, 4), 0); /* element_instance_tag */
    assert_int_equal(get(&b, 1), 1); /* common_window */
    assert_int_equal(get(&b, 1), 0); /* ics_reserved_bit */
    assert_int_equal(get(&b, 2), 0); /* window_sequence: ONLY_LONG_SEQUENCE */
    get(&b, 1);                      /* window_shape: either is fine */
    assert_int_equal(get(&b, 6), 0); /* max_sfb */
    assert_int_equal(get(&b, 1), 0); /* predictor_data_present */
    assert_int_equal(get(&b, 2), 0); /* ms_mask_present */
    for (int ch = 0; ch < 2; ch++) {
        get(&b, 8);                      /* global_gain */
        assert_int_equal(get(&b, 1), 0); /* pulse_data_present */
        assert_int_equal(get(&b, 1), 0); /* tns_data_present */
        assert_int_equal(get(&b, 1), 0); /* gain_control_data_present */
    }
    assert_int_equal(get(&b, 3), 7); /* ID_END */
    assert_int_equal(b.pos, 46);
    /* byte_alignment(): zero bits up to the end, and no byte more than needed. */
    assert_int_equal(size, (b.pos + 7) / 8);
    assert_int_equal(get(&b, (int)(size * 8 - b.pos)), 0);
}

/* The frame is constant: the same bytes each call, no allocation to free. */
static void test_frame_is_constant(void **state)
{
    size_t s1, s2;
    const uint8_t *a = aac_silence_frame(&s1);
    const uint8_t *b = aac_silence_frame(&s2);
    assert_ptr_equal(a, b);
    assert_int_equal(s1, s2);
}

/* "Decode timestamp in ms of audio frame n: floor(n * 1024 * 1000 / 44100)." */
static void test_frame_dts(void **state)
{
    assert_int_equal(aac_frame_dts_ms(0), 0);
    assert_int_equal(aac_frame_dts_ms(1), 23);
    assert_int_equal(aac_frame_dts_ms(2), 46);
    assert_int_equal(aac_frame_dts_ms(43), 998);
    assert_int_equal(aac_frame_dts_ms(44), 1021);
    /* 44100 frames of 1024 samples at 44100 Hz are exactly 1024 s. */
    assert_int_equal(aac_frame_dts_ms(44100), 1024000);
    /* 24 hours of audio and more stay exact. */
    assert_int_equal(aac_frame_dts_ms(4000000), 92879818);
    int64_t prev = -1;
    for (int64_t n = 0; n < 200000; n++) {
        int64_t ms = aac_frame_dts_ms(n);
        assert_true(ms > prev); /* 23.2 ms apart: strictly increasing */
        assert_true(ms * 44100 <= n * 1024000 && n * 1024000 < (ms + 1) * 44100);
        prev = ms;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_audio_specific_config),
        cmocka_unit_test(test_silent_frame_layout),
        cmocka_unit_test(test_frame_is_constant),
        cmocka_unit_test(test_frame_dts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
