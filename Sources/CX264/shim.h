// x264_encoder_open is a macro naming x264_encoder_open_<X264_BUILD>; this alias lets Swift call it.
#include <stdint.h>
#include <x264.h>
static inline x264_t *rill_x264_encoder_open(x264_param_t *param) { return x264_encoder_open(param); }

// x264's pf_log takes a va_list, which Swift cannot take in a C callback: format the line here and
// hand it to rill_x264_log_sink (level is X264_LOG_*), which the Encode module defines (@_cdecl).
#include <stdarg.h>
#include <stdio.h>
void rill_x264_log_sink(int level, const char *line);
static inline void rill_x264_log_line(void *priv, int level, const char *fmt, va_list args) {
    (void)priv;
    char line[1024];
    vsnprintf(line, sizeof line, fmt, args);
    rill_x264_log_sink(level, line);
}
static inline void rill_x264_param_log(x264_param_t *param) {
    param->pf_log = rill_x264_log_line;
    param->p_log_private = 0;
}
