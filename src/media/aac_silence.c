/*
 * aac_silence — the constant silent AAC-LC frame and its AudioSpecificConfig; see aac_silence.h.
 * The muxer sends the frame every 1024 samples so players and ingests that expect an audio track
 * get one, at no encoding cost. References: ISO/IEC 14496-3 (1.6.2.1 AudioSpecificConfig,
 * 4.4.2.1 raw_data_block, 4.4.2.6 ics_info, 4.6.x decoding).
 */
#include "media/aac_silence.h"

/*
 * AudioSpecificConfig, 16 bits:
 *   audioObjectType         5  00010  (2 = AAC LC)
 *   samplingFrequencyIndex  4  0100   (4 = 44100 Hz)
 *   channelConfiguration    4  0010   (2 = stereo: one channel pair element, L + R)
 *   GASpecificConfig:
 *     frameLengthFlag       1  0      (1024-sample frames)
 *     dependsOnCoreCoder    1  0
 *     extensionFlag         1  0
 *   = 0001 0010 0001 0000
 */
static const uint8_t asc[2] = {0x12, 0x10};

/*
 * raw_data_block() for one frame of stereo silence, 46 bits padded to 6 bytes.
 *
 *   id_syn_ele                     3  001       ID_CPE: a channel pair element
 *   element_instance_tag           4  0000
 *   common_window                  1  1         both channels share the ics_info below
 *   ics_info():
 *     ics_reserved_bit             1  0
 *     window_sequence              2  00        ONLY_LONG_SEQUENCE
 *     window_shape                 1  0         sine
 *     max_sfb                      6  000000    no scalefactor band is transmitted, so every
 *                                               spectral coefficient is zero: silence
 *     predictor_data_present       1  0
 *   ms_mask_present                2  00        no mid/side stereo
 *   individual_channel_stream() x 2 (left, then right; common_window so no ics_info):
 *     global_gain                  8  01100100  100; no band uses it, any value decodes the same
 *     section_data / scale_factor_data: empty (max_sfb = 0)
 *     pulse_data_present           1  0
 *     tns_data_present             1  0
 *     gain_control_data_present    1  0
 *     spectral_data: empty
 *   id_syn_ele                     3  111       ID_END
 *   byte_alignment                 2  00
 *
 * Laid out in bytes:
 *   0x21  0010 0001   ID_CPE, tag 0, common_window
 *   0x00  0000 0000   ics_info (8 of 11 bits)
 *   0x03  0000 0011   ics_info (last 3), ms_mask_present, global_gain[L] bits 7..5
 *   0x20  0010 0000   global_gain[L] bits 4..0, pulse/tns/gain-control flags
 *   0x64  0110 0100   global_gain[R]
 *   0x1c  0001 1100   pulse/tns/gain-control flags, ID_END, alignment
 */
static const uint8_t silent_frame[6] = {0x21, 0x00, 0x03, 0x20, 0x64, 0x1c};

const uint8_t *aac_silence_config(size_t *size)
{
    *size = sizeof(asc);
    return asc;
}

const uint8_t *aac_silence_frame(size_t *size)
{
    *size = sizeof(silent_frame);
    return silent_frame;
}

int64_t aac_frame_dts_ms(int64_t n)
{
    /* Exact in integers: n * 1024000 stays far inside int64 for any real stream (2^63 / 1024000
     * frames is ~4.6 million years of audio). Floor, also for negative n. */
    int64_t num = n * (int64_t)AAC_FRAME_SAMPLES * 1000;
    int64_t q = num / AAC_SAMPLE_RATE;
    if (num % AAC_SAMPLE_RATE != 0 && num < 0)
        q--;
    return q;
}
