/*
 * exec_mpi.h — one `csvavro convert` job over the ranks of an MPI job (exec_mpi.c). Only
 * src/exec knows MPI; this header does not expose it. exec_mpi.c is not part of libcsvavro: it
 * is linked into the csvavro CLI only (src/exec/module.cmake), with MPI when the build found it
 * and as stubs otherwise.
 *
 * Use (tools/csvavro/cmd_convert.c): r = cav_mpi_init(); ranks > 0 call cav_mpi_follow();
 * rank 0 plans as usual and calls cav_mpi_lead() (or cav_mpi_release() when it does not run the
 * job: plan error, dry run); every rank >= 0 ends with cav_mpi_finalize().
 */
#ifndef CAV_EXEC_MPI_H
#define CAV_EXEC_MPI_H

#include "csvavro.h"

/* Initialises MPI when this process was started by an MPI launcher (mpirun/mpiexec/srun: the
 * environment holds OMPI_COMM_WORLD_SIZE, PMIX_RANK or PMI_RANK) or when CSVAVRO_MPI=1;
 * CSVAVRO_MPI=0 never does. Returns this process's rank, -1 when it runs alone (no MPI), or
 * -2 with err set (MPI failed, or several ranks but no MPI support in this build). */
int cav_mpi_init(csvavro_error *err);
/* Rank 0: runs the planned job over every rank; returns its status (err: the first failure,
 * with the failing rank's number and host when it was not rank 0). */
csvavro_status cav_mpi_lead(csvavro_job *job, csvavro_job_stats *stats, csvavro_error *err);
/* Rank 0 when it does not run the job (st: the planning error, or OK for a dry run): the other
 * ranks end with the same status. No-op after cav_mpi_lead. */
void cav_mpi_release(csvavro_status st);
/* Ranks > 0: runs the splits rank 0 hands out until the job ends; returns the job's status
 * (rank 0 reports the error). */
csvavro_status cav_mpi_follow(const csvavro_job_options *o, csvavro_error *err);
void cav_mpi_finalize(void);

#endif /* CAV_EXEC_MPI_H */
