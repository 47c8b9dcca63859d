#ifndef BNN_PARALLEL_H
#define BNN_PARALLEL_H

#include <stdint.h>

/// The work of one parallel loop: called once for every chunk index in [0, chunks).
typedef void (*bnn_parallel_body)(void *context, int64_t chunk);

/// Runs `body(context, c)` for every `c` in [0, `chunks`) on the calling thread and on up to
/// `threads` − 1 worker threads of a persistent pool, and returns when all chunks are done.
///
/// Workers that finished a loop spin for a short while (100 µs; the environment variable
/// `BNN_SPIN_MICROSECONDS` sets it at the first parallel loop, 0 makes workers sleep at once) before
/// they sleep, so back-to-back loops start in well under a microsecond instead of paying a thread
/// wake-up each. Chunks are handed out one at a time (dynamic scheduling). A call made while the
/// pool is busy (from a chunk of another loop, or from another thread) runs all its chunks on the
/// calling thread, in order, so nesting is safe; so do loops of 2^20 chunks or more.
void bnn_parallel_run(int64_t chunks, int threads, bnn_parallel_body body, void *context);

#endif
