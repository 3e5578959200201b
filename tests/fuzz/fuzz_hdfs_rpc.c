/*
 * fuzz_hdfs_rpc.c — the HDFS client's handling of NameNode replies (Hadoop IPC framing,
 * RpcResponseHeaderProto, exceptions, the protobuf responses and what hdfs_fs.c makes of
 * them), plus the DataNode replies of a small write (WRITE_BLOCK reply, pipeline acks).
 *
 * Input: 2 option bytes (two operations run one after the other on one fs, so call ids 0 and
 * 1 and a kept-open connection are exercised), then the server segments (fuzz_hdfs.h).
 * Operations: stat, list, blocks, space, mkdir -p, rm -r, rename, du, open, create+write+close.
 * Oracle: no crash, leak or sanitizer report; every failure is a known status with a message.
 */
#include "fuzz_hdfs.h"

static void run_op(csvavro_fs *fs, unsigned op) {
    csvavro_error err;
    csvavro_error_clear(&err);
    csvavro_status st;
    switch (op % 10) {
    case 0: {
        csvavro_stat s;
        st = csvavro_fs_stat(fs, "/f", &s, &err);
        if (st == CSVAVRO_OK) FUZZ_CHECK(s.owner[sizeof s.owner - 1] == 0, "owner");
        break;
    }
    case 1: {
        csvavro_dirent *l = NULL;
        size_t n = 0;
        st = csvavro_fs_list(fs, "/d", &l, &n, &err);
        if (st == CSVAVRO_OK) {
            for (size_t i = 0; i < n; i++)
                FUZZ_CHECK(l[i].name != NULL, "entry name");
            csvavro_fs_free_list(l, n);
        }
        break;
    }
    case 2: {
        csvavro_block *b = NULL;
        size_t n = 0;
        st = csvavro_fs_blocks(fs, "/f", &b, &n, &err);
        if (st == CSVAVRO_OK) {
            for (size_t i = 0; i < n; i++)
                FUZZ_CHECK(b[i].n_hosts >= 0 && b[i].n_hosts <= 8, "n_hosts %d", b[i].n_hosts);
            free(b);
        }
        break;
    }
    case 3: {
        int64_t c, u, r;
        st = csvavro_fs_space(fs, "/", &c, &u, &r, &err);
        break;
    }
    case 4:
        st = csvavro_fs_mkdir(fs, "/d/e", 1, &err);
        break;
    case 5:
        st = csvavro_fs_remove(fs, "/d", 1, &err);
        break;
    case 6:
        st = csvavro_fs_rename(fs, "/a", "/b", 1, &err);
        break;
    case 7: {
        int64_t len, files, dirs;
        st = csvavro_fs_content_summary(fs, "/d", &len, &files, &dirs, &err);
        break;
    }
    case 8: {
        csvavro_file *f = NULL;
        st = csvavro_fs_open_read(fs, "/f", &f, &err);
        if (st == CSVAVRO_OK) csvavro_file_close(f, NULL);
        break;
    }
    default: {
        csvavro_file *f = NULL;
        st = csvavro_fs_create(fs, "/new", 1, &f, &err);
        if (st == CSVAVRO_OK) {
            st = csvavro_file_write(f, "hello,world\n", 12, &err);
            if (st == CSVAVRO_OK)
                st = csvavro_file_close(f, &err);
            else
                csvavro_file_abort(f);
        }
        break;
    }
    }
    if (getenv("FUZZ_DEBUG")) fprintf(stderr, "op %u: status %d %s\n", op % 10, st, err.message);
    fzh_check_status(st, &err, "op");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2 || size > 65536) return 0;
    if (!fzh_begin(data + 2, size - 2)) return 0;
    csvavro_fs *fs = fzh_open_fs();
    run_op(fs, data[0]);
    run_op(fs, data[1]);
    csvavro_fs_close(fs);
    fzh_end(data, 2);
    return 0;
}
