/*
 * h264_skip — frames that cost nothing to encode: when the source says a picture is unchanged,
 * the encoder writes a P picture made only of skipped macroblocks instead of encoding it.
 *
 * Why it is exact: in a P slice every P_Skip macroblock predicts its motion vector from its
 * neighbours, and when every neighbour is itself skipped with a zero vector (or absent, at the
 * picture's top-left) the prediction is zero (H.264 8.4.1.1). An all-skip picture therefore
 * copies its reference picture sample for sample, without residual, and the deblocking filter
 * finds boundary strength 0 everywhere (same reference, same vector, no coefficients). The viewer
 * sees the previous decoded picture again: the stream keeps its constant frame rate while the
 * frame costs a few bytes and no pixel work.
 *
 * How it fits x264's stream: the skip slices use a PPS of their own (CAVLC, so the whole slice
 * data is one mb_skip_run; no weighted prediction), announced beside x264's in the stream headers.
 * Each skip picture is a reference picture with the next frame_num, so x264's following pictures
 * must carry frame_num values shifted by the skips in between: h264_skip_renumber rewrites that
 * one fixed-width field in their slice headers. This is sound only when the stream's SPS says
 * pic_order_cnt_type 2 (output order = decoding order, no POC in slice headers) and one reference
 * frame (so x264's "previous picture" and the decoder's are the same pixels); h264_skip_init
 * checks both, with frame coding only.
 */
#ifndef AGENTCAST_HWENC_H264_SKIP_H
#define AGENTCAST_HWENC_H264_SKIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct h264_skip {
    int log2_max_frame_num;
    int mb_count; /* macroblocks per picture */
    int sps_id;
    int pps_id;      /* the skip slices' own PPS */
    uint8_t pps[16]; /* that PPS as Annex B (start code included) */
    size_t pps_size;
};

/* Reads the encoder's parameter sets (Annex B: one SPS, any PPS) and prepares skip pictures for
 * that stream. 0, or -ENOTSUP with why ("pic_order_cnt_type 0") when the stream does not allow
 * them, or -EINVAL for headers that do not parse. */
int h264_skip_init(struct h264_skip *s, const uint8_t *headers, size_t size, char *why,
                   size_t why_size);

/* Writes one access unit (Annex B) holding an all-skip P picture with frame_num into out.
 * Returns its size, or -ENOSPC when cap is too small (64 bytes always suffice). */
int h264_skip_write(const struct h264_skip *s, unsigned frame_num, uint8_t *out, size_t cap);

/* Copies the access unit in (Annex B) to out with frame_num set in every non-IDR slice header;
 * every other byte of meaning is kept (emulation prevention is redone where the new bits need
 * it). *out is a buffer of *out_cap bytes that grows with realloc as needed (the caller frees
 * it). Returns the new size, or -EINVAL for a slice header that does not parse, or -ENOMEM. */
int h264_skip_renumber(const struct h264_skip *s, const uint8_t *in, size_t in_size,
                       unsigned frame_num, uint8_t **out, size_t *out_cap);

/* frame_num of the first slice in an access unit (for tests and checks), or -1. */
int h264_skip_frame_num_of(const struct h264_skip *s, const uint8_t *au, size_t size);

#endif
