// The shared-memory ring layout, defined once. Swift reads these offsets through the
// RILL_* constants below (Swift struct layout is not an ABI). Any change bumps RILL_RING_VERSION.
#ifndef RILL_RING_H
#define RILL_RING_H
#include <stdint.h>
#include <stddef.h>

#define RILL_RING_MAGIC 0x474E495252494C52ULL /* "RLIRRING" little-endian: 'R''L''I''R''R''I''N''G' */
#define RILL_RING_VERSION 2u
#define RILL_RING_MAX_READERS 16u
#define RILL_RING_CONFIG_BYTES 1024u
#define RILL_RING_HEADER_BYTES 4096u

/// One reader's registration, for `rill ring ls` and for the writer's bookkeeping. Readers never
/// block the writer; this table is informational.
typedef struct rill_ring_reader {
    uint32_t pid;          /* 0 = free; claimed with CAS */
    uint32_t lost;         /* records lost to overrun, saturating */
    uint64_t cursor;       /* next record index the reader will read */
    int64_t  seen_ns;      /* CLOCK_MONOTONIC of the reader's last read */
} rill_ring_reader;

typedef struct rill_ring_header {
    uint64_t magic;
    uint32_t version;
    uint32_t header_bytes;
    uint32_t slot_count;
    uint32_t slot_bytes;        /* payload capacity of one slot */
    uint32_t slot_stride;       /* bytes from one slot header to the next */
    uint32_t kind;              /* RillTrackKind */
    uint64_t published;         /* atomic: records published (the next record index) */
    uint32_t wake;              /* atomic futex word: low 32 bits of `published`, or bumped on generation */
    uint32_t waiters;           /* atomic: readers inside FUTEX_WAIT (the writer skips the syscall when 0) */
    uint32_t writer_pid;        /* atomic */
    uint32_t generation;        /* atomic: bumped by each writer that opens the ring */
    int64_t  heartbeat_ns;      /* atomic: CLOCK_MONOTONIC of the writer's last sign of life */
    /* Format of the track (codec, geometry); written before records that use it. */
    uint32_t codec;             /* RillCodec */
    uint32_t width;
    uint32_t height;
    uint32_t fps_num;
    uint32_t fps_den;
    uint32_t sample_rate;
    uint32_t channels;
    uint32_t bits_per_sample;
    uint32_t bitrate;           /* bits/s, for coded tracks */
    uint32_t format_seq;        /* seqlock over codec config: odd = being written */
    uint32_t config_bytes;
    uint32_t reserved0;
    uint8_t  config[RILL_RING_CONFIG_BYTES]; /* codec configuration (SPS/PPS, AudioSpecificConfig) */
    rill_ring_reader readers[RILL_RING_MAX_READERS];
} rill_ring_header;

/// Each slot starts with this header; the payload follows at RILL_SLOT_PAYLOAD.
typedef struct rill_slot_header {
    uint64_t seq;          /* atomic seqlock: 2n+1 while record n is written, 2n+2 once it is available */
    uint32_t length;       /* payload bytes */
    uint32_t flags;        /* RillRecordFlags */
    int64_t  pts_ns;       /* presentation time, CLOCK_MONOTONIC ns; for TS chunks: send deadline */
    int64_t  dts_ns;       /* decode time (coded video), else = pts_ns */
    int64_t  capture_ns;   /* when the oldest media in this record was captured */
    uint32_t width;        /* format of this record (raw video: geometry; audio: frames) */
    uint32_t height;
    uint32_t aux0;         /* raw video: pixel format; audio: sample count */
    uint32_t aux1;
    int64_t  stage_ns;     /* when the previous stage finished it (encoder output time), 0 = unknown */
} rill_slot_header;

#define RILL_SLOT_PAYLOAD 64u

_Static_assert(sizeof(rill_ring_reader) == 24, "reader entry");
_Static_assert(offsetof(rill_ring_header, published) == 32, "published");
_Static_assert(offsetof(rill_ring_header, wake) == 40, "wake must be 4-byte aligned for futex");
_Static_assert(offsetof(rill_ring_header, heartbeat_ns) == 56, "heartbeat");
_Static_assert(offsetof(rill_ring_header, config) == 112, "config");
_Static_assert(sizeof(rill_ring_header) <= RILL_RING_HEADER_BYTES, "header fits its page");
_Static_assert(sizeof(rill_slot_header) <= RILL_SLOT_PAYLOAD, "slot header fits");
_Static_assert(offsetof(rill_slot_header, pts_ns) == 16, "pts");
_Static_assert(offsetof(rill_slot_header, stage_ns) == 56, "stage");

enum {
    RILL_OFF_MAGIC = offsetof(rill_ring_header, magic),
    RILL_OFF_VERSION = offsetof(rill_ring_header, version),
    RILL_OFF_HEADER_BYTES = offsetof(rill_ring_header, header_bytes),
    RILL_OFF_SLOT_COUNT = offsetof(rill_ring_header, slot_count),
    RILL_OFF_SLOT_BYTES = offsetof(rill_ring_header, slot_bytes),
    RILL_OFF_SLOT_STRIDE = offsetof(rill_ring_header, slot_stride),
    RILL_OFF_KIND = offsetof(rill_ring_header, kind),
    RILL_OFF_PUBLISHED = offsetof(rill_ring_header, published),
    RILL_OFF_WAKE = offsetof(rill_ring_header, wake),
    RILL_OFF_WAITERS = offsetof(rill_ring_header, waiters),
    RILL_OFF_WRITER_PID = offsetof(rill_ring_header, writer_pid),
    RILL_OFF_GENERATION = offsetof(rill_ring_header, generation),
    RILL_OFF_HEARTBEAT = offsetof(rill_ring_header, heartbeat_ns),
    RILL_OFF_CODEC = offsetof(rill_ring_header, codec),
    RILL_OFF_WIDTH = offsetof(rill_ring_header, width),
    RILL_OFF_HEIGHT = offsetof(rill_ring_header, height),
    RILL_OFF_FPS_NUM = offsetof(rill_ring_header, fps_num),
    RILL_OFF_FPS_DEN = offsetof(rill_ring_header, fps_den),
    RILL_OFF_SAMPLE_RATE = offsetof(rill_ring_header, sample_rate),
    RILL_OFF_CHANNELS = offsetof(rill_ring_header, channels),
    RILL_OFF_BITS = offsetof(rill_ring_header, bits_per_sample),
    RILL_OFF_BITRATE = offsetof(rill_ring_header, bitrate),
    RILL_OFF_FORMAT_SEQ = offsetof(rill_ring_header, format_seq),
    RILL_OFF_CONFIG_BYTES = offsetof(rill_ring_header, config_bytes),
    RILL_OFF_CONFIG = offsetof(rill_ring_header, config),
    RILL_OFF_READERS = offsetof(rill_ring_header, readers),
    RILL_READER_STRIDE = sizeof(rill_ring_reader),
    RILL_OFF_READER_PID = offsetof(rill_ring_reader, pid),
    RILL_OFF_READER_LOST = offsetof(rill_ring_reader, lost),
    RILL_OFF_READER_CURSOR = offsetof(rill_ring_reader, cursor),
    RILL_OFF_READER_SEEN = offsetof(rill_ring_reader, seen_ns),
    RILL_OFF_SLOT_SEQ = offsetof(rill_slot_header, seq),
    RILL_OFF_SLOT_LENGTH = offsetof(rill_slot_header, length),
    RILL_OFF_SLOT_FLAGS = offsetof(rill_slot_header, flags),
    RILL_OFF_SLOT_PTS = offsetof(rill_slot_header, pts_ns),
    RILL_OFF_SLOT_DTS = offsetof(rill_slot_header, dts_ns),
    RILL_OFF_SLOT_CAPTURE = offsetof(rill_slot_header, capture_ns),
    RILL_OFF_SLOT_WIDTH = offsetof(rill_slot_header, width),
    RILL_OFF_SLOT_HEIGHT = offsetof(rill_slot_header, height),
    RILL_OFF_SLOT_AUX0 = offsetof(rill_slot_header, aux0),
    RILL_OFF_SLOT_AUX1 = offsetof(rill_slot_header, aux1),
    RILL_OFF_SLOT_STAGE = offsetof(rill_slot_header, stage_ns),
};
#endif
