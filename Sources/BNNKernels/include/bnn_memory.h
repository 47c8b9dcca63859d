#ifndef BNN_MEMORY_H
#define BNN_MEMORY_H

#include <stddef.h>

/// Tunes the C allocator of the process (glibc's malloc) so that memory freed by one training step
/// is reused by the next instead of being returned to the system and faulted in again: blocks up to
/// 32 MiB come from the heap rather than from their own mappings, up to `retained_bytes` of free heap
/// are kept, and the heap grows 64 MiB at a time. Returns 1 when applied, 0 where the allocator has
/// no such settings (not glibc).
int bnn_memory_retain_freed(size_t retained_bytes);

#endif
