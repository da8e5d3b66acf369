// libavcodec (FFmpeg) for the AAC-LC / MP2 / Opus audio encoders.
#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
// AVERROR(EAGAIN) and AVERROR_EOF are macros Swift cannot import.
static inline int rill_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int rill_averror_eof(void) { return AVERROR_EOF; }

// av_log's callback takes a va_list, which Swift cannot take in a C callback: format the line with
// libav's own prefix ("[aac @ 0x…]") here and hand it to rill_av_log_sink (level is AV_LOG_*,
// colour bits cleared), which the Encode module defines (@_cdecl).
#include <libavutil/log.h>
void rill_av_log_sink(int level, const char *line);
static inline void rill_av_log_line(void *context, int level, const char *fmt, va_list args) {
    if ((level & 0xff) > av_log_get_level()) return;
    char line[1024];
    int print_prefix = 1;
    av_log_format_line2(context, level, fmt, args, line, sizeof line, &print_prefix);
    rill_av_log_sink(level & 0xff, line);
}
static inline void rill_av_log_install(void) { av_log_set_callback(rill_av_log_line); }
