// libavcodec (FFmpeg) for the AAC-LC / MP2 / Opus audio encoders.
#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
// AVERROR(EAGAIN) and AVERROR_EOF are macros Swift cannot import.
static inline int rill_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int rill_averror_eof(void) { return AVERROR_EOF; }
