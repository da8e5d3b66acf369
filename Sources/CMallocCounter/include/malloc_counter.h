// Counts heap allocations of the benchmark process by interposing malloc & co. (linked only into
// rill-bench, never into rill). Forwards to glibc's __libc_* entry points.
#ifndef MALLOC_COUNTER_H
#define MALLOC_COUNTER_H
#include <stdint.h>
/// Allocations (malloc, calloc, realloc of NULL/growing, memalign family) since start.
uint64_t rill_malloc_count(void);
#endif
