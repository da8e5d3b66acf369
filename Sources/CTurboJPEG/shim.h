// libturbojpeg (Debian libturbojpeg0-dev, BSD-style/IJG): MJPEG capture frames to planar YUV.
#include <turbojpeg.h>
