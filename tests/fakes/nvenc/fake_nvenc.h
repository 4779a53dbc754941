/*
 * fake_nvenc.h — what the two halves of the fake libnvidia-encode.so.1 share (test-only):
 * fake_nvenc.c (knobs, sessions, capabilities, initialisation, the function list, statistics)
 * and fake_nvenc_buffers.c (input/bitstream buffers, registered resources, encoding).
 * Everything here is hidden inside the library; it exports only the two NvEncodeAPI* symbols.
 */
#ifndef AGENTCAST_FAKE_NVENC_H
#define AGENTCAST_FAKE_NVENC_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <ffnvcodec/nvEncodeAPI.h>
#include <x264.h>

#define FN_MAX_SIZE 4096
#define FN_MAX_OBJECTS 64
#define FN_INPUT_PITCH_ALIGN 256

enum fn_kind { FN_INPUT = 1, FN_BITSTREAM, FN_REGISTERED, FN_MAPPED };

struct fn_session;

/* Every handle given out; kept (marked destroyed) until the session ends, so use after destroy
 * and double destroy are recognised. */
struct fn_object {
    enum fn_kind kind;
    struct fn_session *session;
    bool destroyed;
    bool locked;
    uint8_t *data; /* input: pixels; bitstream: output bytes */
    uint32_t pitch, width, height;
    /* bitstream */
    size_t cap, size;
    bool has_output;
    NV_ENC_PIC_TYPE pic_type;
    uint64_t timestamp;
    uint32_t frame_idx;
    /* registered / mapped */
    uint64_t devptr;
    int mem_kind;
    struct fn_object *registered; /* mapped → its registration */
    struct fn_object *mapping;    /* registered → its live mapping */
};

struct fn_stats {
    uint64_t frames_encoded, idr_frames;
    uint64_t inputs_locked_buffer, inputs_cuda_registered, inputs_imported;
    uint64_t input_locks, input_unlocks, bitstream_locks, bitstream_unlocks;
    uint64_t maps, unmaps, registrations, unregistrations, encode_calls;
    char profile[16];
    char rc_mode[8];
    uint32_t gop, idr_period, bitrate, maxrate, vbv, fps_num, fps_den, preset, tuning;
};

struct fn_session {
    uint32_t magic;
    bool initialized, destroyed;
    void *cuda_ctx;
    NV_ENC_INITIALIZE_PARAMS init;
    NV_ENC_CONFIG config;
    x264_t *x264;
    struct fn_stats st; /* this session's counters */
    int n_objects;
    struct fn_object *objects[FN_MAX_OBJECTS];
    char last_error[256];
};

#define FN_SESSION_MAGIC 0x4e56454eu

/* Counters of the session being reported: each session's own, written to FAKE_NVENC_STATS when
 * it is destroyed (and at exit); sessions and errors count over the whole process. */
extern pthread_mutex_t fn_lock;
extern struct fn_stats fn_last;
extern uint64_t fn_sessions_opened, fn_sessions_destroyed, fn_errors;

/* Prints "fake-nvenc: ERROR …", counts it and keeps it as the session's last error. */
void fn_error(struct fn_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
unsigned fn_env_uint(const char *name, unsigned dflt);
bool fn_check_ver(struct fn_session *s, const char *what, uint32_t got, uint32_t want);
bool fn_session_ok(struct fn_session *s, const char *fn, bool need_init);
/* Writes fn_last and the process counters to $FAKE_NVENC_STATS. */
void fn_write_stats(void);

NVENCSTATUS NVENCAPI fn_create_input(void *enc, NV_ENC_CREATE_INPUT_BUFFER *p);
NVENCSTATUS NVENCAPI fn_destroy_input(void *enc, NV_ENC_INPUT_PTR h);
NVENCSTATUS NVENCAPI fn_create_bitstream(void *enc, NV_ENC_CREATE_BITSTREAM_BUFFER *p);
NVENCSTATUS NVENCAPI fn_destroy_bitstream(void *enc, NV_ENC_OUTPUT_PTR h);
NVENCSTATUS NVENCAPI fn_lock_input(void *enc, NV_ENC_LOCK_INPUT_BUFFER *p);
NVENCSTATUS NVENCAPI fn_unlock_input(void *enc, NV_ENC_INPUT_PTR h);
NVENCSTATUS NVENCAPI fn_register(void *enc, NV_ENC_REGISTER_RESOURCE *p);
NVENCSTATUS NVENCAPI fn_unregister(void *enc, NV_ENC_REGISTERED_PTR h);
NVENCSTATUS NVENCAPI fn_map(void *enc, NV_ENC_MAP_INPUT_RESOURCE *p);
NVENCSTATUS NVENCAPI fn_unmap(void *enc, NV_ENC_INPUT_PTR h);
NVENCSTATUS NVENCAPI fn_encode(void *enc, NV_ENC_PIC_PARAMS *p);
NVENCSTATUS NVENCAPI fn_lock_bitstream(void *enc, NV_ENC_LOCK_BITSTREAM *p);
NVENCSTATUS NVENCAPI fn_unlock_bitstream(void *enc, NV_ENC_OUTPUT_PTR h);
NVENCSTATUS NVENCAPI fn_destroy_encoder(void *enc);
const char *NVENCAPI fn_last_error(void *enc);

#endif
