/*
 * backend.c — the table of storage backends (backend.h) and csvavro_fs_open_url over it.
 */
#include "backend.h"

#include "../hdfs/hdfs.h"

const cav_fs_backend cav_fs_backends[] = {
    {"file", cav_io_local_create},
    {"hdfs", cav_hdfs_fs_create},
};
const size_t cav_fs_n_backends = CAV_ARRAY_LEN(cav_fs_backends);

csvavro_status csvavro_fs_open_url(const char *url, csvavro_fs **fs, char **path_out,
                                   csvavro_error *err) {
    return cav_fs_open_url(cav_fs_backends, cav_fs_n_backends, url, fs, path_out, err);
}
