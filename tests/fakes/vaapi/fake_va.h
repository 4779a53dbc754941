/*
 * fake_va — internals of the strict fake VA-API driver (fake_drv_video.so), test-only.
 *
 * libva loads the driver by LIBVA_DRIVER_NAME=fake from LIBVA_DRIVERS_PATH. Every object (config,
 * context, surface, buffer, image) lives in one table and keeps its slot after it is destroyed,
 * so a use after destroy or a double destroy is recognised and reported instead of crashing or
 * silently working. Anything the caller gets wrong is printed as "fake-vaapi: ERROR ..." on
 * stderr, counted in the stats, and answered with a VA error status.
 *
 * Files: fake_va_driver.c (init, capabilities, configs, stats, terminate), fake_va_surface.c
 * (surfaces, images, derive/put, PRIME import, sync), fake_va_encode.c (buffers, contexts,
 * begin/render/end with parameter validation and the x264 encode).
 */
#ifndef FAKE_VA_H
#define FAKE_VA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <va/va.h>
#include <va/va_backend.h>
#include <va/va_enc_h264.h>

enum fake_kind { FK_CONFIG = 1, FK_CONTEXT, FK_SURFACE, FK_BUFFER, FK_IMAGE, FK_KINDS };

/* Common head of every object; the table owns the object. */
struct fake_obj {
    enum fake_kind kind;
    bool alive;
    uint32_t id;
};

struct fake_config {
    struct fake_obj o;
    VAProfile profile;
    VAEntrypoint entrypoint;
    uint32_t rc_mode;        /* VA_RC_CBR or VA_RC_VBR */
    uint32_t packed_headers; /* VA_ENC_PACKED_HEADER_* the caller enabled */
};

enum fake_fill { FILL_NONE, FILL_DERIVE, FILL_PUT, FILL_IMPORT };
enum fake_surface_state { SURF_IDLE, SURF_RENDERING, SURF_PENDING };

struct fake_surface {
    struct fake_obj o;
    int width, height;
    uint32_t pitch;     /* bytes per row, both planes (NV12) */
    uint32_t uv_offset; /* offset of the UV plane from data */
    uint8_t *data;      /* NV12 pixels (owned, or inside map for imports) */
    void *map;          /* mmap of an imported object, else NULL */
    size_t map_size;
    enum fake_surface_state state;
    VABufferID pending_coded; /* coded buffer of the picture not yet synced */
    bool pending_failed;      /* an injected failure hit that picture */
    VAImageID derived;        /* live derived image, or VA_INVALID_ID */
    enum fake_fill fill;      /* how the pixels were last written */
};

struct fake_image {
    struct fake_obj o;
    VAImage image;
    VASurfaceID derived_from; /* VA_INVALID_ID for vaCreateImage images */
};

struct fake_buffer {
    struct fake_obj o;
    VABufferType type;
    VAContextID context;
    uint32_t size, num_elements;
    uint8_t *data; /* owned, or a surface's pixels for a derived image */
    bool owns_data;
    bool mapped;
    VAImageID image; /* image this buffer backs, or VA_INVALID_ID */
    /* Coded buffers: the segment handed out by vaMapBuffer and the state of its picture. */
    VACodedBufferSegment segment;
    uint32_t coded_used;
    bool coded_pending; /* written by an EndPicture whose surface is not synced */
    bool rendered;      /* parameter buffer handed to vaRenderPicture, picture not ended */
};

#define FAKE_MAX_SLICES 64
#define FAKE_MAX_PACKED 8

/* What one picture (BeginPicture..EndPicture) was given. */
struct fake_picture {
    VASurfaceID target;
    bool have_seq, have_pic, have_rc, have_hrd, have_fr;
    VAEncSequenceParameterBufferH264 seq;
    VAEncPictureParameterBufferH264 pic;
    VAEncSliceParameterBufferH264 slices[FAKE_MAX_SLICES];
    int n_slices;
    VAEncMiscParameterRateControl rc;
    VAEncMiscParameterHRD hrd;
    VAEncMiscParameterFrameRate fr;
    int n_packed;
    bool packed_sps, packed_pps;
    uint32_t pending_packed_type; /* a packed header parameter buffer awaiting its data */
    uint32_t pending_packed_bits;
    VABufferID buffers[64]; /* rendered buffers, checked at EndPicture */
    int n_buffers;
};

struct fake_context {
    struct fake_obj o;
    VAConfigID config;
    int width, height;
    bool in_picture;
    struct fake_picture cur;
    /* State carried between pictures. */
    bool have_seq;
    VAEncSequenceParameterBufferH264 seq;
    VAEncMiscParameterRateControl rc;
    VAEncMiscParameterHRD hrd;
    VAEncMiscParameterFrameRate fr;
    bool have_rc, have_hrd, have_fr;
    uint64_t pictures;
    uint32_t since_idr;     /* pictures since the last IDR */
    VASurfaceID last_recon; /* CurrPic of the previous picture */
    unsigned last_frame_num;
    void *x264; /* x264_t, opened at the first picture */
};

struct fake_stats {
    uint64_t frames_encoded, idr_frames;
    uint64_t filled_derive, filled_put, filled_import, filled_none;
    uint64_t derive_maps, put_calls, put_bytes, imports;
    uint64_t packed_sps, packed_pps, packed_slice;
    uint64_t injected_failures, errors, leaks;
    char profile[16], entrypoint[16], rc_mode[8];
    uint32_t bitrate_bps, maxrate_bps, hrd_buffer, fps_num, fps_den, idr_period;
    int width, height;
};

struct fake_driver {
    struct fake_obj **objs[FK_KINDS];
    uint32_t n[FK_KINDS], cap[FK_KINDS];
    struct fake_stats stats;
    /* Knobs (FAKE_VAAPI_*), read at init. */
    bool no_lp, no_derive, no_packed;
    bool prof_high, prof_main, prof_cb;
    long fail_encode_at;
    uint64_t end_pictures;
};

/* Reports a caller bug: prints it, counts it. Returns VA_STATUS_ERROR_OPERATION_FAILED unless
 * the status given says otherwise. */
VAStatus fake_error(struct fake_driver *d, VAStatus status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Adds obj (allocated by the caller, size bytes) to the table and assigns its id. */
int fake_obj_add(struct fake_driver *d, struct fake_obj *obj, enum fake_kind kind);
/* The live object of that kind with that id; reports unknown ids, wrong kinds and use after
 * destroy (what names the call). */
void *fake_obj_get(struct fake_driver *d, uint32_t id, enum fake_kind kind, const char *what);
/* Marks obj destroyed (its slot stays as a tombstone; the caller frees what the object owns). */
void fake_obj_kill(struct fake_obj *obj);

#define FAKE_DRV(ctx) ((struct fake_driver *)(ctx)->pDriverData)

/* fake_va_surface.c */
void fake_surface_vtable(struct VADriverVTable *vt);
void fake_surface_free(struct fake_surface *s);
/* fake_va_encode.c */
void fake_encode_vtable(struct VADriverVTable *vt);
void fake_buffer_free(struct fake_buffer *b);
void fake_context_free(struct fake_context *c);
/* Called by vaSyncSurface when a surface's picture completes. */
void fake_encode_complete(struct fake_driver *d, VABufferID coded);
/* A new buffer of type holding size bytes, data (may be NULL) copied in. */
struct fake_buffer *fake_buffer_new(struct fake_driver *d, VABufferType type, VAContextID ctx,
                                    uint32_t size, uint32_t num, const void *data);

/* fake_va_check.c: the checks of one picture's parameters against the config, context and the
 * previous pictures (VA_STATUS_SUCCESS, or the error reported), and of a packed header. */
VAStatus fake_validate_picture(struct fake_driver *d, struct fake_context *c);
VAStatus fake_check_packed_nal(struct fake_driver *d, struct fake_context *c, VAProfile profile,
                               uint32_t type, const uint8_t *data, uint32_t size);
/* fake_va_x264.c: encodes surface s as the picture c->cur describes into coded. */
VAStatus fake_x264_encode(struct fake_driver *d, struct fake_context *c, struct fake_surface *s,
                          struct fake_buffer *coded);

#endif
