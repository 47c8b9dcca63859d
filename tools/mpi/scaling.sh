#!/usr/bin/env bash
# Scaling of data-parallel training from 1 to N processes on this machine (one thread each) and
# the all-reduce bandwidth, from a build with the trait MPI:
#
#   swift build -c release --traits MPI
#   tools/mpi/scaling.sh [N] [--full-model]     # N defaults to 2; writes .build/mpi-scaling.json
#
# --full-model also times a Bi-Real Net 34 training step at 224×224 on one core, the number the
# cluster estimate in Documentation/Distributed.md starts from.
set -euo pipefail
cd "$(dirname "$0")/../.."
ranks="${1:-2}"
shift || true
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpirun -np "$ranks" -x BNN_THREADS=1 .build/release/bnn-mpi bench --json .build/mpi-scaling.json "$@"
