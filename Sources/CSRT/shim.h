// libsrt (Debian libsrt-openssl-dev, MPL-2.0).
#include <srt/srt.h>
#include <srt/access_control.h>
