// x264_encoder_open is a macro naming x264_encoder_open_<X264_BUILD>; this alias lets Swift call it.
#include <stdint.h>
#include <x264.h>
static inline x264_t *rill_x264_encoder_open(x264_param_t *param) { return x264_encoder_open(param); }
