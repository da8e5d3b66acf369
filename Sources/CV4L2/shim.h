// libv4l2 / libv4lconvert (Debian libv4l-dev, LGPL-2.1+) and the kernel's V4L2 UAPI.
// Swift imports neither the _IOWR request macros nor variadic functions: the request numbers are
// constants here and v4l2_ioctl gets a three-argument wrapper. Nothing else.
#include <linux/videodev2.h>
#include <libv4l2.h>
#include <libv4lconvert.h>
#include <sys/ioctl.h>
#include <libv4l-plugin.h>
#include <errno.h>
#include <string.h>

static inline int rill_v4l2_open(const char *path, int flags) { return v4l2_open(path, flags); }
static inline int rill_v4l2_ioctl(int fd, unsigned long request, void *arg) { return v4l2_ioctl(fd, request, arg); }
/// The kernel's ioctl without libv4l2 (mem2mem encoders: nothing for libv4l2 to do there).
static inline int rill_ioctl(int fd, unsigned long request, void *arg) { return ioctl(fd, request, arg); }

static const unsigned long RILL_VIDIOC_QUERYCAP = VIDIOC_QUERYCAP;
static const unsigned long RILL_VIDIOC_ENUM_FMT = VIDIOC_ENUM_FMT;
static const unsigned long RILL_VIDIOC_ENUM_FRAMESIZES = VIDIOC_ENUM_FRAMESIZES;
static const unsigned long RILL_VIDIOC_ENUM_FRAMEINTERVALS = VIDIOC_ENUM_FRAMEINTERVALS;
static const unsigned long RILL_VIDIOC_ENUMINPUT = VIDIOC_ENUMINPUT;
static const unsigned long RILL_VIDIOC_S_INPUT = VIDIOC_S_INPUT;
static const unsigned long RILL_VIDIOC_G_FMT = VIDIOC_G_FMT;
static const unsigned long RILL_VIDIOC_S_FMT = VIDIOC_S_FMT;
static const unsigned long RILL_VIDIOC_G_PARM = VIDIOC_G_PARM;
static const unsigned long RILL_VIDIOC_S_PARM = VIDIOC_S_PARM;
static const unsigned long RILL_VIDIOC_REQBUFS = VIDIOC_REQBUFS;
static const unsigned long RILL_VIDIOC_QUERYBUF = VIDIOC_QUERYBUF;
static const unsigned long RILL_VIDIOC_QBUF = VIDIOC_QBUF;
static const unsigned long RILL_VIDIOC_DQBUF = VIDIOC_DQBUF;
static const unsigned long RILL_VIDIOC_STREAMON = VIDIOC_STREAMON;
static const unsigned long RILL_VIDIOC_STREAMOFF = VIDIOC_STREAMOFF;
static const unsigned long RILL_VIDIOC_S_EXT_CTRLS = VIDIOC_S_EXT_CTRLS;
static const unsigned long RILL_VIDIOC_ENCODER_CMD = VIDIOC_ENCODER_CMD;
static const unsigned long RILL_VIDIOC_EXPBUF = VIDIOC_EXPBUF;
static const unsigned long RILL_VIDIOC_DQEVENT = VIDIOC_DQEVENT;
static const unsigned long RILL_VIDIOC_SUBSCRIBE_EVENT = VIDIOC_SUBSCRIBE_EVENT;
static const unsigned long RILL_VIDIOC_QUERY_DV_TIMINGS = VIDIOC_QUERY_DV_TIMINGS;
static const unsigned long RILL_VIDIOC_S_DV_TIMINGS = VIDIOC_S_DV_TIMINGS;

// libv4lconvert without a device (benchmarks, tests): it asks the device for its capabilities at
// creation and fails without one, so these device ops answer VIDIOC_QUERYCAP as a plain capture
// device and refuse everything else.
static inline int rill_offline_ioctl(void *priv, int fd, unsigned long request, void *arg) {
    (void)priv; (void)fd;
    if (request == VIDIOC_QUERYCAP) {
        struct v4l2_capability *cap = (struct v4l2_capability *)arg;
        memset(cap, 0, sizeof *cap);
        cap->capabilities = cap->device_caps = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING;
        return 0;
    }
    errno = ENOTTY;
    return -1;
}
static const struct libv4l_dev_ops rill_offline_ops = { .ioctl = rill_offline_ioctl };
static inline struct v4lconvert_data *rill_v4lconvert_create_offline(void) {
    return v4lconvert_create_with_dev_ops(-1, NULL, &rill_offline_ops);
}
