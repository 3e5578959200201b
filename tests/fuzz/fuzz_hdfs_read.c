/*
 * fuzz_hdfs_read.c — DataNode data transfer decoding (src/hdfs/hdfs_read.c, hdfs_wire.c):
 * BlockOpResponseProto of READ_BLOCK, checksum info, the packet stream (PLEN/HLEN prefix,
 * PacketHeaderProto, CRC32C/CRC32 sums, data), replica failover and the kept-open stream.
 *
 * Input: 5 option bytes, then the server segments (fuzz_hdfs.h): the NameNode's replies to
 * getFileInfo + getBlockLocations, then one segment per DataNode connection (seeds recorded
 * from csvavro-hdfsd: a 2500-byte file in 1 KiB blocks, so three block streams).
 *   byte 0: pattern — sequential reads of 1 + (byte1 * 13) bytes, or two preads at offsets
 *           from bytes 1-2 and 3-4 (the second not where the first stopped: a new stream)
 * Oracle: no crash, leak or sanitizer report; *got <= asked; a failure is a known status
 * with a message; after a failure the file can still be closed.
 */
#include "fuzz_hdfs.h"

static void check(csvavro_status st, const csvavro_error *err, size_t got, size_t len) {
    fzh_check_status(st, err, "read");
    FUZZ_CHECK(got <= len, "got %zu of %zu", got, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 5 || size > 65536) return 0;
    if (!fzh_begin(data + 5, size - 5)) return 0;
    csvavro_fs *fs = fzh_open_fs();
    csvavro_error err;
    csvavro_file *f = NULL;
    csvavro_status st = csvavro_fs_open_read(fs, "/f", &f, &err);
    if (st == CSVAVRO_OK) {
        int64_t fsize = csvavro_file_size(f);
        FUZZ_CHECK(fsize >= 0, "size %lld", (long long)fsize);
        static uint8_t buf[1 << 16];
        size_t got = 0;
        if (!(data[0] & 1)) {
            size_t chunk = 1 + (size_t)data[1] * 13;
            int64_t off = 0;
            for (int i = 0; i < 4096 && off < fsize; i++) {
                st = csvavro_file_pread(f, buf, chunk, off, &got, &err);
                check(st, &err, got, chunk);
                if (st != CSVAVRO_OK || got == 0) break;
                off += (int64_t)got;
            }
        } else {
            int64_t o1 = ((int64_t)data[1] << 4) | (data[2] >> 4);
            int64_t o2 = ((int64_t)data[3] << 4) | (data[4] >> 4);
            size_t l1 = 1 + (size_t)(data[2] & 15) * 200, l2 = 1 + (size_t)(data[4] & 15) * 200;
            st = csvavro_file_pread(f, buf, l1, o1, &got, &err);
            check(st, &err, got, l1);
            if (st == CSVAVRO_OK && o1 < fsize)
                FUZZ_CHECK(got == (size_t)CAV_MIN((int64_t)l1, fsize - o1), "short read %zu", got);
            st = csvavro_file_pread(f, buf, l2, o2, &got, &err);
            check(st, &err, got, l2);
        }
        if (getenv("FUZZ_DEBUG")) fprintf(stderr, "read: status %d %s\n", st, err.message);
        csvavro_file_close(f, NULL);
    } else {
        if (getenv("FUZZ_DEBUG")) fprintf(stderr, "open: status %d %s\n", st, err.message);
        check(st, &err, 0, 0);
    }
    csvavro_fs_close(fs);
    fzh_end(data, 5);
    return 0;
}
