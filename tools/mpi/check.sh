#!/usr/bin/env bash
# The MPI part of CI: builds the package with the trait MPI and checks that 2 ranks × batch 8 train
# exactly like 1 process × batch 16 (with and without synchronised BatchNorm), under mpirun.
# Installs Open MPI with apt-get when it is missing and this runs as root; otherwise prints why it
# skips. The last line says PASS, FAIL or SKIPPED.
#
#   tools/mpi/check.sh                          # builds in .build
#   BNN_MPI_SCRATCH=.build-mpi tools/mpi/check.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
scratch="${BNN_MPI_SCRATCH:-.build}"

if ! command -v mpirun >/dev/null 2>&1 || ! pkg-config --exists ompi 2>/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "MPI check: installing Open MPI (openmpi-bin libopenmpi-dev)"
        if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openmpi-bin libopenmpi-dev; } >/dev/null 2>&1; then
            echo "MPI check: FAIL: apt-get could not install openmpi-bin libopenmpi-dev"
            exit 1
        fi
    else
        echo "MPI check: SKIPPED: mpirun or libopenmpi-dev is missing (apt-get install openmpi-bin libopenmpi-dev)"
        exit 0
    fi
fi

if ! swift build -c release --traits MPI --scratch-path "$scratch"; then
    echo "MPI check: FAIL: swift build -c release --traits MPI did not build"
    exit 1
fi

# Open MPI refuses to run as root without these; --oversubscribe allows 2 ranks on a 1-core runner.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
if timeout 600 mpirun -np 2 --oversubscribe -x BNN_THREADS=1 "$scratch/release/bnn-mpi" check; then
    echo "MPI check: PASS (2 ranks under mpirun equal 1 process on the global batch)"
else
    echo "MPI check: FAIL (see the bnn-mpi output above)"
    exit 1
fi
