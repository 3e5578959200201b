/*
 * csvavro_mpi.h — one csvavro job over the ranks of an MPI job: the public face of the MPI
 * driver (src/exec/exec_mpi.c). It is not part of libcsvavro, so that programs using the
 * library never link MPI: it is its own library, libcsvavro_mpi.a (src/exec/module.cmake),
 * built with MPI when the build found it and as stubs that refuse several ranks otherwise.
 * This header does not expose MPI itself.
 *
 * Use (tools/csvavro/cmd_convert.c): r = csvavro_mpi_init(); ranks > 0 call csvavro_mpi_follow();
 * rank 0 plans as usual and calls csvavro_mpi_lead() (or csvavro_mpi_release() when it does not run
 * the job: plan error, dry run); every rank >= 0 ends with csvavro_mpi_finalize().
 */
#ifndef CSVAVRO_MPI_H
#define CSVAVRO_MPI_H

#include "csvavro.h"

/* Initialises MPI when this process was started by an MPI launcher (mpirun/mpiexec/srun: the
 * environment holds OMPI_COMM_WORLD_SIZE, PMIX_RANK or PMI_RANK) or when CSVAVRO_MPI=1;
 * CSVAVRO_MPI=0 never does. Returns this process's rank, -1 when it runs alone (no MPI), or
 * -2 with err set (MPI failed, or several ranks but no MPI support in this build). */
int csvavro_mpi_init(csvavro_error *err);
/* Secure HDFS (docs/security.md), collective, right after csvavro_mpi_init: when the first
 * hdfs:// URL of urls (the job's inputs and output) is on a Kerberos cluster, rank 0 obtains one
 * delegation token from its NameNode (or takes the file HADOOP_TOKEN_FILE_LOCATION names, when
 * set) and broadcasts it; every other rank keeps a private copy (mode 0600, in $TMPDIR) and
 * points HADOOP_TOKEN_FILE_LOCATION at it, so it authenticates with the token and needs no
 * ticket or keytab. csvavro_mpi_finalize cancels a token rank 0 obtained, once every rank got
 * there (also after a failure), and removes the copies. Returns rank 0's status on every rank
 * (err set on rank 0 with the reason). A no-op outside MPI and without Kerberos. */
csvavro_status csvavro_mpi_share_token(const char *const *urls, size_t n, csvavro_error *err);
/* Rank 0: runs the planned job over every rank; returns its status (err: the first failure,
 * with the failing rank's number and host when it was not rank 0). */
csvavro_status csvavro_mpi_lead(csvavro_job *job, csvavro_job_stats *stats, csvavro_error *err);
/* Rank 0 when it does not run the job (st: the planning error, or OK for a dry run): the other
 * ranks end with the same status. No-op after csvavro_mpi_lead. */
void csvavro_mpi_release(csvavro_status st);
/* Ranks > 0: runs the splits rank 0 hands out until the job ends; returns the job's status
 * (rank 0 reports the error). */
csvavro_status csvavro_mpi_follow(const csvavro_job_options *o, csvavro_error *err);
void csvavro_mpi_finalize(void);

#endif /* CSVAVRO_MPI_H */
