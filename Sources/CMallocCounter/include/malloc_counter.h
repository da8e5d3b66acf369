// Counts heap allocations of the benchmark process by interposing malloc & co. (linked only into
// rill-bench and the MPEGTS tests, never into rill). Forwards to glibc's __libc_* entry points.
#ifndef MALLOC_COUNTER_H
#define MALLOC_COUNTER_H
#include <stdint.h>
/// Allocations (malloc, calloc, realloc of NULL/growing, memalign family) since start.
uint64_t rill_malloc_count(void);
/// The same, counted for the calling thread only (what a test running beside others can use).
uint64_t rill_malloc_count_thread(void);
#endif
