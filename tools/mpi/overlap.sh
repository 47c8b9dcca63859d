#!/usr/bin/env bash
# Overlapped and bfloat16 gradient all-reduce on shaped test-bed links (tools/mpi/testbed.sh): for each
# rate, 2 hosts × 1 rank run `bnn-mpi bench --overlap --bf16` (Bi-Real Net 18, 1 MiB buckets) and
# print its table (step time, time waited for the all-reduce, efficiency against one process); JSON in
# .build/mpi-overlap-RATE.json.
# Needs root and a build with --traits MPI. The results are in Documentation/Distributed.md.
#
#   tools/mpi/overlap.sh [RATE…]        # default: 1gbit 10gbit
set -uo pipefail
cd "$(dirname "$0")/../.."
source tools/mpi/testbed.sh
binary="$PWD/${BNN_MPI_SCRATCH:-.build}/release/bnn-mpi"
[ -x "$binary" ] || { echo "overlap: $binary is missing (swift build -c release --traits MPI)"; exit 1; }
rates=("$@")
[ ${#rates[@]} -gt 0 ] || rates=(1gbit 10gbit)
for rate in "${rates[@]}"; do
    echo "== $rate"
    testbed_up 2 "$rate" 200us || exit 1
    testbed_mpirun 1 900 "$binary" bench --overlap --bf16 --bucket-kib 1024 --json "$PWD/${BNN_MPI_SCRATCH:-.build}/mpi-overlap-$rate.json" \
        || { testbed_down; exit 1; }
    testbed_down
done
