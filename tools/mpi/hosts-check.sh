#!/usr/bin/env bash
# Data-parallel training across "hosts" (network namespaces, Open MPI over TCP, no shared memory):
# 2 hosts × 1 rank and 2 hosts × 2 ranks must train like 1 process on the global batch (within 1e-6,
# with and without synchronised BatchNorm, and with the all-reduce overlapped; `bnn-mpi check`). Needs root and a build with --traits MPI
# in ${BNN_MPI_SCRATCH:-.build}. The last line says PASS or FAIL.
#
#   swift build -c release --traits MPI && tools/mpi/hosts-check.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
source tools/mpi/testbed.sh
binary="$PWD/${BNN_MPI_SCRATCH:-.build}/release/bnn-mpi"
[ "$(id -u)" = 0 ] || { echo "hosts check: SKIPPED: network namespaces need root"; exit 0; }
[ -x "$binary" ] || { echo "hosts check: FAIL: $binary is missing (swift build -c release --traits MPI)"; exit 1; }
testbed_up 2 "${BNN_TESTBED_RATE:-}" "${BNN_TESTBED_DELAY:-}" || { echo "hosts check: FAIL: cannot make the test bed"; exit 1; }
failed=0
for slots in 1 2; do
    echo "== 2 hosts × $slots rank(s)"
    testbed_mpirun "$slots" 300 "$binary" check --steps 3 || failed=1
done
echo "== 2 hosts × 2 ranks, all-reduce overlapped with the backward pass"
testbed_mpirun 2 300 "$binary" check --steps 3 --overlap || failed=1
testbed_down
if [ "$failed" = 0 ]; then
    echo "hosts check: PASS (2 hosts × 1 and × 2 ranks over TCP equal 1 process on the global batch)"
else
    echo "hosts check: FAIL (see above)"
    exit 1
fi
