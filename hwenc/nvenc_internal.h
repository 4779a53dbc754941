/*
 * nvenc_internal — the pure part of the NVENC backend (hwenc/nvenc_config.c): how agentcast's
 * encoder knobs (struct hwenc_params, the same ones x264 takes) become NVENC's preset, tuning,
 * profile, NV_ENC_CONFIG and NV_ENC_INITIALIZE_PARAMS. No driver calls; unit-tested on its own.
 */
#ifndef AGENTCAST_HWENC_NVENC_INTERNAL_H
#define AGENTCAST_HWENC_NVENC_INTERNAL_H

#include <stdbool.h>

#include <ffnvcodec/nvEncodeAPI.h>

#include "hwenc/hwenc.h"

/* The NVENC preset (1..7 = P1..P7) for an x264 preset name; NULL means x264's default
 * ("medium"). 0 for a name x264 does not know. */
int nvenc_config_preset_level(const char *x264_preset);
/* The GUID of preset P<level> (level 1..7). */
const GUID *nvenc_config_preset_guid(int level);
/* ULTRA_LOW_LATENCY for tune "zerolatency", LOW_LATENCY otherwise. */
NV_ENC_TUNING_INFO nvenc_config_tuning(const char *x264_tune);

enum nvenc_profile { NVENC_PROFILE_BASELINE, NVENC_PROFILE_MAIN, NVENC_PROFILE_HIGH };

/* Parses "high", "main", "baseline" (NULL = high). -1 for anything else. */
int nvenc_config_profile_parse(const char *name);
/* The profile to use for the requested one when the encoder offers those in offered (bit
 * 1 << enum nvenc_profile): the request itself, else the next lower one offered (High → Main →
 * Baseline). -1 when none at or below the request is offered. */
int nvenc_config_profile_pick(int requested, unsigned offered);
const GUID *nvenc_config_profile_guid(int profile);
const char *nvenc_config_profile_name(int profile); /* "high", "main", "baseline" */
/* Which enum nvenc_profile a GUID is, or -1. */
int nvenc_config_profile_from_guid(const GUID *guid);

/* Overwrites in cfg (which holds the preset's configuration from
 * nvEncGetEncodePresetConfigEx) everything agentcast decides: GOP and IDR period = keyint, no
 * B-frames, rate control (CBR or VBR, bitrate, maxrate, VBV buffer), profile, VUI (BT.601
 * limited range, as the sources draw), SPS/PPS only in extradata, no lookahead. */
void nvenc_config_apply(NV_ENC_CONFIG *cfg, const struct hwenc_params *p, int profile);
/* Fills ip for an encoder of p's size and frame rate using cfg (which ip then points to). */
void nvenc_config_init_params(NV_ENC_INITIALIZE_PARAMS *ip, NV_ENC_CONFIG *cfg,
                              const struct hwenc_params *p, int preset_level);

#endif
