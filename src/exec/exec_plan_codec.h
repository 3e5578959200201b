/*
 * exec_plan_codec.h — a planned job as bytes and back (the plan rank 0 of an MPI job broadcasts
 * to the other ranks, exec_mpi.c): pure logic, no MPI, unit-tested without mpirun
 * (tests/unit/test_plan_codec.c).
 *
 * The encoding (host byte order: every rank runs the same build): magic "CAVPLAN1"; the inputs
 * (the input argument each came from, path, display name, size, header columns and data start);
 * the reader schema as Avro JSON; the splits (input, start, end, first); the output form and
 * names, tmp_dir, job id and the single-file sync marker. Strings are a u64 length (UINT64_MAX
 * for NULL) and their bytes.
 */
#ifndef CAV_EXEC_PLAN_CODEC_H
#define CAV_EXEC_PLAN_CODEC_H

#include "exec.h"

/* Appends the plan of planned job j to b. */
csvavro_status cav_plan_encode(const csvavro_job *j, cav_buf *b, csvavro_error *err);
/* Rebuilds a planned job from the plan in p[0..n) (j was created with the same options as the
 * job that encoded it): opens the input and output backends, checks that the temporary
 * directory is visible, compiles the filter. A malformed plan is CSVAVRO_E_INTERNAL. */
csvavro_status cav_plan_decode(csvavro_job *j, const uint8_t *p, size_t n, csvavro_error *err);

#endif /* CAV_EXEC_PLAN_CODEC_H */
