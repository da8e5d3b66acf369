// libasound (Debian libasound2-dev, LGPL-2.1+).
#include <alsa/asoundlib.h>
