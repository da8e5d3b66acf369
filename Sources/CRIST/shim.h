// librist (Debian librist-dev, BSD-2-Clause): RIST Simple and Main profile. Nothing else here.
#include <librist/librist.h>
