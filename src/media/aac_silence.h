/*
 * aac_silence — the always-present audio track: AAC-LC, stereo, 44.1 kHz, silent.
 *
 * A silent AAC-LC frame is a constant bit string (a channel pair element with no spectral data),
 * so silence costs no encoder work: the same few bytes are sent every 1024 samples.
 */
#ifndef AGENTCAST_MEDIA_AAC_SILENCE_H
#define AGENTCAST_MEDIA_AAC_SILENCE_H

#include <stddef.h>
#include <stdint.h>

#define AAC_SAMPLE_RATE 44100
#define AAC_CHANNELS 2
#define AAC_FRAME_SAMPLES 1024

/* AudioSpecificConfig for AAC-LC stereo 44.1 kHz (2 bytes). */
const uint8_t *aac_silence_config(size_t *size);
/* One raw AAC-LC stereo frame of silence (1024 samples per channel). */
const uint8_t *aac_silence_frame(size_t *size);
/* Decode timestamp in ms of audio frame n: floor(n * 1024 * 1000 / 44100). */
int64_t aac_frame_dts_ms(int64_t n);

#endif
