// A persistent pool of worker threads for parallel loops. Dispatch wakes a sleeping thread for
// every `concurrentPerform`, which costs 5–20 µs on the machines here: a large share of a 0.2 ms
// binary convolution split over two cores. Workers of this pool spin for a short while after each
// loop, so the next loop starts at once, and sleep on a condition variable after that.
//
// One 64-bit ticket holds the current loop: generation (24 bits) | chunk count (20) | next chunk
// (20). A thread claims a chunk by a compare-and-swap that also checks the generation, so a worker
// that wakes late can never take a chunk of a newer loop with an older body, and the body and its
// context are read only after a successful claim, while the caller still waits for that chunk.
#include "bnn_parallel.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#define BNN_POOL_MAX_WORKERS 255
#define BNN_CHUNK_BITS 20
#define BNN_CHUNK_MASK ((UINT64_C(1) << BNN_CHUNK_BITS) - 1)
#define BNN_GENERATION_SHIFT (2 * BNN_CHUNK_BITS)
#define BNN_GENERATION_MASK ((UINT64_C(1) << (64 - BNN_GENERATION_SHIFT)) - 1)

static _Atomic uint64_t ticket;
static _Atomic(bnn_parallel_body) loop_body;
static _Atomic(void *) loop_context;
static _Atomic int64_t loop_unfinished;
static atomic_flag pool_busy = ATOMIC_FLAG_INIT;
static _Atomic int sleeping_workers;
static _Atomic int started_workers;
static _Atomic int64_t spin_nanoseconds = -1;
static pthread_mutex_t sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_up = PTHREAD_COND_INITIALIZER;

static inline uint64_t generation_of(uint64_t t) { return t >> BNN_GENERATION_SHIFT; }

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

static int64_t monotonic_nanoseconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

/// How long idle workers spin before sleeping: 100 µs, or `BNN_SPIN_MICROSECONDS` (read once).
static int64_t spin_microseconds(void) {
    int64_t value = atomic_load_explicit(&spin_nanoseconds, memory_order_relaxed);
    if (value < 0) {
        value = 100000;
        const char *text = getenv("BNN_SPIN_MICROSECONDS");
        if (text != NULL) {
            char *end = NULL;
            const long long parsed = strtoll(text, &end, 10);
            if (end != text && *end == '\0' && parsed >= 0 && parsed <= 10000000) value = parsed * 1000;
        }
        atomic_store_explicit(&spin_nanoseconds, value, memory_order_relaxed);
    }
    return value / 1000;
}

/// Claims the next chunk of loop `generation`; 0 when that loop has no chunk left or is gone.
static int claim_chunk(uint64_t generation, int64_t *chunk) {
    uint64_t t = atomic_load_explicit(&ticket, memory_order_acquire);
    for (;;) {
        const uint64_t next = t & BNN_CHUNK_MASK, chunks = (t >> BNN_CHUNK_BITS) & BNN_CHUNK_MASK;
        if (generation_of(t) != generation || next >= chunks) return 0;
        if (atomic_compare_exchange_weak_explicit(&ticket, &t, t + 1, memory_order_acq_rel, memory_order_acquire)) {
            *chunk = (int64_t)next;
            return 1;
        }
    }
}

/// Runs chunks of loop `generation` until none is left.
static void work_on(uint64_t generation) {
    int64_t chunk;
    while (claim_chunk(generation, &chunk)) {
        const bnn_parallel_body body = atomic_load_explicit(&loop_body, memory_order_relaxed);
        void *const context = atomic_load_explicit(&loop_context, memory_order_relaxed);
        body(context, chunk);
        atomic_fetch_sub_explicit(&loop_unfinished, 1, memory_order_release);
    }
}

/// Waits until the ticket shows a generation other than `seen`: spins first, then sleeps.
static uint64_t wait_for_loop(uint64_t seen) {
    const int64_t deadline = monotonic_nanoseconds() + spin_microseconds() * 1000;
    uint64_t t;
    for (unsigned round = 0;; round++) {
        t = atomic_load_explicit(&ticket, memory_order_acquire);
        if (generation_of(t) != seen) return t;
        if ((round & 63) == 63 && monotonic_nanoseconds() >= deadline) break;
        cpu_relax();
    }
    pthread_mutex_lock(&sleep_lock);
    atomic_fetch_add(&sleeping_workers, 1);
    while (generation_of(t = atomic_load(&ticket)) == seen) pthread_cond_wait(&wake_up, &sleep_lock);
    atomic_fetch_sub(&sleeping_workers, 1);
    pthread_mutex_unlock(&sleep_lock);
    return t;
}

static void *worker_main(void *argument) {
    uint64_t seen = (uint64_t)(uintptr_t)argument;
    for (;;) {
        seen = generation_of(wait_for_loop(seen));
        work_on(seen);
    }
    return NULL;
}

/// Starts workers until there are `wanted` (at most BNN_POOL_MAX_WORKERS); needs `pool_busy`.
static void grow_pool(int wanted) {
    if (wanted > BNN_POOL_MAX_WORKERS) wanted = BNN_POOL_MAX_WORKERS;
    const uint64_t current = generation_of(atomic_load_explicit(&ticket, memory_order_relaxed));
    while (atomic_load_explicit(&started_workers, memory_order_relaxed) < wanted) {
        pthread_t thread;
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        const int failed = pthread_create(&thread, &attributes, worker_main, (void *)(uintptr_t)current);
        pthread_attr_destroy(&attributes);
        if (failed) return; // fewer workers: the caller runs the remaining chunks itself
        atomic_fetch_add_explicit(&started_workers, 1, memory_order_relaxed);
    }
}

void bnn_parallel_run(int64_t chunks, int threads, bnn_parallel_body body, void *context) {
    if (chunks <= 0) return;
    if (chunks == 1 || threads <= 1 || chunks > (int64_t)BNN_CHUNK_MASK ||
        atomic_flag_test_and_set_explicit(&pool_busy, memory_order_acquire)) {
        for (int64_t c = 0; c < chunks; c++) body(context, c);
        return;
    }
    grow_pool(threads - 1);
    atomic_store_explicit(&loop_body, body, memory_order_relaxed);
    atomic_store_explicit(&loop_context, context, memory_order_relaxed);
    atomic_store_explicit(&loop_unfinished, chunks, memory_order_relaxed);
    const uint64_t generation = (generation_of(atomic_load_explicit(&ticket, memory_order_relaxed)) + 1) &
                                BNN_GENERATION_MASK;
    atomic_store(&ticket, (generation << BNN_GENERATION_SHIFT) | ((uint64_t)chunks << BNN_CHUNK_BITS));
    if (atomic_load(&sleeping_workers) > 0) {
        pthread_mutex_lock(&sleep_lock);
        pthread_cond_broadcast(&wake_up);
        pthread_mutex_unlock(&sleep_lock);
    }
    work_on(generation);
    // The last chunks run on workers: wait, yielding the core after a while in case a worker was
    // descheduled (other busy threads on few cores).
    for (unsigned round = 0; atomic_load_explicit(&loop_unfinished, memory_order_acquire) > 0; round++) {
        if (round < 4096) cpu_relax(); else sched_yield();
    }
    atomic_flag_clear_explicit(&pool_busy, memory_order_release);
}
