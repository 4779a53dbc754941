/*
 * amf — a small AMF0 writer (Action Message Format 0, the encoding of FLV script tags and RTMP
 * commands). Used by flv.c for onMetaData; anyone building an AMF0 payload may use it.
 *
 * Values go into a byte buffer that either grows on the heap or is the caller's fixed memory.
 * Errors are sticky: after the first failure every further write is ignored and amf_buf.err
 * holds the cause, so a caller writes a whole payload and checks once at the end. A fixed buffer
 * keeps counting in len past its capacity (as snprintf does), which lets a caller measure a
 * payload with a NULL, 0-byte buffer, allocate exactly, and write it again.
 */
#ifndef AGENTCAST_MEDIA_AMF_H
#define AGENTCAST_MEDIA_AMF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* AMF0 type markers used here. */
enum amf0_marker {
    AMF0_NUMBER = 0x00,
    AMF0_BOOLEAN = 0x01,
    AMF0_STRING = 0x02,
    AMF0_OBJECT = 0x03,
    AMF0_NULL = 0x05,
    AMF0_ECMA_ARRAY = 0x08,
    AMF0_OBJECT_END = 0x09,
    AMF0_LONG_STRING = 0x0c,
};

struct amf_buf {
    uint8_t *data;
    size_t len; /* bytes written; for a fixed buffer that overflowed, bytes needed */
    size_t cap;
    bool growable; /* data is ours (malloc'd) and grows */
    int err;       /* 0, -ENOMEM (growth failed), -ENOSPC (fixed buffer full), -EINVAL */
};

/* An empty heap buffer; release with amf_buf_free. Never fails (allocation is on first write). */
void amf_buf_init(struct amf_buf *b);
/* A buffer over the caller's cap bytes at mem (which it keeps owning); mem may be NULL when cap
 * is 0, to measure. A write that does not fit sets err = -ENOSPC and leaves mem past what
 * fitted untouched; len keeps counting. */
void amf_buf_init_fixed(struct amf_buf *b, uint8_t *mem, size_t cap);
/* Frees a heap buffer's memory (a fixed one's is left alone) and empties b. */
void amf_buf_free(struct amf_buf *b);
/* Hands a heap buffer's memory to the caller (free() it) and empties b; NULL for a fixed buffer,
 * an empty buffer, or after an error. *size receives the length. */
uint8_t *amf_buf_steal(struct amf_buf *b, size_t *size);

/* Values, each with its type marker. Strings longer than 65535 bytes become long strings. */
void amf_write_number(struct amf_buf *b, double v);
void amf_write_boolean(struct amf_buf *b, bool v);
void amf_write_string(struct amf_buf *b, const char *s);
void amf_write_null(struct amf_buf *b);
/* Starts an anonymous object; follow with properties and amf_write_object_end. */
void amf_write_object_start(struct amf_buf *b);
/* Starts an ECMA array announcing count entries; it also ends with amf_write_object_end. */
void amf_write_ecma_array_start(struct amf_buf *b, uint32_t count);
/* A property name (UTF-8, no marker, at most 65535 bytes); the value written next belongs to it. */
void amf_write_property_name(struct amf_buf *b, const char *name);
/* The empty name and the object-end marker that close an object or ECMA array. */
void amf_write_object_end(struct amf_buf *b);

/* A property name and its value in one call. */
void amf_write_prop_number(struct amf_buf *b, const char *name, double v);
void amf_write_prop_boolean(struct amf_buf *b, const char *name, bool v);
void amf_write_prop_string(struct amf_buf *b, const char *name, const char *s);

#endif
