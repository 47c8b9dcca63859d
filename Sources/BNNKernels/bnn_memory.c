// Allocator tuning for training loops: every step allocates and frees the same large activation
// and gradient buffers. With glibc's defaults, buffers above its dynamic mmap threshold get their own
// mappings and freed heap above the trim threshold goes back to the system, so each step pays page
// faults (zeroing included) for memory it had a moment ago: about a fifth of Bi-Real Net 34's
// forward pass at batch 16 on two threads.
#include "bnn_memory.h"

#include <limits.h>
#include <stdlib.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

int bnn_memory_retain_freed(size_t retained_bytes) {
#if defined(__GLIBC__)
    const int retained = retained_bytes > (size_t)INT_MAX ? INT_MAX : (int)retained_bytes;
    // The mmap threshold first: fixing the trim threshold alone also freezes the mmap threshold at
    // its 128 KiB default, and then every large buffer is mapped afresh (measured: 4× the faults).
    return mallopt(M_MMAP_THRESHOLD, 32 << 20) && mallopt(M_TRIM_THRESHOLD, retained)
           && mallopt(M_TOP_PAD, 64 << 20);
#else
    (void)retained_bytes;
    return 0;
#endif
}
