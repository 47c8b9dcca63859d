/// BNNKernels: C micro-kernels of the BNN package.
///
/// Every optimised kernel has a portable reference twin; `bnn_cpu_*` decides at run time which
/// variant runs. Setting the environment variable `BNN_KERNELS=reference` forces the portable
/// kernels everywhere, so tests can compare every variant on the same data.
#ifndef BNN_KERNELS_H
#define BNN_KERNELS_H

#include "bnn_cpu.h"
#include "bnn_elementwise.h"
#include "bnn_memory.h"
#include "bnn_parallel.h"
#include "bnn_binary.h"
#include "bnn_sgemm.h"
#include "bnn_bgemm.h"

#endif
