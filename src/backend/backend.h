/*
 * backend.h — the storage backends by URL scheme. The table lives above io and hdfs (the two
 * layers that implement backends), like curl's TLS backends above vtls: io parses URLs and
 * dispatches through a table it is given; it never names a backend other than its own. A
 * backend is one entry here plus its cav_fs_ops (every fs operation a slot, io.h).
 */
#ifndef CAV_BACKEND_H
#define CAV_BACKEND_H

#include "../io/io.h"

/* The backends of this build, and how many. */
extern const cav_fs_backend cav_fs_backends[];
extern const size_t cav_fs_n_backends;

#endif /* CAV_BACKEND_H */
