// CMPI: the MPI C API for Swift (built only with the package trait `MPI`; pkg-config name `ompi`).
//
// MPI implementations define handles such as MPI_COMM_WORLD and MPI_FLOAT as macros (Open MPI: casts
// of addresses of global objects), which Swift cannot import; these inline functions return them.
#ifndef BNN_CMPI_SHIM_H
#define BNN_CMPI_SHIM_H

#include <mpi.h>

/// The communicator of all processes of the job.
static inline MPI_Comm bnn_mpi_comm_world(void) { return MPI_COMM_WORLD; }
/// The invalid communicator, to initialise variables.
static inline MPI_Comm bnn_mpi_comm_null(void) { return MPI_COMM_NULL; }
/// Element types.
static inline MPI_Datatype bnn_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype bnn_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype bnn_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype bnn_mpi_byte(void) { return MPI_BYTE; }
/// Reduction operations.
static inline MPI_Op bnn_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op bnn_mpi_max(void) { return MPI_MAX; }
/// "Use the receive buffer as input" for in-place reductions.
static inline void *bnn_mpi_in_place(void) { return MPI_IN_PLACE; }
/// The null request, to initialise request variables.
static inline MPI_Request bnn_mpi_request_null(void) { return MPI_REQUEST_NULL; }
/// "Do not return a status" for MPI_Wait.
static inline MPI_Status *bnn_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
/// The split type that groups the processes sharing memory (one machine).
static inline int bnn_mpi_comm_type_shared(void) { return MPI_COMM_TYPE_SHARED; }
/// No hints.
static inline MPI_Info bnn_mpi_info_null(void) { return MPI_INFO_NULL; }
/// Thread-support levels for MPI_Init_thread.
static inline int bnn_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
static inline int bnn_mpi_thread_serialized(void) { return MPI_THREAD_SERIALIZED; }

#endif
